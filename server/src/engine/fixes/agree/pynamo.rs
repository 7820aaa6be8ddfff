//! PynamoDB attributes for [`super::agree`]: a KL201 fix that hashes the value put into
//! `Account(api_key=…)`, `account.api_key = …` or `Account.api_key.set(…)` must be followed by
//! every place of the file that uses `api_key` of the model:
//! * `Account.api_key == given` (a query or scan condition, a `condition=` of a write): the given
//!   value is hashed ([`Use::Lookup`]);
//! * `account.api_key != given` on an instance the function got from the model (`Account.get(…)`,
//!   `Account(…)`, `for account in Account.query(…)`, a parameter annotated `Account`): compared
//!   in constant time with the hash of the given value ([`Use::Compare`]);
//! * when `api_key` is the model's hash key, `Account.get(given)`, `get_or_none`, `query` and
//!   `count` look the hash up; a range key, `batch_get`, a positional constructor, and any other
//!   condition (`is_in`, `startswith`, `<`, `between`…) are uses the fix cannot follow
//!   ([`Use::Conflict`]): the fix is withdrawn;
//! * a comparison on an object not known to be an instance of the model is a conflict too.
//!
//! Anything else (the value returned, logged, another write) reads the hash: [`Use::Read`].

use std::ops::Range;

use tree_sitter::Node;

use super::{read, Edit, Use};
use crate::document::{SourceText, TreeView};
use crate::model::Model;
use crate::syntax::{self, NodeExt};

/// A PynamoDB model class of the module.
fn is_model(model: &Model, name: &str) -> bool {
    model.is_pynamo_class(name)
}

/// The PynamoDB attribute a KL201 value edit writes: `Account(api_key=<v>)`,
/// `<obj>.api_key = <v>` (on an object whose class is not known: any model of the module that
/// declares the attribute), `Account.api_key.set(<v>)`.
pub(super) fn written_attr(
    tree: TreeView,
    src: SourceText,
    model: &Model,
    e: &Edit,
) -> Option<String> {
    let node = tree.descendant_for_byte_range(e.range.start, e.range.end)?;
    if node.byte_range() != e.range {
        return None;
    }
    let parent = node.parent()?;
    let name = match parent.kind_str() {
        "keyword_argument" => model.pynamo_constructor_kwarg(parent, src)?.1,
        "assignment" => {
            let left = parent
                .field("left")
                .filter(|l| l.kind_str() == "attribute")?;
            src.node_text(left.field("attribute")?).into_owned()
        }
        "argument_list" => {
            let call = parent.parent().filter(|c| c.kind_str() == "call")?;
            let f = call
                .field("function")
                .filter(|f| f.kind_str() == "attribute")?;
            let target = f.field("object").filter(|o| o.kind_str() == "attribute")?;
            let class = target.field("object")?;
            if !is_model(model, &src.node_text(class)) {
                return None;
            }
            src.node_text(target.field("attribute")?).into_owned()
        }
        _ => return None,
    };
    let declared = model_classes(model, &name).next().is_some();
    declared.then_some(name)
}

/// The PynamoDB models of the module that declare `attr`.
fn model_classes<'m>(model: &'m Model, attr: &'m str) -> impl Iterator<Item = &'m str> + 'm {
    model
        .classes
        .iter()
        .filter(move |c| c.parent.is_none() && c.fields.iter().any(|f| f == attr))
        .map(|c| c.name.as_str())
        .filter(move |c| is_model(model, c))
}

