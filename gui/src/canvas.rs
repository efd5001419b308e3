//! A pannable, zoomable drawing surface: drag to pan, scroll to pan, Ctrl+scroll (or a
//! pinch) to zoom around the pointer, double-click to fit. Views draw in world
//! coordinates and map them with [`CanvasFrame::to_screen`].

use eframe::egui::{self, Pos2, Rect, Response, Sense, Vec2};

/// The view transform of one canvas (kept per view, so switching views keeps the place).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Canvas {
    pub pan: Vec2,
    pub zoom: f32,
    /// Fit the content on the next frame (set when a document opens, or on double-click).
    pub fit_pending: bool,
    /// Where the canvas was on screen last frame (to map world points for tests and
    /// tooltips outside the frame).
    pub last_rect: Rect,
}

impl Default for Canvas {
    fn default() -> Self {
        Self {
            pan: Vec2::ZERO,
            zoom: 1.0,
            fit_pending: true,
            last_rect: Rect::NOTHING,
        }
    }
}

/// One frame of a canvas: its response, a clipped painter and the transform.
pub struct CanvasFrame {
    pub response: Response,
    pub painter: egui::Painter,
    pub rect: Rect,
    origin: Pos2,
    pub zoom: f32,
}

impl CanvasFrame {
    pub fn to_screen(&self, world: Pos2) -> Pos2 {
        self.origin + world.to_vec2() * self.zoom
    }

    pub fn to_world(&self, screen: Pos2) -> Pos2 {
        ((screen - self.origin) / self.zoom).to_pos2()
    }

    pub fn rect_to_screen(&self, r: Rect) -> Rect {
        Rect::from_min_max(self.to_screen(r.min), self.to_screen(r.max))
    }

    /// The world rectangle visible on screen (for culling).
    pub fn visible_world(&self) -> Rect {
        Rect::from_min_max(self.to_world(self.rect.min), self.to_world(self.rect.max))
    }

    /// The world position of a click on the canvas this frame.
    pub fn clicked_world(&self) -> Option<Pos2> {
        if self.response.clicked() {
            self.response
                .interact_pointer_pos()
                .map(|p| self.to_world(p))
        } else {
            None
        }
    }

    /// The world position under the pointer, when it hovers the canvas.
    pub fn hover_world(&self) -> Option<Pos2> {
        self.response.hover_pos().map(|p| self.to_world(p))
    }
}

impl Canvas {
    pub const MIN_ZOOM: f32 = 0.02;
    pub const MAX_ZOOM: f32 = 20.0;

    /// Allocate the rest of `ui` as the canvas; `content` is the world rectangle of what
    /// will be drawn (used to fit); `name` is its accessible name.
    pub fn show(&mut self, ui: &mut egui::Ui, content: Rect, name: &str) -> CanvasFrame {
        let size = ui.available_size().max(Vec2::splat(32.0));
        let (response, painter) = ui.allocate_painter(size, Sense::click_and_drag());
        response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Canvas, true, name));
        let rect = response.rect;
        self.last_rect = rect;
        if response.double_clicked() {
            self.fit_pending = true;
        }
        if self.fit_pending && content.is_positive() {
            self.fit(rect, content);
            self.fit_pending = false;
        }
        if response.dragged() {
            self.pan += response.drag_delta();
        }
        if response.hovered() {
            let (zoom, scroll) = ui.input(|i| (i.zoom_delta(), i.smooth_scroll_delta()));
            if zoom != 1.0 {
                if let Some(p) = response.hover_pos() {
                    self.zoom_around(rect, p, zoom);
                }
            } else if scroll != Vec2::ZERO {
                self.pan += scroll;
            }
        }
        CanvasFrame {
            painter: painter.with_clip_rect(rect),
            origin: rect.min + self.pan,
            zoom: self.zoom,
            rect,
            response,
        }
    }

    /// Where world point `p` was drawn last frame.
    pub fn world_to_screen(&self, p: Pos2) -> Pos2 {
        self.last_rect.min + self.pan + p.to_vec2() * self.zoom
    }

    /// Zoom by `factor` keeping the world point under `screen` in place.
    pub fn zoom_around(&mut self, rect: Rect, screen: Pos2, factor: f32) {
        let new_zoom = (self.zoom * factor).clamp(Self::MIN_ZOOM, Self::MAX_ZOOM);
        let origin = rect.min + self.pan;
        let world = (screen - origin) / self.zoom;
        self.zoom = new_zoom;
        self.pan = screen - rect.min - world * new_zoom;
    }

    /// Fit `content` (world) into `rect` (screen) with a margin.
    pub fn fit(&mut self, rect: Rect, content: Rect) {
        let margin = 16.0;
        let avail = (rect.size() - Vec2::splat(2.0 * margin)).max(Vec2::splat(8.0));
        let zoom = (avail.x / content.width().max(1.0))
            .min(avail.y / content.height().max(1.0))
            .clamp(Self::MIN_ZOOM, 2.0);
        self.zoom = zoom;
        let used = content.size() * zoom;
        let offset = (rect.size() - used) / 2.0;
        self.pan = offset - content.min.to_vec2() * zoom;
    }

    /// Zoom in/out and fit buttons for a view's toolbar (keyboard and screen-reader
    /// reachable, unlike the mouse gestures).
    pub fn toolbar(&mut self, ui: &mut egui::Ui) {
        if ui
            .button("Fit")
            .on_hover_text("Fit to window (or double-click the canvas)")
            .clicked()
        {
            self.fit_pending = true;
        }
        if ui.button("Zoom in").clicked() {
            self.zoom = (self.zoom * 1.25).min(Self::MAX_ZOOM);
        }
        if ui.button("Zoom out").clicked() {
            self.zoom = (self.zoom / 1.25).max(Self::MIN_ZOOM);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zoom_keeps_the_point_under_the_pointer() {
        let rect = Rect::from_min_size(Pos2::new(10.0, 20.0), Vec2::new(400.0, 300.0));
        let mut c = Canvas {
            pan: Vec2::new(5.0, 7.0),
            zoom: 1.5,
            fit_pending: false,
            last_rect: rect,
        };
        let p = Pos2::new(200.0, 150.0);
        let before = ((p - (rect.min + c.pan)) / c.zoom).to_pos2();
        c.zoom_around(rect, p, 2.0);
        let after = ((p - (rect.min + c.pan)) / c.zoom).to_pos2();
        assert!((before - after).length() < 1e-3);
    }

    #[test]
    fn fit_puts_content_inside() {
        let rect = Rect::from_min_size(Pos2::ZERO, Vec2::new(400.0, 300.0));
        let content = Rect::from_min_max(Pos2::new(-100.0, 50.0), Pos2::new(900.0, 250.0));
        let mut c = Canvas::default();
        c.fit(rect, content);
        let to = |w: Pos2| rect.min + c.pan + w.to_vec2() * c.zoom;
        assert!(rect.contains(to(content.min)) && rect.contains(to(content.max)));
    }
}
