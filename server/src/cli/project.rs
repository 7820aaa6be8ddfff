//! `keylint check`'s project model: before the rules run, the files that may have a finding (the
//! pre-filter keeps them) are summarised (in parallel), then the files their calls to functions of
//! other modules lead to, until no call leads to a module not yet summarised; the project's
//! imports are resolved and the data flow is resolved across the modules linked by calls
//! ([`crate::project`]). What the checking of a file gets is its *view* of that resolution.
//!
//! Memory: the first pass reads and pre-filters every file, then parses, analyses and summarises
//! each kept file (largest first, [`first_pass`]) and, unless the check fixes files, *finishes*
//! it there (the caller's `finish`: its
//! report), keeping only that outcome and the summary — no text, tree, analyzer or model waits
//! for the whole project to resolve, except for the few kept files likely to get a view
//! ([`may_link`]), whose tree and analyzer wait for the resolution. A file that turns out linked
//! to another module (it gets a view) is checked again with its view (from its kept tree and
//! analyzer when it has them: only the resolution and the rules run again); the others keep
//! their first outcome. With `--fix` or `--diff` nothing is finished early (a fix is written
//! once, with the file's view).
//!
//! A file that cannot be linked cheaply is never parsed for the model: one the pre-filter skips
//! and that no summarised module calls into, unless it names a *carrier* of a summarised module
//! (a name bound to key material, a function returning some) and carries it on to another
//! ([`carriers`]), or that has neither a `def` nor an `import` (no function to call, nothing
//! re-exported). A module that calls into a kept file without being
//! kept itself is not summarised either: its calls would only bring key material the pre-filter
//! found no trace of. Nor is a callee for a call that cannot change a finding (it passes nothing
//! that may carry key material and its result reaches no sink, see [`Calls`]); a module's calls
//! are looked at again when another module passes key material to it or a needed call reaches
//! one of its functions ([`release`]).

mod carriers;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::encoding;
use super::prefilter::{Prefilter, Rules};
use crate::config::Config;
use crate::dataflow::{Base, CallFact, Dataflow, FnFlow, Taint};
use crate::engine::pipeline::Parsed;
use crate::engine::{Analysis, Analyzer};
use crate::project::flow::Probe;
use crate::project::{ModuleSummary, Project};

/// Reads and decodes a file as `keylint check` does (`None`: not analysed: unreadable, over
/// `max-file-size`, not decodable; the check reports why).
fn read(path: &Path, config: &Config) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    if config
        .max_file_size()
        .is_some_and(|l| bytes.len() as u64 > l)
    {
        return None;
    }
    // The encoding is declared in the first two lines (PEP 263, `encoding::decode`'s reading):
    // decoded alone, they tell whether the file is UTF-8, whose text is then its bytes, checked
    // and moved into the string, not copied (17 MB on django). Any other answer: the whole file
    // decoded as before.
    let head = nth_line_end(&bytes, 2);
    match encoding::decode(&bytes[..head]) {
        Ok(d) if d.encoding == encoding::Encoding::Utf8 => String::from_utf8(bytes).ok(),
        _ => Some(encoding::decode(&bytes).ok()?.text),
    }
}

/// The end of the `n`th line of `bytes` (after its `\n` or `\r`; the end of `bytes` when it has
/// fewer lines), lines split as `encoding::decode` splits them to read a declaration.
fn nth_line_end(bytes: &[u8], n: usize) -> usize {
    let mut at = 0;
    for _ in 0..n {
        match memchr::memchr2(b'\n', b'\r', &bytes[at..]) {
            Some(k) => at += k + 1,
            None => return bytes.len(),
        }
    }
    at
}

/// The file has a `def`, a `class` or an `import`: without any it defines no function another
/// module could call, no class another module could load, and re-exports none.
fn linkable(text: &str) -> bool {
    memchr::memmem::find(text.as_bytes(), b"def ").is_some()
        || memchr::memmem::find(text.as_bytes(), b"import").is_some()
        || memchr::memmem::find(text.as_bytes(), b"class ").is_some()
}

/// The summary of one file's text (`None`: nested too deep to parse). Parsed as a kept file is
/// ([`Parsed`]: the analysis slices the text in one piece, not the rope of an editor's
/// [`crate::document::Document`], whose every slice descends it).
fn summarise(text: &str, path: &Path, config: &Config) -> Option<ModuleSummary> {
    let doc = Parsed::new(text.to_string());
    if doc.too_deep {
        return None;
    }
    let options = config.options_for(path);
    Some(crate::engine::summarise::summarise(
        doc.view(),
        doc.source(),
        &options,
    ))
}

/// What `keylint check` does with a kept file analysed alone (its tree and analysis), when the
/// check can finish it in the first pass: `(file index, parsed file, analysis) → outcome`.
pub type Finish<'a, T> = &'a (dyn Fn(usize, &Parsed, Analysis) -> T + Sync);

/// What the first pass made of a kept file that the last pass can take again if the file turns
/// out linked: its tree and its analyzer (items' facts, local flows, merged model), so that the
/// analysis with its view parses nothing and redoes only the resolution and the rules.
pub type Kept = (Parsed, Analyzer);

/// What the first pass keeps of one file.
struct First<T> {
    /// Whether the pre-filter keeps it (`None`: it could not be read).
    keep: Option<bool>,
    /// Why the pre-filter keeps it (its first shape found; `"no pre-filter"` without one).
    reason: Option<&'static str>,
    linkable: bool,
    /// Its local data flow was not computed: no summary (made when a call leads to it).
    flows_skipped: bool,
    /// Its summary (kept files only; `None` too when nested too deep to parse).
    summary: Option<ModuleSummary>,
    /// Its outcome when checked alone (kept files, when the check finishes them early).
    done: Option<T>,
    /// Its tree and analyzer, for an analysis with its view (kept files finished early).
    kept: Option<Kept>,
    alone: Alone,
    /// Time spent on it (kept files: parse, analysis, summary, finish).
    time: std::time::Duration,
    /// Its text, decoded, when the pre-filter skips it and it is linkable: the project pass
    /// summarises it from this text when a call leads to it, and the search for carriers reads
    /// it ([`carriers`]), without reading the file again (django: 1,936 files, 11 MB, read twice
    /// by that search).
    text: Option<String>,
}

/// What the analysis of a kept file alone says about what a view could change.
#[derive(Debug, Default, Clone, Copy)]
struct Alone {
    /// Key material enters in the module (a source in one of its flows).
    sources: bool,
    /// It has a KL206 finding, or a `keylint:` directive (a suppression a view could make
    /// unused).
    kl206_or_directive: bool,
    /// No rule that reads the data flow may report in it alone (the pre-filter's rules for the
    /// file: `"KL101 shape"`, `"token format"`, … only): its findings alone read nothing of a
    /// view but the names it imports ([`brings_in`]).
    flowless: bool,
}

/// The first pass's reading of one file: read, decoded and pre-filtered (cheap, every file, in
/// parallel). A kept file waits with its text for its analysis ([`analyse`]), which takes the
/// kept files largest first.
enum Read {
    /// It could not be read (the check reports why).
    Unreadable(std::time::Duration),
    /// The pre-filter skips it (its text kept when it is linkable, see [`First::text`]).
    Skipped {
        linkable: bool,
        time: std::time::Duration,
        text: Option<String>,
    },
    /// The pre-filter keeps it: its text, why, and what its analysis alone needs.
    Kept(Box<ToAnalyse>),
}

