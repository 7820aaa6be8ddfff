//! Source encodings, as Python reads a file (PEP 263): UTF-8 unless a `coding` declaration in a
//! comment on the first or second line says otherwise (`# -*- coding: latin-1 -*-`,
//! `# vim: set fileencoding=cp1252 :`); a UTF-8 byte-order mark means UTF-8.
//!
//! The language server gets text the editor already decoded; `keylint check` reads bytes, so it
//! decodes them here, and `--fix` encodes the fixed text back into the file's own encoding.
//! Supported: UTF-8, ASCII, Latin-1 (ISO-8859-1) and Windows-1252 under Python's names and
//! aliases; another declared encoding is reported as such and the file skipped.

use std::sync::LazyLock;

use regex::bytes::Regex;

/// An encoding keylint can decode and encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Ascii,
    Latin1,
    Cp1252,
}

/// Windows-1252's characters for the bytes 0x80–0x9F (`None`: undefined; Python's codec fails on
/// them).
const CP1252_HIGH: [Option<char>; 32] = [
    Some('\u{20AC}'),
    None,
    Some('\u{201A}'),
    Some('\u{0192}'),
    Some('\u{201E}'),
    Some('\u{2026}'),
    Some('\u{2020}'),
    Some('\u{2021}'),
    Some('\u{02C6}'),
    Some('\u{2030}'),
    Some('\u{0160}'),
    Some('\u{2039}'),
    Some('\u{0152}'),
    None,
    Some('\u{017D}'),
    None,
    None,
    Some('\u{2018}'),
    Some('\u{2019}'),
    Some('\u{201C}'),
    Some('\u{201D}'),
    Some('\u{2022}'),
    Some('\u{2013}'),
    Some('\u{2014}'),
    Some('\u{02DC}'),
    Some('\u{2122}'),
    Some('\u{0161}'),
    Some('\u{203A}'),
    Some('\u{0153}'),
    None,
    Some('\u{017E}'),
    Some('\u{0178}'),
];

impl Encoding {
    /// Python's codec name.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Ascii => "ascii",
            Encoding::Latin1 => "latin-1",
            Encoding::Cp1252 => "cp1252",
        }
    }

    /// The encoding a declared name stands for (Python's aliases), if keylint supports it.
    pub fn from_label(label: &str) -> Option<Encoding> {
        let norm = label.to_ascii_lowercase().replace('_', "-");
        // Python's tokenizer maps `utf-8-*` and `latin-1-*` / `iso-8859-1-*` to the base codec.
        let base = |b: &str| norm == b || norm.starts_with(&format!("{b}-"));
        if base("utf-8") || norm == "utf8" || norm == "u8" || norm == "utf" {
            return Some(Encoding::Utf8);
        }
        if base("latin-1") || base("iso-8859-1") || base("iso-latin-1") {
            return Some(Encoding::Latin1);
        }
        match norm.as_str() {
            "ascii" | "us-ascii" | "646" | "us" | "ansi-x3.4-1968" | "iso646-us" => {
                Some(Encoding::Ascii)
            }
            "latin1" | "latin" | "l1" | "iso8859-1" | "8859" | "cp819" | "iso-ir-100" => {
                Some(Encoding::Latin1)
            }
            "cp1252" | "windows-1252" => Some(Encoding::Cp1252),
            _ => None,
        }
    }

    fn decode_byte(self, b: u8) -> Option<char> {
        match self {
            Encoding::Utf8 => unreachable!("UTF-8 is decoded as a whole"),
            Encoding::Ascii => b.is_ascii().then_some(b as char),
            Encoding::Latin1 => Some(b as char),
            Encoding::Cp1252 => match b {
                0x80..=0x9F => CP1252_HIGH[usize::from(b - 0x80)],
                _ => Some(b as char),
            },
        }
    }

    fn encode_char(self, c: char) -> Option<u8> {
        let code = u32::from(c);
        match self {
            Encoding::Utf8 => unreachable!("UTF-8 is encoded as a whole"),
            Encoding::Ascii => (code < 0x80).then_some(code as u8),
            Encoding::Latin1 => (code < 0x100).then_some(code as u8),
            Encoding::Cp1252 => {
                if code < 0x80 || (0xA0..0x100).contains(&code) {
                    Some(code as u8)
                } else {
                    CP1252_HIGH
                        .iter()
                        .position(|x| *x == Some(c))
                        .map(|i| 0x80 + i as u8)
                }
            }
        }
    }
}

/// `coding[:=]\s*([-\w.]+)` in a comment line (PEP 263).
static DECLARATION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)").expect("valid regex"));

/// The encoding a file's first two lines declare: `Ok(None)` when they declare none, `Err(label)`
/// for one keylint does not support.
fn declared(bytes: &[u8]) -> Result<Option<Encoding>, String> {
    let mut lines = bytes.split_inclusive(|&b| b == b'\n' || b == b'\r');
    for i in 0..2 {
        let Some(line) = lines.next() else { break };
        if let Some(caps) = DECLARATION.captures(line) {
            let label = String::from_utf8_lossy(&caps[1]).into_owned();
            return Encoding::from_label(&label).map(Some).ok_or(label);
        }
        // The second line counts only when the first is blank or a comment.
        let trimmed = line.trim_ascii_start();
        if i == 0 && !(trimmed.is_empty() || trimmed.starts_with(b"#")) {
            break;
        }
    }
    Ok(None)
}

