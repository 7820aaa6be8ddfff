//! Unit tests of position conversions and edits.

use super::*;
use PositionEncoding::{Utf16, Utf32, Utf8};

const ALL: [PositionEncoding; 3] = [Utf8, Utf16, Utf32];

fn doc(text: &str) -> Document {
    Document::new(text, 0)
}

fn p(line: u32, character: u32) -> Pos {
    Pos::new(line, character)
}

fn change(start: Pos, end: Pos, text: &str) -> ContentChange {
    ContentChange {
        range: Some((start, end)),
        text: text.to_string(),
    }
}

/// Every node's kind, byte range and points, depth first.
fn dump(tree: &Tree) -> Vec<(String, std::ops::Range<usize>, Point, Point)> {
    let mut out = Vec::new();
    let mut cursor = tree.walk();
    'outer: loop {
        let n = cursor.node();
        out.push((
            n.kind().to_string(),
            n.byte_range(),
            n.start_position(),
            n.end_position(),
        ));
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                continue 'outer;
            }
            if !cursor.goto_parent() {
                break 'outer;
            }
        }
    }
    out
}

/// The document's view equals a from-scratch parse statement by statement, and so does its
/// whole tree once flushed.
fn assert_same_as_fresh(d: &Document) {
    let fresh = Document::new(&d.text(), 0);
    assert_eq!(d.view().outline(), fresh.view().outline());
    let mut d = d.clone();
    d.flush();
    assert_eq!(
        d.tree.root_node().to_sexp(),
        fresh.tree.root_node().to_sexp()
    );
    assert_eq!(dump(&d.tree), dump(&fresh.tree));
}

/// The patch's tree, if any, is exactly what a fresh parser gives for its included ranges with
/// no old tree (its first parse takes nodes of the edited whole tree, the next ones of the last
/// patch: neither may leave a node that a parse from scratch would not make).
fn assert_patch_as_fresh(d: &Document) {
    let Some(patch) = d.patch() else {
        return;
    };
    let mut parser = python_parser();
    parser
        .set_included_ranges(&patch.tree.included_ranges())
        .expect("the patch's ranges");
    let text = d.text();
    let fresh = parser.parse(&text, None).expect("a tree");
    assert_eq!(
        dump(&patch.tree),
        dump(&fresh),
        "patch {:?}",
        patch.region()
    );
}

#[test]
fn utf16_emoji_and_surrogate_clamping() {
    // 😀 is 4 bytes, 2 UTF-16 code units, 1 char.
    let d = doc("a😀b");
    assert_eq!(d.position_to_byte(p(0, 0), Utf16), 0);
    assert_eq!(d.position_to_byte(p(0, 1), Utf16), 1);
    // Inside the surrogate pair: back to the start of the emoji.
    assert_eq!(d.position_to_byte(p(0, 2), Utf16), 1);
    assert_eq!(d.position_to_byte(p(0, 3), Utf16), 5);
    assert_eq!(d.position_to_byte(p(0, 4), Utf16), 6);
    assert_eq!(d.position_to_byte(p(0, 99), Utf16), 6);
    assert_eq!(d.byte_to_position(5, Utf16), p(0, 3));
    assert_eq!(d.byte_to_position(6, Utf16), p(0, 4));
    // A byte inside the emoji is moved back to its start.
    assert_eq!(d.byte_to_position(3, Utf16), p(0, 1));
}

#[test]
fn utf8_multibyte_clamping() {
    // é is 2 bytes, 中 is 3 bytes.
    let d = doc("é中x");
    assert_eq!(d.position_to_byte(p(0, 1), Utf8), 0);
    assert_eq!(d.position_to_byte(p(0, 2), Utf8), 2);
    assert_eq!(d.position_to_byte(p(0, 3), Utf8), 2);
    assert_eq!(d.position_to_byte(p(0, 4), Utf8), 2);
    assert_eq!(d.position_to_byte(p(0, 5), Utf8), 5);
    assert_eq!(d.position_to_byte(p(0, 6), Utf8), 6);
    assert_eq!(d.position_to_byte(p(0, 7), Utf8), 6);
    assert_eq!(d.byte_to_position(5, Utf8), p(0, 5));
    assert_eq!(d.byte_to_position(4, Utf8), p(0, 2));
}

