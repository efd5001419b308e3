//! Morpher XML DFG importer.
//!
//! Morpher (ecolab-nus/Morpher_DFG_Generator) writes one innermost loop as
//! `<DFG count=N>` with `<Node idx ASAP ALAP BB CONST>` elements, each holding `<OP>`,
//! optional `<BasePointerName size=B>name</BasePointerName>` and `<GEPOffset>`, `<Inputs>`
//! and `<Outputs>` (`<Output idx nextiter type NPB>`). The edge list is taken from the
//! `<Outputs>` (they carry the operand type); `<Inputs>` are checked for dangling indices.
//!
//! Semantics follow Morpher's HyCUBE simulator (`CGRATile::execute`) and its DFG generator:
//! operand 1 is the `I1` input, operand 2 the `I2` input or, when the node has a `CONST`,
//! the constant; `P` inputs predicate the node (`NPB="1"` negates), `PS` edges are pseudo
//! (ordering-only) edges. The full table with every op, the treatment of the constant, of
//! several producers on one operand port, of missing operands (values that Morpher moved out
//! of the loop become scalar live-ins) and the memory image is in `docs/file-formats.md`.
//!
//! Every Morpher node becomes one IR node labelled `OP#idx` (its original op name and
//! index), so the op histogram of a file can be recovered from the kernel. Helper nodes that
//! an exact translation needs (a merge of several producers on one port, an explicit
//! constant, the partial sums of a 3-input address add) are labelled `~what#idx`.

use super::xml::{self, Element};
use crate::error::{IrError, SourceLoc};
use crate::kernel::{
    ArrayDecl, ArrayDir, Kernel, KernelSource, Node, NodeId, Operand, ScalarDecl, Slot,
};
use crate::op::{Op, Width};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Choices the Morpher format leaves open: trip count and the memory image.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportOptions {
    /// Iterations the interpreter runs. Morpher DFGs carry their exit test inside the graph
    /// (a `STOREB` of 1 to the loop-end flag), not a trip count; 32 is an assumed default that
    /// is long enough to pass the warm-up of every loop-carried chain and short enough for
    /// tests.
    pub trip_count: u32,
    /// Bytes of extra memory after the highest address the file names, so that address
    /// streams that run past their declared array for `trip_count` iterations stay inside
    /// the image (assumed default, 16 KiB: 32 iterations x the largest row stride seen in
    /// the corpus, 400 bytes, fits with room to spare).
    pub tail_bytes: u32,
    /// Bytes of each private region given to a base pointer that Morpher moved out of the
    /// loop (a load or store with no address operand and no constant address).
    pub pointer_region_bytes: u32,
    /// Random values that feed address arithmetic (array contents read by loads whose value
    /// reaches an address, and scalar live-ins that do) are drawn from `0..=index_range_max`,
    /// so that random inputs keep addresses inside the image (assumed default 15).
    pub index_range_max: i32,
    /// Range of the other scalar live-ins (assumed default: the 16-bit range, the data width
    /// of most of these DSP kernels).
    pub scalar_range: (i32, i32),
    /// Bytes of a `LOAD`/`STORE` (Morpher's "word"): 4, or 2 for Morpher's 16-bit HyCUBE
    /// (`ARCHI_16BIT` in its simulator). `None` picks 2 when the file path contains `16bit`
    /// (the corpus keeps those DFGs in a `16bit_manual_xmls_and_arch` folder), else 4.
    pub word_bytes: Option<u32>,
    /// Every address the file states (static array bases on address adds, constant
    /// addresses of memory ops) moves up by this many bytes, leaving a guard band below the
    /// lowest array so that small negative offsets (`a[i - 1]` with `i = 0`) stay inside the
    /// image. Assumed default 4096 bytes.
    pub relocate_bytes: u32,
    /// Add order edges between memory accesses that may touch a common byte (within an
    /// iteration and from one iteration to the next), so that schedules keep the
    /// interpreter's order of conflicting accesses. On by default; off only to study the
    /// DFG as Morpher wrote it (its mapper assumes no loop-carried memory dependences).
    pub memory_order: bool,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            trip_count: 32,
            tail_bytes: 16 * 1024,
            pointer_region_bytes: 1024,
            index_range_max: 15,
            scalar_range: (i16::MIN as i32, i16::MAX as i32),
            word_bytes: None,
            relocate_bytes: 4096,
            memory_order: true,
        }
    }
}

/// Every Morpher op this importer gives semantics to (all ops of the corpus).
pub const SUPPORTED_OPS: [&str; 29] = [
    "ADD", "SUB", "MUL", "DIV", "LS", "RS", "ARS", "AND", "OR", "XOR", "CMP", "CLT", "CGT", "SEXT",
    "SELECT", "CMERGE", "MOVC", "LOAD", "LOADH", "LOADB", "STORE", "STOREH", "STOREB", "OLOAD",
    "OLOADH", "OLOADB", "OSTORE", "OSTOREH", "OSTOREB",
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Binary(Op),
    /// Commutative and associative: Morpher's address adds take up to three inputs plus the
    /// constant; all of them are combined.
    Nary(Op),
    Sext,
    Select,
    CMerge,
    Movc,
    Load(Width),
    Store(Width),
}

fn kind_of(op: &str) -> Option<Kind> {
    use Kind::*;
    Some(match op {
        "ADD" => Nary(Op::Add),
        "MUL" => Nary(Op::Mul),
        "AND" => Nary(Op::And),
        "OR" => Nary(Op::Or),
        "XOR" => Nary(Op::Xor),
        "SUB" => Binary(Op::Sub),
        "DIV" => Binary(Op::Div),
        "LS" => Binary(Op::Shl),
        "RS" => Binary(Op::Lshr),
        "ARS" => Binary(Op::Ashr),
        "CMP" => Binary(Op::Eq),
        "CLT" => Binary(Op::Lt),
        "CGT" => Binary(Op::Gt),
        "SEXT" => Sext,
        "SELECT" => Select,
        "CMERGE" => CMerge,
        "MOVC" => Movc,
        "LOAD" | "OLOAD" => Load(Width::Word),
        "LOADH" | "OLOADH" => Load(Width::Half),
        "LOADB" | "OLOADB" => Load(Width::Byte),
        "STORE" | "OSTORE" => Store(Width::Word),
        "STOREH" | "OSTOREH" => Store(Width::Half),
        "STOREB" | "OSTOREB" => Store(Width::Byte),
        _ => return None,
    })
}

/// The Morpher op name a node was imported from (from its label `OP#idx`), or `None` for
/// helper nodes and nodes of other front ends.
pub fn morpher_op_of(node: &Node) -> Option<&str> {
    let (op, idx) = node.label.split_once('#')?;
    if op.starts_with('~') || idx.parse::<i64>().is_err() {
        return None;
    }
    Some(op)
}

