//! Masking of secrets in whatever keylint shows: findings' messages (every reported finding
//! passes [`redact`]), code frames and diffs of the CLI. Nothing keylint writes carries a full key.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::LazyLock;

use crate::finding::Finding;
use crate::model::secrets;

/// Masks every secret-looking token of the texts a user sees — the message, the related
/// places' messages and the fixes' titles — with [`mask_secrets`]: a target named after a key
/// (`tokens["ghp_…"]`) must not carry it into a diagnostic, a log or a code action's title.
/// [`crate::engine::postprocess`], which every reported finding passes through (CLI and
/// server), calls it.
pub fn redact(finding: &mut Finding) {
    fn mask(s: &mut String) {
        if let Cow::Owned(m) = mask_secrets(s) {
            *s = m;
        }
    }
    mask(&mut finding.message);
    for r in &mut finding.related {
        mask(&mut r.message);
    }
    for f in &mut finding.fixes {
        mask(&mut f.title);
    }
}

/// The characters of a masked secret shown as they are: its first four (`sk-l****`), enough to
/// recognise which key it is, too few to use it.
const SHOWN: usize = 4;

/// Bytes that end a bare token: white space, quotes, brackets, separators.
fn ends_token(c: char) -> bool {
    c.is_whitespace() || "'\"`()[]{}<>,;|\\".contains(c)
}

/// The byte ranges of `text` to mask: every token that the secret detector
/// ([`crate::model::secrets`]) calls a secret wherever it stands — a known token format
/// (`ghp_…`, `AKIA…`, `sk_live_…`), the password of a connection URL, a random-looking word of
/// letters and digits — without its first [`SHOWN`] characters.
fn bare_secrets(text: &str, out: &mut Vec<Range<usize>>) {
    let mut start = None;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        if !ends_token(c) {
            start.get_or_insert(i);
            continue;
        }
        let Some(s) = start.take() else { continue };
        // Shorter than any token format or the entropy threshold: nothing to look at.
        if i - s >= 16 {
            token_secrets(text, s, i, out);
        }
    }
}

/// [`bare_secrets`] of one token `text[s..e]`.
fn token_secrets(text: &str, s: usize, e: usize, out: &mut Vec<Range<usize>>) {
    let token = &text[s..e];
    if token.contains("://")
        && token.contains('@')
        && secrets::url_credentials(token, &[]).is_some()
    {
        // `scheme://user:password@host`: the password.
        if let Some(at) = token.rfind('@') {
            let colon = token[..at].rfind(':').map_or(0, |c| c + 1);
            out.push(keep_head(text, s + colon, s + at));
        }
    }
    let formats = secrets::token_format_spans(token);
    for r in formats {
        out.push(keep_head(text, s + r.start, s + r.end));
    }
    // Random-looking words inside the token (`x=Zm9v…`, `key:3f9c…`).
    let mut w = None;
    for (i, c) in token
        .char_indices()
        .chain(std::iter::once((token.len(), ' ')))
    {
        if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+' | '/' | '=' | '.') {
            w.get_or_insert(i);
            continue;
        }
        let Some(ws) = w.take() else { continue };
        let word = &token[ws..i];
        if random_looking(word) {
            out.push(keep_head(text, s + ws, s + i));
        } else if word.len() > 16 && word.contains('_') {
            // `GHP_4F9C…`: an environment-variable-like name is a placeholder as a whole, but
            // one made of a key is not.
            let mut at = ws;
            for part in word.split('_') {
                if random_looking(part) {
                    out.push(keep_head(text, s + at, s + at + part.len()));
                }
                at += part.len() + 1;
            }
        }
    }
}

/// A word the detector would call a generated secret: long, high entropy, letters and digits,
/// no placeholder.
fn random_looking(word: &str) -> bool {
    word.len() >= 16
        && word.bytes().any(|b| b.is_ascii_digit())
        && word.bytes().any(|b| b.is_ascii_alphabetic())
        && secrets::is_high_entropy(word)
        && !secrets::is_placeholder(word, &[])
}

/// `text[s..e]` without its first [`SHOWN`] characters.
fn keep_head(text: &str, s: usize, e: usize) -> Range<usize> {
    let head = text[s..e]
        .char_indices()
        .nth(SHOWN)
        .map_or(e, |(i, _)| s + i);
    head..e
}

/// Replaces every character of `ranges` in `text` by `*` (white space and quotes kept), so that
/// columns stay where they were.
pub fn apply_mask<'a>(text: &'a str, ranges: &[Range<usize>]) -> Cow<'a, str> {
    if ranges.iter().all(|r| r.is_empty()) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.char_indices()
            .map(|(i, c)| {
                if ranges.iter().any(|r| r.contains(&i))
                    && !c.is_whitespace()
                    && !matches!(c, '"' | '\'')
                {
                    '*'
                } else {
                    c
                }
            })
            .collect(),
    )
}

/// `text` with every secret-looking token masked (see [`bare_secrets`]): for messages, titles
/// and any other text keylint writes that may quote a name or a value. Borrowed when there is
/// nothing to mask (the usual case, and cheap: only tokens of 16 characters or more are looked
/// at).
pub fn mask_secrets(text: &str) -> Cow<'_, str> {
    let mut ranges = Vec::new();
    bare_secrets(text, &mut ranges);
    apply_mask(text, &ranges)
}