#[test]
fn utf32_counts_chars() {
    let d = doc("中😀é\nx");
    assert_eq!(d.position_to_byte(p(0, 1), Utf32), 3);
    assert_eq!(d.position_to_byte(p(0, 2), Utf32), 7);
    assert_eq!(d.position_to_byte(p(0, 3), Utf32), 9);
    assert_eq!(d.position_to_byte(p(0, 4), Utf32), 9);
    assert_eq!(d.position_to_byte(p(1, 1), Utf32), 11);
    assert_eq!(d.byte_to_position(7, Utf32), p(0, 2));
    assert_eq!(d.byte_to_position(7, Utf16), p(0, 3));
    assert_eq!(d.byte_to_position(7, Utf8), p(0, 7));
    assert_eq!(d.byte_to_position(11, Utf32), p(1, 1));
}

#[test]
fn crlf_end_of_line_lands_before_the_break() {
    let d = doc("ab\r\ncd\r\n");
    for enc in ALL {
        assert_eq!(d.position_to_byte(p(0, 2), enc), 2);
        assert_eq!(
            d.position_to_byte(p(0, 3), enc),
            2,
            "never between \\r and \\n"
        );
        assert_eq!(d.position_to_byte(p(0, 100), enc), 2);
        assert_eq!(d.position_to_byte(p(1, 0), enc), 4);
        assert_eq!(d.position_to_byte(p(1, 9), enc), 6);
        assert_eq!(d.position_to_byte(p(2, 0), enc), 8);
        assert_eq!(d.position_to_byte(p(2, 3), enc), 8);
        // A byte between \r and \n is taken as the end of the line.
        assert_eq!(d.byte_to_position(3, enc), p(0, 2));
        assert_eq!(d.byte_to_position(2, enc), p(0, 2));
        assert_eq!(d.byte_to_position(4, enc), p(1, 0));
        assert_eq!(d.byte_to_position(8, enc), p(2, 0));
    }
}

#[test]
fn lone_cr_is_a_line_break() {
    let d = doc("ab\rcd\nx\r\r\ny");
    // Lines: "ab" \r | "cd" \n | "x" \r | "" \r\n | "y"
    assert_eq!(d.rope.len_lines(), 5);
    for enc in ALL {
        assert_eq!(d.position_to_byte(p(0, 5), enc), 2);
        assert_eq!(d.position_to_byte(p(1, 1), enc), 4);
        assert_eq!(d.position_to_byte(p(2, 0), enc), 6);
        assert_eq!(d.position_to_byte(p(2, 7), enc), 7);
        assert_eq!(d.position_to_byte(p(3, 0), enc), 8);
        assert_eq!(d.position_to_byte(p(3, 1), enc), 8);
        assert_eq!(d.position_to_byte(p(4, 0), enc), 10);
        assert_eq!(d.position_to_byte(p(4, 1), enc), 11);
        assert_eq!(d.byte_to_position(3, enc), p(1, 0));
        assert_eq!(d.byte_to_position(9, enc), p(3, 0));
        assert_eq!(d.byte_to_position(10, enc), p(4, 0));
    }
}

#[test]
fn empty_document() {
    let d = doc("");
    for enc in ALL {
        assert_eq!(d.position_to_byte(p(0, 0), enc), 0);
        assert_eq!(d.position_to_byte(p(0, 7), enc), 0);
        assert_eq!(d.position_to_byte(p(3, 2), enc), 0);
        assert_eq!(d.byte_to_position(0, enc), p(0, 0));
        assert_eq!(d.byte_to_position(42, enc), p(0, 0));
    }
    assert_eq!(d.line_content_range(0), 0..0);
}

#[test]
fn end_of_file_and_past_it() {
    let d = doc("x = '😀'\n");
    for enc in ALL {
        assert_eq!(d.position_to_byte(p(1, 0), enc), 11);
        assert_eq!(d.position_to_byte(p(1, 4), enc), 11);
        assert_eq!(d.position_to_byte(p(2, 0), enc), 11);
        assert_eq!(d.position_to_byte(p(u32::MAX, u32::MAX), enc), 11);
        assert_eq!(d.byte_to_position(11, enc), p(1, 0));
        assert_eq!(d.byte_to_position(usize::MAX, enc), p(1, 0));
    }
    assert_eq!(d.position_to_byte(p(0, u32::MAX), Utf16), 10);
    assert_eq!(d.byte_to_position(10, Utf16), p(0, 8));
    assert_eq!(d.byte_to_position(10, Utf32), p(0, 7));
    assert_eq!(d.byte_to_position(10, Utf8), p(0, 10));
}

