//! Lexer of the `.tk` kernel language: turns text into tokens with 1-based line/column.

use crate::{IrError, SourceLoc};

/// A position in the source (1-based line and column, counted in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    Ident(String),
    Int(i64),
    /// A float literal (`1.5`, `2.0e-3`) as IEEE binary32 bits, rounded to nearest even
    /// from the decimal text.
    Float(u32),
    /// Punctuation or operator, e.g. `;`, `..`, `>>>=`.
    Punct(&'static str),
    Eof,
}

impl Tok {
    /// How the token is named in "found ..." messages.
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Int(v) => format!("number `{v}`"),
            Tok::Float(b) => format!("number `{:?}`", f32::from_bits(*b)),
            Tok::Punct(p) => format!("`{p}`"),
            Tok::Eof => "end of file".to_string(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Token {
    pub tok: Tok,
    pub pos: Pos,
}

/// Operators and punctuation, longest first so that maximal munch works.
const PUNCTS: [&str; 44] = [
    ">>>=", ">>>", "<<=", ">>=", "..", "==", "!=", "<=", ">=", "&&", "||", "<<", ">>", "+=", "-=",
    "*=", "/=", "%=", "&=", "|=", "^=", "+", "-", "*", "/", "%", "&", "|", "^", "~", "!", "<", ">",
    "=", "?", ":", ";", ",", "(", ")", "[", "]", "{", "}",
];

fn punct(s: &str) -> Option<&'static str> {
    PUNCTS.iter().copied().find(|p| s.starts_with(p))
}

/// Split `text` into tokens; the last token is always [`Tok::Eof`].
pub fn lex(text: &str, file: &str) -> Result<Vec<Token>, IrError> {
    let mut out = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut k = 0;
    let (mut line, mut col) = (1usize, 1usize);
    let err =
        |line: usize, col: usize, msg: String| IrError::parse(SourceLoc::new(file, line, col), msg);
    // Advance over `n` chars, tracking line and column.
    macro_rules! bump {
        ($n:expr) => {
            for _ in 0..$n {
                if let Some((_, c)) = chars.get(k) {
                    if *c == '\n' {
                        line += 1;
                        col = 1;
                    } else {
                        col += 1;
                    }
                }
                k += 1;
            }
        };
    }
    while k < chars.len() {
        let (at, c) = chars[k];
        let rest = &text[at..];
        if c.is_whitespace() {
            bump!(1);
            continue;
        }
        if rest.starts_with("//") {
            while k < chars.len() && chars[k].1 != '\n' {
                bump!(1);
            }
            continue;
        }
        if rest.starts_with("/*") {
            let (l0, c0) = (line, col);
            bump!(2);
            loop {
                if k >= chars.len() {
                    return Err(err(
                        l0,
                        c0,
                        "unterminated `/*` comment: expected `*/`".into(),
                    ));
                }
                if text[chars[k].0..].starts_with("*/") {
                    bump!(2);
                    break;
                }
                bump!(1);
            }
            continue;
        }
        let pos = Pos { line, col };
        if c.is_ascii_alphabetic() || c == '_' {
            let mut s = String::new();
            while k < chars.len() && (chars[k].1.is_ascii_alphanumeric() || chars[k].1 == '_') {
                s.push(chars[k].1);
                bump!(1);
            }
            out.push(Token {
                tok: Tok::Ident(s),
                pos,
            });
            continue;
        }
        if c.is_ascii_digit() {
            let mut s = String::new();
            while k < chars.len() && (chars[k].1.is_ascii_alphanumeric() || chars[k].1 == '_') {
                s.push(chars[k].1);
                bump!(1);
            }
            // A float literal: digits `.` digits, then an optional exponent (`e`, sign,
            // digits). `0..n` stays an integer and a range.
            if k + 1 < chars.len()
                && chars[k].1 == '.'
                && chars[k + 1].1.is_ascii_digit()
                && s.chars().all(|c| c.is_ascii_digit() || c == '_')
            {
                s.push('.');
                bump!(1);
                while k < chars.len() && (chars[k].1.is_ascii_alphanumeric() || chars[k].1 == '_') {
                    s.push(chars[k].1);
                    bump!(1);
                    if (s.ends_with('e') || s.ends_with('E'))
                        && k < chars.len()
                        && matches!(chars[k].1, '+' | '-')
                    {
                        s.push(chars[k].1);
                        bump!(1);
                    }
                }
                let digits: String = s.chars().filter(|c| *c != '_').collect();
                match digits.parse::<f32>() {
                    Ok(x) if x.is_finite() => out.push(Token {
                        tok: Tok::Float(x.to_bits()),
                        pos,
                    }),
                    Ok(_) => {
                        return Err(err(
                            pos.line,
                            pos.col,
                            format!("float literal `{s}` is too large for f32 (max about 3.4e38)"),
                        ));
                    }
                    Err(_) => {
                        return Err(err(
                            pos.line,
                            pos.col,
                            format!(
                                "malformed float literal `{s}`: expected digits `.` digits with an optional exponent, e.g. `1.5` or `2.0e-3`"
                            ),
                        ));
                    }
                }
                continue;
            }
            let digits: String = s.chars().filter(|c| *c != '_').collect();
            let lower = digits.to_ascii_lowercase();
            let parsed = if let Some(h) = lower.strip_prefix("0x") {
                u64::from_str_radix(h, 16)
            } else if let Some(b) = lower.strip_prefix("0b") {
                u64::from_str_radix(b, 2)
            } else {
                lower.parse::<u64>()
            };
            match parsed {
                Ok(v) if v <= u32::MAX as u64 => out.push(Token {
                    tok: Tok::Int(v as i64),
                    pos,
                }),
                Ok(_) => {
                    return Err(err(
                        pos.line,
                        pos.col,
                        format!("number `{s}` is too large (values are 32-bit)"),
                    ));
                }
                Err(e) if *e.kind() == std::num::IntErrorKind::PosOverflow => {
                    return Err(err(
                        pos.line,
                        pos.col,
                        format!("number `{s}` is too large (values are 32-bit)"),
                    ));
                }
                Err(_) => {
                    return Err(err(
                        pos.line,
                        pos.col,
                        format!(
                            "malformed number `{s}`: expected decimal digits, `0x` hex or `0b` binary"
                        ),
                    ));
                }
            }
            continue;
        }
        match punct(rest) {
            Some(p) => {
                out.push(Token {
                    tok: Tok::Punct(p),
                    pos,
                });
                bump!(p.chars().count());
            }
            None => {
                return Err(err(
                    pos.line,
                    pos.col,
                    format!("unexpected character `{c}`"),
                ));
            }
        }
    }
    out.push(Token {
        tok: Tok::Eof,
        pos: Pos { line, col },
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_positions() {
        let t = lex("a >>>= 0x1F; // c\n  b[i+1]", "f").unwrap();
        assert_eq!(t[0].tok, Tok::Ident("a".into()));
        assert_eq!(t[1].tok, Tok::Punct(">>>="));
        assert_eq!(t[2].tok, Tok::Int(31));
        assert_eq!(t[4].pos, Pos { line: 2, col: 3 });
        assert_eq!(t.last().unwrap().tok, Tok::Eof);
    }

    #[test]
    fn numbers() {
        let t = lex("0b1010 1_000 0xFFFF_FFFF", "f").unwrap();
        assert_eq!(t[0].tok, Tok::Int(10));
        assert_eq!(t[1].tok, Tok::Int(1000));
        assert_eq!(t[2].tok, Tok::Int(0xFFFF_FFFF));
        let e = lex("x = 99999999999999999999999;", "f").unwrap_err();
        assert!(e.to_string().contains("too large"), "{e}");
        let e = lex("x = 12ab;", "f").unwrap_err();
        assert_eq!(
            e.to_string(),
            "f:1:5: malformed number `12ab`: expected decimal digits, `0x` hex or `0b` binary"
        );
    }

    #[test]
    fn float_literals() {
        let t = lex("1.5 2.0e-3 0..n 1_000.25 7.0E+2", "f").unwrap();
        assert_eq!(t[0].tok, Tok::Float(1.5f32.to_bits()));
        assert_eq!(t[1].tok, Tok::Float(2.0e-3f32.to_bits()));
        assert_eq!(t[2].tok, Tok::Int(0));
        assert_eq!(t[3].tok, Tok::Punct(".."));
        assert_eq!(t[5].tok, Tok::Float(1000.25f32.to_bits()));
        assert_eq!(t[6].tok, Tok::Float(700.0f32.to_bits()));
        // 0.1 is rounded to nearest from the decimal text.
        assert_eq!(lex("0.1", "f").unwrap()[0].tok, Tok::Float(0x3DCC_CCCD));
        let e = lex("x = 1.5q;", "f").unwrap_err().to_string();
        assert!(
            e.starts_with("f:1:5: malformed float literal `1.5q`"),
            "{e}"
        );
        let e = lex("1.0e39", "f").unwrap_err().to_string();
        assert!(e.contains("too large for f32"), "{e}");
    }

    #[test]
    fn bad_character_is_located() {
        let e = lex("a\n  $", "f.tk").unwrap_err();
        assert_eq!(e.to_string(), "f.tk:2:3: unexpected character `$`");
    }
}
