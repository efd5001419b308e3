//! Syntax and semantic errors of the kernel language: the right variant, file, line,
//! column and message; and a proptest that no mutated or truncated kernel text panics.

use proptest::prelude::*;
use tessera_ir::{IrError, lang};

const GOOD: &str = "\
kernel k(n = 16) {
    in i16 x[n] range -100..100;
    out i32 y[n];
    in i32 a = 3 range -4..4;
    var s = 0;
    for i in 0..n {
        let t = a * x[i];
        if t > 0 {
            s += t;
        } else {
            y[i] = t;
        }
    }
    return s;
}
";

/// Parse `text` and return (line, col, message) of the expected parse error.
fn parse_err(text: &str) -> (usize, usize, String) {
    match lang::parse_str(text, "t.tk", &[]) {
        Err(IrError::Parse { loc, message }) => {
            assert_eq!(loc.file, "t.tk");
            (loc.line, loc.col, message)
        }
        Ok(_) => panic!("expected a parse error, got a kernel for:\n{text}"),
        Err(e) => panic!("expected a parse error, got {e}"),
    }
}

fn assert_err(text: &str, line: usize, col: usize, needle: &str) {
    let (l, c, m) = parse_err(text);
    assert!(
        (l, c) == (line, col) && m.contains(needle),
        "expected {line}:{col} containing {needle:?}, got {l}:{c}: {m}"
    );
}

#[test]
fn good_kernel_parses() {
    let k = lang::parse_str(GOOD, "t.tk", &[]).unwrap();
    assert_eq!(k.trip_count, 16);
    assert_eq!(k.name, "k");
    assert_eq!(k.file.as_deref(), Some("t.tk"));
}

#[test]
fn missing_semicolon_after_assignment() {
    let text = GOOD.replace("s += t;", "s += t");
    assert_err(&text, 10, 9, "expected `;` after assignment, found `}`");
}

#[test]
fn missing_closing_brace_at_eof() {
    let text = GOOD.trim_end().trim_end_matches('}');
    let (l, _, m) = parse_err(text);
    assert_eq!(l, 15);
    assert!(m.contains("found end of file"), "{m}");
}

#[test]
fn unknown_variable_is_located() {
    let text = GOOD.replace("s += t;", "s += q;");
    assert_err(&text, 9, 18, "unknown name `q`");
}

#[test]
fn assigning_to_unknown_variable() {
    let text = GOOD.replace("s += t;", "z = t;");
    assert_err(&text, 9, 13, "unknown variable `z`");
}

#[test]
fn store_to_in_array_is_refused() {
    let text = GOOD.replace("y[i] = t;", "x[i] = t;");
    assert_err(&text, 11, 13, "cannot store to `x`: it is declared `in`");
}

#[test]
fn index_of_non_array() {
    let text = GOOD.replace("a * x[i]", "a * s[i]");
    assert_err(&text, 7, 21, "`s` is not an array");
}

#[test]
fn array_without_index() {
    let text = GOOD.replace("a * x[i]", "a * x");
    assert_err(&text, 7, 21, "`x` is an array");
}

#[test]
fn bad_element_type() {
    let text = GOOD.replace("in i16 x[n]", "in f64 x[n]");
    assert_err(
        &text,
        2,
        8,
        "expected an element type (i8, u8, i16, u16, i32 or f32)",
    );
}

#[test]
fn affine_index_out_of_range_is_a_compile_error() {
    let text = GOOD.replace("a * x[i]", "a * x[i + 1]");
    assert_err(&text, 7, 23, "index of `x` is 16");
}

#[test]
fn assigning_loop_variable_or_scalar() {
    assert_err(&GOOD.replace("s += t;", "i = t;"), 9, 13, "loop variable");
    assert_err(
        &GOOD.replace("s += t;", "a = t;"),
        9,
        13,
        "scalar input `a`",
    );
}

#[test]
fn return_of_non_var() {
    assert_err(
        &GOOD.replace("return s;", "return a;"),
        14,
        12,
        "not a loop-carried `var`",
    );
}

#[test]
fn unknown_function_and_arity() {
    assert_err(
        &GOOD.replace("a * x[i]", "foo(x[i])"),
        7,
        17,
        "unknown function `foo`",
    );
    assert_err(
        &GOOD.replace("a * x[i]", "min(x[i])"),
        7,
        17,
        "`min` takes 2 argument(s), found 1",
    );
}

#[test]
fn zero_step_and_bad_range() {
    assert_err(&GOOD.replace("0..n {", "0..n step 0 {"), 6, 24, "step is 0");
    assert_err(
        &GOOD.replace("range -100..100", "range 100..-100"),
        2,
        23,
        "expected LO <= HI",
    );
    assert_err(
        &GOOD.replace("range -100..100", "range 0..40000"),
        2,
        23,
        "within the i16 range",
    );
}

#[test]
fn a_loop_without_effect_is_refused() {
    assert_err(
        "kernel k() {\n  in i32 x[4];\n  for i in 0..4 { let t = x[i]; }\n}",
        3,
        7,
        "the loop has no effect",
    );
}

#[test]
fn parameter_overrides() {
    let k = lang::parse_str(GOOD, "t.tk", &[("n".into(), 40)]).unwrap();
    assert_eq!(k.trip_count, 40);
    assert_eq!(k.arrays[0].len, 40);
    let e = lang::parse_str(GOOD, "t.tk", &[("m".into(), 40)]).unwrap_err();
    assert!(e.to_string().contains("unknown parameter `m`"), "{e}");
    let e = lang::parse_str(GOOD, "t.tk", &[("n".into(), 0)]).unwrap_err();
    assert!(e.to_string().contains("has size 0"), "{e}");
}

