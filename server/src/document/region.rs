//! Reparsing one statement alone while the user types inside it.
//!
//! An incremental reparse of the whole file costs what tree-sitter needs to rebuild the path from
//! the edit to the root: inside a 4,700-line class, 1–2 ms a keystroke, and 15–25 ms when an
//! unterminated `"` sends its error recovery across the rest of the file. When every change of a
//! notification falls strictly inside the *region* of one statement — from the start of its first
//! line to the start of the line after its last — only that region is parsed again, with the
//! headers of its enclosing classes (tree-sitter's included ranges, so every node keeps its
//! document byte offsets and points). The result is a [`Patch`]: the statement's new tree, which
//! stands in for the old statement in the (edited, not reparsed) whole-file tree through
//! [`super::TreeView`]. Further keystrokes in the same region reparse the patch incrementally; the first
//! change outside it reparses the whole file once, with every edit since.
//!
//! ## When a patch is taken
//! - The statement (or `ERROR` node) is a leaf item (not a class: classes are entered, their
//!   headers included); the edit lies strictly inside its region (after the statement's first
//!   byte, before the start of the next line; at the end of the file for the last statement); the
//!   region holds nothing else (no `;` sibling, no trailing comment on its last line); the file
//!   has no syntax error outside the statement (an unclosed `'''` above could pair with the edited
//!   text).
//! - The region reparse gives, under the same class headers (each parsing cleanly), any number of
//!   statements in the innermost block — the edit may split a statement in two, or break it —
//!   none of them a class; the region does not end in a line continuation (`\`); its syntax
//!   errors are ones the whole file has too ([`errors_contained`]); the statements do not join
//!   the ones around them in a fresh parse: the first not indented deeper than the statement
//!   before, neither the first nor the next line a continuing clause (`else`…), the next line not
//!   deeper than where a statement of the region starts ([`joins_neighbours`]).
//!
//! The patch's statements stand in for the old statement wherever the analysis walks the
//! statements of a block ([`super::TreeView::statements`]).
//!
//! While the user types `"sk-` the error stays in the statement, as they mean it to, and the rest
//! of the file keeps its findings. The content of such an open one-line string is left out of the
//! region's included ranges once the last parse saw it open ([`unterminated_strings`]): tree-sitter's
//! error recovery would read it as code, at 0.1–0.2 ms a keystroke. For error-free text, the statements equal the ones a
//! from-scratch parse of the whole file gives (`tests/document_props.rs` checks it over random
//! edits); with a syntax error in the region, the whole-file parse may recover differently, as it
//! already may after incremental reparses.

use std::ops::Range;

use ropey::Rope;
use tree_sitter::{Node, Parser, Point, Range as TsRange, Tree};

/// A region's parse stays bounded: a statement larger than this is reparsed with the whole file.
const MAX_REGION: usize = 64 * 1024;

/// The statement a patch re-parses, and where it stands in the current text.
#[derive(Clone, Debug)]
pub(super) struct Target {
    /// From the start of the statement's first line to the start of the line after its last (the
    /// end of the file when nothing follows).
    pub region: Range<usize>,
    /// Where the statement starts in the whole-file tree (edits are strictly after it, so it does
    /// not move there).
    pub start: usize,
    /// The kind of the statement in the whole-file tree, where the patch's statement stands in
    /// for it (the reparse may give another kind, a class excepted).
    pub kind: u16,
    /// The headers of the enclosing classes, outermost first: from the start of the line of the
    /// class statement (decorators included) to the start of the line of its body.
    pub headers: Vec<TsRange>,
    /// The indentation (bytes) of the statement before it in its block, if any.
    pub prev_indent: Option<usize>,
    /// The first byte the changes of the current notification touched (the text before it is
    /// the text of the last parse of the region).
    pub edited_from: usize,
}

/// A statement reparsed alone (see the module documentation).
#[derive(Clone)]
pub struct Patch {
    pub(super) target: Target,
    pub(super) tree: Tree,
}

impl Patch {
    /// The block (the module, or the innermost class body) that holds the reparsed statements.
    pub fn block(&self) -> Node<'_> {
        block_of(&self.tree, self.target.headers.len())
            .expect("a patch is kept only when its block was found")
    }

    /// The region of the statement in the current text.
    pub fn region(&self) -> Range<usize> {
        self.target.region.clone()
    }
}