/// A kept file read, waiting for its analysis alone.
struct ToAnalyse {
    text: String,
    reason: Option<&'static str>,
    linkable: bool,
    /// The rules that may report in the file alone (`None`: every rule).
    rules: Option<Rules>,
    skip_flows: bool,
    /// Time spent reading and pre-filtering it.
    time: std::time::Duration,
}

/// Reads and pre-filters one file ([`Read`]).
fn read_filter(path: &Path, config: &Config, prefilter: Option<&Prefilter>) -> Read {
    let t0 = std::time::Instant::now();
    let Some(text) = read(path, config) else {
        return Read::Unreadable(t0.elapsed());
    };
    // One scan of the bytes answers the reason, the rules and the calls into the project.
    let answer = prefilter.map(|p| p.answer(text.as_bytes()));
    let reason = match &answer {
        Some(a) => a.reason(),
        None => Some("no pre-filter"),
    };
    let linkable = linkable(&text);
    if reason.is_none() {
        return Read::Skipped {
            linkable,
            time: t0.elapsed(),
            text: linkable.then_some(text),
        };
    }
    // The rules that may report in the file alone (by their words): the others are left out of
    // its analysis. A view (other modules' facts) is given only in a second analysis, which runs
    // every rule.
    let rules = answer.as_ref().map(|a| a.rules()).filter(|r| !r.all());
    // No local data flow when no rule of the file reads it and no other module needs it now:
    // the file calls nothing imported from the project (its flows carry nothing out), and a
    // module whose calls lead to it summarises it then (its summary is left out here).
    let skip_flows = rules.as_ref().is_some_and(|r| {
        !crate::engine::flows_needed(Some(&r.codes_that_may_report()))
            && !answer
                .as_ref()
                .is_some_and(|a| a.calls_project(text.as_bytes()))
    });
    Read::Kept(Box::new(ToAnalyse {
        text,
        reason,
        linkable,
        rules,
        skip_flows,
        time: t0.elapsed(),
    }))
}

/// The first pass over one kept file, once read ([`read_filter`]): parsed, analysed alone,
/// summarised and finished when `finish` is given (its tree, analyzer and model then dropped).
fn analyse<T>(
    f: usize,
    path: &Path,
    config: &Config,
    read: ToAnalyse,
    finish: Option<Finish<T>>,
) -> First<T> {
    let t0 = std::time::Instant::now();
    let ToAnalyse {
        text,
        reason,
        linkable,
        rules,
        skip_flows,
        time,
    } = read;
    let directive = memchr::memmem::find(text.as_bytes(), b"keylint:").is_some();
    let doc = Parsed::new(text);
    let too_deep = doc.too_deep;
    let mut analyzer = Analyzer::new();
    analyzer.skip_unread_flows(skip_flows);
    let may_report = |code: &str| rules.as_ref().is_none_or(|r| r.may_report(code));
    let analysis = crate::engine::pipeline::analyze_rules(
        &mut analyzer,
        doc.view(),
        doc.source(),
        config,
        Some(path),
        rules
            .is_some()
            .then_some(&may_report as &dyn Fn(&str) -> bool),
    );
    let summary = (!too_deep && !skip_flows)
        .then(|| ModuleSummary::new(analyzer.flows(), &analysis.model, doc.view(), doc.source()));
    let alone = Alone {
        sources: summary
            .as_ref()
            .is_some_and(|s| s.flows().any(|(f, _)| !f.sources.is_empty())),
        kl206_or_directive: directive || analysis.findings.iter().any(|f| f.rule.code == "KL206"),
        flowless: rules
            .as_ref()
            .is_some_and(|r| !crate::engine::flows_needed(Some(&r.codes_that_may_report()))),
    };
    let done = finish.map(|finish| finish(f, &doc, analysis));
    // Without an early finish the last pass analyses every kept file again from its text (a fix
    // is written once, from the bytes read then). Kept only for a file likely to get a view
    // ([`may_link`]): keeping every kept file's tree and analyzer until the project is resolved
    // would more than double the check's memory on django.
    let kept = (done.is_some() && summary.as_ref().is_some_and(|s| may_link(s, alone)))
        .then_some((doc, analyzer));
    First {
        keep: Some(true),
        reason,
        linkable,
        flows_skipped: skip_flows,
        summary,
        done,
        kept,
        alone,
        time: time + t0.elapsed(),
        text: None,
    }
}

/// The first pass: every file read and pre-filtered in parallel, then the kept files analysed
/// alone ([`analyse`]), largest first from one queue, so that the threads end together: taken
/// in their order, a few large files (django's test modules of 300–600 KB) end last on one core
/// while the other waits. The sizes come from the reading.
fn first_pass<T: Send>(
    files: &[PathBuf],
    configs: &[Arc<Config>],
    prefilter_for: &(dyn Fn(&Config) -> Option<Arc<Prefilter>> + Sync),
    finish: Option<Finish<T>>,
) -> Vec<First<T>> {
    let reads: Vec<Read> = files
        .par_iter()
        .zip(configs.par_iter())
        .map(|(p, c)| read_filter(p, c, prefilter_for(c).as_deref()))
        .collect();
    let mut firsts: Vec<Option<First<T>>> = Vec::with_capacity(files.len());
    // The kept files, largest first: (size, file, text…).
    let mut queue: Vec<(usize, std::sync::Mutex<Option<ToAnalyse>>)> = Vec::new();
    let mut sizes: Vec<usize> = Vec::new();
    for (f, r) in reads.into_iter().enumerate() {
        match r {
            Read::Unreadable(time) => firsts.push(Some(First::empty(None, false, time, None))),
            Read::Skipped {
                linkable,
                time,
                text,
            } => firsts.push(Some(First::empty(Some(false), linkable, time, text))),
            Read::Kept(k) => {
                sizes.push(k.text.len());
                queue.push((f, std::sync::Mutex::new(Some(*k))));
                firsts.push(None);
            }
        }
    }
    let mut order: Vec<usize> = (0..queue.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(sizes[i]));
    let done = in_order(&order, |q| {
        let (f, ref slot) = queue[q];
        let read = slot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
            .expect("each kept file is taken once");
        (f, analyse(f, &files[f], &configs[f], read, finish))
    });
    for (_, (f, first)) in done {
        firsts[f] = Some(first);
    }
    firsts
        .into_iter()
        .map(|f| f.expect("every file's first pass"))
        .collect()
}

/// `work` of every item of `order`, taken in that order from one queue by the pool's workers
/// (each takes the next item when it is done with its last: with the largest items first, the
/// pass does not end on one core while the other waits for a large item taken last), with the
/// item each result is of.
pub(crate) fn in_order<R: Send>(
    order: &[usize],
    work: impl Fn(usize) -> R + Sync,
) -> Vec<(usize, R)> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let threads = rayon::current_num_threads().clamp(1, order.len().max(1));
    let ran: Vec<Vec<(usize, R)>> = (0..threads)
        .into_par_iter()
        .map(|_| {
            let mut out = Vec::new();
            loop {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(&i) = order.get(k) else {
                    return out;
                };
                out.push((i, work(i)));
            }
        })
        .collect();
    ran.into_iter().flatten().collect()
}

