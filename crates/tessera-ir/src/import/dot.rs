//! CGRA-ME / Pillars style DOT DFG importer.
//!
//! The dialect: a `digraph` whose nodes carry `opcode=` (CGRA-ME names: `const`, `input`,
//! `output`, `phi`, `load`, `store`, `add`, `sub`, `mul`, `div`, `and`, `or`, `xor`, `shl`,
//! `lshr`, `ashr`, `gep`, `icmp`, `select`, `sext`, `zext`, `trunc`, `nop`, plus every
//! Tessera op mnemonic such as `eq`, `lt`, `min`, `sext8`) and whose edges carry `operand=`
//! (`0`, `1`, `2`, `LHS`, `RHS`, `any2input`, `addr`, `data`, `pred`, `pred_not`). A `const`
//! node takes its value from `constVal=` (or `value=`). Loop-carried edges are written with
//! `dist=N` (and optionally `init=V`); a `phi` may instead close its cycle without `dist`,
//! and its input that the phi itself reaches is then taken as the back edge (distance 1).
//! The full description is in `docs/file-formats.md`.
//!
//! Nothing here panics on bad input: syntax errors, unknown opcodes, missing operands and
//! dangling names are errors with file, line and column.

use crate::error::{IrError, SourceLoc};
use crate::kernel::{
    ArrayDecl, ArrayDir, Kernel, KernelSource, LiveOut, Node, NodeId, Operand, ScalarDecl, Slot,
};
use crate::op::{Op, Width};
use std::collections::{BTreeMap, HashMap};

/// Bytes of the flat memory image `mem` a DOT kernel's loads and stores address (assumed
/// default; DOT DFGs carry no memory layout).
pub const DOT_MEMORY_BYTES: u32 = 4096;
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

type Attrs = Vec<(String, String, SourceLoc)>;

#[derive(Debug, Clone)]
struct DNode {
    name: String,
    attrs: Attrs,
    loc: SourceLoc,
    declared: bool,
}

#[derive(Debug, Clone)]
struct DEdge {
    from: usize,
    to: usize,
    attrs: Attrs,
    loc: SourceLoc,
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

fn get<'a>(attrs: &'a Attrs, names: &[&str]) -> Option<&'a (String, String, SourceLoc)> {
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

fn dkind(opcode: &str, attrs: &Attrs) -> Option<DKind> {
    let op = opcode.to_ascii_lowercase();
    let simple = |o: Op| Some(DKind::Op(o));
    match op.as_str() {
        "const" | "constant" => Some(DKind::Const),
        "input" | "livein" => Some(DKind::Input),
        "output" | "liveout" => Some(DKind::Output),
        "phi" => Some(DKind::Phi),
        "add" | "gep" => simple(Op::Add),
        "sub" => simple(Op::Sub),
        "mul" => simple(Op::Mul),
        "div" | "sdiv" => simple(Op::Div),
        "rem" | "srem" => simple(Op::Rem),
        "udiv" => simple(Op::DivU),
        "urem" => simple(Op::RemU),
        "shl" => simple(Op::Shl),
        "lshr" => simple(Op::Lshr),
        "ashr" => simple(Op::Ashr),
        "sext" | "zext" | "trunc" | "nop" | "mov" | "bitcast" => simple(Op::Move),
        "load" => simple(Op::Load {
            width: Width::Word,
            signed: true,
        }),
        "store" => simple(Op::Store { width: Width::Word }),
        "icmp" | "cmp" => {
            let p = get(attrs, &["predicate", "cmp"]).map(|a| a.1.to_ascii_lowercase());
            match p.as_deref().unwrap_or("eq") {
                "eq" => simple(Op::Eq),
                "ne" => simple(Op::Ne),
                "slt" | "lt" => simple(Op::Lt),
                "sle" | "le" => simple(Op::Le),
                "sgt" | "gt" => simple(Op::Gt),
                "sge" | "ge" => simple(Op::Ge),
                "ult" | "ltu" => simple(Op::Ltu),
                "uge" | "geu" => simple(Op::Geu),
                _ => None,
            }
        }
        _ => {
            let all = Op::ALL_SIMPLE;
            all.iter()
                .find(|o| o.mnemonic() == op)
                .map(|o| DKind::Op(*o))
                .or(match op.as_str() {
                    "loadb" => simple(Op::Load {
                        width: Width::Byte,
                        signed: true,
                    }),
                    "loadbu" => simple(Op::Load {
                        width: Width::Byte,
                        signed: false,
                    }),
                    "loadh" => simple(Op::Load {
                        width: Width::Half,
                        signed: true,
                    }),
                    "loadhu" => simple(Op::Load {
                        width: Width::Half,
                        signed: false,
                    }),
                    "storeb" => simple(Op::Store { width: Width::Byte }),
                    "storeh" => simple(Op::Store { width: Width::Half }),
                    _ => None,
                })
        }
    }
}

