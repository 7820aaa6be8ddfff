//! Small, exact helpers over tree-sitter-python nodes, shared by the model, the data flow and rules.

mod env_check;
mod item;
pub use env_check::{missing_env_hint, require_env_edit};
pub use item::{items, items_sized, Item, MAX_NESTING};

use std::borrow::Cow;
use std::sync::LazyLock;

use tree_sitter::Node;

use crate::document::SourceText;

/// The grammar the trees come from (every tree of keylint is Python).
fn language() -> &'static tree_sitter::Language {
    static LANGUAGE: LazyLock<tree_sitter::Language> =
        LazyLock::new(|| tree_sitter_python::LANGUAGE.into());
    &LANGUAGE
}

/// Node kind names by kind id, read once from the grammar.
fn kind_names() -> &'static [&'static str] {
    static NAMES: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
        let language = language();
        (0..language.node_kind_count() as u16)
            .map(|id| language.node_kind_for_id(id).unwrap_or(""))
            .collect()
    });
    &NAMES
}

/// Field names the helpers look up; their ids are read once from the grammar.
const FIELD_NAMES: [&str; 32] = [
    "alias",
    "alternative",
    "argument",
    "arguments",
    "attribute",
    "body",
    "cause",
    "code",
    "condition",
    "consequence",
    "definition",
    "expression",
    "format_specifier",
    "function",
    "guard",
    "key",
    "left",
    "module_name",
    "name",
    "object",
    "operator",
    "operators",
    "parameters",
    "return_type",
    "right",
    "subject",
    "subscript",
    "superclasses",
    "type",
    "type_conversion",
    "type_parameters",
    "value",
];

#[inline(always)]
fn field_slot(name: &str) -> Option<usize> {
    match name {
        "alias" => Some(0),
        "alternative" => Some(1),
        "argument" => Some(2),
        "arguments" => Some(3),
        "attribute" => Some(4),
        "body" => Some(5),
        "cause" => Some(6),
        "code" => Some(7),
        "condition" => Some(8),
        "consequence" => Some(9),
        "definition" => Some(10),
        "expression" => Some(11),
        "format_specifier" => Some(12),
        "function" => Some(13),
        "guard" => Some(14),
        "key" => Some(15),
        "left" => Some(16),
        "module_name" => Some(17),
        "name" => Some(18),
        "object" => Some(19),
        "operator" => Some(20),
        "operators" => Some(21),
        "parameters" => Some(22),
        "return_type" => Some(23),
        "right" => Some(24),
        "subject" => Some(25),
        "subscript" => Some(26),
        "superclasses" => Some(27),
        "type" => Some(28),
        "type_conversion" => Some(29),
        "type_parameters" => Some(30),
        "value" => Some(31),
        _ => None,
    }
}

fn field_ids() -> &'static [u16; 32] {
    static IDS: LazyLock<[u16; 32]> = LazyLock::new(|| {
        let language = language();
        FIELD_NAMES.map(|name| language.field_id_for_name(name).map_or(0, |id| id.get()))
    });
    &IDS
}

/// Cheaper forms of [`Node::kind`] and [`Node::child_by_field_name`], with the same results:
/// `kind()` converts the C name (strlen, UTF-8 check) on every call, `child_by_field_name` looks the
/// field up by comparing names.
pub trait NodeExt<'t> {
    /// [`Node::kind`], from a table by kind id.
    fn kind_str(&self) -> &'static str;
    /// [`Node::child_by_field_name`], by a field id looked up once.
    fn field(&self, name: &str) -> Option<Node<'t>>;
}

impl<'t> NodeExt<'t> for Node<'t> {
    #[inline]
    fn kind_str(&self) -> &'static str {
        let id = self.kind_id();
        match kind_names().get(id as usize) {
            Some(name) if !name.is_empty() => name,
            // The built-in symbols outside the table (tree-sitter's `ts_builtin_sym_error` and
            // `ts_builtin_sym_error_repeat`); `Node::kind` no longer gives a `'static` name.
            _ => match id {
                u16::MAX => "ERROR",
                0xFFFE => "_ERROR",
                _ => "",
            },
        }
    }

    #[inline]
    fn field(&self, name: &str) -> Option<Node<'t>> {
        match field_slot(name) {
            Some(slot) => match field_ids()[slot] {
                0 => None,
                id => self.child_by_field_id(id),
            },
            None => self.child_by_field_name(name),
        }
    }
}

/// The value of a plain string literal (`"x"`, `'x'`, `r"x"`, `b"x"`, triple-quoted, implicitly
/// concatenated), or `None` when it is not a literal or has interpolations (an f-string with `{…}`).
/// Escape sequences are kept as written: the value is used for matching, not execution.
pub fn string_value(node: Node, src: SourceText) -> Option<String> {
    match node.kind_str() {
        "string" => string_value_cow(node, src).map(Cow::into_owned),
        "concatenated_string" => {
            let mut out = String::new();
            for child in named_children(node) {
                // Comments between the parts of an implicit concatenation are not part of it.
                if child.kind_str() != "comment" {
                    out.push_str(&string_value(child, src)?);
                }
            }
            Some(out)
        }
        "parenthesized_expression" => string_value(node.named_child(0)?, src),
        _ => None,
    }
}

