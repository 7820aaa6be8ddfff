//! Property test of the live project (issue #14, "incremental all the way"): random edits spread
//! over the modules of a small FastAPI + DynamoDB package (routes importing a repository module
//! and a dependency module), applied the way the language server applies them — the edited
//! module analysed with its [`LiveResolver`] (which updates the project's incremental
//! [`LiveFlow`]), its summary set from that analysis, then the modules the live state reports as
//! stale analysed again, and only those — must leave every module with the findings of a
//! from-scratch analysis of the same texts (a new [`Project`] summarised, resolved with
//! `resolve_all`, every module analysed with its fixed view: what `keylint check` does).
//!
//! The edits: lines typed into a function one character at a time, function bodies replaced,
//! functions renamed (what imports resolve to changes), import lines changed (the modules linked
//! change), lines added at the top (every start moves), a module emptied and restored.
//!
//! `KEYLINT_PROPTEST_CASES=n` runs `n` cases instead of the default.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use keylint::dataflow::cross::FlowResolver;
use keylint::document::Document;
use keylint::engine::{Analyzer, Options};
use keylint::finding::Finding;
use keylint::project::flow::{FixedView, LiveFlow, LiveResolver};
use keylint::project::{ModuleSummary, Project};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, TestRunner};

const INIT: &str = "";

const REPO: &str = r#"import logging

import boto3

logger = logging.getLogger(__name__)
table = boto3.resource("dynamodb").Table("keys")


def store_key(key):
    table.put_item(Item={"key": key})


def fetch_all():
    return table.scan()["Items"]


def fingerprint(key):
    return key
"#;

const DEPS: &str = r#"from fastapi import Header

from .repo import fingerprint, store_key


def get_key(x_api_key: str = Header(...)):
    return fingerprint(x_api_key)


def remember(value):
    store_key(value)
"#;

fn routes(name: &str) -> String {
    format!(
        r#"from fastapi import Depends, FastAPI, Header

from .deps import get_key, remember
from .repo import fetch_all, store_key

app = FastAPI()


@app.post("/{name}")
def create_{name}(x_api_key: str = Header(...)):
    store_key(x_api_key)
    return {{"ok": True}}


@app.get("/{name}")
def list_{name}(key: str = Depends(get_key)):
    return fetch_all()
"#
    )
}

/// A module no document shows: it calls the repository with a key of its own.
const EXTRA: &str = r#"from fastapi import Header

from .repo import fetch_all, store_key


def extra(x_api_key: str = Header(...)):
    store_key(x_api_key)
    return fetch_all()
"#;

fn extra_path() -> PathBuf {
    PathBuf::from("/proj/app/extra.py")
}

/// The package: (path, initial text).
fn package() -> Vec<(PathBuf, String)> {
    let dir = PathBuf::from("/proj/app");
    vec![
        (dir.join("__init__.py"), INIT.to_string()),
        (dir.join("repo.py"), REPO.to_string()),
        (dir.join("deps.py"), DEPS.to_string()),
        (dir.join("routes_a.py"), routes("a")),
        (dir.join("routes_b.py"), routes("b")),
    ]
}

/// Statements typed into a function (at its indentation).
const LINES: &[&str] = &[
    "logger.info(\"key %s\", key)",
    "store_key(x_api_key)",
    "remember(x_api_key)",
    "fingerprint(key)",
    "table.put_item(Item={\"k\": value})",
    "return fetch_all()",
    "return key",
    "print(value)",
];

/// What a function's body becomes (replaced at once).
const BODIES: &[&str] = &[
    "    pass",
    "    return key",
    "    return value",
    "    logger.info(\"stored %s\", key)",
    "    table.put_item(Item={\"key\": key})",
    "    return table.scan()[\"Items\"]",
    "    return fingerprint(key)",
    "    store_key(value)\n    return value",
    "    return remember(x_api_key)",
    "    return fetch_all()",
];

/// Import lines a module's first `from .` import becomes.
const IMPORTS: &[&str] = &[
    "from .repo import fetch_all, store_key",
    "from .repo import fetch_all",
    "from .repo import fingerprint, store_key",
    "from .deps import get_key, remember",
    "from .repo import *",
    "from . import repo",
    "from .nowhere import store_key",
];

const NAMES: &[&str] = &[
    "store_key",
    "fetch_all",
    "fingerprint",
    "remember",
    "get_key",
    "helper",
];

