//! Suppressions: `# keylint: ignore[KL101]` (codes or names, comma-separated) or a bare
//! `# keylint: ignore` in a comment at the end of the line where a finding starts. Comments come
//! from the tree-sitter tree, so a `#` inside a string never counts. A suppression that silences
//! nothing is reported as `KL001 unused-suppression`.

use std::ops::Range;

use tree_sitter::Node;

use crate::document::{SourceText, TreeView};
use crate::finding::{Edit, Fix};
use crate::finding::{Finding, Severity};
use crate::rules::{FixAvailability, RuleMeta};

pub static UNUSED_SUPPRESSION: RuleMeta = RuleMeta {
    code: "KL001",
    name: "unused-suppression",
    summary: "A `# keylint: ignore` comment that silences nothing",
    severity: Severity::Hint,
    fix: FixAvailability::Always,
    cwe: &[],
    docs: include_str!("kl001_unused_suppression.md"),
    // The suppression comment itself.
    prefilter: &[&[crate::finding::prefilter::Word::new(
        "keylint",
        crate::finding::prefilter::Group::Any,
    )]],
    reads_flows: false,
};

/// One `keylint: ignore` directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// 0-based line it applies to (the comment's line).
    pub line: usize,
    /// Bytes of the directive, from the `#` that opens it to its end (`]` or `ignore`).
    pub range: Range<usize>,
    /// Byte range of the whole comment node.
    pub comment: Range<usize>,
    /// `None`: bare, every rule. Otherwise the codes (resolved when known, as written otherwise)
    /// with their byte ranges.
    pub codes: Option<Vec<(String, Range<usize>)>>,
    /// Byte offset of the closing `]` (for extending the list).
    pub close: Option<usize>,
}

/// Every comment node of the tree, in order.
fn comments(tree: TreeView) -> Vec<Node> {
    tree.nodes_of_kind(crate::syntax::kinds().comment)
}

/// Parses the directive in one comment (`text` starts at byte `start` of the document).
pub fn parse_directive(text: &str, start: usize, line: usize) -> Option<Suppression> {
    let lower = text.to_ascii_lowercase();
    let at = lower.find("keylint:")?;
    let mut i = at + "keylint:".len();
    let bytes = text.as_bytes();
    while i < bytes.len() && bytes[i] == b' ' {
        i += 1;
    }
    if !lower[i..].starts_with("ignore") {
        return None;
    }
    i += "ignore".len();
    // The directive begins at the `#` before `keylint:` (the comment's own or a later one).
    let hash = text[..at].rfind('#').unwrap_or(0);
    let (codes, end, close) = if bytes.get(i) == Some(&b'[') {
        let close = text[i..].find(']').map(|c| i + c)?;
        let mut codes = Vec::new();
        let mut pos = i + 1;
        for part in text[i + 1..close].split(',') {
            let trimmed = part.trim();
            if !trimmed.is_empty() {
                let off = pos + (part.len() - part.trim_start().len());
                let code = super::find_meta(trimmed)
                    .map(|m| m.code.to_string())
                    .unwrap_or_else(|| trimmed.to_string());
                codes.push((code, start + off..start + off + trimmed.len()));
            }
            pos += part.len() + 1;
        }
        (Some(codes), close + 1, Some(start + close))
    } else if bytes
        .get(i)
        .is_none_or(|b| !b.is_ascii_alphanumeric() && *b != b'_')
    {
        (None, i, None)
    } else {
        return None;
    };
    Some(Suppression {
        line,
        range: start + hash..start + end,
        comment: start..start + text.len(),
        codes,
        close,
    })
}

/// Every suppression of a document.
pub fn suppressions(tree: TreeView, src: SourceText) -> Vec<Suppression> {
    suppressions_known(tree, src, mentions_keylint(src))
}

/// [`suppressions`], told whether the text spells `keylint` at all (`mentions`: the analyzer
/// keeps the answer per document, [`Mentions`]).
fn suppressions_known(tree: TreeView, src: SourceText, mentions: bool) -> Vec<Suppression> {
    if !mentions {
        return Vec::new();
    }
    comments(tree)
        .into_iter()
        .filter_map(|c| {
            let text = src.node_text(c);
            parse_directive(&text, c.start_byte(), c.start_position().row)
        })
        .collect()
}

