//! The language server (tower-lsp-server over stdio). Placeholder until the LSP layer lands.

/// Runs the server on stdin/stdout; returns the process exit code.
pub fn run_stdio() -> i32 {
    eprintln!("keylint: the language server is not built yet");
    1
}
