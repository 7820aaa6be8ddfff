//! KL205 `insecure-key-compare`: a key or secret compared with `==`/`!=` against another computed
//! value, which returns as soon as a character differs: the response time tells an attacker how much
//! of a guessed key is right.

use crate::syntax::NodeExt;
use tree_sitter::Node;

use crate::finding::prefilter::{Group, Word};
use crate::finding::{Applicability, Edit, Fix};
use crate::finding::{Finding, Severity};
use crate::model::frameworks as fw;
use crate::model::{secrets, Binding};
use crate::rules::{Ctx, FixAvailability, Rule, RuleMeta};
use crate::syntax::{self, Item};

pub static META: RuleMeta = RuleMeta {
    code: "KL205",
    name: "insecure-key-compare",
    summary: "A key or secret is compared with == instead of a constant-time comparison",
    severity: Severity::Warning,
    fix: FixAvailability::Always,
    cwe: &["CWE-208"],
    docs: include_str!("kl205_insecure_key_compare.md"),
    prefilter: &[fw::NAME_WORDS, HMAC_WORDS],
    reads_flows: false,
};

/// A signature built with `hmac.new(...)` and compared.
const HMAC_WORDS: &[Word] = &[Word::new("hmac", Group::KeyCall)];

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
fn is_code_constant<'t>(node: Node<'t>, item: &Item<'t>, ctx: &Ctx) -> bool {
    let node = syntax::unparenthesize(node);
    let extra = &ctx.settings.extra_secret_names;
    match node.kind() {
        "identifier" => {
            let name = ctx.text(node);
            !secrets::is_secret_name(&name, extra)
                && matches!(ctx.model.binding(&name), Some(Binding::StrLiteral))
                && !enclosing_function(node, item)
                    .is_some_and(|f| binds_locally(f, &name, item, ctx))
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

/// The innermost function definition around `node` (a node of `item`), climbing the item's index
/// (tree-sitter's [`Node::parent`] descends from the module's root every time).
fn enclosing_function<'t>(node: Node<'t>, item: &Item<'t>) -> Option<Node<'t>> {
    item.ancestors(node)
        .find(|n| n.kind_str() == "function_definition")
}

/// `name` is a parameter of `func` (a node of `item`) or assigned in its body (a local that
/// shadows the module's).
fn binds_locally<'t>(func: Node<'t>, name: &str, item: &Item<'t>, ctx: &Ctx) -> bool {
    let mut walk = item.descendants(func);
    while let Some(n) = walk.next() {
        let target = match n.kind() {
            "identifier" if walk.parent().is_some_and(|p| p.kind() == "parameters") => Some(n),
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
pub(crate) fn is_confirmation(name: &str) -> bool {
    syntax::name_words(name).iter().any(|w| {
        matches!(
            w.as_str(),
            "confirm" | "confirmation" | "repeat" | "again" | "retype" | "old" | "new" | "type"
        )
    })
}

/// Does an identifier inside `operand` name a lock (`LOCK_KEY`, `lock_token`, `lease_owner`)?
fn names_a_lock(operand: Node, ctx: &Ctx) -> bool {
    syntax::descendants(operand).any(|n| {
        n.kind() == "identifier"
            && syntax::name_words(&ctx.text(n))
                .iter()
                .any(|w| matches!(w.as_str(), "lock" | "mutex" | "lease" | "semaphore"))
    })
}

/// Does an identifier inside `operand` name a default (`default_settings`, `DEFAULT_SECRET_KEY`)?
fn names_a_default(operand: Node, ctx: &Ctx) -> bool {
    syntax::descendants(operand).any(|n| {
        n.kind() == "identifier"
            && syntax::name_words(&ctx.text(n))
                .iter()
                .any(|w| matches!(w.as_str(), "default" | "defaults"))
    })
}

static ASSERT: std::sync::LazyLock<syntax::KindSet> =
    std::sync::LazyLock::new(|| syntax::KindSet::of(&["assert_statement"]));
static COMPARISON: std::sync::LazyLock<syntax::KindSet> =
    std::sync::LazyLock::new(|| syntax::KindSet::of(&["comparison_operator"]));

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
            // By the kind id the item's index holds (`Node::kind` converts a C string).
            let kind = descendants.kind();
            if ASSERT.contains(kind) {
                descendants.skip_children();
                continue;
            }
            if !COMPARISON.contains(kind) {
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
            // `select(User).where(User.api_token == token)`: builds a query, compares nothing.
            if is_query(node, item, ctx) || [left, right].iter().any(|&o| is_column(o, ctx)) {
                continue;
            }
            let names = [operand_name(left, ctx), operand_name(right, ctx)];
            if names.iter().flatten().any(|n| is_confirmation(n)) {
                continue;
            }
            // `if store.get(LOCK_KEY) == token: store.delete(LOCK_KEY)`: the owner token of a lock
            // (a random value the code made itself to release only its own lock) grants nothing.
            if [left, right].iter().any(|&o| names_a_lock(o, ctx)) {
                continue;
            }
            // `if app.config["SECRET_KEY"] == default_settings.SECRET_KEY: warn(…)`: a check for
            // the known public default, like a comparison with its literal.
            if [left, right].iter().any(|&o| names_a_default(o, ctx)) {
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
            if enclosing_function(node, item)
                .and_then(|f| f.field("name"))
                .is_some_and(|n| matches!(ctx.text(n).as_ref(), "__eq__" | "__ne__" | "__hash__"))
            {
                continue;
            }
            // `user_data = read_token(token)` … `if user.access_token != token`: the token
            // presented was verified as a signed token first; a timing probe would need validly
            // signed tokens, which only the holder of the signing key can make.
            if [left, right].iter().any(|&o| verified_before(o, node, ctx)) {
                continue;
            }
            let named = [left, right]
                .into_iter()
                .zip(&names)
                .find(|(_, n)| {
                    n.as_deref()
                        .is_some_and(|n| secrets::is_secret_name(n, extra))
                })
                .map(|(side, _)| side);
            // A webhook signature: `hmac.new(key, body, "sha256").hexdigest() != header`.
            let signature = [left, right].into_iter().find(|&o| {
                matches!(
                    ty(o, ctx, 0),
                    Ty::Str { mac: true, .. } | Ty::Bytes { mac: true }
                )
            });
            let message = match (named, signature) {
                (Some(side), _) => format!(
                    "`{}` is compared with `{}`: the time it takes tells how much of a guessed key matched; use `hmac.compare_digest`",
                    syntax::short_text(side, ctx.src),
                    op.kind()
                ),
                // Only a name is quoted: `hmac.new(b"…", …)` written inline holds a key.
                (None, Some(side)) => format!(
                    "{} is compared with `{}`: the time it takes tells how much of a forged signature matched; use `hmac.compare_digest`",
                    match syntax::unparenthesize(side).kind() {
                        "identifier" => format!("the HMAC signature `{}`", ctx.text(side)),
                        _ => "an HMAC signature".to_string(),
                    },
                    op.kind()
                ),
                (None, None) => continue,
            };
            out.push(
                Finding::new(&META, node.byte_range(), message).with_fix(fix(
                    node,
                    [left, right],
                    op,
                    negated,
                    ctx,
                )),
            );
        }
    }
}

/// Calls whose arguments are query conditions (SQLAlchemy, Flask-SQLAlchemy, peewee, Django,
/// PynamoDB): `==` inside builds an expression, it compares nothing.
const QUERY_METHODS: &[&str] = &[
    "where",
    "filter",
    "filter_by",
    "having",
    "join",
    "outerjoin",
    "query",
    "scan",
    "count",
    "get",
    "get_or_none",
    "select",
    "delete",
    "update",
    "exclude",
    "exists",
    "case",
];

/// Calls that combine conditions (`and_(User.a == x, User.b == y)`, `Q(...)`): looked through.
const COMBINATORS: &[&str] = &["and_", "or_", "not_", "Q"];

/// Keyword arguments that take a condition (PynamoDB `save(condition=…)`, `scan(filter_condition=…)`,
/// SQLAlchemy `whereclause=`/`onclause=`).
const QUERY_KEYWORDS: &[&str] = &[
    "condition",
    "filter_condition",
    "range_key_condition",
    "whereclause",
    "onclause",
];

/// The last name of a call's function: `filter` for `session.query(U).filter(...)`.
fn callee_name<'a>(call: Node, ctx: &Ctx<'a>) -> Option<std::borrow::Cow<'a, str>> {
    let f = call.field("function")?;
    match f.kind() {
        "identifier" => Some(ctx.text(f)),
        "attribute" => Some(ctx.text(f.field("attribute")?)),
        _ => None,
    }
}

/// The comparison is a query condition: an argument (through parentheses, `&`/`|`/`~`, `and`/`or`,
/// lists and `and_(…)`/`or_(…)`) of `.where(…)`, `.filter(…)`, `Model.query(…)`, `Model.scan(…)`…,
/// or the value of `condition=`/`filter_condition=`.
fn is_query<'t>(cmp: Node<'t>, item: &Item<'t>, ctx: &Ctx) -> bool {
    // The item's index holds every ancestor up to the item's statement (no [`Node::parent`]).
    let mut up = item.ancestors(cmp);
    for _ in 0..32 {
        let Some(p) = up.next() else { return false };
        match p.kind() {
            "parenthesized_expression"
            | "boolean_operator"
            | "not_operator"
            | "list"
            | "tuple"
            | "unary_operator"
            | "binary_operator" => {}
            "keyword_argument" => {
                if p.field("name")
                    .is_some_and(|n| QUERY_KEYWORDS.contains(&ctx.text(n).as_ref()))
                {
                    return true;
                }
            }
            "argument_list" => {
                let Some(call) = up.next().filter(|c| c.kind() == "call") else {
                    return false;
                };
                let Some(name) = callee_name(call, ctx) else {
                    return false;
                };
                if QUERY_METHODS.contains(&name.as_ref()) {
                    return true;
                }
                // `run_in_threadpool(User.scan, User.api_key == key)`: a query method handed to a
                // runner with its condition.
                if passes_query_method(call, ctx) {
                    return true;
                }
                if !COMBINATORS.contains(&name.as_ref()) {
                    return false;
                }
                // The call's own parent comes next.
                continue;
            }
            _ => return false,
        }
    }
    false
}

