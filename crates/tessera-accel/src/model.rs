//! The analytical performance, energy and area model of a systolic array running GEMMs.
//!
//! [`Accelerator::new`] turns a spec into the derived constants once; [`Accelerator::layer`]
//! then scores one lowered layer in O(1) without allocating, and
//! [`Accelerator::totals`] scores a whole network the same way, which is what a co-search
//! calls thousands of times. [`Accelerator::report`] builds the per-layer report people read.
//!
//! # Timing of one fold
//!
//! A GEMM `(M x K) * (K x N)` is mapped onto an `R x C` array as SCALE-Sim does: the spatial
//! dimensions `Sr x Sc` and the temporal dimension `T` are `(M, N, K)` for output-stationary,
//! `(K, N, M)` for weight-stationary and `(K, M, N)` for input-stationary. The array runs
//! `ceil(Sr/R) * ceil(Sc/C)` folds, each using `r x c` PEs (`r <= R`, `c <= C`):
//!
//! * OS: operands enter skewed at the left and top edges; the last MAC happens at
//!   PE `(r-1, c-1)` after `T + r + c - 2` cycles; the outputs then shift down and out of the
//!   bottom edge in `R` cycles: `T + r + c - 2 + R`.
//! * WS / IS: the stationary tile shifts in from the top in `r` cycles; the streaming operand
//!   enters skewed at the left, partial sums flow down through all `R` rows and leave at the
//!   bottom edge, the last one after `T + R + c - 2` cycles: `r + T + R + c - 2`.
//!
//! Summed over folds both give `Fr*Fc*(T + R - 2) + Fc*Sr + Fr*Sc`. When WS/IS partial sums
//! for all `T` rows do not fit the ofmap buffer, `T` is cut into `chunks` that do, and each
//! chunk runs every fold: `Fr*Fc*(T + chunks*(R - 2)) + chunks*(Fc*Sr + Fr*Sc)`. The cycle-stepped
//! simulator in [`crate::systolic_sim`] moves real values PE to PE and must agree exactly.

use crate::layer::{GemmShape, Network};
use serde::{Deserialize, Serialize};
use tessera_arch::accel::{AccelSpec, Dataflow, Precision};

/// Why a design cannot run a layer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Infeasible {
    /// The array has no PEs.
    EmptyArray,
    /// The clock is zero, negative or not a number.
    BadClock,
    /// The DRAM link moves nothing (or its bandwidth is not a number).
    ZeroDramBandwidth,
    /// The layer has a zero dimension (only possible for a hand-built `GemmShape`).
    EmptyLayer,
    /// The layer's counts exceed 2^50 (only possible for a hand-built `GemmShape`).
    TooLarge,
    /// A buffer's working half cannot hold the smallest tile the dataflow needs.
    BufferTooSmall {
        buffer: Operand,
        need_bytes: u64,
        half_bytes: u64,
    },
    /// A layer's own precision is wider than the array's datapath.
    PrecisionTooWide {
        operand: Operand,
        layer_bits: u32,
        datapath_bits: u32,
    },
}

impl std::fmt::Display for Infeasible {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Infeasible::EmptyArray => write!(f, "the array has no PEs (rows or cols is 0)"),
            Infeasible::BadClock => write!(f, "the clock frequency is not positive"),
            Infeasible::EmptyLayer => write!(f, "the layer has a zero M, N, K or group count"),
            Infeasible::TooLarge => write!(f, "the layer has more than 2^50 MACs or elements"),
            Infeasible::ZeroDramBandwidth => {
                write!(f, "DRAM bandwidth is 0: no operand can be brought on chip")
            }
            Infeasible::BufferTooSmall {
                buffer,
                need_bytes,
                half_bytes,
            } => write!(
                f,
                "{} buffer too small: the smallest tile needs {need_bytes} B but one half of the \
                 double buffer holds {half_bytes} B",
                buffer.name()
            ),
            Infeasible::PrecisionTooWide {
                operand,
                layer_bits,
                datapath_bits,
            } => write!(
                f,
                "the layer's {} operands are {layer_bits}-bit but the datapath is {datapath_bits}-bit",
                operand.name()
            ),
        }
    }
}

/// The three operands of a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Operand {
    Ifmap,
    Filter,
    Ofmap,
}

impl Operand {
    pub fn name(self) -> &'static str {
        match self {
            Operand::Ifmap => "ifmap",
            Operand::Filter => "filter",
            Operand::Ofmap => "ofmap",
        }
    }
}

/// SRAM and DRAM traffic of one operand. SRAM counts are element accesses; DRAM is bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct OperandTraffic {
    pub sram_reads: u64,
    pub sram_writes: u64,
    pub dram_read_bytes: f64,
    pub dram_write_bytes: f64,
}

