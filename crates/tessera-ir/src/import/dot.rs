//! DOT DFG importer: CGRA-ME, OpenCGRA / CGRA-Flow and SAT-MapIt dialects.
//!
//! The Graphviz syntax is read once; the dialect is then recognised from the file
//! ([`Dialect`], [`import_report`] says which and what was assumed): nodes with `opcode=`
//! are CGRA-ME, nodes all named `Node<N><op>` OpenCGRA (`dot_opencgra.rs`), labels holding
//! LLVM instructions SAT-MapIt (`dot_satmapit.rs`). The other dialects are rewritten into
//! the CGRA-ME form, which `build` turns into a kernel.
//!
//! The CGRA-ME form: nodes carry `opcode=` (CGRA-ME's names: `const`, `input`, `output`,
//! `phi`, `load`, `store`, `add`, `sub`, `mul`, `div`, `and`, `or`, `xor`, `shl`, `shra`,
//! `shrl`, `gep`, `icmp`, `select`, `sext`, `zext`, `trunc`, `nop`, plus LLVM's `lshr`,
//! `ashr`, ... and every Tessera op mnemonic) and edges carry `operand=`: the LLVM operand
//! index, as CGRA-ME's generator writes it (so a store's operand 0 is the value and 1 the
//! address), or `LHS`, `RHS`, `any2input`, `addr`, `data`, `pred`, `pred_not`, `order`. A
//! `const` takes its value from `constVal=`; without one (CGRA-ME never writes the value)
//! it is a scalar input. Loop-carried edges are written with `dist=N` (and optionally
//! `init=V`), close a cycle into a `phi`, or are what CGRA-ME's phi removal leaves: a
//! self-loop, or in a generated file an edge closing a cycle backwards in node order. The
//! full description is in `docs/file-formats.md`.
//!
//! Nothing here panics on bad input: syntax errors, unknown opcodes, missing operands and
//! dangling names are errors with file, line and column.

use crate::error::{IrError, SourceLoc};
use crate::kernel::{
    ArrayDecl, ArrayDir, ElemType, Kernel, KernelSource, LiveOut, Node, NodeId, Operand,
    ScalarDecl, Slot,
};
use crate::op::{Op, Width};
use petgraph::Direction;
use petgraph::visit::EdgeRef;
use std::collections::{BTreeMap, HashMap};

/// Bytes of the flat memory image `mem` a DOT kernel's loads and stores address (assumed
/// default; DOT DFGs carry no memory layout).
pub const DOT_MEMORY_BYTES: u32 = 64 * 1024;
/// Iterations the interpreter runs for a DOT kernel without a `trip_count` graph attribute.
pub const DOT_TRIP_COUNT: u32 = 32;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Id(String),
    Arrow,
    Dash,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Eq,
    Semi,
    Comma,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    line: usize,
    col: usize,
}

fn lex(text: &str, file: &str) -> Result<Vec<Token>, IrError> {
    let chars: Vec<char> = text.chars().collect();
    let (mut i, mut line, mut col) = (0usize, 1usize, 1usize);
    let mut out = Vec::new();
    let err = |l: usize, c: usize, m: String| IrError::parse(SourceLoc::new(file, l, c), m);
    macro_rules! adv {
        () => {{
            if chars[i] == '\n' {
                line += 1;
                col = 1;
            } else {
                col += 1;
            }
            i += 1;
        }};
    }
    while i < chars.len() {
        let c = chars[i];
        let (l0, c0) = (line, col);
        if c.is_whitespace() {
            adv!();
        } else if c == '/' && chars.get(i + 1) == Some(&'/') || c == '#' && (col == 1) {
            while i < chars.len() && chars[i] != '\n' {
                adv!();
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            adv!();
            adv!();
            loop {
                if i >= chars.len() {
                    return Err(err(
                        l0,
                        c0,
                        "unexpected end of file inside a `/* */` comment".into(),
                    ));
                }
                if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    adv!();
                    adv!();
                    break;
                }
                adv!();
            }
        } else if c == '"' {
            adv!();
            let mut s = String::new();
            loop {
                if i >= chars.len() {
                    return Err(err(
                        l0,
                        c0,
                        "unexpected end of file inside a quoted string; expected `\"`".into(),
                    ));
                }
                match chars[i] {
                    '"' => {
                        adv!();
                        break;
                    }
                    '\\' if i + 1 < chars.len() => {
                        adv!();
                        let e = chars[i];
                        if e != '"' && e != '\\' {
                            s.push('\\');
                        }
                        s.push(e);
                        adv!();
                    }
                    ch => {
                        s.push(ch);
                        adv!();
                    }
                }
            }
            out.push(Token {
                tok: Tok::Id(s),
                line: l0,
                col: c0,
            });
        } else if c == '-' && chars.get(i + 1) == Some(&'>') {
            adv!();
            adv!();
            out.push(Token {
                tok: Tok::Arrow,
                line: l0,
                col: c0,
            });
        } else if c == '-' && chars.get(i + 1) == Some(&'-') {
            adv!();
            adv!();
            out.push(Token {
                tok: Tok::Dash,
                line: l0,
                col: c0,
            });
        } else if c.is_alphanumeric() || c == '_' || c == '.' || c == '-' {
            let mut s = String::new();
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '.')
                || i < chars.len() && chars[i] == '-' && s.is_empty()
            {
                s.push(chars[i]);
                adv!();
            }
            out.push(Token {
                tok: Tok::Id(s),
                line: l0,
                col: c0,
            });
        } else {
            let tok = match c {
                '{' => Tok::LBrace,
                '}' => Tok::RBrace,
                '[' => Tok::LBracket,
                ']' => Tok::RBracket,
                '=' => Tok::Eq,
                ';' => Tok::Semi,
                ',' => Tok::Comma,
                other => {
                    return Err(err(
                        l0,
                        c0,
                        format!("unexpected character `{other}` in DOT"),
                    ));
                }
            };
            adv!();
            out.push(Token {
                tok,
                line: l0,
                col: c0,
            });
        }
    }
    Ok(out)
}

pub(super) type Attrs = Vec<(String, String, SourceLoc)>;

#[derive(Debug, Clone)]
pub(super) struct DNode {
    pub(super) name: String,
    pub(super) attrs: Attrs,
    pub(super) loc: SourceLoc,
    pub(super) declared: bool,
}

