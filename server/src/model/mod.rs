//! The semantic model of one module: imports and aliases, module-level bindings, classes and
//! functions, and where a new import goes.
//!
//! The model is built from per-item [`ItemFacts`] (each extracted from one item's text and cached with
//! it), so an edit inside one item re-extracts only that item's facts; merging them is cheap. Whatever
//! rules need from outside their item must be here, so that "the model did not change" means "the
//! findings of unchanged items did not change".

pub mod apps;
mod bindings;
mod collect;
pub mod exposure;
mod facts;
pub mod frameworks;
mod imports;
mod reads;
pub mod secrets;
pub mod validation;

use crate::syntax::NodeExt;
use std::hash::{Hash, Hasher};

use rustc_hash::{FxHashMap, FxHasher};
use tree_sitter::Node;

use crate::document::SourceText;
use crate::syntax::{self, dotted_path};

pub use bindings::Bindings;
pub use bindings::BindingsView;
pub use collect::{config_load_sites, item_facts};
pub use facts::{
    handler_kind_of_decorator, Binding, ClassFact, FunctionFact, HandlerKind, ImportFact, ItemFacts,
};
pub(crate) use imports::import_layout_read;
pub use imports::{import_layout, ImportLayout};
pub use reads::{BindingReads, FlowReads, ReadRecorder};

/// The semantic model of a module.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// Module-level names: the last binding of each wins (as at run time, roughly). Read through
    /// [`Model::bindings`], which records the reads.
    bindings: Bindings,
    /// Plain imports (`import os`, `import os as _os`): bound name → module.
    /// Shared like `functions` (and the lists below): a copy of the model per keystroke copies
    /// no list of the module.
    pub imports: std::sync::Arc<Vec<ImportFact>>,
    pub classes: std::sync::Arc<Vec<ClassFact>>,
    /// Every function and method, in document order; shared (hundreds in a big module), so that
    /// the analyzer's copy of an unchanged model costs nothing per keystroke, and held as the
    /// items' lists ([`Functions`]), so that a merge after an edit copies none of them.
    pub functions: std::sync::Arc<Functions>,
    pub registered_handlers: std::sync::Arc<Vec<(String, HandlerKind)>>,
    /// Handler name → the error type it is registered for, as written (see [`ItemFacts`]).
    pub registered_error_types: std::sync::Arc<Vec<(String, String)>>,
    /// Names of values checked somewhere in the module (KL102), lists walked by a raising loop
    /// resolved to their strings.
    pub validated: std::sync::Arc<std::collections::BTreeSet<String>>,
    pub layout: ImportLayout,
    /// What module functions return when it is a call (see [`ItemFacts::returns`]), so that
    /// `get_table().put_item` resolves like `dynamodb.Table().put_item`.
    pub function_returns: std::sync::Arc<FxHashMap<String, Vec<String>>>,
    /// What the readers of this model read, while [`Model::record_reads`] runs.
    reads: ReadRecorder,
    /// Names this module imports from other modules of the project, with what the project model
    /// knows of them (`crate::project`): set by the analyzer before the data flow, from its
    /// project resolver; empty for a file alone. Sorted by bound name.
    pub foreign_names: std::sync::Arc<Vec<ForeignName>>,
    /// The classes the module loads as its Flask configuration, as [`ItemFacts::config_loads`]
    /// has them (a name as written, a string literal behind a `"`), in order.
    pub config_loads: std::sync::Arc<Vec<String>>,
    /// The module's mappings of configuration classes (see [`ItemFacts::class_map`]): what a
    /// `from_object(NAME[key])` of the module may load.
    pub class_maps: std::sync::Arc<FxHashMap<String, Vec<String>>>,
}

/// The functions and methods of a module, in document order: the lists of its items, each shared
/// with the item it comes from ([`ItemFunctions`]).
#[derive(Debug, Clone, Default)]
pub struct Functions {
    parts: Vec<std::sync::Arc<[FunctionFact]>>,
    len: usize,
}

