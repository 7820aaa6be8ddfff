//! The project model: the Python modules of a workspace, what each one holds that matters for
//! keys (a [`ModuleSummary`]: its imports and the data-flow summaries of its functions and
//! methods), how its imports resolve to other modules of the project, and the data flow resolved
//! across them ([`flow`]).
//!
//! Below the rules and the engine, above the data flow of one module: it reads the summaries the
//! analyzer computed ([`crate::engine::Analyzer::flows`]) and hands each module the facts of the
//! whole project through a [`crate::dataflow::cross::FlowResolver`]. No tree is kept:
//! a closed file costs its summary.
//!
//! * **Discovery** ([`discover`]): the `.py` files under a root, honouring `.gitignore` (the
//!   `ignore` crate) and an exclusion predicate (the configuration's `exclude` and default
//!   excludes: `.venv`, `site-packages`, …).
//! * **Module names** ([`Project::add`]): a file is known by every dotted suffix of its path
//!   (`src/app/store.py`: `src.app.store`, `app.store`, `store`), which covers packages
//!   (`__init__.py`), `src/` layouts and namespace packages alike; its *qualifier*, used in the
//!   names of resolved functions and in messages, is the name from its topmost package.
//! * **Imports** ([`Project::resolve_import`]): absolute (`app.crud.keys.create`, `import app.db
//!   as db` then `db.save`), relative (`.store.save_client`, `..x.y`, against the importing
//!   file's directory), and re-exports of a package `__init__` (`from .store import save as
//!   save`, `from .store import *`).

pub mod flow;
pub mod lazy;
pub mod summary;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustc_hash::FxHashMap;

pub use summary::{ClassSummary, ModuleSummary};

use crate::model::ForeignName;

/// The Python files under `root`: `.gitignore`d files and those `excluded` (path, is a
/// directory) are left out. Sorted.
pub fn discover(
    root: &Path,
    excluded: impl Fn(&Path, bool) -> bool + Send + Sync + 'static,
) -> Vec<PathBuf> {
    let excluded = Arc::new(excluded);
    let mut out: Vec<PathBuf> = ignore::WalkBuilder::new(root)
        .require_git(false)
        .filter_entry(move |e| {
            e.depth() == 0 || !excluded(e.path(), e.file_type().is_some_and(|t| t.is_dir()))
        })
        .build()
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_type().is_some_and(|t| t.is_file())
                && e.path().extension().is_some_and(|x| x == "py")
        })
        .map(|e| e.into_path())
        .collect();
    out.sort();
    out
}

/// One module of the project.
#[derive(Debug)]
pub struct Module {
    /// The file, as found.
    pub path: PathBuf,
    /// Its path as shown in related places (the path as given).
    pub shown: Arc<str>,
    /// Its dotted name from its topmost package (`app.store`); unique in the project.
    pub qualifier: String,
    /// `None` until summarised (or when the file is gone).
    pub summary: Option<Arc<ModuleSummary>>,
}

/// The modules of a project and their names.
#[derive(Debug, Default)]
pub struct Project {
    pub modules: Vec<Module>,
    by_path: FxHashMap<PathBuf, usize>,
    /// Every dotted suffix of a module's path → the modules known by it.
    by_name: FxHashMap<String, Vec<usize>>,
    /// Per module: how many components its name has from its topmost package (`app.store`: 2;
    /// a module in no package: 1). A shorter suffix starts inside a package (see
    /// [`Project::importable`]).
    package_len: Vec<usize>,
    /// Directories holding an `__init__.py` among the files added.
    packages: rustc_hash::FxHashSet<PathBuf>,
    /// The lookups of import resolution, built by [`Project::rename`].
    index: Index,
}