#[test]
fn round_trip_at_every_char_boundary() {
    let text = "é = '中😀'\r\n\r# x😀\ry\n\nz";
    let d = doc(text);
    for enc in ALL {
        for (byte, _) in text.char_indices().chain([(text.len(), ' ')]) {
            let pos = d.byte_to_position(byte, enc);
            let back = d.position_to_byte(pos, enc);
            if text[..byte].ends_with('\r') && text[byte..].starts_with('\n') {
                assert_eq!(back, byte - 1, "{enc:?} byte {byte}");
            } else {
                assert_eq!(back, byte, "{enc:?} byte {byte} pos {pos:?}");
            }
        }
    }
}

#[test]
fn line_content_ranges() {
    let d = doc("a\r\nbc\rd\n");
    assert_eq!(d.line_content_range(0), 0..1);
    assert_eq!(d.line_content_range(1), 3..5);
    assert_eq!(d.line_content_range(2), 6..7);
    assert_eq!(d.line_content_range(3), 8..8);
    assert_eq!(d.line_content_range(4), 8..8);
}

#[test]
fn range_conversions() {
    let d = doc("x😀y\nz");
    assert_eq!(d.positions_to_byte_range(p(0, 1), p(0, 3), Utf16), 1..5);
    // An end before the start collapses to the start.
    assert_eq!(d.positions_to_byte_range(p(1, 0), p(0, 0), Utf16), 7..7);
    assert_eq!(d.byte_range_to_positions(1..5, Utf16), (p(0, 1), p(0, 3)));
}

#[test]
fn insert_inside_surrogate_pair_goes_before_the_emoji() {
    let mut d = doc("s = '😀'\n");
    d.apply_change(&change(p(0, 6), p(0, 6), "x"), Utf16);
    assert_eq!(d.text(), "s = 'x😀'\n");
    assert_same_as_fresh(&d);
}

#[test]
fn incremental_edit_matches_fresh_parse_with_positions() {
    let mut d = doc("def f():\n    return 1\n\nx = f()\n");
    d.apply_change(&change(p(1, 11), p(1, 12), "g(2)"), Utf16);
    assert_eq!(d.text(), "def f():\n    return g(2)\n\nx = f()\n");
    assert_same_as_fresh(&d);
    d.apply_change(&change(p(2, 0), p(3, 0), ""), Utf16);
    assert_eq!(d.text(), "def f():\n    return g(2)\nx = f()\n");
    assert_same_as_fresh(&d);
}

#[test]
fn lone_cr_documents_keep_tree_sitter_points() {
    // The parser reads a lone \r as \n (a line break, as in Python); the edit points agree.
    let mut d = doc("a = 1\rb = 2\rc = [\n  3]\r\nd = 4\n");
    d.apply_change(&change(p(3, 2), p(3, 3), "30, 31"), Utf16);
    assert_eq!(d.text(), "a = 1\rb = 2\rc = [\n  30, 31]\r\nd = 4\n");
    assert_same_as_fresh(&d);
    d.apply_change(&change(p(1, 0), p(2, 0), "bb = '中'\n"), Utf32);
    assert_eq!(d.text(), "a = 1\rbb = '中'\nc = [\n  30, 31]\r\nd = 4\n");
    assert_same_as_fresh(&d);
}

#[test]
fn inserting_lf_after_lone_cr_makes_crlf() {
    let mut d = doc("a\rb\n");
    assert_eq!(d.rope.len_lines(), 3);
    d.apply_change(&change(p(1, 0), p(1, 0), "\n"), Utf16);
    assert_eq!(d.text(), "a\r\nb\n");
    assert_eq!(d.rope.len_lines(), 3);
    assert_eq!(d.position_to_byte(p(0, 5), Utf16), 1);
    assert_same_as_fresh(&d);
}

