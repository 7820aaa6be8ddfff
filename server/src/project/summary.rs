//! What the project model keeps of one module: its imports and the local data-flow summaries of
//! its functions, methods and module-level statements (no tree).

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::dataflow::FnFlow;
use crate::document::{SourceText, TreeView};
use crate::model::Model;
use crate::syntax::NodeExt;

/// The summary of one module.
#[derive(Debug, Clone, Default)]
pub struct ModuleSummary {
    /// Names bound by imports at module level → the import path (`save_client` →
    /// `.store.save_client`, `db` → `app.db`), as [`crate::model::Binding::Import`] has them.
    pub imports: Vec<(String, String)>,
    /// Modules imported with `from … import *` (`.store`).
    pub star_imports: Vec<String>,
    /// The local data-flow summaries of each item, with the item's start (see
    /// [`Self::flows`]): shared with the analyzer's cache, so that the summary of an open module
    /// is made on every keystroke without copying its hundreds of flows.
    items: Vec<(Arc<Vec<FnFlow>>, usize)>,
    /// The names of the functions and methods of `flows`, sorted (what [`Self::defines_function`]
    /// searches). Shared with the summary before while the items name the same functions
    /// ([`Self::new_like`]): a keystroke in a body does not sort the module's names again.
    functions: SortedNames,
    /// The module-level names its module statements bind, sorted (what [`Self::defines_global`]
    /// searches); shared like `functions`.
    globals: SortedNames,
    /// Its top-level classes that another module may read facts of (PynamoDB models, and
    /// classes with a base imported from outside the frameworks: one may inherit from a model of
    /// the project), sorted by name.
    pub classes: Vec<ClassSummary>,
    /// Its module-level DynamoDB objects made by a call (`table =
    /// boto3.resource("dynamodb").Table("t")`), with the call as the module resolves it
    /// (`boto3.resource().Table()`), sorted by name.
    pub handles: Vec<(String, String)>,
    /// Its module functions that return (or yield) an instance of a class, with that class as
    /// the module knows it: a class of the module by name (`KeyRepository`), one of another
    /// module by its import path (`.repository.KeyRepository`); sorted by function name. Another
    /// module's `get_repo().save` resolves through it.
    pub factories: Vec<(String, String)>,
    /// The classes it loads as its Flask configuration (`app.config.from_object(…)`, see
    /// [`crate::model::ItemFacts::config_loads`]) that may lie in another module: an import path
    /// (`.config.DevelopmentConfig` after `from .config import DevelopmentConfig` or `from .
    /// import config`) or the dotted name of a string literal (`app.config.ProductionConfig`), in
    /// order. A class of its own module loaded by name is the module's own fact.
    pub loaded_configs: Vec<String>,
    /// The byte range of the `from_object(…)` call of each of [`Self::loaded_configs`] (same
    /// order): the related place of a finding at the loaded class.
    pub loaded_config_sites: Vec<std::ops::Range<usize>>,
    /// Its module-level mappings of configuration classes (`config = {"dev": DevConfig, …}`, see
    /// [`crate::model::ItemFacts::class_map`]), sorted by name, each value a class of the module
    /// by name (`DevConfig`) or an import or dotted path (`.settings.DevConfig`,
    /// `app.config.DevConfig`): what `from_object(config[name])` loads in a module that imports
    /// the mapping (a loaded path ending in `[]`, [`Self::loaded_configs`]).
    pub class_maps: Vec<(String, Vec<String>)>,
    /// Its module-level names bound to an instance of a class (`repo = KeyRepository(table)`),
    /// with the class as [`Self::factories`] has it, sorted by name: another module's
    /// `repo.save` (imported, or handed out by a factory: `def get_repo(): return repo`)
    /// resolves through it.
    pub instances: Vec<(String, String)>,
}

/// Sorted names, shared from summary to summary (see [`ModuleSummary::new_like`]).
type SortedNames = Arc<Vec<String>>;

/// At most this many items differ (taken out and put in) for [`ModuleSummary::names_patched`];
/// more, and the names are sorted again from every item.
const PATCHED_ITEMS: usize = 32;

