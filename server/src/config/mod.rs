//! Configuration (`[tool.keylint]` in `pyproject.toml`, or `keylint.toml` with top-level keys) and
//! suppressions (`# keylint: ignore[KL101]`).
//!
//! ## The API the CLI and the editor share
//! * [`Config::discover`] finds the configuration of a file by walking up from it: in each directory
//!   `keylint.toml` wins over `pyproject.toml`, and a `pyproject.toml` without `[tool.keylint]` is
//!   skipped. [`ConfigCache`] does the same with one lookup per directory (thread-safe; call
//!   [`ConfigCache::clear`] when a configuration file changes).
//! * [`Config::options_for`] gives the [`Options`] to analyse a file with (enabled rules, settings,
//!   test-ness), and [`crate::engine::postprocess`] turns the analysis' findings into the reported ones: rules not
//!   enabled for the file dropped, severity overrides applied, suppressed findings removed and unused
//!   suppressions reported as `KL001 unused-suppression`.
//! * [`Overrides`] carry what the command line (or an editor's settings) says over the file.
//!
//! Because the CLI and the language server both go through these calls (composed in
//! [`crate::engine::pipeline`]), they report the same
//! findings for the same file.

mod schema;
pub mod suppress;

use std::collections::HashMap;
use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use globset::{Glob, GlobMatcher};

use crate::finding::Severity;
use crate::rules::Options;
use crate::rules::{FileContext, RuleMeta, RuleSettings};

pub use suppress::{suppression_edit, Suppression, UNUSED_SUPPRESSION};

/// Names of the configuration files, in the order they are looked for in one directory.
pub const CONFIG_FILES: [&str; 2] = ["keylint.toml", "pyproject.toml"];

/// A file is test code when it lies under a `tests`/`test`/`testing` folder or one named
/// `*_tests`/`*_test` (`e2e_tests/`, `integration_test/`), or is named `test_*.py` / `*_test.py`
/// / `conftest.py` (`scripts/test_smoke.py` included).
pub fn is_test_path(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.starts_with("test_") || name.ends_with("_test.py") || name == "conftest.py" {
        return true;
    }
    path.components().any(|c| {
        c.as_os_str().to_str().is_some_and(|c| {
            matches!(c, "tests" | "test" | "testing")
                || (c.len() > "_tests".len() && c.ends_with("_tests"))
                || (c.len() > "_test".len() && c.ends_with("_test"))
        })
    })
}

/// Folders never walked into, as ruff leaves them out by default: virtual environments,
/// installed packages, build output, caches and version control.
pub const DEFAULT_EXCLUDES: &[&str] = &[
    ".bzr",
    ".direnv",
    ".eggs",
    ".git",
    ".git-rewrite",
    ".hg",
    ".ipynb_checkpoints",
    ".mypy_cache",
    ".nox",
    ".pants.d",
    ".pyenv",
    ".pytest_cache",
    ".pytype",
    ".ruff_cache",
    ".svn",
    ".tox",
    ".venv",
    ".vscode",
    "__pypackages__",
    "_build",
    "buck-out",
    "build",
    "dist",
    "node_modules",
    "site-packages",
    "venv",
];

/// `path` is a folder left out by default ([`DEFAULT_EXCLUDES`]), by its own name: a walk
/// asks for every entry, so what lies below such a folder is never reached, while a project
/// that itself lives under a `build/` folder is still checked.
pub fn is_default_excluded(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| DEFAULT_EXCLUDES.contains(&n))
}

/// Every rule the engine knows: the item rules of [`crate::rules::all`] and the engine's own rules
/// (`KL001 unused-suppression`), in code order.
pub fn all_meta() -> Vec<&'static RuleMeta> {
    let mut out: Vec<&'static RuleMeta> = vec![&UNUSED_SUPPRESSION];
    out.extend(crate::rules::all_meta());
    out.sort_by_key(|m| m.code);
    out
}

