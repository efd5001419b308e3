//! Lowering of a parsed kernel to the DFG.
//!
//! The body is first lowered to a small value table (hash-consed, constant-folded, with
//! the affine form `a*i + c` of every value where it is known), then dead values are
//! dropped and the live ones become [`Kernel`] nodes in program order. Finally memory
//! ordering edges are added between possibly aliasing accesses (see `order_edges`).

use super::lexer::Pos;
use super::parser::{BinOp, Decl, Dir, ElemType, Expr, ExprKind, KernelAst, Stmt, UnOp};
use crate::kernel::{
    ArrayDecl, ArrayDir, Kernel, KernelSource, LiveOut, Node, NodeId, Operand, ScalarDecl, Slot,
};
use crate::op::{Op, Width};
use crate::{IrError, SourceLoc};
use std::collections::{BTreeMap, HashMap};

/// Largest array accepted, in elements (keeps the memory image small enough to allocate).
const MAX_ARRAY_LEN: i64 = 1 << 24;
/// Largest memory image accepted, in bytes.
const MAX_MEMORY_BYTES: i64 = 1 << 26;
/// Largest trip count accepted.
const MAX_TRIP_COUNT: i64 = 1 << 24;

/// A value reference during lowering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum R {
    /// A constant.
    C(i32),
    /// A value of the table (current iteration).
    N(u32),
    /// The previous iteration's value of loop-carried variable `v` (its init in iteration 0).
    Prev(u16),
}

#[derive(Debug, Clone)]
struct Val {
    op: Op,
    args: Vec<R>,
    /// Address offset (memory ops) or value (`Const`).
    imm: Option<i32>,
    pred: Option<(R, bool)>,
    array: Option<u16>,
    label: String,
    /// `value = a*i + c` in exact arithmetic, when known (`i` = the induction variable).
    affine: Option<(i64, i64)>,
    /// Known to be 0 or 1.
    boolean: bool,
    /// For memory ops: the affine form of the element index, when it is exact (see
    /// `trusted_affine`).
    index_affine: Option<(i64, i64)>,
}

impl Val {
    fn new(op: Op, args: Vec<R>) -> Self {
        Self {
            op,
            args,
            imm: None,
            pred: None,
            array: None,
            label: String::new(),
            affine: None,
            boolean: false,
            index_affine: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    op: Op,
    args: Vec<R>,
    imm: Option<i32>,
    pred: Option<(R, bool)>,
    array: Option<u16>,
    epoch: u32,
}

#[derive(Debug, Clone, Copy)]
enum Sym {
    Param(i64),
    Array(u16),
    Scalar(u16),
    /// Loop-carried variable (index into `vars`; the induction variable also has an entry
    /// there, for its init, but is `Induction` here because it cannot be assigned).
    Var(u16),
    Induction,
}

struct ArrInfo {
    decl: ArrayDecl,
    /// Size of each dimension (row-major); one entry for a plain array.
    dims: Vec<i64>,
}

struct VarInfo {
    name: String,
    init: i32,
}

struct Lowerer<'a> {
    file: &'a str,
    vals: Vec<Val>,
    cse: HashMap<Key, u32>,
    epoch: Vec<u32>,
    syms: HashMap<String, Sym>,
    arrays: Vec<ArrInfo>,
    scalars: Vec<ScalarDecl>,
    vars: Vec<VarInfo>,
    /// Current value of every assignable name (vars and `let` temporaries in scope).
    env: BTreeMap<String, R>,
    /// Names (vars, `let` temporaries) whose values are f32; every other name is i32.
    float_names: std::collections::HashSet<String>,
    /// Current predicate (inside `if`): value and polarity.
    pred: Option<(R, bool)>,
    /// Value id of the induction variable's `Add` (never reassociated or split).
    induction_val: u32,
    lo: i64,
    step: i64,
    trip: i64,
}

fn loc(file: &str, pos: Pos) -> SourceLoc {
    SourceLoc::new(file, pos.line, pos.col)
}

/// Element type → (width, signed).
fn elem(ty: ElemType) -> (Width, bool) {
    match ty {
        ElemType::I8 => (Width::Byte, true),
        ElemType::U8 => (Width::Byte, false),
        ElemType::I16 => (Width::Half, true),
        ElemType::U16 => (Width::Half, false),
        ElemType::I32 | ElemType::F32 => (Width::Word, true),
    }
}

fn elem_name(ty: ElemType) -> &'static str {
    match ty {
        ElemType::I8 => "i8",
        ElemType::U8 => "u8",
        ElemType::I16 => "i16",
        ElemType::U16 => "u16",
        ElemType::I32 => "i32",
        ElemType::F32 => "f32",
    }
}

fn elem_range(ty: ElemType) -> (i64, i64) {
    match ty {
        ElemType::I8 => (i8::MIN as i64, i8::MAX as i64),
        ElemType::U8 => (0, u8::MAX as i64),
        ElemType::I16 => (i16::MIN as i64, i16::MAX as i64),
        ElemType::U16 => (0, u16::MAX as i64),
        ElemType::I32 => (i32::MIN as i64, i32::MAX as i64),
        // A range of real values for an f32 array's random inputs.
        ElemType::F32 => (-(1 << 24), 1 << 24),
    }
}

/// The type of a value: every value is a 32-bit word, read as an integer or as binary32.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    I32,
    F32,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::I32 => "i32",
            Ty::F32 => "f32",
        }
    }
}

fn binop_text(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Mul => "*",
        BinOp::Div => "/",
        BinOp::Rem => "%",
        BinOp::Shl => "<<",
        BinOp::Ashr => ">>",
        BinOp::Lshr => ">>>",
        BinOp::And => "&",
        BinOp::Or => "|",
        BinOp::Xor => "^",
        BinOp::Eq => "==",
        BinOp::Ne => "!=",
        BinOp::Lt => "<",
        BinOp::Le => "<=",
        BinOp::Gt => ">",
        BinOp::Ge => ">=",
        BinOp::LogAnd => "&&",
        BinOp::LogOr => "||",
    }
}

/// Lower a parsed kernel with parameter overrides.
pub fn lower(ast: &KernelAst, file: &str, overrides: &[(String, i64)]) -> Result<Kernel, IrError> {
    let mut lw = Lowerer {
        file,
        vals: Vec::new(),
        cse: HashMap::new(),
        epoch: Vec::new(),
        syms: HashMap::new(),
        arrays: Vec::new(),
        scalars: Vec::new(),
        vars: Vec::new(),
        env: BTreeMap::new(),
        float_names: Default::default(),
        pred: None,
        induction_val: u32::MAX,
        lo: 0,
        step: 1,
        trip: 0,
    };
    lw.declare_params(ast, overrides)?;
    lw.declare(ast)?;
    lw.lower_loop(ast)?;
    lw.finish(ast)
}

impl<'a> Lowerer<'a> {
    fn err(&self, pos: Pos, msg: impl Into<String>) -> IrError {
        IrError::parse(loc(self.file, pos), msg)
    }

    fn define(&mut self, name: &str, pos: Pos, sym: Sym) -> Result<(), IrError> {
        if self.syms.contains_key(name) {
            return Err(self.err(
                pos,
                format!("`{name}` is already declared; expected a new name"),
            ));
        }
        self.syms.insert(name.to_string(), sym);
        Ok(())
    }

