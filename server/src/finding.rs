//! What the analysis produces: a [`Finding`] at a byte range, with its fixes and related places.
//!
//! Everything here is in byte offsets of the document; the LSP layer and the CLI convert to their own
//! positions (UTF-16/UTF-8/UTF-32 columns, 1-based lines) through the document's rope.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::fixes::Fix;
use crate::rules::RuleMeta;

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
    pub range: Range<usize>,
    pub message: String,
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
        for rel in &mut self.related {
            mv(&mut rel.range);
        }
        for fix in &mut self.fixes {
            for edit in &mut fix.edits {
                mv(&mut edit.range);
            }
            for op in &mut fix.workspace_ops {
                if let crate::fixes::WorkspaceOp::AppendEnv { value_range, .. } = op {
                    mv(value_range);
                }
            }
        }
    }
}
