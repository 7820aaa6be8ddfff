//! Assignments: strong updates of the environment, bound targets (names, attributes, subscripts,
//! tuples) and keys minted by the service (`secrets.token_urlsafe()`).

use std::borrow::Cow;

use tree_sitter::Node;

use crate::dataflow::{Kind, SinkKind, Taint};
use crate::model::frameworks as fw;
use crate::syntax::{self, string_value, NodeExt};

use super::{named_children, named_children_vec, Walker};

impl<'a> Walker<'a> {
    pub(super) fn assign(&mut self, a: Node) -> Taint {
        let Some(left) = a.field("left") else {
            return Taint::default();
        };
        let Some(right) = a.field("right") else {
            return Taint::default();
        };
        let right = syntax::unparenthesize(right);
        if right.kind_str() == "assignment" {
            let t = self.assign(right);
            self.bind(left, t.clone(), None);
            return t;
        }
        let left_elems = match left.kind_str() {
            "pattern_list" | "tuple_pattern" | "list_pattern" => Some(named_children_vec(left)),
            _ => None,
        };
        let right_elems = match right.kind_str() {
            "expression_list" | "tuple" | "list" => Some(named_children_vec(right)),
            _ => None,
        };
        if let (Some(l), Some(r)) = (&left_elems, &right_elems) {
            if l.len() == r.len() {
                let mut all = Taint::default();
                for (le, re) in l.iter().zip(r) {
                    let t = self.eval(*re);
                    all.union(&t);
                    self.bind(*le, t, Some(*re));
                }
                return all;
            }
        }
        let t = self.eval(right);
        self.bind(left, t.clone(), Some(right));
        t
    }

    pub(super) fn eval_target_current(&mut self, target: Node) -> Taint {
        if target.kind_str() == "identifier" {
            self.name(target)
        } else {
            Taint::default()
        }
    }

