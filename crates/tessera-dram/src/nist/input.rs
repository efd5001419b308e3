//! Reading bit files: ASCII `0`/`1` text or raw binary, chosen explicitly or, when the file
//! leaves no doubt, automatically (and then the choice is reported with its reason).

use serde::{Deserialize, Serialize};

/// How to read a bit file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BitFormat {
    /// ASCII `0` and `1`; whitespace (spaces, tabs, newlines) is ignored, anything else is an
    /// error naming its line and column.
    Ascii,
    /// Every byte holds 8 bits, most significant first (NIST STS's "binary" input).
    Binary,
    /// ASCII when every byte is `0`, `1` or whitespace, binary when the bytes do not look
    /// like text; a file that is mostly `0`/`1` text with other characters is refused.
    Auto,
}

/// Format actually used, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormatChoice {
    /// `ascii` or `binary`.
    pub format: BitFormat,
    /// True when `--format auto` chose it.
    pub automatic: bool,
    /// The reason, e.g. "every byte is '0', '1' or whitespace".
    pub reason: String,
}

/// A bit file that cannot be read as asked.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InputError {
    #[error(
        "{source_name}:{line}:{column}: found {found} where ASCII '0', '1' or whitespace was \
         expected (ASCII bit file){hint}"
    )]
    StrayCharacter {
        source_name: String,
        line: usize,
        column: usize,
        /// The character (quoted) or byte (hex) found.
        found: String,
        hint: String,
    },
    #[error("{source_name}: no bits (the file is empty or holds only whitespace)")]
    Empty { source_name: String },
}

fn is_bit_char(b: u8) -> bool {
    b == b'0' || b == b'1'
}

/// Share of `0`/`1`/whitespace bytes above which a file is taken for text under `auto`. Raw
/// binary from a random source has about 8 / 256 = 3 % such bytes, a 0/1 text file 100 %.
const TEXT_SHARE: f64 = 0.9;

/// The first byte that is neither `0`, `1` nor ASCII whitespace, with its 1-based line and
/// column (columns count characters of UTF-8 text, or bytes where the text is not UTF-8).
fn first_stray(data: &[u8]) -> Option<(usize, usize, String)> {
    let pos = data
        .iter()
        .position(|&b| !is_bit_char(b) && !b.is_ascii_whitespace())?;
    let line_start = data[..pos]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let line = 1 + data[..pos].iter().filter(|&&b| b == b'\n').count();
    // Count characters: every byte that is not a UTF-8 continuation byte starts one.
    let column = 1 + data[line_start..pos]
        .iter()
        .filter(|&&b| (b & 0xC0) != 0x80)
        .count();
    let found = {
        let tail = &data[pos..data.len().min(pos + 4)];
        let valid = match std::str::from_utf8(tail) {
            Ok(s) => s,
            Err(e) => std::str::from_utf8(&tail[..e.valid_up_to()]).unwrap_or(""),
        };
        match valid.chars().next() {
            Some(c) if !c.is_control() => format!("{c:?}"),
            _ => format!("byte 0x{:02X}", data[pos]),
        }
    };
    Some((line, column, found))
}

fn ascii_bits(data: &[u8]) -> Vec<u8> {
    data.iter()
        .filter(|&&b| is_bit_char(b))
        .map(|&b| b - b'0')
        .collect()
}

fn binary_bits(data: &[u8]) -> Vec<u8> {
    data.iter()
        .flat_map(|&byte| (0..8).rev().map(move |i| (byte >> i) & 1))
        .collect()
}