impl OperandTraffic {
    fn add(&mut self, o: &OperandTraffic) {
        self.sram_reads += o.sram_reads;
        self.sram_writes += o.sram_writes;
        self.dram_read_bytes += o.dram_read_bytes;
        self.dram_write_bytes += o.dram_write_bytes;
    }
}

/// Energy by component, pJ.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Energy {
    pub mac_pj: f64,
    pub sram_pj: f64,
    pub dram_pj: f64,
    pub leakage_pj: f64,
    pub total_pj: f64,
}

impl Energy {
    fn add(&mut self, o: &Energy) {
        self.mac_pj += o.mac_pj;
        self.sram_pj += o.sram_pj;
        self.dram_pj += o.dram_pj;
        self.leakage_pj += o.leakage_pj;
        self.total_pj += o.total_pj;
    }
}

/// What limits a layer on the roofline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Bound {
    Compute,
    Memory,
}

/// Roofline position: operational intensity against DRAM traffic, and MACs per cycle.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Roofline {
    /// MACs per DRAM byte.
    pub intensity_macs_per_byte: f64,
    /// `min(peak, intensity * bandwidth)`.
    pub attainable_macs_per_cycle: f64,
    /// MACs divided by total cycles.
    pub achieved_macs_per_cycle: f64,
    pub bound: Bound,
}

/// The model's result for one layer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LayerPerf {
    pub macs: u64,
    /// GEMM shape per group and number of groups.
    pub gemm_m: u64,
    pub gemm_n: u64,
    pub gemm_k: u64,
    pub groups: u64,
    /// Folds along the array rows and columns, per group.
    pub row_folds: u64,
    pub col_folds: u64,
    /// Chunks the temporal dimension is cut into so WS/IS partial sums fit the ofmap
    /// buffer (1 = untiled).
    pub temporal_chunks: u64,
    /// Folds of the whole layer (`groups * temporal_chunks * row_folds * col_folds`).
    pub folds: u64,
    /// Cycles the array is busy (fill, stream, drain), summed over folds and groups.
    pub compute_cycles: u64,
    /// Cycles the array waits for DRAM (prologue, epilogue, refills slower than compute).
    pub stall_cycles: u64,
    pub total_cycles: u64,
    /// Fraction of PEs mapped, averaged over folds.
    pub mapping_efficiency: f64,
    /// MACs / (PEs * total cycles).
    pub utilisation: f64,
    pub ifmap: OperandTraffic,
    pub filter: OperandTraffic,
    pub ofmap: OperandTraffic,
    pub dram_bytes: f64,
    pub energy: Energy,
    pub latency_ns: f64,
    pub roofline: Roofline,
}

/// Area of the design.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Area {
    pub pe_um2: f64,
    pub pe_array_mm2: f64,
    pub sram_mm2: f64,
    pub total_mm2: f64,
}

/// Whole-network totals (no per-layer detail), for search loops.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NetworkTotals {
    pub layers: u64,
    pub macs: u64,
    pub compute_cycles: u64,
    pub stall_cycles: u64,
    pub total_cycles: u64,
    pub dram_bytes: f64,
    pub ifmap: OperandTraffic,
    pub filter: OperandTraffic,
    pub ofmap: OperandTraffic,
    pub energy: Energy,
    pub latency_ns: f64,
    pub utilisation: f64,
    pub roofline: Roofline,
    pub area: Area,
    /// Energy-delay product, pJ * ns.
    pub edp_pj_ns: f64,
}

/// A per-layer row of a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerReport {
    pub name: String,
    pub kind: String,
    pub perf: Option<LayerPerf>,
    /// Why the layer cannot run, when it cannot.
    pub infeasible: Option<String>,
}

/// Format version of accelerator reports.
pub const REPORT_FORMAT_VERSION: u32 = 1;

/// A network evaluated on one design.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkReport {
    pub format_version: u32,
    pub network: String,
    pub batch: u32,
    pub arch: String,
    pub dataflow: Dataflow,
    pub rows: u32,
    pub cols: u32,
    pub clock_mhz: f64,
    pub peak_macs_per_cycle: f64,
    pub dram_bandwidth_bytes_per_cycle: f64,
    /// Intensity (MACs/byte) where the roofline turns from memory- to compute-bound.
    pub ridge_macs_per_byte: f64,
    pub feasible: bool,
    /// The first reason a layer cannot run, if any.
    pub infeasible: Option<String>,
    pub layers: Vec<LayerReport>,
    /// Totals over all layers (absent when a layer is infeasible).
    pub totals: Option<NetworkTotals>,
    pub area: Area,
}

#[derive(Debug, Clone, Copy)]
struct Buffer {
    half_bytes: f64,
    pj_per_bit: f64,
}

