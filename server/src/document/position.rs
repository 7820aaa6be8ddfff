//! LSP positions ↔ byte offsets, in the negotiated position encoding.
//!
//! FOUNDATION STUB: correct but not incremental; the document engine replaces `apply_change` with
//! an in-place rope edit + tree-sitter `InputEdit` + incremental reparse.

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

impl Document {
    /// Byte offset of an LSP position; positions past the end of a line or of the file, or inside a
    /// surrogate pair / UTF-8 sequence, are clamped (never a panic, never between `\r` and `\n`).
    pub fn position_to_byte(&self, pos: Pos, enc: PositionEncoding) -> usize {
        let rope = &self.rope;
        let line = pos.line as usize;
        if line >= rope.len_lines() {
            return rope.len_bytes();
        }
        let line_start = rope.line_to_byte(line);
        let slice = rope.line(line);
        let mut content_len = slice.len_bytes();
        // The line's content excludes its line break.
        let s: std::borrow::Cow<str> = slice.into();
        if s.ends_with("\r\n") {
            content_len -= 2;
        } else if s.ends_with('\n') || s.ends_with('\r') {
            content_len -= 1;
        }
        let mut units = 0u32;
        let mut bytes = 0usize;
        for c in s[..content_len].chars() {
            let w = match enc {
                PositionEncoding::Utf8 => c.len_utf8() as u32,
                PositionEncoding::Utf16 => c.len_utf16() as u32,
                PositionEncoding::Utf32 => 1,
            };
            if units + w > pos.character {
                break;
            }
            units += w;
            bytes += c.len_utf8();
        }
        line_start + bytes
    }

    /// LSP position of a byte offset (clamped to the text and to a char boundary).
    pub fn byte_to_position(&self, byte: usize, enc: PositionEncoding) -> Pos {
        let rope = &self.rope;
        let byte = self.source().floor_boundary(byte);
        let line = rope.byte_to_line(byte);
        let line_start = rope.line_to_byte(line);
        let prefix = self.source().slice(line_start..byte);
        let character = match enc {
            PositionEncoding::Utf8 => prefix.len(),
            PositionEncoding::Utf16 => prefix.chars().map(char::len_utf16).sum(),
            PositionEncoding::Utf32 => prefix.chars().count(),
        } as u32;
        Pos::new(line as u32, character)
    }

    /// Applies one content change.
    pub fn apply_change(&mut self, change: &ContentChange, enc: PositionEncoding) {
        let text = match change.range {
            None => change.text.clone(),
            Some((start, end)) => {
                let a = self.position_to_byte(start, enc);
                let b = self.position_to_byte(end, enc).max(a);
                let mut t = self.text();
                t.replace_range(a..b, &change.text);
                t
            }
        };
        let version = self.version;
        *self = Document::new(&text, version);
    }

    /// Applies the content changes of one `didChange`, in order, and sets the version.
    pub fn apply_changes(
        &mut self,
        changes: &[ContentChange],
        version: i32,
        enc: PositionEncoding,
    ) {
        for change in changes {
            self.apply_change(change, enc);
        }
        self.version = version;
    }
}
