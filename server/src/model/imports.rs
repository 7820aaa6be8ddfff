//! Where import lines stand ([`ImportLayout`]), for fixes that add one.

use tree_sitter::Node;

use crate::document::{SourceText, TreeView};
use crate::syntax::NodeExt;

/// Where import lines stand, for fixes that add one. Not part of the model's fingerprint (these are
/// byte offsets that move with every edit above them).
#[derive(Debug, Clone, Default)]
pub struct ImportLayout {
    /// Byte offset after the module docstring and `__future__` imports (start of the next line).
    pub after_header: usize,
    /// Top-level import statements of the leading import block: (module, plain `import`, line start,
    /// next line start).
    pub block: Vec<(String, bool, usize, usize)>,
}

/// Computes where imports stand: after the docstring and `__future__` imports, and the leading
/// block of import statements.
pub fn import_layout(tree: TreeView, src: SourceText) -> ImportLayout {
    import_layout_read(tree, src).0
}

/// [`import_layout`], with what it read: how many top-level statements (from the first), and the
/// text up to which byte, excluded (a line start reads the byte after it: `\r\n` is one break).
/// `usize::MAX` when it read every statement or up to the end of the text: then it depends on
/// there being nothing more.
pub(crate) fn import_layout_read(tree: TreeView, src: SourceText) -> (ImportLayout, usize, usize) {
    let mut layout = ImportLayout::default();
    let root = tree.root();
    let (mut read, mut stopped) = ((0, usize::MAX), false);
    let mut cursor = root.walk();
    let mut seen_code = false;
    let statements = root
        .named_children(&mut cursor)
        .flat_map(|n| tree.statements(n));
    for (i, stmt) in statements.enumerate() {
        let next_line = src.line_start(src.line_of(stmt.end_byte()) + 1);
        read = (
            i + 1,
            if next_line < src.len() {
                next_line + 1
            } else {
                usize::MAX
            },
        );
        match stmt.kind_str() {
            "comment" => continue,
            "expression_statement"
                if i == 0 || !seen_code && is_docstring(stmt) && layout.after_header == 0 =>
            {
                if is_docstring(stmt) {
                    layout.after_header = next_line;
                    continue;
                }
                stopped = true;
                break;
            }
            "future_import_statement" => {
                layout.after_header = next_line;
            }
            "import_statement" | "import_from_statement" => {
                let module = stmt
                    .field(if stmt.kind_str() == "import_statement" {
                        "name"
                    } else {
                        "module_name"
                    })
                    .map(|n| {
                        let n = if n.kind_str() == "aliased_import" {
                            n.field("name").unwrap_or(n)
                        } else {
                            n
                        };
                        src.node_text(n).into_owned()
                    })
                    .unwrap_or_default();
                let start = src.line_start(src.line_of(stmt.start_byte()));
                layout.block.push((
                    module,
                    stmt.kind_str() == "import_statement",
                    start,
                    next_line,
                ));
            }
            _ => {
                stopped = true;
                break;
            }
        }
        seen_code = true;
    }
    if !stopped {
        read.1 = usize::MAX;
    }
    (layout, read.0, read.1)
}

fn is_docstring(stmt: Node) -> bool {
    stmt.kind_str() == "expression_statement"
        && stmt.named_child_count() == 1
        && stmt
            .named_child(0)
            .is_some_and(|c| c.kind_str() == "string")
}
