//! Recursive-descent parser of the `.tk` kernel language into an AST. The grammar is in
//! `docs/kernel-language.md`; every error says what was expected and what was found.

use super::lexer::{Pos, Tok, Token};
use crate::{IrError, SourceLoc};

/// Deepest expression / statement nesting accepted (guards the stack on hostile input).
const MAX_DEPTH: usize = 64;
/// Tallest expression tree accepted (a chain `a + b + ...` of N terms has height N).
const MAX_HEIGHT: u32 = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Shl,
    Ashr,
    Lshr,
    And,
    Or,
    Xor,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    LogAnd,
    LogOr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Not,
    LogNot,
}

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub pos: Pos,
    /// Height of the expression tree (1 for a leaf); bounded so that the recursive
    /// lowering cannot exhaust the stack.
    pub height: u32,
}

impl Expr {
    fn new(kind: ExprKind, pos: Pos) -> Self {
        let h = |e: &Expr| e.height;
        let height = 1 + match &kind {
            ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Name(_) => 0,
            ExprKind::Index(_, idx) => idx.iter().map(h).max().unwrap_or(0),
            ExprKind::Call(_, args) => args.iter().map(h).max().unwrap_or(0),
            ExprKind::Unary(_, a) => h(a),
            ExprKind::Binary(_, a, b) => h(a).max(h(b)),
            ExprKind::Cond(c, a, b) => h(c).max(h(a)).max(h(b)),
        };
        Self { kind, pos, height }
    }
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    Int(i64),
    /// A float literal: binary32 bits.
    Float(u32),
    Name(String),
    /// `a[i]`, or `a[i][j]...` for a multi-dimensional array.
    Index(String, Vec<Expr>),
    Call(String, Vec<Expr>),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone)]
pub enum Stmt {
    Let {
        name: String,
        pos: Pos,
        value: Expr,
    },
    Assign {
        name: String,
        pos: Pos,
        op: Option<BinOp>,
        value: Expr,
    },
    Store {
        array: String,
        pos: Pos,
        /// One index per dimension.
        index: Vec<Expr>,
        op: Option<BinOp>,
        value: Expr,
    },
    If {
        cond: Expr,
        then: Vec<Stmt>,
        els: Vec<Stmt>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElemType {
    I8,
    U8,
    I16,
    U16,
    I32,
    /// IEEE 754 binary32, 4-byte elements.
    F32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    In,
    Out,
    InOut,
}

#[derive(Debug, Clone)]
pub enum Decl {
    Array {
        dir: Dir,
        ty: ElemType,
        name: String,
        pos: Pos,
        /// One size per dimension (row-major).
        dims: Vec<Expr>,
        range: Option<(Expr, Expr)>,
    },
    Scalar {
        /// `I32` or `F32`.
        ty: ElemType,
        name: String,
        pos: Pos,
        default: Expr,
        range: Option<(Expr, Expr)>,
    },
    Var {
        name: String,
        pos: Pos,
        init: Expr,
    },
}

#[derive(Debug, Clone)]
pub struct Loop {
    pub var: String,
    pub pos: Pos,
    pub lo: Expr,
    pub hi: Expr,
    pub step: Option<Expr>,
    pub body: Vec<Stmt>,
}

#[derive(Debug, Clone)]
pub struct ResultItem {
    /// The loop-carried variable returned.
    pub var: String,
    /// The live-out's name (`as NAME`, default the variable's name).
    pub name: String,
    pub pos: Pos,
}

#[derive(Debug, Clone)]
pub struct KernelAst {
    pub name: String,
    pub pos: Pos,
    pub params: Vec<(String, Pos, Expr)>,
    pub decls: Vec<Decl>,
    pub lp: Loop,
    pub results: Vec<ResultItem>,
}

pub struct Parser<'a> {
    toks: &'a [Token],
    k: usize,
    file: &'a str,
    depth: usize,
}

type PResult<T> = Result<T, IrError>;

impl<'a> Parser<'a> {
    pub fn new(toks: &'a [Token], file: &'a str) -> Self {
        Self {
            toks,
            k: 0,
            file,
            depth: 0,
        }
    }

