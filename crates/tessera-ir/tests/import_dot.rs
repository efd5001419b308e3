//! CGRA-ME / Pillars DOT import: small hand-written DFGs (tests/data) run on the interpreter
//! and agree with plain-Rust versions; malformed DOT gives located errors, never a panic.

use std::path::PathBuf;
use tessera_ir::import::dot;
use tessera_ir::interp::{random_inputs, run};
use tessera_ir::{IrError, Op};

fn data(name: &str) -> (String, String) {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    (
        p.display().to_string(),
        std::fs::read_to_string(&p).unwrap(),
    )
}

#[test]
fn dot_product_matches_plain_rust() {
    let (f, t) = data("dot_dot_product.dot");
    let k = dot::import_str(&t, &f).unwrap();
    assert_eq!(k.name, "dot_product");
    assert_eq!(k.trip_count, 8);
    assert_eq!(k.arrays.len(), 1);
    // Both phis became loop-carried edges with their constant initial values.
    assert_eq!(k.max_distance(), 1);
    for seed in [1u64, 2, 3] {
        let inputs = random_inputs(&k, seed);
        let out = run(&k, &inputs).unwrap();
        let mem = &inputs.arrays[0];
        let expected = (0..8).fold(0i32, |s, i| s.wrapping_add(mem[i].wrapping_mul(mem[8 + i])));
        assert_eq!(
            out.live_outs,
            vec![("result".to_string(), expected)],
            "seed {seed}"
        );
    }
}

#[test]
fn recurrence_with_explicit_distance_and_predicated_store() {
    let (f, t) = data("dot_recurrence.dot");
    let k = dot::import_str(&t, &f).unwrap();
    assert_eq!(k.trip_count, 16);
    assert_eq!(k.scalars.len(), 2);
    assert!(!k.nodes_on_recurrences().is_empty());
    for seed in [4u64, 5, 6] {
        let inputs = random_inputs(&k, seed);
        let out = run(&k, &inputs).unwrap();
        let (a, u) = (inputs.scalars[0], inputs.scalars[1]);
        let mut mem = inputs.arrays[0].clone();
        let (mut y, mut addr) = (7i32, 0i32);
        for _ in 0..16 {
            y = (a.wrapping_mul(y) >> 4).wrapping_add(u);
            addr += 4;
            if y > 1000 {
                mem[(addr / 4) as usize] = y;
            }
        }
        assert_eq!(out.live_outs, vec![("out".to_string(), y)], "seed {seed}");
        assert_eq!(out.arrays[0].values, mem, "seed {seed}");
    }
}

#[test]
fn phi_with_a_non_constant_initial_value_selects_it_first() {
    let t = "digraph p { trip_count=3; n [opcode=input]; one [opcode=const, constVal=1];
             x [opcode=phi]; nx [opcode=add]; o [opcode=output];
             n -> x; nx -> x; x -> nx; one -> nx; nx -> o; }";
    let k = dot::import_str(t, "p.dot").unwrap();
    let mut inputs = random_inputs(&k, 9);
    inputs.scalars[0] = 40;
    let out = run(&k, &inputs).unwrap();
    assert_eq!(out.live_outs, vec![("o".to_string(), 43)]);
    assert!(k.nodes().any(|(_, n)| n.op == Op::Select));
}

fn err(text: &str) -> IrError {
    dot::import_str(text, "bad.dot").expect_err("should fail")
}

#[test]
fn malformed_dot_gives_located_errors() {
    let e = err("digraph { a [opcode=frobnicate]; }");
    assert!(
        matches!(&e, IrError::UnsupportedOp { op, .. } if op == "frobnicate"),
        "{e}"
    );
    assert!(e.to_string().contains("bad.dot:1:"), "{e}");
    let e =
        err("digraph {\n a [opcode=add];\n b [opcode=output];\n a -> b;\n c -> b [operand=1];\n}");
    assert!(
        e.to_string().contains("bad.dot:5:") && e.to_string().contains("never declared"),
        "{e}"
    );
    // A const without a value is CGRA-ME's convention (it never writes the value): an
    // input named after the node, and the import says so.
    let r = dot::import_report("digraph { a [opcode=const]; }", "c.dot").unwrap();
    assert_eq!(r.kernel.scalars[0].name, "a");
    assert!(r.notes[0].contains("without a value"), "{:?}", r.notes);
    let e = err("digraph { a [opcode=const, constVal=1]; b [opcode=add]; a -> b; ");
    assert!(e.to_string().contains("end of file"), "{e}");
    let e = err("digraph { a [opcode=add, ; }");
    assert!(matches!(e, IrError::Parse { .. }), "{e}");
    // A cycle without a phi or a dist through two nodes is a combinational cycle (a
    // self-loop is CGRA-ME's accumulator, see import_dot_dialects.rs).
    let e = err(
        "digraph { one [opcode=const, constVal=1]; a [opcode=add]; b [opcode=add]; a -> b [operand=0]; b -> a [operand=0]; one -> a [operand=1]; one -> b [operand=1]; }",
    );
    assert!(
        e.to_string().contains("cycle without a loop-carried edge"),
        "{e}"
    );
    let e = err("graph { a -- b; }");
    assert!(e.to_string().contains("expected `digraph`"), "{e}");
    let e = err("digraph { a [opcode=phi]; }");
    assert!(e.to_string().contains("phi `a`"), "{e}");
}

#[test]
fn truncated_dot_never_panics() {
    let (f, t) = data("dot_dot_product.dot");
    for cut in 0..t.len() {
        if t.is_char_boundary(cut) {
            let _ = dot::import_str(&t[..cut], &f);
        }
    }
}
