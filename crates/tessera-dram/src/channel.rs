//! Row-buffer timing covert channel between a sender and a receiver that share a DRAM bank,
//! simulated through the FR-FCFS controller so that scheduler reordering, other traffic and
//! refresh add their noise (cf. DRAMA, USENIX Security 2016; IMPACT, 2024, for the
//! in-DRAM-operation variant).
//!
//! Each bit occupies a slot. At the slot start the sender, for a 1, accesses a row of the
//! shared bank (a conventional read, or an in-DRAM copy that activates two rows); for a 0 it
//! stays idle. Later in the slot the receiver reads its own row of that bank: a row hit (its
//! row still open) means 0, a row conflict (the sender opened another row) means 1. A
//! preamble of known bits sets the latency threshold. Reported: latency histograms of 0s and
//! 1s, raw bit rate, bit error rate, and capacity R x (1 - H2(p)).

use crate::cells::h2;
use crate::controller::{ControllerConfig, MemorySystem, Request};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tessera_arch::dram::DramSpec;

/// What the sender does to send a 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SenderOp {
    /// One read of a conflicting row.
    Access,
    /// An in-DRAM copy (RowClone-style): source and destination rows activated back to back.
    InDramCopy,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChannelConfig {
    pub sender: SenderOp,
    /// Message bits (after the preamble).
    pub bits: u32,
    pub preamble_bits: u32,
    pub seed: u64,
    /// Bit period (ns).
    pub slot_ns: f64,
    /// When the receiver probes, after the slot start (ns).
    pub receiver_offset_ns: f64,
    /// Other traffic: random reads over the whole memory, per microsecond.
    pub noise_requests_per_us: f64,
    pub refresh: bool,
    /// Also sweep the slot length and report the capacity-maximising one.
    pub sweep_slots_ns: Vec<f64>,
}

