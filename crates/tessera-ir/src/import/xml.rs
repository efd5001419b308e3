//! A small, lenient XML reader for the Morpher DFG files (and nothing else).
//!
//! Why our own reader and not a crate: the Morpher corpus is not well-formed XML. Attributes
//! are written without a space between them (`ALAP="0"BB="entry"`), and one file carries
//! start tags that are cut off before their `/>` (`<Output idx="7" nextiter="1" <Output ...`).
//! Strict parsers (roxmltree, quick-xml in strict mode) reject both. This reader accepts the
//! two quirks on purpose, and only them: an attribute may follow a quoted value directly,
//! and a start tag that meets `<` before `>` is closed there as if it had ended with `/>`.
//! Everything else that is malformed (end of file inside a tag or with open elements,
//! mismatched end tags, a missing `=` or quote) is an error with file, line and column.

use crate::error::{IrError, SourceLoc};

/// An element with its attributes, children and text, and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<Attr>,
    pub children: Vec<Element>,
    pub text: String,
    pub line: usize,
    pub col: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attr {
    pub name: String,
    pub value: String,
    pub line: usize,
    pub col: usize,
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&Attr> {
        self.attrs.iter().find(|a| a.name == name)
    }
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
}

struct Cursor<'a> {
    s: &'a [u8],
    pos: usize,
    line: usize,
    col: usize,
    file: &'a str,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }
    fn starts_with(&self, p: &str) -> bool {
        self.s[self.pos..].starts_with(p.as_bytes())
    }
    fn bump(&mut self) -> Option<u8> {
        let c = self.s.get(self.pos).copied()?;
        self.pos += 1;
        if c == b'\n' {
            self.line += 1;
            self.col = 1;
        } else if (c & 0xC0) != 0x80 {
            // count characters, not UTF-8 continuation bytes
            self.col += 1;
        }
        Some(c)
    }
    fn loc(&self) -> SourceLoc {
        SourceLoc::new(self.file, self.line, self.col)
    }
    fn err(&self, message: impl Into<String>) -> IrError {
        IrError::parse(self.loc(), message)
    }
    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.bump();
        }
    }
    fn skip_until(&mut self, end: &str, what: &str) -> Result<(), IrError> {
        let start = self.loc();
        while !self.starts_with(end) {
            if self.bump().is_none() {
                return Err(IrError::parse(
                    start,
                    format!("unexpected end of file inside {what}; expected `{end}`"),
                ));
            }
        }
        for _ in 0..end.len() {
            self.bump();
        }
        Ok(())
    }
    fn name(&mut self) -> String {
        let mut n = String::new();
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b':') || c >= 0x80 {
                n.push(c as char);
                self.bump();
            } else {
                break;
            }
        }
        n
    }
}

