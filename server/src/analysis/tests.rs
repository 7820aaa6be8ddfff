//! The incremental analyzer gives exactly the findings of a from-scratch analysis, keystroke by
//! keystroke, while module-level names come and go (the bindings an item read are tracked name by
//! name, see [`super::Deps`]).

use std::path::Path;

use super::{analyze_text, Analyzer, Options};
use crate::document::{ContentChange, Document, Pos, PositionEncoding};

/// Lines that bind module names rules look up (loggers, apps, tables, env keys, module aliases).
const TYPED: &[&str] = &[
    "logger = logging.getLogger(__name__)",
    "API_KEY = os.environ[\"K\"]",
];

fn fixtures(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            fixtures(&p, out);
        } else if p.extension().is_some_and(|x| x == "py") {
            out.push(p);
        }
    }
}

fn check(doc: &Document, analyzer: &mut Analyzer, what: &str) {
    let options = Options::default();
    let incremental = analyzer.analyze(doc.view(), doc.source(), &options);
    let (_, scratch) = analyze_text(&doc.text(), &options);
    assert_eq!(
        incremental.findings, scratch.findings,
        "incremental and from-scratch findings differ ({what})"
    );
}

/// Types `line` as a new line at `at` one character at a time, then deletes it again (one
/// character at a time when `erase`, else at once), comparing with a from-scratch analysis after
/// every keystroke.
fn type_and_erase(text: &str, at: u32, line: &str, erase: bool, name: &str) {
    let enc = PositionEncoding::Utf8;
    let mut doc = Document::new(text, 1);
    let mut analyzer = Analyzer::new();
    check(&doc, &mut analyzer, name);
    let mut version = 1;
    let mut edit = |doc: &mut Document, start: Pos, end: Pos, text: &str| {
        version += 1;
        let change = ContentChange {
            range: Some((start, end)),
            text: text.to_string(),
        };
        doc.apply_changes(&[change], version, enc);
    };
    edit(&mut doc, Pos::new(at, 0), Pos::new(at, 0), "\n");
    check(&doc, &mut analyzer, name);
    let mut col = 0u32;
    for ch in line.chars() {
        edit(
            &mut doc,
            Pos::new(at, col),
            Pos::new(at, col),
            &ch.to_string(),
        );
        col += ch.len_utf8() as u32;
        check(
            &doc,
            &mut analyzer,
            &format!("{name}: typed {col} of {line:?}"),
        );
    }
    while erase && col > 0 {
        edit(&mut doc, Pos::new(at, col - 1), Pos::new(at, col), "");
        col -= 1;
        check(
            &doc,
            &mut analyzer,
            &format!("{name}: erased to {col} of {line:?}"),
        );
    }
    edit(&mut doc, Pos::new(at, 0), Pos::new(at + 1, 0), "");
    check(&doc, &mut analyzer, name);
    assert_eq!(doc.text(), text);
}

#[test]
fn typing_module_names_matches_scratch_analysis() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let mut files = Vec::new();
    fixtures(&root, &mut files);
    files.sort();
    assert!(!files.is_empty(), "no fixtures under {}", root.display());
    for file in &files {
        let text = std::fs::read_to_string(file).expect("a readable fixture");
        let name = file.display().to_string();
        let lines = text.split('\n').count() as u32;
        // At the end of the module (after every use) and at its start (before every use).
        for line in TYPED {
            type_and_erase(&text, lines - 1, line, false, &name);
        }
        type_and_erase(&text, 0, "os = app = 1", true, &name);
    }
}

#[test]
fn the_warm_up_sample_goes_through_several_rules() {
    super::warm_up();
    let (_, analysis) = analyze_text(super::WARM_UP_SAMPLE, &Options::default());
    let mut rules: Vec<&str> = analysis.findings.iter().map(|f| f.rule.code).collect();
    rules.sort();
    rules.dedup();
    assert!(analysis.panics.is_empty());
    assert!(
        rules.len() >= 4,
        "the warm-up sample only reaches {rules:?}"
    );
}