#[derive(Debug, Clone)]
enum Op {
    /// Types a statement after a line of the `n`-th function of module `m`, one character at a time.
    Type(usize, u32, u32, &'static str),
    /// Replaces the body of the `n`-th function of module `m`.
    Body(usize, u32, &'static str),
    /// Renames the `n`-th function of module `m`.
    Rename(usize, u32, &'static str),
    /// Replaces the first relative import of module `m`.
    Import(usize, &'static str),
    /// Adds a comment line at the top of module `m`.
    Top(usize),
    /// Empties module `m`, or gives it back its first text.
    Empty(usize),
    Restore(usize),
    /// The closed module `app/extra.py` (summarised from disk, never open) is deleted, or
    /// created again (`workspace/didChangeWatchedFiles`).
    Disk,
}

fn op() -> impl Strategy<Value = Op> {
    let m = 0usize..5;
    prop_oneof![
        5 => (m.clone(), any::<u32>(), any::<u32>(), select(LINES))
            .prop_map(|(m, n, l, s)| Op::Type(m, n, l, s)),
        4 => (m.clone(), any::<u32>(), select(BODIES)).prop_map(|(m, n, b)| Op::Body(m, n, b)),
        2 => (m.clone(), any::<u32>(), select(NAMES)).prop_map(|(m, n, s)| Op::Rename(m, n, s)),
        2 => (m.clone(), select(IMPORTS)).prop_map(|(m, s)| Op::Import(m, s)),
        1 => m.clone().prop_map(Op::Top),
        1 => m.clone().prop_map(Op::Empty),
        1 => m.prop_map(Op::Restore),
        1 => Just(Op::Disk),
    ]
}

/// The live project, as the server keeps it: the modules' documents with their analyzers and
/// their last findings.
struct Live {
    paths: Vec<PathBuf>,
    first: Vec<String>,
    texts: Vec<String>,
    project: Arc<RwLock<Project>>,
    flow: Arc<Mutex<LiveFlow>>,
    modules: Vec<usize>,
    analyzers: Vec<Analyzer>,
    findings: Vec<Vec<Finding>>,
    /// Analyses of modules other than the edited one (republished), and edits.
    republished: usize,
    edits: usize,
    /// Whether `app/extra.py` is on disk (and in the project).
    extra: bool,
}

fn options() -> Options {
    Options::default()
}

impl Live {
    /// The package indexed (summaries of its texts), then every module opened.
    fn new(files: Vec<(PathBuf, String)>) -> Live {
        let paths: Vec<PathBuf> = files.iter().map(|(p, _)| p.clone()).collect();
        let texts: Vec<String> = files.into_iter().map(|(_, t)| t).collect();
        let mut project = Project::new();
        let modules = project.add(&paths);
        for (&m, text) in modules.iter().zip(&texts) {
            project.modules[m].summary = Some(Arc::new(summary_of(text)));
        }
        let extra = project.add(&[extra_path()])[0];
        project.modules[extra].summary = Some(Arc::new(summary_of(EXTRA)));
        let project = Arc::new(RwLock::new(project));
        let flow = Arc::new(Mutex::new(LiveFlow::default()));
        let analyzers = modules
            .iter()
            .map(|&m| {
                let mut a = Analyzer::new();
                a.set_resolver(Some(Arc::new(LiveResolver::new(
                    project.clone(),
                    flow.clone(),
                    m,
                ))));
                a
            })
            .collect();
        let mut live = Live {
            paths,
            first: texts.clone(),
            texts,
            project,
            flow,
            modules,
            analyzers,
            findings: Vec::new(),
            republished: 0,
            edits: 0,
            extra: true,
        };
        live.findings = vec![Vec::new(); live.texts.len()];
        for i in 0..live.texts.len() {
            live.analyse(i);
        }
        live.republish();
        live
    }

    /// Analyses module `i` (its resolver updates the live state), then sets its summary as
    /// `lsp/workspace.rs::after_analysis` does.
    fn analyse(&mut self, i: usize) {
        let doc = Document::new(&self.texts[i], 0);
        let analysis = self.analyzers[i].analyze(doc.view(), doc.source(), &options());
        let summary = ModuleSummary::new(
            self.analyzers[i].flows(),
            &analysis.model,
            doc.view(),
            doc.source(),
        );
        let mut p = self.project.write().unwrap();
        let m = self.modules[i];
        if p.modules[m].summary.as_deref() != Some(&summary) {
            p.modules[m].summary = Some(Arc::new(summary));
        }
        self.findings[i] = analysis.findings;
    }

    /// The stale modules analysed again, until none is (`republish_linked`).
    fn republish(&mut self) {
        for _ in 0..8 {
            let stale = {
                let mut live = self.flow.lock().unwrap();
                let p = self.project.read().unwrap();
                live.take_stale(&p)
            };
            if stale.is_empty() {
                return;
            }
            for m in stale {
                if let Some(i) = self.modules.iter().position(|&x| x == m) {
                    self.republished += 1;
                    self.analyse(i);
                }
            }
        }
        panic!("still stale after 8 rounds");
    }

    /// Module `i` gets the text `text`; checked against a fresh analysis.
    fn edit(&mut self, i: usize, text: String) -> Result<(), TestCaseError> {
        self.texts[i] = text;
        self.edits += 1;
        self.analyse(i);
        self.republish();
        self.check()
    }

    fn check(&self) -> Result<(), TestCaseError> {
        let mut paths = self.paths.clone();
        let mut texts = self.texts.clone();
        if self.extra {
            paths.push(extra_path());
            texts.push(EXTRA.to_string());
        }
        let fresh = fresh(&paths, &texts);
        for (i, (live, fresh)) in self.findings.iter().zip(&fresh).enumerate() {
            prop_assert_eq!(
                live.iter().map(shown).collect::<Vec<_>>(),
                fresh.iter().map(shown).collect::<Vec<_>>(),
                "{} differs from a fresh analysis; texts:\n{}",
                self.paths[i].display(),
                self.texts
                    .iter()
                    .zip(&self.paths)
                    .map(|(t, p)| format!("--- {}\n{t}", p.display()))
                    .collect::<String>()
            );
            prop_assert_eq!(live, fresh);
        }
        Ok(())
    }

    /// The line ranges (start, end of content) of the body of the `n`-th `def` of module `i`.
    fn body(&self, i: usize, n: u32) -> Option<(usize, Vec<(usize, usize)>)> {
        let text = &self.texts[i];
        let mut lines = Vec::new();
        let mut at = 0;
        for l in text.split_inclusive('\n') {
            lines.push((at, at + l.trim_end_matches('\n').len()));
            at += l.len();
        }
        let defs: Vec<usize> = (0..lines.len())
            .filter(|&k| text[lines[k].0..].starts_with("def "))
            .collect();
        let &d = defs.get(n as usize % defs.len().max(1))?;
        let body: Vec<(usize, usize)> = lines[d + 1..]
            .iter()
            .take_while(|&&(s, e)| text[s..e].starts_with("    "))
            .copied()
            .collect();
        (!body.is_empty()).then_some((lines[d].0, body))
    }

    fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        match *op {
            Op::Type(i, n, l, line) => {
                let Some((_, body)) = self.body(i, n) else {
                    return Ok(());
                };
                let mut at = body[l as usize % body.len()].1;
                let mut text = self.texts[i].clone();
                text.insert_str(at, "\n    ");
                at += 5;
                self.edit(i, text)?;
                for c in line.chars() {
                    let mut text = self.texts[i].clone();
                    text.insert(at, c);
                    at += c.len_utf8();
                    self.edit(i, text)?;
                }
                Ok(())
            }
            Op::Body(i, n, new) => {
                let Some((_, body)) = self.body(i, n) else {
                    return Ok(());
                };
                let (start, end) = (body[0].0, body[body.len() - 1].1);
                let mut text = self.texts[i].clone();
                text.replace_range(start..end, new);
                self.edit(i, text)
            }
            Op::Rename(i, n, name) => {
                let Some((def, _)) = self.body(i, n) else {
                    return Ok(());
                };
                let s = def + 4;
                let e = s + self.texts[i][s..].find('(').unwrap_or(0);
                let mut text = self.texts[i].clone();
                text.replace_range(s..e, name);
                self.edit(i, text)
            }
            Op::Import(i, line) => {
                let text = &self.texts[i];
                let Some(s) = text.find("from .") else {
                    return Ok(());
                };
                let e = s + text[s..].find('\n').unwrap_or(text.len() - s);
                let mut text = text.clone();
                text.replace_range(s..e, line);
                self.edit(i, text)
            }
            Op::Top(i) => {
                let text = format!("# edited\n{}", self.texts[i]);
                self.edit(i, text)
            }
            Op::Disk => {
                {
                    let mut p = self.project.write().unwrap();
                    if self.extra {
                        p.remove(&extra_path());
                    } else {
                        let m = p.add(&[extra_path()])[0];
                        p.modules[m].summary = Some(Arc::new(summary_of(EXTRA)));
                    }
                }
                self.extra = !self.extra;
                self.edits += 1;
                // `files_changed` analyses every open document again; the live state alone
                // must know which changed.
                self.republish();
                self.check()
            }
            Op::Empty(i) => self.edit(i, String::new()),
            Op::Restore(i) => {
                let text = self.first[i].clone();
                self.edit(i, text)
            }
        }
    }
}

/// The summary of a module's text, as the index computes it.
fn summary_of(text: &str) -> ModuleSummary {
    let doc = Document::new(text, 0);
    keylint::engine::summarise::summarise(doc.view(), doc.source(), &options())
}

/// A finding as a failure shows it (without the rule's documentation).
fn shown(f: &Finding) -> String {
    format!(
        "{} {:?} {} related {:?} fixes {}",
        f.rule.code,
        f.range,
        f.message,
        f.related,
        f.fixes.len()
    )
}

/// The findings of every module of a from-scratch analysis of `texts` (the CLI's phases).
fn fresh(paths: &[PathBuf], texts: &[String]) -> Vec<Vec<Finding>> {
    let mut project = Project::new();
    let ids = project.add(paths);
    let docs: Vec<Document> = texts.iter().map(|t| Document::new(t, 0)).collect();
    for (&m, doc) in ids.iter().zip(&docs) {
        let s = keylint::engine::summarise::summarise(doc.view(), doc.source(), &options());
        project.modules[m].summary = Some(Arc::new(s));
    }
    let views = project.resolve_all();
    ids.iter()
        .zip(&docs)
        .map(|(m, doc)| {
            let mut a = Analyzer::new();
            a.set_resolver(
                views
                    .get(m)
                    .map(|v| Arc::new(FixedView(v.clone())) as Arc<dyn FlowResolver>),
            );
            a.analyze(doc.view(), doc.source(), &options()).findings
        })
        .collect()
}

fn cases(default: u32) -> u32 {
    std::env::var("KEYLINT_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

const CASES: u32 = 64;

#[test]
fn project_edits_match_a_fresh_analysis_of_every_module() {
    let edits = std::sync::atomic::AtomicUsize::new(0);
    let republished = std::sync::atomic::AtomicUsize::new(0);
    let runner_config = Config {
        cases: cases(CASES),
        failure_persistence: None,
        ..Config::default()
    };
    let result = TestRunner::new(runner_config).run(&vec(op(), 1..10), |ops| {
        let mut live = Live::new(package());
        live.check()?;
        for op in &ops {
            live.apply(op)?;
        }
        edits.fetch_add(live.edits, std::sync::atomic::Ordering::Relaxed);
        republished.fetch_add(live.republished, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let (edits, republished) = (edits.into_inner(), republished.into_inner());
    eprintln!("project edits: {edits} edits, {republished} other modules analysed again");
    // The cases did edit (every op but a few lands somewhere), and not every edit republished
    // every other module (the live state compares views).
    assert!(edits >= cases(CASES) as usize * 3, "{edits} edits");
    assert!(republished < edits * 4, "{republished} of {edits}");
}

/// A keystroke inside a function of the repository module that changes nothing another module
/// sees republishes nothing; one that changes a fact the routes read republishes them.
#[test]
fn only_modules_whose_view_changed_are_analysed_again() {
    let mut live = Live::new(package());
    let repo = 1;
    // The package has findings across files: the key of the routes stored in `repo.py`.
    assert!(
        live.findings[repo]
            .iter()
            .any(|f| f.related.iter().any(|r| r.file.is_some())),
        "{:?}",
        live.findings[repo].iter().map(shown).collect::<Vec<_>>()
    );
    // A comment typed at the end of the last function: no fact, no start another module reads.
    let before = live.republished;
    let text = format!("{}    # a note\n", live.texts[repo]);
    live.edit(repo, text).unwrap();
    assert_eq!(live.republished, before, "nothing changed for the others");
    // The key stored by `store_key` is now also logged: the routes and `deps` call it.
    let text = live.texts[repo].replace(
        "    table.put_item(Item={\"key\": key})",
        "    table.put_item(Item={\"key\": key})\n    logger.info(\"stored %s\", key)",
    );
    live.edit(repo, text).unwrap();
    assert!(
        live.republished > before,
        "the modules calling store_key see its new sink"
    );
}
