use super::*;
use crate::dataflow::FnFlow;
use std::sync::Mutex;

fn summary(functions: &[&str], imports: &[(&str, &str)], star: &[&str]) -> Arc<ModuleSummary> {
    let mut imports: Vec<(String, String)> = imports
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    imports.sort();
    Arc::new(ModuleSummary::from_parts(
        imports,
        star.iter().map(|s| s.to_string()).collect(),
        functions
            .iter()
            .map(|n| {
                (
                    FnFlow {
                        name: n.to_string(),
                        ..FnFlow::default()
                    },
                    0,
                )
            })
            .collect(),
    ))
}

fn project(files: &[(&str, Arc<ModuleSummary>)]) -> Project {
    let mut p = Project::new();
    let paths: Vec<PathBuf> = files.iter().map(|(p, _)| PathBuf::from(p)).collect();
    let ids = p.add(&paths);
    for (i, (_, s)) in ids.into_iter().zip(files) {
        p.modules[i].summary = Some(s.clone());
    }
    p
}

fn resolved(p: &Project, from: &str, path: &str) -> Option<(String, String)> {
    let from = p.module_of(Path::new(from))?;
    p.resolve_import(from, path)
        .map(|(m, s)| (p.modules[m].path.to_string_lossy().into_owned(), s))
}

#[test]
fn qualifiers_follow_packages_and_src_layouts() {
    let empty = summary(&[], &[], &[]);
    let p = project(&[
        ("w/src/app/__init__.py", empty.clone()),
        ("w/src/app/store.py", empty.clone()),
        ("w/src/app/crud/__init__.py", empty.clone()),
        ("w/src/app/crud/keys.py", empty.clone()),
        ("w/scripts/tool.py", empty.clone()),
        ("w/ns/store.py", empty.clone()),
    ]);
    let q = |f: &str| {
        p.modules[p.module_of(Path::new(f)).unwrap()]
            .qualifier
            .clone()
    };
    assert_eq!(q("w/src/app/__init__.py"), "app");
    assert_eq!(q("w/src/app/store.py"), "app.store");
    assert_eq!(q("w/src/app/crud/keys.py"), "app.crud.keys");
    assert_eq!(q("w/scripts/tool.py"), "tool");
    // A namespace module named like another is told apart by its full path.
    assert_eq!(q("w/ns/store.py"), "store");
}

#[test]
fn imports_resolve_absolute_relative_and_through_reexports() {
    let p = project(&[
        (
            "w/app/__init__.py",
            summary(&[], &[("save", ".store.save_client")], &[".repo"]),
        ),
        ("w/app/store.py", summary(&["save_client"], &[], &[])),
        (
            "w/app/repo.py",
            summary(&["Repo.put", "scan_all"], &[], &[]),
        ),
        ("w/app/crud/__init__.py", summary(&[], &[], &[])),
        ("w/app/crud/keys.py", summary(&["create"], &[], &[])),
        ("w/app/main.py", summary(&["route"], &[], &[])),
    ]);
    let store = Some(("w/app/store.py".to_string(), "save_client".to_string()));
    // `from .store import save_client`
    assert_eq!(resolved(&p, "w/app/main.py", ".store.save_client"), store);
    // `from . import store` then `store.save_client(...)`: bound as `..store`.
    assert_eq!(resolved(&p, "w/app/main.py", "..store.save_client"), store);
    // `from ..store import save_client` from a subpackage.
    assert_eq!(
        resolved(&p, "w/app/crud/keys.py", "..store.save_client"),
        store
    );
    // Absolute, and `import app.crud.keys as keys` then `keys.create(...)`.
    assert_eq!(
        resolved(&p, "w/app/main.py", "app.store.save_client"),
        store
    );
    assert_eq!(
        resolved(&p, "w/app/main.py", "app.crud.keys.create"),
        Some(("w/app/crud/keys.py".into(), "create".into()))
    );
    // Re-exported by the package: `from .store import save_client as save`, `from .repo import *`.
    assert_eq!(resolved(&p, "w/app/main.py", "app.save"), store);
    // `from . import scan_all`: a name the package re-exports from `.repo`.
    assert_eq!(
        resolved(&p, "w/app/main.py", "..scan_all"),
        Some(("w/app/repo.py".into(), "scan_all".into()))
    );
    assert_eq!(
        resolved(&p, "w/app/main.py", "app.scan_all"),
        Some(("w/app/repo.py".into(), "scan_all".into()))
    );
    assert_eq!(
        resolved(&p, "w/app/main.py", "app.repo.Repo.put"),
        Some(("w/app/repo.py".into(), "Repo.put".into()))
    );
    // Not of the project.
    assert_eq!(resolved(&p, "w/app/main.py", "os.path.join"), None);
    assert_eq!(resolved(&p, "w/app/main.py", "app.store.missing"), None);
}