/// [`string_value`], borrowed from the text when the literal is one piece (a `string` with at
/// most one content part: most literals), copied otherwise.
pub fn string_value_cow<'a>(node: Node, src: SourceText<'a>) -> Option<Cow<'a, str>> {
    if node.kind_str() != "string" {
        return string_value(node, src).map(Cow::Owned);
    }
    // Most literals are `string_start string_content string_end` or empty: read by position,
    // without a cursor (an allocation and a walk).
    // (The first child is the `string_start` of the grammar's rule; any other shape, an `ERROR`
    // inside for one, takes the walk below.)
    if let count @ (2 | 3) = node.child_count() {
        let part = node.child(1)?;
        match (count, part.kind_str()) {
            (2, "string_end") => return Some(Cow::Borrowed("")),
            (3, "string_content" | "escape_sequence") => return Some(src.node_text(part)),
            (3, "interpolation") => return None,
            _ => {}
        }
    }
    string_parts(node, src)
}

/// [`string_value_cow`] of a `string`, by walking its children.
fn string_parts<'a>(node: Node, src: SourceText<'a>) -> Option<Cow<'a, str>> {
    let mut out: Option<Cow<'a, str>> = None;
    for child in children(node) {
        match child.kind_str() {
            "string_content" | "escape_sequence" => {
                let part = src.node_text(child);
                out = Some(match out {
                    None => part,
                    Some(done) => {
                        let mut joined = done.into_owned();
                        joined.push_str(&part);
                        Cow::Owned(joined)
                    }
                });
            }
            "interpolation" => return None,
            _ => {}
        }
    }
    Some(out.unwrap_or(Cow::Borrowed("")))
}

/// Byte range of a string literal's content (between the quotes), for fixes that rewrite it.
pub fn string_content_range(node: Node) -> Option<std::ops::Range<usize>> {
    if node.kind_str() != "string" {
        return None;
    }
    let start = node.child(0)?;
    let end = node.child(node.child_count().checked_sub(1)?)?;
    (start.kind_str() == "string_start" && end.kind_str() == "string_end")
        .then(|| start.end_byte()..end.start_byte())
}

/// True for a string or concatenation of strings (with or without interpolation).
pub fn is_string(node: Node) -> bool {
    matches!(node.kind_str(), "string" | "concatenated_string")
}

/// `a.b.c` as `["a", "b", "c"]`; `None` for anything that is not a plain name or attribute chain.
pub fn dotted_path(node: Node, src: SourceText) -> Option<Vec<String>> {
    match node.kind_str() {
        "identifier" => Some(vec![src.node_text(node).into_owned()]),
        "attribute" => {
            let mut path = dotted_path(node.field("object")?, src)?;
            path.push(src.node_text(node.field("attribute")?).into_owned());
            Some(path)
        }
        "dotted_name" => {
            let mut cursor = node.walk();
            let path: Vec<String> = node
                .named_children(&mut cursor)
                .map(|c| src.node_text(c).into_owned())
                .collect();
            Some(path)
        }
        _ => None,
    }
}

/// The keyword argument `name=` of a call node, as its value node.
pub fn keyword_arg<'t>(call: Node<'t>, name: &str, src: SourceText) -> Option<Node<'t>> {
    let args = call.field("arguments")?;
    let mut cursor = args.walk();
    let found = args.named_children(&mut cursor).find(|arg| {
        arg.kind_str() == "keyword_argument"
            && arg.field("name").is_some_and(|n| src.node_text(n) == name)
    });
    found.and_then(|kw| kw.field("value"))
}

/// The positional arguments of a call node, in order.
pub fn positional_args<'t>(call: Node<'t>) -> Vec<Node<'t>> {
    let Some(args) = call.field("arguments") else {
        return Vec::new();
    };
    let mut cursor = args.walk();
    args.named_children(&mut cursor)
        .filter(|a| {
            !matches!(
                a.kind_str(),
                "keyword_argument" | "comment" | "list_splat" | "dictionary_splat"
            )
        })
        .collect()
}

/// Keyword arguments of a call as `(name, value)` pairs.
pub fn keyword_args<'t>(call: Node<'t>, src: SourceText<'_>) -> Vec<(String, Node<'t>)> {
    let Some(args) = call.field("arguments") else {
        return Vec::new();
    };
    let mut cursor = args.walk();
    args.named_children(&mut cursor)
        .filter(|a| a.kind_str() == "keyword_argument")
        .filter_map(|kw| {
            Some((
                src.node_text(kw.field("name")?).into_owned(),
                kw.field("value")?,
            ))
        })
        .collect()
}

/// The decorators of a function or class definition (the definition itself or its
/// `decorated_definition` parent), as the decorator's expression nodes. A definition that is not
/// a `decorated_definition` costs a [`Node::parent`] (tree-sitter descends from the module's root):
/// where the node is known to be a statement, [`statement_decorators`] does without.
pub fn decorators(def: Node) -> Vec<Node> {
    match def.kind_str() {
        "decorated_definition" => statement_decorators(def),
        _ => def
            .parent()
            .filter(|p| p.kind_str() == "decorated_definition")
            .map_or_else(Vec::new, statement_decorators),
    }
}

/// The decorators of a statement: a `decorated_definition`'s, none for any other statement (a
/// definition that is a statement itself, the child of a block or module, has no decorator).
pub fn statement_decorators(stmt: Node) -> Vec<Node> {
    if stmt.kind_str() != "decorated_definition" {
        return Vec::new();
    }
    let mut cursor = stmt.walk();
    stmt.named_children(&mut cursor)
        .filter(|c| c.kind_str() == "decorator")
        .filter_map(|d| d.named_child(0))
        .collect()
}

/// The `function_definition`/`class_definition` inside a `decorated_definition`, or the node itself.
pub fn definition(node: Node) -> Node {
    if node.kind_str() == "decorated_definition" {
        node.field("definition").unwrap_or(node)
    } else {
        node
    }
}

