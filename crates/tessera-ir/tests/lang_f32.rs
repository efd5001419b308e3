//! The kernel language's f32: float literals, f32 arrays, `+ - * /` and comparisons on f32
//! operands lowering to the binary32 ops, `itof`/`ftoi`, `min`/`max`/`abs` on f32; against
//! plain Rust f32 (round to nearest even, as the IR). Type errors are located.

use std::path::PathBuf;
use tessera_ir::interp::{random_inputs, run};
use tessera_ir::lang::{parse_file, parse_str};
use tessera_ir::{ElemType, Op};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn f(w: i32) -> f32 {
    f32::from_bits(w as u32)
}

#[test]
fn fir_f32_matches_plain_rust() {
    let k = parse_file(&data("fir_f32.tk"), &[]).unwrap();
    let ops: Vec<Op> = k.nodes().map(|(_, n)| n.op).collect();
    for op in [Op::FMul, Op::FAdd, Op::FLt, Op::FToSI, Op::FMax, Op::FAbs] {
        assert!(ops.contains(&op), "{op} missing: {ops:?}");
    }
    // No integer arithmetic on the float values.
    assert!(!ops.contains(&Op::Mul), "{ops:?}");
    let elems: Vec<ElemType> = k.arrays.iter().map(|a| a.elem).collect();
    assert_eq!(
        elems,
        vec![ElemType::F32, ElemType::F32, ElemType::F32, ElemType::Int]
    );
    let mut wide = false;
    for seed in [1u64, 2, 3] {
        let inputs = random_inputs(&k, seed);
        let x: Vec<f32> = inputs.arrays[0].iter().map(|&w| f(w)).collect();
        let c: Vec<f32> = inputs.arrays[1].iter().map(|&w| f(w)).collect();
        assert!(c.iter().all(|v| (-2.0..=2.0).contains(v)));
        wide |= c.iter().any(|v| v.abs() > 1.0);
        let out = run(&k, &inputs).unwrap();
        let (mut peak, mut count) = (0.0f32, 0);
        for i in 0..64 {
            let acc = c[0] * x[i] + c[1] * x[i + 1] + c[2] * x[i + 2] + c[3] * x[i + 3];
            assert_eq!(out.arrays[0].values[i], acc.to_bits() as i32, "y[{i}]");
            let q = if acc > 0.25 { (acc * 100.0) as i32 } else { -1 };
            assert_eq!(out.arrays[1].values[i], q, "q[{i}]");
            peak = peak.max(acc.abs());
            count += (acc < -0.25) as i32;
        }
        assert_eq!(
            out.live_outs,
            vec![
                ("peak".to_string(), peak.to_bits() as i32),
                ("count".to_string(), count)
            ],
            "seed {seed}"
        );
        // The inputs exercise both branches.
        assert!(out.arrays[1].values.iter().any(|&q| q > 0) && count > 0);
    }
    assert!(wide, "c's range -2..2 is used, not the default [-1, 1]");
}

fn kernel(body: &str, decls: &str) -> String {
    format!(
        "kernel t(n = 8) {{\n    in f32 x[n];\n    in i32 m[n];\n    out f32 y[n];\n    out i32 z[n];\n{decls}    for i in 0..n {{\n        {body}\n    }}\n}}\n"
    )
}

fn err(body: &str, decls: &str) -> String {
    parse_str(&kernel(body, decls), "t.tk", &[])
        .expect_err("should be refused")
        .to_string()
}

#[test]
fn conversions_and_division_lower_to_float_ops() {
    let k = parse_str(
        &kernel(
            "y[i] = itof(m[i]) / (x[i] - 0.5); z[i] = ftoi(-x[i] * 1000.0);",
            "",
        ),
        "t.tk",
        &[],
    )
    .unwrap();
    let ops: Vec<Op> = k.nodes().map(|(_, n)| n.op).collect();
    for op in [Op::SIToF, Op::FDiv, Op::FSub, Op::FNeg, Op::FToSI, Op::FMul] {
        assert!(ops.contains(&op), "{op} missing: {ops:?}");
    }
    let inputs = random_inputs(&k, 7);
    let out = run(&k, &inputs).unwrap();
    for i in 0..8 {
        let (x, m) = (f(inputs.arrays[0][i]), inputs.arrays[1][i]);
        assert_eq!(
            f(out.arrays[0].values[i]).to_bits(),
            (m as f32 / (x - 0.5)).to_bits()
        );
        assert_eq!(out.arrays[1].values[i], (-x * 1000.0) as i32);
    }
}