/// A spec with its derived constants, ready to score layers.
#[derive(Debug, Clone)]
pub struct Accelerator {
    rows: u64,
    cols: u64,
    dataflow: Dataflow,
    /// WS/IS stationary tiles load behind the previous fold.
    prefetch: bool,
    act_bits: f64,
    weight_bits: f64,
    acc_bits_weight: f64,
    acc_bits_act: f64,
    mac_weight_pj: f64,
    mac_act_pj: f64,
    /// Datapath widths of the PEs (per-layer precisions may be narrower, not wider).
    act_datapath_bits: u32,
    weight_datapath_bits: u32,
    mult_8b_pj: f64,
    add_32b_pj: f64,
    ifmap: Buffer,
    filter: Buffer,
    ofmap: Buffer,
    bw_bytes_per_cycle: f64,
    latency_cycles: f64,
    dram_pj_per_bit: f64,
    period_ns: f64,
    leakage_mw: f64,
    area: Area,
    spec_infeasible: Option<Infeasible>,
}

/// Accumulator width for a product of `wa`- and `wb`-bit values: the product width plus 16
/// guard bits for summing up to 65,536 products, at most 48. Assumed; it gives the 32-bit
/// accumulators of TPU v1 (Jouppi et al. ISCA 2017) for int8.
fn acc_bits(wa: u32, wb: u32) -> f64 {
    f64::from((wa + wb + 16).min(48))
}

impl Accelerator {
    /// Derive the model constants of a spec. Never fails: a spec that cannot run anything
    /// makes every layer report why.
    pub fn new(spec: &AccelSpec) -> Self {
        let t = &spec.tech;
        let a_dp = spec.activation_precision.datapath_bits();
        let w_dp = spec.weight_precision.datapath_bits();
        let ternary = spec.weight_precision == Precision::Ternary;
        let acc_w = acc_bits(w_dp, a_dp);
        let acc_a = acc_bits(a_dp, a_dp);
        let add_pj = |bits: f64| t.add_32b_pj * bits / 32.0;
        let mult_pj = |wa: u32, wb: u32| t.mult_8b_pj * f64::from(wa * wb) / 64.0;
        // A ternary weight selects +x, -x or 0: the accumulator adds or subtracts, and no
        // multiplier switches (assumed negligible next to the add).
        let mac_weight_pj = if ternary { 0.0 } else { mult_pj(w_dp, a_dp) } + add_pj(acc_w);
        let mac_act_pj = mult_pj(a_dp, a_dp) + add_pj(acc_a);
        let buffer = |b: &tessera_arch::accel::SramBuffer| {
            let bank_bytes = b.size_bytes() as f64 / f64::from(b.banks.max(1));
            // Horowitz ISSCC'14: 64-bit read 10 pJ at 8 KiB, sqrt scaling with bank size
            // (see TechParams). Banks under 1 KiB are charged as 1 KiB (assumed: periphery
            // dominates tiny arrays).
            let e64 = t.sram_64b_8kb_pj * (bank_bytes.max(1024.0) / 8192.0).sqrt();
            Buffer {
                half_bytes: b.size_bytes() as f64 / 2.0,
                pj_per_bit: e64 / 64.0,
            }
        };
        let pe_um2 = if ternary {
            // Conditional negation is about one activation-width adder (assumed).
            t.add_32b_area_um2 * f64::from(a_dp) / 32.0
        } else {
            t.mult_8b_area_um2 * f64::from(w_dp * a_dp) / 64.0
        } + t.add_32b_area_um2 * acc_w / 32.0
            + t.flop_area_um2 * (f64::from(a_dp + w_dp) + acc_w);
        let pes = spec.pes() as f64;
        let sram_bytes = (spec.ifmap_sram.size_bytes()
            + spec.filter_sram.size_bytes()
            + spec.ofmap_sram.size_bytes()) as f64;
        let pe_array_mm2 = pe_um2 * pes / 1e6;
        let sram_mm2 = sram_bytes * t.sram_area_um2_per_byte / 1e6;
        let area = Area {
            pe_um2,
            pe_array_mm2,
            sram_mm2,
            total_mm2: pe_array_mm2 + sram_mm2,
        };
        let bw = spec.dram.bandwidth_bytes_per_cycle;
        let spec_infeasible = if spec.rows == 0 || spec.cols == 0 {
            Some(Infeasible::EmptyArray)
        } else if !(spec.clock_mhz.is_finite() && spec.clock_mhz > 0.0) {
            Some(Infeasible::BadClock)
        } else if !(bw.is_finite() && bw > 0.0) {
            Some(Infeasible::ZeroDramBandwidth)
        } else {
            None
        };
        Self {
            rows: u64::from(spec.rows),
            cols: u64::from(spec.cols),
            dataflow: spec.dataflow,
            prefetch: spec.stationary_double_buffered
                && spec.dataflow != Dataflow::OutputStationary,
            act_bits: spec.activation_precision.storage_bits(),
            weight_bits: spec.weight_precision.storage_bits(),
            acc_bits_weight: acc_w,
            acc_bits_act: acc_a,
            mac_weight_pj,
            mac_act_pj,
            act_datapath_bits: a_dp,
            weight_datapath_bits: w_dp,
            mult_8b_pj: t.mult_8b_pj,
            add_32b_pj: t.add_32b_pj,
            ifmap: buffer(&spec.ifmap_sram),
            filter: buffer(&spec.filter_sram),
            ofmap: buffer(&spec.ofmap_sram),
            bw_bytes_per_cycle: bw,
            latency_cycles: f64::from(spec.dram.latency_cycles),
            dram_pj_per_bit: t.dram_pj_per_bit,
            period_ns: 1000.0 / spec.clock_mhz,
            leakage_mw: area.total_mm2 * t.leakage_mw_per_mm2,
            area,
            spec_infeasible,
        }
    }

