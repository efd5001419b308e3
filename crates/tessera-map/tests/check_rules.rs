//! The independent checker: a hand-built valid mapping is accepted, and hand-broken copies
//! are rejected, one per rule, each with the specific violation.

use tessera_arch::Spec;
use tessera_arch::cgra::CgraSpec;
use tessera_ir::{
    ArrayDecl, ArrayDir, Kernel, KernelSource, LiveOut, Node, Op, Operand, Slot, Width,
};
use tessera_map::check::{CheckViolation, check, compose_chains};
use tessera_map::mapping::{MAPPING_FORMAT_VERSION, Provenance};
use tessera_map::{Loc, Mapping, Placement, Route, Segment};

/// n0 = load a[0]; n1 = const 5 (immediate); n2 = n0 + n1; n3 = store b[0] <- n2;
/// n4 = n2 + n4(previous iteration), live-out; order edge store -> load, distance 2.
/// Edges: e0 n0->n2, e1 n1->n2, e2 n2->n3, e3 n2->n4, e4 n4->n4 (d=1), e5 n3->n0 (order, d=2).
fn kernel() -> Kernel {
    let mut k = Kernel::new("chk", KernelSource::Built);
    for (name, base, dir) in [("a", 0, ArrayDir::In), ("b", 64, ArrayDir::Out)] {
        k.arrays.push(ArrayDecl {
            name: name.into(),
            width: Width::Word,
            signed: true,
            len: 4,
            base,
            dir,
            init_range: None,
            elem: Default::default(),
        });
    }
    let n0 = k.add_node(
        Node::new(Op::Load {
            width: Width::Word,
            signed: true,
        })
        .with_imm(0)
        .with_array(0),
    );
    let n1 = k.add_node(Node::new(Op::Const).with_imm(5));
    let n2 = k.add_node(Node::new(Op::Add));
    let n3 = k.add_node(
        Node::new(Op::Store { width: Width::Word })
            .with_imm(64)
            .with_array(1),
    );
    let n4 = k.add_node(Node::new(Op::Add));
    k.add_edge(n0, n2, Operand::data(0));
    k.add_edge(n1, n2, Operand::data(1));
    k.add_edge(n2, n3, Operand::data(0));
    k.add_edge(n2, n4, Operand::data(0));
    k.add_edge(n4, n4, Operand::carried(1, 1, 0));
    k.add_edge(
        n3,
        n0,
        Operand {
            slot: Slot::Order,
            distance: 2,
            init: 0,
        },
    );
    k.live_outs.push(LiveOut {
        name: "sum".into(),
        node: n4,
        init: 0,
    });
    k.trip_count = 4;
    k.validate().unwrap();
    k
}

fn seg(cycle: u32, from: Loc, path: &[u16], to: Loc) -> Segment {
    Segment {
        cycle,
        from,
        path: path.to_vec(),
        to,
    }
}

fn place(pe: u16, cycle: u32) -> Placement {
    Placement {
        pe: Some(pe),
        cycle,
        start_ps: 0,
        registered: true,
    }
}

const IMM: Placement = Placement {
    pe: None,
    cycle: 0,
    start_ps: 0,
    registered: false,
};

fn out(pe: u16) -> Loc {
    Loc::Out { pe }
}
fn opnd(pe: u16) -> Loc {
    Loc::Operand { pe }
}
fn reg(pe: u16, reg: u16) -> Loc {
    Loc::Reg { pe, reg }
}

/// Valid on mesh-4x4 at II 2: load on PE0 @0, add on PE1 @1, store on PE0 @3 (value
/// parked in PE0's r0), accumulator on PE5 @2.
fn valid() -> Mapping {
    Mapping {
        format_version: MAPPING_FORMAT_VERSION,
        kernel: kernel(),
        arch: CgraSpec::preset("mesh-4x4").unwrap(),
        ii: 2,
        placements: vec![place(0, 0), IMM, place(1, 1), place(0, 3), place(5, 2)],
        routes: vec![
            Route {
                edge: 0,
                segments: vec![seg(1, out(0), &[1], opnd(1))],
            },
            Route {
                edge: 2,
                segments: vec![
                    seg(2, out(1), &[0], reg(0, 0)),
                    seg(3, reg(0, 0), &[], opnd(0)),
                ],
            },
            Route {
                edge: 3,
                segments: vec![seg(2, out(1), &[5], opnd(5))],
            },
            Route {
                edge: 4,
                segments: vec![seg(4, out(5), &[], opnd(5))],
            },
        ],
        array_banks: vec![0, 1],
        array_replicas: vec![],
        access_banks: vec![],
        provenance: Provenance {
            mapper: "hand".into(),
            seed: 0,
            mii: 2,
            time_ms: 0.0,
            failed_iis: vec![],
            tool_version: "test".into(),
            judge_seed: None,
        },
    }
}

