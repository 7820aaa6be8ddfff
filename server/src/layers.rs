//! The stack of rooms (issue #14): each room of `src/` imports only rooms on floors below its own.
//! The test reads the imports of every file (`use crate::…`, paths `crate::room::…` written in
//! code, and `super::…` paths that climb to the crate root) and fails on an arrow that runs back up
//! or sideways. Test modules (from a file's `#[cfg(test)]` on, and `tests.rs` files) may drive the
//! whole engine and are not read.

use std::path::{Path, PathBuf};

/// The floors, from the ground up. A room imports only rooms of lower floors.
const FLOORS: &[&[&str]] = &[
    &["finding", "document"],
    &["syntax"],
    &["model"],
    &["dataflow"],
    &["rules", "project"],
    &["config"],
    &["engine"],
    &["lsp"],
    &["cli"],
];

fn floor(room: &str) -> Option<usize> {
    FLOORS.iter().position(|f| f.contains(&room))
}

/// The code of a file as the stack sees it: without comments, up to its first `#[cfg(test)]`.
fn code_of(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]") {
            break;
        }
        out.push_str(line.split("//").next().unwrap_or(""));
        out.push('\n');
    }
    out
}

fn ident_at(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The rooms a file of room `module[0]` (module path `module`, e.g. `["dataflow", "local",
/// "calls"]`) names: after `crate::`, inside `use crate::{…}` groups, and through `super::` chains
/// that reach the crate root.
fn rooms_named(module: &[String], code: &str) -> Vec<String> {
    let mut out = Vec::new();
    // `crate::room` and `use crate::{room::…, room2}`.
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0usize;
            let mut at_item = true;
            for (k, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => at_item = true,
                    c if at_item && !c.is_whitespace() => {
                        at_item = false;
                        out.push(ident_at(&group[k..]).to_string());
                    }
                    _ => {}
                }
            }
        } else {
            out.push(ident_at(rest).to_string());
        }
    }
    // `super::super::room`: a chain of `super` that climbs to the crate root.
    for (i, _) in code.match_indices("super::") {
        if i > 0 && code[..i].ends_with("super::") {
            continue; // counted from the chain's first `super`
        }
        let mut rest = &code[i..];
        let mut ups = 0;
        while let Some(r) = rest.strip_prefix("super::") {
            ups += 1;
            rest = r;
        }
        if ups == module.len() {
            out.push(ident_at(rest).to_string());
        }
    }
    out.retain(|r| floor(r).is_some());
    out
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every arrow of `src/` that does not run down the stack: `file: room -> room`.
fn arrows_up(src: &Path) -> Vec<String> {
    let mut all = Vec::new();
    files(src, &mut all);
    all.sort();
    let mut bad = Vec::new();
    for path in all {
        let rel = path.strip_prefix(src).unwrap();
        let mut module: Vec<String> = rel
            .with_extension("")
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if module.last().is_some_and(|m| m == "mod") {
            module.pop();
        }
        if rel.components().count() == 1 {
            continue; // lib.rs, main.rs, this file: the crate root
        }
        if module.last().is_some_and(|m| m == "tests") {
            continue;
        }
        let room = module[0].clone();
        let Some(own) = floor(&room) else {
            bad.push(format!(
                "{}: room `{room}` is on no floor of FLOORS",
                rel.display()
            ));
            continue;
        };
        let code = code_of(&std::fs::read_to_string(&path).unwrap());
        for other in rooms_named(&module, &code) {
            if other != room && floor(&other).is_some_and(|f| f >= own) {
                bad.push(format!("{}: {room} -> {other}", rel.display()));
            }
        }
    }
    bad.sort();
    bad.dedup();
    bad
}

#[test]
fn every_import_runs_down_the_stack() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let bad = arrows_up(&src);
    assert!(
        bad.is_empty(),
        "imports that run back up the stack (see FLOORS in src/layers.rs and ARCHITECTURE.md):\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_reader_sees_every_form_of_import() {
    let module = |m: &[&str]| m.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let code = code_of(
        "use crate::{\n    engine::Analyzer,\n    model::{Model, Binding},\n    lsp,\n};\n\
         use crate::rules::Rule; // crate::cli in a comment\n\
         fn f() { crate::config::load(); super::super::project::x(); super::sibling(); }\n\
         #[cfg(test)]\nmod tests { use crate::cli::Args; }\n",
    );
    let mut named = rooms_named(&module(&["dataflow", "local"]), &code);
    named.sort();
    assert_eq!(
        named,
        ["config", "engine", "lsp", "model", "project", "rules"]
    );
    // From `dataflow/mod.rs`, one `super` is the crate root.
    assert_eq!(
        rooms_named(&module(&["dataflow"]), "use super::model::Model;"),
        ["model"]
    );
    assert_eq!(floor("finding"), Some(0));
    assert!(floor("engine") > floor("rules"));
}
