//! Conversions between the library's byte offsets and LSP positions, and findings → diagnostics.
//!
//! Every range goes through [`Document::byte_to_position`] / [`Document::position_to_byte`] in
//! the negotiated [`PositionEncoding`].

use std::ops::Range as ByteRange;

use serde::{Deserialize, Serialize};
use tower_lsp_server::ls_types::{
    CodeDescription, Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location,
    NumberOrString, Position, PositionEncodingKind, Range, TextEdit, Uri,
};

use crate::document::{Document, Pos, PositionEncoding};
use crate::engine::Analysis;
use crate::finding::{Applicability, WorkspaceOp};
use crate::finding::{Finding, Severity};

/// `source` of every diagnostic keylint publishes.
pub const SOURCE: &str = "keylint";

pub fn encoding_kind(enc: PositionEncoding) -> PositionEncodingKind {
    match enc {
        PositionEncoding::Utf8 => PositionEncodingKind::UTF8,
        PositionEncoding::Utf16 => PositionEncodingKind::UTF16,
        PositionEncoding::Utf32 => PositionEncodingKind::UTF32,
    }
}

/// LSP 3.17 negotiation: UTF-8 when the client offers it, else UTF-16 (mandatory for every
/// client), UTF-32 only when it is all the client offers.
pub fn negotiate_encoding(offered: Option<&[PositionEncodingKind]>) -> PositionEncoding {
    let Some(offered) = offered.filter(|o| !o.is_empty()) else {
        return PositionEncoding::Utf16;
    };
    let has = |k: &PositionEncodingKind| offered.iter().any(|o| o == k);
    if has(&PositionEncodingKind::UTF8) {
        PositionEncoding::Utf8
    } else if has(&PositionEncodingKind::UTF16) {
        PositionEncoding::Utf16
    } else if has(&PositionEncodingKind::UTF32) {
        PositionEncoding::Utf32
    } else {
        PositionEncoding::Utf16
    }
}

pub fn position(pos: Pos) -> Position {
    Position::new(pos.line, pos.character)
}

pub fn pos(position: Position) -> Pos {
    Pos::new(position.line, position.character)
}

pub fn range(doc: &Document, bytes: ByteRange<usize>, enc: PositionEncoding) -> Range {
    Range::new(
        position(doc.byte_to_position(bytes.start, enc)),
        position(doc.byte_to_position(bytes.end, enc)),
    )
}

/// Byte range of an LSP range (clamped to the text; start ≤ end).
pub fn byte_range(doc: &Document, range: Range, enc: PositionEncoding) -> ByteRange<usize> {
    let start = doc.position_to_byte(pos(range.start), enc);
    let end = doc.position_to_byte(pos(range.end), enc).max(start);
    start..end
}

fn severity(s: Severity) -> DiagnosticSeverity {
    match s {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Info => DiagnosticSeverity::INFORMATION,
        Severity::Hint => DiagnosticSeverity::HINT,
    }
}

