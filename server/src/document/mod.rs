//! The document: a rope (the text, LSP line semantics via ropey's `cr_lines`), a tree-sitter tree and
//! the LSP version.
//!
//! ## The edit path
//! An LSP `didChange` carries content changes, applied in order, each relative to the text left by
//! the previous one ([`Document::apply_changes`]):
//!
//! 1. **LSP change → byte range.** The change's start and end positions are converted to byte
//!    offsets in the negotiated [`PositionEncoding`] (UTF-16 by default, UTF-8, UTF-32) by
//!    [`Document::position_to_byte`], through the rope's line / char / UTF-16 indices in O(log n),
//!    without copying a line. Out-of-range positions are clamped: past the end of a line to the end
//!    of its content (before `\r\n`, `\n` or `\r`), past the last line to the end of the file, inside
//!    a surrogate pair or a multi-byte UTF-8 sequence to the start of that character. A byte offset
//!    between the `\r` and the `\n` of a `\r\n` is never produced.
//! 2. **Byte range → rope edit.** The range is converted to char indices and edited in place
//!    (`Rope::remove` then `Rope::insert`): O(log n) plus the size of the change, no copy of the file.
//! 3. **Rope edit → `InputEdit`.** The old tree is told about the edit with `Tree::edit`: start, old end
//!    and new end as byte offsets and as tree-sitter `Point`s (row, column in **bytes**). The parser
//!    reads the text through its *parse view*, where a lone `\r` reads as `\n` ([`parse_view`]),
//!    so its rows are the rope's lines (`\r\n`, `\n` and lone `\r`, as in Python and LSP) and the
//!    points come from the rope's line index in O(log n): start and old end before the edit, new
//!    end after it. A `\r` just before the edit reads as `\n` or not depending on what follows it,
//!    so an edit after a `\r` starts one byte earlier (the `\r` is re-read).
//! 4. **Incremental reparse.** The parser reparses with the edited old tree, reading the text from the
//!    rope's chunks (copied with lone `\r` as `\n` when the text may hold one) through tree-sitter's callback input (`Parser::parse_with_options`), so no `String`
//!    of the whole file is built per keystroke. Several changes of one notification edit the tree one
//!    after the other and are reparsed once. A full replacement (`range: None`) rebuilds the rope and
//!    parses from scratch.
//!
//! 5. **Or: the statement alone.** When every change of the notification falls strictly inside one
//!    statement, only its lines are reparsed (`region.rs`), and the whole tree, edited, waits for
//!    the next edit outside that statement (or [`Document::flush`]). The analysis reads the
//!    statements through [`Document::view`]. `region_parsing = false` turns this off (the
//!    property tests compare such a document with a reference parser after every notification).
//!
//! 6. **Unless the indentation nests too deep for the parser.** tree-sitter-python aborts the
//!    process (a C assertion) on indentation nested about 400–500 levels deep. Every parse is
//!    guarded by a cheap upper bound of that depth (`indent.rs`), raised by each change and
//!    computed again near the limit ([`indent::MAX_DEPTH`], 300; Python itself stops at 100): past
//!    it the document is parsed as blank text and reported as not analysed
//!    ([`Document::too_deep`]).
//!
//! After each reparse, [`Document::last_changed_ranges`] gives the ranges tree-sitter reports as
//! syntactically changed between the old (edited) tree and the new one (computed on first request:
//! nothing on the keystroke path needs them, and they cost a sixth of a reparse).
//!
//! ### Incremental vs from-scratch trees
//! For error-free text the incremental tree is the tree a fresh parse gives (S-expression, every
//! node's byte range and points: checked by `tests/document_props.rs` over random edit sequences).
//! While the text has syntax errors, tree-sitter's error recovery may build a different (equally
//! valid) ERROR tree when it reuses old nodes: rare (from none to about 1% of the erroneous states
//! in runs of the property tests), identical with a plain `String`-based tree-sitter incremental parse given the
//! same edits (also checked), and gone as soon as the text parses cleanly again. So the LSP and the
//! CLI can disagree only on broken code.
//!
//! Outgoing positions ([`Document::byte_to_position`]) are always computed from byte offsets via the
//! rope, never from tree-sitter `Point` columns (which are bytes).
//!
//! `rope` and `tree` are public for reading; change them only through the methods here, which keep
//! them in step.

mod edit;
pub mod encoding;
pub mod indent;
mod position;
mod region;
mod text;
mod view;

pub use position::{rope_position_to_byte, ContentChange, Pos, PositionEncoding};

pub use region::Patch;
pub use text::SourceText;
pub use view::TreeView;

use std::cell::RefCell;

use ropey::Rope;
use tree_sitter::{Parser, Point, Range, Tree};

/// A new tree-sitter parser for Python.
pub fn python_parser() -> Parser {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_python::LANGUAGE.into())
        .expect("tree-sitter-python is compatible with the linked tree-sitter");
    parser
}

thread_local! {
    /// A parser per thread for [`Document::new`], so the CLI does not build (and keep) one per file.
    static THREAD_PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
}