/// `sorted` (the sorted, deduplicated names `names` gives of the items `gone` and of the
/// `shared` ones) for the items `came` instead of `gone`: shared when no name changes.
fn patch_sorted<'a, I: Iterator<Item = &'a (Arc<Vec<FnFlow>>, usize)>>(
    sorted: &SortedNames,
    gone: &'a [(Arc<Vec<FnFlow>>, usize)],
    came: &'a [(Arc<Vec<FnFlow>>, usize)],
    shared: impl Fn() -> I,
    names: impl Fn(&'a FnFlow, &mut Vec<&'a str>),
) -> SortedNames {
    let of = |items: &'a [(Arc<Vec<FnFlow>>, usize)]| {
        let mut out: Vec<&'a str> = Vec::new();
        for f in items.iter().flat_map(|(fs, _)| fs.iter()) {
            names(f, &mut out);
        }
        out.sort_unstable();
        out.dedup();
        out
    };
    let came = of(came);
    let mut gone = of(gone);
    gone.retain(|n| came.binary_search(n).is_err());
    if !gone.is_empty() {
        // A name the shared items still have stays.
        let mut still: Vec<&str> = Vec::new();
        for f in shared().flat_map(|(fs, _)| fs.iter()) {
            still.clear();
            names(f, &mut still);
            gone.retain(|n| !still.contains(n));
            if gone.is_empty() {
                break;
            }
        }
    }
    let added: Vec<&str> = came
        .into_iter()
        .filter(|n| sorted.binary_search_by(|s| s.as_str().cmp(n)).is_err())
        .collect();
    if gone.is_empty() && added.is_empty() {
        return sorted.clone();
    }
    let mut out: Vec<String> = Vec::with_capacity(sorted.len() + added.len() - gone.len());
    let mut added = added.into_iter().peekable();
    for s in sorted.iter() {
        while let Some(a) = added.next_if(|a| *a < s.as_str()) {
            out.push(a.to_string());
        }
        if gone.binary_search(&s.as_str()).is_err() {
            out.push(s.clone());
        }
    }
    out.extend(added.map(str::to_string));
    Arc::new(out)
}

/// The value of `name` in `pairs` (sorted by name).
fn lookup<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .binary_search_by(|(n, _)| n.as_str().cmp(name))
        .ok()
        .map(|i| pairs[i].1.as_str())
}

/// What the project model keeps of a class of a module (see [`ModuleSummary::classes`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ClassSummary {
    pub name: String,
    /// One of its bases resolves to `pynamodb.models.Model` in its module.
    pub pynamo: bool,
    /// Its fields (PynamoDB attributes, annotated fields), in order.
    pub fields: Vec<String>,
    /// Its bases bound by imports, as import paths (`.base.BaseModel`): a class of another module
    /// it may inherit facts from.
    pub imported_bases: Vec<String>,
}

/// The module-level names of `model` bound to a DynamoDB object made by a call
/// ([`ModuleSummary::handles`]).
fn handles(model: &Model) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = model
        .bindings()
        .iter()
        .filter(|(_, b)| matches!(b, crate::model::Binding::Call { .. }))
        .filter_map(|(name, _)| {
            let q = model.resolve_path(std::slice::from_ref(name))?;
            crate::model::frameworks::is_dynamodb_receiver(Some(&q), "").then(|| (name.clone(), q))
        })
        .collect();
    out.sort();
    out
}

/// The class a call of `callee` (as written in `model`'s module) makes: a top-level class of the
/// module by name, a class of another module by its import path (a capitalised name reached
/// through an import), or what a module function it calls returns.
fn made_class(model: &Model, callee: &[String], depth: usize) -> Option<String> {
    use crate::model::Binding;
    if depth > 8 {
        return None;
    }
    let head = callee.first()?;
    // `return repo`: the module-level instance `repo` (`repo = Repo(table)`), or one imported
    // from another module (its import path: the project resolves its methods there).
    if let (Some(name), 1) = (head.strip_prefix('='), callee.len()) {
        return match model.binding(name)? {
            Binding::Call { callee, .. } => made_class(model, callee, depth + 1),
            Binding::Import(q) => {
                let top = q.trim_start_matches('.').split('.').next().unwrap_or("");
                (!crate::model::frameworks::is_framework_package(top)).then(|| q.clone())
            }
            _ => None,
        };
    }
    match model.binding(head) {
        Some(Binding::Import(_)) => {
            if !callee.last()?.starts_with(|c: char| c.is_ascii_uppercase()) {
                return None;
            }
            let q = model.resolve_path(callee)?;
            (!crate::model::frameworks::is_framework_package(q.split('.').next().unwrap_or("")))
                .then_some(q)
        }
        None | Some(Binding::Def) if callee.len() == 1 => {
            if let Some(inner) = model.function_returns.get(head) {
                return made_class(model, inner, depth + 1);
            }
            model
                .classes
                .iter()
                .any(|c| c.name == *head && c.parent.is_none())
                .then(|| head.clone())
        }
        _ => None,
    }
}

/// The module-level names of `model` bound to an instance of a class ([`ModuleSummary::instances`]).
fn instances(model: &Model) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = model
        .bindings()
        .iter()
        .filter_map(|(name, b)| match b {
            crate::model::Binding::Call { callee, .. } => {
                Some((name.clone(), made_class(model, callee, 0)?))
            }
            _ => None,
        })
        .collect();
    out.sort();
    out
}

