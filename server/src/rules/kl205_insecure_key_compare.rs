//! KL205 `insecure-key-compare`: a key or secret compared with `==`/`!=` against another computed
//! value, which returns as soon as a character differs: the response time tells an attacker how much
//! of a guessed key is right.

use crate::analysis::syntax::NodeExt;
use tree_sitter::Node;

use crate::analysis::{secrets, syntax, Binding, Item};
use crate::finding::{Finding, Severity};
use crate::fixes::{Edit, Fix};
use crate::rules::{Ctx, FixAvailability, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "KL205",
    name: "insecure-key-compare",
    summary: "A key or secret is compared with == instead of a constant-time comparison",
    severity: Severity::Warning,
    fix: FixAvailability::Always,
    cwe: &["CWE-208"],
    docs: include_str!("kl205_insecure_key_compare.md"),
};

pub struct InsecureKeyCompare;

/// The name that makes an operand a secret: `api_key`, `settings.api_token`, `app.config["API_KEY"]`,
/// `request.headers.get("X-API-Key")`, `os.getenv("WEBHOOK_SECRET")`.
fn operand_name(node: Node, ctx: &Ctx) -> Option<String> {
    let node = syntax::unparenthesize(node);
    match node.kind() {
        "identifier" => Some(ctx.text(node).into_owned()),
        "attribute" => Some(ctx.text(node.field("attribute")?).into_owned()),
        "subscript" => syntax::string_value(node.field("subscript")?, ctx.src),
        "call" => {
            let function = node.field("function")?;
            let last = match function.kind() {
                "attribute" => ctx.text(function.field("attribute")?),
                "identifier" => ctx.text(function),
                _ => return None,
            };
            if !matches!(last.as_ref(), "get" | "getenv" | "getlist" | "get_header") {
                return None;
            }
            let first = *syntax::positional_args(node).first()?;
            syntax::string_value(first, ctx.src)
        }
        _ => None,
    }
}

/// A literal, `None`, or a value whose timing says nothing (`len(x)`).
fn is_literal_like(node: Node, ctx: &Ctx) -> bool {
    let node = syntax::unparenthesize(node);
    match node.kind() {
        "string" | "concatenated_string" => syntax::string_value(node, ctx.src).is_some(),
        "integer" | "float" | "true" | "false" | "none" | "tuple" | "list" | "dictionary"
        | "set" => true,
        "call" => node.field("function").is_some_and(|f| {
            matches!(
                ctx.text(f).as_ref(),
                "len" | "type" | "bool" | "isinstance" | "id"
            )
        }),
        "unary_operator" => true,
        _ => false,
    }
}

/// A string constant of the code, through the model: a module name bound to a string literal
/// (`MARKER = "set-password"`, not shadowed in the function), or a class attribute bound to one in
/// the class body (`self.reset_url_token`, `cls.X`, `View.X`) and never assigned on the instance —
/// unless its own name says it is a secret (`API_TOKEN = "…"` is a hardcoded key, compared with a
/// guess: still a timing leak).
fn is_code_constant(node: Node, item: &Item, ctx: &Ctx) -> bool {
    let node = syntax::unparenthesize(node);
    let extra = &ctx.settings.extra_secret_names;
    match node.kind() {
        "identifier" => {
            let name = ctx.text(node);
            !secrets::is_secret_name(&name, extra)
                && matches!(ctx.model.binding(&name), Some(Binding::StrLiteral))
                && !syntax::enclosing_function(node).is_some_and(|f| binds_locally(f, &name, ctx))
        }
        "attribute" => {
            let (Some(obj), Some(attr)) = (node.field("object"), node.field("attribute")) else {
                return false;
            };
            if obj.kind() != "identifier" {
                return false;
            }
            let (obj, attr) = (ctx.text(obj), ctx.text(attr));
            if secrets::is_secret_name(&attr, extra) {
                return false;
            }
            let class = if matches!(obj.as_ref(), "self" | "cls") {
                item.classes.last().copied()
            } else {
                ctx.model
                    .classes
                    .iter()
                    .rposition(|c| c.name == obj && c.parent.is_none())
                    .filter(|_| matches!(ctx.model.binding(&obj), None | Some(Binding::Def)))
            };
            class.is_some_and(|c| ctx.model.is_class_str_const(c, &attr))
        }
        _ => false,
    }
}

/// `name` is a parameter of `func` or assigned in its body (a local that shadows the module's).
fn binds_locally(func: Node, name: &str, ctx: &Ctx) -> bool {
    for n in syntax::descendants(func) {
        let target = match n.kind() {
            "identifier" if n.parent().is_some_and(|p| p.kind() == "parameters") => Some(n),
            "default_parameter" | "typed_default_parameter" => n.field("name"),
            "typed_parameter" => n.named_child(0),
            "assignment" | "augmented_assignment" | "for_statement" | "named_expression" => {
                n.field("left").or_else(|| n.field("name"))
            }
            "global_statement" => return false,
            _ => None,
        };
        let Some(target) = target else { continue };
        if target.kind() == "identifier" {
            if ctx.text(target) == name {
                return true;
            }
        } else if matches!(
            target.kind(),
            "pattern_list" | "tuple_pattern" | "list_pattern"
        ) {
            let mut cursor = target.walk();
            if target
                .named_children(&mut cursor)
                .any(|t| t.kind() == "identifier" && ctx.text(t) == name)
            {
                return true;
            }
        }
    }
    false
}