/// How a directive can start: `keylint`, `KEYLINT` or `Keylint` (a comment without one of these
/// holds no directive worth parsing).
const SPELLINGS: [&str; 3] = ["keylint", "KEYLINT", "Keylint"];

/// Whether the text contains one of [`SPELLINGS`]: one pass over the rope's chunks (no copy of the
/// text; a match across a chunk boundary is found too). Runs on every keystroke, over the whole
/// file, and almost never matches.
fn mentions_keylint(src: SourceText) -> bool {
    mentions_keylint_in(src.rope().chunks().map(str::as_bytes))
}

/// Where a text spells `keylint` (one of [`SPELLINGS`]), kept per document and updated from
/// each edit: a directive can only appear or vanish in the text an edit changed, so a keystroke
/// scans that text (and the few bytes around it a spelling may straddle), not the whole file
/// (issue #14: the scan of [`mentions_keylint`] was about 6 % of a keystroke at 8,000 lines).
#[derive(Debug, Clone, Default)]
pub struct Mentions {
    /// Byte offsets of the spellings, in order.
    at: Vec<usize>,
    /// How many bytes the last [`Mentions::scan`] or [`Mentions::update`] read.
    scanned: usize,
}

/// The length of every spelling of [`SPELLINGS`].
const SPELLING_LEN: usize = 7;

impl Mentions {
    /// The spellings of the whole text.
    pub fn scan(rope: &ropey::Rope) -> Self {
        Mentions {
            at: spellings_in(rope, 0..rope.len_bytes()),
            scanned: rope.len_bytes(),
        }
    }

    /// The spellings of `rope`, whose first `prefix` and last `suffix` bytes are those of the
    /// text these were found in (`old_len` bytes long; the two do not overlap in either text):
    /// the spellings there are kept (those after the edit moved by it), and only the changed
    /// text, widened by a spelling's length less one on both sides, is read.
    pub fn update(&mut self, rope: &ropey::Rope, prefix: usize, suffix: usize, old_len: usize) {
        let new_len = rope.len_bytes();
        let (old_from, new_from) = (old_len - suffix, new_len - suffix);
        let window =
            prefix.saturating_sub(SPELLING_LEN - 1)..(new_from + SPELLING_LEN - 1).min(new_len);
        self.scanned = window.len();
        let fresh = spellings_in(rope, window)
            .into_iter()
            .filter(|&p| p + SPELLING_LEN > prefix && p < new_from);
        let before = self
            .at
            .iter()
            .copied()
            .filter(|&p| p + SPELLING_LEN <= prefix);
        let after = self
            .at
            .iter()
            .filter(|&&p| p >= old_from)
            .map(|&p| p - old_from + new_from);
        self.at = before.chain(fresh).chain(after).collect();
    }

    /// Whether the text spells `keylint` anywhere.
    pub fn any(&self) -> bool {
        !self.at.is_empty()
    }

    /// How many bytes the last scan or update read (for tests and measurements).
    pub fn scanned(&self) -> usize {
        self.scanned
    }
}

/// The offsets of the spellings that lie inside `range` of `rope`.
fn spellings_in(rope: &ropey::Rope, range: Range<usize>) -> Vec<usize> {
    static FINDER: std::sync::LazyLock<aho_corasick::AhoCorasick> =
        std::sync::LazyLock::new(|| {
            aho_corasick::AhoCorasick::new(SPELLINGS).expect("three plain patterns")
        });
    if range.is_empty() {
        return Vec::new();
    }
    // The bytes of the range, from the rope's chunks (a range need not fall on char boundaries).
    let (chunks, first, _, _) = rope.chunks_at_byte(range.start);
    let mut bytes = Vec::with_capacity(range.len());
    let mut at = first;
    for chunk in chunks {
        if at >= range.end {
            break;
        }
        let c = chunk.as_bytes();
        let lo = range.start.saturating_sub(at);
        let hi = (range.end - at).min(c.len());
        if lo < hi {
            bytes.extend_from_slice(&c[lo..hi]);
        }
        at += c.len();
    }
    FINDER
        .find_iter(&bytes)
        .map(|m| range.start + m.start())
        .collect()
}

