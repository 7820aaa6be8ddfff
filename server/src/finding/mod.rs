//! What the analysis produces: a [`Finding`] at a byte range, with its fixes and related places.
//!
//! Everything here is in byte offsets of the document; the LSP layer and the CLI convert to their own
//! positions (UTF-16/UTF-8/UTF-32 columns, 1-based lines) through the document's rope.
//!
//! A leaf: plain data (findings, the rules' fixed facts, the fixes' edits) that imports nothing of
//! the crate. Building fixes against a module, applying them and masking secrets in what a user
//! sees live in [`crate::engine`].

use std::ops::Range;

use serde::{Deserialize, Serialize};

mod fix;
pub mod prefilter;
pub use fix::{Applicability, Edit, Fix, WorkspaceOp};

/// How loud a finding is. Ordered from most to least severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
    Hint,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
            Severity::Hint => "hint",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s.to_ascii_lowercase().as_str() {
            "error" => Some(Severity::Error),
            "warning" | "warn" => Some(Severity::Warning),
            "info" | "information" => Some(Severity::Info),
            "hint" => Some(Severity::Hint),
            _ => None,
        }
    }
}

/// Another place that explains a finding (where a key entered, a call site on its way to the sink).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Related {
    /// Byte range, in this finding's file or in [`Related::file`].
    pub range: Range<usize>,
    pub message: String,
    /// Another file of the project, as it was found (a path): where a key entered in a route
    /// module before reaching the helper that leaks it. `None`: the finding's own file.
    pub file: Option<std::sync::Arc<str>>,
}

/// One problem found in one document.
///
/// `message` names the target (`API_KEY`, `app.config["SECRET_KEY"]`) but never the secret value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static RuleMeta,
    pub range: Range<usize>,
    pub message: String,
    pub severity: Severity,
    pub fixes: Vec<Fix>,
    pub related: Vec<Related>,
}

impl Finding {
    /// A finding at the rule's default severity with no fix yet.
    pub fn new(rule: &'static RuleMeta, range: Range<usize>, message: impl Into<String>) -> Self {
        Finding {
            rule,
            range,
            message: message.into(),
            severity: rule.severity,
            fixes: Vec::new(),
            related: Vec::new(),
        }
    }

    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    pub fn with_fix(mut self, fix: Fix) -> Self {
        self.fixes.push(fix);
        self
    }

    pub fn with_related(mut self, range: Range<usize>, message: impl Into<String>) -> Self {
        self.related.push(Related {
            range,
            message: message.into(),
            file: None,
        });
        self
    }

    /// Moves every byte offset of the finding by `delta` (the cache reuses findings of an item that
    /// only moved).
    pub(crate) fn shift(&mut self, delta: isize) {
        let mv = |r: &mut Range<usize>| {
            r.start = (r.start as isize + delta) as usize;
            r.end = (r.end as isize + delta) as usize;
        };
        mv(&mut self.range);
        for rel in self.related.iter_mut().filter(|r| r.file.is_none()) {
            mv(&mut rel.range);
        }
        for fix in &mut self.fixes {
            for edit in &mut fix.edits {
                mv(&mut edit.range);
            }
            for op in &mut fix.workspace_ops {
                if let WorkspaceOp::AppendEnv { value_range, .. } = op {
                    mv(value_range);
                }
            }
        }
    }
}

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
    /// The words the CLI's pre-filter must find in a file for a finding of this rule to be
    /// possible there (lists of words, shared ones included): the pre-filter is built from the
    /// rules' lists alone. Empty: the pre-filter is off (every file is analysed).
    pub prefilter: &'static [&'static [prefilter::Word]],
    /// The rule reads the data flow (an item's local flows, or the resolved facts): without it,
    /// `keylint check` computes no local flow for a file whose selected rules read none
    /// (`engine::flows_needed`). A test runs every rule that does not declare it with the flows
    /// skipped and not, and fails on any difference.
    pub reads_flows: bool,
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
