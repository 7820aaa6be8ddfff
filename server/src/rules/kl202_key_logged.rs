//! KL202 `key-logged`: key material (or whole request headers) reaches a log.

use crate::dataflow::{Kind, SinkKind};
use crate::rules::report::{self, Hit};
use crate::syntax::NodeExt;
use tree_sitter::Node;

use crate::finding::{Edit, Fix};
use crate::finding::{Finding, Severity};
use crate::model::frameworks as fw;
use crate::model::secrets;
use crate::rules::{Ctx, FixAvailability, Rule, RuleMeta};
use crate::syntax::{self, Item};

pub static META: RuleMeta = RuleMeta {
    code: "KL202",
    name: "key-logged",
    summary: "An API key, or the whole request headers, is written to a log or to the console",
    severity: Severity::Warning,
    fix: FixAvailability::Sometimes,
    cwe: &["CWE-532", "CWE-200"],
    docs: include_str!("kl202_key_logged.md"),
    prefilter: &[
        fw::NAME_WORDS,
        fw::ENV_WORDS,
        fw::WEB_WORDS,
        fw::SOURCE_WORDS,
        fw::STORED_WORDS,
        fw::DYNAMODB_WORDS,
        fw::LOG_WORDS,
    ],
    reads_flows: true,
};

pub struct KeyLogged;

impl Rule for KeyLogged {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, item: &Item, ctx: &Ctx, out: &mut Vec<Finding>) {
        let (flows, start) = report::flows(item, ctx);
        let accept = |k: Kind| {
            matches!(
                k,
                Kind::Key
                    | Kind::Headers
                    | Kind::Request
                    | Kind::Model
                    | Kind::Minted
                    | Kind::Stored
                    | Kind::Body
            )
        };
        for hit in report::hits(&flows, start, ctx, &[SinkKind::Log], accept) {
            // A stored item is logged as a finding only when its model class declares key
            // material (PynamoDB attributes); a boto3 item's attributes are unknown.
            let range = hit.sink.value.start + start..hit.sink.value.end + start;
            // A whole request body is logged as a finding only when the handler reads a secret
            // field of it (`body["password"]`): a login or signup payload.
            let body_field = hit
                .concs
                .iter()
                .any(|c| c.kind == Kind::Body)
                .then(|| body_secret_field(item, range.clone(), ctx))
                .flatten();
            let Some(conc) = hit.concs.iter().find(|c| match c.kind {
                Kind::Stored => c.class.is_some(),
                Kind::Body => body_field.is_some(),
                _ => true,
            }) else {
                continue;
            };
            if failed_verification(item, range.clone(), ctx) {
                continue;
            }
            let what = match conc.kind {
                Kind::Headers => "The request headers (with their API key) are".to_string(),
                Kind::Request => "The whole request (with its API key header) is".to_string(),
                Kind::Body => format!(
                    "The whole request body (with its `{}` field) is",
                    body_field.clone().unwrap_or_default()
                ),
                Kind::Model => format!(
                    "A `{}` with its secret field is",
                    conc.class.clone().unwrap_or_default()
                ),
                Kind::Stored => format!(
                    "Whole stored `{}` items (with their key material) are",
                    conc.class.clone().unwrap_or_default()
                ),
                _ => format!("An API key ({}) is", report::origin(conc)),
            };
            let mut finding = report::finding(
                &META,
                range,
                format!("{what} written to the log; log a fingerprint or nothing"),
                conc,
            );
            if let Some(fix) = redact_fix(item, ctx, &hit, start) {
                finding = finding.with_fix(fix);
            }
            out.push(finding);
        }
    }
}