impl Functions {
    pub fn iter(&self) -> impl Iterator<Item = &FunctionFact> + '_ {
        self.parts.iter().flat_map(|p| p.iter())
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many of the items' lists are `other`'s very lists (the same memory, not equal
    /// copies): what a merge took again instead of making.
    pub fn shared_with(&self, other: &Functions) -> usize {
        let theirs: rustc_hash::FxHashSet<*const FunctionFact> =
            other.parts.iter().map(|p| p.as_ptr()).collect();
        self.parts
            .iter()
            .filter(|p| theirs.contains(&p.as_ptr()))
            .count()
    }

    /// How many items have functions.
    pub fn lists(&self) -> usize {
        self.parts.len()
    }

    fn push(&mut self, part: std::sync::Arc<[FunctionFact]>) {
        self.len += part.len();
        self.parts.push(part);
    }
}

/// The same functions in the same order, however they are split in lists.
impl PartialEq for Functions {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl Eq for Functions {}

/// An item's functions as a merged model holds them (their [`FunctionFact::class`] set to the
/// item's innermost class), kept by the analyzer with the item's facts: a merge takes the list
/// again, shared, while the item and its class are what they were ([`Model::from_facts_kept`]).
#[derive(Debug, Clone, Default)]
pub struct ItemFunctions(Option<(Option<usize>, std::sync::Arc<[FunctionFact]>)>);

impl ItemFunctions {
    /// The list of `facts`'s functions in the innermost class `class`: the kept one, or a new
    /// one, kept.
    fn get(&mut self, facts: &ItemFacts, class: Option<usize>) -> std::sync::Arc<[FunctionFact]> {
        match &self.0 {
            Some((kept, part)) if *kept == class => part.clone(),
            _ => {
                let part = item_functions(facts, class);
                self.0 = Some((class, part.clone()));
                part
            }
        }
    }
}

fn item_functions(facts: &ItemFacts, class: Option<usize>) -> std::sync::Arc<[FunctionFact]> {
    facts
        .functions
        .iter()
        .map(|func| FunctionFact {
            class,
            ..func.clone()
        })
        .collect()
}

/// Where a module loads a configuration class: its path as shown and the byte range of its
/// `from_object(…)` call ([`ForeignName::loaded_by`]).
pub type LoadSite = (std::sync::Arc<str>, std::ops::Range<usize>);

/// A name this module imports from another module of the project (`from app.models import
/// UserModel`, `from .db import table`) with what the rules and the local data flow read of it,
/// under the name it is bound to here. Sorted by that name in [`Model::foreign_names`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ForeignName {
    /// The name bound here (`UserModel`).
    pub bound: String,
    /// A PynamoDB model class (its base, or a base of a base, resolves to
    /// `pynamodb.models.Model`).
    pub pynamo: bool,
    /// A model's attributes (PynamoDB attributes, annotated fields), its bases' first.
    pub fields: Vec<String>,
    /// A module-level object made by a call there, as its module resolves the call
    /// (`table = boto3.resource("dynamodb").Table("t")` → `boto3.resource().Table()`): names
    /// resolve through it here as through a binding of the module (`table.put_item`). An object
    /// of a module imported whole is bound as `module.name` (`db.table` after `import app.db as
    /// db` or `from app import db`), and `db.table.put_item` resolves through it.
    pub made_by: Option<String>,
    /// A top-level class of *this* module (`bound` is its name) that another module of the
    /// project loads as its Flask configuration (`app.config.from_object(DevelopmentConfig)`
    /// after `from .config import DevelopmentConfig`, `from_object("app.config.DevelopmentConfig")`):
    /// the app runs with it, whatever its name says.
    pub loaded_config: bool,
    /// Where another module loads it (with [`ForeignName::loaded_config`]): that module's path
    /// as shown and the byte range of its `from_object(…)` call (the first such load).
    pub loaded_by: Option<LoadSite>,
}

impl Model {
    /// The module bindings; every read is noted in this model's recorder.
    pub fn bindings(&self) -> BindingsView<'_> {
        BindingsView::new(&self.bindings, &self.reads)
    }

