//! [`TreeView`]: the syntax of a document as the analysis reads it — the whole-file tree, with the
//! statement of a [`Patch`] standing in for its stale counterpart.

use std::ops::Range;

use tree_sitter::{Node, Tree};

use super::region::Patch;

/// The whole-file tree of a document and, while the user types inside one statement, the patch
/// that replaces that statement (see [`super::region`]). Outside the patch's region the whole
/// tree is exact (it was edited with every change, and its text there did not change); inside
/// it, only the patch is. Cheap to copy.
#[derive(Clone, Copy)]
pub struct TreeView<'d> {
    tree: &'d Tree,
    patch: Option<&'d Patch>,
    structure: Option<u64>,
}

impl<'d> TreeView<'d> {
    /// A view of a tree with no patch (the CLI, tests).
    pub fn whole(tree: &'d Tree) -> Self {
        TreeView {
            tree,
            patch: None,
            structure: None,
        }
    }

    pub(super) fn new(tree: &'d Tree, patch: Option<&'d Patch>, structure: Option<u64>) -> Self {
        TreeView {
            tree,
            patch,
            structure,
        }
    }

    /// Which parse of the whole tree this view reads (`None` for [`TreeView::whole`]): two views
    /// with the same one read the same whole-tree statements, their byte offsets shifted by the
    /// edits, everywhere but in their patched regions and where their texts differ (a whole
    /// tree is only edited, not reparsed, between them). The analyzer walks only what changed
    /// then.
    pub fn structure(&self) -> Option<u64> {
        self.structure
    }

    /// The root of the whole-file tree. Its statements must be read through
    /// [`statements`](Self::statements): the patched one is stale.
    pub fn root(&self) -> Node<'d> {
        self.tree.root_node()
    }

    /// The tree the view is built on (for its language).
    pub fn tree(&self) -> &'d Tree {
        self.tree
    }

    /// The patch's region, if a statement is patched.
    pub fn patched_region(&self) -> Option<Range<usize>> {
        self.patch.map(Patch::region)
    }

    /// What stands for `node`, a child of a block of the whole tree: `node` itself, or, when it is
    /// the stale statement a patch replaces, the named children of the patch's block (the
    /// statements the region parses to now: none, one or several; comments included).
    ///
    /// A region extended over the statements after the edited one (a bracket left open, see
    /// [`super::region::extend`]) holds more stale statements: they stand for nothing.
    pub fn statements(&self, node: Node<'d>) -> Statements<'d> {
        match self.patch {
            Some(p) if node.start_byte() == p.target.start && node.kind_id() == p.target.kind => {
                Statements {
                    one: None,
                    next: p.block().named_child(0),
                }
            }
            // A stale statement deleted whole at the region's end collapses to an empty node at
            // `region.end` (a line deleted at the end of the file): it stands for nothing too.
            Some(p)
                if p.target.start < node.start_byte()
                    && (node.start_byte() < p.target.region.end
                        || (node.start_byte() == p.target.region.end
                            && node.end_byte() == node.start_byte())) =>
            {
                Statements {
                    one: None,
                    next: None,
                }
            }
            _ => Statements {
                one: Some(node),
                next: None,
            },
        }
    }

    /// The smallest node spanning `start..end`, from the patch when the range lies in its region.
    pub fn descendant_for_byte_range(&self, start: usize, end: usize) -> Option<Node<'d>> {
        match self.patch {
            Some(p) if p.target.region.start <= start && end <= p.target.region.end => {
                p.tree.root_node().descendant_for_byte_range(start, end)
            }
            _ => self.root().descendant_for_byte_range(start, end),
        }
    }

    /// Every node of `kind` (by id), in document order: from the patch inside its region, from the
    /// whole tree elsewhere.
    pub fn nodes_of_kind(&self, kind: u16) -> Vec<Node<'d>> {
        let region = self.patch.map(Patch::region);
        let mut out = Vec::new();
        // Stale nodes of the region (some squeezed to nothing at its end by deletions) are left
        // out of the whole tree.
        collect_kind(self.tree, kind, &mut out, |n| {
            region
                .as_ref()
                .is_none_or(|r| !(r.start <= n.start_byte() && n.end_byte() <= r.end))
        });
        if let (Some(p), Some(r)) = (self.patch, region) {
            let mut inner = Vec::new();
            collect_kind(&p.tree, kind, &mut inner, |n| r.contains(&n.start_byte()));
            let at = out.partition_point(|n| n.start_byte() < r.start);
            out.splice(at..at, inner);
        }
        out
    }
}

impl TreeView<'_> {
    /// The statements as the analysis walks them, one line each, in document order: a class
    /// header as `class START..BODY_START`, any other statement with its byte range, points and
    /// S-expression; then the byte range of every comment (where a comment hangs in the tree does
    /// not matter to the analysis). Two views of the same text with equal outlines give the same
    /// analysis (for tests and debugging).
    pub fn outline(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.outline_block(self.root(), &mut out);
        for c in self.nodes_of_kind(super::region::Kinds::get().comment) {
            out.push(format!("comment {:?}", c.byte_range()));
        }
        out
    }

    fn outline_block(&self, block: Node, out: &mut Vec<String>) {
        let mut cursor = block.walk();
        for child in block.named_children(&mut cursor) {
            for stmt in self.statements(child) {
                if stmt.kind() == "comment" {
                    continue;
                }
                let def = match stmt.kind() {
                    "decorated_definition" => stmt
                        .child_by_field_id(super::region::Kinds::get().definition.get())
                        .unwrap_or(stmt),
                    _ => stmt,
                };
                match def.child_by_field_id(super::region::Kinds::get().body.get()) {
                    Some(body) if def.kind() == "class_definition" => {
                        out.push(format!(
                            "class {}..{}",
                            stmt.start_byte(),
                            body.start_byte()
                        ));
                        self.outline_block(body, out);
                    }
                    _ => out.push(format!(
                        "{:?} {:?}-{:?} {}",
                        stmt.byte_range(),
                        stmt.start_position(),
                        stmt.end_position(),
                        stmt.to_sexp()
                    )),
                }
            }
        }
    }
}

/// The iterator of [`TreeView::statements`].
pub struct Statements<'d> {
    one: Option<Node<'d>>,
    next: Option<Node<'d>>,
}

impl<'d> Iterator for Statements<'d> {
    type Item = Node<'d>;

    fn next(&mut self) -> Option<Node<'d>> {
        if let Some(one) = self.one.take() {
            return Some(one);
        }
        let node = self.next?;
        self.next = node.next_named_sibling();
        Some(node)
    }
}

/// Pushes every node of `kind` of `tree` that `keep` accepts, in document order.
fn collect_kind<'t>(
    tree: &'t Tree,
    kind: u16,
    out: &mut Vec<Node<'t>>,
    keep: impl Fn(Node<'t>) -> bool,
) {
    let mut cursor = tree.walk();
    let mut descend = true;
    loop {
        if descend {
            let node = cursor.node();
            if node.kind_id() == kind && keep(node) {
                out.push(node);
            }
            if cursor.goto_first_child() {
                continue;
            }
        }
        if cursor.goto_next_sibling() {
            descend = true;
            continue;
        }
        if !cursor.goto_parent() {
            break;
        }
        descend = false;
    }
}
