//! Ops and their exact semantics.
//!
//! Every value is a 32-bit two's-complement integer (`i32`). Arithmetic wraps. Predicates
//! and comparison results are `0` (false) or `1` (true); any non-zero value counts as true
//! where a predicate is read. The semantics here are the single source of truth: the
//! reference interpreter, the CGRA simulator and the importers all call [`Op::eval`].
//!
//! | op | operands | result |
//! |---|---|---|
//! | `Const` | — | the node's immediate |
//! | `Input` | — | the kernel scalar input `scalars[i]` |
//! | `Add`, `Sub`, `Mul` | a, b | wrapping a+b, a−b, a·b (low 32 bits) |
//! | `Div`, `Rem` | a, b | signed, truncating toward zero; b = 0 gives −1 (`Div`) and a (`Rem`); MIN/−1 gives MIN and 0 (RISC-V M rules) |
//! | `DivU`, `RemU` | a, b | unsigned; b = 0 gives 0xFFFF_FFFF and a |
//! | `Shl`, `Lshr`, `Ashr` | a, b | shift a by (b & 31): left, logical right, arithmetic right |
//! | `And`, `Or`, `Xor` | a, b | bitwise |
//! | `Not` | a | bitwise complement |
//! | `Eq`, `Ne`, `Lt`, `Le`, `Gt`, `Ge` | a, b | signed comparison, 1 or 0 |
//! | `Ltu`, `Geu` | a, b | unsigned comparison, 1 or 0 |
//! | `Select` | c, a, b | a if c ≠ 0 else b |
//! | `Min`, `Max` | a, b | signed minimum / maximum |
//! | `Abs` | a | wrapping absolute value (abs(MIN) = MIN) |
//! | `Sext8`, `Sext16` | a | sign-extend the low 8 / 16 bits |
//! | `Zext8`, `Zext16` | a | zero-extend the low 8 / 16 bits |
//! | `Move` | a | a (a route-through or copy) |
//! | `Load { width, signed }` | addr | memory at byte address addr + imm, little-endian, sign- or zero-extended |
//! | `Store { width }` | addr, value | writes the low `width` bytes of value at addr + imm; result is value |
//! | `Merge` | a, b | a if a's predicate held, else b (see below) |
//!
//! Immediates: a node may carry an immediate (`imm`). For a `Const` it is the value; for a
//! load or store it is added to the address (`addr = operand0 + imm`, or `imm` alone when
//! the node has no address operand); for any other op with one operand too few, the
//! immediate is the missing last operand (so `Add` with one input and `imm = 4` is `a + 4`).
//!
//! Predication: any node may have a predicate operand (slot [`Slot::Pred`], with a polarity).
//! When the predicate does not hold the node is *squashed*: a store writes nothing, a load
//! reads nothing, and the node's result is 0 and marked not-valid. `Merge` passes on the first
//! operand that is valid (a value produced by a node whose predicate held, or by an
//! unpredicated node), else its last operand; this is how `if`/`else` and Morpher's CMERGE
//! join predicated paths.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Memory access width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub enum Width {
    Byte,
    Half,
    Word,
}

impl Width {
    pub fn bytes(self) -> u32 {
        match self {
            Width::Byte => 1,
            Width::Half => 2,
            Width::Word => 4,
        }
    }

    /// Extend a raw little-endian value of this width to i32.
    pub fn extend(self, raw: u32, signed: bool) -> i32 {
        match (self, signed) {
            (Width::Byte, true) => raw as u8 as i8 as i32,
            (Width::Byte, false) => raw as u8 as i32,
            (Width::Half, true) => raw as u16 as i16 as i32,
            (Width::Half, false) => raw as u16 as i32,
            (Width::Word, _) => raw as i32,
        }
    }
}

/// An operation of the loop-kernel IR. See the module docs for exact semantics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Op {
    Const,
    /// Scalar live-in, by index into `Kernel::scalars`.
    Input(u16),
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    DivU,
    RemU,
    Shl,
    Lshr,
    Ashr,
    And,
    Or,
    Xor,
    Not,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Ltu,
    Geu,
    Select,
    Min,
    Max,
    Abs,
    Sext8,
    Sext16,
    Zext8,
    Zext16,
    Move,
    Load {
        width: Width,
        signed: bool,
    },
    Store {
        width: Width,
    },
    Merge,
}