    /// The recorder of this model's readers: the module-wide data flow, resolved above the model
    /// (`dataflow::FlowView`), notes its reads in it too.
    pub fn recorder(&self) -> &ReadRecorder {
        &self.reads
    }

    /// Runs `f` and returns, with its result, what it read of this model meanwhile: the names of
    /// [`Model::bindings`] and the data-flow facts read through a view on [`Model::recorder`].
    /// Nested calls also count as reads of the enclosing one.
    pub fn record_reads<R>(&self, f: impl FnOnce() -> R) -> (R, BindingReads) {
        self.reads.record(f)
    }

    /// Builds the model from the facts of every item, in document order.
    pub fn from_facts<'f>(facts: impl IntoIterator<Item = (&'f ItemFacts, &'f [usize])>) -> Model {
        Self::merge(facts.into_iter().map(|(f, classes)| (f, classes, None)))
    }

    /// [`Model::from_facts`], with each item's functions as kept with the item (made and kept
    /// there when missing or made for another class): the same model.
    pub fn from_facts_kept<'f>(
        facts: impl IntoIterator<Item = (&'f ItemFacts, &'f [usize], &'f mut ItemFunctions)>,
    ) -> Model {
        Self::merge(
            facts
                .into_iter()
                .map(|(f, classes, kept)| (f, classes, Some(kept))),
        )
    }

    fn merge<'f>(
        facts: impl Iterator<Item = (&'f ItemFacts, &'f [usize], Option<&'f mut ItemFunctions>)>,
    ) -> Model {
        // About one binding an item: the map made at its size, not grown (issue #14: a merge of
        // 455 items rehashed the map eight times).
        let mut model = Model {
            bindings: Bindings::with_capacity(facts.size_hint().0),
            ..Model::default()
        };
        // Built here, shared once complete.
        let mut class_facts: Vec<ClassFact> = Vec::new();
        let mut imports: Vec<ImportFact> = Vec::new();
        let mut registered_handlers: Vec<(String, HandlerKind)> = Vec::new();
        let mut registered_error_types: Vec<(String, String)> = Vec::new();
        let mut validated: std::collections::BTreeSet<String> = Default::default();
        let mut function_returns: FxHashMap<String, Vec<String>> = FxHashMap::default();
        let mut config_loads: Vec<String> = Vec::new();
        let mut lists: FxHashMap<String, Vec<String>> = FxHashMap::default();
        let mut class_maps: FxHashMap<String, Vec<String>> = FxHashMap::default();
        let mut functions = Functions::default();
        // (class, field, annotation types): resolved once every import is known.
        let mut annotated: Vec<(usize, &String, &Vec<Vec<String>>)> = Vec::new();
        for (f, classes, kept) in facts {
            if let Some(class) = &f.class {
                class_facts.push(class.clone());
            }
            if let Some(&innermost) = classes.last() {
                if let Some(class) = class_facts.get_mut(innermost) {
                    if f.sets_testing_true {
                        class.testing_true = true;
                    }
                    if f.sets_debug_true {
                        class.debug_true = true;
                    }
                    if let Some(field) = &f.field {
                        class.fields.push(field.clone());
                        annotated.push((innermost, field, &f.field_types));
                    }
                    if f.class.is_none() {
                        // A class-body statement: the last binding of an attribute wins.
                        for (name, binding) in &f.bindings {
                            class.str_consts.retain(|c| c != name);
                            // An annotated field (`token_type: str = "bearer"`) is instance
                            // data of a dataclass or model, not a constant.
                            if *binding == Binding::StrLiteral && f.field.as_ref() != Some(name) {
                                class.str_consts.push(name.clone());
                            }
                            // A PynamoDB attribute (`api_key = UnicodeAttribute()`) is a field.
                            if let Binding::Call { callee, .. } = binding {
                                if callee.last().is_some_and(|l| {
                                    l.ends_with("Attribute") && l.len() > "Attribute".len()
                                }) && !class.fields.contains(name)
                                {
                                    class.fields.push(name.clone());
                                }
                            }
                        }
                    }
                    for attr in &f.self_assigned {
                        if !class.self_assigned.contains(attr) {
                            class.self_assigned.push(attr.clone());
                        }
                    }
                    for (attr, callee) in &f.self_handles {
                        class.self_handles.retain(|(a, _)| a != attr);
                        class.self_handles.push((attr.clone(), callee.clone()));
                    }
                }
            }
            // Class bodies bind class attributes, not module names.
            let in_class = !classes.is_empty() || f.class.is_some();
            for import in &f.imports {
                if !in_class {
                    imports.push(import.clone());
                }
            }
            if !in_class {
                for (name, binding) in &f.bindings {
                    model.bindings.insert(name.clone(), binding.clone());
                }
                for (name, callee) in &f.returns {
                    function_returns.insert(name.clone(), callee.clone());
                }
            }
            if !f.functions.is_empty() {
                let class = classes.last().copied();
                functions.push(match kept {
                    Some(kept) => kept.get(f, class),
                    None => item_functions(f, class),
                });
            }
            registered_handlers.extend(f.registered_handlers.iter().cloned());
            config_loads.extend(f.config_loads.iter().cloned());
            registered_error_types.extend(f.registered_error_types.iter().cloned());
            // Most handlers validate the same names (`x_api_key`): copied once, not per item.
            for v in &f.validated {
                if !validated.contains(v) {
                    validated.insert(v.clone());
                }
            }
            if let (Some((name, values)), false) = (&f.string_list, in_class) {
                lists.insert(name.clone(), values.clone());
            }
            if let (Some((name, values)), false) = (&f.class_map, in_class) {
                class_maps.insert(name.clone(), values.clone());
            }
        }
        // `from_object(config[name])` with the mapping `config` of this module: every class it
        // maps to is loaded (a mapping of another module stays `[config`, for the project model).
        let config_loads: Vec<String> = config_loads
            .into_iter()
            .flat_map(
                |l| match l.strip_prefix('[').and_then(|m| class_maps.get(m)) {
                    Some(values) => values.clone(),
                    None => vec![l],
                },
            )
            .collect();
        model.class_maps = std::sync::Arc::new(class_maps);
        model.functions = std::sync::Arc::new(functions);
        let walked: Vec<String> = validated
            .iter()
            .filter_map(|v| v.strip_prefix('@'))
            .map(str::to_string)
            .collect();
        for name in walked {
            if let Some(values) = lists.get(&name) {
                validated.extend(values.iter().cloned());
            }
        }
        model.imports = std::sync::Arc::new(imports);
        model.registered_handlers = std::sync::Arc::new(registered_handlers);
        model.registered_error_types = std::sync::Arc::new(registered_error_types);
        model.validated = std::sync::Arc::new(validated);
        model.function_returns = std::sync::Arc::new(function_returns);
        model.config_loads = std::sync::Arc::new(config_loads);
        for (class, field, types) in annotated {
            if model.is_masked_annotation(types) {
                if let Some(class) = class_facts.get_mut(class) {
                    class.masked.push(field.clone());
                }
            }
        }
        model.classes = std::sync::Arc::new(class_facts);
        model
    }

    /// An annotation naming a masked secret type (`SecretStr`, `SecretBytes`, pydantic's
    /// `Secret[...]`), resolved through imports (`from pydantic import SecretStr as S`,
    /// `pydantic.SecretStr`), possibly optional or in a container, and no plain type beside it
    /// (`str | SecretStr` may hold a plain string).
    fn is_masked_annotation(&self, types: &[Vec<String>]) -> bool {
        let mut masked = false;
        for path in types {
            let q = self.resolve_path(path).unwrap_or_else(|| path.join("."));
            let last = q.rsplit('.').next().unwrap_or(&q);
            if matches!(last, "SecretStr" | "SecretBytes")
                || (last == "Secret" && q.starts_with("pydantic."))
            {
                masked = true;
            } else if matches!(
                last,
                "str" | "bytes" | "Any" | "object" | "AnyStr" | "Text" | "bytearray"
            ) {
                return false;
            }
        }
        masked
    }

    /// A hash of everything rules may read (not the byte offsets of [`ImportLayout`]).
    pub fn fingerprint(&self) -> u64 {
        let mut h = FxHasher::default();
        self.bindings().fingerprint().hash(&mut h);
        self.rest_fingerprint().hash(&mut h);
        h.finish()
    }

    /// A hash of everything rules may read except [`Model::bindings`]
    /// (whose reads are tracked name by name, see [`Model::record_reads`]).
    pub fn rest_fingerprint(&self) -> u64 {
        let mut h = FxHasher::default();
        self.imports.hash(&mut h);
        self.classes.hash(&mut h);
        // What rules read of the functions: their names and classes (decorators are read from the
        // item's own syntax). A broken call that swallows the next handler's decorator then
        // re-checks the statements it touched, not every item.
        for f in self.functions.iter() {
            (&f.name, f.class).hash(&mut h);
        }
        self.functions.len().hash(&mut h);
        self.registered_handlers.hash(&mut h);
        self.registered_error_types.hash(&mut h);
        self.validated.hash(&mut h);
        let mut returns: Vec<_> = self.function_returns.iter().collect();
        returns.sort();
        returns.hash(&mut h);
        self.foreign_names.hash(&mut h);
        self.config_loads.hash(&mut h);
        h.finish()
    }

    /// Resolves a dotted path as written to a qualified name through imports and module bindings:
    /// with `from flask import Flask as F`, `["F"]` → `flask.Flask`; with `import os as _os`,
    /// `["_os", "environ", "get"]` → `os.environ.get`; with `app = F(__name__)`, `["app", "route"]` →
    /// `flask.Flask().route`; with `t = boto3.resource("dynamodb").Table("x")`, `["t", "put_item"]` →
    /// `boto3.resource().Table().put_item`. Names bound by nothing resolve to themselves only when
    /// they are builtins (`print`, `bool`); otherwise `None`.
    pub fn resolve_path(&self, path: &[String]) -> Option<String> {
        self.resolve_path_depth(path, 0)
    }

    fn resolve_path_depth(&self, path: &[String], depth: usize) -> Option<String> {
        let (head, rest) = path.split_first()?;
        if depth > 16 {
            return None;
        }
        let mut rest = rest;
        let base = match self.bindings().get(head.as_str()) {
            Some(Binding::Import(q)) => match self.foreign_made_by(head) {
                Some(made) => made.to_string(),
                // `db.table` of a module imported whole (see [`ForeignName::made_by`]).
                None => match rest
                    .split_first()
                    .and_then(|(first, more)| Some((self.foreign_attr_made_by(head, first)?, more)))
                {
                    Some((made, more)) => {
                        rest = more;
                        made.to_string()
                    }
                    None => q.to_string(),
                },
            },
            Some(Binding::Call { callee, .. }) => {
                format!("{}()", self.resolve_path_depth(callee, depth + 1)?)
            }
            Some(_) => return None,
            None if is_builtin(head) => head.clone(),
            None => return None,
        };
        let mut out = base;
        for part in rest {
            out.push('.');
            out.push_str(part);
        }
        Some(out)
    }

    /// Resolves an expression node: a name, an attribute chain, or a call (`F(...)` → `flask.Flask()`,
    /// `boto3.resource("dynamodb").Table` → `boto3.resource().Table`).
    pub fn resolve(&self, node: Node, src: SourceText) -> Option<String> {
        let node = syntax::unparenthesize(node);
        match node.kind_str() {
            "identifier" | "attribute" => {
                if let Some(resolved) = self.resolve_chain(node, src) {
                    return resolved;
                }
                // `f(...).attr`
                let object = node.field("object")?;
                let attr = node.field("attribute")?;
                Some(format!(
                    "{}.{}",
                    self.resolve(object, src)?,
                    src.node_text(attr)
                ))
            }
            "call" => Some(format!("{}()", self.resolve(node.field("function")?, src)?)),
            _ => None,
        }
    }

    /// [`Model::resolve_path`] of the [`dotted_path`] of a plain name or attribute chain, without
    /// building the path: `None` when `node` is not such a chain.
    fn resolve_chain(&self, node: Node, src: SourceText) -> Option<Option<String>> {
        let mut attrs: Vec<Node> = Vec::new();
        let mut head = node;
        loop {
            match head.kind_str() {
                "identifier" => break,
                "attribute" => {
                    attrs.push(head.field("attribute")?);
                    head = head.field("object")?;
                }
                _ => return None,
            }
        }
        let head = src.node_text(head);
        let base = match self.bindings().get(head.as_ref()) {
            Some(Binding::Import(q)) => match self.foreign_made_by(&head) {
                Some(made) => made.to_string(),
                // `db.table` of a module imported whole (see [`ForeignName::made_by`]).
                None => match attrs
                    .last()
                    .and_then(|first| self.foreign_attr_made_by(&head, &src.node_text(*first)))
                {
                    Some(made) => {
                        attrs.pop();
                        made.to_string()
                    }
                    None => q.to_string(),
                },
            },
            Some(Binding::Call { callee, .. }) => match self.resolve_path_depth(callee, 1) {
                Some(q) => format!("{q}()"),
                None => return Some(None),
            },
            Some(_) => return Some(None),
            None if is_builtin(&head) => head.into_owned(),
            None => return Some(None),
        };
        let mut out = base;
        for attr in attrs.iter().rev() {
            out.push('.');
            out.push_str(&src.node_text(*attr));
        }
        Some(Some(out))
    }

    /// Qualified name of the function a call node calls (`os.environ.get`, `flask.Flask().run`).
    pub fn callee(&self, call: Node, src: SourceText) -> Option<String> {
        if call.kind_str() != "call" {
            return None;
        }
        self.resolve(call.field("function")?, src)
    }

    /// The binding of a module-level name.
    pub fn binding(&self, name: &str) -> Option<&Binding> {
        self.bindings().get(name)
    }
    /// A PynamoDB model class of the module: a top-level class with a base resolving to
    /// `pynamodb.models.Model`.
    /// A PynamoDB model class imported from another module of the project (see
    /// [`Model::foreign_names`]) counts too.
    pub fn is_pynamo_class(&self, name: &str) -> bool {
        match self
            .classes
            .iter()
            .rev()
            .find(|c| c.name == name && c.parent.is_none())
        {
            Some(c) => c.bases.iter().any(|b| {
                let q = self.resolve_path(b).unwrap_or_else(|| b.join("."));
                frameworks::is_pynamo_model_base(&q)
            }),
            None => self.foreign_class(name).is_some_and(|c| c.pynamo),
        }
    }

    /// The class of another module of the project bound to `name` here by an import (and by no
    /// class of the module).
    /// A dotted name (`models.UserModel`) is a class of a module of the project imported whole
    /// (`from app import models`): its head must be bound by an import.
    pub fn foreign_class(&self, name: &str) -> Option<&ForeignName> {
        let c = self.foreign_name(name)?;
        let head = name.split('.').next().unwrap_or(name);
        matches!(self.bindings().get(head), Some(Binding::Import(_))).then_some(c)
    }

    /// The name of the PynamoDB model class a node names, as [`Model::is_pynamo_class`] knows
    /// it: `UserModel` (an identifier), or `models.UserModel` (an attribute of a module of the
    /// project imported whole, `from app import models`, `import app.models as models`).
    pub fn pynamo_class_ref(&self, node: Node, src: SourceText) -> Option<String> {
        let name = match node.kind_str() {
            "identifier" => src.node_text(node).into_owned(),
            "attribute" if !self.foreign_names.is_empty() => {
                let obj = node
                    .field("object")
                    .filter(|o| o.kind_str() == "identifier")?;
                let attr = node.field("attribute")?;
                format!("{}.{}", src.node_text(obj), src.node_text(attr))
            }
            _ => return None,
        };
        self.is_pynamo_class(&name).then_some(name)
    }

    /// What the project knows of the name `name` bound here to something of another module
    /// ([`Model::foreign_names`], sorted by the name they are bound to).
    fn foreign_name(&self, name: &str) -> Option<&ForeignName> {
        if self.foreign_names.is_empty() {
            return None;
        }
        let i = self
            .foreign_names
            .binary_search_by(|c| c.bound.as_str().cmp(name))
            .ok()?;
        Some(&self.foreign_names[i])
    }

    /// The top-level class `name` of the module is loaded as the app's Flask configuration: by
    /// this module (`app.config.from_object(name)`) or by another module of the project (see
    /// [`ForeignName::loaded_config`]).
    pub fn loaded_config(&self, name: &str) -> bool {
        self.config_loads.iter().any(|l| l == name)
            || self.foreign_name(name).is_some_and(|c| c.loaded_config)
    }

    /// Where another module of the project loads the top-level class `name` of this module as
    /// its Flask configuration (see [`ForeignName::loaded_by`]).
    pub fn config_loaded_by(&self, name: &str) -> Option<&LoadSite> {
        self.foreign_name(name)?.loaded_by.as_ref()
    }

    /// What [`Model::resolve`] gives a plain name bound by an import to `q`: what made it in
    /// another module of the project (see [`ForeignName::made_by`]), else `q`.
    pub fn import_target<'m>(&'m self, name: &str, q: &'m str) -> &'m str {
        self.foreign_made_by(name).unwrap_or(q)
    }

    /// What made the object of another module of the project imported as `name` (see
    /// [`ForeignName::made_by`]).
    fn foreign_made_by(&self, name: &str) -> Option<&str> {
        self.foreign_name(name)?.made_by.as_deref()
    }

    /// What made the object `module.attr` of a module of the project imported whole as
    /// `module` (see [`ForeignName::made_by`]).
    fn foreign_attr_made_by(&self, module: &str, attr: &str) -> Option<&str> {
        if self.foreign_names.is_empty() {
            return None;
        }
        self.foreign_made_by(&format!("{module}.{attr}"))
    }

    /// The fields (attributes) of the top-level class `name` of the module, or of the class of
    /// another module of the project imported as `name`.
    pub fn class_fields(&self, name: &str) -> Option<&[String]> {
        match self.classes.iter().rev().find(|c| c.name == name) {
            Some(c) => Some(&c.fields),
            None => self.foreign_class(name).map(|c| c.fields.as_slice()),
        }
    }

    /// The PynamoDB model class and attribute that `kwarg` (a `keyword_argument` node) sets when
    /// it is an argument of the constructor of a model class of the module named as such:
    /// `Account(api_key=value)` → (`Account`, `api_key`). Shared by KL201 and the agreement of
    /// its fixes.
    pub fn pynamo_constructor_kwarg(
        &self,
        kwarg: Node,
        src: SourceText,
    ) -> Option<(String, String)> {
        if kwarg.kind_str() != "keyword_argument" {
            return None;
        }
        let call = kwarg
            .parent()?
            .parent()
            .filter(|c| c.kind_str() == "call")?;
        let class = self.pynamo_class_ref(call.field("function")?, src)?;
        let attr = src.node_text(kwarg.field("name")?).into_owned();
        Some((class, attr))
    }

    /// `attr` is a string constant of class `class` (an index into [`Model::classes`]) or of a base
    /// class of the module it inherits from (`reset_url_token = "set-password"` in the class body),
    /// and no method of the class assigns it on the instance.
    pub fn is_class_str_const(&self, class: usize, attr: &str) -> bool {
        let mut current = class;
        for _ in 0..8 {
            let Some(c) = self.classes.get(current) else {
                return false;
            };
            if c.self_assigned.iter().any(|a| a == attr) {
                return false;
            }
            if c.str_consts.iter().any(|a| a == attr) {
                return true;
            }
            // Not bound in this class: look in a base class of the module (by name).
            if c.fields.iter().any(|f| f == attr) {
                return false;
            }
            let base = c.bases.iter().find_map(|b| {
                let [name] = b.as_slice() else { return None };
                self.classes.iter().rposition(|k| &k.name == name)
            });
            match base {
                Some(b) if b != current => current = b,
                _ => return false,
            }
        }
        false
    }

    /// The name under which `module` is imported as a whole (`import os` → `os`; `import os as _os`
    /// → `_os`), if it is.
    pub fn module_alias(&self, module: &str) -> Option<&str> {
        self.imports
            .iter()
            .find(|i| i.plain && i.qualified == module)
            .map(|i| i.bound.as_str())
    }

    /// The framework role of a function definition node (route or error handler), from its
    /// decorators or from a registration call elsewhere in the module.
    pub fn handler_kind(&self, def: Node, src: SourceText) -> Option<HandlerKind> {
        // Asked of the `decorated_definition`, no climb to the definition's parent.
        self.handler_kind_with(&syntax::decorators(def), syntax::definition(def), src)
    }

    /// [`Model::handler_kind`] of a statement (an item's node, or a statement of a block: a
    /// function definition, decorated or not), without looking at its parent.
    pub fn statement_handler_kind(&self, stmt: Node, src: SourceText) -> Option<HandlerKind> {
        self.handler_kind_with(
            &syntax::statement_decorators(stmt),
            syntax::definition(stmt),
            src,
        )
    }

    fn handler_kind_with(
        &self,
        decorators: &[Node],
        def: Node,
        src: SourceText,
    ) -> Option<HandlerKind> {
        for &deco in decorators {
            let callee = if deco.kind_str() == "call" {
                deco.field("function")
            } else {
                Some(deco)
            };
            if let Some(q) = callee.and_then(|c| self.resolve(c, src)) {
                if let Some(kind) = handler_kind_of_decorator(&q) {
                    return Some(kind);
                }
            }
        }
        let name = def.field("name")?;
        let name = src.node_text(name);
        self.registered_handlers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, k)| *k)
    }
}

