//! The rule framework and the registry of every rule.
//!
//! A rule is one file here: a unit struct implementing [`Rule`], its [`RuleMeta`] (code, name,
//! default severity, fix availability) and its docs (a Markdown file next to it, included with
//! `include_str!`, in the ruff style: *What it does / Why is this bad / Example / Use instead /
//! References*). A rule sees one [`Item`](crate::syntax::Item) at a time — a top-level statement or
//! a statement of a class body — plus the module-wide [`Model`](crate::model::Model); everything a
//! rule needs from outside its item must come through the model, so the analyzer can cache findings
//! per item and stay exact.

use std::cell::RefCell;
use std::ops::Range;

use rustc_hash::FxHashMap;
use tree_sitter::Node;

use crate::document::SourceText;
use crate::finding::Finding;
pub use crate::finding::{FixAvailability, RuleMeta};
use crate::model::{ClassFact, Model};
use crate::syntax::{Item, NodeExt};

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
pub mod report;

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

/// Which rules run, and how findings are adjusted.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Options {
    pub file: FileContext,
    pub settings: RuleSettings,
    /// Codes of the rules to run; `None` runs every rule.
    pub select: Option<Vec<&'static str>>,
}

/// What a rule sees besides its item.
pub struct Ctx<'a> {
    pub src: SourceText<'a>,
    pub model: &'a Model,
    pub file: &'a FileContext,
    pub settings: &'a RuleSettings,
    /// The local data-flow summaries of the item being checked, when the analyzer has them
    /// (they are computed before the rules run; see [`crate::rules::report::flows`]).
    pub flows: Option<&'a [crate::dataflow::FnFlow]>,
    /// The module-wide data-flow facts, read through the model's recorder (see
    /// [`crate::model::ReadRecorder`]).
    pub dataflow: crate::dataflow::FlowView<'a>,
    /// The callees of the item's calls resolved so far (see [`Ctx::callee`]); empty for a new item.
    pub callees: Callees,
}

/// [`Model::callee`] of the calls of one item, by node: KL101, KL102, KL103 and KL207 each
/// resolve every call of the item they look at, the same calls. Kept with the [`Ctx`] of one
/// item (one tree, one model), so a node's id names the same call for as long as it lives; the
/// model's reads are recorded by the first resolution, within the same item's recording.
#[derive(Default)]
pub struct Callees(RefCell<FxHashMap<usize, Option<String>>>);

impl<'a> Ctx<'a> {
    /// [`Model::callee`] of `call`, resolved once per item (see [`Callees`]).
    pub fn callee(&self, call: Node) -> Option<String> {
        if call.kind_str() != "call" {
            return None;
        }
        if let Some(known) = self.callees.0.borrow().get(&call.id()) {
            return known.clone();
        }
        let callee = self.model.callee(call, self.src);
        self.callees
            .0
            .borrow_mut()
            .insert(call.id(), callee.clone());
        callee
    }

    /// The classes around `item`, innermost last.
    pub fn classes(&self, item: &Item) -> Vec<&'a ClassFact> {
        item.classes
            .iter()
            .filter_map(|&i| self.model.classes.get(i))
            .collect()
    }

    /// The item lies in a development or test configuration class ([`ClassFact::is_dev_or_test`])
    /// that the app does not load as its configuration: a `Dev*` class that `app.config.from_object`
    /// loads (here or in another module, [`crate::model::Model::loaded_config`]) is the one the app
    /// runs with. A class with `TESTING = True` stays a test configuration.
    pub fn in_dev_class(&self, item: &Item) -> bool {
        self.classes(item).iter().any(|c| {
            c.testing_true
                || (c.is_dev_or_test()
                    && !(c.parent.is_none() && self.model.loaded_config(&c.name)))
        })
    }

    /// Where another module loads the top-level class the item lies in as the app's Flask
    /// configuration (`app.config.from_object(…)`), as a related place in that module: what
    /// KL301 and KL101 findings in the class point to.
    pub fn config_loaded_by(&self, item: &Item) -> Option<crate::finding::Related> {
        let class = self
            .classes(item)
            .into_iter()
            .find(|c| c.parent.is_none())?;
        let (file, range) = self.model.config_loaded_by(&class.name)?;
        Some(crate::finding::Related {
            range: range.clone(),
            message: format!("`{}` is loaded as the app's configuration here", class.name),
            file: Some(file.clone()),
        })
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

/// A control of a compliance framework that a rule's findings bear on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Control {
    /// `8.3.2`, `CC6.1`, `API8`.
    pub id: &'static str,
    /// The control's title, short.
    pub title: &'static str,
    /// `false`: the finding is what the control requires to be absent (a hard-coded credential
    /// against PCI-DSS 8.6.2). `true`: a *related control* — the mapping is an interpretation
    /// (an auditor may see the finding as evidence for or against it, the control does not name it).
    pub related: bool,
}

