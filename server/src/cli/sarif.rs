//! The key's path (where it entered, each call on its way to the sink) in every report format:
//! SARIF `relatedLocations` and `codeFlows` (GitHub code scanning's "show paths"), the JSON
//! `related` array and the lines the text output prints under the code frame.
//!
//! A related place's message is the rule's own wording ("key enters here (header `X-API-Key`)",
//! "passed to `save` here"): it names places and names, never a value.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::{json, Value};

use super::output::{line_col, Report};
use crate::document::SourceText;
use crate::finding::Related;

/// A place of a finding's path, resolved to 1-based lines and columns (in characters), in the
/// finding's file or, across modules of a project, in [`RelatedReport::file`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelatedReport {
    /// Another file, as shown (`app/main.py`): where a key entered before reaching this module.
    pub file: Option<String>,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub message: String,
}

/// The path of a finding, in its order (the key's entry first). A place in another file is
/// resolved against that file's text, read again (as `keylint check` read it); `shown` gives the
/// path to print for it.
pub fn related(
    src: SourceText,
    related: &[Related],
    shown: &dyn Fn(&str) -> String,
) -> Vec<RelatedReport> {
    related
        .iter()
        .map(|r| {
            let other = r.file.as_deref().map(|p| {
                let text = std::fs::read(p)
                    .ok()
                    .and_then(|b| super::encoding::decode(&b).ok())
                    .map(|d| d.text)
                    .unwrap_or_default();
                (shown(p), ropey::Rope::from_str(&text))
            });
            let src = other
                .as_ref()
                .map_or(src, |(_, rope)| SourceText::new(rope));
            let at = |b: usize| line_col(src, b.min(src.rope().len_bytes()));
            let (line, column) = at(r.range.start);
            let (end_line, end_column) = at(r.range.end);
            RelatedReport {
                file: other.map(|(f, _)| f),
                line,
                column,
                end_line,
                end_column,
                message: r.message.clone(),
            }
        })
        .collect()
}

/// One place of the path in the JSON output.
#[derive(Serialize, Debug)]
pub struct JsonRelated<'a> {
    pub file: &'a str,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub message: &'a str,
}

pub fn json_related<'a>(file: &'a str, f: &'a Report) -> Vec<JsonRelated<'a>> {
    f.related
        .iter()
        .map(|r| JsonRelated {
            file: r.file.as_deref().unwrap_or(file),
            line: r.line,
            column: r.column,
            end_line: r.end_line,
            end_column: r.end_column,
            message: &r.message,
        })
        .collect()
}

/// The path under a finding's code frame:
///
/// ```text
///    = path: app.py:12:20: key enters here (header `X-API-Key`)
///            app.py:14:5: passed to `save` here
/// ```
pub fn write_text_path(
    w: &mut impl Write,
    file: &str,
    f: &Report,
    gutter: usize,
) -> io::Result<()> {
    let pad = " ".repeat(gutter);
    for (i, r) in f.related.iter().enumerate() {
        let lead = if i == 0 { "= path:" } else { "       " };
        let file = r.file.as_deref().unwrap_or(file);
        writeln!(
            w,
            "{pad} {lead} {file}:{}:{}: {}",
            r.line, r.column, r.message
        )?;
    }
    Ok(())
}

fn physical(uri: &str, line: usize, column: usize, end_line: usize, end_column: usize) -> Value {
    json!({
        "artifactLocation": { "uri": uri, "uriBaseId": "%SRCROOT%" },
        "region": {
            "startLine": line,
            "startColumn": column,
            "endLine": end_line,
            "endColumn": end_column,
        }
    })
}

/// Adds `relatedLocations` and a `codeFlows` entry (the path, then the finding itself as the sink)
/// to a SARIF result, when the finding has a path. `uri` is the file's artifact URI, `uri_of` makes
/// the URI of another file of the path.
pub fn add_path(result: &mut Value, uri: &str, f: &Report, uri_of: impl Fn(&str) -> String) {
    let here = |r: &RelatedReport| r.file.as_deref().map_or_else(|| uri.to_string(), &uri_of);
    if f.related.is_empty() {
        return;
    }
    let related: Vec<Value> = f
        .related
        .iter()
        .enumerate()
        .map(|(i, r)| {
            json!({
                "id": i + 1,
                "physicalLocation": physical(&here(r), r.line, r.column, r.end_line, r.end_column),
                "message": { "text": r.message },
            })
        })
        .collect();
    let mut steps: Vec<Value> = f
        .related
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut step = json!({
                "location": {
                    "physicalLocation": physical(&here(r), r.line, r.column, r.end_line, r.end_column),
                    "message": { "text": r.message },
                },
                "nestingLevel": 0,
                "executionOrder": i + 1,
            });
            if i == 0 {
                step["kinds"] = json!(["source"]);
            }
            step
        })
        .collect();
    steps.push(json!({
        "location": {
            "physicalLocation": physical(uri, f.line, f.column, f.end_line, f.end_column),
            "message": { "text": f.message },
        },
        "kinds": ["sink"],
        "nestingLevel": 0,
        "executionOrder": steps.len() + 1,
    }));
    if let Some(obj) = result.as_object_mut() {
        obj.insert("relatedLocations".into(), Value::Array(related));
        obj.insert(
            "codeFlows".into(),
            json!([{
                "message": { "text": "Where the key entered, each step on its way, and the finding" },
                "threadFlows": [{ "locations": steps }],
            }]),
        );
    }
}
