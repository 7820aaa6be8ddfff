//! Full parse vs incremental one-character reparse, on real Django sources.
//!
//! Needs `.bench-cache/test_autodetector.py` (django 5.1, 5,087 lines) and `.bench-cache/module_200.py`
//! (207 lines): run `./scripts/fetch-bench-corpus` first. Without them the benchmark says so and
//! skips.
//!
//! Per file:
//! - `full`: `Document::new` (rope + parse from the `&str`), what the CLI does per file;
//! - `insert_end` / `insert_middle`: one `apply_change` inserting one character (at the end of the
//!   file; after a `self.` near the middle), i.e. rope edit + `InputEdit` + incremental reparse from
//!   the rope's chunks + changed ranges. Each iteration edits a fresh clone of the parsed document
//!   (the clone and its parser are made outside the measurement);
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
    for (label, change) in [("insert_end", &end), ("insert_middle", &middle)] {
        group.bench_function(label, |b| {
            b.iter_batched(
                || {
                    let mut doc = base.clone();
                    doc.parser_mut();
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

    // The edit really is applied and the tree stays error-free where the file was.
    let mut doc = base.clone();
    doc.apply_change(&middle, PositionEncoding::Utf16);
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