/// The children of `node` in order, like tree-sitter's [`Node::children`] without the cursor
/// step it takes past the last child (a step that fails only after climbing the hidden nodes
/// around that child): one step per child. A node of at most [`FEW_CHILDREN`] children (most
/// strings, calls, attributes) is read by index, without a cursor (an allocation).
pub fn children(node: Node) -> Children {
    let count = node.child_count();
    Children {
        cursor: (count > FEW_CHILDREN).then(|| node.walk()),
        node,
        index: 0,
        left: count as usize,
        started: false,
    }
}

/// Up to this many children, [`children`] reads them by index ([`Node::child`] steps over the
/// children before the one asked for: a few steps cost less than a cursor, its allocation and
/// its sibling steps through hidden nodes). Shared with [`NodeIndex::new`].
const FEW_CHILDREN: u32 = 8;

/// The named children of `node` in order (see [`children`]), like [`Node::named_children`].
pub fn named_children(node: Node) -> impl Iterator<Item = Node> {
    children(node).filter(|c| c.is_named())
}

/// See [`children`].
pub struct Children<'t> {
    /// `None` for a node of few children, read by index.
    cursor: Option<tree_sitter::TreeCursor<'t>>,
    node: Node<'t>,
    /// The next child's index, without a cursor.
    index: u32,
    /// Children not returned yet.
    left: usize,
    started: bool,
}

impl<'t> Iterator for Children<'t> {
    type Item = Node<'t>;

    fn next(&mut self) -> Option<Node<'t>> {
        if self.left == 0 {
            return None;
        }
        let Some(cursor) = self.cursor.as_mut() else {
            let Some(child) = self.node.child(self.index) else {
                self.left = 0;
                return None;
            };
            self.index += 1;
            self.left -= 1;
            return Some(child);
        };
        let moved = if self.started {
            cursor.goto_next_sibling()
        } else {
            self.started = true;
            cursor.goto_first_child()
        };
        if !moved {
            self.left = 0;
            return None;
        }
        self.left -= 1;
        Some(cursor.node())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.left))
    }
}

/// Every node below `root` (itself included) in document order, without recursion (deeply nested
/// files cannot overflow the stack).
pub fn descendants(root: Node) -> Descendants {
    Descendants {
        cursor: root.walk(),
        done: false,
        started: false,
        depth: 0,
        after: Vec::new(),
    }
}

pub struct Descendants<'t> {
    cursor: tree_sitter::TreeCursor<'t>,
    done: bool,
    started: bool,
    /// Depth of the cursor below the root, kept here: `TreeCursor::depth` walks the cursor's stack.
    depth: usize,
    /// How many siblings follow the cursor's node and each of its ancestors below the root
    /// (`depth` entries): past a last child the walk goes up without a failed sibling step (see
    /// [`children`]).
    after: Vec<usize>,
}

impl<'t> Descendants<'t> {
    /// Do not descend into the children of the node returned last.
    pub fn skip_children(&mut self) {
        // Move to the next sibling or up; the next call to `next` must not descend.
        loop {
            if self.next_sibling() {
                self.started = false;
                return;
            }
            if !self.cursor.goto_parent() {
                self.done = true;
                return;
            }
            self.depth -= 1;
            self.after.pop();
            if self.depth == 0 {
                self.done = true;
                return;
            }
        }
    }

    /// Moves to the next sibling, if there is one below the root.
    fn next_sibling(&mut self) -> bool {
        match self.after.last_mut() {
            Some(left) if *left > 0 => {
                *left -= 1;
                self.cursor.goto_next_sibling()
            }
            _ => false,
        }
    }
}

impl<'t> Iterator for Descendants<'t> {
    type Item = Node<'t>;

    fn next(&mut self) -> Option<Node<'t>> {
        if self.done {
            return None;
        }
        if !self.started {
            self.started = true;
            return Some(self.cursor.node());
        }
        let count = self.cursor.node().child_count() as usize;
        if self.cursor.goto_first_child() {
            self.depth += 1;
            self.after.push(count.saturating_sub(1));
            return Some(self.cursor.node());
        }
        loop {
            if self.depth == 0 {
                self.done = true;
                return None;
            }
            if self.next_sibling() {
                return Some(self.cursor.node());
            }
            if !self.cursor.goto_parent() {
                self.done = true;
                return None;
            }
            self.depth -= 1;
            self.after.pop();
        }
    }
}

/// Kind ids of the node kinds the hot loops filter on, read once from the grammar.
pub struct KindIds {
    pub function_definition: u16,
    pub string: u16,
    pub concatenated_string: u16,
    pub assignment: u16,
    pub call: u16,
    pub except_clause: u16,
    pub return_statement: u16,
    pub raise_statement: u16,
    pub identifier: u16,
    pub comment: u16,
    pub class_definition: u16,
    pub decorated_definition: u16,
}

/// [`KindIds`] of the Python grammar.
pub fn kinds() -> &'static KindIds {
    static KINDS: LazyLock<KindIds> = LazyLock::new(|| {
        let language = language();
        let id = |name| language.id_for_node_kind(name, true);
        KindIds {
            function_definition: id("function_definition"),
            string: id("string"),
            concatenated_string: id("concatenated_string"),
            assignment: id("assignment"),
            call: id("call"),
            except_clause: id("except_clause"),
            return_statement: id("return_statement"),
            raise_statement: id("raise_statement"),
            identifier: id("identifier"),
            comment: id("comment"),
            class_definition: id("class_definition"),
            decorated_definition: id("decorated_definition"),
        }
    });
    &KINDS
}