/// Whether `attr` is declared as `hash_key=True` (`Some(true)`) or `range_key=True`
/// (`Some(false)`) in the class body of `class`.
fn key_role(tree: TreeView, src: SourceText, class: &str, attr: &str) -> Option<bool> {
    for def in tree.nodes_of_kind(syntax::kinds().class_definition) {
        if def.field("name").is_none_or(|n| src.node_text(n) != class) {
            continue;
        }
        let body = def.field("body")?;
        for i in 0..body.named_child_count() {
            let Some(stmt) = body.named_child(i as u32) else {
                continue;
            };
            let Some(a) = stmt.named_child(0).filter(|a| a.kind_str() == "assignment") else {
                continue;
            };
            if a.field("left").is_none_or(|l| src.node_text(l) != attr) {
                continue;
            }
            let Some(call) = a.field("right").filter(|r| r.kind_str() == "call") else {
                continue;
            };
            let flag = |kw: &str| {
                syntax::keyword_arg(call, kw, src).is_some_and(|v| src.node_text(v) == "True")
            };
            if flag("hash_key") {
                return Some(true);
            }
            if flag("range_key") {
                return Some(false);
            }
        }
    }
    None
}

/// Every use of the PynamoDB attribute `name` in the file, other than the fixed writes (`own`).
pub(super) fn uses<'t>(
    tree: TreeView<'t>,
    src: SourceText,
    model: &Model,
    name: &str,
    own: &[Range<usize>],
) -> Vec<Use<'t>> {
    let inside_own = |n: Node| {
        own.iter()
            .any(|r| r.start <= n.start_byte() && n.end_byte() <= r.end)
    };
    let classes: Vec<&str> = model_classes(model, name).collect();
    let mut out = Vec::new();
    for id in tree.nodes_of_kind(syntax::kinds().identifier) {
        let Some(attr) = id.parent().filter(|p| {
            p.kind_str() == "attribute" && p.field("attribute").map(|a| a.id()) == Some(id.id())
        }) else {
            continue;
        };
        if src.node_text(id) != name || inside_own(attr) {
            continue;
        }
        let Some(obj) = attr.field("object") else {
            continue;
        };
        let on_class = obj.kind_str() == "identifier" && is_model(model, &src.node_text(obj));
        if let Some(u) = use_of_attr(attr, on_class, src, model, &classes, &inside_own) {
            out.push(u);
        }
    }
    // Lookups by the hash or range key.
    for class in &classes {
        let Some(is_hash) = key_role(tree, src, class, name) else {
            continue;
        };
        for id in tree.nodes_of_kind(syntax::kinds().identifier) {
            if src.node_text(id) != *class {
                continue;
            }
            let Some(parent) = id.parent() else { continue };
            // `Account(given, …)`: positional hash key of a new instance.
            if parent.kind_str() == "call"
                && parent.field("function").map(|f| f.id()) == Some(id.id())
            {
                if syntax::positional_args(parent)
                    .first()
                    .is_some_and(|a| !inside_own(*a))
                {
                    out.push(Use::Conflict);
                }
                continue;
            }
            if parent.kind_str() != "attribute"
                || parent.field("object").map(|o| o.id()) != Some(id.id())
            {
                continue;
            }
            let Some(method) = parent.field("attribute").map(|m| src.node_text(m)) else {
                continue;
            };
            let call = parent.parent().filter(|c| {
                c.kind_str() == "call" && c.field("function").map(|f| f.id()) == Some(parent.id())
            });
            match (method.as_ref(), call) {
                ("get" | "get_or_none" | "query" | "count", Some(call)) => {
                    let args = syntax::positional_args(call);
                    if !is_hash {
                        if args.len() >= 2 {
                            out.push(Use::Conflict);
                        }
                    } else if let Some(a) = args.first() {
                        out.push(Use::Lookup(*a));
                    }
                }
                // `run_in_threadpool(Account.get, key)` and other uses of the bound method.
                ("get" | "get_or_none" | "query" | "count" | "batch_get", _) => {
                    out.push(Use::Conflict)
                }
                _ => {}
            }
        }
    }
    out
}

