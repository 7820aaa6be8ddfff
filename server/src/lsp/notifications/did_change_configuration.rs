//! `workspace/didChangeConfiguration`: store the settings (they override the configuration files),
//! re-analyse and republish open documents.

use std::sync::Arc;

use tower_lsp_server::ls_types::*;

use crate::config::ConfigCache;
use crate::lsp::server::Server;
use crate::lsp::settings::Settings;

pub async fn did_change_configuration(server: &Server, params: DidChangeConfigurationParams) {
    if params.settings.is_null() {
        // Some clients only signal "something changed" (for servers that pull
        // `workspace/configuration`); the settings from `initializationOptions` stay.
        return;
    }
    let (settings, warnings) = Settings::from_value(&params.settings);
    // State change first, before any `.await` (see the ordering notes on `Server`).
    let jobs = {
        let mut st = server.state();
        st.config = Arc::new(ConfigCache::new(settings.overrides()));
        st.settings = settings;
        st.invalidate_all()
    };
    for w in warnings {
        server
            .log(MessageType::WARNING, format!("keylint settings: {w}"))
            .await;
    }
    server.republish_all(jobs).await;
}
