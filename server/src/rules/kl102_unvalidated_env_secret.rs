//! KL102 `unvalidated-env-secret`: a secret read from the environment with `os.environ.get(...)` /
//! `os.getenv(...)`, no default and no check anywhere in the module: when the variable is missing,
//! `None` flows on into the client, the signature or the comparison.

use crate::syntax::NodeExt;
use tree_sitter::Node;

use crate::finding::{Edit, Fix};
use crate::finding::{Finding, Severity};
use crate::model::frameworks as fw;
use crate::model::{secrets, validation};
use crate::rules::{Ctx, FixAvailability, Rule, RuleMeta};
use crate::syntax::{self, Item};

pub static META: RuleMeta = RuleMeta {
    code: "KL102",
    name: "unvalidated-env-secret",
    summary: "A secret is read from the environment without checking that it is set",
    severity: Severity::Warning,
    fix: FixAvailability::Sometimes,
    cwe: &["CWE-703", "CWE-1188"],
    docs: include_str!("kl102_unvalidated_env_secret.md"),
    prefilter: &[fw::NAME_WORDS, fw::ENV_WORDS],
    reads_flows: false,
};

pub struct UnvalidatedEnvSecret;

/// The variable name of an `os.environ.get("X")` / `os.getenv("X")` call without a default.
pub fn env_read_without_default(call: Node, ctx: &Ctx) -> Option<String> {
    let call = syntax::unparenthesize(call);
    let callee = ctx.callee(call)?;
    if !fw::is_env_get(&callee) {
        return None;
    }
    let args = syntax::positional_args(call);
    // `os.getenv("K", None)` has no default either.
    let default = args
        .get(1)
        .copied()
        .or_else(|| syntax::keyword_arg(call, "default", ctx.src));
    if args.is_empty() || args.len() > 2 || default.is_some_and(|d| d.kind_str() != "none") {
        return None;
    }
    syntax::string_value(args[0], ctx.src)
}

/// The node kinds the walk of the rule's `check` looks at.
static WALKED: std::sync::LazyLock<syntax::KindSet> = std::sync::LazyLock::new(|| {
    syntax::KindSet::of(&[
        "assignment",
        "keyword_argument",
        "pair",
        "interpolation",
        "lambda",
    ])
});

impl Rule for UnvalidatedEnvSecret {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, item: &Item, ctx: &Ctx, out: &mut Vec<Finding>) {
        let extra = &ctx.settings.extra_secret_names;
        let checked = |name: &str| ctx.model.validated.contains(name);
        let mut walk = item.descendants(item.node);
        while let Some(node) = walk.next() {
            // The other kinds are skipped by a bit test of the index's kind id.
            if !WALKED.contains(walk.kind()) {
                continue;
            }
            let value = match node.kind_str() {
                "assignment" => node.field("right"),
                "keyword_argument" | "pair" => node.field("value"),
                // Reads inside an expression: a dict value (`{"api_key": os.getenv("K")}`), an
                // f-string (`f"Bearer {os.getenv('K')}"`), a `default_factory` lambda.
                "interpolation" => node.named_child(0),
                "lambda" => node.field("body"),
                _ => continue,
            };
            let Some(value) = value else {
                continue;
            };
            let Some(env) = env_read_without_default(value, ctx) else {
                continue;
            };
            // The target, looked up only for a read (most values are not).
            let target = match node.kind_str() {
                "assignment" => node.field("left"),
                "keyword_argument" => node.field("name"),
                "pair" => node.field("key"),
                _ => None,
            };
            let target_name = match target {
                None => Some(env.clone()),
                Some(target) => match target.kind_str() {
                    "identifier" => Some(ctx.text(target).into_owned()),
                    "attribute" => target.field("attribute").map(|a| ctx.text(a).into_owned()),
                    "subscript" => target
                        .field("subscript")
                        .and_then(|k| syntax::string_value(k, ctx.src)),
                    "string" => syntax::string_value(target, ctx.src),
                    _ => None,
                },
            };
            let Some(target_name) = target_name else {
                continue;
            };
            if !secrets::is_secret_name(&env, extra)
                && !secrets::is_secret_name(&target_name, extra)
            {
                continue;
            }
            if checked(&env) || checked(&target_name) {
                continue;
            }
            // AWS credentials: `None` means the SDK's default credential chain (a role).
            if fw::is_aws_credential_name(&env) || fw::is_aws_credential_name(&target_name) {
                continue;
            }
            // A guard in the function around the read (`if key: client = X(key)`).
            if let Some(function) = syntax::enclosing_function(node) {
                let local = validation::checked_names(function, ctx.src);
                if local.contains(&env) || local.contains(&target_name) {
                    continue;
                }
            }
            let message = if let (Some(target), "assignment") = (target, node.kind_str()) {
                format!(
                    "`{}` is read from the environment variable `{env}` without a check: when it is unset, `None` flows on",
                    syntax::short_text(target, ctx.src)
                )
            } else if node.kind_str() != "keyword_argument" {
                format!(
                    "The environment variable `{env}` is read here without a check: when it is unset, `None` flows on"
                )
            } else {
                format!(
                    "`{target_name}=` gets the environment variable `{env}` without a check: when it is unset, `None` is passed"
                )
            };
            let mut finding =
                Finding::new(&META, syntax::unparenthesize(value).byte_range(), message);
            if ctx.file.is_test {
                finding = finding.with_severity(Severity::Hint);
            }
            if let Some(target) =
                target.filter(|_| matches!(node.kind_str(), "assignment" | "keyword_argument"))
            {
                if let Some(fix) = fix(node, target, &env, ctx) {
                    finding = finding.with_fix(fix);
                }
            }
            out.push(finding);
        }
    }
}