/// The lookups import resolution makes, over the live modules, built once a naming
/// ([`Project::rename`]) so that a lookup allocates nothing and walks no path: the directories
/// of the modules' paths (every [`Path::parent`] of a module's path, by id) and what
/// [`Project::module_at`] finds in them, and each module's path components (interned) for the
/// choice between the modules a dotted name denotes ([`Project::module_named`]).
#[derive(Debug, Default)]
struct Index {
    /// File and directory names (UTF-8 ones: an import path is a `str`) → id.
    names: FxHashMap<Box<str>, u32>,
    /// (directory, name) → the directory `dir/name`.
    child: FxHashMap<(u32, u32), u32>,
    /// (directory, stem) → the module `dir/stem.py`.
    file: FxHashMap<(u32, u32), usize>,
    /// Directory → its module `dir/__init__.py`.
    init: FxHashMap<u32, usize>,
    /// Per module: the ids of its path's successive parents (its directory first).
    ancestors: Vec<Box<[u32]>>,
    /// Per module: its path's components, interned.
    components: Vec<Box<[u32]>>,
    /// Per module: its directory's components, interned.
    here: Vec<Box<[u32]>>,
}

impl Index {
    fn build(modules: &[Module], live: impl Fn(&Path) -> bool) -> Self {
        let mut ix = Index::default();
        let mut dirs: FxHashMap<PathBuf, u32> = FxHashMap::default();
        // Per directory id: the ids of it and its successive parents (a module's chain ends with
        // that of the first directory of its path already seen).
        let mut chains: Vec<Box<[u32]>> = Vec::new();
        let mut parts: FxHashMap<std::ffi::OsString, u32> = FxHashMap::default();
        let mut intern_part = |c: &std::ffi::OsStr| {
            if let Some(&id) = parts.get(c) {
                return id;
            }
            let n = parts.len() as u32;
            parts.insert(c.to_os_string(), n);
            n
        };
        for m in modules {
            // A removed module's slot keeps its path's lookups (resolving from it reads them),
            // but it is no file of a directory.
            let path = m.path.as_path();
            ix.components.push(
                path.components()
                    .map(|c| intern_part(c.as_os_str()))
                    .collect(),
            );
            let here = path.parent().unwrap_or(Path::new(""));
            ix.here.push(
                here.components()
                    .map(|c| intern_part(c.as_os_str()))
                    .collect(),
            );
            let mut chain: Vec<u32> = Vec::new();
            let mut below: Option<(u32, Option<u32>)> = None;
            let mut dir = path.parent();
            // The directories not seen before, from the module's own up; the first one seen
            // before ends the walk: its parents, their names and children are known.
            let mut new = 0;
            while let Some(d) = dir {
                if let Some(&id) = dirs.get(d) {
                    if let Some((child, Some(name))) = below {
                        ix.child.insert((id, name), child);
                    }
                    chain.extend_from_slice(&chains[id as usize]);
                    break;
                }
                let id = dirs.len() as u32;
                dirs.insert(d.to_path_buf(), id);
                chain.push(id);
                new += 1;
                if let Some((child, Some(name))) = below {
                    ix.child.insert((id, name), child);
                }
                let name = d.file_name().and_then(|n| n.to_str()).map(|n| ix.name(n));
                below = Some((id, name));
                dir = d.parent();
            }
            for k in 0..new {
                debug_assert_eq!(chains.len(), chain[k] as usize);
                chains.push(chain[k..].into());
            }
            if let (Some(&d), true) = (chain.first(), live(path)) {
                if path.extension().is_some_and(|x| x == "py") {
                    if let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
                        let stem = ix.name(stem);
                        ix.file.insert((d, stem), ix.ancestors.len());
                    }
                }
                if path.file_name().is_some_and(|n| n == "__init__.py") {
                    ix.init.insert(d, ix.ancestors.len());
                }
            }
            ix.ancestors.push(chain.into_boxed_slice());
        }
        ix
    }

    fn name(&mut self, n: &str) -> u32 {
        if let Some(&id) = self.names.get(n) {
            return id;
        }
        let next = self.names.len() as u32;
        self.names.insert(Box::from(n), next);
        next
    }
}

