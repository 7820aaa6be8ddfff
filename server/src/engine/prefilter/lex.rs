//! A small Python lexer for the pre-filter: identifiers, string literals and operators, with the
//! bracket depth and the *logical line* of each token (a statement line: newlines inside brackets,
//! after a backslash or inside a triple-quoted string do not end it). Comments are skipped.
//!
//! It only has to be *conservative*: every expression tree-sitter sees lies within one logical
//! line here. Unclosed brackets or strings only make a logical line longer (up to the end of the
//! file), and a stray closing bracket is ignored, so a mistake can merge lines but never split a
//! statement.

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A name or keyword (`[A-Za-z0-9_]` and any non-ASCII bytes).
    Ident,
    /// A string literal, prefix and quotes included.
    Str,
    /// One operator or delimiter; `==`, `!=`, `<=`, `>=`, `->`, `:=` and `**` are one token.
    Op,
}

#[derive(Debug, Clone, Copy)]
pub struct Token {
    pub kind: Kind,
    pub start: u32,
    pub end: u32,
    /// Bracket depth at the token (0: at statement level).
    pub depth: u16,
    /// Index of its logical line.
    pub line: u32,
    /// For strings: its value is the text between the quotes, exactly as `syntax::string_value`
    /// reads it (no backslash, no `f`/`t` prefix). For operators: unused.
    pub plain: bool,
    /// For strings: an `f`/`t` prefix.
    pub formatted: bool,
    /// For strings: offset of the content after the opening quote(s), and its length.
    pub content: (u32, u32),
}

impl Token {
    pub fn text<'a>(&self, bytes: &'a [u8]) -> &'a [u8] {
        &bytes[self.start as usize..self.end as usize]
    }

    pub fn content<'a>(&self, bytes: &'a [u8]) -> &'a [u8] {
        let (at, len) = self.content;
        &bytes[at as usize..(at + len) as usize]
    }

    /// Whether this is the operator `op`.
    pub fn is_op(&self, bytes: &[u8], op: &[u8]) -> bool {
        self.kind == Kind::Op && self.text(bytes) == op
    }
}

fn ident_byte(b: u8) -> bool {
    IDENT[b as usize]
}

/// [`ident_byte`] by byte: ASCII letters, digits, `_`, and every non-ASCII byte.
static IDENT: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80;
        b += 1;
    }
    table
};

/// The tokens of `bytes`, in order.
pub fn lex(bytes: &[u8]) -> Vec<Token> {
    let n = bytes.len();
    let mut out = Vec::with_capacity(n / 6);
    let (mut i, mut depth, mut line) = (0usize, 0u16, 0u32);
    let mut line_has_tokens = false;
    while i < n {
        let b = bytes[i];
        match b {
            b'\n' | b'\r' => {
                if depth == 0 && line_has_tokens {
                    line += 1;
                    line_has_tokens = false;
                }
                i += 1;
            }
            b' ' | b'\t' | b'\x0c' => {
                // Indentation: a run of spaces at once.
                i += 1 + bytes[i + 1..].iter().take_while(|&&c| c == b' ').count();
            }
            b'#' => {
                // To the end of the line (a comment holds no token).
                i = memchr::memchr2(b'\n', b'\r', &bytes[i..]).map_or(n, |k| i + k);
            }
            b'\\' => {
                // A line continuation: the newline after it does not end the logical line.
                i += 1;
                if i < n && bytes[i] == b'\r' {
                    i += 1;
                }
                if i < n && bytes[i] == b'\n' {
                    i += 1;
                }
            }
            b'\'' | b'"' => {
                let t = string(bytes, i, i, depth, line);
                i = t.end as usize;
                out.push(t);
                line_has_tokens = true;
            }
            _ if ident_byte(b) => {
                let start = i;
                i += 1 + bytes[i + 1..]
                    .iter()
                    .take_while(|&&c| ident_byte(c))
                    .count();
                // A string prefix (`r`, `b`, `f`, `rb`, `u`, `t`…) right before a quote.
                if i < n
                    && matches!(bytes[i], b'\'' | b'"')
                    && i - start <= 3
                    && bytes[start..i]
                        .iter()
                        .all(|c| matches!(c.to_ascii_lowercase(), b'r' | b'b' | b'u' | b'f' | b't'))
                {
                    let t = string(bytes, start, i, depth, line);
                    i = t.end as usize;
                    out.push(t);
                } else {
                    out.push(Token {
                        kind: Kind::Ident,
                        start: start as u32,
                        end: i as u32,
                        depth,
                        line,
                        plain: false,
                        formatted: false,
                        content: (0, 0),
                    });
                }
                line_has_tokens = true;
            }
            _ => {
                let start = i;
                let two = bytes.get(i..i + 2).unwrap_or(&[]);
                let len = if matches!(
                    two,
                    b"==" | b"!=" | b"<=" | b">=" | b"->" | b":=" | b"**" | b"//"
                ) {
                    2
                } else {
                    1
                };
                match b {
                    b'(' | b'[' | b'{' => {}
                    b')' | b']' | b'}' => depth = depth.saturating_sub(1),
                    _ => {}
                }
                out.push(Token {
                    kind: Kind::Op,
                    start: start as u32,
                    end: (start + len) as u32,
                    depth,
                    line,
                    plain: false,
                    formatted: false,
                    content: (0, 0),
                });
                if matches!(b, b'(' | b'[' | b'{') {
                    depth = depth.saturating_add(1);
                }
                i += len;
                line_has_tokens = true;
            }
        }
    }
    out
}

