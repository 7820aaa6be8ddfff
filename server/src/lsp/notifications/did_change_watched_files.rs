//! `workspace/didChangeWatchedFiles`: a configuration file (`pyproject.toml`, `keylint.toml`)
//! changed: start a fresh configuration lookup, re-analyse and republish the open documents. The
//! watcher is registered after `initialized` for clients that support dynamic registration
//! (others may watch on their own, as the VS Code extension does).

use std::sync::Arc;

use tower_lsp_server::ls_types::*;

use crate::config::{ConfigCache, CONFIG_FILES};
use crate::lsp::server::Server;

/// Id of the watcher registration.
pub const WATCHER_ID: &str = "keylint-config-files";

/// Registers the watcher of configuration files (`client/registerCapability`) when the client
/// supports dynamic registration of `workspace/didChangeWatchedFiles`.
pub async fn register_watcher(server: &Server) {
    if !server.state().caps.watch_files_dynamic {
        return;
    }
    // Python files too: the workspace index follows closed files (`lsp/workspace.rs`).
    let watchers = CONFIG_FILES
        .iter()
        .map(|name| format!("**/{name}"))
        .chain(["**/*.py".to_string()])
        .map(|glob| FileSystemWatcher {
            glob_pattern: GlobPattern::String(glob),
            kind: None,
        })
        .collect();
    let options = DidChangeWatchedFilesRegistrationOptions { watchers };
    let registration = Registration {
        id: WATCHER_ID.into(),
        method: "workspace/didChangeWatchedFiles".into(),
        register_options: serde_json::to_value(options).ok(),
    };
    if let Err(e) = server.client.register_capability(vec![registration]).await {
        server
            .log(
                MessageType::WARNING,
                format!("keylint: could not watch the configuration files ({e}); edits to them are seen after a restart"),
            )
            .await;
    }
}

fn is_config_file(uri: &Uri) -> bool {
    let path = uri.as_str().split(['?', '#']).next().unwrap_or("");
    let name = path.rsplit('/').next().unwrap_or(path);
    CONFIG_FILES.contains(&name)
}

pub async fn did_change_watched_files(server: &Server, params: DidChangeWatchedFilesParams) {
    crate::lsp::workspace::files_changed(server, &params.changes).await;
    if !params.changes.iter().any(|c| is_config_file(&c.uri)) {
        return;
    }
    // State change first, before any `.await` (see the ordering notes on `Server`).
    let jobs = {
        let mut st = server.state();
        // A fresh lookup rather than `clear()`: a job still reading the old file into the old
        // cache cannot put it back (its results are discarded by the epoch anyway).
        st.config = Arc::new(ConfigCache::new(st.settings.overrides()));
        // A configuration error that is still there after the edit is shown again.
        st.shown_config_errors.clear();
        st.invalidate_all()
    };
    server
        .log(
            MessageType::INFO,
            "keylint: a configuration file changed; re-checking the open documents",
        )
        .await;
    server.republish_all(jobs).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_configuration_files_count() {
        let yes = |u: &str| is_config_file(&u.parse::<Uri>().unwrap());
        assert!(yes("file:///w/pyproject.toml"));
        assert!(yes("file:///w/sub/keylint.toml"));
        assert!(!yes("file:///w/app.py"));
        assert!(!yes("file:///w/my-keylint.toml"));
    }
}