    fn declare_params(
        &mut self,
        ast: &KernelAst,
        overrides: &[(String, i64)],
    ) -> Result<(), IrError> {
        for (name, _) in overrides {
            if !ast.params.iter().any(|(p, _, _)| p == name) {
                let known: Vec<&str> = ast.params.iter().map(|(p, _, _)| p.as_str()).collect();
                return Err(self.err(
                    ast.pos,
                    format!(
                        "unknown parameter `{name}` in override; kernel `{}` has {}",
                        ast.name,
                        if known.is_empty() {
                            "no parameters".to_string()
                        } else {
                            format!("parameters {}", known.join(", "))
                        }
                    ),
                ));
            }
        }
        for (name, pos, default) in &ast.params {
            let v = match overrides.iter().rev().find(|(n, _)| n == name) {
                Some((_, v)) => *v,
                None => self.ceval(default)?,
            };
            self.define(name, *pos, Sym::Param(v))?;
        }
        Ok(())
    }

    /// Evaluate a compile-time constant expression (numbers and parameters).
    fn ceval(&self, e: &Expr) -> Result<i64, IrError> {
        match &e.kind {
            ExprKind::Int(v) => Ok(*v),
            ExprKind::Float(_) => Err(self.err(
                e.pos,
                "float literal in a constant expression; sizes, parameters and ranges are integers",
            )),
            ExprKind::Name(n) => self.cname(n, e.pos),
            ExprKind::Unary(op, a) => {
                let a = self.ceval(a)?;
                self.cunary(*op, a, e.pos)
            }
            ExprKind::Binary(op, a, b) => {
                let a = self.ceval(a)?;
                let b = self.ceval(b)?;
                self.cbinary(*op, a, b, e.pos)
            }
            ExprKind::Cond(c, a, b) => {
                if self.ceval(c)? != 0 {
                    self.ceval(a)
                } else {
                    self.ceval(b)
                }
            }
            ExprKind::Call(f, args) => {
                let mut vals = Vec::with_capacity(args.len());
                for a in args {
                    vals.push(self.ceval(a)?);
                }
                self.ccall(f, &vals, e.pos)
            }
            ExprKind::Index(a, _) => Err(self.err(
                e.pos,
                format!("array element `{a}[...]` in a constant expression; expected numbers and parameters"),
            )),
        }
    }

    fn cname(&self, n: &str, pos: Pos) -> Result<i64, IrError> {
        match self.syms.get(n) {
            Some(Sym::Param(v)) => Ok(*v),
            Some(_) => Err(self.err(
                pos,
                format!("`{n}` is not a parameter; expected a constant expression of numbers and parameters"),
            )),
            None => Err(self.err(pos, format!("unknown parameter `{n}`"))),
        }
    }

    fn cunary(&self, op: UnOp, a: i64, pos: Pos) -> Result<i64, IrError> {
        Ok(match op {
            UnOp::Neg => a
                .checked_neg()
                .ok_or_else(|| self.err(pos, "overflow in constant expression"))?,
            UnOp::Not => !a,
            UnOp::LogNot => (a == 0) as i64,
        })
    }

    fn cbinary(&self, op: BinOp, a: i64, b: i64, pos: Pos) -> Result<i64, IrError> {
        let overflow = || self.err(pos, "overflow in constant expression");
        Ok({
            let shift = |b: i64| -> Result<u32, IrError> {
                if (0..63).contains(&b) {
                    Ok(b as u32)
                } else {
                    Err(self.err(
                        pos,
                        format!("shift amount {b} out of range 0..63 in constant expression"),
                    ))
                }
            };
            match op {
                BinOp::Add => a.checked_add(b).ok_or_else(overflow)?,
                BinOp::Sub => a.checked_sub(b).ok_or_else(overflow)?,
                BinOp::Mul => a.checked_mul(b).ok_or_else(overflow)?,
                BinOp::Div | BinOp::Rem => {
                    if b == 0 {
                        return Err(self.err(pos, "division by zero in constant expression"));
                    }
                    if op == BinOp::Div {
                        a.checked_div(b).ok_or_else(overflow)?
                    } else {
                        a.checked_rem(b).ok_or_else(overflow)?
                    }
                }
                BinOp::Shl => a.checked_shl(shift(b)?).ok_or_else(overflow)?,
                BinOp::Ashr => a >> shift(b)?,
                BinOp::Lshr => ((a as u64) >> shift(b)?) as i64,
                BinOp::And => a & b,
                BinOp::Or => a | b,
                BinOp::Xor => a ^ b,
                BinOp::Eq => (a == b) as i64,
                BinOp::Ne => (a != b) as i64,
                BinOp::Lt => (a < b) as i64,
                BinOp::Le => (a <= b) as i64,
                BinOp::Gt => (a > b) as i64,
                BinOp::Ge => (a >= b) as i64,
                BinOp::LogAnd => (a != 0 && b != 0) as i64,
                BinOp::LogOr => (a != 0 || b != 0) as i64,
            }
        })
    }

    fn ccall(&self, f: &str, vals: &[i64], pos: Pos) -> Result<i64, IrError> {
        let overflow = || self.err(pos, "overflow in constant expression");
        Ok({
            match (f, vals) {
                ("min", [a, b]) => *a.min(b),
                ("max", [a, b]) => *a.max(b),
                ("abs", [a]) => a.checked_abs().ok_or_else(overflow)?,
                ("log2", [a]) if *a > 0 => 63 - a.leading_zeros() as i64,
                _ => {
                    return Err(self.err(
                        pos,
                        format!(
                            "`{f}` with {} argument(s) is not available in constant expressions; \
                                 expected min(a, b), max(a, b), abs(a) or log2(a > 0)",
                            vals.len()
                        ),
                    ));
                }
            }
        })
    }

    /// A constant that must fit 32 bits (signed, or unsigned bit patterns up to 2^32-1).
    fn ceval_i32(&self, e: &Expr, what: &str) -> Result<i32, IrError> {
        let v = self.ceval(e)?;
        if v < i32::MIN as i64 || v > u32::MAX as i64 {
            return Err(self.err(e.pos, format!("{what} {v} does not fit 32 bits")));
        }
        Ok(v as u32 as i32)
    }