/// Import CGRA-ME / Pillars DOT text; `file` names it in errors.
pub fn import_str(text: &str, file: &str) -> Result<Kernel, IrError> {
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
        if n != "G" && !n.is_empty() {
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
    build(p, name, file)
}

fn build(p: Parser, name: String, file: &str) -> Result<Kernel, IrError> {
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
        let kind = dkind(&op.1, &d.attrs).ok_or_else(|| IrError::UnsupportedOp {
            loc: op.2.clone(),
            op: op.1.clone(),
            hint: format!(
                " (node `{}`); see docs/file-formats.md for the DOT opcodes",
                d.name
            ),
        })?;
        kinds.push(kind);
    }
    // Incoming edges per node, in file order.
    let mut incoming: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (e, d) in p.edges.iter().enumerate() {
        incoming[d.to].push(e);
    }
    // Reachability over edges without an explicit `dist` (for phi back edges).
    let explicit_dist = |e: &DEdge| get(&e.attrs, &["dist", "distance"]).is_some();
    let mut succ: Vec<Vec<usize>> = vec![Vec::new(); n];
    for e in &p.edges {
        if !explicit_dist(e) {
            succ[e.from].push(e.to);
        }
    }
    let reaches = |from: usize, to: usize| {
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
    let ids: Vec<NodeId> = p
        .nodes
        .iter()
        .map(|d| k.add_node(Node::new(Op::Move).with_label(d.name.clone())))
        .collect();
    let mut first_flag: Option<NodeId> = None;
    for i in 0..n {
        let d = &p.nodes[i];
        let id = ids[i];
        match kinds[i] {
            DKind::Const => {
                let v = get(&d.attrs, &["constVal", "value", "const", "imm"]).ok_or_else(|| {
                    IrError::parse(
                        d.loc.clone(),
                        format!(
                            "const node `{}` has no value; expected constVal=<integer>",
                            d.name
                        ),
                    )
                })?;
                k.graph[id].op = Op::Const;
                k.graph[id].imm = Some(int_value(v)? as u32 as i32);
            }
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
                });
                k.graph[id].op = Op::Input(s);
            }
            _ => {}
        }
        if let Some(a) = get(&d.attrs, &["imm"])
            && !matches!(kinds[i], DKind::Const)
        {
            k.graph[id].imm = Some(int_value(a)? as u32 as i32);
        }
    }
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
                let dist = match get(&ed.attrs, &["dist", "distance"]) {
                    Some(a) => int_value(a)? as u32,
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
            match init.first() {
                None => {
                    k.graph[id].op = Op::Move;
                    k.add_edge(bsrc, id, Operand::carried(0, dist, init_v));
                }
                Some(&ie) if kinds[p.edges[ie].from] == DKind::Const => {
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
                Some(&ie) => {
                    // Any other initial value: select it while the iteration is below `dist`.
                    let flag = *first_flag.get_or_insert_with(|| {
                        let zero = k.add_node(Node::new(Op::Const).with_imm(0).with_label("~zero"));
                        let f = k.add_node(Node::new(Op::Move).with_label("~first_iteration"));
                        k.add_edge(zero, f, Operand::carried(0, 1, 1));
                        f
                    });
                    if dist != 1 {
                        return Err(IrError::parse(
                            d.loc.clone(),
                            format!(
                                "phi `{}` with a non-constant initial value needs dist=1, found dist={dist}",
                                d.name
                            ),
                        ));
                    }
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
        // Operand slots: explicit numbers/names first, then `any2input` in file order.
        let mut slots: BTreeMap<u8, (usize, u32, i32)> = BTreeMap::new();
        let mut floating: Vec<(usize, u32, i32)> = Vec::new();
        for &e in &incoming[i] {
            let ed = &p.edges[e];
            let dist = match get(&ed.attrs, &["dist", "distance"]) {
                Some(a) => u32::try_from(int_value(a)?).map_err(|_| {
                    IrError::parse(a.2.clone(), "dist must be a non-negative integer")
                })?,
                None => 0,
            };
            let init_v = match get(&ed.attrs, &["init"]) {
                Some(a) => int_value(a)? as u32 as i32,
                None => 0,
            };
            let operand = get(&ed.attrs, &["operand"]).map(|a| a.1.to_ascii_lowercase());
            let src = ids[ed.from];
            let slot = match operand.as_deref() {
                None | Some("any2input") | Some("any") => None,
                Some("pred") | Some("p") => {
                    k.add_edge(
                        src,
                        id,
                        Operand {
                            slot: Slot::Pred { negated: false },
                            distance: dist,
                            init: init_v,
                        },
                    );
                    continue;
                }
                Some("pred_not") | Some("!p") | Some("npred") => {
                    k.add_edge(
                        src,
                        id,
                        Operand {
                            slot: Slot::Pred { negated: true },
                            distance: dist,
                            init: init_v,
                        },
                    );
                    continue;
                }
                Some("order") => {
                    k.add_edge(
                        src,
                        id,
                        Operand {
                            slot: Slot::Order,
                            distance: dist,
                            init: 0,
                        },
                    );
                    continue;
                }
                Some("lhs") | Some("addr") | Some("cond") => Some(0u8),
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
            match slot {
                Some(s) => {
                    if slots.insert(s, (ed.from, dist, init_v)).is_some() {
                        return Err(IrError::parse(
                            ed.loc.clone(),
                            format!("node `{}` gets operand {s} twice", d.name),
                        ));
                    }
                }
                None => floating.push((ed.from, dist, init_v)),
            }
        }
        let mut next = 0u8;
        for f in floating {
            while slots.contains_key(&next) {
                next += 1;
            }
            slots.insert(next, f);
        }
        for (pos, (s, (from, dist, init_v))) in slots.into_iter().enumerate() {
            if s as usize != pos {
                return Err(IrError::parse(
                    d.loc.clone(),
                    format!("node `{}` has operand {s} but no operand {pos}", d.name),
                ));
            }
            k.add_edge(ids[from], id, Operand::carried(s, dist, init_v));
        }
        if kind == DKind::Output {
            k.live_outs.push(LiveOut {
                name: d.name.clone(),
                node: id,
                init: 0,
            });
        }
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
        let (arrays, all, scalars) = super::morpher::address_sources(&k);
        if all || !arrays.is_empty() {
            k.arrays[0].init_range = Some((0, 15));
        }
        for s in scalars {
            k.scalars[s].random_range = Some((0, 15));
        }
    }
    k.validate()?;
    Ok(k)
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
