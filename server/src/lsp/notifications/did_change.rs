//! `textDocument/didChange`: apply the content changes (full or incremental), analyse right away.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;

use tower_lsp_server::ls_types::*;

use crate::document::ContentChange;
use crate::lsp::server::Server;
use crate::lsp::{convert, large};

enum Outcome {
    /// Applied; whether the document just became too deeply indented to parse, and whether it
    /// just went over the size limit.
    Applied(bool, bool),
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
        let limit = st.max_file_size();
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
                    match &mut d.large {
                        // Over the size limit: the text only (`lsp/large.rs`).
                        Some(rope) => {
                            large::apply_changes(rope, &changes, enc);
                            d.doc.version = version;
                        }
                        None => d.doc.apply_changes(&changes, version, enc),
                    }
                    d.apply_limit(limit)
                }));
                match applied {
                    Ok(went_over) => {
                        d.latest.store(version, Ordering::SeqCst);
                        Outcome::Applied(d.doc.too_deep() && !was_too_deep, went_over)
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
            Outcome::Applied(..) => Server::job(&st, &uri, true),
            _ => None,
        };
        (outcome, job)
    };
    match outcome {
        Outcome::Applied(too_deep, too_large) => {
            if too_deep {
                server.report_too_deep(&uri).await;
            }
            if too_large {
                server.report_too_large(&uri).await;
            }
        }
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