/// What `Diagnostic.data` carries: the fixes, already materialised (imports resolved) and in LSP
/// ranges of the document `version`, so the code-action handler only unpacks them. Workspace
/// operations carry ranges, never the secret: the value is read from the document when the user
/// asks for the fix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiagnosticData {
    pub version: i32,
    pub fixes: Vec<FixData>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FixData {
    pub title: String,
    pub safe: bool,
    pub edits: Vec<TextEdit>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workspace_ops: Vec<WorkspaceOpData>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase")]
pub enum WorkspaceOpData {
    #[serde(rename_all = "camelCase")]
    AppendEnv { name: String, value_range: Range },
    #[serde(rename_all = "camelCase")]
    EnsureIgnored { pattern: String },
}

/// Where the text of another file comes from when a related place in it is converted: the open
/// document's text its offsets were taken from, if any (`None`: the file on disk is read).
pub trait OtherTexts {
    fn text_of(&self, path: &std::path::Path) -> Option<ropey::Rope>;
}

/// Every other file as on disk.
pub struct OnDisk;

impl OtherTexts for OnDisk {
    fn text_of(&self, _: &std::path::Path) -> Option<ropey::Rope> {
        None
    }
}

/// The diagnostic of `finding` without its `data` (see [`Diagnostics`]), and that data.
pub fn diagnostic(
    uri: &Uri,
    doc: &Document,
    analysis: &Analysis,
    finding: &Finding,
    enc: PositionEncoding,
    texts: &dyn OtherTexts,
) -> (Diagnostic, DiagnosticData) {
    let fixes = finding
        .fixes
        .iter()
        .map(|fix| FixData {
            title: fix.title.clone(),
            safe: fix.applicability == Applicability::Safe,
            edits: crate::engine::fixes::materialize(fix, &analysis.model, doc.source())
                .into_iter()
                .map(|e| TextEdit::new(range(doc, e.range, enc), e.new_text))
                .collect(),
            workspace_ops: fix
                .workspace_ops
                .iter()
                .map(|op| match op {
                    WorkspaceOp::AppendEnv { name, value_range } => WorkspaceOpData::AppendEnv {
                        name: name.clone(),
                        value_range: range(doc, value_range.clone(), enc),
                    },
                    WorkspaceOp::EnsureIgnored { pattern } => WorkspaceOpData::EnsureIgnored {
                        pattern: pattern.clone(),
                    },
                })
                .collect(),
        })
        .collect();
    let related: Vec<DiagnosticRelatedInformation> = finding
        .related
        .iter()
        .map(|r| {
            // A place in another file of the project: in the text its offsets were taken from
            // (the open document's, as analysed), else its text on disk. Only its lines are read
            // (no parse: a module republished because a helper changed converts a place in that
            // helper for each of its findings).
            let other = r.file.as_deref().and_then(|p| {
                let uri = Uri::from_file_path(p)?;
                let rope = match texts.text_of(std::path::Path::new(p)) {
                    Some(rope) => rope,
                    None => {
                        let text = std::fs::read(p)
                            .ok()
                            .and_then(|b| crate::document::encoding::decode(&b).ok())?
                            .text;
                        ropey::Rope::from_str(&text)
                    }
                };
                let mut d = Document::new("", 0);
                d.rope = rope;
                Some((uri, d))
            });
            let location = match &other {
                Some((u, d)) => {
                    let end = d.rope.len_bytes();
                    Location::new(
                        u.clone(),
                        range(d, r.range.start.min(end)..r.range.end.min(end), enc),
                    )
                }
                None => Location::new(uri.clone(), range(doc, r.range.clone(), enc)),
            };
            DiagnosticRelatedInformation {
                location,
                message: r.message.clone(),
            }
        })
        .collect();
    let diagnostic = Diagnostic {
        range: range(doc, finding.range.clone(), enc),
        severity: Some(severity(finding.severity)),
        code: Some(NumberOrString::String(finding.rule.code.to_string())),
        code_description: crate::config::rule_url(finding.rule)
            .parse::<Uri>()
            .ok()
            .map(|href| CodeDescription { href }),
        source: Some(SOURCE.to_string()),
        message: finding.message.clone(),
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: None,
    };
    (
        diagnostic,
        DiagnosticData {
            version: doc.version,
            fixes,
        },
    )
}

/// The diagnostics of one analysis as the server keeps them: each without its `data`, beside
/// that data as [`DiagnosticData`]. A `data` made into a JSON value is a tree of maps (a few
/// hundred bytes each, dozens for a finding with two fixes of three edits: some 20 KiB): kept
/// that way, with the copy of the last pushed ones, the 327 diagnostics of django's 100 largest
/// test files with findings held 11 MiB (massif, issue #14). The value is made when the
/// diagnostics leave the server ([`Diagnostics::to_lsp`]), the same JSON as before.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Diagnostics {
    items: Vec<(Diagnostic, Option<DiagnosticData>)>,
}

impl Diagnostics {
    /// A diagnostic with no data (the one of a document over the size limit).
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push((diagnostic, None));
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Each diagnostic as the client gets it, with its `data`.
    pub fn iter(&self) -> impl Iterator<Item = Diagnostic> + '_ {
        self.iter_where(|_| true)
    }

    /// [`Diagnostics::iter`] of the diagnostics `keep` accepts, judged without their `data`:
    /// only those are cloned and have their `data` made JSON.
    pub fn iter_where<'s>(
        &'s self,
        keep: impl Fn(&Diagnostic) -> bool + 's,
    ) -> impl Iterator<Item = Diagnostic> + 's {
        self.items
            .iter()
            .filter(move |(d, _)| keep(d))
            .map(|(d, data)| {
                let mut d = d.clone();
                if let Some(data) = data {
                    d.data = serde_json::to_value(data).ok();
                }
                d
            })
    }

    /// The diagnostics as the client gets them (publish, pull).
    pub fn to_lsp(&self) -> Vec<Diagnostic> {
        self.iter().collect()
    }
}

