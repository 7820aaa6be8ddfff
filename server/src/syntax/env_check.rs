//! The start-up check a fix inserts for an environment variable that must be set (KL101, KL102).

use tree_sitter::Node;

use super::{definition, enclosing_function, indent_unit, indentation_at, NodeExt};
use crate::document::SourceText;
use crate::finding::Edit;

/// The advice of an inserted check: at start-up for module and class level, plainly inside a function
/// (where the check runs when the function does).
pub fn missing_env_hint(stmt: Node) -> &'static str {
    if enclosing_function(stmt).is_some() {
        "export it in the environment"
    } else {
        "export it in the environment before start-up"
    }
}

/// Inserts, before `stmt` and at its indentation, a start-up check that fails with a clear message
/// naming the variable: `if not os.environ.get("X"): raise RuntimeError("X is not set …")`.
pub fn require_env_edit(stmt: Node, env: &str, os: &str, src: SourceText) -> Edit {
    let indent = indentation_at(src, stmt.start_byte());
    let unit = indent_unit(&indent);
    let eol = src.line_ending();
    let hint = missing_env_hint(stmt);
    // Before a `def`/`class`, keep the blank lines PEP 8 wants between it and the check.
    let blank = match definition(stmt).kind_str() {
        "function_definition" | "class_definition" if indent.is_empty() => format!("{eol}{eol}"),
        "function_definition" | "class_definition" => eol.to_string(),
        _ => String::new(),
    };
    Edit::insert(
        stmt.start_byte(),
        format!(
            "if not {os}.environ.get(\"{env}\"):{eol}{indent}{unit}raise RuntimeError(\"{env} is not set: {hint}\"){eol}{blank}{indent}"
        ),
    )
}