#[derive(Debug, Clone)]
struct MNode {
    idx: i64,
    op: String,
    kind: Kind,
    cnst: Option<i32>,
    base_ptr: Option<(String, u32)>,
    gep_offset: Option<i64>,
    asap: Option<i64>,
    loc: SourceLoc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Port {
    I1,
    I2,
    I3,
    P,
    Ps,
}

#[derive(Debug, Clone)]
struct MEdge {
    src: usize,
    dst: usize,
    nextiter: Option<u32>,
    port: Option<Port>,
    negated: bool,
}

fn loc_of(file: &str, e: &Element) -> SourceLoc {
    SourceLoc::new(file, e.line, e.col)
}

fn int_attr(file: &str, el: &Element, name: &str) -> Result<Option<i64>, IrError> {
    match el.attr(name) {
        None => Ok(None),
        Some(a) => a.value.trim().parse::<i64>().map(Some).map_err(|_| {
            IrError::parse(
                SourceLoc::new(file, a.line, a.col),
                format!(
                    "attribute `{name}` of `<{}>` is `{}`; expected an integer",
                    el.name, a.value
                ),
            )
        }),
    }
}

fn to_i32(file: &str, el: &Element, name: &str, v: i64) -> Result<i32, IrError> {
    // Morpher writes some constants as unsigned 32-bit values (masks such as 4294967295).
    if v >= i32::MIN as i64 && v <= u32::MAX as i64 {
        Ok(v as u32 as i32)
    } else {
        Err(IrError::parse(
            loc_of(file, el),
            format!("attribute `{name}` = {v} does not fit in 32 bits"),
        ))
    }
}

fn read_nodes(doc: &Element, file: &str) -> Result<(Vec<MNode>, Vec<MEdge>), IrError> {
    let Some(dfg) = doc.child("DFG") else {
        let roots: Vec<String> = doc
            .children
            .iter()
            .map(|c| format!("<{}>", c.name))
            .collect();
        let hint = if doc.child("TILE").is_some() {
            " (this looks like a Morpher architecture description, not a DFG)"
        } else {
            ""
        };
        return Err(IrError::parse(
            SourceLoc::new(file, 1, 0),
            format!(
                "no `<DFG>` element; found top-level {}{hint}; expected a Morpher DFG (`<MutexBB>` and `<DFG count=..>` with `<Node>` elements)",
                if roots.is_empty() {
                    "nothing".to_string()
                } else {
                    roots.join(", ")
                }
            ),
        ));
    };
    let node_els: Vec<&Element> = dfg.children_named("Node").collect();
    if let Some(count) = int_attr(file, dfg, "count")?
        && count != node_els.len() as i64
    {
        return Err(IrError::parse(
            loc_of(file, dfg),
            format!(
                "`<DFG count=\"{count}\">` but the file has {} `<Node>` elements",
                node_els.len()
            ),
        ));
    }
    let mut nodes = Vec::with_capacity(node_els.len());
    let mut by_idx: HashMap<i64, Vec<usize>> = HashMap::new();
    for el in &node_els {
        let loc = loc_of(file, el);
        let idx = int_attr(file, el, "idx")?.ok_or_else(|| {
            IrError::parse(
                loc.clone(),
                "`<Node>` without an `idx` attribute; expected idx=\"<integer>\"",
            )
        })?;
        let op_el = el.child("OP").ok_or_else(|| {
            IrError::parse(loc.clone(), format!("node {idx} has no `<OP>` element"))
        })?;
        let op = op_el.text.trim().to_string();
        let op_loc = loc_of(file, op_el);
        if op.is_empty() {
            return Err(IrError::parse(
                op_loc,
                format!("node {idx} has an empty `<OP>`; expected an op name"),
            ));
        }
        let kind = kind_of(&op).ok_or_else(|| IrError::UnsupportedOp {
            loc: op_loc.clone(),
            op: op.clone(),
            hint: format!(
                " (Morpher node {idx}); supported Morpher ops: {}",
                SUPPORTED_OPS.join(", ")
            ),
        })?;
        let cnst = match int_attr(file, el, "CONST")? {
            Some(v) => Some(to_i32(file, el, "CONST", v)?),
            None => None,
        };
        let base_ptr = match el.child("BasePointerName") {
            Some(b) => {
                let size = int_attr(file, b, "size")?.unwrap_or(0);
                if !(0..=(1 << 24)).contains(&size) {
                    return Err(IrError::parse(
                        loc_of(file, b),
                        format!(
                            "BasePointerName size {size} is out of range; expected 0..=16777216 bytes"
                        ),
                    ));
                }
                Some((b.text.trim().to_string(), size as u32))
            }
            None => None,
        };
        let gep_offset = match el.child("GEPOffset") {
            Some(g) => Some(g.text.trim().parse::<i64>().map_err(|_| {
                IrError::parse(
                    loc_of(file, g),
                    format!("`<GEPOffset>` is `{}`; expected an integer", g.text.trim()),
                )
            })?),
            None => None,
        };
        // Some corpus files give two nodes the same idx; edges are resolved below.
        by_idx.entry(idx).or_default().push(nodes.len());
        nodes.push(MNode {
            idx,
            op,
            kind,
            cnst,
            base_ptr,
            gep_offset,
            asap: int_attr(file, el, "ASAP")?,
            loc,
        });
    }
    // The producers each node lists in <Inputs> (to pick among nodes sharing an idx).
    let mut listed_inputs: Vec<BTreeSet<i64>> = vec![BTreeSet::new(); nodes.len()];
    let mut edges = Vec::new();
    for (i, el) in node_els.iter().enumerate() {
        let idx = nodes[i].idx;
        if let Some(inputs) = el.child("Inputs") {
            for inp in inputs.children_named("Input") {
                let at = loc_of(file, inp);
                let src = int_attr(file, inp, "idx")?.ok_or_else(|| {
                    IrError::parse(at.clone(), format!("`<Input>` of node {idx} without `idx`"))
                })?;
                if !by_idx.contains_key(&src) {
                    return Err(IrError::parse(
                        at,
                        format!(
                            "node {idx} lists input idx {src}, but there is no node {src} (dangling edge)"
                        ),
                    ));
                }
                listed_inputs[i].insert(src);
            }
        }
    }
    for (i, el) in node_els.iter().enumerate() {
        let idx = nodes[i].idx;
        let Some(outputs) = el.child("Outputs") else {
            continue;
        };
        for out in outputs.children_named("Output") {
            let at = loc_of(file, out);
            let dst_idx = int_attr(file, out, "idx")?.ok_or_else(|| {
                IrError::parse(
                    at.clone(),
                    format!("`<Output>` of node {idx} without `idx`"),
                )
            })?;
            let Some(cands) = by_idx.get(&dst_idx) else {
                return Err(IrError::parse(
                    at,
                    format!(
                        "node {idx} has an output to idx {dst_idx}, but there is no node {dst_idx} (dangling edge)"
                    ),
                ));
            };
            // With a duplicated idx, the consumer is the one whose <Inputs> lists this
            // producer; failing that the first (Morpher's own `findNode` rule).
            let dst = cands
                .iter()
                .copied()
                .find(|&c| listed_inputs[c].contains(&idx))
                .unwrap_or(cands[0]);
            let nextiter = match int_attr(file, out, "nextiter")? {
                None => None,
                Some(v @ (0 | 1)) => Some(v as u32),
                Some(v) => {
                    return Err(IrError::parse(
                        at,
                        format!("output {idx} -> {dst_idx} has nextiter=\"{v}\"; expected 0 or 1"),
                    ));
                }
            };
            let port = match out.attr("type").map(|a| a.value.as_str()) {
                None => None,
                Some("I1") => Some(Port::I1),
                Some("I2") => Some(Port::I2),
                Some("I3") => Some(Port::I3),
                Some("P") => Some(Port::P),
                Some("PS") => Some(Port::Ps),
                Some(other) => {
                    return Err(IrError::parse(
                        at,
                        format!(
                            "output {idx} -> {dst_idx} has type=\"{other}\"; expected I1, I2, I3, P or PS"
                        ),
                    ));
                }
            };
            let negated = match out.attr("NPB").map(|a| a.value.trim()) {
                None | Some("0") => false,
                Some("1") => true,
                Some(other) => {
                    return Err(IrError::parse(
                        at,
                        format!("NPB=\"{other}\"; expected 0 or 1"),
                    ));
                }
            };
            edges.push(MEdge {
                src: i,
                dst,
                nextiter,
                port,
                negated,
            });
        }
    }
    Ok((nodes, edges))
}

/// A value source: a node and the iteration distance at which it is read.
type Src = (NodeId, u32);

/// One operand of a node before it is wired: a node, the node's constant, or nothing (a
/// value from outside the loop, which becomes a scalar live-in).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Val {
    Node(Src),
    Const(i32),
}

struct Builder<'a> {
    k: Kernel,
    main: Vec<NodeId>,
    nodes: &'a [MNode],
    /// Scalars that stand for a base pointer, with the node they serve.
    pointer_scalars: Vec<u16>,
    first_flag: Option<NodeId>,
}

impl Builder<'_> {
    fn aux(&mut self, op: Op, what: &str, i: usize) -> NodeId {
        let label = format!("~{what}#{}", self.nodes[i].idx);
        self.k.add_node(Node::new(op).with_label(label))
    }

    fn aux_const(&mut self, v: i32, i: usize) -> Src {
        let label = format!("~const#{}", self.nodes[i].idx);
        (
            self.k
                .add_node(Node::new(Op::Const).with_imm(v).with_label(label)),
            0,
        )
    }

    fn live_in(&mut self, i: usize, slot: &str, pointer: bool) -> Src {
        let n = &self.nodes[i];
        let name = format!("n{}_{}_{}", n.idx, n.op.to_lowercase(), slot);
        let s = self.k.scalars.len() as u16;
        self.k.scalars.push(ScalarDecl {
            name: name.clone(),
            default: 0,
            random_range: None,
            elem: Default::default(),
        });
        if pointer {
            self.pointer_scalars.push(s);
        }
        let id = self
            .k
            .add_node(Node::new(Op::Input(s)).with_label(format!("~livein#{}", n.idx)));
        (id, 0)
    }

    /// A scalar live-in that is valid in the first iteration only (predicated on a
    /// first-iteration flag: a `Move` of `Const 0` read one iteration back with init 1).
    fn first_iteration_live_in(&mut self, i: usize) -> Src {
        let flag = match self.first_flag {
            Some(f) => f,
            None => {
                let zero = self
                    .k
                    .add_node(Node::new(Op::Const).with_imm(0).with_label("~zero#first"));
                let f = self
                    .k
                    .add_node(Node::new(Op::Move).with_label("~first_iteration#flag"));
                self.k.add_edge(zero, f, Operand::carried(0, 1, 1));
                self.first_flag = Some(f);
                f
            }
        };
        let s = self.live_in(i, "init", false);
        self.wire((flag, 0), s.0, Slot::Pred { negated: false });
        s
    }

    fn wire(&mut self, from: Src, to: NodeId, slot: Slot) {
        self.k.add_edge(
            from.0,
            to,
            Operand {
                slot,
                distance: from.1,
                init: 0,
            },
        );
    }

    /// One value from several producers on the same port (Morpher connects every incoming
    /// value of an eliminated phi straight to the port; at most one of them is valid in an
    /// iteration): a `Merge` that passes the valid one. Same-iteration producers come first,
    /// because a loop-carried producer has no value in HyCUBE before the first iteration.
    fn merge_of(&mut self, mut srcs: Vec<Src>, i: usize, what: &str) -> Option<Src> {
        srcs.sort_by_key(|s| s.1.min(1));
        match srcs.len() {
            0 => None,
            1 => Some(srcs[0]),
            _ => Some((self.merge_node(srcs, i, what, None), 0)),
        }
    }

    /// A `Merge` over `srcs` (at most 8 per node; longer lists chain). When `into` is given,
    /// that node becomes the (final) merge.
    fn merge_node(&mut self, srcs: Vec<Src>, i: usize, what: &str, into: Option<NodeId>) -> NodeId {
        let mut srcs = srcs;
        while srcs.len() > 8 {
            let tail: Vec<Src> = srcs.split_off(7);
            let t = self.merge_node(tail, i, what, None);
            srcs.push((t, 0));
        }
        let m = match into {
            Some(id) => {
                self.k.graph[id].op = Op::Merge;
                id
            }
            None => self.aux(Op::Merge, what, i),
        };
        for (n, s) in srcs.into_iter().enumerate() {
            self.wire(s, m, Slot::Data(n as u8));
        }
        m
    }

    fn materialize(&mut self, v: Val, i: usize) -> Src {
        match v {
            Val::Node(s) => s,
            Val::Const(c) => self.aux_const(c, i),
        }
    }

    /// Set the main node to `op` with operands `vals` in order; a constant in last position
    /// becomes the immediate, constants elsewhere become helper `Const` nodes.
    fn set_op(&mut self, i: usize, op: Op, vals: &[Val]) {
        let id = self.main[i];
        self.k.graph[id].op = op;
        let n = vals.len();
        for (s, v) in vals.iter().enumerate() {
            match *v {
                Val::Const(c) if s + 1 == n => self.k.graph[id].imm = Some(c),
                v => {
                    let src = self.materialize(v, i);
                    self.wire(src, id, Slot::Data(s as u8));
                }
            }
        }
    }
}

struct Incoming {
    i1: Vec<Src>,
    i2: Vec<Src>,
    i3: Vec<Src>,
    p: Vec<(Src, bool)>,
    ps: Vec<Src>,
}

/// Import a Morpher DFG with the default [`ImportOptions`]; `file` names it in errors.
pub fn import_str(text: &str, file: &str) -> Result<Kernel, IrError> {
    import_str_with(text, file, &ImportOptions::default())
}

