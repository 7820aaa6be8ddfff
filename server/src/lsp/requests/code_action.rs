//! `textDocument/codeAction`: quick fixes from the diagnostics' `data`, and `source.fixAll.keylint`.
//!
//! A quick fix is unpacked from the `data` of a keylint diagnostic of the request's context (or of
//! a current diagnostic overlapping the requested range); `data` records the document version its
//! ranges belong to, and fixes of another version are not offered. Fixes that touch other files
//! (`.env`, `.gitignore`) are offered only to clients that support `documentChanges` with the
//! `create` resource operation; their edits are built now, reading the secret from the document
//! and the files from disk.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

use super::initialize::FIX_ALL_KIND;
use crate::document::{Document, PositionEncoding};
use crate::lsp::convert::{self, DiagnosticData, FixData, WorkspaceOpData};
use crate::lsp::server::{guard, ClientCaps, Results, Server};

/// What the actions are built against.
struct Ctx<'a> {
    uri: &'a Uri,
    doc: &'a Document,
    enc: PositionEncoding,
    caps: &'a ClientCaps,
    root: Option<&'a Path>,
}

pub async fn code_action(
    server: &Server,
    params: CodeActionParams,
) -> Result<Option<CodeActionResponse>> {
    let uri = params.text_document.uri.clone();
    let want_quickfix = wants(&params.context.only, CodeActionKind::QUICKFIX.as_str());
    let want_fix_all = wants(&params.context.only, FIX_ALL_KIND);
    if !want_quickfix && !want_fix_all {
        return Ok(None);
    }
    // The current analysis (done now if the latest edit has not been analysed yet).
    let Some(results) = server.current_results(&uri).await? else {
        return Ok(None);
    };
    let (enc, caps, root) = {
        let st = server.state();
        (st.encoding, st.caps.clone(), st.root.clone())
    };
    let fixed_all = if want_fix_all {
        fix_all(&results).await
    } else {
        None
    };
    guard("codeAction", || {
        let ctx = Ctx {
            uri: &uri,
            doc: &results.doc,
            enc,
            caps: &caps,
            root: root.as_deref(),
        };
        let mut actions: Vec<CodeActionOrCommand> = Vec::new();
        if want_quickfix {
            // Diagnostics of the context first, then current ones overlapping the range.
            let mut diags: Vec<Diagnostic> = params
                .context
                .diagnostics
                .iter()
                .filter(|d| d.source.as_deref() == Some(convert::SOURCE))
                .cloned()
                .collect();
            // Only the diagnostics under the range are made JSON (a codeAction comes with
            // every cursor move; a file may hold hundreds of findings).
            let near = results
                .diagnostics
                .iter_where(|d| overlaps(d.range, params.range));
            for d in near {
                let already = diags.iter().any(|c| c.range == d.range && c.code == d.code);
                if !already {
                    diags.push(d);
                }
            }
            let mut suppressed: Vec<(u32, String)> = Vec::new();
            for diag in &diags {
                let Some(data) = diag
                    .data
                    .clone()
                    .and_then(|v| serde_json::from_value::<DiagnosticData>(v).ok())
                else {
                    continue;
                };
                if data.version != results.version {
                    continue;
                }
                for fix in &data.fixes {
                    if let Some(action) = quick_fix(&ctx, diag, fix) {
                        actions.push(CodeActionOrCommand::CodeAction(action));
                    }
                }
                if let Some(action) = suppression_action(&ctx, diag, &mut suppressed) {
                    actions.push(CodeActionOrCommand::CodeAction(action));
                }
            }
        }
        if let Some((old, new, count)) = &fixed_all {
            let (bytes, new_text) = changed_span(old, new);
            let text_edit = TextEdit::new(
                convert::range(&results.doc, bytes, enc),
                new_text.to_string(),
            );
            actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: format!("keylint: fix all safely fixable problems ({count})"),
                kind: Some(CodeActionKind::new(FIX_ALL_KIND)),
                edit: Some(document_edit(&ctx, vec![text_edit])),
                ..Default::default()
            }));
        }
        Ok(Some(actions))
    })
}