/// A set of node kinds, given by name and tested by kind id: a rule walking every node of an item
/// skips the kinds it has nothing to do with at the cost of a bit test ([`Walk::kind`] reads the id
/// from the index), instead of asking tree-sitter for each node's kind several times. Every id
/// whose name is in the set is in it (tree-sitter can give one name several ids).
pub struct KindSet(Box<[u64]>);

impl KindSet {
    pub fn of(names: &[&str]) -> Self {
        let count = kind_names().len().max(1);
        let mut bits = vec![0u64; count.div_ceil(64)].into_boxed_slice();
        for (id, name) in kind_names().iter().enumerate() {
            if names.contains(name) {
                bits[id / 64] |= 1 << (id % 64);
            }
        }
        KindSet(bits)
    }

    /// Whether the kind id `kind` is one of the set's kinds (ids outside the grammar's table, such
    /// as `ERROR`'s, are not).
    #[inline]
    pub fn contains(&self, kind: u16) -> bool {
        let id = kind as usize;
        self.0
            .get(id / 64)
            .is_some_and(|w| w & (1 << (id % 64)) != 0)
    }
}

/// Every node of a subtree in document order, with its kind id and where its own subtree ends:
/// built in one cursor walk, then walked by every rule (and the item facts) without the cursor.
pub struct NodeIndex<'t> {
    nodes: Vec<Indexed<'t>>,
    /// How deep the subtree nests: its root alone is 0.
    depth: usize,
}

struct Indexed<'t> {
    node: Node<'t>,
    kind: u16,
    /// The node's start byte (a position is found by it without asking tree-sitter).
    start: u32,
    /// Index one past the last node of this node's subtree.
    end: u32,
    /// Index of the parent (`u32::MAX` for the root: its parent is outside the index).
    parent: u32,
}

/// A node whose children [`NodeIndex::new`] is reading.
struct Open<'t> {
    /// Its position in the index.
    pos: u32,
    node: Node<'t>,
    /// The next child's index, and how many children there are.
    next: u32,
    count: u32,
    /// For a wide node: a cursor on the child read last (`None` before the first).
    cursor: Option<tree_sitter::TreeCursor<'t>>,
}

impl<'t> Open<'t> {
    fn new(pos: u32, node: Node<'t>, count: u32) -> Self {
        Open {
            pos,
            node,
            next: 0,
            count,
            cursor: None,
        }
    }

    /// The next child, `None` past the last.
    #[inline]
    fn next_child(&mut self) -> Option<Node<'t>> {
        if self.next >= self.count {
            return None;
        }
        let i = self.next;
        self.next += 1;
        if self.count <= FEW_CHILDREN {
            return self.node.child(i);
        }
        match &mut self.cursor {
            Some(cursor) => cursor.goto_next_sibling().then(|| cursor.node()),
            None => {
                let mut cursor = self.node.walk();
                let first = cursor.goto_first_child().then(|| cursor.node());
                self.cursor = Some(cursor);
                first
            }
        }
    }
}

impl<'t> NodeIndex<'t> {
    pub fn new(root: Node<'t>) -> Self {
        // The subtree's node count is known up front (tree-sitter keeps it per subtree): one
        // allocation instead of growing the vector.
        let mut nodes = Vec::with_capacity(root.descendant_count());
        nodes.push(Indexed {
            node: root,
            kind: root.kind_id(),
            start: root.start_byte() as u32,
            end: 0,
            parent: u32::MAX,
        });
        // The open nodes (the root and the ancestors of the next node), each with how its
        // children are read: a node of at most [`FEW_CHILDREN`] children (most of them) by index, a
        // wider one (a block, a long argument list) with a cursor. A cursor step past a node
        // climbs and descends through the hidden nodes around it (the supertypes an expression
        // sits in) and costs several times [`Node::child`] on a narrow node; `child(i)` starts
        // again from the first child, so a wide node keeps the cursor. A leaf is never asked for
        // a first child.
        let mut open: Vec<Open<'t>> = Vec::new();
        let mut depth = 0;
        let count = root.child_count();
        if count == 0 {
            nodes[0].end = 1;
        } else {
            open.push(Open::new(0, root, count));
        }
        while let Some(top) = open.last_mut() {
            let Some(child) = top.next_child() else {
                nodes[top.pos as usize].end = nodes.len() as u32;
                open.pop();
                continue;
            };
            let pos = nodes.len() as u32;
            nodes.push(Indexed {
                node: child,
                kind: child.kind_id(),
                start: child.start_byte() as u32,
                end: pos + 1,
                parent: top.pos,
            });
            let count = child.child_count();
            if count > 0 {
                open.push(Open::new(pos, child, count));
                depth = depth.max(open.len() - 1);
            } else {
                depth = depth.max(open.len());
            }
        }
        NodeIndex { nodes, depth }
    }

    /// How deep the subtree nests below its root (a leaf root: 0).
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Every node (the root included) in document order, like [`descendants`].
    pub fn walk(&self) -> Walk<'_, 't> {
        Walk::Index {
            index: self,
            pos: 0,
            end: self.nodes.len(),
            last: 0,
        }
    }

    /// Every node below `node` (itself included) in document order: from the index when `node` is
    /// in it, else with a cursor.
    pub fn walk_from(&self, node: Node<'t>) -> Walk<'_, 't> {
        match self.position(node) {
            Some(i) => Walk::Index {
                index: self,
                pos: i,
                end: self.nodes[i].end as usize,
                last: i,
            },
            None => Walk::Cursor(descendants(node)),
        }
    }

