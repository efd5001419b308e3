//! A layered layout of a kernel's DFG for drawing: layers by longest path over the
//! intra-iteration edges (loop-carried edges point back up), order within a layer by a
//! few barycentre sweeps to reduce crossings. Deterministic: ties break by node index.

use eframe::egui::{Pos2, Rect, Vec2};
use petgraph::visit::EdgeRef;
use tessera_ir::Kernel;

/// World-space size of a node box and the spacing between layers and columns.
pub const NODE_W: f32 = 96.0;
pub const NODE_H: f32 = 30.0;
const COL_GAP: f32 = 24.0;
const LAYER_GAP: f32 = 46.0;
const SWEEPS: usize = 4;

/// Node positions (box centres) of one kernel's DFG.
#[derive(Debug, Clone, PartialEq)]
pub struct DfgLayout {
    pub pos: Vec<Pos2>,
    pub layer: Vec<u32>,
    pub bounds: Rect,
}

impl DfgLayout {
    pub fn new(k: &Kernel) -> Self {
        let n = k.node_count();
        if n == 0 {
            return Self {
                pos: Vec::new(),
                layer: Vec::new(),
                bounds: Rect::from_min_size(Pos2::ZERO, Vec2::splat(1.0)),
            };
        }
        // Longest path layering over distance-0 edges, in a topological order (a kernel that
        // fails validation has no order: fall back to index order, which still terminates).
        let order: Vec<usize> = match k.topo_order() {
            Ok(o) => o.iter().map(|v| v.index()).collect(),
            Err(_) => (0..n).collect(),
        };
        let mut layer = vec![0u32; n];
        for &v in &order {
            for e in k.graph.edges_directed(
                petgraph::graph::NodeIndex::new(v),
                petgraph::Direction::Incoming,
            ) {
                if e.weight().distance == 0 {
                    let u = e.source().index();
                    layer[v] = layer[v].max(layer[u] + 1);
                }
            }
        }
        let layers = *layer.iter().max().unwrap_or(&0) as usize + 1;
        let mut rows: Vec<Vec<usize>> = vec![Vec::new(); layers];
        for v in 0..n {
            rows[layer[v] as usize].push(v);
        }
        let mut x = vec![0.0f32; n];
        let set_x = |rows: &Vec<Vec<usize>>, x: &mut Vec<f32>| {
            for row in rows {
                for (i, &v) in row.iter().enumerate() {
                    x[v] = i as f32;
                }
            }
        };
        set_x(&rows, &mut x);
        let neighbours = |v: usize, dir: petgraph::Direction| -> Vec<usize> {
            k.graph
                .edges_directed(petgraph::graph::NodeIndex::new(v), dir)
                .filter(|e| e.weight().distance == 0)
                .map(|e| {
                    if dir == petgraph::Direction::Incoming {
                        e.source().index()
                    } else {
                        e.target().index()
                    }
                })
                .collect()
        };
        for sweep in 0..SWEEPS {
            let down = sweep % 2 == 0;
            let dir = if down {
                petgraph::Direction::Incoming
            } else {
                petgraph::Direction::Outgoing
            };
            let idx: Vec<usize> = if down {
                (1..layers).collect()
            } else {
                (0..layers.saturating_sub(1)).rev().collect()
            };
            for l in idx {
                let mut keyed: Vec<(f32, usize)> = rows[l]
                    .iter()
                    .map(|&v| {
                        let nb = neighbours(v, dir);
                        let key = if nb.is_empty() {
                            x[v]
                        } else {
                            nb.iter().map(|&u| x[u]).sum::<f32>() / nb.len() as f32
                        };
                        (key, v)
                    })
                    .collect();
                keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                rows[l] = keyed.into_iter().map(|(_, v)| v).collect();
                for (i, &v) in rows[l].iter().enumerate() {
                    x[v] = i as f32;
                }
            }
        }
        let widest = rows.iter().map(|r| r.len()).max().unwrap_or(1) as f32;
        let step = NODE_W + COL_GAP;
        let mut pos = vec![Pos2::ZERO; n];
        for (l, row) in rows.iter().enumerate() {
            let offset = (widest - row.len() as f32) * step / 2.0;
            for (i, &v) in row.iter().enumerate() {
                pos[v] = Pos2::new(
                    offset + i as f32 * step + NODE_W / 2.0,
                    l as f32 * (NODE_H + LAYER_GAP) + NODE_H / 2.0,
                );
            }
        }
        let bounds = Rect::from_min_max(
            Pos2::new(-NODE_W, -NODE_H),
            Pos2::new(
                widest * step + NODE_W,
                layers as f32 * (NODE_H + LAYER_GAP) + NODE_H,
            ),
        );
        Self { pos, layer, bounds }
    }

    /// The node whose box contains `world`.
    pub fn hit(&self, world: Pos2) -> Option<u32> {
        self.pos
            .iter()
            .position(|p| Rect::from_center_size(*p, Vec2::new(NODE_W, NODE_H)).contains(world))
            .map(|v| v as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn producers_sit_above_consumers() {
        let k = tessera_ir::load::load_kernel(
            std::path::Path::new(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../workloads/kernels/fir.tk"
            )),
            &[],
        )
        .unwrap();
        let l = DfgLayout::new(&k);
        for e in k.graph.edge_references() {
            if e.weight().distance == 0 {
                assert!(l.pos[e.source().index()].y < l.pos[e.target().index()].y);
            }
        }
        // No two boxes overlap.
        for a in 0..l.pos.len() {
            for b in a + 1..l.pos.len() {
                let d = l.pos[a] - l.pos[b];
                assert!(
                    d.x.abs() >= NODE_W || d.y.abs() >= NODE_H,
                    "{a} and {b} overlap"
                );
            }
            assert_eq!(l.hit(l.pos[a]), Some(a as u32));
        }
    }
}
