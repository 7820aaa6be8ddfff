//! LSP positions ↔ byte offsets, in the negotiated position encoding.
//!
//! Lines are separated by `\n`, `\r\n` or `\r` (ropey's `cr_lines`). A line's *content* excludes its
//! line break. Conversions go through the rope's indices (line ↔ byte ↔ char ↔ UTF-16 code unit), each
//! O(log n): no line is copied or scanned, however long.

use ropey::Rope;

use super::Document;

/// The unit of LSP `Position.character`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PositionEncoding {
    Utf8,
    #[default]
    Utf16,
    Utf32,
}

/// An LSP position: 0-based line, column in the units of the encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Pos {
    pub line: u32,
    pub character: u32,
}

impl Pos {
    pub fn new(line: u32, character: u32) -> Self {
        Pos { line, character }
    }
}

/// One `TextDocumentContentChangeEvent`: a range change, or a full replacement when `range` is None.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentChange {
    pub range: Option<(Pos, Pos)>,
    pub text: String,
}

/// Byte offset of the end of the content of `line` (before its line break, if any).
/// `line` must be a valid line index.
pub(super) fn line_content_end(rope: &Rope, line: usize) -> usize {
    if line + 1 >= rope.len_lines() {
        // The last line never ends with a line break.
        return rope.len_bytes();
    }
    let start = rope.line_to_byte(line);
    let next = rope.line_to_byte(line + 1);
    // `next > start`: a line that is not the last one ends with a break.
    let mut end = next - 1;
    if rope.byte(end) == b'\n' && end > start && rope.byte(end - 1) == b'\r' {
        end -= 1;
    }
    end
}

/// The largest char boundary at or before `byte` (clamped to the text), moved before the `\r` of a
/// `\r\n` when it falls between the two.
pub(super) fn snap_byte(rope: &Rope, byte: usize) -> usize {
    let len = rope.len_bytes();
    let byte = byte.min(len);
    let byte = rope.char_to_byte(rope.byte_to_char(byte));
    if byte > 0 && byte < len && rope.byte(byte) == b'\n' && rope.byte(byte - 1) == b'\r' {
        byte - 1
    } else {
        byte
    }
}

/// [`Document::position_to_byte`] on a bare rope (a document kept as text only, `lsp/large.rs`).
pub fn rope_position_to_byte(rope: &Rope, pos: Pos, enc: PositionEncoding) -> usize {
    let line = pos.line as usize;
    if line >= rope.len_lines() {
        return rope.len_bytes();
    }
    let start = rope.line_to_byte(line);
    let end = line_content_end(rope, line);
    let character = pos.character as usize;
    match enc {
        PositionEncoding::Utf8 => {
            let byte = start + character.min(end - start);
            // Back to the start of a character cut in the middle.
            rope.char_to_byte(rope.byte_to_char(byte))
        }
        PositionEncoding::Utf32 => {
            let c0 = rope.byte_to_char(start);
            let c1 = rope.byte_to_char(end);
            rope.char_to_byte(c0 + character.min(c1 - c0))
        }
        PositionEncoding::Utf16 => {
            let u0 = rope.char_to_utf16_cu(rope.byte_to_char(start));
            let u1 = rope.char_to_utf16_cu(rope.byte_to_char(end));
            // `utf16_cu_to_char` maps the second half of a surrogate pair to its character.
            let c = rope.utf16_cu_to_char(u0 + character.min(u1 - u0));
            rope.char_to_byte(c)
        }
    }
}

impl Document {
    /// Byte offset of an LSP position. Clamped, never a panic: past the end of a line → the end of
    /// the line's content (before `\r\n` / `\n` / `\r`); past the last line → the end of the file;
    /// inside a surrogate pair (UTF-16) or a multi-byte sequence (UTF-8) → the start of that
    /// character. Never between `\r` and `\n`.
    pub fn position_to_byte(&self, pos: Pos, enc: PositionEncoding) -> usize {
        rope_position_to_byte(&self.rope, pos, enc)
    }

    /// LSP position of a byte offset. The offset is clamped to the text, moved back to a char
    /// boundary, and moved before the `\r` of a `\r\n` if it falls between the two.
    pub fn byte_to_position(&self, byte: usize, enc: PositionEncoding) -> Pos {
        let rope = &self.rope;
        let byte = snap_byte(rope, byte);
        let line = rope.byte_to_line(byte);
        let start = rope.line_to_byte(line);
        let character = match enc {
            PositionEncoding::Utf8 => byte - start,
            PositionEncoding::Utf32 => rope.byte_to_char(byte) - rope.byte_to_char(start),
            PositionEncoding::Utf16 => {
                rope.char_to_utf16_cu(rope.byte_to_char(byte))
                    - rope.char_to_utf16_cu(rope.byte_to_char(start))
            }
        };
        Pos::new(to_u32(line), to_u32(character))
    }

    /// LSP range of a byte range (see [`byte_to_position`](Self::byte_to_position)).
    pub fn byte_range_to_positions(
        &self,
        range: std::ops::Range<usize>,
        enc: PositionEncoding,
    ) -> (Pos, Pos) {
        let start = self.byte_to_position(range.start, enc);
        let end = self.byte_to_position(range.end.max(range.start), enc);
        (start, end)
    }

    /// Byte range of an LSP range (see [`position_to_byte`](Self::position_to_byte)); an end before
    /// the start is taken as the start.
    pub fn positions_to_byte_range(
        &self,
        start: Pos,
        end: Pos,
        enc: PositionEncoding,
    ) -> std::ops::Range<usize> {
        let a = self.position_to_byte(start, enc);
        let b = self.position_to_byte(end, enc).max(a);
        a..b
    }

    /// Byte range of the content of a 0-based line (without its line break); an empty range at the
    /// end of the file past the last line.
    pub fn line_content_range(&self, line: usize) -> std::ops::Range<usize> {
        let rope = &self.rope;
        if line >= rope.len_lines() {
            let len = rope.len_bytes();
            return len..len;
        }
        rope.line_to_byte(line)..line_content_end(rope, line)
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