/// Import a Morpher DFG with explicit options.
pub fn import_str_with(text: &str, file: &str, opts: &ImportOptions) -> Result<Kernel, IrError> {
    let doc = xml::parse(text, file)?;
    let (mut nodes, edges) = read_nodes(&doc, file)?;
    let word_bytes = opts
        .word_bytes
        .unwrap_or(if file.contains("16bit") { 2 } else { 4 });
    if word_bytes == 2 {
        for n in nodes.iter_mut() {
            n.kind = match n.kind {
                Kind::Load(Width::Word) => Kind::Load(Width::Half),
                Kind::Store(Width::Word) => Kind::Store(Width::Half),
                k => k,
            };
        }
    }
    i1_constants(&mut nodes, &edges);
    relocate(&mut nodes, &edges, opts.relocate_bytes);
    let extra_regions = assign_unassigned_bases(&mut nodes, &edges, opts);
    let name = std::path::Path::new(file)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("morpher")
        .to_string();
    let mut k = Kernel::new(name, KernelSource::MorpherXml);
    k.file = Some(file.to_string());
    k.trip_count = opts.trip_count;
    // Main nodes first, in file order, so program order of memory ops is file order.
    let main: Vec<NodeId> = nodes
        .iter()
        .map(|n| k.add_node(Node::new(Op::Move).with_label(format!("{}#{}", n.op, n.idx))))
        .collect();
    let mut b = Builder {
        k,
        main,
        nodes: &nodes,
        pointer_scalars: Vec::new(),
        first_flag: None,
    };

    // Group incoming edges per node and port.
    let mut inc: Vec<Incoming> = (0..nodes.len())
        .map(|_| Incoming {
            i1: Vec::new(),
            i2: Vec::new(),
            i3: Vec::new(),
            p: Vec::new(),
            ps: Vec::new(),
        })
        .collect();
    let typed_i1: BTreeSet<usize> = edges
        .iter()
        .filter(|e| e.port == Some(Port::I1))
        .map(|e| e.dst)
        .collect();
    for e in &edges {
        // Old files have no `nextiter`; Morpher's own mapper then treats an edge whose
        // producer is not scheduled earlier (ASAP) than its consumer as the back edge.
        let distance = match e.nextiter {
            Some(d) => d,
            None => match (nodes[e.src].asap, nodes[e.dst].asap) {
                (Some(a), Some(b)) if a >= b => 1,
                _ => 0,
            },
        };
        let src = (b.main[e.src], distance);
        // An output without `type` (one truncated corpus file) feeds I1 unless a typed edge
        // already does, then I2.
        let port = e.port.unwrap_or(if typed_i1.contains(&e.dst) {
            Port::I2
        } else {
            Port::I1
        });
        let g = &mut inc[e.dst];
        match port {
            Port::I1 => g.i1.push(src),
            Port::I2 => g.i2.push(src),
            Port::I3 => g.i3.push(src),
            Port::P => g.p.push((src, e.negated)),
            Port::Ps => g.ps.push(src),
        }
    }

    for (i, n) in nodes.iter().enumerate() {
        let id = b.main[i];
        let g = &inc[i];
        // Predicate.
        match g.p.len() {
            0 => {}
            1 => {
                let (s, negated) = g.p[0];
                b.wire(s, id, Slot::Pred { negated });
            }
            _ => {
                // Several predicate producers: the node runs when any of them holds (each
                // with its own NPB). Each becomes a `Const 1` predicated on it; a merge of
                // those is 1 when one holds and 0 (a squashed value) otherwise.
                let mut holds = Vec::new();
                for &(s, negated) in &g.p {
                    let h = b.aux(Op::Const, "pred", i);
                    b.k.graph[h].imm = Some(1);
                    b.wire(s, h, Slot::Pred { negated });
                    holds.push((h, 0));
                }
                let m = b.merge_node(holds, i, "anypred", None);
                b.wire((m, 0), id, Slot::Pred { negated: false });
            }
        }
        for &s in &g.ps {
            b.wire(s, id, Slot::Order);
        }
        let i1 = b.merge_of(g.i1.clone(), i, "phi1");
        let i2 = b.merge_of(g.i2.clone(), i, "phi2");
        let i3 = b.merge_of(g.i3.clone(), i, "phi3");
        let mut cnst = n.cnst;
        let order_only = |b: &mut Builder, srcs: &[Src]| {
            for &s in srcs {
                b.wire(s, id, Slot::Order);
            }
        };
        match n.kind {
            Kind::Binary(op) => {
                if i3.is_some() {
                    return Err(IrError::parse(
                        n.loc.clone(),
                        format!(
                            "node {} (`{}`) has an I3 input; only ADD, MUL, AND, OR and XOR take three",
                            n.idx, n.op
                        ),
                    ));
                }
                if i1.is_some() && i2.is_some() && cnst.is_some() {
                    return Err(IrError::parse(
                        n.loc.clone(),
                        format!(
                            "node {} (`{}`) has I1, I2 and a CONST; expected at most two operands",
                            n.idx, n.op
                        ),
                    ));
                }
                let a = fill(&mut b, i1, &mut cnst, i, "i1", false);
                let c = fill(&mut b, i2, &mut cnst, i, "i2", false);
                b.set_op(i, op, &[a, c]);
            }
            Kind::Nary(op) => {
                let a = fill(&mut b, i1, &mut cnst, i, "i1", false);
                let c = fill(&mut b, i2, &mut cnst, i, "i2", false);
                let mut vals: Vec<Val> = vec![a, c];
                if let Some(s) = i3 {
                    vals.push(Val::Node(s));
                }
                if let Some(cv) = cnst.take() {
                    vals.push(Val::Const(cv));
                }
                // Keep the constant last (it becomes the immediate); the op is commutative.
                vals.sort_by_key(|v| matches!(v, Val::Const(_)));
                while vals.len() > 2 {
                    let x = b.materialize(vals.remove(0), i);
                    let y = b.materialize(vals.remove(0), i);
                    let t = b.aux(op, "sum", i);
                    b.wire(x, t, Slot::Data(0));
                    b.wire(y, t, Slot::Data(1));
                    vals.insert(0, Val::Node((t, 0)));
                }
                b.set_op(i, op, &vals);
            }
            Kind::Sext => {
                let a = fill_node(&mut b, i1, i, "i1");
                let op = match n.cnst {
                    // Morpher encodes (source bytes << 16) | destination bytes.
                    Some(c) => match (c as u32) >> 16 {
                        1 => Op::Sext8,
                        2 => Op::Sext16,
                        w if w >= 4 => Op::Move,
                        _ => {
                            return Err(IrError::parse(
                                n.loc.clone(),
                                format!(
                                    "SEXT node {} has CONST {c}; expected (source bytes << 16) | destination bytes with 1, 2 or 4 source bytes",
                                    n.idx
                                ),
                            ));
                        }
                    },
                    // Old files omit the width: take it from a byte load feeding it, else 16
                    // bits (those files come from 16-bit kernels).
                    None => {
                        let byte_load = g.i1.iter().any(|(s, _)| {
                            nodes
                                .get(s.index())
                                .is_some_and(|m| matches!(m.kind, Kind::Load(Width::Byte)))
                        });
                        if byte_load { Op::Sext8 } else { Op::Sext16 }
                    }
                };
                b.set_op(i, op, &[Val::Node(a)]);
                order_only(&mut b, &g.i2);
            }
            Kind::Select => {
                // HyCUBE SELECT is a phi: it passes the valid one of its inputs (I1 before
                // I2; the constant stands for I2 and is always valid), and a `P` input
                // gates it like any other op. Same-iteration inputs come before loop-carried
                // ones, which have no value before the first iteration. When every input is
                // loop-carried, the phi's initial value came from outside the loop (Morpher
                // moved it out): a scalar live-in that is valid in the first iteration only.
                let mut srcs: Vec<Src> = Vec::new();
                let mut carried: Vec<Src> = Vec::new();
                for &s in g.i1.iter().chain(&g.i2).chain(&g.i3) {
                    if s.1 == 0 {
                        srcs.push(s);
                    } else {
                        carried.push(s);
                    }
                }
                if srcs.is_empty() && cnst.is_none() {
                    let s = b.first_iteration_live_in(i);
                    srcs.push(s);
                }
                srcs.extend(carried);
                if let Some(c) = cnst {
                    srcs.push(b.aux_const(c, i));
                }
                if srcs.len() == 1 {
                    b.set_op(i, Op::Move, &[Val::Node(srcs[0])]);
                } else {
                    b.merge_node(srcs, i, "phi", Some(id));
                }
            }
            Kind::CMerge => {
                // HyCUBE CMERGE: output operand 2 (I2 or the constant) when valid, else
                // operand 1; squashed when its predicate fails.
                if let Some(c) = cnst {
                    b.set_op(i, Op::Const, &[Val::Const(c)]);
                    order_only(&mut b, &g.i1);
                    order_only(&mut b, &g.i2);
                } else {
                    let mut srcs: Vec<Src> = Vec::new();
                    let mut second = g.i2.clone();
                    second.sort_by_key(|s| s.1.min(1));
                    let mut first = g.i1.clone();
                    first.sort_by_key(|s| s.1.min(1));
                    srcs.extend(second);
                    srcs.extend(first);
                    match srcs.len() {
                        0 => {
                            let s = b.live_in(i, "in", false);
                            b.set_op(i, Op::Move, &[Val::Node(s)]);
                        }
                        1 => b.set_op(i, Op::Move, &[Val::Node(srcs[0])]),
                        _ => {
                            b.merge_node(srcs, i, "cmerge", Some(id));
                        }
                    }
                }
                order_only(&mut b, &g.i3);
            }
            Kind::Movc => {
                // HyCUBE MOVC outputs operand 2: the constant. Data inputs only order it.
                match cnst {
                    Some(c) => b.set_op(i, Op::Const, &[Val::Const(c)]),
                    None => {
                        let s = b.live_in(i, "c", false);
                        b.set_op(i, Op::Move, &[Val::Node(s)]);
                    }
                }
                order_only(&mut b, &g.i1);
                order_only(&mut b, &g.i2);
                order_only(&mut b, &g.i3);
            }
            Kind::Load(width) => {
                let op = Op::Load {
                    width,
                    signed: false,
                };
                // The address arrives on I2 (operand 2); I1 is accepted as well.
                let mut a: Vec<Src> = g.i2.clone();
                a.extend(&g.i1);
                let addr = b.merge_of(a, i, "addr");
                match (addr, cnst) {
                    (Some(s), c) => {
                        b.set_op(i, op, &[Val::Node(s)]);
                        b.k.graph[id].imm = c;
                    }
                    (None, Some(c)) => {
                        b.k.graph[id].op = op;
                        b.k.graph[id].imm = Some(c);
                    }
                    (None, None) => {
                        let s = b.live_in(i, "ptr", true);
                        b.set_op(i, op, &[Val::Node(s)]);
                    }
                }
                order_only(&mut b, &g.i3);
            }
            Kind::Store(width) => {
                let op = Op::Store { width };
                let addr = i2;
                let value = i1;
                match (addr, value, cnst) {
                    (None, v, Some(c)) => {
                        let v = fill_node(&mut b, v, i, "value");
                        b.set_op(i, op, &[Val::Node(v)]);
                        b.k.graph[id].imm = Some(c);
                    }
                    (Some(a), Some(v), c) => {
                        b.set_op(i, op, &[Val::Node(a), Val::Node(v)]);
                        b.k.graph[id].imm = c;
                    }
                    (Some(a), None, Some(c)) => {
                        let v = b.aux_const(c, i);
                        b.set_op(i, op, &[Val::Node(a), Val::Node(v)]);
                    }
                    (a, v, None) => {
                        let a = match a {
                            Some(a) => a,
                            None => b.live_in(i, "ptr", true),
                        };
                        let v = fill_node(&mut b, v, i, "value");
                        b.set_op(i, op, &[Val::Node(a), Val::Node(v)]);
                    }
                }
                order_only(&mut b, &g.i3);
            }
        }
    }
    let pointer_scalars = std::mem::take(&mut b.pointer_scalars);
    let mut k = b.k;
    memory_image(
        &mut k,
        &nodes,
        &edges,
        &pointer_scalars,
        extra_regions,
        opts,
    );
    // Indices and pointers read from memory: narrow the random ranges of the arrays and
    // live-ins they come from so that every address stays in its array
    // (`crate::input_ranges`). When no such ranges exist the kernel keeps the ranges
    // above; `input_ranges::infer` names the node that makes it impossible.
    let _ = crate::input_ranges::apply(&mut k);
    if opts.memory_order {
        add_memory_order(&mut k);
    }
    k.validate()?;
    Ok(k)
}

