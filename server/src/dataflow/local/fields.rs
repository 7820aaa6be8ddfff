//! Fields and attributes: local dicts with known fields, request data fields, `os.environ`,
//! `app.config[...]`, attributes of holders and the projection of a field out of a value.

use tree_sitter::Node;

use crate::dataflow::{Base, Kind, Label, Mode, Taint};
use crate::model::frameworks as fw;
use crate::model::Binding;
use crate::syntax::{self, string_value, NodeExt};

use super::{named_children, Walker, MAX_CALLS};

/// A plain field name (`name`, `issuer`, `openid_config_url`): a lower-case identifier, none of
/// the names the projection treats as a whole value or a part of a request (`Item`, `headers`,
/// `json`, `state`…).
/// A field whose words mention key material (`key`, `secret`, `token`, `pass`…) is never one.
fn is_other_field(key: &str) -> bool {
    !syntax::name_words(key).iter().any(|w| {
        matches!(
            w.as_str(),
            "key"
                | "keys"
                | "apikey"
                | "secret"
                | "secrets"
                | "token"
                | "tokens"
                | "password"
                | "passwd"
                | "pwd"
                | "pass"
                | "credential"
                | "credentials"
                | "auth"
                | "authorization"
                | "signature"
                | "private"
        )
    }) && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !matches!(
            key,
            "credentials" | "attribute_values" | "state" | "headers"
        )
        && !REQUEST_DATA_FIELDS.contains(&key)
}

/// The fields of a request object that hold what the client sent (`request.json`, `.form`,
/// `.query_params`, ...): read as request data, never as a key's own name.
const REQUEST_DATA_FIELDS: &[&str] = &[
    "json",
    "form",
    "args",
    "values",
    "query_params",
    "cookies",
    "get_json",
    "body",
    "data",
    "files",
];

impl<'a> Walker<'a> {
    /// `d["name"]`, `d.get("name")` where `d` carries key material as a whole: a string key
    /// means `d` is a mapping that *holds* the key (a dict a function built and returned), so a
    /// field not named like a key (`name`, `issuer`, `openid_config_url`) is another field of
    /// it, not the key. Only that field's taint is kept: the whole-key labels are dropped, the
    /// key-named fields (`d["client_secret"]`) and whole-dict uses keep them.
    pub(super) fn other_field(&self, t: Taint, key: &str) -> Taint {
        if fw::is_key_name(key) || t.is_empty() || !is_other_field(key) {
            return t;
        }
        Taint(
            t.0.into_iter()
                .filter(|l| {
                    l.mode != Mode::Whole
                        || match l.base {
                            Base::Source(i) => !matches!(
                                self.flow.sources[i as usize].kind,
                                Kind::Key | Kind::Named | Kind::Minted
                            ),
                            // The result of a module function, a parameter, a global: what
                            // reaches here through it is resolved later; a non-key field of it
                            // holds no key (a body's, a model's or an item's non-key field
                            // holds none either).
                            Base::Call(_) | Base::Param(_) | Base::Global(_) => false,
                        }
                })
                .collect(),
        )
    }

    /// What `value[key]` holds when `value` is a local dict with known fields.
    pub(super) fn known_field(&self, value: Node, key: &str) -> Option<Taint> {
        if value.kind_str() != "identifier" {
            return None;
        }
        let f = self.fields.get(self.src.node_text(value).as_ref())?;
        Some(
            f.iter()
                .find(|(n, _)| n == key)
                .map(|(_, t)| t.clone())
                .unwrap_or_default(),
        )
    }

    /// The fields of a dict literal whose keys are all string literals.
    pub(super) fn dict_fields(&self, rhs: Node) -> Option<Vec<(String, Taint)>> {
        let rhs = syntax::unparenthesize(rhs);
        if rhs.kind_str() != "dictionary" {
            return None;
        }
        let mut out = Vec::new();
        for c in named_children(rhs) {
            if c.kind_str() != "pair" {
                return None;
            }
            let key = string_value(c.field("key")?, self.src)?;
            let v = self.rel(c.field("value")?);
            let t = self
                .parts
                .iter()
                .rev()
                .find(|(r, _)| *r == v)
                .map(|(_, t)| t.clone())
                .unwrap_or_default();
            out.push((key, t));
        }
        Some(out)
    }