/// The rule with this code (any case) or name, item rule or engine rule.
pub fn find_meta(code_or_name: &str) -> Option<&'static RuleMeta> {
    let wanted = code_or_name.trim();
    all_meta()
        .into_iter()
        .find(|m| m.code.eq_ignore_ascii_case(wanted) || m.name.eq_ignore_ascii_case(wanted))
}

/// The URL of a rule's docs (LSP `codeDescription.href`, SARIF `helpUri`); engine rules' docs live
/// in `config/`.
pub fn rule_url(meta: &RuleMeta) -> String {
    if meta.code == UNUSED_SUPPRESSION.code {
        format!(
            "https://github.com/keylint/keylint/blob/main/server/src/config/{}.md",
            meta.file_stem()
        )
    } else {
        meta.url()
    }
}

/// A wrong configuration: the file, the line (1-based) and the key it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": ")?;
        if let Some(key) = &self.key {
            write!(f, "`{key}`: ")?;
        }
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Globs of a configuration, matched against paths relative to the configuration's directory.
/// A pattern without `/` matches a file or directory name at any depth (`migrations`, `*_pb2.py`);
/// one with `/` matches from the configuration's directory (`src/legacy/**`). A path matches when it
/// or one of its parent directories does.
#[derive(Debug, Clone)]
pub struct PathGlob {
    pub pattern: String,
    matcher: GlobMatcher,
}

impl PathGlob {
    pub fn new(pattern: &str) -> Result<Self, globset::Error> {
        let trimmed = pattern.trim_start_matches("./").trim_end_matches('/');
        let full = if trimmed.contains('/') {
            trimmed.to_string()
        } else {
            format!("**/{trimmed}")
        };
        let matcher = Glob::new(&full)?.compile_matcher();
        Ok(PathGlob {
            pattern: pattern.to_string(),
            matcher,
        })
    }

    /// Whether `rel` (relative to the configuration's directory) or one of its parents matches.
    pub fn matches(&self, rel: &Path) -> bool {
        rel.ancestors()
            .filter(|p| !p.as_os_str().is_empty())
            .any(|p| self.matcher.is_match(p))
    }
}

/// What the command line (or an editor's settings) says over the configuration files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// Replaces `select`, and clears the configured `ignore`.
    pub select: Option<Vec<&'static str>>,
    /// Replaces `ignore`.
    pub ignore: Option<Vec<&'static str>>,
    pub fail_on: Option<Severity>,
    /// Severity per rule code, over the configuration's (an editor's `severity` setting).
    pub severity: Vec<(&'static str, Severity)>,
    /// Added to the configuration's `extra-secret-names` (lower case).
    pub extra_secret_names: Vec<String>,
    /// Added to the configuration's `allowed-placeholders`.
    pub allowed_placeholders: Vec<String>,
    /// Replaces `unsafe-fixes` (an editor's `unsafeFixes` setting).
    pub unsafe_fixes: Option<bool>,
}