/// Node kinds the region logic compares against.
pub(super) struct Kinds {
    class: u16,
    decorated: u16,
    pub(super) comment: u16,
    string_start: u16,
    /// Field ids: `definition` (of a decorated definition), `body`.
    pub(super) definition: std::num::NonZeroU16,
    pub(super) body: std::num::NonZeroU16,
}

impl Kinds {
    /// The kind ids of the Python grammar, looked up once (a lookup by name is a linear search
    /// over the grammar's symbol names).
    pub(super) fn get() -> &'static Kinds {
        static KINDS: std::sync::LazyLock<Kinds> = std::sync::LazyLock::new(|| {
            let l: tree_sitter::Language = tree_sitter_python::LANGUAGE.into();
            Kinds {
                class: l.id_for_node_kind("class_definition", true),
                decorated: l.id_for_node_kind("decorated_definition", true),
                comment: l.id_for_node_kind("comment", true),
                string_start: l.id_for_node_kind("string_start", true),
                definition: l
                    .field_id_for_name("definition")
                    .expect("a field of the grammar"),
                body: l.field_id_for_name("body").expect("a field of the grammar"),
            }
        });
        &KINDS
    }

    /// The class definition of a class statement (plain or decorated), if it is one.
    fn class_of<'t>(&self, node: Node<'t>) -> Option<Node<'t>> {
        let def = if node.kind_id() == self.decorated {
            node.child_by_field_id(self.definition.get())?
        } else {
            node
        };
        (def.kind_id() == self.class).then_some(def)
    }
}

/// Start of the line of `byte` (LSP lines; the caller excludes lone `\r`).
fn line_start_of(rope: &Rope, byte: usize) -> usize {
    rope.line_to_byte(rope.byte_to_line(byte))
}

/// Start of the line after the one holding the last byte of `node` (the end of the text at the end).
fn after_last_line(rope: &Rope, node: Node) -> usize {
    let last = node.end_byte().saturating_sub(1).max(node.start_byte());
    let line = rope.byte_to_line(last.min(rope.len_bytes()));
    if line + 1 >= rope.len_lines() {
        rope.len_bytes()
    } else {
        rope.line_to_byte(line + 1)
    }
}

/// Indentation: a space, a tab or a form feed.
fn is_indent(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\x0c')
}

/// Indentation or a line break.
fn is_blank(b: u8) -> bool {
    is_indent(b) || matches!(b, b'\r' | b'\n')
}

/// Whether `range` of the text holds only spaces, tabs and line breaks.
fn blank(rope: &Rope, range: Range<usize>) -> bool {
    range.is_empty() || rope.byte_slice(range).bytes().all(is_blank)
}

/// Whether `[a, b)` lies strictly inside the region of `target`: after the first byte of its
/// statement, and before the start of the next line (or at the very end of the text, for the last
/// statement).
pub(super) fn strictly_inside(target: &Target, a: usize, b: usize, len: usize) -> bool {
    let region = &target.region;
    a > target.start && (b < region.end || (b == len && region.end == len))
}

