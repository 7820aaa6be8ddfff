//! Report formats: text (ruff-like, with a code frame and a summary), JSON (stable schema), SARIF
//! 2.1.0 (GitHub code scanning) and GitHub Actions workflow commands.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::{json, Value};

use super::check::RunStats;
use crate::document::SourceText;
use crate::finding::Severity;
use crate::rules::RuleMeta;

pub use crate::config::rule_url;

/// 1-based line and column (in Unicode characters) of a byte offset.
pub fn line_col(src: SourceText, byte: usize) -> (usize, usize) {
    let rope = src.rope();
    let byte = src.floor_boundary(byte);
    let line = rope.byte_to_line(byte);
    let col = rope.byte_to_char(byte) - rope.line_to_char(line);
    (line + 1, col + 1)
}

/// One finding, resolved to lines and columns (1-based, columns in characters).
#[derive(Debug, Clone)]
pub struct Report {
    pub meta: &'static RuleMeta,
    pub severity: Severity,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub message: String,
    /// Some fix is offered.
    pub fixable: bool,
    /// A safe fix is offered (applied by `--fix`).
    pub safe_fix: bool,
    /// An unsafe fix is offered and this run's `--fix` applies it (`--unsafe-fixes`, or
    /// `unsafe-fixes = true` in the file's configuration).
    pub unsafe_applied: bool,
    /// The text of the finding's first line (for the code frame).
    pub source_line: String,
    /// Stable under unrelated edits: rule, normalised line text, ordinal among identical ones.
    pub fingerprint: String,
    /// The key's path (where it entered, each call on the way), in the same file.
    pub related: Vec<super::sarif::RelatedReport>,
    /// The fixes offered, listed under the code frame (only with `--show-fixes`).
    pub fixes: Vec<super::show_fixes::FixNote>,
}

/// The findings of one file; `path` as shown (relative to the working directory, `/`-separated).
#[derive(Debug, Clone)]
pub struct FileReport {
    pub path: String,
    pub findings: Vec<Report>,
    /// With `--fix`/`--diff`: the findings the fixes removed, per rule.
    pub fixed: Vec<(&'static RuleMeta, usize)>,
}

/// The stable JSON schema of one finding.
#[derive(Serialize)]
pub struct JsonFinding<'a> {
    pub code: &'static str,
    pub rule: &'static str,
    pub severity: &'static str,
    pub file: &'a str,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub message: &'a str,
    /// `--fix` applies a fix (a safe one).
    pub fixable: bool,
    /// The fix offered, if any: `{"applicability": "safe"}` (applied by `--fix`) or `"unsafe"`
    /// (only with `--unsafe-fixes` / `unsafe-fixes = true`).
    pub fix: Option<JsonFix>,
    pub related: Vec<super::sarif::JsonRelated<'a>>,
}

/// The fix of a finding in the JSON output.
#[derive(Serialize)]
pub struct JsonFix {
    pub applicability: &'static str,
}

pub fn write_json(w: &mut impl Write, files: &[FileReport]) -> io::Result<()> {
    let all: Vec<JsonFinding> = files
        .iter()
        .flat_map(|file| {
            file.findings.iter().map(|f| JsonFinding {
                code: f.meta.code,
                rule: f.meta.name,
                severity: f.severity.as_str(),
                file: &file.path,
                line: f.line,
                column: f.column,
                end_line: f.end_line,
                end_column: f.end_column,
                message: &f.message,
                fixable: f.safe_fix,
                fix: f.fixable.then_some(JsonFix {
                    applicability: if f.safe_fix { "safe" } else { "unsafe" },
                }),
                related: super::sarif::json_related(&file.path, f),
            })
        })
        .collect();
    serde_json::to_writer_pretty(&mut *w, &all)?;
    writeln!(w)
}