fn fix(node: Node, target: Node, env: &str, ctx: &Ctx) -> Option<Fix> {
    let title = format!("Fail at start-up when `{env}` is not set");
    let os = ctx.model.module_alias("os");
    let stmt = syntax::line_statement(node, ctx.src);
    if node.kind_str() == "keyword_argument" {
        let mut fix = Fix::unsafe_(title).edit(syntax::require_env_edit(
            stmt,
            env,
            os.unwrap_or("os"),
            ctx.src,
        ));
        if os.is_none() {
            fix = fix.import("os");
        }
        return Some(fix);
    }
    // `X = os.getenv("K")` on its own line: the check goes right after it.
    if stmt.kind_str() != "expression_statement" || stmt.named_child(0) != Some(node) {
        return None;
    }
    let indent = syntax::indentation_at(ctx.src, stmt.start_byte());
    let unit = syntax::indent_unit(&indent);
    let eol = ctx.src.line_ending();
    let at = syntax::line_end(ctx.src, stmt.end_byte());
    let subject = ctx.text(target);
    let hint = syntax::missing_env_hint(stmt);
    Some(Fix::unsafe_(title).edit(Edit::insert(
        at,
        format!(
            "{eol}{indent}if not {subject}:{eol}{indent}{unit}raise RuntimeError(\"{env} is not set: {hint}\")"
        ),
    )))
}

#[cfg(test)]
mod tests {
    use crate::document::Document;
    use crate::engine::Analyzer;
    use crate::rules::Options;

    fn kl102_count(analyzer: &mut Analyzer, text: &str) -> usize {
        let doc = Document::new(text, 0);
        let analysis = analyzer.analyze(doc.view(), doc.source(), &Options::default());
        analysis
            .findings
            .iter()
            .filter(|f| f.rule.code == "KL102")
            .count()
    }

    /// The check lives in another item: the cached finding of the read must go when it is added and
    /// come back when it is removed.
    #[test]
    fn a_check_added_elsewhere_in_the_module_clears_the_cached_finding() {
        let read = "import os\nAPI_KEY = os.getenv(\"API_KEY\")\n";
        let checked =
            format!("{read}if not API_KEY:\n    raise SystemExit(\"API_KEY is required\")\n");
        let mut analyzer = Analyzer::new();
        assert_eq!(kl102_count(&mut analyzer, read), 1);
        assert_eq!(kl102_count(&mut analyzer, &checked), 0);
        assert_eq!(kl102_count(&mut analyzer, read), 1);
    }
}
