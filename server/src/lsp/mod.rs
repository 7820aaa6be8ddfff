//! The language server: tower-lsp-server over stdio, a thin layer over the library.
//!
//! Layout (one file per LSP method, in the ruff_server style):
//! - [`server`]: the state (open documents, negotiated capabilities, settings) and the
//!   `LanguageServer` impl that dispatches to the handlers;
//! - `requests/*`, `notifications/*`: one handler per method;
//! - [`convert`]: findings → LSP diagnostics, byte ranges ↔ LSP ranges, fix payloads;
//! - [`transport`]: the stdin framing guard that turns malformed input into a log line and an
//!   error answer instead of a dead or deaf server.
//!
//! The ordering/superseding design is documented on [`server::Server`].

pub mod convert;
mod large;
mod notifications;
mod reaper;
mod requests;
pub mod server;
pub mod settings;
mod transport;
pub mod workspace;

use std::sync::atomic::Ordering;

/// Runs the server on stdin/stdout; returns the process exit code (0 after `shutdown` + `exit`,
/// 1 when the client exits or disconnects without asking for `shutdown` first).
pub fn run_stdio() -> i32 {
    crate::withhold_panic_payloads();
    // Two malloc arenas instead of glibc's 8 per core: the blocking pool's threads each got
    // one, and every arena kept its own freed memory (bench-index on django, 100 files open:
    // README, "Indexing").
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tuning parameter of the allocator; no other thread runs yet.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("keylint-lsp")
        // Rules walk syntax trees; deeply nested input must not overflow a thread's stack.
        .thread_stack_size(16 << 20)
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("keylint: cannot start the async runtime: {err}");
            return 1;
        }
    };
    // One-time costs of the analysis (pattern compilation…) are paid now, in the background,
    // rather than by the first keystroke that types something key-like.
    runtime.spawn_blocking(crate::engine::warm_up);
    let shutdown = runtime.block_on(async {
        let stdout = transport::DirectStdout::new();
        let (input, _reader) =
            transport::guarded_stdin(tokio::runtime::Handle::current(), stdout.clone());
        let (service, socket) = tower_lsp_server::LspService::build(server::Server::new)
            .custom_method(
                "window/workDoneProgress/cancel",
                server::Server::work_done_cancel,
            )
            .custom_method(
                transport::MALFORMED_METHOD,
                server::Server::malformed_message,
            )
            .finish();
        let shutdown = service.inner().shutdown_flag();
        tower_lsp_server::Server::new(input, stdout, socket)
            .serve(service)
            .await;
        shutdown.load(Ordering::SeqCst)
    });
    // The stdin reader thread may still be blocked in `read`: do not wait for it.
    runtime.shutdown_background();
    if shutdown {
        0
    } else {
        1
    }
}
