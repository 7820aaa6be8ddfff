//! KL201 `raw-key-persisted`: key material reaches DynamoDB unhashed.

use crate::syntax::NodeExt;
use tree_sitter::Node;

use crate::dataflow::{Conc, Kind, SinkKind};
use crate::finding::{Edit, Fix};
use crate::finding::{Finding, Severity};
use crate::model::frameworks;
use crate::rules::report::{self, Hit};
use crate::rules::{Ctx, FixAvailability, Rule, RuleMeta};
use crate::syntax::Item;

pub static META: RuleMeta = RuleMeta {
    code: "KL201",
    name: "raw-key-persisted",
    summary: "An API key is stored in DynamoDB as it came in, not as a hash",
    severity: Severity::Warning,
    fix: FixAvailability::Sometimes,
    cwe: &["CWE-312", "CWE-256", "CWE-916"],
    docs: include_str!("kl201_raw_key_persisted.md"),
};

pub struct RawKeyPersisted;

impl Rule for RawKeyPersisted {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, item: &Item, ctx: &Ctx, out: &mut Vec<Finding>) {
        let (flows, start) = report::flows(item, ctx);
        let accept = |k: Kind| matches!(k, Kind::Key | Kind::Model | Kind::Headers | Kind::Minted);
        for hit in report::hits(&flows, start, ctx, &[SinkKind::Persist], accept) {
            let conc = &hit.concs[0];
            let range = key_line_range(item, ctx, &hit, start, accept);
            let what = match conc.kind {
                Kind::Model => format!(
                    "a `{}` with its secret field",
                    conc.class.clone().unwrap_or_default()
                ),
                Kind::Headers => "the request headers".to_string(),
                Kind::Minted => "a key minted by the service".to_string(),
                _ => "an API key".to_string(),
            };
            let mut finding = report::finding(
                &META,
                range,
                format!(
                    "{what} ({}) is stored in DynamoDB unhashed; store a hash of it",
                    report::origin(conc)
                ),
                conc,
            );
            if let Some(fix) = hash_fix(item, ctx, &hit, start) {
                finding = finding.with_fix(fix);
            }
            out.push(finding);
        }
    }
}

/// The stored value, or, when it spans several lines (a transaction, a batch request), the
/// innermost part of it that holds the key: the finding stands on the line that holds the key.
fn key_line_range(
    item: &Item,
    ctx: &Ctx,
    hit: &Hit,
    start: usize,
    accept: impl Fn(Kind) -> bool + Copy,
) -> std::ops::Range<usize> {
    let range = hit.sink.value.start + start..hit.sink.value.end + start;
    let multiline = report::node_at(item, range.clone())
        .is_some_and(|n| n.start_position().row != n.end_position().row);
    if !multiline {
        return range;
    }
    hit.sink
        .parts
        .iter()
        .filter(|(_, t)| !report::concs_of(hit.flow, start, ctx, t, accept).is_empty())
        .map(|(r, _)| r.start + start..r.end + start)
        .filter(|r| range.start <= r.start && r.end <= range.end)
        .min_by_key(|r| r.end - r.start)
        .unwrap_or(range)
}

fn hash_fix(item: &Item, ctx: &Ctx, hit: &Hit, start: usize) -> Option<Fix> {
    let value = report::node_at(
        item,
        hit.sink.value.start + start..hit.sink.value.end + start,
    )?;
    let mut edits = Vec::new();
    if value.kind_str() == "dictionary" {
        for (range, taint) in &hit.sink.parts {
            let concs = report::concs_of(hit.flow, start, ctx, taint, |k| k == Kind::Key);
            if concs.is_empty() {
                continue;
            }
            let Some(part) = report::node_at(item, range.start + start..range.end + start) else {
                continue;
            };
            let Some(pair) = part.parent().filter(|p| p.kind_str() == "pair") else {
                continue;
            };
            let Some(dict) = pair.parent() else { continue };
            if dict.id() == value.id() {
                // A value of the item itself: `"api_key": key` (or `"api_key": {"S": key}`).
                if part.kind_str() == "dictionary" {
                    continue;
                }
                edits.push(Edit::replace(
                    part.byte_range(),
                    report::sha256_of(part, ctx),
                ));
            } else if let Some(outer) = dict.parent().filter(|p| p.kind_str() == "pair") {
                // Client style: `"api_key": {"S": key}`.
                if outer.parent().map(|d| d.id()) != Some(value.id()) {
                    return None;
                }
                edits.push(Edit::replace(
                    part.byte_range(),
                    report::sha256_of(part, ctx),
                ));
            } else {
                return None;
            }
        }
    } else if value.kind_str() == "call" {
        edits.push(model_dump_fix(value, ctx, &hit.concs)?);
    }
    if edits.is_empty() {
        return None;
    }
    let mut fix = Fix::unsafe_("Store a SHA-256 hash of the key instead of the key");
    for e in edits {
        fix = fix.edit(e);
    }
    if ctx.model.module_alias("hashlib").is_none() {
        fix = fix.import("hashlib");
    }
    Some(fix)
}

/// `Item=reg.model_dump()` → `Item={**reg.model_dump(exclude={"api_key"}), "api_key": <its hash>}`.
fn model_dump_fix(call: Node, ctx: &Ctx, concs: &[Conc]) -> Option<Edit> {
    let func = call.field("function")?;
    if func.kind_str() != "attribute" {
        return None;
    }
    let method = ctx.text(func.field("attribute")?);
    if !matches!(method.as_ref(), "dict" | "model_dump") {
        return None;
    }
    let args = call.field("arguments")?;
    if args.named_child_count() != 0 {
        return None;
    }
    let obj = func.field("object")?;
    if !matches!(obj.kind_str(), "identifier" | "attribute") {
        return None;
    }
    let class = concs
        .iter()
        .find(|c| c.kind == Kind::Model)?
        .class
        .clone()?;
    let class = ctx.model.classes.iter().rev().find(|c| c.name == class)?;
    let fields: Vec<&String> = class
        .fields
        .iter()
        .filter(|f| frameworks::is_key_name(f) && !class.is_masked(f))
        .collect();
    if fields.is_empty() {
        return None;
    }
    let obj_text = ctx.text(obj);
    let hashlib = ctx.model.module_alias("hashlib").unwrap_or("hashlib");
    let exclude = fields
        .iter()
        .map(|f| format!("\"{f}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let hashes = fields
        .iter()
        .map(|f| format!("\"{f}\": {hashlib}.sha256({obj_text}.{f}.encode()).hexdigest()"))
        .collect::<Vec<_>>()
        .join(", ");
    Some(Edit::replace(
        call.byte_range(),
        format!("{{**{obj_text}.{method}(exclude={{{exclude}}}), {hashes}}}"),
    ))
}
