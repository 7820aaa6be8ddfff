//! KL302 `config-exposed`: a view returns or serialises the whole configuration — `app.config`,
//! `current_app.config`, `os.environ`, a pydantic settings object — and with it every secret in it.
//! Where a view does so is `model::exposure`'s (KL203 reads it too).

use crate::finding::prefilter::{Group, Word};
use crate::finding::{Finding, Severity};
use crate::model::exposure;
use crate::model::frameworks as fw;
use crate::rules::{Ctx, FixAvailability, Rule, RuleMeta};
use crate::syntax::{self, Item};

pub static META: RuleMeta = RuleMeta {
    code: "KL302",
    name: "config-exposed",
    summary: "A view returns the whole configuration or environment, secrets included",
    severity: Severity::Error,
    fix: FixAvailability::None,
    cwe: &["CWE-200", "CWE-497"],
    docs: include_str!("kl302_config_exposed.md"),
    prefilter: &[fw::WEB_WORDS, fw::ENV_WORDS, CONFIG_WORDS],
    reads_flows: false,
};

/// The configuration a view may send: `app.config`, a settings object or class.
const CONFIG_WORDS: &[Word] = &[
    Word::new("config", Group::Config),
    Word::new("settings", Group::Config),
    Word::exact("Settings", Group::SettingsClass),
];

pub struct ConfigExposed;

impl Rule for ConfigExposed {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, item: &Item, ctx: &Ctx, out: &mut Vec<Finding>) {
        // Apps built inside tests are not served to anyone.
        if ctx.file.is_test {
            return;
        }
        for def in item.nodes().of_kind(syntax::kinds().function_definition) {
            for e in exposure::config_exposures(def, item.nodes(), ctx.model, ctx.src) {
                let (view, what) = (&e.view, &e.what);
                let message = match &e.through {
                    None => format!(
                        "The view `{view}` sends `{what}` to the client: the whole configuration, with every secret key and password in it"
                    ),
                    Some(name) => format!(
                        "The view `{view}` sends `{what}` to the client (through `{name}`): the whole configuration, with every secret key and password in it"
                    ),
                };
                out.push(Finding::new(&META, e.range, message));
            }
        }
    }
}