/// A file's text and the encoding it is stored in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub text: String,
    pub encoding: Encoding,
}

/// Decodes a Python source file as Python does; the error says why it cannot be read (without
/// quoting the file's content).
pub fn decode(bytes: &[u8]) -> Result<Decoded, String> {
    let bom = bytes.starts_with(b"\xEF\xBB\xBF");
    let head = if bom { &bytes[3..] } else { bytes };
    let encoding = match declared(head) {
        Ok(Some(e)) => e,
        Ok(None) => Encoding::Utf8,
        Err(label) => {
            return Err(format!(
                "declares the encoding `{label}`, which keylint cannot decode (it reads utf-8, \
                 ascii, latin-1 and cp1252), skipped"
            ))
        }
    };
    if bom && encoding != Encoding::Utf8 {
        return Err(format!(
            "starts with a UTF-8 byte-order mark but declares `{}` (Python refuses it too), \
             skipped",
            encoding.name()
        ));
    }
    if encoding == Encoding::Utf8 {
        return match std::str::from_utf8(bytes) {
            Ok(t) => Ok(Decoded {
                text: t.to_string(),
                encoding,
            }),
            Err(e) => Err(format!(
                "not valid UTF-8 (byte {}) and no `# coding:` declaration names another \
                 encoding, skipped",
                e.valid_up_to()
            )),
        };
    }
    let mut text = String::with_capacity(bytes.len() + bytes.len() / 8);
    for (i, &b) in bytes.iter().enumerate() {
        match encoding.decode_byte(b) {
            Some(c) => text.push(c),
            None => return Err(format!("not valid {} (byte {i}), skipped", encoding.name())),
        }
    }
    Ok(Decoded { text, encoding })
}

/// Encodes `text` into `encoding`; the error names the first character it cannot hold (a fix
/// that adds one is refused rather than written as something else).
pub fn encode(text: &str, encoding: Encoding) -> Result<Vec<u8>, String> {
    if encoding == Encoding::Utf8 {
        return Ok(text.as_bytes().to_vec());
    }
    let mut out = Vec::with_capacity(text.len());
    for (line, l) in text.split_inclusive('\n').enumerate() {
        for c in l.chars() {
            match encoding.encode_char(c) {
                Some(b) => out.push(b),
                None => {
                    return Err(format!(
                        "the fixed text holds U+{:04X} on line {}, which the file's encoding \
                         ({}) cannot hold",
                        u32::from(c),
                        line + 1,
                        encoding.name()
                    ))
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_without_declaration() {
        let d = decode("x = 'é'\n".as_bytes()).unwrap();
        assert_eq!(d.encoding, Encoding::Utf8);
        assert_eq!(d.text, "x = 'é'\n");
        assert!(decode(b"x = '\xe9'\n")
            .unwrap_err()
            .contains("not valid UTF-8"));
    }

    #[test]
    fn latin1_declarations_on_line_one_or_two() {
        for src in [
            &b"# -*- coding: latin-1 -*-\nx = '\xe9'\n"[..],
            b"#!/usr/bin/env python\n# coding=iso-8859-1\nx = '\xe9'\n",
            b"# vim: set fileencoding=latin_1 :\nx = '\xe9'\n",
        ] {
            let d = decode(src).unwrap();
            assert_eq!(d.encoding, Encoding::Latin1);
            assert!(d.text.ends_with("x = 'é'\n"));
            assert_eq!(encode(&d.text, d.encoding).unwrap(), src);
        }
        // Not a comment on the first line: a declaration on the second does not count.
        assert!(decode(b"import os\n# coding: latin-1\nx = '\xe9'\n").is_err());
        // The third line is too late.
        assert!(decode(b"\n\n# coding: latin-1\nx = '\xe9'\n").is_err());
    }

    #[test]
    fn cp1252_round_trips_and_refuses_what_it_cannot_hold() {
        let src = b"# coding: cp1252\nx = '\x80 \x93q\x94'\n";
        let d = decode(src).unwrap();
        assert!(d.text.contains("'€ “q”'"));
        assert_eq!(encode(&d.text, d.encoding).unwrap(), src);
        let err = encode("x = '→'\n", Encoding::Latin1).unwrap_err();
        assert!(err.contains("U+2192") && err.contains("latin-1"), "{err}");
        assert!(decode(b"# coding: cp1252\n'\x81'\n").is_err());
    }

    #[test]
    fn bom_and_unknown_encodings() {
        let d = decode(b"\xEF\xBB\xBFx = 1\n").unwrap();
        assert_eq!(d.encoding, Encoding::Utf8);
        assert!(decode(b"\xEF\xBB\xBF# coding: latin-1\nx = 1\n").is_err());
        let err = decode(b"# coding: koi8-r\nx = 1\n").unwrap_err();
        assert!(err.contains("`koi8-r`"), "{err}");
    }
}