#[derive(Debug, Clone)]
pub(super) struct DEdge {
    pub(super) from: usize,
    pub(super) to: usize,
    pub(super) attrs: Attrs,
    pub(super) loc: SourceLoc,
}

struct Parser<'a> {
    toks: Vec<Token>,
    pos: usize,
    file: &'a str,
    nodes: Vec<DNode>,
    by_name: HashMap<String, usize>,
    edges: Vec<DEdge>,
    graph_attrs: Attrs,
    node_defaults: Attrs,
    edge_defaults: Attrs,
    end: SourceLoc,
}

impl Parser<'_> {
    fn loc(&self) -> SourceLoc {
        match self.toks.get(self.pos) {
            Some(t) => SourceLoc::new(self.file, t.line, t.col),
            None => self.end.clone(),
        }
    }
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.tok)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).map(|t| t.tok.clone());
        self.pos += 1;
        t
    }
    fn expect(&mut self, want: Tok, what: &str) -> Result<(), IrError> {
        let loc = self.loc();
        match self.next() {
            Some(t) if t == want => Ok(()),
            Some(t) => Err(IrError::parse(
                loc,
                format!("expected {what}, found {}", describe(&t)),
            )),
            None => Err(IrError::parse(
                loc,
                format!("unexpected end of file; expected {what}"),
            )),
        }
    }
    fn id(&mut self, what: &str) -> Result<(String, SourceLoc), IrError> {
        let loc = self.loc();
        match self.next() {
            Some(Tok::Id(s)) => Ok((s, loc)),
            Some(t) => Err(IrError::parse(
                loc,
                format!("expected {what}, found {}", describe(&t)),
            )),
            None => Err(IrError::parse(
                loc,
                format!("unexpected end of file; expected {what}"),
            )),
        }
    }
    fn attr_lists(&mut self) -> Result<Attrs, IrError> {
        let mut attrs = Vec::new();
        while self.peek() == Some(&Tok::LBracket) {
            self.next();
            loop {
                match self.peek() {
                    Some(Tok::RBracket) => {
                        self.next();
                        break;
                    }
                    Some(Tok::Comma | Tok::Semi) => {
                        self.next();
                    }
                    _ => {
                        let (k, loc) = self.id("an attribute name or `]`")?;
                        self.expect(Tok::Eq, &format!("`=` after attribute `{k}`"))?;
                        let (v, _) = self.id(&format!("a value for attribute `{k}`"))?;
                        attrs.push((k, v, loc));
                    }
                }
            }
        }
        Ok(attrs)
    }
    fn node_index(&mut self, name: &str, loc: &SourceLoc) -> usize {
        if let Some(&i) = self.by_name.get(name) {
            return i;
        }
        self.nodes.push(DNode {
            name: name.to_string(),
            attrs: Vec::new(),
            loc: loc.clone(),
            declared: false,
        });
        self.by_name.insert(name.to_string(), self.nodes.len() - 1);
        self.nodes.len() - 1
    }
    fn stmts(&mut self) -> Result<(), IrError> {
        loop {
            match self.peek() {
                None => {
                    return Err(IrError::parse(
                        self.end.clone(),
                        "unexpected end of file; expected `}` to close the graph",
                    ));
                }
                Some(Tok::RBrace) => {
                    self.next();
                    return Ok(());
                }
                Some(Tok::Semi) => {
                    self.next();
                }
                Some(Tok::LBrace) => {
                    self.next();
                    self.stmts()?;
                }
                Some(Tok::Id(_)) => self.stmt()?,
                Some(t) => {
                    let t = t.clone();
                    return Err(IrError::parse(
                        self.loc(),
                        format!("expected a statement, found {}", describe(&t)),
                    ));
                }
            }
        }
    }
    fn stmt(&mut self) -> Result<(), IrError> {
        let (first, loc) = self.id("a node name")?;
        match first.as_str() {
            "graph" | "node" | "edge" if self.peek() == Some(&Tok::LBracket) => {
                let a = self.attr_lists()?;
                match first.as_str() {
                    "graph" => self.graph_attrs.extend(a),
                    "node" => self.node_defaults.extend(a),
                    _ => self.edge_defaults.extend(a),
                }
                return Ok(());
            }
            "subgraph" => {
                if let Some(Tok::Id(_)) = self.peek() {
                    self.next();
                }
                self.expect(Tok::LBrace, "`{` after `subgraph`")?;
                return self.stmts();
            }
            _ => {}
        }
        if self.peek() == Some(&Tok::Eq) {
            self.next();
            let (v, _) = self.id("a value")?;
            self.graph_attrs.push((first, v, loc));
            return Ok(());
        }
        let mut chain = vec![(first, loc)];
        while matches!(self.peek(), Some(Tok::Arrow | Tok::Dash)) {
            if self.peek() == Some(&Tok::Dash) {
                return Err(IrError::parse(
                    self.loc(),
                    "undirected edge `--`; a DFG needs directed edges `->`",
                ));
            }
            self.next();
            chain.push(self.id("a node name after `->`")?);
        }
        let attrs = self.attr_lists()?;
        if chain.len() == 1 {
            let (name, loc) = chain.pop().expect("one");
            let i = self.node_index(&name, &loc);
            let n = &mut self.nodes[i];
            if !n.declared {
                n.loc = loc;
                n.declared = true;
                n.attrs.extend(self.node_defaults.iter().cloned());
            }
            n.attrs.extend(attrs);
        } else {
            let ids: Vec<usize> = chain.iter().map(|(n, l)| self.node_index(n, l)).collect();
            for w in ids.windows(2) {
                let mut a = self.edge_defaults.clone();
                a.extend(attrs.iter().cloned());
                self.edges.push(DEdge {
                    from: w[0],
                    to: w[1],
                    attrs: a,
                    loc: chain[0].1.clone(),
                });
            }
        }
        Ok(())
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Id(s) => format!("`{s}`"),
        Tok::Arrow => "`->`".into(),
        Tok::Dash => "`--`".into(),
        Tok::LBrace => "`{`".into(),
        Tok::RBrace => "`}`".into(),
        Tok::LBracket => "`[`".into(),
        Tok::RBracket => "`]`".into(),
        Tok::Eq => "`=`".into(),
        Tok::Semi => "`;`".into(),
        Tok::Comma => "`,`".into(),
    }
}

pub(super) fn get<'a>(attrs: &'a Attrs, names: &[&str]) -> Option<&'a (String, String, SourceLoc)> {
    attrs
        .iter()
        .rev()
        .find(|(k, _, _)| names.iter().any(|n| k.eq_ignore_ascii_case(n)))
}