/// One resolved configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file it was read from; `None` for the defaults (no configuration found).
    pub file: Option<PathBuf>,
    /// The directory globs are relative to (the configuration file's directory).
    pub root: PathBuf,
    /// Codes of the rules to run; `None`: every rule.
    pub select: Option<Vec<&'static str>>,
    pub ignore: Vec<&'static str>,
    pub per_file_ignores: Vec<(PathGlob, Vec<&'static str>)>,
    /// Severity per rule code, over the rule's default.
    pub severity: Vec<(&'static str, Severity)>,
    /// Lower case.
    pub extra_secret_names: Vec<String>,
    pub allowed_placeholders: Vec<String>,
    pub exclude: Vec<PathGlob>,
    pub test_paths: Vec<PathGlob>,
    pub fail_on: Option<Severity>,
    /// `max-file-size`: files larger than this many bytes are skipped (`None`: the default,
    /// [`DEFAULT_MAX_FILE_SIZE`]; 0: no limit).
    pub max_file_size: Option<u64>,
    /// `unsafe-fixes = true`: fix-all (`--fix`, the editor's fix-all) applies unsafe fixes too.
    pub unsafe_fixes: bool,
}

/// Files larger than this are not analysed unless `max-file-size` (CLI) or the `maxFileSize`
/// setting (editor) says otherwise: 1 MiB. The largest file of django 5.1 is 361 KiB
/// (`tests/admin_views/tests.py`), of CPython 3.12's library 326 KiB (`test/test_typing.py`);
/// generated `pydoc_data/topics.py` (779 KiB) stays under; over it are generated API clients and
/// data tables (gcloud's `*_messages.py`, 4-6 MiB).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 1 << 20;

impl Config {
    /// The size limit in bytes; `None` for no limit.
    pub fn max_file_size(&self) -> Option<u64> {
        match self.max_file_size.unwrap_or(DEFAULT_MAX_FILE_SIZE) {
            0 => None,
            n => Some(n),
        }
    }
}

impl Config {
    /// The configuration that applies to `path` (a file or a directory): the nearest
    /// `keylint.toml`, or `pyproject.toml` with a `[tool.keylint]` table, in its directory or above.
    /// Without one, the defaults.
    pub fn discover(path: &Path) -> Result<Config, ConfigError> {
        let dir = start_dir(path);
        for d in dir.ancestors() {
            if let Some(config) = read_config_in(d)? {
                return Ok(config);
            }
        }
        Ok(Config::default())
    }

    /// Reads one configuration file (`keylint.toml` or `pyproject.toml`). `Ok(None)` for a
    /// `pyproject.toml` without `[tool.keylint]`.
    pub fn from_file(file: &Path) -> Result<Option<Config>, ConfigError> {
        let text = std::fs::read_to_string(file).map_err(|e| ConfigError {
            file: file.to_path_buf(),
            line: None,
            key: None,
            message: format!("cannot read: {e}"),
        })?;
        let pyproject = file.file_name().is_some_and(|n| n == "pyproject.toml");
        schema::parse(&text, file, pyproject)
    }

    /// The same configuration with the command line's overrides applied.
    pub fn with_overrides(mut self, o: &Overrides) -> Config {
        if let Some(select) = &o.select {
            self.select = Some(select.clone());
            self.ignore.clear();
        }
        if let Some(ignore) = &o.ignore {
            self.ignore = ignore.clone();
        }
        if o.fail_on.is_some() {
            self.fail_on = o.fail_on;
        }
        if let Some(unsafe_fixes) = o.unsafe_fixes {
            self.unsafe_fixes = unsafe_fixes;
        }
        for (code, sev) in &o.severity {
            self.severity.retain(|(c, _)| c != code);
            self.severity.push((code, *sev));
        }
        for name in &o.extra_secret_names {
            if !self.extra_secret_names.contains(name) {
                self.extra_secret_names.push(name.clone());
            }
        }
        for p in &o.allowed_placeholders {
            if !self.allowed_placeholders.contains(p) {
                self.allowed_placeholders.push(p.clone());
            }
        }
        self
    }

    /// `path` relative to the configuration's directory (as given when it lies elsewhere).
    pub fn relative<'p>(&self, path: &'p Path) -> std::borrow::Cow<'p, Path> {
        if self.file.is_none() {
            return std::borrow::Cow::Borrowed(path);
        }
        let abs = absolute(path);
        match abs.strip_prefix(&self.root) {
            Ok(rel) => std::borrow::Cow::Owned(rel.to_path_buf()),
            Err(_) => std::borrow::Cow::Borrowed(path),
        }
    }

    /// Whether `exclude` leaves out `path` (a file or a directory).
    pub fn is_excluded(&self, path: &Path) -> bool {
        if is_default_excluded(path) {
            return true;
        }
        if self.exclude.is_empty() {
            return false;
        }
        let rel = self.relative(path);
        self.exclude.iter().any(|g| g.matches(&rel))
    }

    /// Whether `path` is test code: the built-in heuristic ([`is_test_path`]) on the path relative
    /// to the configuration's directory, or a configured `test-paths` glob.
    pub fn is_test(&self, path: &Path) -> bool {
        let rel = self.relative(path);
        is_test_path(&rel) || self.test_paths.iter().any(|g| g.matches(&rel))
    }

    /// Codes of the rules enabled for `path` (`select` minus `ignore` minus matching
    /// `per-file-ignores`), engine rules included.
    pub fn enabled_codes(&self, path: &Path) -> Vec<&'static str> {
        let rel = self.relative(path);
        let ignored_here: Vec<&'static str> = self
            .per_file_ignores
            .iter()
            .filter(|(g, _)| g.matches(&rel))
            .flat_map(|(_, codes)| codes.iter().copied())
            .collect();
        all_meta()
            .into_iter()
            .map(|m| m.code)
            .filter(|c| self.select.as_ref().is_none_or(|s| s.contains(c)))
            .filter(|c| !self.ignore.contains(c) && !ignored_here.contains(c))
            .collect()
    }

    /// The options to analyse `path` with.
    pub fn options_for(&self, path: &Path) -> Options {
        let enabled = self.enabled_codes(path);
        let select = if enabled.len() == all_meta().len() {
            None
        } else {
            Some(enabled)
        };
        Options {
            file: FileContext {
                path: Some(path.to_path_buf()),
                is_test: self.is_test(path),
            },
            settings: RuleSettings {
                extra_secret_names: self.extra_secret_names.clone(),
                allowed_placeholders: self.allowed_placeholders.clone(),
            },
            select,
        }
    }

    /// The configured severity of a rule, if overridden.
    pub fn severity_of(&self, code: &str) -> Option<Severity> {
        self.severity
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, s)| *s)
    }
}

