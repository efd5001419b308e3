//! Importer for SCALE-Sim topology CSV files (scale-sim-v2 `topologies/`), in both forms:
//!
//! * convolution form: `Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width,
//!   Channels, Num Filter, Stride Height[, Stride Width],` — the IFMAP size is taken as
//!   given (SCALE-Sim topologies fold any padding into it), so padding is 0. A layer whose
//!   name contains `DP` is depthwise, as in SCALE-Sim: `Channels` groups of `Num Filter`
//!   filters each.
//! * GEMM form (SCALE-Sim's `-i gemm`): `Layer name, M, N, K,`.
//!
//! The first non-empty line is a header (as SCALE-Sim assumes); the form is taken from it
//! (`M, N, K` means GEMM) or from the number of fields. Trailing commas and `#` comments are
//! ignored. Errors name the file and the 1-based line.

use crate::error::AccelError;
use crate::layer::{Layer, NETWORK_FORMAT_VERSION, Network, Op};
use std::collections::HashSet;

/// Which SCALE-Sim topology form a file is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvForm {
    /// Decide from the header (or field count).
    Auto,
    Conv,
    Gemm,
}

const CONV_FIELDS: [&str; 8] = [
    "IFMAP Height",
    "IFMAP Width",
    "Filter Height",
    "Filter Width",
    "Channels",
    "Num Filter",
    "Stride Height",
    "Stride Width",
];
const GEMM_FIELDS: [&str; 3] = ["M", "N", "K"];

fn fields(line: &str) -> Vec<&str> {
    let body = line.split('#').next().unwrap_or("");
    let mut f: Vec<&str> = body.split(',').map(str::trim).collect();
    while f.last().is_some_and(|s| s.is_empty()) {
        f.pop();
    }
    f
}