impl Model {
    /// Like [`Model::handler_kind`], but a decorator on an object the model cannot resolve — an app
    /// created inside a factory (`def create_app(): app = Flask(...)`, `@app.errorhandler(...)`) —
    /// is judged by its written path (`app.errorhandler`, `bp.route`).
    pub fn handler_kind_lenient(&self, def: Node, src: SourceText) -> Option<HandlerKind> {
        self.lenient_with(&syntax::decorators(def), syntax::definition(def), src)
    }

    /// [`Model::handler_kind_lenient`] of a function definition `def` whose decorators are
    /// `decorators` (read once by the caller, see [`syntax::statement_decorators`]).
    pub fn handler_kind_lenient_with(
        &self,
        decorators: &[Node],
        def: Node,
        src: SourceText,
    ) -> Option<HandlerKind> {
        self.lenient_with(decorators, syntax::definition(def), src)
    }

    fn lenient_with(&self, decorators: &[Node], def: Node, src: SourceText) -> Option<HandlerKind> {
        if let Some(kind) = self.handler_kind_with(decorators, def, src) {
            return Some(kind);
        }
        decorators.iter().find_map(|&deco| {
            let callee = if deco.kind_str() == "call" {
                deco.field("function")?
            } else {
                deco
            };
            let path = dotted_path(callee, src)?;
            let head = path.first()?;
            if self.bindings().contains_key(head) {
                return None;
            }
            handler_kind_of_decorator(&path.join("."))
        })
    }
}

impl Hash for Model {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.fingerprint());
    }
}

fn is_builtin(name: &str) -> bool {
    matches!(
        name,
        "print"
            | "bool"
            | "str"
            | "repr"
            | "len"
            | "dict"
            | "list"
            | "int"
            | "vars"
            | "open"
            | "format"
            | "hash"
            | "isinstance"
            | "getattr"
    )
}