impl<T> First<T> {
    /// A file not analysed in the first pass (unreadable, `keep: None`, or skipped).
    fn empty(
        keep: Option<bool>,
        linkable: bool,
        time: std::time::Duration,
        text: Option<String>,
    ) -> First<T> {
        First {
            keep,
            reason: None,
            linkable,
            flows_skipped: false,
            summary: None,
            done: None,
            kept: None,
            alone: Alone::default(),
            time,
            text,
        }
    }
}

/// Whether a kept module is likely to get a view: key material enters in it (a source in its
/// flows) and its own calls may lead to other modules (some are live, see [`Calls`]). A guess,
/// for the first pass to keep its tree and analyzer: on django 13 of the 17 files it picks get a
/// view, out of 24 kept files that do; keeping every kept file's (a guess of 92 files) took the
/// check's peak memory from 78 to 181 MB. A file that gets a view without it is parsed and
/// analysed again from its text.
fn may_link(s: &ModuleSummary, alone: Alone) -> bool {
    if !alone.sources {
        return false;
    }
    let wants = Wants {
        scans: s.flows().any(|(flow, _)| flow.is_route),
        raises: alone.kl206_or_directive,
    };
    !s.loaded_configs.is_empty()
        || !Calls::live(s, wants, alone.sources, true, s.function_names(), &|_| {
            false
        })
        .0
        .is_empty()
}