fn violations(m: &Mapping) -> Vec<CheckViolation> {
    match check(m) {
        Ok(()) => panic!("a broken mapping was accepted"),
        Err(v) => {
            for x in &v {
                assert!(!x.to_string().is_empty());
            }
            v
        }
    }
}

fn route_mut(m: &mut Mapping, edge: u32) -> &mut Route {
    m.routes.iter_mut().find(|r| r.edge == edge).unwrap()
}

#[test]
fn valid_mapping_is_accepted() {
    let m = valid();
    if let Err(v) = check(&m) {
        panic!(
            "{}",
            v.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    // And survives a JSON round trip.
    let back = Mapping::from_json(&m.to_json(), "m.json").unwrap();
    assert!(check(&back).is_ok());
}

#[test]
fn rule_shape_ii_range() {
    let mut m = valid();
    m.ii = 0;
    assert!(matches!(violations(&m)[0], CheckViolation::Shape { .. }));
    let mut m = valid();
    m.ii = m.arch.max_ii + 1;
    assert!(
        violations(&m)
            .iter()
            .any(|v| matches!(v, CheckViolation::Shape { message } if message.contains("outside")))
    );
    let mut m = valid();
    m.placements.pop();
    assert!(matches!(violations(&m)[0], CheckViolation::Shape { .. }));
}

#[test]
fn rule_every_node_placed() {
    let mut m = valid();
    m.placements[2] = IMM;
    let v = violations(&m);
    assert!(v.contains(&CheckViolation::Unplaced {
        node: 2,
        op: "add".into()
    }));
}

#[test]
fn rule_pe_supports_class() {
    let mut m = valid();
    m.placements[0] = place(1, 0); // a load on an ALU-only PE
    let v = violations(&m);
    assert!(
        v.iter()
            .any(|x| matches!(x, CheckViolation::UnsupportedOp { node: 0, pe: 1, .. })),
        "{v:?}"
    );
    let mut m = valid();
    m.placements[2].pe = Some(99);
    assert!(violations(&m).contains(&CheckViolation::BadPe { node: 2, pe: 99 }));
}

#[test]
fn rule_memory_op_on_pe_wired_to_its_bank() {
    let mut m = valid();
    // Bank 0 (array a) reaches only PE (1, 0) now; the load sits on PE 0.
    m.arch.memory.banks[0].pes = vec![(1, 0)];
    let v = violations(&m);
    assert_eq!(
        v,
        vec![CheckViolation::MemoryNotWired {
            node: 0,
            op: "load".into(),
            pe: 0,
            bank: Some(0)
        }]
    );
}

#[test]
fn rule_bank_ports() {
    let mut m = valid();
    // Both arrays in bank 0; the store moves to PE 4 at cycle 4 (slot 0, like the load).
    m.array_banks = vec![0, 0];
    m.placements[3] = place(4, 4);
    route_mut(&mut m, 2).segments = vec![
        seg(2, out(1), &[0], reg(0, 0)),
        seg(4, reg(0, 0), &[4], opnd(4)),
    ];
    let v = violations(&m);
    assert!(
        v.contains(&CheckViolation::BankPorts {
            bank: 0,
            slot: 0,
            ports: 1,
            nodes: vec![0, 3]
        }),
        "{v:?}"
    );
}

#[test]
fn rule_fu_slot_not_double_booked() {
    let mut m = valid();
    m.placements[3] = place(0, 2); // slot 0 of PE 0, like the load
    let v = violations(&m);
    assert!(v.contains(&CheckViolation::FuConflict {
        pe: 0,
        slot: 0,
        nodes: [0, 3],
        cycles: [0, 2]
    }));
}

#[test]
fn rule_output_register_not_double_booked() {
    let mut m = valid();
    // The accumulator moves onto PE 1 at cycle 2 (slot 0; the add is in slot 1), so its
    // result (cycles 3..=4) and n2's (cycle 2) share slot 0 of PE 1's output register.
    m.placements[4] = place(1, 2);
    route_mut(&mut m, 3).segments = vec![seg(2, out(1), &[], opnd(1))];
    route_mut(&mut m, 4).segments = vec![seg(4, out(1), &[], opnd(1))];
    let v = violations(&m);
    assert!(
        v.iter().any(|x| matches!(x, CheckViolation::ResourceConflict { resource, slot: 0, values: [2, 4], .. } if resource.contains("output register of PE 1"))),
        "{v:?}"
    );
}

#[test]
fn rule_register_not_held_longer_than_ii() {
    let mut m = valid();
    // Store at cycle 5: the value waits in r0 from 3 to 5, three cycles at II 2.
    m.placements[3] = place(0, 5);
    m.kernel
        .graph
        .edge_weight_mut(petgraph::graph::EdgeIndex::new(5))
        .unwrap()
        .distance = 3;
    route_mut(&mut m, 2).segments[1].cycle = 5;
    let v = violations(&m);
    assert_eq!(v.len(), 1, "{v:?}");
    assert!(
        matches!(&v[0], CheckViolation::ResourceConflict { resource, values: [2, 2], cycles: [3, 5], .. } if resource.contains("r0 of PE 0")),
        "{v:?}"
    );
}

#[test]
fn rule_register_index_below_rf_size() {
    let mut m = valid();
    route_mut(&mut m, 2).segments = vec![
        seg(2, out(1), &[0], reg(0, 7)),
        seg(3, reg(0, 7), &[], opnd(0)),
    ];
    assert!(violations(&m).contains(&CheckViolation::RegOutOfRange {
        edge: 2,
        pe: 0,
        reg: 7,
        rf_size: 4
    }));
}

#[test]
fn rule_link_not_double_booked() {
    let mut m = valid();
    // n2 -> n4 detours through PE 0 and back over link 0 -> 1 in cycle 3 (slot 1), where
    // n0 -> n2 used it in cycle 1; the accumulator moves to cycle 4.
    m.placements[4] = place(5, 4);
    route_mut(&mut m, 3).segments = vec![
        seg(2, out(1), &[0], reg(0, 1)),
        seg(3, reg(0, 1), &[1], reg(1, 0)),
        seg(4, reg(1, 0), &[5], opnd(5)),
    ];
    route_mut(&mut m, 4).segments = vec![seg(6, out(5), &[], opnd(5))];
    let v = violations(&m);
    assert_eq!(v.len(), 1, "{v:?}");
    assert!(
        matches!(&v[0], CheckViolation::ResourceConflict { resource, slot: 1, values: [0, 2], .. } if resource == "link PE 0 -> PE 1"),
        "{v:?}"
    );
}

#[test]
fn rule_hops_are_links() {
    let mut m = valid();
    route_mut(&mut m, 0).segments = vec![seg(1, out(0), &[5], opnd(5))];
    let v = violations(&m);
    assert!(v.contains(&CheckViolation::BadLink {
        edge: 0,
        cycle: 1,
        from: 0,
        to: 5
    }));
}

#[test]
fn rule_hops_per_cycle() {
    let mut m = valid();
    route_mut(&mut m, 0).segments = vec![seg(1, out(0), &[1, 2, 1], opnd(1))];
    let v = violations(&m);
    assert_eq!(
        v,
        vec![CheckViolation::TooManyHops {
            edge: 0,
            cycle: 1,
            hops: 3,
            max: 1
        }]
    );
}

#[test]
fn rule_every_value_edge_has_one_route() {
    let mut m = valid();
    m.routes.retain(|r| r.edge != 3);
    assert_eq!(
        violations(&m),
        vec![CheckViolation::MissingRoute {
            edge: 3,
            from: 2,
            to: 4
        }]
    );
    let mut m = valid();
    let dup = m.routes[0].clone();
    m.routes.push(dup);
    assert_eq!(
        violations(&m),
        vec![CheckViolation::DuplicateRoute { edge: 0 }]
    );
    let mut m = valid();
    m.routes.push(Route {
        edge: 1, // from the immediate const
        segments: vec![seg(1, out(2), &[1], opnd(1))],
    });
    assert!(matches!(
        violations(&m)[0],
        CheckViolation::ExtraRoute { edge: 1, .. }
    ));
    let mut m = valid();
    m.routes.push(Route {
        edge: 5, // an order edge
        segments: vec![],
    });
    assert!(matches!(
        violations(&m)[0],
        CheckViolation::ExtraRoute { edge: 5, .. }
    ));
}

#[test]
fn rule_routes_connected() {
    let mut m = valid();
    route_mut(&mut m, 2).segments[1].from = reg(0, 1);
    let v = violations(&m);
    assert!(v.iter().any(|x| matches!(x, CheckViolation::BrokenRoute { edge: 2, segment: 1, reason } if reason.contains("previous segment ended"))), "{v:?}");
    // Time must move forward.
    let mut m = valid();
    route_mut(&mut m, 2).segments = vec![
        seg(3, out(1), &[0], reg(0, 0)),
        seg(3, reg(0, 0), &[], opnd(0)),
    ];
    let v = violations(&m);
    assert!(v.iter().any(|x| matches!(x, CheckViolation::BrokenRoute { edge: 2, segment: 1, reason } if reason.contains("not after"))), "{v:?}");
    // The path must end where the segment claims.
    let mut m = valid();
    route_mut(&mut m, 3).segments = vec![seg(2, out(1), &[2], opnd(5))];
    let v = violations(&m);
    assert!(v.iter().any(|x| matches!(x, CheckViolation::BrokenRoute { edge: 3, reason, .. } if reason.contains("path ends at PE 2"))), "{v:?}");
}

#[test]
fn rule_route_starts_at_producer_after_its_latency() {
    let mut m = valid();
    m.placements[2] = place(1, 0); // the add now reads n0 in cycle 0, before the load is done
    route_mut(&mut m, 0).segments = vec![seg(0, out(0), &[1], opnd(1))];
    let v = violations(&m);
    assert!(
        v.iter()
            .any(|x| matches!(x, CheckViolation::BadRouteStart { edge: 0, .. })),
        "{v:?}"
    );
    let mut m = valid();
    route_mut(&mut m, 3).segments[0].from = out(2);
    assert!(
        violations(&m)
            .iter()
            .any(|x| matches!(x, CheckViolation::BadRouteStart { edge: 3, .. }))
    );
}

#[test]
fn rule_operand_arrives_when_read() {
    let mut m = valid();
    // The accumulator is read back one cycle early: it must arrive at 2 + 1 x II = 4.
    route_mut(&mut m, 4).segments[0].cycle = 3;
    let v = violations(&m);
    assert_eq!(v.len(), 1, "{v:?}");
    assert!(
        matches!(&v[0], CheckViolation::BadRouteEnd { edge: 4, reason } if reason.contains("= 4"))
    );
    // Or at the wrong PE.
    let mut m = valid();
    route_mut(&mut m, 0).segments = vec![seg(1, out(0), &[4], opnd(4))];
    assert!(
        violations(&m)
            .iter()
            .any(|x| matches!(x, CheckViolation::BadRouteEnd { edge: 0, .. }))
    );
}

#[test]
fn rule_order_edges() {
    let mut m = valid();
    m.kernel
        .graph
        .edge_weight_mut(petgraph::graph::EdgeIndex::new(5))
        .unwrap()
        .distance = 1;
    // store @3, next load @0 + 1 x 2 = 2: before the store.
    assert_eq!(
        violations(&m),
        vec![CheckViolation::OrderViolated {
            edge: 5,
            from: 3,
            to: 0,
            need: 1,
            have: -1
        }]
    );
}

/// On compose-4x4: the accumulator chains combinationally behind the add (PE 1 -> PE 5 in
/// cycle 1).
fn compose_valid() -> Mapping {
    let mut m = valid();
    m.arch = CgraSpec::preset("compose-4x4").unwrap();
    m.placements[0].start_ps = 0; // immediate address: no input to wait for
    m.placements[2].start_ps = 130; // clk-to-q 50 + 1 hop 80
    m.placements[3].start_ps = 130;
    m.placements[4] = Placement {
        pe: Some(5),
        cycle: 1,
        start_ps: 410, // 130 + add 200 + hop 80
        registered: true,
    };
    route_mut(&mut m, 3).segments = vec![seg(1, Loc::Comb { pe: 1 }, &[5], opnd(5))];
    route_mut(&mut m, 4).segments = vec![seg(3, out(5), &[], opnd(5))];
    m
}

#[test]
fn compose_chain_is_accepted_when_timing_fits() {
    let m = compose_valid();
    if let Err(v) = check(&m) {
        panic!(
            "{}",
            v.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

#[test]
fn rule_comb_only_with_compose() {
    let mut m = compose_valid();
    m.arch = CgraSpec::preset("mesh-4x4").unwrap();
    assert_eq!(
        violations(&m),
        vec![CheckViolation::ComposeDisabled { edge: 3 }]
    );
}

#[test]
fn rule_compose_chain_timing() {
    // The chained operand arrives at 410 ps; starting at 300 is too early.
    let mut m = compose_valid();
    m.placements[4].start_ps = 300;
    let v = violations(&m);
    assert!(v.iter().any(|x| matches!(x, CheckViolation::ChainTiming { node: 4, reason, .. } if reason.contains("arrives at 410"))), "{v:?}");
    // 800 + 200 + setup 35 > 1000 ps.
    let mut m = compose_valid();
    m.placements[4].start_ps = 800;
    let v = violations(&m);
    assert!(v.iter().any(|x| matches!(x, CheckViolation::ChainTiming { node: 4, reason, .. } if reason.contains("exceeds"))), "{v:?}");
    // A Comb read in a cycle other than the producer's.
    let mut m = compose_valid();
    route_mut(&mut m, 3).segments[0].cycle = 2;
    m.placements[4].cycle = 2;
    route_mut(&mut m, 4).segments[0].cycle = 4;
    assert!(
        violations(&m)
            .iter()
            .any(|x| matches!(x, CheckViolation::BadRouteStart { edge: 3, .. }))
    );
}

#[test]
fn rule_unregistered_results_are_not_read_from_the_output_register() {
    let mut m = compose_valid();
    m.placements[2].registered = false; // n2 -> n3 still reads Out{1}
    assert!(violations(&m).contains(&CheckViolation::ReadsUnregistered { edge: 2, node: 2 }));
}

/// `compose_chains` groups exactly the pairs the checker times as chained: one-segment
/// routes from a producer's combinational output between placed nodes.
#[test]
fn compose_chains_follow_the_checkers_chained_pairs() {
    assert!(
        compose_chains(&valid()).is_empty(),
        "no Comb route, no chain"
    );
    let m = compose_valid();
    assert_eq!(compose_chains(&m), vec![vec![2, 4]]);
    // Chaining the load joins it to the same group (union over pairs).
    let mut m3 = compose_valid();
    route_mut(&mut m3, 0).segments = vec![seg(1, Loc::Comb { pe: 0 }, &[1], opnd(1))];
    assert_eq!(compose_chains(&m3), vec![vec![0, 2, 4]]);
    // A Comb start followed by a second segment is not a chained arrival.
    let mut two = compose_valid();
    route_mut(&mut two, 3)
        .segments
        .push(seg(2, Loc::Operand { pe: 5 }, &[], opnd(5)));
    assert!(compose_chains(&two).is_empty());
    // An unplaced consumer breaks the pair.
    let mut unplaced = compose_valid();
    unplaced.placements[4].pe = None;
    assert!(compose_chains(&unplaced).is_empty());
    // Only the first route given for an edge counts (a later duplicate is a violation).
    let mut dup = valid();
    let mut extra = route_mut(&mut compose_valid(), 3).clone();
    extra.edge = 3;
    dup.routes.push(extra);
    assert!(compose_chains(&dup).is_empty());
}

#[test]
fn rule_virtual_pe_size() {
    let mut m = compose_valid();
    m.arch.compose.max_virtual_pe = 2;
    // Chain the load too: n0 (PE 0) -> n2 (PE 1) -> n4 (PE 5), all in cycle 1: 3 PEs.
    m.placements[0] = Placement {
        pe: Some(0),
        cycle: 1,
        start_ps: 0,
        registered: true,
    };
    m.kernel
        .graph
        .edge_weight_mut(petgraph::graph::EdgeIndex::new(5))
        .unwrap()
        .distance = 3;
    route_mut(&mut m, 0).segments = vec![seg(1, Loc::Comb { pe: 0 }, &[1], opnd(1))];
    let v = violations(&m);
    assert!(
        v.contains(&CheckViolation::VirtualPeTooLarge {
            nodes: vec![0, 2, 4],
            pes: 3,
            max: 2
        }),
        "{v:?}"
    );
}