#[test]
fn a_name_inside_a_package_resolves_only_from_below_where_it_starts() {
    let p = project(&[
        ("w/pkg/__init__.py", summary(&[], &[], &[])),
        ("w/pkg/serializers/__init__.py", summary(&[], &[], &[])),
        ("w/pkg/serializers/json.py", summary(&["dumps"], &[], &[])),
        ("w/pkg/serializers/python.py", summary(&["dump"], &[], &[])),
        ("w/pkg/db/__init__.py", summary(&[], &[], &[])),
        ("w/pkg/db/models.py", summary(&["save"], &[], &[])),
        ("w/app/__init__.py", summary(&[], &[], &[])),
        ("w/app/crud.py", summary(&["save"], &[], &[])),
        ("w/app/main.py", summary(&["route"], &[], &[])),
        ("w/app/routers/__init__.py", summary(&[], &[], &[])),
        ("w/app/routers/items.py", summary(&["read"], &[], &[])),
    ]);
    // `import json` in `pkg/db/models.py` is the standard library's, not `pkg.serializers.json`.
    assert_eq!(resolved(&p, "w/pkg/db/models.py", "json.dumps"), None);
    // By its name from the topmost package, from anywhere.
    let dumps = Some(("w/pkg/serializers/json.py".into(), "dumps".into()));
    assert_eq!(
        resolved(&p, "w/pkg/db/models.py", "pkg.serializers.json.dumps"),
        dumps
    );
    // A module of the directory (on `sys.path` when a script there runs) may mean it.
    assert_eq!(
        resolved(&p, "w/pkg/serializers/python.py", "json.dumps"),
        dumps
    );
    // An app run from `app/` (`uvicorn main:app`) imports its modules by their bare names,
    // from its subpackages too, though `app/` has an `__init__.py`.
    let save = Some(("w/app/crud.py".into(), "save".into()));
    assert_eq!(resolved(&p, "w/app/main.py", "crud.save"), save);
    assert_eq!(resolved(&p, "w/app/routers/items.py", "crud.save"), save);
    assert_eq!(
        resolved(&p, "w/app/main.py", "routers.items.read"),
        Some(("w/app/routers/items.py".into(), "read".into()))
    );
    // Not from outside `app/`.
    assert_eq!(resolved(&p, "w/pkg/db/models.py", "crud.save"), None);
    assert_eq!(resolved(&p, "w/pkg/db/models.py", "app.crud.save"), save);
}

#[test]
fn a_removed_module_no_longer_resolves() {
    let mut p = project(&[
        ("w/app/__init__.py", summary(&[], &[], &[])),
        ("w/app/store.py", summary(&["save_client"], &[], &[])),
        ("w/app/main.py", summary(&["route"], &[], &[])),
    ]);
    assert!(resolved(&p, "w/app/main.py", ".store.save_client").is_some());
    p.remove(Path::new("w/app/store.py"));
    assert_eq!(resolved(&p, "w/app/main.py", ".store.save_client"), None);
}

fn with_classes(s: &Arc<ModuleSummary>, classes: Vec<ClassSummary>) -> Arc<ModuleSummary> {
    let mut s = (**s).clone();
    s.classes = classes;
    Arc::new(s)
}

fn model_class(name: &str, pynamo: bool, fields: &[&str], bases: &[&str]) -> ClassSummary {
    ClassSummary {
        name: name.into(),
        pynamo,
        fields: fields.iter().map(|f| f.to_string()).collect(),
        imported_bases: bases.iter().map(|b| b.to_string()).collect(),
    }
}

