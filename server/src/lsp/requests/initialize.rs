//! `initialize`: negotiates the position encoding, reads the client's capabilities, the workspace
//! root and `initializationOptions`, and advertises what keylint serves.

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

use crate::lsp::convert;
use crate::lsp::server::{ClientCaps, Server};
use crate::lsp::settings::Settings;

/// The kind of the "fix all" source action.
pub const FIX_ALL_KIND: &str = "source.fixAll.keylint";

pub async fn initialize(server: &Server, params: InitializeParams) -> Result<InitializeResult> {
    let encoding = convert::negotiate_encoding(
        params
            .capabilities
            .general
            .as_ref()
            .and_then(|g| g.position_encodings.as_deref()),
    );
    let caps = ClientCaps::from_capabilities(&params.capabilities);
    let root = params
        .workspace_folders
        .as_ref()
        .and_then(|f| f.first())
        .and_then(|f| f.uri.to_file_path().map(|p| p.into_owned()))
        .or_else(|| {
            #[allow(deprecated)]
            params
                .root_uri
                .as_ref()
                .and_then(|u| u.to_file_path().map(|p| p.into_owned()))
        });
    let (settings, warnings) = params
        .initialization_options
        .as_ref()
        .map(Settings::from_value)
        .unwrap_or_default();
    let pull = caps.pull_diagnostics;
    {
        let mut st = server.state();
        st.encoding = encoding;
        st.caps = caps;
        st.root = root;
        st.config = std::sync::Arc::new(crate::config::ConfigCache::new(settings.overrides()));
        st.settings = settings;
    }
    for w in warnings {
        server
            .log(MessageType::WARNING, format!("keylint settings: {w}"))
            .await;
    }

    let capabilities = ServerCapabilities {
        position_encoding: Some(convert::encoding_kind(encoding)),
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                ..Default::default()
            },
        )),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![
                CodeActionKind::QUICKFIX,
                CodeActionKind::new(FIX_ALL_KIND),
            ]),
            resolve_provider: Some(false),
            ..Default::default()
        })),
        // Pull diagnostics only for clients that advertise them; the others get pushes.
        diagnostic_provider: pull.then(|| {
            DiagnosticServerCapabilities::Options(DiagnosticOptions {
                identifier: Some("keylint".into()),
                inter_file_dependencies: true,
                workspace_diagnostics: false,
                ..Default::default()
            })
        }),
        // Folders added and removed are indexed and forgotten (`lsp/workspace.rs`).
        workspace: Some(WorkspaceServerCapabilities {
            workspace_folders: Some(WorkspaceFoldersServerCapabilities {
                supported: Some(true),
                change_notifications: Some(OneOf::Left(true)),
            }),
            file_operations: None,
        }),
        ..Default::default()
    };
    Ok(InitializeResult {
        capabilities,
        server_info: Some(ServerInfo {
            name: "keylint".into(),
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
        offset_encoding: None,
    })
}