/// Resource class of an op: what kind of functional unit executes it. Architecture specs
/// give latency, combinational delay and energy per class, and list the classes each PE
/// supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum OpClass {
    /// Constants: held in configuration, need no functional unit unless routed.
    Const,
    /// Scalar live-ins: read from a live-in register.
    Input,
    /// Add, subtract, compare, min/max/abs.
    Arith,
    /// Bitwise logic, sign/zero extension, move.
    Logic,
    /// Shifts.
    Shift,
    /// Multiplication.
    Mul,
    /// Division and remainder.
    Div,
    /// Select and merge (multiplexers).
    Select,
    /// Loads.
    Load,
    /// Stores.
    Store,
}

impl OpClass {
    pub const ALL: [OpClass; 10] = [
        OpClass::Const,
        OpClass::Input,
        OpClass::Arith,
        OpClass::Logic,
        OpClass::Shift,
        OpClass::Mul,
        OpClass::Div,
        OpClass::Select,
        OpClass::Load,
        OpClass::Store,
    ];

    /// True for classes that access memory.
    pub fn is_memory(self) -> bool {
        matches!(self, OpClass::Load | OpClass::Store)
    }

    pub fn name(self) -> &'static str {
        match self {
            OpClass::Const => "const",
            OpClass::Input => "input",
            OpClass::Arith => "arith",
            OpClass::Logic => "logic",
            OpClass::Shift => "shift",
            OpClass::Mul => "mul",
            OpClass::Div => "div",
            OpClass::Select => "select",
            OpClass::Load => "load",
            OpClass::Store => "store",
        }
    }
}

impl fmt::Display for OpClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How many data operands an op takes (an immediate may stand for the last one; see
/// module docs). `Merge` takes two or more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arity {
    pub min: usize,
    pub max: usize,
}

impl Op {
    /// Every op without data (for listing and tests).
    pub const ALL_SIMPLE: [Op; 33] = [
        Op::Const,
        Op::Add,
        Op::Sub,
        Op::Mul,
        Op::Div,
        Op::Rem,
        Op::DivU,
        Op::RemU,
        Op::Shl,
        Op::Lshr,
        Op::Ashr,
        Op::And,
        Op::Or,
        Op::Xor,
        Op::Not,
        Op::Eq,
        Op::Ne,
        Op::Lt,
        Op::Le,
        Op::Gt,
        Op::Ge,
        Op::Ltu,
        Op::Geu,
        Op::Select,
        Op::Min,
        Op::Max,
        Op::Abs,
        Op::Sext8,
        Op::Sext16,
        Op::Zext8,
        Op::Zext16,
        Op::Move,
        Op::Merge,
    ];

    pub fn class(self) -> OpClass {
        use Op::*;
        match self {
            Const => OpClass::Const,
            Input(_) => OpClass::Input,
            Add | Sub | Eq | Ne | Lt | Le | Gt | Ge | Ltu | Geu | Min | Max | Abs => OpClass::Arith,
            And | Or | Xor | Not | Sext8 | Sext16 | Zext8 | Zext16 | Move => OpClass::Logic,
            Shl | Lshr | Ashr => OpClass::Shift,
            Mul => OpClass::Mul,
            Div | Rem | DivU | RemU => OpClass::Div,
            Select | Merge => OpClass::Select,
            Load { .. } => OpClass::Load,
            Store { .. } => OpClass::Store,
        }
    }

    /// Number of data operands (counting an immediate standing in for the last one).
    pub fn arity(self) -> Arity {
        use Op::*;
        let (min, max) = match self {
            Const | Input(_) => (0, 0),
            Not | Abs | Sext8 | Sext16 | Zext8 | Zext16 | Move => (1, 1),
            Select => (3, 3),
            Merge => (2, 8),
            Load { .. } => (0, 1),
            Store { .. } => (1, 2),
            _ => (2, 2),
        };
        Arity { min, max }
    }

    pub fn is_load(self) -> bool {
        matches!(self, Op::Load { .. })
    }

    pub fn is_store(self) -> bool {
        matches!(self, Op::Store { .. })
    }

    pub fn is_memory(self) -> bool {
        self.is_load() || self.is_store()
    }

    /// Lower-case mnemonic, as written in DOT exports and the kernel language docs.
    pub fn mnemonic(self) -> String {
        use Op::*;
        match self {
            Input(i) => format!("input{i}"),
            Load { width, signed } => format!(
                "load{}{}",
                match width {
                    Width::Byte => "b",
                    Width::Half => "h",
                    Width::Word => "",
                },
                if signed || width == Width::Word {
                    ""
                } else {
                    "u"
                }
            ),
            Store { width } => format!(
                "store{}",
                match width {
                    Width::Byte => "b",
                    Width::Half => "h",
                    Width::Word => "",
                }
            ),
            other => format!("{other:?}").to_lowercase(),
        }
    }