#[test]
fn multi_change_notification_in_order_and_version() {
    let mut d = doc("x = 1\ny = 2\n");
    d.apply_changes(
        &[
            change(p(0, 4), p(0, 5), "'é'"),
            // Relative to the text after the first change.
            change(p(0, 7), p(0, 7), " + z"),
            change(p(1, 0), p(2, 0), ""),
        ],
        7,
        Utf16,
    );
    assert_eq!(d.text(), "x = 'é' + z\n");
    assert_eq!(d.version, 7);
    assert_same_as_fresh(&d);
}

#[test]
fn full_replacement_in_the_middle_of_a_notification() {
    let mut d = doc("x = 1\n");
    d.apply_changes(
        &[
            change(p(0, 0), p(0, 0), "#"),
            ContentChange {
                range: None,
                text: "a = [\r1,\r2]\r".to_string(),
            },
            change(p(1, 0), p(1, 1), "10"),
        ],
        2,
        Utf8,
    );
    assert_eq!(d.text(), "a = [\r10,\r2]\r");
    assert_same_as_fresh(&d);
    assert_eq!(d.last_changed_ranges().len(), 1);
    assert_eq!(d.last_changed_ranges()[0].end_byte, d.rope.len_bytes());
}

#[test]
fn changed_ranges_cover_a_structural_edit() {
    let mut d = doc("a = 1\n\ndef f():\n    return 2\n\nz = 3\n");
    // `return 2` → `return g(2)`.
    d.apply_change(&change(p(3, 11), p(3, 12), "g(2)"), Utf16);
    let ranges = d.last_changed_ranges();
    assert!(!ranges.is_empty());
    let edit = d.position_to_byte(p(3, 11), Utf16);
    assert!(ranges
        .iter()
        .any(|r| r.start_byte <= edit && edit < r.end_byte));
    // Nothing outside the function changed.
    let f_start = d.position_to_byte(p(2, 0), Utf16);
    let z_start = d.position_to_byte(p(5, 0), Utf16);
    assert!(ranges
        .iter()
        .all(|r| r.start_byte >= f_start && r.end_byte <= z_start));
}

#[test]
fn clone_is_independent() {
    let d = doc("x = 1\n");
    let mut c = d.clone();
    c.apply_change(&change(p(0, 4), p(0, 5), "2"), Utf16);
    assert_eq!(d.text(), "x = 1\n");
    assert_eq!(c.text(), "x = 2\n");
    assert_same_as_fresh(&c);
    assert_same_as_fresh(&d);
}

#[test]
fn empty_change_is_a_no_op() {
    let mut d = doc("x = 1\n");
    d.apply_changes(&[change(p(0, 2), p(0, 2), "")], 3, Utf16);
    assert_eq!(d.text(), "x = 1\n");
    assert_eq!(d.version, 3);
    assert!(d.last_changed_ranges().is_empty());
}

/// tree-sitter's point of `byte` in the parse view (a lone `\r` reads as `\n`), by scanning: rows
/// count `\n` and lone `\r`, columns are bytes.
fn naive_ts_point(text: &str, byte: usize) -> Point {
    let view = super::parse_view(text);
    let before = &view[..byte];
    match before.rfind('\n') {
        Some(i) => Point::new(before.matches('\n').count(), byte - i - 1),
        None => Point::new(0, byte),
    }
}

#[test]
fn input_edit_points_follow_tree_sitter() {
    for text in [
        "a = 1\nb = '中😀'\r\nc\n",
        "a\rb\r\r\nc\rd\n\re",
        "",
        "\r",
        "x\r\n",
    ] {
        let d = doc(text);
        for (byte, _) in text.char_indices().chain([(text.len(), ' ')]) {
            if text[..byte].ends_with('\r') && text[byte..].starts_with('\n') {
                continue;
            }
            assert_eq!(
                d.ts_point(byte),
                naive_ts_point(text, byte),
                "{text:?} {byte}"
            );
        }
    }
    // After edits too (the lone-\r flag is kept up to date).
    let mut d = doc("a = 1\nb = 2\n");
    d.apply_change(&change(p(0, 1), p(0, 1), "\r"), Utf16);
    d.apply_change(&change(p(2, 0), p(2, 1), "c\rd"), Utf16);
    let text = d.text();
    assert_eq!(text, "a\r = 1\nc\rd = 2\n");
    for (byte, _) in text.char_indices() {
        assert_eq!(d.ts_point(byte), naive_ts_point(&text, byte), "{byte}");
    }
    assert_same_as_fresh(&d);
}