    /// Area of the design.
    pub fn area(&self) -> Area {
        self.area
    }

    /// Peak MACs per cycle (number of PEs).
    pub fn peak_macs_per_cycle(&self) -> f64 {
        (self.rows * self.cols) as f64
    }

    /// Energy of one MAC with a weight operand, pJ.
    pub fn mac_energy_pj(&self) -> f64 {
        self.mac_weight_pj
    }

    /// The analytical compute cycles of `groups` GEMMs `(m x k) * (k x n)` without temporal
    /// tiling (see the module docs), or `None` for an empty array.
    pub fn compute_cycles(&self, m: u64, n: u64, k: u64, groups: u64) -> Option<u64> {
        if self.rows == 0 || self.cols == 0 || m == 0 || n == 0 || k == 0 {
            return None;
        }
        let (sr, sc, t) = spatial_temporal(self.dataflow, m, n, k);
        Some(self.cycles_of(sr, sc, t, 1, groups))
    }

    /// As [`Accelerator::compute_cycles`] with the temporal dimension cut into chunks of
    /// `t_chunk` (WS/IS; OS ignores it).
    pub fn compute_cycles_chunked(
        &self,
        m: u64,
        n: u64,
        k: u64,
        groups: u64,
        t_chunk: u64,
    ) -> Option<u64> {
        if self.rows == 0 || self.cols == 0 || m == 0 || n == 0 || k == 0 || t_chunk == 0 {
            return None;
        }
        let (sr, sc, t) = spatial_temporal(self.dataflow, m, n, k);
        let chunks = if self.dataflow == Dataflow::OutputStationary {
            1
        } else {
            t.div_ceil(t_chunk.min(t))
        };
        Some(self.cycles_of(sr, sc, t, chunks, groups))
    }

    /// Compute cycles of `groups` GEMMs with spatial extent `sr x sc`, temporal length `t`
    /// cut into `chunks`. With double-buffered stationary registers only the first fold of
    /// the layer shows its `r`-cycle tile load (each later load, at most `R` cycles, hides
    /// behind the previous fold's streaming of at least `R` cycles).
    fn cycles_of(&self, sr: u64, sc: u64, t: u64, chunks: u64, groups: u64) -> u64 {
        let full = groups * tiled_compute_cycles(self.rows, self.cols, sr, sc, t, chunks);
        if self.prefetch {
            // Every fold's load is r; summed over the folds of one chunk that is Fc * Sr.
            full - groups * chunks * sc.div_ceil(self.cols) * sr + sr.min(self.rows)
        } else {
            full
        }
    }

    /// Score one lowered layer. Pure and allocation-free.
    pub fn layer(&self, g: &GemmShape) -> Result<LayerPerf, Infeasible> {
        self.layer_inline(g)
    }