#[test]
fn imported_models_resolve_with_the_attributes_of_their_bases_of_other_modules() {
    let base = with_classes(
        &summary(&[], &[], &[]),
        vec![model_class("Owned", true, &["api_key"], &[])],
    );
    let models = with_classes(
        &summary(&[], &[("Owned", ".base.Owned")], &[]),
        vec![
            model_class("Client", false, &["name"], &[".base.Owned"]),
            model_class("User", true, &["token"], &[]),
        ],
    );
    let routes = summary(
        &[],
        &[
            ("Client", "app.models.Client"),
            ("User", ".models.User"),
            ("Other", ".models.Other"),
            ("Request", "fastapi.Request"),
        ],
        &[],
    );
    let p = project(&[
        ("w/app/__init__.py", summary(&[], &[], &[])),
        ("w/app/base.py", base),
        ("w/app/models.py", models),
        ("w/app/routes.py", routes),
    ]);
    let m = p.module_of(Path::new("w/app/routes.py")).unwrap();
    let names = p.foreign_names(m);
    let shown: Vec<(&str, bool, Vec<&str>)> = names
        .iter()
        .map(|n| {
            (
                n.bound.as_str(),
                n.pynamo,
                n.fields.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            ("Client", true, vec!["api_key", "name"]),
            ("User", true, vec!["token"])
        ]
    );
}

/// A models module whose PynamoDB model `User` has `fields`.
fn user_models(fields: &[&str]) -> Arc<ModuleSummary> {
    with_classes(
        &summary(&[], &[], &[]),
        vec![model_class("User", true, fields, &[])],
    )
}

/// A package with `models.py` (`User` with a `token`) and `routes.py` importing it: the project,
/// the routes module and the models module.
fn user_model_and_routes() -> (Project, usize, usize) {
    let routes = summary(&["list_users"], &[("User", ".models.User")], &[]);
    let p = project(&[
        ("w/app/__init__.py", summary(&[], &[], &[])),
        ("w/app/models.py", user_models(&["token"])),
        ("w/app/routes.py", routes),
    ]);
    let r = p.module_of(Path::new("w/app/routes.py")).unwrap();
    let mm = p.module_of(Path::new("w/app/models.py")).unwrap();
    (p, r, mm)
}

#[test]
fn a_change_of_an_imported_model_makes_the_modules_that_asked_for_it_stale() {
    let (mut p, r, mm) = user_model_and_routes();
    let mut live = flow::LiveFlow::default();
    live.sync(&p, None);
    assert_eq!(live.classes(&p, r)[0].fields, ["token"]);
    let v = live.version(r);
    // The same classes again (another summary): nothing stale.
    p.modules[mm].summary = Some(user_models(&["token"]));
    assert!(live.take_stale(&p).is_empty());
    // Its attribute renamed: the routes module is stale, with a new version and the new fields.
    p.modules[mm].summary = Some(user_models(&["nickname"]));
    assert_eq!(live.take_stale(&p), [r]);
    assert!(live.version(r) > v);
    assert_eq!(live.classes(&p, r)[0].fields, ["nickname"]);
}

/// The routes module's analysis read the classes it imports, then the models module changed
/// them, then the routes module's own analysis brought the state up (for its view): that
/// analysis read the old classes, so the module is stale all the same. (Exempting the asking
/// module lost the change: the route module was never analysed again.)
#[test]
fn a_change_of_imported_classes_seen_later_by_the_asking_module_s_own_analysis_is_stale() {
    let (mut p, r, mm) = user_model_and_routes();
    let mut live = flow::LiveFlow::default();
    // The routes module's analysis reads its classes.
    live.sync_classes(&p, r);
    assert_eq!(live.classes(&p, r)[0].fields, ["token"]);
    // The models module changes them; the routes module's analysis goes on to its view.
    p.modules[mm].summary = Some(user_models(&["nickname"]));
    live.sync(&p, Some(r));
    assert_eq!(live.take_stale(&p), [r]);
    // Read by its next analysis: no news to it.
    p.modules[mm].summary = Some(user_models(&["token"]));
    live.sync_classes(&p, r);
    assert_eq!(live.classes(&p, r)[0].fields, ["token"]);
    assert!(live.take_stale(&p).is_empty());
}

/// The fixture project `dir` (under `fixtures/projects/`), every module summarised.
fn fixture_project(dir: &str) -> Project {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/projects")
        .join(dir);
    let paths = discover(&root, |_, _| false);
    let mut p = Project::new();
    let ids = p.add(&paths);
    let config = crate::config::Config::default();
    for (m, path) in ids.into_iter().zip(&paths) {
        let text = std::fs::read_to_string(path).unwrap();
        let doc = crate::document::Document::new(&text, 0);
        let s = crate::engine::summarise::summarise(
            doc.view(),
            doc.source(),
            &config.options_for(path),
        );
        p.modules[m].summary = Some(Arc::new(s));
    }
    p
}

/// `keylint check` builds only the views it wants, judged on a probe of each: the probe holds
/// what the view holds (the same facts under the same names, another file named exactly when
/// the view names one), and the views built are those of [`Project::resolve_all`].
#[test]
fn probes_tell_what_views_hold_and_wanted_views_are_the_full_ones() {
    for dir in ["fastapi_dynamo", "fastapi_layers"] {
        let p = fixture_project(dir);
        let all = p.resolve_all();
        assert!(all.len() > 1, "{dir}: modules linked");
        let seen = Mutex::new(Vec::new());
        let some = p.resolve_wanted(&|m, probe| {
            let view = &all[&m];
            assert_eq!(
                probe.foreign,
                view.foreign_file(0).is_some(),
                "{dir}: module {m}"
            );
            let names: Vec<&str> = probe.functions.keys().copied().collect();
            let want: Vec<&str> = view.function_facts().keys().map(|k| &**k).collect();
            assert_eq!(names, want, "{dir}: module {m}");
            for (name, facts) in &probe.functions {
                let v = &view.function_facts()[*name];
                assert_eq!(
                    (&facts.params, &facts.param_sinks, facts.raises),
                    (&v.params, &v.param_sinks, v.raises)
                );
                assert_eq!(facts.scan.is_some(), v.scan.is_some());
                assert_eq!(facts.ret.len(), v.ret.len());
                assert_eq!(facts.param_in.len(), v.param_in.len());
            }
            let globals: Vec<&str> = probe.globals.keys().copied().collect();
            let want: Vec<&str> = view.global_facts().keys().map(String::as_str).collect();
            assert_eq!(globals, want, "{dir}: module {m}");
            seen.lock().unwrap().push((m, probe.foreign));
            m % 2 == 0
        });
        let seen = seen.into_inner().unwrap();
        assert_eq!(seen.len(), all.len(), "{dir}: every linked module probed");
        assert!(
            seen.iter().any(|(_, f)| *f),
            "{dir}: a view names another file"
        );
        for (m, _) in seen {
            assert_eq!(
                some.get(&m),
                (m % 2 == 0).then(|| &all[&m]),
                "{dir}: module {m}"
            );
        }
        assert!(some.len() < all.len(), "{dir}: views left out");
    }
}

/// `keylint check`'s batch resolution ([`crate::dataflow::resolve_batch`]) holds the facts of a
/// resolution from scratch: every function's and global's, and the starts of the items their
/// paths pass through, on the flows of each module of every fixture project alone and of each
/// project's modules together.
#[test]
fn the_batch_resolution_holds_the_facts_of_a_resolution_from_scratch() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/projects");
    let mut dirs: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    assert!(dirs.len() > 10, "fixture projects: {dirs:?}");
    let mut with_paths = 0;
    for dir in &dirs {
        let p = fixture_project(dir);
        let each: Vec<Vec<(FnFlow, usize)>> = p
            .modules
            .iter()
            .filter_map(|m| m.summary.as_ref())
            .map(|s| s.flows().map(|(f, start)| (f.clone(), start)).collect())
            .collect();
        let together: Vec<(FnFlow, usize)> = each.iter().flatten().cloned().collect();
        for flows in each.iter().chain(std::iter::once(&together)) {
            let scratch = crate::dataflow::resolve(flows.iter().map(|(f, s)| (f, *s)));
            let batch = crate::dataflow::resolve_batch(flows.clone());
            assert_eq!(batch, scratch, "{dir}");
            assert_eq!(batch.anchor_starts(), scratch.anchor_starts(), "{dir}");
            with_paths += usize::from(!batch.anchor_starts().is_empty());
        }
    }
    assert!(with_paths > 10, "{with_paths} resolutions with paths");
}