fn int_value(a: &(String, String, SourceLoc)) -> Result<i64, IrError> {
    let v = a.1.trim();
    let parsed = if let Some(h) = v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        i64::from_str_radix(h, 16).ok()
    } else {
        v.parse::<i64>().ok()
    };
    match parsed {
        Some(x) if x >= i32::MIN as i64 && x <= u32::MAX as i64 => Ok(x),
        _ => Err(IrError::parse(
            a.2.clone(),
            format!(
                "attribute `{}` is `{}`; expected a 32-bit integer",
                a.0, a.1
            ),
        )),
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum DKind {
    Op(Op),
    Const,
    Input,
    Output,
    Phi,
}

/// The kind of a node from its `opcode`; errors say what is wrong with the opcode.
fn dkind(
    opcode: &(String, String, SourceLoc),
    attrs: &Attrs,
    node: &str,
) -> Result<DKind, IrError> {
    let op = opcode.1.to_ascii_lowercase();
    let simple = |o: Op| Ok(DKind::Op(o));
    let refuse = |why: String| Err(IrError::parse(opcode.2.clone(), why));
    match op.as_str() {
        "const" | "constant" => Ok(DKind::Const),
        "input" | "livein" => Ok(DKind::Input),
        "output" | "liveout" => Ok(DKind::Output),
        "phi" => Ok(DKind::Phi),
        "add" | "gep" => simple(Op::Add),
        "sub" => simple(Op::Sub),
        "mul" => simple(Op::Mul),
        "div" | "sdiv" => simple(Op::Div),
        "rem" | "srem" => simple(Op::Rem),
        "udiv" => simple(Op::DivU),
        "urem" => simple(Op::RemU),
        "shl" => simple(Op::Shl),
        // CGRA-ME's names for LLVM's `lshr` / `ashr` (its `OpGraphOp::opcode_map`).
        "lshr" | "shrl" => simple(Op::Lshr),
        "ashr" | "shra" => simple(Op::Ashr),
        "shr" => refuse(format!(
            "node `{node}` has opcode `shr`, which does not say arithmetic or logical; write `shra` (arithmetic) or `shrl` (logical)"
        )),
        "sext" | "zext" | "trunc" | "nop" | "mov" | "bitcast" => simple(Op::Move),
        "load" => simple(Op::Load {
            width: Width::Word,
            signed: true,
        }),
        "store" => simple(Op::Store { width: Width::Word }),
        "icmp" | "cmp" => {
            let Some(p) = get(attrs, &["predicate", "cmp"]) else {
                return refuse(format!(
                    "`{}` node `{node}` has no `predicate=`; CGRA-ME's generator does not record which comparison an icmp is, so write predicate=eq|ne|slt|sle|sgt|sge|ult|ule|ugt|uge",
                    opcode.1
                ));
            };
            match p.1.to_ascii_lowercase().as_str() {
                "eq" => simple(Op::Eq),
                "ne" => simple(Op::Ne),
                "slt" | "lt" => simple(Op::Lt),
                "sle" | "le" => simple(Op::Le),
                "sgt" | "gt" => simple(Op::Gt),
                "sge" | "ge" => simple(Op::Ge),
                "ult" | "ltu" => simple(Op::Ltu),
                "uge" | "geu" => simple(Op::Geu),
                // a > b (unsigned) is b < a, a <= b is b >= a: operands swapped in `build`.
                "ugt" | "gtu" => simple(Op::Ltu),
                "ule" | "leu" => simple(Op::Geu),
                other => Err(IrError::parse(
                    p.2.clone(),
                    format!(
                        "node `{node}` has predicate `{other}`; expected eq, ne, slt, sle, sgt, sge, ult, ule, ugt or uge"
                    ),
                )),
            }
        }
        "fcmp" => {
            let Some(p) = get(attrs, &["predicate", "cmp"]) else {
                return refuse(format!(
                    "`{}` node `{node}` has no `predicate=`; write predicate=oeq|une|olt|ole|ogt|oge",
                    opcode.1
                ));
            };
            match p.1.to_ascii_lowercase().as_str() {
                "oeq" => simple(Op::FEq),
                "une" => simple(Op::FNe),
                "olt" => simple(Op::FLt),
                "ole" => simple(Op::FLe),
                // a > b is b < a, a >= b is b <= a: operands swapped in `build`.
                "ogt" => simple(Op::FLt),
                "oge" => simple(Op::FLe),
                other => Err(IrError::parse(
                    p.2.clone(),
                    format!(
                        "fcmp node `{node}` has predicate `{other}`; Tessera reads oeq, une, olt, ole, ogt and oge (the other LLVM fcmp predicates, ord/uno and the unordered ones but une, are not supported)"
                    ),
                )),
            }
        }
        _ => {
            let found = Op::ALL_SIMPLE
                .iter()
                .find(|o| o.mnemonic() == op)
                .map(|o| DKind::Op(*o))
                .or(match op.as_str() {
                    "loadb" => Some(DKind::Op(Op::Load {
                        width: Width::Byte,
                        signed: true,
                    })),
                    "loadbu" => Some(DKind::Op(Op::Load {
                        width: Width::Byte,
                        signed: false,
                    })),
                    "loadh" => Some(DKind::Op(Op::Load {
                        width: Width::Half,
                        signed: true,
                    })),
                    "loadhu" => Some(DKind::Op(Op::Load {
                        width: Width::Half,
                        signed: false,
                    })),
                    "storeb" => Some(DKind::Op(Op::Store { width: Width::Byte })),
                    "storeh" => Some(DKind::Op(Op::Store { width: Width::Half })),
                    _ => None,
                });
            match found {
                Some(k) => Ok(k),
                None if is_unsupported_float_op(&op) => {
                    Err(float_error(&opcode.2, &opcode.1, node))
                }
                None => Err(IrError::UnsupportedOp {
                    loc: opcode.2.clone(),
                    op: opcode.1.clone(),
                    hint: format!(" (node `{node}`); see docs/file-formats.md for the DOT opcodes"),
                }),
            }
        }
    }
}

/// LLVM's floating-point instructions that Tessera's binary32 ops do not cover.
pub(super) fn is_unsupported_float_op(op: &str) -> bool {
    matches!(op, "frem" | "uitofp" | "fptoui" | "fpext" | "fptrunc")
}

/// The located error for an unsupported float op: refused, never read as an integer op.
pub(super) fn float_error(loc: &SourceLoc, op: &str, node: &str) -> IrError {
    IrError::UnsupportedOp {
        loc: loc.clone(),
        op: op.to_string(),
        hint: format!(
            " (node `{node}`): float op `{op}` is not supported: Tessera has IEEE binary32 fadd, fsub, fmul, fdiv, fneg, fcmp (oeq, une, olt, ole, ogt, oge), fptosi and sitofp, but no frem, unsigned conversions or double precision (fpext/fptrunc)"
        ),
    }
}

/// Which DOT dialect a file is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// CGRA-ME's `DFGGeneration` pass (`opcode=` on nodes, numeric `operand=` on edges in
    /// LLVM operand order), with Tessera's additions (`constVal`, `dist`, `init`, named
    /// operands, `predicate`).
    CgraMe,
    /// OpenCGRA / CGRA-Flow / CGRA-Bench: the LLVM opcode at the end of the node name
    /// (`Node6fmul`), symbol labels, edges without attributes.
    OpenCgra,
    /// SAT-MapIt: the LLVM instruction text in `label`, back edges `color=red`.
    SatMapIt,
}

