//! Differential test of the whole front end: random loop bodies (nested `if`/`else`,
//! loop-carried variables, compound stores, every operator and a few builtins, 1-D and
//! 2-D loads) are rendered as `.tk` text, lowered, and run on the reference interpreter;
//! the result must equal a direct, statement-by-statement evaluation of the same program
//! written here. This checks constant folding, CSE, immediates, `Select` merging and
//! predicated stores against plain sequential semantics.

use proptest::prelude::*;
use tessera_ir::{interp, lang};

const BINOPS: [&str; 19] = [
    "+", "-", "*", "/", "%", "<<", ">>", ">>>", "&", "|", "^", "==", "!=", "<", "<=", ">", ">=",
    "&&", "||",
];

#[derive(Debug, Clone)]
enum E {
    Num(u32),
    I,
    S,
    T,
    K,
    N,
    Bin(usize, Box<E>, Box<E>),
    Un(usize, Box<E>),
    Cond(Box<E>, Box<E>, Box<E>),
    Call(usize, Box<E>, Box<E>),
    /// `x[(e) & 15]` (false) or `y[(e) & 15]` (true).
    Ld(bool, Box<E>),
    /// `m[(e) & 3][i & 3]`.
    M(Box<E>),
}

#[derive(Debug, Clone)]
enum St {
    SetS(E),
    SetT(E),
    Store(E, E),
    StoreAdd(E, E),
    XorS(E),
    If(E, Vec<St>, Vec<St>),
}

fn expr(depth: u32) -> BoxedStrategy<E> {
    let leaf = prop_oneof![
        (0u32..70).prop_map(E::Num),
        Just(E::Num(0xFFFF_FFFF)),
        Just(E::Num(0x8000_0000)),
        Just(E::I),
        Just(E::S),
        Just(E::T),
        Just(E::K),
        Just(E::N),
    ];
    if depth == 0 {
        return leaf.boxed();
    }
    let sub = expr(depth - 1);
    prop_oneof![
        2 => leaf,
        3 => (0usize..BINOPS.len(), sub.clone(), sub.clone()).prop_map(|(o, a, b)| E::Bin(o, Box::new(a), Box::new(b))),
        1 => (0usize..3, sub.clone()).prop_map(|(o, a)| E::Un(o, Box::new(a))),
        1 => (sub.clone(), sub.clone(), sub.clone()).prop_map(|(c, a, b)| E::Cond(Box::new(c), Box::new(a), Box::new(b))),
        1 => (0usize..6, sub.clone(), sub.clone()).prop_map(|(f, a, b)| E::Call(f, Box::new(a), Box::new(b))),
        1 => (any::<bool>(), sub.clone()).prop_map(|(y, e)| E::Ld(y, Box::new(e))),
        1 => sub.prop_map(|e| E::M(Box::new(e))),
    ]
    .boxed()
}

fn stmt(depth: u32) -> BoxedStrategy<St> {
    let simple = prop_oneof![
        expr(2).prop_map(St::SetS),
        expr(2).prop_map(St::SetT),
        (expr(1), expr(2)).prop_map(|(i, e)| St::Store(i, e)),
        (expr(1), expr(1)).prop_map(|(i, e)| St::StoreAdd(i, e)),
        expr(2).prop_map(St::XorS),
    ];
    if depth == 0 {
        return simple.boxed();
    }
    let inner = proptest::collection::vec(stmt(depth - 1), 0..3);
    prop_oneof![
        3 => simple,
        1 => (expr(2), inner.clone(), inner).prop_map(|(c, a, b)| St::If(c, a, b)),
    ]
    .boxed()
}

fn render(e: &E) -> String {
    match e {
        E::Num(v) => v.to_string(),
        E::I => "i".into(),
        E::S => "s".into(),
        E::T => "t".into(),
        E::K => "k".into(),
        E::N => "n".into(),
        E::Bin(o, a, b) => format!("({} {} {})", render(a), BINOPS[*o], render(b)),
        E::Un(o, a) => format!("{}({})", ["-", "~", "!"][*o], render(a)),
        E::Cond(c, a, b) => format!("({} ? {} : {})", render(c), render(a), render(b)),
        E::Call(f, a, b) => {
            let (a, b) = (render(a), render(b));
            match f {
                0 => format!("min({a}, {b})"),
                1 => format!("max({a}, {b})"),
                2 => format!("abs({a})"),
                3 => format!("sext8({a})"),
                4 => format!("ltu({a}, {b})"),
                _ => format!("divu({a}, {b})"),
            }
        }
        E::Ld(y, i) => format!("{}[({}) & 15]", if *y { "y" } else { "x" }, render(i)),
        E::M(r) => format!("m[({}) & 3][i & 3]", render(r)),
    }
}

fn render_stmt(s: &St) -> String {
    match s {
        St::SetS(e) => format!("s = {};", render(e)),
        St::SetT(e) => format!("t = {};", render(e)),
        St::Store(i, e) => format!("y[({}) & 15] = {};", render(i), render(e)),
        St::StoreAdd(i, e) => format!("y[({}) & 15] += {};", render(i), render(e)),
        St::XorS(e) => format!("s ^= {};", render(e)),
        St::If(c, a, b) => format!(
            "if {} {{ {} }} else {{ {} }}",
            render(c),
            a.iter().map(render_stmt).collect::<Vec<_>>().join(" "),
            b.iter().map(render_stmt).collect::<Vec<_>>().join(" ")
        ),
    }
}

