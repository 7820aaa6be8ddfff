//! Adopting keylint on a codebase that already has findings, two ways:
//!
//! - a **baseline** (`--write-baseline FILE`, then `--baseline FILE`): the current findings are
//!   recorded, and later runs report only findings that are not in it. An entry is the rule, the
//!   file (relative to the baseline's directory) and a fingerprint of the finding's line with the
//!   finding itself and every string literal masked, so it survives edits elsewhere in the file
//!   (lines moving) and never holds a secret, not even one hashed;
//! - **`--add-noqa`**: a `# keylint: ignore[CODE]` comment on each current finding's line; KL001
//!   then reports those that stop being needed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::output::{FileReport, Report};
use crate::config;

/// The format version of the baseline file.
pub const VERSION: u32 = 1;

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// Always `keylint-baseline`.
    pub kind: String,
    pub version: u32,
    pub findings: Vec<Entry>,
}

/// One recorded finding.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// `KL101`.
    pub rule: String,
    /// Relative to the baseline file's directory, `/`-separated.
    pub file: String,
    /// 32 hex digits: see [`fingerprint`].
    pub fingerprint: String,
    /// The finding's message when it was recorded, for the reviewer (never used to match; a
    /// message names targets, never a value).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// The line of a finding with what could hold a secret masked: the finding's own columns and the
/// content of every string literal (`"…"`, `'…'`, prefixes and triple quotes alike), then
/// whitespace collapsed. Comments are kept (a `# keylint: ignore` does not change the line's
/// identity: it is cut).
pub fn masked_statement(f: &Report) -> String {
    let end = if f.end_line == f.line {
        f.end_column
    } else {
        usize::MAX
    };
    let mut out = String::new();
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, ch) in f.source_line.chars().enumerate() {
        let col = i + 1;
        let in_finding = col >= f.column && col < end;
        let in_string = quote.is_some();
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if ch == '\\' {
                    escaped = true;
                } else if ch == q {
                    quote = None;
                }
            }
            None if ch == '#' && !in_finding => break,
            None if ch == '"' || ch == '\'' => quote = Some(ch),
            None => {}
        }
        // A closing quote is shown as the opening one was.
        let content = in_string && quote.is_some();
        if in_finding {
            if !out.ends_with('\u{2026}') {
                out.push('\u{2026}');
            }
        } else if !content {
            out.push(ch);
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The fingerprint of a finding: SHA-256 of the rule, the file and [`masked_statement`], cut to
/// 128 bits. Equal lines of one file share it (matching counts them).
pub fn fingerprint(file: &str, f: &Report) -> String {
    let digest = Sha256::digest(format!("{}\0{file}\0{}", f.meta.code, masked_statement(f)));
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// A report's path relative to `base` (the baseline's directory), `/`-separated.
fn relative_to(path: &str, cwd: &Path, base: &Path) -> String {
    let abs = cwd.join(path);
    let rel: PathBuf = abs.strip_prefix(base).map(Path::to_path_buf).unwrap_or(abs);
    rel.to_string_lossy().replace('\\', "/")
}

fn base_dir(file: &Path) -> PathBuf {
    let abs = config::absolute(file);
    abs.parent().map(Path::to_path_buf).unwrap_or(abs)
}

/// The baseline of these reports, `file` being where it will be written.
pub fn build(reports: &[FileReport], cwd: &Path, file: &Path) -> Baseline {
    let base = base_dir(file);
    let mut findings: Vec<Entry> = reports
        .iter()
        .flat_map(|r| {
            let rel = relative_to(&r.path, cwd, &base);
            r.findings
                .iter()
                .map(move |f| Entry {
                    rule: f.meta.code.to_string(),
                    fingerprint: fingerprint(&rel, f),
                    file: rel.clone(),
                    message: f.message.clone(),
                })
                .collect::<Vec<_>>()
        })
        .collect();
    findings.sort_by(|a, b| {
        (&a.file, &a.rule, &a.fingerprint).cmp(&(&b.file, &b.rule, &b.fingerprint))
    });
    Baseline {
        kind: "keylint-baseline".into(),
        version: VERSION,
        findings,
    }
}

/// Writes the baseline of `reports` to `file` (atomically when it exists).
pub fn write(reports: &[FileReport], cwd: &Path, file: &Path) -> Result<usize, String> {
    let baseline = build(reports, cwd, file);
    let mut text = serde_json::to_string_pretty(&baseline).map_err(|e| e.to_string())?;
    text.push('\n');
    let shown = file.display();
    let result = match std::fs::read(file) {
        Ok(old) => super::check::write_fixed(file, &old, text.as_bytes()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::write(file, &text),
        Err(e) => Err(e),
    };
    result.map_err(|e| format!("{shown}: cannot write the baseline: {e}"))?;
    Ok(baseline.findings.len())
}

/// Reads a baseline; the error names the file and what is wrong with it.
pub fn read(file: &Path) -> Result<Baseline, String> {
    let shown = file.display();
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("{shown}: cannot read the baseline: {e}"))?;
    let b: Baseline = serde_json::from_str(&text).map_err(|e| {
        format!("{shown}: not a keylint baseline: {e} (write one with `keylint check --write-baseline {shown}`)")
    })?;
    if b.kind != "keylint-baseline" || b.version != VERSION {
        return Err(format!(
            "{shown}: not a keylint baseline of version {VERSION} (kind `{}`, version {})",
            b.kind, b.version
        ));
    }
    Ok(b)
}

/// Removes the findings recorded in `baseline` from `reports`; returns how many were removed.
/// Each entry matches one finding (two equal lines need two entries).
pub fn filter(reports: &mut [FileReport], baseline: &Baseline, cwd: &Path, file: &Path) -> usize {
    let base = base_dir(file);
    let mut left: HashMap<(String, String, String), usize> = HashMap::new();
    for e in &baseline.findings {
        *left
            .entry((e.rule.clone(), e.file.clone(), e.fingerprint.clone()))
            .or_default() += 1;
    }
    let mut removed = 0;
    for r in reports.iter_mut() {
        let rel = relative_to(&r.path, cwd, &base);
        r.findings.retain(|f| {
            let fp = fingerprint(&rel, f);
            match left.get_mut(&(f.meta.code.to_string(), rel.clone(), fp)) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    removed += 1;
                    false
                }
                _ => true,
            }
        });
    }
    removed
}

