//! The semantic model of one module: imports and aliases, module-level bindings, classes and
//! functions, and where a new import goes.
//!
//! The model is built from per-item [`ItemFacts`] (each extracted from one item's text and cached with
//! it), so an edit inside one item re-extracts only that item's facts; merging them is cheap. Whatever
//! rules need from outside their item must be here, so that "the model did not change" means "the
//! findings of unchanged items did not change".

pub mod apps;
pub mod frameworks;
pub mod secrets;
pub mod validation;

use crate::syntax::NodeExt;
use std::cell::RefCell;
use std::hash::{Hash, Hasher};

use rustc_hash::{FxHashMap, FxHashSet, FxHasher};
use tree_sitter::Node;

use crate::document::{SourceText, TreeView};
use crate::syntax::{self, dotted_path, string_value};

/// A module-level name bound to a value we can describe.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Binding {
    /// `import a.b as x` → `a.b`; `from a import b as x` → `a.b`.
    Import(String),
    /// `x = f(...)`, with `f` written as in the source (resolved through [`Model::resolve_path`]).
    /// `first_str_arg` is the first positional argument when it is a string literal
    /// (`boto3.resource("dynamodb")`).
    Call {
        callee: Vec<String>,
        first_str_arg: Option<String>,
    },
    /// `x = "literal"` at module level (only the fact that it is a literal string, never the value).
    StrLiteral,
    /// `def x` / `class x` at module level.
    Def,
    /// Anything else.
    Other,
}

/// Facts about one class (aggregated from its header and the items of its body).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ClassFact {
    pub name: String,
    /// Base classes as written (`BaseModel`, `pydantic.BaseModel`, `Config`).
    pub bases: Vec<Vec<String>>,
    /// Body assigns `TESTING = True` (or `DEBUG`-style development flags; see [`ClassFact::is_dev_or_test`]).
    pub testing_true: bool,
    /// Annotated fields of the body (`api_key: str`, `token: SecretStr = Field(...)`), in order.
    pub fields: Vec<String>,
    /// The fields of [`ClassFact::fields`] whose annotation is a masked secret type (pydantic's
    /// `SecretStr`/`SecretBytes`, `Optional[SecretStr]`, `SecretStr | None`, aliases included): their
    /// `str()`/`repr()` and dumps show `**********`, only `.get_secret_value()` unmasks them.
    pub masked: Vec<String>,
    /// Class attributes whose last binding in the body is a string literal
    /// (`reset_url_token = "set-password"`): constants of the code (never their values).
    pub str_consts: Vec<String>,
    /// Attributes its methods assign on the instance (`self.api_token = token`).
    pub self_assigned: Vec<String>,
    /// Index of the class that contains this one, if nested.
    pub parent: Option<usize>,
}

impl ClassFact {
    /// A development or test configuration class: named `Dev*`, `Test*`, `Local*` (also `*Dev`,
    /// `*Test`, `*Testing`, `*Development`, `*Local`), or with `TESTING = True` in its body.
    pub fn is_dev_or_test(&self) -> bool {
        if self.testing_true {
            return true;
        }
        let words = syntax::name_words(&self.name);
        words.iter().any(|w| {
            matches!(
                w.as_str(),
                "dev" | "development" | "test" | "tests" | "testing" | "local" | "debug"
            )
        })
    }

    /// The field's annotation is a masked secret type (see [`ClassFact::masked`]).
    pub fn is_masked(&self, field: &str) -> bool {
        self.masked.iter().any(|m| m == field)
    }
}

/// Facts about one function definition (module-level function or method).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FunctionFact {
    pub name: String,
    /// Index into [`Model::classes`] when it is a method.
    pub class: Option<usize>,
    /// Decorator callees as written (`app.get`, `router.post`, `bp.route`, `app.errorhandler`).
    pub decorators: Vec<Vec<String>>,
    pub is_async: bool,
}

