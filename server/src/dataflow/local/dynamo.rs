//! DynamoDB: PynamoDB models and their `save()`/`update()`, and scans that look up a key.

use std::borrow::Cow;

use tree_sitter::Node;

use crate::dataflow::{Kind, SinkKind, Taint};
use crate::model::frameworks as fw;
use crate::model::Binding;
use crate::syntax::{self, NodeExt};

use super::Walker;

impl<'a> Walker<'a> {
    /// A scan whose arguments name a key attribute (`FilterExpression=Attr("api_key").eq(k)`,
    /// `"api_key = :k"`, `User.access_token == token`): a lookup of a key by reading every item.
    pub(super) fn looks_up_key(&self, call: Node) -> bool {
        let Some(args) = call.field("arguments") else {
            return false;
        };
        syntax::descendants(args)
            .into_iter()
            .any(|n| match n.kind_str() {
                "identifier" => fw::is_sensitive_attribute(self.src.node_text(n).as_ref()),
                "string_content" => self
                    .src
                    .node_text(n)
                    .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
                    .any(fw::is_sensitive_attribute),
                _ => false,
            })
    }

    /// A PynamoDB model class of the module ([`Model::is_pynamo_class`]).
    pub(super) fn is_pynamo_class(&self, name: &str) -> bool {
        self.model.is_pynamo_class(name)
    }

    /// The PynamoDB model class `node` names, when no local name shadows it: `UserModel`, or
    /// `models.UserModel` after `from app import models` ([`crate::model::Model::pynamo_class_ref`]).
    pub(super) fn pynamo_class_ref(&self, node: Node) -> Option<String> {
        let head = match node.kind_str() {
            "identifier" => node,
            // The model names an attribute (`models.UserModel`) only through a name bound to
            // another module: with none, no field lookups.
            "attribute" if self.model.foreign_names.is_empty() => return None,
            "attribute" => node.field("object")?,
            _ => return None,
        };
        if self.locals.contains(&*self.text(head)) {
            return None;
        }
        self.model.pynamo_class_ref(node, self.src)
    }

    /// `recv` is a capitalised name imported from another module (`from app.models import User`).
    fn is_imported_class(&self, recv: Node) -> bool {
        if recv.kind_str() != "identifier" {
            return false;
        }
        let name = self.text(recv);
        name.starts_with(|c: char| c.is_ascii_uppercase())
            && !self.locals.contains(&*name)
            && matches!(self.model.binding(&name), Some(Binding::Import(q)) if q.contains('.'))
    }

    /// The PynamoDB class `recv` is, or holds an instance of: (class, `recv` is the class itself).
    fn pynamo_target(&self, recv: Node) -> Option<(String, bool)> {
        let recv = syntax::unparenthesize(recv);
        match recv.kind_str() {
            "identifier" | "attribute" => {
                if let Some(name) = self.pynamo_class_ref(recv) {
                    return Some((name, true));
                }
                let class = self.instance_class(recv)?;
                self.is_pynamo_class(&class).then_some((class, false))
            }
            "call" => {
                let name = self.pynamo_class_ref(recv.field("function")?)?;
                Some((name, false))
            }
            _ => None,
        }
    }

