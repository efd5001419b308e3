//! Ops and their exact semantics.
//!
//! Every value is a 32-bit word (`i32`). Integer ops read it as two's complement and wrap.
//! Float ops (`F*`) read and write the same 32 bits as an IEEE 754 binary32 number
//! (`f32::from_bits` / `to_bits`), round to nearest, ties to even, with subnormals kept
//! (no flush to zero); every NaN they produce is the one canonical quiet NaN
//! [`CANONICAL_NAN`] (`0x7FC0_0000`), so results are the same bits on every host. Predicates
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
//! | `FAdd`, `FSub`, `FMul`, `FDiv` | a, b | binary32 a+b, a−b, a·b, a/b, round to nearest even; a NaN result is [`CANONICAL_NAN`] (x/0 is ±inf, 0/0 is NaN) |
//! | `FNeg`, `FAbs` | a | flip / clear the sign bit (bit operations: −0.0 and NaN payloads pass through, as IEEE 754 `negate`/`abs`) |
//! | `FMin`, `FMax` | a, b | IEEE 754-2008 `minNum`/`maxNum`: a NaN operand yields the other operand, two NaNs yield [`CANONICAL_NAN`]; −0.0 is below +0.0 |
//! | `FEq`, `FNe`, `FLt`, `FLe` | a, b | LLVM `fcmp oeq`, `une`, `olt`, `ole`: 1 or 0; with a NaN operand `FEq`, `FLt`, `FLe` give 0 and `FNe` gives 1; −0.0 equals +0.0 |
//! | `FToSI` | a | `fptosi`: truncate toward zero to i32; saturating: above `i32::MAX` gives `i32::MAX`, below `i32::MIN` gives `i32::MIN`, NaN gives 0 (Rust `as`, RISC-V `fcvt.w.s` except NaN) |
//! | `SIToF` | a | `sitofp`: the signed integer a to binary32, round to nearest even |
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

/// The one NaN bit pattern float ops produce: the positive quiet NaN with a zero payload
/// (RISC-V's canonical NaN).
pub const CANONICAL_NAN: i32 = 0x7FC0_0000;

/// A float result as a value word: its bits, with any NaN replaced by [`CANONICAL_NAN`].
#[inline]
pub fn f32_word(x: f32) -> i32 {
    if x.is_nan() {
        CANONICAL_NAN
    } else {
        x.to_bits() as i32
    }
}

/// A value word read as binary32.
#[inline]
pub fn word_f32(w: i32) -> f32 {
    f32::from_bits(w as u32)
}

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
    /// binary32 add (see module docs for all float ops).
    FAdd,
    FSub,
    FMul,
    FDiv,
    FNeg,
    FAbs,
    FMin,
    FMax,
    FEq,
    FNe,
    FLt,
    FLe,
    /// Float to signed integer, truncating, saturating (`fptosi`).
    FToSI,
    /// Signed integer to float, round to nearest even (`sitofp`).
    SIToF,
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
    /// Floating-point adder: binary32 add, subtract, negate, abs, min/max, compares and
    /// int <-> float conversions.
    FpAdd,
    /// Floating-point multiplier.
    FpMul,
    /// Floating-point divider.
    FpDiv,
}