    pub(super) fn bind(&mut self, target: Node, t: Taint, rhs: Option<Node>) {
        let t = self.minted(target, t, rhs);
        match target.kind_str() {
            "identifier" => {
                let name = self.text(target).into_owned();
                if self.module {
                    self.flow.defines.push((name.clone(), t.clone()));
                }
                let is_const = rhs.is_some_and(|r| self.is_const(r));
                if is_const {
                    self.consts.insert(name.clone());
                } else {
                    self.consts.remove(&name);
                }
                match rhs.and_then(|r| self.qualify(r)) {
                    Some(q) => {
                        self.handles.insert(name.clone(), q);
                    }
                    None => {
                        self.handles.remove(&name);
                    }
                }
                self.forget_qualified();
                let class = rhs
                    .map(syntax::unparenthesize)
                    .filter(|r| r.kind_str() == "call")
                    .and_then(|r| r.field("function"))
                    .filter(|f| f.kind_str() == "identifier")
                    .map(|f| self.text(f).into_owned())
                    .filter(|c| !self.locals.contains(c))
                    // `repo = Repo(table)`, `repo = get_repo()` (a factory of the module);
                    // `repo = KeyRepository()` of another module (`@` and its import path).
                    .and_then(|c| {
                        let c = [c];
                        self.class_made_by(&c, 0)
                            .or_else(|| self.imported_instance(&c))
                    })
                    // `repo = repository.KeyRepository()` after `from . import repository`.
                    .or_else(|| {
                        let r = syntax::unparenthesize(rhs?);
                        let f = r.field("function").filter(|_| r.kind_str() == "call")?;
                        if f.kind_str() != "attribute" {
                            return None;
                        }
                        self.imported_instance(&syntax::dotted_path(f, self.src)?)
                    });
                // `user = User.get(pk)` (PynamoDB): an instance of `User`.
                let class = class.or_else(|| {
                    let r = syntax::unparenthesize(rhs?);
                    let r = if r.kind_str() == "await" {
                        r.named_child(0)?
                    } else {
                        r
                    };
                    let f = r.field("function").filter(|_| r.kind_str() == "call")?;
                    let obj = f.field("object").filter(|_| f.kind_str() == "attribute")?;
                    let method = self.text(f.field("attribute")?);
                    let c = self.text(obj).into_owned();
                    (matches!(&*method, "get" | "get_or_none")
                        && obj.kind_str() == "identifier"
                        && self.is_pynamo_class(&c))
                    .then_some(c)
                });
                // `account = Account(email, api_key=key)`: what its constructor stored.
                let ctor_parts = rhs
                    .map(syntax::unparenthesize)
                    .filter(|r| r.kind_str() == "call")
                    .filter(|r| {
                        r.field("function").is_some_and(|f| {
                            f.kind_str() == "identifier" && class.as_deref() == Some(&*self.text(f))
                        })
                    })
                    .map(|r| {
                        let range = self.rel(r);
                        self.parts
                            .iter()
                            .filter(|(p, _)| range.start <= p.start && p.end <= range.end)
                            .cloned()
                            .collect::<Vec<_>>()
                    });
                match class.as_deref().filter(|c| self.is_pynamo_class(c)) {
                    Some(_) => {
                        self.pynamo_parts
                            .insert(name.clone(), ctor_parts.unwrap_or_default());
                    }
                    None => {
                        self.pynamo_parts.remove(&name);
                    }
                }
                match class {
                    Some(c) => {
                        self.instances.insert(name.clone(), c);
                    }
                    None => {
                        self.instances.remove(&name);
                    }
                }
                // `with User.batch_write() as batch`.
                if rhs.is_some_and(|r| {
                    let r = syntax::unparenthesize(r);
                    r.kind_str() == "call"
                        && r.field("function").is_some_and(|f| {
                            f.kind_str() == "attribute"
                                && f.field("attribute")
                                    .is_some_and(|a| self.text(a) == "batch_write")
                        })
                }) {
                    self.handles
                        .insert(name.clone(), "pynamodb.Model.batch_write()".into());
                    self.forget_qualified();
                }
                match rhs.and_then(|r| self.dict_fields(r)) {
                    Some(f) => {
                        self.fields.insert(name.clone(), f);
                    }
                    None => {
                        self.fields.remove(&name);
                    }
                }
                self.locals.insert(name.clone());
                self.forget_qualified();
                self.env.insert(name, t);
            }
            "pattern_list" | "tuple_pattern" | "list_pattern" | "list_splat_pattern" => {
                for c in named_children(target) {
                    self.bind(c, t.clone(), None);
                }
            }
            "subscript" | "attribute" => {
                // `response.headers["X-API-Key"] = key` in a handler: sent to the client.
                if self.flow.responds
                    && target.kind_str() == "subscript"
                    && target.field("value").is_some_and(|v| {
                        v.kind_str() == "attribute"
                            && v.field("attribute")
                                .is_some_and(|a| self.src.node_text(a) == "headers")
                            && v.field("object").is_some_and(|o| {
                                self.src.node_text(o).to_ascii_lowercase().contains("resp")
                            })
                    })
                {
                    if let Some(rhs) = rhs {
                        let at = syntax::enclosing_statement(target);
                        self.sink(SinkKind::Return, at, rhs, t.clone(), false);
                    }
                }
                // `account.api_key = key` on a PynamoDB instance: a value its `save()` stores.
                if let (Some(obj), Some(rhs)) = (
                    target.field("object").filter(|o| {
                        target.kind_str() == "attribute" && o.kind_str() == "identifier"
                    }),
                    rhs,
                ) {
                    let name = self.text(obj);
                    if !t.is_empty() && self.pynamo_parts.contains_key(&*name) {
                        let part = (self.rel(rhs), t.clone());
                        if let Some(p) = self.pynamo_parts.get_mut(&*name) {
                            p.push(part);
                        }
                    }
                }
                // `d["api_key"] = key`: the dict now holds the key.
                let obj = target.field("value").or_else(|| target.field("object"));
                if let Some(sub) = target.field("subscript") {
                    self.eval(sub);
                }
                if let Some(obj) = obj.filter(|o| o.kind_str() == "identifier") {
                    let name = self.text(obj).into_owned();
                    let key = target
                        .field("subscript")
                        .and_then(|k| string_value(k, self.src));
                    match (self.fields.get_mut(&name), key) {
                        (Some(f), Some(k)) => match f.iter_mut().find(|(n, _)| *n == k) {
                            Some(entry) => entry.1 = t.clone(),
                            None => f.push((k, t.clone())),
                        },
                        _ => {
                            self.fields.remove(&name);
                        }
                    }
                    if self.env.contains_key(&name) || self.locals.contains(&name) {
                        let entry = self.env.entry(name).or_default();
                        entry.union(&t);
                    }
                }
            }
            _ => {}
        }
    }