    fn declare(&mut self, ast: &KernelAst) -> Result<(), IrError> {
        let mut next_base: i64 = 0;
        for d in &ast.decls {
            match d {
                Decl::Array {
                    dir,
                    ty,
                    name,
                    pos,
                    dims,
                    range,
                } => {
                    let mut sizes = Vec::with_capacity(dims.len());
                    let mut len: i64 = 1;
                    for d in dims {
                        let n = self.ceval(d)?;
                        len = len.saturating_mul(n.max(0));
                        if !(1..=MAX_ARRAY_LEN).contains(&n) || len > MAX_ARRAY_LEN {
                            return Err(self.err(
                                d.pos,
                                format!(
                                    "array `{name}` has size {}; expected 1..={MAX_ARRAY_LEN} elements",
                                    if dims.len() == 1 { n } else { len }
                                ),
                            ));
                        }
                        sizes.push(n);
                    }
                    let (width, signed) = elem(*ty);
                    let (tlo, thi) = elem_range(*ty);
                    let init_range = match range {
                        Some((lo, hi)) => {
                            let (l, h) = (self.ceval(lo)?, self.ceval(hi)?);
                            if l > h || l < tlo || h > thi {
                                return Err(self.err(
                                    lo.pos,
                                    format!(
                                        "range {l}..{h} of `{name}`: expected LO <= HI within the {} range {tlo}..{thi}",
                                        elem_name(*ty)
                                    ),
                                ));
                            }
                            Some((l as i32, h as i32))
                        }
                        None => None,
                    };
                    let base = (next_base + 3) & !3;
                    next_base = base + len * width.bytes() as i64;
                    if next_base > MAX_MEMORY_BYTES {
                        return Err(self.err(
                            *pos,
                            format!("arrays up to `{name}` need {next_base} bytes; expected at most {MAX_MEMORY_BYTES}"),
                        ));
                    }
                    let idx = self.arrays.len() as u16;
                    self.define(name, *pos, Sym::Array(idx))?;
                    self.arrays.push(ArrInfo {
                        decl: ArrayDecl {
                            name: name.clone(),
                            width,
                            signed,
                            len: len as u32,
                            base: base as u32,
                            dir: match dir {
                                Dir::In => ArrayDir::In,
                                Dir::Out => ArrayDir::Out,
                                Dir::InOut => ArrayDir::InOut,
                            },
                            init_range,
                            elem: if *ty == ElemType::F32 {
                                crate::kernel::ElemType::F32
                            } else {
                                crate::kernel::ElemType::Int
                            },
                        },
                        dims: sizes,
                    });
                    self.epoch.push(0);
                }
                Decl::Scalar {
                    ty,
                    name,
                    pos,
                    default,
                    range,
                } => {
                    let float = *ty == ElemType::F32;
                    let default = if float {
                        // An f32 scalar: its default is a float literal (the bits kept).
                        self.float_literal(default).ok_or_else(|| {
                            self.err(
                                default.pos,
                                format!(
                                    "default of f32 scalar `{name}`: expected a float literal such as `1.0` or `-0.5`"
                                ),
                            )
                        })?
                    } else {
                        self.ceval_i32(default, "scalar default")?
                    };
                    // An f32 scalar's range is the real interval of its random values, as
                    // for f32 arrays.
                    let (tlo, thi) = if float {
                        elem_range(ElemType::F32)
                    } else {
                        (i32::MIN as i64, i32::MAX as i64)
                    };
                    let random_range = match range {
                        Some((lo, hi)) => {
                            let (l, h) = (self.ceval(lo)?, self.ceval(hi)?);
                            if l > h || l < tlo || h > thi {
                                return Err(self.err(
                                    lo.pos,
                                    format!(
                                        "range {l}..{h} of `{name}`: expected LO <= HI within {tlo}..{thi}"
                                    ),
                                ));
                            }
                            Some((l as i32, h as i32))
                        }
                        None => None,
                    };
                    let idx = self.scalars.len() as u16;
                    self.define(name, *pos, Sym::Scalar(idx))?;
                    if float {
                        self.float_names.insert(name.clone());
                    }
                    self.scalars.push(ScalarDecl {
                        name: name.clone(),
                        default,
                        random_range,
                        elem: if float {
                            crate::kernel::ElemType::F32
                        } else {
                            crate::kernel::ElemType::Int
                        },
                    });
                }
                Decl::Var { name, pos, init } => {
                    let init = match self.float_literal(init) {
                        Some(bits) => {
                            self.float_names.insert(name.clone());
                            bits
                        }
                        None => self.ceval_i32(init, "initial value")?,
                    };
                    let idx = self.vars.len() as u16;
                    self.define(name, *pos, Sym::Var(idx))?;
                    self.vars.push(VarInfo {
                        name: name.clone(),
                        init,
                    });
                    self.env.insert(name.clone(), R::Prev(idx));
                }
            }
        }
        if self.arrays.len() > u16::MAX as usize
            || self.scalars.len() > u16::MAX as usize
            || self.vars.len() >= u16::MAX as usize
        {
            return Err(self.err(ast.pos, "too many declarations"));
        }
        Ok(())
    }

    fn lower_loop(&mut self, ast: &KernelAst) -> Result<(), IrError> {
        let lp = &ast.lp;
        let lo = self.ceval(&lp.lo)?;
        let hi = self.ceval(&lp.hi)?;
        let step = match &lp.step {
            Some(s) => self.ceval(s)?,
            None => 1,
        };
        let spos = lp.step.as_ref().map(|s| s.pos).unwrap_or(lp.pos);
        if step == 0 {
            return Err(self.err(spos, "loop step is 0; expected a non-zero step"));
        }
        let fits = |v: i64| (i32::MIN as i64..=i32::MAX as i64).contains(&v);
        if !fits(lo) || !fits(hi) || !fits(step) {
            return Err(self.err(lp.pos, "loop bounds and step must fit i32"));
        }
        // All of lo, hi, step fit i32, so none of this overflows i64.
        let span = if step > 0 { hi - lo } else { lo - hi };
        let s = step.abs();
        let trip = if span <= 0 { 0 } else { (span + s - 1) / s };
        if trip > MAX_TRIP_COUNT {
            return Err(self.err(
                lp.pos,
                format!("trip count {trip} is too large; expected at most {MAX_TRIP_COUNT}"),
            ));
        }
        let init = lo - step;
        if !fits(init) || !fits(lo + trip * step) {
            return Err(self.err(lp.pos, "the loop variable would leave the i32 range"));
        }
        self.lo = lo;
        self.step = step;
        self.trip = trip;
        // The induction variable: i = prev(i) + step, with prev(i) = lo - step at iteration 0.
        let iv = self.vars.len() as u16;
        self.vars.push(VarInfo {
            name: lp.var.clone(),
            init: init as i32,
        });
        self.define(&lp.var, lp.pos, Sym::Induction)?;
        let mut v = Val::new(Op::Add, vec![R::Prev(iv), R::C(step as i32)]);
        v.affine = Some((1, 0));
        v.label = lp.var.clone();
        self.vals.push(v);
        self.induction_val = self.vals.len() as u32 - 1;
        let i_ref = R::N(self.induction_val);
        self.env.insert(lp.var.clone(), i_ref);
        self.block(&lp.body)?;
        Ok(())
    }

    fn block(&mut self, stmts: &[Stmt]) -> Result<(), IrError> {
        for s in stmts {
            self.stmt(s)?;
        }
        Ok(())
    }

    fn label(&mut self, r: R, name: &str) {
        if let R::N(n) = r {
            let v = &mut self.vals[n as usize];
            if v.label.is_empty() {
                v.label = name.to_string();
            }
        }
    }