    /// [`Accelerator::layer`], inlined into [`Accelerator::totals`] so that the compiler
    /// drops what the totals do not sum (roofline, per-layer ratios).
    #[inline(always)]
    fn layer_inline(&self, g: &GemmShape) -> Result<LayerPerf, Infeasible> {
        if let Some(e) = self.spec_infeasible {
            return Err(e);
        }
        if g.m == 0 || g.n == 0 || g.k == 0 || g.groups == 0 {
            return Err(Infeasible::EmptyLayer);
        }
        let within = |xs: &[u64]| {
            xs.iter()
                .try_fold(1u64, |acc, x| acc.checked_mul(*x))
                .is_some_and(|p| p <= 1 << 50)
        };
        if !(within(&[g.groups, g.m, g.n, g.k])
            && within(&[
                g.groups,
                g.ifmap_elems.max(g.filter_elems).max(g.ofmap_elems),
            ])
            && within(&[g.groups, g.m, g.k, self.rows.max(self.cols)]))
        {
            return Err(Infeasible::TooLarge);
        }
        let (rows, cols) = (self.rows, self.cols);
        let (m, n, k) = (g.m, g.n, g.k);
        let (sr, sc, t) = spatial_temporal(self.dataflow, m, n, k);
        let (fr, fc) = (sr.div_ceil(rows), sc.div_ceil(cols));
        let (r0, c0) = (sr.min(rows) as f64, sc.min(cols) as f64);
        let (a_bits, f_bits, acc, mac_pj_each) = self.operand_widths(g)?;
        // WS/IS: when the partial sums of all T rows (T x c at accumulator width) do not fit
        // in the ofmap buffer's working half, the temporal dimension is tiled into chunks
        // that do (as TPU v1 sizes its accumulators for), and every chunk runs all row folds.
        let chunks = match self.dataflow {
            Dataflow::OutputStationary => 1,
            _ => {
                let row_bytes = c0 * acc / 8.0;
                if fr > 1 && t as f64 * row_bytes > self.ofmap.half_bytes {
                    let t_chunk = ((self.ofmap.half_bytes / row_bytes).floor() as u64).clamp(1, t);
                    t.div_ceil(t_chunk)
                } else {
                    1
                }
            }
        };
        let compute_cycles = self.cycles_of(sr, sc, t, chunks, g.groups);
        let o_bits = a_bits;
        let bytes = |elems: f64, bits: f64| elems * bits / 8.0;

        // The smallest working set of each buffer for this layer (one half of the double
        // buffer must hold it): a stationary r x c tile, one r-wide edge vector of a streamed
        // operand, one c-wide row of partial sums, or (OS) one drained r x c output tile,
        // with r = min(R, Sr) and c = min(C, Sc) the PEs the layer's folds can use.
        let (need_i, need_f, need_o) = match self.dataflow {
            Dataflow::OutputStationary => {
                (bytes(r0, a_bits), bytes(c0, f_bits), bytes(r0 * c0, o_bits))
            }
            Dataflow::WeightStationary => {
                (bytes(r0, a_bits), bytes(r0 * c0, f_bits), bytes(c0, acc))
            }
            Dataflow::InputStationary => {
                (bytes(r0 * c0, a_bits), bytes(r0, f_bits), bytes(c0, acc))
            }
        };
        for (buffer, need, buf) in [
            (Operand::Ifmap, need_i, self.ifmap),
            (Operand::Filter, need_f, self.filter),
            (Operand::Ofmap, need_o, self.ofmap),
        ] {
            if need > buf.half_bytes {
                return Err(Infeasible::BufferTooSmall {
                    buffer,
                    need_bytes: need.ceil() as u64,
                    half_bytes: buf.half_bytes as u64,
                });
            }
        }

        let (mf, nf, kf) = (m as f64, n as f64, k as f64);
        let (frf, fcf) = (fr as f64, fc as f64);
        let ui = bytes(g.ifmap_elems as f64, a_bits);
        let uf = bytes(g.filter_elems as f64, f_bits);
        let uo = bytes(g.ofmap_elems as f64, o_bits);
        // An operand that fits in its buffer's working half is fetched once; otherwise it is
        // streamed again on every pass that reuses it. WS/IS use SCALE-Sim's fold order
        // (column folds outside, row folds inside); OS, whose fold order does not change its
        // cycles, takes whichever order moves fewer DRAM bytes.
        let (mut ti, mut tf, mut to) = (
            OperandTraffic::default(),
            OperandTraffic::default(),
            OperandTraffic::default(),
        );
        let (first_fill, last_out);
        let ofmap_bits_sram;
        match self.dataflow {
            Dataflow::OutputStationary => {
                let (half_i, half_f) = (self.ifmap.half_bytes, self.filter.half_bytes);
                let f_tile = bytes(kf * c0, f_bits);
                let i_tile = bytes(r0 * kf, a_bits).min(ui);
                let once_or = |fits: bool, times: f64| if fits { 1.0 } else { times };
                // Column folds outside: a K x c filter tile stays while all of A streams by.
                let n_outer = (
                    once_or(ui <= half_i, fcf),
                    once_or(uf <= half_f || f_tile <= half_f, frf),
                );
                // Row folds outside: an r x K ifmap tile stays while all of B streams by.
                let m_outer = (
                    once_or(ui <= half_i || i_tile <= half_i, fcf),
                    once_or(uf <= half_f, frf),
                );
                let cost = |(fi, ff): (f64, f64)| fi * ui + ff * uf;
                let (i_factor, f_factor) = if cost(m_outer) < cost(n_outer) {
                    m_outer
                } else {
                    n_outer
                };
                ti.sram_reads = fc * m * k;
                tf.sram_reads = fr * k * n;
                to.sram_writes = m * n;
                to.sram_reads = m * n;
                ti.dram_read_bytes = i_factor * ui;
                tf.dram_read_bytes = f_factor * uf;
                to.dram_write_bytes = uo;
                first_fill = bytes(r0 * kf, a_bits).min(ui) + f_tile.min(uf);
                last_out = bytes(r0 * c0, o_bits);
                ofmap_bits_sram = o_bits;
            }
            Dataflow::WeightStationary | Dataflow::InputStationary => {
                let ws = self.dataflow == Dataflow::WeightStationary;
                // WS: stationary = filter, streamed = ifmap (T = M), psums M x c.
                // IS: stationary = ifmap, streamed = filter (T = N), psums N x c.
                let (stream_bytes, stream_half) = if ws {
                    (ui, self.ifmap.half_bytes)
                } else {
                    (uf, self.filter.half_bytes)
                };
                let s_factor = if stream_bytes <= stream_half {
                    1.0
                } else {
                    fcf
                };
                let (stat, strm) = if ws {
                    (&mut tf, &mut ti)
                } else {
                    (&mut ti, &mut tf)
                };
                // Every temporal chunk loads the stationary tiles again.
                stat.sram_reads = chunks * if ws { k * n } else { m * k };
                strm.sram_reads = fc * if ws { m * k } else { k * n };
                let (stat_bytes, strm_bytes, stat_half) = if ws {
                    (uf, ui, self.filter.half_bytes)
                } else {
                    (ui, uf, self.ifmap.half_bytes)
                };
                let stat_factor = if stat_bytes <= stat_half {
                    1.0
                } else {
                    chunks as f64
                };
                stat.dram_read_bytes = stat_factor * stat_bytes;
                strm.dram_read_bytes = s_factor * strm_bytes;
                // Partial sums stay on chip: (fr - 1) read-modify-writes + 1 read for write-back.
                to.sram_writes = fr * m * n;
                to.sram_reads = fr * m * n;
                to.dram_write_bytes = uo;
                let stat_tile = bytes(r0 * c0, if ws { f_bits } else { a_bits });
                let strm_first = if ws {
                    bytes(mf * r0, a_bits).min(ui)
                } else {
                    bytes(nf * r0, f_bits).min(uf)
                };
                first_fill = stat_tile + strm_first;
                last_out = bytes(c0, o_bits);
                ofmap_bits_sram = acc;
            }
        }
        // Fills from DRAM are SRAM writes.
        ti.sram_writes += round_u64(ti.dram_read_bytes * 8.0 / a_bits);
        tf.sram_writes += round_u64(tf.dram_read_bytes * 8.0 / f_bits);

        let gr = g.groups as f64;
        let scale = |t: &mut OperandTraffic| {
            t.sram_reads *= g.groups;
            t.sram_writes *= g.groups;
            t.dram_read_bytes *= gr;
            t.dram_write_bytes *= gr;
        };
        scale(&mut ti);
        scale(&mut tf);
        scale(&mut to);
        let dram_bytes =
            ti.dram_read_bytes + tf.dram_read_bytes + to.dram_read_bytes + to.dram_write_bytes;

        // Double buffering hides refills behind compute; what it cannot hide is the first
        // fill (latency + first tiles), the last write-back, and any excess of transfer time
        // over compute time.
        let bw = self.bw_bytes_per_cycle;
        let prologue = self.latency_cycles + first_fill / bw;
        let epilogue = last_out / bw;
        let steady =
            ((dram_bytes - first_fill - last_out).max(0.0) / bw - compute_cycles as f64).max(0.0);
        let stall_cycles = ceil_u64(prologue + epilogue + steady);
        let total_cycles = compute_cycles + stall_cycles;

        let macs = g.macs();
        let pes = (rows * cols) as f64;
        let latency_ns = total_cycles as f64 * self.period_ns;
        let mac_pj = macs as f64 * mac_pj_each;
        let sram_pj = (ti.sram_reads + ti.sram_writes) as f64 * a_bits * self.ifmap.pj_per_bit
            + (tf.sram_reads + tf.sram_writes) as f64 * f_bits * self.filter.pj_per_bit
            + (to.sram_reads + to.sram_writes) as f64 * ofmap_bits_sram * self.ofmap.pj_per_bit;
        let dram_pj = dram_bytes * 8.0 * self.dram_pj_per_bit;
        // mW x ns = pJ.
        let leakage_pj = self.leakage_mw * latency_ns;
        let energy = Energy {
            mac_pj,
            sram_pj,
            dram_pj,
            leakage_pj,
            total_pj: mac_pj + sram_pj + dram_pj + leakage_pj,
        };
        let folds = g.groups * chunks * fr * fc;
        Ok(LayerPerf {
            macs,
            gemm_m: m,
            gemm_n: n,
            gemm_k: k,
            groups: g.groups,
            row_folds: fr,
            col_folds: fc,
            temporal_chunks: chunks,
            folds,
            compute_cycles,
            stall_cycles,
            total_cycles,
            mapping_efficiency: (sr * sc) as f64 / ((fr * fc) as f64 * pes),
            utilisation: macs as f64 / (pes * total_cycles as f64),
            ifmap: ti,
            filter: tf,
            ofmap: to,
            dram_bytes,
            energy,
            latency_ns,
            roofline: self.roofline(macs as f64, dram_bytes, total_cycles),
        })
    }