    pub(super) fn env_source(&mut self, node: Node, var: &str) -> Taint {
        self.source(
            node,
            Kind::Key,
            format!("secret read from the environment here (`{var}`)"),
            None,
            None,
        )
    }

    /// `settings.API_KEY` after `from . import settings` or `import app.settings as settings`:
    /// a key-like module-level name of another module read through the module, as `from
    /// .settings import API_KEY` reads it (a global, `@` and its import path, which only the
    /// project model resolves; alone it resolves to nothing).
    fn imported_module_global(&mut self, obj: Node, attr: &str) -> Option<Taint> {
        if obj.kind_str() != "identifier" || !fw::is_key_name(attr) {
            return None;
        }
        let name = self.text(obj);
        if self.locals.contains(&*name) || self.env.contains_key(&*name) {
            return None;
        }
        let Some(Binding::Import(q)) = self.model.binding(&name) else {
            return None;
        };
        let top = q.trim_start_matches('.').split('.').next().unwrap_or("");
        if fw::is_framework_package(top) {
            return None;
        }
        let i = self.imported_global(format!("@{q}.{attr}"))?;
        let mut t = Taint::one(Base::Global(i));
        // `settings.api_key` after `from .config import settings`: a field of an object of
        // another module (a Pydantic `BaseSettings` instance made there), projected as a field
        // of a global of the module is. Of the two names only one resolves: a module's name
        // (`from . import settings`), or an object's.
        if let Some(j) = self.imported_global(format!("@{q}")) {
            let whole = Taint::one(Base::Global(j));
            t.union(&self.project(whole, obj, Some(attr)));
        }
        Some(t)
    }

    /// The index of the global `@…` (a name of another module) in the flow's globals, added
    /// when new (`None`: too many).
    fn imported_global(&mut self, global: String) -> Option<u16> {
        let i = match self.flow.globals.iter().position(|g| *g == global) {
            Some(i) => i,
            None if self.flow.globals.len() < MAX_CALLS => {
                self.flow.globals.push(global);
                self.flow.globals.len() - 1
            }
            None => return None,
        };
        Some(i as u16)
    }

    pub(super) fn attribute(&mut self, node: Node) -> Taint {
        let (Some(obj), Some(attr)) = (node.field("object"), node.field("attribute")) else {
            return Taint::default();
        };
        let attr = self.text(attr);
        // Flask's `request` (`flask.request`): what [`Model::resolve`] gives the attribute ends
        // with `.{attr}`, but when the model resolves `module.attr` of a module of the project
        // imported whole as one (see `ForeignName::made_by`); resolved only when it can be.
        if attr == "request"
            || (obj.kind_str() == "identifier" && !self.model.foreign_names.is_empty())
        {
            if let Some(q) = self.model.resolve(node, self.src) {
                if fw::is_flask_request(&q) {
                    return self.request_source(node);
                }
            }
        }
        let t = self.eval(obj);
        if let Some(mut g) = self.imported_module_global(obj, &attr) {
            g.union(&self.project(t, node, Some(&attr)));
            return g;
        }
        // `self.api_key` in a method (an SDK wrapper's credential), unless the class binds it
        // to a string constant; Flask's `g.api_key` (a key carried through the request).
        let holder = if obj.kind_str() != "identifier" || !fw::is_named_key(&attr) {
            None
        } else if self.src.node_text(obj) == "self"
            && self.class.is_some()
            && !self.class_str_const(&attr)
        {
            Some("self")
        } else if self.model.resolve(obj, self.src).as_deref() == Some("flask.g") {
            Some("g")
        } else {
            None
        };
        if let Some(holder) = holder {
            let mut x = self.project(t, node, Some(&attr));
            let named = self.source(
                node,
                Kind::Named,
                format!("`{holder}.{attr}`, a key by its name"),
                None,
                None,
            );
            x.union(&named);
            return x;
        }
        self.project(t, node, Some(&attr))
    }

    /// The enclosing class binds `attr` to a string literal (a constant, not a credential).
    fn class_str_const(&self, attr: &str) -> bool {
        let Some(class) = &self.class else {
            return false;
        };
        self.model
            .classes
            .iter()
            .position(|c| c.name == *class)
            .is_some_and(|i| self.model.is_class_str_const(i, attr))
    }

