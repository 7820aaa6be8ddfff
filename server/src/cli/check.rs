//! `keylint check PATH…`: find the files, analyse them in parallel, fix them if asked, report.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use clap::{Args, ValueEnum};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::output::{self, FileReport, Report};
use super::prefilter::Prefilter;
use crate::analysis::Analysis;
use crate::config::{self, Config, ConfigCache, Overrides, Parsed};
use crate::finding::Severity;
use crate::fixes::Applicability;

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum OutputFormat {
    /// `file:line:col: CODE message` with a code frame and a summary.
    Text,
    /// A JSON array of findings (stable schema).
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// GitHub Actions workflow commands (`::error file=…::…`), shown as annotations.
    Github,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum FailOn {
    Error,
    Warning,
    Info,
    Hint,
}

impl From<FailOn> for Severity {
    fn from(f: FailOn) -> Severity {
        match f {
            FailOn::Error => Severity::Error,
            FailOn::Warning => Severity::Warning,
            FailOn::Info => Severity::Info,
            FailOn::Hint => Severity::Hint,
        }
    }
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Files or directories to check (default: the current directory). Directories are walked
    /// for `*.py` files, honouring `.gitignore`, `.ignore` and the configuration's `exclude`; files
    /// given by name are always checked, whatever their extension.
    pub paths: Vec<PathBuf>,
    /// How to print the findings.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output_format: OutputFormat,
    /// Apply the safe fixes in place (with `--unsafe-fixes`, every fix).
    #[arg(long)]
    pub fix: bool,
    /// With `--fix` or `--diff`, apply the unsafe fixes too (they change behaviour).
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// Print the fixes as a unified diff instead of writing them; exit 1 when there is one.
    #[arg(long)]
    pub diff: bool,
    /// Rules to run, codes or names, comma-separated (`ALL` for every rule); replaces the
    /// configuration's `select` and `ignore`.
    #[arg(long, value_name = "RULES")]
    pub select: Option<String>,
    /// Rules not to run, codes or names, comma-separated; replaces the configuration's `ignore`.
    #[arg(long, value_name = "RULES")]
    pub ignore: Option<String>,
    /// Exit with 1 when a finding is at least this severe [default: the configuration's
    /// `fail-on`, else warning].
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
    /// Analyse every file, even those the pre-filter finds cannot have a finding.
    #[arg(long)]
    pub no_prefilter: bool,
    /// Print counts per rule and file counts (checked, skipped by the pre-filter) instead of the
    /// findings.
    #[arg(long)]
    pub statistics: bool,
    /// No progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// List the fix each finding offers under its code frame; with `--fix` or `--diff`, also
    /// the findings fixed, per file and rule.
    #[arg(long)]
    pub show_fixes: bool,
    #[command(flatten)]
    pub adopt: super::baseline::AdoptArgs,
}

/// Counts of a run.
#[derive(Debug, Default, Clone)]
pub struct RunStats {
    /// Files analysed.
    pub checked: usize,
    /// Files the pre-filter found no trigger in (not parsed).
    pub skipped: usize,
    /// Per-file errors (unreadable, not UTF-8, a rule failed).
    pub errors: usize,
    /// Fixes applied (or, with `--diff`, that would be).
    pub fixes: usize,
}

/// What happened to one file.
enum Outcome {
    Skipped,
    Checked {
        report: FileReport,
        fixes: usize,
        diff: Option<String>,
        errors: Vec<String>,
    },
    Error(String),
}

/// A path for humans and SARIF: relative to the working directory when under it, `/`-separated.
pub fn display_path(path: &Path, cwd: &Path) -> String {
    let abs = config::absolute(path);
    let shown = abs.strip_prefix(cwd).map(Path::to_path_buf).unwrap_or(abs);
    let s = shown.to_string_lossy().replace('\\', "/");
    if s.is_empty() {
        ".".into()
    } else {
        s
    }
}

pub fn run(args: CheckArgs) -> i32 {
    let format = args.output_format;
    let mut overrides = Overrides {
        fail_on: args.fail_on.map(Severity::from),
        ..Overrides::default()
    };
    for (flag, value, slot) in [
        ("--select", &args.select, &mut overrides.select),
        ("--ignore", &args.ignore, &mut overrides.ignore),
    ] {
        if let Some(list) = value {
            match config::parse_rule_list(list) {
                Ok(codes) => *slot = Some(codes),
                Err(e) => {
                    eprintln!("keylint: {flag}: {e}");
                    return 2;
                }
            }
        }
    }
    let cwd = config::absolute(Path::new("."));
    let roots = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let cache = Arc::new(ConfigCache::new(overrides));

    // 1. The files.
    let (files, mut walk_errors) = collect_files(&roots, &cache);

    // 2. Their configurations: any error stops the run before analysis.
    let mut config_errors: Vec<String> = Vec::new();
    let mut configs: Vec<Arc<Config>> = Vec::with_capacity(files.len());
    for root in &roots {
        if let Err(e) = cache.get(root) {
            push_unique(&mut config_errors, e.to_string());
        }
    }
    for path in &files {
        match cache.get_known(path, false) {
            Ok(c) => configs.push(c),
            Err(e) => push_unique(&mut config_errors, e.to_string()),
        }
    }
    if !config_errors.is_empty() {
        for e in &config_errors {
            eprintln!("keylint: configuration error: {e}");
        }
        return 2;
    }
    let fail_on = cache
        .get(&roots[0])
        .ok()
        .and_then(|c| c.fail_on)
        .unwrap_or(Severity::Warning);

    // 3. One pre-filter per distinct `extra-secret-names`.
    let mut prefilters: Vec<(Vec<String>, Arc<Prefilter>)> = Vec::new();
    if !args.no_prefilter {
        for c in &configs {
            if !prefilters.iter().any(|(k, _)| *k == c.extra_secret_names) {
                prefilters.push((
                    c.extra_secret_names.clone(),
                    Arc::new(Prefilter::new(&c.extra_secret_names)),
                ));
            }
        }
    }
    let prefilter_for = |c: &Config| {
        prefilters
            .iter()
            .find(|(k, _)| *k == c.extra_secret_names)
            .map(|(_, p)| p.clone())
    };

    // 4. Analyse, in parallel.
    let progress = progress_bar(format, files.len(), args.no_progress);
    let mode = FixMode {
        fix: args.fix || args.diff,
        write: args.fix && !args.diff,
        include_unsafe: args.unsafe_fixes,
    };
    let outcomes: Vec<Outcome> = files
        .par_iter()
        .zip(configs.par_iter())
        .map(|(path, config)| {
            let pf = prefilter_for(config);
            let out = process(path, config, pf.as_deref(), &mode, &cwd);
            progress.inc(1);
            out
        })
        .collect();
    progress.finish_and_clear();

    let mut stats = RunStats::default();
    let mut reports = Vec::new();
    let mut diffs = Vec::new();
    let mut errors: Vec<String> = std::mem::take(&mut walk_errors);
    for outcome in outcomes {
        match outcome {
            Outcome::Skipped => stats.skipped += 1,
            Outcome::Checked {
                report,
                fixes,
                diff,
                errors: errs,
            } => {
                stats.checked += 1;
                stats.fixes += fixes;
                diffs.extend(diff);
                errors.extend(errs);
                reports.push(report);
            }
            Outcome::Error(e) => errors.push(e),
        }
    }
    stats.errors = errors.len();
    for e in &errors {
        eprintln!("keylint: {e}");
    }
    reports.sort_by(|a, b| a.path.cmp(&b.path));
    if !args.show_fixes {
        reports
            .iter_mut()
            .flat_map(|r| &mut r.findings)
            .for_each(|f| f.fixes.clear());
    }
    if let Some(code) = super::baseline::apply(&args.adopt, &mut reports, &cwd, stats.errors) {
        return code;
    }

    let mut stdout = std::io::stdout().lock();
    let written = if args.diff {
        diffs
            .iter()
            .try_for_each(|d| stdout.write_all(d.as_bytes()))
            .and_then(|_| {
                let noun = if stats.fixes == 1 { "fix" } else { "fixes" };
                let how = if args.unsafe_fixes {
                    "--fix --unsafe-fixes"
                } else {
                    "--fix"
                };
                writeln!(
                    std::io::stderr(),
                    "{} {noun} would be applied by `{how}`.",
                    stats.fixes
                )
            })
    } else if args.statistics && format == OutputFormat::Text {
        output::write_statistics(&mut stdout, &reports, &stats)
    } else {
        let r = match format {
            OutputFormat::Text => {
                let color = std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
                output::write_text(&mut stdout, &reports, &stats, color)
            }
            OutputFormat::Json => output::write_json(&mut stdout, &reports),
            OutputFormat::Sarif => output::write_sarif(&mut stdout, &reports, stats.errors == 0),
            OutputFormat::Github => output::write_github(&mut stdout, &reports),
        };
        if args.statistics && r.is_ok() {
            output::write_statistics(&mut std::io::stderr(), &reports, &stats)
        } else {
            r
        }
    };
    let written = written.and_then(|()| {
        if args.show_fixes && (args.fix || args.diff) {
            super::show_fixes::write_fixed(&mut std::io::stderr(), &reports, args.diff)
        } else {
            Ok(())
        }
    });
    if let Err(err) = written {
        if err.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("keylint: cannot write the report: {err}");
            return 2;
        }
    }
    if stats.errors > 0 {
        2
    } else if args.diff {
        i32::from(!diffs.is_empty())
    } else if reports
        .iter()
        .flat_map(|r| &r.findings)
        .any(|f| f.severity <= fail_on)
    {
        1
    } else {
        0
    }
}

