//! SVG export of the current view: the shapes egui painted this frame inside the view's
//! rectangle (rectangles, circles, lines, paths, Béziers, untextured meshes and text), written
//! as SVG elements in screen coordinates, each group clipped as egui clipped it. Every view
//! (canvases and egui_plot plots alike) exports the same way, with no second drawing code.
//! Textured meshes (images) are left out, and so is a shape's transform after tessellation
//! (egui uses it for popups animating into place; views draw without it).

use eframe::egui::epaint::{ClippedShape, ColorMode, PathStroke, Shape, Stroke};
use eframe::egui::{self, Color32, Pos2, Rect};
use std::fmt::Write;

/// `fill="..."` (or `none`) for a colour, with its opacity.
fn paint(attr: &str, c: Color32) -> String {
    if c.a() == 0 {
        // An additive colour (egui's `from_additive_luminance`, e.g. the faint background
        // of striped table rows): light added to what lies below. SVG has no portable
        // additive blend; the colour's hue at an opacity of its brightness comes close
        // on a dark background (bg + (255 - bg) * a instead of bg + 255 * a).
        let m = c.r().max(c.g()).max(c.b());
        if m == 0 {
            return format!("{attr}=\"none\"");
        }
        let scale = |x: u8| (x as u32 * 255 / m as u32) as u8;
        return format!(
            "{attr}=\"#{:02x}{:02x}{:02x}\" {attr}-opacity=\"{:.3}\"",
            scale(c.r()),
            scale(c.g()),
            scale(c.b()),
            m as f32 / 255.0
        );
    }
    let [r, g, b, a] = c.to_srgba_unmultiplied();
    if a == 255 {
        format!("{attr}=\"#{r:02x}{g:02x}{b:02x}\"")
    } else {
        format!(
            "{attr}=\"#{r:02x}{g:02x}{b:02x}\" {attr}-opacity=\"{:.3}\"",
            a as f32 / 255.0
        )
    }
}

fn stroke(s: &Stroke) -> String {
    if s.width <= 0.0 || s.color.a() == 0 {
        return "stroke=\"none\"".into();
    }
    format!(
        "{} stroke-width=\"{:.2}\"",
        paint("stroke", s.color),
        s.width
    )
}

fn path_stroke(s: &PathStroke) -> String {
    let color = match &s.color {
        ColorMode::Solid(c) => *c,
        ColorMode::UV(_) => Color32::GRAY,
    };
    stroke(&Stroke::new(s.width, color))
}

fn points(pts: &[Pos2]) -> String {
    let mut s = String::with_capacity(pts.len() * 14);
    for p in pts {
        let _ = write!(s, "{:.2},{:.2} ", p.x, p.y);
    }
    s.pop();
    s
}

fn escape(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '"' => s.push_str("&quot;"),
            c if (c as u32) < 0x20 && c != '\t' => {}
            c => s.push(c),
        }
    }
    s
}