impl Default for ChannelConfig {
    fn default() -> Self {
        Self {
            sender: SenderOp::Access,
            bits: 2000,
            preamble_bits: 64,
            seed: 11,
            slot_ns: 100.0,
            receiver_offset_ns: 30.0,
            noise_requests_per_us: 20.0,
            refresh: true,
            sweep_slots_ns: vec![],
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChannelReport {
    pub sender: SenderOp,
    pub slot_ns: f64,
    pub raw_rate_mbps: f64,
    pub bit_error_rate: f64,
    pub capacity_mbps: f64,
    pub threshold_cycles: u64,
    /// Receiver latency histograms (bucket start in cycles, count) for sent 0s and 1s.
    pub latency_hist_zero: Vec<(u64, u64)>,
    pub latency_hist_one: Vec<(u64, u64)>,
    pub mean_latency_zero_cycles: f64,
    pub mean_latency_one_cycles: f64,
    pub errors: u32,
    pub bits: u32,
    /// (slot ns, raw Mb/s, BER, capacity Mb/s) for each swept slot.
    pub sweep: Vec<(f64, f64, f64, f64)>,
    pub seed: u64,
}

fn hist(v: &[u64], width: u64) -> Vec<(u64, u64)> {
    let mut m = std::collections::BTreeMap::new();
    for &x in v {
        *m.entry(x / width * width).or_insert(0u64) += 1;
    }
    m.into_iter().collect()
}

/// One channel run at one slot length.
fn run_slot(spec: &DramSpec, cfg: &ChannelConfig, slot_ns: f64) -> Result<ChannelReport, String> {
    if slot_ns <= 0.0 || cfg.receiver_offset_ns < 0.0 || cfg.receiver_offset_ns >= slot_ns {
        return Err(format!(
            "need 0 <= receiver_offset_ns ({}) < slot_ns ({slot_ns})",
            cfg.receiver_offset_ns
        ));
    }
    let tck = spec.tck_ns();
    let ctrl = ControllerConfig {
        refresh: cfg.refresh,
        ..Default::default()
    };
    let map = crate::controller::AddressMap::parse(&ctrl.address_map, spec)?;
    // Address of (bank 0, row r): rows sit above column/bank/bank-group/channel bits.
    let row_shift = spec.burst_bytes().trailing_zeros()
        + spec.bursts_per_row().trailing_zeros()
        + spec.org.banks_per_group.trailing_zeros()
        + spec.org.bank_groups.trailing_zeros()
        + spec.org.channels.trailing_zeros()
        + spec.org.ranks.trailing_zeros();
    let addr_of_row = |r: u64| r << row_shift;
    debug_assert_eq!(map.decode(addr_of_row(7)).row, 7);
    let (recv_row, send_row, copy_row) = (100u64, 200u64, 300u64);
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let total = cfg.preamble_bits + cfg.bits;
    let message: Vec<u8> = (0..total)
        .map(|i| {
            if i < cfg.preamble_bits {
                (i % 2) as u8
            } else {
                rng.random_bool(0.5) as u8
            }
        })
        .collect();
    let lines = ((spec.org.density_mb as u64) << 20) / 8 * spec.org.devices_per_rank as u64
        / spec.burst_bytes() as u64;
    let mut reqs: Vec<Request> = Vec::new();
    let mut receiver_idx = Vec::with_capacity(total as usize);
    let cyc = |ns: f64| (ns / tck).round() as u64;
    let noise_per_slot = cfg.noise_requests_per_us * slot_ns / 1000.0;
    for (i, &bit) in message.iter().enumerate() {
        let start = i as f64 * slot_ns;
        let mut slot_reqs: Vec<(Request, bool)> = Vec::new();
        if bit == 1 {
            slot_reqs.push((
                Request {
                    addr: addr_of_row(send_row),
                    is_write: false,
                    arrive_cycle: cyc(start),
                },
                false,
            ));
            if cfg.sender == SenderOp::InDramCopy {
                slot_reqs.push((
                    Request {
                        addr: addr_of_row(copy_row),
                        is_write: true,
                        arrive_cycle: cyc(start),
                    },
                    false,
                ));
            }
        }
        // Poisson-distributed background requests, uniformly in the slot.
        let mut k = 0;
        let mut acc = -rng.random::<f64>().ln();
        while acc < noise_per_slot {
            k += 1;
            acc += -rng.random::<f64>().ln();
        }
        for _ in 0..k {
            let at = start + rng.random::<f64>() * slot_ns;
            slot_reqs.push((
                Request {
                    addr: rng.random_range(0..lines) * spec.burst_bytes() as u64,
                    is_write: false,
                    arrive_cycle: cyc(at),
                },
                false,
            ));
        }
        slot_reqs.push((
            Request {
                addr: addr_of_row(recv_row),
                is_write: false,
                arrive_cycle: cyc(start + cfg.receiver_offset_ns),
            },
            true,
        ));
        slot_reqs.sort_by_key(|(r, _)| r.arrive_cycle);
        for (r, is_receiver) in slot_reqs {
            if is_receiver {
                receiver_idx.push(reqs.len());
            }
            reqs.push(r);
        }
    }
    let sys = MemorySystem::new(spec, &ctrl)?;
    let (_, lat) = sys.run_recorded(reqs);
    let recv: Vec<u64> = receiver_idx.iter().map(|&i| lat[i]).collect();
    let pre = cfg.preamble_bits as usize;
    let mean = |b: u8, range: std::ops::Range<usize>| {
        let v: Vec<u64> = range
            .filter(|&i| message[i] == b)
            .map(|i| recv[i])
            .collect();
        v.iter().sum::<u64>() as f64 / v.len().max(1) as f64
    };
    let threshold = ((mean(0, 0..pre) + mean(1, 0..pre)) / 2.0).round() as u64;
    let mut errors = 0;
    let (mut z, mut o) = (Vec::new(), Vec::new());
    for i in pre..total as usize {
        let decoded = (recv[i] > threshold) as u8;
        if decoded != message[i] {
            errors += 1;
        }
        if message[i] == 1 {
            o.push(recv[i]);
        } else {
            z.push(recv[i]);
        }
    }
    let ber = errors as f64 / cfg.bits.max(1) as f64;
    let raw = 1000.0 / slot_ns;
    Ok(ChannelReport {
        sender: cfg.sender,
        slot_ns,
        raw_rate_mbps: raw,
        bit_error_rate: ber,
        capacity_mbps: raw * (1.0 - h2(ber)),
        threshold_cycles: threshold,
        mean_latency_zero_cycles: z.iter().sum::<u64>() as f64 / z.len().max(1) as f64,
        mean_latency_one_cycles: o.iter().sum::<u64>() as f64 / o.len().max(1) as f64,
        latency_hist_zero: hist(&z, 4),
        latency_hist_one: hist(&o, 4),
        errors,
        bits: cfg.bits,
        sweep: vec![],
        seed: cfg.seed,
    })
}

/// Run the channel at the configured slot, and the sweep if any.
pub fn run(spec: &DramSpec, cfg: &ChannelConfig) -> Result<ChannelReport, String> {
    let mut r = run_slot(spec, cfg, cfg.slot_ns)?;
    for &s in &cfg.sweep_slots_ns {
        let x = run_slot(spec, cfg, s)?;
        r.sweep
            .push((s, x.raw_rate_mbps, x.bit_error_rate, x.capacity_mbps));
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_arch::Spec;

    fn spec() -> DramSpec {
        DramSpec::preset("DDR4_2400R").unwrap()
    }

    #[test]
    fn quiet_channel_decodes_every_bit() {
        let cfg = ChannelConfig {
            bits: 400,
            noise_requests_per_us: 0.0,
            refresh: false,
            ..Default::default()
        };
        let r = run(&spec(), &cfg).unwrap();
        assert_eq!(r.errors, 0, "{r:?}");
        assert!(r.mean_latency_one_cycles > r.mean_latency_zero_cycles + 20.0);
        assert!((r.capacity_mbps - 10.0).abs() < 1e-9);
    }

    #[test]
    fn noise_and_refresh_cause_errors_and_cut_capacity() {
        let cfg = ChannelConfig {
            bits: 1500,
            noise_requests_per_us: 300.0,
            refresh: true,
            ..Default::default()
        };
        let r = run(&spec(), &cfg).unwrap();
        assert!(r.errors > 0);
        assert!(r.capacity_mbps < r.raw_rate_mbps);
    }

    #[test]
    fn too_short_slots_fail_and_offsets_are_checked() {
        let cfg = ChannelConfig {
            bits: 400,
            noise_requests_per_us: 0.0,
            refresh: false,
            slot_ns: 20.0,
            receiver_offset_ns: 5.0,
            ..Default::default()
        };
        let r = run(&spec(), &cfg).unwrap();
        assert!(r.bit_error_rate > 0.05, "{}", r.bit_error_rate);
        let bad = ChannelConfig {
            receiver_offset_ns: 200.0,
            ..cfg
        };
        assert!(run(&spec(), &bad).is_err());
    }
}