/// `source.fixAll.keylint`: the safe fixes of the reported findings (suppressed findings have
/// none; unsafe ones too with `unsafe-fixes = true` or the `unsafeFixes` setting), applied until nothing changes, exactly as `keylint check --fix` does
/// ([`crate::engine::pipeline::fix_all`]); on the blocking pool. The text before, after, and the number of fixes.
async fn fix_all(results: &Arc<Results>) -> Option<(String, String, usize)> {
    let include_unsafe = results.config.unsafe_fixes;
    if crate::engine::fixes::fix_all_edits(&results.analysis, results.doc.source(), include_unsafe)
        .is_empty()
    {
        return None;
    }
    let r = results.clone();
    let job = tokio::task::spawn_blocking(move || {
        catch_unwind(AssertUnwindSafe(|| {
            let text = r.doc.text();
            let fixed = crate::engine::pipeline::fix_all(
                &text,
                r.doc.source(),
                &r.analysis,
                &r.config,
                r.path.as_deref(),
                false,
            )?;
            Some((text, fixed.text, fixed.fixes))
        }))
        .ok()
        .flatten()
    });
    job.await.ok().flatten()
}

/// The smallest byte span of `old` to replace, and by what, to get `new` (one edit, on character
/// boundaries).
fn changed_span<'n>(old: &str, new: &'n str) -> (std::ops::Range<usize>, &'n str) {
    let mut prefix = old
        .bytes()
        .zip(new.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    while !old.is_char_boundary(prefix) || !new.is_char_boundary(prefix) {
        prefix -= 1;
    }
    let max_suffix = (old.len() - prefix).min(new.len() - prefix);
    let mut suffix = old
        .bytes()
        .rev()
        .zip(new.bytes().rev())
        .take(max_suffix)
        .take_while(|(a, b)| a == b)
        .count();
    while !old.is_char_boundary(old.len() - suffix) || !new.is_char_boundary(new.len() - suffix) {
        suffix -= 1;
    }
    (prefix..old.len() - suffix, &new[prefix..new.len() - suffix])
}

/// Whether the client's `only` filter admits `kind` (a requested kind matches its sub-kinds).
fn wants(only: &Option<Vec<CodeActionKind>>, kind: &str) -> bool {
    match only {
        None => true,
        Some(kinds) => kinds.iter().any(|k| {
            let k = k.as_str();
            kind == k || (kind.starts_with(k) && kind.as_bytes().get(k.len()) == Some(&b'.'))
        }),
    }
}

fn overlaps(a: Range, b: Range) -> bool {
    let key = |p: Position| (p.line, p.character);
    key(a.start) <= key(b.end) && key(b.start) <= key(a.end)
}

fn quick_fix(ctx: &Ctx, diag: &Diagnostic, fix: &FixData) -> Option<CodeAction> {
    let edit = if fix.workspace_ops.is_empty() {
        document_edit(ctx, fix.edits.clone())
    } else {
        workspace_ops_edit(ctx, fix)?
    };
    Some(CodeAction {
        title: fix.title.clone(),
        kind: Some(CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![diag.clone()]),
        edit: Some(edit),
        is_preferred: fix.safe.then_some(true),
        ..Default::default()
    })
}

/// "Suppress KL101 on this line": adds `# keylint: ignore[KL101]` to the line where the finding
/// starts (or extends the line's directive). Never preferred, and not offered for `KL001` (an
/// unused suppression cannot be suppressed; its own fix removes it), nor twice for one line and
/// rule (`done`), nor where no comment can go.
fn suppression_action(
    ctx: &Ctx,
    diag: &Diagnostic,
    done: &mut Vec<(u32, String)>,
) -> Option<CodeAction> {
    let Some(NumberOrString::String(code)) = &diag.code else {
        return None;
    };
    if code == crate::config::UNUSED_SUPPRESSION.code {
        return None;
    }
    let line = diag.range.start.line;
    if done.iter().any(|(l, c)| *l == line && c == code) {
        return None;
    }
    let edit =
        crate::config::suppression_edit(ctx.doc.view(), ctx.doc.source(), line as usize, code)?;
    done.push((line, code.clone()));
    let text_edit = TextEdit::new(convert::range(ctx.doc, edit.range, ctx.enc), edit.new_text);
    Some(CodeAction {
        title: format!("Suppress {code} on this line"),
        kind: Some(CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![diag.clone()]),
        edit: Some(document_edit(ctx, vec![text_edit])),
        is_preferred: Some(false),
        ..Default::default()
    })
}

fn versioned_doc_edit(ctx: &Ctx, edits: Vec<TextEdit>) -> TextDocumentEdit {
    TextDocumentEdit {
        text_document: OptionalVersionedTextDocumentIdentifier {
            uri: ctx.uri.clone(),
            version: Some(ctx.doc.version),
        },
        edits: edits.into_iter().map(OneOf::Left).collect(),
    }
}

/// An edit of this document only: versioned `documentChanges` when the client supports them (a
/// stale edit is then refused by the client), else `changes`.
fn document_edit(ctx: &Ctx, edits: Vec<TextEdit>) -> WorkspaceEdit {
    if ctx.caps.document_changes {
        WorkspaceEdit {
            document_changes: Some(DocumentChanges::Edits(vec![versioned_doc_edit(ctx, edits)])),
            ..Default::default()
        }
    } else {
        WorkspaceEdit {
            changes: Some(HashMap::from([(ctx.uri.clone(), edits)])),
            ..Default::default()
        }
    }
}

/// The edit of a fix with workspace operations, or `None` when the client cannot create files or
/// there is no workspace root.
fn workspace_ops_edit(ctx: &Ctx, fix: &FixData) -> Option<WorkspaceEdit> {
    if !ctx.caps.create_files {
        return None;
    }
    let root = ctx.root?;
    let mut ops: Vec<DocumentChangeOperation> = Vec::new();
    // Text appended per file in this edit, so that two ops on one file stack up.
    let mut pending: HashMap<PathBuf, String> = HashMap::new();
    for op in &fix.workspace_ops {
        let (path, line) = match op {
            WorkspaceOpData::AppendEnv { name, value_range } => {
                let bytes = convert::byte_range(ctx.doc, *value_range, ctx.enc);
                let value = ctx.doc.source().slice(bytes).into_owned();
                (root.join(".env"), format!("{name}={}", env_value(&value)))
            }
            WorkspaceOpData::EnsureIgnored { pattern } => {
                let path = root.join(".gitignore");
                let current = std::fs::read_to_string(&path).unwrap_or_default();
                if ignores(&current, pattern) {
                    continue;
                }
                (path, pattern.clone())
            }
        };
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        let queued = pending.entry(path.clone()).or_default();
        let mut text = String::new();
        let before = format!("{on_disk}{queued}");
        if !before.is_empty() && !before.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&line);
        text.push('\n');
        let at = convert::end_position(&before, ctx.enc);
        queued.push_str(&text);
        let uri = Uri::from_file_path(&path)?;
        ops.push(DocumentChangeOperation::Op(ResourceOp::Create(
            CreateFile {
                uri: uri.clone(),
                options: Some(CreateFileOptions {
                    overwrite: Some(false),
                    ignore_if_exists: Some(true),
                }),
                annotation_id: None,
            },
        )));
        ops.push(DocumentChangeOperation::Edit(TextDocumentEdit {
            text_document: OptionalVersionedTextDocumentIdentifier { uri, version: None },
            edits: vec![OneOf::Left(TextEdit::new(Range::new(at, at), text))],
        }));
    }
    ops.push(DocumentChangeOperation::Edit(versioned_doc_edit(
        ctx,
        fix.edits.clone(),
    )));
    Some(WorkspaceEdit {
        document_changes: Some(DocumentChanges::Operations(ops)),
        ..Default::default()
    })
}

