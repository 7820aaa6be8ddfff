//! Validation: a key checked by a condition or a validating call is marked as validated.

use tree_sitter::Node;

use crate::syntax::{self, NodeExt};

use super::{named_children, Walker};

impl<'a> Walker<'a> {
    /// `if not key or len(key) < 20: raise ...` / `return ...`: every name in the condition is
    /// validated from here on.
    pub(super) fn check_validation(&mut self, cond: Node, body: Option<Node>, at: Node) {
        let Some(body) = body else { return };
        let rejects = named_children(body)
            .any(|s| matches!(s.kind_str(), "raise_statement" | "return_statement"));
        if !rejects {
            return;
        }
        let pos = self.rel(at).start;
        for n in syntax::descendants(cond) {
            if n.kind_str() == "identifier" {
                self.validated(n, pos);
            }
        }
    }

    /// `validate_key(key)`, `check_api_key(key)`, `verify(...)` as a statement.
    pub(super) fn validating_call(&mut self, call: Node) {
        let Some(f) = call.field("function") else {
            return;
        };
        let name = match f.kind_str() {
            "identifier" => self.text(f),
            "attribute" => f
                .field("attribute")
                .map(|a| self.text(a))
                .unwrap_or_default(),
            _ => return,
        }
        .to_ascii_lowercase();
        if ["valid", "check", "verify", "authenticate", "authorize"]
            .iter()
            .any(|w| name.contains(w))
        {
            let pos = self.rel(call).start;
            for a in syntax::positional_args(call) {
                if a.kind_str() == "identifier" {
                    self.validated(a, pos);
                }
            }
        }
    }

    pub(super) fn validated(&mut self, name: Node, pos: usize) {
        if let Some(t) = self.env.get(self.src.node_text(name).as_ref()) {
            if !t.is_empty() {
                self.flow.validations.push((t.clone(), pos));
            }
        }
    }
}
