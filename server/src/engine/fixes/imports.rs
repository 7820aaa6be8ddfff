//! Adding `import x` where a careful human would: after the module docstring and `__future__`
//! imports, inside the leading import block in alphabetical order among the plain `import`
//! statements, never twice.

use super::Edit;
use crate::document::SourceText;
use crate::model::Model;

/// One edit inserting `import m` lines for every module in `modules` (in sorted order), or `None`
/// when there is nothing to add.
pub fn import_edit(modules: &[&str], model: &Model, src: SourceText) -> Option<Edit> {
    if modules.is_empty() {
        return None;
    }
    let mut modules: Vec<&str> = modules.to_vec();
    modules.sort_unstable();
    modules.dedup();
    let eol = src.line_ending();
    let layout = &model.layout;
    let first = modules[0];

    // Before the first plain import that sorts after ours, else after the last plain import,
    // else before the first `from` import, else after the header.
    let plain: Vec<_> = layout
        .block
        .iter()
        .filter(|(_, plain, _, _)| *plain)
        .collect();
    let at = if let Some((_, _, start, _)) = plain.iter().find(|(m, _, _, _)| m.as_str() > first) {
        *start
    } else if let Some((_, _, _, end)) = plain.last() {
        *end
    } else if let Some((_, _, start, _)) = layout.block.first() {
        *start
    } else {
        layout.after_header
    };

    let mut text = String::new();
    // Inserting at the very end of a file that lacks a final newline: start a new line first.
    if at == src.len() && at > 0 && !src.slice(at - 1..at).ends_with(['\n', '\r']) {
        text.push_str(eol);
    }
    for m in &modules {
        text.push_str("import ");
        text.push_str(m);
        text.push_str(eol);
    }
    // No imports yet, and code follows right after the header: keep a blank line between.
    if layout.block.is_empty() && at < src.len() {
        let next = src.slice(at..(at + 2).min(src.len()));
        if !next.starts_with(['\n', '\r']) {
            text.push_str(eol);
        }
    }
    Some(Edit::insert(at, text))
}