    /// Storage bits of the ifmap/ofmap and second operand, the accumulator width, and the
    /// energy of one MAC, for the accelerator's precisions or the layer's own. A layer's own
    /// precision assumes a precision-scalable PE (as in Bit Fusion, Sharma et al. ISCA 2018):
    /// narrower operands use a proportionally smaller part of the multiplier, charged with
    /// the same Horowitz ISSCC 2014 scaling as the spec's precisions (multiply energy
    /// proportional to the product of the operand widths, add energy to the accumulator
    /// width; a ternary weight needs no multiply).
    fn operand_widths(&self, g: &GemmShape) -> Result<(f64, f64, f64, f64), Infeasible> {
        let Some(p) = g.precision else {
            return Ok(if g.b_is_weight {
                (
                    self.act_bits,
                    self.weight_bits,
                    self.acc_bits_weight,
                    self.mac_weight_pj,
                )
            } else {
                (
                    self.act_bits,
                    self.act_bits,
                    self.acc_bits_act,
                    self.mac_act_pj,
                )
            });
        };
        let a_dp = p.activation.datapath_bits();
        let b_prec = if g.b_is_weight {
            p.weight
        } else {
            p.activation
        };
        let b_dp = b_prec.datapath_bits();
        let b_limit = if g.b_is_weight {
            self.weight_datapath_bits
        } else {
            self.act_datapath_bits
        };
        for (operand, bits, limit) in [
            (Operand::Ifmap, a_dp, self.act_datapath_bits),
            (Operand::Filter, b_dp, b_limit),
        ] {
            if bits > limit {
                return Err(Infeasible::PrecisionTooWide {
                    operand,
                    layer_bits: bits,
                    datapath_bits: limit,
                });
            }
        }
        let acc = acc_bits(b_dp, a_dp);
        let mult = if b_prec == Precision::Ternary {
            0.0
        } else {
            self.mult_8b_pj * f64::from(a_dp * b_dp) / 64.0
        };
        let mac = mult + self.add_32b_pj * acc / 32.0;
        Ok((p.activation.storage_bits(), b_prec.storage_bits(), acc, mac))
    }