/// Fill a missing operand with the node's constant (first use) or a scalar live-in.
fn fill(
    b: &mut Builder,
    v: Option<Src>,
    cnst: &mut Option<i32>,
    i: usize,
    slot: &str,
    pointer: bool,
) -> Val {
    match v {
        Some(s) => Val::Node(s),
        None => match cnst.take() {
            Some(c) => Val::Const(c),
            None => Val::Node(b.live_in(i, slot, pointer)),
        },
    }
}

/// Loads whose value feeds node `i` directly (on a data port).
fn load_inputs(nodes: &[MNode], edges: &[MEdge], i: usize) -> Vec<usize> {
    edges
        .iter()
        .filter(|e| e.dst == i && matches!(e.port, Some(Port::I1 | Port::I2 | Port::I3) | None))
        .filter(|e| matches!(nodes[e.src].kind, Kind::Load(_)))
        .map(|e| e.src)
        .collect()
}

/// True for an address add with a static base: it names an array and no load feeds it
/// directly (a load would be a pointer kept in memory, and the constant only its offset).
fn is_static_gep(nodes: &[MNode], edges: &[MEdge], i: usize) -> bool {
    let n = &nodes[i];
    let Some((_, size)) = &n.base_ptr else {
        return false;
    };
    // A 4-byte "array" at base 0 is a pointer variable (Morpher names the GEP after it):
    // the constant is only the offset from the pointer's value.
    let pointer_variable =
        *size <= 4 && n.cnst.map(|c| c as i64) == Some(n.gep_offset.unwrap_or(0));
    matches!(n.kind, Kind::Nary(Op::Add))
        && !pointer_variable
        && load_inputs(nodes, edges, i).is_empty()
}

