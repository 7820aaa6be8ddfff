//! Applying LSP content changes: in-place rope edit, `InputEdit`, incremental reparse.
//! See the module documentation of [`super`] for the whole path.

use ropey::Rope;
use tree_sitter::{InputEdit, Point};

use super::{has_lone_cr, python_parser, whole_range, ContentChange, Document, PositionEncoding};

/// What editing the text did to the tree.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TreeState {
    /// Nothing changed (no change, or only empty ones): no reparse.
    Untouched,
    /// The tree was edited and can be reparsed incrementally.
    Edited,
    /// The text was replaced wholesale: parse from scratch.
    Stale,
}

impl Document {
    /// Applies one content change and reparses (incrementally for a range change).
    pub fn apply_change(&mut self, change: &ContentChange, enc: PositionEncoding) {
        let state = self.edit_text(change, enc, TreeState::Untouched);
        self.reparse(state);
    }

    /// Applies the content changes of one `didChange`, in order (each relative to the text left by the
    /// previous one), reparses once, and sets the version.
    pub fn apply_changes(
        &mut self,
        changes: &[ContentChange],
        version: i32,
        enc: PositionEncoding,
    ) {
        let mut state = TreeState::Untouched;
        for change in changes {
            state = self.edit_text(change, enc, state);
        }
        self.reparse(state);
        self.version = version;
    }

    /// Edits the rope and, unless it is stale, the tree (`Tree::edit`); does not reparse.
    fn edit_text(
        &mut self,
        change: &ContentChange,
        enc: PositionEncoding,
        state: TreeState,
    ) -> TreeState {
        let Some((start, end)) = change.range else {
            self.rope = Rope::from_str(&change.text);
            self.may_have_lone_cr = has_lone_cr(&change.text);
            return TreeState::Stale;
        };
        let range = self.positions_to_byte_range(start, end, enc);
        let text = change.text.as_str();
        if range.is_empty() && text.is_empty() {
            return state;
        }
        let (a, b) = (range.start, range.end);

        // Points before the edit (tree-sitter convention: rows count `\n`, columns are bytes).
        let edit = (state != TreeState::Stale).then(|| {
            let start_position = self.ts_point(a);
            let old_end_position = advance(start_position, self.rope.byte_slice(a..b).chunks());
            let new_end_position = advance(start_position, std::iter::once(text));
            InputEdit {
                start_byte: a,
                old_end_byte: b,
                new_end_byte: a + text.len(),
                start_position,
                old_end_position,
                new_end_position,
            }
        });

        let rope = &mut self.rope;
        let ca = rope.byte_to_char(a);
        if b > a {
            let cb = rope.byte_to_char(b);
            rope.remove(ca..cb);
        }
        if !text.is_empty() {
            rope.insert(ca, text);
        }
        // A lone `\r` can only appear in the inserted text or just before the edit (its `\n` gone).
        if text.contains('\r') || (a > 0 && rope.byte(a - 1) == b'\r') {
            self.may_have_lone_cr = true;
        }

        match edit {
            Some(edit) => {
                self.tree.edit(&edit);
                TreeState::Edited
            }
            None => TreeState::Stale,
        }
    }

    /// The tree-sitter point of a byte offset of the current text: the row counts `\n` bytes (a lone
    /// `\r` is no line break for tree-sitter), the column counts bytes since the last `\n`.
    pub(super) fn ts_point(&self, byte: usize) -> Point {
        let rope = &self.rope;
        if !self.may_have_lone_cr {
            // Without lone `\r`, ropey's lines are tree-sitter's rows.
            let line = rope.byte_to_line(byte);
            return Point::new(line, byte - rope.line_to_byte(line));
        }
        advance(Point::new(0, 0), rope.byte_slice(..byte).chunks())
    }

    /// Reparses the rope: incrementally from the edited tree, or from scratch when it is stale.
    fn reparse(&mut self, state: TreeState) {
        if state == TreeState::Untouched {
            self.changed_ranges = std::sync::OnceLock::from(Vec::new());
            self.previous_tree = None;
            return;
        }
        let parser = self.parser.get_or_insert_with(python_parser);
        let rope = &self.rope;
        let mut read = |byte: usize, _: Point| rope_chunk_from(rope, byte);
        let old_tree = (state == TreeState::Edited).then_some(&self.tree);
        let tree = parser
            .parse_with_options(&mut read, old_tree, None)
            .expect("parsing without a timeout or cancellation flag always returns a tree");
        self.changed_ranges = std::sync::OnceLock::new();
        self.previous_tree = None;
        if state == TreeState::Stale {
            self.changed_ranges = std::sync::OnceLock::from(vec![whole_range(&tree)]);
            self.tree = tree;
        } else {
            self.previous_tree = Some(std::mem::replace(&mut self.tree, tree));
        }
    }
}

/// The text from `byte` to the end of the rope chunk that holds it (empty at the end of the text).
fn rope_chunk_from(rope: &Rope, byte: usize) -> &[u8] {
    if byte >= rope.len_bytes() {
        return &[];
    }
    let (chunk, chunk_start, _, _) = rope.chunk_at_byte(byte);
    &chunk.as_bytes()[byte - chunk_start..]
}

/// `point` moved over `text` (given in pieces), in tree-sitter's convention.
fn advance<'a>(mut point: Point, pieces: impl Iterator<Item = &'a str>) -> Point {
    for piece in pieces {
        let bytes = piece.as_bytes();
        match bytes.iter().rposition(|&c| c == b'\n') {
            Some(last) => {
                point.row += bytes.iter().filter(|&&c| c == b'\n').count();
                point.column = bytes.len() - last - 1;
            }
            None => point.column += bytes.len(),
        }
    }
    point
}