/// A project of one module, `app/main.py`, indexed with the summary of `doc`, and an analyzer
/// of it that resolves through the live project (as the server's): the project, the module and
/// the analyzer.
fn live_module(
    doc: &crate::document::Document,
) -> (
    Arc<std::sync::RwLock<Project>>,
    usize,
    crate::engine::Analyzer,
) {
    let mut p = Project::new();
    let m = p.add(&[PathBuf::from("app/main.py")])[0];
    p.modules[m].summary = Some(Arc::new(crate::engine::summarise::summarise(
        doc.view(),
        doc.source(),
        &crate::rules::Options::default(),
    )));
    let project = Arc::new(std::sync::RwLock::new(p));
    let live = Arc::new(Mutex::new(flow::LiveFlow::default()));
    let mut analyzer = crate::engine::Analyzer::new();
    analyzer.set_resolver(Some(Arc::new(flow::LiveResolver::new(
        project.clone(),
        live,
        m,
    ))));
    (project, m, analyzer)
}

/// A keystroke in a handler of an open module hands the project the analyzer's items: the
/// module's summary shares them (by address) instead of a copy of every flow (issue #14: the
/// copy grew with the module).
#[test]
fn the_live_resolver_shares_the_analyzers_items() {
    use crate::document::Document;
    let text = |extra: &str| {
        format!(
            "import logging\nfrom fastapi import FastAPI, Header\n\nlogger = logging.getLogger()\n\
             app = FastAPI()\n\n\ndef audit(key):\n    return key\n\n\n@app.get(\"/a\")\n\
             def a(x_api_key: str = Header()):\n    audit(x_api_key){extra}\n    return {{}}\n"
        )
    };
    let opts = crate::rules::Options::default();
    let first = Document::new(&text(""), 0);
    let (project, m, mut analyzer) = live_module(&first);
    // Opened: its summary becomes the analysis's (as `lsp/workspace.rs::after_analysis` does).
    let analysis = analyzer.analyze(first.view(), first.source(), &opts);
    let summary = ModuleSummary::new(
        analyzer.flows(),
        &analysis.model,
        first.view(),
        first.source(),
    );
    project.write().unwrap().modules[m].summary = Some(Arc::new(summary));
    // A line typed in the handler: its flow changes, the others are the analyzer's.
    let doc = Document::new(&text("\n    logger.info(x_api_key)"), 0);
    analyzer.analyze(doc.view(), doc.source(), &opts);
    let items: Vec<_> = analyzer.flows().collect();
    let p = project.read().unwrap();
    let summary = p.modules[m].summary.as_ref().unwrap();
    assert!(
        summary.same_items(&items),
        "the summary has the module's flows"
    );
    assert!(summary.shares_items(&items), "the summary copied the flows");
}

/// A keystroke's analysis puts its flows in the project before it ends (its resolver brings the
/// live state up): the summary it makes keeps the module's other facts — factories, instances,
/// loaded configurations, classes — or other modules would see them vanish for that moment (an
/// interface change: every module linked again, a view without the factory's class).
#[test]
fn a_keystroke_s_summary_keeps_the_module_s_factories_instances_and_configs() {
    use crate::document::Document;
    let text = |extra: &str| {
        format!(
            "from flask import Flask\n\n\nclass Repo:\n    def save(self, k):\n        return k\n\n\n\
             repo = Repo()\napp = Flask(__name__)\napp.config.from_object(\"app.settings.Prod\")\n\n\n\
             def get_repo():\n    return Repo()\n\n\ndef audit(key):\n    x = key{extra}\n    return x\n"
        )
    };
    let opts = crate::rules::Options::default();
    let first = Document::new(&text(""), 0);
    let (project, m, mut analyzer) = live_module(&first);
    let indexed = (**project.read().unwrap().modules[m].summary.as_ref().unwrap()).clone();
    assert!(!indexed.factories.is_empty(), "{indexed:?}");
    assert!(!indexed.instances.is_empty(), "{indexed:?}");
    assert!(!indexed.loaded_configs.is_empty(), "{indexed:?}");
    // Typed in `audit`: calls that change its flow.
    let typed = ["", "\n    repo.save(x)", "\n    get_repo().save(x)"];
    for (i, extra) in typed.iter().enumerate() {
        let doc = Document::new(&text(extra), i as i32);
        analyzer.analyze(doc.view(), doc.source(), &opts);
        let p = project.read().unwrap();
        let s = p.modules[m].summary.as_ref().unwrap();
        let items: Vec<_> = analyzer.flows().collect();
        assert!(
            s.same_items(&items),
            "keystroke {i}: its flows are in the project"
        );
        assert_eq!(s.factories, indexed.factories, "keystroke {i}");
        assert_eq!(s.instances, indexed.instances, "keystroke {i}");
        assert_eq!(s.loaded_configs, indexed.loaded_configs, "keystroke {i}");
    }
}