    /// Evaluate a compute op on its data operands (immediate already appended by the
    /// caller). Memory ops, `Const`, `Input` and `Merge` are handled by the caller, which
    /// knows memory, immediates, inputs and validity; for those this returns `None`.
    /// The caller guarantees the operand count matches [`Op::arity`].
    #[inline]
    pub fn eval(self, a: &[i32]) -> Option<i32> {
        use Op::*;
        let x = |i: usize| a[i];
        Some(match self {
            Add => x(0).wrapping_add(x(1)),
            Sub => x(0).wrapping_sub(x(1)),
            Mul => x(0).wrapping_mul(x(1)),
            Div => {
                if x(1) == 0 {
                    -1
                } else {
                    x(0).wrapping_div(x(1))
                }
            }
            Rem => {
                if x(1) == 0 {
                    x(0)
                } else {
                    x(0).wrapping_rem(x(1))
                }
            }
            DivU => {
                if x(1) == 0 {
                    -1
                } else {
                    ((x(0) as u32) / (x(1) as u32)) as i32
                }
            }
            RemU => {
                if x(1) == 0 {
                    x(0)
                } else {
                    ((x(0) as u32) % (x(1) as u32)) as i32
                }
            }
            Shl => x(0).wrapping_shl(x(1) as u32 & 31),
            Lshr => ((x(0) as u32) >> (x(1) as u32 & 31)) as i32,
            Ashr => x(0) >> (x(1) as u32 & 31),
            And => x(0) & x(1),
            Or => x(0) | x(1),
            Xor => x(0) ^ x(1),
            Not => !x(0),
            Eq => (x(0) == x(1)) as i32,
            Ne => (x(0) != x(1)) as i32,
            Lt => (x(0) < x(1)) as i32,
            Le => (x(0) <= x(1)) as i32,
            Gt => (x(0) > x(1)) as i32,
            Ge => (x(0) >= x(1)) as i32,
            Ltu => ((x(0) as u32) < (x(1) as u32)) as i32,
            Geu => ((x(0) as u32) >= (x(1) as u32)) as i32,
            Select => {
                if x(0) != 0 {
                    x(1)
                } else {
                    x(2)
                }
            }
            Min => x(0).min(x(1)),
            Max => x(0).max(x(1)),
            Abs => x(0).wrapping_abs(),
            Sext8 => x(0) as i8 as i32,
            Sext16 => x(0) as i16 as i32,
            Zext8 => x(0) as u8 as i32,
            Zext16 => x(0) as u16 as i32,
            Move => x(0),
            Const | Input(_) | Load { .. } | Store { .. } | Merge => return None,
        })
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.mnemonic())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_and_edge_cases() {
        assert_eq!(Op::Add.eval(&[i32::MAX, 1]), Some(i32::MIN));
        assert_eq!(Op::Mul.eval(&[0x10000, 0x10000]), Some(0));
        assert_eq!(Op::Div.eval(&[7, 0]), Some(-1));
        assert_eq!(Op::Div.eval(&[i32::MIN, -1]), Some(i32::MIN));
        assert_eq!(Op::Rem.eval(&[i32::MIN, -1]), Some(0));
        assert_eq!(Op::Rem.eval(&[-7, 2]), Some(-1));
        assert_eq!(Op::DivU.eval(&[-2, 2]), Some(0x7FFF_FFFF));
        assert_eq!(Op::Shl.eval(&[1, 33]), Some(2));
        assert_eq!(Op::Ashr.eval(&[-8, 1]), Some(-4));
        assert_eq!(Op::Lshr.eval(&[-8, 28]), Some(0xF));
        assert_eq!(Op::Ltu.eval(&[-1, 1]), Some(0));
        assert_eq!(Op::Lt.eval(&[-1, 1]), Some(1));
        assert_eq!(Op::Abs.eval(&[i32::MIN]), Some(i32::MIN));
        assert_eq!(Op::Sext8.eval(&[0x80]), Some(-128));
        assert_eq!(Op::Zext16.eval(&[-1]), Some(0xFFFF));
        assert_eq!(Op::Select.eval(&[2, 10, 20]), Some(10));
        assert_eq!(Op::Select.eval(&[0, 10, 20]), Some(20));
    }

    #[test]
    fn every_simple_op_has_a_class_and_mnemonic() {
        for op in Op::ALL_SIMPLE {
            assert!(!op.mnemonic().is_empty());
            let _ = op.class();
        }
        assert_eq!(
            Op::Load {
                width: Width::Byte,
                signed: false
            }
            .mnemonic(),
            "loadbu"
        );
    }
}