/// LLVM's `xor i1 %c, true` (the NOT of a comparison) reaches Morpher's XML as an XOR with
/// `CONST="-1"`: LLVM's 1-bit `true`, sign-extended. On this IR's 32-bit values that XOR
/// gives -1 or -2 instead of 1 or 0, and `adpcm_coder` then indexes its step table with a
/// negative number. So 1-bit values are tracked: a comparison (`CMP`, `CLT`, `CGT`) gives
/// 0 or 1, and so does a bitwise XOR, OR or AND whose data inputs are all 1-bit values and
/// whose constant, if any, is 0 or -1 (a 1-bit constant). Such an op's constant -1 becomes
/// 1, the value LLVM's `true` has as a 0/1 flag (AND is unchanged by it; OR gives 1, as
/// `or i1 %c, true` does). Chains count: `adpcm_coder`'s XOR #4 inverts XOR #2, which
/// inverts a comparison.
fn i1_constants(nodes: &mut [MNode], edges: &[MEdge]) {
    let n = nodes.len();
    let mut one_bit: Vec<bool> = nodes
        .iter()
        .map(|m| matches!(m.kind, Kind::Binary(Op::Eq | Op::Lt | Op::Gt)))
        .collect();
    let data_inputs = |i: usize| {
        edges
            .iter()
            .filter(move |e| e.dst == i && !matches!(e.port, Some(Port::P | Port::Ps)))
            .map(|e| e.src)
    };
    // To a fixed point: the file's node order need not be a topological order.
    loop {
        let mut changed = false;
        for i in 0..n {
            if one_bit[i]
                || !matches!(nodes[i].kind, Kind::Nary(Op::Xor | Op::Or | Op::And))
                || !matches!(nodes[i].cnst, None | Some(0) | Some(-1))
            {
                continue;
            }
            let mut inputs = data_inputs(i).peekable();
            if inputs.peek().is_some() && data_inputs(i).all(|s| one_bit[s]) {
                one_bit[i] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    for i in 0..n {
        if one_bit[i] && nodes[i].cnst == Some(-1) {
            nodes[i].cnst = Some(1);
        }
    }
}

/// True for a memory op whose address is its constant (no address input).
fn has_constant_address(nodes: &[MNode], edges: &[MEdge], i: usize) -> bool {
    let addr_port = |e: &&MEdge| match nodes[i].kind {
        Kind::Load(_) => matches!(e.port, Some(Port::I1 | Port::I2) | None),
        Kind::Store(_) => matches!(e.port, Some(Port::I2)),
        _ => false,
    };
    matches!(nodes[i].kind, Kind::Load(_) | Kind::Store(_))
        && nodes[i].cnst.is_some()
        && !edges.iter().filter(|e| e.dst == i).any(|e| addr_port(&e))
}

/// Move every stated address up by `by` bytes (see [`ImportOptions::relocate_bytes`]).
fn relocate(nodes: &mut [MNode], edges: &[MEdge], by: u32) {
    let targets: Vec<usize> = (0..nodes.len())
        .filter(|&i| {
            nodes[i].cnst != Some(-1)
                && (is_static_gep(nodes, edges, i) || has_constant_address(nodes, edges, i))
        })
        .collect();
    for i in targets {
        if let Some(c) = nodes[i].cnst {
            nodes[i].cnst = Some(c.wrapping_add(by as i32));
        }
    }
}

/// Morpher's CGRA-ME mode writes `CONST="-1"` where no base address was allocated: on
/// address adds whose result is used only as a memory address, and on constant-address
/// memory ops. Such a node gets a private region above everything the file names, and its
/// constant becomes the middle of that region (so that small negative offsets stay inside).
fn assign_unassigned_bases(
    nodes: &mut [MNode],
    edges: &[MEdge],
    opts: &ImportOptions,
) -> Vec<Region> {
    let is_mem = |k: Kind| matches!(k, Kind::Load(_) | Kind::Store(_));
    let mut top: i64 = 0;
    for n in nodes.iter() {
        let Some(c) = n.cnst else { continue };
        if c < 0 {
            continue;
        }
        let size = n.base_ptr.as_ref().map(|b| b.1 as i64).unwrap_or(4);
        if is_mem(n.kind) || n.base_ptr.is_some() {
            top = top.max(c as i64 + size);
        }
    }
    let mut out = Vec::new();
    let region = opts.pointer_region_bytes.max(8) as i64;
    let start0 = (top + 3) / 4 * 4 + opts.tail_bytes as i64;
    // A pointer-variable address add with no load feeding it lost its base pointer (moved
    // out of the loop): all adds of that pointer share one private region.
    let mut pointer_regions: HashMap<String, i64> = HashMap::new();
    for i in 0..nodes.len() {
        let n = &nodes[i];
        if let (Kind::Nary(Op::Add), Some((name, size)), Some(c)) = (n.kind, &n.base_ptr, n.cnst)
            && *size <= 4
            && c as i64 == n.gep_offset.unwrap_or(0)
            && load_inputs(nodes, edges, i).is_empty()
            // A pointer that arrives through a phi (SELECT/CMERGE) is present.
            && !edges
                .iter()
                .any(|e| e.dst == i && matches!(nodes[e.src].kind, Kind::Select | Kind::CMerge))
        {
            let next = start0 + out.len() as i64 * region;
            if next + region > i32::MAX as i64 {
                break;
            }
            let mid = *pointer_regions.entry(name.clone()).or_insert_with(|| {
                out.push(Region {
                    name: format!("{name}_target"),
                    base: next as u32,
                    end: (next + region) as u32,
                    width: Width::Word,
                    flag: false,
                });
                next + region / 2
            });
            nodes[i].cnst = Some((mid + c as i64) as i32);
        }
    }
    for i in 0..nodes.len() {
        if nodes[i].cnst != Some(-1) {
            continue;
        }
        let outs: Vec<&MEdge> = edges.iter().filter(|e| e.src == i).collect();
        let addr_inputs = edges
            .iter()
            .filter(|e| {
                e.dst == i && matches!(e.port, Some(Port::I2) | None)
                    || e.dst == i
                        && e.port == Some(Port::I1)
                        && matches!(nodes[i].kind, Kind::Load(_))
            })
            .count();
        let unassigned = match nodes[i].kind {
            Kind::Load(_) | Kind::Store(_) => addr_inputs == 0,
            Kind::Nary(Op::Add) => {
                nodes[i].base_ptr.is_none()
                    && !outs.is_empty()
                    && outs.iter().all(|e| {
                        is_mem(nodes[e.dst].kind)
                            && (e.port == Some(Port::I2)
                                || e.port == Some(Port::I1)
                                    && matches!(nodes[e.dst].kind, Kind::Load(_)))
                    })
            }
            _ => false,
        };
        if !unassigned {
            continue;
        }
        let start = start0 + out.len() as i64 * region;
        if start + region > i32::MAX as i64 {
            break;
        }
        nodes[i].cnst = Some((start + region / 2) as i32);
        out.push(Region {
            name: match &nodes[i].base_ptr {
                Some((nm, _)) => nm.clone(),
                None => format!("unassigned_{}", nodes[i].idx),
            },
            base: start as u32,
            end: (start + region) as u32,
            width: Width::Word,
            flag: false,
        });
    }
    out
}

fn fill_node(b: &mut Builder, v: Option<Src>, i: usize, slot: &str) -> Src {
    match v {
        Some(s) => s,
        None => b.live_in(i, slot, false),
    }
}

/// A contiguous piece of the memory image before it becomes an array.
#[derive(Debug, Clone)]
struct Region {
    name: String,
    base: u32,
    end: u32,
    /// Narrowest access width seen on it (for the element width).
    width: Width,
    flag: bool,
}

/// Lay out the memory image; see `docs/file-formats.md` ("Memory image of imported DFGs").
fn memory_image(
    k: &mut Kernel,
    nodes: &[MNode],
    edges: &[MEdge],
    pointer_scalars: &[u16],
    extra_regions: Vec<Region>,
    opts: &ImportOptions,
) {
    let access_width = |n: &MNode| match n.kind {
        Kind::Load(w) | Kind::Store(w) => Some(w),
        _ => None,
    };
    // 1. Regions named by the file: arrays (BasePointerName on an address add: base is
    //    CONST - GEPOffset; on a constant-address memory op: base is CONST) and cells at the
    //    constant addresses of memory ops without an address operand.
    let feeds_from_load = |i: usize| load_inputs(nodes, edges, i);
    let gep_dynamic: Vec<bool> = (0..nodes.len())
        .map(|i| matches!(nodes[i].kind, Kind::Nary(Op::Add)) && !is_static_gep(nodes, edges, i))
        .collect();
    // Constant-address cells that hold such pointers get a private region to point to.
    let mut pointer_cells: BTreeSet<u32> = BTreeSet::new();
    for (i, dynamic) in gep_dynamic.iter().enumerate() {
        if !dynamic || nodes[i].base_ptr.is_none() {
            continue;
        }
        for src in feeds_from_load(i) {
            let id = NodeId::new(src);
            let data = k
                .operands(id)
                .iter()
                .filter(|(_, o)| matches!(o.slot, Slot::Data(_)))
                .count();
            if data == 0
                && let Some(c) = k.graph[id].imm
            {
                pointer_cells.insert(c as u32);
            }
        }
    }
    let mut named: BTreeMap<String, Region> = BTreeMap::new();
    let mut name_width: BTreeMap<String, Width> = BTreeMap::new();
    let mut flag_addrs: BTreeSet<u32> = BTreeSet::new();
    let mut cells: Vec<Region> = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        let id = NodeId::new(i);
        let data_operands = k
            .operands(id)
            .iter()
            .filter(|(_, o)| matches!(o.slot, Slot::Data(_)))
            .count();
        let const_addr = k.graph[id].imm.is_some()
            && match n.kind {
                Kind::Load(_) => data_operands == 0,
                Kind::Store(_) => data_operands == 1,
                _ => false,
            };
        if let (Some(w), Some((name, _))) = (access_width(n), &n.base_ptr) {
            let e = name_width.entry(name.clone()).or_insert(w);
            if w.bytes() < e.bytes() {
                *e = w;
            }
        }
        if let Some((name, size)) = &n.base_ptr {
            let base = match (n.kind, n.cnst) {
                (Kind::Nary(Op::Add), Some(c)) if !gep_dynamic[i] => {
                    Some((c as i64 - n.gep_offset.unwrap_or(0)) as u32)
                }
                (_, Some(c)) if const_addr => Some(c as u32),
                _ => None,
            };
            if let Some(base) = base {
                let size = (*size).max(1);
                let r = named.entry(name.clone()).or_insert(Region {
                    name: name.clone(),
                    base,
                    end: base.saturating_add(size),
                    width: Width::Word,
                    flag: false,
                });
                r.base = r.base.min(base);
                r.end = r.end.max(base.saturating_add(size));
            }
        }
        if const_addr && let (Some(w), Some(c)) = (access_width(n), k.graph[id].imm) {
            let addr = c as u32;
            // The loop-start flag: a constant-address byte load used only as a predicate.
            let only_pred = edges
                .iter()
                .filter(|e| e.src == i)
                .all(|e| e.port == Some(Port::P));
            let is_flag = matches!(n.kind, Kind::Load(Width::Byte))
                && (n.base_ptr.as_ref().is_some_and(|(nm, _)| nm == "loopstart")
                    || (only_pred && edges.iter().any(|e| e.src == i)));
            if is_flag {
                flag_addrs.insert(addr);
            }
            cells.push(Region {
                name: n
                    .base_ptr
                    .as_ref()
                    .map(|(nm, _)| nm.clone())
                    .unwrap_or_else(|| format!("cell_{addr}")),
                base: addr,
                end: addr.saturating_add(w.bytes()),
                width: w,
                flag: false,
            });
        }
    }
    for (name, r) in named.iter_mut() {
        if let Some(w) = name_width.get(name) {
            r.width = *w;
        }
    }
    let mut regions: Vec<Region> = named.into_values().collect();
    regions.extend(extra_regions);
    for c in cells {
        if !regions.iter().any(|r| c.base >= r.base && c.end <= r.end) {
            regions.push(c);
        }
    }
    // The loop-start flag keeps its own byte even where Morpher's allocation let an array
    // run over it (AES: `ft_tab` is 4096 bytes from 0, the flag sits at 4094).
    regions.retain(|r| !(flag_addrs.contains(&r.base) && r.end - r.base == 1));
    // 2. Merge overlaps, sort, fill gaps from address 0, add the tail.
    regions.sort_by_key(|r| (r.base, std::cmp::Reverse(r.end)));
    let mut merged: Vec<Region> = Vec::new();
    for r in regions {
        if let Some(last) = merged.last_mut()
            && r.base < last.end
        {
            last.end = last.end.max(r.end);
            if r.width.bytes() < last.width.bytes() {
                last.width = r.width;
            }
            if !last.name.split('+').any(|p| p == r.name) {
                last.name = format!("{}+{}", last.name, r.name);
            }
            continue;
        }
        merged.push(r);
    }
    for &f in &flag_addrs {
        let flag = Region {
            name: "loopstart".to_string(),
            base: f,
            end: f + 1,
            width: Width::Byte,
            flag: true,
        };
        match merged.iter().position(|r| r.base <= f && f < r.end) {
            Some(at) => {
                let r = merged.remove(at);
                let mut pieces = Vec::new();
                if r.base < f {
                    pieces.push(Region {
                        end: f,
                        ..r.clone()
                    });
                }
                pieces.push(flag);
                if f + 1 < r.end {
                    pieces.push(Region {
                        base: f + 1,
                        name: format!("{}@{}", r.name, f + 1),
                        ..r
                    });
                }
                for (n, p) in pieces.into_iter().enumerate() {
                    merged.insert(at + n, p);
                }
            }
            None => {
                let at = merged
                    .iter()
                    .position(|r| r.base > f)
                    .unwrap_or(merged.len());
                merged.insert(at, flag);
            }
        }
    }
    let mut layout: Vec<Region> = Vec::new();
    let mut cursor = 0u32;
    let filler = |base: u32, end: u32, name: String| Region {
        name,
        base,
        end,
        width: Width::Word,
        flag: false,
    };
    for r in merged {
        if r.base > cursor {
            layout.push(filler(cursor, r.base, format!("gap_{cursor}")));
        }
        cursor = r.end;
        layout.push(r);
    }
    let tail_base = cursor;
    cursor = cursor.saturating_add(opts.tail_bytes.max(4));
    layout.push(filler(tail_base, cursor, "tail".to_string()));
    // 3. Private regions for base pointers that came from outside the loop.
    let mut pointer_bases = Vec::new();
    for &s in pointer_scalars {
        let base = cursor.next_multiple_of(4);
        let end = base.saturating_add(opts.pointer_region_bytes.max(4));
        layout.push(filler(
            base,
            end,
            format!("ptr_{}", k.scalars[s as usize].name),
        ));
        pointer_bases.push((s, base));
        cursor = end;
    }
    for (s, base) in pointer_bases {
        let sc = &mut k.scalars[s as usize];
        sc.default = base as i32;
        sc.random_range = None;
    }
    let mut cell_targets: Vec<(u32, u32)> = Vec::new();
    for &cell in &pointer_cells {
        let base = cursor.next_multiple_of(4);
        let end = base.saturating_add(opts.pointer_region_bytes.max(4));
        layout.push(filler(base, end, format!("target_of_{cell}")));
        cell_targets.push((cell, base));
        cursor = end;
    }
    // 4. Arrays: element width = narrowest access seen, reduced until it divides base and size.
    let mut arrays: Vec<ArrayDecl> = Vec::new();
    for r in &layout {
        let size = r.end - r.base;
        let mut w = r.width;
        while w != Width::Byte && (r.base % w.bytes() != 0 || size % w.bytes() != 0) {
            w = if w == Width::Word {
                Width::Half
            } else {
                Width::Byte
            };
        }
        let mut name = r.name.clone();
        if arrays.iter().any(|a| a.name == name) {
            name = format!("{name}@{}", r.base);
        }
        arrays.push(ArrayDecl {
            name,
            width: w,
            signed: false,
            len: size / w.bytes(),
            base: r.base,
            dir: ArrayDir::In,
            init_range: if r.flag { Some((1, 1)) } else { None },
            elem: Default::default(),
        });
    }
    for (cell, target) in cell_targets {
        if let Some(a) = arrays
            .iter_mut()
            .find(|a| a.base == cell && a.size_bytes() == 4)
        {
            a.init_range = Some((target as i32, target as i32));
        }
    }
    k.arrays = arrays;
    // 5. Which array each memory op touches, when the file says (a name or a constant address).
    let name_to_array = |k: &Kernel, name: &str| {
        k.arrays
            .iter()
            .position(|a| a.name == name || a.name.split('+').any(|p| p == name))
    };
    let mut unknown_store = false;
    for (i, n) in nodes.iter().enumerate() {
        let id = NodeId::new(i);
        let Some(w) = access_width(n) else { continue };
        let has_addr_operand = k
            .operands(id)
            .iter()
            .filter(|(_, o)| matches!(o.slot, Slot::Data(_)))
            .count()
            == if matches!(n.kind, Kind::Store(_)) {
                2
            } else {
                1
            };
        let arr = if !has_addr_operand {
            k.graph[id]
                .imm
                .and_then(|c| k.array_at(c as u32, w.bytes()))
        } else {
            n.base_ptr.as_ref().and_then(|(nm, _)| name_to_array(k, nm))
        };
        k.graph[id].array = arr.map(|a| a as u16);
        if matches!(n.kind, Kind::Store(_)) {
            match arr {
                Some(a) => k.arrays[a].dir = ArrayDir::InOut,
                None => unknown_store = true,
            }
        }
    }
    if unknown_store {
        for a in k.arrays.iter_mut() {
            a.dir = ArrayDir::InOut;
        }
    }
    // 6. Keep random addresses in range: values that reach an address operand through
    //    arithmetic (not through memory) get small ranges.
    let (arrays_feeding, all_arrays_feed, scalars_feeding) = address_sources(k);
    let small = (0, opts.index_range_max.max(0));
    for (a, arr) in k.arrays.iter_mut().enumerate() {
        if arr.init_range.is_none() && (all_arrays_feed || arrays_feeding.contains(&a)) {
            arr.init_range = Some(small);
        }
    }
    for (s, sc) in k.scalars.iter_mut().enumerate() {
        if pointer_scalars.contains(&(s as u16)) {
            continue;
        }
        sc.random_range = Some(if scalars_feeding.contains(&s) {
            small
        } else {
            opts.scalar_range
        });
    }
}

/// Arrays and scalars whose values flow (through non-memory ops) into an address operand.
/// The flag says a load of unknown array feeds an address (then every array counts).
pub(crate) fn address_sources(k: &Kernel) -> (BTreeSet<usize>, bool, BTreeSet<usize>) {
    let mut seen = vec![false; k.node_count()];
    let mut stack: Vec<NodeId> = Vec::new();
    for (id, n) in k.nodes() {
        let data: Vec<NodeId> = k
            .operands(id)
            .into_iter()
            .filter(|(_, o)| matches!(o.slot, Slot::Data(0)))
            .map(|(s, _)| s)
            .collect();
        let has_addr = match n.op {
            Op::Load { .. } => !data.is_empty(),
            Op::Store { .. } => {
                k.operands(id)
                    .iter()
                    .filter(|(_, o)| matches!(o.slot, Slot::Data(_)))
                    .count()
                    == 2
            }
            _ => false,
        };
        if has_addr {
            stack.extend(data);
        }
    }
    let mut arrays = BTreeSet::new();
    let mut all = false;
    let mut scalars = BTreeSet::new();
    while let Some(id) = stack.pop() {
        if std::mem::replace(&mut seen[id.index()], true) {
            continue;
        }
        let n = k.node(id);
        match n.op {
            Op::Load { .. } => match n.array {
                Some(a) => {
                    arrays.insert(a as usize);
                }
                None => all = true,
            },
            Op::Input(s) => {
                scalars.insert(s as usize);
            }
            Op::Store { .. } => {}
            _ => {
                for (s, o) in k.operands(id) {
                    if matches!(o.slot, Slot::Data(_)) {
                        stack.push(s);
                    }
                }
            }
        }
    }
    (arrays, all, scalars)
}

/// The address of a memory access as a linear form modulo 2^32: `konst + sum(coef * atom)`.
/// An atom is the value of a node read through an edge (`node`, `distance`, `init`): two
/// accesses that name the same atom in one iteration see the same value.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Linear {
    konst: u32,
    terms: BTreeMap<(usize, u32, i32), u32>,
}

impl Linear {
    fn constant(c: u32) -> Self {
        Self {
            konst: c,
            terms: BTreeMap::new(),
        }
    }
    fn atom(node: usize, distance: u32, init: i32) -> Self {
        let mut terms = BTreeMap::new();
        terms.insert((node, distance, init), 1);
        Self { konst: 0, terms }
    }
    fn add(mut self, other: &Linear, sign: u32) -> Self {
        self.konst = self.konst.wrapping_add(other.konst.wrapping_mul(sign));
        for (a, c) in &other.terms {
            let e = self.terms.entry(*a).or_insert(0);
            *e = e.wrapping_add(c.wrapping_mul(sign));
        }
        self.terms.retain(|_, c| *c != 0);
        self
    }
    fn scale(mut self, f: u32) -> Self {
        self.konst = self.konst.wrapping_mul(f);
        for c in self.terms.values_mut() {
            *c = c.wrapping_mul(f);
        }
        self.terms.retain(|_, c| *c != 0);
        self
    }
}

/// Linear form of the value a node produces in the current iteration. Decomposes
/// unpredicated `Add`, `Sub`, `Shl`/`Mul` by a constant, `Move` and `Const`; anything else
/// (loads, merges, live-ins, predicated ops, loop-carried reads) is an atom.
fn linear_of(k: &Kernel, node: usize, memo: &mut HashMap<usize, Linear>, depth: u32) -> Linear {
    if let Some(l) = memo.get(&node) {
        return l.clone();
    }
    let id = NodeId::new(node);
    let n = &k.graph[id];
    let ops = k.operands(id);
    let predicated = ops.iter().any(|(_, o)| matches!(o.slot, Slot::Pred { .. }));
    let data: Vec<(NodeId, Operand)> = ops
        .into_iter()
        .filter(|(_, o)| matches!(o.slot, Slot::Data(_)))
        .collect();
    let atom = Linear::atom(node, 0, 0);
    if predicated || depth > 64 {
        return atom;
    }
    // Operand `i`: a data edge (a distance-0 edge decomposes further, a carried one is an
    // atom) or, after the data operands, the immediate.
    let arg = |i: usize, memo: &mut HashMap<usize, Linear>| -> Option<Linear> {
        match data.get(i) {
            Some((src, o)) if o.distance == 0 => Some(linear_of(k, src.index(), memo, depth + 1)),
            Some((src, o)) => Some(Linear::atom(src.index(), o.distance, o.init)),
            None if i == data.len() => n.imm.map(|c| Linear::constant(c as u32)),
            None => None,
        }
    };
    let constant = |l: &Linear| l.terms.is_empty().then_some(l.konst);
    let l = match n.op {
        Op::Const => n.imm.map(|c| Linear::constant(c as u32)),
        Op::Move => arg(0, memo),
        Op::Add => match (arg(0, memo), arg(1, memo)) {
            (Some(a), Some(b)) => Some(a.add(&b, 1)),
            _ => None,
        },
        Op::Sub => match (arg(0, memo), arg(1, memo)) {
            (Some(a), Some(b)) => Some(a.add(&b, u32::MAX)),
            _ => None,
        },
        Op::Mul => match (arg(0, memo), arg(1, memo)) {
            (Some(a), Some(b)) => match (constant(&a), constant(&b)) {
                (_, Some(f)) => Some(a.scale(f)),
                (Some(f), _) => Some(b.scale(f)),
                _ => None,
            },
            _ => None,
        },
        Op::Shl => match (arg(0, memo), arg(1, memo)) {
            (Some(a), Some(b)) => constant(&b).map(|s| a.scale(1u32.wrapping_shl(s & 31))),
            _ => None,
        },
        _ => None,
    };
    let l = l.unwrap_or(atom);
    memo.insert(node, l.clone());
    l
}

/// One memory access of the kernel, for the dependence test.
struct Access {
    id: NodeId,
    store: bool,
    bytes: u32,
    addr: Linear,
    /// Bytes `[lo, hi)` the access can touch over a whole run ([`access_ranges`]).
    range: (u32, u32),
}

/// Whether two accesses can touch a common byte. They cannot when neither is a store (no
/// order needed), when their byte ranges over the whole run are disjoint, or, in the same
/// iteration (`same_iteration`; then equal atoms have equal values), when their addresses
/// differ by a constant that separates them. Array labels are not used: the corpus's
/// address streams leave their declared arrays (see `docs/file-formats.md`).
fn may_conflict(a: &Access, b: &Access, same_iteration: bool) -> bool {
    if !a.store && !b.store {
        return false;
    }
    if a.range.1 <= b.range.0 || b.range.1 <= a.range.0 {
        return false;
    }
    let comparable = a.addr.terms == b.addr.terms && (same_iteration || a.addr.terms.is_empty());
    if !comparable {
        return true;
    }
    let d_ab = b.addr.konst.wrapping_sub(a.addr.konst);
    let d_ba = a.addr.konst.wrapping_sub(b.addr.konst);
    d_ab < a.bytes || d_ba < b.bytes
}

/// Add conservative memory-order edges so that any schedule that respects the kernel's
/// edges performs conflicting accesses in the interpreter's order (the reference
/// semantics: iterations in sequence, within one the topological order with ties by node
/// index). For each pair of accesses that may touch a common byte with at least one store:
/// an order edge (distance 0) from the earlier to the later of one iteration, and an order
/// edge with distance 1 from an access of iteration `k` to one of iteration `k + 1` (which
/// orders every later iteration too). Edges implied by a chain of other order edges are
/// left out. The distance-0 edges follow the evaluation order, so the interpreter's order
/// (and therefore the kernel's semantics) does not change.
pub(crate) fn add_memory_order(k: &mut Kernel) {
    let Ok(order) = k.topo_order() else {
        // A combinational cycle: `validate` reports it.
        return;
    };
    let mut memo = HashMap::new();
    let ranges = access_ranges(k).unwrap_or_default();
    let mut acc: Vec<Access> = Vec::new();
    for &id in &order {
        let n = &k.graph[id];
        let (store, width) = match n.op {
            Op::Load { width, .. } => (false, width),
            Op::Store { width } => (true, width),
            _ => continue,
        };
        let data: Vec<(NodeId, Operand)> = k
            .operands(id)
            .into_iter()
            .filter(|(_, o)| matches!(o.slot, Slot::Data(_)))
            .collect();
        let has_addr = if store {
            data.len() == 2
        } else {
            data.len() == 1
        };
        let imm = Linear::constant(n.imm.unwrap_or(0) as u32);
        let addr = if has_addr {
            let (src, o) = data[0];
            let base = if o.distance == 0 {
                linear_of(k, src.index(), &mut memo, 0)
            } else {
                Linear::atom(src.index(), o.distance, o.init)
            };
            base.add(&imm, 1)
        } else {
            imm
        };
        acc.push(Access {
            id,
            store,
            bytes: width.bytes(),
            addr,
            range: ranges.get(&id).copied().unwrap_or((0, u32::MAX)),
        });
    }
    let m = acc.len();
    // reach[a][b]: a chain of added distance-0 order edges leads from access a to access b
    // (reflexive). Accesses are in evaluation order, so edges go from lower to higher.
    let mut reach = vec![vec![false; m]; m];
    for (i, r) in reach.iter_mut().enumerate() {
        r[i] = true;
    }
    let mut within: Vec<(usize, usize)> = Vec::new();
    for b in 0..m {
        for a in (0..b).rev() {
            if reach[a][b] || !may_conflict(&acc[a], &acc[b], true) {
                continue;
            }
            within.push((a, b));
            // Everything that reaches a now reaches b (b has no outgoing edges yet:
            // accesses are visited in order).
            for row in reach.iter_mut().take(a + 1) {
                if row[a] {
                    row[b] = true;
                }
            }
        }
    }
    // Iteration k -> k + 1: access u of iteration k before access v of iteration k + 1.
    let mut carried: Vec<(usize, usize)> = Vec::new();
    for u in (0..m).rev() {
        for v in 0..m {
            if u == v || reach[u][v] || !may_conflict(&acc[u], &acc[v], false) {
                continue;
            }
            let implied = carried.iter().any(|&(w, x)| reach[u][w] && reach[x][v]);
            if !implied {
                carried.push((u, v));
            }
        }
    }
    let order_edge = |distance| Operand {
        slot: Slot::Order,
        distance,
        init: 0,
    };
    // Pairs the file already orders by the same edge (a `PS` edge) need no second one.
    let mut add = |from: NodeId, to: NodeId, distance: u32| {
        let exists = k
            .graph
            .edges_connecting(from, to)
            .any(|e| *e.weight() == order_edge(distance));
        if !exists {
            k.add_edge(from, to, order_edge(distance));
        }
    };
    for (a, b) in within {
        add(acc[a].id, acc[b].id, 0);
    }
    for (u, v) in carried {
        add(acc[u].id, acc[v].id, 1);
    }
}

/// A closed interval of i32 values (as i64, so that sums and products do not overflow).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Iv {
    lo: i64,
    hi: i64,
}