/// The secret-named field (`password`, `api_key`) the function around the logged request body at
/// `range` reads from that same body: `body["password"]`, `body.get("api_key")`, where `body` is
/// the logged expression (`request.form`, `await request.json()`) or a name assigned from it.
fn body_secret_field(item: &Item, range: std::ops::Range<usize>, ctx: &Ctx) -> Option<String> {
    let value = report::node_at(item, range)?;
    let mut def = value;
    while def.kind_str() != "function_definition" {
        def = def.parent()?;
    }
    let bare = |n: Node| {
        let n = if n.kind_str() == "await" {
            n.named_child(0).unwrap_or(n)
        } else {
            n
        };
        ctx.text(n).into_owned()
    };
    // The logged body and the names that hold it.
    let mut same: Vec<String> = vec![bare(value)];
    for n in syntax::descendants(def) {
        if n.kind_str() != "assignment" {
            continue;
        }
        let (Some(l), Some(r)) = (n.field("left"), n.field("right")) else {
            continue;
        };
        if l.kind_str() != "identifier" {
            continue;
        }
        let (l, r) = (ctx.text(l).into_owned(), bare(r));
        if same.contains(&r) && !same.contains(&l) {
            same.push(l);
        } else if same.contains(&l) && !same.contains(&r) {
            same.push(r);
        }
    }
    let secret = |key: Node| {
        syntax::string_value(key, ctx.src)
            .filter(|k| secrets::is_secret_name(k, &ctx.settings.extra_secret_names))
    };
    syntax::descendants(def).find_map(|n| match n.kind_str() {
        "subscript" => {
            let object = n.field("value")?;
            if !same.contains(&bare(object)) {
                return None;
            }
            secret(n.field("subscript")?)
        }
        "call" => {
            let f = n
                .field("function")
                .filter(|f| f.kind_str() == "attribute")?;
            let method = f.field("attribute")?;
            if !matches!(ctx.text(method).as_ref(), "get" | "pop")
                || !same.contains(&bare(f.field("object")?))
            {
                return None;
            }
            secret(*syntax::positional_args(n).first()?)
        }
        _ => None,
    })
}

/// `try: email = deserialize(token, …) except BadSignature: log.warning("bad token %s", token)`:
/// the value logged is one that the `try` just failed to verify (a forged or expired token), in
/// the `except` of a named error type (not `Exception`): it grants nothing.
fn failed_verification(item: &Item, range: std::ops::Range<usize>, ctx: &Ctx) -> bool {
    let Some(value) = item.node.descendant_for_byte_range(range.start, range.end) else {
        return false;
    };
    let logged: Vec<String> = syntax::descendants(value)
        .filter(|n| n.kind_str() == "identifier")
        .map(|n| ctx.text(n).into_owned())
        .collect();
    let mut cur = value.parent();
    while let Some(n) = cur {
        if n.kind_str() == "function_definition" {
            return false;
        }
        if n.kind_str() == "except_clause" {
            let mut cursor = n.walk();
            let specific = n.named_children(&mut cursor).any(|c| {
                let ty = match c.kind_str() {
                    "as_pattern" => c.named_child(0),
                    "identifier" | "attribute" | "tuple" => Some(c),
                    _ => None,
                };
                ty.is_some_and(|t| {
                    !ctx.text(t)
                        .split(|ch: char| !ch.is_alphanumeric() && ch != '_')
                        .any(|w| matches!(w, "Exception" | "BaseException"))
                })
            });
            let verified = n
                .parent()
                .filter(|t| t.kind_str() == "try_statement")
                .and_then(|t| t.field("body"))
                .is_some_and(|body| {
                    syntax::descendants(body).any(|call| {
                        call.kind_str() == "call"
                            && call.field("function").is_some_and(|f| {
                                let text = ctx.text(f);
                                let last = text.rsplit('.').next().unwrap_or("");
                                syntax::name_words(last).iter().any(|w| {
                                    matches!(
                                        w.as_str(),
                                        "loads"
                                            | "deserialize"
                                            | "decode"
                                            | "verify"
                                            | "unsign"
                                            | "validate"
                                            | "confirm"
                                    )
                                })
                            })
                            && syntax::positional_args(call).iter().any(|a| {
                                a.kind_str() == "identifier"
                                    && logged.iter().any(|l| *l == ctx.text(*a))
                            })
                    })
                });
            return specific && verified;
        }
        cur = n.parent();
    }
    false
}

