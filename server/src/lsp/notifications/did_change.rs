//! `textDocument/didChange`: apply the content changes (full or incremental), analyse right away.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;

use tower_lsp_server::ls_types::*;

use crate::document::ContentChange;
use crate::lsp::convert;
use crate::lsp::server::Server;

enum Outcome {
    /// Applied; whether the document just became too deeply indented to parse.
    Applied(bool),
    NotOpen,
    Stale(i32),
    Failed,
}

pub async fn did_change(server: &Server, params: DidChangeTextDocumentParams) {
    let uri = params.text_document.uri;
    let version = params.text_document.version;
    // State change first, before any `.await` (see the ordering notes on `Server`).
    let (outcome, job) = {
        let mut st = server.state();
        let enc = st.encoding;
        let outcome = match st.docs.get_mut(&uri) {
            None => Outcome::NotOpen,
            Some(d) if version <= d.doc.version => Outcome::Stale(d.doc.version),
            Some(d) => {
                let changes: Vec<ContentChange> = params
                    .content_changes
                    .into_iter()
                    .map(|c| ContentChange {
                        range: c
                            .range
                            .map(|r| (convert::pos(r.start), convert::pos(r.end))),
                        text: c.text,
                    })
                    .collect();
                let was_too_deep = d.doc.too_deep();
                let applied = catch_unwind(AssertUnwindSafe(|| {
                    d.doc.apply_changes(&changes, version, enc)
                }));
                match applied {
                    Ok(()) => {
                        d.latest.store(version, Ordering::SeqCst);
                        Outcome::Applied(d.doc.too_deep() && !was_too_deep)
                    }
                    Err(_) => Outcome::Failed,
                }
            }
        };
        if matches!(outcome, Outcome::Failed) {
            // The document may be half-edited: forget it rather than analyse a wrong text.
            st.docs.remove(&uri);
        }
        let job = match outcome {
            Outcome::Applied(_) => Server::job(&st, &uri, true),
            _ => None,
        };
        (outcome, job)
    };
    match outcome {
        Outcome::Applied(false) => {}
        Outcome::Applied(true) => server.report_too_deep(&uri).await,
        Outcome::NotOpen => {
            server
                .log(
                    MessageType::WARNING,
                    format!(
                        "keylint: didChange for {} which is not open; ignored",
                        uri.as_str()
                    ),
                )
                .await;
        }
        Outcome::Stale(current) => {
            server
                .log(
                    MessageType::WARNING,
                    format!(
                        "keylint: didChange for {} with version {version}, not newer than {current}; ignored",
                        uri.as_str()
                    ),
                )
                .await;
        }
        Outcome::Failed => {
            server
                .log(
                    MessageType::ERROR,
                    format!(
                        "keylint: could not apply an edit to {} (internal error); close and reopen it",
                        uri.as_str()
                    ),
                )
                .await;
            server.clear_diagnostics(uri).await;
        }
    }
    if let Some(job) = job {
        server.analyze_and_publish(job).await;
    }
}
