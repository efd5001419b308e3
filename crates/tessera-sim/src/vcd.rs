//! VCD waveforms (IEEE 1364 value change dump) of a run, for GTKWave and similar viewers.
//!
//! Time unit: 1 ps; one array cycle lasts the spec's clock period. Per PE (scope
//! `pe<id>_r<row>c<col>`): `op` (string: the op mnemonic and node id issued this cycle,
//! `~` marking a squashed op, `-` an idle PE), `res` (32-bit: the result computed this
//! cycle), `out` (32-bit: the output register), `iter` (the iteration of the issued op),
//! and `rf0`, `rf1`, ... (32-bit: the registers of its register file). `out` and the
//! registers show their contents at the start of each cycle, as written by the end of the
//! previous one; a register that no route has written yet reads 0.
//! At the top: `clk`, `cycle` (array cycle) and `stall` (high while the array waits for a
//! bank). `string` variables are a GTKWave extension of VCD. [`check_structure`] checks a
//! file's structure; GTKWave 3.3.118 was checked by hand to open, convert (`vcd2fst`) and
//! read back these files (docs/PERFORMANCE.md, "VCD check with GTKWave").

use crate::program::{Program, Val};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// An op issued by a PE in one array cycle (for replay: [`crate::Simulator::run_cycles`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedOp {
    pub node: u32,
    pub iteration: u64,
    /// Predicated off: the op occupied its slot but wrote `(0, not valid)`.
    pub squashed: bool,
    /// The result computed this cycle.
    pub result: i32,
    pub valid: bool,
}

/// A value crossing a link in one array cycle (for replay: [`crate::Simulator::run_cycles`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkValue {
    /// The link, from PE to PE (one hop of a route; a multi-hop route gives one per hop).
    pub from: u16,
    pub to: u16,
    /// The node whose value it is, and that node's iteration.
    pub node: u32,
    pub iteration: u64,
    pub value: i32,
    /// False for the `(0, not valid)` result of a squashed op.
    pub valid: bool,
}

/// A live value in a PE's register file after one array cycle (for replay:
/// [`crate::Simulator::run_cycles`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegValue {
    /// The register: register `reg` of PE `pe`'s register file.
    pub pe: u16,
    pub reg: u16,
    /// The node whose value it holds, and that node's iteration.
    pub node: u32,
    pub iteration: u64,
    pub value: i32,
    /// False for the `(0, not valid)` result of a squashed op.
    pub valid: bool,
}

/// One array cycle of a run, as the VCD records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CycleRecord {
    /// Array cycle (stalls included) in which this schedule cycle ran.
    pub wall: u64,
    /// Stall cycles that followed it (bank conflicts).
    pub stall: u64,
    /// Per PE: the op it issued, if any.
    pub ops: Vec<Option<IssuedOp>>,
    /// Per PE: its output register at the start of the cycle.
    pub out_regs: Vec<i32>,
    /// Values on links this cycle, ordered by (from, to). Recorded only for kept cycles
    /// (`run_cycles`), never for a VCD-only or untraced run.
    #[serde(default)]
    pub links: Vec<LinkValue>,
    /// Register-file contents after the cycle, ordered by (PE, register): only registers
    /// holding a live value (written by a route and not yet past its last read). Recorded
    /// only for kept cycles (`run_cycles`), like `links`.
    #[serde(default)]
    pub regs: Vec<RegValue>,
}

/// Collects a run cycle by cycle and renders VCD text.
pub struct VcdTrace {
    out: String,
    /// Structured copy of the cycles (replay), up to `keep` of them.
    pub(crate) cycles: Vec<CycleRecord>,
    pub(crate) keep: usize,
    period_ps: u64,
    pes: usize,
    /// Registers per PE register file.
    rf: usize,
    mnemonics: Vec<String>,
    // Per PE this cycle.
    op: Vec<Option<(u32, u64, bool, Val)>>,
    // Last dumped values, to write changes only.
    last_op: Vec<String>,
    last_res: Vec<Option<i32>>,
    last_out: Vec<Option<i32>>,
    /// Per register-file register (PE-major), the last dumped value.
    last_rf: Vec<i32>,
    last_iter: Vec<Option<u64>>,
    wall: u64,
    last_time: Option<u64>,
    /// Per storage index (output registers, then register files): the node and iteration
    /// whose value the latest committed write put there (kept only for replay records).
    owner: Vec<Option<(u32, u64)>>,
    /// This cycle's register writes, committed at its end in this order.
    owner_pending: Vec<(u32, u32, u64)>,
}

