//! The OpenCGRA / CGRA-Flow / CGRA-Bench DOT dialect, rewritten into the CGRA-ME form that
//! the DOT importer builds kernels from.
//!
//! The dialect: the LLVM opcode is the end of the node name (`Node6fmul`,
//! `Node2getelementptr`), the label is a symbol (`×`, `ld`, `Φ`; for `icmp` the predicate,
//! `eq`), edges carry no attributes, so neither operand numbers nor loop-carried edges are
//! marked, and constants, base pointers and values from outside the loop are left out.
//! What is recovered and what is assumed (every assumption becomes a note of the import):
//! - a back edge is an edge into a phi from a node the phi reaches (distance 1), or the
//!   one input of a phi fed only by a `br` (the latch) it does not reach; a phi's
//!   other input is its initial value, and a phi without one starts at 0;
//! - `br` carries the value of its non-`icmp`/`fcmp` input (the loop's control flow is the
//!   trip count); the `icmp` (or `fcmp`) input becomes an ordering edge, so the exit test
//!   stays in the DFG;
//! - a `store`'s address is its input from a `getelementptr`, the other input its value;
//! - `getelementptr` is an add of base and index, and addresses are i32 element indices
//!   (element sizes are not in the file): a load or store addresses byte
//!   4 x index + 2048 (a guard band for small negative indices);
//! - every operand the file leaves out becomes a scalar input named `<node>.<what>`;
//! - two-input ops take their operands in file order (the file does not number them);
//! - every phi's loop-carried value is a live-out named after the phi;
//! - float ops (`fadd`, `fsub`, `fmul`, `fdiv`, `fneg`, `fcmp`, `fptosi`, `sitofp`) are
//!   IEEE binary32 (the file has no types); `frem`, unsigned conversions and
//!   `fpext`/`fptrunc` are refused with a located error.

use super::dot::{Graph, float_error, get, is_unsupported_float_op, opencgra_op};
use crate::error::{IrError, SourceLoc};

/// Bytes below the address 0 of the file's index space: a memory op addresses byte
/// `4 x index + GUARD_BYTES`, so that small negative indices (`a[i - 1]`, an elided
/// constant subtracted) stay inside the memory image.
const GUARD_BYTES: &str = "2048";

/// What an OpenCGRA op becomes.
enum Role {
    Phi,
    Br,
    Load,
    Store,
    Gep,
    /// A CGRA-ME opcode with this many operands; `commutative` when order does not matter.
    Op {
        opcode: &'static str,
        arity: usize,
        commutative: bool,
    },
    Icmp,
    Fcmp,
}

fn role(op: &str) -> Option<Role> {
    let bin = |opcode, commutative| {
        Some(Role::Op {
            opcode,
            arity: 2,
            commutative,
        })
    };
    match op {
        "phi" => Some(Role::Phi),
        "br" => Some(Role::Br),
        "load" => Some(Role::Load),
        "store" => Some(Role::Store),
        "getelementptr" => Some(Role::Gep),
        "icmp" => Some(Role::Icmp),
        "add" => bin("add", true),
        "mul" => bin("mul", true),
        "and" => bin("and", true),
        "or" => bin("or", true),
        "xor" => bin("xor", true),
        "sub" => bin("sub", false),
        "shl" => bin("shl", false),
        "lshr" => bin("lshr", false),
        "ashr" => bin("ashr", false),
        "sdiv" => bin("sdiv", false),
        "udiv" => bin("udiv", false),
        "srem" => bin("srem", false),
        "urem" => bin("urem", false),
        // Float ops, read as IEEE binary32 (the dialect writes no types).
        "fadd" => bin("fadd", true),
        "fmul" => bin("fmul", true),
        "fsub" => bin("fsub", false),
        "fdiv" => bin("fdiv", false),
        "fcmp" => Some(Role::Fcmp),
        "fneg" | "fptosi" | "sitofp" => Some(Role::Op {
            opcode: match op {
                "fneg" => "fneg",
                "fptosi" => "fptosi",
                _ => "sitofp",
            },
            arity: 1,
            commutative: true,
        }),
        "sext" | "zext" | "trunc" | "bitcast" => Some(Role::Op {
            opcode: "mov",
            arity: 1,
            commutative: true,
        }),
        "select" => Some(Role::Op {
            opcode: "select",
            arity: 3,
            commutative: false,
        }),
        _ => None,
    }
}