/// How much of the project the check modelled (`KEYLINT_PROJECT_STATS=1` prints it on stderr).
#[derive(Debug, Default, Clone)]
pub struct Stats {
    /// Files the pre-filter keeps: parsed, analysed alone and summarised in the first pass.
    pub kept: usize,
    /// Files the pre-filter skips, parsed and summarised only (the calls of kept files lead to
    /// them).
    pub summarised_only: usize,
    /// Files linked to another module: they get a view.
    pub linked: usize,
    /// Kept files analysed twice: alone in the first pass, then with their view.
    pub analysed_twice: usize,
    /// Kept files whose first pass's tree and analyzer were kept until the resolution (a guess of
    /// the linked ones), and those of them linked (their second analysis takes them again).
    pub states: (usize, usize),
    /// The rounds of summaries after the first pass: per round, the modules summarised, the time
    /// resolving the pending calls (one core) and the time summarising (in parallel).
    pub rounds: Vec<(usize, std::time::Duration, std::time::Duration)>,
    /// Time of the first pass, of the summaries of the modules the kept files call into, and of
    /// the resolution.
    pub times: [std::time::Duration; 3],
    /// The kept files by the pre-filter's reason (its first shape found: `"web app with config"`, `"KL101
    /// shape"`…), most first.
    pub reasons: Vec<(&'static str, usize)>,
    /// Per file modelled (by index into the files): why (the pre-filter's reason, or
    /// `"summarised only"`) and the time it took (`KEYLINT_PROJECT_STATS=files` prints them).
    pub files: Vec<(usize, &'static str, std::time::Duration)>,
    /// The search for skipped modules that carry key material between others
    /// ([`carriers`]).
    pub carriers: carriers::CarrierStats,
}

/// The project model of a check.
pub struct Views<T> {
    /// The data-flow view of every file (by index into the files) linked to another module of
    /// the project by a call; the other files resolve alone, as a single file does.
    pub views: FxHashMap<usize, Arc<Dataflow>>,
    /// Per file, whether the pre-filter keeps it, where the first pass read it (`None`: it could
    /// not, the check reports why).
    pub keep: Vec<Option<bool>>,
    /// The outcome of each kept file without a view, finished in the first pass (when `finish`
    /// was given).
    pub done: Vec<Option<T>>,
    /// The first pass's tree and analyzer of each kept file finished early that has a view (the
    /// others' are dropped once the project is resolved).
    pub kept: Vec<Option<Kept>>,
    pub stats: Stats,
}

/// The project model of `files` (each with its configuration and pre-filter). `finish`, when
/// given, finishes a kept file in the first pass (see the module's documentation).
pub fn views<T: Send>(
    files: &[PathBuf],
    configs: &[Arc<Config>],
    prefilter_for: &(dyn Fn(&Config) -> Option<Arc<Prefilter>> + Sync),
    finish: Option<Finish<T>>,
) -> Views<T> {
    if files.len() < 2 {
        return Views {
            views: FxHashMap::default(),
            keep: vec![None; files.len()],
            done: (0..files.len()).map(|_| None).collect(),
            kept: (0..files.len()).map(|_| None).collect(),
            stats: Stats::default(),
        };
    }
    let t0 = std::time::Instant::now();
    // The project's modules (named from their paths alone, one thread) are added while the
    // first pass runs: not after it, on one core while the other waits.
    let (firsts, (mut project, ids)) = rayon::join(
        || first_pass(files, configs, prefilter_for, finish),
        || {
            let mut project = Project::new();
            let ids = project.add(files);
            (project, ids)
        },
    );
    let mut stats = Stats::default();
    stats.times[0] = t0.elapsed();
    let t0 = std::time::Instant::now();
    let mut keep: Vec<Option<bool>> = Vec::with_capacity(files.len());
    let mut linkable: Vec<bool> = Vec::with_capacity(files.len());
    let mut done: Vec<Option<T>> = Vec::with_capacity(files.len());
    let mut kept: Vec<Option<Kept>> = Vec::with_capacity(files.len());
    let mut alone: Vec<Alone> = Vec::with_capacity(files.len());
    // The skipped linkable files' texts ([`First::text`]), until the project pass is done.
    let mut texts: Vec<Option<String>> = Vec::with_capacity(files.len());
    // Calls to functions of other modules that do not resolve (yet): (module, import path).
    let mut pending: Vec<(usize, String)> = Vec::new();
    // Configuration classes loaded from modules not yet summarised: (module, import path).
    let mut pending_classes: Vec<(usize, String)> = Vec::new();
    let mut tried = vec![false; files.len()];
    for (f, first) in firsts.into_iter().enumerate() {
        keep.push(first.keep);
        if let Some(reason) = first.reason {
            match stats.reasons.iter_mut().find(|(r, _)| *r == reason) {
                Some((_, n)) => *n += 1,
                None => stats.reasons.push((reason, 1)),
            }
        }
        if let Some(reason) = first.reason {
            stats.files.push((f, reason, first.time));
        }
        linkable.push(first.linkable);
        texts.push(first.text);
        done.push(first.done);
        stats.states.0 += usize::from(first.kept.is_some());
        kept.push(first.kept);
        alone.push(first.alone);
        if first.keep == Some(true) {
            stats.kept += 1;
            tried[f] = !first.flows_skipped;
            project.modules[ids[f]].summary = first.summary.map(Arc::new);
        }
    }
    // A callee's path to a DynamoDB scan matters only to a route (KL304) that reaches it: without
    // a route in any kept module, no call needs its callee for a scan.
    let routes = keep.iter().enumerate().any(|(f, k)| {
        *k == Some(true)
            && project.modules[ids[f]]
                .summary
                .as_ref()
                .is_some_and(|s| s.flows().any(|(flow, _)| flow.is_route))
    });
    // What the kept modules' calls need summarised ([`Calls`]): with parameters that carry no
    // key material from other modules and returns no other module reads, until a call of
    // another module passes key material to one of its functions or a needed call reaches one
    // ([`release`]).
    // Module → file.
    let mut file_of: FxHashMap<usize, usize> = FxHashMap::default();
    for (file, &m) in ids.iter().enumerate() {
        file_of.insert(m, file);
    }
    // A call whose path resolves to no function of the project, whatever is summarised later
    // (every module its resolution looks into is summarised, or never will be): it calls an
    // unknown function ([`Calls`]).
    let dead = |project: &Project, tried: &[bool], m: usize, p: &str| {
        let eligible = |j: usize| file_of.get(&j).is_some_and(|&f| !tried[f] && linkable[f]);
        matches!(
            project.resolve_or_first_missing(m, p, false, &eligible),
            Err(None)
        )
    };
    // Calls passing something keyful not resolved yet: (module, import path).
    let mut passing: Vec<(usize, String)> = Vec::new();
    // Each kept module's calls, in parallel (they read the project only), then gathered in file
    // order.
    let made: Vec<Made> = keep
        .par_iter()
        .enumerate()
        .map(|(f, k)| {
            let m = ids[f];
            let s = project.modules[m]
                .summary
                .as_ref()
                .filter(|_| *k == Some(true))?;
            let wants = Wants {
                scans: routes,
                raises: alone[f].kl206_or_directive,
            };
            let mut c = Calls::new(wants, alone[f].sources);
            let (live, pass) = c.update(s, false, &[], &|p| dead(&project, &tried, m, p));
            Some((c, live, pass))
        })
        .collect();
    let mut calls: Vec<Option<Calls>> = Vec::with_capacity(files.len());
    for (f, made) in made.into_iter().enumerate() {
        let m = ids[f];
        let Some((c, live, pass)) = made else {
            calls.push(None);
            continue;
        };
        pending.extend(live.into_iter().map(|p| (m, p)));
        passing.extend(pass.into_iter().map(|p| (m, p)));
        calls.push(Some(c));
        // Configuration classes it loads from other modules (`from_object(…)`).
        let s = project.modules[m].summary.as_ref().expect("made of it");
        pending_classes.extend(s.loaded_configs.iter().map(|p| (m, p.clone())));
    }
    // A callee of a kept module raising validates a key for KL206 whatever the module between
    // them: when any kept module wants raising callees, so do the modules summarised for it.
    let raises = (0..files.len()).any(|f| keep[f] == Some(true) && alone[f].kl206_or_directive);
    // Per file, whether a call passing something resolved into it (key material may reach its
    // functions' parameters).
    let mut passed = vec![false; files.len()];
    // Per file, the functions of it a live call of another module resolved to (their return
    // may matter), and the calls resolved since the last round: (file, function).
    let mut returns_read: Vec<Vec<String>> = vec![Vec::new(); files.len()];
    let mut reads: Vec<(usize, String)> = Vec::new();
    // Skipped modules that carry key material between others, looked for when nothing is left
    // to summarise ([`carriers`]).
    let mut carriers = carriers::Carriers::default();
    loop {
        let round = std::time::Instant::now();
        let released = release(
            &project,
            &mut passing,
            &mut reads,
            &mut calls,
            &mut passed,
            &mut returns_read,
            &ids,
            &file_of,
            &mut pending,
            &|m, p| dead(&project, &tried, m, p),
        );
        // The module each pending call needs summarised next: the first without a summary its
        // resolution looked into that can be summarised (not tried, linkable). Once summarised,
        // the call is resolved again next round, one module further, until it resolves or no
        // such module is left (then it is dropped: nothing summarised later changes what it
        // looks into). See [`Project::resolve_or_first_missing`]: the same resolution, without
        // summarising the candidates a longer prefix of the path makes unread.
        let mut wanted: Vec<usize> = Vec::new();
        let eligible = |j: usize| file_of.get(&j).is_some_and(|&f| !tried[f] && linkable[f]);
        for (list, class) in [(&mut pending, false), (&mut pending_classes, true)] {
            list.retain(|(m, path)| {
                match project.resolve_or_first_missing(*m, path, class, &eligible) {
                    Err(Some(j)) => {
                        wanted.push(file_of[&j]);
                        true
                    }
                    Ok((j, name)) => {
                        if !class {
                            reads.extend(file_of.get(&j).map(|&f| (f, name)));
                        }
                        false
                    }
                    Err(None) => false,
                }
            });
        }
        wanted.sort_unstable();
        wanted.dedup();
        let resolving = round.elapsed();
        let mut taken: Vec<carriers::Taken> = Vec::new();
        if wanted.is_empty() && !released && reads.is_empty() {
            let skipped = |f: usize| {
                keep[f] == Some(false)
                    && linkable[f]
                    && !tried[f]
                    && project.modules[ids[f]].summary.is_none()
            };
            let unsummarised_kept =
                |f: usize| keep[f] == Some(true) && project.modules[ids[f]].summary.is_none();
            taken = carriers.find(
                &project,
                &ids,
                files,
                configs,
                &texts,
                prefilter_for,
                &skipped,
                &unsummarised_kept,
                &|m, p| dead(&project, &tried, m, p),
            );
            if taken.is_empty() {
                stats.rounds.push((0, resolving, std::time::Duration::ZERO));
                break;
            }
        }
        for &f in wanted.iter().chain(taken.iter().map(|t| &t.0)) {
            tried[f] = true;
        }
        // A file summarised now is not read again: the first pass's text, else the file's.
        let parked: Vec<(Option<Option<ModuleSummary>>, Option<String>)> = wanted
            .iter()
            .map(|&f| (carriers.take_parked(f), texts[f].take()))
            .collect();
        for t in taken.iter() {
            texts[t.0] = None;
        }
        let mut summaries: Vec<(usize, Option<ModuleSummary>, std::time::Duration)> = wanted
            .par_iter()
            .zip(parked)
            .map(|(&f, (parked, text))| {
                let t0 = std::time::Instant::now();
                let s = parked.unwrap_or_else(|| {
                    text.or_else(|| read(&files[f], &configs[f]))
                        .and_then(|text| summarise(&text, &files[f], &configs[f]))
                });
                (f, s, t0.elapsed())
            })
            .collect();
        let carrying = taken.len();
        summaries.extend(taken);
        // The calls of a module summarised for another's lead further, as a kept module's do
        // (a route → a service → the audit log of a third module): its calls are those a name
        // or a call's result of another module, its own sources (the pre-filter skips a key
        // read that the module alone cannot report), a call passing key material into it or a
        // needed call reaching it make live.
        // Every summary of the round is in the project before any of their calls is read (a call
        // into a module of the same round is not dead).
        let mut round_done: Vec<usize> = Vec::with_capacity(summaries.len());
        for (i, (f, s, time)) in summaries.into_iter().enumerate() {
            stats.summarised_only += 1;
            let why = if i < wanted.len() {
                "summarised only"
            } else {
                "summarised only (carrier)"
            };
            stats.files.push((f, why, time));
            project.modules[ids[f]].summary = s.map(Arc::new);
            round_done.push(f);
        }
        // Their calls, in parallel, then gathered in file order.
        let made: Vec<(usize, Made)> = round_done
            .par_iter()
            .map(|&f| {
                let m = ids[f];
                let made = project.modules[m].summary.as_ref().map(|s| {
                    // Key material may enter it alone: the pre-filter skips a source that no
                    // rule of the module alone can report (a key read and passed to another
                    // module).
                    let sources = s.flows().any(|(flow, _)| !flow.sources.is_empty());
                    let mut c = Calls::new(
                        Wants {
                            scans: routes,
                            raises,
                        },
                        sources,
                    );
                    let (live, pass) = c.update(s, passed[f], &returns_read[f], &|p| {
                        dead(&project, &tried, m, p)
                    });
                    (c, live, pass)
                });
                (f, made)
            })
            .collect();
        for (f, made) in made {
            let m = ids[f];
            if let Some((c, live, pass)) = made {
                let s = project.modules[m].summary.as_ref().expect("made of it");
                pending.extend(live.into_iter().map(|p| (m, p)));
                passing.extend(pass.into_iter().map(|p| (m, p)));
                pending_classes.extend(s.loaded_configs.iter().map(|p| (m, p.clone())));
                calls[f] = Some(c);
            }
        }
        stats.rounds.push((
            wanted.len() + carrying,
            resolving,
            round.elapsed() - resolving,
        ));
    }
    stats.carriers = carriers.stats;
    rayon::spawn(move || drop(texts));
    stats
        .reasons
        .sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    stats.times[1] = t0.elapsed();
    let t0 = std::time::Instant::now();
    // A file the pre-filter skips is analysed with its view only when the view brings it
    // something the file alone has not: key material, a path to a scan, or sinks of functions of
    // other modules. Without them its findings are those of the file alone, which the pre-filter
    // says are none. A kept file finished alone keeps that outcome when its view brings nothing
    // from the other modules: the same findings. A kept file where no data-flow rule may report
    // alone (kept for its secret only) is not analysed again for a path through another file by
    // itself ([`brings_in`]). Only the views used are built.
    let finished: Vec<bool> = done.iter().map(Option::is_some).collect();
    let wanted = |m: usize, probe: &Probe| {
        let Some(&file) = file_of.get(&m) else {
            return false;
        };
        if keep[file] == Some(false) && !carries_anything(probe) && !probe.loaded_config {
            return false;
        }
        if !finished[file] {
            return true;
        }
        let uses = CallUses::of(project.modules[m].summary.as_deref());
        if alone[file].flowless {
            return brings_in(probe) || brings_anything(probe, alone[file], &uses, false);
        }
        brings_anything(probe, alone[file], &uses, true)
    };
    let by_module = project.resolve_wanted(&wanted);
    stats.times[2] = t0.elapsed();
    let views: FxHashMap<usize, Arc<Dataflow>> = ids
        .iter()
        .enumerate()
        .filter_map(|(file, m)| by_module.get(m).map(|v| (file, v.clone())))
        .collect();
    stats.linked = views.len();
    for &file in views.keys() {
        if keep[file] == Some(true) {
            stats.analysed_twice += 1;
            done[file] = None;
        }
    }
    kept.par_iter_mut().enumerate().for_each(|(file, k)| {
        if !views.contains_key(&file) {
            *k = None;
        }
    });
    stats.states.1 = kept.iter().filter(|k| k.is_some()).count();
    // The project (thousands of modules' names and summaries) is freed on the pool while the
    // last pass starts, not here on one core.
    rayon::spawn(move || drop(project));
    Views {
        views,
        keep,
        done,
        kept,
        stats,
    }
}

/// A module's [`Calls`] made, with its first live and passing calls (`None`: no summary).
type Made = Option<(Calls, Vec<String>, Vec<String>)>;

/// What a kept module can get from the functions of other modules it calls, besides what its
/// calls pass and what their results carry (see [`Calls`]).
#[derive(Debug, Clone, Copy)]
struct Wants {
    /// A callee's path to a DynamoDB scan (a route of a kept module may reach it, KL304).
    scans: bool,
    /// Whether a callee raises (a call with no arguments may validate a key: the module has a
    /// KL206 finding or a directive, see [`Alone`]).
    raises: bool,
}

/// Whether the result of the call `flow.calls[i]` can reach a sink: a label of it in a sink,
/// the return, a module-level name, or the arguments of a call the resolution follows (to a
/// function the module defines, `defines`, or to a function of another module). Passed to a
/// function the resolution does not know (a method inherited from a class of another module,
/// `self.assertEqual(…)`), it reaches nothing.
fn result_read(
    flow: &FnFlow,
    i: usize,
    defines: &dyn Fn(&str) -> bool,
    dead: &dyn Fn(&str) -> bool,
    ret: bool,
) -> bool {
    let Ok(i) = u16::try_from(i) else {
        return true;
    };
    let read = |t: &Taint| t.0.iter().any(|l| l.base == Base::Call(i));
    flow.sinks
        .iter()
        .any(|s| read(&s.taint) || s.parts.iter().any(|(_, t)| read(t)))
        || (ret && read(&flow.ret))
        || flow.calls.iter().any(|c| {
            (c.args.iter().any(read) || c.kwargs.iter().any(|(_, t)| read(t)))
                && (followed(&c.callee).is_some_and(|p| !dead(p)) || defines(&c.callee))
        })
        || flow.defines.iter().any(|(_, t)| read(t))
}

/// The call passes something: an argument or keyword whose value carries a label.
fn passes(call: &CallFact) -> bool {
    call.args.iter().any(|t| !t.is_empty()) || call.kwargs.iter().any(|(_, t)| !t.is_empty())
}

/// A call to a function of another module (`@` and an import path) that the data flow follows:
/// a class called (`HttpResponse(...)`) is none, the modules its import leads to need no
/// summary for it.
fn followed(callee: &str) -> Option<&str> {
    let path = callee.strip_prefix('@')?;
    (!path
        .rsplit('.')
        .next()
        .is_some_and(|n| n.starts_with(|c: char| c.is_ascii_uppercase())))
    .then_some(path)
}

/// What a kept module's calls to functions of other modules need summarised.
///
/// A call can change a finding through its callee's facts only when
///
/// * it passes something that may carry key material ([`keyful`]): key material may reach the
///   callee's sinks, or come back through its return;
/// * its result is read ([`result_read`], where a function's `return` counts only when it
///   matters, [`Returns`]): the callee may return key material;
/// * `wants.scans`: its callee may lead to a scan;
/// * `wants.raises` and it has no argument: a raising callee validates a key (KL206).
///
/// Otherwise the resolution gets nothing from the callee for this call: an argument without key
/// material gives none to its parameters and no sink bit (`Dataflow::call_sinks`), and an
/// unread result is never concretised. Those are the *live* calls.
///
/// A value may carry key material ([`keyful`]) when one of its labels does: a source of the
/// module (when key material can enter it alone, `sources`), a module-level name of another
/// module (not known without its summary), the result of a call to a function of another module
/// that may resolve (not known either), a module-level name of the module bound to such a value,
/// the result of a function of the module that returns such a value, and a parameter of a
/// function of the module that a call of the module passes such a value to, or of any function
/// once another module passes something to the module ([`release`]). A parameter carries nothing
/// else: the resolution gives a parameter only what its callers pass it.
///
/// A call to a path that resolves to no function of the project, whatever is summarised later
/// (`dead`: `datetime.datetime(…)`, `os.path.join(…)`), is the call of an unknown function: its
/// result carries nothing and it reaches no sink.
struct Calls {
    wants: Wants,
    /// Key material enters the module alone (its sources count).
    sources: bool,
    /// The live calls given so far (pending or resolved), with the names of other modules it
    /// reads (import paths), sorted.
    live: Vec<String>,
    /// The calls passing something that may carry key material given so far, sorted.
    passing: Vec<String>,
}

/// What may carry key material in a module ([`Calls`]), to a fixpoint over its flows.
struct Keyful<'s> {
    sources: bool,
    /// Every parameter (another module passes something to the module).
    params: bool,
    dead: &'s dyn Fn(&str) -> bool,
    keyed: Keyed<'s>,
}

/// What of a module may carry key material, grown to a fixpoint over its flows ([`grow`]) by a
/// reading of its labels ([`Labels`]): [`Keyful`] (what its calls need from other modules) and
/// the carriers search's `Carry` (what it hands other modules) read them differently.
#[derive(Default)]
pub(super) struct Keyed<'s> {
    /// Functions of the module a call of the module passes something keyful to.
    pub(super) fed: rustc_hash::FxHashSet<&'s str>,
    /// Functions of the module that return something keyful.
    pub(super) returns: rustc_hash::FxHashSet<&'s str>,
    /// Module-level names of the module bound to something keyful.
    pub(super) globals: rustc_hash::FxHashSet<&'s str>,
}

