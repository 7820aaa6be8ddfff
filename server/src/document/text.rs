//! Read access to a document's text by byte range, for the analysis and the rules.

use std::borrow::Cow;
use std::hash::Hasher;
use std::ops::Range;

use ropey::Rope;
use tree_sitter::Node;

/// The size of the blocks [`SourceText::hash_bytes`] feeds a hasher.
const HASH_BLOCK: usize = 64;

/// A view of the text of a document. Cheap to copy.
#[derive(Clone, Copy)]
pub struct SourceText<'a> {
    rope: &'a Rope,
    /// The same text in one piece, when the caller holds it (`keylint check` reads each file
    /// into a `String`), or a window of it (the editor's: the text around an edit, see
    /// [`SourceText::with_window`]): slices in it are then borrowed in O(1), without a descent
    /// of the rope (and never copied across its chunks). Slices elsewhere descend the rope.
    flat: Option<&'a str>,
    /// Where `flat` starts in the text (0 for the whole text).
    flat_at: usize,
}

impl<'a> SourceText<'a> {
    pub fn new(rope: &'a Rope) -> Self {
        SourceText {
            rope,
            flat: None,
            flat_at: 0,
        }
    }

    /// A view of `rope` whose text is also `text` in one piece (they must be the same text).
    pub fn with_text(rope: &'a Rope, text: &'a str) -> Self {
        debug_assert_eq!(rope.len_bytes(), text.len());
        SourceText {
            rope,
            flat: Some(text),
            flat_at: 0,
        }
    }

    /// A view of `rope` of which `text` is the part from byte `at` on (they must agree; `at`
    /// and `at + text.len()` are char boundaries): slices within that part are borrowed from
    /// `text`, others are read from the rope. The same results as [`SourceText::new`].
    pub fn with_window(rope: &'a Rope, text: &'a str, at: usize) -> Self {
        debug_assert!(at + text.len() <= rope.len_bytes());
        SourceText {
            rope,
            flat: Some(text),
            flat_at: at,
        }
    }

    /// The part of the text in one piece, when `start..end` (clamped to the text) lies in it,
    /// with where it starts.
    fn flat_for(&self, start: usize, end: usize) -> Option<(&'a str, usize)> {
        let text = self.flat?;
        let len = self.rope.len_bytes();
        let (start, end) = (start.min(len), end.min(len));
        (start.min(end) >= self.flat_at && end.max(start) <= self.flat_at + text.len())
            .then_some((text, self.flat_at))
    }