    fn roofline(&self, macs: f64, dram_bytes: f64, total_cycles: u64) -> Roofline {
        let peak = self.peak_macs_per_cycle();
        let intensity = if dram_bytes > 0.0 {
            macs / dram_bytes
        } else {
            f64::INFINITY
        };
        let mem_roof = intensity * self.bw_bytes_per_cycle;
        Roofline {
            intensity_macs_per_byte: intensity,
            attainable_macs_per_cycle: mem_roof.min(peak),
            achieved_macs_per_cycle: macs / total_cycles.max(1) as f64,
            bound: if mem_roof < peak {
                Bound::Memory
            } else {
                Bound::Compute
            },
        }
    }

    /// Score a lowered network: totals only, no allocation. On failure, returns the index
    /// of the first layer that cannot run and why.
    pub fn totals(&self, shapes: &[GemmShape]) -> Result<NetworkTotals, (usize, Infeasible)> {
        let mut t = NetworkTotals {
            layers: 0,
            macs: 0,
            compute_cycles: 0,
            stall_cycles: 0,
            total_cycles: 0,
            dram_bytes: 0.0,
            ifmap: OperandTraffic::default(),
            filter: OperandTraffic::default(),
            ofmap: OperandTraffic::default(),
            energy: Energy::default(),
            latency_ns: 0.0,
            utilisation: 0.0,
            roofline: self.roofline(0.0, 0.0, 1),
            area: self.area,
            edp_pj_ns: 0.0,
        };
        for (i, g) in shapes.iter().enumerate() {
            let p = self.layer_inline(g).map_err(|e| (i, e))?;
            t.layers += 1;
            t.macs += p.macs;
            t.compute_cycles += p.compute_cycles;
            t.stall_cycles += p.stall_cycles;
            t.total_cycles += p.total_cycles;
            t.dram_bytes += p.dram_bytes;
            t.ifmap.add(&p.ifmap);
            t.filter.add(&p.filter);
            t.ofmap.add(&p.ofmap);
            t.energy.add(&p.energy);
            t.latency_ns += p.latency_ns;
        }
        t.utilisation = t.macs as f64 / (self.peak_macs_per_cycle() * t.total_cycles.max(1) as f64);
        t.roofline = self.roofline(t.macs as f64, t.dram_bytes, t.total_cycles);
        t.edp_pj_ns = t.energy.total_pj * t.latency_ns;
        Ok(t)
    }