/// Whether a rule's findings point at a credential, whose text the code frame must not print.
pub(crate) fn shows_secret(meta: &RuleMeta) -> bool {
    meta.cwe
        .iter()
        .any(|c| matches!(*c, "CWE-798" | "CWE-259" | "CWE-321" | "CWE-522"))
}

/// The line with the finding's characters masked (all but quotes and the first four) when its
/// rule points at a credential, and every other secret on the line too
/// ([`crate::engine::redact::source_line_secrets`]), so that CI logs never carry a secret.
pub(crate) fn masked_line(f: &Report) -> String {
    let line = f.source_line.as_str();
    let mut ranges = crate::engine::redact::source_line_secrets(line);
    if shows_secret(f.meta) {
        let end = if f.end_line == f.line {
            f.end_column
        } else {
            usize::MAX
        };
        let mut shown = 0;
        for (col, (i, c)) in line.char_indices().enumerate().map(|(n, x)| (n + 1, x)) {
            if col < f.column || col >= end || matches!(c, '"' | '\'') || c.is_whitespace() {
                continue;
            }
            shown += 1;
            if shown > 4 {
                ranges.push(i..i + c.len_utf8());
            }
        }
    }
    crate::engine::redact::apply_mask(line, &ranges).into_owned()
}

struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

fn severity_colour(s: Severity) -> &'static str {
    match s {
        Severity::Error => "1;31",
        Severity::Warning => "1;33",
        Severity::Info => "1;34",
        Severity::Hint => "1;36",
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub fn write_text(
    w: &mut impl Write,
    files: &[FileReport],
    stats: &RunStats,
    color: bool,
) -> io::Result<()> {
    let st = Style { on: color };
    let mut counts: Vec<(&'static RuleMeta, usize)> = Vec::new();
    let (mut total, mut safe, mut unsafe_) = (0, 0, 0);
    for file in files {
        for f in &file.findings {
            total += 1;
            if f.safe_fix || f.unsafe_applied {
                safe += 1;
            } else if f.fixable {
                unsafe_ += 1;
            }
            match counts.iter_mut().find(|(m, _)| m.code == f.meta.code) {
                Some((_, n)) => *n += 1,
                None => counts.push((f.meta, 1)),
            }
            writeln!(
                w,
                "{}:{}:{}: {} {} {}",
                st.paint("1", &file.path),
                f.line,
                f.column,
                st.paint(severity_colour(f.severity), f.meta.code),
                st.paint("2", &format!("[{}]", f.severity.as_str())),
                f.message
            )?;
            let line = masked_line(f);
            let num = f.line.to_string();
            let pad = " ".repeat(num.len());
            let lead: String = line
                .chars()
                .take(f.column - 1)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let width = if f.end_line == f.line {
                f.end_column.saturating_sub(f.column).max(1)
            } else {
                line.chars().count().saturating_sub(f.column - 1).max(1)
            };
            writeln!(w, "{pad} {}", st.paint("34", "|"))?;
            writeln!(w, "{} {} {line}", st.paint("34", &num), st.paint("34", "|"))?;
            writeln!(
                w,
                "{pad} {} {lead}{}",
                st.paint("34", "|"),
                st.paint(severity_colour(f.severity), &"^".repeat(width))
            )?;
            super::sarif::write_text_path(w, &file.path, f, num.len())?;
            super::show_fixes::write_notes(w, f, num.len())?;
            writeln!(w)?;
        }
    }
    counts.sort_by_key(|(m, _)| m.code);
    if total == 0 {
        writeln!(w, "No findings.")?;
    } else {
        let per_rule: Vec<String> = counts
            .iter()
            .map(|(m, n)| format!("{} {} ({})", m.code, m.name, n))
            .collect();
        writeln!(
            w,
            "Found {}: {}.",
            plural(total, "finding", "findings"),
            per_rule.join(", ")
        )?;
        if safe + unsafe_ > 0 {
            let mut s = format!("{safe} fixable with `--fix`");
            if unsafe_ > 0 {
                s.push_str(&format!(" ({unsafe_} more with `--fix --unsafe-fixes`)"));
            }
            writeln!(w, "{s}.")?;
        }
    }
    if stats.fixes > 0 {
        writeln!(w, "Applied {}.", plural(stats.fixes, "fix", "fixes"))?;
    }
    writeln!(w, "{}", files_line(stats))
}

fn files_line(stats: &RunStats) -> String {
    let mut s = format!(
        "Checked {}; {} skipped by the pre-filter (no finding possible)",
        plural(
            stats.checked + stats.skipped + stats.too_large,
            "file",
            "files"
        ),
        stats.skipped
    );
    if stats.too_large > 0 {
        s.push_str(&format!(
            "; {} over `max-file-size` (not analysed)",
            stats.too_large
        ));
    }
    if stats.errors > 0 {
        s.push_str(&format!("; {}", plural(stats.errors, "error", "errors")));
    }
    s.push('.');
    s
}

/// `--statistics`: counts per rule, and the file counts.
pub fn write_statistics(
    w: &mut impl Write,
    files: &[FileReport],
    stats: &RunStats,
) -> io::Result<()> {
    let mut counts: Vec<(&'static RuleMeta, usize, usize)> = Vec::new();
    for f in files.iter().flat_map(|f| &f.findings) {
        match counts.iter_mut().find(|(m, _, _)| m.code == f.meta.code) {
            Some((_, n, k)) => {
                *n += 1;
                *k += usize::from(f.fixable);
            }
            None => counts.push((f.meta, 1, usize::from(f.fixable))),
        }
    }
    counts.sort_by_key(|(m, _, _)| m.code);
    let width = counts
        .iter()
        .map(|(m, _, _)| m.name.len())
        .max()
        .unwrap_or(0);
    for (m, n, k) in &counts {
        writeln!(w, "{n:>6}  {}  {:<width$}  {k} fixable", m.code, m.name)?;
    }
    writeln!(w, "{}", files_line(stats))
}

/// The "What it does" paragraph of a rule's docs, on one line.
fn what_it_does(meta: &RuleMeta) -> String {
    let mut out = Vec::new();
    let mut inside = false;
    for line in meta.docs.lines() {
        if line.starts_with("## ") {
            if inside {
                break;
            }
            inside = line.trim() == "## What it does";
            continue;
        }
        if inside && !line.trim().is_empty() {
            out.push(line.trim());
        }
    }
    if out.is_empty() {
        meta.summary.to_string()
    } else {
        out.join(" ")
    }
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info | Severity::Hint => "note",
    }
}

fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "8.5",
        Severity::Warning => "7.0",
        Severity::Info => "4.0",
        Severity::Hint => "2.0",
    }
}