fn push_unique(v: &mut Vec<String>, s: String) {
    if !v.contains(&s) {
        v.push(s);
    }
}

fn progress_bar(format: OutputFormat, len: usize, off: bool) -> indicatif::ProgressBar {
    if off || format != OutputFormat::Text || len < 200 || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(len as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{spinner} checking {pos}/{len} files {wide_bar}")
    {
        bar.set_style(style);
    }
    bar
}

/// The files to check under `roots`, sorted and without duplicates; walk errors as messages.
fn collect_files(roots: &[PathBuf], cache: &Arc<ConfigCache>) -> (Vec<PathBuf>, Vec<String>) {
    let found: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
    let errors: Mutex<Vec<String>> = Mutex::new(Vec::new());
    for root in roots {
        if root.is_file() {
            found.lock().unwrap().push(root.clone());
            continue;
        }
        if !root.exists() {
            errors
                .lock()
                .unwrap()
                .push(format!("{}: no such file or directory", root.display()));
            continue;
        }
        let filter_cache = cache.clone();
        let walker = ignore::WalkBuilder::new(root)
            .require_git(false)
            .filter_entry(move |entry| {
                if entry.depth() == 0 {
                    return true;
                }
                let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
                match filter_cache.get_known(entry.path(), is_dir) {
                    Ok(c) => !c.is_excluded(entry.path()),
                    // Reported when the files are resolved.
                    Err(_) => true,
                }
            })
            .build_parallel();
        walker.run(|| {
            let found = &found;
            let errors = &errors;
            Box::new(move |entry| {
                match entry {
                    Ok(e) => {
                        if e.file_type().is_some_and(|t| t.is_file())
                            && e.path().extension().is_some_and(|x| x == "py")
                        {
                            found.lock().unwrap().push(e.into_path());
                        }
                    }
                    Err(err) => errors.lock().unwrap().push(err.to_string()),
                }
                ignore::WalkState::Continue
            })
        });
    }
    // The same file reached twice (`check . app.py`) is checked once.
    let mut files: Vec<(PathBuf, PathBuf)> = found
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .map(|p| (config::absolute(&p), p))
        .collect();
    files.sort();
    files.dedup_by(|a, b| a.0 == b.0);
    let files = files.into_iter().map(|(_, p)| p).collect();
    let mut errors = errors.into_inner().unwrap_or_default();
    errors.sort();
    (files, errors)
}

struct FixMode {
    /// Compute fixes (`--fix` or `--diff`).
    fix: bool,
    /// Write them (`--fix` without `--diff`).
    write: bool,
    include_unsafe: bool,
}

/// Analyses one file's text with the configuration's options and post-processing.
fn analyse(text: &str, config: &Config, path: &Path) -> (Parsed, Analysis) {
    config::analyze_text(text, config, Some(path))
}

fn process(
    path: &Path,
    config: &Config,
    prefilter: Option<&Prefilter>,
    mode: &FixMode,
    cwd: &Path,
) -> Outcome {
    let shown = display_path(path, cwd);
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => return Outcome::Error(format!("{shown}: cannot read: {e}")),
    };
    let original = match std::str::from_utf8(&bytes) {
        Ok(t) => t,
        Err(e) => {
            return Outcome::Error(format!(
                "{shown}: not valid UTF-8 (byte {}), skipped",
                e.valid_up_to()
            ))
        }
    };
    if prefilter.is_some_and(|p| !p.keep(&bytes)) {
        return Outcome::Skipped;
    }
    let (mut doc, mut analysis) = analyse(original, config, path);
    if doc.too_deep {
        return Outcome::Error(format!(
            "{shown}: not analysed: its indentation may nest {} levels deep or more, past what \
             the Python parser holds (Python itself stops at 100)",
            crate::document::indent::MAX_DEPTH
        ));
    }
    let mut errors: Vec<String> = analysis
        .panics
        .iter()
        .map(|p| format!("{shown}: internal error: {p}; its findings there are missing"))
        .chain(analysis.not_analysed.iter().map(|n| {
            format!(
                "{shown}:{}: statement not analysed: {}",
                doc.rope.byte_to_line(n.start) + 1,
                crate::analysis::too_deep_reason(n.depth)
            )
        }))
        .collect();
    let mut fixes = 0;
    let mut diff = None;
    let mut fixed_rules = Vec::new();
    if mode.fix {
        if let Some(fixed) = config::fix_all(
            original,
            doc.source(),
            &analysis,
            config,
            Some(path),
            mode.include_unsafe,
        ) {
            fixes = fixed.fixes;
            fixed_rules = super::show_fixes::fixed(&analysis, &fixed.analysis);
            if !mode.write {
                diff = Some(
                    similar::TextDiff::from_lines(original, &fixed.text)
                        .unified_diff()
                        .header(&format!("a/{shown}"), &format!("b/{shown}"))
                        .to_string(),
                );
            } else {
                match write_fixed(path, &bytes, &fixed.text) {
                    Ok(()) => {
                        doc = fixed.parsed;
                        analysis = fixed.analysis;
                    }
                    Err(e) => {
                        errors.push(format!("{shown}: not fixed: {e}"));
                        fixes = 0;
                        fixed_rules.clear();
                    }
                }
            }
        }
    }
    let mut report = report(shown, &doc, &analysis);
    report.fixed = fixed_rules;
    Outcome::Checked {
        report,
        fixes,
        diff,
        errors,
    }
}