fn id(i: usize) -> String {
    // Printable ASCII 33..=126, little-endian digits.
    let mut s = String::new();
    let mut x = i;
    loop {
        s.push((33 + (x % 94)) as u8 as char);
        x /= 94;
        if x == 0 {
            break;
        }
        x -= 1;
    }
    s
}

// Signal ids: 0 clk, 1 cycle, 2 stall, then 4 per PE, then the register files' registers.
fn pe_id(pe: usize, k: usize) -> String {
    id(3 + pe * 4 + k)
}

fn rf_id(pes: usize, rf: usize, pe: usize, reg: usize) -> String {
    id(3 + pes * 4 + pe * rf + reg)
}

impl VcdTrace {
    pub(crate) fn new(
        program: &Program,
        kernel_name: &str,
        arch: &tessera_arch::cgra::CgraSpec,
        seed: Option<u64>,
    ) -> Self {
        let pes = program.pe_count;
        let rf = (program.storage_len - pes) / pes.max(1);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "$version tessera-sim {} $end",
            env!("CARGO_PKG_VERSION")
        );
        let _ = writeln!(
            out,
            "$comment kernel {} on {} ({}x{}), II {}, {} iterations, seed {} $end",
            kernel_name,
            arch.name,
            arch.rows,
            arch.cols,
            program.ii,
            program.trip,
            seed.map(|s| s.to_string()).unwrap_or_else(|| "-".into())
        );
        let _ = writeln!(out, "$timescale 1ps $end");
        let _ = writeln!(out, "$scope module cgra $end");
        let _ = writeln!(out, "$var wire 1 {} clk $end", id(0));
        let _ = writeln!(out, "$var integer 64 {} cycle $end", id(1));
        let _ = writeln!(out, "$var wire 1 {} stall $end", id(2));
        for pe in 0..pes {
            let (r, c) = arch.pe_pos(pe as u16);
            let _ = writeln!(out, "$scope module pe{pe}_r{r}c{c} $end");
            let _ = writeln!(out, "$var string 1 {} op $end", pe_id(pe, 0));
            let _ = writeln!(out, "$var wire 32 {} res $end", pe_id(pe, 1));
            let _ = writeln!(out, "$var wire 32 {} out $end", pe_id(pe, 2));
            let _ = writeln!(out, "$var integer 64 {} iter $end", pe_id(pe, 3));
            for reg in 0..rf {
                let _ = writeln!(out, "$var wire 32 {} rf{reg} $end", rf_id(pes, rf, pe, reg));
            }
            let _ = writeln!(out, "$upscope $end");
        }
        let _ = writeln!(out, "$upscope $end");
        let _ = writeln!(out, "$enddefinitions $end");
        let _ = writeln!(out, "#0");
        let _ = writeln!(out, "$dumpvars");
        let _ = writeln!(out, "0{}", id(0));
        let _ = writeln!(out, "b0 {}", id(1));
        let _ = writeln!(out, "0{}", id(2));
        for pe in 0..pes {
            let _ = writeln!(out, "s- {}", pe_id(pe, 0));
            let _ = writeln!(out, "bx {}", pe_id(pe, 1));
            let _ = writeln!(out, "b0 {}", pe_id(pe, 2));
            let _ = writeln!(out, "bx {}", pe_id(pe, 3));
            for reg in 0..rf {
                let _ = writeln!(out, "b0 {}", rf_id(pes, rf, pe, reg));
            }
        }
        let _ = writeln!(out, "$end");
        Self {
            out,
            cycles: Vec::new(),
            keep: 0,
            period_ps: arch.timing.clock_period_ps as u64,
            pes,
            rf,
            mnemonics: program.node_mnemonic.clone(),
            op: vec![None; pes],
            last_op: vec!["-".to_string(); pes],
            last_res: vec![None; pes],
            last_out: vec![Some(0); pes],
            last_rf: vec![0; pes * rf],
            last_iter: vec![None; pes],
            wall: 0,
            last_time: Some(0),
            owner: vec![None; program.storage_len],
            owner_pending: Vec::new(),
        }
    }

    /// A cycle starts; `storage` holds the output registers, then the register files.
    pub(crate) fn begin_cycle(&mut self, wall: u64, storage: &[Val]) {
        self.wall = wall;
        self.time(wall * self.period_ps);
        let _ = writeln!(self.out, "1{}", id(0));
        let _ = writeln!(self.out, "b{:b} {}", wall, id(1));
        self.dump_storage(storage);
        let out_regs = &storage[..self.pes.min(storage.len())];
        for o in &mut self.op {
            *o = None;
        }
        if self.cycles.len() < self.keep {
            self.cycles.push(CycleRecord {
                wall,
                stall: 0,
                ops: vec![None; self.pes],
                out_regs: out_regs.iter().take(self.pes).map(|v| v.v).collect(),
                links: Vec::new(),
                regs: Vec::new(),
            });
        }
    }

    /// Is the current cycle kept as a record (then link values are worth collecting)?
    pub(crate) fn keeps_cycle(&self) -> bool {
        self.cycles.last().is_some_and(|r| r.wall == self.wall)
    }

    pub(crate) fn link(&mut self, v: LinkValue) {
        if let Some(row) = self.cycles.last_mut().filter(|r| r.wall == self.wall) {
            row.links.push(v);
        }
    }

    /// A transfer writes storage `i` at the end of this cycle with the value of `node`'s
    /// `iteration` (calls come in the order the run commits the writes).
    pub(crate) fn reg_write(&mut self, i: u32, node: u32, iteration: u64) {
        if self.keep > 0 {
            self.owner_pending.push((i, node, iteration));
        }
    }

    /// The cycle's register writes are committed: the last write to a register owns it.
    pub(crate) fn commit_reg_writes(&mut self) {
        for (i, node, iteration) in self.owner_pending.drain(..) {
            if let Some(o) = self.owner.get_mut(i as usize) {
                *o = Some((node, iteration));
            }
        }
    }

    /// Record register `reg` of PE `pe` (storage `i`), live after the cycle and holding
    /// `v`: the node and iteration are those of its latest write (should the mapping let
    /// another value clobber a live one, the record shows the value really there). Calls
    /// come ordered by (PE, register), possibly repeated.
    pub(crate) fn reg(&mut self, pe: u16, reg: u16, i: u32, v: Val) {
        let Some((node, iteration)) = self.owner.get(i as usize).copied().flatten() else {
            return;
        };
        if let Some(row) = self.cycles.last_mut().filter(|r| r.wall == self.wall)
            && row.regs.last().is_none_or(|l| (l.pe, l.reg) != (pe, reg))
        {
            row.regs.push(RegValue {
                pe,
                reg,
                node,
                iteration,
                value: v.v,
                valid: v.ok,
            });
        }
    }

    pub(crate) fn op(&mut self, pe: usize, node: u32, iteration: u64, squashed: bool, res: Val) {
        self.op[pe] = Some((node, iteration, squashed, res));
    }

    pub(crate) fn end_cycle(&mut self, stall: u64) {
        if let Some(row) = self.cycles.last_mut().filter(|r| r.wall == self.wall) {
            row.stall = stall;
            for (slot, op) in row.ops.iter_mut().zip(&self.op) {
                *slot = op.map(|(node, iteration, squashed, res)| IssuedOp {
                    node,
                    iteration,
                    squashed,
                    result: res.v,
                    valid: res.ok,
                });
            }
        }
        for pe in 0..self.pes {
            let (name, res, iter) = match self.op[pe] {
                Some((node, it, sq, res)) => (
                    format!(
                        "{}{}#{}",
                        if sq { "~" } else { "" },
                        self.mnemonics[node as usize],
                        node
                    ),
                    Some(res.v),
                    Some(it),
                ),
                None => ("-".to_string(), None, None),
            };
            if name != self.last_op[pe] {
                let _ = writeln!(self.out, "s{name} {}", pe_id(pe, 0));
                self.last_op[pe] = name;
            }
            if res != self.last_res[pe] {
                match res {
                    Some(v) => {
                        let _ = writeln!(self.out, "b{:b} {}", v as u32, pe_id(pe, 1));
                    }
                    None => {
                        let _ = writeln!(self.out, "bx {}", pe_id(pe, 1));
                    }
                }
                self.last_res[pe] = res;
            }
            if iter != self.last_iter[pe] {
                match iter {
                    Some(v) => {
                        let _ = writeln!(self.out, "b{v:b} {}", pe_id(pe, 3));
                    }
                    None => {
                        let _ = writeln!(self.out, "bx {}", pe_id(pe, 3));
                    }
                }
                self.last_iter[pe] = iter;
            }
        }
        let half = self.wall * self.period_ps + self.period_ps / 2;
        self.time(half);
        let _ = writeln!(self.out, "0{}", id(0));
        if stall > 0 {
            for s in 0..stall {
                let t = (self.wall + 1 + s) * self.period_ps;
                self.time(t);
                let _ = writeln!(self.out, "1{}", id(0));
                if s == 0 {
                    let _ = writeln!(self.out, "1{}", id(2));
                }
                self.time(t + self.period_ps / 2);
                let _ = writeln!(self.out, "0{}", id(0));
            }
            self.time((self.wall + 1 + stall) * self.period_ps);
            let _ = writeln!(self.out, "0{}", id(2));
        }
    }

    pub(crate) fn finish(&mut self, wall: u64, storage: &[Val]) {
        self.time(wall * self.period_ps);
        self.dump_storage(storage);
    }

    /// Dump the output registers and register-file registers that changed.
    fn dump_storage(&mut self, storage: &[Val]) {
        for (pe, v) in storage.iter().enumerate().take(self.pes) {
            if self.last_out[pe] != Some(v.v) {
                let _ = writeln!(self.out, "b{:b} {}", v.v as u32, pe_id(pe, 2));
                self.last_out[pe] = Some(v.v);
            }
        }
        let regs = storage.iter().skip(self.pes).take(self.last_rf.len());
        for (i, v) in regs.enumerate() {
            if self.last_rf[i] != v.v {
                let (pe, reg) = (i / self.rf, i % self.rf);
                let _ = writeln!(
                    self.out,
                    "b{:b} {}",
                    v.v as u32,
                    rf_id(self.pes, self.rf, pe, reg)
                );
                self.last_rf[i] = v.v;
            }
        }
    }

    /// Write a timestamp unless it is the current one (timestamps must increase).
    fn time(&mut self, t: u64) {
        if self.last_time != Some(t) {
            let _ = writeln!(self.out, "#{t}");
            self.last_time = Some(t);
        }
    }

    /// The VCD text.
    pub fn into_string(self) -> String {
        self.out
    }
}