#[test]
fn duplicate_names_and_chained_comparison() {
    assert_err(
        &GOOD.replace("var s = 0;", "var x = 0;"),
        5,
        9,
        "`x` is already declared",
    );
    assert_err(
        &GOOD.replace("t > 0", "0 < t < 5"),
        8,
        18,
        "comparisons do not chain",
    );
}

#[test]
fn lexer_errors() {
    assert_err(
        &GOOD.replace("let t", "let $t"),
        7,
        13,
        "unexpected character `$`",
    );
    assert_err(
        &GOOD.replace("0..n {", "0..99999999999 {"),
        6,
        17,
        "too large",
    );
    assert_err("/* open", 1, 1, "unterminated");
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
    let text = GOOD.replace("a * x[i]", &deep);
    let (_, _, m) = parse_err(&text);
    assert!(m.contains("nested too deeply"), "{m}");
    let negs = "-".repeat(10_000);
    let text = GOOD.replace("a * x[i]", &format!("{negs}1"));
    let (_, _, m) = parse_err(&text);
    assert!(m.contains("nested too deeply"), "{m}");
}

#[test]
fn long_chains_and_extreme_constants_are_errors_or_fine_never_crashes() {
    // A 250-term sum and 50 nested parentheses are fine.
    let sum = vec!["x[i]"; 250].join(" + ");
    let k = lang::parse_str(&GOOD.replace("a * x[i]", &sum), "t.tk", &[]).unwrap();
    assert!(k.validate().is_ok());
    let nested = format!("{}x[i]{}", "(".repeat(50), ")".repeat(50));
    assert!(lang::parse_str(&GOOD.replace("a * x[i]", &nested), "t.tk", &[]).is_ok());
    // A 5000-term chain is refused with a message instead of overflowing the stack.
    let long = vec!["1"; 5000].join(" + ");
    let (_, _, m) = parse_err(&GOOD.replace("a * x[i]", &long));
    assert!(m.contains("expression too long"), "{m}");
    // Huge constant expressions and bounds are located errors, not overflows.
    let (_, _, m) = parse_err(&GOOD.replace("0..n {", "0..0xFFFFFFFF * 0xFFFFFFFF * 0xFFFFFFFF {"));
    assert!(m.contains("overflow"), "{m}");
    let (_, _, m) = parse_err(&GOOD.replace(
        "0..n {",
        "-0xFFFFFFFF * 0x7FFFFFFF..0xFFFFFFFF * 0x7FFFFFFF {",
    ));
    assert!(m.contains("must fit i32"), "{m}");
    let (_, _, m) = parse_err(&GOOD.replace("0..n {", "0..n step -0xFFFFFFFF * 0x7FFFFFFF {"));
    assert!(m.contains("must fit i32"), "{m}");
    let e = lang::parse_str(GOOD, "t.tk", &[("n".into(), i64::MAX)]).unwrap_err();
    assert!(matches!(e, IrError::Parse { .. }), "{e}");
    let e = lang::parse_str(GOOD, "t.tk", &[("n".into(), 100_000_000)]).unwrap_err();
    assert!(e.to_string().contains("expected 1..="), "{e}");
}

/// Kernel texts to mutate: the sample above and every bundled kernel.
fn corpus() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../workloads/kernels");
    let mut v = vec![GOOD.to_string()];
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "tk"))
        .collect();
    paths.sort();
    v.extend(paths.iter().map(|p| std::fs::read_to_string(p).unwrap()));
    v
}

/// Pieces of syntax a mutation may insert.
const SNIPPETS: [&str; 24] = [
    "{",
    "}",
    ";",
    "(",
    ")",
    "[",
    "]",
    "..",
    "=",
    "+=",
    "?",
    ":",
    "if",
    "else",
    "for",
    "var",
    "let",
    "in",
    "0",
    "-2147483648",
    "0xFFFFFFFF",
    "x",
    "i",
    "return",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn mutated_kernels_never_panic(
        which in 0usize..64,
        cuts in proptest::collection::vec((0usize..4, 0usize..10_000, 0usize..SNIPPETS.len(), 0usize..12), 1..4),
    ) {
        let texts = corpus();
        let mut text: Vec<char> = texts[which % texts.len()].chars().collect();
        for (kind, at, snip, len) in cuts {
            let at = at % (text.len() + 1);
            match kind {
                // Truncate.
                0 => text.truncate(at),
                // Delete a few characters.
                1 => {
                    let end = (at + len).min(text.len());
                    text.drain(at..end);
                }
                // Insert a snippet of syntax.
                2 => {
                    let s: Vec<char> = format!(" {} ", SNIPPETS[snip]).chars().collect();
                    text.splice(at..at, s);
                }
                // Duplicate a span.
                _ => {
                    let end = (at + len * 4).min(text.len());
                    let span: Vec<char> = text[at..end].to_vec();
                    text.splice(at..at, span);
                }
            }
        }
        let text: String = text.into_iter().collect();
        match lang::parse_str(&text, "m.tk", &[]) {
            Ok(k) => {
                // Whatever parses must be a valid kernel the interpreter can start on.
                prop_assert!(k.validate().is_ok());
            }
            Err(IrError::Parse { loc, message }) => {
                prop_assert_eq!(loc.file, "m.tk");
                prop_assert!(loc.line >= 1 && loc.col >= 1, "{}", message);
                prop_assert!(!message.is_empty());
            }
            Err(e) => prop_assert!(false, "unexpected error kind: {e}"),
        }
    }
}
