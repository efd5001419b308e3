//! The SAT-MapIt DOT dialect, rewritten into the CGRA-ME form that the DOT importer builds
//! kernels from.
//!
//! SAT-MapIt's LLVM pass (`DFG/graph.cpp`, `printDot`) writes numeric node ids and:
//! - one node per loop instruction, `color=black`, labelled `<id>  <LLVM instruction>`
//!   (optionally followed by `\n` and the C source line), or a synthetic name for what its
//!   instruction selection added: a `getelementptr` becomes `add` (base + offset) and
//!   `offset` (index x constant);
//! - data edges, `color=red` when loop-carried (its distance is 0 or 1);
//! - constants `C_<value>` (`color=goldenrod1`), one node per use;
//! - live-ins `LiveInArg`, `LiveInInst`, `LiveInGVar`, `LiveInConst`, `LiveInConstBr`
//!   (`color=purple1`) and live-outs `LiveOut` (`color=dodgerblue1`).
//!
//! Operand order comes from the instruction text: each operand (`%name` or an integer) is
//! matched to the edge from the node that defines `%name`, to a constant edge of that
//! value, or to a live-in edge; synthetic nodes take their inputs in file order. A value
//! named in the text but absent from the file, and ISA-level nodes (`bsfa`, `bzfa`, ...)
//! are errors at the node.

use super::dot::{DEdge, Graph, float_error, get, is_unsupported_float_op};
use crate::error::IrError;

/// An edge of the rewritten graph: from, to, attributes, where the file wrote it.
type NewEdge = (usize, usize, Vec<(String, String)>, crate::error::SourceLoc);

/// Whether a label reads `<id> <LLVM instruction>` as SAT-MapIt writes it.
pub(super) fn is_instruction_label(label: &str) -> bool {
    let (id, text) = split_label(label);
    let w: Vec<&str> = text.split_whitespace().collect();
    !id.is_empty()
        && id.chars().all(|c| c.is_ascii_digit())
        && ((w.len() >= 3 && w[0].starts_with('%') && w[1] == "=") || w.first() == Some(&"store"))
}

/// `"<id>  <text>\n<source line>"` -> (id, text).
fn split_label(label: &str) -> (&str, &str) {
    let first = label.split("\\n").next().unwrap_or("");
    let first = first.split('\n').next().unwrap_or("").trim();
    match first.split_once(char::is_whitespace) {
        Some((id, rest)) => (id, rest.trim()),
        None => (first, ""),
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Op,
    Const(i64),
    LiveIn,
    LiveOut,
}

/// An operand of an instruction as its text writes it.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Name(String),
    Int(i64),
}

fn operand_token(part: &str) -> Option<Tok> {
    let last = part.split_whitespace().last()?;
    if let Some(n) = last.strip_prefix('%') {
        return Some(Tok::Name(n.to_string()));
    }
    match last {
        "true" => Some(Tok::Int(1)),
        "false" => Some(Tok::Int(0)),
        _ => last
            .parse::<i64>()
            .ok()
            .or_else(|| float_literal(last))
            .map(Tok::Int),
    }
}

/// An LLVM float constant as the binary32 bits a value word holds: decimal
/// (`1.000000e+00`) or LLVM's hexadecimal form, which for `float` is the 64-bit pattern of
/// the double of the same value (`0x3FF0000000000000`).
fn float_literal(t: &str) -> Option<i64> {
    let x = if let Some(h) = t.strip_prefix("0x") {
        if h.len() != 16 {
            return None;
        }
        f64::from_bits(u64::from_str_radix(h, 16).ok()?) as f32
    } else if t.contains(['.', 'e', 'E']) || t.contains("inf") || t.contains("nan") {
        t.parse::<f32>().ok()?
    } else {
        return None;
    };
    Some(x.to_bits() as i32 as i64)
}