/// Parses `text` from scratch with this thread's parser, as blank text when its indentation may
/// nest too deep for the parser (see `indent.rs`, and [`Document::too_deep`]); returns the tree
/// and whether it is a blank text's.
pub fn parse_text(text: &str) -> (Tree, bool) {
    let (tree, bound) = parse_guarded(text);
    (tree, bound >= indent::MAX_DEPTH)
}

/// [`parse_text`], with the indentation bound.
fn parse_guarded(text: &str) -> (Tree, u32) {
    let bound = indent::depth_bound([text.as_bytes()]);
    if bound >= indent::MAX_DEPTH {
        (parse_str(&indent::blank([text.as_bytes()])), bound)
    } else {
        (parse_str(text), bound)
    }
}

/// Parses `text` from scratch with this thread's parser, through its parse view (a lone `\r`
/// reads as `\n`, see [`parse_view`]).
fn parse_str(text: &str) -> Tree {
    let view = parse_view(text);
    let parse = |parser: &mut Parser| {
        parser
            .parse(view.as_bytes(), None)
            .expect("parsing without a timeout or cancellation flag always returns a tree")
    };
    THREAD_PARSER.with(|cell| match cell.try_borrow_mut() {
        Ok(mut slot) => parse(slot.get_or_insert_with(python_parser)),
        // Re-entered (cannot happen today): use a parser of our own.
        Err(_) => parse(&mut python_parser()),
    })
}

/// One open (or checked) Python file.
pub struct Document {
    pub rope: Rope,
    /// The whole-file tree. While a [`Patch`] is kept, it is edited but not reparsed: read it
    /// through [`Document::view`], or call [`Document::flush`] first.
    pub tree: Tree,
    /// LSP version; 0 for files read by the CLI.
    pub version: i32,
    /// The parser kept for incremental reparses; created on the first edit (the CLI never edits, and
    /// a clone does not need one until it is edited).
    parser: Option<Parser>,
    /// False only when the text is known to hold no lone `\r` (one not followed by `\n`): then the
    /// parser reads the rope's chunks as they are, else through the parse view ([`parse_view`]:
    /// a lone `\r` reads as `\n`). Set by an edit that leaves a lone `\r` (in
    /// its text or just before it), kept until a full rebuild recomputes it (an edit that pairs the
    /// `\r` with a `\n` again does not clear it).
    may_have_lone_cr: bool,
    /// What changed with the last reparse: computed on first request from the edited old tree
    /// (kept until then), since nothing on the keystroke path asks for it.
    changed_ranges: std::sync::OnceLock<Vec<Range>>,
    /// The edited tree before the last incremental reparse, for [`Self::last_changed_ranges`].
    previous_tree: Option<Tree>,
    /// The statement reparsed alone while the user types inside it (see `region.rs`); while it is
    /// kept, `tree` waits, edited, for its next reparse.
    patch: Option<Patch>,
    /// The parser for region reparses (its included ranges change with every region).
    region_parser: Option<Parser>,
    /// Whether edits inside one statement reparse only that statement (on by default).
    pub region_parsing: bool,
    /// Which from-scratch parse the tree descends from (see [`Document::shares_tree_with`]).
    lineage: u64,
    /// Which parse of the whole tree it is (new at every whole-tree parse, incremental or not;
    /// kept while only patches are parsed): see [`TreeView::structure`].
    structure: u64,
    /// An upper bound of how deep tree-sitter-python's indentation stack can get on the text
    /// (`indent.rs`), raised by every change, computed again when it reaches the limit.
    indent_bound: u32,
    /// The text's indentation may nest too deep for the parser: the tree is a parse of blank text
    /// (see [`Document::too_deep`]).
    too_deep: bool,
}

