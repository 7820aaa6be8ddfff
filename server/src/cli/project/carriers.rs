//! Skipped modules that carry key material between other modules of the project.
//!
//! The pre-filter skips a module with no rule shape of its own, and the project pass summarises a
//! skipped module only when a call of a summarised module leads to it. A skipped module that
//! *uses* a summarised one is never reached that way: `main.py` doing `audit(same(current()))`
//! with `current` of a kept `conf.py` (it returns an environment key) and `audit` of a kept
//! `helpers.py` (it logs its parameter) is what carries the key from one to the other, and
//! without it the log call has no finding.
//!
//! When the project pass has nothing left to summarise, [`Carriers::find`] looks for such modules:
//!
//! 1. the *carriers* of the summarised modules: their module-level names bound to key material and
//!    their functions that return some ([`exports`]), to a fixpoint across the modules (a name
//!    bound to another module's carrier is one). Key material is a source, or a carrier of
//!    another module that the import path resolves to; not any name of another module (django's
//!    `settings` is no carrier: `LazySettings()` returns nothing keyful).
//! 2. the skipped files (not summarised, with a `def`, `class` or `import`) whose text names a
//!    carrier as an identifier (one scan of the bytes for the new names, then the pre-filter's
//!    lexer where one is found): only those are parsed and summarised;
//! 3. of those, the ones whose summary carries key material on ([`carries_on`]): a call into the
//!    project that passes it, a sink that reads it, or a carrier of their own (a function
//!    returning it: the next round looks for the modules that use that one). They join the
//!    project pass as if a call had led to them, with their sources counted; the others are
//!    parked (not parsed again when a later carrier's name is found in them).
//!
//! The pass then goes on: the calls of the modules taken lead further, and once it has nothing
//! left the carriers are looked at again (new ones, from the modules taken).

use std::path::PathBuf;
use std::sync::Arc;

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use super::{followed, grow, read, summarise, Keyed, Labels};
use crate::config::Config;
use crate::dataflow::{Base, CallFact, FnFlow, Label, Taint};
use crate::engine::prefilter::{lex, Prefilter};
use crate::project::{ModuleSummary, Project};

/// What an import path of a module denotes, for the key material it may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// A carrier of another module.
    Carrier,
    /// Another function or name of the project.
    Resolved,
    /// Nothing summarised yet, but a module not summarised may define it.
    Unresolved,
    /// No function of the project, whatever is summarised later.
    Dead,
}

/// How many files the search for carrying modules read, parsed and took.
#[derive(Debug, Default, Clone, Copy)]
pub struct CarrierStats {
    /// Skipped files searched for the carriers' names.
    pub searched: usize,
    /// Of those, files read again from disk (the first pass kept no text of them).
    pub read: usize,
    /// Of the searched, files naming a carrier: parsed and summarised.
    pub parsed: usize,
    /// Of those, files taken into the project pass.
    pub taken: usize,
    /// Searches (one per time the project pass ran out of modules to summarise).
    pub searches: usize,
}

/// The search for skipped modules that carry key material ([`Carriers::find`]).
#[derive(Default)]
pub(super) struct Carriers {
    /// Per module with a summary: its carriers, sorted.
    names: FxHashMap<usize, Vec<String>>,
    /// The names that may be carriers of the kept modules without a summary (their flows were
    /// not needed alone), read from their text ([`lexical_carriers`]); `None` before the first
    /// search.
    lexical: Option<FxHashSet<String>>,
    /// The names the skipped files were searched for.
    searched: FxHashSet<String>,
    /// Files parsed and summarised for a carrier's name and not taken (`None`: too deep to
    /// parse), by file.
    parked: FxHashMap<usize, Option<ModuleSummary>>,
    pub(super) stats: CarrierStats,
}

/// A skipped file taken into the project pass: (file, summary, time spent on it).
pub(super) type Taken = (usize, Option<ModuleSummary>, std::time::Duration);

