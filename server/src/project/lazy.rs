//! The closure of a lazy project (the server's index, issue #14): which modules must be
//! summarised for the findings of the others, when only some are summarised at first.
//!
//! The index summarises at start-up only the modules the pre-filter keeps (key material may enter
//! there, or a finding may arise) and, transitively, the modules their summaries *lead to*; every
//! other module is added to the project (its name resolves imports) and left without a summary
//! until something leads to it. What a summarised module leads to ([`Project::leads_of`]):
//!
//! * **its flows** (every module): the functions and module-level names of other modules it
//!   calls or reads (`@.store.save`, `from .settings import API_KEY`), the configuration classes
//!   it loads (`from_object(...)`, and the classes of a mapping of another module), resolved with
//!   [`Project::resolve_or_missing`] as the check does. Every call that leaves the module is
//!   followed (the check's `release`/`Wants` pruning is not: simpler, and a superset);
//! * **its imports** (an open document's module): every import path of it the rules may read a
//!   class or a DynamoDB object of (what [`Project::foreign_names`] reads), and the modules it
//!   imports whole;
//! * **its classes' bases** (a module reached through an import): the bases of other modules of
//!   its classes (inherited fields of a PynamoDB model).
//!
//! A lead whose resolution looked into a module without a summary is kept, and resolved again
//! once that module is summarised (a re-export may take it one module further); a module is
//! summarised once ([`Closure::next`]).

use rustc_hash::FxHashSet;

use super::{imported_object_paths, Project};

/// How far a module reached by the closure is followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reach {
    /// Its flows (calls, names and configuration classes of other modules).
    Flows,
    /// Its flows and its classes' bases (reached through an import of a class).
    Bases,
    /// Its flows, its imports and its classes' bases (an open document's module).
    Imports,
}

/// One way module `from` leads to another: an import path used there, read as a function or
/// module-level name, or (`class`) as a class or DynamoDB object; `whole`: also as a module
/// imported whole (`import app.db as db`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Lead {
    pub from: usize,
    pub path: String,
    pub class: bool,
    pub whole: bool,
    /// How far the modules it leads to are followed.
    pub reach: Reach,
}

impl Project {
    /// The leads of module `m`'s summary followed as far as `reach` says (none without a
    /// summary).
    pub fn leads_of(&self, m: usize, reach: Reach) -> Vec<Lead> {
        let Some(s) = self.modules.get(m).and_then(|x| x.summary.as_ref()) else {
            return Vec::new();
        };
        let lead = |path: &str, class: bool, whole: bool, reach: Reach| Lead {
            from: m,
            path: path.to_string(),
            class,
            whole,
            reach,
        };
        let mut paths: Vec<&str> = s.external_calls().chain(s.external_globals()).collect();
        paths.sort_unstable();
        paths.dedup();
        let mut out: Vec<Lead> = paths
            .into_iter()
            .map(|p| lead(p, false, false, Reach::Flows))
            .collect();
        for path in &s.loaded_configs {
            match path.strip_suffix("[]") {
                // `from_object(config[name])`: the mapping, then the classes it names (leads of
                // the mapping's module, [`Self::leads_of`] of it).
                Some(map) => out.push(lead(map, false, false, Reach::Flows)),
                None => out.push(lead(path, true, false, Reach::Flows)),
            }
        }
        for (_, values) in &s.class_maps {
            out.extend(
                values
                    .iter()
                    .filter(|v| v.contains('.'))
                    .map(|v| lead(v, true, false, Reach::Flows)),
            );
        }
        if reach != Reach::Flows {
            for c in &s.classes {
                out.extend(
                    c.imported_bases
                        .iter()
                        .map(|b| lead(b, true, false, Reach::Bases)),
                );
            }
        }
        if reach == Reach::Imports {
            out.extend(imported_object_paths(s).map(|(_, p)| lead(p, true, true, Reach::Bases)));
        }
        out
    }

    /// The modules without a summary that resolving `lead` looked into (empty: it resolves, or
    /// every module it could need has a summary).
    pub fn missing_for(&self, lead: &Lead) -> Vec<usize> {
        let mut missing = match self.resolve_or_missing(lead.from, &lead.path, lead.class) {
            Ok(_) => Vec::new(),
            Err(missing) => missing,
        };
        if lead.whole {
            if let Some(j) = self.imported_module(lead.from, &lead.path) {
                if self.modules[j].summary.is_none() && !missing.contains(&j) {
                    missing.push(j);
                }
            }
        }
        missing
    }
}

/// A closure in progress: the leads not resolved yet, and the modules already tried.
#[derive(Debug, Default)]
pub struct Closure {
    pending: Vec<Lead>,
    tried: FxHashSet<usize>,
}

impl Closure {
    /// Follows module `m` (summarised) as far as `reach` says.
    pub fn follow(&mut self, project: &Project, m: usize, reach: Reach) {
        self.pending.extend(project.leads_of(m, reach));
    }

