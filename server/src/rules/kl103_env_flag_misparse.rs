//! KL103 `env-flag-misparse`: an environment variable used as a boolean flag through `bool(...)` (or
//! with a `True`/`False` default), so that `DEBUG=False` and `DEBUG=0` turn the flag *on*.

use crate::syntax::NodeExt;
use tree_sitter::Node;

use crate::finding::prefilter::{Group, Word};
use crate::finding::{Edit, Fix};
use crate::finding::{Finding, Severity};
use crate::model::frameworks as fw;
use crate::rules::{Ctx, FixAvailability, Rule, RuleMeta};
use crate::syntax::{self, Item};

pub static META: RuleMeta = RuleMeta {
    code: "KL103",
    name: "env-flag-misparse",
    summary: "An environment flag is parsed with bool(): \"False\" and \"0\" are true",
    severity: Severity::Warning,
    fix: FixAvailability::Always,
    cwe: &["CWE-704", "CWE-1188"],
    docs: include_str!("kl103_env_flag_misparse.md"),
    prefilter: &[fw::ENV_WORDS, FLAG_WORDS],
    reads_flows: false,
};

/// `bool(<env read>)`, and the `True`/`False` default of an environment read.
const FLAG_WORDS: &[Word] = &[
    Word::exact("True", Group::True),
    Word::exact("False", Group::Flag),
    Word::exact("bool", Group::Flag),
];

pub struct EnvFlagMisparse;

/// An environment read: `os.environ.get(...)`, `os.getenv(...)` or `os.environ["X"]`.
struct EnvRead<'t> {
    node: Node<'t>,
    var: String,
    /// The default argument, when the read is a call that has one.
    default: Option<Node<'t>>,
}

fn env_read<'t>(node: Node<'t>, ctx: &Ctx) -> Option<EnvRead<'t>> {
    let node = syntax::unparenthesize(node);
    match node.kind_str() {
        "call" => {
            let callee = ctx.callee(node)?;
            if !fw::is_env_get(&callee) {
                return None;
            }
            let args = syntax::positional_args(node);
            let var = syntax::string_value(*args.first()?, ctx.src)?;
            let default = args
                .get(1)
                .copied()
                .or_else(|| syntax::keyword_arg(node, "default", ctx.src));
            Some(EnvRead { node, var, default })
        }
        "subscript" => {
            let value = node.field("value")?;
            if ctx.model.resolve(value, ctx.src).as_deref() != Some(fw::ENVIRON) {
                return None;
            }
            let var = syntax::string_value(node.field("subscript")?, ctx.src)?;
            Some(EnvRead {
                node,
                var,
                default: None,
            })
        }
        _ => None,
    }
}

const TRUTHY: &str = "(\"1\", \"true\", \"yes\", \"on\")";

/// `True`/`False`, or a string that spells a boolean.
fn boolish_default(default: Node, ctx: &Ctx) -> bool {
    match default.kind_str() {
        "true" | "false" => true,
        "integer" => matches!(ctx.text(default).as_ref(), "0" | "1"),
        _ => syntax::string_value(default, ctx.src).is_some_and(|v| {
            matches!(
                v.to_ascii_lowercase().as_str(),
                "true" | "false" | "0" | "1" | "yes" | "no" | "on" | "off" | "y" | "n"
            )
        }),
    }
}

/// A variable that is a flag by name: `DEBUG`, `TESTING`, `ENABLE_X`, `X_ENABLED`, `USE_SSL`…
///
/// A name that ends with a word for a value is not a flag, whatever comes before it:
/// `SENTRY_DEBUG_URL`, `DEBUG_LEVEL`, `USE_PROXY_HOST` hold a URL, a level, a host.
pub(crate) fn flag_name(var: &str) -> bool {
    let words = syntax::name_words(var);
    if words.len() > 1
        && words.last().is_some_and(|w| {
            matches!(
                w.as_str(),
                "url"
                    | "uri"
                    | "dsn"
                    | "host"
                    | "port"
                    | "path"
                    | "dir"
                    | "file"
                    | "level"
                    | "name"
                    | "address"
                    | "addr"
                    | "endpoint"
                    | "email"
                    | "list"
                    | "prefix"
            )
        })
    {
        return false;
    }
    words.iter().any(|w| {
        matches!(
            w.as_str(),
            "debug"
                | "testing"
                | "enable"
                | "enabled"
                | "disable"
                | "disabled"
                | "use"
                | "flag"
                | "verbose"
                | "dry"
                | "strict"
                | "secure"
                | "insecure"
                | "verify"
                | "allow"
                | "feature"
        )
    })
}

