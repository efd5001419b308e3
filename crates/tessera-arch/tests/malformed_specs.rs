//! Mutated and truncated spec texts never panic: they load, or fail with a located error.

use proptest::prelude::*;
use tessera_arch::cgra::CgraSpec;
use tessera_arch::spec_io::load_str;
use tessera_arch::{Spec, SpecErrorKind};

fn preset_text() -> &'static str {
    CgraSpec::presets()[0].1
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn truncated_specs_fail_cleanly(cut in 0usize..4000) {
        let text = preset_text();
        let cut = text.char_indices().map(|(i, _)| i).take_while(|i| *i <= cut).last().unwrap_or(0);
        let _ = load_str::<CgraSpec>(&text[..cut], "cut.ron");
    }

    #[test]
    fn mutated_specs_fail_cleanly(pos in 0usize..4000, byte in prop::sample::select(vec![b'(', b')', b'"', b',', b'9', b'-', b'x', b'{', b':'])) {
        let mut bytes = preset_text().as_bytes().to_vec();
        let pos = pos % bytes.len();
        bytes[pos] = byte;
        if let Ok(text) = String::from_utf8(bytes)
            && let Err(e) = load_str::<CgraSpec>(&text, "mut.ron")
        {
            prop_assert_eq!(e.file.as_str(), "mut.ron");
            // Syntax and type errors carry a position.
            if matches!(e.kind, SpecErrorKind::Parse(_)) {
                prop_assert!(e.position.is_some(), "{}", e);
            }
        }
    }
}

#[test]
fn a_type_error_names_line_and_column() {
    let text = preset_text().replacen("max_ii: 32", "max_ii: -3", 1);
    let err = load_str::<CgraSpec>(&text, "neg.ron").unwrap_err();
    let line = text.lines().position(|l| l.contains("max_ii: -3")).unwrap() + 1;
    assert_eq!(err.position.map(|p| p.0), Some(line), "{err}");
    assert!(
        err.to_string().starts_with(&format!("neg.ron:{line}:")),
        "{err}"
    );
}