const I32_LO: i64 = i32::MIN as i64;
const I32_HI: i64 = i32::MAX as i64;

impl Iv {
    const TOP: Iv = Iv {
        lo: I32_LO,
        hi: I32_HI,
    };
    fn point(v: i64) -> Iv {
        Iv { lo: v, hi: v }
    }
    fn new(lo: i64, hi: i64) -> Iv {
        Iv { lo, hi }
    }
    fn union(self, o: Iv) -> Iv {
        Iv::new(self.lo.min(o.lo), self.hi.max(o.hi))
    }
    /// The i32 values of a result computed exactly in i64: itself when no value wraps,
    /// otherwise every i32.
    fn wrap(self) -> Iv {
        if self.lo >= I32_LO && self.hi <= I32_HI {
            self
        } else {
            Iv::TOP
        }
    }
    fn constant(self) -> Option<i64> {
        (self.lo == self.hi).then_some(self.lo)
    }
    fn nonneg(self) -> bool {
        self.lo >= 0
    }
}

/// Values a load of `width` and `signed` can return.
fn width_range(width: Width, signed: bool) -> Iv {
    let bits = 8 * width.bytes();
    if bits == 32 {
        Iv::TOP
    } else if signed {
        Iv::new(-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1)
    } else {
        Iv::new(0, (1i64 << bits) - 1)
    }
}