/// The resolved findings of one file, with their fingerprints.
fn report(path: String, doc: &Parsed, analysis: &Analysis) -> FileReport {
    let src = doc.source();
    let mut seen: Vec<(String, usize)> = Vec::new();
    let findings = analysis
        .findings
        .iter()
        .map(|f| {
            let (line, column) = output::line_col(src, f.range.start);
            let (end_line, end_column) = output::line_col(src, f.range.end);
            let text = src.rope().line(line - 1).to_string();
            let source_line = text.trim_end_matches(['\n', '\r']).to_string();
            // Fingerprint: rule, normalised text of the line, ordinal among identical ones.
            let normal: String = source_line.split_whitespace().collect::<Vec<_>>().join(" ");
            let key = format!("{}\0{}", f.rule.code, normal);
            let ordinal = match seen.iter_mut().find(|(k, _)| *k == key) {
                Some((_, n)) => {
                    *n += 1;
                    *n
                }
                None => {
                    seen.push((key.clone(), 0));
                    0
                }
            };
            let digest = Sha256::digest(format!("{key}\0{ordinal}").as_bytes());
            let fingerprint: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
            Report {
                meta: f.rule,
                severity: f.severity,
                line,
                column,
                end_line,
                end_column,
                message: f.message.clone(),
                fixable: !f.fixes.is_empty(),
                safe_fix: f
                    .fixes
                    .iter()
                    .any(|x| x.applicability == Applicability::Safe && x.workspace_ops.is_empty()),
                source_line,
                fingerprint,
                related: super::sarif::related(src, &f.related),
                fixes: super::show_fixes::notes(f),
            }
        })
        .collect();
    FileReport {
        path,
        findings,
        fixed: Vec::new(),
    }
}