/// A reading of a module's labels over its [`Keyed`] sets.
pub(super) trait Labels<'s> {
    fn keyed(&self) -> &Keyed<'s>;
    fn keyed_mut(&mut self) -> &mut Keyed<'s>;
    /// Whether `t`, in `flow`, may carry key material, given the sets so far.
    fn keyful(&self, flow: &FnFlow, t: &Taint) -> bool;
}

/// Grows `k`'s sets to a fixpoint over the flows of `s`: the functions a call passes something
/// keyful to, those returning something keyful, the module-level names bound to it.
pub(super) fn grow<'s>(k: &mut impl Labels<'s>, s: &'s ModuleSummary) {
    let passes = |k: &dyn Labels<'s>, flow: &FnFlow, call: &CallFact| {
        call.args.iter().any(|t| k.keyful(flow, t))
            || call.kwargs.iter().any(|(_, t)| k.keyful(flow, t))
    };
    // The sets only grow, bounded by the module's names: this ends.
    loop {
        let mut changed = false;
        for (flow, _) in s.flows() {
            for call in &flow.calls {
                if !call.callee.starts_with('@')
                    && !k.keyed().fed.contains(call.callee.as_str())
                    && passes(&*k, flow, call)
                {
                    k.keyed_mut().fed.insert(call.callee.as_str());
                    changed = true;
                }
            }
            if !flow.name.is_empty()
                && !k.keyed().returns.contains(flow.name.as_str())
                && k.keyful(flow, &flow.ret)
            {
                k.keyed_mut().returns.insert(flow.name.as_str());
                changed = true;
            }
            for (name, t) in &flow.defines {
                if !k.keyed().globals.contains(name.as_str()) && k.keyful(flow, t) {
                    k.keyed_mut().globals.insert(name.as_str());
                    changed = true;
                }
            }
        }
        if !changed {
            return;
        }
    }
}

