//! Memory traces: parsers for the Ramulator and DRAMsim3 text formats, and seeded synthetic
//! streams (streaming and uniform random) for benches and configs.
//!
//! Formats accepted (one request per line; `#` starts a comment; blank lines are skipped):
//! - Ramulator (1.x, "memory trace driven" DRAM mode): `0x12345680 R` / `0x4cbd56c0 W`.
//! - Ramulator 2 (`ReadWriteTrace`): `LD 0x12345680` / `ST 0x4cbd56c0`.
//! - DRAMsim3: `0x12345680 READ 120` / `0x4cbd56c0 WRITE 140` (address, type, arrival cycle).

use crate::controller::Request;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tessera_arch::dram::DramSpec;

/// Trace text format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TraceFormat {
    Ramulator,
    Ramulator2,
    Dramsim3,
    /// Pick by looking at the first request line.
    Auto,
}

/// A trace line that could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct TraceError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

fn parse_addr(s: &str) -> Option<u64> {
    let h = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
    u64::from_str_radix(h, 16).ok()
}

/// Parse a whole trace text; `file` names it in errors.
pub fn parse_trace(
    text: &str,
    format: TraceFormat,
    file: &str,
) -> Result<Vec<Request>, TraceError> {
    let mut out = Vec::new();
    let mut fmt = format;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let err = |message: String| TraceError {
            file: file.to_string(),
            line: i + 1,
            message,
        };
        let toks: Vec<&str> = line.split_whitespace().collect();
        if fmt == TraceFormat::Auto {
            fmt = match (toks.first(), toks.len()) {
                (Some(&"LD") | Some(&"ST"), _) => TraceFormat::Ramulator2,
                (_, 3) => TraceFormat::Dramsim3,
                (_, 2) => TraceFormat::Ramulator,
                _ => {
                    return Err(err(format!(
                        "cannot tell the trace format from `{line}`; expected `0xADDR R|W` \
                         (Ramulator), `LD|ST 0xADDR` (Ramulator 2) or `0xADDR READ|WRITE CYCLE` \
                         (DRAMsim3)"
                    )));
                }
            };
        }
        let req = match fmt {
            TraceFormat::Ramulator => {
                let [a, op] = toks[..] else {
                    return Err(err(format!(
                        "expected `0xADDR R|W` (Ramulator), found `{line}`"
                    )));
                };
                let addr = parse_addr(a).ok_or_else(|| {
                    err(format!("expected a hex address like 0x1f40, found `{a}`"))
                })?;
                let is_write = match op {
                    "R" => false,
                    "W" => true,
                    _ => return Err(err(format!("expected R or W, found `{op}`"))),
                };
                Request {
                    addr,
                    is_write,
                    arrive_cycle: 0,
                }
            }
            TraceFormat::Ramulator2 => {
                let [op, a] = toks[..] else {
                    return Err(err(format!(
                        "expected `LD|ST 0xADDR` (Ramulator 2), found `{line}`"
                    )));
                };
                let addr = parse_addr(a).ok_or_else(|| {
                    err(format!("expected a hex address like 0x1f40, found `{a}`"))
                })?;
                let is_write = match op {
                    "LD" => false,
                    "ST" => true,
                    _ => return Err(err(format!("expected LD or ST, found `{op}`"))),
                };
                Request {
                    addr,
                    is_write,
                    arrive_cycle: 0,
                }
            }
            TraceFormat::Dramsim3 | TraceFormat::Auto => {
                let [a, op, cyc] = toks[..] else {
                    return Err(err(format!(
                        "expected `0xADDR READ|WRITE CYCLE` (DRAMsim3), found `{line}`"
                    )));
                };
                let addr = parse_addr(a).ok_or_else(|| {
                    err(format!("expected a hex address like 0x1f40, found `{a}`"))
                })?;
                let is_write = match op {
                    "READ" => false,
                    "WRITE" => true,
                    _ => return Err(err(format!("expected READ or WRITE, found `{op}`"))),
                };
                let arrive_cycle = cyc
                    .parse()
                    .map_err(|_| err(format!("expected a cycle number, found `{cyc}`")))?;
                if let Some(prev) = out.last().map(|r: &Request| r.arrive_cycle)
                    && arrive_cycle < prev
                {
                    return Err(err(format!(
                        "cycle {arrive_cycle} goes back in time (previous request at {prev})"
                    )));
                }
                Request {
                    addr,
                    is_write,
                    arrive_cycle,
                }
            }
        };
        out.push(req);
    }
    Ok(out)
}

