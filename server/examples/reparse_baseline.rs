//! The floor under keylint's typing latency: plain tree-sitter, no keylint code. Types the replay's
//! line at the end of FILE one character at a time over a `String`, with `Tree::edit` and an
//! incremental `Parser::parse`, and prints each reparse (and the drop of the replaced tree).
//!
//!     cargo run --release -p keylint --example reparse_baseline -- .bench-cache/test_autodetector.py
//!
//! On django's `test_autodetector.py` (5,087 lines) most keystrokes reparse in 0.04–0.2 ms, but a
//! few (`PASS`, `"sk-l`) take 2.5–6 ms: tree-sitter reparses much of the class before the new line.
//! keylint's own document engine shows the same spikes at the same keystrokes.

use std::io::Write;
use std::time::Instant;

use tree_sitter::{InputEdit, Point};

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: reparse_baseline FILE");
    let mut text = std::fs::read_to_string(path).expect("readable UTF-8 file");
    if !text.ends_with('\n') {
        text.push('\n');
    }
    let mut parser = keylint::document::python_parser();
    let mut tree = parser.parse(&text, None).expect("a tree");
    let line = "PASSWORD = \"sk-live-4f9c2b7e8d1a6f3c9a0b\"";
    let row = text.lines().count();
    let mut out = std::io::stdout().lock();
    for (i, ch) in line.char_indices() {
        let at = text.len();
        text.push(ch);
        tree.edit(&InputEdit {
            start_byte: at,
            old_end_byte: at,
            new_end_byte: at + 1,
            start_position: Point::new(row, i),
            old_end_position: Point::new(row, i),
            new_end_position: Point::new(row, i + 1),
        });
        let t = Instant::now();
        let new = parser.parse(&text, Some(&tree)).expect("a tree");
        let parse = t.elapsed();
        let t = Instant::now();
        drop(std::mem::replace(&mut tree, new));
        let dropped = t.elapsed();
        let _ = writeln!(
            out,
            "{:>8.3} ms reparse {:>7.3} ms drop  {:?}",
            parse.as_secs_f64() * 1e3,
            dropped.as_secs_f64() * 1e3,
            &line[..i + ch.len_utf8()]
        );
    }
}