/// A new lineage for a tree parsed from scratch (unique in the process).
fn new_lineage() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl Document {
    /// Parses `text` from scratch (directly from the `&str`).
    pub fn new(text: &str, version: i32) -> Self {
        let (tree, indent_bound) = parse_guarded(text);
        let changed_ranges = std::sync::OnceLock::from(vec![whole_range(&tree)]);
        Document {
            rope: Rope::from_str(text),
            tree,
            version,
            parser: None,
            may_have_lone_cr: has_lone_cr(text),
            changed_ranges,
            previous_tree: None,
            patch: None,
            region_parser: None,
            region_parsing: true,
            lineage: new_lineage(),
            structure: new_lineage(),
            indent_bound,
            too_deep: indent_bound >= indent::MAX_DEPTH,
        }
    }

    /// Whether the text was left unparsed (its tree is a parse of blank text, with no statement):
    /// its indentation may nest [`indent::MAX_DEPTH`] levels deep or more, which the Python parser
    /// cannot hold (see `indent.rs`). Python itself stops at 100 levels. It is parsed again once an
    /// edit brings the nesting back under the limit.
    pub fn too_deep(&self) -> bool {
        self.too_deep
    }

    /// Whether this document's tree and `other`'s descend, through incremental reparses, from the
    /// same from-scratch parse (clones of one document, or versions of it with no full replacement
    /// between them). Their trees and ropes then share every unchanged node, so dropping one while
    /// the other lives frees only what the edits between them rebuilt: about what those reparses
    /// cost. Otherwise dropping it frees the whole tree (milliseconds for a large file).
    pub fn shares_tree_with(&self, other: &Document) -> bool {
        self.lineage == other.lineage
    }

    /// The syntax as the analysis reads it: the whole tree, and the patched statement if any.
    pub fn view(&self) -> TreeView<'_> {
        TreeView::new(&self.tree, self.patch.as_ref(), Some(self.structure))
    }

    /// The patch kept, if the last edits were reparsed as one statement.
    pub fn patch(&self) -> Option<&Patch> {
        self.patch.as_ref()
    }

    /// Reparses the whole tree now if a patch stands in for part of it (with every edit since its
    /// last reparse), so that `tree` is exact.
    pub fn flush(&mut self) {
        if self.patch.take().is_some() {
            self.reparse_edited();
        }
    }

    pub fn source(&self) -> SourceText<'_> {
        SourceText::new(&self.rope)
    }

    /// The whole text (a copy: for tests and the CLI's fix writer, never per keystroke).
    pub fn text(&self) -> String {
        self.rope.to_string()
    }

    /// The parser kept for incremental reparses.
    pub fn parser_mut(&mut self) -> &mut Parser {
        self.parser.get_or_insert_with(python_parser)
    }

    /// Creates the parsers an edit uses (whole-tree and statement reparses) now rather than on the
    /// first edit: a benchmark keeps their creation out of what it measures.
    pub fn prepare_parsers(&mut self) {
        self.parser_mut();
        self.region_parser.get_or_insert_with(python_parser);
    }

    /// The ranges (in the current text) that tree-sitter reports as syntactically changed by the last
    /// [`apply_change`](Self::apply_change) / [`apply_changes`](Self::apply_changes)
    /// (`old_tree.changed_ranges(&new_tree)`). After [`new`](Self::new) or a full replacement, one
    /// range covering the whole document; none after a notification that changed nothing. An edit that leaves the tree's shape unchanged (inside a
    /// string, say) may report nothing.
    pub fn last_changed_ranges(&self) -> &[Range] {
        self.changed_ranges
            .get_or_init(|| match &self.previous_tree {
                Some(old) => old.changed_ranges(&self.tree).collect(),
                None => Vec::new(),
            })
    }
}

/// A range covering the whole tree.
fn whole_range(tree: &Tree) -> Range {
    let root = tree.root_node();
    Range {
        start_byte: 0,
        end_byte: root.end_byte(),
        start_point: Point::new(0, 0),
        end_point: root.end_position(),
    }
}

/// The text as the parser reads it: every lone `\r` (one not followed by `\n`) as `\n`, every
/// other byte as it is (same length, same offsets). Python ends a line at `\r\n`, `\n` or a lone
/// `\r`; tree-sitter-python only at `\n` (a lone `\r` is blank to it: a file with lone-`\r`
/// line endings would be one long line). Read so, tree-sitter's rows are the rope's (LSP) lines.
pub fn parse_view(text: &str) -> std::borrow::Cow<'_, str> {
    if !has_lone_cr(text) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut bytes = text.as_bytes().to_vec();
    map_lone_cr(&mut bytes, None);
    // Only ASCII bytes changed.
    std::borrow::Cow::Owned(String::from_utf8(bytes).expect("ASCII replaced by ASCII"))
}

/// Replaces every lone `\r` of `bytes` with `\n`; `next` is the byte after them (none at the end
/// of the text).
fn map_lone_cr(bytes: &mut [u8], next: Option<u8>) {
    for i in 0..bytes.len() {
        if bytes[i] == b'\r' && bytes.get(i + 1).copied().or(next) != Some(b'\n') {
            bytes[i] = b'\n';
        }
    }
}

/// Whether `text` holds a `\r` that is not followed by `\n`.
fn has_lone_cr(text: &str) -> bool {
    let bytes = text.as_bytes();
    text.match_indices('\r')
        .any(|(i, _)| bytes.get(i + 1) != Some(&b'\n'))
}

impl Clone for Document {
    /// Cheap: the rope and the tree are shared (reference counted); the clone gets its own parser
    /// lazily, on its first edit.
    fn clone(&self) -> Self {
        Document {
            rope: self.rope.clone(),
            tree: self.tree.clone(),
            version: self.version,
            parser: None,
            may_have_lone_cr: self.may_have_lone_cr,
            changed_ranges: self.changed_ranges.clone(),
            previous_tree: self.previous_tree.clone(),
            patch: self.patch.clone(),
            region_parser: None,
            region_parsing: self.region_parsing,
            lineage: self.lineage,
            structure: self.structure,
            indent_bound: self.indent_bound,
            too_deep: self.too_deep,
        }
    }
}

impl std::fmt::Debug for Document {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Document")
            .field("version", &self.version)
            .field("len_bytes", &self.rope.len_bytes())
            .field("len_lines", &self.rope.len_lines())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
