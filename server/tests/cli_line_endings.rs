//! Files with lone `\r` line endings (old Mac style; Python ends a line there too) give the same
//! findings, at the same lines and columns, as their `\n` version, and `--fix --unsafe-fixes`
//! converges on them (issue 13, item 10).

mod cli_common;

use std::path::{Path, PathBuf};

use cli_common::{findings, keylint};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

/// Every file under `from` copied to `to`, the `.py` files with their line breaks as `eol`.
fn copy_with(from: &Path, to: &Path, eol: &str) {
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if src.is_dir() {
            std::fs::create_dir_all(&dst).unwrap();
            copy_with(&src, &dst, eol);
        } else if src.extension().is_some_and(|x| x == "py") {
            let text = std::fs::read_to_string(&src).unwrap();
            let text = text.replace("\r\n", "\n").replace('\n', eol);
            std::fs::write(&dst, text).unwrap();
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

/// A copy of the fixtures with `eol` line breaks.
fn converted(eol: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_with(&fixtures(), dir.path(), eol);
    dir
}

/// (file, line, column, end line, end column, code) of every finding.
fn places(dir: &Path, args: &[&str]) -> Vec<(String, u64, u64, u64, u64, String)> {
    let (_, list) = findings(dir, args);
    let mut out: Vec<_> = list
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
                f["end_line"].as_u64().unwrap(),
                f["end_column"].as_u64().unwrap(),
                f["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Every `.py` file under `dir` (relative path, text).
fn texts(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "py") {
                let text = std::fs::read_to_string(&p).unwrap();
                out.push((p.strip_prefix(dir).unwrap().to_path_buf(), text));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn lone_cr_files_give_the_findings_of_their_lf_version() {
    let (lf, cr) = (converted("\n"), converted("\r"));
    let expected = places(lf.path(), &["."]);
    assert!(expected.len() > 50, "{expected:?}");
    assert_eq!(places(cr.path(), &["."]), expected);
    // And `\r\n`.
    let crlf = converted("\r\n");
    assert_eq!(places(crlf.path(), &["."]), expected);
}

#[test]
fn fixing_lone_cr_files_converges_as_their_lf_version_does() {
    let (lf, cr) = (converted("\n"), converted("\r"));
    for dir in [&lf, &cr] {
        keylint(dir.path(), &["check", "--fix", "--unsafe-fixes", "."]);
    }
    let fixed = texts(cr.path());
    // A second run changes nothing.
    keylint(cr.path(), &["check", "--fix", "--unsafe-fixes", "."]);
    let again = texts(cr.path());
    for ((path, a), (_, b)) in fixed.iter().zip(&again) {
        assert_eq!(a, b, "{} changed on a second run", path.display());
    }
    // The same fixes as in the `\n` files, with the file's own line breaks, and the same
    // findings left.
    for ((path, a), (_, b)) in fixed.iter().zip(&texts(lf.path())) {
        assert!(!a.contains('\n'), "{} got a `\\n`: {a:?}", path.display());
        assert_eq!(&a.replace('\r', "\n"), b, "{}", path.display());
    }
    assert_eq!(places(cr.path(), &["."]), places(lf.path(), &["."]));
}