impl Carriers {
    /// The skipped files that carry key material between modules of the project now
    /// (`eligible`: a file not summarised that the pass may summarise; `dead`: a call's import
    /// path of a module resolves to no function of the project, whatever is summarised later).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn find(
        &mut self,
        project: &Project,
        ids: &[usize],
        files: &[PathBuf],
        configs: &[Arc<Config>],
        texts: &[Option<String>],
        prefilter_for: &(dyn Fn(&Config) -> Option<Arc<Prefilter>> + Sync),
        eligible: &(dyn Fn(usize) -> bool + Sync),
        unsummarised_kept: &(dyn Fn(usize) -> bool + Sync),
        dead: &(dyn Fn(usize, &str) -> bool + Sync),
    ) -> Vec<Taken> {
        self.stats.searches += 1;
        if self.lexical.is_none() {
            let kept: Vec<usize> = (0..files.len()).filter(|&f| unsummarised_kept(f)).collect();
            let names: Vec<Vec<String>> = kept
                .par_iter()
                .map(|&f| {
                    read(&files[f], &configs[f])
                        .map(|t| lexical_carriers(t.as_bytes()))
                        .unwrap_or_default()
                })
                .collect();
            self.lexical = Some(names.into_iter().flatten().collect());
        }
        self.update_names(project, dead);
        let lexical = self.lexical.as_ref().expect("read above");
        let mut new: Vec<&str> = self
            .names
            .values()
            .flatten()
            // A method (`Class.method`) is not looked for: another module's call of it through
            // an instance of the class does not resolve to it.
            .filter(|n| !n.contains('.'))
            .map(String::as_str)
            .chain(lexical.iter().map(String::as_str))
            .filter(|n| !n.is_empty() && !self.searched.contains(*n))
            .collect();
        new.sort_unstable();
        new.dedup();
        let new: Vec<String> = new.into_iter().map(str::to_string).collect();
        if std::env::var_os("KEYLINT_CARRIERS_DEBUG").is_some() {
            eprintln!("carriers: new names {new:?}");
        }
        let mut found: Vec<Taken> = Vec::new();
        if !new.is_empty() {
            self.searched.extend(new.iter().cloned());
            let parked = &self.parked;
            let todo: Vec<usize> = (0..files.len())
                .filter(|&f| eligible(f) && !parked.contains_key(&f))
                .collect();
            self.stats.searched += todo.len();
            self.stats.read += todo.iter().filter(|&&f| texts[f].is_none()).count();
            let finder = Search::new(&new);
            let wanted: FxHashSet<&[u8]> = new.iter().map(|n| n.as_bytes()).collect();
            found = todo
                .par_iter()
                .filter_map(|&f| {
                    let t0 = std::time::Instant::now();
                    // The text the first pass read (a skipped linkable file's); a file without
                    // one is read again, its raw bytes first (most files name no carrier),
                    // decoded only when one may (a UTF-16 file is decoded first).
                    let read_again;
                    let text = match &texts[f] {
                        Some(text) => text.as_str(),
                        None => {
                            let bytes = std::fs::read(&files[f]).ok()?;
                            let wide = bytes.starts_with(&[0xFF, 0xFE])
                                || bytes.starts_with(&[0xFE, 0xFF]);
                            if !wide && !finder.any(&bytes) {
                                return None;
                            }
                            drop(bytes);
                            read_again = read(&files[f], &configs[f])?;
                            read_again.as_str()
                        }
                    };
                    let prefilter = prefilter_for(&configs[f]);
                    if !names_any(&finder, &wanted, text.as_bytes(), prefilter.as_deref()) {
                        return None;
                    }
                    let s = summarise(text, &files[f], &configs[f]);
                    Some((f, s, t0.elapsed()))
                })
                .collect();
            self.stats.parsed += found.len();
        }
        // The parked files again: a new carrier may make one carry.
        found.extend(
            std::mem::take(&mut self.parked)
                .into_iter()
                .map(|(f, s)| (f, s, std::time::Duration::ZERO)),
        );
        let mut taken: Vec<Taken> = Vec::new();
        for (f, s, time) in found {
            let m = ids[f];
            let carries = s
                .as_ref()
                .is_some_and(|s| carries_on(project, m, s, self, dead));
            if carries {
                taken.push((f, s, time));
            } else {
                self.parked.insert(f, s);
            }
        }
        taken.sort_unstable_by_key(|t| t.0);
        self.stats.taken += taken.len();
        taken
    }

    /// The summary of a file parsed for a carrier's name and not taken, for the project pass
    /// when a call leads to it.
    pub(super) fn take_parked(&mut self, f: usize) -> Option<Option<ModuleSummary>> {
        self.parked.remove(&f)
    }

    /// The carriers of every module with a summary, to a fixpoint (a carrier of one module makes
    /// the names of another bound to it carriers; the sets only grow).
    fn update_names(&mut self, project: &Project, dead: &(dyn Fn(usize, &str) -> bool + Sync)) {
        // The import paths are resolved once: only the carriers change from pass to pass.
        // In parallel: on django, some 2,200 import paths of the summarised modules.
        let summarised: Vec<(usize, &Arc<ModuleSummary>, FxHashMap<&str, Resolution>)> = project
            .modules
            .par_iter()
            .enumerate()
            .filter_map(|(m, module)| {
                let s = module.summary.as_ref()?;
                Some((m, s, resolutions(project, m, s, dead)))
            })
            .collect();
        let sorted = |mut ex: Vec<String>| {
            ex.sort_unstable();
            ex.dedup();
            ex
        };
        // Bounded: a chain of modules longer than this is not followed further.
        for _ in 0..16 {
            // Each module's carriers from the names of the last sweep, in parallel; then the
            // sweep in module order, each module seeing the names of those before it (a module
            // whose import paths resolve into a module changed earlier in the sweep is done
            // again there): the same sweep as one module after the other.
            let fresh: Vec<Vec<String>> = summarised
                .par_iter()
                .map(|(_, s, resolved)| sorted(exports(s, resolved, self)))
                .collect();
            let mut changed: FxHashSet<usize> = FxHashSet::default();
            for ((m, s, resolved), ex) in summarised.iter().zip(fresh) {
                let m = *m;
                let stale = !changed.is_empty()
                    && resolved
                        .values()
                        .any(|r| matches!(r, Resolution::Found(j, _) if changed.contains(j)));
                let ex = if stale {
                    sorted(exports(s, resolved, self))
                } else {
                    ex
                };
                let old = self.names.get(&m).map_or(0, Vec::len);
                if ex.len() != old {
                    changed.insert(m);
                    self.names.insert(m, ex);
                }
            }
            if changed.is_empty() {
                return;
            }
        }
    }
}