impl Dialect {
    /// Short name.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::CgraMe => "CGRA-ME",
            Dialect::OpenCgra => "OpenCGRA / CGRA-Flow",
            Dialect::SatMapIt => "SAT-MapIt",
        }
    }
    /// What in the file made the importer choose this dialect.
    pub fn recognised_by(self) -> &'static str {
        match self {
            Dialect::CgraMe => "nodes carry `opcode=`",
            Dialect::OpenCgra => "no `opcode=`; every node is named `Node<N><llvm-op>`",
            Dialect::SatMapIt => {
                "no `opcode=`; node labels are `<id> <LLVM instruction>`, back edges `color=red`"
            }
        }
    }
}

/// A DOT import: the kernel, the dialect it was read as, and what the importer had to
/// assume because the file does not say it (each a sentence for people).
#[derive(Debug, Clone)]
pub struct DotImport {
    pub kernel: Kernel,
    pub dialect: Dialect,
    pub notes: Vec<String>,
}

/// Import DOT text in any of the supported dialects; `file` names it in errors. What the
/// importer assumed (see [`import_report`]) is logged as a warning.
pub fn import_str(text: &str, file: &str) -> Result<Kernel, IrError> {
    let r = import_report(text, file)?;
    if !r.notes.is_empty() {
        tracing::warn!(
            "{file}: read as {} DOT ({}); {}",
            r.dialect.name(),
            r.dialect.recognised_by(),
            r.notes.join("; ")
        );
    }
    Ok(r.kernel)
}

/// Import DOT text and say which dialect it was read as and what was assumed.
pub fn import_report(text: &str, file: &str) -> Result<DotImport, IrError> {
    let toks = lex(text, file)?;
    let end = match toks.last() {
        Some(t) => SourceLoc::new(file, t.line, t.col),
        None => SourceLoc::new(file, 1, 1),
    };
    let mut p = Parser {
        toks,
        pos: 0,
        file,
        nodes: Vec::new(),
        by_name: HashMap::new(),
        edges: Vec::new(),
        graph_attrs: Vec::new(),
        node_defaults: Vec::new(),
        edge_defaults: Vec::new(),
        end,
    };
    if let Some(Tok::Id(s)) = p.peek()
        && s == "strict"
    {
        p.next();
    }
    let (kw, kw_loc) = p.id("`digraph`")?;
    if kw != "digraph" {
        return Err(IrError::parse(
            kw_loc,
            format!("expected `digraph`, found `{kw}`"),
        ));
    }
    let mut name = std::path::Path::new(file)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("dot")
        .to_string();
    if let Some(Tok::Id(_)) = p.peek() {
        let (n, _) = p.id("a graph name")?;
        let plain = n
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-');
        if n != "G" && !n.is_empty() && plain {
            name = n;
        }
    }
    p.expect(Tok::LBrace, "`{` to open the graph")?;
    p.stmts()?;
    if p.pos < p.toks.len() {
        return Err(IrError::parse(
            p.loc(),
            "unexpected text after the closing `}` of the graph",
        ));
    }
    let dialect = detect(&p)?;
    let mut notes = Vec::new();
    let mut g = Graph {
        nodes: p.nodes,
        edges: p.edges,
        graph_attrs: p.graph_attrs,
    };
    match dialect {
        Dialect::CgraMe => {}
        Dialect::OpenCgra => super::dot_opencgra::normalize(&mut g, &mut notes)?,
        Dialect::SatMapIt => super::dot_satmapit::normalize(&mut g, file, &mut notes)?,
    }
    let kernel = build(g, name, file, dialect, &mut notes)?;
    Ok(DotImport {
        kernel,
        dialect,
        notes,
    })
}

/// The parsed graph, in the CGRA-ME form that [`build`] reads (other dialects are
/// rewritten into it first).
pub(super) struct Graph {
    pub(super) nodes: Vec<DNode>,
    pub(super) edges: Vec<DEdge>,
    pub(super) graph_attrs: Attrs,
}

impl Graph {
    /// Add a node (declared, with these attributes) and return its index.
    pub(super) fn add_node(
        &mut self,
        name: String,
        attrs: &[(&str, &str)],
        loc: &SourceLoc,
    ) -> usize {
        self.nodes.push(DNode {
            name,
            attrs: attrs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string(), loc.clone()))
                .collect(),
            loc: loc.clone(),
            declared: true,
        });
        self.nodes.len() - 1
    }
    pub(super) fn add_edge(
        &mut self,
        from: usize,
        to: usize,
        attrs: &[(&str, &str)],
        loc: &SourceLoc,
    ) {
        self.edges.push(DEdge {
            from,
            to,
            attrs: attrs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string(), loc.clone()))
                .collect(),
            loc: loc.clone(),
        });
    }
}

/// `Node<digits><letters>` -> the letters (the OpenCGRA op).
pub(super) fn opencgra_op(name: &str) -> Option<&str> {
    let rest = name.strip_prefix("Node")?;
    let digits = rest.chars().take_while(|c| c.is_ascii_digit()).count();
    let op = &rest[digits..];
    (digits > 0 && !op.is_empty() && op.chars().all(|c| c.is_ascii_alphabetic())).then_some(op)
}

