//! Which values a statement checks before use: the facts KL102 (`unvalidated-env-secret`) needs from
//! anywhere in the module ("validated later in the module"), extracted once per item and cached with
//! its [`ItemFacts`](super::ItemFacts).
//!
//! A value counts as checked when it is the subject of a condition (`if not X: raise …`,
//! `if X is None: sys.exit(…)`, `if X: use(X)`), of an `assert`, of `all([...])`, or when it is
//! named in a list that a loop walks and raises on (`for k in REQUIRED: if not app.config.get(k):
//! raise …`). A subject is recorded by name: an identifier (`API_KEY`), an attribute's last name
//! (`settings.api_key` → `api_key`), a subscript or `.get` key (`app.config["API_KEY"]` → `API_KEY`),
//! the variable of an environment read (`os.environ.get("API_KEY")` → `API_KEY`).
//!
//! The names are part of the model's fingerprint, so every change to them re-checks the whole module.
//! To keep typing in an ordinary `if` or `assert` cheap, a condition whose block does not stop the
//! program records only secret-like subjects; a condition that raises or exits records them all.

use crate::syntax::NodeExt;
use tree_sitter::Node;

use super::{secrets, syntax};
use crate::document::SourceText;

/// Subjects checked by the nodes of `nodes` (an item, in document order), plus `@NAME` for every
/// list variable `NAME` a raising loop walks (resolved against [`string_list`] bindings by the
/// model).
pub fn validated_names(nodes: syntax::Walk<'_, '_>, src: SourceText) -> Vec<String> {
    collect(nodes, src, false)
}

/// Every subject checked in `root`, guards included (`if key: use(key)`): for a rule that looks at
/// the function around a read, where no fingerprint is at stake.
pub fn checked_names(root: Node, src: SourceText) -> Vec<String> {
    collect(syntax::Walk::Cursor(syntax::descendants(root)), src, true)
}

/// The node kinds [`collect`] looks at (the others are skipped by a bit test of their kind id).
static KINDS: std::sync::LazyLock<syntax::KindSet> = std::sync::LazyLock::new(|| {
    syntax::KindSet::of(&[
        "if_statement",
        "elif_clause",
        "while_statement",
        "conditional_expression",
        "assert_statement",
        "list_comprehension",
        "set_comprehension",
        "generator_expression",
        "for_statement",
    ])
});

/// Subjects checked by the nodes of `nodes` (a subtree in document order).
fn collect(mut nodes: syntax::Walk<'_, '_>, src: SourceText, all: bool) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(node) = nodes.next() {
        if !KINDS.contains(nodes.kind()) {
            continue;
        }
        match node.kind_str() {
            "if_statement" | "elif_clause" | "while_statement" | "conditional_expression" => {
                let condition = if node.kind_str() == "conditional_expression" {
                    node.named_child(1)
                } else {
                    node.field("condition")
                };
                let Some(c) = condition else { continue };
                // `if X: … else: raise`, `if X == "a": … elif X == "b": … else: raise`: the
                // last branch rejects what the conditions did not accept.
                let stops = node.kind_str() != "conditional_expression"
                    && (node
                        .field("consequence")
                        .is_some_and(|b| raises(nodes.within(b), src))
                        || else_raises(node, &nodes, src));
                let mut found = Vec::new();
                subjects(c, src, &mut found);
                out.extend(
                    found
                        .into_iter()
                        .filter(|n| all || stops || secrets::is_secret_name(n, &[])),
                );
            }
            "assert_statement" => {
                if let Some(c) = node.named_child(0) {
                    let mut found = Vec::new();
                    subjects(c, src, &mut found);
                    out.extend(
                        found
                            .into_iter()
                            .filter(|n| all || secrets::is_secret_name(n, &[])),
                    );
                }
            }
            // `missing = [k for k in REQUIRED if not os.environ.get(k)]` (then `if missing:
            // raise`), `any(not os.getenv(k) for k in REQUIRED)`: the names of the walked
            // sequence are checked.
            "list_comprehension" | "set_comprehension" | "generator_expression" => {
                if let Some(seq) = missing_env_walk(node, src) {
                    let seq = syntax::unparenthesize(seq);
                    if seq.kind_str() == "identifier" {
                        out.push(format!("@{}", src.node_text(seq)));
                    } else {
                        out.extend(strings_of(seq, src));
                    }
                }
            }
            "for_statement" => {
                let (Some(right), Some(body)) = (node.field("right"), node.field("body")) else {
                    continue;
                };
                if !raises(nodes.within(body), src) {
                    continue;
                }
                let right = syntax::unparenthesize(right);
                if right.kind_str() == "identifier" {
                    out.push(format!("@{}", src.node_text(right)));
                } else {
                    out.extend(strings_of(right, src));
                }
            }
            _ => {}
        }
    }
    out.sort();
    out.dedup();
    out
}