/// What `--add-noqa` did.
#[derive(Debug, Default)]
pub struct Noqa {
    /// Directives added (one per line and rule).
    pub added: usize,
    /// Lines where no comment can go (the line ends inside a multi-line string), as messages.
    pub impossible: Vec<String>,
    /// Files that could not be read or written, as messages.
    pub errors: Vec<String>,
}

/// Adds `# keylint: ignore[CODE]` to every finding's first line (extending a directive already
/// there), one comment per line with every code it needs.
pub fn add_noqa(reports: &[FileReport], cwd: &Path) -> Noqa {
    let mut out = Noqa::default();
    for r in reports.iter().filter(|r| !r.findings.is_empty()) {
        let path = cwd.join(&r.path);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                out.errors.push(format!("{}: cannot read: {e}", r.path));
                continue;
            }
        };
        let decoded = match super::encoding::decode(&bytes) {
            Ok(d) => d,
            Err(e) => {
                out.errors.push(format!("{}: {e}", r.path));
                continue;
            }
        };
        let text = decoded.text.as_str();
        let doc = crate::document::Document::new(text, 0);
        let mut lines: Vec<(usize, Vec<&'static str>)> = Vec::new();
        // An unused suppression is not silenced by another one: it is for the user to remove.
        for f in r.findings.iter().filter(|f| f.meta.code != "KL001") {
            let line = f.line - 1;
            match lines.iter_mut().find(|(l, _)| *l == line) {
                Some((_, codes)) if !codes.contains(&f.meta.code) => codes.push(f.meta.code),
                Some(_) => {}
                None => lines.push((line, vec![f.meta.code])),
            }
        }
        let mut edits = Vec::new();
        for (line, codes) in &lines {
            let Some(mut edit) =
                config::suppression_edit(doc.view(), doc.source(), *line, codes[0])
            else {
                out.impossible.push(format!(
                    "{}:{}: no `# keylint: ignore[{}]` can go at the end of this line (it ends \
                     inside a multi-line string); the finding is left",
                    r.path,
                    line + 1,
                    codes.join(", ")
                ));
                continue;
            };
            if codes.len() > 1 {
                if edit.new_text.starts_with("  # keylint: ignore[") {
                    edit.new_text = format!("  # keylint: ignore[{}]", codes.join(", "));
                } else {
                    edit.new_text = format!("{}, {}", edit.new_text, codes[1..].join(", "));
                }
            }
            out.added += codes.len();
            edits.push(edit);
        }
        if edits.is_empty() {
            continue;
        }
        let (new_text, _) = crate::engine::fixes::apply_edits(text, &edits);
        let written = super::encoding::encode(&new_text, decoded.encoding)
            .map_err(std::io::Error::other)
            .and_then(|out| super::check::write_fixed(&path, &bytes, &out));
        if let Err(e) = written {
            out.errors.push(format!("{}: not changed: {e}", r.path));
            out.added -= lines
                .iter()
                .map(|(_, c)| c.len())
                .sum::<usize>()
                .min(out.added);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::output::tests::report;

    #[test]
    fn the_masked_statement_holds_no_string_content() {
        let r = report(
            r#"API_KEY = "sk-live-4f9c2b7e8d1a6f3c9a0b"  # keylint: ignore"#,
            11,
            41,
        );
        assert_eq!(masked_statement(&r), "API_KEY = \u{2026}");
        let r = report(r#"    call(token='abc\'def', other="x")"#, 1, 1);
        assert_eq!(masked_statement(&r), r#"call(token='', other="")"#);
    }

    #[test]
    fn fingerprints_ignore_indentation_and_the_secret_but_not_the_name() {
        let a = report(r#"API_KEY = "sk-live-aaaa""#, 11, 25);
        let b = report(r#"    API_KEY   =  "sk-live-bbbb""#, 18, 32);
        let c = report(r#"OTHER_KEY = "sk-live-aaaa""#, 13, 27);
        assert_eq!(fingerprint("a.py", &a), fingerprint("a.py", &b));
        assert_ne!(fingerprint("a.py", &a), fingerprint("a.py", &c));
        assert_ne!(fingerprint("a.py", &a), fingerprint("b.py", &a));
    }
}

/// The adoption options of `keylint check` (flattened into its arguments).
#[derive(clap::Args, Debug, Default, Clone)]
pub struct AdoptArgs {
    /// Report only findings that are not in this baseline file (see `--write-baseline`).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["write_baseline", "add_noqa"])]
    pub baseline: Option<PathBuf>,
    /// Record the current findings in FILE (JSON: rule, file, a fingerprint of the line with the
    /// secret masked; never a secret) and exit 0.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["add_noqa", "fix", "diff"])]
    pub write_baseline: Option<PathBuf>,
    /// Add `# keylint: ignore[CODE]` to the line of every current finding and exit 0; KL001
    /// reports those that stop being needed.
    #[arg(long, conflicts_with_all = ["fix", "diff"])]
    pub add_noqa: bool,
}

/// Runs the adoption options on the sorted reports of a run: `Some(exit code)` when the run ends
/// here (`--write-baseline`, `--add-noqa`), `None` to report what is left (`--baseline` removed
/// the known findings). `errors` is the number of per-file errors already reported.
pub fn apply(
    args: &AdoptArgs,
    reports: &mut [FileReport],
    cwd: &Path,
    errors: usize,
) -> Option<i32> {
    let failed = if errors > 0 { 2 } else { 0 };
    if let Some(file) = &args.write_baseline {
        return Some(match write(reports, cwd, file) {
            Ok(n) => {
                eprintln!(
                    "keylint: wrote {n} finding{} to the baseline {}.",
                    if n == 1 { "" } else { "s" },
                    file.display()
                );
                failed
            }
            Err(e) => {
                eprintln!("keylint: {e}");
                2
            }
        });
    }
    if args.add_noqa {
        let done = add_noqa(reports, cwd);
        for e in done.impossible.iter().chain(&done.errors) {
            eprintln!("keylint: {e}");
        }
        eprintln!(
            "keylint: added {} `# keylint: ignore` director{}.",
            done.added,
            if done.added == 1 { "y" } else { "ies" }
        );
        return Some(if !done.errors.is_empty() {
            2
        } else if !done.impossible.is_empty() {
            1
        } else {
            failed
        });
    }
    if let Some(file) = &args.baseline {
        match read(file) {
            Ok(b) => {
                let n = filter(reports, &b, cwd, file);
                if n > 0 {
                    eprintln!(
                        "keylint: {n} finding{} in the baseline {} not shown.",
                        if n == 1 { "" } else { "s" },
                        file.display()
                    );
                }
            }
            Err(e) => {
                eprintln!("keylint: {e}");
                return Some(2);
            }
        }
    }
    None
}
