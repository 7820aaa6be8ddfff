//! KL201 `raw-key-persisted`: key material reaches DynamoDB unhashed.

use crate::syntax::NodeExt;
use tree_sitter::Node;

use crate::dataflow::{Conc, Kind, SinkKind};
use crate::finding::{Edit, Fix};
use crate::finding::{Finding, Severity};
use crate::model::frameworks as fw;
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
    prefilter: &[
        fw::NAME_WORDS,
        fw::ENV_WORDS,
        fw::WEB_WORDS,
        fw::SOURCE_WORDS,
        fw::STORED_WORDS,
        fw::DYNAMODB_WORDS,
    ],
    reads_flows: true,
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
            let fix = hash_fix(item, ctx, &hit, start);
            // One finding per key of the write: two keys stored by one update action (an access
            // and a refresh token) are two exposures, each on its own line.
            let places = key_line_ranges(item, ctx, &hit, start, accept);
            let several = places.len() > 1;
            for (range, conc) in places {
                // Each finding's fix hashes its own key (the edits inside the parts that hold
                // it: every attribute it is written to): applied together (fix-all), the fixes
                // of one write compose into the whole fix.
                let fix = match &fix {
                    Some(f) if several => own_edits(f, &key_parts(ctx, &hit, start, &conc)),
                    other => other.clone(),
                };
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
                        report::origin(&conc)
                    ),
                    &conc,
                );
                if let Some(fix) = &fix {
                    finding = finding.with_fix(fix.clone());
                }
                out.push(finding);
            }
        }
    }
}

/// The parts of `hit`'s write (document ranges) that hold the key `conc` stands for (the key
/// that entered where it entered).
fn key_parts(ctx: &Ctx, hit: &Hit, start: usize, conc: &Conc) -> Vec<std::ops::Range<usize>> {
    let entered = |c: &Conc| (c.kind, c.path.first().cloned());
    let accept = |k: Kind| matches!(k, Kind::Key | Kind::Model | Kind::Headers | Kind::Minted);
    hit.sink
        .parts
        .iter()
        .filter(|(_, t)| {
            report::concs_of(hit.flow, start, ctx, t, accept)
                .iter()
                .any(|c| entered(c) == entered(conc))
        })
        .map(|(r, _)| r.start + start..r.end + start)
        .collect()
}

/// The part of `fix` that rewrites what lies in `parts` (the key of one finding of a write of
/// several keys), or `None` when none of its edits does.
fn own_edits(fix: &Fix, parts: &[std::ops::Range<usize>]) -> Option<Fix> {
    let mut own = fix.clone();
    own.edits.retain(|e| {
        parts
            .iter()
            .any(|p| p.start <= e.range.start && e.range.end <= p.end)
    });
    (!own.edits.is_empty()).then_some(own)
}

/// Where to report the keys of a write, each with the key it stands for: the stored value, or,
/// when it spans several lines (a transaction, a batch request, an update with several
/// actions), for each key that reaches it (by where it entered) the innermost part of it that
/// holds that key, first in the text: each finding stands on the line that holds its key.
fn key_line_ranges(
    item: &Item,
    ctx: &Ctx,
    hit: &Hit,
    start: usize,
    accept: impl Fn(Kind) -> bool + Copy,
) -> Vec<(std::ops::Range<usize>, Conc)> {
    let range = hit.sink.value.start + start..hit.sink.value.end + start;
    let whole = || vec![(range.clone(), hit.concs[0].clone())];
    let multiline = report::node_at(item, range.clone())
        .is_some_and(|n| n.start_position().row != n.end_position().row);
    if !multiline {
        return whole();
    }
    // The parts that hold key material, innermost first.
    let mut parts: Vec<(std::ops::Range<usize>, Vec<Conc>)> = hit
        .sink
        .parts
        .iter()
        .map(|(r, t)| (r.start + start..r.end + start, t))
        .filter(|(r, _)| range.start <= r.start && r.end <= range.end)
        .map(|(r, t)| (r, report::concs_of(hit.flow, start, ctx, t, accept)))
        .filter(|(_, concs)| !concs.is_empty())
        .collect();
    parts.sort_by_key(|(r, _)| (r.end - r.start, r.start));
    let entered = |c: &Conc| (c.kind, c.path.first().cloned());
    let mut out: Vec<(std::ops::Range<usize>, Conc)> = Vec::new();
    for conc in &hit.concs {
        if out.iter().any(|(_, c)| entered(c) == entered(conc)) {
            continue;
        }
        let part = parts
            .iter()
            .find(|(_, concs)| concs.iter().any(|c| entered(c) == entered(conc)));
        if let Some((r, _)) = part {
            out.push((r.clone(), conc.clone()));
        }
    }
    if out.is_empty() {
        return whole();
    }
    // Two keys in one part (`{"S": key + other}`): one finding there.
    out.sort_by_key(|(r, _)| (r.start, r.end));
    out.dedup_by(|b, a| a.0 == b.0);
    out
}