/// `REQUIRED = ["API_KEY", "SECRET_KEY"]`: a name bound to a list, tuple or set of strings.
pub fn string_list(stmt: Node, src: SourceText) -> Option<(String, Vec<String>)> {
    let (left, right) = syntax::name_assignment(stmt)?;
    if !matches!(right.kind_str(), "list" | "tuple" | "set") {
        return None;
    }
    let values = strings_of(right, src);
    (!values.is_empty()).then(|| (src.node_text(left).into_owned(), values))
}

fn strings_of(seq: Node, src: SourceText) -> Vec<String> {
    let mut cursor = seq.walk();
    seq.named_children(&mut cursor)
        .filter_map(|n| syntax::string_value(n, src))
        .collect()
}

/// The `else` at the end of an `if`/`elif` chain raises (`node` is the `if_statement` or one of
/// its `elif_clause`s, whose parent is `parent`).
fn else_raises(node: Node, nodes: &syntax::Walk<'_, '_>, src: SourceText) -> bool {
    let chain = if node.kind_str() == "elif_clause" {
        match nodes.parent() {
            Some(p) => p,
            None => return false,
        }
    } else {
        node
    };
    if chain.kind_str() != "if_statement" {
        return false;
    }
    let mut cursor = chain.walk();
    let found = chain
        .named_children(&mut cursor)
        .filter(|c| c.kind_str() == "else_clause")
        .filter_map(|c| c.field("body"))
        .any(|b| raises(nodes.within(b), src));
    found
}

/// A comprehension over a sequence of names that keeps the names missing from the environment
/// (`[k for k in REQUIRED if not os.environ.get(k)]`, `k not in os.environ`): the sequence.
fn missing_env_walk<'t>(comp: Node<'t>, src: SourceText) -> Option<Node<'t>> {
    let mut cursor = comp.walk();
    let kids: Vec<Node> = comp.named_children(&mut cursor).collect();
    let walk = kids.iter().find(|c| c.kind_str() == "for_in_clause")?;
    let var = walk
        .field("left")
        .filter(|l| l.kind_str() == "identifier")?;
    let var = src.node_text(var);
    let seq = walk.field("right")?;
    let env_check = |n: Node| {
        syntax::descendants(n).any(|d| {
            let t = src.node_text(d);
            matches!(d.kind_str(), "call" | "comparison_operator" | "subscript")
                && (t.contains("environ") || t.contains("getenv"))
                && syntax::descendants(d)
                    .any(|i| i.kind_str() == "identifier" && src.node_text(i) == var)
        })
    };
    // The test is in an `if` clause, or is the body (`any(not os.getenv(k) for k in …)`).
    let tested = kids
        .iter()
        .filter(|c| c.kind_str() == "if_clause")
        .any(|c| env_check(*c))
        || kids
            .first()
            .is_some_and(|b| b.kind_str() != "for_in_clause" && env_check(*b));
    tested.then_some(seq)
}

/// Does the block walked by `block` raise or stop the program (`raise`, `sys.exit`, `exit`,
/// `abort`, `os._exit`)?
fn raises(mut block: syntax::Walk<'_, '_>, src: SourceText) -> bool {
    let kinds = syntax::kinds();
    while let Some(n) = block.next() {
        let kind = block.kind();
        if kind == kinds.raise_statement
            || kind == kinds.call
                && n.field("function").is_some_and(|f| {
                    let t = src.node_text(f);
                    let last = t.rsplit('.').next().unwrap_or("");
                    matches!(last, "exit" | "_exit" | "abort" | "quit" | "fail" | "skip")
                })
        {
            return true;
        }
    }
    false
}

