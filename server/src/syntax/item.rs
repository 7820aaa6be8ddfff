//! Items: the units the analysis works in. An item is a top-level statement, or a statement in
//! the body of a top-level (or nested) class, with the classes around it; a class header is an item
//! of its own (facts only, no findings).

use std::rc::Rc;

use tree_sitter::Node;

use super::{self as syntax, NodeExt};
use crate::document::TreeView;

/// An item whose syntax nests deeper than this is not analysed (no facts, flows or findings; see
/// [`Analysis::not_analysed`]). Rules walk up from nodes to their ancestors, which costs
/// tree-sitter the depth of the node; at 5,000 levels one statement took a minute. All of django
/// nests 32 levels at most (from the module), and CPython refuses 200 nested brackets.
pub const MAX_NESTING: usize = 256;

/// One unit of analysis: a statement, with the classes around it.
pub struct Item<'t> {
    pub node: Node<'t>,
    /// Indices into `Model::classes` of the enclosing classes, outermost first (shared by the
    /// items of one class body).
    pub classes: Rc<[usize]>,
    /// A class header (`class X(Base):` with its decorators): contributes facts only, no findings.
    pub header: bool,
    /// Every node of the item, indexed on first use (see [`Item::nodes`]).
    index: std::cell::OnceCell<syntax::NodeIndex<'t>>,
}

impl<'t> Item<'t> {
    pub fn new(node: Node<'t>, classes: Rc<[usize]>, header: bool) -> Self {
        Item {
            node,
            classes,
            header,
            index: std::cell::OnceCell::new(),
        }
    }

    /// Every node of the item in document order, walked once and shared by the item facts and
    /// every rule.
    pub fn nodes(&self) -> &syntax::NodeIndex<'t> {
        self.index.get_or_init(|| syntax::NodeIndex::new(self.node))
    }

    /// Whether the item nests deeper than [`MAX_NESTING`] (it is then not analysed).
    pub fn too_deep(&self) -> bool {
        self.nodes().depth() > MAX_NESTING
    }

    /// The ancestors of `node` (a node of the item), innermost first, without tree-sitter's
    /// [`Node::parent`] inside the item (see [`syntax::Ancestors`]).
    pub fn ancestors(&self, node: Node<'t>) -> syntax::Ancestors<'_, 't> {
        self.nodes().ancestors(node)
    }

    /// Every node below `node` (an item node, itself included) in document order.
    pub fn descendants(&self, node: Node<'t>) -> syntax::Walk<'_, 't> {
        if node == self.node {
            self.nodes().walk()
        } else {
            self.nodes().walk_from(node)
        }
    }
}

/// Node kind ids the item split compares against (cheaper than comparing kind names).
struct Kinds {
    comment: u16,
    class: u16,
    decorated: u16,
}

/// Splits the module into items, in document order (a patched statement from its patch).
pub fn items(tree: TreeView<'_>) -> Vec<Item<'_>> {
    items_sized(tree, 0)
}

/// [`items`], with room for `capacity` of them from the start (the analyzer passes the count of
/// its last run: a big module is hundreds of items, and growing the vector costs more than
/// walking them).
pub fn items_sized(tree: TreeView<'_>, capacity: usize) -> Vec<Item<'_>> {
    let ids = syntax::kinds();
    let kinds = Kinds {
        comment: ids.comment,
        class: ids.class_definition,
        decorated: ids.decorated_definition,
    };
    let mut out = Vec::with_capacity(capacity);
    let mut class_count = 0usize;
    push_block(
        tree,
        tree.root(),
        Rc::from([]),
        &kinds,
        &mut class_count,
        &mut out,
    );
    out
}

fn push_block<'t>(
    tree: TreeView<'t>,
    block: Node<'t>,
    classes: Rc<[usize]>,
    kinds: &Kinds,
    count: &mut usize,
    out: &mut Vec<Item<'t>>,
) {
    let mut cursor = block.walk();
    if !cursor.goto_first_child() {
        return;
    }
    loop {
        for stmt in tree.statements(cursor.node()) {
            let kind = stmt.kind_id();
            if !stmt.is_named() || kind == kinds.comment {
                continue;
            }
            let def = if kind == kinds.decorated {
                syntax::definition(stmt)
            } else {
                stmt
            };
            if def.kind_id() == kinds.class {
                let index = *count;
                *count += 1;
                out.push(Item::new(stmt, classes.clone(), true));
                if let Some(body) = def.field("body") {
                    let inner: Rc<[usize]> = classes.iter().copied().chain([index]).collect();
                    push_block(tree, body, inner, kinds, count, out);
                }
            } else {
                out.push(Item::new(stmt, classes.clone(), false));
            }
        }
        if !cursor.goto_next_sibling() {
            break;
        }
    }
}