/// The call's first positional argument is a query method itself (`User.scan`, `Model.query`):
/// `run_in_threadpool(User.scan, cond)`, `loop.run_in_executor(None, User.query, …)`.
fn passes_query_method(call: Node, ctx: &Ctx) -> bool {
    syntax::positional_args(call).iter().take(2).any(|a| {
        a.kind() == "attribute"
            && a.field("object")
                .is_some_and(|o| matches!(o.kind(), "identifier" | "attribute"))
            && a.field("attribute").is_some_and(|m| {
                matches!(
                    ctx.text(m).as_ref(),
                    "scan" | "query" | "count" | "filter" | "where"
                )
            })
    })
}

/// `Model.api_key` where `Model` is a class imported from another module (`from app.models import
/// ApiKey`, a capitalised name) that the enclosing function also uses as a PynamoDB model: it calls
/// `Model.scan(…)`, `Model.query(…)`, `Model.count(…)`, `Model.get(…)`, or hands `Model.scan` to a
/// runner. The comparison builds that model's condition (`cond = ApiKey.api_key == key` then
/// `ApiKey.scan(cond)`); it compares nothing.
fn is_imported_model_column(obj: Node, ctx: &Ctx) -> bool {
    let name = ctx.text(obj);
    if !name.chars().next().is_some_and(|c| c.is_ascii_uppercase()) {
        return false;
    }
    let imported = ctx
        .model
        .resolve_path(std::slice::from_ref(&name.to_string()))
        .is_some_and(|q| q.contains('.'));
    if !imported {
        return false;
    }
    let mut scope = obj;
    while let Some(p) = scope.parent() {
        scope = p;
        if scope.kind() == "function_definition" {
            break;
        }
    }
    let mut stack = vec![scope];
    let mut seen = 0usize;
    while let Some(n) = stack.pop() {
        seen += 1;
        if seen > 20_000 {
            return false;
        }
        if n.kind() == "attribute"
            && n.field("object")
                .is_some_and(|o| o.kind() == "identifier" && ctx.text(o) == name)
            && n.field("attribute").is_some_and(|m| {
                matches!(
                    ctx.text(m).as_ref(),
                    "scan" | "query" | "count" | "get" | "get_or_none" | "batch_get"
                )
            })
        {
            return true;
        }
        for i in 0..n.named_child_count() {
            if let Some(c) = n.named_child(i as u32) {
                stack.push(c);
            }
        }
    }
    false
}

