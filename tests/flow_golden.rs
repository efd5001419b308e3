//! `tessera compare` and `tessera suite` print what they printed before their flows moved
//! into `tessera-flow`: the outputs in `tests/golden/` were written by the binary before the
//! move, and every byte must match except wall times (mapping and simulation times, which
//! vary run to run; they are masked on both sides). `UPDATE_GOLDEN=1 cargo test --test
//! flow_golden` rewrites the files after an intended change of the output.

mod common;
use common::*;
use serde_json::Value;
use std::path::PathBuf;

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// Compare `actual` with the golden file `name` after `mask`, or rewrite it.
fn check(name: &str, actual: &str, mask: impl Fn(&str) -> String) {
    let path = golden(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap();
    let (e, a) = (mask(&expected), mask(actual));
    if e != a {
        for (i, (el, al)) in e.lines().zip(a.lines()).enumerate() {
            if el != al {
                panic!(
                    "{name}: line {} differs:\nexpected: {el}\nactual:   {al}",
                    i + 1
                );
            }
        }
        panic!(
            "{name}: {} lines expected, {} printed",
            e.lines().count(),
            a.lines().count()
        );
    }
}

/// Blank the column that ends where `title` ends in a header line, over the lines after
/// the header up to the next blank line (`width` characters, right-aligned columns).
fn mask_column(text: &str, title: &str, width: usize) -> String {
    let mut out = Vec::new();
    let mut end = None;
    for line in text.lines() {
        let mut line = line.to_string();
        if line.trim().is_empty() {
            end = None;
        } else if let Some(e) = end {
            if line.len() >= e && line.is_char_boundary(e - width) && line.is_char_boundary(e) {
                line.replace_range(e - width..e, &"#".repeat(width));
            }
        } else if let Some(at) = line.find(title) {
            end = Some(at + title.len());
        }
        out.push(line);
    }
    out.join("\n")
}

/// Blank whatever stands between `from` and `to` on every line that has both.
fn mask_between(text: &str, from: &str, to: &str) -> String {
    text.lines()
        .map(|l| match l.find(from) {
            Some(a) => match l[a + from.len()..].find(to) {
                Some(b) => format!("{}#{}", &l[..a + from.len()], &l[a + from.len() + b..]),
                None => l.to_string(),
            },
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Null every wall-time field of a JSON report.
fn mask_json(text: &str) -> String {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    if k.ends_with("time_ms") || k == "map_time_ratio" {
                        *x = Value::Null;
                    } else {
                        walk(x);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    let mut v: Value = serde_json::from_str(text).unwrap();
    walk(&mut v);
    serde_json::to_string_pretty(&v).unwrap()
}

/// Blank the `map_time_ms` field (17th) of every CSV line but the header.
fn mask_csv(text: &str) -> String {
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                return l.to_string();
            }
            let mut f: Vec<String> = l.split(',').map(String::from).collect();
            if f.len() > 16 {
                f[16] = "#".into();
            }
            f.join(",")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

const KERNELS: &str = "tests/golden/suite-kernels";
const COMPARE: [&str; 9] = [
    "compare",
    KERNELS,
    "--arch",
    "mesh-4x4",
    "--arch",
    "compose-4x4",
    "--map-seed",
    "1",
    "--input-seed",
];

#[test]
fn compare_table_json_and_csv_are_unchanged() {
    let mut args = COMPARE.to_vec();
    args.push("1");
    let o = tessera(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    check("compare.txt", &stdout(&o), |t| {
        mask_column(&mask_column(t, "map_ms", 8), "map_time", 9)
    });
    args.push("--json");
    let o = tessera(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    check("compare.json", &stdout(&o), mask_json);
    args.pop();
    let csv = temp_file("golden", "compare.csv", "");
    let csv_arg = csv.display().to_string();
    args.extend(["--csv", &csv_arg]);
    let o = tessera(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    check(
        "compare.csv",
        &std::fs::read_to_string(&csv).unwrap(),
        mask_csv,
    );
}

#[test]
fn suite_table_and_json_are_unchanged() {
    let args = ["suite", KERNELS, "--arch", "hycube-4x4"];
    let o = tessera(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    check("suite.txt", &stdout(&o), |t| {
        mask_between(&mask_column(t, "time ms", 10), "time median ", " (")
    });
    let o = tessera(&[&args[..], &["--json"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    check("suite.json", &stdout(&o), mask_json);
}
