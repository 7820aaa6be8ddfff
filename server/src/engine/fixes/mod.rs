//! Fixes against a module: adding an import where a careful human would ([`import_edit`]),
//! the concrete edits of a fix ([`materialize`]), applying a set of fixes to a text, fix-all, and
//! making the fixes of findings on the same code agree ([`agree`]).

use crate::finding::{Applicability, Edit, Fix};

mod agree;
mod imports;
pub use agree::agree;
pub use imports::import_edit;

use crate::document::SourceText;
use crate::model::Model;

/// The concrete document edits of a fix: its own edits plus an edit that adds each import it needs
/// and the module lacks (one edit for all of them), sorted by position.
pub fn materialize(fix: &Fix, model: &Model, src: SourceText) -> Vec<Edit> {
    let mut edits = fix.edits.clone();
    let missing: Vec<&str> = fix
        .imports
        .iter()
        .copied()
        .filter(|m| model.module_alias(m) != Some(*m))
        .collect();
    if let Some(edit) = import_edit(&missing, model, src) {
        // Two inserts at the same offset: the import goes first.
        edits.insert(0, edit);
    }
    edits.sort_by_key(|e| (e.range.start, e.range.end));
    edits
}

/// Applies non-overlapping edits (byte ranges into `text`) and returns the new text.
/// Overlapping edits after the first are skipped; the count of applied edits is returned too.
pub fn apply_edits(text: &str, edits: &[Edit]) -> (String, usize) {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.range.start, e.range.end));
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    let mut applied = 0;
    for e in sorted {
        if e.range.start < pos || e.range.end > text.len() || e.range.start > e.range.end {
            continue;
        }
        if !text.is_char_boundary(e.range.start) || !text.is_char_boundary(e.range.end) {
            continue;
        }
        out.push_str(&text[pos..e.range.start]);
        out.push_str(&e.new_text);
        pos = e.range.end;
        applied += 1;
    }
    out.push_str(&text[pos..]);
    (out, applied)
}

/// The result of [`fix_all`].
pub struct FixAllResult {
    pub text: String,
    /// Number of fixes applied over all rounds.
    pub applied: usize,
}

/// Applies fixes to `text` until none is left (at most 10 rounds): the first fix of each finding
/// that is safe (or unsafe too, with `include_unsafe`) and touches only this document. Fixes whose
/// edits overlap one already taken in a round wait for the next round.
pub fn fix_all(text: &str, options: &crate::rules::Options, include_unsafe: bool) -> FixAllResult {
    let mut text = text.to_string();
    let mut applied = 0;
    for _ in 0..10 {
        let (doc, mut analysis) = crate::engine::analyze_text(&text, options);
        agree(
            &mut analysis.findings,
            doc.view(),
            doc.source(),
            &analysis.model,
        );
        let edits = fix_all_edits(&analysis, doc.source(), include_unsafe);
        if edits.is_empty() {
            break;
        }
        let (new_text, _) = apply_edits(&text, &edits.0);
        applied += edits.1;
        if new_text == text {
            break;
        }
        text = new_text;
    }
    FixAllResult { text, applied }
}

/// The edits of one round of fix-all over an analysis, and how many fixes they carry.
pub fn fix_all_edits(
    analysis: &crate::engine::Analysis,
    src: SourceText,
    include_unsafe: bool,
) -> FixEdits {
    let mut taken: Vec<Edit> = Vec::new();
    let mut count = 0;
    for finding in &analysis.findings {
        let Some(fix) = finding.fixes.iter().find(|f| {
            f.workspace_ops.is_empty() && (include_unsafe || f.applicability == Applicability::Safe)
        }) else {
            continue;
        };
        let edits = materialize(fix, &analysis.model, src);
        let new: Vec<Edit> = edits.into_iter().filter(|e| !taken.contains(e)).collect();
        if new.is_empty() {
            // The same fix, shared by several findings (see [`agree`]), is already taken.
            continue;
        }
        let clashes = new.iter().any(|e| {
            taken.iter().any(|t| {
                let touching_inserts = e.range.is_empty() && t.range.is_empty();
                (e.range.start < t.range.end && t.range.start < e.range.end)
                    || (touching_inserts && e.range.start == t.range.start)
                    || (e.range.is_empty()
                        && t.range.start < e.range.start
                        && e.range.start < t.range.end)
                    || (t.range.is_empty()
                        && e.range.start < t.range.start
                        && t.range.start < e.range.end)
            })
        });
        if clashes {
            continue;
        }
        taken.extend(new);
        count += 1;
    }
    FixEdits(taken, count)
}

/// Edits and the number of fixes they come from.
pub struct FixEdits(pub Vec<Edit>, pub usize);

impl FixEdits {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