/// [`mentions_keylint`] over the chunks of a text.
fn mentions_keylint_in<'a>(chunks: impl Iterator<Item = &'a [u8]>) -> bool {
    // SIMD search of the three needles at once where the CPU has it (the general automaton
    // stops at every `k`).
    enum Finder {
        Packed(aho_corasick::packed::Searcher),
        Automaton(aho_corasick::AhoCorasick),
    }
    static FINDER: std::sync::LazyLock<Finder> =
        std::sync::LazyLock::new(|| match aho_corasick::packed::Searcher::new(SPELLINGS) {
            Some(s) => Finder::Packed(s),
            None => Finder::Automaton(
                aho_corasick::AhoCorasick::new(SPELLINGS).expect("three plain patterns"),
            ),
        });
    let is_match = |bytes: &[u8]| match &*FINDER {
        Finder::Packed(s) => s.find(bytes).is_some(),
        Finder::Automaton(a) => a.is_match(bytes),
    };
    const LONGEST: usize = 7;
    // The last `LONGEST - 1` bytes of the previous chunk, then the first ones of the next.
    let mut seam = [0u8; 2 * (LONGEST - 1)];
    let mut tail = 0;
    for bytes in chunks {
        if tail > 0 {
            let head = bytes.len().min(LONGEST - 1);
            seam[tail..tail + head].copy_from_slice(&bytes[..head]);
            if is_match(&seam[..tail + head]) {
                return true;
            }
        }
        if is_match(bytes) {
            return true;
        }
        // Keep the last bytes seen (a chunk may be shorter than a needle).
        if bytes.len() >= LONGEST - 1 {
            tail = LONGEST - 1;
            seam[..tail].copy_from_slice(&bytes[bytes.len() - tail..]);
        } else {
            let keep = (LONGEST - 1 - bytes.len()).min(tail);
            seam.copy_within(tail - keep..tail, 0);
            seam[keep..keep + bytes.len()].copy_from_slice(bytes);
            tail = keep + bytes.len();
        }
    }
    false
}