/// A relative path as a URI reference (`/`-separated, reserved bytes percent-encoded).
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The SARIF 2.1.0 log of a run.
pub fn sarif(files: &[FileReport], success: bool) -> Value {
    let metas = crate::config::all_meta();
    let rules: Vec<Value> = metas
        .iter()
        .map(|m| {
            let mut tags: Vec<String> = Vec::new();
            let mut properties = serde_json::Map::new();
            if m.cwe.is_empty() {
                tags.push("maintainability".into());
            } else {
                tags.push("security".into());
                for cwe in m.cwe {
                    tags.push(format!("external/cwe/{}", cwe.to_ascii_lowercase()));
                }
                tags.extend(crate::rules::compliance(m.code).tags());
                properties.insert(
                    "security-severity".into(),
                    json!(security_severity(m.severity)),
                );
            }
            properties.insert("tags".into(), json!(tags));
            properties.insert("precision".into(), json!("high"));
            json!({
                "id": m.code,
                "name": m.name,
                "shortDescription": { "text": m.summary },
                "fullDescription": { "text": what_it_does(m) },
                "help": { "text": m.docs, "markdown": m.docs },
                "helpUri": rule_url(m),
                "defaultConfiguration": { "level": sarif_level(m.severity) },
                "properties": properties,
            })
        })
        .collect();
    let results: Vec<Value> = files
        .iter()
        .flat_map(|file| {
            let metas = &metas;
            file.findings.iter().map(move |f| {
                let index = metas.iter().position(|m| m.code == f.meta.code);
                let mut result = json!({
                    "ruleId": f.meta.code,
                    "ruleIndex": index,
                    "level": sarif_level(f.severity),
                    "message": { "text": f.message },
                    "locations": [{
                        "physicalLocation": {
                            "artifactLocation": { "uri": uri(&file.path), "uriBaseId": "%SRCROOT%" },
                            "region": {
                                "startLine": f.line,
                                "startColumn": f.column,
                                "endLine": f.end_line,
                                "endColumn": f.end_column,
                            }
                        }
                    }],
                    "partialFingerprints": { "keylintFindingHash/v2": f.fingerprint },
                });
                super::sarif::add_path(&mut result, &uri(&file.path), f, uri);
                result
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "keylint",
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://github.com/keylint/keylint",
                    "rules": rules,
                }
            },
            "columnKind": "unicodeCodePoints",
            "invocations": [{ "executionSuccessful": success }],
            "results": results,
        }]
    })
}