fn detect(p: &Parser) -> Result<Dialect, IrError> {
    if p.nodes.iter().any(|d| get(&d.attrs, &["opcode"]).is_some()) {
        return Ok(Dialect::CgraMe);
    }
    if !p.nodes.is_empty() && p.nodes.iter().all(|d| opencgra_op(&d.name).is_some()) {
        return Ok(Dialect::OpenCgra);
    }
    let satmapit = p.nodes.iter().any(|d| {
        get(&d.attrs, &["label"]).is_some_and(|l| super::dot_satmapit::is_instruction_label(&l.1))
    });
    if satmapit {
        return Ok(Dialect::SatMapIt);
    }
    let loc = p
        .nodes
        .first()
        .map(|d| d.loc.clone())
        .unwrap_or_else(|| p.end.clone());
    Err(IrError::parse(
        loc,
        "cannot tell which DFG dialect this DOT file is: no node has `opcode=` (CGRA-ME), the node names are not all `Node<N><op>` (OpenCGRA / CGRA-Flow) and no label is `<id> <LLVM instruction>` (SAT-MapIt); see docs/file-formats.md",
    ))
}

/// One operand edge of a regular op, before slots are assigned.
struct In {
    from: usize,
    dist: u32,
    init: i32,
}

fn build(
    p: Graph,
    name: String,
    file: &str,
    dialect: Dialect,
    notes: &mut Vec<String>,
) -> Result<Kernel, IrError> {
    let mut k = Kernel::new(name, KernelSource::Dot);
    k.file = Some(file.to_string());
    k.trip_count = match get(&p.graph_attrs, &["trip_count", "tripcount"]) {
        Some(a) => u32::try_from(int_value(a)?).map_err(|_| {
            IrError::parse(a.2.clone(), "trip_count must be a non-negative integer")
        })?,
        None => DOT_TRIP_COUNT,
    };
    let n = p.nodes.len();
    let mut kinds = Vec::with_capacity(n);
    for d in &p.nodes {
        if !d.declared && get(&d.attrs, &["opcode"]).is_none() {
            return Err(IrError::parse(
                d.loc.clone(),
                format!(
                    "node `{}` is used by an edge but never declared with an `opcode`",
                    d.name
                ),
            ));
        }
        let Some(op) = get(&d.attrs, &["opcode"]) else {
            return Err(IrError::parse(
                d.loc.clone(),
                format!("node `{}` has no `opcode` attribute", d.name),
            ));
        };
        kinds.push(dkind(op, &d.attrs, &d.name)?);
    }
    let dist_of = |e: &DEdge| -> Result<Option<u32>, IrError> {
        match get(&e.attrs, &["dist", "distance"]) {
            Some(a) => u32::try_from(int_value(a)?)
                .map(Some)
                .map_err(|_| IrError::parse(a.2.clone(), "dist must be a non-negative integer")),
            None => Ok(None),
        }
    };
    // Reachability over edges without an explicit `dist`.
    let mut succ: Vec<Vec<usize>> = vec![Vec::new(); n];
    for ed in &p.edges {
        if get(&ed.attrs, &["dist", "distance"]).is_none() {
            succ[ed.from].push(ed.to);
        }
    }
    let reaches_in = |succ: &Vec<Vec<usize>>, from: usize, to: usize| {
        let mut seen = vec![false; n];
        let mut stack = vec![from];
        while let Some(x) = stack.pop() {
            if x == to {
                return true;
            }
            if std::mem::replace(&mut seen[x], true) {
                continue;
            }
            stack.extend(succ[x].iter().copied());
        }
        false
    };
    // CGRA-ME removes phis (`removePhiNodes`): the phi's in-loop input is wired straight to
    // the phi's users, so a loop-carried value is an edge without a mark. An op that feeds
    // itself (a self-loop) is an accumulator. In a file as CGRA-ME's `printDOTwithOps`
    // writes it (node `<opcode><k>` is the k-th node, in the order the pass created them,
    // which is LLVM instruction order), an edge that closes a cycle and goes back in that
    // order is such a wire too. Both are read as distance 1; the initial value went with
    // the phi and is read as 0.
    let generated = dialect == Dialect::CgraMe
        && p.nodes.iter().enumerate().all(|(i, d)| {
            d.declared
                && get(&d.attrs, &["opcode"]).is_some_and(|o| d.name == format!("{}{i}", o.1))
        });
    let mut carried_self = vec![false; p.edges.len()];
    let mut self_loops: Vec<String> = Vec::new();
    let mut back_wires: Vec<String> = Vec::new();
    for (e, ed) in p.edges.iter().enumerate() {
        if kinds[ed.to] == DKind::Phi || dist_of(ed)?.is_some() {
            continue;
        }
        if ed.from == ed.to {
            carried_self[e] = true;
            if !self_loops.contains(&p.nodes[ed.to].name) {
                self_loops.push(p.nodes[ed.to].name.clone());
            }
        } else if generated && ed.from > ed.to && reaches_in(&succ, ed.to, ed.from) {
            carried_self[e] = true;
            back_wires.push(format!(
                "{} -> {}",
                p.nodes[ed.from].name, p.nodes[ed.to].name
            ));
        }
    }
    if !self_loops.is_empty() {
        notes.push(format!(
            "{} self-loop(s) without a phi read as accumulators (loop-carried, distance 1, initial value 0; the file does not keep the initial value): {}",
            self_loops.len(),
            self_loops.join(", ")
        ));
    }
    if !back_wires.is_empty() {
        notes.push(format!(
            "{} edge(s) that close a cycle backwards in CGRA-ME's node order read as loop-carried (distance 1, initial value 0; CGRA-ME removed the phi): {}",
            back_wires.len(),
            back_wires.join(", ")
        ));
    }
    // Incoming edges per node, in file order.
    let mut incoming: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (e, d) in p.edges.iter().enumerate() {
        incoming[d.to].push(e);
    }
    // Reachability without the implicit loop-carried edges (for phi back edges).
    for (e, ed) in p.edges.iter().enumerate() {
        if carried_self[e] {
            succ[ed.from].retain(|&t| t != ed.to);
        }
    }
    let reaches = |from: usize, to: usize| reaches_in(&succ, from, to);
    let ids: Vec<NodeId> = p
        .nodes
        .iter()
        .map(|d| k.add_node(Node::new(Op::Move).with_label(d.name.clone())))
        .collect();
    let mut valueless: Vec<String> = Vec::new();
    let mut divs: Vec<String> = Vec::new();
    for i in 0..n {
        let d = &p.nodes[i];
        let id = ids[i];
        match kinds[i] {
            DKind::Const => match get(&d.attrs, &["constVal", "value", "const", "imm"]) {
                Some(v) => {
                    k.graph[id].op = Op::Const;
                    k.graph[id].imm = Some(int_value(v)? as u32 as i32);
                }
                None => {
                    // CGRA-ME's generator writes no value for its constants (its DOT has
                    // `opcode=const` only): the value is unknown, so it is an input.
                    let s = k.scalars.len() as u16;
                    k.scalars.push(ScalarDecl {
                        name: d.name.clone(),
                        default: 0,
                        random_range: Some((i16::MIN as i32, i16::MAX as i32)),
                        elem: Default::default(),
                    });
                    k.graph[id].op = Op::Input(s);
                    valueless.push(d.name.clone());
                }
            },
            DKind::Input => {
                let s = k.scalars.len() as u16;
                let default = match get(&d.attrs, &["value", "default"]) {
                    Some(a) => int_value(a)? as u32 as i32,
                    None => 0,
                };
                k.scalars.push(ScalarDecl {
                    name: d.name.clone(),
                    default,
                    random_range: Some((i16::MIN as i32, i16::MAX as i32)),
                    elem: Default::default(),
                });
                k.graph[id].op = Op::Input(s);
            }
            DKind::Op(Op::Div)
                if dialect == Dialect::CgraMe
                    && get(&d.attrs, &["opcode"])
                        .is_some_and(|a| a.1.eq_ignore_ascii_case("div")) =>
            {
                divs.push(d.name.clone());
            }
            _ => {}
        }
        if let Some(a) = get(&d.attrs, &["imm"])
            && !matches!(kinds[i], DKind::Const)
        {
            k.graph[id].imm = Some(int_value(a)? as u32 as i32);
        }
    }
    if !valueless.is_empty() {
        notes.push(format!(
            "{} const node(s) without a value (CGRA-ME does not write constant values) read as scalar inputs named after the node: {}",
            valueless.len(),
            valueless.join(", ")
        ));
    }
    if !divs.is_empty() {
        notes.push(format!(
            "`div` read as signed division (CGRA-ME writes sdiv, udiv, srem and urem all as `div`): {}",
            divs.join(", ")
        ));
    }
    let mut first_flag: Option<NodeId> = None;
    for i in 0..n {
        let d = &p.nodes[i];
        let id = ids[i];
        let kind = kinds[i];
        if matches!(kind, DKind::Const | DKind::Input) {
            if let Some(&e) = incoming[i].first() {
                return Err(IrError::parse(
                    p.edges[e].loc.clone(),
                    format!(
                        "`{}` is a {} node and takes no operands",
                        d.name,
                        if kind == DKind::Const {
                            "const"
                        } else {
                            "input"
                        }
                    ),
                ));
            }
            continue;
        }
        if kind == DKind::Phi {
            let mut init: Vec<usize> = Vec::new();
            let mut back: Vec<(usize, u32, i32)> = Vec::new();
            for &e in &incoming[i] {
                let ed = &p.edges[e];
                let dist = match dist_of(ed)? {
                    Some(v) => v,
                    None => u32::from(reaches(i, ed.from)),
                };
                let init_v = match get(&ed.attrs, &["init"]) {
                    Some(a) => int_value(a)? as i32,
                    None => 0,
                };
                if dist > 0 {
                    back.push((e, dist, init_v))
                } else {
                    init.push(e)
                }
            }
            if back.len() != 1 || init.len() > 1 {
                return Err(IrError::parse(
                    d.loc.clone(),
                    format!(
                        "phi `{}` has {} loop-carried and {} initial inputs; expected one back edge (closing a cycle, or with dist=N) and at most one initial value",
                        d.name,
                        back.len(),
                        init.len()
                    ),
                ));
            }
            let (be, dist, mut init_v) = back[0];
            let bsrc = ids[p.edges[be].from];
            let init_const = init
                .first()
                .map(|&ie| k.graph[ids[p.edges[ie].from]].op == Op::Const);
            match (init.first(), init_const) {
                (None, _) => {
                    k.graph[id].op = Op::Move;
                    k.add_edge(bsrc, id, Operand::carried(0, dist, init_v));
                }
                (Some(&ie), Some(true)) => {
                    // A constant initial value becomes the back edge's init.
                    init_v = k.graph[ids[p.edges[ie].from]].imm.unwrap_or(0);
                    k.graph[id].op = Op::Move;
                    k.add_edge(bsrc, id, Operand::carried(0, dist, init_v));
                    // Keep the constant's use visible as an ordering edge.
                    k.add_edge(
                        ids[p.edges[ie].from],
                        id,
                        Operand {
                            slot: Slot::Order,
                            distance: 0,
                            init: 0,
                        },
                    );
                }
                (Some(&ie), _) => {
                    // Any other initial value: select it while the iteration is below `dist`.
                    if dist != 1 {
                        return Err(IrError::parse(
                            d.loc.clone(),
                            format!(
                                "phi `{}` with a non-constant initial value needs dist=1, found dist={dist}",
                                d.name
                            ),
                        ));
                    }
                    let flag = *first_flag.get_or_insert_with(|| {
                        let zero = k.add_node(Node::new(Op::Const).with_imm(0).with_label("~zero"));
                        let f = k.add_node(Node::new(Op::Move).with_label("~first_iteration"));
                        k.add_edge(zero, f, Operand::carried(0, 1, 1));
                        f
                    });
                    k.graph[id].op = Op::Select;
                    k.add_edge(flag, id, Operand::data(0));
                    k.add_edge(ids[p.edges[ie].from], id, Operand::data(1));
                    k.add_edge(bsrc, id, Operand::carried(2, dist, init_v));
                }
            }
            continue;
        }
        let op = match kind {
            DKind::Op(op) => op,
            DKind::Output => Op::Move,
            _ => unreachable!("handled above"),
        };
        k.graph[id].op = op;
        let store = op.is_store();
        // Operand numbers as the file writes them: LLVM operand order (CGRA-ME writes the
        // LLVM operand index, so a store's operand 0 is the value and 1 the address).
        // Explicit numbers and names first, then `any2input` in file order.
        let mut slots: BTreeMap<u8, In> = BTreeMap::new();
        let mut floating: Vec<In> = Vec::new();
        for &e in &incoming[i] {
            let ed = &p.edges[e];
            let dist = match dist_of(ed)? {
                Some(v) => v,
                None => u32::from(carried_self[e]),
            };
            let init_v = match get(&ed.attrs, &["init"]) {
                Some(a) => int_value(a)? as u32 as i32,
                None => 0,
            };
            let operand = get(&ed.attrs, &["operand"]).map(|a| a.1.to_ascii_lowercase());
            let src = ids[ed.from];
            let special = |slot| Operand {
                slot,
                distance: dist,
                init: if slot == Slot::Order { 0 } else { init_v },
            };
            let slot = match operand.as_deref() {
                None | Some("any2input") | Some("any") => None,
                Some("pred") | Some("p") => {
                    k.add_edge(src, id, special(Slot::Pred { negated: false }));
                    continue;
                }
                Some("pred_not") | Some("!p") | Some("npred") => {
                    k.add_edge(src, id, special(Slot::Pred { negated: true }));
                    continue;
                }
                Some("order") => {
                    k.add_edge(src, id, special(Slot::Order));
                    continue;
                }
                Some("addr") if store => Some(1u8),
                Some("data") if store => Some(0),
                Some("lhs") | Some("addr") | Some("cond") => Some(0),
                Some("rhs") | Some("data") => Some(1),
                Some(s) => match s.parse::<u8>() {
                    Ok(v) if v < 8 => Some(v),
                    _ => {
                        return Err(IrError::parse(
                            ed.loc.clone(),
                            format!(
                                "edge {} -> {} has operand=\"{s}\"; expected 0..7, LHS, RHS, any2input, addr, data, pred, pred_not or order",
                                p.nodes[ed.from].name, d.name
                            ),
                        ));
                    }
                },
            };
            let input = In {
                from: ed.from,
                dist,
                init: init_v,
            };
            match slot {
                Some(s) => {
                    if slots.insert(s, input).is_some() {
                        return Err(IrError::parse(
                            ed.loc.clone(),
                            format!("node `{}` gets operand {s} twice", d.name),
                        ));
                    }
                }
                None => floating.push(input),
            }
        }
        let mut next = 0u8;
        for f in floating {
            while slots.contains_key(&next) {
                next += 1;
            }
            slots.insert(next, f);
        }
        let count = slots.len();
        for (pos, (s, _)) in slots.iter().enumerate() {
            if *s as usize != pos {
                return Err(IrError::parse(
                    d.loc.clone(),
                    format!("node `{}` has operand {s} but no operand {pos}", d.name),
                ));
            }
        }
        let ar = op.arity();
        let have = count + usize::from(k.graph[id].imm.is_some());
        if (store && count != 2) || have < ar.min as usize || count > ar.max as usize {
            let want = if store {
                "2 (operand 0 the value, 1 the address: LLVM order)".to_string()
            } else if ar.min == ar.max {
                ar.min.to_string()
            } else {
                format!("{} to {}", ar.min, ar.max)
            };
            return Err(IrError::parse(
                d.loc.clone(),
                format!(
                    "node `{}` ({}) has {count} operand(s); expected {want}",
                    d.name,
                    get(&d.attrs, &["opcode"]).map_or("?", |a| a.1.as_str())
                ),
            ));
        }
        let swapped = get(&d.attrs, &["predicate", "cmp"]).is_some_and(|a| {
            matches!(
                a.1.to_ascii_lowercase().as_str(),
                "ugt" | "gtu" | "ule" | "leu" | "ogt" | "oge"
            )
        });
        for (s, input) in slots {
            // LLVM store order (value, address) -> Tessera's (address, value); an unsigned
            // > or <= is the swapped < or >=.
            let slot = if store || (swapped && s < 2) {
                1 - s
            } else {
                s
            };
            k.add_edge(
                ids[input.from],
                id,
                Operand::carried(slot, input.dist, input.init),
            );
        }
        if kind == DKind::Output {
            k.live_outs.push(LiveOut {
                name: d.name.clone(),
                node: id,
                init: 0,
            });
        }
    }
    // A cycle of same-iteration edges: name it where the file wrote it.
    if k.topo_order().is_err() {
        return Err(combinational_cycle(&p, &k, &ids));
    }
    // Memory image: one flat array the loads and stores address.
    if k.nodes().any(|(_, n)| n.op.is_memory()) {
        k.arrays.push(ArrayDecl {
            name: "mem".to_string(),
            width: Width::Word,
            signed: true,
            len: DOT_MEMORY_BYTES / 4,
            base: 0,
            dir: ArrayDir::InOut,
            init_range: None,
            elem: Default::default(),
        });
        let mem_ids: Vec<NodeId> = k
            .nodes()
            .filter(|(_, n)| n.op.is_memory())
            .map(|(i, _)| i)
            .collect();
        for i in mem_ids {
            k.graph[i].array = Some(0);
        }
        // Values that reach an address are kept small so random inputs address `mem`.
        let (mem_feeds, scalars) = address_feeders(&k);
        if mem_feeds {
            k.arrays[0].init_range = Some((0, 15));
        }
        for s in scalars {
            k.scalars[s].random_range = Some((0, 15));
        }
        // The same conservative may-alias ordering as the Morpher importer: every pair of
        // accesses that may touch a common byte keeps the interpreter's order, within an
        // iteration and from one iteration to the next.
        super::morpher::add_memory_order(&mut k);
        if !mem_feeds && holds_floats(&k) {
            k.arrays[0].elem = ElemType::F32;
        }
    }
    draw_float_scalars_as_floats(&mut k);
    // Indices and pointers: the ranges of `mem` and of the scalar inputs that keep every
    // address inside `mem` (`crate::input_ranges`); when none exist, the kernel keeps the
    // ranges above and the note names the node that makes it impossible.
    match crate::input_ranges::apply(&mut k) {
        Ok(r) => {
            let names: Vec<String> = r
                .narrowed_arrays
                .iter()
                .map(|&a| {
                    let (lo, hi) = k.arrays[a].init_range.unwrap_or((0, 0));
                    format!("`{}` in {lo}..={hi}", k.arrays[a].name)
                })
                .chain(r.narrowed_scalars.iter().map(|&s| {
                    let (lo, hi) = k.scalars[s].random_range.unwrap_or((0, 0));
                    format!("`{}` in {lo}..={hi}", k.scalars[s].name)
                }))
                .collect();
            if !names.is_empty() {
                notes.push(format!(
                    "random inputs keep every address inside `mem`: {}",
                    names.join(", ")
                ));
            }
        }
        Err(e) => {
            let label = &k.graph[NodeId::new(e.node)].label;
            notes.push(format!(
                "no input ranges found that keep every address inside `mem` (random inputs may leave it): {e} (node {} is `{label}`)",
                e.node
            ))
        }
    }
    k.validate()?;
    Ok(k)
}

