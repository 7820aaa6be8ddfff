//! A rule that fails, for checking that the engine contains a failing rule.
//!
//! [`Panicking`] wraps a rule and panics wherever that rule would check an item, quoting the
//! item's text the way a failed string slice quotes its string. The engine must contain it: the
//! other rules still report, the failure is reported without source text, the server goes on.
//! The analysis tests install it with [`crate::engine::Analyzer::with_rules`]; the black-box
//! tests' build of the binary (`keylint-dev`) installs [`with_panicking`] when
//! `KEYLINT_DEV_PANIC_RULE` names a rule. keylint's own binary never does.

use super::{built_in, Ctx, Rule, RuleMeta};
use crate::finding::Finding;
use crate::syntax::Item;

/// `self.0`, panicking instead of checking.
pub struct Panicking(pub &'static dyn Rule);

impl Rule for Panicking {
    fn meta(&self) -> &'static RuleMeta {
        self.0.meta()
    }

    fn check(&self, item: &Item, ctx: &Ctx, _: &mut Vec<Finding>) {
        panic!(
            "byte index 1 is not a char boundary; it is inside 'x' (bytes 0..2) of `{}`",
            ctx.text(item.node)
        );
    }
}

/// keylint's rules with the one whose code or name is `rule` made to panic; `None` for an unknown
/// rule. Leaks the set (made once per process, to be installed).
pub fn with_panicking(rule: &str) -> Option<&'static [&'static dyn Rule]> {
    let target = built_in()
        .iter()
        .position(|r| r.meta().code.eq_ignore_ascii_case(rule) || r.meta().name == rule)?;
    let set: Vec<&'static dyn Rule> = built_in()
        .iter()
        .enumerate()
        .map(|(i, &r)| -> &'static dyn Rule {
            if i == target {
                Box::leak(Box::new(Panicking(r)))
            } else {
                r
            }
        })
        .collect();
    Some(Box::leak(set.into_boxed_slice()))
}
