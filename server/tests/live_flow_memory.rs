//! What the server's live project keeps of the modules linked across files (issue #14, memory of
//! a django-sized workspace): a view only for the modules whose documents asked for one (open),
//! dropped when closed; and the flows it keeps beside the resolver's own copy reduced to stubs,
//! which must never stand in for a flow the resolver did not take whole (a stub's anchor moving
//! when two modules' qualified names meet).

use std::path::PathBuf;
use std::sync::Arc;

use keylint::document::Document;
use keylint::engine::Options;
use keylint::project::flow::LiveFlow;
use keylint::project::{ModuleSummary, Project};

fn summary_of(text: &str) -> ModuleSummary {
    let doc = Document::new(text, 0);
    keylint::engine::summarise::summarise(doc.view(), doc.source(), &Options::default())
}

fn project(files: &[(&str, &str)]) -> (Project, Vec<usize>) {
    let mut p = Project::new();
    let paths: Vec<PathBuf> = files.iter().map(|(f, _)| PathBuf::from(f)).collect();
    let ids = p.add(&paths);
    for (&m, (_, text)) in ids.iter().zip(files) {
        p.modules[m].summary = Some(Arc::new(summary_of(text)));
    }
    (p, ids)
}

const REPO: &str = r#"import logging

logger = logging.getLogger(__name__)


def store_key(key):
    logger.info("storing %s", key)
"#;

const ROUTES: &str = r#"from fastapi import FastAPI, Header

from .repo import store_key

app = FastAPI()


@app.post("/keys")
def create(x_api_key: str = Header(...)):
    store_key(x_api_key)
    return {"ok": True}
"#;

const ADMIN: &str = r#"from .repo import store_key


def rotate(new_key):
    store_key(new_key)
"#;

#[test]
fn a_linked_module_gets_a_view_once_its_document_asks_and_loses_it_when_closed() {
    let (p, ids) = project(&[
        ("app/__init__.py", ""),
        ("app/repo.py", REPO),
        ("app/routes.py", ROUTES),
        ("app/admin.py", ADMIN),
    ]);
    let (repo, routes, admin) = (ids[1], ids[2], ids[3]);
    let mut live = LiveFlow::default();
    // Brought up to the project with no document asking: every linked module resolved, no view.
    live.sync(&p, None);
    assert!(
        live.stats().resolve.is_some(),
        "the linked modules are resolved"
    );
    for m in [repo, routes, admin] {
        assert!(
            live.view(m).is_none(),
            "module {m}: no view before its document asks"
        );
    }
    // The open route module asks: it gets its view, the others still have none.
    live.sync(&p, Some(routes));
    let view = live.view(routes).expect("the asking module's view").clone();
    assert!(
        view.function_facts().contains_key("@.repo.store_key"),
        "its view has the callee's facts: {:?}",
        view.function_facts().keys().collect::<Vec<_>>()
    );
    assert!(live.view(repo).is_none() && live.view(admin).is_none());
    let version = live.version(routes);
    // Asking again changes nothing.
    live.sync(&p, Some(routes));
    assert_eq!(live.version(routes), version);
    // Closed: the view goes; asked again (reopened), it is the same view.
    live.close(routes);
    assert!(live.view(routes).is_none());
    live.sync(&p, Some(routes));
    assert_eq!(**live.view(routes).expect("view again"), *view);
}

/// Package `a` defines class `b` with method `c`: qualified `a.b.c`, as is function `c` of module
/// `a.b` — the same anchor name in two linked modules (the method calls the function), told
/// apart by occurrence (`a.b.c#0`, `a.b.c#1`).
const A_INIT: &str = r#"from .b import c as _c


class b:
    def c(self, value):
        return _c(value)
"#;

const A_INIT_RENAMED: &str = r#"from .b import c as _c


class b:
    def d(self, value):
        return _c(value)
"#;

const A_B: &str = r#"import logging

logger = logging.getLogger(__name__)


def c(key):
    logger.info("key %s", key)
"#;

const A_MAIN: &str = r#"from fastapi import FastAPI, Header

from .b import c

app = FastAPI()


@app.post("/keys")
def create(x_api_key: str = Header(...)):
    c(x_api_key)
    return {"ok": True}
"#;

#[test]
fn a_stub_whose_anchor_moved_gives_its_whole_flow_again() {
    let files = [
        ("a/__init__.py", A_INIT),
        ("a/b.py", A_B),
        ("a/main.py", A_MAIN),
        ("a/other.py", "from .b import c\n\n\ndef f(v):\n    c(v)\n"),
    ];
    let (mut p, ids) = project(&files);
    let (init, main) = (ids[0], ids[2]);
    let mut live = LiveFlow::default();
    live.sync(&p, Some(main));
    // The method `c` renamed: module `a.b`'s function is now the first `a.b.c` of the linked
    // flows, and its stub's anchor moves from `a.b.c#1` to `a.b.c#0`.
    p.modules[init].summary = Some(Arc::new(summary_of(A_INIT_RENAMED)));
    live.sync(&p, Some(main));
    let mut fresh_files = files;
    fresh_files[0].1 = A_INIT_RENAMED;
    let (fresh, _) = project(&fresh_files);
    let views = fresh.resolve_all();
    let expected = views.get(&main).expect("main is linked");
    let got = live.view(main).expect("main's live view");
    assert_eq!(**got, **expected, "the live view equals a fresh resolution");
    let facts = got.function_facts().get("@.b.c").unwrap_or_else(|| {
        panic!(
            "the facts of `c`: {:?}",
            got.function_facts().keys().collect::<Vec<_>>()
        )
    });
    assert!(
        facts.param_sinks.first().is_some_and(|&bits| bits != 0),
        "`c` logs its parameter: {facts:?}"
    );
}
