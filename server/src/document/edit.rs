//! Applying LSP content changes: in-place rope edit, `InputEdit`, incremental reparse.
//! See the module documentation of [`super`] for the whole path.

use ropey::Rope;
use tree_sitter::{InputEdit, Point};

use super::{
    has_lone_cr, indent, python_parser, whole_range, ContentChange, Document, PositionEncoding,
};

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

/// Whether the changes of one notification can be reparsed as one statement (`region.rs`).
enum Plan {
    /// No change looked at yet.
    Unknown,
    /// Every change so far fell strictly inside this statement's region (kept up to date).
    Inside(super::region::Target),
    /// Reparse the whole file.
    Whole,
}

impl Document {
    /// Applies one content change and reparses (incrementally for a range change).
    pub fn apply_change(&mut self, change: &ContentChange, enc: PositionEncoding) {
        let version = self.version;
        self.apply_changes(std::slice::from_ref(change), version, enc);
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
        let mut plan = Plan::Unknown;
        for change in changes {
            state = self.edit_text(change, enc, state, &mut plan);
        }
        self.version = version;
        if state != TreeState::Untouched
            && (self.too_deep || self.indent_bound >= indent::MAX_DEPTH)
        {
            let was_too_deep = self.too_deep;
            self.indent_bound = indent::depth_bound(self.rope.chunks().map(str::as_bytes));
            self.too_deep = self.indent_bound >= indent::MAX_DEPTH;
            if self.too_deep {
                self.parse_blank();
                return;
            }
            if was_too_deep {
                // The tree is a blank text's: parse the text from scratch.
                state = TreeState::Stale;
                plan = Plan::Whole;
            }
        }
        if state == TreeState::Edited {
            if let Plan::Inside(target) = plan {
                if self.reparse_region(target) {
                    return;
                }
            }
        }
        if state != TreeState::Untouched {
            self.patch = None;
        }
        self.reparse(state);
    }

    /// Edits the rope and, unless it is stale, the tree (`Tree::edit`, and the patch's tree while
    /// the plan keeps it); does not reparse.
    fn edit_text(
        &mut self,
        change: &ContentChange,
        enc: PositionEncoding,
        state: TreeState,
        plan: &mut Plan,
    ) -> TreeState {
        let Some((start, end)) = change.range else {
            self.rope = Rope::from_str(&change.text);
            self.may_have_lone_cr = has_lone_cr(&change.text);
            // Unknown: computed again before the parse.
            self.indent_bound = indent::MAX_DEPTH;
            *plan = Plan::Whole;
            return TreeState::Stale;
        };
        let range = self.positions_to_byte_range(start, end, enc);
        let text = change.text.as_str();
        if range.is_empty() && text.is_empty() {
            return state;
        }
        let (a, b) = (range.start, range.end);
        self.plan_edit(plan, state, a, b, text.len());
        let removed_special = self
            .rope
            .byte_slice(a..b)
            .chunks()
            .any(|c| indent::has_special(c.as_bytes()));
        self.indent_bound = self
            .indent_bound
            .saturating_add(indent::change_allowance(text, removed_special));

        // A `\r` just before the edit reads as `\n` when no `\n` follows it (the parse view):
        // the edit may change that, so the edit starts at the `\r` for tree-sitter.
        let from = if a > 0 && self.rope.byte(a - 1) == b'\r' {
            a - 1
        } else {
            a
        };
        // Points before the edit (rows are the rope's lines in the parse view, columns bytes).
        let before = (state != TreeState::Stale).then(|| (self.ts_point(from), self.ts_point(b)));

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
        // Typing Enter in a `\r\n` file inserts `\r\n`: no lone one.
        if creates_lone_cr(rope, a, text) {
            self.may_have_lone_cr = true;
            *plan = Plan::Whole;
        }

        match before {
            Some((start_position, old_end_position)) => {
                let edit = InputEdit {
                    start_byte: from,
                    old_end_byte: b,
                    new_end_byte: a + text.len(),
                    start_position,
                    old_end_position,
                    new_end_position: self.ts_point(a + text.len()),
                };
                self.tree.edit(&edit);
                if let (Plan::Inside(_), Some(patch)) = (&*plan, &mut self.patch) {
                    patch.tree.edit(&edit);
                }
                TreeState::Edited
            }
            None => TreeState::Stale,
        }
    }

    /// Follows an edit of `[a, b)` (bytes before it) replaced by `len` bytes in the plan.
    fn plan_edit(&self, plan: &mut Plan, state: TreeState, a: usize, b: usize, len: usize) {
        let first = matches!(plan, Plan::Unknown);
        if first {
            *plan = match &self.patch {
                _ if !self.region_parsing || self.may_have_lone_cr => Plan::Whole,
                Some(p) => Plan::Inside(p.target.clone()),
                // Untouched: the whole tree is exact (a stale one was reparsed).
                None if state == TreeState::Untouched => {
                    super::region::target_in(&self.tree, &self.rope, a, b)
                        .map_or(Plan::Whole, Plan::Inside)
                }
                None => Plan::Whole,
            };
        }
        if let Plan::Inside(target) = plan {
            let text_len = self.rope.len_bytes();
            if super::region::strictly_inside(target, a, b, text_len) {
                target.region.end = target.region.end - (b - a) + len;
                target.edited_from = if first { a } else { target.edited_from.min(a) };
            } else {
                *plan = Plan::Whole;
            }
        }
    }