struct State {
    i: i32,
    s: i32,
    t: i32,
    k: i32,
    x: Vec<i32>,
    y: Vec<i32>,
    m: Vec<i32>,
}

fn eval(e: &E, st: &State) -> i32 {
    match e {
        E::Num(v) => *v as i32,
        E::I => st.i,
        E::S => st.s,
        E::T => st.t,
        E::K => st.k,
        E::N => 16,
        E::Bin(o, a, b) => {
            let (a, b) = (eval(a, st), eval(b, st));
            let sh = (b & 31) as u32;
            match BINOPS[*o] {
                "+" => a.wrapping_add(b),
                "-" => a.wrapping_sub(b),
                "*" => a.wrapping_mul(b),
                "/" => {
                    if b == 0 {
                        -1
                    } else {
                        a.wrapping_div(b)
                    }
                }
                "%" => {
                    if b == 0 {
                        a
                    } else {
                        a.wrapping_rem(b)
                    }
                }
                "<<" => a.wrapping_shl(sh),
                ">>" => a >> sh,
                ">>>" => ((a as u32) >> sh) as i32,
                "&" => a & b,
                "|" => a | b,
                "^" => a ^ b,
                "==" => (a == b) as i32,
                "!=" => (a != b) as i32,
                "<" => (a < b) as i32,
                "<=" => (a <= b) as i32,
                ">" => (a > b) as i32,
                ">=" => (a >= b) as i32,
                "&&" => (a != 0 && b != 0) as i32,
                _ => (a != 0 || b != 0) as i32,
            }
        }
        E::Un(o, a) => {
            let a = eval(a, st);
            match o {
                0 => a.wrapping_neg(),
                1 => !a,
                _ => (a == 0) as i32,
            }
        }
        E::Cond(c, a, b) => {
            if eval(c, st) != 0 {
                eval(a, st)
            } else {
                eval(b, st)
            }
        }
        E::Call(f, a, b) => {
            let (a, b) = (eval(a, st), eval(b, st));
            match f {
                0 => a.min(b),
                1 => a.max(b),
                2 => a.wrapping_abs(),
                3 => a as i8 as i32,
                4 => ((a as u32) < (b as u32)) as i32,
                _ => (a as u32).checked_div(b as u32).map_or(-1, |q| q as i32),
            }
        }
        E::Ld(y, i) => {
            let idx = (eval(i, st) & 15) as usize;
            if *y { st.y[idx] } else { st.x[idx] }
        }
        E::M(r) => st.m[((eval(r, st) & 3) * 4 + (st.i & 3)) as usize],
    }
}

fn exec(s: &St, st: &mut State) {
    match s {
        St::SetS(e) => st.s = eval(e, st),
        St::SetT(e) => st.t = eval(e, st),
        St::Store(i, e) => {
            let idx = (eval(i, st) & 15) as usize;
            st.y[idx] = eval(e, st);
        }
        St::StoreAdd(i, e) => {
            let idx = (eval(i, st) & 15) as usize;
            st.y[idx] = st.y[idx].wrapping_add(eval(e, st));
        }
        St::XorS(e) => st.s ^= eval(e, st),
        St::If(c, a, b) => {
            for s in if eval(c, st) != 0 { a } else { b } {
                exec(s, st);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn lowering_matches_sequential_semantics(
        body in proptest::collection::vec(stmt(2), 1..6),
        lo in -3i32..4,
        step in prop_oneof![Just(1i32), Just(2), Just(-1), Just(3)],
    ) {
        let (a, b) = if step < 0 { (lo + 12, lo) } else { (lo, lo + 12) };
        let text = format!(
            "kernel f(n = 16) {{\n  in i32 x[16];\n  inout i32 y[16];\n  in i16 m[4][4];\n  \
             in i32 k = 3 range -5..5;\n  var s = 1;\n  var t = 0;\n  for i in {a}..{b} step {step} {{\n    {}\n  }}\n  \
             return s, t;\n}}\n",
            body.iter().map(render_stmt).collect::<Vec<_>>().join("\n    ")
        );
        let kernel = lang::parse_str(&text, "f.tk", &[]).unwrap_or_else(|e| panic!("{e}\n{text}"));
        for seed in [1u64, 2] {
            let inp = interp::random_inputs(&kernel, seed);
            let got = interp::run(&kernel, &inp).unwrap_or_else(|e| panic!("{e}\n{text}"));
            let mut st = State {
                i: 0,
                s: 1,
                t: 0,
                k: inp.scalars[0],
                x: inp.arrays[0].clone(),
                y: inp.arrays[1].clone(),
                m: inp.arrays[2].clone(),
            };
            let mut i = a;
            while (step > 0 && i < b) || (step < 0 && i > b) {
                st.i = i;
                for s in &body {
                    exec(s, &mut st);
                }
                i += step;
            }
            prop_assert_eq!(&got.arrays[0].values, &st.y, "y differs\n{}", text);
            prop_assert_eq!(
                got.live_outs.clone(),
                vec![("s".to_string(), st.s), ("t".to_string(), st.t)],
                "live-outs differ\n{}",
                text
            );
        }
    }
}