/// What binds a string literal to a name just before it: `NAME = `, `NAME: str = `, `"NAME": `,
/// `["NAME"] = `, `NAME=` (a keyword argument), `NAME == `.
static BOUND_TO: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(
        r#"([A-Za-z_][A-Za-z0-9_-]*)["']?\]?\s*(?::\s*[A-Za-z_][\w.\[\], ]*)?\s*(?:=|:|==|!=)\s*$"#,
    )
    .expect("valid regex")
});

/// The byte ranges to mask in one line of Python source: [`bare_secrets`], and every string
/// literal KL101 would report on that line — a value bound to a secret-like name
/// (`PASSWORD = "hunter2hunter2"`) that is not a placeholder — or that is random-looking.
pub fn source_line_secrets(line: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    bare_secrets(line, &mut out);
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let q = bytes[i];
        if q == b'#' {
            break;
        }
        if q != b'"' && q != b'\'' {
            i += 1;
            continue;
        }
        let triple = bytes[i..].starts_with(&[q, q, q]);
        let open = if triple { 3 } else { 1 };
        let start = i + open;
        let mut j = start;
        let mut end = bytes.len();
        while j < bytes.len() {
            if bytes[j] == b'\\' {
                j += 2;
                continue;
            }
            if bytes[j] == q && (!triple || bytes[j..].starts_with(&[q, q, q])) {
                end = j;
                break;
            }
            j += 1;
        }
        let end = end.min(bytes.len());
        let value = &line[start..end];
        let (scheme, secret) = secrets::split_scheme(value);
        let before = line[..i].trim_end_matches(|c: char| "rbufRBUF".contains(c));
        let fstring = line[before.len()..i].contains(['f', 'F']);
        i = if end < bytes.len() { end + open } else { end };
        if fstring {
            // KL101 reports only token formats in an f-string (the bare scan's part), not the
            // code of its `{…}` fields.
            continue;
        }
        let named = BOUND_TO.captures(before).is_some_and(|c| {
            secrets::is_secret_name(&c[1], &[]) && !secrets::is_placeholder(secret, &[])
        });
        let random = secrets::is_high_entropy(secret) && !secrets::is_placeholder(secret, &[]);
        if named || random {
            out.push(keep_head(line, start + scheme, end));
        }
    }
    out
}

/// One line of Python source with every secret on it masked ([`source_line_secrets`]).
pub fn mask_source_line(line: &str) -> Cow<'_, str> {
    apply_mask(line, &source_line_secrets(line))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GHP: &str = "ghp_R7q2Lx9VmK4tZp8WnB3sYc6Hd1Fg5Je0Ua2T";

    #[test]
    fn messages_lose_the_keys_they_name() {
        let m =
            format!("Hardcoded GitHub token in `tokens[\"{GHP}\"]`; read it from the environment");
        let masked = mask_secrets(&m);
        assert!(!masked.contains(GHP), "{masked}");
        assert!(masked.contains("`tokens[\"ghp_****"), "{masked}");
        assert!(masked.ends_with("; read it from the environment"));
        for plain in [
            "Hardcoded OpenAI API key in `API_KEY`; read it from the environment",
            "`app.config[\"SECRET_KEY\"]` is logged; log a fingerprint",
            "fixtures/flask/hardcoded_basic.py",
        ] {
            assert!(matches!(mask_secrets(plain), Cow::Borrowed(_)), "{plain}");
        }
        let aws = "client.AKIAZ3MQ7X2P9L4K8HJD.get";
        assert_eq!(mask_secrets(aws), "client.AKIA****************.get");
        let url = "postgresql://app:Zq8s9Lm2Xc7v@db.acme.io/app";
        assert_eq!(
            mask_secrets(url),
            "postgresql://app:Zq8s********@db.acme.io/app"
        );
        // Upper-cased (an environment variable named after the key): random-looking.
        let env = GHP.to_ascii_uppercase();
        assert!(!mask_secrets(&format!("Move `{env}` to `.env`")).contains(&env));
    }

    #[test]
    fn source_lines_mask_every_secret_on_them() {
        let line = format!(r#"A = "{GHP}"; PASSWORD = "hunter2hunter2"  # {GHP}"#);
        let masked = mask_source_line(&line);
        assert_eq!(masked.chars().count(), line.chars().count(), "columns kept");
        assert!(
            !masked.contains(GHP) && !masked.contains("hunter2hunter2"),
            "{masked}"
        );
        assert!(
            masked.contains(r#"PASSWORD = "hunt**********""#),
            "{masked}"
        );
        let clean = r#"app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]  # comment"#;
        assert_eq!(mask_source_line(clean), clean);
        let token = r#"headers = {"Authorization": "Bearer Zm9vYmFyYmF6cXV4MTIzNDU2"}"#;
        let masked = mask_source_line(token);
        assert!(
            masked.contains(r#""Bearer Zm9v"#) && !masked.contains("YmFy"),
            "{masked}"
        );
        let fstring = r#"headers = {"Authorization": f"token {os.environ['API_TOKEN']}"}"#;
        assert_eq!(mask_source_line(fstring), fstring);
        let placeholder = r#"API_KEY = "changeme""#;
        assert_eq!(mask_source_line(placeholder), placeholder);
    }
}
