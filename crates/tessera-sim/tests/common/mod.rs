//! Builders shared by the tests that assemble mappings by hand.
#![allow(dead_code)] // each test file uses its own subset

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