/// Append the SVG of one shape.
fn shape(out: &mut String, s: &Shape) {
    match s {
        Shape::Noop | Shape::Callback(_) => {}
        Shape::Vec(v) => v.iter().for_each(|s| shape(out, s)),
        Shape::Circle(c) => {
            let _ = writeln!(
                out,
                "<circle cx=\"{:.2}\" cy=\"{:.2}\" r=\"{:.2}\" {} {}/>",
                c.center.x,
                c.center.y,
                c.radius,
                paint("fill", c.fill),
                stroke(&c.stroke)
            );
        }
        Shape::Ellipse(e) => {
            let _ = writeln!(
                out,
                "<ellipse cx=\"{:.2}\" cy=\"{:.2}\" rx=\"{:.2}\" ry=\"{:.2}\" {} {}/>",
                e.center.x,
                e.center.y,
                e.radius.x,
                e.radius.y,
                paint("fill", e.fill),
                stroke(&e.stroke)
            );
        }
        Shape::LineSegment {
            points: p,
            stroke: st,
        } => {
            let _ = writeln!(
                out,
                "<line x1=\"{:.2}\" y1=\"{:.2}\" x2=\"{:.2}\" y2=\"{:.2}\" {}/>",
                p[0].x,
                p[0].y,
                p[1].x,
                p[1].y,
                stroke(st)
            );
        }
        Shape::Path(p) => {
            if p.points.len() < 2 {
                return;
            }
            let tag = if p.closed { "polygon" } else { "polyline" };
            let fill = if p.closed {
                paint("fill", p.fill)
            } else {
                "fill=\"none\"".into()
            };
            let _ = writeln!(
                out,
                "<{tag} points=\"{}\" {fill} {} stroke-linejoin=\"round\"/>",
                points(&p.points),
                path_stroke(&p.stroke)
            );
        }
        Shape::Rect(r) => {
            let rect = r.rect;
            if !rect.is_finite() {
                return;
            }
            let _ = writeln!(
                out,
                "<rect x=\"{:.2}\" y=\"{:.2}\" width=\"{:.2}\" height=\"{:.2}\" rx=\"{}\" {} {}/>",
                rect.min.x,
                rect.min.y,
                rect.width().max(0.0),
                rect.height().max(0.0),
                r.corner_radius.nw,
                paint("fill", r.fill),
                stroke(&r.stroke)
            );
        }
        Shape::Text(t) => {
            let galley = &t.galley;
            let section = galley.job.sections.first();
            let size = section.map(|s| s.format.font_id.size).unwrap_or(12.0);
            let monospace = section
                .is_some_and(|s| matches!(s.format.font_id.family, egui::FontFamily::Monospace));
            let color = t
                .override_text_color
                .or_else(|| {
                    // PLACEHOLDER: "the shape's fallback colour" (egui's widget text).
                    section
                        .map(|s| s.format.color)
                        .filter(|c| c.a() > 0 && *c != Color32::PLACEHOLDER)
                })
                .unwrap_or(t.fallback_color);
            let rotate = if t.angle != 0.0 {
                format!(
                    " transform=\"rotate({:.2} {:.2} {:.2})\"",
                    t.angle.to_degrees(),
                    t.pos.x,
                    t.pos.y
                )
            } else {
                String::new()
            };
            for row in &galley.rows {
                let text: String = row.row.glyphs.iter().map(|g| g.chr).collect();
                if text.trim().is_empty() {
                    continue;
                }
                let baseline = row.row.glyphs.first().map(|g| g.pos.y).unwrap_or(size);
                let x0 = row.row.glyphs.first().map(|g| g.pos.x).unwrap_or(0.0);
                // The width egui laid the row out at: a viewer's font (egui's Ubuntu and
                // Hack are rarely installed) is squeezed or stretched to it, so text
                // neither overflows its box nor runs into its neighbour.
                let width = row
                    .row
                    .glyphs
                    .last()
                    .map(|g| g.pos.x + g.advance_width - x0)
                    .unwrap_or(0.0);
                let fit = if width > 0.0 {
                    format!(" textLength=\"{width:.2}\" lengthAdjust=\"spacingAndGlyphs\"")
                } else {
                    String::new()
                };
                let _ = writeln!(
                    out,
                    "<text x=\"{:.2}\" y=\"{:.2}\" font-size=\"{:.1}\" font-family=\"{}\" {}{fit}{rotate}>{}</text>",
                    t.pos.x + row.pos.x + x0,
                    t.pos.y + row.pos.y + baseline,
                    size,
                    if monospace {
                        "Hack, 'DejaVu Sans Mono', monospace"
                    } else {
                        "Ubuntu, 'DejaVu Sans', sans-serif"
                    },
                    paint("fill", color),
                    escape(&text)
                );
            }
        }
        Shape::Mesh(m) => {
            if m.texture_id != egui::TextureId::default() {
                return; // an image: not exported
            }
            for tri in m.indices.chunks_exact(3) {
                let v: Vec<_> = tri
                    .iter()
                    .filter_map(|&i| m.vertices.get(i as usize))
                    .collect();
                if v.len() == 3 {
                    let _ = writeln!(
                        out,
                        "<polygon points=\"{}\" {}/>",
                        points(&[v[0].pos, v[1].pos, v[2].pos]),
                        paint("fill", v[0].color)
                    );
                }
            }
        }
        Shape::QuadraticBezier(b) => {
            let [a, c, d] = b.points;
            let _ = writeln!(
                out,
                "<path d=\"M{:.2},{:.2} Q{:.2},{:.2} {:.2},{:.2}{}\" {} {}/>",
                a.x,
                a.y,
                c.x,
                c.y,
                d.x,
                d.y,
                if b.closed { " Z" } else { "" },
                if b.closed {
                    paint("fill", b.fill)
                } else {
                    "fill=\"none\"".into()
                },
                path_stroke(&b.stroke)
            );
        }
        Shape::CubicBezier(b) => {
            let [a, c, d, e] = b.points;
            let _ = writeln!(
                out,
                "<path d=\"M{:.2},{:.2} C{:.2},{:.2} {:.2},{:.2} {:.2},{:.2}{}\" {} {}/>",
                a.x,
                a.y,
                c.x,
                c.y,
                d.x,
                d.y,
                e.x,
                e.y,
                if b.closed { " Z" } else { "" },
                if b.closed {
                    paint("fill", b.fill)
                } else {
                    "fill=\"none\"".into()
                },
                path_stroke(&b.stroke)
            );
        }
        // A band (egui_plot's aggregate of a dense line): the outline of its ranges.
        Shape::Band(b) => {
            if b.points.is_empty() {
                return;
            }
            let outline: Vec<Pos2> = b
                .points
                .iter()
                .map(|p| Pos2::new(p.x, p.y.max))
                .chain(b.points.iter().rev().map(|p| Pos2::new(p.x, p.y.min)))
                .collect();
            let _ = writeln!(
                out,
                "<polygon points=\"{}\" {} {}/>",
                points(&outline),
                paint("fill", b.fill),
                stroke(&b.stroke)
            );
        }
    }
}

