//! keylint: finds API-key and secret exposure in Python web code (Flask, FastAPI + DynamoDB).
//!
//! The library is the whole engine; the binary (`keylint`) is a thin shell over [`cli`] and [`lsp`].
//! See `ARCHITECTURE.md` at the repository root for the map of the rooms and the path of an edit.

// The rooms (in rustfmt's order). From the ground up: finding and document, syntax, model,
// dataflow, rules and project, config, engine, lsp, cli; each imports only rooms of the floors
// below its own (`layers.rs` checks it; `finding` imports none).
pub mod cli;
pub mod config;
pub mod dataflow;
pub mod document;
pub mod engine;
pub mod finding;
pub mod lsp;
pub mod model;
pub mod project;
pub mod rules;
pub mod syntax;

#[cfg(test)]
mod layers;
#[cfg(test)]
mod test_files;

/// Panics print where they happened, never their payload: a payload can quote source text (a
/// failed slice prints its string), and keylint never writes a file's secrets to a log. The
/// analysis and the server's handlers catch panics; this only decides what reaches stderr. Set by
/// every command of the binary.
pub fn withhold_panic_payloads() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
            .unwrap_or_else(|| "unknown location".into());
        let thread = std::thread::current();
        eprintln!(
            "keylint: panic in thread `{}` at {location} (payload withheld: it may quote source text)",
            thread.name().unwrap_or("unnamed")
        );
    }));
}