/// The summary made after each analysis finds the module's `import *`s among the `from` imports
/// the analyzer's items name (no walk of every statement), and shares the last summary's sorted
/// names while a keystroke leaves the module's functions as they were; renaming one sorts them
/// again.
#[test]
fn a_summary_made_like_the_last_one_is_the_summary_made_from_scratch() {
    use crate::document::{ContentChange, Document, Pos, PositionEncoding};
    use crate::engine::Analyzer;
    let text = "from .a import *\nimport os\nfrom .b import c\n\ndef f(x):\n    return x\n\n\nclass K:\n    from .z import *\n\n\nfrom .d import *\n\n\ndef g():\n    pass\n";
    let mut doc = Document::new(text, 1);
    let mut analyzer = Analyzer::new();
    let options = crate::rules::Options::default();
    let a = analyzer.analyze(doc.view(), doc.source(), &options);
    let starts = analyzer.top_level_starts(ModuleSummary::from_import_kind());
    let make = |analyzer: &Analyzer, a: &crate::engine::Analysis, doc: &Document, old| {
        let starts = analyzer.top_level_starts(ModuleSummary::from_import_kind());
        let like = ModuleSummary::new_like(
            old,
            analyzer.flows(),
            &a.model,
            doc.view(),
            doc.source(),
            Some(&starts),
        );
        let fresh = ModuleSummary::new(analyzer.flows(), &a.model, doc.view(), doc.source());
        assert_eq!(like, fresh);
        assert_eq!(like.star_imports, fresh.star_imports);
        assert_eq!(like.function_names(), fresh.function_names());
        like
    };
    assert_eq!(starts.len(), 3, "{starts:?}");
    let first = make(&analyzer, &a, &doc, None);
    assert_eq!(first.star_imports, vec![".a".to_string(), ".d".to_string()]);
    let edit = |analyzer: &mut Analyzer, doc: &mut Document, at: (u32, u32), s: &str| {
        let version = doc.version + 1;
        let change = ContentChange {
            range: Some((Pos::new(at.0, at.1), Pos::new(at.0, at.1))),
            text: s.to_string(),
        };
        doc.apply_changes(&[change], version, PositionEncoding::Utf8);
        analyzer.analyze(doc.view(), doc.source(), &options)
    };
    // In a body: the names are shared.
    let a = edit(&mut analyzer, &mut doc, (5, 12), " + 1");
    let body = make(&analyzer, &a, &doc, Some(&first));
    assert!(std::ptr::eq(
        body.function_names().as_ptr(),
        first.function_names().as_ptr()
    ));
    // A function renamed (`g` → `gh`): sorted again.
    let a = edit(&mut analyzer, &mut doc, (15, 5), "h");
    let renamed = make(&analyzer, &a, &doc, Some(&body));
    assert!(renamed.defines_function("gh") && !renamed.defines_function("g"));
    // A star import made a plain one, and one added.
    let a = edit(&mut analyzer, &mut doc, (12, 15), "e as d_e  # ");
    let _ = make(&analyzer, &a, &doc, Some(&renamed));
    let a = edit(&mut analyzer, &mut doc, (2, 0), "from .q import *\n");
    let added = make(&analyzer, &a, &doc, Some(&renamed));
    assert_eq!(added.star_imports, vec![".a".to_string(), ".q".to_string()]);
}

#[test]
fn dynamodb_objects_of_a_module_imported_whole_are_foreign_names_under_the_module() {
    let mut db = summary(&[], &[], &[]);
    Arc::get_mut(&mut db).unwrap().handles = vec![
        ("table".to_string(), "boto3.resource().Table()".to_string()),
        ("users".to_string(), "boto3.resource().Table()".to_string()),
    ];
    // `import app.db as db`, `from . import db` (bound as `..db`), and a function imported by
    // name (no module: nothing).
    let routes = summary(
        &[],
        &[("db", "app.db"), ("rel", "..db"), ("save", "app.db.save")],
        &[],
    );
    let p = project(&[
        ("w/app/__init__.py", summary(&[], &[], &[])),
        ("w/app/db.py", db),
        ("w/app/routes.py", routes),
    ]);
    let m = p.module_of(Path::new("w/app/routes.py")).unwrap();
    let shown: Vec<(String, Option<String>)> = p
        .foreign_names(m)
        .into_iter()
        .map(|n| (n.bound, n.made_by))
        .collect();
    let table = Some("boto3.resource().Table()".to_string());
    assert_eq!(
        shown,
        [
            ("db.table".to_string(), table.clone()),
            ("db.users".to_string(), table.clone()),
            ("rel.table".to_string(), table.clone()),
            ("rel.users".to_string(), table),
        ]
    );
}