/// The search of a file's bytes for the names of new carriers, bounded as identifiers: one
/// `memmem` pass per name when they are few (a rare-byte SIMD scan: on django, 4 names over the
/// 1,908 skipped files cost 212 M instructions through an Aho-Corasick automaton, whose
/// prefilter stops at every `get`), one automaton for many.
enum Search {
    Few(Vec<memchr::memmem::Finder<'static>>),
    Many(aho_corasick::AhoCorasick),
}

/// At most this many names are looked for one by one ([`Search::Few`]).
const FEW_NAMES: usize = 8;

impl Search {
    fn new(names: &[String]) -> Search {
        if names.len() <= FEW_NAMES {
            Search::Few(
                names
                    .iter()
                    .map(|n| memchr::memmem::Finder::new(n.as_bytes()).into_owned())
                    .collect(),
            )
        } else {
            Search::Many(aho_corasick::AhoCorasick::new(names).expect("plain names"))
        }
    }

    /// The bytes hold one of the names, bounded as an identifier.
    fn any(&self, bytes: &[u8]) -> bool {
        let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80;
        let bounded = |start: usize, end: usize| {
            (start == 0 || !ident(bytes[start - 1])) && bytes.get(end).is_none_or(|&b| !ident(b))
        };
        match self {
            Search::Few(finders) => finders.iter().any(|f| {
                let len = f.needle().len();
                f.find_iter(bytes).any(|at| bounded(at, at + len))
            }),
            Search::Many(ac) => ac.find_iter(bytes).any(|m| bounded(m.start(), m.end())),
        }
    }
}

/// Words of the sinks a skipped module may pass key material to itself: a log call or a print,
/// an outbound request, a DynamoDB write, an `HTTPException`.
const SINK_WORDS: &[&[u8]] = &[
    b"log",
    b"logger",
    b"logging",
    b"print",
    b"warn",
    b"warning",
    b"info",
    b"debug",
    b"error",
    b"exception",
    b"critical",
    b"requests",
    b"httpx",
    b"urlopen",
    b"aiohttp",
    b"put_item",
    b"update_item",
    b"batch_writer",
    b"HTTPException",
];

/// The text names one of `wanted` (found by `finder`) as an identifier in code (not in a string
/// or a comment), and may carry it on: it calls a name it imports from a module that may be the
/// project's ([`Prefilter::calls_project`]; the carrier itself, `current()`, is one), or names
/// a sink ([`SINK_WORDS`]). Without a pre-filter (every file is kept), any.
fn names_any(
    finder: &Search,
    wanted: &FxHashSet<&[u8]>,
    bytes: &[u8],
    prefilter: Option<&Prefilter>,
) -> bool {
    if !finder.any(bytes) {
        return false;
    }
    let tokens = lex::lex(bytes);
    let idents = || {
        tokens
            .iter()
            .filter(|t| t.kind == lex::Kind::Ident)
            .map(|t| t.text(bytes))
    };
    idents().any(|t| wanted.contains(t))
        && (prefilter.is_none_or(|p| p.calls_project(bytes))
            || idents().any(|t| SINK_WORDS.contains(&t)))
}

/// What an import path of a module resolves to, whatever the carriers are.
enum Resolution {
    /// A function or name of a module of the project: (module, name in it).
    Found(usize, String),
    /// Nothing summarised yet; a module not summarised may define it.
    Unresolved,
    /// No function of the project, whatever is summarised later.
    Dead,
}

/// The [`Resolution`] of every import path the flows of a module read (names) or call.
fn resolutions<'s>(
    project: &Project,
    m: usize,
    s: &'s ModuleSummary,
    dead: &(dyn Fn(usize, &str) -> bool + Sync),
) -> FxHashMap<&'s str, Resolution> {
    let mut out: FxHashMap<&'s str, Resolution> = FxHashMap::default();
    for (flow, _) in s.flows() {
        let globals = flow.globals.iter().filter_map(|g| g.strip_prefix('@'));
        let calls = flow.calls.iter().filter_map(|c| followed(&c.callee));
        for path in globals.chain(calls) {
            out.entry(path)
                .or_insert_with(|| match project.resolve_import(m, path) {
                    Some((j, name)) => Resolution::Found(j, name),
                    None if dead(m, path) => Resolution::Dead,
                    None => Resolution::Unresolved,
                });
        }
    }
    out
}

