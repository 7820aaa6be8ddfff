//! Test support: the Python files under directories.

use std::path::{Path, PathBuf};

/// The `.py` files under `dirs` (walked down, any depth), sorted.
pub fn python_files(dirs: impl IntoIterator<Item = PathBuf>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs: Vec<PathBuf> = dirs.into_iter().collect();
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).expect("a directory of Python files") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "py") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

/// The repository's `fixtures/`.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}