/// What one item contributes to the model. Extracted from the item alone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ItemFacts {
    /// (bound name, binding), in order.
    pub bindings: Vec<(String, Binding)>,
    /// Imports of this item: (bound name, qualified module path, is a plain `import x`).
    pub imports: Vec<ImportFact>,
    /// A class header (for class-header items).
    pub class: Option<ClassFact>,
    /// The body of the enclosing class assigns `TESTING = True`.
    pub sets_testing_true: bool,
    /// An annotated class-body field name.
    pub field: Option<String>,
    /// The types its annotation names, as written (`Optional[SecretStr]` → `Optional`,
    /// `SecretStr`); calls and literals inside it (`Field(...)`) are not read.
    pub field_types: Vec<Vec<String>>,
    /// Attributes a method assigns on `self` (`self.api_token = token`), for methods.
    pub self_assigned: Vec<String>,
    /// Functions defined by this item (top-level or method).
    pub functions: Vec<FunctionFact>,
    /// Names registered by call as handlers: `app.register_error_handler(E, f)`,
    /// `app.add_exception_handler(E, f)`, `app.add_url_rule(..., view_func=f)`, `app.add_api_route(.., f)`.
    pub registered_handlers: Vec<(String, HandlerKind)>,
    /// Values this item checks before use (see [`validation::validated_names`]).
    pub validated: Vec<String>,
    /// `NAME = ["A", "B"]`: a name bound to a sequence of string literals.
    pub string_list: Option<(String, Vec<String>)>,
    /// Top-level functions whose `return` is a call, with that call's callee as written
    /// (`def get_table(): return dynamodb.Table("t")` → `("get_table", ["dynamodb", "Table"])`).
    pub returns: Vec<(String, Vec<String>)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImportFact {
    pub bound: String,
    pub qualified: String,
    pub plain: bool,
}

/// The role a function plays for a web framework.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HandlerKind {
    /// A request handler (`@app.route`, `@app.get`, `@bp.post`, `@router.put`, `add_url_rule`).
    Route,
    /// An error handler (`@app.errorhandler`, `@app.exception_handler`, `register_error_handler`).
    ErrorHandler,
}

/// Where import lines stand, for fixes that add one. Not part of the model's fingerprint (these are
/// byte offsets that move with every edit above them).
#[derive(Debug, Clone, Default)]
pub struct ImportLayout {
    /// Byte offset after the module docstring and `__future__` imports (start of the next line).
    pub after_header: usize,
    /// Top-level import statements of the leading import block: (module, plain `import`, line start,
    /// next line start).
    pub block: Vec<(String, bool, usize, usize)>,
}

/// The semantic model of a module.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// Module-level names: the last binding of each wins (as at run time, roughly).
    pub bindings: Bindings,
    /// Plain imports (`import os`, `import os as _os`): bound name → module.
    pub imports: Vec<ImportFact>,
    pub classes: Vec<ClassFact>,
    pub functions: Vec<FunctionFact>,
    pub registered_handlers: Vec<(String, HandlerKind)>,
    /// Names of values checked somewhere in the module (KL102), lists walked by a raising loop
    /// resolved to their strings.
    pub validated: std::collections::BTreeSet<String>,
    pub layout: ImportLayout,
    /// Module-wide data-flow facts (function summaries resolved over the call graph); set by the
    /// analyzer after the rest of the model, see [`super::dataflow`].
    pub dataflow: std::sync::Arc<super::dataflow::Dataflow>,
    /// What module functions return when it is a call (see [`ItemFacts::returns`]), so that
    /// `get_table().put_item` resolves like `dynamodb.Table().put_item`.
    pub function_returns: FxHashMap<String, Vec<String>>,
}

