//! KL101 `hardcoded-secret`: a secret written as a string literal.
//!
//! First cut (foundation): module- and class-level `NAME = "literal"` where the name says secret.
//! The full rule (attributes, subscripts, keyword arguments, token formats, entropy) builds on it.

use tree_sitter::Node;

use crate::analysis::{syntax, Item};
use crate::finding::{Finding, Severity};
use crate::fixes::{Edit, Fix};
use crate::rules::{Ctx, FixAvailability, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "KL101",
    name: "hardcoded-secret",
    summary: "A secret (API key, token, password) is written into the source code",
    severity: Severity::Warning,
    fix: FixAvailability::Sometimes,
    cwe: &["CWE-798", "CWE-259"],
    docs: include_str!("kl101_hardcoded_secret.md"),
};

pub struct HardcodedSecret;

impl Rule for HardcodedSecret {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, item: &Item, ctx: &Ctx, out: &mut Vec<Finding>) {
        if item.node.kind() != "expression_statement" {
            return;
        }
        let Some(assign) = item
            .node
            .named_child(0)
            .filter(|n| n.kind() == "assignment")
        else {
            return;
        };
        let (Some(left), Some(right)) = (
            assign.child_by_field_name("left"),
            assign.child_by_field_name("right"),
        ) else {
            return;
        };
        if left.kind() != "identifier" || right.kind() != "string" {
            return;
        }
        let name = ctx.text(left);
        if !is_secret_name(&name) {
            return;
        }
        let Some(value) = syntax::string_value(right, ctx.src) else {
            return;
        };
        if value.trim().len() < 4 {
            return;
        }
        let in_dev = ctx.classes(item).iter().any(|c| c.is_dev_or_test()) || ctx.file.is_test;
        let mut finding = Finding::new(
            &META,
            right.byte_range(),
            format!("Hardcoded secret assigned to `{name}`; read it from the environment"),
        );
        if in_dev {
            finding = finding.with_severity(Severity::Hint);
        }
        out.push(finding.with_fix(env_fix(item.node, right, &name, ctx)));
    }
}

/// `NAME = "…"` → a start-up check and `NAME = os.environ["NAME"]`.
fn env_fix(stmt: Node, literal: Node, var: &str, ctx: &Ctx) -> Fix {
    let indent = syntax::indentation_at(ctx.src, stmt.start_byte());
    let eol = ctx.src.line_ending();
    let os = ctx.model.module_alias("os").unwrap_or("os").to_string();
    let check = format!(
        "if not {os}.environ.get(\"{var}\"):{eol}{indent}    raise RuntimeError(\"{var} is not set: export it in the environment before start-up\"){eol}{indent}"
    );
    let mut fix = Fix::unsafe_(format!("Read `{var}` from the environment"))
        .edit(Edit::insert(stmt.start_byte(), check))
        .edit(Edit::replace(
            literal.byte_range(),
            format!("{os}.environ[\"{var}\"]"),
        ));
    if ctx.model.module_alias("os").is_none() {
        fix = fix.import("os");
    }
    fix
}

/// A name whose words say it holds a secret (first cut).
pub fn is_secret_name(name: &str) -> bool {
    let words = syntax::name_words(name);
    let has = |w: &str| words.iter().any(|x| x == w);
    (has("key") && (has("api") || has("secret") || has("private") || has("access")))
        || has("secret")
        || has("password")
        || has("passwd")
        || has("token")
        || has("apikey")
}