/// A column of a query builder: `users.c.api_key`, `users.columns.api_key`, or `Model.api_key`
/// where `Model` is a class of the module derived from an ORM base (`db.Model`, `Base`,
/// `DeclarativeBase`, `SQLModel`, Django's `models.Model`, PynamoDB's `Model`) and `api_key` is not
/// a string constant of its body.
fn is_column(node: Node, ctx: &Ctx) -> bool {
    let node = syntax::unparenthesize(node);
    if node.kind() != "attribute" {
        return false;
    }
    let (Some(obj), Some(attr)) = (node.field("object"), node.field("attribute")) else {
        return false;
    };
    if obj.kind() == "attribute"
        && obj
            .field("attribute")
            .is_some_and(|a| matches!(ctx.text(a).as_ref(), "c" | "columns"))
    {
        return true;
    }
    // `models.UserModel.api_key` after `from app import models`: a column of a PynamoDB model.
    if obj.kind() == "attribute" && ctx.model.pynamo_class_ref(obj, ctx.src).is_some() {
        return true;
    }
    if obj.kind() != "identifier" {
        return false;
    }
    let obj_node = obj;
    let (obj, attr) = (ctx.text(obj), ctx.text(attr));
    let Some(index) = ctx
        .model
        .classes
        .iter()
        .rposition(|c| c.name == obj && c.parent.is_none())
    else {
        return is_imported_model_column(obj_node, ctx);
    };
    let class = &ctx.model.classes[index];
    let orm_base = class.bases.iter().any(|b| {
        b.last().is_some_and(|last| {
            matches!(
                last.as_str(),
                "Model" | "Base" | "DeclarativeBase" | "SQLModel" | "Document"
            )
        })
    });
    orm_base && !ctx.model.is_class_str_const(index, &attr)
}