#[test]
fn document_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Document>();
}

#[test]
fn no_changes_only_sets_the_version() {
    let mut d = doc("x = 1\n");
    d.apply_change(&change(p(0, 4), p(0, 5), "[1, 2]"), Utf16);
    assert!(!d.last_changed_ranges().is_empty());
    d.apply_changes(&[], 9, Utf16);
    assert_eq!(d.version, 9);
    assert_eq!(d.text(), "x = [1, 2]\n");
    assert!(d.last_changed_ranges().is_empty());
    assert_same_as_fresh(&d);
}

/// Types `line` one character at a time as a new line before line `at` of `text`; after every
/// keystroke an error-free text must be exactly a fresh parse. Returns the patch trees (as
/// S-expressions) of the keystrokes that left a string open (at least three characters in), for
/// the caller to look at.
fn type_line(text: &str, at: u32, line: &str) -> Vec<String> {
    let mut d = doc(text);
    let line_break = if text.contains("\r\n") { "\r\n" } else { "\n" };
    d.apply_change(&change(p(at, 0), p(at, 0), line_break), Utf8);
    assert_patch_as_fresh(&d);
    let mut open = Vec::new();
    let mut col = 0;
    for ch in line.chars() {
        d.apply_change(&change(p(at, col), p(at, col), &ch.to_string()), Utf8);
        col += ch.len_utf8() as u32;
        assert_patch_as_fresh(&d);
        let fresh = Document::new(&d.text(), 0);
        if !fresh.tree.root_node().has_error() {
            assert_same_as_fresh(&d);
        }
        let typed = &line[..col as usize];
        let quotes = typed.matches('"').count();
        if quotes % 2 == 1 && typed.len() - typed.rfind('"').unwrap() > 3 {
            if let Some(patch) = d.patch() {
                open.push(patch.tree.root_node().to_sexp());
            }
        }
    }
    assert_same_as_fresh(&d);
    open
}

/// While a one-line string is open, its content is left out of the region parse (tree-sitter's
/// error recovery would read `sk-live-4f9c…` as code, at a cost of 0.1–0.2 ms a keystroke): the
/// statement stays patched, with the error at the opening quote. Strings with escapes,
/// interpolations or other quotes in them are parsed in full. Error-free states always equal a
/// fresh parse.
#[test]
fn an_open_string_is_parsed_without_its_content() {
    let text = "import os\n\n\nclass A:\n    def f(self):\n        if x:\n            y(\"a\")\n        return 1\n";
    for (at, indent) in [(5, "        "), (8, "")] {
        let open = type_line(
            text,
            at,
            &format!("{indent}KEY = \"sk-live-4f9c2b7e8d\"  # k"),
        );
        assert!(open.len() > 10, "the statement stays patched: {open:?}");
        for sexp in &open {
            assert!(
                sexp.contains("(ERROR ") && sexp.contains(" (string_start))"),
                "{sexp}"
            );
            assert!(!sexp.contains("binary_operator"), "content parsed: {sexp}");
        }
        for line in [
            "KEY = 'sk-live-4f9c2b' + \"x\"",
            "KEY = f\"{a}-4f9c-{b}\"",
            "KEY = \"a\\\"b-4f9c\\\\\"",
            "KEY = b\"x-4f9c\" if c else r\"y\\d\"",
            "KEY = \"\"\"ab-4f\"\"\"",
            "KEY = \"x\" \"y-4f\" 'z' \"",
        ] {
            type_line(text, at, &format!("{indent}{line}"));
        }
    }
    // With `\r\n` line breaks.
    let crlf = text.replace('\n', "\r\n");
    let open = type_line(&crlf, 5, "        KEY = \"sk-live-4f9c2b7e8d\"");
    assert!(open.len() > 10, "the statement stays patched: {open:?}");
    assert!(
        open.iter().all(|sexp| !sexp.contains("binary_operator")),
        "{open:?}"
    );
    // At the very end of a file without a final line break (the scanner meets the end of the
    // text, not a line break).
    let text = text.trim_end();
    let mut d = doc(text);
    let last = text.lines().count() as u32 - 1;
    let end = text.lines().last().unwrap().len() as u32;
    d.apply_change(&change(p(last, end), p(last, end), "\n"), Utf8);
    let mut open = 0;
    for (col, ch) in "KEY = \"sk-live-4f9c2b7e8d\"".chars().enumerate() {
        d.apply_change(
            &change(
                p(last + 1, col as u32),
                p(last + 1, col as u32),
                &ch.to_string(),
            ),
            Utf8,
        );
        if let Some(patch) = d.patch() {
            let sexp = patch.tree.root_node().to_sexp();
            if (10..27).contains(&col) {
                open += 1;
                assert!(!sexp.contains("binary_operator"), "content parsed: {sexp}");
            }
        }
        if !Document::new(&d.text(), 0).tree.root_node().has_error() {
            assert_same_as_fresh(&d);
        }
    }
    assert!(open > 10, "the last statement stays patched");
    assert_same_as_fresh(&d);
}