/// Opcode, defined name and operands of an instruction text.
struct Inst {
    def: Option<String>,
    op: String,
    /// Predicate of an `icmp`.
    pred: Option<String>,
    ops: Vec<Tok>,
    /// `phi`: (value, from the loop) pairs are in `ops`; blocks are not kept.
    phi: bool,
    /// The value type of a load or store (`i8`, `i16`, `i32`, ...).
    ty: Option<String>,
}

fn parse_inst(text: &str) -> Option<Inst> {
    let (def, rest) = match text.split_once(" = ") {
        Some((d, r)) if d.trim().starts_with('%') => (Some(d.trim()[1..].to_string()), r.trim()),
        _ => (None, text.trim()),
    };
    let op = rest.split_whitespace().next()?.to_string();
    let body = rest[op.len()..].trim();
    // Drop metadata (`, !tbaa !6`) and alignment.
    let parts: Vec<&str> = body
        .split(',')
        .map(str::trim)
        .filter(|p| !p.starts_with('!') && !p.starts_with("align"))
        .collect();
    let mut inst = Inst {
        def,
        op: op.clone(),
        pred: None,
        ops: Vec::new(),
        phi: op == "phi",
        ty: None,
    };
    match op.as_str() {
        "phi" => {
            // phi i32 [ %a, %bb ], [ 0, %entry ]
            for seg in body.split('[').skip(1) {
                let v = seg.split(',').next()?.trim();
                inst.ops.push(operand_token(v)?);
            }
        }
        "icmp" | "fcmp" => {
            let mut w = body.split_whitespace();
            inst.pred = w.next().map(str::to_string);
            for p in &parts {
                inst.ops.push(operand_token(p)?);
            }
        }
        "load" => {
            inst.ty = parts.first().map(|t| t.to_string());
            inst.ops.push(operand_token(parts.get(1)?)?);
        }
        "store" => {
            inst.ty = parts.first()?.split_whitespace().next().map(str::to_string);
            inst.ops.push(operand_token(parts.first()?)?);
            inst.ops.push(operand_token(parts.get(1)?)?);
        }
        "sext" | "zext" | "trunc" | "bitcast" | "fptosi" | "sitofp" => {
            let before_to = body.split(" to ").next()?;
            inst.ops.push(operand_token(before_to)?);
        }
        "br" => {}
        _ => {
            for p in &parts {
                inst.ops.push(operand_token(p)?);
            }
        }
    }
    Some(inst)
}

/// The CGRA-ME opcode for an LLVM instruction name.
fn opcode(op: &str) -> Option<&'static str> {
    Some(match op {
        "add" => "add",
        "sub" => "sub",
        "mul" => "mul",
        "sdiv" => "sdiv",
        "udiv" => "udiv",
        "srem" => "srem",
        "urem" => "urem",
        "shl" => "shl",
        "lshr" => "lshr",
        "ashr" => "ashr",
        "and" => "and",
        "or" => "or",
        "xor" => "xor",
        "select" => "select",
        "icmp" => "icmp",
        "fadd" => "fadd",
        "fsub" => "fsub",
        "fmul" => "fmul",
        "fdiv" => "fdiv",
        "fneg" => "fneg",
        "fcmp" => "fcmp",
        "fptosi" => "fptosi",
        "sitofp" => "sitofp",
        "load" => "load",
        "store" => "store",
        "phi" => "phi",
        "sext" | "zext" | "trunc" | "bitcast" => "mov",
        _ => return None,
    })
}

