//! KL207 `key-in-url`: an API key travels in a URL — accepted as a query parameter
//! (`APIKeyQuery`, a route parameter named like a key, `request.args["api_key"]`) or sent in one
//! (`f"{base}?api_key={key}"`). URLs are written to access logs, proxies and browser history.

use crate::syntax::NodeExt;
use tree_sitter::Node;

use crate::finding::{Finding, Severity};
use crate::model::{frameworks as fw, HandlerKind};
use crate::rules::{Ctx, FixAvailability, Rule, RuleMeta};
use crate::syntax::{self, Item};

pub static META: RuleMeta = RuleMeta {
    code: "KL207",
    name: "key-in-url",
    summary: "An API key is accepted or sent in a URL's query string",
    severity: Severity::Warning,
    fix: FixAvailability::None,
    cwe: &["CWE-598"],
    docs: include_str!("kl207_key_in_url.md"),
    prefilter: &[
        fw::NAME_WORDS,
        fw::ENV_WORDS,
        fw::WEB_WORDS,
        fw::SOURCE_WORDS,
        fw::HTTP_WORDS,
    ],
    reads_flows: false,
};

pub struct KeyInUrl;

impl Rule for KeyInUrl {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, item: &Item, ctx: &Ctx, out: &mut Vec<Finding>) {
        let first = out.len();
        self.check_item(item, ctx, out);
        // A test that builds `?token=…` to call the app under test sends a dummy: a hint, as
        // KL101 ranks test secrets.
        if ctx.file.is_test {
            for finding in &mut out[first..] {
                finding.severity = Severity::Hint;
            }
        }
    }
}

/// The node kinds [`KeyInUrl::check_item`]'s walk looks at.
static WALKED: std::sync::LazyLock<syntax::KindSet> =
    std::sync::LazyLock::new(|| syntax::KindSet::of(&["call", "subscript", "string"]));

impl KeyInUrl {
    fn check_item(&self, item: &Item, ctx: &Ctx, out: &mut Vec<Finding>) {
        let kinds = syntax::kinds();
        for def in item.nodes().of_kind(kinds.function_definition) {
            // The statement that holds the decorators: the parent from the item's index (no
            // climb from the module's root with tree-sitter's `Node::parent`).
            let stmt = item
                .ancestors(def)
                .next()
                .filter(|p| p.kind_id() == kinds.decorated_definition)
                .unwrap_or(def);
            let decorators = syntax::statement_decorators(stmt);
            if ctx.model.statement_handler_kind(stmt, ctx.src) == Some(HandlerKind::Route) {
                route_params(def, &decorators, ctx, out);
            }
        }
        let mut walk = item.descendants(item.node);
        while let Some(node) = walk.next() {
            // The other kinds are skipped by a bit test of the index's kind id.
            if !WALKED.contains(walk.kind()) {
                continue;
            }
            match node.kind_str() {
                "call" => call(node, ctx, out),
                "subscript" => {
                    // `request.args["api_key"]`, `request.query_params["token"]`.
                    let (Some(value), Some(key)) = (node.field("value"), node.field("subscript"))
                    else {
                        continue;
                    };
                    if let Some(name) = syntax::string_value(key, ctx.src) {
                        if fw::is_named_key(&name) && is_query_dict(value, ctx) {
                            out.push(Finding::new(
                                &META,
                                node.byte_range(),
                                format!("The API key `{name}` is read from the query string: URLs end up in access logs, proxies and browser history; take it from a header"),
                            ));
                        }
                    }
                }
                "string" => outbound(node, walk.ancestors(), ctx, out),
                _ => {}
            }
        }
    }
}

/// `request.args` (Flask), `request.query_params` (Starlette/FastAPI), `request.GET`.
fn is_query_dict(node: Node, ctx: &Ctx) -> bool {
    if node.kind_str() != "attribute" {
        return false;
    }
    let Some(attr) = node.field("attribute") else {
        return false;
    };
    let attr = ctx.text(attr);
    if !matches!(attr.as_ref(), "args" | "query_params" | "GET") {
        return false;
    }
    let Some(obj) = node.field("object") else {
        return false;
    };
    if let Some(q) = ctx.model.resolve(obj, ctx.src) {
        if fw::is_flask_request(&q) {
            return true;
        }
    }
    matches!(ctx.text(obj).as_ref(), "request" | "req" | "self.request")
}