/// Removes suppressed findings and adds `KL001` findings for suppressions that silence nothing.
/// `enabled` are the rule codes enabled for the file: a code that is not enabled is never reported
/// unused (the rule did not run, so nothing can be told).
pub fn apply(
    findings: Vec<Finding>,
    enabled: &[&'static str],
    tree: TreeView,
    src: SourceText,
) -> Vec<Finding> {
    apply_known(findings, enabled, tree, src, mentions_keylint(src))
}

/// [`apply`], told whether the text spells `keylint` at all ([`Mentions::any`]).
pub fn apply_known(
    findings: Vec<Finding>,
    enabled: &[&'static str],
    tree: TreeView,
    src: SourceText,
    mentions: bool,
) -> Vec<Finding> {
    let sups = suppressions_known(tree, src, mentions);
    if sups.is_empty() {
        return findings;
    }
    let line_of = |f: &Finding| src.line_of(f.range.start);
    let mut used: Vec<Vec<bool>> = sups
        .iter()
        .map(|s| vec![false; s.codes.as_ref().map_or(1, |c| c.len())])
        .collect();
    let mut kept = Vec::with_capacity(findings.len());
    'finding: for f in findings {
        let line = line_of(&f);
        for (si, s) in sups.iter().enumerate() {
            if s.line != line {
                continue;
            }
            match &s.codes {
                None => {
                    used[si][0] = true;
                    continue 'finding;
                }
                Some(codes) => {
                    if let Some(ci) = codes.iter().position(|(c, _)| c == f.rule.code) {
                        used[si][ci] = true;
                        continue 'finding;
                    }
                }
            }
        }
        kept.push(f);
    }
    if !enabled.contains(&UNUSED_SUPPRESSION.code) {
        return kept;
    }
    for (s, used) in sups.iter().zip(&used) {
        match &s.codes {
            None if !used[0] => kept.push(unused(s, None, src)),
            Some(codes) => {
                let unused_codes: Vec<usize> = (0..codes.len())
                    .filter(|&i| {
                        !used[i] && {
                            let c = &codes[i].0;
                            enabled.contains(&c.as_str()) || super::find_meta(c).is_none()
                        }
                    })
                    .collect();
                if unused_codes.is_empty() {
                    continue;
                }
                if unused_codes.len() == codes.len() || codes.is_empty() {
                    kept.push(unused(s, None, src));
                } else {
                    for i in unused_codes {
                        kept.push(unused(s, Some(i), src));
                    }
                }
            }
            _ => {}
        }
    }
    kept
}

/// The `KL001` finding for a whole suppression (`code == None`) or one of its codes.
fn unused(s: &Suppression, code: Option<usize>, src: SourceText) -> Finding {
    match (code, &s.codes) {
        (Some(i), Some(codes)) => {
            let (name, range) = &codes[i];
            let message = if super::find_meta(name).is_none() {
                format!("Unknown rule `{name}` in a suppression")
            } else {
                format!("Unused suppression: no `{name}` finding on this line")
            };
            // Remove the code and its comma (the one after it, or the one before the last code).
            let text = src.slice(s.range.clone());
            let base = s.range.start;
            let rel = range.start - base..range.end - base;
            let after = text[rel.end..].find(|c: char| c != ' ');
            let del = if text[rel.end..].trim_start().starts_with(',') {
                let comma = rel.end + after.unwrap_or(0);
                let next = text[comma + 1..]
                    .find(|c: char| c != ' ')
                    .map_or(comma + 1, |n| comma + 1 + n);
                rel.start..next
            } else {
                let before = text[..rel.start].trim_end_matches(' ');
                let start = before.strip_suffix(',').map_or(rel.start, |b| b.len());
                start..rel.end
            };
            Finding::new(&UNUSED_SUPPRESSION, range.clone(), message).with_fix(
                Fix::safe(format!("Remove `{name}` from the suppression"))
                    .edit(Edit::delete(base + del.start..base + del.end)),
            )
        }
        _ => {
            let message = match &s.codes {
                Some(codes) if !codes.is_empty() => format!(
                    "Unused suppression: no {} finding on this line",
                    codes
                        .iter()
                        .map(|(c, _)| format!("`{c}`"))
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
                _ => "Unused suppression: no finding on this line".to_string(),
            };
            Finding::new(&UNUSED_SUPPRESSION, s.range.clone(), message).with_fix(
                Fix::safe("Remove the unused suppression").edit(Edit::delete(removal(s, src))),
            )
        }
    }
}

/// The bytes to delete to remove a whole directive: with the spaces before it, and with the
/// rest of its comment when nothing else follows.
fn removal(s: &Suppression, src: SourceText) -> Range<usize> {
    let line_start = src.line_start(s.line);
    let before = src.slice(line_start..s.range.start);
    let after = src.slice(s.range.end..s.comment.end);
    let end = if after.trim().is_empty() {
        s.comment.end
    } else {
        s.range.end
    };
    if end != s.comment.end && s.range.start == s.comment.start {
        // `# keylint: ignore -- why`: keep the `#` so that the rest stays a comment.
        return s.range.start + 1..s.range.end;
    }
    let trimmed = before.trim_end_matches([' ', '\t']);
    let start = if trimmed.is_empty() && end == s.comment.end {
        // A comment alone on its line: keep the indentation and the line, delete the comment.
        s.range.start
    } else {
        line_start + trimmed.len()
    };
    start..end
}

/// The edit that makes a `# keylint: ignore[CODE]` on 0-based `line` silence `code`: it extends
/// the line's directive, or appends a comment at the end of the line. `None` when the line is
/// already suppressed for `code`, or when its end lies inside a string (a multi-line literal),
/// where no comment can go.
pub fn suppression_edit(tree: TreeView, src: SourceText, line: usize, code: &str) -> Option<Edit> {
    if line >= src.rope().len_lines() {
        return None;
    }
    let existing = comments(tree)
        .into_iter()
        .filter(|c| c.start_position().row == line)
        .find_map(|c| parse_directive(&src.node_text(c), c.start_byte(), line));
    if let Some(s) = existing {
        return match (&s.codes, s.close) {
            (None, _) => None,
            (Some(codes), _) if codes.iter().any(|(c, _)| c == code) => None,
            (Some(codes), Some(close)) => Some(Edit::insert(
                close,
                if codes.is_empty() {
                    code.to_string()
                } else {
                    format!(", {code}")
                },
            )),
            _ => None,
        };
    }
    let start = src.line_start(line);
    let end = src.line_start(line + 1);
    let text = src.slice(start..end);
    let line_text = text.trim_end_matches(['\n', '\r']);
    let content = line_text.trim_end_matches([' ', '\t']);
    let eol = start + content.len();
    let ws_end = start + line_text.len();
    if content.is_empty() {
        return None;
    }
    // Inside a string that goes on past this line?
    let node = tree.descendant_for_byte_range(eol.saturating_sub(1), eol)?;
    let mut n = Some(node);
    while let Some(cur) = n {
        if matches!(
            cur.kind(),
            "string" | "concatenated_string" | "string_content"
        ) && cur.end_position().row > line
        {
            return None;
        }
        n = cur.parent();
    }
    Some(Edit::replace(
        eol..ws_end,
        format!("  # keylint: ignore[{code}]"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Document;

    fn sups(text: &str) -> Vec<Suppression> {
        let doc = Document::new(text, 0);
        suppressions(doc.view(), doc.source())
    }

    #[test]
    fn finds_directives_in_comments_only() {
        let s = sups("a = 1  # keylint: ignore[KL101, hardcoded-secret]\nb = '# keylint: ignore'\nc = 2  # keylint: ignore\n");
        assert_eq!(s.len(), 2);
        let codes: Vec<&str> = s[0]
            .codes
            .as_ref()
            .unwrap()
            .iter()
            .map(|(c, _)| c.as_str())
            .collect();
        assert_eq!(codes, vec!["KL101", "KL101"]);
        assert_eq!(s[1].line, 2);
        assert!(s[1].codes.is_none());
    }

    #[test]
    fn the_pre_filter_finds_every_spelling_across_chunk_boundaries() {
        for spelling in SPELLINGS.iter().chain(&["KeyLint", "keylin"]) {
            for pad in 0..40 {
                let text = format!("{}# {spelling}: ignore\n", "x".repeat(pad));
                let want = SPELLINGS.iter().any(|s| text.contains(s));
                for size in 1..12 {
                    let chunks = text.as_bytes().chunks(size);
                    assert_eq!(mentions_keylint_in(chunks), want, "{pad} {size}");
                }
                // Chunks of uneven sizes.
                let mut chunks = Vec::new();
                let mut rest = text.as_bytes();
                for size in [5, 1, 2, 9, 1, 1, 3].iter().cycle() {
                    if rest.is_empty() {
                        break;
                    }
                    let (a, b) = rest.split_at((*size).min(rest.len()));
                    chunks.push(a);
                    rest = b;
                }
                assert_eq!(mentions_keylint_in(chunks.into_iter()), want, "{pad}");
            }
        }
        let text = format!("{}# keylint: ignore\n", "x".repeat(5000));
        let rope = ropey::Rope::from_str(&text);
        assert!(rope.chunks().count() > 1);
        assert!(mentions_keylint(SourceText::new(&rope)));
        assert!(!mentions_keylint(SourceText::new(&ropey::Rope::from_str(
            &"x".repeat(5000)
        ))));
    }

    /// The spellings kept from edit to edit are those a scan of the whole new text finds, for
    /// edits that make, break, move and join them, across the rope's chunk boundaries and next to
    /// multi-byte characters; an edit reads its own text and a spelling's length around it.
    #[test]
    fn mentions_updated_from_an_edit_equal_a_scan_of_the_whole_text() {
        let pieces = [
            "keylint",
            "KEYLINT",
            "Keylint",
            "key",
            "lint",
            "k",
            "# keylint: ignore\n",
            "é",
            "x = 1\n",
            "\n",
            "",
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for start in ["", "keylint", &"y = 2  # keylint: ignore\n".repeat(300)] {
            let mut text = start.to_string();
            let mut rope = ropey::Rope::from_str(&text);
            let mut m = Mentions::scan(&rope);
            for _ in 0..400 {
                // A random replacement on char boundaries.
                let bounds: Vec<usize> = (0..=text.len())
                    .filter(|&i| text.is_char_boundary(i))
                    .collect();
                let a = bounds[next(bounds.len())];
                let b =
                    bounds[(bounds.partition_point(|&i| i < a) + next(4)).min(bounds.len() - 1)];
                let insert: String = (0..next(3)).map(|_| pieces[next(pieces.len())]).collect();
                let old_len = text.len();
                text.replace_range(a..b, &insert);
                let (ca, cb) = (rope.byte_to_char(a), rope.byte_to_char(b));
                rope.remove(ca..cb);
                rope.insert(ca, &insert);
                // What the edit left alone, as the analyzer finds it (at most).
                let prefix = a;
                let suffix = old_len - b;
                m.update(&rope, prefix, suffix, old_len);
                let whole = Mentions::scan(&rope);
                assert_eq!(m.at, whole.at, "{text:?}");
                assert!(m.scanned() <= insert.len() + 2 * (SPELLING_LEN - 1));
            }
        }
    }

    #[test]
    fn ignore_must_be_a_word() {
        assert!(sups("a = 1  # keylint: ignored\n").is_empty());
        assert!(sups("a = 1  # keylint: fix\n").is_empty());
    }

    /// The text after applying the fixes of the `KL001` findings of `text` (no finding).
    fn remove_unused(text: &str) -> String {
        let doc = Document::new(text, 0);
        let found = apply(Vec::new(), &["KL001", "KL101"], doc.view(), doc.source());
        let edits: Vec<Edit> = found
            .iter()
            .flat_map(|f| f.fixes[0].edits.clone())
            .collect();
        crate::engine::fixes::apply_edits(text, &edits).0
    }

    #[test]
    fn unused_suppressions_are_removed_cleanly() {
        assert_eq!(remove_unused("x = 1  # keylint: ignore\n"), "x = 1\n");
        assert_eq!(
            remove_unused("x = 1  # keylint: ignore -- why\n"),
            "x = 1  # -- why\n"
        );
        assert_eq!(
            remove_unused("x = 1  # noqa  # keylint: ignore[KL101]\n"),
            "x = 1  # noqa\n"
        );
        assert_eq!(
            remove_unused("    # keylint: ignore\nx = 1\n"),
            "    \nx = 1\n"
        );
    }

    #[test]
    fn unused_codes_of_a_used_suppression_are_removed_one_by_one() {
        for (text, want) in [
            (
                "API_KEY = \"sk-test-4f9c2b7e8d1a\"  # keylint: ignore[KL101, KL999]\n",
                "API_KEY = \"sk-test-4f9c2b7e8d1a\"  # keylint: ignore[KL101]\n",
            ),
            (
                "API_KEY = \"sk-test-4f9c2b7e8d1a\"  # keylint: ignore[KL999,KL101]\n",
                "API_KEY = \"sk-test-4f9c2b7e8d1a\"  # keylint: ignore[KL101]\n",
            ),
        ] {
            let (doc, analysis) =
                crate::engine::analyze_text(text, &crate::rules::Options::default());
            let found = apply(
                analysis.findings,
                &["KL001", "KL101"],
                doc.view(),
                doc.source(),
            );
            assert_eq!(found.len(), 1, "{text}");
            assert!(found[0].message.contains("Unknown rule `KL999`"));
            let fixed = crate::engine::fixes::apply_edits(text, &found[0].fixes[0].edits).0;
            assert_eq!(fixed, want);
        }
    }

    fn edit(text: &str, line: usize, code: &str) -> Option<String> {
        let doc = Document::new(text, 0);
        suppression_edit(doc.view(), doc.source(), line, code)
            .map(|e| crate::engine::fixes::apply_edits(text, &[e]).0)
    }

    #[test]
    fn suppression_edit_appends_or_extends() {
        assert_eq!(
            edit("KEY = 'abc'   \n", 0, "KL101").unwrap(),
            "KEY = 'abc'  # keylint: ignore[KL101]\n"
        );
        assert_eq!(
            edit("KEY = 'abc'  # keylint: ignore[KL202]\n", 0, "KL101").unwrap(),
            "KEY = 'abc'  # keylint: ignore[KL202, KL101]\n"
        );
        assert_eq!(
            edit("KEY = 'abc'  # why\n", 0, "KL101").unwrap(),
            "KEY = 'abc'  # why  # keylint: ignore[KL101]\n"
        );
        assert_eq!(edit("KEY = 'abc'  # keylint: ignore\n", 0, "KL101"), None);
        assert_eq!(edit("KEY = '''abc\ndef'''\n", 0, "KL101"), None);
    }
}