    /// `app.config["API_KEY"]`, `current_app.config.get("SECRET_KEY")`: a key by its name.
    pub(super) fn config_key(&mut self, at: Node, holder: Node, key: &str) -> Option<Taint> {
        let holder_text = self.src.node_text(holder);
        let config = holder_text == "config" || holder_text.ends_with(".config");
        (config && fw::is_named_key(key)).then(|| {
            self.source(
                at,
                Kind::Named,
                format!("configuration `{key}`, a key by its name"),
                None,
                None,
            )
        })
    }

    /// `value.field` / `value["field"]`: a secret-named field of a holder is key material, another
    /// field of it is not; a key stays a key.
    pub(super) fn project(&mut self, t: Taint, at: Node, field: Option<&str>) -> Taint {
        if t.is_empty() {
            return t;
        }
        let Some(field) = field else { return t };
        let mode = if fw::is_key_name(field) {
            if self.masked_everywhere(field) {
                Mode::MaskedField
            } else {
                Mode::Secret
            }
        } else if matches!(
            field,
            "Item"
                | "Items"
                | "Attributes"
                | "Responses"
                | "__dict__"
                | "credentials"
                | "attribute_values"
                | "state"
        ) {
            Mode::Whole
        } else {
            Mode::Other
        };
        let mut out = Taint::default();
        for l in t.0.clone() {
            match l.base {
                Base::Source(i) if l.mode == Mode::Whole => {
                    let s = self.flow.sources[i as usize].clone();
                    let mode = if mode == Mode::MaskedField {
                        Mode::Secret
                    } else {
                        mode
                    };
                    match (s.kind, mode) {
                        (Kind::Key | Kind::Minted, _) => out.union(&Taint(vec![l])),
                        // `request.state.api_key`: set by a middleware, read by the handler.
                        (Kind::Request, _) if field == "state" => {
                            let x = self.source(
                                at,
                                Kind::Body,
                                "request state enters here (`request.state`)".into(),
                                None,
                                None,
                            );
                            out.union(&x);
                        }
                        (Kind::Request, _) if field == "headers" => {
                            let x = self.source(
                                at,
                                Kind::Headers,
                                "request headers enter here".into(),
                                None,
                                None,
                            );
                            out.union(&x);
                        }
                        (Kind::Request, _) if REQUEST_DATA_FIELDS.contains(&field) => {
                            let x = self.source(
                                at,
                                Kind::Body,
                                "request data enters here".into(),
                                None,
                                None,
                            );
                            out.union(&x);
                        }
                        (_, Mode::Whole) => out.union(&Taint(vec![l])),
                        (Kind::Masked, _) => {}
                        (Kind::Model | Kind::MaskedModel, Mode::Secret)
                            if s.kind == Kind::MaskedModel
                                || self.masked_field(s.class.as_deref(), field) =>
                        {
                            let x = self.source(
                                at,
                                Kind::Masked,
                                format!(
                                    "masked secret enters here (field `{field}` of `{}`)",
                                    s.class.clone().unwrap_or_default()
                                ),
                                s.class.clone(),
                                None,
                            );
                            out.union(&x);
                        }
                        (kind, Mode::Secret) => {
                            let message = match kind {
                                Kind::Headers => format!("API key enters here (header `{field}`)"),
                                Kind::Model => format!(
                                    "API key enters here (field `{field}` of `{}`)",
                                    s.class.clone().unwrap_or_default()
                                ),
                                Kind::Stored => {
                                    format!("stored key read here (attribute `{field}`)")
                                }
                                _ => format!("API key enters here (field `{field}`)"),
                            };
                            let x = self.source(at, Kind::Key, message, None, None);
                            out.union(&x);
                        }
                        // `request.headers.get("x-refresh")`, `headers["cookie"]`: a header
                        // that carries a credential without a key-like name.
                        (Kind::Headers, Mode::Other) if fw::is_credential_header(field) => {
                            let x = self.source(
                                at,
                                Kind::Key,
                                format!("API key enters here (header `{field}`)"),
                                None,
                                None,
                            );
                            out.union(&x);
                        }
                        (_, Mode::Other | Mode::Unmask | Mode::MaskedField) => {}
                    }
                }
                _ => out.union(&Taint(vec![Label {
                    base: l.base,
                    mode: Mode::compose(mode, l.mode),
                }])),
            }
        }
        out
    }
}