    /// PynamoDB: `item.save()`, `item.update(actions=[...])`, `batch.save(item)` store what they
    /// are given; `Model.scan()`/`query()`/`get()` read whole items back; `Model.attr.set(x)` is
    /// an update action carrying `x`.
    pub(super) fn pynamo_call(
        &mut self,
        node: Node,
        m: &str,
        r: Node,
        recv_t: &Taint,
        pos: &[(Node, Taint)],
        kws: &[(Cow<str>, Node, Taint)],
    ) -> Option<Taint> {
        let target = self.pynamo_target(r);
        // `UserModel.scan()` on a capitalised class imported from another module: only a
        // PynamoDB model has a `scan` class method; its items are not known, its scan is.
        if m == "scan" && target.is_none() && self.is_imported_class(r) {
            let range = self.rel(node);
            let key = self.looks_up_key(node);
            self.flow.scans.push((range, key));
            self.mentions(node);
            return Some(Taint::default());
        }
        match (m, &target) {
            ("save", Some((_, false))) => {
                self.mentions(node);
                let before = self.flow.sinks.len();
                self.sink(SinkKind::Persist, node, r, recv_t.clone(), false);
                if self.flow.sinks.len() > before && r.kind_str() == "identifier" {
                    if let Some(p) = self.pynamo_parts.get(&*self.text(r)) {
                        let p = p.clone();
                        if let Some(s) = self.flow.sinks.last_mut() {
                            s.parts.extend(p);
                        }
                    }
                }
                Some(Taint::default())
            }
            // `user.update(actions=[User.api_key.set(key)])` on an instance of unknown origin
            // (a user manager's `get`): the update actions of a model of the file say what it is.
            ("update", None)
                if kws.iter().any(|(k, n, _)| {
                    k == "actions"
                        && syntax::descendants(*n).into_iter().any(|c| {
                            c.kind_str() == "attribute"
                                && c.field("attribute").is_some_and(|a| self.text(a) == "set")
                                && c.field("object")
                                    .and_then(|o| o.field("object"))
                                    .is_some_and(|o| {
                                        self.pynamo_class_ref(o).is_some()
                                            || self.is_imported_class(o)
                                    })
                        })
                }) =>
            {
                self.mentions(node);
                if let Some((_, n, t)) = kws.iter().find(|(k, _, _)| k == "actions") {
                    let (n, t) = (*n, t.clone());
                    self.sink(SinkKind::Persist, node, n, t, false);
                }
                Some(Taint::default())
            }
            ("update", Some((_, false))) => {
                self.mentions(node);
                if let Some((_, n, t)) = kws.iter().find(|(k, _, _)| k == "actions") {
                    let (n, t) = (*n, t.clone());
                    self.sink(SinkKind::Persist, node, n, t, false);
                }
                Some(Taint::default())
            }
            ("scan" | "query" | "get" | "batch_get" | "count", Some((class, true))) => {
                let class = class.clone();
                if m == "scan" {
                    let range = self.rel(node);
                    let key = self.looks_up_key(node);
                    self.flow.scans.push((range, key));
                }
                self.mentions(node);
                for (n, t) in pos {
                    self.sink(SinkKind::Lookup, node, *n, t.clone(), false);
                }
                // Its fields: of a class of the module, or of a model imported from another
                // module of the project.
                let sensitive = self.model.class_fields(&class).and_then(|fields| {
                    fields
                        .iter()
                        .find(|f| fw::is_sensitive_attribute(f))
                        .cloned()
                });
                Some(match sensitive {
                    Some(field) if m != "count" => self.source(
                        node,
                        Kind::Stored,
                        format!("whole stored `{class}` items read here (attribute `{field}`)"),
                        Some(class.clone()),
                        None,
                    ),
                    _ => Taint::default(),
                })
            }
            // `with Model.batch_write() as batch: batch.save(item)`.
            ("save", None)
                if r.kind_str() == "identifier"
                    && (self.text(r).to_ascii_lowercase().contains("batch")
                        || self.qualify(r).is_some_and(|q| q.contains("batch_write()"))) =>
            {
                let (n, t) = pos.first()?;
                let (n, t) = (*n, t.clone());
                self.mentions(node);
                self.sink(SinkKind::Persist, node, n, t, false);
                Some(Taint::default())
            }
            // `Model.api_key.set(key)`: an update action that stores `key`.
            ("set" | "append" | "add", None) if r.kind_str() == "attribute" => {
                let obj = r.field("object")?;
                let attr = self.text(r.field("attribute")?);
                // (An imported model too: `update(actions=[...])` names PynamoDB.)
                if (self.pynamo_class_ref(obj).is_some() || self.is_imported_class(obj))
                    && fw::is_key_name(&attr)
                {
                    let mut t = Taint::default();
                    for (n, x) in pos {
                        if !x.is_empty() {
                            self.parts.push((self.rel(*n), x.clone()));
                        }
                        t.union(x);
                    }
                    return Some(t);
                }
                None
            }
            _ => None,
        }
    }
}