static CALL: std::sync::LazyLock<syntax::KindSet> =
    std::sync::LazyLock::new(|| syntax::KindSet::of(&["call"]));

impl Rule for EnvFlagMisparse {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, item: &Item, ctx: &Ctx, out: &mut Vec<Finding>) {
        let mut inside_bool: Vec<std::ops::Range<usize>> = Vec::new();
        let mut walk = item.descendants(item.node);
        while let Some(node) = walk.next() {
            // By the kind id the item's index holds (no call into tree-sitter for each node).
            if !CALL.contains(walk.kind()) {
                continue;
            }
            // `bool(os.environ.get("DEBUG", "False"))`
            if ctx.callee(node).as_deref() == Some("bool") {
                let args = syntax::positional_args(node);
                let Some(read) = args.first().and_then(|a| env_read(*a, ctx)) else {
                    continue;
                };
                if args.len() != 1 {
                    continue;
                }
                inside_bool.push(read.node.byte_range());
                let flag =
                    read.default.is_some_and(|d| boolish_default(d, ctx)) || flag_name(&read.var);
                if !flag {
                    // `bool(os.getenv("SENTRY_DSN"))`: a presence check, meant as written.
                    continue;
                }
                let message = format!(
                    "`bool()` of the environment variable `{}` is true for any non-empty value, \"False\" and \"0\" included",
                    read.var
                );
                out.push(
                    Finding::new(&META, node.byte_range(), message).with_fix(fix(node, &read, ctx)),
                );
                continue;
            }
            // `os.environ.get("DEBUG", False)`: a boolean default for a string value.
            let Some(read) = env_read(node, ctx) else {
                continue;
            };
            if inside_bool.contains(&read.node.byte_range()) {
                continue;
            }
            // Only for a flag: `os.environ.get("PYTHONNODEBUGRANGES", False)` is a presence check
            // meant as written (any non-empty value enables it).
            if !read
                .default
                .is_some_and(|d| matches!(d.kind_str(), "true" | "false"))
                || !flag_name(&read.var)
            {
                continue;
            }
            let message = format!(
                "The environment variable `{}` is a string: with a `True`/`False` default, \"False\" and \"0\" are true",
                read.var
            );
            out.push(
                Finding::new(&META, node.byte_range(), message).with_fix(fix(node, &read, ctx)),
            );
        }
    }
}

/// `bool(os.environ.get("DEBUG", "False"))` → `os.environ.get("DEBUG", "False").lower() in ("1",
/// "true", "yes", "on")`, with a string default so that `.lower()` never meets `None`.
fn fix(replaced: Node, read: &EnvRead, ctx: &Ctx) -> Fix {
    let text = if read.node.kind_str() == "call" {
        let function = read
            .node
            .field("function")
            .map(|f| ctx.text(f).into_owned())
            .unwrap_or_default();
        let var_arg = syntax::positional_args(read.node)
            .first()
            .map(|a| ctx.text(*a).into_owned())
            .unwrap_or_default();
        let default = match read.default {
            None => "\"\"".to_string(),
            Some(d) => match d.kind_str() {
                "true" => "\"true\"".to_string(),
                "false" | "none" => "\"false\"".to_string(),
                "integer" => syntax::quote(&ctx.text(d)),
                _ if syntax::string_value(d, ctx.src).is_some() => ctx.text(d).into_owned(),
                _ => format!("str({})", ctx.text(d)),
            },
        };
        format!("{function}({var_arg}, {default})")
    } else {
        ctx.text(read.node).into_owned()
    };
    let mut expr = format!("{text}.lower() in {TRUTHY}");
    let bare_ok = replaced.parent().is_some_and(|p| {
        matches!(
            p.kind_str(),
            "assignment"
                | "keyword_argument"
                | "return_statement"
                | "if_statement"
                | "elif_clause"
                | "while_statement"
                | "boolean_operator"
                | "not_operator"
                | "parenthesized_expression"
                | "expression_statement"
                | "assert_statement"
                | "pair"
                | "list"
                | "tuple"
                | "argument_list"
                | "conditional_expression"
        )
    });
    if !bare_ok {
        expr = format!("({expr})");
    }
    Fix::unsafe_("Parse the flag: true only for \"1\", \"true\", \"yes\" or \"on\"")
        .edit(Edit::replace(replaced.byte_range(), expr))
}