    /// The modules to summarise next, each with how far to follow it once summarised: the
    /// modules without a summary the pending leads looked into that `lazy` says may be summarised
    /// (not an open document's, not unreadable), each once over the closure. Empty: the closure
    /// is complete (until [`Closure::follow`] gives it more).
    pub fn next(&mut self, project: &Project, lazy: &dyn Fn(usize) -> bool) -> Vec<(usize, Reach)> {
        let mut wanted: Vec<(usize, Reach)> = Vec::new();
        let tried = &self.tried;
        self.pending.retain(|lead| {
            let missing = project.missing_for(lead);
            let more = !missing.is_empty();
            wanted.extend(
                missing
                    .into_iter()
                    .filter(|&j| !tried.contains(&j) && lazy(j))
                    .map(|j| (j, lead.reach)),
            );
            more
        });
        // One entry a module, followed as far as its farthest lead says.
        wanted.sort_unstable_by_key(|&(j, r)| (j, std::cmp::Reverse(rank(r))));
        wanted.dedup_by_key(|(j, _)| *j);
        for &(j, _) in &wanted {
            self.tried.insert(j);
        }
        wanted
    }
}

fn rank(r: Reach) -> u8 {
    match r {
        Reach::Flows => 0,
        Reach::Bases => 1,
        Reach::Imports => 2,
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    use super::*;
    use crate::project::ModuleSummary;

    fn summary(text: &str) -> Arc<ModuleSummary> {
        let doc = crate::document::Document::new(text, 0);
        Arc::new(crate::engine::summarise::summarise(
            doc.view(),
            doc.source(),
            &crate::engine::Options::default(),
        ))
    }

    /// Runs a closure from `roots` over `texts` (module path → text), summarising what it asks
    /// for; the modules summarised, in path order.
    fn close(texts: &[(&str, &str)], roots: &[(&str, Reach)]) -> Vec<String> {
        let mut p = Project::new();
        let paths: Vec<PathBuf> = texts.iter().map(|(n, _)| PathBuf::from(n)).collect();
        let ids = p.add(&paths);
        let mut c = Closure::default();
        for (root, reach) in roots {
            let i = texts.iter().position(|(n, _)| n == root).unwrap();
            p.modules[ids[i]].summary = Some(summary(texts[i].1));
            c.follow(&p, ids[i], *reach);
        }
        let mut done = Vec::new();
        loop {
            let next = c.next(&p, &|_| true);
            if next.is_empty() {
                break;
            }
            for (j, reach) in next {
                let text = texts
                    .iter()
                    .find(|(n, _)| p.modules[j].path == Path::new(n))
                    .unwrap()
                    .1;
                p.modules[j].summary = Some(summary(text));
                done.push(p.modules[j].path.display().to_string());
                c.follow(&p, j, reach);
            }
        }
        done.sort();
        done
    }

    #[test]
    fn the_closure_follows_calls_transitively_and_through_re_exports() {
        let texts = [
            (
                "/w/app/routes.py",
                "import os\nfrom .relay import forward\n\ndef route():\n    forward(os.environ['API_KEY'])\n",
            ),
            ("/w/app/__init__.py", ""),
            ("/w/app/relay.py", "from .helpers import log_it\n\ndef forward(k):\n    log_it(k)\n"),
            ("/w/app/helpers/__init__.py", "from .impl import log_it\n"),
            ("/w/app/helpers/impl.py", "import logging\n\ndef log_it(v):\n    logging.info(v)\n"),
            ("/w/app/unrelated.py", "def other():\n    return 1\n"),
        ];
        assert_eq!(
            // The package's `__init__` too: `.relay.forward` unresolved, the resolution looked
            // into it for a re-export. Not the unrelated module.
            close(&texts, &[("/w/app/routes.py", Reach::Flows)]),
            [
                "/w/app/__init__.py",
                "/w/app/helpers/__init__.py",
                "/w/app/helpers/impl.py",
                "/w/app/relay.py"
            ]
        );
    }

    #[test]
    fn an_open_module_s_imports_lead_to_its_classes_and_their_bases() {
        let texts = [
            (
                "/w/app/handlers.py",
                "from .models import User\nimport app.db as db\n\ndef get(k):\n    return k\n",
            ),
            ("/w/app/__init__.py", ""),
            (
                "/w/app/models.py",
                "from .base import Base\n\nclass User(Base):\n    pass\n",
            ),
            ("/w/app/base.py", "class Base:\n    pass\n"),
            (
                "/w/app/db.py",
                "import boto3\ntable = boto3.resource('dynamodb').Table('t')\n",
            ),
        ];
        // Followed as a closed module's flows: nothing (it calls nothing of the project).
        assert!(close(&texts, &[("/w/app/handlers.py", Reach::Flows)]).is_empty());
        assert_eq!(
            close(&texts, &[("/w/app/handlers.py", Reach::Imports)]),
            [
                "/w/app/__init__.py",
                "/w/app/base.py",
                "/w/app/db.py",
                "/w/app/models.py"
            ]
        );
    }
}