/// An SVG document of the `shapes` that fall inside `view` (screen points), on a
/// `background` colour.
pub fn to_svg<'a>(
    shapes: impl IntoIterator<Item = &'a ClippedShape>,
    view: Rect,
    background: Color32,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" xml:space=\"preserve\" width=\"{:.0}\" height=\"{:.0}\" viewBox=\"{:.2} {:.2} {:.2} {:.2}\">",
        view.width(),
        view.height(),
        view.min.x,
        view.min.y,
        view.width(),
        view.height()
    );
    let _ = writeln!(
        out,
        "<rect x=\"{:.2}\" y=\"{:.2}\" width=\"{:.2}\" height=\"{:.2}\" {}/>",
        view.min.x,
        view.min.y,
        view.width(),
        view.height(),
        paint("fill", background)
    );
    let mut clips: Vec<Rect> = Vec::new();
    let mut body = String::new();
    let mut current: Option<usize> = None;
    for cs in shapes {
        let clip = cs.clip_rect.intersect(view);
        if !clip.is_positive() {
            continue;
        }
        let bounds = cs.shape.visual_bounding_rect();
        if bounds.is_finite() && !bounds.intersects(clip) {
            continue;
        }
        let idx = match clips.iter().position(|c| *c == clip) {
            Some(i) => i,
            None => {
                clips.push(clip);
                clips.len() - 1
            }
        };
        if current != Some(idx) {
            if current.is_some() {
                body.push_str("</g>\n");
            }
            let _ = writeln!(body, "<g clip-path=\"url(#clip{idx})\">");
            current = Some(idx);
        }
        shape(&mut body, &cs.shape);
    }
    if current.is_some() {
        body.push_str("</g>\n");
    }
    out.push_str("<defs>\n");
    for (i, c) in clips.iter().enumerate() {
        let _ = writeln!(
            out,
            "<clipPath id=\"clip{i}\"><rect x=\"{:.2}\" y=\"{:.2}\" width=\"{:.2}\" height=\"{:.2}\"/></clipPath>",
            c.min.x,
            c.min.y,
            c.width(),
            c.height()
        );
    }
    out.push_str("</defs>\n");
    out.push_str(&body);
    out.push_str("</svg>\n");
    out
}

