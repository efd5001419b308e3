//! VCD waveforms (IEEE 1364 value change dump) of a run, for GTKWave and similar viewers.
//!
//! Time unit: 1 ps; one array cycle lasts the spec's clock period. Per PE (scope
//! `pe<id>_r<row>c<col>`): `op` (string: the op mnemonic and node id issued this cycle,
//! `~` marking a squashed op, `-` an idle PE), `res` (32-bit: the result computed this
//! cycle), `out` (32-bit: the output register), `iter` (the iteration of the issued op).
//! At the top: `clk`, `cycle` (array cycle) and `stall` (high while the array waits for a
//! bank). `string` variables are a GTKWave extension of VCD.

use crate::program::{Program, Val};
use std::fmt::Write as _;

/// Collects a run cycle by cycle and renders VCD text.
pub struct VcdTrace {
    out: String,
    period_ps: u64,
    pes: usize,
    mnemonics: Vec<String>,
    // Per PE this cycle.
    op: Vec<Option<(u32, u64, bool, Val)>>,
    // Last dumped values, to write changes only.
    last_op: Vec<String>,
    last_res: Vec<Option<i32>>,
    last_out: Vec<Option<i32>>,
    last_iter: Vec<Option<u64>>,
    wall: u64,
    last_time: Option<u64>,
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

// Signal ids: 0 clk, 1 cycle, 2 stall, then 4 per PE.
fn pe_id(pe: usize, k: usize) -> String {
    id(3 + pe * 4 + k)
}

impl VcdTrace {
    pub(crate) fn new(
        program: &Program,
        kernel_name: &str,
        arch: &tessera_arch::cgra::CgraSpec,
        seed: Option<u64>,
    ) -> Self {
        let pes = program.pe_count;
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
        }
        let _ = writeln!(out, "$end");
        Self {
            out,
            period_ps: arch.timing.clock_period_ps as u64,
            pes,
            mnemonics: program.node_mnemonic.clone(),
            op: vec![None; pes],
            last_op: vec!["-".to_string(); pes],
            last_res: vec![None; pes],
            last_out: vec![Some(0); pes],
            last_iter: vec![None; pes],
            wall: 0,
            last_time: Some(0),
        }
    }

    pub(crate) fn begin_cycle(&mut self, wall: u64, out_regs: &[Val]) {
        self.wall = wall;
        self.time(wall * self.period_ps);
        let _ = writeln!(self.out, "1{}", id(0));
        let _ = writeln!(self.out, "b{:b} {}", wall, id(1));
        for (pe, v) in out_regs.iter().enumerate().take(self.pes) {
            if self.last_out[pe] != Some(v.v) {
                let _ = writeln!(self.out, "b{:b} {}", v.v as u32, pe_id(pe, 2));
                self.last_out[pe] = Some(v.v);
            }
        }
        for o in &mut self.op {
            *o = None;
        }
    }

    pub(crate) fn op(&mut self, pe: usize, node: u32, iteration: u64, squashed: bool, res: Val) {
        self.op[pe] = Some((node, iteration, squashed, res));
    }

    pub(crate) fn end_cycle(&mut self, stall: u64) {
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

    pub(crate) fn finish(&mut self, wall: u64, out_regs: &[Val]) {
        self.time(wall * self.period_ps);
        for (pe, v) in out_regs.iter().enumerate().take(self.pes) {
            if self.last_out[pe] != Some(v.v) {
                let _ = writeln!(self.out, "b{:b} {}", v.v as u32, pe_id(pe, 2));
                self.last_out[pe] = Some(v.v);
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
