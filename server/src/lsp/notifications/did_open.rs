//! `textDocument/didOpen`: parse, remember, analyse right away.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicI32, AtomicU64};
use std::sync::{Arc, Mutex};

use tower_lsp_server::ls_types::*;

use crate::analysis::Analyzer;
use crate::document::Document;
use crate::lsp::server::{DocState, Server};

pub async fn did_open(server: &Server, params: DidOpenTextDocumentParams) {
    let item = params.text_document;
    // A parse is not expected to panic; if it does, the document is not opened and the server
    // goes on.
    let Ok(doc) = catch_unwind(AssertUnwindSafe(|| Document::new(&item.text, item.version))) else {
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
    let too_deep = doc.too_deep();
    // State change first, before any `.await` (see the ordering notes on `Server`).
    let (job, reopened) = {
        let mut st = server.state();
        let generation = st.next_generation();
        let path = item.uri.to_file_path().map(|p| p.into_owned());
        let reopened = st
            .docs
            .insert(
                item.uri.clone(),
                DocState {
                    doc,
                    generation,
                    path,
                    analyzer: Arc::new(Mutex::new(Analyzer::new())),
                    latest: Arc::new(AtomicI32::new(item.version)),
                    cost_us: Arc::new(AtomicU64::new(u64::MAX)),
                    results: None,
                },
            )
            .is_some();
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
    if let Some(job) = job {
        server.analyze_and_publish(job).await;
    }
}