/// What is known of an operand's type, for the fix's applicability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    /// A `str` without lone surrogates (decoded from HTTP as latin-1, or hex/base64 digits), so
    /// that `.encode()` never raises and equal strings are exactly equal UTF-8 bytes.
    Str {
        maybe_none: bool,
        non_empty: bool,
        /// An HMAC signature (hex or base64 of `hmac.new(…)`).
        mac: bool,
    },
    Bytes {
        mac: bool,
    },
    Unknown,
}

const HEADER_STR: Ty = Ty::Str {
    maybe_none: false,
    non_empty: false,
    mac: false,
};

/// The type of an operand, through the function's parameters and locals assigned once.
fn ty(node: Node, ctx: &Ctx, depth: usize) -> Ty {
    if depth > 6 {
        return Ty::Unknown;
    }
    let node = syntax::unparenthesize(node);
    match node.kind() {
        "await" => node
            .named_child(0)
            .map_or(Ty::Unknown, |n| ty(n, ctx, depth + 1)),
        "identifier" => {
            let Some(func) = syntax::enclosing_function(node) else {
                return Ty::Unknown;
            };
            let name = ctx.text(node);
            if let Some(t) = header_param(func, &name, ctx) {
                return t;
            }
            match single_assignment(func, &name, node.start_byte(), ctx) {
                Some(value) => ty(value, ctx, depth + 1),
                None => Ty::Unknown,
            }
        }
        // `request.headers["X-Signature"]`: a `str` (KeyError when absent).
        "subscript" => {
            let headers = node
                .field("value")
                .and_then(|v| syntax::dotted_path(v, ctx.src))
                .is_some_and(|p| p.len() >= 2 && p.last().is_some_and(|l| l == "headers"));
            if headers {
                HEADER_STR
            } else {
                Ty::Unknown
            }
        }
        // Flask's `request.data`.
        "attribute" => match syntax::dotted_path(node, ctx.src) {
            Some(p) if p == ["request", "data"] => Ty::Bytes { mac: false },
            _ => Ty::Unknown,
        },
        "call" => call_ty(node, ctx, depth),
        // `"sha256=" + hmac.new(…).hexdigest()`.
        "binary_operator" => {
            let (Some(l), Some(r)) = (node.field("left"), node.field("right")) else {
                return Ty::Unknown;
            };
            let op = node.field("operator").map(|o| o.kind());
            if op != Some("+") {
                return Ty::Unknown;
            }
            let literal = |n: Node| syntax::string_value(n, ctx.src).is_some();
            let mac_str = |n: Node| {
                matches!(
                    ty(n, ctx, depth + 1),
                    Ty::Str {
                        maybe_none: false,
                        mac: true,
                        ..
                    }
                )
            };
            if (literal(l) && mac_str(r)) || (mac_str(l) && literal(r)) {
                mac_ty()
            } else {
                Ty::Unknown
            }
        }
        // `f"sha256={digest}"` with a signature inside.
        "string" => {
            let mut cursor = node.walk();
            let mac = node.named_children(&mut cursor).any(|c| {
                c.kind() == "interpolation"
                    && c.named_child(0).is_some_and(|e| {
                        matches!(
                            ty(e, ctx, depth + 1),
                            Ty::Str {
                                maybe_none: false,
                                mac: true,
                                ..
                            }
                        )
                    })
            });
            if mac {
                mac_ty()
            } else {
                Ty::Unknown
            }
        }
        _ => Ty::Unknown,
    }
}