/// Scalar inputs that only float ops read (directly or through moves) are drawn as
/// floats: uniformly among the binary32 values in [0.5, 1) (their bit patterns form one
/// integer range, 0x3F00_0000..=0x3F7F_FFFF), not as random integers, whose bits would be
/// tiny subnormals or, for negative integers, NaNs. Inputs that reach an address keep
/// their integer range.
fn draw_float_scalars_as_floats(k: &mut Kernel) {
    const HALF: i32 = 0x3F00_0000; // 0.5
    const BELOW_ONE: i32 = 0x3F7F_FFFF; // the largest binary32 below 1.0
    let mut float_only = vec![None::<bool>; k.scalars.len()];
    for (id, n) in k.nodes() {
        let Op::Input(s) = n.op else { continue };
        let mut stack = vec![id];
        let mut seen = vec![false; k.node_count()];
        let mut verdict = float_only[s as usize];
        while let Some(x) = stack.pop() {
            if std::mem::replace(&mut seen[x.index()], true) {
                continue;
            }
            for e in k.graph.edges_directed(x, Direction::Outgoing) {
                let op = k.graph[e.target()].op;
                let reads_float =
                    matches!(e.weight().slot, Slot::Data(_)) && op.is_float() && op != Op::SIToF;
                if op == Op::Move && matches!(e.weight().slot, Slot::Data(_)) {
                    stack.push(e.target());
                } else {
                    verdict = Some(verdict.unwrap_or(true) && reads_float);
                }
            }
        }
        float_only[s as usize] = verdict;
    }
    for (s, f) in float_only.into_iter().enumerate() {
        if f == Some(true) {
            k.scalars[s].random_range = Some((HALF, BELOW_ONE));
        }
    }
}

