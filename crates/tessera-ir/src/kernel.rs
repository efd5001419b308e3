//! The loop kernel: one innermost counted loop as a data-flow graph.
//!
//! A [`Kernel`] is a petgraph `DiGraph` whose nodes are ops ([`Node`]) and whose edges are
//! operands ([`Operand`]), pointing from producer to consumer. Node indices are dense
//! (`0..node_count`), so later stages index plain vectors by them.
//!
//! One execution of the graph is one loop iteration. An operand with `distance = d > 0` is
//! loop-carried: iteration `k` reads the producer's value from iteration `k - d`, or the
//! edge's `init` value while `k < d`. Within an iteration, nodes run in a topological order
//! of the distance-0 edges (data and [`Slot::Order`] edges), ties broken by node index, so
//! a front end that creates nodes in program order gets program order for memory ops
//! that no edge orders.

use crate::error::IrError;
use crate::op::{Op, Width};
use petgraph::Direction;
use petgraph::graph::{DiGraph, EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;
use serde::{Deserialize, Serialize};
use std::collections::BinaryHeap;

/// Version of the serialized kernel format.
pub const KERNEL_FORMAT_VERSION: u32 = 1;

/// Dense node id.
pub type NodeId = NodeIndex<u32>;

/// Which input of its consumer an operand feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub enum Slot {
    /// Data operand number `n` (0-based).
    Data(u8),
    /// Predicate: the consumer executes only when the value is non-zero (or zero when
    /// `negated`).
    Pred { negated: bool },
    /// Ordering only (memory dependence): the consumer must not execute before the producer
    /// of the iteration `distance` earlier. Carries no value.
    Order,
}

/// An edge: a value (or an ordering) from producer to consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operand {
    pub slot: Slot,
    /// Iteration distance; 0 within an iteration.
    pub distance: u32,
    /// Value read while the iteration index is below `distance`.
    pub init: i32,
}

impl Operand {
    pub fn data(n: u8) -> Self {
        Self {
            slot: Slot::Data(n),
            distance: 0,
            init: 0,
        }
    }
    pub fn carried(n: u8, distance: u32, init: i32) -> Self {
        Self {
            slot: Slot::Data(n),
            distance,
            init,
        }
    }
    pub fn carries_value(&self) -> bool {
        !matches!(self.slot, Slot::Order)
    }
}

/// A DFG node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub op: Op,
    /// Immediate operand (see [`crate::op`] for how each op uses it).
    pub imm: Option<i32>,
    /// For memory ops: the array accessed, when known (bank assignment, reports).
    pub array: Option<u16>,
    /// A readable label (source variable, original node id).
    pub label: String,
}

impl Node {
    pub fn new(op: Op) -> Self {
        Self {
            op,
            imm: None,
            array: None,
            label: String::new(),
        }
    }
    pub fn with_imm(mut self, imm: i32) -> Self {
        self.imm = Some(imm);
        self
    }
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }
    pub fn with_array(mut self, array: u16) -> Self {
        self.array = Some(array);
        self
    }
}

/// Direction of an array relative to the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArrayDir {
    In,
    Out,
    InOut,
}

/// An array in the kernel's memory image: `len` elements of `width` bytes at byte address
/// `base`, little-endian.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArrayDecl {
    pub name: String,
    pub width: Width,
    /// Elements are sign-extended when read back as values.
    pub signed: bool,
    pub len: u32,
    pub base: u32,
    pub dir: ArrayDir,
    /// Inclusive range for seeded random initial contents (default: the element type's range).
    /// For an `f32` array the range is of real values (default `[-1, 1]`; see
    /// [`crate::interp::random_inputs`]).
    pub init_range: Option<(i32, i32)>,
    /// How the elements' 32-bit words are read: integers (the default, and what every
    /// kernel file written before floats means) or IEEE 754 binary32. Decides how inputs
    /// are drawn and how values are shown; ops decide how values are computed.
    #[serde(default, skip_serializing_if = "ElemType::is_int")]
    pub elem: ElemType,
}

/// Element type of an array: what its words hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ElemType {
    /// Integers of the array's width and signedness.
    #[default]
    Int,
    /// IEEE 754 binary32 (arrays of width `Word` only).
    F32,
}