impl OpClass {
    pub const ALL: [OpClass; 13] = [
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
        OpClass::FpAdd,
        OpClass::FpMul,
        OpClass::FpDiv,
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
            OpClass::FpAdd => "fp_add",
            OpClass::FpMul => "fp_mul",
            OpClass::FpDiv => "fp_div",
        }
    }

    /// True for the floating-point classes.
    pub fn is_float(self) -> bool {
        matches!(self, OpClass::FpAdd | OpClass::FpMul | OpClass::FpDiv)
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
    pub const ALL_SIMPLE: [Op; 47] = [
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
        Op::FAdd,
        Op::FSub,
        Op::FMul,
        Op::FDiv,
        Op::FNeg,
        Op::FAbs,
        Op::FMin,
        Op::FMax,
        Op::FEq,
        Op::FNe,
        Op::FLt,
        Op::FLe,
        Op::FToSI,
        Op::SIToF,
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
            FAdd | FSub | FNeg | FAbs | FMin | FMax | FEq | FNe | FLt | FLe | FToSI | SIToF => {
                OpClass::FpAdd
            }
            FMul => OpClass::FpMul,
            FDiv => OpClass::FpDiv,
        }
    }

    /// True for the binary32 ops (those that read or write a value word as a float).
    pub fn is_float(self) -> bool {
        self.class().is_float()
    }

    /// True when the op's result is a binary32 value (false for float compares and
    /// `FToSI`, whose results are integers).
    pub fn yields_float(self) -> bool {
        use Op::*;
        matches!(
            self,
            FAdd | FSub | FMul | FDiv | FNeg | FAbs | FMin | FMax | SIToF
        )
    }

    /// Number of data operands (counting an immediate standing in for the last one).
    pub fn arity(self) -> Arity {
        use Op::*;
        let (min, max) = match self {
            Const | Input(_) => (0, 0),
            Not | Abs | Sext8 | Sext16 | Zext8 | Zext16 | Move | FNeg | FAbs | FToSI | SIToF => {
                (1, 1)
            }
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
            FToSI => "fptosi".to_string(),
            SIToF => "sitofp".to_string(),
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
        let f = |i: usize| word_f32(a[i]);
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
            FAdd => f32_word(f(0) + f(1)),
            FSub => f32_word(f(0) - f(1)),
            FMul => f32_word(f(0) * f(1)),
            FDiv => f32_word(f(0) / f(1)),
            FNeg => x(0) ^ i32::MIN,
            FAbs => x(0) & i32::MAX,
            FMin | FMax => {
                let (p, q) = (f(0), f(1));
                match (p.is_nan(), q.is_nan()) {
                    (true, true) => CANONICAL_NAN,
                    (true, false) => x(1),
                    (false, true) => x(0),
                    (false, false) => {
                        // -0.0 < +0.0 (total order on the remaining values).
                        let less = p < q || (p == q && p.is_sign_negative());
                        if less == (self == FMin) { x(0) } else { x(1) }
                    }
                }
            }
            FEq => (f(0) == f(1)) as i32,
            FNe => (f(0) != f(1)) as i32,
            FLt => (f(0) < f(1)) as i32,
            FLe => (f(0) <= f(1)) as i32,
            // Rust's float-to-int `as` truncates, saturates and maps NaN to 0.
            FToSI => f(0) as i32,
            // Rust's int-to-float `as` rounds to nearest, ties to even.
            SIToF => f32_word(x(0) as f32),
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

    fn w(x: f32) -> i32 {
        x.to_bits() as i32
    }

    #[test]
    fn float_arithmetic_rounds_to_nearest_even() {
        assert_eq!(Op::FAdd.eval(&[w(1.5), w(2.25)]), Some(w(3.75)));
        // 1 + 2^-24 is a tie between 1 and 1 + 2^-23: ties to even gives 1.0.
        assert_eq!(Op::FAdd.eval(&[w(1.0), w(2f32.powi(-24))]), Some(w(1.0)));
        // (1 + 2^-23) + 2^-24 ties between 1 + 2^-23 (odd) and 1 + 2^-22 (even).
        let odd = 1.0 + 2f32.powi(-23);
        assert_eq!(
            Op::FAdd.eval(&[w(odd), w(2f32.powi(-24))]),
            Some(w(1.0 + 2f32.powi(-22)))
        );
        // Above the tie rounds up.
        assert_eq!(
            Op::FAdd.eval(&[w(1.0), w(2f32.powi(-24) + 2f32.powi(-30))]),
            Some(w(odd))
        );
        assert_eq!(Op::FSub.eval(&[w(1.0), w(3.0)]), Some(w(-2.0)));
        assert_eq!(Op::FMul.eval(&[w(-1.5), w(4.0)]), Some(w(-6.0)));
        // 1/3 is 0x3EAAAAAB in binary32 (the last bit rounded up).
        assert_eq!(Op::FDiv.eval(&[w(1.0), w(3.0)]), Some(0x3EAA_AAAB));
        // Overflow to infinity, division by zero.
        assert_eq!(
            Op::FMul.eval(&[w(f32::MAX), w(2.0)]),
            Some(w(f32::INFINITY))
        );
        assert_eq!(
            Op::FDiv.eval(&[w(-1.0), w(0.0)]),
            Some(w(f32::NEG_INFINITY))
        );
        // Subnormals are kept, not flushed.
        let tiny = f32::from_bits(1);
        assert_eq!(Op::FAdd.eval(&[w(tiny), w(tiny)]), Some(2));
        // x + (-x) is +0.0; -0.0 + -0.0 is -0.0.
        assert_eq!(Op::FAdd.eval(&[w(2.0), w(-2.0)]), Some(0));
        assert_eq!(Op::FAdd.eval(&[w(-0.0), w(-0.0)]), Some(i32::MIN));
    }

    #[test]
    fn float_nan_results_are_canonical() {
        let odd_nan = 0x7FA0_1234u32 as i32; // a signalling NaN with a payload
        let neg_nan = 0xFFC0_0001u32 as i32;
        assert!(word_f32(odd_nan).is_nan() && word_f32(neg_nan).is_nan());
        assert_eq!(Op::FAdd.eval(&[odd_nan, w(1.0)]), Some(CANONICAL_NAN));
        assert_eq!(Op::FMul.eval(&[neg_nan, w(1.0)]), Some(CANONICAL_NAN));
        assert_eq!(Op::FDiv.eval(&[w(0.0), w(0.0)]), Some(CANONICAL_NAN));
        assert_eq!(
            Op::FSub.eval(&[w(f32::INFINITY), w(f32::INFINITY)]),
            Some(CANONICAL_NAN)
        );
        assert_eq!(
            Op::FMul.eval(&[w(0.0), w(f32::INFINITY)]),
            Some(CANONICAL_NAN)
        );
        assert_eq!(Op::FMin.eval(&[odd_nan, neg_nan]), Some(CANONICAL_NAN));
        // Sign-bit ops are bit operations (IEEE negate/abs): NaN payloads pass through.
        assert_eq!(Op::FNeg.eval(&[odd_nan]), Some(odd_nan ^ i32::MIN));
        assert_eq!(Op::FAbs.eval(&[neg_nan]), Some(neg_nan & i32::MAX));
    }

    #[test]
    fn float_sign_min_max_and_compares() {
        assert_eq!(Op::FNeg.eval(&[w(0.0)]), Some(w(-0.0)));
        assert_eq!(Op::FNeg.eval(&[w(-3.5)]), Some(w(3.5)));
        assert_eq!(Op::FAbs.eval(&[w(-0.0)]), Some(0));
        assert_eq!(Op::FAbs.eval(&[w(-7.25)]), Some(w(7.25)));
        assert_eq!(Op::FMin.eval(&[w(0.0), w(-0.0)]), Some(w(-0.0)));
        assert_eq!(Op::FMin.eval(&[w(-0.0), w(0.0)]), Some(w(-0.0)));
        assert_eq!(Op::FMax.eval(&[w(-0.0), w(0.0)]), Some(w(0.0)));
        assert_eq!(Op::FMax.eval(&[w(0.0), w(-0.0)]), Some(w(0.0)));
        assert_eq!(Op::FMin.eval(&[w(2.0), w(-3.0)]), Some(w(-3.0)));
        assert_eq!(Op::FMax.eval(&[w(2.0), w(-3.0)]), Some(w(2.0)));
        assert_eq!(Op::FMin.eval(&[CANONICAL_NAN, w(5.0)]), Some(w(5.0)));
        assert_eq!(Op::FMax.eval(&[w(5.0), CANONICAL_NAN]), Some(w(5.0)));
        let nan = CANONICAL_NAN;
        assert_eq!(Op::FEq.eval(&[w(0.0), w(-0.0)]), Some(1));
        assert_eq!(Op::FNe.eval(&[w(0.0), w(-0.0)]), Some(0));
        assert_eq!(Op::FEq.eval(&[nan, nan]), Some(0));
        assert_eq!(Op::FNe.eval(&[nan, nan]), Some(1));
        assert_eq!(Op::FLt.eval(&[w(-1.0), w(1.0)]), Some(1));
        assert_eq!(Op::FLt.eval(&[w(1.0), w(1.0)]), Some(0));
        assert_eq!(Op::FLe.eval(&[w(1.0), w(1.0)]), Some(1));
        assert_eq!(Op::FLt.eval(&[nan, w(1.0)]), Some(0));
        assert_eq!(Op::FLe.eval(&[w(1.0), nan]), Some(0));
        // Integer compares of the same bits would differ: -1.0 < 1.0 as floats, but
        // the bit patterns compare the other way round for two negative floats.
        assert_eq!(Op::FLt.eval(&[w(-2.0), w(-1.0)]), Some(1));
        assert_eq!(Op::Lt.eval(&[w(-2.0), w(-1.0)]), Some(0));
    }

    #[test]
    fn float_int_conversions() {
        assert_eq!(Op::FToSI.eval(&[w(2.9)]), Some(2));
        assert_eq!(Op::FToSI.eval(&[w(-2.9)]), Some(-2));
        assert_eq!(Op::FToSI.eval(&[w(-0.0)]), Some(0));
        assert_eq!(Op::FToSI.eval(&[CANONICAL_NAN]), Some(0));
        assert_eq!(Op::FToSI.eval(&[w(3e9)]), Some(i32::MAX));
        assert_eq!(Op::FToSI.eval(&[w(-3e9)]), Some(i32::MIN));
        assert_eq!(Op::FToSI.eval(&[w(f32::INFINITY)]), Some(i32::MAX));
        assert_eq!(Op::FToSI.eval(&[w(-2147483648.0)]), Some(i32::MIN));
        assert_eq!(Op::SIToF.eval(&[-3]), Some(w(-3.0)));
        // 2^24 + 1 is a tie between 2^24 and 2^24 + 2: to even, 2^24.
        assert_eq!(Op::SIToF.eval(&[(1 << 24) + 1]), Some(w(16_777_216.0)));
        // 2^24 + 3 ties between 2^24 + 2 and 2^24 + 4 (even mantissa): 2^24 + 4.
        assert_eq!(Op::SIToF.eval(&[(1 << 24) + 3]), Some(w(16_777_220.0)));
        assert_eq!(Op::SIToF.eval(&[i32::MAX]), Some(w(2147483648.0)));
        assert_eq!(Op::SIToF.eval(&[i32::MIN]), Some(w(-2147483648.0)));
    }

    #[test]
    fn float_ops_have_float_classes() {
        assert_eq!(Op::FAdd.class(), OpClass::FpAdd);
        assert_eq!(Op::FLt.class(), OpClass::FpAdd);
        assert_eq!(Op::SIToF.class(), OpClass::FpAdd);
        assert_eq!(Op::FMul.class(), OpClass::FpMul);
        assert_eq!(Op::FDiv.class(), OpClass::FpDiv);
        assert_eq!(Op::FToSI.mnemonic(), "fptosi");
        assert_eq!(OpClass::FpAdd.name(), "fp_add");
        assert!(Op::FAdd.yields_float() && !Op::FLt.yields_float() && !Op::FToSI.yields_float());
        for op in Op::ALL_SIMPLE {
            assert_eq!(
                op.is_float(),
                op.mnemonic().starts_with('f') && op != Op::FToSI
                    || op == Op::FToSI
                    || op == Op::SIToF,
                "{op}"
            );
        }
    }
}