/// The target of an edit of `[a, b)` (bytes of the current text) in the freshly parsed `tree`:
/// the leaf statement whose region holds the edit strictly inside, if the conditions of the module
/// documentation hold.
pub(super) fn target_in(tree: &Tree, rope: &Rope, a: usize, b: usize) -> Option<Target> {
    let kinds = Kinds::get();
    let len = rope.len_bytes();
    let mut block = tree.root_node();
    let mut headers = Vec::new();
    loop {
        // The named child of `block` whose region holds the edit.
        let mut cursor = block.walk();
        let mut found = None;
        if cursor.goto_first_child() {
            loop {
                let node = cursor.node();
                if node.start_byte() > b {
                    break;
                }
                if node.is_named() && node.end_byte() >= a {
                    let region =
                        line_start_of(rope, node.start_byte())..after_last_line(rope, node);
                    if region.start <= a && b <= region.end {
                        found = Some((node, region));
                        break;
                    }
                }
                if !cursor.goto_next_sibling() {
                    break;
                }
            }
        }
        let (node, region) = found?;
        if node.kind_id() == kinds.comment || node.is_missing() {
            return None;
        }
        // Nothing else on its lines, no broken neighbour.
        if let Some(prev) = node.prev_named_sibling() {
            if prev.has_error() || prev.end_byte() > region.start {
                return None;
            }
        }
        if let Some(next) = node.next_named_sibling() {
            if next.has_error() || next.start_byte() < region.end {
                return None;
            }
        }
        if !blank(rope, region.start..node.start_byte())
            || !blank(rope, node.end_byte()..region.end)
        {
            return None;
        }
        if let Some(class) = kinds.class_of(node) {
            let body = class.child_by_field_id(kinds.body.get())?;
            let body_line = line_start_of(rope, body.start_byte());
            // The body must start on a line of its own, and the edit must lie in it.
            if body_line <= node.start_byte() || a < body_line {
                return None;
            }
            headers.push(ts_range(rope, region.start..body_line));
            block = body;
            continue;
        }
        // A syntax error elsewhere (an unclosed `'''` above, say) may pair with the edited text
        // in a fresh parse.
        if errors_outside(tree.root_node(), node) {
            return None;
        }
        let target = Target {
            region,
            start: node.start_byte(),
            kind: node.kind_id(),
            headers,
            prev_indent: node.prev_named_sibling().map(|p| indent_of(rope, p)),
            edited_from: a,
        };
        return (strictly_inside(&target, a, b, len) && target.region.len() <= MAX_REGION)
            .then_some(target);
    }
}

/// How many statements [`extend`] may add to a region, one at a time, before the whole file is
/// reparsed instead.
pub(super) const MAX_EXTEND: usize = 4;

/// `target` with its region extended over the next statement of its block in the whole-file
/// `tree` (edited, exact outside the region): when a bracket or string is left open on the
/// region's last line, a fresh parse of the whole file reads on into the next lines, and so must
/// the region's, until its errors end before its last line (`errors_contained`). The next
/// statement must be one a patch could be taken for: a leaf statement (not a class), free of
/// syntax errors, alone on its lines, the statement after it on a later line. The stale
/// statements the region then covers stand for nothing in [`super::TreeView::statements`]; the
/// patch still stands in at `target.start`. An error found before the region's last line is one a
/// fresh parse finds too (the same tokens in the same parser state), so the extended patch is
/// held to the same rule as any other.
pub(super) fn extend(tree: &Tree, rope: &Rope, target: &Target) -> Option<Target> {
    let kinds = Kinds::get();
    // The stale statement at `target.start` in the whole tree (edits are strictly after it).
    let mut node = tree
        .root_node()
        .descendant_for_byte_range(target.start, target.start)?;
    while node.start_byte() != target.start || node.kind_id() != target.kind {
        node = node.parent()?;
    }
    // The first named sibling at or after the region's end (the stale ones inside it skipped).
    let mut next = node.next_named_sibling()?;
    while next.start_byte() < target.region.end {
        next = next.next_named_sibling()?;
    }
    if next.is_missing() || next.has_error() || kinds.class_of(next).is_some() {
        return None;
    }
    let end = after_last_line(rope, next);
    if !blank(
        rope,
        target.region.end..line_start_of(rope, next.start_byte()),
    ) || !blank(rope, next.end_byte()..end)
    {
        return None;
    }
    if let Some(after) = next.next_named_sibling() {
        if after.start_byte() < end {
            return None;
        }
    }
    if end - target.region.start > MAX_REGION {
        return None;
    }
    Some(Target {
        region: target.region.start..end,
        ..target.clone()
    })
}

/// Whether the first non-blank line from `from` (a line start) could join a statement indented
/// by `indent` bytes in a fresh parse: indented deeper (its block), or a clause that continues a
/// compound statement (`else`, `elif`, `except`, `finally`, `case`).
fn next_line_may_join(rope: &Rope, from: usize, indent: usize) -> bool {
    let mut width = 0;
    for (i, b) in rope.byte_slice(from..).bytes().enumerate() {
        match b {
            b'\r' | b'\n' => width = 0,
            b if is_indent(b) => width += 1,
            _ => return width > indent || continues_previous(rope, from + i),
        }
    }
    false
}