/// The module functions of `model` that return an instance of a class ([`ModuleSummary::factories`]).
fn factories(model: &Model) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = model
        .function_returns
        .iter()
        .filter(|(name, _)| matches!(model.binding(name), Some(crate::model::Binding::Def)))
        .filter_map(|(name, callee)| Some((name.clone(), made_class(model, callee, 0)?)))
        .collect();
    out.sort();
    out
}

/// The classes `model` loads as its Flask configuration from other modules (or by a string
/// naming its own module) ([`ModuleSummary::loaded_configs`]), each with the byte range of the
/// `from_object(…)` call that loads it ([`ModuleSummary::loaded_config_sites`]). The calls are
/// looked for in `root` only when the model has a load.
fn loaded_configs(
    model: &Model,
    root: tree_sitter::Node,
    src: SourceText,
) -> (Vec<String>, Vec<std::ops::Range<usize>>) {
    use crate::model::Binding;
    let resolve = |l: &str| {
        if let Some(dotted) = l.strip_prefix('"') {
            return Some(dotted.to_string());
        }
        // A mapping imported from another module (`from .config import config`): the
        // mapping's path, behind which the project reads its classes.
        if let Some(map) = l.strip_prefix('[') {
            let path: Vec<String> = map.split('.').map(str::to_string).collect();
            return matches!(model.binding(&path[0]), Some(Binding::Import(_)))
                .then(|| model.resolve_path(&path))
                .flatten()
                .map(|q| format!("{q}[]"));
        }
        let path: Vec<String> = l.split('.').map(str::to_string).collect();
        matches!(model.binding(&path[0]), Some(Binding::Import(_)))
            .then(|| model.resolve_path(&path))
            .flatten()
            .filter(|q| {
                !crate::model::frameworks::is_framework_package(q.split('.').next().unwrap_or(""))
            })
    };
    let mut paths = Vec::new();
    let mut sites = Vec::new();
    if model.config_loads.is_empty() {
        return (paths, sites);
    }
    for (load, site) in crate::model::config_load_sites(root, src) {
        let expanded = match load.strip_prefix('[').and_then(|m| model.class_maps.get(m)) {
            Some(values) => values.clone(),
            None => vec![load],
        };
        for l in expanded {
            if let Some(p) = resolve(&l) {
                paths.push(p);
                sites.push(site.clone());
            }
        }
    }
    (paths, sites)
}

/// The mappings of configuration classes of `model` ([`ModuleSummary::class_maps`]).
fn class_maps(model: &Model) -> Vec<(String, Vec<String>)> {
    use crate::model::Binding;
    if model.class_maps.is_empty() {
        return Vec::new();
    }
    let mut out: Vec<(String, Vec<String>)> = model
        .class_maps
        .iter()
        .map(|(name, values)| {
            let values = values
                .iter()
                .filter_map(|v| {
                    if let Some(dotted) = v.strip_prefix('"') {
                        return Some(dotted.to_string());
                    }
                    let path: Vec<String> = v.split('.').map(str::to_string).collect();
                    match model.binding(&path[0]) {
                        Some(Binding::Import(_)) => model.resolve_path(&path),
                        _ if path.len() == 1 => Some(v.clone()),
                        _ => None,
                    }
                })
                .collect();
            (name.clone(), values)
        })
        .collect();
    out.sort();
    out
}

