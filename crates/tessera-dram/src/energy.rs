//! IDD-based DRAM energy, following Micron TN-40-07 ("Calculating Memory Power for DDR4
//! SDRAM") and the DRAMPower command-based model: each command's energy is its current above
//! the matching standby current, integrated over the time it occupies the device.
//! mA x V x ns = pJ; every term is per device and multiplied by the devices per rank.

use crate::device::CmdCounts;
use serde::{Deserialize, Serialize};
use tessera_arch::dram::DramSpec;

/// Energy split by source, in pJ.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct EnergyReport {
    pub activate_pj: f64,
    pub read_pj: f64,
    pub write_pj: f64,
    pub refresh_pj: f64,
    pub background_pj: f64,
    pub total_pj: f64,
}

/// Energy of a run from its command counts and the rank-cycles spent with at least one bank
/// open (`active_cycles`) or all banks closed (`precharged_cycles`).
pub fn energy_of(
    spec: &DramSpec,
    counts: &CmdCounts,
    active_cycles: u64,
    precharged_cycles: u64,
) -> EnergyReport {
    let p = &spec.power;
    let t = spec.timings();
    let tck = spec.tck_ns();
    let dev = spec.org.devices_per_rank as f64;
    let (t_rc, t_ras) = (t.n_rc as f64 * tck, t.n_ras as f64 * tck);
    // TN-40-07: E(ACT+PRE) = VDD * (IDD0*tRC - (IDD3N*tRAS + IDD2N*(tRC - tRAS))).
    let e_act = p.vdd_v * (p.idd0_ma * t_rc - (p.idd3n_ma * t_ras + p.idd2n_ma * (t_rc - t_ras)));
    let burst_ns = t.n_bl as f64 * tck;
    let e_rd = p.vdd_v * (p.idd4r_ma - p.idd3n_ma) * burst_ns;
    let e_wr = p.vdd_v * (p.idd4w_ma - p.idd3n_ma) * burst_ns;
    // Refresh: IDD5B above active standby for tRFC.
    let e_ref = p.vdd_v * (p.idd5b_ma - p.idd3n_ma) * t.n_rfc as f64 * tck;
    let bg =
        p.vdd_v * (p.idd3n_ma * active_cycles as f64 + p.idd2n_ma * precharged_cycles as f64) * tck;
    let mut r = EnergyReport {
        activate_pj: e_act * counts.act as f64 * dev,
        read_pj: e_rd * counts.rd as f64 * dev,
        write_pj: e_wr * counts.wr as f64 * dev,
        refresh_pj: e_ref * counts.refresh as f64 * dev,
        background_pj: bg * dev,
        total_pj: 0.0,
    };
    r.total_pj = r.activate_pj + r.read_pj + r.write_pj + r.refresh_pj + r.background_pj;
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_arch::Spec;

    #[test]
    fn one_activate_matches_hand_calculation() {
        let s = DramSpec::preset("DDR4_2400R").unwrap();
        let c = CmdCounts {
            act: 1,
            ..Default::default()
        };
        let e = energy_of(&s, &c, 0, 0);
        let tck = 2000.0 / 2400.0;
        let (trc, tras) = (55.0 * tck, 39.0 * tck);
        let hand = 1.2 * (48.0 * trc - (43.0 * tras + 34.0 * (trc - tras))) * 8.0;
        assert!((e.activate_pj - hand).abs() < 1e-9);
        assert!(e.activate_pj > 0.0);
        assert_eq!(e.total_pj, e.activate_pj);
    }
}
