//! Calls: the call dispatch (sinks, sanitizers, DynamoDB, HTTP, logging, calls of the module's
//! functions), what arguments mention, and calls into other modules.

use std::borrow::Cow;

use tree_sitter::Node;

use crate::dataflow::{Base, CallFact, Kind, SinkKind, Taint};
use crate::model::frameworks as fw;
use crate::model::Binding;
use crate::syntax::{self, string_value, NodeExt};

use super::{named_children, Walker, MAX_CALLS};

impl<'a> Walker<'a> {
    /// What the names mentioned in `call`'s arguments carry, hashed or not.
    pub(super) fn mentions(&mut self, call: Node) {
        let Some(args) = call.field("arguments") else {
            return;
        };
        let mut t = Taint::default();
        for n in syntax::descendants(args) {
            if n.kind_str() == "identifier" {
                if let Some(x) = self.env.get(self.src.node_text(n).as_ref()) {
                    t.union(x);
                }
            }
        }
        self.sink(SinkKind::Use, call, call, t, false);
    }

    pub(super) fn call(&mut self, node: Node) -> Taint {
        let outer = self.external_method.take();
        let mut t = self.call_inner(node);
        if let Some(x) = self.external_method.take() {
            t.union(&x);
        }
        self.external_method = outer;
        t
    }