/// The subjects of a condition.
fn subjects(cond: Node, src: SourceText, out: &mut Vec<String>) {
    let cond = syntax::unparenthesize(cond);
    match cond.kind_str() {
        "not_operator" => {
            if let Some(arg) = cond.field("argument") {
                subjects(arg, src, out);
            }
        }
        "boolean_operator" => {
            for side in ["left", "right"] {
                if let Some(n) = cond.field(side) {
                    subjects(n, src, out);
                }
            }
        }
        "comparison_operator" => {
            let mut cursor = cond.walk();
            for n in cond.named_children(&mut cursor) {
                subjects(n, src, out);
            }
        }
        "identifier" => out.push(src.node_text(cond).into_owned()),
        "attribute" => {
            if let Some(a) = cond.field("attribute") {
                out.push(src.node_text(a).into_owned());
            }
        }
        "subscript" => {
            if let Some(key) = cond
                .field("subscript")
                .and_then(|k| syntax::string_value(k, src))
            {
                out.push(key);
            }
        }
        "call" => {
            let function = cond
                .field("function")
                .map(|f| src.node_text(f).into_owned())
                .unwrap_or_default();
            let args = syntax::positional_args(cond);
            if function == "all" || function == "any" {
                // `all([A, B])`, `all((A, B))`, `all(x for x in (...))`.
                if let Some(seq) = args.first() {
                    let seq = syntax::unparenthesize(*seq);
                    let mut cursor = seq.walk();
                    for n in seq.named_children(&mut cursor) {
                        subjects(n, src, out);
                    }
                }
            } else if function.ends_with("get") || function.ends_with("getenv") {
                if let Some(key) = args.first().and_then(|k| syntax::string_value(*k, src)) {
                    out.push(key);
                }
            } else if matches!(function.as_str(), "bool" | "len" | "isinstance") {
                if let Some(a) = args.first() {
                    subjects(*a, src, out);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Document;

    fn names(code: &str, all: bool) -> Vec<String> {
        let doc = Document::new(code, 0);
        collect(
            syntax::Walk::Cursor(syntax::descendants(doc.tree.root_node())),
            doc.source(),
            all,
        )
    }

    #[test]
    fn raising_conditions_record_every_subject() {
        let code = "if not key or config.get('TOKEN') is None:\n    raise SystemExit(1)\n";
        assert_eq!(names(code, false), ["TOKEN", "key"]);
    }

    #[test]
    fn guards_record_secret_like_subjects_only_unless_asked() {
        let code = "if api_key and user:\n    use(api_key)\nassert ready\n";
        assert_eq!(names(code, false), ["api_key"]);
        assert_eq!(names(code, true), ["api_key", "ready", "user"]);
    }

    #[test]
    fn else_branches_and_missing_lists() {
        let code = "if MODE == 'a':\n    pass\nelif MODE == 'b':\n    pass\nelse:\n    raise ValueError(MODE)\n";
        assert_eq!(names(code, false), ["MODE"]);
        let code = "missing = [k for k in REQUIRED if not os.environ.get(k)]\n";
        assert_eq!(names(code, false), ["@REQUIRED"]);
        let code = "missing = [k for k in ('A_TOKEN', 'B_KEY') if k not in os.environ]\n";
        assert_eq!(names(code, false), ["A_TOKEN", "B_KEY"]);
        // A comprehension that does not test the environment validates nothing.
        let code = "names = [k for k in REQUIRED if k]\n";
        assert!(names(code, false).is_empty());
    }

    #[test]
    fn all_lists_and_loops() {
        let code = "if not all([A_TOKEN, B_SECRET]):\n    sys.exit(1)\nfor k in REQUIRED:\n    if not app.config.get(k):\n        raise RuntimeError(k)\nfor k in ('X_KEY',):\n    raise KeyError(k)\n";
        assert_eq!(
            names(code, false),
            ["@REQUIRED", "A_TOKEN", "B_SECRET", "X_KEY"]
        );
    }
}