/// Access pattern of a synthetic trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Pattern {
    /// Consecutive bursts (64 B lines) from address 0 upwards.
    Streaming,
    /// Uniform random line addresses over the whole capacity.
    Random,
}

/// A seeded synthetic request stream (no allocation per request).
#[derive(Debug, Clone)]
pub struct SyntheticTrace {
    pattern: Pattern,
    remaining: u64,
    read_fraction: f64,
    next_line: u64,
    lines: u64,
    line_bytes: u64,
    rng: ChaCha8Rng,
}

impl SyntheticTrace {
    pub fn new(
        spec: &DramSpec,
        pattern: Pattern,
        requests: u64,
        read_fraction: f64,
        seed: u64,
    ) -> Self {
        let o = &spec.org;
        let bytes = (o.density_mb as u64) << 20 >> 3;
        let capacity = bytes * o.devices_per_rank as u64 * o.ranks as u64 * o.channels as u64;
        let line_bytes = spec.burst_bytes() as u64;
        Self {
            pattern,
            remaining: requests,
            read_fraction,
            next_line: 0,
            lines: capacity / line_bytes,
            line_bytes,
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }
}

impl Iterator for SyntheticTrace {
    type Item = Request;

    #[inline]
    fn next(&mut self) -> Option<Request> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let line = match self.pattern {
            Pattern::Streaming => {
                let l = self.next_line;
                self.next_line = (self.next_line + 1) % self.lines;
                l
            }
            Pattern::Random => self.rng.random_range(0..self.lines),
        };
        let is_write = !self.rng.random_bool(self.read_fraction);
        Some(Request {
            addr: line * self.line_bytes,
            is_write,
            arrive_cycle: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_all_three_formats() {
        let r = parse_trace("0x40 R\n0x80 W\n", TraceFormat::Auto, "a.trace").unwrap();
        assert_eq!(r.len(), 2);
        assert!(r[1].is_write && r[1].addr == 0x80);
        let r = parse_trace("LD 0x40\n# c\n\nST 0x80", TraceFormat::Auto, "b").unwrap();
        assert!(!r[0].is_write && r[1].is_write);
        let r = parse_trace("0x40 READ 5\n0x80 WRITE 9\n", TraceFormat::Auto, "c").unwrap();
        assert_eq!(r[1].arrive_cycle, 9);
    }

    #[test]
    fn errors_name_file_and_line() {
        let e = parse_trace("0x40 R\n0xZZ R\n", TraceFormat::Ramulator, "t.trace").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.to_string().starts_with("t.trace:2:"), "{e}");
        let e = parse_trace("0x40 READ 9\n0x80 READ 3\n", TraceFormat::Dramsim3, "d").unwrap_err();
        assert!(e.message.contains("back in time"));
        let e = parse_trace("0x40 X\n", TraceFormat::Ramulator, "d").unwrap_err();
        assert!(e.message.contains("R or W"));
    }

    #[test]
    fn synthetic_read_fraction_is_respected() {
        let s = <tessera_arch::dram::DramSpec as tessera_arch::Spec>::preset("DDR4_2400R").unwrap();
        let t = SyntheticTrace::new(&s, Pattern::Random, 10_000, 0.8, 42);
        let reads = t.filter(|r| !r.is_write).count();
        assert!((7700..8300).contains(&reads), "{reads}");
    }
}