/// Raw contents (unsigned, `width` bytes) that storing any value of `v` leaves.
fn raw_of(v: Iv, width: Width) -> Iv {
    let max = (1i64 << (8 * width.bytes())) - 1;
    if v.lo >= 0 && v.hi <= max {
        v
    } else {
        Iv::new(0, max)
    }
}

/// Value interval of a compute op from its operand intervals (`None`: every i32).
fn eval_iv(op: Op, a: &[Iv]) -> Option<Iv> {
    use Op::*;
    let x = |i: usize| a.get(i).copied();
    let shift = |i: usize| {
        x(i).and_then(|s| s.constant())
            .map(|s| (s as u32 & 31) as i64)
    };
    let corners = |p: Iv, q: Iv, f: fn(i64, i64) -> i64| {
        let c = [f(p.lo, q.lo), f(p.lo, q.hi), f(p.hi, q.lo), f(p.hi, q.hi)];
        Iv::new(*c.iter().min().unwrap(), *c.iter().max().unwrap()).wrap()
    };
    Some(match op {
        Add => {
            let (p, q) = (x(0)?, x(1)?);
            Iv::new(p.lo + q.lo, p.hi + q.hi).wrap()
        }
        Sub => {
            let (p, q) = (x(0)?, x(1)?);
            Iv::new(p.lo - q.hi, p.hi - q.lo).wrap()
        }
        Mul => corners(x(0)?, x(1)?, |p, q| p * q),
        Shl => {
            let (p, s) = (x(0)?, shift(1)?);
            Iv::new(p.lo << s, p.hi << s).wrap()
        }
        Ashr => {
            let (p, s) = (x(0)?, shift(1)?);
            Iv::new(p.lo >> s, p.hi >> s)
        }
        Lshr => {
            let (p, s) = (x(0)?, shift(1)?);
            if p.nonneg() {
                Iv::new(p.lo >> s, p.hi >> s)
            } else if s > 0 {
                Iv::new(0, (u32::MAX >> s) as i64)
            } else {
                Iv::TOP
            }
        }
        And => {
            let (p, q) = (x(0)?, x(1)?);
            match (p.nonneg(), q.nonneg()) {
                (true, true) => Iv::new(0, p.hi.min(q.hi)),
                (true, false) => Iv::new(0, p.hi),
                (false, true) => Iv::new(0, q.hi),
                (false, false) => Iv::TOP,
            }
        }
        Or | Xor => {
            let (p, q) = (x(0)?, x(1)?);
            if p.nonneg() && q.nonneg() {
                let hi = p.hi.max(q.hi) as u64;
                Iv::new(0, (hi + 1).next_power_of_two() as i64 - 1)
            } else {
                Iv::TOP
            }
        }
        Eq | Ne | Lt | Le | Gt | Ge | Ltu | Geu => Iv::new(0, 1),
        Select => x(1)?.union(x(2)?),
        Min => {
            let (p, q) = (x(0)?, x(1)?);
            Iv::new(p.lo.min(q.lo), p.hi.min(q.hi))
        }
        Max => {
            let (p, q) = (x(0)?, x(1)?);
            Iv::new(p.lo.max(q.lo), p.hi.max(q.hi))
        }
        Sext8 | Zext8 | Sext16 | Zext16 => {
            let r = match op {
                Sext8 => width_range(Width::Byte, true),
                Zext8 => width_range(Width::Byte, false),
                Sext16 => width_range(Width::Half, true),
                _ => width_range(Width::Half, false),
            };
            let p = x(0)?;
            if p.lo >= r.lo && p.hi <= r.hi { p } else { r }
        }
        Move => x(0)?,
        _ => return None,
    })
}

/// Rounds of [`access_ranges`] before values that still grow are widened to their full
/// range (keeps the analysis fast for long trip counts; the corpus default is 32).
const WIDEN_AFTER_ROUNDS: u32 = 64;