fn mac_ty() -> Ty {
    Ty::Str {
        maybe_none: false,
        non_empty: true,
        mac: true,
    }
}

fn call_ty(call: Node, ctx: &Ctx, depth: usize) -> Ty {
    let Some(function) = call.field("function") else {
        return Ty::Unknown;
    };
    let args = syntax::positional_args(call);
    let path = syntax::dotted_path(function, ctx.src);
    let resolved = path.as_deref().and_then(|p| ctx.model.resolve_path(p));
    match resolved.as_deref() {
        Some("hmac.digest") => return Ty::Bytes { mac: true },
        Some(
            "base64.b64encode"
            | "base64.urlsafe_b64encode"
            | "base64.b16encode"
            | "binascii.hexlify",
        ) => {
            return match args.first().map(|a| ty(*a, ctx, depth + 1)) {
                Some(Ty::Bytes { mac }) => Ty::Bytes { mac },
                _ => Ty::Unknown,
            }
        }
        _ => {}
    }
    if function.kind() != "attribute" {
        return Ty::Unknown;
    }
    let (Some(obj), Some(method)) = (function.field("object"), function.field("attribute")) else {
        return Ty::Unknown;
    };
    let no_args = call
        .field("arguments")
        .is_some_and(|a| a.named_child_count() == 0);
    match ctx.text(method).as_ref() {
        "hexdigest" if no_args && is_mac(obj, ctx, depth + 1) => mac_ty(),
        "digest" if no_args && is_mac(obj, ctx, depth + 1) => Ty::Bytes { mac: true },
        // `base64.b64encode(mac.digest()).decode()`: ASCII.
        "decode" if no_args => match ty(obj, ctx, depth + 1) {
            Ty::Bytes { mac: true } => mac_ty(),
            _ => Ty::Unknown,
        },
        // Flask's `request.get_data()`, Starlette's `await request.body()`.
        "get_data" | "body" if no_args && ctx.text(obj) == "request" => Ty::Bytes { mac: false },
        // `request.headers.get("X-Signature")`: `str` or `None`; with a string default, `str`.
        "get" => {
            let headers = syntax::dotted_path(obj, ctx.src)
                .is_some_and(|p| p.len() >= 2 && p.last().is_some_and(|l| l == "headers"));
            if !headers
                || args
                    .first()
                    .and_then(|a| syntax::string_value(*a, ctx.src))
                    .is_none()
            {
                return Ty::Unknown;
            }
            match args.len() {
                1 if syntax::keyword_args(call, ctx.src).is_empty() => Ty::Str {
                    maybe_none: true,
                    non_empty: false,
                    mac: false,
                },
                2 if syntax::string_value(args[1], ctx.src).is_some() => HEADER_STR,
                _ => Ty::Unknown,
            }
        }
        _ => Ty::Unknown,
    }
}

