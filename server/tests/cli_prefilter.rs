//! The pre-filter never changes findings: over the rule fixtures (`fixtures/**`), the CLI
//! fixtures and — when it was fetched (`./scripts/fetch-bench-corpus --all`) — the benchmark
//! corpus (`.bench-cache/src`), every file the pre-filter would skip is analysed anyway and must
//! have no finding, as test code and as application code, with every rule enabled.

use std::path::{Path, PathBuf};

use keylint::analysis::{analyze_text, Options};
use keylint::cli::prefilter::Prefilter;
use keylint::rules::FileContext;

fn python_files(root: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            python_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "py") {
            out.push(path);
        }
    }
}

/// Checks every skipped file under `root`; returns (files, skipped).
fn check_tree(root: &Path, prefilter: &Prefilter) -> (usize, usize) {
    let mut files = Vec::new();
    python_files(root, &mut files);
    files.sort();
    let mut skipped = 0;
    let mut lost = Vec::new();
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        if prefilter.keep(&bytes) {
            continue;
        }
        skipped += 1;
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        for is_test in [false, true] {
            let options = Options {
                file: FileContext {
                    path: Some(path.clone()),
                    is_test,
                },
                ..Options::default()
            };
            let (_, analysis) = analyze_text(&text, &options);
            if let Some(f) = analysis.findings.first() {
                lost.push(format!("{}: {} {}", path.display(), f.rule.code, f.message));
            }
        }
    }
    assert!(
        lost.is_empty(),
        "the pre-filter skipped files with findings — extend cli/prefilter.rs TABLE:\n{}",
        lost.join("\n")
    );
    (files.len(), skipped)
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn prefilter_loses_no_finding_on_the_fixtures() {
    let p = Prefilter::new(&[]);
    assert!(
        p.is_enabled(),
        "every rule is covered by the pre-filter table"
    );
    let (files, _) = check_tree(&repo().join("fixtures"), &p);
    assert!(files > 0);
    let (_, skipped) = check_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli_fixtures"),
        &p,
    );
    assert!(skipped >= 1, "clean.py is skipped");
}

#[test]
fn prefilter_loses_no_finding_on_the_corpus() {
    let corpus = repo().join(".bench-cache/src");
    if !corpus.is_dir() {
        eprintln!(
            "no corpus at {} (./scripts/fetch-bench-corpus --all): skipped",
            corpus.display()
        );
        return;
    }
    let (files, skipped) = check_tree(&corpus, &Prefilter::new(&[]));
    eprintln!("corpus: {files} files, {skipped} skipped by the pre-filter, none with a finding");
    assert!(files > 1000);
}
