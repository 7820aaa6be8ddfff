//! `textDocument/hover`: over a finding, the docs of its rule (Markdown).

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

use crate::lsp::convert;
use crate::lsp::server::{guard, Server};

pub async fn hover(server: &Server, params: HoverParams) -> Result<Option<Hover>> {
    let uri = params.text_document_position_params.text_document.uri;
    let position = params.text_document_position_params.position;
    let Some(results) = server.current_results(&uri).await? else {
        return Ok(None);
    };
    let enc = server.state().encoding;
    guard("hover", || {
        let doc = &results.doc;
        let byte = doc.position_to_byte(convert::pos(position), enc);
        let here: Vec<_> = results
            .analysis
            .findings
            .iter()
            .filter(|f| f.range.start <= byte && byte <= f.range.end)
            .collect();
        let Some(first) = here.first() else {
            return Ok(None);
        };
        let mut value = String::new();
        let mut seen = Vec::new();
        for f in &here {
            if seen.contains(&f.rule.code) {
                continue;
            }
            seen.push(f.rule.code);
            if !value.is_empty() {
                value.push_str("\n\n---\n\n");
            }
            value.push_str(&format!(
                "**{}** `{}`: {}\n\n{}",
                f.rule.code,
                f.rule.name,
                f.message,
                f.rule.docs.trim_end()
            ));
        }
        Ok(Some(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value,
            }),
            range: Some(convert::range(doc, first.range.clone(), enc)),
        }))
    })
}