/// `hmac.new(key, msg, digestmod)` (or `hmac.HMAC(…)`), directly or through a local.
fn is_mac(node: Node, ctx: &Ctx, depth: usize) -> bool {
    if depth > 6 {
        return false;
    }
    let node = syntax::unparenthesize(node);
    match node.kind() {
        "call" => node
            .field("function")
            .and_then(|f| syntax::dotted_path(f, ctx.src))
            .and_then(|p| ctx.model.resolve_path(&p))
            .is_some_and(|p| matches!(p.as_str(), "hmac.new" | "hmac.HMAC")),
        "identifier" => syntax::enclosing_function(node)
            .and_then(|f| single_assignment(f, &ctx.text(node), node.start_byte(), ctx))
            .is_some_and(|v| is_mac(v, ctx, depth + 1)),
        _ => false,
    }
}

/// A FastAPI header parameter of type `str` (never `None`: FastAPI answers 422 without it):
/// `x_sig: str = Header()`, `x_sig: Annotated[str, Header()]`.
fn header_param(func: Node, name: &str, ctx: &Ctx) -> Option<Ty> {
    let params = func.field("parameters")?;
    let mut cursor = params.walk();
    for p in params.named_children(&mut cursor) {
        let (ident, default) = match p.kind() {
            "typed_default_parameter" => (p.field("name"), p.field("value")),
            "typed_parameter" => (p.named_child(0), None),
            _ => continue,
        };
        if !ident.is_some_and(|i| i.kind() == "identifier" && ctx.text(i) == name) {
            continue;
        }
        let annotation = p.field("type").map(|t| ctx.text(t)).unwrap_or_default();
        let annotation: String = annotation.split_whitespace().collect();
        let header_call =
            |n: Node| n.kind() == "call" && callee_name(n, ctx).is_some_and(|c| c == "Header");
        let ok = (annotation == "str" && default.is_some_and(header_call))
            || (annotation.starts_with("Annotated[str,Header(") && default.is_none());
        return ok.then_some(HEADER_STR);
    }
    None
}

/// The value of the one assignment `name = value` in `func` before `before`, when `name` has no
/// other binding there (no parameter, loop, augmented assignment or second assignment).
fn single_assignment<'t>(func: Node<'t>, name: &str, before: usize, ctx: &Ctx) -> Option<Node<'t>> {
    let mut found = None;
    for n in syntax::descendants(func) {
        match n.kind() {
            "assignment" => {
                let Some(left) = n.field("left") else {
                    continue;
                };
                if left.kind() == "identifier" && ctx.text(left) == name {
                    if found.is_some() || n.start_byte() > before {
                        return None;
                    }
                    found = Some(n.field("right")?);
                } else if ctx.text(left).contains(name) {
                    // A tuple target, `a.b = …`: not followed.
                    if left.kind() != "attribute" && left.kind() != "subscript" {
                        return None;
                    }
                }
            }
            "augmented_assignment"
            | "for_statement"
            | "named_expression"
            | "global_statement"
            | "nonlocal_statement" => {
                let target = n.field("left").or_else(|| n.field("name"));
                if target.is_none_or(|t| ctx.text(t).contains(name)) {
                    return None;
                }
            }
            // The name first: a parent costs tree-sitter a descent from the module's root.
            "identifier"
                if ctx.text(n) == name && n.parent().is_some_and(|p| p.kind() == "parameters") =>
            {
                return None;
            }
            "default_parameter" | "typed_default_parameter" | "typed_parameter" => {
                let ident = n.field("name").or_else(|| n.named_child(0));
                if ident.is_some_and(|i| ctx.text(i) == name) {
                    return None;
                }
            }
            _ => {}
        }
    }
    found
}