/// The classes of `model` another module may read facts of ([`ModuleSummary::classes`]).
fn class_summaries(model: &Model) -> Vec<ClassSummary> {
    let mut out: Vec<ClassSummary> = Vec::new();
    for c in model.classes.iter().filter(|c| c.parent.is_none()) {
        let mut pynamo = false;
        let mut imported_bases = Vec::new();
        for b in &c.bases {
            let Some(q) = model.resolve_path(b) else {
                continue;
            };
            if crate::model::frameworks::is_pynamo_model_base(&q) {
                pynamo = true;
            } else if matches!(
                b.first().and_then(|h| model.binding(h)),
                Some(crate::model::Binding::Import(_))
            ) && !crate::model::frameworks::is_framework_package(
                q.split('.').next().unwrap_or(""),
            ) && b
                .last()
                .is_some_and(|l| l.starts_with(|ch: char| ch.is_ascii_uppercase()))
            {
                imported_bases.push(q);
            }
        }
        // A configuration class another module may load (`app.config.from_object(…)`): KL301
        // and KL101 read in its module whether one does.
        let config = c.debug_true || c.is_dev_or_test();
        if !pynamo && imported_bases.is_empty() && !config {
            continue;
        }
        // The last class of a name wins, as at run time.
        out.retain(|k| k.name != c.name);
        out.push(ClassSummary {
            name: c.name.clone(),
            pynamo,
            fields: c.fields.clone(),
            imported_bases,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Drops the spare capacity of a flow's vectors and strings.
fn compact(f: &mut FnFlow) {
    f.name.shrink_to_fit();
    f.params.shrink_to_fit();
    f.params.iter_mut().for_each(String::shrink_to_fit);
    f.sources.shrink_to_fit();
    f.calls.shrink_to_fit();
    for c in &mut f.calls {
        c.callee.shrink_to_fit();
        c.args.shrink_to_fit();
        c.args.iter_mut().for_each(|t| t.0.shrink_to_fit());
        c.kwargs.shrink_to_fit();
        for (k, t) in &mut c.kwargs {
            k.shrink_to_fit();
            t.0.shrink_to_fit();
        }
    }
    f.sinks.shrink_to_fit();
    for s in &mut f.sinks {
        s.taint.0.shrink_to_fit();
        s.parts.shrink_to_fit();
    }
    f.ret.0.shrink_to_fit();
    f.globals.shrink_to_fit();
    f.globals.iter_mut().for_each(String::shrink_to_fit);
    f.scans.shrink_to_fit();
    f.defines.shrink_to_fit();
    f.validations.shrink_to_fit();
}

impl ModuleSummary {
    /// The summary of an analysed module: `flows` from [`crate::engine::Analyzer::flows`],
    /// `model` its model, `tree` and `src` its tree and text (for `import *`).
    pub fn new<'f>(
        items: impl IntoIterator<Item = (&'f Arc<Vec<FnFlow>>, usize)>,
        model: &Model,
        tree: TreeView,
        src: SourceText,
    ) -> Self {
        Self::new_like(None, items, model, tree, src, None)
    }

    /// The node kind of a `from … import …` statement (what [`Self::new_like`]'s `from_imports`
    /// are the starts of).
    pub fn from_import_kind() -> u16 {
        static KIND: std::sync::LazyLock<u16> = std::sync::LazyLock::new(|| {
            tree_sitter::Language::from(tree_sitter_python::LANGUAGE)
                .id_for_node_kind("import_from_statement", true)
        });
        *KIND
    }

    /// [`Self::new`], sharing the sorted names of `old` (the module's summary before this
    /// analysis) when the items name the same functions and globals as its items: what a
    /// keystroke in a function body costs here is in proportion to the items it changed (and
    /// the module's imports and classes), not to the module's functions (issue #14).
    /// `from_imports`: the starts of the module's top-level `from … import …` statements
    /// ([`crate::engine::Analyzer::top_level_starts`] of [`Self::from_import_kind`]), where its
    /// `import *`s are looked for instead of walking every statement; `None`: walk them.
    pub fn new_like<'f>(
        old: Option<&ModuleSummary>,
        items: impl IntoIterator<Item = (&'f Arc<Vec<FnFlow>>, usize)>,
        model: &Model,
        tree: TreeView,
        src: SourceText,
        from_imports: Option<&[usize]>,
    ) -> Self {
        let mut imports: Vec<(String, String)> = model
            .imports
            .iter()
            .map(|i| (i.bound.clone(), i.qualified.clone()))
            .collect();
        imports.sort();
        imports.dedup_by(|a, b| a.0 == b.0);
        let root = tree.root();
        let mut star_imports = Vec::new();
        let mut cursor = root.walk();
        let statements: Vec<tree_sitter::Node> = match from_imports {
            None => root.named_children(&mut cursor).collect(),
            // The statement at each start: few, near the top of the module as a rule.
            Some(starts) => starts
                .iter()
                .filter_map(|&s| {
                    cursor.reset(root);
                    cursor.goto_first_child_for_byte(s)?;
                    let stmt = cursor.node();
                    (stmt.start_byte() == s).then_some(stmt)
                })
                .collect(),
        };
        for stmt in statements {
            if stmt.kind_str() != "import_from_statement" {
                continue;
            }
            let mut c = stmt.walk();
            let star = stmt
                .named_children(&mut c)
                .any(|n| n.kind_str() == "wildcard_import");
            if let (true, Some(m)) = (star, stmt.field("module_name")) {
                star_imports.push(src.node_text(m).into_owned());
            }
        }
        let mut summary = Self::from_items(
            imports,
            star_imports,
            items
                .into_iter()
                .filter(|(f, _)| !f.is_empty())
                .map(|(f, s)| (f.clone(), s))
                .collect(),
            old,
        );
        summary.classes = class_summaries(model);
        summary.handles = handles(model);
        summary.factories = factories(model);
        (summary.loaded_configs, summary.loaded_config_sites) = loaded_configs(model, root, src);
        summary.class_maps = class_maps(model);
        summary.instances = instances(model);
        summary
    }

    /// A summary of its parts (`imports` sorted by bound name). Its vectors are made exact: a
    /// workspace keeps one summary per module (django: 41,000 flows), and the flows were built
    /// by pushing.
    pub fn from_parts(
        mut imports: Vec<(String, String)>,
        mut star_imports: Vec<String>,
        mut flows: Vec<(FnFlow, usize)>,
    ) -> Self {
        imports.shrink_to_fit();
        star_imports.shrink_to_fit();
        flows.iter_mut().for_each(|(f, _)| compact(f));
        // The flows of one item (consecutive, one start) share one list.
        let mut items: Vec<(Arc<Vec<FnFlow>>, usize)> = Vec::new();
        let mut run: Vec<FnFlow> = Vec::new();
        let mut run_start = None;
        for (f, start) in flows {
            if run_start.is_some_and(|s| s != start) {
                let mut done = std::mem::take(&mut run);
                done.shrink_to_fit();
                items.push((Arc::new(done), run_start.expect("checked")));
            }
            run_start = Some(start);
            run.push(f);
        }
        if let Some(start) = run_start {
            run.shrink_to_fit();
            items.push((Arc::new(run), start));
        }
        Self::from_items(imports, star_imports, items, None)
    }

    /// A summary of its parts, the flows by item; the sorted names are `like`'s when its items
    /// name the same functions and globals ([`Self::names_like`]).
    fn from_items(
        imports: Vec<(String, String)>,
        star_imports: Vec<String>,
        mut items: Vec<(Arc<Vec<FnFlow>>, usize)>,
        like: Option<&ModuleSummary>,
    ) -> Self {
        items.shrink_to_fit();
        let (functions, globals) = match like.and_then(|l| l.names_like(&items)) {
            Some(names) => names,
            None => match like.and_then(|l| l.names_patched(&items)) {
                Some(names) => names,
                None => {
                    let flows = || {
                        items
                            .iter()
                            .flat_map(|(fs, s)| fs.iter().map(move |f| (f, *s)))
                    };
                    let mut functions: Vec<String> = flows()
                        .filter(|(f, _)| !f.name.is_empty())
                        .map(|(f, _)| f.name.clone())
                        .collect();
                    functions.sort_unstable();
                    functions.dedup();
                    let mut globals: Vec<String> = flows()
                        .filter(|(f, _)| f.name.is_empty())
                        .flat_map(|(f, _)| f.defines.iter().map(|(n, _)| n.clone()))
                        .collect();
                    globals.sort_unstable();
                    globals.dedup();
                    (Arc::new(functions), Arc::new(globals))
                }
            },
        };
        // The module's other facts (classes, tables, factories, loaded configurations…) are
        // set by the caller; every one starts empty here.
        ModuleSummary {
            imports,
            star_imports,
            items,
            functions,
            globals,
            ..ModuleSummary::default()
        }
    }

    /// This summary's sorted names of functions and globals, when `items` (in document order,
    /// none empty) name the same ones item by item: an item shared by address, or whose flows
    /// have the same names (a function's, or the names a module statement binds). Reads the
    /// changed items' flows only.
    fn names_like(
        &self,
        items: &[(Arc<Vec<FnFlow>>, usize)],
    ) -> Option<(SortedNames, SortedNames)> {
        let same_names = |a: &[FnFlow], b: &[FnFlow]| {
            a.len() == b.len()
                && a.iter().zip(b).all(|(x, y)| {
                    x.name == y.name
                        && (!x.name.is_empty()
                            || x.defines
                                .iter()
                                .map(|d| &d.0)
                                .eq(y.defines.iter().map(|d| &d.0)))
                })
        };
        (self.items.len() == items.len()
            && self
                .items
                .iter()
                .zip(items)
                .all(|((a, _), (b, _))| Arc::ptr_eq(a, b) || same_names(a, b)))
        .then(|| (self.functions.clone(), self.globals.clone()))
    }

    /// This summary's sorted names of functions and globals patched for `items` (in document
    /// order, none empty), when they share all but a few items with this summary's at both ends
    /// (by address: a keystroke whose open call swallows the next `def`): the names of the items
    /// that differ are added or taken out, a name taken out only when no shared item has it. The
    /// same lists as sorting every item's names again (issue #14: that sort and its copies grew
    /// with the module on the keystrokes that change a name); `None` past [`PATCHED_ITEMS`].
    fn names_patched(
        &self,
        items: &[(Arc<Vec<FnFlow>>, usize)],
    ) -> Option<(SortedNames, SortedNames)> {
        let old = &self.items;
        let prefix = old
            .iter()
            .zip(items)
            .take_while(|((a, _), (b, _))| Arc::ptr_eq(a, b))
            .count();
        let suffix = old[prefix..]
            .iter()
            .rev()
            .zip(items[prefix..].iter().rev())
            .take_while(|((a, _), (b, _))| Arc::ptr_eq(a, b))
            .count();
        let gone_items = &old[prefix..old.len() - suffix];
        let new_items = &items[prefix..items.len() - suffix];
        if gone_items.len() + new_items.len() > PATCHED_ITEMS {
            return None;
        }
        let shared = || old[..prefix].iter().chain(&old[old.len() - suffix..]);
        let functions = patch_sorted(&self.functions, gone_items, new_items, shared, |f, out| {
            if !f.name.is_empty() {
                out.push(f.name.as_str());
            }
        });
        let globals = patch_sorted(&self.globals, gone_items, new_items, shared, |f, out| {
            if f.name.is_empty() {
                out.extend(f.defines.iter().map(|(n, _)| n.as_str()));
            }
        });
        Some((functions, globals))
    }

    /// The names of the module's functions and methods, sorted.
    pub fn function_names(&self) -> &[String] {
        &self.functions
    }

    /// The local data-flow summaries, each with the start of its item, in document order.
    pub fn flows(&self) -> impl Iterator<Item = (&FnFlow, usize)> + '_ {
        self.items
            .iter()
            .flat_map(|(fs, s)| fs.iter().map(move |f| (f, *s)))
    }

    /// How many flows [`Self::flows`] gives.
    pub fn flow_count(&self) -> usize {
        self.items.iter().map(|(fs, _)| fs.len()).sum()
    }

    /// Whether the flows of `items` (an analyzer's, [`crate::engine::Analyzer::flows`]) at their
    /// starts are this summary's, shared items compared by address first.
    pub fn same_items(&self, items: &[(&Arc<Vec<FnFlow>>, usize)]) -> bool {
        let mut mine = self.items.iter();
        for (fs, s) in items.iter().filter(|(fs, _)| !fs.is_empty()) {
            match mine.next() {
                Some((a, sa)) if sa == s && (Arc::ptr_eq(a, fs) || a == *fs) => {}
                _ => return false,
            }
        }
        mine.next().is_none()
    }

    /// Whether this summary's items are those of `items` themselves (by address).
    pub(crate) fn shares_items(&self, items: &[(&Arc<Vec<FnFlow>>, usize)]) -> bool {
        let theirs: Vec<_> = items.iter().filter(|(fs, _)| !fs.is_empty()).collect();
        self.items.len() == theirs.len()
            && self
                .items
                .iter()
                .zip(theirs)
                .all(|((a, sa), (b, sb))| sa == sb && Arc::ptr_eq(a, b))
    }

    /// This summary with the flows of `items` (shared, not copied) instead of its own: its
    /// imports, classes and handles stay.
    pub fn with_items(&self, items: &[(&Arc<Vec<FnFlow>>, usize)]) -> Self {
        let mut summary = Self::from_items(
            self.imports.clone(),
            self.star_imports.clone(),
            items
                .iter()
                .filter(|(fs, _)| !fs.is_empty())
                .map(|&(fs, s)| (fs.clone(), s))
                .collect(),
            Some(self),
        );
        summary.keep_facts_of(self);
        summary
    }

    /// Takes `old`'s facts other than the flows and imports (its classes, DynamoDB objects,
    /// factories, loaded configurations and instances): a summary made of an analysis's flows
    /// while it resolves, before the analysis ends and sets the whole summary. Leaving one out
    /// would change what other modules read of the module (its interface) for that moment.
    pub fn keep_facts_of(&mut self, old: &ModuleSummary) {
        self.classes = old.classes.clone();
        self.handles = old.handles.clone();
        self.factories = old.factories.clone();
        self.loaded_configs = old.loaded_configs.clone();
        self.loaded_config_sites = old.loaded_config_sites.clone();
        self.class_maps = old.class_maps.clone();
        self.instances = old.instances.clone();
    }

    /// Whether `other` has the same flows at the same starts (items shared with the analyzer's
    /// cache compare by address first).
    pub fn same_flows(&self, other: &ModuleSummary) -> bool {
        if self.items.len() == other.items.len()
            && self
                .items
                .iter()
                .zip(&other.items)
                .all(|((a, sa), (b, sb))| sa == sb && (Arc::ptr_eq(a, b) || a == b))
        {
            return true;
        }
        // The items they share at their start (by address, at the same starts) hold the same
        // flows: the flows are compared from the first other one (after a keystroke, where the
        // starts move), not from the module's first (issue #14: a keystroke compared every
        // flow above the edit).
        let shared = self
            .items
            .iter()
            .zip(&other.items)
            .take_while(|((a, sa), (b, sb))| sa == sb && Arc::ptr_eq(a, b))
            .count();
        fn rest(
            items: &[(Arc<Vec<FnFlow>>, usize)],
        ) -> impl Iterator<Item = (&FnFlow, usize)> + '_ {
            items
                .iter()
                .flat_map(|(fs, st)| fs.iter().map(move |f| (f, *st)))
        }
        self.flow_count() == other.flow_count()
            && rest(&self.items[shared..]).eq(rest(&other.items[shared..]))
    }

    /// Whether `other` gives an import into the module what this summary gives (the facts
    /// [`crate::project::flow`]'s interface hash reads: the names of its functions and globals,
    /// its imports, `import *`s, factories and instances), the sorted names compared by address
    /// first: a keystroke in a body shares them, and nothing is hashed again (issue #14).
    pub fn same_interface(&self, other: &ModuleSummary) -> bool {
        (Arc::ptr_eq(&self.functions, &other.functions) || self.functions == other.functions)
            && (Arc::ptr_eq(&self.globals, &other.globals) || self.globals == other.globals)
            && self.imports == other.imports
            && self.star_imports == other.star_imports
            && self.factories == other.factories
            && self.instances == other.instances
    }

    /// Whether the flows of `other` name the same things of other modules as this summary's, in
    /// the same order (the calls and globals written `@` and an import path: all that resolving
    /// a module's links reads of its flows). The items both share by address at the front and
    /// at the back (wherever they start) are not read: a keystroke in a body reads the flows of
    /// the items it changed (issue #14).
    pub fn same_external_refs(&self, other: &ModuleSummary) -> bool {
        let (a, b) = (&self.items, &other.items);
        let front = a
            .iter()
            .zip(b)
            .take_while(|((x, _), (y, _))| Arc::ptr_eq(x, y))
            .count();
        let back = a[front..]
            .iter()
            .rev()
            .zip(b[front..].iter().rev())
            .take_while(|((x, _), (y, _))| Arc::ptr_eq(x, y))
            .count();
        fn refs(items: &[(Arc<Vec<FnFlow>>, usize)]) -> impl Iterator<Item = &str> + '_ {
            items
                .iter()
                .flat_map(|(fs, _)| fs.iter())
                .flat_map(|f| {
                    f.calls
                        .iter()
                        .map(|c| c.callee.as_str())
                        .chain(f.globals.iter().map(String::as_str))
                })
                .filter(|c| c.starts_with('@'))
        }
        refs(&a[front..a.len() - back]).eq(refs(&b[front..b.len() - back]))
    }

    /// What made the module-level DynamoDB object `name` ([`Self::handles`]).
    pub fn handle(&self, name: &str) -> Option<&str> {
        lookup(&self.handles, name)
    }

    /// The class the module function `name` returns an instance of ([`Self::factories`]).
    pub fn factory(&self, name: &str) -> Option<&str> {
        lookup(&self.factories, name)
    }

    /// The class of the module-level instance `name` ([`Self::instances`]).
    pub fn instance(&self, name: &str) -> Option<&str> {
        lookup(&self.instances, name)
    }

    /// The class `name` of the module, if another module may read facts of it.
    pub fn class(&self, name: &str) -> Option<&ClassSummary> {
        self.classes
            .binary_search_by(|c| c.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.classes[i])
    }

    /// The module defines a function (or method, `Class.method`) `name`.
    pub fn defines_function(&self, name: &str) -> bool {
        !name.is_empty()
            && self
                .functions
                .binary_search_by(|f| f.as_str().cmp(name))
                .is_ok()
    }

    /// The module binds `name` at module level (`API_KEY = os.environ["API_KEY"]`).
    pub fn defines_global(&self, name: &str) -> bool {
        self.globals
            .binary_search_by(|g| g.as_str().cmp(name))
            .is_ok()
    }

    /// The module-level names it binds, sorted.
    pub fn global_names(&self) -> &[String] {
        &self.globals
    }

    /// The import path of a name bound by an import.
    pub fn import_of(&self, name: &str) -> Option<&str> {
        self.imports
            .binary_search_by(|(b, _)| b.as_str().cmp(name))
            .ok()
            .map(|i| self.imports[i].1.as_str())
    }

    /// The calls of this module to functions of other modules (`@` and an import path).
    pub fn external_calls(&self) -> impl Iterator<Item = &str> {
        self.flows()
            .flat_map(|(f, _)| f.calls.iter())
            .filter_map(|c| c.callee.strip_prefix('@'))
    }

    /// The module-level names of other modules this module reads (`@` and an import path:
    /// `from .settings import API_KEY`).
    pub fn external_globals(&self) -> impl Iterator<Item = &str> {
        self.flows()
            .flat_map(|(f, _)| f.globals.iter())
            .filter_map(|g| g.strip_prefix('@'))
    }

    /// A hash of the summary.
    pub fn hash64(&self) -> u64 {
        let mut h = rustc_hash::FxHasher::default();
        self.hash(&mut h);
        h.finish()
    }
}

impl ModuleSummary {
    /// Whether `other` holds the same facts but its flows (its imports, classes, DynamoDB
    /// objects, factories, loaded configurations and instances): compared, not rebuilt.
    pub fn same_facts_but_flows(&self, other: &ModuleSummary) -> bool {
        self.imports == other.imports
            && self.star_imports == other.star_imports
            && self.classes == other.classes
            && self.handles == other.handles
            && self.factories == other.factories
            && self.loaded_configs == other.loaded_configs
            && self.loaded_config_sites == other.loaded_config_sites
            && self.class_maps == other.class_maps
            && self.instances == other.instances
    }
}

impl PartialEq for ModuleSummary {
    fn eq(&self, other: &Self) -> bool {
        self.same_facts_but_flows(other) && self.same_flows(other)
    }
}

impl Eq for ModuleSummary {}

impl Hash for ModuleSummary {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.imports.hash(state);
        self.star_imports.hash(state);
        self.classes.hash(state);
        self.handles.hash(state);
        self.factories.hash(state);
        self.loaded_configs.hash(state);
        self.loaded_config_sites.hash(state);
        self.class_maps.hash(state);
        self.instances.hash(state);
        self.flow_count().hash(state);
        for flow in self.flows() {
            flow.hash(state);
        }
    }
}