impl Model {
    /// Builds the model from the facts of every item, in document order.
    pub fn from_facts<'f>(facts: impl IntoIterator<Item = (&'f ItemFacts, &'f [usize])>) -> Model {
        let mut model = Model::default();
        let mut lists: FxHashMap<String, Vec<String>> = FxHashMap::default();
        // (class, field, annotation types): resolved once every import is known.
        let mut annotated: Vec<(usize, &String, &Vec<Vec<String>>)> = Vec::new();
        for (f, classes) in facts {
            if let Some(class) = &f.class {
                model.classes.push(class.clone());
            }
            if let Some(&innermost) = classes.last() {
                if let Some(class) = model.classes.get_mut(innermost) {
                    if f.sets_testing_true {
                        class.testing_true = true;
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
                }
            }
            // Class bodies bind class attributes, not module names.
            let in_class = !classes.is_empty() || f.class.is_some();
            for import in &f.imports {
                if !in_class {
                    model.imports.push(import.clone());
                }
            }
            if !in_class {
                for (name, binding) in &f.bindings {
                    model.bindings.insert(name.clone(), binding.clone());
                }
                for (name, callee) in &f.returns {
                    model.function_returns.insert(name.clone(), callee.clone());
                }
            }
            for func in &f.functions {
                let mut func = func.clone();
                func.class = classes.last().copied();
                model.functions.push(func);
            }
            model
                .registered_handlers
                .extend(f.registered_handlers.iter().cloned());
            model.validated.extend(f.validated.iter().cloned());
            if let (Some((name, values)), false) = (&f.string_list, in_class) {
                lists.insert(name.clone(), values.clone());
            }
        }
        let walked: Vec<String> = model
            .validated
            .iter()
            .filter_map(|v| v.strip_prefix('@'))
            .map(str::to_string)
            .collect();
        for name in walked {
            if let Some(values) = lists.get(&name) {
                model.validated.extend(values.iter().cloned());
            }
        }
        for (class, field, types) in annotated {
            if model.is_masked_annotation(types) {
                if let Some(class) = model.classes.get_mut(class) {
                    class.masked.push(field.clone());
                }
            }
        }
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
        self.bindings.fingerprint().hash(&mut h);
        self.dataflow.hash(&mut h);
        self.rest_fingerprint().hash(&mut h);
        h.finish()
    }