/// The non-empty dotted components of an import path (`app..x.` → `[app, x]`), held inline up to
/// [`Parts::INLINE`] of them: [`Project::resolve_depth`] splits a path on every call.
enum Parts<'a> {
    Inline([&'a str; Parts::INLINE], usize),
    Heap(Vec<&'a str>),
}

impl<'a> Parts<'a> {
    const INLINE: usize = 8;

    fn of(path: &'a str) -> Self {
        let mut inline = [""; Parts::INLINE];
        let mut len = 0;
        for (k, part) in path.split('.').filter(|s| !s.is_empty()).enumerate() {
            if k == Parts::INLINE {
                return Parts::Heap(path.split('.').filter(|s| !s.is_empty()).collect());
            }
            inline[k] = part;
            len = k + 1;
        }
        Parts::Inline(inline, len)
    }
}

impl<'a> std::ops::Deref for Parts<'a> {
    type Target = [&'a str];

    fn deref(&self) -> &[&'a str] {
        match self {
            Parts::Inline(parts, len) => &parts[..*len],
            Parts::Heap(parts) => parts,
        }
    }
}

/// The dotted components of a module file: `a/b/c.py` → `[a, b, c]`, `a/b/__init__.py` → `[a, b]`.
fn components(path: &Path) -> Vec<String> {
    let mut parts: Vec<String> = path
        .parent()
        .map(|p| {
            p.components()
                .filter_map(|c| match c {
                    std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    if let Some(stem) = path.file_stem() {
        if stem != "__init__" {
            parts.push(stem.to_string_lossy().into_owned());
        }
    }
    parts
}

/// (bound name, import path) of the names a module imports from modules outside the frameworks
/// (`from .models import UserModel`, `from app.db import table`).
fn imported_object_paths(summary: &ModuleSummary) -> impl Iterator<Item = (&str, &str)> {
    summary.imports.iter().filter_map(|(bound, path)| {
        let top = path.split('.').next().unwrap_or("");
        (!crate::model::frameworks::is_framework_package(top))
            .then_some((bound.as_str(), path.as_str()))
    })
}

/// A test module by its name from its topmost package (`tests.test_api`, `app.tests.conftest`,
/// `test_config`, `config_test`): a configuration it loads is the tests', not the app's. (Not by
/// its whole path: a project may itself lie under a `tests` folder.)
fn is_test_module(qualifier: &str) -> bool {
    qualifier.split('.').any(|part| {
        matches!(part, "tests" | "test" | "conftest")
            || part.starts_with("test_")
            || part.ends_with("_test")
    })
}

impl Project {
    pub fn new() -> Self {
        Self::default()
    }

    /// The module of `path`, if added.
    pub fn module_of(&self, path: &Path) -> Option<usize> {
        self.by_path.get(path).copied()
    }

    /// The summary of the module of `path`, if added and summarised.
    pub fn summary_of(&self, path: &Path) -> Option<&Arc<ModuleSummary>> {
        self.modules.get(self.module_of(path)?)?.summary.as_ref()
    }

    /// Adds the files `paths` (paths as found; relative ones are taken as they are) and names
    /// every module again. Returns the indices of `paths`' modules.
    pub fn add(&mut self, paths: &[PathBuf]) -> Vec<usize> {
        let mut ids = Vec::with_capacity(paths.len());
        for p in paths {
            if let Some(&i) = self.by_path.get(p) {
                ids.push(i);
                continue;
            }
            let i = self.modules.len();
            self.modules.push(Module {
                path: p.clone(),
                shown: Arc::from(p.to_string_lossy().as_ref()),
                qualifier: String::new(),
                summary: None,
            });
            self.by_path.insert(p.clone(), i);
            if p.file_name().is_some_and(|n| n == "__init__.py") {
                if let Some(dir) = p.parent() {
                    self.packages.insert(dir.to_path_buf());
                }
            }
            ids.push(i);
        }
        self.rename();
        ids
    }

    /// Forgets the module of `path` (deleted): its slot stays, empty, so indices stay valid.
    pub fn remove(&mut self, path: &Path) -> Option<usize> {
        let i = self.by_path.remove(path)?;
        self.modules[i].summary = None;
        if path.file_name().is_some_and(|n| n == "__init__.py") {
            if let Some(dir) = path.parent() {
                self.packages.remove(dir);
            }
        }
        self.rename();
        Some(i)
    }

    /// Names every live module: its suffix names and a unique qualifier.
    fn rename(&mut self) {
        self.by_name.clear();
        self.package_len.clear();
        self.package_len.resize(self.modules.len(), 1);
        let mut taken: FxHashMap<String, usize> = FxHashMap::default();
        for i in 0..self.modules.len() {
            let path = self.modules[i].path.as_path();
            if !self.by_path.contains_key(path) {
                continue;
            }
            let parts = components(path);
            // Every dotted suffix (`a.b.c`, `b.c`, `c`) is a slice of the whole name.
            let whole = parts.join(".");
            let mut at = 0;
            for part in &parts {
                let suffix = &whole[at..];
                match self.by_name.get_mut(suffix) {
                    Some(list) => list.push(i),
                    None => {
                        self.by_name.insert(suffix.to_string(), vec![i]);
                    }
                }
                at += part.len() + 1;
            }
            // From the topmost package holding it (`app.store`), or its file name alone.
            let mut dir = path.parent();
            let mut depth = 0;
            while let Some(d) = dir {
                if !self.packages.contains(d) {
                    break;
                }
                depth += 1;
                dir = d.parent();
            }
            let is_init = path.file_name().is_some_and(|n| n == "__init__.py");
            let keep = if is_init { depth } else { depth + 1 };
            let from = parts.len().saturating_sub(keep.max(1));
            self.package_len[i] = parts.len() - from;
            let mut q = parts[from..].join(".");
            if q.is_empty() {
                q = "__main__".into();
            }
            if taken.contains_key(&q) {
                q = whole.clone();
            }
            while taken.contains_key(&q) {
                q.push('_');
            }
            taken.insert(q.clone(), i);
            self.modules[i].qualifier = q;
        }
        let by_path = &self.by_path;
        self.index = Index::build(&self.modules, |p| by_path.contains_key(p));
    }

    /// The module a dotted name denotes, seen from module `from` (the candidate sharing the most
    /// of its path when several modules end with that name), among those it can import by that
    /// name ([`Project::importable`]).
    fn module_named(&self, name: &str, from: usize) -> Option<usize> {
        let cands = self.by_name.get(name)?;
        let n = name.split('.').count();
        let mut importable = cands
            .iter()
            .copied()
            .filter(|&c| self.importable(c, n, from));
        let first = importable.next()?;
        let Some(second) = importable.next() else {
            return Some(first);
        };
        let here = &self.index.here[from];
        [first, second]
            .into_iter()
            .chain(importable)
            .max_by_key(|&c| {
                let there = &self.index.components[c];
                (
                    here.iter()
                        .zip(there.iter())
                        .take_while(|(a, b)| a == b)
                        .count(),
                    std::cmp::Reverse(c),
                )
            })
    }

    /// Whether module `from` can import module `c` by its name's last `n` components: the name
    /// covers `c`'s name from its topmost package (`app.store`, from a source root above
    /// `app/`), or it starts inside a package at a directory holding `from` (`import crud` in
    /// `app/routers/items.py` of an app run from `app/`, which is on `sys.path` then). Not
    /// `import json` in `django/db/models/base.py` for `django/core/serializers/json.py`: no
    /// Python import finds that module by the name `json` from there (the standard library's
    /// does), and following the call into it would make a finding of nothing.
    fn importable(&self, c: usize, n: usize, from: usize) -> bool {
        if n >= self.package_len[c] {
            return true;
        }
        let path = &self.index.components[c];
        let init = self.modules[c]
            .path
            .file_name()
            .is_some_and(|f| f == "__init__.py");
        let start = path.len().saturating_sub(n + usize::from(init));
        self.index.here[from].starts_with(&path[..start])
    }

    /// The module file `dir/a/b.py` or `dir/a/b/__init__.py` of `parts` ([] → `dir/__init__.py`),
    /// `dir` the id of a directory of [`Index`] (one of a module's [`Project::relative_dirs`]).
    fn module_at(&self, dir: u32, parts: &[&str]) -> Option<usize> {
        let ix = &self.index;
        let Some((last, within)) = parts.split_last() else {
            return ix.init.get(&dir).copied();
        };
        let mut d = dir;
        for part in within {
            d = *ix.child.get(&(d, *ix.names.get(*part)?))?;
        }
        let last = *ix.names.get(*last)?;
        if let Some(&i) = ix.file.get(&(d, last)) {
            return Some(i);
        }
        ix.init.get(ix.child.get(&(d, last))?).copied()
    }

    /// What an import path used in module `from` denotes: a function (or `Class.method`) of a
    /// module of the project, as (module, name in it). The path is the one the module's import
    /// bindings give (`.store.save_client`, `app.crud.keys.create`, `..store.save` for `from .
    /// import store` then `store.save`).
    pub fn resolve_import(&self, from: usize, path: &str) -> Option<(usize, String)> {
        // Re-exports and `import *` chains branch: a budget of lookups bounds the work.
        let mut budget = 64;
        self.resolve_depth(from, path, 0, &mut budget, &mut Vec::new(), false)
    }

    /// The modules without a summary that resolving `path` from module `from` looked into (the
    /// modules a summary is missing of for [`Project::resolve_import`] to find the function).
    pub fn unsummarised_for(&self, from: usize, path: &str) -> Vec<usize> {
        let mut budget = 64;
        let mut missing = Vec::new();
        self.resolve_depth(from, path, 0, &mut budget, &mut missing, false);
        missing.sort_unstable();
        missing.dedup();
        missing
    }

    /// [`Project::resolve_import`] (`class`: [`Project::resolve_class`]) or, when it finds
    /// nothing, [`Project::unsummarised_for`] (`unsummarised_for_class`) of the same path, in one
    /// resolution.
    pub fn resolve_or_missing(
        &self,
        from: usize,
        path: &str,
        class: bool,
    ) -> Result<(usize, String), Vec<usize>> {
        let mut budget = 64;
        let mut missing = Vec::new();
        match self.resolve_depth(from, path, 0, &mut budget, &mut missing, class) {
            Some(found) => Ok(found),
            None => {
                missing.sort_unstable();
                missing.dedup();
                Err(missing)
            }
        }
    }

    /// [`Project::resolve_or_missing`], but of the modules without a summary it looked into,
    /// only the first (in the order the resolution looks: the longest prefix of the path naming
    /// a module, then shorter ones; a module's re-exports before the next candidate) for which
    /// `eligible` holds (`Err(None)`: none). A closure that summarises that one module and
    /// resolves the path again, until it resolves or none is left, ends with the same resolution
    /// as one that summarises every module looked into at once: the resolution returns the first
    /// function found in that order, so the modules after it are never read, and every module
    /// before it is then summarised (or not `eligible`: never summarised). It summarises none of
    /// the candidates a longer prefix makes unread (`django/__init__.py`, `django/contrib/
    /// __init__.py` for `django.contrib.auth.hashers.check_password`, which
    /// `django/contrib/auth/hashers.py` defines), at the cost of one round per module looked
    /// into when nothing is found.
    pub fn resolve_or_first_missing(
        &self,
        from: usize,
        path: &str,
        class: bool,
        eligible: &dyn Fn(usize) -> bool,
    ) -> Result<(usize, String), Option<usize>> {
        let mut budget = 64;
        let mut missing = Vec::new();
        match self.resolve_depth(from, path, 0, &mut budget, &mut missing, class) {
            Some(found) => Ok(found),
            None => Err(missing.into_iter().find(|&j| eligible(j))),
        }
    }

    /// The class (or module-level DynamoDB object) an import path used in module `from` denotes
    /// (`.models.UserModel`, `.db.table`), as (module, its name there), when that module keeps
    /// facts of it ([`ModuleSummary::classes`], [`ModuleSummary::handles`]).
    pub fn resolve_class(&self, from: usize, path: &str) -> Option<(usize, String)> {
        let mut budget = 64;
        self.resolve_depth(from, path, 0, &mut budget, &mut Vec::new(), true)
    }

    /// The names module `m` imports from other modules of the project that rules read facts of
    /// (PynamoDB models, theirs or inherited from a base class of another module; DynamoDB
    /// objects made at module level), sorted by the name they are bound to in `m`.
    pub fn foreign_names(&self, m: usize) -> Vec<ForeignName> {
        let Some(summary) = self.modules.get(m).and_then(|x| x.summary.as_ref()) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (bound, path) in imported_object_paths(summary) {
            if let Some((pynamo, fields)) = self.class_facts(m, path, 0) {
                if pynamo {
                    out.push(ForeignName {
                        bound: bound.to_string(),
                        pynamo,
                        fields,
                        made_by: None,
                        loaded_config: false,
                        loaded_by: None,
                    });
                }
                continue;
            }
            let made_by = self.resolve_class(m, path).and_then(|(j, name)| {
                Some(self.modules[j].summary.as_ref()?.handle(&name)?.to_string())
            });
            if made_by.is_some() {
                out.push(ForeignName {
                    bound: bound.to_string(),
                    made_by,
                    ..ForeignName::default()
                });
                continue;
            }
            // A module of the project imported whole (`import app.db as db`, `from app import
            // db`): its DynamoDB objects are known as `db.table` here, and its PynamoDB models
            // (theirs or inherited) as `db.UserModel`.
            if let Some(j) = self.imported_module(m, path) {
                if let Some(s) = self.modules[j].summary.as_ref() {
                    for (name, made) in &s.handles {
                        out.push(ForeignName {
                            bound: format!("{bound}.{name}"),
                            made_by: Some(made.clone()),
                            ..ForeignName::default()
                        });
                    }
                    for c in &s.classes {
                        if let Some((true, fields)) = self.class_facts_in(j, &c.name, 0) {
                            out.push(ForeignName {
                                bound: format!("{bound}.{}", c.name),
                                pynamo: true,
                                fields,
                                ..ForeignName::default()
                            });
                        }
                    }
                }
            }
        }
        // Its classes another module loads as its Flask configuration.
        for (name, by) in self.config_loaders_of(m) {
            match out.iter_mut().find(|n| n.bound == name) {
                Some(n) => {
                    n.loaded_config = true;
                    n.loaded_by = n.loaded_by.take().or(by);
                }
                None => out.push(ForeignName {
                    bound: name,
                    loaded_config: true,
                    loaded_by: by,
                    ..ForeignName::default()
                }),
            }
        }
        out.sort_by(|a, b| a.bound.cmp(&b.bound));
        out
    }

    /// The module of the project an import path of module `from` names whole (`app.db`, `.db`,
    /// `..db` for `from . import db`: one dot more than its level, both readings tried).
    fn imported_module(&self, from: usize, path: &str) -> Option<usize> {
        let dots = path.bytes().take_while(|&b| b == b'.').count();
        if dots == 0 {
            return self.module_named(path, from);
        }
        let rest = Parts::of(&path[dots..]);
        if rest.is_empty() {
            return None;
        }
        self.relative_dirs(from, dots)
            .find_map(|dir| self.module_at(dir, &rest))
    }

    /// The directories a relative import of `dots` leading dots in module `from` starts from
    /// (ids of [`Index`]): `from . import store` is bound as `..store`, one dot more than its
    /// level, so both readings are given, the written level first.
    fn relative_dirs(&self, from: usize, dots: usize) -> impl Iterator<Item = u32> + '_ {
        let chain = &self.index.ancestors[from];
        [dots, dots.saturating_sub(1)]
            .into_iter()
            .filter(|&level| level > 0)
            // A level above the file system's root ends the readings (none after it is tried).
            .map_while(move |level| chain.get(level - 1).copied())
    }

    /// The top-level classes of module `m` that a module of the project (not a test module)
    /// loads as its Flask configuration ([`ModuleSummary::loaded_configs`]), sorted.
    pub fn loaded_configs_of(&self, m: usize) -> Vec<String> {
        let mut out: Vec<String> = self
            .config_loaders_of(m)
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        out.dedup();
        out
    }

    /// The classes a mapping of configuration classes names (`config` of `.config`, the
    /// mapping's import path `map` in module `from`, [`ModuleSummary::class_maps`]), as (module,
    /// class name).
    fn mapped_classes(&self, from: usize, map: &str) -> Vec<(usize, String)> {
        let Some((k, name)) = self.resolve_import(from, map) else {
            return Vec::new();
        };
        let Some(s) = self.modules[k].summary.as_ref() else {
            return Vec::new();
        };
        let Some((_, values)) = s.class_maps.iter().find(|(n, _)| *n == name) else {
            return Vec::new();
        };
        values
            .iter()
            .filter_map(|v| {
                if v.contains('.') {
                    self.resolve_class(k, v)
                } else {
                    Some((k, v.clone()))
                }
            })
            .collect()
    }

    /// [`Project::loaded_configs_of`] with, for each class, where another module loads it: that
    /// module's path as shown and the range of its `from_object(…)` call (the first load, in
    /// module order; `None` for a load by the class's own module). Sorted by name, one entry a
    /// class.
    pub fn config_loaders_of(&self, m: usize) -> Vec<(String, Option<crate::model::LoadSite>)> {
        let mut out: Vec<(String, Option<crate::model::LoadSite>)> = Vec::new();
        if self
            .modules
            .get(m)
            .and_then(|x| x.summary.as_ref())
            .is_none()
        {
            return out;
        }
        for (j, module) in self.modules.iter().enumerate() {
            let Some(s) = module.summary.as_ref() else {
                continue;
            };
            if s.loaded_configs.is_empty() || is_test_module(&module.qualifier) {
                continue;
            }
            for (i, path) in s.loaded_configs.iter().enumerate() {
                let by = || {
                    s.loaded_config_sites
                        .get(i)
                        .filter(|_| j != m)
                        .map(|r| (module.shown.clone(), r.clone()))
                };
                // `from_object(config[name])` with a mapping of another module: every class
                // it names.
                if let Some(map) = path.strip_suffix("[]") {
                    for (k, name) in self.mapped_classes(j, map) {
                        if k == m && !name.contains('.') {
                            out.push((name, by()));
                        }
                    }
                    continue;
                }
                if let Some((k, name)) = self.resolve_class(j, path) {
                    if k == m && !name.contains('.') {
                        out.push((name, by()));
                    }
                }
            }
        }
        // One entry a class: its first load by another module.
        out.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| b.1.is_some().cmp(&a.1.is_some()))
        });
        out.dedup_by(|b, a| a.0 == b.0);
        out
    }

    /// The modules without a summary that resolving the class `path` from module `from` looked
    /// into (see [`Project::unsummarised_for`]).
    pub fn unsummarised_for_class(&self, from: usize, path: &str) -> Vec<usize> {
        let mut budget = 64;
        let mut missing = Vec::new();
        self.resolve_depth(from, path, 0, &mut budget, &mut missing, true);
        missing.sort_unstable();
        missing.dedup();
        missing
    }

    /// (PynamoDB model, fields) of the class `path` denotes in module `from`, with those of its
    /// bases of other modules.
    fn class_facts(&self, from: usize, path: &str, depth: usize) -> Option<(bool, Vec<String>)> {
        let (j, name) = self.resolve_class(from, path)?;
        self.class_facts_in(j, &name, depth)
    }

    /// [`Project::class_facts`] of the top-level class `name` of module `j`.
    fn class_facts_in(&self, j: usize, name: &str, depth: usize) -> Option<(bool, Vec<String>)> {
        let c = self.modules[j].summary.as_ref()?.class(name)?;
        let mut pynamo = c.pynamo;
        let mut fields: Vec<String> = Vec::new();
        if depth < 4 {
            for b in &c.imported_bases {
                if let Some((p, f)) = self.class_facts(j, b, depth + 1) {
                    pynamo |= p;
                    fields.extend(f);
                }
            }
        }
        for f in &c.fields {
            if !fields.contains(f) {
                fields.push(f.clone());
            }
        }
        Some((pynamo, fields))
    }

    fn resolve_depth(
        &self,
        from: usize,
        path: &str,
        depth: usize,
        budget: &mut usize,
        missing: &mut Vec<usize>,
        class: bool,
    ) -> Option<(usize, String)> {
        if depth > 8 || *budget == 0 {
            return None;
        }
        *budget -= 1;
        // `.deps.get_repo().save`: a method of the class the function `get_repo` returns an
        // instance of ([`ModuleSummary::factories`]).
        if let Some((factory, method)) = path.split_once("().") {
            if class {
                return None;
            }
            let (j, name) = self.resolve_depth(from, factory, depth + 1, budget, missing, false)?;
            let made = self.modules[j].summary.as_ref()?.factory(&name)?;
            let local = format!("{made}.{method}");
            if self.modules[j]
                .summary
                .as_ref()
                .is_some_and(|s| s.defines_function(&local))
            {
                return Some((j, local));
            }
            return self.resolve_depth(j, &local, depth + 1, budget, missing, false);
        }
        let dots = path.bytes().take_while(|&b| b == b'.').count();
        let rest = Parts::of(&path[dots..]);
        if dots == 0 {
            // The longest prefix naming a module; the rest is a name in it. Without empty
            // components, the prefix of `k` components is a slice of the path (no allocation).
            let plain = rest.len() == path.split('.').count();
            for k in (1..=rest.len()).rev() {
                let joined;
                let name = if plain {
                    let end =
                        rest[k - 1].as_ptr() as usize - path.as_ptr() as usize + rest[k - 1].len();
                    &path[..end]
                } else {
                    joined = rest[..k].join(".");
                    joined.as_str()
                };
                if let Some(m) = self.module_named(name, from) {
                    if let Some(found) = self.symbol(m, &rest[k..], depth, budget, missing, class) {
                        return Some(found);
                    }
                }
            }
            return None;
        }
        for dir in self.relative_dirs(from, dots) {
            for k in (0..=rest.len()).rev() {
                if let Some(m) = self.module_at(dir, &rest[..k]) {
                    if let Some(found) = self.symbol(m, &rest[k..], depth, budget, missing, class) {
                        return Some(found);
                    }
                }
            }
        }
        None
    }

    /// A function or method `name` of module `m`, or what `m` re-exports under that name.
    fn symbol(
        &self,
        m: usize,
        name: &[&str],
        depth: usize,
        budget: &mut usize,
        missing: &mut Vec<usize>,
        class: bool,
    ) -> Option<(usize, String)> {
        if name.is_empty() || *budget == 0 {
            return None;
        }
        let Some(summary) = self.modules[m].summary.as_ref() else {
            // An attribute's method of a class (`Article.objects.create`): no summary of the
            // module makes it a function of it (functions are `f` and `Class.method`; a
            // capitalised name re-exported as a module aside), so it needs none.
            let class_attribute =
                name.len() > 2 && name[0].starts_with(|c: char| c.is_ascii_uppercase());
            if class || !class_attribute {
                missing.push(m);
            }
            return None;
        };
        // One name (the most common) needs no joining.
        let joined: std::borrow::Cow<str> = match name {
            [one] => std::borrow::Cow::Borrowed(one),
            _ => std::borrow::Cow::Owned(name.join(".")),
        };
        let defines = if class {
            summary.class(&joined).is_some() || summary.handle(&joined).is_some()
        } else {
            summary.defines_function(&joined) || summary.defines_global(&joined)
        };
        if defines {
            return Some((m, joined.into_owned()));
        }
        // `KeyRepository.save` inherited from a base class of another module (`class
        // KeyRepository(BaseRepository)` after `from .base import BaseRepository`).
        if let (false, [class_name, method]) = (class, name) {
            if let Some(c) = summary.class(class_name) {
                for base in &c.imported_bases {
                    let target = format!("{base}.{method}");
                    if let Some(found) =
                        self.resolve_depth(m, &target, depth + 1, budget, missing, false)
                    {
                        return Some(found);
                    }
                }
            }
        }
        // `repo.save` of the module-level instance `repo = KeyRepository(table)` (imported by
        // another module, or handed out by a factory: `def get_repo(): return repo`).
        if let (false, [object, method]) = (class, name) {
            if let Some(made) = summary.instance(object) {
                let target = format!("{made}.{method}");
                let found = if made.contains('.') {
                    self.resolve_depth(m, &target, depth + 1, budget, missing, false)
                } else {
                    self.symbol(m, &[made, method], depth + 1, budget, missing, false)
                };
                if found.is_some() {
                    return found;
                }
            }
        }
        // Re-exported: `from .store import save as save`, `from .store import *`.
        if let Some(q) = summary.import_of(name[0]) {
            let mut target = q.to_string();
            for n in &name[1..] {
                target.push('.');
                target.push_str(n);
            }
            if let Some(found) = self.resolve_depth(m, &target, depth + 1, budget, missing, class) {
                return Some(found);
            }
        }
        for star in &summary.star_imports {
            let target = format!("{star}.{joined}");
            if let Some(found) = self.resolve_depth(m, &target, depth + 1, budget, missing, class) {
                return Some(found);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests;