/// A literal's text as a `.env` value: the quotes of a Python string literal are dropped; values
/// with spaces, quotes or `#` are double-quoted.
fn env_value(literal: &str) -> String {
    let mut v = literal.trim();
    for q in ["\"\"\"", "'''", "\"", "'"] {
        if v.len() >= 2 * q.len() && v.starts_with(q) && v.ends_with(q) {
            v = &v[q.len()..v.len() - q.len()];
            break;
        }
    }
    if v.chars()
        .any(|c| c.is_whitespace() || c == '#' || c == '"' || c == '\'' || c == '\\')
    {
        format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        v.to_string()
    }
}

/// Whether a `.gitignore` text already has a line for `pattern` (`.env`, `/.env`).
fn ignores(gitignore: &str, pattern: &str) -> bool {
    let want = pattern.trim().trim_start_matches('/');
    gitignore
        .lines()
        .map(|l| l.trim())
        .any(|l| !l.starts_with('#') && l.trim_start_matches('/') == want)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_span_is_minimal_and_on_char_boundaries() {
        let (r, t) = changed_span("x = 1  # keylint: ignore\ny\n", "x = 1\ny\n");
        assert_eq!((r, t), (5..24, ""));
        let (r, t) = changed_span("aé", "aè");
        assert_eq!((r, t), (1..3, "è"));
        let (r, t) = changed_span("aaa", "aa");
        assert_eq!((r, t), (2..3, ""));
        let (r, t) = changed_span("same", "same");
        assert_eq!((r, t), (4..4, ""));
    }

    #[test]
    fn only_filter_matches_parent_kinds() {
        let only = |k: &[&'static str]| Some(k.iter().map(|s| CodeActionKind::new(s)).collect());
        assert!(wants(&None, FIX_ALL_KIND));
        assert!(wants(&only(&["source"]), FIX_ALL_KIND));
        assert!(wants(&only(&["source.fixAll"]), FIX_ALL_KIND));
        assert!(!wants(&only(&["source.fix"]), FIX_ALL_KIND));
        assert!(!wants(&only(&["quickfix"]), FIX_ALL_KIND));
        assert!(wants(&only(&["quickfix"]), "quickfix"));
    }

    fn ops_fix(doc: &Document) -> FixData {
        let text = doc.text();
        let start = text.find('"').unwrap();
        let end = text.rfind('"').unwrap() + 1;
        let enc = PositionEncoding::Utf16;
        FixData {
            title: "Move to .env".into(),
            safe: false,
            edits: vec![TextEdit::new(
                convert::range(doc, start..end, enc),
                "os.environ[\"API_KEY\"]".into(),
            )],
            workspace_ops: vec![
                WorkspaceOpData::AppendEnv {
                    name: "API_KEY".into(),
                    value_range: convert::range(doc, start..end, enc),
                },
                WorkspaceOpData::EnsureIgnored {
                    pattern: ".env".into(),
                },
            ],
        }
    }

    #[test]
    fn move_to_env_appends_to_existing_files_and_skips_ignored_pattern() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".env"), "A=1").unwrap();
        std::fs::write(dir.path().join(".gitignore"), "/.env\n").unwrap();
        let doc = Document::new("API_KEY = \"sk-abc123\"\n", 4);
        let uri: Uri = "file:///w/app.py".parse().unwrap();
        let caps = ClientCaps {
            create_files: true,
            document_changes: true,
            ..Default::default()
        };
        let ctx = Ctx {
            uri: &uri,
            doc: &doc,
            enc: PositionEncoding::Utf16,
            caps: &caps,
            root: Some(dir.path()),
        };
        let edit = workspace_ops_edit(&ctx, &ops_fix(&doc)).expect("offered");
        let v = serde_json::to_value(&edit).unwrap();
        let ops = v["documentChanges"].as_array().unwrap();
        assert_eq!(ops.len(), 3, "{v}");
        assert_eq!(ops[0]["kind"], "create");
        assert_eq!(ops[0]["options"]["ignoreIfExists"], true);
        assert!(ops[0]["uri"].as_str().unwrap().ends_with("/.env"));
        let env_edit = &ops[1]["edits"][0];
        assert_eq!(env_edit["newText"], "\nAPI_KEY=sk-abc123\n");
        assert_eq!(
            env_edit["range"]["start"],
            serde_json::json!({"line": 0, "character": 3})
        );
        assert_eq!(ops[2]["textDocument"]["version"], 4);
        assert!(ops[2]["textDocument"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("app.py"));
    }

    #[test]
    fn move_to_env_creates_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        let doc = Document::new("API_KEY = \"sk-abc123\"\n", 1);
        let uri: Uri = "file:///w/app.py".parse().unwrap();
        let caps = ClientCaps {
            create_files: true,
            document_changes: true,
            ..Default::default()
        };
        let mut ctx = Ctx {
            uri: &uri,
            doc: &doc,
            enc: PositionEncoding::Utf16,
            caps: &caps,
            root: Some(dir.path()),
        };
        let v = serde_json::to_value(workspace_ops_edit(&ctx, &ops_fix(&doc)).unwrap()).unwrap();
        let ops = v["documentChanges"].as_array().unwrap();
        assert_eq!(ops.len(), 5, "{v}");
        assert_eq!(ops[1]["edits"][0]["newText"], "API_KEY=sk-abc123\n");
        assert!(ops[2]["uri"].as_str().unwrap().ends_with("/.gitignore"));
        assert_eq!(ops[3]["edits"][0]["newText"], ".env\n");
        // Not offered without file creation support or without a workspace root.
        let no_create = ClientCaps::default();
        ctx.caps = &no_create;
        assert!(workspace_ops_edit(&ctx, &ops_fix(&doc)).is_none());
        ctx.caps = &caps;
        ctx.root = None;
        assert!(workspace_ops_edit(&ctx, &ops_fix(&doc)).is_none());
    }

    #[test]
    fn env_values_and_gitignore_lines() {
        assert_eq!(env_value("\"sk-abc\""), "sk-abc");
        assert_eq!(env_value("'a b'"), "\"a b\"");
        assert!(ignores("# x\n/.env\n", ".env"));
        assert!(!ignores("# .env\n.envrc\n", ".env"));
    }
}