/// The compliance mapping of a rule: OWASP API Security Top 10 (2023), PCI-DSS v4.0 and SOC 2
/// (AICPA Trust Services Criteria, 2017, revised points of focus 2022). Listed in each rule's docs
/// (`## Compliance`), in SARIF `properties.tags` and in `keylint rules --output-format json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Compliance {
    pub owasp_api: &'static [Control],
    pub pci_dss: &'static [Control],
    pub soc2: &'static [Control],
}

const fn c(id: &'static str, title: &'static str, related: bool) -> Control {
    Control { id, title, related }
}

const API1: Control = c("API1", "Broken Object Level Authorization", false);
const API2: Control = c("API2", "Broken Authentication", false);
const API3: Control = c("API3", "Broken Object Property Level Authorization", false);
const API4: Control = c("API4", "Unrestricted Resource Consumption", false);
const API7: Control = c("API7", "Server Side Request Forgery", false);
const API8: Control = c("API8", "Security Misconfiguration", false);
const API10: Control = c("API10", "Unsafe Consumption of APIs", false);

const PCI_2_2_4: Control = c(
    "2.2.4",
    "Only necessary services, protocols, daemons and functions are enabled",
    true,
);
const PCI_6_2_4: Control = c(
    "6.2.4",
    "Software engineering techniques prevent or mitigate common software attacks",
    true,
);
const PCI_8_3_2: Control = c(
    "8.3.2",
    "Strong cryptography renders all authentication factors unreadable during transmission and storage",
    false,
);
const PCI_8_3_2_RELATED: Control = Control {
    related: true,
    ..PCI_8_3_2
};
const PCI_8_6_2: Control = c(
    "8.6.2",
    "Passwords/passphrases of application and system accounts are not hard coded in scripts, configuration files or source code",
    true,
);
const PCI_10_3_1: Control = c("10.3.1", "Read access to audit log files is limited", true);

const CC6_1: Control = c(
    "CC6.1",
    "Logical access security over protected information assets",
    true,
);
const CC6_7: Control = c(
    "CC6.7",
    "Transmission of information restricted to authorized users and processes",
    true,
);
const CC7_1: Control = c(
    "CC7.1",
    "Detection of configuration changes that introduce vulnerabilities",
    true,
);
const CC8_1: Control = c(
    "CC8.1",
    "Changes to infrastructure and software are authorized, tested and approved",
    true,
);
const C1_1: Control = c(
    "C1.1",
    "Confidential information is identified and protected",
    true,
);
const A1_1: Control = c(
    "A1.1",
    "Processing capacity is maintained, monitored and evaluated",
    true,
);