    /// The nodes of kind `kind` (a kind id), in document order.
    pub fn of_kind(&self, kind: u16) -> impl Iterator<Item = Node<'t>> + '_ {
        self.nodes
            .iter()
            .filter(move |n| n.kind == kind)
            .map(|n| n.node)
    }

    /// The ancestors of `node` (a node of the index), innermost first: from the index, then past
    /// its root with [`Node::parent`]. A node outside the index climbs with [`Node::parent`] only.
    pub fn ancestors(&self, node: Node<'t>) -> Ancestors<'_, 't> {
        match self.position(node) {
            Some(i) => Ancestors::from_index(self, i),
            None => Ancestors::outside(node),
        }
    }

    fn position(&self, node: Node<'t>) -> Option<usize> {
        let start = u32::try_from(node.start_byte()).ok()?;
        let first = self.nodes.partition_point(|n| n.start < start);
        self.nodes[first..]
            .iter()
            .take_while(|n| n.start == start)
            .position(|n| n.node == node)
            .map(|i| first + i)
    }
}

/// The ancestors of a node, innermost first (see [`NodeIndex::ancestors`], [`Walk::ancestors`]).
/// tree-sitter finds a node's parent by descending from the root of the whole tree (its cost grows
/// with the module); the index recorded every parent when it was built, and only the ancestors
/// past its root (asked for one at a time) cost a [`Node::parent`].
pub struct Ancestors<'i, 't> {
    index: Option<&'i NodeIndex<'t>>,
    /// The next ancestor's position in the index (`u32::MAX`: past the index's root).
    pos: u32,
    /// Past the index's root: the node whose parent is the next ancestor.
    outside: Option<Node<'t>>,
    /// Whether to go on past the index's root (with [`Node::parent`]).
    climb: bool,
}

impl<'i, 't> Ancestors<'i, 't> {
    fn from_index(index: &'i NodeIndex<'t>, i: usize) -> Self {
        let entry = &index.nodes[i];
        Ancestors {
            index: Some(index),
            pos: entry.parent,
            outside: (entry.parent == u32::MAX).then_some(entry.node),
            climb: true,
        }
    }

    fn outside(node: Node<'t>) -> Self {
        Ancestors {
            index: None,
            pos: u32::MAX,
            outside: Some(node),
            climb: true,
        }
    }

    /// Stops at the index's root (an item's statement): the ancestors past it (the block, class
    /// and module around an item) cost a [`Node::parent`] each, a descent from the module's root.
    /// A node outside the index still climbs.
    pub fn in_index(mut self) -> Self {
        self.climb = self.index.is_none();
        self
    }
}

impl<'t> Iterator for Ancestors<'_, 't> {
    type Item = Node<'t>;

    fn next(&mut self) -> Option<Node<'t>> {
        if let Some(entry) = self.index.and_then(|i| i.nodes.get(self.pos as usize)) {
            self.pos = entry.parent;
            if entry.parent == u32::MAX {
                self.outside = Some(entry.node);
            }
            return Some(entry.node);
        }
        if !self.climb {
            return None;
        }
        let parent = self.outside.take()?.parent()?;
        self.outside = Some(parent);
        Some(parent)
    }
}

/// A walk over a subtree in document order that can skip the children of the node returned last.
pub enum Walk<'i, 't> {
    Index {
        index: &'i NodeIndex<'t>,
        pos: usize,
        end: usize,
        last: usize,
    },
    Cursor(Descendants<'t>),
}

impl<'i, 't> Walk<'i, 't> {
    /// [`Node::parent`] of the node returned last (from the index when it is there).
    pub fn parent(&self) -> Option<Node<'t>> {
        match self {
            Walk::Index { index, last, .. } => {
                let entry = &index.nodes[*last];
                match index.nodes.get(entry.parent as usize) {
                    Some(p) => Some(p.node),
                    None => entry.node.parent(),
                }
            }
            Walk::Cursor(d) => d.cursor.node().parent(),
        }
    }

    /// The kind id of the node returned last (from the index when it is there).
    #[inline]
    pub fn kind(&self) -> u16 {
        match self {
            Walk::Index { index, last, .. } => index.nodes[*last].kind,
            Walk::Cursor(d) => d.cursor.node().kind_id(),
        }
    }

    /// The ancestors of the node returned last, innermost first, like [`Walk::parent`] repeated.
    pub fn ancestors(&self) -> Ancestors<'i, 't> {
        match self {
            Walk::Index { index, last, .. } => Ancestors::from_index(index, *last),
            Walk::Cursor(d) => Ancestors::outside(d.cursor.node()),
        }
    }

    /// Every node below `node` (itself included) in document order, from this walk's index when
    /// `node` is in it (see [`NodeIndex::walk_from`]), else with a cursor.
    pub fn within(&self, node: Node<'t>) -> Walk<'i, 't> {
        match self {
            Walk::Index { index, .. } => {
                let index: &'i NodeIndex<'t> = index;
                index.walk_from(node)
            }
            Walk::Cursor(_) => Walk::Cursor(descendants(node)),
        }
    }

    /// Do not descend into the children of the node returned last.
    pub fn skip_children(&mut self) {
        match self {
            Walk::Index {
                index, pos, last, ..
            } => *pos = (*pos).max(index.nodes[*last].end as usize),
            Walk::Cursor(d) => d.skip_children(),
        }
    }
}

