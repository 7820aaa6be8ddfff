//! Application objects and settings classes: `app = Flask(__name__)`, `app.config`, a pydantic
//! `BaseSettings` subclass (KL203, KL301, KL302).

use tree_sitter::Node;

use super::Model;
use crate::document::SourceText;
use crate::syntax::{self, NodeExt};

/// Qualified constructors of application objects.
const APP_TYPES: &[&str] = &[
    "flask.Flask()",
    "quart.Quart()",
    "flask_socketio.SocketIO()",
    "fastapi.FastAPI()",
    "starlette.applications.Starlette()",
];

/// Is `node` an application object: resolved to a known constructor, or named like one
/// (`app`, `application`, `flask_app`, `socketio` — created by a factory the model cannot follow).
pub fn is_app(node: Node, model: &Model, src: SourceText) -> bool {
    let node = syntax::unparenthesize(node);
    if let Some(q) = model.resolve(node, src) {
        if APP_TYPES
            .iter()
            .any(|t| q == *t || q.ends_with(&format!(".{t}")))
        {
            return true;
        }
    }
    let name = match node.kind_str() {
        // `create_app().run(...)`, `make_app(config).run(...)`
        "call" => match node.field("function") {
            Some(f) => src.node_text(f),
            None => return false,
        },
        "identifier" => src.node_text(node),
        "attribute" => node
            .field("attribute")
            .map(|a| src.node_text(a))
            .unwrap_or_default(),
        _ => return false,
    };
    let words = syntax::name_words(&name);
    words
        .last()
        .is_some_and(|w| matches!(w.as_str(), "app" | "application" | "socketio"))
}

/// `X.config` where `X` is an application object.
pub fn is_app_config(node: Node, model: &Model, src: SourceText) -> bool {
    let node = syntax::unparenthesize(node);
    node.kind_str() == "attribute"
        && node
            .field("attribute")
            .is_some_and(|a| src.node_text(a) == "config")
        && node.field("object").is_some_and(|o| {
            is_app(o, model, src)
                || src.node_text(o) == "current_app"
                || model.resolve(o, src).as_deref() == Some("flask.current_app")
        })
}

/// A settings class: derives from pydantic's `BaseSettings`.
pub fn is_settings_class(name: &str, model: &Model) -> bool {
    model.classes.iter().any(|c| {
        c.name == name
            && c.bases
                .iter()
                .any(|b| b.last().is_some_and(|n| n == "BaseSettings"))
    })
}