    /// The whole text in one piece, when held.
    fn flat_whole(&self) -> Option<&'a str> {
        self.flat
            .filter(|t| self.flat_at == 0 && t.len() == self.rope.len_bytes())
    }

    pub fn rope(&self) -> &'a Rope {
        self.rope
    }

    pub fn len(&self) -> usize {
        self.rope.len_bytes()
    }

    pub fn is_empty(&self) -> bool {
        self.rope.len_bytes() == 0
    }

    /// Text of a byte range, borrowed when it lies within one chunk. Offsets are clamped to the text
    /// and moved back to a char boundary, so a stale range can never panic.
    pub fn slice(&self, range: Range<usize>) -> Cow<'a, str> {
        let len = self.rope.len_bytes();
        if let Some((text, at)) = self.flat_for(range.start, range.end) {
            let start = range.start.min(len) - at;
            let s = floor_in(text, start);
            let e = floor_in(text, range.end.min(len).max(range.start.min(len)) - at).max(s);
            return Cow::Borrowed(&text[s..e]);
        }
        let (start, end) = (range.start.min(len), range.end.min(len));
        // Fast path: the range lies in one chunk (almost every node does). Chunks end on char
        // boundaries, so a boundary inside the chunk is one of the text.
        let (chunk, chunk_start, _, _) = self.rope.chunk_at_byte(start);
        if end <= chunk_start + chunk.len() {
            let s = floor_in(chunk, start - chunk_start);
            let e = floor_in(chunk, end.max(start) - chunk_start).max(s);
            return Cow::Borrowed(&chunk[s..e]);
        }
        let start = self.floor_boundary(start);
        let end = self.floor_boundary(end).max(start);
        let slice = self.rope.byte_slice(start..end);
        match slice.as_str() {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(slice.to_string()),
        }
    }

    pub fn node_text(&self, node: Node) -> Cow<'a, str> {
        self.slice(node.byte_range())
    }

    /// The largest char boundary at or before `byte`.
    pub fn floor_boundary(&self, byte: usize) -> usize {
        let byte = byte.min(self.rope.len_bytes());
        if let Some((text, at)) = self.flat_for(byte, byte) {
            return at + floor_in(text, byte - at);
        }
        let (chunk, chunk_start, _, _) = self.rope.chunk_at_byte(byte);
        chunk_start + floor_in(chunk, byte - chunk_start)
    }

    /// Feeds the bytes of `range` to `hasher` without copying them (see [`Self::hash_bytes`]).
    pub fn hash_range<H: Hasher>(&self, range: Range<usize>, hasher: &mut H) {
        let len = self.rope.len_bytes();
        let start = self.floor_boundary(range.start.min(len));
        let end = self.floor_boundary(range.end.min(len)).max(start);
        self.hash_bytes(start..end, hasher);
    }

    /// Feeds the bytes of `range` (clamped to the text) to `hasher`, without moving the range to
    /// char boundaries: for node ranges, which always lie on them. Cheaper than
    /// [`hash_range`](Self::hash_range) (no char index conversions). The bytes go in blocks of
    /// [`HASH_BLOCK`] whatever the rope's chunks: a hasher's result depends on how its input is
    /// split between `write`s, and the same text must hash alike however the rope holds it (the
    /// analyzer's cache keys items by it).
    pub fn hash_bytes<H: Hasher>(&self, range: Range<usize>, hasher: &mut H) {
        let len = self.rope.len_bytes();
        let (mut at, end) = (range.start.min(len), range.end.min(len));
        if let Some((text, from)) = self.flat_for(at, end) {
            // The same blocks as below, cut from the one piece.
            let mut blocks = text.as_bytes()[at.min(end) - from..end - from].chunks(HASH_BLOCK);
            for b in &mut blocks {
                hasher.write(b);
            }
            return;
        }
        let mut block = [0u8; HASH_BLOCK];
        let mut held = 0;
        while at < end {
            let (chunk, chunk_start, _, _) = self.rope.chunk_at_byte(at);
            let bytes = chunk.as_bytes();
            let to = (end - chunk_start).min(bytes.len());
            let mut piece = &bytes[at - chunk_start..to];
            at = chunk_start + to;
            if held > 0 {
                let take = (HASH_BLOCK - held).min(piece.len());
                block[held..held + take].copy_from_slice(&piece[..take]);
                held += take;
                piece = &piece[take..];
                if held < HASH_BLOCK {
                    continue;
                }
                hasher.write(&block);
            }
            let whole = piece.len() - piece.len() % HASH_BLOCK;
            for b in piece[..whole].chunks_exact(HASH_BLOCK) {
                hasher.write(b);
            }
            let rest = &piece[whole..];
            block[..rest.len()].copy_from_slice(rest);
            held = rest.len();
        }
        if held > 0 {
            hasher.write(&block[..held]);
        }
    }

    /// Whether the text contains `needle`, searched chunk by chunk (no copy of the text; a match
    /// across a chunk boundary is found too).
    pub fn contains(&self, needle_str: &str) -> bool {
        if let Some(text) = self.flat_whole() {
            return text.contains(needle_str);
        }
        let needle = needle_str.as_bytes();
        if needle.is_empty() {
            return true;
        }
        // The last `needle.len() - 1` bytes seen, joined with the next chunk's first bytes.
        let mut tail: Vec<u8> = Vec::with_capacity(2 * needle.len());
        for chunk in self.rope.chunks() {
            let bytes = chunk.as_bytes();
            if !tail.is_empty() {
                let head = &bytes[..bytes.len().min(needle.len() - 1)];
                tail.extend_from_slice(head);
                if find(&tail, needle) {
                    return true;
                }
                tail.truncate(tail.len() - head.len());
            }
            if chunk.contains(needle_str) {
                return true;
            }
            tail.extend_from_slice(bytes);
            let keep = tail.len().min(needle.len() - 1);
            tail.drain(..tail.len() - keep);
        }
        false
    }

    /// 0-based line of a byte offset (LSP line semantics: `\n`, `\r\n`, `\r`).
    pub fn line_of(&self, byte: usize) -> usize {
        self.rope.byte_to_line(byte.min(self.rope.len_bytes()))
    }

    /// Byte offset where a 0-based line starts (the end of the text past the last line).
    pub fn line_start(&self, line: usize) -> usize {
        if line >= self.rope.len_lines() {
            self.rope.len_bytes()
        } else {
            self.rope.line_to_byte(line)
        }
    }

    /// The line ending of the document's first line (`"\r\n"`, `"\r"`, or `"\n"`, also when the
    /// first line has none), for inserted lines.
    pub fn line_ending(&self) -> &'static str {
        // The last two chars of the first line, without copying it (a minified file's first
        // line is the whole file).
        let first_line = self.rope.line(0);
        let n = first_line.len_chars();
        let at = |i: usize| (i < n).then(|| first_line.char(i));
        match (n.checked_sub(2).and_then(at), n.checked_sub(1).and_then(at)) {
            (Some('\r'), Some('\n')) => "\r\n",
            (_, Some('\r')) => "\r",
            _ => "\n",
        }
    }
}