/// Every diagnostic of an analysis of `doc`.
pub fn diagnostics(
    uri: &Uri,
    doc: &Document,
    analysis: &Analysis,
    enc: PositionEncoding,
    texts: &dyn OtherTexts,
) -> Diagnostics {
    Diagnostics {
        items: analysis
            .findings
            .iter()
            .map(|f| {
                let (d, data) = diagnostic(uri, doc, analysis, f, enc, texts);
                (d, Some(data))
            })
            .collect(),
    }
}

/// Position just past the end of `text` (for appending to a file read from disk).
pub fn end_position(text: &str, enc: PositionEncoding) -> Position {
    let mut line = 0u32;
    let mut last_start = 0usize;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                line += 1;
                last_start = i + 1;
            }
            b'\r' => {
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                line += 1;
                last_start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    let tail = &text[last_start..];
    let character = match enc {
        PositionEncoding::Utf8 => tail.len(),
        PositionEncoding::Utf16 => tail.chars().map(char::len_utf16).sum(),
        PositionEncoding::Utf32 => tail.chars().count(),
    } as u32;
    Position::new(line, character)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The diagnostics keep their data typed, not as JSON, and send the JSON the client reads
    /// the fixes back from (`codeAction`), with the version and every fix's edits.
    #[test]
    fn diagnostics_keep_their_data_typed_and_send_it_as_json() {
        let text = "import requests\n\nAPI_KEY = \"sk-live-4fJ9xQ2mT7vB8nR3kL6pW1zY5cH0dE\"\n";
        let doc = Document::new(text, 7);
        let config = crate::config::Config::default();
        let analysis = crate::engine::pipeline::analyze(
            &mut crate::engine::Analyzer::new(),
            doc.view(),
            doc.source(),
            &config,
            None,
        );
        let uri: Uri = "file:///app/settings.py".parse().unwrap();
        let kept = diagnostics(&uri, &doc, &analysis, PositionEncoding::Utf16, &OnDisk);
        assert!(!kept.is_empty(), "a hard-coded key is reported");
        assert!(kept
            .items
            .iter()
            .all(|(d, data)| d.data.is_none() && data.is_some()));
        let sent = kept.to_lsp();
        assert_eq!(sent.len(), kept.len());
        for (d, (bare, data)) in sent.iter().zip(&kept.items) {
            let back: DiagnosticData =
                serde_json::from_value(d.data.clone().expect("data is sent")).unwrap();
            assert_eq!(Some(&back), data.as_ref());
            assert_eq!(back.version, 7);
            assert!(!back.fixes.is_empty() && back.fixes.iter().all(|f| !f.edits.is_empty()));
            assert_eq!(
                Diagnostic {
                    data: None,
                    ..d.clone()
                },
                *bare
            );
        }
        let mut more = kept.clone();
        more.push(Diagnostic::default());
        assert_eq!(more.to_lsp().last().unwrap().data, None);
        assert_ne!(more, kept);
    }

    #[test]
    fn negotiation_prefers_utf8_then_utf16() {
        use PositionEncodingKind as K;
        assert_eq!(negotiate_encoding(None), PositionEncoding::Utf16);
        assert_eq!(
            negotiate_encoding(Some(&[K::UTF16, K::UTF8])),
            PositionEncoding::Utf8
        );
        assert_eq!(
            negotiate_encoding(Some(&[K::UTF32, K::UTF16])),
            PositionEncoding::Utf16
        );
        assert_eq!(
            negotiate_encoding(Some(&[K::UTF32])),
            PositionEncoding::Utf32
        );
        assert_eq!(
            negotiate_encoding(Some(&[K::new("latin-1")])),
            PositionEncoding::Utf16
        );
    }

    #[test]
    fn end_position_counts_units_and_line_breaks() {
        assert_eq!(
            end_position("", PositionEncoding::Utf16),
            Position::new(0, 0)
        );
        assert_eq!(
            end_position("a\r\nb", PositionEncoding::Utf16),
            Position::new(1, 1)
        );
        assert_eq!(
            end_position("x\n", PositionEncoding::Utf8),
            Position::new(1, 0)
        );
        assert_eq!(
            end_position("é😀", PositionEncoding::Utf16),
            Position::new(0, 3)
        );
        assert_eq!(
            end_position("é😀", PositionEncoding::Utf8),
            Position::new(0, 6)
        );
        assert_eq!(
            end_position("é😀", PositionEncoding::Utf32),
            Position::new(0, 2)
        );
    }
}