/// `levels` lines `if x:`, each one space deeper, then `y = "s"` one deeper still: one open string
/// delimiter at the deepest point, which makes tree-sitter-python abort the process at 511 levels.
fn staircase(levels: usize) -> String {
    let mut text = String::new();
    for i in 0..levels {
        text.push_str(&" ".repeat(i));
        text.push_str("if x:\n");
    }
    text.push_str(&" ".repeat(levels));
    text.push_str("y = \"s\"\n");
    text
}

#[test]
fn indentation_too_deep_for_the_parser_is_left_unparsed() {
    // Under the limit: parsed as usual.
    let shallow = doc(&staircase(indent::MAX_DEPTH as usize - 1));
    assert!(!shallow.too_deep());
    assert!(!shallow.tree.root_node().has_error());
    assert_eq!(shallow.tree.root_node().named_child_count(), 1);
    // Far past where the parser aborts: a blank text's tree with the document's extent.
    let text = staircase(600);
    let deep = doc(&text);
    assert!(deep.too_deep());
    let root = deep.tree.root_node();
    assert_eq!(root.named_child_count(), 0);
    assert_eq!(root.end_byte(), text.len());
    assert_eq!(root.end_position().row, 601);
}

/// Moves the statement below the `levels` lines of a [`staircase`] to its depth (one edit), and
/// checks the document: its text, whether it is left unparsed, and, when parsed, its tree against
/// a fresh parse.
fn settle_staircase(d: &mut Document, version: &mut i32, levels: usize) {
    let line = d.rope.line(levels).to_string();
    let width = line.len() - line.trim_start().len();
    *version += 1;
    d.apply_changes(
        &[change(
            p(levels as u32, 0),
            p(levels as u32, width as u32),
            &" ".repeat(levels),
        )],
        *version,
        Utf8,
    );
    assert_eq!(d.text(), staircase(levels));
    assert_eq!(
        d.too_deep(),
        levels >= indent::MAX_DEPTH as usize,
        "{levels}"
    );
    if !d.too_deep() {
        d.flush();
        assert_same_as_fresh(d);
    }
}