/// Whether the memory holds floats: a loaded value is a data operand of a float op (through
/// moves), or a store writes a float op's result. Then `mem`'s inputs are drawn as finite
/// floats. (When loaded values also form addresses, `mem` keeps its small integers, which
/// are finite subnormals as floats.)
fn holds_floats(k: &Kernel) -> bool {
    let float_reader = |mut id: NodeId| -> bool {
        // Follow moves (casts the importers read as moves) down to a consumer.
        let mut stack = vec![id];
        let mut seen = vec![false; k.node_count()];
        while let Some(x) = stack.pop() {
            id = x;
            if std::mem::replace(&mut seen[id.index()], true) {
                continue;
            }
            for e in k.graph.edges_directed(id, Direction::Outgoing) {
                if !matches!(e.weight().slot, Slot::Data(_)) {
                    continue;
                }
                let op = k.graph[e.target()].op;
                if op.is_float() && op != Op::SIToF {
                    return true;
                }
                if op == Op::Move {
                    stack.push(e.target());
                }
            }
        }
        false
    };
    k.nodes().any(|(id, n)| {
        (n.op.is_load() && float_reader(id))
            || (n.op.is_store()
                && k.operands(id).iter().any(|(src, o)| {
                    matches!(o.slot, Slot::Data(_)) && k.graph[*src].op.yields_float()
                }))
    })
}