/// What [`check_structure`] found in a VCD text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VcdInfo {
    /// Declared variables: (scope path, name, type, width, identifier code).
    pub vars: Vec<(String, String, String, u32, String)>,
    /// Timestamps in the body (strictly increasing).
    pub timestamps: usize,
    /// Value changes in the body (the `$dumpvars` block included).
    pub changes: usize,
    /// Last timestamp.
    pub end_time: u64,
}

/// Check that `text` is structurally valid VCD as IEEE 1364-2005 section 18 defines it,
/// with GTKWave's `string` variables: header sections each closed by `$end`, a
/// `$timescale` of 1, 10 or 100 and a unit, balanced `$scope`/`$upscope` around every
/// `$var` (type, width, identifier code of printable ASCII 33..=126, reference), then
/// `$enddefinitions $end`; in the body, strictly increasing `#time` stamps starting with
/// the first value change, scalar changes `[01xz]<id>` only for 1-bit variables, vector
/// changes `b[01xz]+ <id>` no wider than the variable, string changes `s<text> <id>` only
/// for `string` variables, and no undeclared identifier. Returns the first problem with its
/// line number.
pub fn check_structure(text: &str) -> Result<VcdInfo, String> {
    let (head, body) = text
        .split_once("$enddefinitions")
        .ok_or("no `$enddefinitions`")?;
    let head_lines = head.lines().count();
    let body = body
        .trim_start_matches(|c: char| c.is_whitespace())
        .strip_prefix("$end")
        .ok_or("`$enddefinitions` is not followed by `$end`")?;
    // Header: a token stream of sections.
    let tokens: Vec<&str> = head.split_whitespace().collect();
    let mut i = 0;
    let mut scopes: Vec<String> = Vec::new();
    let mut vars = Vec::new();
    let mut timescale = false;
    let mut ids: std::collections::HashMap<String, (String, u32)> = Default::default();
    while i < tokens.len() {
        let kw = tokens[i];
        let end = tokens[i..]
            .iter()
            .position(|t| *t == "$end")
            .map(|p| i + p)
            .ok_or_else(|| format!("header section `{kw}` is not closed by `$end`"))?;
        let args = &tokens[i + 1..end];
        match kw {
            "$version" | "$comment" | "$date" => {}
            "$timescale" => {
                let s: String = args.concat();
                let digits: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
                let unit = &s[digits.len()..];
                if !matches!(digits.as_str(), "1" | "10" | "100")
                    || !matches!(unit, "s" | "ms" | "us" | "ns" | "ps" | "fs")
                {
                    return Err(format!("bad `$timescale {s}`"));
                }
                timescale = true;
            }
            "$scope" => {
                if args.len() != 2
                    || !matches!(args[0], "module" | "task" | "function" | "begin" | "fork")
                {
                    return Err(format!("bad `$scope {}`", args.join(" ")));
                }
                scopes.push(args[1].to_string());
            }
            "$upscope" => {
                if scopes.pop().is_none() || !args.is_empty() {
                    return Err("`$upscope` without an open scope".into());
                }
            }
            "$var" => {
                if scopes.is_empty() {
                    return Err("`$var` outside any `$scope`".into());
                }
                let [ty, width, code, name] = args else {
                    return Err(format!(
                        "`$var {}`: expected type, width, id, name",
                        args.join(" ")
                    ));
                };
                if !matches!(
                    *ty,
                    "wire" | "reg" | "integer" | "real" | "parameter" | "event" | "string"
                ) {
                    return Err(format!("`$var`: unknown type `{ty}`"));
                }
                let w: u32 = width
                    .parse()
                    .ok()
                    .filter(|w| *w >= 1)
                    .ok_or_else(|| format!("`$var`: bad width `{width}`"))?;
                if !code.bytes().all(|b| (33..=126).contains(&b)) {
                    return Err(format!(
                        "`$var`: identifier `{code}` is not printable ASCII"
                    ));
                }
                if ids.insert(code.to_string(), (ty.to_string(), w)).is_some() {
                    return Err(format!("identifier `{code}` declared twice"));
                }
                vars.push((
                    scopes.join("."),
                    name.to_string(),
                    ty.to_string(),
                    w,
                    code.to_string(),
                ));
            }
            other => return Err(format!("unknown header keyword `{other}`")),
        }
        i = end + 1;
    }
    if !scopes.is_empty() {
        return Err(format!("scope `{}` is not closed", scopes.join(".")));
    }
    if !timescale {
        return Err("no `$timescale`".into());
    }
    if vars.is_empty() {
        return Err("no `$var`".into());
    }
    // Body.
    let mut last: Option<u64> = None;
    let (mut timestamps, mut changes) = (0, 0);
    let mut in_dump = false;
    for (n, raw) in body.lines().enumerate() {
        let line_no = head_lines + n + 1;
        let line = raw.trim();
        let at = |m: String| format!("line {line_no}: {m}: `{line}`");
        if line.is_empty() {
            continue;
        }
        match line {
            "$dumpvars" | "$dumpall" | "$dumpon" | "$dumpoff" => {
                if last.is_none() {
                    return Err(at("value dump before the first timestamp".into()));
                }
                in_dump = true;
                continue;
            }
            "$end" if in_dump => {
                in_dump = false;
                continue;
            }
            _ => {}
        }
        if let Some(t) = line.strip_prefix('#') {
            let t: u64 = t.parse().map_err(|_| at("bad timestamp".into()))?;
            if last.is_some_and(|l| t <= l) {
                return Err(at(format!(
                    "timestamp not increasing after #{}",
                    last.unwrap_or(0)
                )));
            }
            last = Some(t);
            timestamps += 1;
            continue;
        }
        if last.is_none() {
            return Err(at("value change before the first timestamp".into()));
        }
        let first = line.as_bytes()[0];
        match first {
            b'b' | b'B' | b'r' | b'R' | b's' | b'S' => {
                let (val, code) = line[1..]
                    .split_once(' ')
                    .ok_or_else(|| at("vector change without an identifier".into()))?;
                let (ty, w) = ids
                    .get(code.trim())
                    .ok_or_else(|| at("undeclared identifier".into()))?;
                match first.to_ascii_lowercase() {
                    b'b' => {
                        if val.is_empty()
                            || !val
                                .chars()
                                .all(|c| matches!(c, '0' | '1' | 'x' | 'z' | 'X' | 'Z'))
                        {
                            return Err(at("bad binary value".into()));
                        }
                        if val.len() as u32 > *w {
                            return Err(at(format!("{} bits for a {w}-bit variable", val.len())));
                        }
                        if ty == "string" || ty == "real" {
                            return Err(at(format!("binary value for a `{ty}` variable")));
                        }
                    }
                    b'r' => {
                        val.parse::<f64>()
                            .map_err(|_| at("bad real value".into()))?;
                    }
                    _ => {
                        if ty != "string" || val.is_empty() {
                            return Err(at("string change needs a `string` variable".into()));
                        }
                    }
                }
            }
            b'0' | b'1' | b'x' | b'X' | b'z' | b'Z' => {
                let code = &line[1..];
                let (_, w) = ids
                    .get(code)
                    .ok_or_else(|| at("undeclared identifier".into()))?;
                if *w != 1 {
                    return Err(at(format!("scalar change of a {w}-bit variable")));
                }
            }
            _ => return Err(at("not a value change or timestamp".into())),
        }
        changes += 1;
    }
    if in_dump {
        return Err("`$dumpvars` block not closed by `$end`".into());
    }
    Ok(VcdInfo {
        vars,
        timestamps,
        changes,
        end_time: last.unwrap_or(0),
    })
}