impl ElemType {
    pub fn is_int(&self) -> bool {
        *self == ElemType::Int
    }
    pub fn is_float(&self) -> bool {
        *self == ElemType::F32
    }
    /// A value word as written for a user: a float for `F32` (Rust's shortest round-trip
    /// form, `NaN`, `inf`), else the integer.
    pub fn show(self, word: i32) -> String {
        match self {
            ElemType::Int => word.to_string(),
            ElemType::F32 => format!("{:?}", f32::from_bits(word as u32)),
        }
    }
}

impl ArrayDecl {
    pub fn size_bytes(&self) -> u32 {
        self.len * self.width.bytes()
    }
    pub fn end(&self) -> u32 {
        self.base + self.size_bytes()
    }
    /// True when the kernel's result includes this array.
    pub fn is_output(&self) -> bool {
        matches!(self.dir, ArrayDir::Out | ArrayDir::InOut)
    }
}

/// A scalar live-in with its default value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalarDecl {
    pub name: String,
    pub default: i32,
    /// Inclusive range for seeded random values; `None` keeps the default. For an `F32`
    /// scalar, the real interval its random values are drawn from (as for `f32` arrays).
    pub random_range: Option<(i32, i32)>,
    /// What the value word holds (`F32`: a binary32 value; `default` is its bits).
    #[serde(default)]
    pub elem: ElemType,
}

/// A live-out: the value `node` produced in the last iteration (`init` when the loop runs
/// zero times).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveOut {
    pub name: String,
    pub node: NodeId,
    pub init: i32,
}

/// Where a kernel came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KernelSource {
    KernelLanguage,
    MorpherXml,
    Dot,
    Built,
}

/// A loop kernel: DFG, memory image, live-ins, live-outs and trip count.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Kernel {
    pub format_version: u32,
    pub name: String,
    /// File the kernel was read from, if any.
    pub file: Option<String>,
    pub source: KernelSource,
    pub graph: DiGraph<Node, Operand, u32>,
    pub arrays: Vec<ArrayDecl>,
    pub scalars: Vec<ScalarDecl>,
    pub live_outs: Vec<LiveOut>,
    pub trip_count: u32,
}

impl Kernel {
    pub fn new(name: impl Into<String>, source: KernelSource) -> Self {
        Self {
            format_version: KERNEL_FORMAT_VERSION,
            name: name.into(),
            file: None,
            source,
            graph: DiGraph::default(),
            arrays: Vec::new(),
            scalars: Vec::new(),
            live_outs: Vec::new(),
            trip_count: 0,
        }
    }

    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    pub fn add_node(&mut self, node: Node) -> NodeId {
        self.graph.add_node(node)
    }

    pub fn add_edge(&mut self, from: NodeId, to: NodeId, operand: Operand) -> EdgeIndex<u32> {
        self.graph.add_edge(from, to, operand)
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.graph[id]
    }

    pub fn nodes(&self) -> impl Iterator<Item = (NodeId, &Node)> {
        self.graph.node_indices().map(move |i| (i, &self.graph[i]))
    }

    /// Incoming operands of a node, sorted by slot (data 0, 1, ..., then predicate, then order).
    pub fn operands(&self, id: NodeId) -> Vec<(NodeId, Operand)> {
        let mut v: Vec<(NodeId, Operand)> = self
            .graph
            .edges_directed(id, Direction::Incoming)
            .map(|e| (e.source(), *e.weight()))
            .collect();
        v.sort_by_key(|(src, o)| (o.slot, src.index()));
        v
    }

    /// Per node, whether its value is a binary32 float: the result of a float op, a word
    /// loaded from an `f32` array, or a move, merge (a phi) or select whose every value
    /// operand is one (loop-carried operands included, so a float accumulator's phi is a
    /// float). Used to show values; the IR itself does not type them.
    pub fn float_values(&self) -> Vec<bool> {
        let n = self.node_count();
        let values = |id: NodeId| -> Vec<NodeId> {
            let ops = self.operands(id);
            let data = ops
                .iter()
                .filter(|(_, o)| matches!(o.slot, Slot::Data(_)))
                .map(|(s, _)| *s);
            match self.graph[id].op {
                Op::Select => data.skip(1).collect(),
                _ => data.collect(),
            }
        };
        let mut f: Vec<bool> = (0..n)
            .map(|i| {
                let node = &self.graph[NodeId::new(i)];
                match node.op {
                    Op::Move | Op::Merge | Op::Select => true,
                    Op::Load {
                        width: Width::Word, ..
                    } => node
                        .array
                        .and_then(|a| self.arrays.get(a as usize))
                        .is_some_and(|a| a.elem.is_float()),
                    op => op.yields_float(),
                }
            })
            .collect();
        // Greatest fixed point: a move, merge or select stays a float while all its value
        // operands are.
        loop {
            let mut changed = false;
            for i in 0..n {
                let id = NodeId::new(i);
                if f[i] && matches!(self.graph[id].op, Op::Move | Op::Merge | Op::Select) {
                    let v = values(id);
                    if v.is_empty() || v.iter().any(|s| !f[s.index()]) {
                        f[i] = false;
                        changed = true;
                    }
                }
            }
            if !changed {
                return f;
            }
        }
    }

