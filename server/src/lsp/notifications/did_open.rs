//! `textDocument/didOpen`: parse, remember, analyse right away.

use std::panic::{catch_unwind, AssertUnwindSafe};

use tower_lsp_server::ls_types::*;

use crate::lsp::server::{DocState, Server};

pub async fn did_open(server: &Server, params: DidOpenTextDocumentParams) {
    let item = params.text_document;
    // A parse is not expected to panic; if it does, the document is not opened and the server
    // goes on. A document over the size limit is not parsed at all.
    let limit = server.state().max_file_size();
    let (generation, path) = {
        let mut st = server.state();
        (
            st.next_generation(),
            item.uri.to_file_path().map(|p| p.into_owned()),
        )
    };
    let Ok(doc_state) = catch_unwind(AssertUnwindSafe(|| {
        DocState::open(&item.text, item.version, generation, path, limit)
    })) else {
        server.state().docs.remove(&item.uri);
        server
            .log(
                MessageType::ERROR,
                format!(
                    "keylint: could not open {} (internal error)",
                    item.uri.as_str()
                ),
            )
            .await;
        return;
    };
    drop(item.text);
    let too_deep = doc_state.doc.too_deep();
    let too_large = doc_state.large.is_some();
    // State change first, before any `.await` (see the ordering notes on `Server`).
    let (job, reopened) = {
        let mut st = server.state();
        let reopened = st.docs.insert(item.uri.clone(), doc_state).is_some();
        (Server::job(&st, &item.uri, true), reopened)
    };
    if reopened {
        server
            .log(
                MessageType::WARNING,
                format!(
                    "keylint: didOpen for {} which was already open; its text was replaced",
                    item.uri.as_str()
                ),
            )
            .await;
    }
    if too_deep {
        server.report_too_deep(&item.uri).await;
    }
    if too_large {
        server.report_too_large(&item.uri).await;
    }
    if let Some(job) = job {
        server.analyze_and_publish(job).await;
        // A first analysis allocates and drops much (the whole file's items, and with the
        // workspace indexed, the module's share of the resolution across modules): what the
        // allocator keeps of it goes back to the system (coalesced: one trim at a time).
        crate::lsp::large::trim_memory();
    }
}