/// What the import path `path`, resolved to `r`, denotes now ([`Target`]).
///
/// A name not resolved that a kept module without a summary may bind to key material
/// ([`Carriers::lexical`]) is taken for a carrier: the module is summarised once a call of a
/// module taken leads to it.
fn target(r: &Resolution, path: &str, carriers: &Carriers) -> Target {
    match r {
        Resolution::Found(j, name) => {
            if carriers
                .names
                .get(j)
                .is_some_and(|v| v.binary_search(name).is_ok())
            {
                Target::Carrier
            } else {
                Target::Resolved
            }
        }
        Resolution::Dead => Target::Dead,
        Resolution::Unresolved => {
            let last = path.rsplit('.').next().unwrap_or(path);
            if carriers.lexical.as_ref().is_some_and(|l| l.contains(last)) {
                Target::Carrier
            } else {
                Target::Unresolved
            }
        }
    }
}

/// The top-level names of a module's text (`def NAME`, `class NAME`, `NAME =` at the start of a
/// line) whose statement reads the environment (`environ`, `getenv`) or a settings class
/// (`BaseSettings`): the names another module may import key material by, when the module's
/// flows are not known. Read line by line (the module was lexed and parsed in the first pass: a
/// line of a string at column 0 only names one more), up to the last such word.
fn lexical_carriers(bytes: &[u8]) -> Vec<String> {
    let mut hits: Vec<usize> = [b"environ".as_slice(), b"getenv", b"BaseSettings"]
        .iter()
        .flat_map(|w| memchr::memmem::find_iter(bytes, w))
        .collect();
    hits.sort_unstable();
    let mut out: Vec<String> = Vec::new();
    let Some(&last) = hits.last() else {
        return out;
    };
    let mut current: Option<&[u8]> = None;
    let mut h = 0;
    let mut start = 0;
    while start <= last {
        let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i);
        let line = &bytes[start..end];
        if line
            .first()
            .is_some_and(|&b| b.is_ascii_alphabetic() || b == b'_')
        {
            current = bound_name(line);
        }
        while h < hits.len() && hits[h] < end {
            if let Some(name) = current {
                let name = String::from_utf8_lossy(name).into_owned();
                if !out.contains(&name) {
                    out.push(name);
                }
            }
            h += 1;
        }
        start = end + 1;
    }
    out
}

/// The name a top-level line binds: `def NAME`, `async def NAME`, `class NAME`, `NAME =` or
/// `NAME: T =`.
fn bound_name(line: &[u8]) -> Option<&[u8]> {
    let ident_len = |s: &[u8]| {
        s.iter()
            .take_while(|&&b| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80)
            .count()
    };
    let mut rest = line;
    if let Some(r) = rest.strip_prefix(b"async ") {
        rest = r.trim_ascii_start();
    }
    for kw in [b"def ".as_slice(), b"class "] {
        if let Some(r) = rest.strip_prefix(kw) {
            let r = r.trim_ascii_start();
            let n = ident_len(r);
            return (n > 0).then(|| &r[..n]);
        }
    }
    let n = ident_len(rest);
    let after = rest[n..].trim_ascii_start();
    let binds = (after.starts_with(b"=") && !after.starts_with(b"=="))
        || (after.starts_with(b":") && after.contains(&b'='));
    (n > 0 && binds).then(|| &rest[..n])
}