    /// Largest loop-carried distance (0 when nothing is carried).
    pub fn max_distance(&self) -> u32 {
        self.graph
            .edge_weights()
            .map(|o| o.distance)
            .max()
            .unwrap_or(0)
    }

    /// Array index by name.
    pub fn array_index(&self, name: &str) -> Option<usize> {
        self.arrays.iter().position(|a| a.name == name)
    }

    /// Count of nodes per op mnemonic, sorted by name.
    pub fn op_histogram(&self) -> std::collections::BTreeMap<String, usize> {
        let mut h = std::collections::BTreeMap::new();
        for (_, n) in self.nodes() {
            *h.entry(n.op.mnemonic()).or_insert(0) += 1;
        }
        h
    }

    /// Topological order of one iteration over distance-0 edges, ties by node index.
    /// Fails with the nodes of a combinational cycle (a cycle without a loop-carried edge).
    pub fn topo_order(&self) -> Result<Vec<NodeId>, IrError> {
        let n = self.graph.node_count();
        let mut indeg = vec![0u32; n];
        for e in self.graph.edge_references() {
            if e.weight().distance == 0 {
                indeg[e.target().index()] += 1;
            }
        }
        let mut ready: BinaryHeap<std::cmp::Reverse<u32>> = indeg
            .iter()
            .enumerate()
            .filter(|(_, d)| **d == 0)
            .map(|(i, _)| std::cmp::Reverse(i as u32))
            .collect();
        let mut order = Vec::with_capacity(n);
        while let Some(std::cmp::Reverse(i)) = ready.pop() {
            let id = NodeIndex::new(i as usize);
            order.push(id);
            for e in self.graph.edges_directed(id, Direction::Outgoing) {
                if e.weight().distance == 0 {
                    let t = e.target().index();
                    indeg[t] -= 1;
                    if indeg[t] == 0 {
                        ready.push(std::cmp::Reverse(t as u32));
                    }
                }
            }
        }
        if order.len() != n {
            let stuck: Vec<String> = (0..n)
                .filter(|i| indeg[*i] > 0)
                .take(8)
                .map(|i| {
                    let node = &self.graph[NodeIndex::new(i)];
                    if node.label.is_empty() {
                        format!("n{i} ({})", node.op)
                    } else {
                        format!("n{i} ({} `{}`)", node.op, node.label)
                    }
                })
                .collect();
            return Err(IrError::invalid(
                &self.name,
                format!(
                    "cycle without a loop-carried edge (every cycle must carry a value across \
                     iterations, distance >= 1); nodes on or after it: {}",
                    stuck.join(", ")
                ),
            ));
        }
        Ok(order)
    }