fn call(node: Node, ctx: &Ctx, out: &mut Vec<Finding>) {
    let Some(func) = node.field("function") else {
        return;
    };
    // `APIKeyQuery(name="api_key")`: a security scheme that reads the key from the query.
    if let Some(q) = ctx.callee(node) {
        if q.starts_with("fastapi.") && q.ends_with(".APIKeyQuery") {
            out.push(Finding::new(
                &META,
                node.byte_range(),
                "`APIKeyQuery` takes the API key from the query string: URLs end up in access logs, proxies and browser history, and the OpenAPI schema documents it; use `APIKeyHeader`",
            ));
            return;
        }
    }
    // `request.args.get("api_key")`.
    if func.kind_str() == "attribute"
        && func
            .field("attribute")
            .is_some_and(|a| matches!(ctx.text(a).as_ref(), "get" | "getlist"))
        && func.field("object").is_some_and(|o| is_query_dict(o, ctx))
    {
        if let Some(name) = syntax::positional_args(node)
            .first()
            .and_then(|a| syntax::string_value(*a, ctx.src))
        {
            if fw::is_named_key(&name) {
                out.push(Finding::new(
                    &META,
                    node.byte_range(),
                    format!("The API key `{name}` is read from the query string: URLs end up in access logs, proxies and browser history; take it from a header"),
                ));
            }
        }
    }
}

/// Route parameters named like a key that FastAPI or Flask fills from the URL: a plain `str`
/// parameter (query or path), `Query(...)`, or a Flask `<api_key>` path segment.
fn route_params(def: Node, decorators: &[Node], ctx: &Ctx, out: &mut Vec<Finding>) {
    let Some(params) = def.field("parameters") else {
        return;
    };
    // `/reset-password?token=…`, `/verify/<token>`: a one-time link token has to be in the URL.
    if decorators.iter().any(|d| {
        d.kind_str() == "call"
            && syntax::positional_args(*d)
                .first()
                .and_then(|a| syntax::string_value(*a, ctx.src))
                .is_some_and(|path| one_time_link(&path))
    }) {
        return;
    }
    let mut cursor = params.walk();
    for p in params.named_children(&mut cursor) {
        let (name, ty, default) = match p.kind_str() {
            "identifier" => (Some(p), None, None),
            "typed_parameter" => (p.named_child(0), p.field("type"), None),
            "default_parameter" | "typed_default_parameter" => {
                (p.field("name"), p.field("type"), p.field("value"))
            }
            _ => continue,
        };
        let Some(name) = name else { continue };
        let name_text = ctx.text(name);
        // Markers, in the default or inside `Annotated[...]`.
        let mut markers: Vec<Node> = Vec::new();
        if let Some(d) = default.filter(|d| d.kind_str() == "call") {
            markers.push(d);
        }
        if let Some(ty) = ty {
            markers.extend(syntax::descendants(ty).filter(|n| n.kind_str() == "call"));
        }
        let mut query = None;
        let mut other_marker = false;
        for m in &markers {
            let Some(q) = ctx.callee(*m) else {
                continue;
            };
            if fw::is_fastapi(&q, "Query") || fw::is_fastapi(&q, "Path") {
                let alias = syntax::keyword_arg(*m, "alias", ctx.src)
                    .and_then(|a| syntax::string_value(a, ctx.src));
                query = Some(alias.unwrap_or_else(|| name_text.to_string()));
            } else if q.starts_with("fastapi.") {
                other_marker = true;
            }
        }
        let shown = match query {
            Some(shown) => shown,
            None if other_marker => continue,
            None => {
                // A plain parameter: FastAPI reads a `str` from the query or path; Flask passes
                // path segments (untyped).
                let plain = match ty {
                    Some(t) => matches!(
                        ctx.text(t).as_ref(),
                        "str" | "Optional[str]" | "str | None" | "typing.Optional[str]"
                    ),
                    None => default.is_none() && flask_path_param(decorators, &name_text, ctx),
                };
                if !plain {
                    continue;
                }
                name_text.to_string()
            }
        };
        if !fw::is_named_key(&shown) && !fw::is_named_key(&name_text) {
            continue;
        }
        out.push(Finding::new(
            &META,
            name.byte_range(),
            format!("The route takes the API key `{shown}` from the URL: URLs end up in access logs, proxies and browser history; take it from a header"),
        ));
    }
}

/// `@app.route("/hook/<token>")`: the parameter is a segment of the route's path.
fn flask_path_param(decorators: &[Node], name: &str, ctx: &Ctx) -> bool {
    decorators.iter().any(|d| {
        d.kind_str() == "call"
            && syntax::positional_args(*d)
                .first()
                .and_then(|a| syntax::string_value(*a, ctx.src))
                .is_some_and(|path| {
                    path.contains(&format!("<{name}>")) || path.contains(&format!(":{name}>"))
                })
    })
}