/// What the live flow's synchronisation skips on a keystroke: the interface (names, imports) and
/// the calls into other modules of a summary made like the last one are compared in proportion to
/// the items that changed, and agree with a comparison of everything.
#[test]
fn a_keystroke_in_a_body_keeps_the_interface_and_the_calls_into_other_modules() {
    use crate::document::{ContentChange, Document, Pos, PositionEncoding};
    use crate::engine::Analyzer;
    let text = "from .store import save\n\n\ndef f(x):\n    save(x)\n\n\ndef g(y):\n    return y\n\n\ndef h():\n    pass\n";
    let mut doc = Document::new(text, 1);
    let mut analyzer = Analyzer::new();
    let options = crate::rules::Options::default();
    let a = analyzer.analyze(doc.view(), doc.source(), &options);
    let make = |analyzer: &Analyzer, a: &crate::engine::Analysis, doc: &Document, old| {
        let starts = analyzer.top_level_starts(ModuleSummary::from_import_kind());
        ModuleSummary::new_like(
            old,
            analyzer.flows(),
            &a.model,
            doc.view(),
            doc.source(),
            Some(&starts),
        )
    };
    let refs = |s: &ModuleSummary| -> Vec<String> {
        s.flows()
            .flat_map(|(f, _)| {
                f.calls
                    .iter()
                    .map(|c| c.callee.clone())
                    .chain(f.globals.iter().cloned())
            })
            .filter(|c| c.starts_with('@'))
            .collect()
    };
    let names = |s: &ModuleSummary| {
        (
            s.function_names().to_vec(),
            s.global_names().to_vec(),
            s.imports.clone(),
        )
    };
    let check = |new: &ModuleSummary, old: &ModuleSummary| {
        assert_eq!(new.same_external_refs(old), refs(new) == refs(old));
        assert_eq!(new.same_external_refs(old), old.same_external_refs(new));
        assert_eq!(new.same_interface(old), names(new) == names(old));
    };
    let edit = |analyzer: &mut Analyzer, doc: &mut Document, at: (u32, u32), s: &str| {
        let version = doc.version + 1;
        let change = ContentChange {
            range: Some((Pos::new(at.0, at.1), Pos::new(at.0, at.1))),
            text: s.to_string(),
        };
        doc.apply_changes(&[change], version, PositionEncoding::Utf8);
        analyzer.analyze(doc.view(), doc.source(), &options)
    };
    let first = make(&analyzer, &a, &doc, None);
    assert_eq!(refs(&first), vec!["@.store.save".to_string()]);
    // In a body: the same names, the same calls into other modules (and the items above and
    // below are shared, wherever they start now).
    let a = edit(&mut analyzer, &mut doc, (8, 12), " + 1");
    let body = make(&analyzer, &a, &doc, Some(&first));
    check(&body, &first);
    assert!(body.same_interface(&first) && body.same_external_refs(&first));
    // A call to the imported function added: the links are to be read again.
    let a = edit(&mut analyzer, &mut doc, (8, 4), "save(y)\n    ");
    let call = make(&analyzer, &a, &doc, Some(&body));
    check(&call, &body);
    assert!(call.same_interface(&body) && !call.same_external_refs(&body));
    // A function renamed (`h` → `hh`): the interface changed.
    let a = edit(&mut analyzer, &mut doc, (12, 5), "h");
    let renamed = make(&analyzer, &a, &doc, Some(&call));
    check(&renamed, &call);
    assert!(!renamed.same_interface(&call) && renamed.same_external_refs(&call));
    assert!(renamed.defines_function("hh"));
}

#[test]
fn models_of_a_module_imported_whole_are_foreign_names_under_the_module() {
    let base = with_classes(
        &summary(&[], &[], &[]),
        vec![model_class("Owned", true, &["api_key"], &[])],
    );
    let models = with_classes(
        &summary(&[], &[("Owned", ".base.Owned")], &[]),
        vec![
            model_class("Client", false, &["name"], &[".base.Owned"]),
            // Not a model: no name for it.
            model_class("Helper", false, &["x"], &[]),
            model_class("User", true, &["token"], &[]),
        ],
    );
    // `from . import models` (bound as `..models`) and `import app.models as m`.
    let routes = summary(&[], &[("models", "..models"), ("m", "app.models")], &[]);
    let p = project(&[
        ("w/app/__init__.py", summary(&[], &[], &[])),
        ("w/app/base.py", base),
        ("w/app/models.py", models),
        ("w/app/routes.py", routes),
    ]);
    let m = p.module_of(Path::new("w/app/routes.py")).unwrap();
    let shown: Vec<(String, bool, Vec<String>)> = p
        .foreign_names(m)
        .into_iter()
        .map(|n| (n.bound, n.pynamo, n.fields))
        .collect();
    let client = (true, vec!["api_key".to_string(), "name".to_string()]);
    let user = (true, vec!["token".to_string()]);
    assert_eq!(
        shown,
        [
            ("m.Client".to_string(), client.0, client.1.clone()),
            ("m.User".to_string(), user.0, user.1.clone()),
            ("models.Client".to_string(), client.0, client.1),
            ("models.User".to_string(), user.0, user.1),
        ]
    );
}

/// The lookups of import resolution as they were made before [`Index`] (paths built and walked
/// at each call), to check the index against.
mod reference {
    use super::*;

