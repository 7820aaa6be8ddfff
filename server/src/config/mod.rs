//! Configuration (`[tool.keylint]` in `pyproject.toml`, `keylint.toml`) and suppressions.
//!
//! Foundation: only the test-path heuristic; discovery and the schema come with the CLI issue.

use std::path::Path;

/// A file is test code when it lies under a `tests`/`test` folder or is named `test_*.py` /
/// `*_test.py` / `conftest.py`.
pub fn is_test_path(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.starts_with("test_") || name.ends_with("_test.py") || name == "conftest.py" {
        return true;
    }
    path.components().any(|c| {
        matches!(
            c.as_os_str().to_str(),
            Some("tests") | Some("test") | Some("testing")
        )
    })
}