/// Finds configurations with one lookup per directory, shared between threads.
#[derive(Default)]
pub struct ConfigCache {
    overrides: Overrides,
    dirs: Mutex<HashMap<PathBuf, Result<Arc<Config>, ConfigError>>>,
}

impl ConfigCache {
    pub fn new(overrides: Overrides) -> Self {
        ConfigCache {
            overrides,
            dirs: Mutex::new(HashMap::new()),
        }
    }

    /// The defaults with the overrides applied (a file without a configuration, or one whose
    /// configuration is broken and the caller goes on regardless).
    pub fn defaults(&self) -> Config {
        Config::default().with_overrides(&self.overrides)
    }

    /// Forgets every configuration read (a configuration file changed).
    pub fn clear(&self) {
        self.dirs.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// The configuration of `path` (a file or a directory), overrides applied.
    pub fn get(&self, path: &Path) -> Result<Arc<Config>, ConfigError> {
        let dir = start_dir(path);
        self.get_dir(&dir)
    }

    /// The configuration of a path known to be a file (`is_dir == false`) or a directory, without
    /// asking the file system which.
    pub fn get_known(&self, path: &Path, is_dir: bool) -> Result<Arc<Config>, ConfigError> {
        let abs = absolute(path);
        if is_dir {
            return self.get_dir(&abs);
        }
        match abs.parent() {
            Some(parent) => self.get_dir(parent),
            None => self.get_dir(&abs),
        }
    }

    fn get_dir(&self, dir: &Path) -> Result<Arc<Config>, ConfigError> {
        if let Some(hit) = self.dirs.lock().unwrap_or_else(|e| e.into_inner()).get(dir) {
            return hit.clone();
        }
        let result = match read_config_in(dir) {
            Ok(Some(config)) => Ok(Arc::new(config.with_overrides(&self.overrides))),
            Ok(None) => match dir.parent() {
                Some(parent) => self.get_dir(parent),
                None => Ok(Arc::new(Config::default().with_overrides(&self.overrides))),
            },
            Err(e) => Err(e),
        };
        self.dirs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(dir.to_path_buf(), result.clone());
        result
    }
}

/// The configuration defined in `dir` itself, if any.
fn read_config_in(dir: &Path) -> Result<Option<Config>, ConfigError> {
    for name in CONFIG_FILES {
        let file = dir.join(name);
        if file.is_file() {
            if let Some(config) = Config::from_file(&file)? {
                return Ok(Some(config));
            }
        }
    }
    Ok(None)
}

/// The absolute directory the lookup starts from: `path` itself when it is a directory, else its
/// parent.
fn start_dir(path: &Path) -> PathBuf {
    let abs = absolute(path);
    if abs.is_dir() {
        abs
    } else {
        abs.parent().map(Path::to_path_buf).unwrap_or(abs)
    }
}

/// An absolute path without `.` components (symlinks are not resolved).
///
/// A relative path is joined to the working directory read once per process ([`working_dir`]):
/// `std::path::absolute` asks the system for it on every call, ~15,700 `getcwd` calls for a
/// check of django. keylint never changes its working directory.
pub fn absolute(path: &Path) -> PathBuf {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        match working_dir() {
            // A Windows path relative to a drive's own directory (`C:foo`) is left to the
            // system.
            Some(cwd)
                if !path.as_os_str().is_empty()
                    && !path.has_root()
                    && !matches!(path.components().next(), Some(Component::Prefix(_))) =>
            {
                cwd.join(path)
            }
            _ => std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()),
        }
    };
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The process's working directory, read once (`None` when it cannot be read: then each call
/// asks again, and fails the same way).
fn working_dir() -> Option<&'static Path> {
    static CWD: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    CWD.get_or_init(|| std::env::current_dir().ok()).as_deref()
}

