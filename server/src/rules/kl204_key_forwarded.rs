//! KL204 `key-forwarded`: key material sent with an outbound request to a URL that is not a
//! constant of the code.

use crate::dataflow::{Kind, SinkKind};
use crate::finding::{Finding, Severity};
use crate::model::frameworks as fw;
use crate::rules::report;
use crate::rules::{Ctx, FixAvailability, Rule, RuleMeta};
use crate::syntax::Item;

pub static META: RuleMeta = RuleMeta {
    code: "KL204",
    name: "key-forwarded",
    summary: "An API key is sent with an outbound request to a URL the code does not fix",
    severity: Severity::Warning,
    fix: FixAvailability::None,
    cwe: &["CWE-918", "CWE-201"],
    docs: include_str!("kl204_key_forwarded.md"),
    prefilter: &[
        fw::NAME_WORDS,
        fw::ENV_WORDS,
        fw::WEB_WORDS,
        fw::SOURCE_WORDS,
        fw::STORED_WORDS,
        fw::DYNAMODB_WORDS,
        fw::HTTP_WORDS,
    ],
    reads_flows: true,
};

pub struct KeyForwarded;

impl Rule for KeyForwarded {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, item: &Item, ctx: &Ctx, out: &mut Vec<Finding>) {
        let (flows, start) = report::flows(item, ctx);
        let accept = |k: Kind| matches!(k, Kind::Key | Kind::Model);
        for hit in report::hits(&flows, start, ctx, &[SinkKind::Forward], accept) {
            // A key known by its name only (an SDK wrapper's `api_key` parameter) is meant to be
            // sent: only a key of known origin sent to a variable URL is reported.
            if hit.sink.url_const || hit.concs.iter().all(|c| c.kind == Kind::Named) {
                continue;
            }
            let conc = &hit.concs[0];
            let range = hit.sink.range.start + start..hit.sink.range.end + start;
            out.push(report::finding(
                &META,
                range,
                format!(
                    "An API key ({}) is sent to a URL that is not a constant of the code; whoever controls the URL receives the key",
                    report::origin(conc)
                ),
                conc,
            ));
        }
    }
}
