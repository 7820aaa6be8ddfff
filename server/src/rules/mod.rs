//! The rule framework and the registry of every rule.
//!
//! A rule is one file here: a unit struct implementing [`Rule`], its [`RuleMeta`] (code, name,
//! default severity, fix availability) and its docs (a Markdown file next to it, included with
//! `include_str!`, in the ruff style: *What it does / Why is this bad / Example / Use instead /
//! References*). A rule sees one [`Item`](crate::analysis::Item) at a time — a top-level statement or
//! a statement of a class body — plus the module-wide [`Model`](crate::analysis::Model); everything a
//! rule needs from outside its item must come through the model, so the analyzer can cache findings
//! per item and stay exact.

use std::ops::Range;

use crate::analysis::{ClassFact, Item, Model};
use crate::document::SourceText;
use crate::finding::{Finding, Severity};

pub mod kl101_hardcoded_secret;
pub mod kl102_unvalidated_env_secret;
pub mod kl103_env_flag_misparse;
pub mod kl201_raw_key_persisted;
pub mod kl202_key_logged;
pub mod kl203_key_reflected;
pub mod kl204_key_forwarded;
pub mod kl205_insecure_key_compare;
pub mod kl206_missing_key_validation;
pub mod kl207_key_in_url;
pub mod kl301_debug_mode_enabled;
pub mod kl302_config_exposed;
pub mod kl303_error_details_leaked;
pub mod kl304_dynamodb_scan_in_handler;
pub mod panicking;

/// Whether a rule can offer fixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FixAvailability {
    None,
    Sometimes,
    Always,
}

impl FixAvailability {
    pub fn as_str(self) -> &'static str {
        match self {
            FixAvailability::None => "none",
            FixAvailability::Sometimes => "sometimes",
            FixAvailability::Always => "always",
        }
    }
}

/// The fixed facts of a rule. Codes and names are public API: never rename one.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct RuleMeta {
    /// `KL101`
    pub code: &'static str,
    /// `hardcoded-secret`
    pub name: &'static str,
    /// One line: what the rule finds.
    pub summary: &'static str,
    pub severity: Severity,
    pub fix: FixAvailability,
    /// CWE ids (`"CWE-798"`), for SARIF tags and the docs.
    pub cwe: &'static [&'static str],
    /// Markdown docs: What it does / Why is this bad / Example / Use instead / References.
    pub docs: &'static str,
}

impl RuleMeta {
    /// Link to the rule's docs (used as LSP `codeDescription.href` and SARIF `helpUri`).
    pub fn url(&self) -> String {
        format!(
            "https://github.com/keylint/keylint/blob/main/server/src/rules/{}.md",
            self.file_stem()
        )
    }

    /// `kl101_hardcoded_secret`
    pub fn file_stem(&self) -> String {
        format!(
            "{}_{}",
            self.code.to_ascii_lowercase(),
            self.name.replace('-', "_")
        )
    }
}

/// Per-file facts a rule may use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FileContext {
    /// Path as given (for test-path detection and messages); `None` for an unsaved buffer.
    pub path: Option<std::path::PathBuf>,
    /// The file is test code (`tests/`, `test_*.py`, configured `test-paths`): secrets there are hints.
    pub is_test: bool,
}

/// Settings from the configuration that change what rules report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct RuleSettings {
    /// More name parts that mark a secret (`extra-secret-names`), lower case.
    pub extra_secret_names: Vec<String>,
    /// Literal values that are placeholders, never secrets (`allowed-placeholders`).
    pub allowed_placeholders: Vec<String>,
}

/// What a rule sees besides its item.
pub struct Ctx<'a> {
    pub src: SourceText<'a>,
    pub model: &'a Model,
    pub file: &'a FileContext,
    pub settings: &'a RuleSettings,
    /// The local data-flow summaries of the item being checked, when the analyzer has them
    /// (they are computed before the rules run; see [`crate::analysis::dataflow::report::flows`]).
    pub flows: Option<&'a [crate::analysis::dataflow::FnFlow]>,
}

impl<'a> Ctx<'a> {
    /// The classes around `item`, innermost last.
    pub fn classes(&self, item: &Item) -> Vec<&'a ClassFact> {
        item.classes
            .iter()
            .filter_map(|&i| self.model.classes.get(i))
            .collect()
    }

    /// The text of a node (borrowed when it lies in one rope chunk).
    pub fn text(&self, node: tree_sitter::Node) -> std::borrow::Cow<'a, str> {
        self.src.node_text(node)
    }

    pub fn slice(&self, range: Range<usize>) -> std::borrow::Cow<'a, str> {
        self.src.slice(range)
    }
}

/// A rule: looks at one item and pushes findings.
pub trait Rule: Send + Sync {
    fn meta(&self) -> &'static RuleMeta;
    fn check(&self, item: &Item, ctx: &Ctx, out: &mut Vec<Finding>);
}

/// keylint's rules, in code order.
const BUILT_IN: &[&dyn Rule] = &[
    &kl101_hardcoded_secret::HardcodedSecret,
    &kl102_unvalidated_env_secret::UnvalidatedEnvSecret,
    &kl103_env_flag_misparse::EnvFlagMisparse,
    &kl205_insecure_key_compare::InsecureKeyCompare,
    &kl301_debug_mode_enabled::DebugModeEnabled,
    &kl302_config_exposed::ConfigExposed,
    &kl303_error_details_leaked::ErrorDetailsLeaked,
    &kl201_raw_key_persisted::RawKeyPersisted,
    &kl202_key_logged::KeyLogged,
    &kl203_key_reflected::KeyReflected,
    &kl204_key_forwarded::KeyForwarded,
    &kl206_missing_key_validation::MissingKeyValidation,
    &kl207_key_in_url::KeyInUrl,
    &kl304_dynamodb_scan_in_handler::DynamodbScanInHandler,
];

/// The rule set [`install`]ed for this process, if any.
static INSTALLED: std::sync::OnceLock<&'static [&'static dyn Rule]> = std::sync::OnceLock::new();

/// Every rule, in code order: keylint's own, or the set [`install`]ed in their place.
pub fn all() -> &'static [&'static dyn Rule] {
    INSTALLED.get().copied().unwrap_or(BUILT_IN)
}

/// keylint's own rules, whatever is installed.
pub fn built_in() -> &'static [&'static dyn Rule] {
    BUILT_IN
}

/// Replaces the rule set for the rest of the process; call it before the first analysis. For an
/// embedder with rules of its own, and for the black-box tests, whose build of the binary can wrap
/// one rule in a panic to check that the server contains it (the other rules still report, the
/// server goes on). Returns `false`, changing nothing, when a set was installed already.
pub fn install(rules: &'static [&'static dyn Rule]) -> bool {
    INSTALLED.set(rules).is_ok()
}

/// The rule with this code (`KL101`, any case) or name (`hardcoded-secret`).
pub fn find(code_or_name: &str) -> Option<&'static dyn Rule> {
    all()
        .iter()
        .copied()
        .find(|r| r.meta().code.eq_ignore_ascii_case(code_or_name) || r.meta().name == code_or_name)
}

/// Metadata of rules reported by the engine itself rather than by a [`Rule`] (e.g. syntax or
/// internal errors, unused suppressions) can live here too; see `crate::config` for suppressions.
pub fn all_meta() -> impl Iterator<Item = &'static RuleMeta> {
    all().iter().map(|r| r.meta())
}