    /// A value minted by the service (`secrets.token_urlsafe(32)`) bound to a key-named target
    /// (`api_key = …`, `user.api_key = …`) is key material: `t` plus a [`Kind::Minted`] source.
    fn minted(&mut self, target: Node, t: Taint, rhs: Option<Node>) -> Taint {
        let Some(rhs) = rhs else { return t };
        let name = match target.kind_str() {
            "identifier" => self.text(target),
            "attribute" => match target.field("attribute") {
                Some(a) => self.text(a),
                None => return t,
            },
            "subscript" => match target
                .field("subscript")
                .and_then(|k| string_value(k, self.src))
            {
                Some(k) => Cow::Owned(k),
                None => return t,
            },
            _ => return t,
        };
        self.minted_as(&name, t, rhs)
    }

    pub(super) fn minted_as(&mut self, name: &str, mut t: Taint, value: Node) -> Taint {
        if !fw::is_minted_key_name(name) {
            return t;
        }
        if let Some(what) = self.mint_expr(value, 0) {
            let x = self.source(
                value,
                Kind::Minted,
                format!("key minted here (`{what}`)"),
                None,
                None,
            );
            t.union(&x);
        }
        t
    }

    /// The minting call inside `node` (`secrets.token_urlsafe()`, `uuid.uuid4().hex`,
    /// `"sk_" + secrets.token_hex(16)`, `str(uuid4())`), if it is one.
    fn mint_expr(&self, node: Node, depth: usize) -> Option<String> {
        if depth > 8 {
            return None;
        }
        let node = syntax::unparenthesize(node);
        match node.kind_str() {
            "call" => {
                let f = node.field("function")?;
                if let Some(q) = self.qualify(f) {
                    if fw::is_mint_call(&q) {
                        let short = q.rsplit('.').take(2).collect::<Vec<_>>();
                        return Some(format!(
                            "{}()",
                            short.into_iter().rev().collect::<Vec<_>>().join(".")
                        ));
                    }
                    if matches!(q.as_str(), "str" | "f") {
                        return syntax::positional_args(node)
                            .first()
                            .and_then(|a| self.mint_expr(*a, depth + 1));
                    }
                }
                // `await strategy.write_token(user)`: a fastapi-users strategy issues a token.
                if f.kind_str() == "attribute"
                    && f.field("attribute")
                        .is_some_and(|a| self.text(a) == "write_token")
                {
                    return Some("write_token()".into());
                }
                // `secrets.token_bytes(32).hex()`, `Fernet.generate_key().decode()`.
                if f.kind_str() == "attribute" {
                    return self.mint_expr(f.field("object")?, depth + 1);
                }
                None
            }
            "attribute" => self.mint_expr(node.field("object")?, depth + 1),
            "binary_operator" => {
                let l = node.field("left")?;
                let r = node.field("right")?;
                self.mint_expr(l, depth + 1)
                    .or_else(|| self.mint_expr(r, depth + 1))
            }
            "string" => named_children(node)
                .filter(|c| c.kind_str() == "interpolation")
                .find_map(|c| c.named_child(0).and_then(|e| self.mint_expr(e, depth + 1))),
            "await" => self.mint_expr(node.named_child(0)?, depth + 1),
            _ => None,
        }
    }
}