/// Parses a comma-separated list of rule codes or names (`KL101,hardcoded-secret`) into codes.
/// `ALL` stands for every rule.
pub fn parse_rule_list(list: &str) -> Result<Vec<&'static str>, String> {
    let mut out = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        for code in resolve_rule(item)? {
            if !out.contains(&code) {
                out.push(code);
            }
        }
    }
    Ok(out)
}

/// One code, name, code prefix (`KL2`: every `KL2xx` rule) or `ALL` → rule codes, with a
/// suggestion when unknown.
pub fn resolve_rule(item: &str) -> Result<Vec<&'static str>, String> {
    if item.eq_ignore_ascii_case("ALL") {
        return Ok(all_meta().into_iter().map(|m| m.code).collect());
    }
    let item = item.trim();
    let is_prefix = item.len() < 5
        && item.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("KL"))
        && item[2..].bytes().all(|b| b.is_ascii_digit());
    if is_prefix {
        let codes: Vec<&'static str> = all_meta()
            .into_iter()
            .map(|m| m.code)
            .filter(|c| {
                c.get(..item.len())
                    .is_some_and(|p| p.eq_ignore_ascii_case(item))
            })
            .collect();
        if !codes.is_empty() {
            return Ok(codes);
        }
    }
    match find_meta(item) {
        Some(m) => Ok(vec![m.code]),
        None => {
            let candidates: Vec<&str> = all_meta()
                .into_iter()
                .flat_map(|m| [m.code, m.name])
                .collect();
            let hint = did_you_mean(item, &candidates)
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_else(|| " (see `keylint rules`)".into());
            Err(format!("unknown rule `{item}`{hint}"))
        }
    }
}