/// The start of the last line of `region` with code on it: trailing blank and comment-only lines
/// are skipped (an error found at the end of the region is placed before them, with the last
/// token).
fn last_code_line(rope: &Rope, region: &Range<usize>) -> usize {
    let mut end = region.end;
    while end > region.start {
        let start = line_start_of(rope, end - 1).max(region.start);
        let line = rope.byte_slice(start..end);
        let first = line.bytes().find(|&b| !is_blank(b));
        if !matches!(first, None | Some(b'#')) {
            return start;
        }
        end = start;
    }
    region.start
}

/// Whether a fresh parse of the whole file could join the region's statements with the ones
/// around them: the first indented deeper than the statement before it (it would go into its
/// block) or opening with a continuing clause (`else:` after an `if`); the next line indented
/// deeper than any of the region's statements starts (or the old one started), or a continuing
/// clause.
fn joins_neighbours(rope: &Rope, target: &Target, statements: &[Node]) -> bool {
    if let Some(first) = statements.first() {
        let deeper = target
            .prev_indent
            .is_some_and(|prev| indent_of(rope, *first) > prev);
        if deeper || continues_previous(rope, first.start_byte()) {
            return true;
        }
    }
    // The shallowest indentation a statement of the region (or the old one) starts at: a deeper
    // next line could join the block of the statement there.
    let shallowest = statements
        .iter()
        .map(|s| indent_of(rope, *s))
        .fold(target.start - target.region.start, usize::min);
    next_line_may_join(rope, target.region.end, shallowest)
}

/// The indentation of the line a statement starts on (its leading blanks, in bytes).
fn indent_of(rope: &Rope, node: Node) -> usize {
    let start = line_start_of(rope, node.start_byte());
    rope.byte_slice(start..node.start_byte())
        .bytes()
        .take_while(|&b| is_indent(b))
        .count()
}

/// Whether the statement at `start` opens with a clause that continues the statement before it
/// (an `ERROR` node such as a stray `except E:` may join a `try` above once edited).
fn continues_previous(rope: &Rope, start: usize) -> bool {
    let word: Vec<u8> = rope
        .byte_slice(start..)
        .bytes()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
        .take(8)
        .collect();
    is_clause_keyword(&word)
}

/// `else`, `elif`, `except`, `finally`, `case`: words that open a clause of a compound statement.
fn is_clause_keyword(word: &[u8]) -> bool {
    matches!(word, b"else" | b"elif" | b"except" | b"finally" | b"case")
}

/// Whether the tree has a syntax error outside `target` (walks only into nodes with errors).
fn errors_outside(root: Node, target: Node) -> bool {
    let mut cursor = root.walk();
    loop {
        let node = cursor.node();
        if node != target {
            if node.is_error() || node.is_missing() {
                return true;
            }
            if node.has_error() && cursor.goto_first_child() {
                continue;
            }
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                return false;
            }
        }
    }
}

/// A tree-sitter range of byte offsets (the caller excludes lone `\r`: rows are rope lines).
fn ts_range(rope: &Rope, range: Range<usize>) -> TsRange {
    let point = |byte: usize| {
        let line = rope.byte_to_line(byte);
        Point::new(line, byte - rope.line_to_byte(line))
    };
    TsRange {
        start_byte: range.start,
        end_byte: range.end,
        start_point: point(range.start),
        end_point: point(range.end),
    }
}