#[cfg(test)]
mod names_tests {
    use super::*;

    /// An item: functions named `f…` (a module statement binding `g…` when the name starts
    /// with `=`).
    fn item(names: &[&str]) -> Arc<Vec<FnFlow>> {
        Arc::new(
            names
                .iter()
                .map(|n| match n.strip_prefix('=') {
                    Some(g) => FnFlow {
                        defines: vec![(g.to_string(), Default::default())],
                        ..FnFlow::default()
                    },
                    None => FnFlow {
                        name: n.to_string(),
                        ..FnFlow::default()
                    },
                })
                .collect(),
        )
    }

    fn scratch(items: &[Arc<Vec<FnFlow>>]) -> ModuleSummary {
        let items = items.iter().map(|i| (i.clone(), 0)).collect();
        ModuleSummary::from_items(Vec::new(), Vec::new(), items, None)
    }

    /// Random windows of items replaced (names drawn from a small pool, so that a name is often
    /// bound by several items, and one taken out may stay): the patched names are the names
    /// sorted again from every item, and the patch is what `with_items` took.
    #[test]
    fn names_patched_from_the_window_are_the_names_sorted_again() {
        let pool = ["a", "b", "c", "d", "=x", "=y", "=a", "e", "f", "=z"];
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let mut items: Vec<Arc<Vec<FnFlow>>> = (0..40)
            .map(|i| item(&[pool[i % pool.len()], pool[(i * 7 + 3) % pool.len()]]))
            .collect();
        let mut summary = scratch(&items);
        let mut patched = 0;
        for _ in 0..400 {
            let at = next(items.len() + 1);
            let out = next(4).min(items.len() - at);
            let put: Vec<Arc<Vec<FnFlow>>> = (0..next(4))
                .map(|_| {
                    let names: Vec<&str> = (0..next(3)).map(|_| pool[next(pool.len())]).collect();
                    item(&names)
                })
                .filter(|i| !i.is_empty())
                .collect();
            items.splice(at..at + out, put);
            if items.is_empty() {
                items.push(item(&["a"]));
            }
            let with: Vec<(Arc<Vec<FnFlow>>, usize)> =
                items.iter().map(|i| (i.clone(), 0)).collect();
            if summary.names_like(&with).is_none() && summary.names_patched(&with).is_some() {
                patched += 1;
            }
            let refs: Vec<(&Arc<Vec<FnFlow>>, usize)> = items.iter().map(|i| (i, 0)).collect();
            let next_summary = summary.with_items(&refs);
            let fresh = scratch(&items);
            assert_eq!(next_summary.function_names(), fresh.function_names());
            assert_eq!(next_summary.global_names(), fresh.global_names());
            summary = next_summary;
        }
        assert!(patched > 100, "the patch was taken {patched} times");
    }
}