/// A URL built with the key in its query: `f"{base}?api_key={key}"`, `"…&token=" + token`,
/// `"…?key=%s" % key`, `"…?api_key={}".format(key)`.
/// `ancestors` are the string's, innermost first (from the item's index: no climb from the
/// module's root).
fn outbound<'t>(
    node: Node<'t>,
    mut ancestors: impl Iterator<Item = Node<'t>>,
    ctx: &Ctx,
    out: &mut Vec<Finding>,
) {
    // Only the first literal of an implicit concatenation, and no docstring or comment-like
    // literal: the string is part of an expression.
    let text = ctx.text(node);
    let Some(name) = query_key(&text) else {
        return;
    };
    if one_time_link(&text) {
        return;
    }
    let formatted = named_children(node)
        .iter()
        .any(|c| c.kind_str() == "interpolation");
    let built = ancestors.next().is_some_and(|p| match p.kind_str() {
        "binary_operator" => true,
        "attribute" => {
            ancestors
                .next()
                .and_then(|c| c.field("function").filter(|f| *f == p))
                .is_some()
                && p.field("attribute")
                    .is_some_and(|a| ctx.text(a) == "format")
        }
        _ => false,
    });
    if !(formatted || built) {
        return;
    }
    out.push(Finding::new(
        &META,
        node.byte_range(),
        format!("The URL carries the API key in its query (`{name}=`): it ends up in access logs and proxies on the way; send it in a header"),
    ));
}

/// A link that carries a one-time token by design (password reset, e-mail verification,
/// invitation, magic login, unsubscribe).
fn one_time_link(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    [
        "reset",
        "verif",
        "confirm",
        "activat",
        "invit",
        "unsubscribe",
        "magic",
        "signup",
        "register",
        "recover",
        "download",
    ]
    .iter()
    .any(|w| t.contains(w))
}

fn named_children(node: Node) -> Vec<Node> {
    let mut cursor = node.walk();
    node.named_children(&mut cursor).collect()
}

/// The key-named query parameter a URL-like literal sets with a value right after:
/// `?api_key=`, `&token=`.
pub(crate) fn query_key(text: &str) -> Option<String> {
    if !text.contains("://") && !text.contains('/') && !text.starts_with("f\"?") {
        // `"?api_key="` alone is still a query: keep literals that start with `?`/`&`.
        let inner = text.trim_start_matches(|c: char| c.is_ascii_alphabetic());
        let inner = inner.trim_start_matches(['"', '\'']);
        if !inner.starts_with('?') && !inner.starts_with('&') {
            return None;
        }
    }
    let bytes = text.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b != b'?' && *b != b'&' {
            continue;
        }
        let rest = &text[i + 1..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(rest.len());
        let name = &rest[..end];
        // The value is filled in by the code (`={key}`, `=%s`, `={}`, or the literal ends and
        // a concatenation follows): a literal value is KL101's finding.
        let value = &rest[end..];
        let filled = value.strip_prefix('=').is_some_and(|v| {
            (v.starts_with('{') && !v.starts_with("{{"))
                || v.starts_with("%s")
                || v.starts_with('"')
                || v.starts_with('\'')
        });
        if filled && !name.is_empty() && is_query_key_name(name) {
            return Some(name.to_string());
        }
    }
    None
}

/// A query parameter that holds a key: [`fw::is_named_key`], or `key` alone (`?key=` is how
/// Google and many others take an API key).
fn is_query_key_name(name: &str) -> bool {
    fw::is_named_key(name) || name.eq_ignore_ascii_case("key")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_keys() {
        assert_eq!(
            query_key("f\"https://maps.example/api?key={k}\"").as_deref(),
            Some("key")
        );
        assert_eq!(
            query_key("\"https://x.example/v1?page=2&api_key=\"").as_deref(),
            Some("api_key")
        );
        assert_eq!(
            query_key("f\"?access_token={t}\"").as_deref(),
            Some("access_token")
        );
        assert_eq!(query_key("\"https://x.example/v1?page_token=\""), None);
        assert_eq!(
            query_key("\"https://x.example/v1?token_type=bearer\""),
            None
        );
        assert_eq!(query_key("\"api_key=%s\""), None);
        // A literal key is KL101's finding.
        assert_eq!(
            query_key("f\"https://m.example/g?a={a}&key=AIzaSyA1b2\""),
            None
        );
    }
}