impl<'t> Iterator for Walk<'_, 't> {
    type Item = Node<'t>;

    #[inline]
    fn next(&mut self) -> Option<Node<'t>> {
        match self {
            Walk::Index {
                index,
                pos,
                end,
                last,
            } => {
                if *pos >= *end {
                    return None;
                }
                *last = *pos;
                *pos += 1;
                Some(index.nodes[*last].node)
            }
            Walk::Cursor(d) => d.next(),
        }
    }
}

/// The statement that contains `node` (the closest ancestor whose parent is a block or module).
pub fn enclosing_statement(node: Node) -> Node {
    let mut cur = node;
    while let Some(parent) = cur.parent() {
        if matches!(parent.kind_str(), "block" | "module") {
            return cur;
        }
        cur = parent;
    }
    cur
}

/// The innermost function definition around `node`, if any.
pub fn enclosing_function(node: Node) -> Option<Node> {
    let mut cur = node.parent();
    while let Some(n) = cur {
        if n.kind_str() == "function_definition" {
            return Some(n);
        }
        cur = n.parent();
    }
    None
}

/// The indentation (spaces/tabs) of the line on which `byte` lies.
pub fn indentation_at(src: SourceText, byte: usize) -> String {
    let line_start = src.line_start(src.line_of(byte));
    let line = src.slice(line_start..byte.max(line_start));
    line.chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect()
}

/// One level of indentation in the style of `indent`: a tab when it uses tabs, else four spaces.
pub fn indent_unit(indent: &str) -> &'static str {
    if indent.contains('\t') {
        "\t"
    } else {
        "    "
    }
}

/// Lower-cased name split into words: `apiKey` → `["api", "key"]`, `STRIPE_SECRET` → `["stripe",
/// "secret"]`, `x-api-key` → `["x", "api", "key"]`.
pub fn name_words(name: &str) -> Vec<String> {
    if name.is_ascii() {
        return ascii_name_words(name.as_bytes());
    }
    char_name_words(name)
}

/// [`name_words`], char by char (any name).
fn char_name_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut prev: Option<char> = None;
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            prev = None;
            continue;
        }
        let boundary = match prev {
            Some(p) if c.is_uppercase() && p.is_lowercase() => true,
            Some(p) if c.is_uppercase() && p.is_uppercase() => {
                // "APIKey": the K starts a word when followed by lower case.
                chars.get(i + 1).is_some_and(|n| n.is_lowercase())
            }
            Some(p) if c.is_ascii_digit() != p.is_ascii_digit() => false,
            _ => false,
        };
        if boundary && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        current.extend(c.to_lowercase());
        prev = Some(c);
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// [`name_words`] of an ASCII name, byte by byte (no `char` vector, no case-mapping iterators):
/// the same words, as ASCII letters and digits are all the name has.
fn ascii_name_words(name: &[u8]) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::with_capacity(name.len());
    let mut prev: Option<u8> = None;
    for (i, &c) in name.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            prev = None;
            continue;
        }
        let boundary = match prev {
            Some(p) if c.is_ascii_uppercase() && p.is_ascii_lowercase() => true,
            // "APIKey": the K starts a word when followed by lower case.
            Some(p) if c.is_ascii_uppercase() && p.is_ascii_uppercase() => {
                name.get(i + 1).is_some_and(|n| n.is_ascii_lowercase())
            }
            _ => false,
        };
        if boundary && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        current.push(c.to_ascii_lowercase() as char);
        prev = Some(c);
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// `NAME = value` as a statement: the bound identifier and the value (parentheses taken off).
pub fn name_assignment(stmt: Node) -> Option<(Node, Node)> {
    let assign = stmt
        .named_child(0)
        .filter(|n| n.kind_str() == "assignment")?;
    let left = assign
        .field("left")
        .filter(|l| l.kind_str() == "identifier")?;
    Some((left, unparenthesize(assign.field("right")?)))
}

/// Text of a node with any surrounding parentheses removed.
pub fn unparenthesize(node: Node) -> Node {
    let mut cur = node;
    while cur.kind_str() == "parenthesized_expression" {
        match cur.named_child(0) {
            Some(inner) => cur = inner,
            None => break,
        }
    }
    cur
}

/// Convenience for messages: the source of a short target expression, cut to 60 characters.
pub fn short_text<'a>(node: Node, src: SourceText<'a>) -> Cow<'a, str> {
    let text = src.node_text(node);
    if text.chars().count() > 60 {
        let cut: String = text.chars().take(57).collect();
        Cow::Owned(format!("{cut}..."))
    } else {
        text
    }
}

/// The statement around `node` that begins its own line, so that a fix can insert whole lines
/// before it: the innermost enclosing statement, or an outer one when the inner statement shares
/// its line (`if x: y = 1`, `a = 1; b = 2`).
pub fn line_statement<'t>(node: Node<'t>, src: SourceText) -> Node<'t> {
    let mut stmt = enclosing_statement(node);
    loop {
        let line = src.line_of(stmt.start_byte());
        let line_start = src.line_start(line);
        let before = src.slice(line_start..stmt.start_byte());
        if before.chars().all(|c| c == ' ' || c == '\t') {
            return stmt;
        }
        if let Some(prev) = stmt
            .prev_named_sibling()
            .filter(|p| src.line_of(p.end_byte()) == line)
        {
            stmt = prev;
            continue;
        }
        match stmt.parent().and_then(|p| p.parent()) {
            Some(outer) if stmt.parent().is_some_and(|p| p.kind_str() == "block") => {
                stmt = enclosing_statement(outer);
            }
            _ => return stmt,
        }
    }
}

