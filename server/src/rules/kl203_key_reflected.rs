//! KL203 `key-reflected`: a route handler sends key material, or a whole stored item, back to the
//! client.

use crate::syntax::NodeExt;
use tree_sitter::Node;

use crate::dataflow::{Conc, Kind, SinkKind};
use crate::finding::{Edit, Fix};
use crate::finding::{Finding, Severity};
use crate::model::apps;
use crate::model::frameworks as fw;
use crate::rules::report::{self, Hit};
use crate::rules::{Ctx, FixAvailability, Rule, RuleMeta};
use crate::syntax::Item;

pub static META: RuleMeta = RuleMeta {
    code: "KL203",
    name: "key-reflected",
    summary: "A route handler returns an API key, or a whole stored item, to the client",
    severity: Severity::Warning,
    fix: FixAvailability::Sometimes,
    cwe: &["CWE-200", "CWE-213"],
    docs: include_str!("kl203_key_reflected.md"),
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

pub struct KeyReflected;

impl Rule for KeyReflected {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, item: &Item, ctx: &Ctx, out: &mut Vec<Finding>) {
        let (flows, start) = report::flows(item, ctx);
        let accept = |k: Kind| matches!(k, Kind::Key | Kind::Model | Kind::Stored | Kind::Headers);
        for hit in report::hits(
            &flows,
            start,
            ctx,
            &[SinkKind::Return, SinkKind::Detail],
            accept,
        ) {
            if hit.sink.kind == SinkKind::Return && hit.flow.filtered_output {
                continue;
            }
            let range = hit.sink.value.start + start..hit.sink.value.end + start;
            // A whole settings object sent back is KL302 `config-exposed`'s finding.
            let concs: Vec<&Conc> = if config_exposed_at(item, ctx, &range) {
                hit.concs
                    .iter()
                    .filter(|c| {
                        !(c.kind == Kind::Model
                            && c.class
                                .as_deref()
                                .is_some_and(|k| apps::is_settings_class(k, ctx.model)))
                    })
                    .collect()
            } else {
                hit.concs.iter().collect()
            };
            let Some(&first) = concs.first() else {
                continue;
            };
            let conc = concs
                .iter()
                .copied()
                .find(|c| c.kind == Kind::Key)
                .unwrap_or(first);
            let message = match conc.kind {
                Kind::Stored if conc.class.is_some() => format!(
                    "The handler returns whole stored `{}` items, with their key material ({}); return only the fields the client needs (a `response_model` without them)",
                    conc.class.clone().unwrap_or_default(),
                    report::origin(conc)
                ),
                Kind::Stored => "The handler returns a whole stored item without choosing its fields (it may hold key material); return only the fields the client needs".to_string(),
                Kind::Model => format!(
                    "The handler returns a `{}` with its secret field; declare a `response_model` without it",
                    conc.class.clone().unwrap_or_default()
                ),
                Kind::Headers => "The handler returns the request headers, API key included".to_string(),
                _ if hit.sink.kind == SinkKind::Detail => format!(
                    "An API key ({}) is sent back in an error detail",
                    report::origin(conc)
                ),
                _ => format!(
                    "An API key ({}) is sent back in the response",
                    report::origin(conc)
                ),
            };
            let mut finding = report::finding(&META, range, message, conc);
            if hit.sink.kind == SinkKind::Return {
                if let Some(fix) = drop_fix(item, ctx, &hit, start) {
                    finding = finding.with_fix(fix);
                }
            }
            out.push(finding);
        }
    }
}

/// KL302 reports the whole configuration sent back by the statement around `range`
/// (`model::exposure`).
fn config_exposed_at(item: &Item, ctx: &Ctx, range: &std::ops::Range<usize>) -> bool {
    let Some(mut def) = report::node_at(item, range.clone()) else {
        return false;
    };
    if def.kind_str() != "function_definition" {
        match item
            .ancestors(def)
            .find(|n| n.kind_str() == "function_definition")
        {
            Some(f) => def = f,
            None => return false,
        }
    }
    // KL302 does not report views of test code (apps built there are served to no one).
    !ctx.file.is_test
        && crate::model::exposure::config_exposures(def, item.nodes(), ctx.model, ctx.src)
            .iter()
            .flat_map(|e| &e.sent_at)
            .any(|r| r.start <= range.start && range.end <= r.end)
}

/// Drops the key entries of a returned dict literal.
fn drop_fix(item: &Item, ctx: &Ctx, hit: &Hit, start: usize) -> Option<Fix> {
    let value = report::node_at(
        item,
        hit.sink.value.start + start..hit.sink.value.end + start,
    )?;
    let all = report::concs_of(hit.flow, start, ctx, &hit.sink.taint, |k| !k.is_masked());
    if all
        .iter()
        .any(|c| !matches!(c.kind, Kind::Key | Kind::Named))
    {
        return None;
    }
    let mut pairs: Vec<Node> = Vec::new();
    for (range, taint) in &hit.sink.parts {
        if report::concs_of(hit.flow, start, ctx, taint, |k| !k.is_masked()).is_empty() {
            continue;
        }
        let part = report::node_at(item, range.start + start..range.end + start)?;
        let Some(pair) = part.parent().filter(|p| p.kind_str() == "pair") else {
            continue;
        };
        let dict = pair.parent()?;
        // Only entries of the returned dict itself (or of the dict handed to a response class).
        let mut up = dict.parent();
        while let Some(p) =
            up.filter(|p| matches!(p.kind_str(), "keyword_argument" | "argument_list"))
        {
            up = p.parent();
        }
        let direct = dict.id() == value.id()
            || (value.kind_str() == "call" && up.map(|c| c.id()) == Some(value.id()));
        if !direct {
            return None;
        }
        if !pairs.iter().any(|p| p.id() == pair.id()) {
            pairs.push(pair);
        }
    }
    if pairs.is_empty() {
        return None;
    }
    let mut fix = Fix::unsafe_("Remove the key from the response");
    for pair in &pairs {
        let dict = pair.parent()?;
        let mut cursor = dict.walk();
        let siblings: Vec<Node> = dict
            .named_children(&mut cursor)
            .filter(|c| c.kind_str() != "comment")
            .collect();
        let i = siblings.iter().position(|s| s.id() == pair.id())?;
        let range = if i + 1 < siblings.len() {
            pair.start_byte()..siblings[i + 1].start_byte()
        } else if i > 0 && !pairs.iter().any(|p| p.id() == siblings[i - 1].id()) {
            siblings[i - 1].end_byte()..pair.end_byte()
        } else {
            pair.byte_range()
        };
        fix = fix.edit(Edit::delete(range));
    }
    let _ = ctx;
    Some(fix)
}