/// The compliance mapping of the rule with this code (empty for KL001 and unknown codes).
pub fn compliance(code: &str) -> Compliance {
    let (owasp_api, pci_dss, soc2): (&'static [Control], &'static [Control], &'static [Control]) =
        match code {
            "KL101" => (&[API8], &[PCI_8_6_2, PCI_8_3_2_RELATED], &[CC6_1, C1_1]),
            "KL102" => (&[API8], &[PCI_6_2_4], &[CC8_1]),
            "KL103" => (&[API8], &[PCI_2_2_4, PCI_6_2_4], &[CC8_1]),
            "KL201" => (&[API2, API8], &[PCI_8_3_2], &[CC6_1, C1_1]),
            "KL202" => (&[API8], &[PCI_8_3_2_RELATED, PCI_10_3_1], &[CC6_1, C1_1]),
            "KL203" => (&[API3], &[PCI_8_3_2_RELATED, PCI_6_2_4], &[CC6_1, C1_1]),
            "KL204" => (&[API7, API10], &[PCI_6_2_4], &[CC6_7, C1_1]),
            "KL205" => (&[API2], &[PCI_6_2_4], &[CC6_1]),
            "KL206" => (&[API2, API4], &[PCI_6_2_4], &[CC6_1]),
            // API2:2023 names "sends sensitive authentication details, such as auth tokens and
            // passwords in the URL" among its cases.
            "KL207" => (&[API2], &[PCI_8_3_2_RELATED], &[CC6_7, C1_1]),
            "KL301" => (&[API8], &[PCI_2_2_4, PCI_6_2_4], &[CC7_1, CC8_1]),
            "KL302" => (
                &[API3, API8],
                &[PCI_8_3_2_RELATED, PCI_6_2_4],
                &[CC6_1, C1_1],
            ),
            "KL303" => (&[API8], &[PCI_6_2_4], &[CC6_1]),
            "KL304" => (&[API4, API1], &[], &[A1_1]),
            _ => (&[], &[], &[]),
        };
    Compliance {
        owasp_api,
        pci_dss,
        soc2,
    }
}

impl Compliance {
    /// SARIF `properties.tags`: `external/owasp-api-2023/api8`, `compliance/pci-dss-4.0/8.3.2`,
    /// `compliance/soc2/cc6.1`.
    pub fn tags(&self) -> Vec<String> {
        let mut tags = Vec::new();
        for ctl in self.owasp_api {
            tags.push(format!(
                "external/owasp-api-2023/{}",
                ctl.id.to_ascii_lowercase()
            ));
        }
        for ctl in self.pci_dss {
            tags.push(format!("compliance/pci-dss-4.0/{}", ctl.id));
        }
        for ctl in self.soc2 {
            tags.push(format!("compliance/soc2/{}", ctl.id.to_ascii_lowercase()));
        }
        tags
    }

    /// The `## Compliance` section of the rule's docs, as it must read.
    pub fn docs_section(&self) -> String {
        let mut s = String::from("## Compliance\n");
        let line = |ctl: &Control| {
            let rel = if ctl.related {
                " (related control)"
            } else {
                ""
            };
            format!("{} {}{rel}", ctl.id, ctl.title)
        };
        let mut list = |name: &str, ctls: &[Control]| {
            if !ctls.is_empty() {
                let items: Vec<String> = ctls.iter().map(line).collect();
                s.push_str(&format!("- {name}: {}\n", items.join("; ")));
            }
        };
        list("OWASP API Security Top 10 (2023)", self.owasp_api);
        list("PCI-DSS v4.0", self.pci_dss);
        list("SOC 2 (Trust Services Criteria)", self.soc2);
        s
    }

    /// For `keylint rules --output-format json`.
    pub fn to_json(&self) -> serde_json::Value {
        let list = |ctls: &[Control]| -> Vec<serde_json::Value> {
            ctls.iter()
                .map(|c| serde_json::json!({ "id": c.id, "title": c.title, "related": c.related }))
                .collect()
        };
        serde_json::json!({
            "owasp_api_2023": list(self.owasp_api),
            "pci_dss_4_0": list(self.pci_dss),
            "soc2": list(self.soc2),
        })
    }
}

#[cfg(test)]
mod compliance_tests {
    use super::*;

    /// Every rule's docs carry its mapping, word for word, as its last section but References.
    #[test]
    fn every_rule_documents_its_compliance_mapping() {
        for rule in built_in() {
            let m = rule.meta();
            let section = compliance(m.code).docs_section();
            assert!(
                m.docs.contains(&section),
                "{}.md must contain:\n{section}",
                m.file_stem()
            );
            assert!(
                !compliance(m.code).owasp_api.is_empty(),
                "{} has an OWASP API mapping",
                m.code
            );
        }
    }
}

#[cfg(test)]
mod layering_tests {
    /// No rule imports another: what two rules share lives in `model/` (the frameworks' table,
    /// `model::exposure`) or in `rules/report.rs`.
    #[test]
    fn no_rule_imports_another_rule() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/rules");
        let mut offenders = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !(name.starts_with("kl") && name.ends_with(".rs")) {
                continue;
            }
            let text = std::fs::read_to_string(entry.path()).unwrap();
            for (i, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                if code.contains("rules::kl") || code.contains("super::kl") {
                    offenders.push(format!("{name}:{}: {}", i + 1, line.trim()));
                }
            }
        }
        assert!(offenders.is_empty(), "{}", offenders.join("\n"));
    }
}