    pub fn module_named(p: &Project, name: &str, from: usize) -> Option<usize> {
        let cands = p.by_name.get(name)?;
        let here = p.modules[from].path.parent().unwrap_or(Path::new(""));
        // Importable by the name: it covers the name from the topmost package, or it starts
        // at a directory holding `from`.
        let n = name.split('.').count();
        let importable = |c: usize| {
            let path = p.modules[c].path.as_path();
            let init = path.file_name().is_some_and(|f| f == "__init__.py");
            let mut start = path;
            for _ in 0..n + usize::from(init) {
                start = start.parent().unwrap_or(Path::new(""));
            }
            n >= p.package_len[c] || here.starts_with(start)
        };
        cands
            .iter()
            .copied()
            .filter(|&c| importable(c))
            .max_by_key(|&c| {
                let there = p.modules[c].path.as_path();
                (
                    here.components()
                        .zip(there.components())
                        .take_while(|(a, b)| a == b)
                        .count(),
                    std::cmp::Reverse(c),
                )
            })
    }

    pub fn module_at(p: &Project, dir: &Path, parts: &[&str]) -> Option<usize> {
        let mut d = dir.to_path_buf();
        for part in parts {
            d.push(part);
        }
        let file = d.with_extension("py");
        if !parts.is_empty() {
            if let Some(&i) = p.by_path.get(&file) {
                return Some(i);
            }
        }
        p.by_path.get(&d.join("__init__.py")).copied()
    }

    pub fn relative_dirs(p: &Project, from: usize, dots: usize) -> Vec<PathBuf> {
        let here = p.modules[from].path.parent().map(Path::to_path_buf);
        [dots, dots.saturating_sub(1)]
            .into_iter()
            .filter(|&level| level > 0)
            .map_while(|level| {
                let mut dir = here.clone()?;
                for _ in 1..level {
                    dir = dir.parent()?.to_path_buf();
                }
                Some(dir)
            })
            .collect()
    }
}