/// The string literal whose prefix starts at `start` and whose first quote is at `quote`.
fn string(bytes: &[u8], start: usize, quote: usize, depth: u16, line: u32) -> Token {
    let n = bytes.len();
    let q = bytes[quote];
    let triple = bytes.get(quote..quote + 3) == Some(&[q, q, q][..]);
    let open = if triple { 3 } else { 1 };
    let content_start = quote + open;
    let mut i = content_start;
    let mut backslash = false;
    let content_end;
    loop {
        if i >= n {
            content_end = n;
            break;
        }
        let c = bytes[i];
        if c == b'\\' {
            backslash = true;
            // The escaped byte never ends the string (also in raw strings); an escaped `\r\n` is one.
            i += if bytes.get(i + 1..i + 3) == Some(&b"\r\n"[..]) {
                3
            } else {
                2
            };
            continue;
        }
        if c == q && (!triple || bytes.get(i..i + 3) == Some(&[q, q, q][..])) {
            content_end = i;
            i += open;
            break;
        }
        if !triple && (c == b'\n' || c == b'\r') {
            // Unterminated: the string ends with its line.
            content_end = i;
            break;
        }
        i += 1;
        if triple {
            // Nothing but a backslash or the quote matters in a triple-quoted string (a
            // docstring): on to the next of them at once.
            i = memchr::memchr2(q, b'\\', &bytes[i..]).map_or(n, |k| i + k);
        }
    }
    let prefix = &bytes[start..quote];
    let formatted = prefix
        .iter()
        .any(|c| matches!(c.to_ascii_lowercase(), b'f' | b't'));
    let end = i.min(n);
    Token {
        kind: Kind::Str,
        start: start as u32,
        end: end as u32,
        depth,
        line,
        plain: !backslash && !formatted,
        formatted,
        content: (
            content_start.min(n) as u32,
            (content_end.saturating_sub(content_start)) as u32,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(src: &str) -> Vec<(u32, u16, String)> {
        lex(src.as_bytes())
            .iter()
            .map(|t| {
                (
                    t.line,
                    t.depth,
                    String::from_utf8_lossy(t.text(src.as_bytes())).into_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn logical_lines_span_brackets_continuations_and_triple_quotes() {
        let src = "a = f(\n  x,\n)\nb = 1 + \\\n  2\nc = '''x\ny'''\n# comment (\nd\n";
        let lines: Vec<(u32, String)> = show(src).into_iter().map(|(l, _, t)| (l, t)).collect();
        let line_of = |t: &str| lines.iter().find(|(_, x)| x == t).unwrap().0;
        assert_eq!(line_of("a"), line_of(")"));
        assert_eq!(line_of("b"), line_of("2"));
        assert_eq!(line_of("c"), line_of("'''x\ny'''"));
        assert_eq!(line_of("d"), line_of("c") + 1);
        assert!(lines.iter().all(|(_, t)| !t.contains("comment")));
    }

    #[test]
    fn strings_prefixes_and_escapes() {
        let src = r##"x = rb'a\'b' + f"{y}" + "plain" + 'unterminated
z = "#not a comment" == u'é'"##;
        let toks = lex(src.as_bytes());
        let strs: Vec<(String, bool)> = toks
            .iter()
            .filter(|t| t.kind == Kind::Str)
            .map(|t| {
                (
                    String::from_utf8_lossy(t.content(src.as_bytes())).into_owned(),
                    t.plain,
                )
            })
            .collect();
        assert_eq!(
            strs,
            vec![
                ("a\\'b".into(), false),
                ("{y}".into(), false),
                ("plain".into(), true),
                ("unterminated".into(), true),
                ("#not a comment".into(), true),
                ("é".into(), true),
            ]
        );
        assert!(toks.iter().any(|t| t.is_op(src.as_bytes(), b"==")));
        // The unterminated string ends its line: `z` starts the next one.
        let z = toks
            .iter()
            .find(|t| t.text(src.as_bytes()) == b"z")
            .unwrap();
        assert_eq!(z.line, 1);
    }

    #[test]
    fn docstrings_and_comments_end_where_they_did() {
        let src = concat!(
            "def f():\n",
            r#"    """a \""" b"#,
            "\n",
            r#""" " c '''""""#,
            "  # x = ')'\r\n",
            "    return 1 # z\n",
            r"'''\''''",
            "\n",
        );
        let toks = lex(src.as_bytes());
        let texts: Vec<String> = toks
            .iter()
            .map(|t| String::from_utf8_lossy(t.text(src.as_bytes())).into_owned())
            .collect();
        let doc = concat!(r#""""a \""" b"#, "\n", r#""" " c '''""""#);
        assert_eq!(
            texts,
            ["def", "f", "(", ")", ":", doc, "return", "1", r"'''\''''"]
        );
        let content = concat!(r#"a \""" b"#, "\n", r#""" " c '''"#);
        assert_eq!(toks[5].content(src.as_bytes()), content.as_bytes());
        assert!(!toks[5].plain);
        assert_eq!(toks[5].line, toks[0].line + 1);
        assert_eq!(toks[6].line, toks[5].line + 1);
        assert_eq!(toks[8].line, toks[6].line + 1);
        // Unterminated: to the end of the file.
        let unterminated = "x = '''abc\n# not a comment";
        let toks = lex(unterminated.as_bytes());
        assert_eq!(toks.len(), 3);
        assert_eq!(toks[2].end as usize, unterminated.len());
    }

    #[test]
    fn depth_and_stray_brackets() {
        let v = show("f(a[1], {b: 2})\n)\nx\n");
        let depth_of = |t: &str| v.iter().find(|(_, _, x)| x == t).unwrap().1;
        assert_eq!(depth_of("a"), 1);
        assert_eq!(depth_of("1"), 2);
        assert_eq!(depth_of("b"), 2);
        let line_of = |t: &str| v.iter().find(|(_, _, x)| x == t).unwrap().0;
        assert_eq!(line_of("x"), line_of("f") + 2);
    }
}
