//! `textDocument/didClose`: forget the document and clear its diagnostics.

use tower_lsp_server::ls_types::*;

use crate::lsp::large;
use crate::lsp::server::Server;

pub async fn did_close(server: &Server, params: DidCloseTextDocumentParams) {
    let uri = params.text_document.uri;
    // State change first, before any `.await` (see the ordering notes on `Server`).
    let closed = server.state().docs.remove(&uri);
    if let Some(closed) = closed {
        if let Some(path) = &closed.path {
            let ws = server.state().workspace.clone();
            ws.closed(path);
        }
        // Its text, tree and caches go now, and then the allocator returns what it can to the
        // system (on the blocking pool).
        drop(closed);
        large::trim_memory();
        server.clear_diagnostics(uri).await;
    } else {
        server
            .log(
                MessageType::WARNING,
                format!("keylint: didClose for {} which is not open", uri.as_str()),
            )
            .await;
    }
}