/// The byte offset of the end of the line on which `byte` lies (before its line ending).
pub fn line_end(src: SourceText, byte: usize) -> usize {
    let next = src.line_start(src.line_of(byte) + 1);
    let text = src.slice(byte.min(next)..next);
    next - (text.len() - text.trim_end_matches(['\r', '\n']).len())
}

/// Is `node` the only expression of an expression statement that is a string (a docstring, or a
/// bare string used as a comment)?
pub fn is_docstring_like(node: Node) -> bool {
    node.parent()
        .is_some_and(|p| p.kind_str() == "expression_statement" && p.named_child_count() == 1)
}

/// The Python source of a string literal for `value` in double quotes (escaping `\` and `"`).
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find<'t>(root: Node<'t>, src: SourceText, text: &str) -> Node<'t> {
        descendants(root)
            .find(|n| n.kind_str() == "string" && src.node_text(*n) == text)
            .expect("the string is in the code")
    }

    #[test]
    fn children_and_string_values_match_the_walks() {
        // Nodes of zero to many children (read by index up to `FEW_CHILDREN`, else by cursor),
        // strings of every shape (empty, one part, escapes, f-strings, bytes, concatenated,
        // triple-quoted over lines, unterminated), some in broken code.
        let code = "a = ''\nb = 'x'\nc = \"\\n\\t\"\nd = f'{a}'\ne = f'k{a}v{b!r:>4}'\nf = b'\\x00'\n\
                    g = ('p' 'q'\n     # c\n     'r')\nh = '''l1\nl2 \\\nl3'''\ncall(1, k=2, *a, **b)\n\
                    def f(x, y=1, *z): return x.y[0]\ni = 'open\nj = f'{\nk = rb'\\d+' + u'\\u00e9'\n";
        let doc = crate::document::Document::new(code, 0);
        let (root, src) = (doc.tree.root_node(), doc.source());
        let (mut few, mut many, mut strings, mut one_part) = (0, 0, 0, 0);
        for n in descendants(root) {
            let mine: Vec<Node> = children(n).collect();
            let theirs: Vec<Node> = n.children(&mut n.walk()).collect();
            assert_eq!(mine, theirs, "{n:?}");
            if n.child_count() <= FEW_CHILDREN {
                few += 1;
            } else {
                many += 1;
            }
            if n.kind_str() == "string" {
                strings += 1;
                one_part += usize::from(n.child_count() == 3);
                assert_eq!(string_value_cow(n, src), string_parts(n, src), "{n:?}");
            }
        }
        assert!(
            few > 0 && many > 0 && strings > 10 && one_part > 3,
            "{few} {many} {strings}"
        );
    }

    #[test]
    fn kind_str_names_every_node_as_tree_sitter_does() {
        // Broken code: `ERROR` nodes (a built-in symbol outside the grammar's kind table) and
        // `MISSING` ones among the grammar's kinds.
        let code = "def f(:\n    x = [1, 2\nclass (\n    'a' + )\nprint(\"b\" f'{x')\n";
        let doc = crate::document::Document::new(code, 0);
        let root = doc.tree.root_node();
        assert!(root.has_error());
        let mut errors = 0;
        for n in descendants(root) {
            assert_eq!(n.kind_str(), n.kind(), "{n:?}");
            errors += usize::from(n.is_error());
        }
        assert!(errors > 0, "the code parses with ERROR nodes");
    }

    #[test]
    fn line_statement_climbs_out_of_one_liners() {
        let code = "if x: y = \"a\"\nz = 1; w = \"b\"\ndef f():\n    return \"c\"\n";
        let doc = crate::document::Document::new(code, 0);
        let (root, src) = (doc.tree.root_node(), doc.source());
        let stmt = |text| {
            src.node_text(line_statement(find(root, src, text), src))
                .into_owned()
        };
        assert_eq!(stmt("\"a\""), "if x: y = \"a\"");
        assert_eq!(stmt("\"b\""), "z = 1");
        assert_eq!(stmt("\"c\""), "return \"c\"");
        assert_eq!(line_end(src, 3), code.find('\n').unwrap());
        assert_eq!(indent_unit("\t\t"), "\t");
        assert_eq!(indent_unit("    "), "    ");
        assert_eq!(quote("a\"b"), "\"a\\\"b\"");
    }

    #[test]
    fn ancestors_from_the_index_are_the_parents_tree_sitter_finds() {
        let code = "class A:\n    @dec(x={\"k\": [1, f(y == \"s\")]})\n    def m(self, a=\"b\"):\n        \
                    return {\"examples\": [{\"password\": \"p\"}]}\nX = (1, g(h=\"i\"))\n";
        let doc = crate::document::Document::new(code, 0);
        fn parents(n: Node) -> Vec<Node> {
            std::iter::successors(n.parent(), |p| p.parent()).collect()
        }
        let mut checked = 0;
        for item in items(doc.view()) {
            let mut walk = item.nodes().walk();
            while let Some(node) = walk.next() {
                let expected = parents(node);
                assert_eq!(walk.ancestors().collect::<Vec<_>>(), expected, "{node:?}");
                assert_eq!(item.ancestors(node).collect::<Vec<_>>(), expected);
                checked += 1;
            }
            // A node outside the item climbs with tree-sitter alone.
            let root = doc.tree.root_node();
            assert_eq!(item.ancestors(root).count(), 0);
        }
        assert!(checked > 40, "{checked}");
        // A walk with a cursor (a node outside the index) climbs the same way.
        let root = doc.tree.root_node();
        let mut walk = Walk::Cursor(descendants(root));
        while let Some(node) = walk.next() {
            assert_eq!(walk.ancestors().collect::<Vec<_>>(), parents(node));
        }
    }

    #[test]
    fn kind_sets_and_walk_kinds_agree_with_tree_sitter() {
        let code = "@app.get(\"/\")\ndef f(a, *, b=\"x\", c: str = \"y\"):\n    K = [\"k\"]\n    \
                    return g(key={\"p\": \"q\"}, z=\"s\" \"t\") if a == b else (\n";
        let doc = crate::document::Document::new(code, 0);
        let names = [
            "assignment",
            "call",
            "string",
            "keyword_argument",
            "identifier",
            "(",
        ];
        let set = KindSet::of(&names);
        let root = doc.tree.root_node();
        assert!(root.has_error(), "the error node is walked too");
        let index = NodeIndex::new(root);
        let mut walk = index.walk();
        let mut seen = 0;
        while let Some(node) = walk.next() {
            assert_eq!(walk.kind(), node.kind_id());
            assert_eq!(
                set.contains(walk.kind()),
                names.contains(&node.kind_str()),
                "{node:?}"
            );
            seen += usize::from(set.contains(walk.kind()));
        }
        assert!(seen > 10, "{seen}");
        let mut walk = Walk::Cursor(descendants(root));
        while let Some(node) = walk.next() {
            assert_eq!(walk.kind(), node.kind_id());
        }
    }

    #[test]
    fn statement_decorators_are_those_found_from_the_definition() {
        let code = "@a\n@b.c(d=1)\ndef f():\n    @e\n    def g(): pass\n\
                    class K:\n    @property\n    def h(self): pass\n    def i(self): pass\n\
                    def j(): pass\n@dataclass\nclass L: pass\n";
        let doc = crate::document::Document::new(code, 0);
        let mut decorated = 0;
        for item in items(doc.view()) {
            let found = statement_decorators(item.node);
            assert_eq!(found, decorators(definition(item.node)), "{:?}", item.node);
            assert_eq!(found, decorators(item.node));
            decorated += usize::from(!found.is_empty());
        }
        // `f`, `h` and `L` (`g` is inside `f`'s item).
        assert_eq!(decorated, 3);
    }

    #[test]
    fn node_index_holds_every_node_once() {
        let code = "def f(a, *, b=1):\n    return [x for x in a if x != b]  # c\n";
        let doc = crate::document::Document::new(code, 0);
        let root = doc.tree.root_node();
        let index = NodeIndex::new(root);
        assert_eq!(index.walk().count(), root.descendant_count());
        assert_eq!(
            index.walk().collect::<Vec<_>>(),
            descendants(root).collect::<Vec<_>>()
        );
    }

    #[test]
    fn node_index_reads_narrow_and_wide_nodes_alike() {
        // Nodes of at most `FEW_CHILDREN` children are read by index, wider ones (the call's
        // argument list, the dict, the module) with a cursor: the same nodes, parents and depth
        // as tree-sitter's own walk.
        let code = "x = f(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)  # c\n\
                    d = {'a': [1, (2, 3)], 'b': g(h(i(j)))}\n\
                    if x:\n    raise E(d)\n";
        let doc = crate::document::Document::new(code, 0);
        let root = doc.tree.root_node();
        let index = NodeIndex::new(root);
        assert_eq!(
            index.walk().collect::<Vec<_>>(),
            descendants(root).collect::<Vec<_>>()
        );
        let mut walk = index.walk();
        let mut wide = 0;
        let mut depth = 0;
        while let Some(node) = walk.next() {
            assert_eq!(walk.parent(), node.parent(), "{node:?}");
            wide += usize::from(node.child_count() > FEW_CHILDREN);
            let d = walk.ancestors().count();
            depth = depth.max(d);
            // A subtree walked from the same index is tree-sitter's subtree; its ancestors stop
            // at the index's root when asked to.
            assert_eq!(
                walk.within(node).collect::<Vec<_>>(),
                descendants(node).collect::<Vec<_>>()
            );
            assert_eq!(walk.ancestors().in_index().count(), d);
        }
        assert!(wide >= 1, "{wide}");
        assert_eq!(index.depth(), depth);
        // Inside an item, `in_index` stops at the item's statement.
        let item = items(doc.view()).into_iter().nth(2).unwrap();
        let raise = item
            .nodes()
            .walk()
            .find(|n| n.kind_str() == "raise_statement")
            .unwrap();
        let inside: Vec<_> = item.ancestors(raise).in_index().collect();
        assert_eq!(inside.last(), Some(&item.node));
        assert_eq!(item.ancestors(raise).count(), inside.len() + 1);
    }

    #[test]
    fn words() {
        for name in [
            "apiKey",
            "API_KEY",
            "APIKey",
            "x-api-key",
            "stripe_secret2",
            "S3Bucket",
            "getHTTPResponseCode",
            "__init__",
            "a1B2c3",
            "AB",
            "aB",
            "Ab",
            "",
            "_",
            "X-Api-Key ",
            "token.v2",
        ] {
            assert_eq!(
                super::ascii_name_words(name.as_bytes()),
                super::char_name_words(name),
                "{name}"
            );
        }
        assert_eq!(name_words("apiKey"), ["api", "key"]);
        assert_eq!(name_words("API_KEY"), ["api", "key"]);
        assert_eq!(name_words("APIKey"), ["api", "key"]);
        assert_eq!(name_words("x-api-key"), ["x", "api", "key"]);
        assert_eq!(name_words("stripe_secret2"), ["stripe", "secret2"]);
    }
}