/// Read the bits of a file's contents; `source_name` (the file name) goes into errors.
pub fn read_bits(
    data: &[u8],
    format: BitFormat,
    source_name: &str,
) -> Result<(Vec<u8>, FormatChoice), InputError> {
    let empty = || InputError::Empty {
        source_name: source_name.to_string(),
    };
    let stray = |hint: &str| {
        first_stray(data).map(|(line, column, found)| InputError::StrayCharacter {
            source_name: source_name.to_string(),
            line,
            column,
            found,
            hint: hint.to_string(),
        })
    };
    let (bits, choice) = match format {
        BitFormat::Ascii => {
            if let Some(e) = stray("") {
                return Err(e);
            }
            (
                ascii_bits(data),
                FormatChoice {
                    format: BitFormat::Ascii,
                    automatic: false,
                    reason: "--format ascii".into(),
                },
            )
        }
        BitFormat::Binary => (
            binary_bits(data),
            FormatChoice {
                format: BitFormat::Binary,
                automatic: false,
                reason: "--format binary".into(),
            },
        ),
        BitFormat::Auto => {
            let texty = data
                .iter()
                .filter(|&&b| is_bit_char(b) || b.is_ascii_whitespace())
                .count();
            let has_bits = data.iter().any(|&b| is_bit_char(b));
            if data.is_empty() || (texty == data.len() && !has_bits) {
                return Err(empty());
            } else if texty == data.len() {
                (
                    ascii_bits(data),
                    FormatChoice {
                        format: BitFormat::Ascii,
                        automatic: true,
                        reason: "every byte is '0', '1' or whitespace".into(),
                    },
                )
            } else if has_bits && texty as f64 >= TEXT_SHARE * data.len() as f64 {
                let share = 100.0 * texty as f64 / data.len() as f64;
                return Err(stray(&format!(
                    "; {share:.1} % of the file is '0', '1' or whitespace, so it looks like an \
                     ASCII bit file with stray characters: fix it, or pass --format binary to \
                     test its bytes"
                ))
                .expect("a file that is not all bit characters has a stray byte"));
            } else {
                let share = 100.0 * texty as f64 / data.len() as f64;
                (
                    binary_bits(data),
                    FormatChoice {
                        format: BitFormat::Binary,
                        automatic: true,
                        reason: format!(
                            "only {share:.1} % of the bytes are '0', '1' or whitespace, so not \
                             a 0/1 text file"
                        ),
                    },
                )
            }
        }
    };
    if bits.is_empty() {
        return Err(empty());
    }
    Ok((bits, choice))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_ignores_whitespace_and_binary_is_msb_first() {
        let (b, c) = read_bits(b"01 1\n0\r\n", BitFormat::Ascii, "f").unwrap();
        assert_eq!(b, vec![0, 1, 1, 0]);
        assert!(!c.automatic);
        let (b, _) = read_bits(&[0b1010_0001], BitFormat::Binary, "f").unwrap();
        assert_eq!(b, vec![1, 0, 1, 0, 0, 0, 0, 1]);
    }

    #[test]
    fn ascii_with_a_stray_character_names_line_and_column() {
        let e = read_bits(b"0101\n01x1\n", BitFormat::Ascii, "bits.txt").unwrap_err();
        assert!(
            matches!(&e, InputError::StrayCharacter { line: 2, column: 3, found, .. } if found == "'x'"),
            "{e:?}"
        );
        assert!(e.to_string().starts_with("bits.txt:2:3: found 'x'"), "{e}");
        // Columns count characters, not bytes; control bytes are shown in hex.
        let e = read_bits("0é1\n".as_bytes(), BitFormat::Ascii, "f").unwrap_err();
        assert!(e.to_string().starts_with("f:1:2: found 'é'"), "{e}");
        let e = read_bits(b"01\x00", BitFormat::Ascii, "f").unwrap_err();
        assert!(e.to_string().contains("byte 0x00"), "{e}");
    }

    #[test]
    fn auto_says_what_it_chose_and_refuses_ambiguous_files() {
        let (b, c) = read_bits(b"0110\n", BitFormat::Auto, "f").unwrap();
        assert_eq!(
            (b.len(), c.format, c.automatic),
            (4, BitFormat::Ascii, true)
        );
        let bytes: Vec<u8> = (0..=255).collect();
        let (b, c) = read_bits(&bytes, BitFormat::Auto, "f").unwrap();
        assert_eq!((b.len(), c.format), (2048, BitFormat::Binary));
        assert!(c.reason.contains("not a 0/1 text file"), "{}", c.reason);
        // One stray character in a 0/1 text file: refused, not silently read as bytes.
        let mut text = "01".repeat(500);
        text.insert(777, 'x');
        let e = read_bits(text.as_bytes(), BitFormat::Auto, "g.txt").unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with("g.txt:1:778: found 'x'") && msg.contains("--format binary"),
            "{msg}"
        );
        // ... but the user may ask for its bytes.
        let (b, _) = read_bits(text.as_bytes(), BitFormat::Binary, "g.txt").unwrap();
        assert_eq!(b.len(), 8 * 1001);
        assert!(matches!(
            read_bits(b"", BitFormat::Auto, "f"),
            Err(InputError::Empty { .. })
        ));
        for format in [BitFormat::Ascii, BitFormat::Auto] {
            assert!(matches!(
                read_bits(b" \n", format, "f"),
                Err(InputError::Empty { .. })
            ));
        }
    }
}