    /// Check structure: operand slots and arity, references to arrays, inputs and nodes,
    /// and the absence of combinational cycles. Returns every problem found.
    pub fn validate(&self) -> Result<(), IrError> {
        let mut problems = Vec::new();
        for (id, node) in self.nodes() {
            let ops = self.operands(id);
            let mut data_slots: Vec<u8> = Vec::new();
            let mut preds = 0;
            for (_, o) in &ops {
                match o.slot {
                    Slot::Data(s) => data_slots.push(s),
                    Slot::Pred { .. } => preds += 1,
                    Slot::Order => {}
                }
            }
            let describe = || {
                if node.label.is_empty() {
                    format!("node {} ({})", id.index(), node.op)
                } else {
                    format!("node {} ({} `{}`)", id.index(), node.op, node.label)
                }
            };
            if preds > 1 {
                problems.push(format!(
                    "{} has {preds} predicate operands (at most 1)",
                    describe()
                ));
            }
            for (i, s) in data_slots.iter().enumerate() {
                if *s as usize != i {
                    problems.push(format!(
                        "{} has data operand slots {:?}; expected 0..{} without gaps or repeats",
                        describe(),
                        data_slots,
                        data_slots.len()
                    ));
                    break;
                }
            }
            let arity = node.op.arity();
            let provided = data_slots.len()
                + usize::from(
                    node.imm.is_some() && !matches!(node.op, Op::Const) && !node.op.is_memory(),
                );
            let ok = match node.op {
                Op::Const => node.imm.is_some() && data_slots.is_empty(),
                Op::Load { .. } => {
                    data_slots.len() <= 1 && (data_slots.len() == 1 || node.imm.is_some())
                }
                Op::Store { .. } => {
                    data_slots.len() == 2 || (data_slots.len() == 1 && node.imm.is_some())
                }
                _ => provided >= arity.min && provided <= arity.max,
            };
            if !ok {
                problems.push(format!(
                    "{} has {} data operand(s){}; `{}` takes {}{}",
                    describe(),
                    data_slots.len(),
                    if node.imm.is_some() {
                        " and an immediate"
                    } else {
                        ""
                    },
                    node.op,
                    if arity.min == arity.max {
                        arity.min.to_string()
                    } else {
                        format!("{} to {}", arity.min, arity.max)
                    },
                    match node.op {
                        Op::Const => " (and needs an immediate)",
                        Op::Load { .. } => " (an address operand, or an immediate address)",
                        Op::Store { .. } =>
                            " (address and value; an immediate may replace the address)",
                        _ => "",
                    }
                ));
            }
            if let Op::Input(i) = node.op
                && i as usize >= self.scalars.len()
            {
                problems.push(format!(
                    "{} reads scalar input {i}, but the kernel has {}",
                    describe(),
                    self.scalars.len()
                ));
            }
            if let Some(a) = node.array
                && a as usize >= self.arrays.len()
            {
                problems.push(format!(
                    "{} names array {a}, but the kernel has {}",
                    describe(),
                    self.arrays.len()
                ));
            }
        }
        for lo in &self.live_outs {
            if lo.node.index() >= self.node_count() {
                problems.push(format!(
                    "live-out `{}` names missing node {}",
                    lo.name,
                    lo.node.index()
                ));
            }
        }
        for a in &self.arrays {
            if a.elem.is_float() && a.width != Width::Word {
                problems.push(format!(
                    "array `{}` is f32 but {} bytes wide (f32 arrays are 4-byte words)",
                    a.name,
                    a.width.bytes()
                ));
            }
        }
        let mut sorted: Vec<&ArrayDecl> = self.arrays.iter().collect();
        sorted.sort_by_key(|a| a.base);
        for w in sorted.windows(2) {
            if w[0].end() > w[1].base {
                problems.push(format!(
                    "arrays `{}` [{}..{}) and `{}` [{}..{}) overlap in the memory image",
                    w[0].name,
                    w[0].base,
                    w[0].end(),
                    w[1].name,
                    w[1].base,
                    w[1].end()
                ));
            }
        }
        if let Err(IrError::Invalid { message, .. }) = self.topo_order() {
            problems.push(message);
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(IrError::invalid(&self.name, problems.join("; ")))
        }
    }

    /// Which array holds a byte address range, if exactly one does.
    pub fn array_at(&self, addr: u32, bytes: u32) -> Option<usize> {
        self.arrays
            .iter()
            .position(|a| addr >= a.base && addr.checked_add(bytes).is_some_and(|e| e <= a.end()))
    }

    /// Size of the memory image in bytes (end of the highest array).
    pub fn memory_size(&self) -> u32 {
        self.arrays.iter().map(|a| a.end()).max().unwrap_or(0)
    }

    /// True when some cycle through the DFG crosses a loop-carried edge with two or more
    /// value-producing ops on it (a recurrence that limits II beyond one op).
    pub fn nodes_on_recurrences(&self) -> Vec<NodeId> {
        // A node lies on a recurrence when it is in a strongly connected component with
        // more than one node, or has a self edge.
        let sccs = petgraph::algo::tarjan_scc(&self.graph);
        let mut out = Vec::new();
        for scc in sccs {
            if scc.len() > 1 {
                out.extend(scc);
            } else if self.graph.find_edge(scc[0], scc[0]).is_some() {
                out.push(scc[0]);
            }
        }
        out.sort();
        out
    }
}