fn redact_fix(item: &Item, ctx: &Ctx, hit: &Hit, start: usize) -> Option<Fix> {
    let value = report::node_at(
        item,
        hit.sink.value.start + start..hit.sink.value.end + start,
    )?;
    let all = report::concs_of(hit.flow, start, ctx, &hit.sink.taint, |k| !k.is_masked());
    let only_keys = all
        .iter()
        .all(|c| matches!(c.kind, Kind::Key | Kind::Named));
    let simple = matches!(
        value.kind(),
        "identifier" | "attribute" | "subscript" | "call"
    );
    let mut edits = Vec::new();
    let mut needs_hashlib = false;
    if simple && only_keys {
        edits.push(Edit::replace(
            value.byte_range(),
            format!("{}[:8]", fingerprint(item, value, ctx)),
        ));
        needs_hashlib = true;
    } else if simple {
        edits.push(Edit::replace(value.byte_range(), "\"[redacted]\""));
    } else if value.kind() == "string" {
        // f-string: fingerprint each interpolated key.
        for (range, taint) in &hit.sink.parts {
            let concs = report::concs_of(hit.flow, start, ctx, taint, |k| !k.is_masked());
            if concs.is_empty() {
                continue;
            }
            if concs
                .iter()
                .any(|c| !matches!(c.kind, Kind::Key | Kind::Named))
            {
                return None;
            }
            let part = report::node_at(item, range.start + start..range.end + start)?;
            if part.parent().map(|p| p.kind()) != Some("interpolation")
                || !matches!(part.kind(), "identifier" | "attribute" | "subscript")
            {
                return None;
            }
            edits.push(Edit::replace(
                part.byte_range(),
                format!("{}[:8]", fingerprint(item, part, ctx)),
            ));
            needs_hashlib = true;
        }
    }
    if edits.is_empty() {
        return None;
    }
    let title = if needs_hashlib {
        "Log a short SHA-256 fingerprint instead of the key"
    } else {
        "Log \"[redacted]\" instead"
    };
    let mut fix = Fix::unsafe_(title);
    for e in edits {
        fix = fix.edit(e);
    }
    if needs_hashlib && ctx.model.module_alias("hashlib").is_none() {
        fix = fix.import("hashlib");
    }
    Some(fix)
}

/// `hashlib.sha256(x.encode()).hexdigest()`, or with `str(x)` when `x` may be `None` (a `.get(...)`,
/// an optional header), so that the fixed line cannot raise.
fn fingerprint(item: &Item, value: Node, ctx: &Ctx) -> String {
    if may_be_none(item, value, ctx) {
        let hashlib = ctx.model.module_alias("hashlib").unwrap_or("hashlib");
        format!(
            "{hashlib}.sha256(str({}).encode()).hexdigest()",
            ctx.text(value)
        )
    } else {
        report::sha256_of(value, ctx)
    }
}

fn may_be_none(item: &Item, value: Node, ctx: &Ctx) -> bool {
    let text = ctx.text(value);
    if value.kind() == "call" || text.contains(".get(") {
        return true;
    }
    if value.kind() != "identifier" {
        return false;
    }
    // A parameter declared optional, or a local assigned from a `.get(...)`.
    for n in syntax::descendants(item.node) {
        match n.kind() {
            "default_parameter" | "typed_default_parameter" | "typed_parameter" => {
                let name = n
                    .field("name")
                    .or_else(|| n.named_child(0))
                    .map(|x| ctx.text(x));
                if name.as_deref() == Some(text.as_ref()) {
                    let decl = ctx.text(n);
                    if decl.contains("None") || decl.contains("Optional") {
                        return true;
                    }
                }
            }
            "assignment" => {
                let (Some(l), Some(r)) = (n.field("left"), n.field("right")) else {
                    continue;
                };
                if ctx.text(l) == text && ctx.text(r).contains(".get(") {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}