    fn peek(&self) -> &Tok {
        &self.toks[self.k.min(self.toks.len() - 1)].tok
    }

    fn pos(&self) -> Pos {
        self.toks[self.k.min(self.toks.len() - 1)].pos
    }

    fn bump(&mut self) -> Token {
        let t = self.toks[self.k.min(self.toks.len() - 1)].clone();
        if self.k < self.toks.len() - 1 {
            self.k += 1;
        }
        t
    }

    fn error_at(&self, pos: Pos, msg: impl Into<String>) -> IrError {
        IrError::parse(SourceLoc::new(self.file, pos.line, pos.col), msg)
    }

    /// "expected WHAT, found TOKEN" at the current token.
    fn expected(&self, what: &str) -> IrError {
        self.error_at(
            self.pos(),
            format!("expected {what}, found {}", self.peek().describe()),
        )
    }

    fn is_punct(&self, p: &str) -> bool {
        matches!(self.peek(), Tok::Punct(q) if *q == p)
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s == kw)
    }

    fn eat_punct(&mut self, p: &str) -> bool {
        if self.is_punct(p) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn expect_punct(&mut self, p: &str, context: &str) -> PResult<()> {
        if self.eat_punct(p) {
            Ok(())
        } else {
            Err(self.expected(&format!("`{p}` {context}")))
        }
    }

    fn expect_kw(&mut self, kw: &str, context: &str) -> PResult<()> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(self.expected(&format!("`{kw}` {context}")))
        }
    }

    fn ident(&mut self, what: &str) -> PResult<(String, Pos)> {
        match self.peek().clone() {
            Tok::Ident(s) if !is_keyword(&s) => {
                let p = self.pos();
                self.bump();
                Ok((s, p))
            }
            _ => Err(self.expected(what)),
        }
    }

    /// kernel := "kernel" IDENT [ "(" params ")" ] "{" decl* loop result* "}" EOF
    pub fn kernel(&mut self) -> PResult<KernelAst> {
        self.expect_kw("kernel", "at the start of the file")?;
        let (name, pos) = self.ident("a kernel name after `kernel`")?;
        let mut params = Vec::new();
        if self.eat_punct("(") {
            if !self.is_punct(")") {
                loop {
                    let (p, ppos) = self.ident("a parameter name")?;
                    self.expect_punct("=", "after the parameter name (parameters need a default)")?;
                    let v = self.expr()?;
                    params.push((p, ppos, v));
                    if !self.eat_punct(",") {
                        break;
                    }
                }
            }
            self.expect_punct(")", "to close the parameter list")?;
        }
        self.expect_punct("{", "to open the kernel body")?;
        let mut decls = Vec::new();
        while !self.is_kw("for") {
            decls.push(self.decl()?);
        }
        let lp = self.for_loop()?;
        let mut results = Vec::new();
        if self.eat_kw("return") {
            loop {
                let (var, p) = self.ident("a variable name after `return`")?;
                let name = if self.eat_kw("as") {
                    self.ident("a live-out name after `as`")?.0
                } else {
                    var.clone()
                };
                results.push(ResultItem { var, name, pos: p });
                if !self.eat_punct(",") {
                    break;
                }
            }
            self.expect_punct(";", "after the `return` list")?;
        }
        self.expect_punct(
            "}",
            "to close the kernel body (only `return` may follow the loop)",
        )?;
        if *self.peek() != Tok::Eof {
            return Err(self.expected("end of file after the kernel"));
        }
        Ok(KernelAst {
            name,
            pos,
            params,
            decls,
            lp,
            results,
        })
    }

    fn elem_type(&mut self) -> PResult<ElemType> {
        let t = match self.peek() {
            Tok::Ident(s) => match s.as_str() {
                "i8" => ElemType::I8,
                "u8" => ElemType::U8,
                "i16" => ElemType::I16,
                "u16" => ElemType::U16,
                "i32" => ElemType::I32,
                "f32" => ElemType::F32,
                _ => return Err(self.expected("an element type (i8, u8, i16, u16, i32 or f32)")),
            },
            _ => return Err(self.expected("an element type (i8, u8, i16, u16, i32 or f32)")),
        };
        self.bump();
        Ok(t)
    }

    fn opt_range(&mut self) -> PResult<Option<(Expr, Expr)>> {
        if self.eat_kw("range") {
            let lo = self.expr()?;
            self.expect_punct("..", "between the range bounds (`range LO..HI`, inclusive)")?;
            let hi = self.expr()?;
            Ok(Some((lo, hi)))
        } else {
            Ok(None)
        }
    }

    /// decl := ("in"|"out"|"inout") TYPE IDENT "[" expr "]" ["range" expr ".." expr] ";"
    ///       | "in" TYPE IDENT "=" expr ["range" expr ".." expr] ";"
    ///       | "var" IDENT "=" expr ";"
    fn decl(&mut self) -> PResult<Decl> {
        if self.eat_kw("var") {
            let (name, pos) = self.ident("a variable name after `var`")?;
            self.expect_punct(
                "=",
                "after the variable name (a `var` needs an initial value)",
            )?;
            let init = self.expr()?;
            self.expect_punct(";", "after the `var` declaration")?;
            return Ok(Decl::Var { name, pos, init });
        }
        let dir = if self.eat_kw("in") {
            Dir::In
        } else if self.eat_kw("out") {
            Dir::Out
        } else if self.eat_kw("inout") {
            Dir::InOut
        } else {
            return Err(
                self.expected("a declaration (`in`, `out`, `inout`, `var`) or the `for` loop")
            );
        };
        let ty_pos = self.pos();
        let ty = self.elem_type()?;
        let (name, pos) = self.ident("a name in the declaration")?;
        if self.eat_punct("[") {
            let mut dims = vec![self.expr()?];
            self.expect_punct("]", "after the array size")?;
            while self.eat_punct("[") {
                dims.push(self.expr()?);
                self.expect_punct("]", "after the array size")?;
            }
            let range = self.opt_range()?;
            self.expect_punct(";", "after the array declaration")?;
            return Ok(Decl::Array {
                dir,
                ty,
                name,
                pos,
                dims,
                range,
            });
        }
        if dir != Dir::In {
            return Err(
                self.expected("`[` (only `in` declares scalars; `out`/`inout` declare arrays)")
            );
        }
        if ty != ElemType::I32 && ty != ElemType::F32 {
            return Err(self.error_at(
                ty_pos,
                "scalar inputs are `i32` or `f32`; expected one of them or an array `NAME[SIZE]`",
            ));
        }
        self.expect_punct(
            "=",
            "or `[` after the name (a scalar input needs a default: `in i32 k = 3;`)",
        )?;
        let default = self.expr()?;
        let range = self.opt_range()?;
        self.expect_punct(";", "after the scalar declaration")?;
        Ok(Decl::Scalar {
            ty,
            name,
            pos,
            default,
            range,
        })
    }

    /// loop := "for" IDENT "in" expr ".." expr ["step" expr] block
    fn for_loop(&mut self) -> PResult<Loop> {
        self.expect_kw("for", "")?;
        let (var, pos) = self.ident("the loop variable after `for`")?;
        self.expect_kw("in", "after the loop variable")?;
        let lo = self.expr()?;
        self.expect_punct("..", "between the loop bounds (`for i in LO..HI`)")?;
        let hi = self.expr()?;
        let step = if self.eat_kw("step") {
            Some(self.expr()?)
        } else {
            None
        };
        let body = self.block()?;
        Ok(Loop {
            var,
            pos,
            lo,
            hi,
            step,
            body,
        })
    }

    fn block(&mut self) -> PResult<Vec<Stmt>> {
        self.expect_punct("{", "to open a block")?;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error_at(self.pos(), "blocks nested too deeply"));
        }
        let mut out = Vec::new();
        while !self.is_punct("}") {
            if *self.peek() == Tok::Eof {
                return Err(self.expected("`}` to close the block"));
            }
            out.push(self.stmt()?);
        }
        self.bump();
        self.depth -= 1;
        Ok(out)
    }

    /// stmt := "let" IDENT "=" expr ";" | IDENT ["[" expr "]"] ASSIGN_OP expr ";"
    ///       | "if" expr block ["else" (block | if-stmt)]
    fn stmt(&mut self) -> PResult<Stmt> {
        if self.eat_kw("let") {
            let (name, pos) = self.ident("a name after `let`")?;
            self.expect_punct("=", "after the `let` name")?;
            let value = self.expr()?;
            self.expect_punct(";", "after the `let` statement")?;
            return Ok(Stmt::Let { name, pos, value });
        }
        if self.eat_kw("if") {
            let cond = self.expr()?;
            let then = self.block()?;
            let els = if self.eat_kw("else") {
                if self.is_kw("if") {
                    self.depth += 1;
                    if self.depth > MAX_DEPTH {
                        return Err(self.error_at(self.pos(), "`else if` chain too long"));
                    }
                    let s = self.stmt()?;
                    self.depth -= 1;
                    vec![s]
                } else {
                    self.block()?
                }
            } else {
                Vec::new()
            };
            return Ok(Stmt::If { cond, then, els });
        }
        if self.is_kw("for") {
            return Err(self.error_at(
                self.pos(),
                "only one loop is allowed: the kernel is one innermost counted loop",
            ));
        }
        let (name, pos) =
            self.ident("a statement (`let`, `if`, an assignment `x = ...;` or `a[i] = ...;`)")?;
        let index = if self.is_punct("[") {
            Some(self.indices()?)
        } else {
            None
        };
        let op = match self.peek() {
            Tok::Punct(p) => match *p {
                "=" => None,
                "+=" => Some(BinOp::Add),
                "-=" => Some(BinOp::Sub),
                "*=" => Some(BinOp::Mul),
                "/=" => Some(BinOp::Div),
                "%=" => Some(BinOp::Rem),
                "&=" => Some(BinOp::And),
                "|=" => Some(BinOp::Or),
                "^=" => Some(BinOp::Xor),
                "<<=" => Some(BinOp::Shl),
                ">>=" => Some(BinOp::Ashr),
                ">>>=" => Some(BinOp::Lshr),
                _ => return Err(self.expected("`=` or a compound assignment (`+=`, `^=`, ...)")),
            },
            _ => return Err(self.expected("`=` or a compound assignment (`+=`, `^=`, ...)")),
        };
        self.bump();
        let value = self.expr()?;
        self.expect_punct(";", "after assignment")?;
        Ok(match index {
            Some(index) => Stmt::Store {
                array: name,
                pos,
                index,
                op,
                value,
            },
            None => Stmt::Assign {
                name,
                pos,
                op,
                value,
            },
        })
    }

    pub fn expr(&mut self) -> PResult<Expr> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error_at(self.pos(), "expression nested too deeply"));
        }
        let r = self.cond_expr();
        self.depth -= 1;
        r
    }

    fn cond_expr(&mut self) -> PResult<Expr> {
        let c = self.binary(1)?;
        if self.is_punct("?") {
            let pos = c.pos;
            self.bump();
            let a = self.expr()?;
            self.expect_punct(":", "in the conditional `c ? a : b`")?;
            let b = self.expr()?;
            return Ok(Expr::new(
                ExprKind::Cond(Box::new(c), Box::new(a), Box::new(b)),
                pos,
            ));
        }
        Ok(c)
    }

    /// The binary operator at the current token with its precedence level (1 = loosest).
    /// Rust-like: bitwise operators bind tighter than comparisons.
    fn binary_op(&self) -> Option<(BinOp, u8)> {
        let Tok::Punct(p) = self.peek() else {
            return None;
        };
        Some(match *p {
            "||" => (BinOp::LogOr, 1),
            "&&" => (BinOp::LogAnd, 2),
            "==" => (BinOp::Eq, 3),
            "!=" => (BinOp::Ne, 3),
            "<" => (BinOp::Lt, 3),
            "<=" => (BinOp::Le, 3),
            ">" => (BinOp::Gt, 3),
            ">=" => (BinOp::Ge, 3),
            "|" => (BinOp::Or, 4),
            "^" => (BinOp::Xor, 5),
            "&" => (BinOp::And, 6),
            "<<" => (BinOp::Shl, 7),
            ">>" => (BinOp::Ashr, 7),
            ">>>" => (BinOp::Lshr, 7),
            "+" => (BinOp::Add, 8),
            "-" => (BinOp::Sub, 8),
            "*" => (BinOp::Mul, 9),
            "/" => (BinOp::Div, 9),
            "%" => (BinOp::Rem, 9),
            _ => return None,
        })
    }

    /// Precedence climbing over left-associative binary operators of level >= `min`.
    fn binary(&mut self, min: u8) -> PResult<Expr> {
        let mut lhs = self.unary()?;
        while let Some((op, level)) = self.binary_op() {
            if level < min {
                break;
            }
            let pos = self.pos();
            self.bump();
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(self.error_at(pos, "expression nested too deeply"));
            }
            let rhs = self.binary(level + 1)?;
            self.depth -= 1;
            // An expression is located at its first token.
            let start = lhs.pos;
            lhs = Expr::new(ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)), start);
            if lhs.height > MAX_HEIGHT {
                return Err(self.error_at(
                    pos,
                    format!("expression too long (more than {MAX_HEIGHT} operators deep)"),
                ));
            }
            // Comparisons do not chain (`a < b < c` is almost always a mistake).
            if level == 3 && matches!(self.binary_op(), Some((_, 3))) {
                return Err(self.error_at(
                    self.pos(),
                    "comparisons do not chain; expected `&&`, `||` or the end of the expression (use parentheses)",
                ));
            }
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> PResult<Expr> {
        let pos = self.pos();
        let op = if self.is_punct("-") {
            Some(UnOp::Neg)
        } else if self.is_punct("~") {
            Some(UnOp::Not)
        } else if self.is_punct("!") {
            Some(UnOp::LogNot)
        } else {
            None
        };
        if let Some(op) = op {
            self.bump();
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(self.error_at(pos, "expression nested too deeply"));
            }
            let e = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::new(ExprKind::Unary(op, Box::new(e)), pos));
        }
        self.primary()
    }

    /// One or more `[expr]`.
    fn indices(&mut self) -> PResult<Vec<Expr>> {
        let mut out = Vec::new();
        while self.eat_punct("[") {
            out.push(self.expr()?);
            self.expect_punct("]", "after the array index")?;
        }
        Ok(out)
    }

    fn primary(&mut self) -> PResult<Expr> {
        let pos = self.pos();
        match self.peek().clone() {
            Tok::Int(v) => {
                self.bump();
                Ok(Expr::new(ExprKind::Int(v), pos))
            }
            Tok::Float(b) => {
                self.bump();
                Ok(Expr::new(ExprKind::Float(b), pos))
            }
            Tok::Punct("(") => {
                self.bump();
                let e = self.expr()?;
                self.expect_punct(")", "to close the parenthesis")?;
                Ok(e)
            }
            Tok::Ident(s) if !is_keyword(&s) => {
                self.bump();
                if self.is_punct("[") {
                    let idx = self.indices()?;
                    Ok(Expr::new(ExprKind::Index(s, idx), pos))
                } else if self.eat_punct("(") {
                    let mut args = Vec::new();
                    if !self.is_punct(")") {
                        loop {
                            args.push(self.expr()?);
                            if !self.eat_punct(",") {
                                break;
                            }
                        }
                    }
                    self.expect_punct(")", "to close the argument list")?;
                    Ok(Expr::new(ExprKind::Call(s, args), pos))
                } else {
                    Ok(Expr::new(ExprKind::Name(s), pos))
                }
            }
            _ => Err(self.expected("an expression (a number, a name, `(`, `-`, `~` or `!`)")),
        }
    }
}

/// Words that cannot name variables, arrays or parameters. (`step` and `range` are only
/// special where the grammar expects them, so they stay usable as names.)
pub fn is_keyword(s: &str) -> bool {
    matches!(
        s,
        "kernel"
            | "in"
            | "out"
            | "inout"
            | "var"
            | "let"
            | "for"
            | "if"
            | "else"
            | "return"
            | "as"
            | "i8"
            | "u8"
            | "i16"
            | "u16"
            | "i32"
            | "f32"
    )
}