/// Names that mark the confirmation of a value the user just typed (no timing secret involved).
fn is_confirmation(name: &str) -> bool {
    syntax::name_words(name).iter().any(|w| {
        matches!(
            w.as_str(),
            "confirm" | "confirmation" | "repeat" | "again" | "retype" | "old" | "new" | "type"
        )
    })
}

impl Rule for InsecureKeyCompare {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, item: &Item, ctx: &Ctx, out: &mut Vec<Finding>) {
        if ctx.file.is_test {
            return;
        }
        let extra = &ctx.settings.extra_secret_names;
        let mut descendants = item.descendants(item.node);
        while let Some(node) = descendants.next() {
            if node.kind() == "assert_statement" {
                descendants.skip_children();
                continue;
            }
            if node.kind() != "comparison_operator" {
                continue;
            }
            let operands: Vec<Node> = {
                let mut cursor = node.walk();
                node.named_children(&mut cursor)
                    .filter(|c| c.kind() != "comment")
                    .collect()
            };
            let [left, right] = operands[..] else {
                continue;
            };
            let Some(op) = (0..node.child_count())
                .filter_map(|i| node.child(i))
                .find(|c| !c.is_named())
            else {
                continue;
            };
            let negated = match op.kind() {
                "==" => false,
                "!=" => true,
                _ => continue,
            };
            if [left, right]
                .iter()
                .any(|&o| is_literal_like(o, ctx) || is_code_constant(o, item, ctx))
            {
                continue;
            }
            let names = [operand_name(left, ctx), operand_name(right, ctx)];
            if names.iter().flatten().any(|n| is_confirmation(n)) {
                continue;
            }
            // `password != password2`: two values the user typed.
            if let [Some(a), Some(b)] = &names {
                let stem = |n: &str| {
                    n.trim_end_matches(|c: char| c.is_ascii_digit() || c == '_')
                        .to_ascii_lowercase()
                };
                if !a.eq_ignore_ascii_case(b) && stem(a) == stem(b) {
                    continue;
                }
            }
            // `def __eq__(self, other): return self.token == other.token`: value equality of an
            // object, not an authentication check.
            if syntax::enclosing_function(node)
                .and_then(|f| f.field("name"))
                .is_some_and(|n| matches!(ctx.text(n).as_ref(), "__eq__" | "__ne__" | "__hash__"))
            {
                continue;
            }
            let Some(secret_side) = [left, right]
                .into_iter()
                .zip(&names)
                .find(|(_, n)| {
                    n.as_deref()
                        .is_some_and(|n| secrets::is_secret_name(n, extra))
                })
                .map(|(side, _)| side)
            else {
                continue;
            };
            let message = format!(
                "`{}` is compared with `{}`: the time it takes tells how much of a guessed key matched; use `hmac.compare_digest`",
                syntax::short_text(secret_side, ctx.src),
                op.kind()
            );
            out.push(
                Finding::new(&META, node.byte_range(), message)
                    .with_fix(fix(node, left, op, right, negated, ctx)),
            );
        }
    }
}

/// `a == b` → `hmac.compare_digest((a or "").encode(), (b or "").encode())`. Built from edits
/// around the operands, so comments and line breaks inside a multi-line comparison stay.
fn fix(cmp: Node, left: Node, op: Node, right: Node, negated: bool, ctx: &Ctx) -> Fix {
    let hmac = ctx.model.module_alias("hmac");
    // (open, close) around an operand: `(x or "")`, `((a if c else b) or "")`, or nothing for a
    // string literal, which is never `None`.
    let wrap = |n: Node| match syntax::unparenthesize(n).kind() {
        "string" => ("", ""),
        "identifier" | "attribute" | "subscript" | "call" | "boolean_operator" => {
            ("(", " or \"\")")
        }
        _ => ("((", ") or \"\")"),
    };
    let (l_open, l_close) = wrap(left);
    let (r_open, r_close) = wrap(right);
    let blank = |r: std::ops::Range<usize>| ctx.slice(r).trim().is_empty();
    let mid_start = if blank(left.end_byte()..op.start_byte()) {
        left.end_byte()
    } else {
        op.start_byte()
    };
    let mid_end = if blank(op.end_byte()..right.start_byte()) {
        right.start_byte()
    } else {
        op.end_byte()
    };
    // A comment stands between the left operand and the operator: `or` starts its own line.
    let l_close = if mid_start == left.end_byte() {
        l_close
    } else {
        l_close.trim_start()
    };
    let (not_open, not_close) = if !negated {
        ("", "")
    } else if cmp.parent().is_some_and(|p| {
        matches!(
            p.kind(),
            "if_statement"
                | "elif_clause"
                | "while_statement"
                | "boolean_operator"
                | "not_operator"
                | "parenthesized_expression"
                | "assignment"
                | "return_statement"
                | "keyword_argument"
                | "argument_list"
                | "expression_statement"
        )
    }) {
        ("not ", "")
    } else {
        ("(not ", ")")
    };
    let module = hmac.unwrap_or("hmac");
    let mut fix = Fix::unsafe_("Compare in constant time with `hmac.compare_digest`")
        .edit(Edit::insert(
            left.start_byte(),
            format!("{not_open}{module}.compare_digest({l_open}"),
        ))
        .edit(Edit::replace(
            mid_start..mid_end,
            format!("{l_close}.encode(), {r_open}"),
        ))
        .edit(Edit::insert(
            right.end_byte(),
            format!("{r_close}.encode()){not_close}"),
        ));
    if hmac.is_none() {
        fix = fix.import("hmac");
    }
    fix
}