/// Whether loaded values, and which scalar inputs, flow into an address operand, through
/// data edges of any distance (a value carried around the loop into an address counts).
fn address_feeders(k: &Kernel) -> (bool, Vec<usize>) {
    let mut seen = vec![false; k.node_count()];
    let mut stack: Vec<NodeId> = Vec::new();
    for (id, n) in k.nodes() {
        if n.op.is_memory() {
            stack.extend(
                k.operands(id)
                    .into_iter()
                    .filter(|(_, o)| o.slot == Slot::Data(0))
                    .map(|(s, _)| s),
            );
        }
    }
    let (mut mem, mut scalars) = (false, Vec::new());
    while let Some(id) = stack.pop() {
        if std::mem::replace(&mut seen[id.index()], true) {
            continue;
        }
        match k.graph[id].op {
            Op::Load { .. } => mem = true,
            Op::Input(s) => scalars.push(s as usize),
            _ => stack.extend(
                k.operands(id)
                    .into_iter()
                    .filter(|(_, o)| matches!(o.slot, Slot::Data(_)))
                    .map(|(s, _)| s),
            ),
        }
    }
    (mem, scalars)
}

/// The error for a cycle without a loop-carried edge, at an edge of the cycle.
fn combinational_cycle(p: &Graph, k: &Kernel, ids: &[NodeId]) -> IrError {
    // Nodes on a cycle of distance-0 edges: strongly connected, more than one node or a
    // self-loop.
    let sccs =
        petgraph::algo::kosaraju_scc(&petgraph::visit::EdgeFiltered::from_fn(&k.graph, |e| {
            e.weight().distance == 0
        }));
    let on_cycle: Vec<NodeId> = sccs
        .into_iter()
        .find(|c| {
            c.len() > 1
                || k.graph
                    .edges_connecting(c[0], c[0])
                    .any(|e| e.weight().distance == 0)
        })
        .unwrap_or_default();
    let names: Vec<String> = on_cycle
        .iter()
        .map(|id| format!("`{}`", k.graph[*id].label))
        .collect();
    let index = |id: NodeId| ids.iter().position(|x| *x == id);
    let loc = p
        .edges
        .iter()
        .find(|e| {
            on_cycle.iter().any(|x| index(*x) == Some(e.from))
                && on_cycle.iter().any(|x| index(*x) == Some(e.to))
        })
        .map(|e| e.loc.clone())
        .or_else(|| p.nodes.first().map(|d| d.loc.clone()))
        .unwrap_or_default();
    IrError::parse(
        loc,
        format!(
            "cycle without a loop-carried edge through {}: a value cannot depend on itself within one iteration; mark the back edge with dist=1 (or route it through a phi)",
            names.join(" -> ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexes_quoted_ids_and_comments() {
        let t = lex(
            "digraph G { /* c */ a [opcode=\"const\", constVal=\"-3\"]; // x\n a -> b; }",
            "t.dot",
        )
        .unwrap();
        assert!(t.iter().any(|t| t.tok == Tok::Id("-3".into())));
        assert!(t.iter().any(|t| t.tok == Tok::Arrow));
    }
}