/// How the attribute node `attr` (`X.api_key`) is used.
fn use_of_attr<'t>(
    attr: Node<'t>,
    on_class: bool,
    src: SourceText,
    model: &Model,
    classes: &[&str],
    inside_own: &dyn Fn(Node) -> bool,
) -> Option<Use<'t>> {
    let parent = attr.parent()?;
    // `x.api_key = v`: a write; the fixed ones are skipped, others are left as they are.
    if parent.kind_str() == "assignment" && parent.field("left").map(|l| l.id()) == Some(attr.id())
    {
        return Some(Use::Read);
    }
    if on_class {
        // `Account.api_key.set(v)` / `.remove()`: an update action.
        if parent.kind_str() == "attribute" {
            let method = src.node_text(parent.field("attribute")?);
            return match method.as_ref() {
                "set" => {
                    let call = parent.parent()?;
                    let own = syntax::positional_args(call)
                        .first()
                        .is_some_and(|a| inside_own(*a));
                    (!own).then_some(Use::Read)
                }
                "remove" | "exists" | "does_not_exist" => Some(Use::Read),
                _ => Some(Use::Conflict),
            };
        }
        // `Account.api_key == given`: a condition; look the hash up.
        let mut node = attr;
        while let Some(p) = node
            .parent()
            .filter(|p| p.kind_str() == "parenthesized_expression")
        {
            node = p;
        }
        let cmp = node
            .parent()
            .filter(|p| p.kind_str() == "comparison_operator");
        return match cmp {
            Some(cmp) => match read(attr) {
                Use::Compare { given, .. } => Some(Use::Lookup(given)),
                _ => {
                    let _ = cmp;
                    Some(Use::Conflict)
                }
            },
            // `attributes_to_get=[Account.api_key]`, an index's attribute…
            None => Some(Use::Read),
        };
    }
    match read(attr) {
        Use::Read => Some(Use::Read),
        compare => {
            let obj = attr.field("object")?;
            is_instance(obj, src, model, classes)
                .then_some(compare)
                .or(Some(Use::Conflict))
        }
    }
}

/// `obj` is an instance of one of `classes` in its function: bound from `Account(…)`,
/// `Account.get(…)`/`get_or_none(…)` (possibly awaited), `next(Account.query(…))`, a `for` over
/// `Account.scan(…)`/`query(…)`, or a parameter annotated with the class.
fn is_instance(obj: Node, src: SourceText, model: &Model, classes: &[&str]) -> bool {
    if obj.kind_str() != "identifier" {
        return false;
    }
    let name = src.node_text(obj);
    let Some(def) = syntax::enclosing_function(obj) else {
        return false;
    };
    let of_class = |value: Node| -> bool {
        let mut v = syntax::unparenthesize(value);
        for _ in 0..4 {
            match v.kind_str() {
                "await" => match v.named_child(0) {
                    Some(c) => v = c,
                    None => return false,
                },
                "call" => {
                    let Some(f) = v.field("function") else {
                        return false;
                    };
                    match f.kind_str() {
                        "identifier" if src.node_text(f) == "next" => {
                            match syntax::positional_args(v).first() {
                                Some(a) => v = *a,
                                None => return false,
                            }
                        }
                        "identifier" => return classes.contains(&src.node_text(f).as_ref()),
                        "attribute" => {
                            return f.field("object").is_some_and(|o| {
                                classes.contains(&src.node_text(o).as_ref())
                                    && is_model(model, &src.node_text(o))
                            });
                        }
                        _ => return false,
                    }
                }
                _ => return false,
            }
        }
        false
    };
    let mut stack = vec![def];
    while let Some(n) = stack.pop() {
        match n.kind_str() {
            "assignment" | "for_statement"
                if n.field("left").is_some_and(|l| src.node_text(l) == name)
                    && n.field("right").is_some_and(of_class) =>
            {
                return true;
            }
            "typed_parameter" | "typed_default_parameter" => {
                let pname = n
                    .field("name")
                    .or_else(|| n.named_child(0))
                    .map(|p| src.node_text(p));
                let ty = n.field("type").map(|t| src.node_text(t));
                if pname.as_deref() == Some(name.as_ref())
                    && ty.is_some_and(|t| classes.contains(&t.as_ref()))
                {
                    return true;
                }
            }
            _ => {}
        }
        for i in 0..n.named_child_count() {
            if let Some(c) = n.named_child(i as u32) {
                stack.push(c);
            }
        }
    }
    false
}
