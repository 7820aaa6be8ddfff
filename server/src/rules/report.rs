//! Helpers the data-flow rules share: the flows of an item, the sinks key material reaches, and
//! findings that carry the path (where the key entered, each call site on the way).

use crate::syntax::NodeExt;
use std::ops::Range;
use std::rc::Rc;

use tree_sitter::Node;

use crate::dataflow::{item_flows, Conc, FnFlow, Kind, SinkFact, SinkKind, Taint};
use crate::finding::Finding;
use crate::rules::{Ctx, RuleMeta};
use crate::syntax::Item;

/// The flows of an item: borrowed from the analyzer, or computed here.
pub enum Flows<'a> {
    Borrowed(&'a [FnFlow]),
    Shared(Rc<Vec<FnFlow>>),
}

impl std::ops::Deref for Flows<'_> {
    type Target = [FnFlow];

    fn deref(&self) -> &[FnFlow] {
        match self {
            Flows::Borrowed(f) => f,
            Flows::Shared(f) => f,
        }
    }
}

/// The flows of an item, with the absolute start they are relative to.
///
/// The analyzer computes them before the rules run and hands them over in [`Ctx::flows`] (every
/// item it runs rules on has them), so the local walk runs once per item, not once per rule.
/// Without them (a `Ctx` built elsewhere), they are computed here.
pub fn flows<'a>(item: &Item, ctx: &Ctx<'a>) -> (Flows<'a>, usize) {
    let start = item.node.start_byte();
    if let Some(flows) = ctx.flows {
        return (Flows::Borrowed(flows), start);
    }
    let classes: Vec<String> = ctx.classes(item).iter().map(|c| c.name.clone()).collect();
    let flows = Rc::new(item_flows(item.node, &classes, ctx.model, ctx.src));
    (Flows::Shared(flows), start)
}

/// A sink reached by key material.
pub struct Hit<'f> {
    pub flow: &'f FnFlow,
    pub sink: &'f SinkFact,
    pub concs: Vec<Conc>,
}

/// The sinks of `kinds` in `flows` reached by key material of an accepted kind.
pub fn hits<'f>(
    flows: &'f [FnFlow],
    start: usize,
    ctx: &Ctx,
    kinds: &[SinkKind],
    accept: impl Fn(Kind) -> bool,
) -> Vec<Hit<'f>> {
    let mut out = Vec::new();
    for flow in flows {
        for sink in &flow.sinks {
            if !kinds.contains(&sink.kind) {
                continue;
            }
            let mut concs: Vec<Conc> = ctx.dataflow.concretize(flow, start, &sink.taint);
            // A key known by its name only stands in for a source the flow does not see: where
            // a concrete one reaches the sink (a masked one included), that one decides.
            if concs.iter().any(|c| c.kind != Kind::Named) {
                concs.retain(|c| c.kind != Kind::Named);
            }
            concs.retain(|c| accept(c.kind) || (c.kind == Kind::Named && accept(Kind::Key)));
            if !concs.is_empty() {
                out.push(Hit { flow, sink, concs });
            }
        }
    }
    out
}

/// Concrete key material of a taint in `flow`, filtered by kind.
pub fn concs_of(
    flow: &FnFlow,
    start: usize,
    ctx: &Ctx,
    taint: &Taint,
    accept: impl Fn(Kind) -> bool,
) -> Vec<Conc> {
    let mut concs = ctx.dataflow.concretize(flow, start, taint);
    // As in [`hits`]: a key known by its name only counts where nothing concrete reaches.
    if concs.iter().any(|c| c.kind != Kind::Named) {
        concs.retain(|c| c.kind != Kind::Named);
    }
    concs.retain(|c| accept(c.kind) || (c.kind == Kind::Named && accept(Kind::Key)));
    concs
}

/// A finding whose related places are the path of `conc`.
pub fn finding(
    meta: &'static RuleMeta,
    range: Range<usize>,
    message: String,
    conc: &Conc,
) -> Finding {
    let mut f = Finding::new(meta, range.clone(), message);
    for step in &conc.path {
        if step.range != range {
            f = f.with_related(step.range.clone(), step.message.clone());
        }
    }
    f
}

/// Where the key came from, for messages: "header `X-API-Key`", "the environment (`API_KEY`)".
pub fn origin(conc: &Conc) -> String {
    let msg = conc.path.first().map(|s| s.message.as_str()).unwrap_or("");
    if let (Some(a), Some(b)) = (msg.find('('), msg.rfind(')')) {
        if a < b {
            return msg[a + 1..b].to_string();
        }
    }
    match conc.kind {
        Kind::Headers => "request headers".into(),
        Kind::Request => "the request".into(),
        Kind::Model => format!("model `{}`", conc.class.clone().unwrap_or_default()),
        Kind::Stored => "a stored item".into(),
        Kind::Body => "the request body".into(),
        Kind::Key => match &conc.class {
            // A secret field of a model or settings object defined elsewhere (a global).
            Some(class) => format!("a secret field of `{class}`"),
            None => "an API key".into(),
        },
        Kind::Masked => "a masked secret".into(),
        Kind::MaskedModel => format!("model `{}`", conc.class.clone().unwrap_or_default()),
        Kind::Minted => "a key minted by the service".into(),
        Kind::Named => "a value named like a key".into(),
    }
}

/// The named node of the item with exactly this absolute range.
pub fn node_at<'t>(item: &Item<'t>, range: Range<usize>) -> Option<Node<'t>> {
    let n = item
        .node
        .named_descendant_for_byte_range(range.start, range.end)?;
    (n.byte_range() == range).then_some(n)
}

/// `hashlib.sha256(<expr>.encode()).hexdigest()` for the expression `text` (`hashlib` under
/// its alias in this module).
pub fn sha256_of(expr: Node, ctx: &Ctx) -> String {
    let hashlib = ctx.model.module_alias("hashlib").unwrap_or("hashlib");
    let text = ctx.text(expr);
    let simple = matches!(
        expr.kind_str(),
        "identifier" | "attribute" | "subscript" | "call" | "string"
    );
    if simple {
        format!("{hashlib}.sha256({text}.encode()).hexdigest()")
    } else {
        format!("{hashlib}.sha256(({text}).encode()).hexdigest()")
    }
}