pub fn write_sarif(w: &mut impl Write, files: &[FileReport], success: bool) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, &sarif(files, success))?;
    writeln!(w)
}

/// Escapes the data of a workflow command.
fn gh_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value of a workflow command.
fn gh_prop(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn write_github(w: &mut impl Write, files: &[FileReport]) -> io::Result<()> {
    for file in files {
        for f in &file.findings {
            let level = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info | Severity::Hint => "notice",
            };
            writeln!(
                w,
                "::{level} file={},line={},col={},endLine={},endColumn={},title={}::{}",
                gh_prop(&file.path),
                f.line,
                f.column,
                f.end_line,
                f.end_column,
                gh_prop(&format!("{} {}", f.meta.code, f.meta.name)),
                gh_data(&f.message)
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A one-line KL101 report of `line` (the baseline's tests use it too).
    pub(in crate::cli) fn report(line: &str, column: usize, end_column: usize) -> Report {
        Report {
            meta: &crate::rules::kl101_hardcoded_secret::META,
            severity: Severity::Warning,
            line: 1,
            column,
            end_line: 1,
            end_column,
            message: String::new(),
            fixable: false,
            safe_fix: false,
            unsafe_applied: false,
            source_line: line.to_string(),
            fingerprint: String::new(),
            related: Vec::new(),
            fixes: Vec::new(),
        }
    }

    #[test]
    fn code_frames_mask_secrets() {
        let line = "API_KEY = \"sk-live-abcdef\"  # comment";
        assert_eq!(
            masked_line(&report(line, 11, 27)),
            "API_KEY = \"sk-l**********\"  # comment"
        );
    }

    #[test]
    fn code_frames_mask_every_secret_on_the_line() {
        let ghp = "ghp_4f9c2b7e8d1a6f3c9a0b4f9c2b7e8d1a6f3c";
        // A KL303 finding (not a credential rule) on a line that also holds a key.
        let line = format!("return str(e), 500, {{\"X-Token\": \"{ghp}\"}}");
        let mut r = report(&line, 1, 7);
        r.meta = &crate::rules::kl303_error_details_leaked::META;
        let masked = masked_line(&r);
        assert!(!masked.contains(ghp), "{masked}");
        assert!(masked.starts_with("return str(e)"), "{masked}");
    }

    #[test]
    fn workflow_commands_are_escaped() {
        assert_eq!(gh_data("a%b\nc"), "a%25b%0Ac");
        assert_eq!(gh_prop("dir,x/a:b.py"), "dir%2Cx/a%3Ab.py");
    }

    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(uri("my app/ä.py"), "my%20app/%C3%A4.py");
    }
}