/// The icmp predicate from an OpenCGRA label (it writes the LLVM predicate name).
fn predicate(label: &str) -> Option<&'static str> {
    Some(match label.trim() {
        "eq" | "==" => "eq",
        "ne" | "!=" => "ne",
        "slt" | "<" => "slt",
        "sle" | "<=" => "sle",
        "sgt" | ">" => "sgt",
        "sge" | ">=" => "sge",
        "ult" => "ult",
        "ule" => "ule",
        "ugt" => "ugt",
        "uge" => "uge",
        _ => return None,
    })
}

/// The fcmp predicate from an OpenCGRA label (the LLVM predicate name, as for icmp).
fn fpredicate(label: &str) -> Option<&'static str> {
    Some(match label.trim() {
        "oeq" => "oeq",
        "une" => "une",
        "olt" => "olt",
        "ole" => "ole",
        "ogt" => "ogt",
        "oge" => "oge",
        _ => return None,
    })
}

/// Rewrite an OpenCGRA graph into the CGRA-ME form (opcodes, operand numbers, distances).
pub(super) fn normalize(g: &mut Graph, notes: &mut Vec<String>) -> Result<(), IrError> {
    let n = g.nodes.len();
    let mut roles = Vec::with_capacity(n);
    let mut float_ops = 0usize;
    for d in &g.nodes {
        let op = opencgra_op(&d.name)
            .expect("detected by the names")
            .to_string();
        let loc = d.loc.clone();
        if is_unsupported_float_op(&op) {
            return Err(float_error(&loc, &op, &d.name));
        }
        if op.starts_with('f') && role(&op).is_some() {
            float_ops += 1;
        }
        let r = role(&op).ok_or_else(|| IrError::UnsupportedOp {
            loc: loc.clone(),
            op: op.clone(),
            hint: format!(
                " (node `{}`, OpenCGRA DOT); see docs/file-formats.md for the ops this dialect reads",
                d.name
            ),
        })?;
        roles.push(r);
    }
    let mut incoming: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut succ: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (e, ed) in g.edges.iter().enumerate() {
        incoming[ed.to].push(e);
        succ[ed.from].push(ed.to);
    }
    let reaches = |from: usize, to: usize| {
        let mut seen = vec![false; n];
        let mut stack = succ[from].clone();
        while let Some(x) = stack.pop() {
            if x == to {
                return true;
            }
            if !std::mem::replace(&mut seen[x], true) {
                stack.extend(succ[x].iter().copied());
            }
        }
        false
    };
    let mut filled: Vec<String> = Vec::new();
    let mut ordered: Vec<String> = Vec::new();
    let mut no_init: Vec<String> = Vec::new();
    let mut latch_only: Vec<String> = Vec::new();
    let mut live_outs: Vec<(usize, String)> = Vec::new();
    // Addresses are i32 element indices (the file leaves element sizes out): a memory op
    // addresses byte 4 x index, through a `shl 2` node `<op>.x4`.
    let mut two: Option<usize> = None;
    let mut x4 = |g: &mut Graph, i: usize, slot: &str| -> usize {
        let loc = g.nodes[i].loc.clone();
        let c = *two.get_or_insert_with(|| {
            g.add_node(
                "~two".into(),
                &[("opcode", "const"), ("constVal", "2")],
                &loc,
            )
        });
        let s = g.add_node(
            format!("{}.x4", g.nodes[i].name),
            &[("opcode", "shl")],
            &loc,
        );
        g.add_edge(c, s, &[("operand", "1")], &loc);
        g.add_edge(s, i, &[("operand", slot)], &loc);
        s
    };
    let set = |g: &mut Graph, e: usize, k: &str, v: &str| {
        let loc = g.edges[e].loc.clone();
        g.edges[e].attrs.push((k.to_string(), v.to_string(), loc));
    };
    let set_node = |g: &mut Graph, i: usize, k: &str, v: &str| {
        let loc = g.nodes[i].loc.clone();
        g.nodes[i].attrs.push((k.to_string(), v.to_string(), loc));
    };
    // A scalar input for an operand the file leaves out.
    let fill = |g: &mut Graph, i: usize, what: &str, slot: &str, filled: &mut Vec<String>| {
        let loc: SourceLoc = g.nodes[i].loc.clone();
        let name = format!("{}.{what}", g.nodes[i].name.trim_end_matches(".x4"));
        let s = g.add_node(name.clone(), &[("opcode", "input")], &loc);
        g.add_edge(s, i, &[("operand", slot)], &loc);
        filled.push(name);
    };
    for i in 0..n {
        let name = g.nodes[i].name.clone();
        let loc = g.nodes[i].loc.clone();
        let ins = incoming[i].clone();
        match &roles[i] {
            Role::Phi => {
                set_node(g, i, "opcode", "phi");
                let mut back = None;
                let mut init = 0;
                for &e in &ins {
                    if reaches(i, g.edges[e].from) {
                        set(g, e, "dist", "1");
                        back.get_or_insert(e);
                    } else {
                        init += 1;
                    }
                }
                // A phi fed only by a `br` it does not reach (latnrm's `Node1phi`, carrying a
                // value loaded this iteration into the next): the branch is the loop's
                // latch, so that input is the back edge; the initial value, from outside
                // the loop, is left out of the file.
                if back.is_none()
                    && ins.len() == 1
                    && opencgra_op(&g.nodes[g.edges[ins[0]].from].name) == Some("br")
                {
                    set(g, ins[0], "dist", "1");
                    back = Some(ins[0]);
                    init = 0;
                    latch_only.push(name.clone());
                }
                if init == 0 {
                    no_init.push(name.clone());
                }
                if let Some(e) = back {
                    live_outs.push((g.edges[e].from, name.clone()));
                }
            }
            Role::Br => {
                set_node(g, i, "opcode", "mov");
                let mut data = Vec::new();
                for &e in &ins {
                    if opencgra_op(&g.nodes[g.edges[e].from].name)
                        .is_some_and(|o| o == "icmp" || o == "fcmp")
                    {
                        set(g, e, "operand", "order");
                    } else {
                        data.push(e);
                    }
                }
                if data.len() != 1 {
                    return Err(IrError::parse(
                        loc,
                        format!(
                            "br `{name}` has {} value inputs besides its icmp; expected one (the value it passes on)",
                            data.len()
                        ),
                    ));
                }
            }
            Role::Load => {
                set_node(g, i, "opcode", "load");
                set_node(g, i, "imm", GUARD_BYTES);
                let a = x4(g, i, "0");
                match ins.len() {
                    0 => fill(g, a, "addr", "0", &mut filled),
                    1 => {
                        set(g, ins[0], "operand", "0");
                        g.edges[ins[0]].to = a;
                    }
                    k => {
                        return Err(IrError::parse(
                            loc,
                            format!("load `{name}` has {k} inputs; expected one (its address)"),
                        ));
                    }
                }
            }
            Role::Store => {
                set_node(g, i, "opcode", "store");
                set_node(g, i, "imm", GUARD_BYTES);
                let from_gep: Vec<usize> = ins
                    .iter()
                    .copied()
                    .filter(|&e| {
                        opencgra_op(&g.nodes[g.edges[e].from].name) == Some("getelementptr")
                    })
                    .collect();
                let others: Vec<usize> = ins
                    .iter()
                    .copied()
                    .filter(|e| !from_gep.contains(e))
                    .collect();
                if from_gep.len() > 1 || others.len() > 1 || ins.len() > 2 {
                    return Err(IrError::parse(
                        loc,
                        format!(
                            "store `{name}` has {} inputs ({} from a getelementptr); expected at most one address (from a getelementptr) and one value",
                            ins.len(),
                            from_gep.len()
                        ),
                    ));
                }
                let a = x4(g, i, "addr");
                match from_gep.first() {
                    Some(&e) => {
                        set(g, e, "operand", "0");
                        g.edges[e].to = a;
                    }
                    None => fill(g, a, "addr", "0", &mut filled),
                }
                match others.first() {
                    Some(&e) => set(g, e, "operand", "data"),
                    None => fill(g, i, "value", "data", &mut filled),
                }
            }
            Role::Gep => {
                set_node(g, i, "opcode", "add");
                match ins.len() {
                    0 => {
                        fill(g, i, "base", "0", &mut filled);
                        fill(g, i, "index", "1", &mut filled);
                    }
                    1 => {
                        set(g, ins[0], "operand", "0");
                        fill(g, i, "base", "1", &mut filled);
                    }
                    2 => {
                        set(g, ins[0], "operand", "0");
                        set(g, ins[1], "operand", "1");
                    }
                    k => {
                        return Err(IrError::parse(
                            loc,
                            format!(
                                "getelementptr `{name}` has {k} inputs; expected at most two (base and index)"
                            ),
                        ));
                    }
                }
            }
            Role::Icmp | Role::Fcmp | Role::Op { .. } => {
                let (arity, commutative) = match &roles[i] {
                    Role::Fcmp => {
                        let label = get(&g.nodes[i].attrs, &["label"]).map(|a| a.1.clone());
                        let Some(p) = label.as_deref().and_then(fpredicate) else {
                            return Err(IrError::parse(
                                loc,
                                format!(
                                    "fcmp `{name}` has label {:?}; expected the predicate (oeq, une, olt, ole, ogt, oge)",
                                    label.unwrap_or_default()
                                ),
                            ));
                        };
                        set_node(g, i, "opcode", "fcmp");
                        set_node(g, i, "predicate", p);
                        (2, matches!(p, "oeq" | "une"))
                    }
                    Role::Icmp => {
                        let label = get(&g.nodes[i].attrs, &["label"]).map(|a| a.1.clone());
                        let Some(p) = label.as_deref().and_then(predicate) else {
                            return Err(IrError::parse(
                                loc,
                                format!(
                                    "icmp `{name}` has label {:?}; expected the predicate (eq, ne, slt, sle, sgt, sge, ult, ule, ugt, uge)",
                                    label.unwrap_or_default()
                                ),
                            ));
                        };
                        set_node(g, i, "opcode", "icmp");
                        set_node(g, i, "predicate", p);
                        (2, matches!(p, "eq" | "ne"))
                    }
                    Role::Op {
                        opcode,
                        arity,
                        commutative,
                    } => {
                        set_node(g, i, "opcode", opcode);
                        (*arity, *commutative)
                    }
                    _ => unreachable!(),
                };
                if ins.len() > arity {
                    return Err(IrError::parse(
                        loc,
                        format!(
                            "`{name}` has {} inputs; expected at most {arity}",
                            ins.len()
                        ),
                    ));
                }
                for (s, &e) in ins.iter().enumerate() {
                    set(g, e, "operand", &s.to_string());
                }
                for s in ins.len()..arity {
                    fill(g, i, &format!("in{s}"), &s.to_string(), &mut filled);
                }
                if !commutative && ins.len() > 1 {
                    ordered.push(name.clone());
                }
            }
        }
    }
    for (src, phi) in live_outs {
        let loc = g.nodes[phi_index(g, &phi)].loc.clone();
        let o = g.add_node(format!("{phi}.out"), &[("opcode", "output")], &loc);
        g.add_edge(src, o, &[("operand", "0")], &loc);
    }
    if !latch_only.is_empty() {
        notes.push(format!(
            "{} phi(s) fed only by a loop `br` they do not reach: that input read as the back edge (distance 1): {}",
            latch_only.len(),
            latch_only.join(", ")
        ));
    }
    if !no_init.is_empty() {
        notes.push(format!(
            "{} phi(s) without an initial value start at 0: {}",
            no_init.len(),
            no_init.join(", ")
        ));
    }
    if !filled.is_empty() {
        notes.push(format!(
            "{} operand(s) the file leaves out (constants, base pointers, values from outside the loop) read as scalar inputs: {}",
            filled.len(),
            filled.join(", ")
        ));
    }
    if !ordered.is_empty() {
        notes.push(format!(
            "operands of non-commutative op(s) taken in file order (the dialect does not number operands): {}",
            ordered.join(", ")
        ));
    }
    if float_ops > 0 {
        notes.push(format!(
            "{float_ops} float op(s) read as IEEE 754 binary32 (f32; the dialect writes no types, so a kernel computed in double would round differently)"
        ));
    }
    notes.push(
        "addresses read as i32 element indices (byte address 4 x index + 2048; the file has no element sizes); `br` nodes pass their value on; the loop runs the trip count, not the exit test; every phi's loop-carried value is a live-out `<phi>.out`"
            .to_string(),
    );
    Ok(())
}

fn phi_index(g: &Graph, name: &str) -> usize {
    g.nodes.iter().position(|d| d.name == name).unwrap_or(0)
}