    fn stmt(&mut self, s: &Stmt) -> Result<(), IrError> {
        match s {
            Stmt::Let { name, pos, value } => {
                if self.syms.contains_key(name) || self.env.contains_key(name) {
                    return Err(self.err(
                        *pos,
                        format!("`{name}` is already declared; expected a new name for `let`"),
                    ));
                }
                let r = self.expr(value)?;
                // A name leaves scope with its block, so a later `let` may reuse it.
                if self.ty(value)? == Ty::F32 {
                    self.float_names.insert(name.clone());
                } else {
                    self.float_names.remove(name);
                }
                self.label(r, name);
                self.env.insert(name.clone(), r);
            }
            Stmt::Assign {
                name,
                pos,
                op,
                value,
            } => {
                match self.syms.get(name) {
                    Some(Sym::Var(_)) => {}
                    Some(Sym::Induction) => {
                        return Err(
                            self.err(*pos, format!("cannot assign to the loop variable `{name}`"))
                        );
                    }
                    Some(Sym::Param(_)) => {
                        return Err(self.err(*pos, format!("cannot assign to parameter `{name}`")));
                    }
                    Some(Sym::Scalar(_)) => {
                        return Err(self.err(
                            *pos,
                            format!("cannot assign to scalar input `{name}`; use a `var` or a `let` temporary"),
                        ));
                    }
                    Some(Sym::Array(_)) => {
                        return Err(self.err(
                            *pos,
                            format!(
                                "`{name}` is an array; expected an element `{name}[...] = ...`"
                            ),
                        ));
                    }
                    None => {
                        if !self.env.contains_key(name) {
                            return Err(self.err(
                                *pos,
                                format!(
                                    "unknown variable `{name}`; declare it with `let` (temporary) or \
                                     `var` (loop-carried, before the loop)"
                                ),
                            ));
                        }
                    }
                }
                let rhs = self.expr(value)?;
                let want = if self.float_names.contains(name) {
                    Ty::F32
                } else {
                    Ty::I32
                };
                let got = self.ty(value)?;
                if got != want {
                    return Err(self.err(
                        value.pos,
                        format!(
                            "`{name}` is {} but the value is {}; convert with {}",
                            want.name(),
                            got.name(),
                            if want == Ty::F32 {
                                "itof(...)"
                            } else {
                                "ftoi(...)"
                            }
                        ),
                    ));
                }
                let r = match op {
                    None => rhs,
                    Some(op) => {
                        let cur = self.env[name];
                        self.typed_binop(*op, cur, rhs, want, *pos)?
                    }
                };
                self.label(r, name);
                self.env.insert(name.clone(), r);
            }
            Stmt::Store {
                array,
                pos,
                index,
                op,
                value,
            } => {
                let a = match self.syms.get(array) {
                    Some(Sym::Array(a)) => *a,
                    Some(_) => {
                        return Err(self.err(
                            *pos,
                            format!("`{array}` is not an array; cannot store to `{array}[...]`"),
                        ));
                    }
                    None => return Err(self.err(*pos, format!("unknown array `{array}`"))),
                };
                if self.arrays[a as usize].decl.dir == ArrayDir::In {
                    return Err(self.err(
                        *pos,
                        format!("cannot store to `{array}`: it is declared `in` (declare it `out` or `inout`)"),
                    ));
                }
                let (idx, ipos) = self.flat_index(a, index, *pos)?;
                let rhs = self.expr(value)?;
                let want = self.array_ty(a);
                let got = self.ty(value)?;
                if got != want {
                    return Err(self.err(
                        value.pos,
                        format!(
                            "`{array}` holds {} but the value is {}; convert with {}",
                            want.name(),
                            got.name(),
                            if want == Ty::F32 {
                                "itof(...)"
                            } else {
                                "ftoi(...)"
                            }
                        ),
                    ));
                }
                let v = match op {
                    None => rhs,
                    Some(op) => {
                        let cur = self.load(a, idx, ipos)?;
                        self.typed_binop(*op, cur, rhs, want, *pos)?
                    }
                };
                self.store(a, idx, v, ipos)?;
            }
            Stmt::If { cond, then, els } => {
                if self.ty(cond)? == Ty::F32 {
                    return Err(self.err(
                        cond.pos,
                        "an `if` condition is i32 (0 is false); this one is f32: compare it, e.g. `x > 0.0`",
                    ));
                }
                let c = self.expr(cond)?;
                if let R::C(k) = c {
                    // Constant condition: only one branch exists.
                    let saved: Vec<String> = self.env.keys().cloned().collect();
                    self.block(if k != 0 { then } else { els })?;
                    self.env.retain(|k, _| saved.contains(k));
                    return Ok(());
                }
                let c = self.booleanize(c);
                let outer = self.pred;
                let before = self.env.clone();
                self.pred = Some(self.and_pred(outer, c, false));
                self.block(then)?;
                let after_then = std::mem::replace(&mut self.env, before.clone());
                self.pred = Some(self.and_pred(outer, c, true));
                self.block(els)?;
                let after_else = std::mem::take(&mut self.env);
                self.pred = outer;
                let mut merged = BTreeMap::new();
                for (name, r0) in &before {
                    let t = after_then.get(name).copied().unwrap_or(*r0);
                    let e = after_else.get(name).copied().unwrap_or(*r0);
                    let r = if t == e {
                        t
                    } else {
                        self.pure(Op::Select, vec![c, t, e])
                    };
                    self.label(r, name);
                    merged.insert(name.clone(), r);
                }
                self.env = merged;
            }
        }
        Ok(())
    }

    /// Combine an outer predicate with condition `c` (0/1) of polarity `negated`.
    fn and_pred(&mut self, outer: Option<(R, bool)>, c: R, negated: bool) -> (R, bool) {
        match outer {
            None => (c, negated),
            Some((o, on)) => {
                let o = if on {
                    self.pure(Op::Eq, vec![o, R::C(0)])
                } else {
                    o
                };
                let c = if negated {
                    self.pure(Op::Eq, vec![c, R::C(0)])
                } else {
                    c
                };
                (self.pure(Op::And, vec![o, c]), false)
            }
        }
    }

    fn is_bool(&self, r: R) -> bool {
        match r {
            R::C(c) => c == 0 || c == 1,
            R::N(n) => self.vals[n as usize].boolean,
            R::Prev(_) => false,
        }
    }

    fn booleanize(&mut self, r: R) -> R {
        if self.is_bool(r) {
            r
        } else {
            self.pure(Op::Ne, vec![r, R::C(0)])
        }
    }

    fn affine(&self, r: R) -> Option<(i64, i64)> {
        match r {
            R::C(c) => Some((0, c as i64)),
            R::N(n) => self.vals[n as usize].affine,
            R::Prev(_) => None,
        }
    }

    /// Create (or reuse) a pure value, folding constants and simple identities.
    fn pure(&mut self, op: Op, mut args: Vec<R>) -> R {
        use Op::*;
        if let Some(consts) = args
            .iter()
            .map(|a| if let R::C(c) = a { Some(*c) } else { None })
            .collect::<Option<Vec<i32>>>()
            && let Some(v) = op.eval(&consts)
        {
            return R::C(v);
        }
        if args.len() == 2 && matches!(args[0], R::C(_)) && !matches!(args[1], R::C(_)) {
            let swapped = match op {
                Add | Mul | And | Or | Xor | Eq | Ne | Min | Max => Some(op),
                Lt => Some(Gt),
                Gt => Some(Lt),
                Le => Some(Ge),
                Ge => Some(Le),
                _ => None,
            };
            if let Some(s) = swapped {
                args.swap(0, 1);
                return self.pure(s, args);
            }
        }
        if args.len() == 2
            && let R::C(k) = args[1]
        {
            match (op, k) {
                (Add | Sub | Or | Xor | Shl | Ashr | Lshr, 0) | (Mul, 1) | (And, -1) => {
                    return args[0];
                }
                (Mul | And, 0) => return R::C(0),
                (Sub, k) if k != i32::MIN => return self.pure(Add, vec![args[0], R::C(-k)]),
                (Add, k) => {
                    // Reassociate (x + a) + b = x + (a + b).
                    if let R::N(n) = args[0]
                        && n != self.induction_val
                    {
                        let v = &self.vals[n as usize];
                        if v.op == Add
                            && v.pred.is_none()
                            && let [x, R::C(a)] = v.args[..]
                        {
                            return self.pure(Add, vec![x, R::C(a.wrapping_add(k))]);
                        }
                    }
                }
                _ => {}
            }
        }
        if op == Select {
            if let R::C(c) = args[0] {
                return if c != 0 { args[1] } else { args[2] };
            }
            if args[1] == args[2] {
                return args[1];
            }
        }
        let key = Key {
            op,
            args: args.clone(),
            imm: None,
            pred: None,
            array: None,
            epoch: 0,
        };
        if let Some(&n) = self.cse.get(&key) {
            return R::N(n);
        }
        let affine = self.affine_of(op, &args);
        let boolean = match op {
            Eq | Ne | Lt | Le | Gt | Ge | Ltu | Geu | FEq | FNe | FLt | FLe => true,
            And | Or | Xor | Min | Max => self.is_bool(args[0]) && self.is_bool(args[1]),
            Select => self.is_bool(args[1]) && self.is_bool(args[2]),
            _ => false,
        };
        let mut v = Val::new(op, args);
        v.affine = affine;
        v.boolean = boolean;
        self.vals.push(v);
        let n = self.vals.len() as u32 - 1;
        self.cse.insert(key, n);
        R::N(n)
    }

