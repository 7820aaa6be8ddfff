//! Expressions: names, the expression dispatch, comprehensions, subscripts and mask slices.

use tree_sitter::Node;

use crate::dataflow::{Base, Taint};
use crate::model::frameworks as fw;
use crate::model::Binding;
use crate::syntax::{self, string_value, NodeExt};

use super::{named_children, named_children_vec, Walker, MAX_CALLS, MAX_DEPTH};

impl<'a> Walker<'a> {
    pub(super) fn name(&mut self, node: Node) -> Taint {
        let name = self.text(node);
        if let Some(t) = self.env.get(&*name) {
            return t.clone();
        }
        if self.locals.contains(&*name) {
            return Taint::default();
        }
        let model = self.model;
        let binding = model.binding(&name);
        // Flask's `request`: what [`Model::resolve`] gives the name, without building it (only a
        // name bound by an import can resolve to it).
        if let Some(Binding::Import(q)) = binding {
            if fw::is_flask_request(model.import_target(&name, q)) {
                return self.request_source(node);
            }
        }
        match binding {
            Some(Binding::Call { .. }) | Some(Binding::Other) => {
                let i = match self.flow.globals.iter().position(|g| *g == name) {
                    Some(i) => i,
                    None if self.flow.globals.len() < MAX_CALLS => {
                        self.flow.globals.push(name.into_owned());
                        self.flow.globals.len() - 1
                    }
                    None => return Taint::default(),
                };
                Taint::one(Base::Global(i as u16))
            }
            // `API_KEY` after `from .settings import API_KEY`: a module-level name of another
            // module (`@` and its import path), which only the project model resolves. Only a
            // key-like name imported `from` a module (every constant would make the CLI
            // summarise every module of constants a kept file imports).
            Some(Binding::Import(q)) if q.contains('.') && fw::is_key_name(&name) => {
                let global = format!("@{q}");
                let i = match self.flow.globals.iter().position(|g| *g == global) {
                    Some(i) => i,
                    None if self.flow.globals.len() < MAX_CALLS => {
                        self.flow.globals.push(global);
                        self.flow.globals.len() - 1
                    }
                    None => return Taint::default(),
                };
                Taint::one(Base::Global(i as u16))
            }
            _ => Taint::default(),
        }
    }

    pub(super) fn eval(&mut self, node: Node) -> Taint {
        if self.depth > MAX_DEPTH {
            return Taint::default();
        }
        self.depth += 1;
        let t = self.eval_inner(node);
        self.depth -= 1;
        t
    }

    fn eval_inner(&mut self, node: Node) -> Taint {
        let node = syntax::unparenthesize(node);
        match node.kind_str() {
            "identifier" => self.name(node),
            "string" => {
                let mut t = Taint::default();
                for c in named_children(node) {
                    if c.kind_str() == "interpolation" {
                        if let Some(e) = c.named_child(0) {
                            let x = self.eval(e);
                            if !x.is_empty() {
                                self.parts.push((self.rel(e), x.clone()));
                            }
                            t.union(&x);
                        }
                    }
                }
                t
            }
            "comparison_operator" | "not_operator" | "lambda" => {
                for c in named_children(node) {
                    self.eval(c);
                }
                Taint::default()
            }
            "conditional_expression" => {
                let kids = named_children_vec(node);
                let mut t = Taint::default();
                for (i, c) in kids.iter().enumerate() {
                    let x = self.eval(*c);
                    if i != 1 {
                        t.union(&x);
                    }
                }
                t
            }
            "dictionary" => {
                let mut t = Taint::default();
                for c in named_children(node) {
                    match c.kind_str() {
                        "pair" => {
                            if let Some(k) = c.field("key") {
                                self.eval(k);
                            }
                            if let Some(v) = c.field("value") {
                                let mut x = self.eval(v);
                                if let Some(k) =
                                    c.field("key").and_then(|k| string_value(k, self.src))
                                {
                                    x = self.minted_as(&k, x, v);
                                }
                                if !x.is_empty() {
                                    self.parts.push((self.rel(v), x.clone()));
                                }
                                t.union(&x);
                            }
                        }
                        _ => {
                            let x = self.eval(c);
                            t.union(&x);
                        }
                    }
                }
                t
            }
            "list_comprehension"
            | "set_comprehension"
            | "generator_expression"
            | "dictionary_comprehension" => self.comprehension(node),
            "subscript" => self.subscript(node),
            "attribute" => self.attribute(node),
            "call" => self.call(node),
            "yield" if node.is_named() => {
                // A generator (a FastAPI dependency with `yield`) gives what it yields.
                let mut t = Taint::default();
                for c in named_children(node) {
                    let x = self.eval(c);
                    t.union(&x);
                }
                self.flow.ret.union(&t);
                Taint::default()
            }
            "integer" | "float" | "true" | "false" | "none" | "ellipsis" => Taint::default(),
            _ => {
                let mut t = Taint::default();
                for c in named_children(node) {
                    let x = self.eval(c);
                    t.union(&x);
                }
                t
            }
        }
    }

    fn comprehension(&mut self, node: Node) -> Taint {
        let saved = self.env.clone();
        let kids = named_children_vec(node);
        for c in &kids {
            if c.kind_str() == "for_in_clause" {
                let t = c.field("right").map(|r| self.eval(r)).unwrap_or_default();
                if let Some(l) = c.field("left") {
                    self.bind(l, t, None);
                }
            }
        }
        let mut out = Taint::default();
        if let Some(body) = kids.first() {
            out = if body.kind_str() == "pair" {
                body.field("value")
                    .map(|v| self.eval(v))
                    .unwrap_or_default()
            } else {
                self.eval(*body)
            };
        }
        for c in &kids {
            if c.kind_str() == "if_clause" {
                self.eval(*c);
            }
        }
        self.env = saved;
        out
    }

    pub(super) fn subscript(&mut self, node: Node) -> Taint {
        let Some(value) = node.field("value") else {
            return Taint::default();
        };
        let sub = node.field("subscript");
        if sub.is_some_and(|s| self.is_mask_slice(s)) {
            // `key[:4]`, `key[-4:]`: a short prefix or suffix, the usual masked form.
            self.eval(value);
            return Taint::default();
        }
        let key = sub.and_then(|s| string_value(s, self.src));
        if let Some(s) = sub {
            self.eval(s);
        }
        if self.qualify(value).as_deref() == Some("os.environ") {
            return match key {
                Some(k) if fw::is_key_name(&k) => self.env_source(node, &k),
                _ => Taint::default(),
            };
        }
        if let Some(f) = key.as_deref().and_then(|k| self.known_field(value, k)) {
            return f;
        }
        let t = self.eval(value);
        if t.is_empty() {
            if let Some(x) = key.as_deref().and_then(|k| self.config_key(node, value, k)) {
                return x;
            }
        }
        let t = match key.as_deref() {
            Some(k) => self.other_field(t, k),
            None => t,
        };
        self.project(t, node, key.as_deref())
    }

    /// `[:n]` with n ≤ 8, or `[-n:]` with n ≤ 8.
    fn is_mask_slice(&self, sub: Node) -> bool {
        if sub.kind_str() != "slice" {
            return false;
        }
        let text: String = self
            .src
            .node_text(sub)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let small = |n: &str| n.parse::<u32>().is_ok_and(|n| n <= 8);
        match text.split(':').collect::<Vec<_>>().as_slice() {
            [start, end] => {
                (start.is_empty() || *start == "0") && small(end)
                    || start.strip_prefix('-').is_some_and(small) && end.is_empty()
            }
            _ => false,
        }
    }
}
