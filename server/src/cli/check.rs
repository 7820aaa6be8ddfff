//! `keylint check PATH…`: find the files, analyse them in parallel, fix them if asked, report.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use clap::{Args, ValueEnum};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::encoding;
use super::output::{self, FileReport, Report};
use super::prefilter::{Prefilter, Rules};
use crate::config::{self, Config, ConfigCache, Overrides};
use crate::engine::pipeline::Parsed;
use crate::engine::Analysis;
use crate::finding::Applicability;
use crate::finding::{Finding, Severity};

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
    /// given by name are always checked, whatever their extension. `-` reads one file's text from
    /// stdin and checks it alone (no other path with it).
    pub paths: Vec<PathBuf>,
    /// With `-`: the path the text read from stdin stands for (its configuration, the name in the
    /// report); `-` without it.
    #[arg(long, value_name = "PATH")]
    pub stdin_filename: Option<PathBuf>,
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
    /// Files over `max-file-size` (not read further).
    pub too_large: usize,
    /// Per-file errors (unreadable, not UTF-8, a rule failed).
    pub errors: usize,
    /// Fixes applied (or, with `--diff`, that would be).
    pub fixes: usize,
}

/// What happened to one file.
enum Outcome {
    Skipped,
    /// Over `max-file-size`: not checked, said on stderr, not an error (exit code unchanged).
    TooLarge(String),
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

/// A file's place in the last pass: its outcome of the first pass and its kept tree and
/// analyzer, taken once by the thread that checks it.
type LastSlot<T> = std::sync::Mutex<Option<(Option<T>, Option<super::project::Kept>)>>;

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
    let stdin = args.paths.iter().any(|p| p.as_os_str() == "-");
    if stdin && args.paths.len() > 1 {
        eprintln!("keylint: `-` (stdin) is checked alone: give no other path with it");
        return 2;
    }
    if stdin && args.fix && !args.diff {
        eprintln!("keylint: --fix cannot write the text read from stdin back; use --diff");
        return 2;
    }
    if !stdin && args.stdin_filename.is_some() {
        eprintln!("keylint: --stdin-filename names the text read from stdin: give `-` as the path");
        return 2;
    }
    let roots = if stdin {
        vec![args
            .stdin_filename
            .clone()
            .unwrap_or_else(|| PathBuf::from("."))]
    } else if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let cache = Arc::new(ConfigCache::new(overrides));

    // 1. The files (none with stdin: its text is checked below, alone).
    let (files, mut walk_errors) = if stdin {
        (Vec::new(), Vec::new())
    } else {
        collect_files(&roots, &cache)
    };