#[test]
fn typing_into_and_out_of_too_deep_indentation() {
    // Lines one deeper each are added through edits, several per notification sometimes, to
    // 600 levels, then taken away again: never an abort, the tree is unparsed exactly while the
    // bound says so, and an exact parse whenever it is not.
    let start = indent::MAX_DEPTH as usize - 40;
    let mut d = doc(&staircase(start));
    let mut version = 0;
    let mut levels = start;
    while levels < 600 {
        let add = if levels % 3 == 0 { 1 } else { 7 };
        let mut lines = String::new();
        for i in levels..levels + add {
            lines.push_str(&" ".repeat(i));
            lines.push_str("if x:\n");
        }
        version += 1;
        d.apply_changes(
            &[change(p(levels as u32, 0), p(levels as u32, 0), &lines)],
            version,
            Utf8,
        );
        levels += add;
        // The statement at the bottom moves one deeper too.
        settle_staircase(&mut d, &mut version, levels);
    }
    // Back out, 50 lines at a time.
    while levels > start {
        let remove = 50.min(levels - start);
        version += 1;
        d.apply_changes(
            &[change(
                p((levels - remove) as u32, 0),
                p(levels as u32, 0),
                "",
            )],
            version,
            Utf8,
        );
        // The statement is now `remove` deeper than its `if`.
        levels -= remove;
        settle_staircase(&mut d, &mut version, levels);
    }
    // A full replacement is checked too.
    version += 1;
    d.apply_changes(
        &[ContentChange {
            range: None,
            text: staircase(700),
        }],
        version,
        Utf8,
    );
    assert!(d.too_deep());
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config { cases: 300, ..Default::default() })]

    /// The indentation bound a document keeps through edits is never below the bound of its text
    /// computed from scratch (else a file could nest deeper than the guard believes).
    #[test]
    fn the_kept_indentation_bound_is_never_below_the_exact_one(
        lines in proptest::collection::vec((0usize..12, "[a-z#\\\\ ]{0,6}"), 1..30),
        edits in proptest::collection::vec(
            (0usize..10_000, 0usize..8, "[ \t\n\r\x0ca#\\\\]{0,5}"),
            1..60,
        ),
    ) {
        let mut text = String::new();
        for (indent, content) in &lines {
            text.push_str(&" ".repeat(*indent));
            text.push_str(content);
            text.push('\n');
        }
        let mut d = doc(&text);
        for (i, (at, len, insert)) in edits.iter().enumerate() {
            let total = d.rope.len_bytes();
            let a = at % (total + 1);
            let b = (a + len).min(total);
            let (start, end) = (
                d.byte_to_position(a, Utf8),
                d.byte_to_position(b, Utf8),
            );
            d.apply_changes(&[change(start, end, insert)], i as i32 + 1, Utf8);
            let exact = indent::depth_bound(d.rope.chunks().map(str::as_bytes));
            proptest::prop_assert!(
                d.indent_bound >= exact,
                "kept {} < exact {exact} after edit {i} of {:?}",
                d.indent_bound,
                d.text()
            );
        }
    }
}

/// A lone `\r` ends a line, as in Python: the statements of a file with lone-`\r` line endings
/// are those of its `\n` version, at the same offsets, fresh and after edits that make and unmake
/// lone `\r` (the `\r` before an edit is read again).
#[test]
fn lone_cr_ends_a_line_for_the_parser() {
    let lf =
        "import os\n\nclass C:\n    x = 1\n\n    def m(self):\n        return os.environ['K']\n";
    let cr = lf.replace('\n', "\r");
    let (a, b) = (doc(lf), doc(&cr));
    assert!(
        !b.tree.root_node().has_error(),
        "{}",
        b.tree.root_node().to_sexp()
    );
    assert_eq!(dump(&a.tree), dump(&b.tree));
    // Mixed: `\r\n` and lone `\r`.
    let mixed = lf
        .replacen('\n', "\r\n", 3)
        .replace('\n', "\r")
        .replace("\r\r", "\r\n");
    assert!(!doc(&mixed).tree.root_node().has_error(), "{mixed:?}");
    // Edits: `\r\n` → `\r` (the `\n` deleted) and back, Enter typed as `\r`.
    let mut d = doc(&lf.replace('\n', "\r\n"));
    d.apply_change(&change(p(0, 9), p(1, 0), "\r"), Utf16);
    assert_same_as_fresh(&d);
    assert!(!d.tree.root_node().has_error());
    d.apply_change(&change(p(1, 0), p(1, 0), "\n"), Utf16);
    assert_same_as_fresh(&d);
    d.apply_change(&change(p(3, 9), p(3, 9), "\ry = 2"), Utf16);
    assert_same_as_fresh(&d);
    assert!(!d.tree.root_node().has_error(), "{}", d.text());
    let mut d = doc(&cr);
    // Deleting the line break after `import os`, then typing it again as `\r`.
    d.apply_change(&change(p(0, 9), p(1, 0), ""), Utf16);
    assert_same_as_fresh(&d);
    d.apply_change(&change(p(0, 9), p(0, 9), "\r"), Utf16);
    assert_same_as_fresh(&d);
    assert_eq!(d.text(), cr);
    assert!(!d.tree.root_node().has_error());
}

