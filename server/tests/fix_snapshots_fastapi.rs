//! Before/after snapshots of every fix the FastAPI + DynamoDB rules offer: each fixture under
//! `fixtures/fastapi/` is fixed with `fix_all` (unsafe fixes included) and the result is
//! snapshotted, so a change in any fix shows up in review.

use std::path::{Path, PathBuf};

use keylint::analysis::Options;
use keylint::fixes::fix_all;
use keylint::rules::FileContext;

fn fixture(name: &str) -> (PathBuf, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/fastapi")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    (path, text)
}

fn fixed(name: &str) -> String {
    let (_, text) = fixture(name);
    let options = Options {
        file: FileContext {
            path: Some(PathBuf::from(format!("fastapi/{name}"))),
            is_test: false,
        },
        ..Options::default()
    };
    fix_all(&text, &options, true).text
}

#[test]
fn persist_fixes() {
    insta::assert_snapshot!(fixed("persist_basic.py"));
}

#[test]
fn log_fixes() {
    insta::assert_snapshot!(fixed("logged.py"));
}

#[test]
fn reflect_fixes() {
    insta::assert_snapshot!(fixed("reflected.py"));
}

#[test]
fn helper_fixes() {
    insta::assert_snapshot!(fixed("helpers.py"));
}

#[test]
fn flask_fixes() {
    insta::assert_snapshot!(fixed("flask_headers.py"));
}

#[test]
fn settings_fixes() {
    insta::assert_snapshot!(fixed("settings_env.py"));
}

#[test]
fn masked_secret_fixes() {
    insta::assert_snapshot!(fixed("masked_secrets.py"));
}

#[test]
fn compare_fixes() {
    insta::assert_snapshot!(fixed("kl205_compare.py"));
}