#[test]
fn the_index_answers_every_lookup_as_the_paths_did() {
    let empty = summary(&[], &[], &[]);
    let mut p = project(&[
        (
            "w/app/__init__.py",
            summary(&[], &[("save", ".store.save_client")], &[]),
        ),
        // A module shadowed by a package of the same name (the file wins, as in `module_at`).
        ("w/app/store.py", summary(&["save_client"], &[], &[])),
        ("w/app/store/__init__.py", summary(&["pkg_save"], &[], &[])),
        ("w/app/store/dynamo.py", empty.clone()),
        ("w/app/crud/__init__.py", empty.clone()),
        ("w/app/crud/keys.py", summary(&["create"], &[], &[])),
        ("w/app/crud/models.py", empty.clone()),
        ("w/app/main.py", empty.clone()),
        ("w/app/models.py", empty.clone()),
        ("w/other/models.py", empty.clone()),
        ("w/src/lib/__init__.py", empty.clone()),
        ("w/src/lib/util.py", empty.clone()),
        ("w/src/lib/a.b.py", empty.clone()),
        ("w/src/lib/stub.pyi", empty.clone()),
        ("top.py", empty.clone()),
        ("./dot/__init__.py", empty.clone()),
        ("./dot/x.py", empty.clone()),
        ("/abs/pkg/__init__.py", empty.clone()),
        ("/abs/pkg/mod.py", empty.clone()),
        ("/abs/pkg/gone.py", empty.clone()),
    ]);
    p.remove(Path::new("/abs/pkg/gone.py"));
    let mut names: Vec<String> = p.by_name.keys().cloned().collect();
    names.extend(
        [
            "missing",
            "app.missing",
            "w.app",
            "a.b",
            "lib.stub",
            "pkg.gone",
        ]
        .map(String::from),
    );
    names.sort();
    let parts: Vec<Vec<&str>> = [
        "",
        "store",
        "store.dynamo",
        "crud",
        "crud.keys",
        "crud.models",
        "models",
        "app",
        "app.store",
        "app.crud.keys",
        "w.app.main",
        "lib",
        "lib.util",
        "a.b",
        "a",
        "stub",
        "__init__",
        "pkg",
        "pkg.mod",
        "pkg.gone",
        "dot.x",
        "x",
        "main",
        "missing.x",
        "src.lib",
    ]
    .iter()
    .map(|s| s.split('.').filter(|x| !x.is_empty()).collect())
    .collect();
    let mut checked = 0;
    for from in 0..p.modules.len() {
        for name in &names {
            assert_eq!(
                p.module_named(name, from),
                reference::module_named(&p, name, from),
                "{name} from {:?}",
                p.modules[from].path
            );
        }
        for dots in 1..=5 {
            let ids: Vec<u32> = p.relative_dirs(from, dots).collect();
            let dirs = reference::relative_dirs(&p, from, dots);
            assert_eq!(ids.len(), dirs.len(), "levels of {dots} dots");
            for (&id, dir) in ids.iter().zip(&dirs) {
                for rest in &parts {
                    assert_eq!(
                        p.module_at(id, rest),
                        reference::module_at(&p, dir, rest),
                        "{rest:?} under {dir:?}"
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 1000, "{checked} lookups");
    // What the lookups lead to: the file shadows the package, relative and absolute alike; the
    // package `__init__` re-exports; the nearest of the `models`.
    let store = Some(("w/app/store.py".to_string(), "save_client".to_string()));
    assert_eq!(resolved(&p, "w/app/main.py", ".store.save_client"), store);
    assert_eq!(
        resolved(&p, "w/app/main.py", "app.store.save_client"),
        store
    );
    assert_eq!(resolved(&p, "w/app/main.py", "app.save"), store);
    assert_eq!(
        resolved(&p, "w/app/crud/keys.py", "..store.save_client"),
        store
    );
    assert_eq!(resolved(&p, "w/app/main.py", ".store.pkg_save"), None);
    let models = |from: &str| {
        let m = p.module_of(Path::new(from)).unwrap();
        p.modules[p.module_named("models", m).unwrap()].path.clone()
    };
    // Not `app/crud/models.py`: `import models` finds it only from `app/crud/`.
    assert_eq!(models("w/app/main.py"), PathBuf::from("w/app/models.py"));
    assert_eq!(
        models("w/app/crud/keys.py"),
        PathBuf::from("w/app/crud/models.py")
    );
    assert_eq!(
        models("w/other/models.py"),
        PathBuf::from("w/other/models.py")
    );
}

#[test]
fn one_resolution_tells_what_a_path_finds_or_the_modules_it_missed() {
    let mut p = project(&[
        (
            "w/app/__init__.py",
            summary(&[], &[("save", ".store.save_client")], &[".repo"]),
        ),
        ("w/app/store.py", summary(&["save_client"], &[], &[])),
        ("w/app/repo.py", summary(&["Repo.put"], &[], &[])),
        ("w/app/main.py", summary(&["route"], &[], &[])),
    ]);
    let repo = p.module_of(Path::new("w/app/repo.py")).unwrap();
    let store = p.module_of(Path::new("w/app/store.py")).unwrap();
    let main = p.module_of(Path::new("w/app/main.py")).unwrap();
    p.modules[store].summary = None;
    let paths = [
        ".store.save_client",
        "app.save",
        "app.repo.Repo.put",
        "..repo.Repo.put",
        "app.missing",
        "os.path.join",
        ".repo.Repo",
    ];
    for _ in 0..2 {
        for path in paths {
            for class in [false, true] {
                let (found, missing) = if class {
                    (
                        p.resolve_class(main, path),
                        p.unsummarised_for_class(main, path),
                    )
                } else {
                    (p.resolve_import(main, path), p.unsummarised_for(main, path))
                };
                let one = p.resolve_or_missing(main, path, class);
                match found {
                    Some(f) => assert_eq!(one, Ok(f), "{path}"),
                    None => assert_eq!(one, Err(missing), "{path}"),
                }
            }
        }
        // The package re-exports it from the module without a summary.
        assert!(
            matches!(p.resolve_or_missing(main, "app.save", false), Err(m) if m.contains(&store))
        );
        p.modules[repo].summary = None;
    }
}

/// The check's closure summarises, of the modules a resolution looked into, only the first one
/// (the longest prefix of the path naming a module); a shorter prefix (the package) is looked
/// into only when that one does not resolve the path, and once both are summarised the result is
/// the eager resolution's.
#[test]
fn a_resolution_asks_first_for_the_module_of_the_longest_prefix() {
    let mut p = project(&[
        ("w/pkg/__init__.py", summary(&[], &[], &[])),
        ("w/pkg/sub.py", summary(&["f"], &[], &[])),
        ("w/app/main.py", summary(&["route"], &[], &[])),
    ]);
    let init = p.module_of(Path::new("w/pkg/__init__.py")).unwrap();
    let sub = p.module_of(Path::new("w/pkg/sub.py")).unwrap();
    let main = p.module_of(Path::new("w/app/main.py")).unwrap();
    let (init_summary, sub_summary) = (
        p.modules[init].summary.take(),
        p.modules[sub].summary.take(),
    );
    // Eagerly, both modules are missing.
    let eager = p.resolve_or_missing(main, "pkg.sub.f", false);
    assert!(
        matches!(&eager, Err(m) if m.contains(&init) && m.contains(&sub)),
        "{eager:?}"
    );
    let all = |_: usize| true;
    assert_eq!(
        p.resolve_or_first_missing(main, "pkg.sub.f", false, &all),
        Err(Some(sub))
    );
    // A module that cannot be summarised (tried, not linkable) is passed over.
    assert_eq!(
        p.resolve_or_first_missing(main, "pkg.sub.f", false, &|j| j != sub),
        Err(Some(init))
    );
    assert_eq!(
        p.resolve_or_first_missing(main, "pkg.sub.f", false, &|_| false),
        Err(None)
    );
    // Once the first is summarised, the path resolves there: the package is never needed.
    p.modules[sub].summary = sub_summary;
    assert_eq!(
        p.resolve_or_first_missing(main, "pkg.sub.f", false, &all),
        Ok((sub, "f".to_string()))
    );
    // A name the module of the longest prefix lacks asks for the package next, and resolves as
    // the eager resolution does once it is summarised.
    assert_eq!(
        p.resolve_or_first_missing(main, "pkg.sub.g", false, &all),
        Err(Some(init))
    );
    p.modules[init].summary = init_summary;
    assert_eq!(
        p.resolve_or_first_missing(main, "pkg.sub.g", false, &all),
        Err(None)
    );
    assert_eq!(
        p.resolve_or_first_missing(main, "pkg.sub.f", false, &all),
        p.resolve_or_missing(main, "pkg.sub.f", false)
            .map_err(|_| None)
    );
}