/// Whether `needle` (not empty) occurs in `haystack` (a few bytes around a chunk boundary).
fn find(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The largest char boundary of `chunk` at or before `i` (clamped to its length).
fn floor_in(chunk: &str, i: usize) -> usize {
    let mut i = i.min(chunk.len());
    while !chunk.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use std::hash::Hasher;

    use ropey::Rope;
    use rustc_hash::FxHasher;

    use super::SourceText;

    fn hash(rope: &Rope, range: std::ops::Range<usize>) -> u64 {
        let mut h = FxHasher::default();
        SourceText::new(rope).hash_bytes(range, &mut h);
        h.finish()
    }

    #[test]
    fn the_same_text_hashes_alike_however_the_rope_holds_it() {
        let text: String = (0..3000)
            .map(|i| format!("line_{i} = f({i})  # é\n"))
            .collect();
        let whole = Rope::from_str(&text);
        // The same text built line by line: other chunk boundaries.
        let mut edited = Rope::new();
        for line in text.split_inclusive('\n') {
            let at = edited.len_chars();
            edited.insert(at, line);
        }
        assert_eq!(edited.to_string(), text);
        let chunks = |r: &Rope| r.chunks().map(str::len).collect::<Vec<_>>();
        assert_ne!(
            chunks(&whole),
            chunks(&edited),
            "the test needs other boundaries"
        );
        for range in [
            0..text.len(),
            5..text.len() - 7,
            1000..1064,
            1000..1100,
            3..4,
            9..9,
        ] {
            assert_eq!(
                hash(&whole, range.clone()),
                hash(&edited, range.clone()),
                "{range:?}"
            );
        }
        assert_ne!(hash(&whole, 0..100), hash(&whole, 1..101));
        // Fed chunk by chunk, the hasher would tell the two ropes apart.
        let naive = |r: &Rope| {
            let mut h = FxHasher::default();
            for c in r.chunks() {
                h.write(c.as_bytes());
            }
            h.finish()
        };
        assert_ne!(naive(&whole), naive(&edited));
    }

    #[test]
    fn a_view_with_the_text_in_one_piece_reads_what_the_rope_reads() {
        let text: String = (0..3000)
            .map(|i| format!("line_{i} = f({i})  # é\n"))
            .collect();
        let rope = Rope::from_str(&text);
        assert!(rope.chunks().count() > 1, "the test needs several chunks");
        let e = text.find('é').unwrap();
        let n = text.len();
        let e2 = 1000 + text[1000..].find('é').unwrap();
        let by_rope = SourceText::new(&rope);
        // The whole text, and windows of it (the editor's: the text around an edit), one of
        // them ending just before the `é` and one starting just after it.
        let mut views = vec![SourceText::with_text(&rope, &text)];
        for (from, to) in [
            (0, 1000),
            (e + 2, 1064),
            (900, e2),
            (e2 + 2, n / 2),
            (n / 2, n),
        ] {
            views.push(SourceText::with_window(&rope, &text[from..to], from));
        }
        for flat in views {
            for range in [
                0..n,
                5..n - 7,
                1000..1064,
                1000..1100,
                3..4,
                9..9,
                // Reversed (a stale range): empty either way.
                std::ops::Range { start: 9, end: 3 },
                std::ops::Range {
                    start: 1010,
                    end: 990,
                },
                e + 1..e + 40,
                e..e + 1,
                e + 1..e + 1,
                e2 - 5..e2 + 1,
                e2 + 1..e2 + 9,
                n - 3..n + 10,
                n + 5..n + 9,
            ] {
                assert_eq!(
                    by_rope.slice(range.clone()),
                    flat.slice(range.clone()),
                    "{range:?}"
                );
                let h = |s: SourceText| {
                    let mut h = FxHasher::default();
                    s.hash_bytes(range.clone(), &mut h);
                    h.finish()
                };
                assert_eq!(h(by_rope), h(flat), "{range:?}");
                let h = |s: SourceText| {
                    let mut h = FxHasher::default();
                    s.hash_range(range.clone(), &mut h);
                    h.finish()
                };
                assert_eq!(h(by_rope), h(flat), "{range:?}");
                for at in [range.start, range.end] {
                    assert_eq!(by_rope.floor_boundary(at), flat.floor_boundary(at));
                }
            }
            for needle in ["line_2999", "é\nline_17 ", "nothing", ""] {
                assert_eq!(by_rope.contains(needle), flat.contains(needle), "{needle}");
            }
        }
    }
}