/// Parses the region of `target` (with its class headers) and checks the result; `old` is the
/// previous patch of the same statement, edited, for an incremental reparse; without one, the
/// edited whole-file tree `whole` stands in for it: the parser takes again the nodes of the region
/// the edits left alone (the statement's first parse after the open, or after a whole reparse,
/// is then as cheap as the next ones: 0.25 → 0.05 ms for a 660-byte handler, 2026-12-07). Which
/// nodes it may take is tree-sitter's incremental parse's own rule: the included ranges differ
/// from the whole tree's everywhere outside the region (and its class headers), so nothing there
/// is taken, and a node is taken only where the parse state and the scanner's state (the
/// indentation stack) are the ones it was built in.
pub(super) fn parse(
    parser: &mut Parser,
    rope: &Rope,
    target: &Target,
    old: Option<&Tree>,
    whole: Option<&Tree>,
) -> Option<Tree> {
    if target.region.len() > MAX_REGION || ends_with_continuation(rope, &target.region) {
        return None;
    }
    let mut ranges = target.headers.clone();
    let mut from = target.region.start;
    for hole in old.map_or_else(Vec::new, |old| unterminated_strings(old, rope, target)) {
        ranges.push(ts_range(rope, from..hole.start));
        from = hole.end;
    }
    ranges.push(ts_range(rope, from..target.region.end));
    parser.set_included_ranges(&ranges).ok()?;
    // The lexer keeps its position from the last parse (the first included range's start, where
    // the parser's reset leaves it) and moves to a new one only when the byte offset differs: a
    // parse that takes its first token from the old tree then lexes the next one from a byte
    // equal to that stale position, with the stale row and column (a statement at row 0 came out
    // ending at row 1 after a region that started at byte 1, row 1; found by document_props in
    // CI, 2026-12-07). The reset moves the lexer to the start of these ranges, with their point.
    parser.reset();
    let mut read = |byte: usize, _: Point| super::edit::rope_chunk_from(rope, byte);
    let tree = parser.parse_with_options(&mut read, old.or(whole), None)?;
    let ok = {
        let block = block_of(&tree, target.headers.len())?;
        let kinds = Kinds::get();
        let mut cursor = block.walk();
        let statements: Vec<Node> = block
            .named_children(&mut cursor)
            .filter(|s| s.kind_id() != kinds.comment)
            .collect();
        statements.iter().all(|s| kinds.class_of(*s).is_none())
            && errors_contained(rope, block, &target.region)
            && !joins_neighbours(rope, target, &statements)
    };
    ok.then_some(tree)
}

/// The content of the one-line strings the user is typing, left out of the region parse.
///
/// While the user types `KEY = "sk-live-…` the string is unterminated, and tree-sitter's error
/// recovery reads its content as code (`sk - live - 4f…`: a new error at every digit followed by
/// a letter), about 0.1–0.2 ms a keystroke for a line. A string the last parse of the region
/// found open (a `string_start` in an `ERROR` node, not triple-quoted) whose content still runs to
/// the end of its line (or of the text) — no closing quote, and, to stay clear of escapes and interpolations, no
/// backslash or brace — is a syntax error whatever the rest of the file holds: tree-sitter's
/// scanner ends a one-line string's content at a line break as an error (the whole-file parse has
/// an error there too, so a patch taken with it is compared with nothing). Its content but the last
/// character (so that the string still meets the line break with content, the same error) is left
/// out of the included ranges: the parse reads `KEY = "b` and the line break. Only strings wholly
/// before the first change of the notification are taken: the text up to their content is the
/// text the last parse read.
fn unterminated_strings(old: &Tree, rope: &Rope, target: &Target) -> Vec<Range<usize>> {
    let Some(block) = block_of(old, target.headers.len()) else {
        return Vec::new();
    };
    let mut holes = Vec::new();
    let mut cursor = block.walk();
    'walk: loop {
        let node = cursor.node();
        if node.start_byte() >= target.edited_from {
            break;
        }
        if node.kind_id() == Kinds::get().string_start
            && node.parent().is_some_and(|p| p.is_error())
            && node.end_byte() <= target.edited_from
        {
            if let Some(hole) = open_string_hole(rope, node.byte_range(), &target.region) {
                holes.push(hole);
            }
        }
        if node.has_error() && cursor.goto_first_child() {
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() || cursor.node() == block {
                break 'walk;
            }
        }
    }
    holes
}

/// The bytes to leave out for the one-line string opened by `start` (its `string_start` token),
/// when its content certainly runs unterminated to the end of its line (see
/// [`unterminated_strings`]).
fn open_string_hole(
    rope: &Rope,
    start: Range<usize>,
    region: &Range<usize>,
) -> Option<Range<usize>> {
    let delimiter: Vec<u8> = rope.byte_slice(start.clone()).bytes().collect();
    let quote = *delimiter.last()?;
    if !matches!(quote, b'"' | b'\'') || delimiter.ends_with(&[quote, quote, quote]) {
        return None;
    }
    let line = rope.byte_to_line(start.end);
    let line_end = rope.line_to_byte(line + 1).min(region.end);
    let content = start.end..line_end;
    let mut len = 0;
    for b in rope.byte_slice(content.clone()).bytes() {
        match b {
            b'\n' | b'\r' => break,
            b'\\' | b'{' | b'}' => return None,
            b if b == quote => return None,
            _ => len += 1,
        }
    }
    // The content runs to a line break (`\n` or `\r\n`) inside the region, or to the end of the
    // text (where the scanner meets the end instead: an error the same way), with content before
    // it. (A lone `\r` never gets here: such documents are reparsed whole.)
    let end = content.start + len;
    let at_break = end < line_end
        && match rope.byte(end) {
            b'\n' => true,
            b'\r' => end + 1 < line_end && rope.byte(end + 1) == b'\n',
            _ => false,
        };
    if !(at_break || end == rope.len_bytes()) || len < 2 {
        return None;
    }
    Some(content.start..content.start + len - 1)
}