/// Whether `compare_digest` gives the result `==` gives for every value the operands can take: two
/// `bytes`; two `str` without lone surrogates (UTF-8 is one-to-one on them), neither `None` — or
/// one `None`-able (`request.headers.get(…)`) against a value that is never empty (a hex
/// signature), so that the `None` read as `""` still compares unequal.
fn keeps_meaning(l: Ty, r: Ty) -> bool {
    match (l, r) {
        (Ty::Bytes { .. }, Ty::Bytes { .. }) => true,
        (
            Ty::Str {
                maybe_none: ln,
                non_empty: le,
                ..
            },
            Ty::Str {
                maybe_none: rn,
                non_empty: re,
                ..
            },
        ) => match (ln, rn) {
            (false, false) => true,
            (true, false) => re,
            (false, true) => le,
            (true, true) => false,
        },
        _ => false,
    }
}

/// `a == b` → `hmac.compare_digest((a or "").encode(), (b or "").encode())`; without the
/// `or ""` for a `str` that is never `None`, and without `.encode()` for `bytes`. Built from edits
/// around the operands, so comments and line breaks inside a multi-line comparison stay.
fn fix(cmp: Node, [left, right]: [Node; 2], op: Node, negated: bool, ctx: &Ctx) -> Fix {
    let hmac = ctx.model.module_alias("hmac");
    let (lt, rt) = (ty(left, ctx, 0), ty(right, ctx, 0));
    // (open, close) around an operand, `.encode()` included.
    let wrap = |n: Node, t: Ty| -> (&'static str, &'static str) {
        let kind = syntax::unparenthesize(n).kind();
        let primary = matches!(kind, "identifier" | "attribute" | "subscript" | "call");
        match t {
            Ty::Bytes { .. } => ("", ""),
            Ty::Str {
                maybe_none: false, ..
            } => {
                if primary || kind == "string" {
                    ("", ".encode()")
                } else {
                    ("(", ").encode()")
                }
            }
            _ if kind == "string" => ("", ".encode()"),
            _ if primary || kind == "boolean_operator" => ("(", " or \"\").encode()"),
            _ => ("((", ") or \"\").encode()"),
        }
    };
    let (l_open, l_close) = wrap(left, lt);
    let (r_open, r_close) = wrap(right, rt);
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
    let applicability = if keeps_meaning(lt, rt) {
        Applicability::Safe
    } else {
        Applicability::Unsafe
    };
    let mut fix = Fix::new(
        "Compare in constant time with `hmac.compare_digest`",
        applicability,
    )
    .edit(Edit::insert(
        left.start_byte(),
        format!("{not_open}{module}.compare_digest({l_open}"),
    ))
    .edit(Edit::replace(
        mid_start..mid_end,
        format!("{l_close}, {r_open}"),
    ))
    .edit(Edit::insert(
        right.end_byte(),
        format!("{r_close}){not_close}"),
    ));
    if hmac.is_none() {
        fix = fix.import("hmac");
    }
    fix
}

/// `operand` is a name that a call before `at` in the same function verified as a signed token:
/// passed first to a call named `read_token`, `decode`, `verify`, `loads` or `unsign`
/// (`jwt.decode(token, key, …)`, `strategy.read_token(token, …)`, `serializer.loads(token)`) —
/// unless that call turns the signature check off (`verify_signature: False`, `verify=False`).
fn verified_before(operand: Node, at: Node, ctx: &Ctx) -> bool {
    let operand = syntax::unparenthesize(operand);
    if operand.kind() != "identifier" {
        return false;
    }
    let name = ctx.text(operand);
    let Some(function) = syntax::enclosing_function(at) else {
        return false;
    };
    syntax::descendants(function).any(|call| {
        call.kind() == "call"
            && call.end_byte() <= at.start_byte()
            && call.field("function").is_some_and(|f| {
                let text = ctx.text(f);
                let last = text.rsplit('.').next().unwrap_or("");
                matches!(
                    last,
                    "read_token" | "decode" | "verify" | "loads" | "unsign" | "decode_token"
                )
            })
            && syntax::positional_args(call)
                .first()
                .is_some_and(|a| a.kind() == "identifier" && ctx.text(*a) == name)
            && {
                let text = ctx.text(call);
                let unchecked = text.contains("verify=False")
                    || (text.contains("verify_signature") && text.contains("False"));
                !unchecked
            }
    })
}