impl<'s> Labels<'s> for Keyful<'s> {
    fn keyed(&self) -> &Keyed<'s> {
        &self.keyed
    }

    fn keyed_mut(&mut self) -> &mut Keyed<'s> {
        &mut self.keyed
    }

    fn keyful(&self, flow: &FnFlow, t: &Taint) -> bool {
        self.taint(flow, t)
    }
}

impl<'s> Keyful<'s> {
    fn new(
        s: &'s ModuleSummary,
        sources: bool,
        params: bool,
        dead: &'s dyn Fn(&str) -> bool,
    ) -> Keyful<'s> {
        let mut k = Keyful {
            sources,
            params,
            dead,
            keyed: Keyed::default(),
        };
        grow(&mut k, s);
        k
    }

    /// Whether a label of `flow` may carry key material.
    fn label(&self, flow: &FnFlow, l: &crate::dataflow::Label) -> bool {
        match l.base {
            Base::Source(_) => self.sources,
            Base::Param(_) => self.params || self.keyed.fed.contains(flow.name.as_str()),
            Base::Global(g) => flow.globals.get(usize::from(g)).is_none_or(|name| {
                name.starts_with('@') || self.keyed.globals.contains(name.as_str())
            }),
            Base::Call(c) => flow.calls.get(usize::from(c)).is_none_or(|call| {
                match followed(&call.callee) {
                    Some(path) => !(self.dead)(path),
                    // A class of another module called: its result carries nothing from it.
                    None if call.callee.starts_with('@') => false,
                    None => self.keyed.returns.contains(call.callee.as_str()),
                }
            }),
        }
    }

    fn taint(&self, flow: &FnFlow, t: &Taint) -> bool {
        t.0.iter().any(|l| self.label(flow, l))
    }

    /// The call passes something that may carry key material.
    fn passes(&self, flow: &FnFlow, call: &CallFact) -> bool {
        call.args.iter().any(|t| self.taint(flow, t))
            || call.kwargs.iter().any(|(_, t)| self.taint(flow, t))
    }
}

impl Calls {
    fn new(wants: Wants, sources: bool) -> Calls {
        Calls {
            wants,
            sources,
            live: Vec::new(),
            passing: Vec::new(),
        }
    }

    /// The live calls and the passing ones of the module now (`passed`: another module passes
    /// something keyful to it; `read`: the functions of it whose return a live call of another
    /// module reads; `dead`: the import path resolves to no function of the project, whatever is
    /// summarised later) not given before: (live, passing).
    fn update(
        &mut self,
        s: &ModuleSummary,
        passed: bool,
        read: &[String],
        dead: &dyn Fn(&str) -> bool,
    ) -> (Vec<String>, Vec<String>) {
        let (live, passing) = Calls::live(s, self.wants, self.sources, passed, read, dead);
        let new = |all: &[String], given: &mut Vec<String>| -> Vec<String> {
            let out: Vec<String> = all
                .iter()
                .filter(|p| given.binary_search(p).is_err())
                .cloned()
                .collect();
            if !out.is_empty() {
                given.extend(out.iter().cloned());
                given.sort_unstable();
            }
            out
        };
        (new(&live, &mut self.live), new(&passing, &mut self.passing))
    }

