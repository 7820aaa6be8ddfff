//! `--show-fixes`, as in ruff: the fix each finding offers under its code frame, and with `--fix`
//! (or `--diff`) the findings fixed, per file and rule.

use std::io::{self, Write};

use super::output::{FileReport, Report};
use crate::engine::Analysis;
use crate::finding::Applicability;
use crate::rules::RuleMeta;

/// A fix a finding offers, for the text output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixNote {
    pub title: String,
    /// Applied by `--fix` (else only with `--unsafe-fixes`).
    pub safe: bool,
}

pub fn notes(f: &crate::finding::Finding) -> Vec<FixNote> {
    f.fixes
        .iter()
        .map(|x| FixNote {
            title: x.title.clone(),
            safe: x.applicability == Applicability::Safe && x.workspace_ops.is_empty(),
        })
        .collect()
}

/// The findings a fix removed, per rule: those of `before` minus those of `after`.
pub fn fixed(before: &Analysis, after: &Analysis) -> Vec<(&'static RuleMeta, usize)> {
    let mut out: Vec<(&'static RuleMeta, usize)> = Vec::new();
    for f in &before.findings {
        match out.iter_mut().find(|(m, _)| m.code == f.rule.code) {
            Some((_, n)) => *n += 1,
            None => out.push((f.rule, 1)),
        }
    }
    for f in &after.findings {
        if let Some((_, n)) = out.iter_mut().find(|(m, _)| m.code == f.rule.code) {
            *n = n.saturating_sub(1);
        }
    }
    out.retain(|(_, n)| *n > 0);
    out.sort_by_key(|(m, _)| m.code);
    out
}

/// Under a finding's code frame: `= fix (safe): Read the key from the environment`.
pub fn write_notes(w: &mut impl Write, f: &Report, gutter: usize) -> io::Result<()> {
    let pad = " ".repeat(gutter);
    for n in &f.fixes {
        let how = if n.safe { "safe" } else { "unsafe" };
        writeln!(w, "{pad} = fix ({how}): {}", n.title)?;
    }
    Ok(())
}

/// After `--fix`: `Fixed 3 findings:` and, per file, `    2 × KL205 (insecure-key-compare)`.
pub fn write_fixed(w: &mut impl Write, files: &[FileReport], would: bool) -> io::Result<()> {
    let total: usize = files.iter().flat_map(|f| &f.fixed).map(|(_, n)| n).sum();
    let verb = if would { "Would fix" } else { "Fixed" };
    if total == 0 {
        return writeln!(w, "{verb} no finding.");
    }
    writeln!(
        w,
        "{verb} {total} finding{}:",
        if total == 1 { "" } else { "s" }
    )?;
    for file in files.iter().filter(|f| !f.fixed.is_empty()) {
        writeln!(w, "- {}:", file.path)?;
        for (m, n) in &file.fixed {
            writeln!(w, "    {n} × {} ({})", m.code, m.name)?;
        }
    }
    Ok(())
}
