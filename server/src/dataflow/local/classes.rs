//! Classes and instances: module classes, classes imported from other modules, instances made by
//! constructors or factories, and attributes set on `self`.

use tree_sitter::Node;

use crate::model::{Binding, Model};
use crate::syntax::NodeExt;

use super::Walker;

impl<'a> Walker<'a> {
    /// The module class `class` defines method `m` (inherited ones, `model_dump`… are not ours).
    pub(super) fn defines_method(&self, class: &str, m: &str) -> bool {
        let Some(idx) = self
            .model
            .classes
            .iter()
            .position(|c| c.name == class && c.parent.is_none())
        else {
            return false;
        };
        self.model
            .functions
            .iter()
            .any(|f| f.name == m && f.class == Some(idx))
    }

    /// The module class `name` is an instance of: bound here (`store = KeyStore()`) or at module
    /// level.
    pub(super) fn instance_class(&self, recv: Node) -> Option<String> {
        if recv.kind_str() == "attribute" {
            // `self.repo` with `self.repo = Repo()` (or a factory) in a method of the class.
            let callee = self.self_attribute(recv)?;
            return self
                .class_made_by(callee, 0)
                .or_else(|| self.imported_instance(callee));
        }
        if recv.kind_str() != "identifier" {
            return None;
        }
        let name = self.src.node_text(recv);
        if let Some(c) = self.instances.get(name.as_ref()) {
            return Some(c.clone());
        }
        if self.locals.contains(name.as_ref()) {
            return None;
        }
        match self.model.binding(&name) {
            // `repo = Repo()`, `repo = get_repo()` at module level.
            Some(Binding::Call { callee, .. }) => self
                .class_made_by(callee, 0)
                .or_else(|| self.imported_instance(callee)),
            _ => None,
        }
    }

    /// A class of another module named by `path` as written (`["KeyRepository"]`,
    /// `["repository", "KeyRepository"]`): a capitalised name reached through a module-level
    /// import, as `@` and its import path (`@.repository.KeyRepository`). Its methods are called
    /// as `@….KeyRepository.save`, which only the project model resolves.
    pub(super) fn imported_class(&self, path: &[String]) -> Option<String> {
        let head = path.first()?;
        if !path.last()?.starts_with(|c: char| c.is_ascii_uppercase())
            || self.locals.contains(head)
            || !matches!(self.model.binding(head), Some(Binding::Import(_)))
        {
            return None;
        }
        let q = self.model.resolve_path(path)?;
        // A framework's class (`HttpResponse`, `Request`, `Session`) is no class of the project:
        // the rules know what its methods do.
        const FRAMEWORKS: &[&str] = &[
            "django",
            "flask",
            "fastapi",
            "starlette",
            "pydantic",
            "werkzeug",
            "sqlalchemy",
            "boto3",
            "botocore",
            "pynamodb",
            "requests",
            "httpx",
            "aiohttp",
            "typing",
        ];
        let top = q.split('.').next().unwrap_or("");
        if FRAMEWORKS.contains(&top) {
            return None;
        }
        Some(format!("@{q}"))
    }

    /// What a call of `path` (as written) makes when it names something of another module: an
    /// instance of its class ([`Self::imported_class`]), or what a factory of it returns
    /// (`get_repo()` after `from .deps import get_repo`, as `@.deps.get_repo()`: the project
    /// model resolves `@.deps.get_repo().save` through the class `get_repo` returns there).
    pub(super) fn imported_instance(&self, path: &[String]) -> Option<String> {
        self.imported_class(path)
            .or_else(|| self.imported_factory(path))
    }

    /// A function of another module named by `path` as written (`["get_repo"]`, `["deps",
    /// "get_repo"]`), reached through a module-level import, as the class it returns:
    /// `@.deps.get_repo()` (see [`Self::imported_instance`]).
    pub(super) fn imported_factory(&self, path: &[String]) -> Option<String> {
        let head = path.first()?;
        if path.last()?.starts_with(|c: char| c.is_ascii_uppercase())
            || self.locals.contains(head)
            || !matches!(self.model.binding(head), Some(Binding::Import(_)))
        {
            return None;
        }
        let q = self.model.resolve_path(path)?;
        let top = q.split('.').next().unwrap_or("");
        // Only a project module (relative, or not a framework package) can be resolved.
        if !q.starts_with('.') && crate::model::frameworks::is_framework_package(top) {
            return None;
        }
        Some(format!("@{q}()"))
    }

    /// [`Self::imported_class`] of a parameter's annotation (`KeyRepository`,
    /// `Optional[repository.KeyRepository]`, `KeyRepository | None`).
    pub(super) fn annotated_import(&self, ty: &str) -> Option<String> {
        let mut t = ty.trim();
        if let Some(inner) = t
            .strip_prefix("Optional[")
            .or_else(|| t.strip_prefix("typing.Optional["))
            .and_then(|r| r.strip_suffix(']'))
        {
            t = inner.trim();
        }
        if let Some(inner) = t.strip_suffix("| None") {
            t = inner.trim();
        }
        if t.is_empty()
            || !t
                .split('.')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == '_'))
        {
            return None;
        }
        let path: Vec<String> = t.split('.').map(str::to_string).collect();
        self.imported_class(&path)
    }

    /// `name` is a top-level class of the module (class headers do not bind module names in the
    /// model: a class is known by name, unless something else rebinds it).
    pub(super) fn is_module_class(&self, name: &str) -> bool {
        !self.locals.contains(name)
            && self
                .model
                .classes
                .iter()
                .any(|c| c.name == name && c.parent.is_none())
            && matches!(self.model.binding(name), None | Some(Binding::Def))
    }

    /// The module class a call of `callee` (as written) makes: its constructor (`Repo`), or a
    /// module function that returns or yields one (`get_repo`, a factory; also a factory of a
    /// factory).
    pub(super) fn class_made_by(&self, callee: &[String], depth: usize) -> Option<String> {
        let [name] = callee else { return None };
        if depth > 8 || self.locals.contains(name) {
            return None;
        }
        let is_class = self
            .model
            .classes
            .iter()
            .any(|c| c.name == *name && c.parent.is_none());
        match self.model.binding(name) {
            None if is_class => Some(name.clone()),
            Some(Binding::Def) if is_class && !self.model.function_returns.contains_key(name) => {
                Some(name.clone())
            }
            Some(Binding::Def) => {
                let inner = self.model.function_returns.get(name)?;
                self.class_made_by(inner, depth + 1)
            }
            _ => None,
        }
    }

    /// What `self.attr` was assigned in a method of the enclosing class, when a call
    /// (`self._table = dynamodb.Table(name)` → `["dynamodb", "Table"]`).
    pub(super) fn self_attribute(&self, node: Node) -> Option<&'a Vec<String>> {
        if node.kind_str() != "attribute" {
            return None;
        }
        // The class's handles first: outside a method, or in a class with none, no field lookups.
        let class = self.class.as_deref()?;
        let model: &'a Model = self.model;
        let handles = &model
            .classes
            .iter()
            .rev()
            .find(|c| c.name == class)?
            .self_handles;
        if handles.is_empty() {
            return None;
        }
        let obj = node.field("object")?;
        if obj.kind_str() != "identifier" || self.src.node_text(obj) != "self" {
            return None;
        }
        let attr = self.src.node_text(node.field("attribute")?);
        handles
            .iter()
            .find(|(a, _)| *a == attr)
            .map(|(_, callee)| callee)
    }
}
