//! KL206 `missing-key-validation`: a key header parameter is stored, looked up or forwarded with
//! no validation first.

use crate::dataflow::{Base, SinkKind, Taint};
use crate::finding::{Finding, Severity};
use crate::model::frameworks as fw;
use crate::rules::report;
use crate::rules::{Ctx, FixAvailability, Rule, RuleMeta};
use crate::syntax::Item;

pub static META: RuleMeta = RuleMeta {
    code: "KL206",
    name: "missing-key-validation",
    summary: "An API key header is used (stored, looked up, forwarded) without validating it first",
    severity: Severity::Hint,
    fix: FixAvailability::None,
    cwe: &["CWE-20", "CWE-1284"],
    docs: include_str!("kl206_missing_key_validation.md"),
    prefilter: &[fw::NAME_WORDS, fw::WEB_WORDS, fw::SOURCE_WORDS],
    reads_flows: true,
};

pub struct MissingKeyValidation;

const USES: u8 = 1 << SinkKind::Use as u8;

impl Rule for MissingKeyValidation {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, item: &Item, ctx: &Ctx, out: &mut Vec<Finding>) {
        let (flows, start) = report::flows(item, ctx);
        for flow in flows.iter() {
            if flow.guarded {
                continue;
            }
            for (si, source) in flow.sources.iter().enumerate() {
                let Some(param) = source.param else { continue };
                let carries = |t: &Taint| {
                    t.0.iter()
                        .any(|l| l.base == Base::Source(si as u16) || l.base == Base::Param(param))
                };
                // The first use: a local sink, or a call whose parameter reaches one.
                let mut first: Option<usize> = None;
                let mut note = |pos: usize| {
                    if first.is_none_or(|p| pos < p) {
                        first = Some(pos);
                    }
                };
                for sink in &flow.sinks {
                    if sink.kind == SinkKind::Use && carries(&sink.taint) {
                        note(sink.range.start);
                    }
                }
                for call in &flow.calls {
                    let bits = ctx.dataflow.call_sinks(call, carries);
                    if bits & USES != 0 {
                        note(call.range.start);
                    }
                }
                let Some(use_at) = first else { continue };
                let validated = flow
                    .validations
                    .iter()
                    .any(|(t, pos)| *pos <= use_at && carries(t))
                    || flow.calls.iter().any(|c| {
                        c.range.start < use_at
                            && (c.args.is_empty() && c.kwargs.is_empty()
                                || c.args.iter().any(carries)
                                || c.kwargs.iter().any(|(_, t)| carries(t)))
                            && ctx.dataflow.function(&c.callee).is_some_and(|f| f.raises)
                    });
                if validated {
                    continue;
                }
                let name = flow.params.get(param as usize).cloned().unwrap_or_default();
                out.push(
                    Finding::new(
                        &META,
                        source.range.start + start..source.range.end + start,
                        format!(
                            "API key parameter `{name}` is stored, looked up or forwarded without validation; reject missing or malformed keys (length, characters) first"
                        ),
                    )
                    .with_related(
                        use_at + start..use_at + start,
                        "used here, unvalidated",
                    ),
                );
            }
        }
    }
}