/// Rewrite a SAT-MapIt graph into the CGRA-ME form (opcodes, operand numbers, distances).
pub(super) fn normalize(
    g: &mut Graph,
    _file: &str,
    notes: &mut Vec<String>,
) -> Result<(), IrError> {
    let n = g.nodes.len();
    let mut kinds = Vec::with_capacity(n);
    let mut texts: Vec<String> = Vec::with_capacity(n);
    for d in &g.nodes {
        let label = get(&d.attrs, &["label"])
            .map(|a| a.1.clone())
            .unwrap_or_default();
        let (_, text) = split_label(&label);
        let color = get(&d.attrs, &["color"]).map(|a| a.1.to_ascii_lowercase());
        let kind = if let Some(v) = text.strip_prefix("C_") {
            let v = v.trim().parse::<i64>().map_err(|_| {
                IrError::parse(
                    d.loc.clone(),
                    format!(
                        "constant node `{}` has label {label:?}; expected `<id> C_<integer>`",
                        d.name
                    ),
                )
            })?;
            Kind::Const(v)
        } else if text.starts_with("LiveIn") || color.as_deref() == Some("purple1") {
            Kind::LiveIn
        } else if text.starts_with("LiveOut") || color.as_deref() == Some("dodgerblue1") {
            Kind::LiveOut
        } else {
            Kind::Op
        };
        kinds.push(kind);
        texts.push(text.to_string());
    }
    let livein_const: Vec<bool> = (0..n)
        .map(|i| kinds[i] == Kind::LiveIn && texts[i].starts_with("LiveInConst"))
        .collect();
    let insts: Vec<Option<Inst>> = (0..n)
        .map(|i| {
            if kinds[i] == Kind::Op {
                parse_inst(&texts[i])
            } else {
                None
            }
        })
        .collect();
    // Which node defines each `%name`.
    let definer = |name: &str| {
        (0..n).find(|&i| insts[i].as_ref().and_then(|x| x.def.as_deref()) == Some(name))
    };
    let old: Vec<DEdge> = std::mem::take(&mut g.edges);
    let mut incoming: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (e, ed) in old.iter().enumerate() {
        incoming[ed.to].push(e);
    }
    let red =
        |e: &DEdge| get(&e.attrs, &["color"]).is_some_and(|c| c.1.eq_ignore_ascii_case("red"));
    let mut new_edges: Vec<NewEdge> = Vec::new();
    let mut live_in_names: Vec<(usize, String)> = Vec::new();
    let mut consts_made = 0usize;
    let mut narrow_loads: Vec<String> = Vec::new();
    let mut narrow_ops: Vec<String> = Vec::new();
    let mut extra_consts: Vec<(usize, i64)> = Vec::new();
    let set_op = |g: &mut Graph, i: usize, k: &str, v: &str| {
        let loc = g.nodes[i].loc.clone();
        g.nodes[i].attrs.push((k.to_string(), v.to_string(), loc));
    };
    for i in 0..n {
        let loc = g.nodes[i].loc.clone();
        let name = g.nodes[i].name.clone();
        match kinds[i] {
            Kind::Const(v) => {
                set_op(g, i, "opcode", "const");
                set_op(g, i, "constVal", &v.to_string());
                continue;
            }
            Kind::LiveIn => {
                set_op(g, i, "opcode", "input");
                continue;
            }
            Kind::LiveOut => {
                set_op(g, i, "opcode", "output");
                g.nodes[i].name = format!("LiveOut{name}");
                for &e in &incoming[i] {
                    new_edges.push((
                        old[e].from,
                        i,
                        vec![("operand".into(), "0".into())],
                        old[e].loc.clone(),
                    ));
                }
                continue;
            }
            Kind::Op => {}
        }
        let text = &texts[i];
        let mut unused: Vec<usize> = incoming[i].clone();
        let take = |unused: &mut Vec<usize>, pred: &dyn Fn(usize) -> bool| -> Option<usize> {
            let p = unused.iter().position(|&e| pred(e))?;
            Some(unused.remove(p))
        };
        let edge_attrs = |e: usize, slot: usize| {
            let mut a = vec![("operand".to_string(), slot.to_string())];
            if red(&old[e]) {
                a.push(("dist".to_string(), "1".to_string()));
            }
            a
        };
        let op_word = text
            .split_once(" = ")
            .map_or(text.as_str(), |x| x.1)
            .split_whitespace()
            .next()
            .unwrap_or("");
        if is_unsupported_float_op(op_word) {
            return Err(float_error(&loc, op_word, &name));
        }
        if text
            .split([' ', ',', '*'])
            .any(|w| matches!(w, "double" | "half" | "fp128" | "x86_fp80"))
        {
            return Err(IrError::UnsupportedOp {
                loc,
                op: op_word.to_string(),
                hint: format!(
                    " (node `{name}`, SAT-MapIt DOT: {text:?}): only 32-bit `float` values are supported (IEEE binary32), not double or other float widths"
                ),
            });
        }
        match &insts[i] {
            Some(inst) => {
                if inst.op == "br" {
                    // The loop's exit branch: the trip count runs the loop; keep the
                    // condition as an ordering edge.
                    set_op(g, i, "opcode", "mov");
                    let Some(&e) = incoming[i].first() else {
                        return Err(IrError::parse(
                            loc,
                            format!("br node `{name}` has no input"),
                        ));
                    };
                    new_edges.push((
                        old[e].from,
                        i,
                        vec![("operand".into(), "0".into())],
                        old[e].loc.clone(),
                    ));
                    continue;
                }
                let Some(op) = opcode(&inst.op) else {
                    return Err(IrError::UnsupportedOp {
                        loc,
                        op: inst.op.clone(),
                        hint: format!(
                            " (node `{name}`, SAT-MapIt DOT: {text:?}); see docs/file-formats.md"
                        ),
                    });
                };
                let op = match (op, inst.ty.as_deref()) {
                    ("load", Some("i8")) => "loadbu",
                    ("load", Some("i16")) => "loadhu",
                    ("store", Some("i8")) => "storeb",
                    ("store", Some("i16")) => "storeh",
                    (op, _) => op,
                };
                if matches!(op, "loadbu" | "loadhu") {
                    narrow_loads.push(name.clone());
                }
                if !op.starts_with("load")
                    && !op.starts_with("store")
                    && text.split([' ', ',']).any(|w| w == "i8" || w == "i16")
                {
                    narrow_ops.push(name.clone());
                }
                set_op(g, i, "opcode", op);
                if let Some(p) = &inst.pred {
                    set_op(g, i, "predicate", p);
                }
                // Pass 1: names a node defines, and integers; pass 2: names no node
                // defines (a value the pass renamed: a lowered getelementptr, a removed
                // cast) from the edges left, then from live-ins.
                let mut found: Vec<Option<usize>> = vec![None; inst.ops.len()];
                for (slot, tok) in inst.ops.iter().enumerate() {
                    found[slot] = match tok {
                        Tok::Name(nm) => {
                            definer(nm).and_then(|d| take(&mut unused, &|e| old[e].from == d))
                        }
                        Tok::Int(v) => {
                            take(&mut unused, &|e| kinds[old[e].from] == Kind::Const(*v)).or_else(
                                || {
                                    // A big constant or an exit bound: SAT-MapIt gives it a
                                    // `LiveInConst` / `LiveInConstBr` node; the text has the value.
                                    take(&mut unused, &|e| livein_const[old[e].from]).inspect(
                                        |&e| {
                                            extra_consts.push((old[e].from, *v));
                                        },
                                    )
                                },
                            )
                        }
                    };
                }
                for (slot, tok) in inst.ops.iter().enumerate() {
                    if let (None, Tok::Name(nm)) = (found[slot], tok)
                        && definer(nm).is_none()
                    {
                        found[slot] = take(&mut unused, &|e| kinds[old[e].from] == Kind::Op)
                            .or_else(|| {
                                take(&mut unused, &|e| {
                                    kinds[old[e].from] == Kind::LiveIn && !livein_const[old[e].from]
                                })
                                .or_else(|| {
                                    take(&mut unused, &|e| kinds[old[e].from] == Kind::LiveIn)
                                })
                                .inspect(|&e| {
                                    live_in_names.push((old[e].from, format!("%{nm}")));
                                })
                            });
                    }
                }
                for (slot, tok) in inst.ops.iter().enumerate() {
                    let slot_name = if inst.phi {
                        "any2input".to_string()
                    } else {
                        slot.to_string()
                    };
                    let found = found[slot];
                    match (found, tok) {
                        (Some(e), _) => {
                            let mut a = edge_attrs(e, slot);
                            a[0].1 = slot_name;
                            new_edges.push((old[e].from, i, a, old[e].loc.clone()));
                        }
                        (None, Tok::Int(v)) => {
                            let c = g.add_node(
                                format!("{name}.c{slot}"),
                                &[("opcode", "const"), ("constVal", &v.to_string())],
                                &loc,
                            );
                            consts_made += 1;
                            new_edges.push((
                                c,
                                i,
                                vec![("operand".into(), slot_name)],
                                loc.clone(),
                            ));
                        }
                        (None, Tok::Name(nm)) => {
                            return Err(IrError::parse(
                                loc,
                                format!(
                                    "node `{name}` ({text:?}) uses `%{nm}`, which no edge into it brings (no node defines it, no live-in edge is left)"
                                ),
                            ));
                        }
                    }
                }
                if let Some(&e) = unused.first() {
                    return Err(IrError::parse(
                        old[e].loc.clone(),
                        format!(
                            "edge {} -> {name} matches no operand of {text:?}",
                            g.nodes[old[e].from].name
                        ),
                    ));
                }
            }
            None => {
                // A node SAT-MapIt's instruction selection added: `add` (base + offset),
                // `offset` (index x element size); inputs in file order.
                if text.contains(" = ") || text.starts_with("store ") {
                    return Err(IrError::parse(
                        loc,
                        format!(
                            "node `{name}`: cannot read the LLVM instruction {text:?} (expected `%x = <op> <type> <operands>` or `store <type> <value>, <type> <pointer>`)"
                        ),
                    ));
                }
                let op = match text.as_str() {
                    "add" => "add",
                    "offset" | "mul" => "mul",
                    "sub" => "sub",
                    other => {
                        return Err(IrError::UnsupportedOp {
                            loc,
                            op: other.to_string(),
                            hint: format!(
                                " (node `{name}`): an op of SAT-MapIt's target ISA, not an LLVM instruction; Tessera reads LLVM-level SAT-MapIt DFGs"
                            ),
                        });
                    }
                };
                set_op(g, i, "opcode", op);
                for (slot, &e) in incoming[i].iter().enumerate() {
                    new_edges.push((old[e].from, i, edge_attrs(e, slot), old[e].loc.clone()));
                }
            }
        }
    }
    for (i, v) in &extra_consts {
        g.nodes[*i].attrs.retain(|a| a.0 != "opcode");
        let loc = g.nodes[*i].loc.clone();
        g.nodes[*i]
            .attrs
            .push(("opcode".into(), "const".into(), loc.clone()));
        g.nodes[*i]
            .attrs
            .push(("constVal".into(), v.to_string(), loc));
    }
    for (i, nm) in &live_in_names {
        g.nodes[*i].name = nm.clone();
    }
    for (from, to, attrs, loc) in new_edges {
        let a: Vec<(&str, &str)> = attrs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        g.add_edge(from, to, &a, &loc);
    }
    if !narrow_loads.is_empty() {
        notes.push(format!(
            "i8 / i16 loads zero-extended (SAT-MapIt removes the cast that said sext or zext): {}",
            narrow_loads.join(", ")
        ));
    }
    if !narrow_ops.is_empty() {
        notes.push(format!(
            "i8 / i16 arithmetic computed on 32-bit values (results differ from LLVM's where they wrap): {}",
            narrow_ops.join(", ")
        ));
    }
    notes.push(format!(
        "operands matched to edges by the LLVM instruction text; red edges are loop-carried (distance 1); {} constant(s) taken from the text{}",
        consts_made + extra_consts.len(),
        if live_in_names.is_empty() { String::new() } else { "; live-ins named after the LLVM values they carry".into() }
    ));
    Ok(())
}