    fn call_inner(&mut self, node: Node) -> Taint {
        let Some(func) = node.field("function") else {
            return Taint::default();
        };
        let q = self.qualify(func);
        let (method, recv) = if func.kind_str() == "attribute" {
            (
                func.field("attribute").map(|a| self.text(a)),
                func.field("object"),
            )
        } else {
            (None, None)
        };
        let recv_t = match recv {
            Some(r) => self.eval(r),
            None => Taint::default(),
        };
        if let (Some(m), Some(r)) = (method.as_deref(), recv) {
            if r.kind_str() == "identifier"
                && !matches!(m, "get" | "items" | "values" | "keys" | "copy")
            {
                let name = self.text(r);
                self.fields.remove(&*name);
            }
        }

        // Arguments, evaluated once.
        let mut pos: Vec<(Node, Taint)> = Vec::new();
        let mut kws: Vec<(Cow<'a, str>, Node, Taint)> = Vec::new();
        let mut splat = Taint::default();
        if let Some(args) = node.field("arguments") {
            if args.kind_str() == "generator_expression" {
                let t = self.eval(args);
                pos.push((args, t));
            } else {
                for a in named_children(args) {
                    match a.kind_str() {
                        "keyword_argument" => {
                            let (Some(n), Some(v)) = (a.field("name"), a.field("value")) else {
                                continue;
                            };
                            let t = self.eval(v);
                            let name = self.text(n);
                            let t = self.minted_as(&name, t, v);
                            kws.push((name, v, t));
                        }
                        "list_splat" | "dictionary_splat" => {
                            let t = self.eval(a);
                            splat.union(&t);
                        }
                        _ => {
                            let t = self.eval(a);
                            pos.push((a, t));
                        }
                    }
                }
            }
        }
        // `Account(email, api_key=key)`: the values of a PynamoDB model's attributes.
        // (`models.Account(…)` too, after `from app import models`.)
        if self.pynamo_class_ref(func).is_some() {
            for (_, v, t) in &kws {
                if !t.is_empty() {
                    self.parts.push((self.rel(*v), t.clone()));
                }
            }
        }
        let kw = |name: &str| kws.iter().find(|(n, _, _)| n == name);
        let mut all_args = splat.clone();
        for (_, t) in &pos {
            all_args.union(t);
        }
        for (_, _, t) in &kws {
            all_args.union(t);
        }

        // ---- sinks ----
        let qs = q.as_deref().unwrap_or("");
        if matches!(
            qs,
            "fastapi.HTTPException"
                | "fastapi.exceptions.HTTPException"
                | "starlette.exceptions.HTTPException"
        ) {
            let detail = kw("detail")
                .map(|(_, n, t)| (*n, t.clone()))
                .or_else(|| pos.get(1).map(|(n, t)| (*n, t.clone())));
            if let Some((n, t)) = detail {
                self.sink(SinkKind::Detail, node, n, t, false);
            }
            return Taint::default();
        }
        if let (Some(m), Some(r)) = (method.as_deref(), recv) {
            if let Some(t) = self.pynamo_call(node, m, r, &recv_t, &pos, &kws) {
                return t;
            }
        }
        if let (Some(m), Some(r)) = (method.as_deref(), recv) {
            let recv_q = self.qualify(r);
            let recv_text = self.text(r);
            if let Some(attrs) = fw::dynamodb_write(m) {
                let has_kw = attrs.iter().any(|a| kw(a).is_some());
                if has_kw || fw::is_dynamodb_receiver(recv_q.as_deref(), &recv_text) {
                    self.mentions(node);
                    for a in attrs {
                        if let Some((_, n, t)) = kw(a) {
                            let (n, t) = (*n, t.clone());
                            self.sink(SinkKind::Persist, node, n, t, false);
                        }
                    }
                    if !has_kw && m == "put_item" {
                        if let Some((n, t)) = pos.first().map(|(n, t)| (*n, t.clone())) {
                            self.sink(SinkKind::Persist, node, n, t, false);
                        }
                    }
                    return Taint::default();
                }
            }
            let dynamo = fw::is_dynamodb_receiver(recv_q.as_deref(), &recv_text);
            match m {
                "scan" if dynamo => {
                    let r = self.rel(node);
                    let key = self.looks_up_key(node);
                    self.flow.scans.push((r, key));
                }
                "get_paginator"
                    if pos
                        .first()
                        .and_then(|(n, _)| string_value(*n, self.src))
                        .is_some_and(|s| s == "scan") =>
                {
                    let r = self.rel(node);
                    let key = self.looks_up_key(node);
                    self.flow.scans.push((r, key));
                }
                _ => {}
            }
            if dynamo && matches!(m, "get_item" | "query" | "scan" | "batch_get_item") {
                self.mentions(node);
                for a in ["Key", "ExpressionAttributeValues", "KeyConditionExpression"] {
                    if let Some((_, n, t)) = kw(a) {
                        let (n, t) = (*n, t.clone());
                        self.sink(SinkKind::Lookup, node, n, t, false);
                    }
                }
                return self.source(
                    node,
                    Kind::Stored,
                    "whole stored item read here".into(),
                    None,
                    None,
                );
            }
        }
        // (The function's dotted path is built only for a method named like a log call: the
        // path test of `is_log_call` needs one.)
        if fw::is_log_call(q.as_deref(), None)
            || (method.as_deref().is_some_and(fw::is_log_method)
                && fw::is_log_call(None, syntax::dotted_path(func, self.src).as_deref()))
        {
            let mut tainted: Vec<(Node, Taint)> = Vec::new();
            for (n, t) in &pos {
                tainted.push((*n, t.clone()));
            }
            for (name, n, t) in &kws {
                if name != "exc_info" && name != "stack_info" {
                    tainted.push((*n, t.clone()));
                }
            }
            for (n, t) in tainted {
                self.sink(SinkKind::Log, node, n, t, false);
            }
            return Taint::default();
        }
        if let Some(url_idx) = q.as_deref().and_then(fw::http_call) {
            let url = kw("url")
                .map(|(_, n, _)| *n)
                .or_else(|| pos.get(url_idx).map(|(n, _)| *n));
            let url_const = url.is_some_and(|u| self.is_const(u));
            self.mentions(node);
            let value = pos
                .iter()
                .map(|(n, t)| (*n, t))
                .chain(kws.iter().map(|(_, n, t)| (*n, t)))
                .find(|(_, t)| !t.is_empty())
                .map(|(n, _)| n);
            if let Some(value) = value {
                self.sink(SinkKind::Forward, node, value, all_args.clone(), url_const);
            }
            return Taint::default();
        }

        // ---- the value of the call ----
        if fw::is_sanitizer(qs) {
            return Taint::default();
        }
        if matches!(qs, "os.getenv" | "os.environ.get") {
            return match pos.first().and_then(|(n, _)| string_value(*n, self.src)) {
                Some(k) if fw::is_key_name(&k) => self.env_source(node, &k),
                _ => Taint::default(),
            };
        }
        // A PynamoDB model of another module of the project (`from .models import UserModel`,
        // or `models.UserModel` after `from . import models`): built from key material, it holds
        // it when one of its attributes is key-named, as a model class of the module does.
        if let Some(name) = self.pynamo_class_ref(func) {
            if let Some(c) = self.model.foreign_class(&name).filter(|c| c.pynamo) {
                return if c.fields.iter().any(|f| fw::is_key_name(f)) {
                    all_args
                } else {
                    Taint::default()
                };
            }
        }
        if func.kind_str() == "identifier" {
            let name = self.text(func);
            if !self.locals.contains(&*name) && self.is_module_function(&name) {
                return self.module_call(node, name.into_owned(), false, &pos, &kws);
            }
            // (Class headers do not bind module names in the model: a class is known by name.)
            if !self.locals.contains(&*name)
                && self
                    .model
                    .classes
                    .iter()
                    .any(|c| c.name == name && c.parent.is_none())
                && matches!(self.model.binding(&name), None | Some(Binding::Def))
            {
                // Pydantic settings read their secret fields from the environment.
                let settings = self
                    .model
                    .classes
                    .iter()
                    .rev()
                    .find(|c| c.name == name)
                    .is_some_and(|c| {
                        c.bases
                            .iter()
                            .any(|b| b.last().is_some_and(|l| l.ends_with("Settings")))
                    });
                if settings {
                    if let Some((class, field, masked)) = self.secret_model(&name) {
                        return self.source(
                            node,
                            Self::model_kind(masked),
                            format!("settings `{class}` with secret field `{field}` loaded here"),
                            Some(class),
                            None,
                        );
                    }
                }
                // A model keeps only its declared fields: built from key material, it holds the
                // key only if one of them is secret-named; masked (`SecretStr`) if they all are.
                match self.secret_model(&name) {
                    Some((class, field, true)) if !all_args.is_empty() => {
                        return self.source(
                            node,
                            Kind::MaskedModel,
                            format!(
                                "model `{class}` with masked secret field `{field}` built here"
                            ),
                            Some(class),
                            None,
                        );
                    }
                    Some((_, _, false)) => return all_args,
                    _ => {}
                }
                return Taint::default();
            }
        }
        if let (Some(m), Some(r)) = (method.as_deref(), recv) {
            if r.kind_str() == "identifier" && self.text(r) == "self" {
                if let Some(class) = self.class.clone() {
                    // An unknown method is simply not found at resolution.
                    let callee = format!("{class}.{m}");
                    return self.module_call(node, callee, true, &pos, &kws);
                }
            }
            // `store.save(key)` with `store = KeyStore(...)` (a local or a module global).
            if let Some(class) = self.instance_class(r) {
                if self.defines_method(&class, m) {
                    let callee = format!("{class}.{m}");
                    return self.module_call(node, callee, true, &pos, &kws);
                }
                if class.starts_with('@') {
                    // A method of another module's class: a call the project model resolves,
                    // added to what the call gives otherwise (alone, the module gives the same).
                    let callee = format!("{class}.{m}");
                    self.external_method = Some(self.module_call(node, callee, true, &pos, &kws));
                }
            }
        }
        if fw::is_passthrough(qs) {
            // `list(headers)` of a dict with constant keys: its names, not its values.
            if matches!(qs, "list" | "tuple") && kws.is_empty() && splat.is_empty() {
                if let [(arg, _)] = pos.as_slice() {
                    let arg = syntax::unparenthesize(*arg);
                    let names_only = match arg.kind_str() {
                        "identifier" => self.fields.contains_key(&*self.text(arg)),
                        "dictionary" => self.dict_fields(arg).is_some(),
                        _ => false,
                    };
                    if names_only {
                        return Taint::default();
                    }
                }
            }
            if kw("exclude").is_some() || kw("include").is_some() {
                // `jsonable_encoder(reg, exclude={"api_key"})`: fields chosen.
                return Taint::default();
            }
            let mut t = all_args;
            t.union(&recv_t);
            return t;
        }
        // `out.append(x)`, `seen.add(x)`, `rows.extend(xs)`: a local container holds what it is
        // given from then on (a list endpoint that builds its answer item by item).
        if let (Some(m), Some(r)) = (method.as_deref(), recv) {
            if matches!(m, "append" | "extend" | "add" | "insert" | "appendleft")
                && r.kind_str() == "identifier"
                && !all_args.is_empty()
            {
                let name = self.text(r);
                if self.locals.contains(&*name) {
                    let mut t = self.env.get(&*name).cloned().unwrap_or_default();
                    t.union(&all_args);
                    self.env.insert(name.into_owned(), t);
                }
            }
        }
        // A function of another module (`from .store import save_client`, `store.save(...)`):
        // an external call, `@` and its import path, that only the project model resolves.
        let external = self.imported_callee(func, qs).filter(|_| recv_t.is_empty());
        let Some(m) = method else {
            return match external {
                Some(path) => self.module_call(node, path, false, &pos, &kws),
                None => Taint::default(),
            };
        };
        if recv_t.is_empty() && m == "get" {
            let key = pos.first().and_then(|(n, _)| string_value(*n, self.src));
            if let (Some(k), Some(r)) = (key, recv) {
                if let Some(x) = self.config_key(node, r, &k) {
                    return x;
                }
            }
        }
        if let Some(path) = external {
            return self.module_call(node, path, false, &pos, &kws);
        }
        if recv_t.is_empty() && m != "join" && m != "format" {
            return Taint::default();
        }
        match &*m {
            "get" | "pop" | "getlist" => {
                let key = pos.first().and_then(|(n, _)| string_value(*n, self.src));
                if let (Some(k), Some(r)) = (&key, recv) {
                    if let Some(mut f) = self.known_field(r, k) {
                        if let Some((_, d)) = pos.get(1) {
                            f.union(d);
                        }
                        return f;
                    }
                }
                let mut t = match key {
                    Some(k) => {
                        let recv_t = self.other_field(recv_t, &k);
                        self.project(recv_t, node, Some(&k))
                    }
                    None => recv_t,
                };
                if let Some((_, d)) = pos.get(1) {
                    t.union(d);
                }
                t
            }
            "json" | "get_json" | "form" | "body"
                if recv_t.0.iter().any(|l| {
                    matches!(l.base, Base::Source(i)
                        if self.flow.sources[i as usize].kind == Kind::Request)
                }) =>
            {
                self.source(
                    node,
                    Kind::Body,
                    "request data enters here".into(),
                    None,
                    None,
                )
            }
            "dict" | "model_dump" | "json" | "model_dump_json"
                if kw("exclude").is_some() || kw("include").is_some() =>
            {
                Taint::default()
            }
            "get_secret_value" => self.unmask(recv_t, node),
            m if fw::is_carrying_method(m) => {
                let mut t = recv_t;
                t.union(&all_args);
                t
            }
            _ => Taint::default(),
        }
    }

    /// `@` and the import path of a call's function when it is a name (or an attribute of a name)
    /// bound by an import at module level: `save_client` after `from .store import save_client`
    /// → `@.store.save_client`; `db.save` after `import app.db as db` → `@app.db.save`.
    fn imported_callee(&self, func: Node, qualified: &str) -> Option<String> {
        let mut head = syntax::unparenthesize(func);
        while head.kind_str() == "attribute" {
            head = head.field("object")?;
        }
        if head.kind_str() != "identifier" || qualified.is_empty() {
            return None;
        }
        let name = self.text(head);
        if self.locals.contains(&*name) || self.handles.contains_key(&*name) {
            return None;
        }
        matches!(self.model.binding(&name), Some(Binding::Import(_)))
            .then(|| format!("@{qualified}"))
    }

    /// The dependency of `Depends(dep)`/`Security(dep)` when it is a function of another module
    /// (a name or attribute chain bound by an import): `@` and its import path, as
    /// [`Self::imported_callee`] gives a call.
    pub(super) fn imported_dependency(&self, dep: Node) -> Option<String> {
        if !matches!(dep.kind_str(), "identifier" | "attribute") {
            return None;
        }
        let q = self.model.resolve(dep, self.src)?;
        self.imported_callee(dep, &q)
    }

    pub(super) fn module_call(
        &mut self,
        node: Node,
        callee: String,
        bound: bool,
        pos: &[(Node, Taint)],
        kws: &[(Cow<str>, Node, Taint)],
    ) -> Taint {
        if self.flow.calls.len() >= MAX_CALLS {
            return Taint::default();
        }
        let k = self.flow.calls.len() as u16;
        self.flow.calls.push(CallFact {
            callee,
            range: self.rel(node),
            args: pos.iter().map(|(_, t)| t.clone()).collect(),
            kwargs: kws
                .iter()
                .map(|(n, _, t)| (n.to_string(), t.clone()))
                .collect(),
            bound,
        });
        Taint::one(Base::Call(k))
    }
}