#[test]
fn mixing_i32_and_f32_is_a_located_error() {
    let e = err("y[i] = x[i] + 1;", "");
    assert!(
        e.starts_with("t.tk:7:16:") && e.contains("`+` between f32 and i32"),
        "{e}"
    );
    let e = err("z[i] = x[i] * 2.0;", "");
    assert!(
        e.starts_with("t.tk:7:16:") && e.contains("`z` holds i32 but the value is f32"),
        "{e}"
    );
    let e = err("y[i] = x[i] % 2.0;", "");
    assert!(e.contains("`%` is not defined on f32"), "{e}");
    let e = err("z[i] = ftoi(m[i]);", "");
    assert!(
        e.contains("argument 1 of `ftoi` is i32; expected f32"),
        "{e}"
    );
    let e = err("z[i] = sext8(x[i]);", "");
    assert!(e.contains("argument 1 of `sext8` is f32"), "{e}");
    let e = err("if x[i] { z[i] = 1; }", "");
    assert!(e.contains("`if` condition is i32"), "{e}");
    let e = err("s = s + x[i];", "    var s = 0;\n");
    assert!(e.contains("between i32 and f32"), "{e}");
    let e = err("y[i] = 1.5e;", "");
    assert!(e.contains("malformed float literal"), "{e}");
    let e = parse_str(
        "kernel t(n = 1.5) { out i32 y[1]; for i in 0..1 { y[i] = 0; } }",
        "t.tk",
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("float literal in a constant expression"), "{e}");
}

/// An f32 scalar input: `in f32 gain = 0.5 range -2..2;` is drawn as a float in [-2, 2]
/// (its default's bits kept), reads as f32 in expressions, and mixing it with an i32 is a
/// located error; a default that is not a float literal is refused.
#[test]
fn f32_scalar_inputs() {
    let src = "kernel gain(n = 16) {
    in f32 x[n];
    in f32 gain = 0.5 range -2..2;
    in f32 bias = -0.25;
    out f32 y[n];
    for i in 0..n {
        y[i] = gain * x[i] + bias;
    }
}";
    let k = parse_str(src, "gain.tk", &[]).unwrap();
    assert_eq!(k.scalars.len(), 2);
    assert!(k.scalars.iter().all(|s| s.elem == ElemType::F32));
    assert_eq!(k.scalars[0].default, 0.5f32.to_bits() as i32);
    assert_eq!(k.scalars[0].random_range, Some((-2, 2)));
    assert_eq!(k.scalars[1].default, (-0.25f32).to_bits() as i32);
    let ops: Vec<Op> = k.nodes().map(|(_, n)| n.op).collect();
    assert!(
        ops.contains(&Op::FMul) && ops.contains(&Op::FAdd),
        "{ops:?}"
    );
    // No integer arithmetic on the float values (the `Add` is the loop counter's).
    assert!(!ops.contains(&Op::Mul), "{ops:?}");
    assert_eq!(ops.iter().filter(|o| **o == Op::Add).count(), 1, "{ops:?}");
    let mut gains = Vec::new();
    for seed in [1u64, 2, 3, 4] {
        let inputs = random_inputs(&k, seed);
        let (g, b) = (f(inputs.scalars[0]), f(inputs.scalars[1]));
        assert!((-2.0..=2.0).contains(&g), "{g}");
        assert_eq!(b, -0.25, "no range: the default");
        gains.push(g);
        let out = run(&k, &inputs).unwrap();
        for i in 0..16 {
            let x = f(inputs.arrays[0][i]);
            assert_eq!(
                out.arrays[0].values[i],
                (g * x + b).to_bits() as i32,
                "y[{i}]"
            );
        }
    }
    // Floats, not integers: some gain is not a whole number, some is beyond [-1, 1].
    assert!(gains.iter().any(|g| g.fract() != 0.0), "{gains:?}");
    assert!(gains.iter().any(|g| g.abs() > 1.0), "{gains:?}");
    // Mixing an f32 scalar with an i32 is located.
    let bad = src.replace("gain * x[i] + bias", "gain + 1");
    let e = parse_str(&bad, "gain.tk", &[]).unwrap_err().to_string();
    assert!(
        e.contains("gain.tk:7:") && e.contains("between f32 and i32"),
        "{e}"
    );
    // An f32 scalar's default is a float literal.
    let bad = src.replace("in f32 gain = 0.5", "in f32 gain = 1");
    let e = parse_str(&bad, "gain.tk", &[]).unwrap_err().to_string();
    assert!(
        e.contains("gain.tk:3:") && e.contains("expected a float literal"),
        "{e}"
    );
    // Other scalar types are still refused, naming both that are allowed.
    let bad = src.replace("in f32 bias = -0.25;", "in u8 bias = 1;");
    let e = parse_str(&bad, "gain.tk", &[]).unwrap_err().to_string();
    assert!(
        e.contains("gain.tk:4:") && e.contains("`i32` or `f32`"),
        "{e}"
    );
}