    fn affine_of(&self, op: Op, args: &[R]) -> Option<(i64, i64)> {
        let a = |k: usize| args.get(k).and_then(|r| self.affine(*r));
        match op {
            Op::Add => {
                let (x, y) = (a(0)?, a(1)?);
                Some((x.0.checked_add(y.0)?, x.1.checked_add(y.1)?))
            }
            Op::Sub => {
                let (x, y) = (a(0)?, a(1)?);
                Some((x.0.checked_sub(y.0)?, x.1.checked_sub(y.1)?))
            }
            Op::Mul => {
                let (x, y) = (a(0)?, a(1)?);
                if x.0 == 0 {
                    Some((y.0.checked_mul(x.1)?, y.1.checked_mul(x.1)?))
                } else if y.0 == 0 {
                    Some((x.0.checked_mul(y.1)?, x.1.checked_mul(y.1)?))
                } else {
                    None
                }
            }
            Op::Shl => {
                let (x, y) = (a(0)?, a(1)?);
                if y.0 == 0 && (0..31).contains(&y.1) {
                    let m = 1i64 << y.1;
                    Some((x.0.checked_mul(m)?, x.1.checked_mul(m)?))
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    fn binop(&mut self, op: BinOp, a: R, b: R) -> R {
        match op {
            BinOp::Add => self.pure(Op::Add, vec![a, b]),
            BinOp::Sub => self.pure(Op::Sub, vec![a, b]),
            BinOp::Mul => self.pure(Op::Mul, vec![a, b]),
            BinOp::Div => self.pure(Op::Div, vec![a, b]),
            BinOp::Rem => self.pure(Op::Rem, vec![a, b]),
            BinOp::Shl => self.pure(Op::Shl, vec![a, b]),
            BinOp::Ashr => self.pure(Op::Ashr, vec![a, b]),
            BinOp::Lshr => self.pure(Op::Lshr, vec![a, b]),
            BinOp::And => self.pure(Op::And, vec![a, b]),
            BinOp::Or => self.pure(Op::Or, vec![a, b]),
            BinOp::Xor => self.pure(Op::Xor, vec![a, b]),
            BinOp::Eq => self.pure(Op::Eq, vec![a, b]),
            BinOp::Ne => self.pure(Op::Ne, vec![a, b]),
            BinOp::Lt => self.pure(Op::Lt, vec![a, b]),
            BinOp::Le => self.pure(Op::Le, vec![a, b]),
            BinOp::Gt => self.pure(Op::Gt, vec![a, b]),
            BinOp::Ge => self.pure(Op::Ge, vec![a, b]),
            BinOp::LogAnd => {
                let (a, b) = (self.booleanize(a), self.booleanize(b));
                self.pure(Op::And, vec![a, b])
            }
            BinOp::LogOr => {
                let (a, b) = (self.booleanize(a), self.booleanize(b));
                self.pure(Op::Or, vec![a, b])
            }
        }
    }

    /// Lower an expression. Kept small (the work is in helpers) because it recurses once
    /// per level of the expression tree.
    fn expr(&mut self, e: &Expr) -> Result<R, IrError> {
        match &e.kind {
            ExprKind::Int(v) => Ok(R::C(*v as u32 as i32)),
            ExprKind::Float(b) => Ok(R::C(*b as i32)),
            ExprKind::Name(n) => self.name(n, e.pos),
            ExprKind::Index(a, idx) => {
                let arr = self.array_of(a, e.pos)?;
                let (i, ipos) = self.flat_index(arr, idx, e.pos)?;
                self.load(arr, i, ipos)
            }
            ExprKind::Unary(op, a) => {
                let t = self.ty(a)?;
                let a = self.expr(a)?;
                match (t, op) {
                    (Ty::I32, _) => Ok(self.unary(*op, a)),
                    (Ty::F32, UnOp::Neg) => Ok(self.pure(Op::FNeg, vec![a])),
                    (Ty::F32, _) => Err(self.err(
                        e.pos,
                        "`~` and `!` are not defined on f32; compare the value or convert it with ftoi(...)",
                    )),
                }
            }
            ExprKind::Binary(op, a, b) => {
                let t = self.operand_ty(*op, a, b, e.pos)?;
                let a = self.expr(a)?;
                let b = self.expr(b)?;
                self.typed_binop(*op, a, b, t, e.pos)
            }
            ExprKind::Cond(c, a, b) => {
                if self.ty(c)? == Ty::F32 {
                    return Err(self.err(
                        c.pos,
                        "a `?:` condition is i32; this one is f32: compare it",
                    ));
                }
                let (ta, tb) = (self.ty(a)?, self.ty(b)?);
                if ta != tb {
                    return Err(self.err(
                        e.pos,
                        format!("the two arms of `?:` are {} and {}; convert one with itof(...) or ftoi(...)", ta.name(), tb.name()),
                    ));
                }
                let c = self.expr(c)?;
                let a = self.expr(a)?;
                let b = self.expr(b)?;
                Ok(self.pure(Op::Select, vec![c, a, b]))
            }
            ExprKind::Call(f, args) => {
                let mut tys = Vec::with_capacity(args.len());
                for a in args {
                    tys.push(self.ty(a)?);
                }
                let mut vals = Vec::with_capacity(args.len());
                for a in args {
                    vals.push(self.expr(a)?);
                }
                match self.float_call(f, &tys, &vals, e.pos)? {
                    Some(r) => Ok(r),
                    None => self.call(f, vals, e.pos),
                }
            }
        }
    }

    /// The type of an expression (see `docs/kernel-language.md`, f32): literals, f32 array
    /// elements, f32 names and the float functions are f32; arithmetic keeps its operands'
    /// type; comparisons and everything else are i32.
    fn ty(&self, e: &Expr) -> Result<Ty, IrError> {
        Ok(match &e.kind {
            ExprKind::Int(_) => Ty::I32,
            ExprKind::Float(_) => Ty::F32,
            ExprKind::Name(n) => {
                if self.float_names.contains(n) {
                    Ty::F32
                } else {
                    Ty::I32
                }
            }
            ExprKind::Index(a, _) => match self.syms.get(a) {
                Some(Sym::Array(x)) => self.array_ty(*x),
                _ => Ty::I32,
            },
            ExprKind::Unary(UnOp::Neg, a) => self.ty(a)?,
            ExprKind::Unary(..) => Ty::I32,
            ExprKind::Binary(op, a, b) => match op {
                BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div => {
                    self.operand_ty(*op, a, b, e.pos)?
                }
                _ => Ty::I32,
            },
            ExprKind::Cond(_, a, _) => self.ty(a)?,
            ExprKind::Call(f, args) => match f.as_str() {
                "itof" => Ty::F32,
                "ftoi" => Ty::I32,
                "min" | "max" | "abs" | "clamp" => match args.first() {
                    Some(a) => self.ty(a)?,
                    None => Ty::I32,
                },
                _ => Ty::I32,
            },
        })
    }

    /// The type both operands of a binary operator have; mixing is an error, and so is an
    /// operator f32 does not have.
    fn operand_ty(&self, op: BinOp, a: &Expr, b: &Expr, pos: Pos) -> Result<Ty, IrError> {
        let (ta, tb) = (self.ty(a)?, self.ty(b)?);
        if ta != tb {
            return Err(self.err(
                pos,
                format!(
                    "`{}` between {} and {}; both operands need one type: convert with itof(...) or ftoi(...)",
                    binop_text(op),
                    ta.name(),
                    tb.name()
                ),
            ));
        }
        Ok(ta)
    }

    fn array_ty(&self, a: u16) -> Ty {
        if self.arrays[a as usize].decl.elem.is_float() {
            Ty::F32
        } else {
            Ty::I32
        }
    }

    /// A binary operator on operands of type `t`: the integer op, or for f32 the binary32
    /// op (`+ - * /` give f32, comparisons give i32 0/1).
    fn typed_binop(&mut self, op: BinOp, a: R, b: R, t: Ty, pos: Pos) -> Result<R, IrError> {
        if t == Ty::I32 {
            return Ok(self.binop(op, a, b));
        }
        Ok(match op {
            BinOp::Add => self.pure(Op::FAdd, vec![a, b]),
            BinOp::Sub => self.pure(Op::FSub, vec![a, b]),
            BinOp::Mul => self.pure(Op::FMul, vec![a, b]),
            BinOp::Div => self.pure(Op::FDiv, vec![a, b]),
            BinOp::Eq => self.pure(Op::FEq, vec![a, b]),
            BinOp::Ne => self.pure(Op::FNe, vec![a, b]),
            BinOp::Lt => self.pure(Op::FLt, vec![a, b]),
            BinOp::Le => self.pure(Op::FLe, vec![a, b]),
            BinOp::Gt => self.pure(Op::FLt, vec![b, a]),
            BinOp::Ge => self.pure(Op::FLe, vec![b, a]),
            other => {
                return Err(self.err(
                    pos,
                    format!(
                        "`{}` is not defined on f32 (f32 has + - * / and comparisons); convert with ftoi(...) first",
                        binop_text(other)
                    ),
                ));
            }
        })
    }

    /// `itof`, `ftoi`, and `min`/`max`/`abs`/`clamp` on f32 arguments; `None` for an
    /// integer call (lowered by `call`).
    fn float_call(
        &mut self,
        f: &str,
        tys: &[Ty],
        vals: &[R],
        pos: Pos,
    ) -> Result<Option<R>, IrError> {
        let want = |n: usize, t: Ty| -> Result<(), IrError> {
            if tys.len() != n {
                return Err(self.err(
                    pos,
                    format!("`{f}` takes {n} argument(s), found {}", tys.len()),
                ));
            }
            if let Some(i) = tys.iter().position(|x| *x != t) {
                return Err(self.err(
                    pos,
                    format!(
                        "argument {} of `{f}` is {}; expected {}",
                        i + 1,
                        tys[i].name(),
                        t.name()
                    ),
                ));
            }
            Ok(())
        };
        match f {
            "itof" => {
                want(1, Ty::I32)?;
                Ok(Some(self.pure(Op::SIToF, vals.to_vec())))
            }
            "ftoi" => {
                want(1, Ty::F32)?;
                Ok(Some(self.pure(Op::FToSI, vals.to_vec())))
            }
            "min" | "max" | "abs" | "clamp" if tys.contains(&Ty::F32) => {
                let n = match f {
                    "abs" => 1,
                    "clamp" => 3,
                    _ => 2,
                };
                want(n, Ty::F32)?;
                Ok(Some(match f {
                    "min" => self.pure(Op::FMin, vals.to_vec()),
                    "max" => self.pure(Op::FMax, vals.to_vec()),
                    "abs" => self.pure(Op::FAbs, vals.to_vec()),
                    _ => {
                        let lo = self.pure(Op::FMax, vec![vals[0], vals[1]]);
                        self.pure(Op::FMin, vec![lo, vals[2]])
                    }
                }))
            }
            _ => {
                if let Some(i) = tys.iter().position(|t| *t == Ty::F32) {
                    return Err(self.err(
                        pos,
                        format!(
                            "argument {} of `{f}` is f32; `{f}` takes i32 (convert with ftoi(...))",
                            i + 1
                        ),
                    ));
                }
                Ok(None)
            }
        }
    }

    /// A float literal, or a negated one, as binary32 bits (a `var`'s f32 initial value).
    fn float_literal(&self, e: &Expr) -> Option<i32> {
        match &e.kind {
            ExprKind::Float(b) => Some(*b as i32),
            ExprKind::Unary(UnOp::Neg, a) => match a.kind {
                ExprKind::Float(b) => Some((b ^ 0x8000_0000) as i32),
                _ => None,
            },
            _ => None,
        }
    }

    fn unary(&mut self, op: UnOp, a: R) -> R {
        match op {
            UnOp::Neg => self.pure(Op::Sub, vec![R::C(0), a]),
            UnOp::Not => self.pure(Op::Not, vec![a]),
            UnOp::LogNot => self.pure(Op::Eq, vec![a, R::C(0)]),
        }
    }

    fn array_of(&self, a: &str, pos: Pos) -> Result<u16, IrError> {
        match self.syms.get(a) {
            Some(Sym::Array(x)) => Ok(*x),
            Some(_) => Err(self.err(pos, format!("`{a}` is not an array; cannot index it"))),
            None => Err(self.err(pos, format!("unknown array `{a}`"))),
        }
    }

    fn name(&mut self, n: &str, pos: Pos) -> Result<R, IrError> {
        Ok(match self.syms.get(n).copied() {
            Some(Sym::Param(v)) => {
                if v < i32::MIN as i64 || v > u32::MAX as i64 {
                    return Err(
                        self.err(pos, format!("parameter `{n}` = {v} does not fit 32 bits"))
                    );
                }
                R::C(v as u32 as i32)
            }
            Some(Sym::Array(_)) => {
                return Err(self.err(
                    pos,
                    format!("`{n}` is an array; expected an element `{n}[...]`"),
                ));
            }
            Some(Sym::Scalar(s)) => {
                let key = Key {
                    op: Op::Input(s),
                    args: vec![],
                    imm: None,
                    pred: None,
                    array: None,
                    epoch: 0,
                };
                if let Some(&id) = self.cse.get(&key) {
                    R::N(id)
                } else {
                    let mut v = Val::new(Op::Input(s), vec![]);
                    v.label = n.to_string();
                    // A live-in is loop-invariant: affine with coefficient 0 but unknown
                    // value, so it has no affine form here.
                    self.vals.push(v);
                    let id = self.vals.len() as u32 - 1;
                    self.cse.insert(key, id);
                    R::N(id)
                }
            }
            Some(Sym::Var(_)) | Some(Sym::Induction) | None => match self.env.get(n) {
                Some(r) => *r,
                None => {
                    return Err(self.err(
                        pos,
                        format!(
                            "unknown name `{n}`; expected a variable, parameter or scalar input"
                        ),
                    ));
                }
            },
        })
    }

    fn call(&mut self, f: &str, vals: Vec<R>, pos: Pos) -> Result<R, IrError> {
        let (op, arity, swap) = match f {
            "min" => (Op::Min, 2, false),
            "max" => (Op::Max, 2, false),
            "abs" => (Op::Abs, 1, false),
            "sext8" => (Op::Sext8, 1, false),
            "sext16" => (Op::Sext16, 1, false),
            "zext8" => (Op::Zext8, 1, false),
            "zext16" => (Op::Zext16, 1, false),
            "ltu" => (Op::Ltu, 2, false),
            "geu" => (Op::Geu, 2, false),
            "gtu" => (Op::Ltu, 2, true),
            "leu" => (Op::Geu, 2, true),
            "divu" => (Op::DivU, 2, false),
            "remu" => (Op::RemU, 2, false),
            "clamp" => (Op::Min, 3, false),
            _ => {
                return Err(self.err(
                            pos,
                            format!(
                                "unknown function `{f}`; expected one of min, max, abs, clamp, sext8, sext16, \
                                 zext8, zext16, ltu, leu, gtu, geu, divu, remu, itof, ftoi"
                            ),
                        ));
            }
        };
        if vals.len() != arity {
            return Err(self.err(
                pos,
                format!("`{f}` takes {arity} argument(s), found {}", vals.len()),
            ));
        }
        Ok(if f == "clamp" {
            let lo = self.pure(Op::Max, vec![vals[0], vals[1]]);
            self.pure(Op::Min, vec![lo, vals[2]])
        } else if swap {
            self.pure(op, vec![vals[1], vals[0]])
        } else {
            self.pure(op, vals)
        })
    }

    /// Split an index into (variable part, constant offset).
    fn split_index(&self, r: R) -> (Option<R>, i64) {
        match r {
            R::C(c) => (None, c as i64),
            R::N(n) if n != self.induction_val => {
                let v = &self.vals[n as usize];
                if v.op == Op::Add
                    && let [x, R::C(c)] = v.args[..]
                {
                    (Some(x), c as i64)
                } else {
                    (Some(r), 0)
                }
            }
            R::N(_) | R::Prev(_) => (Some(r), 0),
        }
    }

    /// The affine form of an index, kept only when it stays inside the array over every
    /// iteration: then the exact value equals the wrapped 32-bit one and dependence
    /// distances computed from it are exact. Otherwise `None` (assume any alias).
    fn trusted_affine(&self, a: u16, index: R) -> Option<(i64, i64)> {
        let (ca, cc) = self.affine(index)?;
        let len = self.arrays[a as usize].decl.len as i64;
        if self.trip == 0 {
            return Some((ca, cc));
        }
        let last = self.lo + (self.trip - 1) * self.step;
        for i in [self.lo, last] {
            let v = ca.checked_mul(i)?.checked_add(cc)?;
            if !(0..len).contains(&v) {
                return None;
            }
        }
        Some((ca, cc))
    }

    /// Static bounds check for an affine index of an unpredicated access: `0 <= index <
    /// len` in the first and last iteration (enough, as the index is linear in `i`).
    fn check_bounds(
        &self,
        index: R,
        len: i64,
        pos: Pos,
        what: impl Fn() -> String,
    ) -> Result<(), IrError> {
        if self.pred.is_some() || self.trip == 0 {
            return Ok(());
        }
        let Some((ca, cc)) = self.affine(index) else {
            return Ok(());
        };
        let last = self.lo + (self.trip - 1) * self.step;
        for i in [self.lo, last] {
            let v = ca.saturating_mul(i).saturating_add(cc);
            if v < 0 || v >= len {
                return Err(self.err(
                    pos,
                    format!(
                        "{} is {v} in the iteration where the loop variable is {i}; expected 0..{len}",
                        what()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Lower the indices of `a[i][j]...` to one row-major element index, checking their
    /// number and (for affine ones) their range per dimension. Returns the index and the
    /// position of the first index expression.
    fn flat_index(&mut self, a: u16, idx: &[Expr], pos: Pos) -> Result<(R, Pos), IrError> {
        let dims = self.arrays[a as usize].dims.clone();
        let name = self.arrays[a as usize].decl.name.clone();
        if idx.len() != dims.len() {
            return Err(self.err(
                pos,
                format!(
                    "`{name}` has {} dimension(s); expected {} index(es), found {}",
                    dims.len(),
                    dims.len(),
                    idx.len()
                ),
            ));
        }
        let mut flat = R::C(0);
        for (k, (e, n)) in idx.iter().zip(&dims).enumerate() {
            let r = self.expr(e)?;
            if dims.len() > 1 {
                self.check_bounds(r, *n, e.pos, || format!("index {} of `{name}`", k + 1))?;
            }
            flat = if k == 0 {
                r
            } else {
                let scaled = self.pure(Op::Mul, vec![flat, R::C(*n as i32)]);
                self.pure(Op::Add, vec![scaled, r])
            };
        }
        Ok((flat, idx[0].pos))
    }

    /// Address operand and immediate of `array[index]`.
    fn address(&mut self, a: u16, index: R, pos: Pos) -> Result<(Option<R>, i32), IrError> {
        let info = &self.arrays[a as usize];
        let bytes = info.decl.width.bytes() as i64;
        let base = info.decl.base as i64;
        let len = info.decl.len as i64;
        let name = info.decl.name.clone();
        self.check_bounds(index, len, pos, || format!("index of `{name}`"))?;
        let (var, off) = self.split_index(index);
        let shift = bytes.trailing_zeros() as i32;
        let addr = var.map(|x| self.pure(Op::Shl, vec![x, R::C(shift)]));
        let imm = base + off * bytes;
        if imm < i32::MIN as i64 || imm > i32::MAX as i64 {
            return Err(self.err(pos, "constant array offset does not fit 32 bits"));
        }
        Ok((addr, imm as i32))
    }

    fn load(&mut self, a: u16, index: R, pos: Pos) -> Result<R, IrError> {
        let (addr, imm) = self.address(a, index, pos)?;
        let info = &self.arrays[a as usize];
        let op = Op::Load {
            width: info.decl.width,
            signed: info.decl.signed,
        };
        let label = info.decl.name.clone();
        let args: Vec<R> = addr.into_iter().collect();
        let key = Key {
            op,
            args: args.clone(),
            imm: Some(imm),
            pred: self.pred,
            array: Some(a),
            epoch: self.epoch[a as usize],
        };
        if let Some(&n) = self.cse.get(&key) {
            return Ok(R::N(n));
        }
        let mut v = Val::new(op, args);
        v.imm = Some(imm);
        v.pred = self.pred;
        v.array = Some(a);
        v.label = label;
        v.index_affine = self.trusted_affine(a, index);
        self.vals.push(v);
        let n = self.vals.len() as u32 - 1;
        self.cse.insert(key, n);
        Ok(R::N(n))
    }

    fn store(&mut self, a: u16, index: R, value: R, pos: Pos) -> Result<(), IrError> {
        let (addr, imm) = self.address(a, index, pos)?;
        let info = &self.arrays[a as usize];
        let op = Op::Store {
            width: info.decl.width,
        };
        let label = format!("{}=", info.decl.name);
        let mut args: Vec<R> = addr.into_iter().collect();
        args.push(value);
        let mut v = Val::new(op, args);
        v.imm = Some(imm);
        v.pred = self.pred;
        v.array = Some(a);
        v.label = label;
        v.index_affine = self.trusted_affine(a, index);
        self.vals.push(v);
        self.epoch[a as usize] += 1;
        Ok(())
    }

    /// Materialize final values, drop dead values, emit nodes and edges.
    fn finish(mut self, ast: &KernelAst) -> Result<Kernel, IrError> {
        // Final (end-of-body) value of every loop-carried variable, as a value id; `None`
        // when the variable is never changed (it then keeps its initial value).
        let nvars = self.vars.len();
        let mut finals: Vec<Option<u32>> = Vec::with_capacity(nvars);
        for v in 0..nvars {
            let r = self.env[&self.vars[v].name];
            let fin = match r {
                R::N(n) => Some(n),
                R::C(c) => {
                    let mut val = Val::new(Op::Const, vec![]);
                    val.imm = Some(c);
                    val.label = self.vars[v].name.clone();
                    self.vals.push(val);
                    Some(self.vals.len() as u32 - 1)
                }
                R::Prev(w) if w as usize == v => None,
                R::Prev(w) => {
                    let mut val = Val::new(Op::Move, vec![R::Prev(w)]);
                    val.label = self.vars[v].name.clone();
                    self.vals.push(val);
                    Some(self.vals.len() as u32 - 1)
                }
            };
            finals.push(fin);
        }
        // Live-outs.
        let mut outs: Vec<(String, u32, i32)> = Vec::new();
        for item in &ast.results {
            let v = match self.syms.get(&item.var) {
                Some(Sym::Var(v)) => *v as usize,
                _ => {
                    return Err(self.err(
                        item.pos,
                        format!("`{}` is not a loop-carried `var`; expected a `var` declared before the loop", item.var),
                    ));
                }
            };
            if outs.iter().any(|(n, _, _)| *n == item.name) {
                return Err(self.err(
                    item.pos,
                    format!("live-out `{}` is returned twice", item.name),
                ));
            }
            let id = match finals[v] {
                Some(id) => id,
                None => {
                    let mut val = Val::new(Op::Const, vec![]);
                    val.imm = Some(self.vars[v].init);
                    val.label = item.var.clone();
                    self.vals.push(val);
                    self.vals.len() as u32 - 1
                }
            };
            outs.push((item.name.clone(), id, self.vars[v].init));
        }
        if outs.is_empty() && !self.vals.iter().any(|v| v.op.is_store()) {
            return Err(self.err(
                ast.lp.pos,
                "the loop has no effect: expected a store to an `out`/`inout` array or a `return` of a `var`",
            ));
        }
        // Liveness from stores and live-outs.
        let mut live = vec![false; self.vals.len()];
        let mut work: Vec<u32> = (0..self.vals.len() as u32)
            .filter(|&n| self.vals[n as usize].op.is_store())
            .chain(outs.iter().map(|o| o.1))
            .collect();
        while let Some(n) = work.pop() {
            if std::mem::replace(&mut live[n as usize], true) {
                continue;
            }
            let v = &self.vals[n as usize];
            for r in v.args.iter().chain(v.pred.iter().map(|(r, _)| r)) {
                match *r {
                    R::N(m) => work.push(m),
                    R::Prev(w) => {
                        if let Some(m) = finals[w as usize] {
                            work.push(m);
                        }
                    }
                    R::C(_) => {}
                }
            }
        }
        // Emit nodes in program order.
        let mut k = Kernel::new(ast.name.clone(), KernelSource::KernelLanguage);
        k.file = Some(self.file.to_string());
        k.arrays = self.arrays.iter().map(|a| a.decl.clone()).collect();
        k.scalars = self.scalars.clone();
        k.trip_count = self.trip as u32;
        let mut node_of: Vec<Option<NodeId>> = vec![None; self.vals.len()];
        let mut const_nodes: HashMap<i32, NodeId> = HashMap::new();
        // Edges whose producer is a value id (resolved after all nodes exist).
        let mut pending: Vec<(u32, NodeId, Operand)> = Vec::new();
        for n in 0..self.vals.len() {
            if !live[n] {
                continue;
            }
            let v = self.vals[n].clone();
            // Resolve operands: Prev of an unchanged variable is its initial value.
            let resolve = |r: R| -> Src {
                match r {
                    R::C(c) => Src::C(c),
                    R::N(m) => Src::V(m, 0, 0),
                    R::Prev(w) => match finals[w as usize] {
                        Some(m) => Src::V(m, 1, self.vars[w as usize].init),
                        None => Src::C(self.vars[w as usize].init),
                    },
                }
            };
            let mut srcs: Vec<Src> = v.args.iter().map(|r| resolve(*r)).collect();
            let mut node = Node::new(v.op).with_label(v.label.clone());
            node.array = v.array;
            node.imm = v.imm;
            let folds_imm =
                !matches!(v.op, Op::Const | Op::Input(_) | Op::Merge) && !v.op.is_memory();
            if folds_imm && let Some(Src::C(c)) = srcs.last().copied() {
                node.imm = Some(c);
                srcs.pop();
            }
            let mut make_const = |k: &mut Kernel, c: i32| -> NodeId {
                *const_nodes
                    .entry(c)
                    .or_insert_with(|| k.add_node(Node::new(Op::Const).with_imm(c)))
            };
            let mut ins: Vec<(Src, Slot)> = srcs
                .iter()
                .enumerate()
                .map(|(s, x)| (*x, Slot::Data(s as u8)))
                .collect();
            if let Some((p, negated)) = v.pred {
                ins.push((resolve(p), Slot::Pred { negated }));
            }
            let mut const_ins: Vec<(NodeId, Slot)> = Vec::new();
            for (src, slot) in &ins {
                if let Src::C(c) = src {
                    const_ins.push((make_const(&mut k, *c), *slot));
                }
            }
            let id = k.add_node(node);
            node_of[n] = Some(id);
            for (cid, slot) in const_ins {
                k.add_edge(
                    cid,
                    id,
                    Operand {
                        slot,
                        distance: 0,
                        init: 0,
                    },
                );
            }
            for (src, slot) in ins {
                if let Src::V(m, distance, init) = src {
                    pending.push((
                        m,
                        id,
                        Operand {
                            slot,
                            distance,
                            init,
                        },
                    ));
                }
            }
        }
        for (m, to, o) in pending {
            let from = node_of[m as usize].expect("live producer was emitted");
            k.add_edge(from, to, o);
        }
        // Memory ordering.
        let mems: Vec<(NodeId, &Val)> = (0..self.vals.len())
            .filter(|&n| live[n] && self.vals[n].op.is_memory())
            .map(|n| (node_of[n].expect("live"), &self.vals[n]))
            .collect();
        for (from, to, distance) in order_edges(&mems, self.step, self.trip) {
            k.add_edge(
                from,
                to,
                Operand {
                    slot: Slot::Order,
                    distance,
                    init: 0,
                },
            );
        }
        k.live_outs = outs
            .into_iter()
            .map(|(name, id, init)| LiveOut {
                name,
                node: node_of[id as usize].expect("live-out was emitted"),
                init,
            })
            .collect();
        k.validate()?;
        Ok(k)
    }
}

#[derive(Debug, Clone, Copy)]
enum Src {
    C(i32),
    /// Value id, distance, init.
    V(u32, u32, i32),
}

/// Smallest iteration distance `d` (≥ 0 when `same_iter_ok`, else ≥ 1) at which access `x`
/// in iteration `k` and access `y` in iteration `k + d` may touch the same element; `None`
/// when they never do. Affine indices with the same coefficient are solved exactly; any
/// other pair is assumed to alias at every distance.
fn min_distance(x: &Val, y: &Val, same_iter_ok: bool, step: i64, trip: i64) -> Option<u32> {
    let lowest: i64 = if same_iter_ok { 0 } else { 1 };
    if !same_iter_ok && trip <= 1 {
        return None;
    }
    match (x.index_affine, y.index_affine) {
        (Some((ax, cx)), Some((ay, cy))) if ax == ay => {
            if ax == 0 {
                return (cx == cy).then_some(lowest as u32);
            }
            // ax*i_k + cx == ax*(i_k + d*step) + cy  <=>  cx - cy == ax*step*d
            let (Some(num), Some(den)) = (cx.checked_sub(cy), ax.checked_mul(step)) else {
                return Some(lowest as u32);
            };
            match num.checked_rem(den) {
                Some(0) => {}
                Some(_) => return None,
                None => return Some(lowest as u32),
            }
            let d = num / den;
            (d >= lowest && d < trip.max(1)).then_some(d as u32)
        }
        _ => Some(lowest as u32),
    }
}

/// Ordering edges `(from, to, distance)` between memory accesses of the same array where
/// at least one is a store and they may touch the same element: within an iteration in
/// program order (distance 0), and across iterations from an access to a later
/// iteration's access (smallest distance that can conflict; the same op in successive
/// iterations is ordered by the modulo schedule itself).
fn order_edges(mems: &[(NodeId, &Val)], step: i64, trip: i64) -> Vec<(NodeId, NodeId, u32)> {
    let mut out = Vec::new();
    for (p, (pid, pv)) in mems.iter().enumerate() {
        for (qid, qv) in mems.iter().skip(p + 1) {
            if pv.array != qv.array || !(pv.op.is_store() || qv.op.is_store()) {
                continue;
            }
            if let Some(d) = min_distance(pv, qv, true, step, trip) {
                out.push((*pid, *qid, d));
            }
            if let Some(d) = min_distance(qv, pv, false, step, trip) {
                out.push((*qid, *pid, d));
            }
        }
    }
    out
}
