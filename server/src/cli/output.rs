//! Report formats.

use std::io::{self, Write};

use serde::Serialize;

use super::CheckedFile;
use crate::document::SourceText;

/// 1-based line and column (in Unicode characters) of a byte offset.
pub fn line_col(src: SourceText, byte: usize) -> (usize, usize) {
    let rope = src.rope();
    let byte = src.floor_boundary(byte);
    let line = rope.byte_to_line(byte);
    let col = rope.byte_to_char(byte) - rope.line_to_char(line);
    (line + 1, col + 1)
}

/// The stable JSON schema of one finding.
#[derive(Serialize)]
pub struct JsonFinding {
    pub code: &'static str,
    pub rule: &'static str,
    pub severity: &'static str,
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub message: String,
    pub fixable: bool,
}

pub fn json_findings(files: &[CheckedFile]) -> Vec<JsonFinding> {
    let mut out = Vec::new();
    for file in files {
        let src = file.doc.source();
        for f in &file.analysis.findings {
            let (line, column) = line_col(src, f.range.start);
            let (end_line, end_column) = line_col(src, f.range.end);
            out.push(JsonFinding {
                code: f.rule.code,
                rule: f.rule.name,
                severity: f.severity.as_str(),
                file: file.path.display().to_string(),
                line,
                column,
                end_line,
                end_column,
                message: f.message.clone(),
                fixable: !f.fixes.is_empty(),
            });
        }
    }
    out
}

pub fn write_json(w: &mut impl Write, files: &[CheckedFile]) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, &json_findings(files))?;
    writeln!(w)
}

pub fn write_text(w: &mut impl Write, files: &[CheckedFile]) -> io::Result<()> {
    let mut total = 0;
    for file in files {
        let src = file.doc.source();
        for f in &file.analysis.findings {
            total += 1;
            let (line, col) = line_col(src, f.range.start);
            writeln!(
                w,
                "{}:{}:{}: {} [{}] {}",
                file.path.display(),
                line,
                col,
                f.rule.code,
                f.severity.as_str(),
                f.message
            )?;
            let text = src.rope().line(line - 1).to_string();
            let text = text.trim_end_matches(['\n', '\r']);
            writeln!(w, "  {line:>4} | {text}")?;
            let lead: String = text
                .chars()
                .take(col - 1)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            writeln!(w, "       | {lead}^")?;
        }
    }
    if total > 0 {
        writeln!(w, "Found {total} finding(s).")?;
    }
    Ok(())
}
