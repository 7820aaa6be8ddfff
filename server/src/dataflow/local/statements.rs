//! Statements: blocks, the statement dispatch (`if`, `for`, `with`, `return`, `raise`...) and
//! `with` items.

use tree_sitter::Node;

use crate::dataflow::SinkKind;
use crate::syntax::{self, NodeExt};

use super::{named_children, Walker, MAX_DEPTH};

impl<'a> Walker<'a> {
    pub(super) fn block(&mut self, block: Node) {
        for s in named_children(block) {
            self.stmt(s);
        }
    }

    pub(super) fn stmt(&mut self, s: Node) {
        if self.depth > MAX_DEPTH {
            return;
        }
        self.depth += 1;
        self.stmt_inner(s);
        self.depth -= 1;
    }

    fn stmt_inner(&mut self, s: Node) {
        match s.kind_str() {
            "expression_statement" => {
                for c in named_children(s) {
                    match c.kind_str() {
                        "assignment" => {
                            self.assign(c);
                        }
                        "augmented_assignment" => {
                            if let (Some(l), Some(r)) = (c.field("left"), c.field("right")) {
                                let t = self.eval(r);
                                let mut cur = self.eval_target_current(l);
                                cur.union(&t);
                                self.bind(l, cur, None);
                            }
                        }
                        "call" => {
                            self.validating_call(c);
                            self.eval(c);
                        }
                        _ => {
                            self.eval(c);
                        }
                    }
                }
            }
            "return_statement" => {
                if let Some(v) = s.named_child(0) {
                    let t = self.eval(v);
                    self.flow.ret.union(&t);
                    if self.flow.responds {
                        self.sink(SinkKind::Return, s, v, t, false);
                    }
                }
            }
            "raise_statement" => {
                self.flow.raises = true;
                if let Some(v) = s.named_child(0) {
                    self.eval(v);
                }
            }
            "if_statement" => {
                if let Some(c) = s.field("condition") {
                    self.eval(c);
                    self.check_validation(c, s.field("consequence"), s);
                }
                if let Some(b) = s.field("consequence") {
                    self.block(b);
                }
                for alt in named_children(s) {
                    match alt.kind_str() {
                        "elif_clause" => {
                            if let Some(c) = alt.field("condition") {
                                self.eval(c);
                                self.check_validation(c, alt.field("consequence"), alt);
                            }
                            if let Some(b) = alt.field("consequence") {
                                self.block(b);
                            }
                        }
                        "else_clause" => {
                            if let Some(b) = alt.field("body") {
                                self.block(b);
                            }
                        }
                        _ => {}
                    }
                }
            }
            "for_statement" => {
                let t = s.field("right").map(|r| self.eval(r)).unwrap_or_default();
                if let Some(l) = s.field("left") {
                    self.bind(l, t, None);
                }
                if let Some(b) = s.field("body") {
                    self.block(b);
                }
                if let Some(b) = s.field("alternative") {
                    self.stmt(b);
                }
            }
            "while_statement" => {
                if let Some(c) = s.field("condition") {
                    self.eval(c);
                }
                if let Some(b) = s.field("body") {
                    self.block(b);
                }
            }
            "try_statement"
            | "except_clause"
            | "else_clause"
            | "finally_clause"
            | "except_group_clause" => {
                for c in named_children(s) {
                    if c.kind_str() == "block" {
                        self.block(c);
                    } else if matches!(
                        c.kind_str(),
                        "except_clause" | "else_clause" | "finally_clause" | "except_group_clause"
                    ) {
                        self.stmt(c);
                    }
                }
            }
            "with_statement" => {
                for c in named_children(s) {
                    match c.kind_str() {
                        "with_clause" => {
                            for item in named_children(c) {
                                if item.kind_str() == "with_item" {
                                    if let Some(v) = item.field("value") {
                                        self.with_item(v);
                                    }
                                }
                            }
                        }
                        "block" => self.block(c),
                        _ => {}
                    }
                }
            }
            "assert_statement" => {
                let pos = self.rel(s).start;
                for n in syntax::descendants(s) {
                    if n.kind_str() == "identifier" {
                        self.validated(n, pos);
                    }
                }
                for c in named_children(s) {
                    self.eval(c);
                }
            }
            "decorated_definition" | "function_definition" | "class_definition" => {}
            "block" => self.block(s),
            _ => {}
        }
    }

    fn with_item(&mut self, v: Node) {
        if v.kind_str() == "as_pattern" {
            let value = v.named_child(0);
            let alias = v.field("alias").and_then(|a| {
                if a.kind_str() == "as_pattern_target" {
                    a.named_child(0)
                } else {
                    Some(a)
                }
            });
            if let Some(value) = value {
                let t = self.eval(value);
                if let Some(alias) = alias {
                    self.bind(alias, t, Some(value));
                }
            }
        } else {
            self.eval(v);
        }
    }
}