/// The closest candidate to `word`, when it is close enough to be a typo.
pub fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let norm = |s: &str| s.to_ascii_lowercase().replace('_', "-");
    let w = norm(word);
    candidates
        .iter()
        .map(|c| (edit_distance(&w, &norm(c)), *c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_names_anywhere_and_paths_from_the_root() {
        let g = PathGlob::new("migrations").unwrap();
        assert!(g.matches(Path::new("app/migrations/0001_initial.py")));
        assert!(!g.matches(Path::new("app/models.py")));
        let g = PathGlob::new("src/legacy/**").unwrap();
        assert!(g.matches(Path::new("src/legacy/a/b.py")));
        assert!(!g.matches(Path::new("other/src/legacy/b.py")));
        let g = PathGlob::new("*_settings.py").unwrap();
        assert!(g.matches(Path::new("proj/dev_settings.py")));
    }

    #[test]
    fn test_code_outside_tests_folders() {
        for yes in [
            "e2e_tests/test_flow.py",
            "e2e_tests/helpers.py",
            "scripts/test_smoke.py",
            "app/payments_test.py",
            "integration_test/setup.py",
            "tests/conftest.py",
        ] {
            assert!(is_test_path(Path::new(yes)), "{yes}");
        }
        for no in [
            "app/latest.py",
            "contest/app.py",
            "app/testimonials.py",
            "_tests.py",
        ] {
            assert!(!is_test_path(Path::new(no)), "{no}");
        }
    }

    #[test]
    fn default_excludes_leave_out_environments_and_build_output() {
        let config = Config::default();
        for yes in [
            ".venv",
            "venv",
            "site-packages",
            "node_modules",
            "build",
            "dist",
            ".tox",
            ".git",
        ] {
            assert!(config.is_excluded(&Path::new("proj").join(yes)), "{yes}");
        }
        for no in ["app", "venv_tools.py", "builder", "distribution"] {
            assert!(!config.is_excluded(&Path::new("proj").join(no)), "{no}");
        }
        // A project that itself lives under `build/` is still walked.
        assert!(!config.is_excluded(Path::new("/home/u/build/proj/app")));
    }

    #[test]
    fn suggestions_catch_typos() {
        let keys = ["select", "ignore", "per-file-ignores"];
        assert_eq!(
            did_you_mean("per_file_ignores", &keys),
            Some("per-file-ignores")
        );
        assert_eq!(did_you_mean("selct", &keys), Some("select"));
        assert_eq!(did_you_mean("banana", &keys), None);
    }

    #[test]
    fn discover_and_cache_agree_nearest_wins() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("keylint.toml"), "fail-on = \"error\"\n").unwrap();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join("a/pyproject.toml"), "[tool.ruff]\n").unwrap();
        std::fs::write(
            root.join("a/b/pyproject.toml"),
            "[tool.keylint]\nfail-on = \"hint\"\n",
        )
        .unwrap();
        let file_a = root.join("a/x.py");
        let file_b = root.join("a/b/y.py");
        let a = Config::discover(&file_a).unwrap();
        assert_eq!(a.fail_on, Some(Severity::Error));
        assert_eq!(
            a.file.as_deref(),
            Some(absolute(&root.join("keylint.toml")).as_path())
        );
        let b = Config::discover(&file_b).unwrap();
        assert_eq!(b.fail_on, Some(Severity::Hint));
        let cache = ConfigCache::new(Overrides::default());
        assert_eq!(cache.get(&file_a).unwrap().fail_on, Some(Severity::Error));
        assert_eq!(cache.get(&file_b).unwrap().fail_on, Some(Severity::Hint));
        // A configuration change is seen after `clear`.
        std::fs::write(root.join("keylint.toml"), "fail-on = \"info\"\n").unwrap();
        assert_eq!(cache.get(&file_a).unwrap().fail_on, Some(Severity::Error));
        cache.clear();
        assert_eq!(cache.get(&file_a).unwrap().fail_on, Some(Severity::Info));
        // Overrides apply to every configuration.
        let cache = ConfigCache::new(Overrides {
            fail_on: Some(Severity::Warning),
            ..Overrides::default()
        });
        assert_eq!(cache.get(&file_b).unwrap().fail_on, Some(Severity::Warning));
    }

    #[test]
    fn rule_lists_take_codes_and_names() {
        assert_eq!(
            parse_rule_list("kl101, hardcoded-secret").unwrap(),
            vec!["KL101"]
        );
        assert!(parse_rule_list("KL10x")
            .unwrap_err()
            .contains("did you mean"));
        assert!(parse_rule_list("ALL").unwrap().contains(&"KL001"));
    }

    #[test]
    fn rule_lists_take_code_prefixes() {
        let kl2 = parse_rule_list("KL101,KL2").unwrap();
        assert_eq!(kl2[0], "KL101");
        assert!(kl2.len() > 2, "KL2 selects every KL2xx rule: {kl2:?}");
        assert!(kl2[1..].iter().all(|c| c.starts_with("KL2")));
        assert_eq!(parse_rule_list("kl30").unwrap().len(), 4);
        assert_eq!(parse_rule_list("KL").unwrap().len(), all_meta().len());
        assert!(parse_rule_list("KL9")
            .unwrap_err()
            .contains("unknown rule `KL9`"));
    }
}
