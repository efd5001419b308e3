//! Read-only array replication: the MII bound, the mapper's copies and per-load banks, the
//! checker's rules (read-only arrays only, loads wired to a copy, capacity), the option to
//! turn it off, and backward-compatible mapping files.

use tessera_arch::Spec;
use tessera_arch::cgra::CgraSpec;
use tessera_ir::Kernel;
use tessera_map::check::{CheckViolation, check};
use tessera_map::driver::{MapOptions, map_kernel};
use tessera_map::mapping::Mapping;
use tessera_map::mii::{analyze, analyze_with};

/// Four lookups per iteration into one 64-byte read-only table `t`, one store to `b`.
const LUT: &str = "
kernel lut(n = 16) {
    in i32 t[16];
    in i32 a[n];
    out i32 b[n];
    for i in 0..n {
        let x = a[i];
        b[i] = t[x & 15] + t[(x >>> 4) & 15] + t[(x >>> 8) & 15] + t[(x >>> 12) & 15];
    }
}
";

fn lut() -> Kernel {
    tessera_ir::lang::parse_str(LUT, "lut.tk", &[]).unwrap()
}

fn array_index(k: &Kernel, name: &str) -> usize {
    k.arrays.iter().position(|a| a.name == name).unwrap()
}

fn opts(replicate: bool) -> MapOptions {
    MapOptions {
        replicate,
        time_limit_s: 20.0,
        ..MapOptions::default()
    }
}

fn violations(m: &Mapping) -> Vec<CheckViolation> {
    check(m).err().unwrap_or_default()
}

#[test]
fn mii_uses_the_ports_of_every_copy() {
    let k = lut();
    let arch = CgraSpec::preset("hycube-4x4").unwrap();
    let line = |r: &tessera_map::mii::MiiReport| {
        r.per_class
            .iter()
            .find(|l| l.resource.starts_with("bank ports of array"))
            .cloned()
            .unwrap()
    };
    // Without replication the 4 loads of `t` share one single-port bank: II >= 4.
    let single = analyze_with(&k, &arch, false).unwrap();
    let l = line(&single);
    assert!(l.resource.contains("`t`"), "{}", l.resource);
    assert_eq!((l.ops, l.units, l.mii), (4, 1, 4));
    assert_eq!(single.res_mii, 4);
    // With it, `t` (64 bytes) fits in all 4 banks: 4 loads over 4 ports.
    let rep = analyze(&k, &arch).unwrap();
    let l = line(&rep);
    assert!(l.resource.contains("4 copies"), "{}", l.resource);
    assert_eq!(l.mii, 1);
    assert!(
        rep.res_mii < single.res_mii,
        "{} vs {}",
        rep.res_mii,
        single.res_mii
    );
}

#[test]
fn mapper_replicates_and_beats_the_single_bank_bound() {
    let k = lut();
    let arch = CgraSpec::preset("hycube-4x4").unwrap();
    let with = map_kernel(&k, &arch, &opts(true)).unwrap();
    let without = map_kernel(&k, &arch, &opts(false)).unwrap();
    let m = &with.mapping;
    check(m).unwrap();
    let t = array_index(&k, "t");
    assert!(!m.array_replicas[t].is_empty(), "{:?}", m.array_replicas);
    assert!(!m.array_replicas[t].contains(&m.array_banks[t]));
    // Writable arrays are never copied.
    for a in ["a", "b"] {
        assert!(m.array_replicas[array_index(&k, a)].is_empty());
    }
    // The loads of `t` use more than one bank.
    let mut used: Vec<u16> = m.access_banks.iter().flatten().copied().collect();
    used.sort_unstable();
    used.dedup();
    assert!(used.len() > 1, "{:?}", m.access_banks);
    assert!(without.mapping.array_replicas.is_empty());
    assert!(without.mapping.access_banks.is_empty());
    assert!(without.mapping.ii >= 4);
    assert!(
        m.ii < without.mapping.ii,
        "{} vs {}",
        m.ii,
        without.mapping.ii
    );
}

fn replicated_mapping() -> (Mapping, usize) {
    let k = lut();
    let arch = CgraSpec::preset("hycube-4x4").unwrap();
    let m = map_kernel(&k, &arch, &opts(true)).unwrap().mapping;
    let t = array_index(&k, "t");
    assert!(!m.array_replicas[t].is_empty());
    (m, t)
}

#[test]
fn checker_rejects_a_store_into_a_replicated_array() {
    let (mut m, _) = replicated_mapping();
    let b = array_index(&m.kernel, "b");
    let other = (m.array_banks[b] + 1) % m.arch.memory.banks.len() as u16;
    m.array_replicas[b] = vec![other];
    let v = violations(&m);
    assert!(
        v.iter()
            .any(|x| matches!(x, CheckViolation::ReplicatedWritable { array, reason, .. } if *array == b as u32 && reason.contains("store"))),
        "{v:?}"
    );
    // Declared `out`, so also not read-only by its declaration.
    assert!(
        v.iter()
            .any(|x| matches!(x, CheckViolation::ReplicatedWritable { reason, .. } if reason.contains("not In"))),
        "{v:?}"
    );
}