fn decode_entities(raw: &str) -> String {
    if !raw.contains('&') {
        return raw.to_string();
    }
    raw.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Parse a document; returns a synthetic root element (`name` empty) holding the top-level
/// elements in order.
pub fn parse(text: &str, file: &str) -> Result<Element, IrError> {
    let mut c = Cursor {
        s: text.as_bytes(),
        pos: 0,
        line: 1,
        col: 1,
        file,
    };
    let root = Element {
        name: String::new(),
        attrs: Vec::new(),
        children: Vec::new(),
        text: String::new(),
        line: 1,
        col: 1,
    };
    let mut stack: Vec<Element> = vec![root];
    let mut text_start = c.pos;
    while let Some(ch) = c.peek() {
        if ch != b'<' {
            c.bump();
            continue;
        }
        // flush text
        if c.pos > text_start {
            let raw = String::from_utf8_lossy(&c.s[text_start..c.pos]);
            let top = stack.last_mut().expect("root stays on the stack");
            top.text.push_str(&decode_entities(&raw));
        }
        if c.starts_with("<!--") {
            c.skip_until("-->", "a comment")?;
        } else if c.starts_with("<?") {
            c.skip_until("?>", "a processing instruction")?;
        } else if c.starts_with("<!") {
            c.skip_until(">", "a declaration")?;
        } else if c.starts_with("</") {
            let at = c.loc();
            c.bump();
            c.bump();
            let name = c.name();
            c.skip_ws();
            if c.peek() != Some(b'>') {
                return Err(c.err(format!("expected `>` to end the end tag `</{name}`")));
            }
            c.bump();
            if stack.len() == 1 {
                return Err(IrError::parse(
                    at,
                    format!("end tag `</{name}>` without a matching start tag"),
                ));
            }
            let el = stack.pop().expect("checked length");
            if el.name != name {
                return Err(IrError::parse(
                    at,
                    format!(
                        "end tag `</{name}>` does not match `<{}>` opened at line {}; expected `</{}>`",
                        el.name, el.line, el.name
                    ),
                ));
            }
            stack.last_mut().expect("root").children.push(el);
        } else {
            let (line, col) = (c.line, c.col);
            c.bump();
            let name = c.name();
            if name.is_empty() {
                return Err(c.err("expected an element name after `<`"));
            }
            let mut el = Element {
                name,
                attrs: Vec::new(),
                children: Vec::new(),
                text: String::new(),
                line,
                col,
            };
            let self_closing;
            loop {
                c.skip_ws();
                match c.peek() {
                    None => {
                        return Err(IrError::parse(
                            SourceLoc::new(file, line, col),
                            format!(
                                "unexpected end of file inside the start tag `<{}`; expected `>` or `/>`",
                                el.name
                            ),
                        ));
                    }
                    Some(b'/') => {
                        c.bump();
                        if c.peek() != Some(b'>') {
                            return Err(c.err(format!("expected `>` after `/` in `<{}`", el.name)));
                        }
                        c.bump();
                        self_closing = true;
                        break;
                    }
                    Some(b'>') => {
                        c.bump();
                        self_closing = false;
                        break;
                    }
                    Some(b'<') => {
                        // Quirk 2: a start tag cut off before its end; close it here.
                        self_closing = true;
                        break;
                    }
                    Some(_) => {
                        let (al, ac) = (c.line, c.col);
                        let an = c.name();
                        if an.is_empty() {
                            return Err(c.err(format!(
                                "unexpected character `{}` in the start tag `<{}`; expected an attribute name, `>` or `/>`",
                                c.peek().map(|b| b as char).unwrap_or(' '),
                                el.name
                            )));
                        }
                        c.skip_ws();
                        if c.peek() != Some(b'=') {
                            return Err(c.err(format!(
                                "expected `=` after attribute `{an}` of `<{}>`",
                                el.name
                            )));
                        }
                        c.bump();
                        c.skip_ws();
                        let q = match c.peek() {
                            Some(q @ (b'"' | b'\'')) => q,
                            _ => {
                                return Err(c.err(format!(
                                    "expected a quoted value for attribute `{an}` of `<{}>`",
                                    el.name
                                )));
                            }
                        };
                        c.bump();
                        let vstart = c.pos;
                        loop {
                            match c.peek() {
                                None => {
                                    return Err(IrError::parse(
                                        SourceLoc::new(file, al, ac),
                                        format!(
                                            "unexpected end of file inside the value of attribute `{an}`; expected a closing quote"
                                        ),
                                    ));
                                }
                                Some(b) if b == q => break,
                                Some(_) => {
                                    c.bump();
                                }
                            }
                        }
                        let raw = String::from_utf8_lossy(&c.s[vstart..c.pos]).into_owned();
                        c.bump();
                        el.attrs.push(Attr {
                            name: an,
                            value: decode_entities(&raw),
                            line: al,
                            col: ac,
                        });
                        // Quirk 1: no whitespace needed before the next attribute.
                    }
                }
            }
            if self_closing {
                stack.last_mut().expect("root").children.push(el);
            } else {
                stack.push(el);
            }
        }
        text_start = c.pos;
    }
    if stack.len() > 1 {
        let open = stack.last().expect("len > 1");
        return Err(IrError::parse(
            c.loc(),
            format!(
                "unexpected end of file: `<{}>` opened at line {} is not closed (truncated file?)",
                open.name, open.line
            ),
        ));
    }
    Ok(stack.pop().expect("root"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerates_the_two_morpher_quirks() {
        let doc = parse(
            "<DFG count=\"1\"><Node idx=\"1\"ASAP=\"0\"><Outputs><Output idx=\"2\" <Output idx=\"3\"/></Outputs></Node></DFG>",
            "t.xml",
        )
        .unwrap();
        let dfg = &doc.children[0];
        let node = dfg.child("Node").unwrap();
        assert_eq!(node.attr("ASAP").unwrap().value, "0");
        let outs: Vec<_> = node
            .child("Outputs")
            .unwrap()
            .children_named("Output")
            .collect();
        assert_eq!(outs.len(), 2);
    }

    #[test]
    fn truncation_is_a_located_error() {
        let e = parse("<DFG>\n<Node idx=\"1\">\n<OP>ADD</OP>", "t.xml").unwrap_err();
        let s = e.to_string();
        assert!(s.contains("t.xml:3") && s.contains("not closed"), "{s}");
        let e = parse("<DFG><Node idx=\"1", "t.xml").unwrap_err();
        assert!(e.to_string().contains("closing quote"), "{e}");
        let e = parse("<A></B>", "t.xml").unwrap_err();
        assert!(e.to_string().contains("does not match"), "{e}");
    }
}
