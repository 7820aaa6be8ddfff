//! Full parse vs incremental one-character reparse, on real Django sources.
//!
//! Needs `.bench-cache/test_autodetector.py` (django 5.1, 5,087 lines) and `.bench-cache/module_200.py`
//! (207 lines): run `./scripts/fetch-bench-corpus` first. Without them the benchmark says so and
//! skips.
//!
//! Per file:
//! - `full`: `Document::new` (rope + parse from the `&str`), what the CLI does per file;
//! - `insert_end` / `insert_middle`: one `apply_change` inserting one character (at the end of the
//!   file; after a `self.` near the middle), what the language server does per keystroke: rope
//!   edit + `InputEdit`, and a reparse of the edited statement alone when the edit falls inside one
//!   (`region.rs`), else an incremental reparse of the whole tree from the rope's chunks. Each
//!   iteration edits a fresh clone of the parsed document (the clone and its parsers are made
//!   outside the measurement);
//! - `next_insert_middle`: the keystroke after `insert_middle`, in the same statement: its patch
//!   is reparsed incrementally (what most keystrokes cost; the first one into a statement parses
//!   that statement from scratch);
//! - `insert_end_whole_tree` / `insert_middle_whole_tree`: the same with statement reparses off
//!   (`Document::region_parsing = false`): tree-sitter's incremental reparse of the whole tree;
//! - `baseline_string_insert_middle`: the same edit done with plain tree-sitter over a `String`
//!   (`Tree::edit` + `Parser::parse(&string, Some(&old))`), to show what reading from the rope costs.

use std::path::{Path, PathBuf};

use criterion::{BatchSize, Criterion};
use keylint::document::{python_parser, ContentChange, Document, PositionEncoding};
use tree_sitter::{InputEdit, Point};

const FILES: [&str; 2] = ["module_200.py", "test_autodetector.py"];

fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../.bench-cache")
}

/// A one-character insertion at `byte`.
fn insert_at(doc: &Document, byte: usize) -> ContentChange {
    let pos = doc.byte_to_position(byte, PositionEncoding::Utf16);
    ContentChange {
        range: Some((pos, pos)),
        text: "x".to_string(),
    }
}

fn bench_file(c: &mut Criterion, name: &str, text: &str) {
    let lines = text.lines().count();
    let mut group = c.benchmark_group(format!("parse/{name} ({lines} lines)"));
    group.bench_function("full", |b| b.iter(|| Document::new(text, 0)));

    let base = Document::new(text, 0);
    let end = insert_at(&base, text.len());
    // `self.` + `x` keeps the file valid: `self.xattr`.
    let middle_byte = text[text.len() / 2..]
        .find("self.")
        .map(|i| text.len() / 2 + i + "self.".len())
        .unwrap_or(text.len() / 2);
    let middle = insert_at(&base, middle_byte);
    // The document after the first keystroke in the middle, and the next one.
    let mut typed = base.clone();
    typed.apply_change(&middle, PositionEncoding::Utf16);
    let next = insert_at(&typed, middle_byte + 1);
    for (label, from, change, region_parsing) in [
        ("insert_end", &base, &end, true),
        ("insert_middle", &base, &middle, true),
        ("next_insert_middle", &typed, &next, true),
        ("insert_end_whole_tree", &base, &end, false),
        ("insert_middle_whole_tree", &base, &middle, false),
    ] {
        group.bench_function(label, |b| {
            b.iter_batched(
                || {
                    let mut doc = from.clone();
                    doc.region_parsing = region_parsing;
                    doc.prepare_parsers();
                    doc
                },
                |mut doc| {
                    doc.apply_change(change, PositionEncoding::Utf16);
                    doc
                },
                BatchSize::SmallInput,
            )
        });
    }

    // Baseline: plain tree-sitter over a `String` with the same edit.
    let mut edited = text.to_string();
    edited.insert(middle_byte, 'x');
    let point = {
        let before = &text[..middle_byte];
        let row = before.matches('\n').count();
        Point::new(row, middle_byte - before.rfind('\n').map_or(0, |i| i + 1))
    };
    let edit = InputEdit {
        start_byte: middle_byte,
        old_end_byte: middle_byte,
        new_end_byte: middle_byte + 1,
        start_position: point,
        old_end_position: point,
        new_end_position: Point::new(point.row, point.column + 1),
    };
    let mut parser = python_parser();
    group.bench_function("baseline_string_insert_middle", |b| {
        b.iter_batched(
            || {
                let mut old = base.tree.clone();
                old.edit(&edit);
                old
            },
            |old| parser.parse(&edited, Some(&old)),
            BatchSize::SmallInput,
        )
    });
    group.finish();

    // The middle keystrokes really reparse one statement (else their labels would not say what
    // they measure), the edit is applied, and the tree stays error-free where the file was.
    assert!(
        typed.patch().is_some(),
        "{name}: the middle edit took no patch"
    );
    let mut doc = typed.clone();
    doc.apply_change(&next, PositionEncoding::Utf16);
    assert!(
        doc.patch().is_some(),
        "{name}: the next edit dropped the patch"
    );
    let mut doc = base.clone();
    doc.apply_change(&middle, PositionEncoding::Utf16);
    doc.flush();
    assert_eq!(doc.rope.len_bytes(), text.len() + 1);
    assert_eq!(
        doc.tree.root_node().has_error(),
        base.tree.root_node().has_error()
    );
}

fn main() {
    let dir = cache_dir();
    let mut files = Vec::new();
    for name in FILES {
        match std::fs::read_to_string(dir.join(name)) {
            Ok(text) => files.push((name, text)),
            Err(_) => {
                eprintln!(
                    "parse bench: {} not found; run ./scripts/fetch-bench-corpus. Skipping {name}.",
                    dir.join(name).display()
                );
            }
        }
    }
    if files.is_empty() {
        eprintln!("parse bench: no benchmark corpus, nothing to measure.");
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    for (name, text) in &files {
        bench_file(&mut c, name, text);
    }
    c.final_summary();
}
