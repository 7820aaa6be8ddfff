use super::*;
use crate::dataflow::FnFlow;

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
