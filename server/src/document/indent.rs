//! A guard in front of tree-sitter-python's indentation stack.
//!
//! tree-sitter-python's external scanner keeps a stack of indentation widths, and tree-sitter
//! stores the scanner's state, serialised, in the tree (at most 1,024 bytes). Its serialiser
//! (tree-sitter-python 0.25.0) writes two bytes per level while fewer than 1,024 are written: with
//! an odd number of open string delimiters it writes 1,025, and tree-sitter's assertion aborts the
//! process — a C `abort`, which no `catch_unwind` contains. One open string (`y = "s"` on the
//! deepest line) takes 511 levels; at most 255 delimiters are stored, so 384 levels may do. A file with
//! indentation that deep is not Python (CPython stops at 100 levels), but the language server and
//! `keylint check` must survive it: such a file is parsed as blank text instead (every byte but
//! line breaks a space, so offsets and rows still match), and reported as not analysed.
//!
//! [`depth_bound`] gives an upper bound of the stack's depth without running the scanner: the
//! scanner computes an indentation width after a line break (spaces count 1, tabs 8, `\r` and form
//! feed reset it, comment lines and `\`-continued blank lines are skipped), and pushes it only when
//! it is greater than the top of the stack. So the stack, read from the bottom, is a strictly
//! increasing sequence of widths the scanner computed, in text order: no longer than the longest
//! strictly increasing subsequence of all the widths computed after every `\n` of the text
//! (including the ones inside strings, which the scanner does not look at: an over-estimate).
//!
//! An edit changes few widths, so [`Document`](super::Document) keeps a bound that each change
//! raises by what it can add (see [`change_allowance`]) and computes it again only when the bound
//! reaches [`MAX_DEPTH`].

/// A document whose indentation may nest this deep is not parsed (the scanner fails at about 384).
pub const MAX_DEPTH: u32 = 300;

/// The bytes that start, end or continue a width differently: line breaks, comments, `\`.
fn is_special(b: u8) -> bool {
    matches!(b, b'\n' | b'\r' | b'#' | b'\\' | b'\x0c')
}

/// Whether `bytes` hold a byte that starts, ends or continues a width differently.
pub(super) fn has_special(bytes: &[u8]) -> bool {
    bytes.iter().any(|&b| is_special(b))
}

/// How much one change (its inserted text, and whether the text it removed held a special byte)
/// can raise the longest increasing sequence of widths. A width is computed after every `\n`; a
/// change touches the width it lies in and the one after it, and adds one per `\n` it inserts
/// (a `#`, `\` or `\r` may split or continue one more). Plain text (typing, or deleting, anything
/// but those bytes) changes one width at most: one.
pub(super) fn change_allowance(inserted: &str, removed_special: bool) -> u32 {
    let special = inserted.bytes().filter(|&b| is_special(b)).count();
    let ends = if special == 0 && !removed_special {
        1
    } else {
        3
    };
    u32::try_from(special)
        .unwrap_or(u32::MAX)
        .saturating_add(ends)
}

/// Where the width scan is.
#[derive(Clone, Copy)]
enum State {
    /// In a line's content: waits for the next `\n`.
    Code,
    /// In the whitespace after a `\n`, with the width so far.
    Indent(u16),
    /// In a comment line, after the width of its `#`: it does not count.
    Comment,
    /// After a `\` in the whitespace (and a `\r`, if the bool): a line break continues the width.
    Backslash(u16, bool),
}