/// Whether the syntax errors of the region parse (in `block`) are ones the whole file has too.
///
/// Up to the start of the region's last line of code, the whole-file parse reads the same tokens in the
/// same parser state (a statement of the same block begins there, after the same indentation),
/// so an error found there is found by the whole-file parse as well. On the last line, the region
/// parse meets its end where the whole file goes on, and the next lines may complete what the
/// region leaves open (`x = ` followed by `y = 1` parses as `x = y = 1`; tree-sitter lets even a
/// one-line string run on to a quote on a later line): an error there is not accepted, unless
/// the region ends the file (typing the last statement).
fn errors_contained(rope: &Rope, block: Node, region: &Range<usize>) -> bool {
    // Nothing follows the last statement of the file: the whole-file parse meets the same end.
    if !block.has_error() || region.end == rope.len_bytes() {
        return true;
    }
    let last_line = last_code_line(rope, region);
    let mut cursor = block.walk();
    let mut touches_last_line = false;
    'walk: loop {
        let node = cursor.node();
        if (node.is_error() || node.is_missing()) && node.end_byte() > last_line {
            touches_last_line = true;
            break;
        }
        if node.has_error() && cursor.goto_first_child() {
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() || cursor.node() == block {
                break 'walk;
            }
        }
    }
    !touches_last_line
}

/// Whether the last character of `region` other than blanks is a `\` (the statement would go on
/// into the next line in the whole file).
fn ends_with_continuation(rope: &Rope, region: &Range<usize>) -> bool {
    let mut i = region.end;
    while i > region.start {
        i -= 1;
        match rope.byte(i) {
            b if is_blank(b) => continue,
            b => return b == b'\\',
        }
    }
    false
}

/// The block holding the statements of a region parse under `depth` class headers (the root
/// when there are none): each header level must hold exactly one class statement (comments
/// aside, possibly wrapped in an `ERROR` node), free of errors but in its body.
fn block_of(tree: &Tree, depth: usize) -> Option<Node<'_>> {
    let kinds = Kinds::get();
    let mut node = tree.root_node();
    if node.is_error() {
        return None;
    }
    for _ in 0..depth {
        let mut child = only_child(node, kinds)?;
        // Error recovery may wrap the class in an `ERROR` node when the region breaks off in an
        // error (an unterminated string): the class is still the one holding the region.
        if child.is_error() {
            child = only_child(child, kinds)?;
        }
        let class = kinds.class_of(child)?;
        let body = class.child_by_field_id(kinds.body.get())?;
        // The header parses cleanly: every part of the class statement but its body.
        if !clean_except(child, class) || !clean_except(class, body) {
            return None;
        }
        node = body;
    }
    Some(node)
}

/// The one child of `node` that is not a comment; `None` when there are others, or errors.
fn only_child<'t>(node: Node<'t>, kinds: &Kinds) -> Option<Node<'t>> {
    let mut cursor = node.walk();
    let mut one = None;
    for child in node.children(&mut cursor) {
        if child.kind_id() == kinds.comment {
            continue;
        }
        if one.is_some() || child.is_missing() {
            return None;
        }
        one = Some(child);
    }
    one
}

/// Whether every child of `node` other than `except` is free of syntax errors (for a decorated
/// class, `node` is the decorated definition and `except` the class itself; `node == except` checks
/// nothing).
fn clean_except(node: Node, except: Node) -> bool {
    if node == except {
        return true;
    }
    let mut cursor = node.walk();
    let ok = node
        .children(&mut cursor)
        .all(|c| c == except || (!c.has_error() && !c.is_missing()));
    ok
}