static TEMP_COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Writes `text` over `path` atomically (a temporary file in the same directory, then a rename),
/// keeping the file's permissions — unless the file no longer holds `original` (changed on disk
/// since it was read), which is an error.
pub fn write_fixed(path: &Path, original: &[u8], text: &str) -> std::io::Result<()> {
    let now = std::fs::read(path)?;
    if now != original {
        return Err(std::io::Error::other(
            "the file changed on disk since it was read",
        ));
    }
    let perms = std::fs::metadata(path)?.permissions();
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        ".{name}.keylint-{}-{}.tmp",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        drop(f);
        std::fs::set_permissions(&tmp, perms)?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_fixed_refuses_a_file_changed_on_disk() {
        let dir = std::env::temp_dir().join(format!("keylint-wf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.py");
        std::fs::write(&path, "old\n").unwrap();
        let err = write_fixed(&path, b"older\n", "new\n").unwrap_err();
        assert!(err.to_string().contains("changed on disk"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old\n");
        write_fixed(&path, b"old\n", "new\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
        let leftovers = std::fs::read_dir(&dir).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn write_fixed_keeps_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("keylint-wp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("b.py");
        std::fs::write(&path, "old\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o750)).unwrap();
        write_fixed(&path, b"old\n", "new\n").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o750);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