    // 2. Their configurations: any error stops the run before analysis.
    let mut config_errors: Vec<String> = Vec::new();
    let mut configs: Vec<Arc<Config>> = Vec::with_capacity(files.len());
    for root in &roots {
        if let Err(e) = cache.get(root) {
            push_unique(&mut config_errors, e.to_string());
        }
    }
    // Looked up in parallel (one lookup a directory reads its configuration files; the rest
    // are a hash lookup of the absolute path), kept in the files' order.
    let found: Vec<Result<Arc<Config>, _>> = files
        .par_iter()
        .map(|path| cache.get_known(path, false))
        .collect();
    for c in found {
        match c {
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
    // The project model: the files the pre-filter keeps summarised (in parallel), then the
    // modules their calls lead to, the imports between them resolved and the data flow resolved
    // across the modules linked by calls. A file linked to another gets its view of that
    // resolution, and is analysed even where the pre-filter would skip it (a helper module with a
    // sink and no source words: its finding depends on a route elsewhere). The pre-filter's
    // answer of that first pass is reused.
    // Without fixes, a kept file linked to no other module is finished in the first pass (its
    // report kept, its tree and analysis dropped); with them, every file is fixed once, below.
    let cwd_ref = &cwd;
    let finish_alone = |i: usize, doc: &Parsed, analysis: Analysis| {
        let shown = display_path(&files[i], cwd_ref);
        conclude(
            &shown,
            &files[i],
            &configs[i],
            &mode,
            cwd_ref,
            None,
            (doc, analysis),
        )
    };
    let finish: Option<super::project::Finish<Outcome>> = (!mode.fix).then_some(&finish_alone);
    let super::project::Views {
        views,
        keep,
        done,
        kept,
        stats,
    } = super::project::views(&files, &configs, &prefilter_for, finish);
    if std::env::var_os("KEYLINT_PROJECT_STATS").is_some() {
        eprintln!(
            "keylint: project: {} files, {} kept (analysed alone), {} summarised only, {} linked, \
             {} analysed twice ({} of them from the first pass's tree, {} trees kept); first pass \
             {:?}, summaries {:?}, resolution {:?}",
            files.len(),
            stats.kept,
            stats.summarised_only,
            stats.linked,
            stats.analysed_twice,
            stats.states.1,
            stats.states.0,
            stats.times[0],
            stats.times[1],
            stats.times[2],
        );
        let reasons: Vec<String> = stats
            .reasons
            .iter()
            .map(|(r, n)| format!("{n} {r}"))
            .collect();
        eprintln!("keylint: project: kept because: {}", reasons.join(", "));
        let rounds: Vec<String> = stats
            .rounds
            .iter()
            .map(|(n, resolving, summarising)| {
                format!(
                    "{n} ({:.1} + {:.1} ms)",
                    resolving.as_secs_f64() * 1e3,
                    summarising.as_secs_f64() * 1e3
                )
            })
            .collect();
        eprintln!(
            "keylint: project: summary rounds (modules, resolving + summarising): {}",
            rounds.join(", ")
        );
        let c = stats.carriers;
        eprintln!(
            "keylint: project: carrying modules: {} searches, {} skipped files searched ({} read \
             again), {} parsed, {} taken",
            c.searches, c.searched, c.read, c.parsed, c.taken
        );
        if std::env::var_os("KEYLINT_PROJECT_STATS").is_some_and(|v| v == "files") {
            for (f, why, time) in &stats.files {
                let linked = match (views.contains_key(f), kept[*f].is_some()) {
                    (true, true) => " (linked, its first tree kept)",
                    (true, false) => " (linked)",
                    _ => "",
                };
                eprintln!(
                    "keylint: project: {:>8.2} ms  {why}{linked}  {}",
                    time.as_secs_f64() * 1e3,
                    display_path(&files[*f], &cwd)
                );
            }
        }
    }
    let t0 = std::time::Instant::now();
    // The last pass: the files analysed now (with a view, or not finished in the first pass)
    // largest first from one queue, then the others (their outcome known, or a skipped file's
    // cheap reading), so that a large file taken last does not end the pass on one core while
    // the other waits.
    let analysed_now: Vec<bool> = (0..files.len())
        .map(|i| views.contains_key(&i) || (keep[i] == Some(true) && done[i].is_none()))
        .collect();
    let slots: Vec<LastSlot<Outcome>> = done
        .into_iter()
        .zip(kept)
        .map(|dk| std::sync::Mutex::new(Some(dk)))
        .collect();
    let mut heavy: Vec<(u64, usize)> = (0..files.len())
        .filter(|&i| analysed_now[i])
        .map(|i| (std::fs::metadata(&files[i]).map_or(0, |m| m.len()), i))
        .collect();
    heavy.sort_by_key(|&(size, i)| (std::cmp::Reverse(size), i));
    let order: Vec<usize> = heavy
        .iter()
        .map(|&(_, i)| i)
        .chain((0..files.len()).filter(|&i| !analysed_now[i]))
        .collect();
    let run = |i: usize| -> Outcome {
        let (path, config) = (&files[i], &configs[i]);
        let (done, kept) = slots[i]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
            .expect("each file is taken once");
        let view = views.get(&i).cloned();
        let out = match (keep[i], done) {
            (Some(false), _) if view.is_none() => Outcome::Skipped,
            (Some(true), Some(done)) if view.is_none() => done,
            (Some(true), _) if kept.is_some() && view.is_some() => {
                let (kept, view) = (kept.expect("matched"), view.expect("matched"));
                let (doc, analysis) = analyse_again(kept, config, path, view);
                let shown = display_path(path, &cwd);
                conclude(&shown, path, config, &mode, &cwd, None, (&doc, analysis))
            }
            (Some(_), _) => process(path, config, None, &mode, &cwd, view),
            (None, _) => {
                let pf = prefilter_for(config).filter(|_| view.is_none());
                process(path, config, pf.as_deref(), &mode, &cwd, view)
            }
        };
        progress.inc(1);
        out
    };
    let ran = super::project::in_order(&order, run);
    let mut by_file: Vec<Option<Outcome>> = (0..files.len()).map(|_| None).collect();
    for (i, o) in ran {
        by_file[i] = Some(o);
    }
    let mut outcomes: Vec<Outcome> = by_file
        .into_iter()
        .map(|o| o.expect("every file's outcome"))
        .collect();
    progress.finish_and_clear();
    if std::env::var_os("KEYLINT_PROJECT_STATS").is_some() {
        eprintln!("keylint: project: last pass {:?}", t0.elapsed());
    }
    if stdin {
        match cache.get(&roots[0]) {
            Ok(config) => outcomes.push(check_stdin(
                args.stdin_filename.as_deref(),
                &config,
                &mode,
                &cwd,
            )),
            Err(e) => {
                eprintln!("keylint: configuration error: {e}");
                return 2;
            }
        }
    }

    let mut stats = RunStats::default();
    let mut reports = Vec::new();
    let mut diffs = Vec::new();
    let mut errors: Vec<String> = std::mem::take(&mut walk_errors);
    for outcome in outcomes {
        match outcome {
            Outcome::Skipped => stats.skipped += 1,
            Outcome::TooLarge(note) => {
                stats.too_large += 1;
                eprintln!("keylint: {note}");
            }
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

    // Buffered: the standard output flushes at every line (5,232 `write` calls for django's
    // JSON report); flushed before anything is written to the standard error, so that the two
    // keep their order on a terminal.
    let mut stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let written = if args.diff {
        diffs
            .iter()
            .try_for_each(|d| stdout.write_all(d.as_bytes()))
            .and_then(|()| stdout.flush())
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
        output::write_statistics(&mut stdout, &reports, &stats).and_then(|()| stdout.flush())
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
        let r = r.and_then(|()| stdout.flush());
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

/// `keylint check -`: the text read from stdin, checked alone (no project around it: what it
/// imports is not followed) under the name `--stdin-filename` gives (`-` without one), with that
/// path's configuration. Never skipped by the pre-filter; `--diff` shows its fixes.
fn check_stdin(name: Option<&Path>, config: &Config, mode: &FixMode, cwd: &Path) -> Outcome {
    use std::io::Read;
    let path = name.unwrap_or(Path::new("-"));
    let shown = name.map_or_else(|| "-".to_string(), |p| display_path(p, cwd));
    let mut bytes = Vec::new();
    if let Err(e) = std::io::stdin().lock().read_to_end(&mut bytes) {
        return Outcome::Error(format!("{shown}: cannot read stdin: {e}"));
    }
    check_bytes(&shown, path, &bytes, config, None, mode, cwd, None)
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
                // A file other than Python source is never checked: no configuration to look up
                // (django: ~3,700 of its 6,500 entries).
                if !is_dir && entry.path().extension().is_none_or(|x| x != "py") {
                    return true;
                }
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

/// Analyses one file's text with the configuration's options and post-processing, with the
/// project's data-flow facts (`view`) when the file is linked to other modules.
/// Without a view, `rules` (when given: the pre-filter's [`super::prefilter::Answer::rules`])
/// leaves out the rules that cannot report in the file.
fn analyse(
    text: &str,
    config: &Config,
    path: &Path,
    view: Option<Arc<crate::dataflow::Dataflow>>,
    rules: Option<Rules>,
) -> (Parsed, Analysis) {
    let Some(view) = view else {
        let Some(rules) = rules.filter(|r| !r.all()) else {
            return crate::engine::pipeline::analyze_text(text, config, Some(path));
        };
        let doc = Parsed::new(text.to_string());
        let may_report = |code: &str| rules.may_report(code);
        let analysis = crate::engine::pipeline::analyze_rules(
            &mut crate::engine::Analyzer::new(),
            doc.view(),
            doc.source(),
            config,
            Some(path),
            Some(&may_report),
        );
        return (doc, analysis);
    };
    let doc = Parsed::new(text.to_string());
    analyse_with_view(doc, crate::engine::Analyzer::new(), config, path, view)
}

/// The analysis of `doc` by `analyzer` with the project's `view` (every rule).
fn analyse_with_view(
    doc: Parsed,
    mut analyzer: crate::engine::Analyzer,
    config: &Config,
    path: &Path,
    view: Arc<crate::dataflow::Dataflow>,
) -> (Parsed, Analysis) {
    analyzer.set_resolver(Some(Arc::new(crate::project::flow::FixedView(view))));
    let analysis = crate::engine::pipeline::analyze(
        &mut analyzer,
        doc.view(),
        doc.source(),
        config,
        Some(path),
    );
    (doc, analysis)
}

/// [`analyse`] with a view, of a kept file the first pass analysed alone: its tree and analyzer
/// are taken again (no parse; the items' facts, local flows and model kept), only the
/// resolution and the rules (every rule now) run again.
fn analyse_again(
    (doc, mut analyzer): super::project::Kept,
    config: &Config,
    path: &Path,
    view: Arc<crate::dataflow::Dataflow>,
) -> (Parsed, Analysis) {
    analyzer.forget_findings_for(&config.options_for(path), doc.source());
    analyzer.skip_unread_flows(false);
    analyse_with_view(doc, analyzer, config, path, view)
}

fn process(
    path: &Path,
    config: &Config,
    prefilter: Option<&Prefilter>,
    mode: &FixMode,
    cwd: &Path,
    view: Option<Arc<crate::dataflow::Dataflow>>,
) -> Outcome {
    let shown = display_path(path, cwd);
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => return Outcome::Error(format!("{shown}: cannot read: {e}")),
    };
    check_bytes(&shown, path, &bytes, config, prefilter, mode, cwd, view)
}

/// A file's check from the bytes read (from disk, or stdin): size limit, decoding, pre-filter,
/// analysis, fixes, report.
#[allow(clippy::too_many_arguments)]
fn check_bytes(
    shown: &str,
    path: &Path,
    bytes: &[u8],
    config: &Config,
    prefilter: Option<&Prefilter>,
    mode: &FixMode,
    cwd: &Path,
    view: Option<Arc<crate::dataflow::Dataflow>>,
) -> Outcome {
    if let Some(limit) = config.max_file_size().filter(|&l| bytes.len() as u64 > l) {
        return Outcome::TooLarge(format!(
            "{shown}: skipped: {} bytes, over `max-file-size` ({limit} bytes; 0 for no limit)",
            bytes.len()
        ));
    }
    let decoded = match encoding::decode(bytes) {
        Ok(d) => d,
        Err(e) => return Outcome::Error(format!("{shown}: {e}")),
    };
    let original = decoded.text.as_str();
    // One scan: whether the file is kept, and the rules that may report in it.
    let answer = prefilter.map(|p| p.answer(original.as_bytes()));
    if answer.as_ref().is_some_and(|a| a.reason().is_none()) {
        return Outcome::Skipped;
    }
    let rules = answer.map(|a| a.rules());
    let (doc, analysis) = analyse(original, config, path, view, rules);
    conclude(
        shown,
        path,
        config,
        mode,
        cwd,
        Some((original, bytes, decoded.encoding)),
        (&doc, analysis),
    )
}

/// The end of a file's check, from its analysis: errors, fixes (`source`: the text as decoded,
/// the bytes read and their encoding; needed when `mode` fixes) and the report.
fn conclude(
    shown: &str,
    path: &Path,
    config: &Config,
    mode: &FixMode,
    cwd: &Path,
    source: Option<(&str, &[u8], encoding::Encoding)>,
    (doc, mut analysis): (&Parsed, Analysis),
) -> Outcome {
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
                crate::engine::too_deep_reason(n.depth)
            )
        }))
        .collect();
    let mut fixes = 0;
    let mut diff = None;
    let mut fixed_rules = Vec::new();
    let mut fixed_doc = None;
    if let (true, Some((original, bytes, encoding))) = (mode.fix, source) {
        if let Some(fixed) = crate::engine::pipeline::fix_all(
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
                diff = Some(masked_diff(
                    shown,
                    (original, &analysis.findings),
                    (&fixed.text, &fixed.analysis.findings),
                ));
            } else {
                let written = encoding::encode(&fixed.text, encoding)
                    .map_err(std::io::Error::other)
                    .and_then(|out| write_fixed(path, bytes, &out));
                match written {
                    Ok(()) => {
                        fixed_doc = Some(fixed.parsed);
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
    let doc = fixed_doc.as_ref().unwrap_or(doc);
    let mut report = report(
        shown.to_string(),
        doc,
        &analysis,
        mode.include_unsafe || config.unsafe_fixes,
        cwd,
    );
    report.fixed = fixed_rules;
    Outcome::Checked {
        report,
        fixes,
        diff,
        errors,
    }
}

/// A unified diff as `--diff` prints it: removed, added and context lines with every secret on
/// them masked like in a code frame — the spans of the findings that point at a credential and
/// whatever [`crate::engine::redact::source_line_secrets`] finds — so a CI log shows which lines change,
/// never a key (`--fix` writes the real text).
fn masked_diff(shown: &str, old: (&str, &[Finding]), new: (&str, &[Finding])) -> String {
    let diff = similar::TextDiff::from_lines(old.0, new.0);
    let mut out = format!("--- a/{shown}\n+++ b/{shown}\n");
    let (old_spans, new_spans) = (secret_spans(old), secret_spans(new));
    for hunk in diff.unified_diff().iter_hunks() {
        out.push_str(&format!("{}\n", hunk.header()));
        for change in hunk.iter_changes() {
            let sign = match change.tag() {
                similar::ChangeTag::Delete => '-',
                similar::ChangeTag::Equal => ' ',
                similar::ChangeTag::Insert => '+',
            };
            let line = change.value();
            // `line` is a slice of the old or the new text: its offset there places the
            // findings' spans on it.
            let within = |base: &str| {
                let (p, b) = (line.as_ptr() as usize, base.as_ptr() as usize);
                (b..=b + base.len()).contains(&p).then(|| p - b)
            };
            let (at, spans) = match (within(old.0), within(new.0)) {
                (Some(at), _) if sign != '+' => (at, &old_spans),
                (_, Some(at)) => (at, &new_spans),
                (Some(at), None) => (at, &old_spans),
                (None, None) => (0, &Vec::new()),
            };
            let mut ranges = crate::engine::redact::source_line_secrets(line);
            ranges.extend(spans.iter().filter_map(|r| {
                let (s, e) = (r.start.max(at), r.end.min(at + line.len()));
                (s < e).then(|| s - at..e - at)
            }));
            out.push(sign);
            out.push_str(&crate::engine::redact::apply_mask(line, &ranges));
            if !line.ends_with('\n') {
                out.push_str("\n\\ No newline at end of file\n");
            }
        }
    }
    out
}

/// The byte ranges to mask of the findings of `text` that point at a credential: each span but
/// its first four characters (quotes and white space aside), as in a code frame.
fn secret_spans((text, findings): (&str, &[Finding])) -> Vec<std::ops::Range<usize>> {
    findings
        .iter()
        .filter(|f| output::shows_secret(f.rule))
        .filter_map(|f| {
            let span = text.get(f.range.clone())?;
            let head = span
                .char_indices()
                .filter(|(_, c)| !matches!(c, '"' | '\'') && !c.is_whitespace())
                .nth(4)
                .map_or(span.len(), |(i, _)| i);
            Some(f.range.start + head..f.range.end)
        })
        .collect()
}

/// The resolved findings of one file, with their fingerprints.
/// `unsafe_applied`: `--fix` applies unsafe fixes too for this file (`--unsafe-fixes` or the
/// configuration's `unsafe-fixes = true`); `cwd` shows the paths of related places in other files.
fn report(
    path: String,
    doc: &Parsed,
    analysis: &Analysis,
    unsafe_applied: bool,
    cwd: &Path,
) -> FileReport {
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
            let mut report = Report {
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
                unsafe_applied: unsafe_applied
                    && f.fixes.iter().any(|x| x.workspace_ops.is_empty()),
                source_line,
                fingerprint: String::new(),
                related: super::sarif::related(src, &f.related, &|p| {
                    display_path(Path::new(p), cwd)
                }),
                fixes: super::show_fixes::notes(f),
            };
            // Fingerprint: rule, normalised text of the line with every secret masked (a hash of
            // a weak key could be reversed by guessing), ordinal among identical ones.
            let masked = output::masked_line(&report);
            let normal: String = masked.split_whitespace().collect::<Vec<_>>().join(" ");
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
            report.fingerprint = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
            report
        })
        .collect();
    FileReport {
        path,
        findings,
        fixed: Vec::new(),
    }
}

static TEMP_COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A moment inside [`write_fixed`] where another process may write the file (tests stop there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WritePhase {
    /// The fixed text is in its temporary file (written and synced), the file not yet checked.
    TempWritten,
    /// The file was checked; it is about to be moved aside.
    Checked,
    /// The file is moved aside (`path` does not exist); the fixed file is about to be linked.
    MovedAside,
    /// The fixed file is in place; the moved-aside one is about to be checked again.
    Linked,
}

/// Writes `new` over `path` atomically, keeping the file's permissions — unless the file is
/// read-only, or no longer holds `original` (changed on disk since it was read): then nothing is
/// written and the error says why.
///
/// Nothing another process writes meanwhile is lost: the fixed text goes to a temporary file in
/// the same directory first (written and synced); then the file is compared with `original`,
/// renamed aside (an atomic step: a write after it goes to the renamed file or creates a new
/// one), compared again, and the temporary file is *linked* as `path`, which fails if someone
/// created `path` in between. Last, the renamed-aside file is read once more: a write that landed
/// in it after the second comparison is put back over the fix (and the fix reported as not
/// written).
pub fn write_fixed(path: &Path, original: &[u8], new: &[u8]) -> std::io::Result<()> {
    write_fixed_with(path, original, new, &mut |_| {})
}

fn changed() -> std::io::Error {
    std::io::Error::other("the file changed on disk since it was read")
}

/// [`write_fixed`], calling `pause` at each [`WritePhase`] (tests write the file there).
pub fn write_fixed_with(
    path: &Path,
    original: &[u8],
    new: &[u8],
    pause: &mut dyn FnMut(WritePhase),
) -> std::io::Result<()> {
    let meta = std::fs::metadata(path)?;
    if meta.permissions().readonly() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "the file is read-only (make it writable to apply fixes)",
        ));
    }
    if std::fs::read(path)? != original {
        return Err(changed());
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let sibling = |what: &str| {
        dir.join(format!(
            ".{name}.keylint-{}-{}.{what}",
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ))
    };
    let tmp = sibling("tmp");
    let aside = sibling("old");
    let prepared = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(new)?;
        f.sync_all()?;
        drop(f);
        std::fs::set_permissions(&tmp, meta.permissions())
    })();
    if let Err(e) = prepared {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    pause(WritePhase::TempWritten);
    let result = swap(path, original, &tmp, &aside, pause);
    let _ = std::fs::remove_file(&tmp);
    result
}

/// The checked swap of [`write_fixed_with`]: `tmp` holds the fixed text.
fn swap(
    path: &Path,
    original: &[u8],
    tmp: &Path,
    aside: &Path,
    pause: &mut dyn FnMut(WritePhase),
) -> std::io::Result<()> {
    if std::fs::read(path)? != original {
        return Err(changed());
    }
    pause(WritePhase::Checked);
    std::fs::rename(path, aside)?;
    // Whatever was written before the rename is in `aside` now.
    if std::fs::read(aside)? != original {
        std::fs::rename(aside, path)?;
        return Err(changed());
    }
    pause(WritePhase::MovedAside);
    if let Err(e) = std::fs::hard_link(tmp, path) {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            // Someone created `path` meanwhile (an editor's save): theirs is newer than `aside`.
            let _ = std::fs::remove_file(aside);
            return Err(changed());
        }
        // No hard links on this file system: put the file back and replace it by a rename.
        std::fs::rename(aside, path)?;
        if std::fs::read(path)? != original {
            return Err(changed());
        }
        return std::fs::rename(tmp, path);
    }
    pause(WritePhase::Linked);
    // A writer that had the file open may have written into `aside` after the check.
    if std::fs::read(aside)? != original {
        std::fs::rename(aside, path)?;
        return Err(changed());
    }
    std::fs::remove_file(aside)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A kept file that gets a view is analysed again from the first pass's tree and analyzer
    /// ([`analyse_again`]: facts and local flows kept, every rule run now where the first pass
    /// ran the pre-filter's): the same findings as an analysis of its text from scratch with the
    /// same view, on every fixture project; and some file takes that path.
    #[test]
    fn a_linked_file_analysed_again_from_its_first_pass_finds_the_same() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/projects");
        let prefilter = Arc::new(Prefilter::new(&[]));
        let prefilter_for = |_: &Config| Some(prefilter.clone());
        let finish = |_: usize, _: &Parsed, _: Analysis| ();
        let short = |a: &Analysis| -> Vec<(&str, std::ops::Range<usize>, String)> {
            a.findings
                .iter()
                .map(|f| (f.rule.code, f.range.clone(), f.message.clone()))
                .collect()
        };
        let (mut again, mut beyond) = (0, 0);
        for dir in std::fs::read_dir(&root).expect("fixture projects") {
            let files = crate::test_files::python_files([dir.expect("entry").path()]);
            let configs: Vec<Arc<Config>> =
                files.iter().map(|_| Arc::new(Config::default())).collect();
            let v = super::super::project::views(&files, &configs, &prefilter_for, Some(&finish));
            for (f, kept) in v.kept.into_iter().enumerate() {
                let Some(kept) = kept else {
                    continue;
                };
                let view = v.views[&f].clone();
                let (_, reused) = analyse_again(kept, &configs[f], &files[f], view.clone());
                let text = std::fs::read_to_string(&files[f]).expect("fixture");
                let (_, fresh) = analyse(&text, &configs[f], &files[f], Some(view.clone()), None);
                assert!(
                    reused.findings == fresh.findings,
                    "{}: {:?} against {:?}",
                    files[f].display(),
                    short(&reused),
                    short(&fresh)
                );
                again += 1;
                // A first pass that ran one rule only (the pre-filter's selection is narrower
                // on most real files than on these fixtures): its findings are not kept.
                let doc = Parsed::new(text.clone());
                let mut analyzer = crate::engine::Analyzer::new();
                let only = |code: &str| code == "KL101";
                crate::engine::pipeline::analyze_rules(
                    &mut analyzer,
                    doc.view(),
                    doc.source(),
                    &configs[f],
                    Some(&files[f]),
                    Some(&only),
                );
                let (_, reused) = analyse_again((doc, analyzer), &configs[f], &files[f], view);
                assert!(
                    reused.findings == fresh.findings,
                    "{}: {:?} against {:?}",
                    files[f].display(),
                    short(&reused),
                    short(&fresh)
                );
                beyond += usize::from(fresh.findings.iter().any(|f| f.rule.code != "KL101"));
            }
        }
        assert!(
            again > 0,
            "no fixture file analysed again from its first pass"
        );
        assert!(
            beyond > 0,
            "no finding of a rule the narrow first pass left out"
        );
    }