#[test]
fn checker_rejects_a_load_on_a_pe_wired_to_no_copy() {
    let (mut m, t) = replicated_mapping();
    // Rewire: every bank reaches only one left-column PE, the same for all banks but the
    // PE the first load of `t` sits on; then that load reaches no copy.
    let load = (0..m.kernel.node_count())
        .find(|&i| {
            let n = &m.kernel.graph[petgraph::graph::NodeIndex::new(i)];
            n.op.is_memory() && n.array == Some(t as u16)
        })
        .unwrap();
    let pe = m.placements[load].pe.unwrap();
    let pos = m.arch.pe_pos(pe);
    let elsewhere = if pos == (0, 0) { (1, 0) } else { (0, 0) };
    for bank in &mut m.arch.memory.banks {
        bank.pes.retain(|&p| p != pos);
        if !bank.pes.contains(&elsewhere) {
            bank.pes.push(elsewhere);
        }
    }
    // Keep the spec valid: the PE's kind no longer has memory ops without a bank, so give
    // it one that holds no copy of `t`.
    let copies: Vec<u16> = std::iter::once(m.array_banks[t])
        .chain(m.array_replicas[t].iter().copied())
        .collect();
    m.arch.memory.banks.push(tessera_arch::cgra::BankSpec {
        size_bytes: 4096,
        ports: 1,
        pes: vec![pos],
    });
    m.access_banks[load] = None;
    let v = violations(&m);
    assert!(
        v.iter().any(|x| matches!(x, CheckViolation::ReplicaNotWired { node, copies: c, .. } if *node == load as u32 && *c == copies)),
        "{v:?}"
    );
}

#[test]
fn checker_rejects_a_bank_without_a_copy_and_overfull_banks() {
    let (mut m, t) = replicated_mapping();
    let load = (0..m.access_banks.len())
        .find(|&i| m.access_banks[i].is_some())
        .unwrap();
    let copies: Vec<u16> = std::iter::once(m.array_banks[t])
        .chain(m.array_replicas[t].iter().copied())
        .collect();
    if let Some(free) = (0..m.arch.memory.banks.len() as u16).find(|b| !copies.contains(b)) {
        let mut bad = m.clone();
        bad.access_banks[load] = Some(free);
        assert!(violations(&bad).iter().any(
            |x| matches!(x, CheckViolation::WrongAccessBank { node, .. } if *node == load as u32)
        ));
    }
    // Shrink the banks below the resident bytes of one of them.
    for bank in &mut m.arch.memory.banks {
        bank.size_bytes = 64;
    }
    let v = violations(&m);
    assert!(
        v.iter()
            .any(|x| matches!(x, CheckViolation::BankCapacity { bytes, size_bytes: 64, .. } if *bytes > 64)),
        "{v:?}"
    );
}

#[test]
fn mapper_respects_bank_capacity() {
    let k = lut();
    let mut arch = CgraSpec::preset("hycube-4x4").unwrap();
    // 64-byte table + two 64-byte arrays: with 128-byte banks at most one copy of `t`
    // fits next to another array, so the mapper must not fill every bank.
    for bank in &mut arch.memory.banks {
        bank.size_bytes = 128;
    }
    let m = map_kernel(&k, &arch, &opts(true)).unwrap().mapping;
    check(&m).unwrap();
    let mut bytes = vec![0u32; arch.memory.banks.len()];
    for (a, decl) in k.arrays.iter().enumerate() {
        bytes[m.array_banks[a] as usize] += decl.size_bytes();
        if let Some(r) = m.array_replicas.get(a) {
            for &b in r {
                bytes[b as usize] += decl.size_bytes();
            }
        }
    }
    assert!(bytes.iter().all(|&b| b <= 128), "{bytes:?}");
    // Banks of 32 bytes cannot hold the 64-byte table twice... nor once: no replication.
    for bank in &mut arch.memory.banks {
        bank.size_bytes = 32;
    }
    let r = analyze(&k, &arch).unwrap();
    assert!(
        r.per_class
            .iter()
            .any(|l| l.resource == "bank ports of array `t`" && l.mii == 4)
    );
    let m = map_kernel(&k, &arch, &opts(true)).unwrap().mapping;
    assert!(m.array_replicas.iter().all(|r| r.is_empty()));
}

#[test]
fn old_mapping_files_without_replication_fields_load() {
    let (m, _) = replicated_mapping();
    let mut value: serde_json::Value = serde_json::from_str(&m.to_json()).unwrap();
    let obj = value.as_object_mut().unwrap();
    obj.remove("array_replicas");
    obj.remove("access_banks");
    let old = Mapping::from_json(&value.to_string(), "old.json").unwrap();
    assert!(old.array_replicas.is_empty() && old.access_banks.is_empty());
    // With the copies but no per-load banks, each load reads the lowest-index copy wired
    // to its PE; on hycube-4x4 every memory PE reaches every bank, so that is one bank for
    // all loads of `t`, which cannot pass at II < 4.
    let mut no_choice = m.clone();
    no_choice.access_banks.clear();
    if m.ii < 4 {
        assert!(
            violations(&no_choice)
                .iter()
                .any(|x| matches!(x, CheckViolation::BankPorts { .. }))
        );
    }
}