/// Byte range `[lo, hi)` each memory access can touch in any iteration of any run on inputs
/// within the kernel's declared ranges (`random_range` of scalars, `init_range` or the
/// element range of arrays; what `interp::random_inputs` draws from). Computed by running
/// the kernel on intervals for `trip_count` rounds: every node keeps the union of its values
/// so far, every array the union of its raw contents, so round `r` covers iterations
/// `0..r`. An address outside the memory image stops a run with an error, so the ranges
/// are clipped to the image. `None` for a kernel without a topological order.
fn access_ranges(k: &Kernel) -> Option<HashMap<NodeId, (u32, u32)>> {
    let order = k.topo_order().ok()?;
    let n = k.node_count();
    let mem_end = k.memory_size();
    let mut val: Vec<Option<Iv>> = vec![None; n];
    let mut content: Vec<Iv> = k
        .arrays
        .iter()
        .map(|a| {
            let init = match a.init_range {
                Some((lo, hi)) => Iv::new(lo as i64, hi as i64),
                None => width_range(a.width, a.signed),
            };
            raw_of(init, a.width)
        })
        .collect();
    let mut ranges: HashMap<NodeId, (u32, u32)> = HashMap::new();
    let operands: Vec<Vec<(NodeId, Operand)>> =
        (0..n).map(|i| k.operands(NodeId::new(i))).collect();
    let arrays_in = |lo: u32, hi: u32| -> Vec<usize> {
        (0..k.arrays.len())
            .filter(|&a| k.arrays[a].base < hi && lo < k.arrays[a].end())
            .collect()
    };
    for round in 0..k.trip_count {
        let before = (val.clone(), content.clone());
        for &id in &order {
            let i = id.index();
            let node = &k.graph[id];
            let mut data: Vec<Iv> = Vec::new();
            let mut predicated = false;
            for (src, o) in &operands[i] {
                let v = if o.distance == 0 {
                    val[src.index()].unwrap_or(Iv::TOP)
                } else {
                    let init = Iv::point(o.init as i64);
                    val[src.index()].map_or(init, |v| v.union(init))
                };
                match o.slot {
                    Slot::Data(_) => data.push(v),
                    Slot::Pred { .. } => predicated = true,
                    Slot::Order => {}
                }
            }
            let imm = node.imm.map(|c| Iv::point(c as i64));
            // A node predicated on a comparison with a constant runs only when it holds:
            // re-evaluate its data operands with the compared value narrowed.
            if let Some((x, narrowed)) = guard(k, &operands[i], &val) {
                data.clear();
                for (src, o) in &operands[i] {
                    if let Slot::Data(_) = o.slot {
                        let v = if o.distance == 0 {
                            refined(k, &operands, &val, src.index(), (x, narrowed), 0)
                        } else {
                            let init = Iv::point(o.init as i64);
                            val[src.index()].map_or(init, |v| v.union(init))
                        };
                        data.push(v);
                    }
                }
            }
            let mut addr = |data: &[Iv], store: bool, width: Width| -> (u32, u32) {
                let with_addr = data.len() == if store { 2 } else { 1 };
                let a = if with_addr {
                    let base = data[0];
                    match imm {
                        Some(c) => Iv::new(base.lo + c.lo, base.hi + c.lo),
                        None => base,
                    }
                } else {
                    imm.unwrap_or(Iv::point(0))
                };
                // Wrapped or negative addresses leave the image: such a run stops.
                let lo = a.lo.max(0).min(mem_end as i64) as u32;
                let hi = (a.hi.max(-1) + width.bytes() as i64).clamp(0, mem_end as i64) as u32;
                let r = ranges.entry(id).or_insert((lo, hi.max(lo)));
                r.0 = r.0.min(lo);
                r.1 = r.1.max(hi);
                (lo, hi)
            };
            let mut v = match node.op {
                Op::Const => imm.unwrap_or(Iv::point(0)),
                Op::Input(s) => match k.scalars.get(s as usize) {
                    Some(sc) => match sc.random_range {
                        Some((lo, hi)) => Iv::new(lo as i64, hi as i64),
                        None => Iv::point(sc.default as i64),
                    },
                    None => Iv::TOP,
                },
                Op::Merge => data.iter().copied().reduce(Iv::union).unwrap_or(Iv::TOP),
                Op::Load { width, signed } => {
                    let (lo, hi) = addr(&data, false, width);
                    let full = width_range(width, signed);
                    let mut out: Option<Iv> = None;
                    for a in arrays_in(lo, hi) {
                        let arr = &k.arrays[a];
                        let got = if arr.width == width {
                            let raw = content[a];
                            if raw.lo >= full.lo && raw.hi <= full.hi {
                                raw
                            } else {
                                full
                            }
                        } else {
                            full
                        };
                        out = Some(out.map_or(got, |o| o.union(got)));
                    }
                    out.unwrap_or(full)
                }
                Op::Store { width } => {
                    let (lo, hi) = addr(&data, true, width);
                    let value = *data.last().unwrap_or(&Iv::TOP);
                    for a in arrays_in(lo, hi) {
                        let arr = &k.arrays[a];
                        let raw = if arr.width == width {
                            raw_of(value, width)
                        } else {
                            raw_of(Iv::TOP, arr.width)
                        };
                        content[a] = content[a].union(raw);
                    }
                    value
                }
                op => {
                    if let Some(c) = imm
                        && data.len() < op.arity().max
                    {
                        data.push(c);
                    }
                    eval_iv(op, &data).unwrap_or(Iv::TOP)
                }
            };
            if predicated {
                // A squashed op produces 0.
                v = v.union(Iv::point(0));
            }
            val[i] = Some(val[i].map_or(v, |o| o.union(v)));
        }
        if (val.clone(), content.clone()) == before {
            break;
        }
        if round >= WIDEN_AFTER_ROUNDS {
            // Long loops: whatever still grows jumps to its full range, so the rounds left
            // reach a fixed point quickly (each value can jump once).
            for (v, old) in val.iter_mut().zip(&before.0) {
                if v != old {
                    *v = Some(Iv::TOP);
                }
            }
            for (a, (c, old)) in content.iter_mut().zip(&before.1).enumerate() {
                if c != old {
                    *c = raw_of(Iv::TOP, k.arrays[a].width);
                }
            }
        }
    }
    Some(ranges)
}

/// The value a node's predicate constrains: for a predicate (distance 0) that is a
/// comparison of a node `x` (distance 0) with a constant, `x` and the interval it lies in
/// whenever the predicated node runs.
fn guard(k: &Kernel, ops: &[(NodeId, Operand)], val: &[Option<Iv>]) -> Option<(usize, Iv)> {
    let (c, negated) = ops.iter().find_map(|(s, o)| match o.slot {
        Slot::Pred { negated } if o.distance == 0 => Some((*s, negated)),
        _ => None,
    })?;
    let cmp = &k.graph[c];
    let data: Vec<(NodeId, Operand)> = k
        .operands(c)
        .into_iter()
        .filter(|(_, o)| matches!(o.slot, Slot::Data(_)))
        .collect();
    if k.operands(c)
        .iter()
        .any(|(_, o)| matches!(o.slot, Slot::Pred { .. }))
    {
        // A squashed comparison is 0 without having compared anything.
        return None;
    }
    let [(x, ox)] = data.as_slice() else {
        return None;
    };
    let b = cmp.imm? as i64;
    if ox.distance != 0 {
        return None;
    }
    let cur = val[x.index()]?;
    // The comparison holds (`x op b`) unless the predicate is negated.
    let holds = !negated;
    let (lo, hi) = match (cmp.op, holds) {
        (Op::Lt, true) | (Op::Ge, false) => (I32_LO, b - 1),
        (Op::Le, true) | (Op::Gt, false) => (I32_LO, b),
        (Op::Gt, true) | (Op::Le, false) => (b + 1, I32_HI),
        (Op::Ge, true) | (Op::Lt, false) => (b, I32_HI),
        (Op::Eq, true) | (Op::Ne, false) => (b, b),
        _ => return None,
    };
    let n = Iv::new(cur.lo.max(lo), cur.hi.min(hi));
    (n.lo <= n.hi).then_some((x.index(), n))
}

/// Interval of node `node` in the current iteration when node `x` is known to lie in an
/// interval: pure compute ops over distance-0 operands are re-evaluated, anything else
/// keeps its interval.
fn refined(
    k: &Kernel,
    operands: &[Vec<(NodeId, Operand)>],
    val: &[Option<Iv>],
    node: usize,
    x: (usize, Iv),
    depth: u32,
) -> Iv {
    if node == x.0 {
        return x.1;
    }
    let cur = val[node].unwrap_or(Iv::TOP);
    let n = &k.graph[NodeId::new(node)];
    let pure = !matches!(
        n.op,
        Op::Const | Op::Input(_) | Op::Load { .. } | Op::Store { .. } | Op::Merge
    );
    if depth > 16
        || !pure
        || operands[node]
            .iter()
            .any(|(_, o)| matches!(o.slot, Slot::Pred { .. }))
    {
        return cur;
    }
    let mut data = Vec::new();
    for (src, o) in &operands[node] {
        if let Slot::Data(_) = o.slot {
            if o.distance != 0 {
                return cur;
            }
            data.push(refined(k, operands, val, src.index(), x, depth + 1));
        }
    }
    if let Some(c) = n.imm
        && data.len() < n.op.arity().max
    {
        data.push(Iv::point(c as i64));
    }
    eval_iv(n.op, &data).unwrap_or(cur)
}

#[cfg(test)]
mod memory_order_tests {
    use super::*;

    fn access(store: bool, konst: u32, atom: Option<usize>, range: (u32, u32)) -> Access {
        let mut addr = Linear::constant(konst);
        if let Some(a) = atom {
            addr = addr.add(&Linear::atom(a, 0, 0), 1);
        }
        Access {
            id: NodeId::new(0),
            store,
            bytes: 4,
            addr,
            range,
        }
    }

    #[test]
    fn conflicts_need_a_store_overlapping_ranges_and_no_separating_offset() {
        let all = (0, 1000);
        // Two loads never conflict.
        assert!(!may_conflict(
            &access(false, 0, Some(1), all),
            &access(false, 0, Some(1), all),
            true
        ));
        // Disjoint whole-run ranges: never.
        let (a, b) = (
            access(true, 0, Some(1), (0, 100)),
            access(false, 0, Some(2), (100, 200)),
        );
        assert!(!may_conflict(&a, &b, true) && !may_conflict(&a, &b, false));
        // Same base, offsets 4 apart, 4-byte accesses: not in one iteration, maybe across.
        let (a, b) = (
            access(true, 8, Some(1), all),
            access(false, 12, Some(1), all),
        );
        assert!(!may_conflict(&a, &b, true));
        assert!(may_conflict(&a, &b, false));
        // Offsets 2 apart overlap.
        let b2 = access(false, 10, Some(1), all);
        assert!(may_conflict(&a, &b2, true));
        // Different bases: maybe.
        assert!(may_conflict(&a, &access(false, 12, Some(2), all), true));
        // Constant addresses compare across iterations too.
        let (c, d) = (access(true, 40, None, all), access(false, 44, None, all));
        assert!(!may_conflict(&c, &d, false));
        assert!(may_conflict(&c, &access(false, 42, None, all), false));
    }

    #[test]
    fn interval_ops_are_sound_on_samples() {
        let ivs = [
            Iv::new(0, 15),
            Iv::new(-3, 7),
            Iv::point(4),
            Iv::new(100, 4000),
            Iv::TOP,
        ];
        let ops = [
            Op::Add,
            Op::Sub,
            Op::Mul,
            Op::Shl,
            Op::Ashr,
            Op::Lshr,
            Op::And,
            Op::Or,
            Op::Xor,
            Op::Lt,
            Op::Min,
            Op::Max,
            Op::Sext8,
            Op::Zext16,
        ];
        let samples = |iv: Iv| -> Vec<i32> {
            let mut v = vec![iv.lo as i32, iv.hi as i32, ((iv.lo + iv.hi) / 2) as i32];
            v.retain(|x| (*x as i64) >= iv.lo && (*x as i64) <= iv.hi);
            v
        };
        for op in ops {
            for &p in &ivs {
                for &q in &ivs {
                    let args: Vec<Iv> = if op.arity().max == 1 {
                        vec![p]
                    } else {
                        vec![p, q]
                    };
                    let Some(r) = eval_iv(op, &args) else {
                        continue;
                    };
                    for x in samples(p) {
                        for y in samples(q) {
                            let vals: Vec<i32> = if args.len() == 1 { vec![x] } else { vec![x, y] };
                            let v = op.eval(&vals).unwrap() as i64;
                            assert!(
                                r.lo <= v && v <= r.hi,
                                "{op:?} {args:?} -> {r:?} misses {v}"
                            );
                        }
                    }
                }
            }
        }
    }
}