/// Typing `logger.info("checking key %s", x_api_key)` inside a handler leaves the call open for
/// most keystrokes: a fresh parse then reads on into the next handlers, and so did the whole-file
/// reparse that used to follow (tree-sitter's error recovery over the rest of the module: 10–90 ms
/// a keystroke at 8,000 lines). The region is extended over the next statements instead
/// (`region::extend`): every keystroke stays patched, the stale statements the region covers
/// stand for nothing (no two statements of the view overlap), and every error-free state is
/// exactly a fresh parse.
#[test]
fn a_bracket_left_open_extends_the_patch_over_the_next_statements() {
    let handler = |i: usize| {
        format!(
            "\n\n@app.get(\"/v{i}\")\ndef get_{i}(x_api_key: str = Header(...)):\n    key_hash = hash_key(x_api_key)\n    audit(\"get\", key_hash)\n    return {{\"id\": {i}}}\n"
        )
    };
    let mut text = String::from("import logging\n\nlogger = logging.getLogger(__name__)\n");
    for i in 0..4 {
        text.push_str(&handler(i));
    }
    // Inside the second handler, before `audit(...)` (line 13).
    let at = text
        .lines()
        .position(|l| l.contains("audit(\"get\""))
        .unwrap() as u32
        + 7;
    assert!(text.lines().nth(at as usize).unwrap().contains("audit("));
    let line = "    logger.info(\"checking key %s\", x_api_key)";
    let mut d = doc(&text);
    d.apply_change(&change(p(at, 0), p(at, 0), "\n"), Utf8);
    let (mut extended, mut col) = (0, 0);
    for ch in line.chars() {
        d.apply_change(&change(p(at, col), p(at, col), &ch.to_string()), Utf8);
        col += 1;
        assert_patch_as_fresh(&d);
        let patch = d.patch().expect("every keystroke stays patched");
        let region = patch.region();
        let region_text = &d.text()[region.clone()];
        if region_text.matches("def ").count() > 1 {
            extended += 1;
        }
        // No stale statement stands beside the patch's.
        let ranges: Vec<(usize, usize)> = d
            .view()
            .outline()
            .iter()
            .filter(|l| !l.starts_with("comment") && !l.starts_with("class"))
            .map(|l| {
                let (s, e) = l[..l.find(' ').unwrap()].split_once("..").unwrap();
                (s.parse().unwrap(), e.parse().unwrap())
            })
            .collect();
        assert!(
            ranges.windows(2).all(|w| w[0].1 <= w[1].0),
            "overlapping statements after {:?}: {ranges:?}",
            &line[..col as usize]
        );
        if !Document::new(&d.text(), 0).tree.root_node().has_error() {
            assert_same_as_fresh(&d);
        }
    }
    assert!(
        extended > 10,
        "the region took the next handler: {extended}"
    );
    assert_same_as_fresh(&d);
}

/// The first edit inside a statement after the open (no patch yet) parses the statement's
/// region with the edited whole tree as the old tree: at every line of a module with handlers,
/// a decorated class and its methods, a space typed at the end of the line and a line opened
/// before it each give a patch equal to a parse of the region from scratch, and a view equal
/// to a fresh parse of the file.
#[test]
fn the_first_patch_after_the_open_takes_the_nodes_the_edit_left_alone() {
    let mut text = String::from("import logging\n\nlogger = logging.getLogger(__name__)\n");
    for i in 0..3 {
        text.push_str(&format!(
            "\n\n@app.get(\"/v{i}\")\ndef get_{i}(x_api_key: str = Header(...)):\n    key_hash = hash_key(x_api_key)\n    if key_hash:\n        audit(\"get\", key_hash)\n    return {{\"id\": {i}}}\n"
        ));
    }
    text.push_str("\n\n@dataclass\nclass Repo:\n    table: str = \"keys\"\n\n    def put(self, key):\n        self._table.put_item(Item={\"k\": key})\n        return key\n");
    let mut patched = 0;
    for (i, line) in text.lines().enumerate() {
        let content = line.trim_start();
        if content.is_empty() {
            continue;
        }
        let indent = &line[..line.len() - content.len()];
        let at = i as u32;
        for (pos, typed) in [
            (p(at, line.len() as u32), " ".to_string()),
            (p(at, 0), format!("{indent}\n")),
        ] {
            let mut d = doc(&text);
            d.apply_change(&change(pos, pos, &typed), Utf8);
            patched += usize::from(d.patch().is_some());
            assert_patch_as_fresh(&d);
            assert_same_as_fresh(&d);
            // And the next keystroke, from the patch.
            let next = p(pos.line, pos.character + typed.len() as u32);
            d.apply_change(&change(next, next, " "), Utf8);
            assert_patch_as_fresh(&d);
        }
    }
    assert!(patched > 20, "most first edits are patched: {patched}");
}
