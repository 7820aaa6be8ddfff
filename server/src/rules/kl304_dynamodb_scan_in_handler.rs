//! KL304 `dynamodb-scan-in-handler`: a DynamoDB scan reachable from a route handler.

use crate::dataflow::SCAN_FOR_KEY;
use crate::finding::{Finding, Severity};
use crate::model::frameworks as fw;
use crate::rules::report;
use crate::rules::{Ctx, FixAvailability, Rule, RuleMeta};
use crate::syntax::Item;

pub static META: RuleMeta = RuleMeta {
    code: "KL304",
    name: "dynamodb-scan-in-handler",
    summary: "A route handler scans a whole DynamoDB table (directly or through a helper)",
    severity: Severity::Info,
    fix: FixAvailability::None,
    cwe: &["CWE-400", "CWE-770"],
    docs: include_str!("kl304_dynamodb_scan_in_handler.md"),
    prefilter: &[fw::WEB_WORDS, fw::STORED_WORDS, fw::DYNAMODB_WORDS],
    reads_flows: true,
};

const KEY_SCAN: &str = "DynamoDB scan to find an API key in a route handler: every request reads the whole table and compares every stored key; look the key up with `get_item`/`query` on a table keyed by the key's hash";

pub struct DynamodbScanInHandler;

impl Rule for DynamodbScanInHandler {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, item: &Item, ctx: &Ctx, out: &mut Vec<Finding>) {
        let (flows, start) = report::flows(item, ctx);
        for flow in flows.iter().filter(|f| f.is_route) {
            for (scan, key) in &flow.scans {
                out.push(Finding::new(
                    &META,
                    scan.start + start..scan.end + start,
                    if *key {
                        KEY_SCAN
                    } else {
                        "DynamoDB scan in a route handler: every request reads the whole table (enumeration and cost); use `query` on a partition key"
                    },
                ));
            }
            let mut seen: Vec<&str> = Vec::new();
            for call in &flow.calls {
                if seen.contains(&call.callee.as_str()) {
                    continue;
                }
                let Some(path) = ctx.dataflow.scan_path(&call.callee) else {
                    continue;
                };
                seen.push(&call.callee);
                let for_key = path.last().is_some_and(|s| s.message == SCAN_FOR_KEY);
                let mut f = Finding::new(
                    &META,
                    call.range.start + start..call.range.end + start,
                    if for_key {
                        format!(
                            "`{}` scans a whole DynamoDB table to find an API key on every request to this route; look the key up with `get_item`/`query` on a table keyed by the key's hash",
                            crate::dataflow::cross::shown_callee(&call.callee)
                        )
                    } else {
                        format!(
                            "`{}` scans a whole DynamoDB table on every request to this route; use `query` on a partition key",
                            crate::dataflow::cross::shown_callee(&call.callee)
                        )
                    },
                );
                for step in path {
                    f = f.with_related(step.range, step.message);
                }
                out.push(f);
            }
        }
    }
}