/// An upper bound of the depth of tree-sitter-python's indentation stack over the text given in
/// `pieces` (see the module documentation); stops counting at [`MAX_DEPTH`].
pub fn depth_bound<'a>(pieces: impl IntoIterator<Item = &'a [u8]>) -> u32 {
    // `tails[i]`: the smallest last width of a strictly increasing sequence of `i + 1` widths.
    let mut tails: Vec<u16> = Vec::new();
    let push = |tails: &mut Vec<u16>, width: u16| {
        if width == 0 {
            return;
        }
        let at = tails.partition_point(|&t| t < width);
        if at == tails.len() {
            tails.push(width);
        } else {
            tails[at] = width;
        }
    };
    // The first line's indentation is never pushed (no line break before it).
    let mut state = State::Code;
    for piece in pieces {
        let mut i = 0;
        while i < piece.len() {
            match state {
                // The rest of the line does not count: the next width starts after its `\n`.
                State::Code | State::Comment => match memchr::memchr(b'\n', &piece[i..]) {
                    Some(at) => {
                        i += at + 1;
                        state = State::Indent(0);
                        continue;
                    }
                    None => break,
                },
                State::Indent(width) => {
                    state = match piece[i] {
                        b' ' => State::Indent(width.wrapping_add(1)),
                        b'\t' => State::Indent(width.wrapping_add(8)),
                        b'\n' | b'\r' | b'\x0c' => State::Indent(0),
                        b'#' => State::Comment,
                        b'\\' => State::Backslash(width, false),
                        _ => {
                            push(&mut tails, width);
                            State::Code
                        }
                    };
                }
                State::Backslash(width, cr) => {
                    state = match piece[i] {
                        b'\r' if !cr => State::Backslash(width, true),
                        b'\n' => State::Indent(width),
                        // Not a continuation: the scanner gives up there (no width pushed);
                        // counting it anyway only raises the bound.
                        _ => {
                            push(&mut tails, width);
                            State::Code
                        }
                    };
                }
            }
            i += 1;
        }
        if tails.len() >= MAX_DEPTH as usize {
            return MAX_DEPTH;
        }
    }
    // At the end of the text the scanner pushes nothing (its width is 0).
    (tails.len() as u32).min(MAX_DEPTH)
}

/// The text as blank: every byte but `\n` and `\r` a space (same length, same line breaks), for a
/// parse that keeps the document's offsets and rows and holds no statement.
pub(super) fn blank<'a>(pieces: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut out = String::new();
    for piece in pieces {
        out.extend(piece.iter().map(|&b| match b {
            b'\n' | b'\r' => b as char,
            _ => ' ',
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bound(text: &str) -> u32 {
        depth_bound([text.as_bytes()])
    }

    /// Lines `if x:` indented one more space each, `levels` of them, then a statement.
    fn staircase(levels: usize, last: &str) -> String {
        let mut text = String::new();
        for i in 0..levels {
            text.push_str(&" ".repeat(i));
            text.push_str("if x:\n");
        }
        text.push_str(&" ".repeat(levels));
        text.push_str(last);
        text.push('\n');
        text
    }

    #[test]
    fn real_code_is_shallow() {
        let text = "import os\n\nclass A:\n    def f(self):\n        if x:\n            return 1\n        # c\n    def g(self):\n        pass\n";
        assert_eq!(bound(text), 3);
        assert_eq!(bound(""), 0);
        assert_eq!(
            bound("    x = 1\n"),
            0,
            "the first line's indentation is not pushed"
        );
    }

    #[test]
    fn the_bound_follows_the_scanners_widths() {
        // Tabs count 8; `\r` and form feed reset; a comment line and a `\`-continued blank line
        // do not end the width (the continued one adds up).
        assert_eq!(bound("a\n\tb\n\t c\n"), 2);
        assert_eq!(bound("a\n    b\n  \r  c\n"), 1);
        assert_eq!(bound("a\n    # c\n  b\n"), 1);
        assert_eq!(bound("a\n  \\\n  b\n"), 1);
        assert_eq!(bound("a\n  \\\r\n   b\n    c\n"), 1, "5 then 4: one level");
        assert_eq!(bound("a\n  \\\r\n   b\n      c\n"), 2, "5 then 6");
        assert_eq!(bound(&staircase(10, "y")), 10);
        // Pieces split anywhere give the same bound.
        let text = staircase(40, "\"s\"");
        for cut in [1, 7, 100, text.len() - 1] {
            let (a, b) = text.as_bytes().split_at(cut);
            assert_eq!(depth_bound([a, b]), 40);
        }
        assert_eq!(bound(&staircase(1000, "y")), MAX_DEPTH);
    }

    #[test]
    fn blank_keeps_offsets_and_line_breaks() {
        let text = "é = 1\r\n  x\n";
        let b = blank([text.as_bytes()]);
        assert_eq!(b.len(), text.len());
        assert_eq!(b, "      \r\n   \n");
    }
}