/// What may carry key material in a module, to a fixpoint over its flows: a source, a carrier of
/// another module ([`Target::Carrier`]), what a call to a function of the project passed key
/// material returns, a module-level name bound to key material, what a function of the module
/// returning key material returns, and a parameter of a function of the module that a call of
/// the module passes key material to. Unlike [`super::Keyful`] (which must not miss what a name
/// of another module not summarised yet may hold), a name of another module carries only what
/// its summary says.
struct Carry<'s> {
    targets: FxHashMap<&'s str, Target>,
    keyed: Keyed<'s>,
}

impl<'s> Labels<'s> for Carry<'s> {
    fn keyed(&self) -> &Keyed<'s> {
        &self.keyed
    }

    fn keyed_mut(&mut self) -> &mut Keyed<'s> {
        &mut self.keyed
    }

    fn keyful(&self, flow: &FnFlow, t: &Taint) -> bool {
        self.taint(flow, t, 0)
    }
}

impl<'s> Carry<'s> {
    fn new(
        s: &'s ModuleSummary,
        resolved: &FxHashMap<&'s str, Resolution>,
        carriers: &Carriers,
    ) -> Carry<'s> {
        let targets: FxHashMap<&'s str, Target> = resolved
            .iter()
            .map(|(&path, r)| (path, target(r, path, carriers)))
            .collect();
        let mut k = Carry {
            targets,
            keyed: Keyed::default(),
        };
        grow(&mut k, s);
        k
    }

    /// Whether a label of `flow` may carry key material (`depth`: calls looked through).
    fn label(&self, flow: &FnFlow, l: &Label, depth: usize) -> bool {
        match l.base {
            Base::Source(_) => true,
            Base::Param(_) => self.keyed.fed.contains(flow.name.as_str()),
            Base::Global(g) => match flow.globals.get(usize::from(g)) {
                None => false,
                Some(name) => match name.strip_prefix('@') {
                    Some(path) => self.targets.get(path) == Some(&Target::Carrier),
                    None => self.keyed.globals.contains(name.as_str()),
                },
            },
            Base::Call(c) => {
                let Some(call) = flow.calls.get(usize::from(c)) else {
                    return false;
                };
                match followed(&call.callee) {
                    Some(path) => match self.targets.get(path) {
                        Some(Target::Carrier) => true,
                        // A function of the project may return what it is passed.
                        Some(Target::Resolved | Target::Unresolved) => {
                            depth < 8 && self.passes(flow, call, depth + 1)
                        }
                        _ => false,
                    },
                    // A class of another module called: its result carries nothing from it.
                    None if call.callee.starts_with('@') => false,
                    None => self.keyed.returns.contains(call.callee.as_str()),
                }
            }
        }
    }

    fn taint(&self, flow: &FnFlow, t: &Taint, depth: usize) -> bool {
        t.0.iter().any(|l| self.label(flow, l, depth))
    }

    /// The call passes something that may carry key material.
    fn passes(&self, flow: &FnFlow, call: &CallFact, depth: usize) -> bool {
        call.args.iter().any(|t| self.taint(flow, t, depth))
            || call.kwargs.iter().any(|(_, t)| self.taint(flow, t, depth))
    }
}

/// The carriers of module `m` ([`Carry`]): its module-level names bound to key material and its
/// functions returning some.
fn exports<'s>(
    s: &'s ModuleSummary,
    resolved: &FxHashMap<&'s str, Resolution>,
    carriers: &Carriers,
) -> Vec<String> {
    let k = Carry::new(s, resolved, carriers);
    k.keyed
        .globals
        .iter()
        .chain(k.keyed.returns.iter())
        .map(|n| n.to_string())
        .collect()
}

/// Whether module `m` carries key material on: a call to a function of the project that passes
/// it, a sink that reads it, or a carrier of its own.
fn carries_on(
    project: &Project,
    m: usize,
    s: &ModuleSummary,
    carriers: &Carriers,
    dead: &(dyn Fn(usize, &str) -> bool + Sync),
) -> bool {
    let k = Carry::new(s, &resolutions(project, m, s, dead), carriers);
    if !k.keyed.globals.is_empty() || !k.keyed.returns.is_empty() {
        return true;
    }
    s.flows().any(|(flow, _)| {
        flow.sinks.iter().any(|sink| {
            k.taint(flow, &sink.taint, 0) || sink.parts.iter().any(|(_, t)| k.taint(flow, t, 0))
        }) || flow.calls.iter().any(|call| {
            followed(&call.callee)
                .is_some_and(|p| k.targets.get(p).is_some_and(|t| *t != Target::Dead))
                && k.passes(flow, call, 0)
        })
    })
}