    /// Evaluate a network with per-layer detail. Layers that cannot run are reported with
    /// their reason; totals are given only when every layer runs.
    pub fn report(&self, spec: &AccelSpec, net: &Network) -> NetworkReport {
        let mut layers = Vec::with_capacity(net.layers.len());
        let mut shapes = Vec::with_capacity(net.layers.len());
        let mut first_bad: Option<String> = None;
        for l in &net.layers {
            let (perf, infeasible) = match l.lower(net.batch) {
                Err(msg) => (None, Some(format!("bad shape: {msg}"))),
                Ok(g) => {
                    shapes.push(g);
                    match self.layer(&g) {
                        Ok(p) => (Some(p), None),
                        Err(e) => (None, Some(e.to_string())),
                    }
                }
            };
            if let (None, Some(why)) = (&first_bad, &infeasible) {
                first_bad = Some(format!("layer `{}`: {why}", l.name));
            }
            layers.push(LayerReport {
                name: l.name.clone(),
                kind: l.op.kind().to_string(),
                perf,
                infeasible,
            });
        }
        let totals = if first_bad.is_none() {
            self.totals(&shapes).ok()
        } else {
            None
        };
        let peak = self.peak_macs_per_cycle();
        NetworkReport {
            format_version: REPORT_FORMAT_VERSION,
            network: net.name.clone(),
            batch: net.batch,
            arch: spec.name.clone(),
            dataflow: spec.dataflow,
            rows: spec.rows,
            cols: spec.cols,
            clock_mhz: spec.clock_mhz,
            peak_macs_per_cycle: peak,
            dram_bandwidth_bytes_per_cycle: self.bw_bytes_per_cycle,
            ridge_macs_per_byte: peak / self.bw_bytes_per_cycle,
            feasible: first_bad.is_none(),
            infeasible: first_bad,
            layers,
            totals,
            area: self.area,
        }
    }
}

/// `x.round() as u64`, without the libm call that `round` is on baseline x86-64: the cast
/// truncates in one instruction and `x - trunc(x)` is exact. Equal for every `f64`
/// (negative, NaN and out-of-range values saturate as the cast does; tested).
#[inline]
pub fn round_u64(x: f64) -> u64 {
    let t = x as u64;
    if x - t as f64 >= 0.5 {
        t.saturating_add(1)
    } else {
        t
    }
}

/// `x.ceil() as u64` without the libm call, as [`round_u64`] (equal for every `f64`;
/// tested).
#[inline]
pub fn ceil_u64(x: f64) -> u64 {
    let t = x as u64;
    if (t as f64) < x {
        t.saturating_add(1)
    } else {
        t
    }
}

/// Compute cycles of one group: `Fr x Fc` folds of the `Sr x Sc` spatial extent, with the
/// temporal dimension `T` cut into `chunks` pieces that each run every fold (see the module
/// docs for the per-fold forms): `Fr*Fc*(T + chunks*(R - 2)) + chunks*(Fc*Sr + Fr*Sc)`.
pub fn tiled_compute_cycles(rows: u64, cols: u64, sr: u64, sc: u64, t: u64, chunks: u64) -> u64 {
    let (fr, fc) = (sr.div_ceil(rows), sc.div_ceil(cols));
    // t + chunks*R >= 2*chunks because chunks <= t and R >= 1: no underflow.
    fr * fc * (t + chunks * rows - 2 * chunks) + chunks * (fc * sr + fr * sc)
}

/// `(Sr, Sc, T)` of a GEMM `(m x k) * (k x n)` under a dataflow (SCALE-Sim's mapping).
pub fn spatial_temporal(df: Dataflow, m: u64, n: u64, k: u64) -> (u64, u64, u64) {
    match df {
        Dataflow::OutputStationary => (m, n, k),
        Dataflow::WeightStationary => (k, n, m),
        Dataflow::InputStationary => (k, m, n),
    }
}

/// The per-dataflow closed forms SCALE-Sim uses for compute cycles, for comparison: every
/// fold costs the same, computed with the full array size. scale-sim-v2's demand matrices
/// (`systolic_compute_{os,ws,is}.py`) give `T + R + C - 2` per fold for OS and
/// `2R + C + T - 2` for WS and IS; the SCALE-Sim paper (Samajdar et al., ISPASS 2020) gives
/// `2R + C + T - 2` for OS as well.
pub fn scalesim_compute_cycles(
    df: Dataflow,
    rows: u64,
    cols: u64,
    m: u64,
    n: u64,
    k: u64,
    groups: u64,
) -> u64 {
    let (sr, sc, t) = spatial_temporal(df, m, n, k);
    let folds = sr.div_ceil(rows) * sc.div_ceil(cols);
    let per_fold = match df {
        Dataflow::OutputStationary => t + rows + cols - 2,
        _ => 2 * rows + cols + t - 2,
    };
    groups * folds * per_fold
}
