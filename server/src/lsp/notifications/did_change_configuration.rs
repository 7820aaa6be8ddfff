//! `workspace/didChangeConfiguration`: store the settings, re-analyse and republish open documents.

use tower_lsp_server::ls_types::*;

use crate::lsp::server::Server;
use crate::lsp::settings::Settings;

pub async fn did_change_configuration(server: &Server, params: DidChangeConfigurationParams) {
    let (settings, warnings) = Settings::from_value(&params.settings);
    // State change first, before any `.await` (see the ordering notes on `Server`).
    let (jobs, pull, refresh) = {
        let mut st = server.state();
        st.settings = settings;
        st.settings_epoch += 1;
        for d in st.docs.values_mut() {
            // Results computed under the old settings are no longer valid.
            d.results = None;
        }
        let uris: Vec<Uri> = st.docs.keys().cloned().collect();
        let jobs: Vec<_> = uris
            .iter()
            .filter_map(|u| Server::job(&st, u, true))
            .collect();
        (jobs, st.caps.pull_diagnostics, st.caps.diagnostic_refresh)
    };
    for w in warnings {
        server
            .log(MessageType::WARNING, format!("keylint settings: {w}"))
            .await;
    }
    for job in jobs {
        server.analyze_and_publish(job).await;
    }
    if pull && refresh {
        // Pull clients ask again; the answer is already cached.
        let _ = server.client.workspace_diagnostic_refresh().await;
    }
}
