//! `textDocument/diagnostic` (pull diagnostics, for clients that advertise them).

use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;

use crate::lsp::server::Server;

pub async fn diagnostic(
    server: &Server,
    params: DocumentDiagnosticParams,
) -> Result<DocumentDiagnosticReportResult> {
    let uri = params.text_document.uri;
    let Some(results) = server.current_results(&uri).await? else {
        return Err(Error::invalid_params(format!(
            "document not open: {}",
            uri.as_str()
        )));
    };
    Ok(DocumentDiagnosticReportResult::Report(
        DocumentDiagnosticReport::Full(RelatedFullDocumentDiagnosticReport {
            related_documents: None,
            full_document_diagnostic_report: FullDocumentDiagnosticReport {
                result_id: Some(results.version.to_string()),
                items: results.diagnostics.to_lsp(),
            },
        }),
    ))
}