/// Parse SCALE-Sim topology text into a network named `name`; `file` names it in errors.
pub fn parse_topology(
    text: &str,
    file: &str,
    name: &str,
    form: CsvForm,
) -> Result<Network, AccelError> {
    let err = |line: usize, msg: String| AccelError::Csv {
        file: file.to_string(),
        line,
        msg,
    };
    let mut form = form;
    let mut header_seen = false;
    let mut layers = Vec::new();
    let mut names = HashSet::new();
    for (idx, raw) in text.lines().enumerate() {
        let line_no = idx + 1;
        let f = fields(raw);
        if f.is_empty() || f.iter().all(|s| s.is_empty()) {
            continue;
        }
        if !header_seen {
            header_seen = true;
            let is_header = f.len() < 2 || f[1].parse::<u64>().is_err();
            if is_header {
                if form == CsvForm::Auto {
                    let upper: Vec<String> = f.iter().skip(1).map(|s| s.to_uppercase()).collect();
                    if upper.len() >= 3 && upper[..3] == ["M", "N", "K"] {
                        form = CsvForm::Gemm;
                    } else if upper.len() >= 7 {
                        form = CsvForm::Conv;
                    }
                }
                continue;
            }
        }
        if form == CsvForm::Auto {
            form = if f.len() == 4 {
                CsvForm::Gemm
            } else {
                CsvForm::Conv
            };
        }
        let (expected, labels): (&[usize], &[&str]) = match form {
            CsvForm::Gemm => (&[4], &GEMM_FIELDS),
            _ => (&[8, 9], &CONV_FIELDS),
        };
        if !expected.contains(&f.len()) {
            let want = match form {
                CsvForm::Gemm => "4 fields (Layer name, M, N, K)".to_string(),
                _ => "8 or 9 fields (Layer name, IFMAP Height, IFMAP Width, Filter Height, \
                      Filter Width, Channels, Num Filter, Stride Height[, Stride Width])"
                    .to_string(),
            };
            return Err(err(
                line_no,
                format!("found {} fields, expected {want}", f.len()),
            ));
        }
        let mut v = [0u32; 8];
        for (i, s) in f[1..].iter().enumerate() {
            v[i] = s.parse::<u32>().ok().filter(|x| *x > 0).ok_or_else(|| {
                err(
                    line_no,
                    format!(
                        "field {} ({}) is `{s}`; expected a positive integer",
                        i + 2,
                        labels[i]
                    ),
                )
            })?;
        }
        let mut lname = if f[0].is_empty() {
            format!("layer{line_no}")
        } else {
            f[0].to_string()
        };
        if !names.insert(lname.clone()) {
            lname = format!("{lname}@line{line_no}");
            names.insert(lname.clone());
        }
        let op = match form {
            CsvForm::Gemm => Op::Gemm {
                m: v[0],
                n: v[1],
                k: v[2],
            },
            _ => {
                let [ih, iw, fh, fw, ch, nf, sh, sw] = v;
                let sw = if f.len() == 9 { sw } else { sh };
                if fh > ih || fw > iw {
                    return Err(err(
                        line_no,
                        format!("filter {fh}x{fw} is larger than the IFMAP {ih}x{iw}"),
                    ));
                }
                let depthwise = lname.contains("DP");
                let (out_c, groups) = if depthwise {
                    (
                        ch.checked_mul(nf).ok_or_else(|| {
                            err(line_no, "Channels x Num Filter overflows".into())
                        })?,
                        ch,
                    )
                } else {
                    (nf, 1)
                };
                Op::Conv {
                    in_h: ih,
                    in_w: iw,
                    in_c: ch,
                    out_c,
                    kernel_h: fh,
                    kernel_w: fw,
                    stride_h: sh,
                    stride_w: sw,
                    pad_h: 0,
                    pad_w: 0,
                    groups,
                }
            }
        };
        layers.push(Layer {
            name: lname,
            op,
            precision: None,
        });
    }
    if layers.is_empty() {
        return Err(err(
            text.lines().count().max(1),
            "no layers found (the first line is read as the header)".into(),
        ));
    }
    let net = Network {
        format_version: NETWORK_FORMAT_VERSION,
        name: name.to_string(),
        source: format!("SCALE-Sim topology {file}"),
        batch: 1,
        layers,
    };
    net.check(file)?;
    Ok(net)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conv_form_with_trailing_commas_comments_and_depthwise() {
        let text = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n\
                    \n\
                    Conv1, 224, 224, 3, 3, 3, 32, 2,\n\
                    Conv2_DP, 112, 112, 3, 3, 32, 1, 1,#dw\n\
                    Conv3,112,112,1,1,32,64,1,1\n";
        let net = parse_topology(text, "m.csv", "m", CsvForm::Auto).unwrap();
        assert_eq!(net.layers.len(), 3);
        let g = net.layers[0].op.lower(1).unwrap();
        // SCALE-Sim: ofmap = ceil((224 - 3 + 2) / 2) = 111.
        assert_eq!(g.m, 111 * 111);
        assert_eq!((g.n, g.k), (32, 27));
        let dp = net.layers[1].op.lower(1).unwrap();
        assert_eq!((dp.groups, dp.n, dp.k, dp.m), (32, 1, 9, 110 * 110));
    }

    #[test]
    fn gemm_form() {
        let text = "Layer Name, M, N, K,\nTest 1, 256, 128, 64,\n";
        let net = parse_topology(text, "g.csv", "g", CsvForm::Auto).unwrap();
        assert_eq!(
            net.layers[0].op,
            Op::Gemm {
                m: 256,
                n: 128,
                k: 64
            }
        );
    }

    #[test]
    fn errors_name_file_and_line() {
        let text = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\nC1, 8, 8, 3, 3, 3, 4, 1,\nC2, 8, x, 3, 3, 3, 4, 1,\n";
        let e = parse_topology(text, "t.csv", "t", CsvForm::Auto)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("t.csv:3:"), "{e}");
        assert!(e.contains("IFMAP Width"), "{e}");
        let short = "h\nC1, 8, 8, 3,\n";
        let e = parse_topology(short, "s.csv", "s", CsvForm::Conv)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("s.csv:2:") && e.contains("found 4 fields"),
            "{e}"
        );
        let big = "h,a,b,c,d,e,f,g\nC1, 2, 2, 3, 3, 1, 1, 1,\n";
        let e = parse_topology(big, "b.csv", "b", CsvForm::Auto)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("b.csv:2:") && e.contains("larger than the IFMAP"),
            "{e}"
        );
        assert!(parse_topology("header only\n", "e.csv", "e", CsvForm::Auto).is_err());
    }
}