/// The SVG of what `ctx` painted this frame inside `view`, over every layer (in paint
/// order, so tooltips and popups come last).
pub fn frame_svg(ctx: &egui::Context, view: Rect) -> String {
    let background = ctx.global_style().visuals.panel_fill;
    // The background layer (panels, plots, canvases), then the areas back to front.
    let mut layers = vec![egui::LayerId::background()];
    ctx.memory(|m| layers.extend(m.layer_ids().filter(|l| *l != egui::LayerId::background())));
    ctx.graphics(|g| {
        let shapes: Vec<&ClippedShape> = layers
            .iter()
            .filter_map(|l| g.get(*l))
            .flat_map(|list| list.all_entries())
            .collect();
        to_svg(shapes, view, background)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_become_svg_elements_clipped_to_the_view() {
        let view = Rect::from_min_max(Pos2::new(10.0, 10.0), Pos2::new(110.0, 60.0));
        let inside = view.shrink(5.0);
        let outside = Rect::from_min_max(Pos2::new(500.0, 500.0), Pos2::new(600.0, 600.0));
        let shapes = [
            ClippedShape {
                transform_after_tessellation: egui::emath::TSTransform::IDENTITY,
                clip_rect: inside,
                shape: Shape::rect_filled(
                    Rect::from_min_size(Pos2::new(20.0, 20.0), egui::vec2(10.0, 5.0)),
                    0.0,
                    Color32::from_rgb(255, 0, 0),
                ),
            },
            ClippedShape {
                transform_after_tessellation: egui::emath::TSTransform::IDENTITY,
                clip_rect: inside,
                shape: Shape::line_segment(
                    [Pos2::new(20.0, 20.0), Pos2::new(40.0, 30.0)],
                    Stroke::new(2.0, Color32::from_rgb(0, 0, 255)),
                ),
            },
            ClippedShape {
                transform_after_tessellation: egui::emath::TSTransform::IDENTITY,
                clip_rect: inside,
                shape: Shape::Band(egui::epaint::BandShape::filled(
                    vec![
                        egui::epaint::BandPoint::new(30.0, 20.0..=25.0),
                        egui::epaint::BandPoint::new(31.0, 21.0..=27.0),
                    ],
                    Color32::from_rgb(0, 255, 0),
                )),
            },
            ClippedShape {
                transform_after_tessellation: egui::emath::TSTransform::IDENTITY,
                clip_rect: outside,
                shape: Shape::circle_filled(Pos2::new(550.0, 550.0), 3.0, Color32::WHITE),
            },
        ];
        let svg = to_svg(shapes.iter(), view, Color32::BLACK);
        assert!(svg.starts_with("<svg "), "{svg}");
        assert!(
            svg.contains("viewBox=\"10.00 10.00 100.00 50.00\""),
            "{svg}"
        );
        assert!(
            svg.contains("<rect x=\"20.00\" y=\"20.00\" width=\"10.00\" height=\"5.00\" rx=\"0\" fill=\"#ff0000\""),
            "{svg}"
        );
        assert!(svg.contains("<line x1=\"20.00\" y1=\"20.00\" x2=\"40.00\" y2=\"30.00\" stroke=\"#0000ff\" stroke-width=\"2.00\"/>"), "{svg}");
        assert!(
            svg.contains("<polygon points=\"30.00,25.00 31.00,27.00 31.00,21.00 30.00,20.00\" fill=\"#00ff00\""),
            "{svg}"
        );
        // The circle is outside the view: left out; one clip group for the other two.
        assert!(!svg.contains("<circle"), "{svg}");
        assert_eq!(svg.matches("<clipPath").count(), 1);
        assert!(svg.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn additive_colours_become_translucent() {
        assert_eq!(
            paint("fill", Color32::from_additive_luminance(5)),
            "fill=\"#ffffff\" fill-opacity=\"0.020\""
        );
        assert_eq!(paint("fill", Color32::TRANSPARENT), "fill=\"none\"");
        assert_eq!(
            paint("fill", Color32::from_rgb(1, 2, 3)),
            "fill=\"#010203\""
        );
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;");
    }
}