    #[test]
    fn write_fixed_refuses_a_file_changed_on_disk() {
        let dir = std::env::temp_dir().join(format!("keylint-wf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.py");
        std::fs::write(&path, "old\n").unwrap();
        let err = write_fixed(&path, b"older\n", b"new\n").unwrap_err();
        assert!(err.to_string().contains("changed on disk"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old\n");
        write_fixed(&path, b"old\n", b"new\n").unwrap();
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
        write_fixed(&path, b"old\n", b"new\n").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o750);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn write_fixed_refuses_a_read_only_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ro.py");
        std::fs::write(&path, "old\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
        let err = write_fixed(&path, b"old\n", b"new\n").unwrap_err();
        assert!(err.to_string().contains("read-only"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    /// A write by another process at each moment of `write_fixed` is kept: in place (`open`,
    /// truncate, write: what most tools do), by replacing the file (an editor's atomic save), or
    /// through a descriptor opened before `write_fixed` started.
    #[test]
    fn write_fixed_never_loses_a_concurrent_write() {
        #[derive(Debug, Clone, Copy)]
        enum How {
            InPlace,
            Replace,
            OpenedBefore,
        }
        let phases = [
            WritePhase::TempWritten,
            WritePhase::Checked,
            WritePhase::MovedAside,
            WritePhase::Linked,
        ];
        for phase in phases {
            for how in [How::InPlace, How::Replace, How::OpenedBefore] {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("a.py");
                std::fs::write(&path, "old\n").unwrap();
                let mut early = Some(std::fs::OpenOptions::new().write(true).open(&path).unwrap());
                let theirs = b"theirs\n";
                let mut wrote = false;
                let result = write_fixed_with(&path, b"old\n", b"new\n", &mut |p| {
                    if p != phase {
                        return;
                    }
                    wrote = true;
                    match how {
                        How::InPlace => std::fs::write(&path, theirs).unwrap(),
                        How::Replace => {
                            let t = dir.path().join("editor.tmp");
                            std::fs::write(&t, theirs).unwrap();
                            std::fs::rename(&t, &path).unwrap();
                        }
                        How::OpenedBefore => {
                            let mut f = early.take().unwrap();
                            f.set_len(0).unwrap();
                            f.write_all(theirs).unwrap();
                        }
                    }
                });
                assert!(wrote);
                let now = std::fs::read(&path).unwrap();
                // At `Linked`, a write by path lands on the fixed file itself: later than the
                // fix, so it wins, and the fix counts as written.
                if matches!(
                    (phase, how),
                    (WritePhase::Linked, How::InPlace | How::Replace)
                ) {
                    assert!(result.is_ok(), "{phase:?} {how:?}: {result:?}");
                } else {
                    let err = result.expect_err(&format!("{phase:?} {how:?}"));
                    assert!(err.to_string().contains("changed on disk"), "{err}");
                }
                assert_eq!(now, theirs, "{phase:?} {how:?}: their write is kept");
                let left: Vec<_> = std::fs::read_dir(dir.path())
                    .unwrap()
                    .map(|e| e.unwrap().file_name())
                    .collect();
                assert_eq!(left.len(), 1, "{phase:?} {how:?}: left behind {left:?}");
            }
        }
    }
}
