//! Builders shared by the tests that assemble mappings by hand, and corpus loading.
#![allow(dead_code)] // each test file uses its own subset

use petgraph::graph::EdgeIndex;
use tessera_ir::Width;
use tessera_ir::kernel::{ArrayDecl, ArrayDir};
use tessera_map::mapping::{Loc, Placement, Segment};

/// A signed word array with random contents in -1000..=1000.
pub fn word_array(name: &str, len: u32, base: u32, dir: ArrayDir) -> ArrayDecl {
    ArrayDecl {
        name: name.into(),
        width: Width::Word,
        signed: true,
        len,
        base,
        dir,
        init_range: Some((-1000, 1000)),
        elem: Default::default(),
    }
}

/// An op on `pe` at `cycle`, registered, inputs at the start of the cycle.
pub fn place(pe: u16, cycle: u32) -> Placement {
    Placement {
        pe: Some(pe),
        cycle,
        start_ps: 0,
        registered: true,
    }
}

pub fn seg(cycle: u32, from: Loc, path: &[u16], to: Loc) -> Segment {
    Segment {
        cycle,
        from,
        path: path.to_vec(),
        to,
    }
}

pub fn out(pe: u16) -> Loc {
    Loc::Out { pe }
}

pub fn opnd(pe: u16) -> Loc {
    Loc::Operand { pe }
}

pub fn reg(pe: u16, reg: u16) -> Loc {
    Loc::Reg { pe, reg }
}

/// `y[i] = (a[i] + 5) * 3` over `trip` iterations: nodes `i += 4` (0), load `a` (1), add 5
/// (2), mul 3 (3), store `y` (4); edges in the order `i -> i` (carried), `i -> load`,
/// `load -> add`, `add -> mul`, `i -> store` (address), `mul -> store` (data).
pub fn affine_chain_kernel(trip: u32) -> (tessera_ir::Kernel, [EdgeIndex<u32>; 6]) {
    use tessera_ir::kernel::KernelSource;
    use tessera_ir::{Kernel, Node, Op, Operand};
    let mut k = Kernel::new("chain", KernelSource::Built);
    k.arrays.push(word_array("a", trip, 0, ArrayDir::In));
    k.arrays.push(word_array("y", trip, 16, ArrayDir::Out));
    k.trip_count = trip;
    let i = k.add_node(Node::new(Op::Add).with_imm(4));
    let ld = k.add_node(
        Node::new(Op::Load {
            width: Width::Word,
            signed: true,
        })
        .with_array(0),
    );
    let add = k.add_node(Node::new(Op::Add).with_imm(5));
    let mul = k.add_node(Node::new(Op::Mul).with_imm(3));
    let st = k.add_node(
        Node::new(Op::Store { width: Width::Word })
            .with_imm(16)
            .with_array(1),
    );
    let edges = [
        k.add_edge(i, i, Operand::carried(0, 1, -4)),
        k.add_edge(i, ld, Operand::data(0)),
        k.add_edge(ld, add, Operand::data(0)),
        k.add_edge(add, mul, Operand::data(0)),
        k.add_edge(i, st, Operand::data(0)),
        k.add_edge(mul, st, Operand::data(1)),
    ];
    (k, edges)
}

/// A DFG of the Morpher corpus vendored in `workloads/corpus/cgra/morpher-xml` (always
/// `Some`: a missing file is a broken checkout and fails the test).
pub fn corpus_kernel(file: &str) -> Option<tessera_ir::Kernel> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../workloads/corpus/cgra/morpher-xml")
        .join(file);
    assert!(
        path.exists(),
        "vendored corpus file missing: {}",
        path.display()
    );
    Some(tessera_ir::load_kernel(&path, &[]).unwrap())
}

/// A kernel of `workloads/kernels` and its mapping on a preset (default mapper options).
pub fn mapped_workload(file: &str, preset: &str) -> (tessera_ir::Kernel, tessera_map::Mapping) {
    use tessera_arch::spec_io::Spec;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../workloads/kernels")
        .join(file);
    let kernel = tessera_ir::load_kernel(&path, &[]).unwrap();
    let arch = tessera_arch::cgra::CgraSpec::preset(preset).unwrap();
    let m = tessera_map::driver::map_kernel(&kernel, &arch, &Default::default())
        .unwrap()
        .mapping;
    (kernel, m)
}