    /// A hash of everything rules may read except [`Model::bindings`] and [`Model::dataflow`]
    /// (whose reads are tracked name by name, see [`record_binding_reads`]).
    pub fn rest_fingerprint(&self) -> u64 {
        let mut h = FxHasher::default();
        self.imports.hash(&mut h);
        self.classes.hash(&mut h);
        self.functions.hash(&mut h);
        self.registered_handlers.hash(&mut h);
        self.validated.hash(&mut h);
        let mut returns: Vec<_> = self.function_returns.iter().collect();
        returns.sort();
        returns.hash(&mut h);
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
        let base = match self.bindings.get(head.as_str()) {
            Some(Binding::Import(q)) => q.clone(),
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
        let base = match self.bindings.get(head.as_ref()) {
            Some(Binding::Import(q)) => q.clone(),
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
        self.bindings.get(name)
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
        let def = syntax::definition(def);
        for deco in syntax::decorators(def) {
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
        if let Some(kind) = self.handler_kind(def, src) {
            return Some(kind);
        }
        let def = syntax::definition(def);
        syntax::decorators(def).into_iter().find_map(|deco| {
            let callee = if deco.kind_str() == "call" {
                deco.field("function")?
            } else {
                deco
            };
            let path = dotted_path(callee, src)?;
            let head = path.first()?;
            if self.bindings.contains_key(head) {
                return None;
            }
            handler_kind_of_decorator(&path.join("."))
        })
    }
}

/// The module-level bindings of a [`Model`]: name → binding.
///
/// Every read is recorded while [`record_binding_reads`] runs on this thread (by name for
/// [`get`](Bindings::get) and [`contains_key`](Bindings::contains_key), as "everything" for the
/// iterators), so that the analyzer knows which names an item's findings depend on: typing a new
/// module-level name (`P`, `PA`, `PAS`…) re-checks only the items that looked that name up.
#[derive(Debug, Clone, Default)]
pub struct Bindings {
    map: FxHashMap<String, Binding>,
}

impl Bindings {
    pub fn get(&self, name: &str) -> Option<&Binding> {
        note_read(name);
        self.map.get(name)
    }

    pub fn contains_key(&self, name: &str) -> bool {
        note_read(name);
        self.map.contains_key(name)
    }

    /// Every bound name (an item that lists them depends on all bindings).
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        note_all();
        self.map.keys()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Binding)> {
        note_all();
        self.map.iter()
    }

    pub fn len(&self) -> usize {
        note_all();
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn insert(&mut self, name: String, binding: Binding) -> Option<Binding> {
        self.map.insert(name, binding)
    }

    /// A hash of the binding of `name` (or of its absence), not recorded as a read.
    pub fn hash_of(&self, name: &str) -> u64 {
        let mut h = FxHasher::default();
        self.map.get(name).hash(&mut h);
        h.finish()
    }

    /// A hash of every binding, independent of the map's order; not recorded as a read.
    pub fn fingerprint(&self) -> u64 {
        let mut sum = 0u64;
        for entry in &self.map {
            let mut h = FxHasher::default();
            entry.hash(&mut h);
            // Mix so that a sum of entries cannot cancel out trivially.
            sum = sum.wrapping_add(h.finish().wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5555);
        }
        let mut h = FxHasher::default();
        (self.map.len(), sum).hash(&mut h);
        h.finish()
    }
}

/// What an analysis step read of the module model while [`record_binding_reads`] ran: binding
/// names, and resolved data-flow facts by name.
#[derive(Debug, Default)]
pub struct BindingReads {
    /// Something listed every binding: the reader depends on all of them.
    pub all: bool,
    pub names: FxHashSet<String>,
    /// The data-flow facts read ([`Dataflow::function`](super::dataflow::Dataflow::function),
    /// [`Dataflow::global`](super::dataflow::Dataflow::global)).
    pub flow: FlowReads,
}

/// The resolved data-flow facts read, by name (see [`BindingReads`]).
#[derive(Debug, Default)]
pub struct FlowReads {
    /// Something listed every fact: the reader depends on all of them.
    pub all: bool,
    /// `(is_global, name)`: a module-level name's key material, or a function's facts.
    pub names: FxHashSet<(bool, String)>,
}

impl BindingReads {
    /// Adds these reads to `outer` (a nested recording counts for the enclosing one too).
    fn merge_into(&self, outer: &mut BindingReads) {
        if self.all {
            outer.all = true;
            outer.names.clear();
        } else if !outer.all {
            outer.names.extend(self.names.iter().cloned());
        }
        if self.flow.all {
            outer.flow.all = true;
            outer.flow.names.clear();
        } else if !outer.flow.all {
            outer.flow.names.extend(self.flow.names.iter().cloned());
        }
    }
}

thread_local! {
    static READS: RefCell<Option<BindingReads>> = const { RefCell::new(None) };
}

/// Runs `note` on the recorder of this thread, if one is recording.
fn with_recorder(note: impl FnOnce(&mut BindingReads)) {
    READS.with(|r| {
        if let Ok(mut r) = r.try_borrow_mut() {
            if let Some(r) = r.as_mut() {
                note(r);
            }
        }
    });
}

fn note_read(name: &str) {
    with_recorder(|r| {
        if !r.all && !r.names.contains(name) {
            r.names.insert(name.to_owned());
        }
    });
}

fn note_all() {
    with_recorder(|r| {
        r.all = true;
        r.names.clear();
    });
}

/// Records a read of the data-flow facts of `name` (a function, or a global when `global`).
pub(crate) fn note_flow_read(global: bool, name: &str) {
    with_recorder(|r| {
        if !r.flow.all {
            let key = (global, name.to_owned());
            if !r.flow.names.contains(&key) {
                r.flow.names.insert(key);
            }
        }
    });
}

/// Records that every data-flow fact was read.
pub(crate) fn note_flow_all() {
    with_recorder(|r| {
        r.flow.all = true;
        r.flow.names.clear();
    });
}

/// Runs `f` and returns, with its result, what it read of the model (on this thread): the names of
/// [`Model::bindings`] and the data-flow facts. Nested calls also count as reads of the enclosing
/// one.
pub fn record_binding_reads<R>(f: impl FnOnce() -> R) -> (R, BindingReads) {
    struct Restore(Option<BindingReads>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let outer = self.0.take();
            READS.with(|r| {
                let mut r = r.borrow_mut();
                let inner = std::mem::replace(&mut *r, outer);
                if let (Some(outer), Some(inner)) = (r.as_mut(), inner) {
                    inner.merge_into(outer);
                }
            });
        }
    }
    let outer = READS.with(|r| r.borrow_mut().replace(BindingReads::default()));
    let mut restore = Restore(outer);
    let result = f();
    // Take this call's reads, then let `restore` put the outer recorder back (merging nothing).
    let reads = READS
        .with(|r| r.borrow_mut().replace(BindingReads::default()))
        .unwrap_or_default();
    if let Some(outer) = restore.0.as_mut() {
        reads.merge_into(outer);
    }
    drop(restore);
    (result, reads)
}

/// Route or error handler, from a decorator's qualified callee.
pub fn handler_kind_of_decorator(qualified: &str) -> Option<HandlerKind> {
    let (object, method) = qualified.rsplit_once('.')?;
    let app_like = object.ends_with("()")
        && [
            "flask.Flask()",
            "flask.Blueprint()",
            "fastapi.FastAPI()",
            "fastapi.APIRouter()",
            "fastapi.routing.APIRouter()",
            "flask.blueprints.Blueprint()",
            "quart.Quart()",
            "starlette.applications.Starlette()",
        ]
        .iter()
        .any(|known| object == *known || object.ends_with(&format!(".{known}")));
    // An app object we cannot resolve (passed in, created by a factory) still counts when the
    // decorator's shape is unmistakable.
    let looks_like_app = app_like || object.ends_with(".app") || object == "app";
    if !looks_like_app && !app_like {
        return None;
    }
    match method {
        "route" | "get" | "post" | "put" | "patch" | "delete" | "head" | "options"
        | "api_route" | "websocket" => Some(HandlerKind::Route),
        "errorhandler" | "exception_handler" | "app_errorhandler" => {
            Some(HandlerKind::ErrorHandler)
        }
        _ => None,
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

/// Extracts the facts of one item. `node` is a top-level statement, a class-body statement, or a
/// class header (`header == true`: only the class name and bases are read).
pub fn item_facts(item: &crate::syntax::Item, src: SourceText) -> ItemFacts {
    let (node, header) = (item.node, item.header);
    let mut facts = ItemFacts::default();
    if header {
        let class = syntax::definition(node);
        let name = class
            .field("name")
            .map(|n| src.node_text(n).into_owned())
            .unwrap_or_default();
        let mut bases = Vec::new();
        if let Some(args) = class.field("superclasses") {
            let mut cursor = args.walk();
            for arg in args.named_children(&mut cursor) {
                if let Some(path) = dotted_path(arg, src) {
                    bases.push(path);
                }
            }
        }
        facts.class = Some(ClassFact {
            name: name.clone(),
            bases,
            ..ClassFact::default()
        });
        facts.bindings.push((name, Binding::Def));
        return facts;
    }
    collect_statement(item, node, src, &mut facts);
    facts.validated = validation::validated_names(item.nodes().walk(), src);
    if node.kind_str() == "expression_statement" {
        facts.string_list = validation::string_list(node, src);
    }
    facts
}

/// Facts of one statement; compound statements at module level (`if`, `try`, `with`) are looked
/// into, function bodies are not.
fn collect_statement<'t>(
    item: &crate::syntax::Item<'t>,
    node: Node<'t>,
    src: SourceText,
    facts: &mut ItemFacts,
) {
    match node.kind_str() {
        "import_statement" => {
            let mut cursor = node.walk();
            for name in node.children_by_field_name("name", &mut cursor) {
                match name.kind_str() {
                    "dotted_name" => {
                        let path = dotted_path(name, src).unwrap_or_default();
                        if let Some(first) = path.first() {
                            // `import a.b` binds `a`.
                            facts.imports.push(ImportFact {
                                bound: first.clone(),
                                qualified: first.clone(),
                                plain: true,
                            });
                            facts
                                .bindings
                                .push((first.clone(), Binding::Import(first.clone())));
                        }
                    }
                    "aliased_import" => {
                        let path = name
                            .field("name")
                            .and_then(|n| dotted_path(n, src))
                            .unwrap_or_default()
                            .join(".");
                        if let Some(alias) = name.field("alias") {
                            let alias = src.node_text(alias).into_owned();
                            facts.imports.push(ImportFact {
                                bound: alias.clone(),
                                qualified: path.clone(),
                                plain: true,
                            });
                            facts.bindings.push((alias, Binding::Import(path)));
                        }
                    }
                    _ => {}
                }
            }
        }
        "import_from_statement" => {
            let module = node
                .field("module_name")
                .map(|m| {
                    if m.kind_str() == "relative_import" {
                        src.node_text(m).into_owned()
                    } else {
                        dotted_path(m, src).unwrap_or_default().join(".")
                    }
                })
                .unwrap_or_default();
            let mut cursor = node.walk();
            for name in node.children_by_field_name("name", &mut cursor) {
                let (orig, bound) = match name.kind_str() {
                    "dotted_name" => {
                        let p = dotted_path(name, src).unwrap_or_default().join(".");
                        (p.clone(), p)
                    }
                    "aliased_import" => {
                        let orig = name
                            .field("name")
                            .and_then(|n| dotted_path(n, src))
                            .unwrap_or_default()
                            .join(".");
                        let alias = name
                            .field("alias")
                            .map(|a| src.node_text(a).into_owned())
                            .unwrap_or_else(|| orig.clone());
                        (orig, alias)
                    }
                    _ => continue,
                };
                let qualified = format!("{module}.{orig}");
                facts.imports.push(ImportFact {
                    bound: bound.clone(),
                    qualified: qualified.clone(),
                    plain: false,
                });
                facts.bindings.push((bound, Binding::Import(qualified)));
            }
        }
        "expression_statement" => {
            let mut cursor = node.walk();
            for child in node.named_children(&mut cursor) {
                match child.kind_str() {
                    "assignment" => collect_assignment(child, src, facts),
                    "call" => collect_registration(child, src, facts),
                    _ => {}
                }
            }
        }
        "function_definition" | "decorated_definition" | "class_definition" => {
            let def = syntax::definition(node);
            if let Some(name) = def.field("name") {
                let name = src.node_text(name).into_owned();
                if def.kind_str() == "function_definition" {
                    let decorators = syntax::decorators(def)
                        .into_iter()
                        .filter_map(|d| {
                            let callee = if d.kind_str() == "call" {
                                d.field("function")?
                            } else {
                                d
                            };
                            dotted_path(callee, src)
                        })
                        .collect();
                    let is_async = def
                        .child(0)
                        .is_some_and(|first| src.node_text(first) == "async");
                    facts.functions.push(FunctionFact {
                        name: name.clone(),
                        class: None,
                        decorators,
                        is_async,
                    });
                    if let Some(callee) = returned_callee(item, def, src) {
                        facts.returns.push((name.clone(), callee));
                    }
                    facts.self_assigned = self_assigned(item, def, src);
                    // Handlers registered inside an app factory (`def create_app(): …
                    // app.register_error_handler(500, on_error)`).
                    if let Some(body) = def.field("body") {
                        let mut walk = item.descendants(body);
                        while let Some(n) = walk.next() {
                            match n.kind_str() {
                                "function_definition" | "class_definition" | "lambda" => {
                                    walk.skip_children()
                                }
                                "call" => {
                                    let registers = n
                                        .field("function")
                                        .filter(|f| f.kind_str() == "attribute")
                                        .and_then(|f| f.field("attribute"))
                                        .is_some_and(|a| {
                                            matches!(
                                                src.node_text(a).as_ref(),
                                                "register_error_handler"
                                                    | "add_exception_handler"
                                                    | "add_url_rule"
                                                    | "add_api_route"
                                                    | "add_route"
                                            )
                                        });
                                    if registers {
                                        collect_registration(n, src, facts);
                                    }
                                }
                                _ => {}
                            }
                        }
                    }
                }
                facts.bindings.push((name, Binding::Def));
            }
        }
        "if_statement" | "try_statement" | "with_statement" | "else_clause" | "elif_clause"
        | "except_clause" | "finally_clause" | "block" => {
            let mut cursor = node.walk();
            for child in node.named_children(&mut cursor) {
                if matches!(
                    child.kind_str(),
                    "block" | "else_clause" | "elif_clause" | "except_clause" | "finally_clause"
                ) || child.parent().is_some_and(|p| p.kind_str() == "block")
                {
                    collect_statement(item, child, src, facts);
                }
            }
        }
        _ => {}
    }
}

fn collect_assignment(assign: Node, src: SourceText, facts: &mut ItemFacts) {
    let Some(left) = assign.field("left") else {
        return;
    };
    // A class-body field annotation: `api_key: str` / `api_key: str = Field(...)`.
    if let (Some(ty), "identifier") = (assign.field("type"), left.kind_str()) {
        facts.field = Some(src.node_text(left).into_owned());
        facts.field_types = annotation_types(ty, src);
    }
    let Some(right) = assign.field("right") else {
        return;
    };
    if left.kind_str() != "identifier" {
        return;
    }
    let name = src.node_text(left).into_owned();
    if name == "TESTING" && src.node_text(right) == "True" {
        facts.sets_testing_true = true;
    }
    let right = syntax::unparenthesize(right);
    let binding = match right.kind_str() {
        "call" => match right.field("function") {
            Some(f) => {
                let callee = callee_path(f, src);
                let first_str_arg = syntax::positional_args(right)
                    .first()
                    .and_then(|a| string_value(*a, src));
                match callee {
                    Some(callee) => Binding::Call {
                        callee,
                        first_str_arg,
                    },
                    None => Binding::Other,
                }
            }
            None => Binding::Other,
        },
        "string" | "concatenated_string" => Binding::StrLiteral,
        _ => Binding::Other,
    };
    facts.bindings.push((name, binding));
}

/// The attributes a method assigns on its instance (`self.api_token = …`, `self.n += 1`), when
/// its first parameter is `self`.
fn self_assigned<'t>(
    item: &crate::syntax::Item<'t>,
    def: Node<'t>,
    src: SourceText,
) -> Vec<String> {
    let first = def.field("parameters").and_then(|p| p.named_child(0));
    let receiver = match first {
        Some(p) if p.kind() == "identifier" => src.node_text(p),
        _ => return Vec::new(),
    };
    if receiver != "self" {
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::new();
    let Some(body) = def.field("body") else {
        return out;
    };
    for n in item.descendants(body) {
        if !matches!(n.kind_str(), "assignment" | "augmented_assignment") {
            continue;
        }
        let Some(left) = n.field("left") else {
            continue;
        };
        let targets: Vec<Node> = if left.kind() == "attribute" {
            vec![left]
        } else {
            let mut cursor = left.walk();
            left.named_children(&mut cursor).collect()
        };
        for t in targets {
            if t.kind() != "attribute" {
                continue;
            }
            let (Some(obj), Some(attr)) = (t.field("object"), t.field("attribute")) else {
                continue;
            };
            if src.node_text(obj) == "self" {
                let attr = src.node_text(attr).into_owned();
                if !out.contains(&attr) {
                    out.push(attr);
                }
            }
        }
    }
    out
}

/// The types an annotation names, as written: every name or dotted name outside calls and
/// literals (`Annotated[Optional[SecretStr], Field(min_length=8)]` → `Annotated`, `Optional`,
/// `SecretStr`).
fn annotation_types(ty: Node, src: SourceText) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut walk = syntax::descendants(ty);
    while let Some(n) = walk.next() {
        match n.kind() {
            "call" | "string" | "concatenated_string" | "keyword_argument" => walk.skip_children(),
            "identifier" | "attribute" => {
                if let Some(path) = dotted_path(n, src) {
                    out.push(path);
                    walk.skip_children();
                }
            }
            _ => {}
        }
    }
    out
}

/// The callee of a call as a path, looking through inner calls: `boto3.resource("x").Table` →
/// `["boto3", "resource()", "Table"]` is flattened to `["boto3.resource()", "Table"]`'s resolution
/// order by [`Model::resolve_path`], which sees `resource()` as a plain part.
fn callee_path(node: Node, src: SourceText) -> Option<Vec<String>> {
    match node.kind_str() {
        "identifier" => Some(vec![src.node_text(node).into_owned()]),
        "attribute" => {
            let mut p = callee_path(node.field("object")?, src)?;
            p.push(src.node_text(node.field("attribute")?).into_owned());
            Some(p)
        }
        "call" => {
            let mut p = callee_path(node.field("function")?, src)?;
            let last = p.pop()?;
            p.push(format!("{last}()"));
            Some(p)
        }
        _ => None,
    }
}

/// The callee of the call a function returns (`return boto3.resource("dynamodb").Table(name)`),
/// when every `return` of its own body returns a call to the same callee.
fn returned_callee<'t>(
    item: &crate::syntax::Item<'t>,
    def: Node<'t>,
    src: SourceText,
) -> Option<Vec<String>> {
    let body = def.field("body")?;
    let mut found: Option<Vec<String>> = None;
    let mut walk = item.descendants(body);
    while let Some(n) = walk.next() {
        match n.kind_str() {
            "function_definition" | "class_definition" | "lambda" => walk.skip_children(),
            "return_statement" => {
                let value = syntax::unparenthesize(n.named_child(0)?);
                if value.kind_str() != "call" {
                    return None;
                }
                let callee = callee_path(value.field("function")?, src)?;
                match &found {
                    Some(f) if *f != callee => return None,
                    _ => found = Some(callee),
                }
            }
            _ => {}
        }
    }
    found
}

fn collect_registration(call: Node, src: SourceText, facts: &mut ItemFacts) {
    let Some(f) = call.field("function") else {
        return;
    };
    let Some(path) = dotted_path(f, src) else {
        return;
    };
    let Some(method) = path.last() else { return };
    let args = syntax::positional_args(call);
    let name_of = |n: Option<&Node>| {
        n.filter(|n| n.kind_str() == "identifier")
            .map(|n| src.node_text(*n).into_owned())
    };
    match method.as_str() {
        "register_error_handler" | "add_exception_handler" => {
            if let Some(name) = name_of(args.get(1)) {
                facts
                    .registered_handlers
                    .push((name, HandlerKind::ErrorHandler));
            }
        }
        "add_url_rule" | "add_api_route" | "add_route" => {
            let view = syntax::keyword_arg(call, "view_func", src)
                .or_else(|| syntax::keyword_arg(call, "endpoint", src))
                .or_else(|| {
                    args.get(if method == "add_url_rule" { 2 } else { 1 })
                        .copied()
                });
            if let Some(name) = name_of(view.as_ref()) {
                facts.registered_handlers.push((name, HandlerKind::Route));
            }
        }
        _ => {}
    }
}

/// Computes where imports stand: after the docstring and `__future__` imports, and the leading
/// block of import statements.
pub fn import_layout(tree: TreeView, src: SourceText) -> ImportLayout {
    import_layout_read(tree, src).0
}

/// [`import_layout`], with what it read: how many top-level statements (from the first), and the
/// text up to which byte, excluded (a line start reads the byte after it: `\r\n` is one break).
/// `usize::MAX` when it read every statement or up to the end of the text: then it depends on
/// there being nothing more.
pub(super) fn import_layout_read(tree: TreeView, src: SourceText) -> (ImportLayout, usize, usize) {
    let mut layout = ImportLayout::default();
    let root = tree.root();
    let (mut read, mut stopped) = ((0, usize::MAX), false);
    let mut cursor = root.walk();
    let mut seen_code = false;
    let statements = root
        .named_children(&mut cursor)
        .flat_map(|n| tree.statements(n));
    for (i, stmt) in statements.enumerate() {
        let next_line = src.line_start(src.line_of(stmt.end_byte()) + 1);
        read = (
            i + 1,
            if next_line < src.len() {
                next_line + 1
            } else {
                usize::MAX
            },
        );
        match stmt.kind_str() {
            "comment" => continue,
            "expression_statement"
                if i == 0 || !seen_code && is_docstring(stmt) && layout.after_header == 0 =>
            {
                if is_docstring(stmt) {
                    layout.after_header = next_line;
                    continue;
                }
                stopped = true;
                break;
            }
            "future_import_statement" => {
                layout.after_header = next_line;
            }
            "import_statement" | "import_from_statement" => {
                let module = stmt
                    .field(if stmt.kind_str() == "import_statement" {
                        "name"
                    } else {
                        "module_name"
                    })
                    .map(|n| {
                        let n = if n.kind_str() == "aliased_import" {
                            n.field("name").unwrap_or(n)
                        } else {
                            n
                        };
                        src.node_text(n).into_owned()
                    })
                    .unwrap_or_default();
                let start = src.line_start(src.line_of(stmt.start_byte()));
                layout.block.push((
                    module,
                    stmt.kind_str() == "import_statement",
                    start,
                    next_line,
                ));
            }
            _ => {
                stopped = true;
                break;
            }
        }
        seen_code = true;
    }
    if !stopped {
        read.1 = usize::MAX;
    }
    (layout, read.0, read.1)
}

fn is_docstring(stmt: Node) -> bool {
    stmt.kind_str() == "expression_statement"
        && stmt.named_child_count() == 1
        && stmt
            .named_child(0)
            .is_some_and(|c| c.kind_str() == "string")
}

impl Hash for Model {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.fingerprint());
    }
}