    /// The live calls and the calls passing something keyful, with every parameter keyful or
    /// not (`params`), and the returns of the functions `read` read by other modules.
    fn live(
        s: &ModuleSummary,
        wants: Wants,
        sources: bool,
        params: bool,
        read: &[String],
        dead: &dyn Fn(&str) -> bool,
    ) -> (Vec<String>, Vec<String>) {
        let keyful = Keyful::new(s, sources, params, dead);
        let returns = Returns::new(s, read, dead);
        let mut live: Vec<&str> = Vec::new();
        let mut passing: Vec<&str> = Vec::new();
        for (flow, _) in s.flows() {
            for (i, call) in flow.calls.iter().enumerate() {
                // A class of another module called (`HttpResponse(...)`) is not followed: its
                // result carries nothing from the other module.
                let Some(path) = followed(&call.callee) else {
                    continue;
                };
                if dead(path) {
                    continue;
                }
                let gives = keyful.passes(flow, call);
                let wanted =
                    wants.scans || (wants.raises && call.args.is_empty() && call.kwargs.is_empty());
                if gives {
                    passing.push(path);
                }
                if wanted || gives || returns.result_read(s, flow, i) {
                    live.push(path);
                }
            }
        }
        // Module-level names of other modules read here (`from .settings import API_KEY`).
        live.extend(s.external_globals());
        let once = |mut v: Vec<&str>| -> Vec<String> {
            v.sort_unstable();
            v.dedup();
            v.into_iter().map(str::to_string).collect()
        };
        (once(live), once(passing))
    }
}

/// The functions of a module whose return matters ([`Calls`]): a route's or an exception
/// handler's (it goes to the client), one a live call of another module reads (`read`), and one
/// whose result a call of the module reads ([`Returns::result_read`]), to a fixpoint.
struct Returns<'s> {
    read: rustc_hash::FxHashSet<&'s str>,
    dead: &'s dyn Fn(&str) -> bool,
}

impl<'s> Returns<'s> {
    fn new(s: &'s ModuleSummary, read: &'s [String], dead: &'s dyn Fn(&str) -> bool) -> Self {
        let mut r = Returns {
            read: read.iter().map(String::as_str).collect(),
            dead,
        };
        for (flow, _) in s.flows() {
            if flow.responds && !flow.name.is_empty() {
                r.read.insert(flow.name.as_str());
            }
        }
        // The set only grows, bounded by the module's functions: this ends.
        loop {
            let mut changed = false;
            for (flow, _) in s.flows() {
                for (i, call) in flow.calls.iter().enumerate() {
                    if call.callee.starts_with('@')
                        || r.read.contains(call.callee.as_str())
                        || !s.defines_function(&call.callee)
                    {
                        continue;
                    }
                    if r.result_read(s, flow, i) {
                        r.read.insert(call.callee.as_str());
                        changed = true;
                    }
                }
            }
            if !changed {
                return r;
            }
        }
    }

    /// [`result_read`], where the return of `flow` counts only when it matters.
    fn result_read(&self, s: &ModuleSummary, flow: &FnFlow, i: usize) -> bool {
        let ret = flow.name.is_empty() || self.read.contains(flow.name.as_str());
        result_read(flow, i, &|n| s.defines_function(n), self.dead, ret)
    }
}

/// Gives the calls a module needs now ([`Calls::update`]) once a call passing something keyful
/// of another module resolves into it (`passing`, then `passed`: key material may reach its
/// functions' parameters), or a live call of another module resolves to one of its functions
/// (`reads`, by file and function, then `returns_read`: its return may matter). The new live
/// calls become `pending`, the new passing ones are followed in turn. `passing` keeps the calls
/// not resolved yet; a module not summarised yet gets its state when it is. Whether any module
/// got new calls.
#[allow(clippy::too_many_arguments)]
fn release(
    project: &Project,
    passing: &mut Vec<(usize, String)>,
    reads: &mut Vec<(usize, String)>,
    calls: &mut [Option<Calls>],
    passed: &mut [bool],
    returns_read: &mut [Vec<String>],
    ids: &[usize],
    file_of: &FxHashMap<usize, usize>,
    pending: &mut Vec<(usize, String)>,
    dead: &(dyn Fn(usize, &str) -> bool + Sync),
) -> bool {
    let mut any = false;
    loop {
        let mut changed: Vec<usize> = Vec::new();
        passing.retain(|(m, path)| match project.resolve_import(*m, path) {
            Some((j, _)) => {
                if let Some(&f) = file_of.get(&j) {
                    if !passed[f] {
                        passed[f] = true;
                        changed.push(f);
                    }
                }
                false
            }
            None => true,
        });
        for (f, name) in reads.drain(..) {
            if !returns_read[f].contains(&name) {
                returns_read[f].push(name);
                changed.push(f);
            }
        }
        changed.sort_unstable();
        changed.dedup();
        let mut more = false;
        // The modules' calls again, in parallel (each its own state), then gathered in file
        // order.
        let mut states: Vec<(usize, Calls)> = changed
            .iter()
            .filter_map(|&f| {
                project.modules[ids[f]].summary.as_ref()?;
                Some((f, calls[f].take()?))
            })
            .collect();
        let updated: Vec<(Vec<String>, Vec<String>)> = states
            .par_iter_mut()
            .map(|(f, c)| {
                let (f, m) = (*f, ids[*f]);
                let s = project.modules[m].summary.as_ref().expect("filtered above");
                c.update(s, passed[f], &returns_read[f], &|p| dead(m, p))
            })
            .collect();
        for ((f, c), (live, pass)) in states.into_iter().zip(updated) {
            let m = ids[f];
            calls[f] = Some(c);
            any |= !live.is_empty() || !pass.is_empty();
            more |= !pass.is_empty();
            pending.extend(live.into_iter().map(|p| (m, p)));
            passing.extend(pass.into_iter().map(|p| (m, p)));
        }
        if !more {
            return any;
        }
    }
}

/// How a module uses the functions of other modules it calls, by call name (`@` and an import
/// path): whether a call's result can reach a sink ([`result_read`]), whether a call passes
/// something ([`passes`]); and whether the module has a route.
#[derive(Default)]
struct CallUses {
    calls: FxHashMap<String, (bool, bool)>,
    routes: bool,
    /// Without a summary every use is assumed.
    unknown: bool,
}

impl CallUses {
    fn of(summary: Option<&ModuleSummary>) -> CallUses {
        let Some(s) = summary else {
            return CallUses {
                unknown: true,
                ..CallUses::default()
            };
        };
        let defines = |name: &str| s.defines_function(name);
        let mut uses = CallUses::default();
        for (flow, _) in s.flows() {
            uses.routes |= flow.is_route;
            for (i, call) in flow.calls.iter().enumerate() {
                if !call.callee.starts_with('@') {
                    continue;
                }
                let (read, gives) = (
                    result_read(flow, i, &defines, &|_| false, true),
                    passes(call),
                );
                let u = uses.calls.entry(call.callee.clone()).or_default();
                u.0 |= read;
                u.1 |= gives;
            }
        }
        uses
    }

    /// (result read, passes something) of the calls named `name`.
    fn get(&self, name: &str) -> (bool, bool) {
        if self.unknown {
            return (true, true);
        }
        self.calls.get(name).copied().unwrap_or((true, true))
    }
}