fn hash_fix(item: &Item, ctx: &Ctx, hit: &Hit, start: usize) -> Option<Fix> {
    let value = report::node_at(
        item,
        hit.sink.value.start + start..hit.sink.value.end + start,
    )?;
    let mut edits = Vec::new();
    if let Some(pynamo) = pynamo_edits(value, ctx, hit, start, item) {
        edits = pynamo?;
    } else if value.kind_str() == "dictionary" {
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

/// PynamoDB writes (`Account(api_key=key).save()`, `account.api_key = key` then
/// `account.save()`, `account.update(actions=[Account.api_key.set(key)])`, `batch.save(...)`):
/// `None` when the sink is not one; otherwise the edits that hash each value put into a key-named
/// attribute, or `Some(None)` when some key material reaches the write in a way the fix cannot
/// follow (a positional hash key, `**body.dict()`, a minted key or a whole model): no fix then.
fn pynamo_edits(
    value: Node,
    ctx: &Ctx,
    hit: &Hit,
    start: usize,
    item: &Item,
) -> Option<Option<Vec<Edit>>> {
    let accept = |k: Kind| matches!(k, Kind::Key | Kind::Model | Kind::Headers | Kind::Minted);
    let mut writes = Vec::new();
    for (range, taint) in &hit.sink.parts {
        let Some(part) = report::node_at(item, range.start + start..range.end + start) else {
            continue;
        };
        let Some((class, attr)) = pynamo_written_attr(part, ctx) else {
            continue;
        };
        writes.push((part, class, attr, taint));
    }
    let is_pynamo = !writes.is_empty()
        || match value.kind_str() {
            "call" => value
                .field("function")
                .is_some_and(|f| ctx.model.pynamo_class_ref(f, ctx.src).is_some()),
            "identifier" => true,
            _ => false,
        };
    if !is_pynamo {
        return None;
    }
    if value.kind_str() == "identifier" && writes.is_empty() {
        return Some(None);
    }
    let mut edits = Vec::new();
    let mut covered: Vec<Conc> = Vec::new();
    for (part, class, attr, taint) in writes {
        let all = report::concs_of(hit.flow, start, ctx, taint, accept);
        if all.is_empty() {
            continue;
        }
        let keys = report::concs_of(hit.flow, start, ctx, taint, |k| k == Kind::Key);
        let key_field = frameworks::is_key_name(&attr)
            && class.as_deref().is_none_or(|c| {
                ctx.model
                    .classes
                    .iter()
                    .rev()
                    .find(|k| k.name == c)
                    .is_none_or(|k| !k.is_masked(&attr))
            });
        if keys.len() != all.len() || !key_field {
            return Some(None);
        }
        edits.push(Edit::replace(
            part.byte_range(),
            report::sha256_of(part, ctx),
        ));
        covered.extend(all);
    }
    let same = |a: &Conc, b: &Conc| {
        a.kind == b.kind
            && a.path.first().map(|s| s.range.clone()) == b.path.first().map(|s| s.range.clone())
    };
    if edits.is_empty() || !hit.concs.iter().all(|c| covered.iter().any(|d| same(c, d))) {
        return Some(None);
    }
    Some(Some(edits))
}

/// The PynamoDB attribute `value` is written to: `Account(api_key=value)` (class known),
/// `account.api_key = value`, `Account.api_key.set(value)` (class known).
fn pynamo_written_attr(value: Node, ctx: &Ctx) -> Option<(Option<String>, String)> {
    let parent = value.parent()?;
    match parent.kind_str() {
        "keyword_argument" if parent.field("value") == Some(value) => {
            let (class, attr) = ctx.model.pynamo_constructor_kwarg(parent, ctx.src)?;
            Some((Some(class), attr))
        }
        "assignment" if parent.field("right") == Some(value) => {
            let left = parent
                .field("left")
                .filter(|l| l.kind_str() == "attribute")?;
            Some((None, ctx.text(left.field("attribute")?).into_owned()))
        }
        "argument_list" => {
            let call = parent.parent().filter(|c| c.kind_str() == "call")?;
            let f = call
                .field("function")
                .filter(|f| f.kind_str() == "attribute")?;
            if ctx.text(f.field("attribute")?) != "set" {
                return None;
            }
            let target = f.field("object").filter(|o| o.kind_str() == "attribute")?;
            let class = ctx
                .model
                .pynamo_class_ref(target.field("object")?, ctx.src)?;
            let attr = ctx.text(target.field("attribute")?).into_owned();
            Some((Some(class), attr))
        }
        _ => None,
    }
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