    /// Reparses the region of `target` alone; keeps the patch and returns true when the result
    /// stands (see `region.rs`), returns false (nothing kept) otherwise.
    fn reparse_region(&mut self, target: super::region::Target) -> bool {
        let old = self
            .patch
            .take()
            .filter(|p| p.target.start == target.start && p.target.kind == target.kind);
        let parser = self.region_parser.get_or_insert_with(python_parser);
        let mut target = target;
        let whole = Some(&self.tree);
        let mut tree = super::region::parse(
            parser,
            &self.rope,
            &target,
            old.as_ref().map(|p| &p.tree),
            whole,
        );
        // A bracket or string left open at the end of the region (`logger.info(` typed before its
        // `)`) may take the next statements in a fresh parse: the region takes them too, one by
        // one, until its errors end before its last line (`region::extend`). The whole file,
        // whose error recovery would run over the rest of the module, is reparsed only when
        // that does not settle within a few statements.
        let mut extended = 0;
        while tree.is_none() && extended < super::region::MAX_EXTEND {
            let Some(wider) = super::region::extend(&self.tree, &self.rope, &target) else {
                break;
            };
            target = wider;
            extended += 1;
            tree = super::region::parse(parser, &self.rope, &target, None, whole);
        }
        let Some(tree) = tree else {
            return false;
        };
        let region = target.region.clone();
        self.changed_ranges = std::sync::OnceLock::from(vec![tree_sitter::Range {
            start_byte: region.start,
            end_byte: region.end,
            start_point: self.ts_point(region.start),
            end_point: self.ts_point(region.end),
        }]);
        self.previous_tree = None;
        self.patch = Some(super::region::Patch { target, tree });
        true
    }

    /// The tree-sitter point of a byte offset of the current text, as the parser reads it (its
    /// parse view, where a lone `\r` is a `\n`): the row is the rope's line, the column counts
    /// bytes since the line's start.
    pub(super) fn ts_point(&self, byte: usize) -> Point {
        let rope = &self.rope;
        let line = rope.byte_to_line(byte);
        Point::new(line, byte - rope.line_to_byte(line))
    }

    /// Replaces the tree with a parse of the text made blank, from scratch (`indent.rs`).
    fn parse_blank(&mut self) {
        self.patch = None;
        let tree = super::parse_str(&indent::blank(self.rope.chunks().map(str::as_bytes)));
        self.changed_ranges = std::sync::OnceLock::from(vec![whole_range(&tree)]);
        self.previous_tree = None;
        self.tree = tree;
        self.lineage = super::new_lineage();
        self.structure = super::new_lineage();
    }

    /// Reparses the whole tree incrementally from its edited self (after a patch).
    pub(super) fn reparse_edited(&mut self) {
        self.reparse(TreeState::Edited);
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
        let lone_cr = self.may_have_lone_cr;
        let mut read = |byte: usize, _: Point| parse_chunk_from(rope, byte, lone_cr);
        let old_tree = (state == TreeState::Edited).then_some(&self.tree);
        let tree = parser
            .parse_with_options(&mut read, old_tree, None)
            .expect("parsing without a timeout or cancellation flag always returns a tree");
        self.changed_ranges = std::sync::OnceLock::new();
        self.previous_tree = None;
        self.structure = super::new_lineage();
        if state == TreeState::Stale {
            self.changed_ranges = std::sync::OnceLock::from(vec![whole_range(&tree)]);
            self.tree = tree;
            self.lineage = super::new_lineage();
        } else {
            self.previous_tree = Some(std::mem::replace(&mut self.tree, tree));
        }
    }
}

/// Whether `text`, just inserted at `a` of `rope` (the edited text), left a `\r` not followed by
/// `\n`: in `text`, or just before it (the `\n` after an old `\r` removed, or text put between).
fn creates_lone_cr(rope: &Rope, a: usize, text: &str) -> bool {
    let after = a + text.len();
    let next_is_lf = |at: usize| at < rope.len_bytes() && rope.byte(at) == b'\n';
    let bytes = text.as_bytes();
    let inside = bytes.iter().enumerate().any(|(i, &c)| {
        c == b'\r'
            && match bytes.get(i + 1) {
                Some(&next) => next != b'\n',
                None => !next_is_lf(after),
            }
    });
    inside || (a > 0 && rope.byte(a - 1) == b'\r' && !next_is_lf(a))
}

/// The text from `byte` to the end of the rope chunk that holds it (empty at the end of the text).
pub(super) fn rope_chunk_from(rope: &Rope, byte: usize) -> &[u8] {
    if byte >= rope.len_bytes() {
        return &[];
    }
    let (chunk, chunk_start, _, _) = rope.chunk_at_byte(byte);
    &chunk.as_bytes()[byte - chunk_start..]
}

/// [`rope_chunk_from`] as the parser reads it: with every lone `\r` as `\n` when `lone_cr` (the
/// text may hold one; see [`super::parse_view`]), copied then.
fn parse_chunk_from(rope: &Rope, byte: usize, lone_cr: bool) -> std::borrow::Cow<'_, [u8]> {
    let chunk = rope_chunk_from(rope, byte);
    if !lone_cr || !chunk.contains(&b'\r') {
        return std::borrow::Cow::Borrowed(chunk);
    }
    let end = byte + chunk.len();
    let next = (end < rope.len_bytes()).then(|| rope.byte(end));
    let mut bytes = chunk.to_vec();
    super::map_lone_cr(&mut bytes, next);
    std::borrow::Cow::Owned(bytes)
}
