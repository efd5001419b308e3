//! DOT export for viewing a kernel with Graphviz (`dot -Tsvg`).
//!
//! Node label: `n<id>: <op>` then the immediate (`imm=..`), the array a memory op touches
//! and the node's own label. Edges: solid for same-iteration data, dashed with
//! `d=<distance> init=<value>` for loop-carried values, dotted for ordering-only edges,
//! red with `p` / `!p` for predicates. Data edges name their operand slot when the consumer
//! takes more than one operand.

use crate::kernel::{Kernel, Slot};
use crate::op::OpClass;
use petgraph::visit::EdgeRef;
use std::fmt::Write;

/// Quote a string for DOT.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn fill_colour(class: OpClass) -> &'static str {
    match class {
        OpClass::Const | OpClass::Input => "#eeeeee",
        OpClass::Load => "#cfe2ff",
        OpClass::Store => "#ffd8a8",
        OpClass::Select => "#e5dbff",
        OpClass::Mul | OpClass::Div => "#ffe3e3",
        OpClass::FpAdd | OpClass::FpMul | OpClass::FpDiv => "#d3f9d8",
        _ => "#ffffff",
    }
}

/// The kernel as a DOT digraph.
pub fn to_dot(kernel: &Kernel) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "digraph {} {{", quote(&kernel.name));
    let _ = writeln!(
        s,
        "  graph [label={}, labelloc=t, fontname=\"Helvetica\"];",
        quote(&format!(
            "{} ({} nodes, trip count {}, {} arrays, {} scalar inputs)",
            kernel.name,
            kernel.node_count(),
            kernel.trip_count,
            kernel.arrays.len(),
            kernel.scalars.len()
        ))
    );
    let _ = writeln!(
        s,
        "  node [shape=box, style=filled, fontname=\"Helvetica\"];"
    );
    for (id, n) in kernel.nodes() {
        let mut label = format!("n{}: {}", id.index(), n.op);
        if let Some(imm) = n.imm {
            let _ = write!(label, " imm={imm}");
        }
        if let Some(a) = n.array {
            match kernel.arrays.get(a as usize) {
                Some(arr) => {
                    let _ = write!(label, " [{}]", arr.name);
                }
                None => {
                    let _ = write!(label, " [array {a}]");
                }
            }
        }
        if let crate::op::Op::Input(i) = n.op
            && let Some(sc) = kernel.scalars.get(i as usize)
        {
            let _ = write!(label, "\n{}", sc.name);
        }
        if !n.label.is_empty() {
            let _ = write!(label, "\n{}", n.label);
        }
        let _ = writeln!(
            s,
            "  n{} [label={}, fillcolor={}];",
            id.index(),
            quote(&label),
            quote(fill_colour(n.op.class()))
        );
    }
    for e in kernel.graph.edge_references() {
        let o = e.weight();
        let mut attrs: Vec<String> = Vec::new();
        let mut label = String::new();
        match o.slot {
            Slot::Data(k) => {
                let operands = kernel
                    .operands(e.target())
                    .iter()
                    .filter(|(_, x)| matches!(x.slot, Slot::Data(_)))
                    .count();
                if operands > 1 {
                    label = format!("{k}");
                }
            }
            Slot::Pred { negated } => {
                label = if negated {
                    "!p".to_string()
                } else {
                    "p".to_string()
                };
                attrs.push("color=\"#c92a2a\"".to_string());
                attrs.push("fontcolor=\"#c92a2a\"".to_string());
            }
            Slot::Order => {
                attrs.push("style=dotted".to_string());
                label = "order".to_string();
            }
        }
        if o.distance > 0 {
            if !matches!(o.slot, Slot::Order) {
                attrs.push("style=dashed".to_string());
            }
            attrs.push("constraint=false".to_string());
            if !label.is_empty() {
                label.push(' ');
            }
            if o.carries_value() {
                let _ = write!(label, "d={} init={}", o.distance, o.init);
            } else {
                let _ = write!(label, "d={}", o.distance);
            }
        }
        if !label.is_empty() {
            attrs.push(format!("label={}", quote(&label)));
        }
        let _ = writeln!(
            s,
            "  n{} -> n{}{};",
            e.source().index(),
            e.target().index(),
            if attrs.is_empty() {
                String::new()
            } else {
                format!(" [{}]", attrs.join(", "))
            }
        );
    }
    for lo in &kernel.live_outs {
        let _ = writeln!(
            s,
            "  {} [shape=plaintext, style=\"\", label={}];",
            quote(&format!("out_{}", lo.name)),
            quote(&format!("live-out {}", lo.name))
        );
        let _ = writeln!(
            s,
            "  n{} -> {} [style=bold];",
            lo.node.index(),
            quote(&format!("out_{}", lo.name))
        );
    }
    s.push_str("}\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::{KernelSource, Node, Operand};
    use crate::op::Op;

    #[test]
    fn marks_carried_order_and_predicate_edges() {
        let mut k = Kernel::new("t", KernelSource::Built);
        let a = k.add_node(Node::new(Op::Const).with_imm(3).with_label("three"));
        let b = k.add_node(Node::new(Op::Add).with_imm(1));
        k.add_edge(b, b, Operand::carried(0, 2, 7));
        k.add_edge(
            a,
            b,
            Operand {
                slot: Slot::Pred { negated: true },
                distance: 0,
                init: 0,
            },
        );
        k.add_edge(
            a,
            b,
            Operand {
                slot: Slot::Order,
                distance: 0,
                init: 0,
            },
        );
        let d = to_dot(&k);
        assert!(d.contains("n0: const imm=3\\nthree"), "{d}");
        assert!(
            d.contains("n1 -> n1 [style=dashed, constraint=false, label=\"d=2 init=7\"]"),
            "{d}"
        );
        assert!(d.contains("label=\"!p\""), "{d}");
        assert!(d.contains("style=dotted"), "{d}");
    }
}