/// The view of a kept module brings it something from other modules that can change its
/// findings. Without it, the module's facts are those it has alone, and so are its findings:
///
/// * no place in another file (key material from a caller there, a path through a function
///   there), no class of another module it imports that the rules read (a PynamoDB model);
/// * no function of another module that returns key material where the module reads the result
///   of a call to it ([`result_read`]: an unread result is never concretised), or that leads
///   to a scan when the module has a route (KL304 reads the scans reached from routes only);
/// * when key material enters in the module: no function of another module that returns what it
///   is passed where its result is read, or whose parameters reach a sink where a call passes it
///   something (without key material of its own or from elsewhere, the module has nothing to
///   pass through them; an empty argument reaches no sink);
/// * no function of another module that raises, unless the module alone has a KL206 finding (or
///   a directive a view could make unused): a raising callee only validates a key, it can take a
///   KL206 finding away, never add one.
///
/// A call to a function of another module whose facts are all empty reads like a call to an
/// unknown function (it returns nothing, reaches no sink).
///
/// `paths`: whether a step of the view in another file counts by itself (a path through a
/// function there, key material from a caller there); not for a module without a finding of a
/// data-flow rule alone ([`brings_in`]).
fn brings_anything(df: &Probe, alone: Alone, uses: &CallUses, paths: bool) -> bool {
    (paths && df.foreign)
        || df.imported
        || df.functions.iter().any(|(name, f)| {
            if !name.starts_with('@') {
                return false;
            }
            let (read, gives) = uses.get(name);
            let conc = f
                .ret
                .iter()
                .any(|r| matches!(r, crate::dataflow::RetSym::Conc(_)));
            (f.scan.is_some() && (uses.routes || uses.unknown))
                || (conc && read)
                || (alone.sources
                    && ((!f.ret.is_empty() && read)
                        || (gives && f.param_sinks.iter().any(|&b| b != 0))))
                || (alone.kl206_or_directive && f.raises)
        })
}

/// What the view of a kept module with no data-flow rule that may report in it alone
/// ([`Alone::flowless`]) brings it that [`brings_anything`] without its paths does not: key
/// material in a module-level name it reads (its own or imported), or given to a parameter of
/// one of its functions by a caller (in another module: the step [`Probe::foreign`] stands
/// for). Without either, nor anything [`brings_anything`] reads of the functions of other
/// modules (what they return to its calls, their sinks for what it passes them, their scans),
/// the view's facts are those of the module alone but for where their steps lie, and its
/// findings are those of the file alone: the data-flow rules find nothing there (the
/// pre-filter's claim for the file: none of their shapes holds), and the other rules read no
/// data flow (`RuleMeta::reads_flows`, checked by `skipped_flows_change_no_finding`) but the
/// names the module imports ([`Probe::imported`], counted by [`brings_anything`]). On django,
/// 10 of the 24 kept files analysed again with their view are such files, none with a finding
/// more.
fn brings_in(df: &Probe) -> bool {
    df.globals.values().any(|c| !c.is_empty())
        || df
            .functions
            .iter()
            .any(|(name, f)| !name.starts_with('@') && f.param_in.iter().any(|p| !p.is_empty()))
}

/// The view holds key material, a path to a scan, or a function of another module whose
/// parameters reach a sink.
fn carries_anything(df: &Probe) -> bool {
    df.globals.values().any(|c| !c.is_empty())
        || df.functions.iter().any(|(name, f)| {
            f.scan.is_some()
                || f.param_in.iter().any(|p| !p.is_empty())
                || f.ret
                    .iter()
                    .any(|r| matches!(r, crate::dataflow::RetSym::Conc(_)))
                || (name.starts_with('@') && f.param_sinks.iter().any(|&b| b != 0))
        })
}

#[cfg(test)]
mod tests {
    use crate::engine::{flows_needed, Analyzer};

    /// The codes of keylint's rules that declare they read the data flow.
    fn flow_rules() -> Vec<&'static str> {
        crate::rules::all()
            .iter()
            .map(|r| r.meta())
            .filter(|m| m.reads_flows)
            .map(|m| m.code)
            .collect()
    }

    #[test]
    fn flows_are_needed_when_a_rule_reads_them() {
        assert!(flows_needed(None));
        assert!(!flows_needed(Some(&["KL101", "KL205", "KL207", "KL301"])));
        let flow = flow_rules();
        assert_eq!(
            flow,
            ["KL201", "KL202", "KL203", "KL204", "KL206", "KL304"],
            "the rules that read the data flow"
        );
        for code in &flow {
            assert!(flows_needed(Some(&["KL101", code])), "{code}");
        }
        // A rule that is not keylint's own may read them.
        assert!(flows_needed(Some(&["KL101", "KL999"])));
    }

    /// Every fixture, every rule alone: a rule that does not declare that it reads the data flow
    /// ([`crate::finding::RuleMeta::reads_flows`]) finds the same with the flows skipped as with
    /// them (a rule that reads them and forgets to say so loses its findings here); a selection
    /// of every rule gets its flows (the same findings as without the flag); and each rule that
    /// declares it finds something on the fixtures with its flows (the declaration is exercised).
    #[test]
    fn skipped_flows_change_no_finding() {
        let files = crate::test_files::python_files([crate::test_files::fixtures()]);
        assert!(files.len() > 20, "fixtures found: {}", files.len());
        let all: Vec<&'static str> = crate::rules::all().iter().map(|r| r.meta().code).collect();
        let flow = flow_rules();
        let run = |text: &str, select: &[&'static str], skip: bool| {
            let doc = crate::document::Document::new(text, 0);
            let options = crate::rules::Options {
                select: Some(select.to_vec()),
                ..Default::default()
            };
            let mut analyzer = Analyzer::new();
            analyzer.skip_unread_flows(skip);
            let analysis = analyzer.analyze(doc.view(), doc.source(), &options);
            let flows = analyzer.flows().map(|(f, _)| f.len()).sum::<usize>();
            let found: Vec<(String, std::ops::Range<usize>, String)> = analysis
                .findings
                .iter()
                .map(|f| (f.rule.code.to_string(), f.range.clone(), f.message.clone()))
                .collect();
            (found, flows)
        };
        let mut with_flows = 0;
        let mut declared_found: Vec<&str> = Vec::new();
        for path in &files {
            let text = std::fs::read_to_string(path).expect("fixture");
            for &code in &all {
                if flow.contains(&code) {
                    continue;
                }
                let (skipped, none) = run(&text, &[code], true);
                assert_eq!(none, 0, "{} {code}: flows computed", path.display());
                assert_eq!(
                    skipped,
                    run(&text, &[code], false).0,
                    "{} {code}: findings change without the data flow: does the rule read it \
                     without declaring `reads_flows`?",
                    path.display()
                );
            }
            let (found, flows) = run(&text, &all, true);
            assert_eq!(found, run(&text, &all, false).0, "{}", path.display());
            with_flows += usize::from(flows > 0);
            for (code, _, _) in &found {
                if let Some(c) = flow.iter().find(|c| **c == code.as_str()) {
                    if !declared_found.contains(c) {
                        declared_found.push(c);
                    }
                }
            }
        }
        assert!(with_flows > 0);
        declared_found.sort_unstable();
        assert_eq!(
            declared_found, flow,
            "rules declaring flows that find nothing"
        );
    }
}
