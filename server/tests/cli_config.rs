//! `keylint check` with configuration files, suppressions, fixes and exit codes (black-box: the
//! built binary in temporary projects).

mod cli_common;

use cli_common::{brief, findings, keylint, project, write, SECRET};

#[test]
fn discovery_walks_up_nearest_wins_and_skips_pyproject_without_table() {
    let dir = project("ignore = [\"KL101\"]\n");
    let root = dir.path();
    write(root, "a.py", SECRET);
    // A pyproject.toml without [tool.keylint] is skipped: b.py gets the root's configuration.
    write(
        root,
        "sub/pyproject.toml",
        "[tool.black]\nline-length = 100\n",
    );
    write(root, "sub/b.py", SECRET);
    // The nearest configuration wins.
    write(
        root,
        "sub/inner/pyproject.toml",
        "[project]\nname = \"x\"\n\n[tool.keylint]\nseverity = { KL101 = \"error\" }\n",
    );
    write(root, "sub/inner/c.py", SECRET);
    let (code, f) = findings(root, &[]);
    assert_eq!(brief(&f), vec!["sub/inner/c.py:1:KL101:error"]);
    assert_eq!(code, 1);
}

#[test]
fn keylint_toml_wins_over_pyproject_in_the_same_directory() {
    let dir = project("ignore = [\"KL101\"]\n");
    write(
        dir.path(),
        "pyproject.toml",
        "[tool.keylint]\nselect = [\"KL101\"]\n",
    );
    write(dir.path(), "a.py", SECRET);
    let (code, f) = findings(dir.path(), &[]);
    assert!(f.is_empty(), "{f:?}");
    assert_eq!(code, 0);
}

#[test]
fn per_file_ignores_and_test_paths() {
    let dir = project(
        "per-file-ignores = { \"scripts/*\" = [\"hardcoded-secret\"] }\ntest-paths = [\"qa\"]\n",
    );
    write(dir.path(), "app.py", SECRET);
    write(dir.path(), "scripts/seed.py", SECRET);
    write(dir.path(), "qa/check.py", SECRET);
    let (_, f) = findings(dir.path(), &[]);
    assert_eq!(
        brief(&f),
        vec!["app.py:1:KL101:warning", "qa/check.py:1:KL101:hint"]
    );
}

#[test]
fn severity_override_keeps_test_hints() {
    let dir = project("[severity]\nhardcoded-secret = \"error\"\n");
    write(dir.path(), "app.py", SECRET);
    write(dir.path(), "tests/test_app.py", SECRET);
    let (_, f) = findings(dir.path(), &[]);
    assert_eq!(
        brief(&f),
        vec!["app.py:1:KL101:error", "tests/test_app.py:1:KL101:hint"]
    );
}

#[test]
fn unknown_key_is_exit_2_naming_file_line_key_and_suggestion() {
    let dir = project("select = [\"KL101\"]\n\nper_file_ignore = {}\n");
    write(dir.path(), "app.py", SECRET);
    let run = keylint(dir.path(), &["check"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("keylint.toml:3"), "{}", run.stderr);
    assert!(run.stderr.contains("`per_file_ignore`"), "{}", run.stderr);
    assert!(
        run.stderr.contains("did you mean `per-file-ignores`?"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "no report on a configuration error");

    // In pyproject.toml the key is named with its table, on its own line.
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "pyproject.toml",
        "[project]\nname = \"x\"\n[tool.keylint]\nfail-on = \"loud\"\n",
    );
    write(dir.path(), "app.py", SECRET);
    let run = keylint(dir.path(), &["check"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("pyproject.toml:4: `tool.keylint.fail-on`: unknown severity"),
        "{}",
        run.stderr
    );
}

#[test]
fn unknown_rule_in_config_or_flag_is_exit_2() {
    let dir = project("ignore = [\"KL1O1\"]\n");
    let run = keylint(dir.path(), &["check"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("did you mean `KL101`"),
        "{}",
        run.stderr
    );
    let dir = project("");
    let run = keylint(dir.path(), &["check", "--select", "hardcoded-secrets"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--select"), "{}", run.stderr);
}

#[test]
fn select_and_ignore_flags_override_the_config() {
    let dir = project("ignore = [\"KL101\"]\n");
    write(dir.path(), "app.py", SECRET);
    let (_, f) = findings(dir.path(), &[]);
    assert!(f.is_empty());
    let (code, f) = findings(dir.path(), &["--select", "KL101"]);
    assert_eq!(brief(&f), vec!["app.py:1:KL101:warning"]);
    assert_eq!(code, 1);

    let dir = project("select = [\"hardcoded-secret\"]\n");
    write(dir.path(), "app.py", SECRET);
    let (code, f) = findings(dir.path(), &["--ignore", "hardcoded-secret"]);
    assert!(f.is_empty());
    assert_eq!(code, 0);
}

#[test]
fn suppressions_used_unused_and_by_name() {
    let dir = project("");
    write(
        dir.path(),
        "app.py",
        concat!(
            "API_KEY = \"sk-test-4f9c2b7e8d1a6f3c9a0b\"  # keylint: ignore[KL101]\n",
            "TOKEN = \"tok-9a8b7c6d5e4f\"  # keylint: ignore[hardcoded-secret]\n",
            "PASSWORD = \"hunter2-but-longer\"  # keylint: ignore\n",
            "TIMEOUT = 30  # keylint: ignore[KL101]\n",
            "s = \"# keylint: ignore\"; SECRET = \"hunter2hunter2\"\n",
        ),
    );
    let (_, f) = findings(dir.path(), &[]);
    assert_eq!(
        brief(&f),
        vec!["app.py:4:KL001:hint", "app.py:5:KL101:error"],
        "a `#` in a string is no comment"
    );
    // KL001 can be turned off like any rule.
    let (_, f) = findings(dir.path(), &["--ignore", "KL001"]);
    assert_eq!(brief(&f), vec!["app.py:5:KL101:error"]);
}

#[test]
fn fail_on_decides_the_exit_code() {
    let dir = project("");
    write(dir.path(), "tests/test_app.py", SECRET); // a hint
    assert_eq!(keylint(dir.path(), &["check"]).code, 0);
    assert_eq!(keylint(dir.path(), &["check", "--fail-on", "hint"]).code, 1);
    write(dir.path(), "app.py", SECRET); // a warning
    assert_eq!(keylint(dir.path(), &["check"]).code, 1);
    assert_eq!(
        keylint(dir.path(), &["check", "--fail-on", "error"]).code,
        0
    );
    write(dir.path(), "keylint.toml", "fail-on = \"error\"\n");
    assert_eq!(keylint(dir.path(), &["check"]).code, 0);
    assert_eq!(
        keylint(dir.path(), &["check", "--fail-on", "warning"]).code,
        1
    );
}

#[test]
fn diff_prints_and_does_not_write() {
    let dir = project("");
    let path = write(dir.path(), "app.py", SECRET);
    let run = keylint(dir.path(), &["check", "--diff"]);
    assert_eq!(run.code, 0, "KL101's fix is unsafe: no safe diff");
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let run = keylint(dir.path(), &["check", "--diff", "--unsafe-fixes"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("--- a/app.py\n+++ b/app.py\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("+import os\n"), "{}", run.stdout);
    // The removed line is shown, its secret masked like in a code frame.
    assert!(
        run.stdout.contains("-API_KEY = \"hunt**********\"\n"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("hunter2hunter2"), "{}", run.stdout);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), SECRET);
}

#[test]
fn fix_writes_safe_fixes_then_unsafe_ones_and_reports_what_is_left() {
    let dir = project("");
    let text = format!("{SECRET}TIMEOUT = 30  # keylint: ignore\n");
    let path = write(dir.path(), "app.py", &text);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    }
    // Safe only: the unused suppression goes, the secret (unsafe fix) stays and is reported.
    let (code, f) = findings(dir.path(), &["--fix"]);
    assert_eq!(brief(&f), vec!["app.py:1:KL101:warning"]);
    assert_eq!(code, 1);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        format!("{SECRET}TIMEOUT = 30\n")
    );
    // Unsafe too: the secret is read from the environment.
    let (code, f) = findings(dir.path(), &["--fix", "--unsafe-fixes"]);
    assert!(f.is_empty(), "{f:?}");
    assert_eq!(code, 0);
    let fixed = std::fs::read_to_string(&path).unwrap();
    assert!(fixed.starts_with("import os\n"), "{fixed}");
    assert!(
        fixed.contains("API_KEY = os.environ[\"API_KEY\"]"),
        "{fixed}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640, "permissions kept");
    }
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.ends_with(".tmp")),
        "no temporary file left: {names:?}"
    );
}

#[test]
fn unreadable_and_non_utf8_files_are_errors_but_the_run_goes_on() {
    let dir = project("");
    write(dir.path(), "app.py", SECRET);
    std::fs::write(
        dir.path().join("latin1.py"),
        b"API_KEY = \"caf\xe9-secret\"\n",
    )
    .unwrap();
    let run = keylint(dir.path(), &["check", "--output-format", "json"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("latin1.py: not valid UTF-8"),
        "{}",
        run.stderr
    );
    let f: Vec<serde_json::Value> = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(brief(&f), vec!["app.py:1:KL101:warning"]);
    let run = keylint(dir.path(), &["check", "missing.py"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("missing.py"), "{}", run.stderr);
}

#[test]
fn walking_honours_gitignore_ignore_and_exclude_and_explicit_files() {
    let dir = project("exclude = [\"migrations\", \"legacy/**\"]\n");
    write(dir.path(), ".gitignore", "generated/\n");
    write(dir.path(), ".ignore", "vendored.py\n");
    write(dir.path(), "app.py", SECRET);
    write(dir.path(), "generated/a.py", SECRET);
    write(dir.path(), "vendored.py", SECRET);
    write(dir.path(), "shop/migrations/0001.py", SECRET);
    write(dir.path(), "legacy/old.py", SECRET);
    write(dir.path(), "notes.txt", SECRET);
    let (_, f) = findings(dir.path(), &[]);
    assert_eq!(brief(&f), vec!["app.py:1:KL101:warning"]);
    // A file reached twice is checked once.
    let (_, f) = findings(dir.path(), &[".", "app.py", "./app.py"]);
    assert_eq!(brief(&f), vec!["app.py:1:KL101:warning"]);
    // Files named on the command line are checked, whatever their extension.
    let (_, f) = findings(dir.path(), &["notes.txt", "legacy/old.py"]);
    assert_eq!(
        brief(&f),
        vec!["legacy/old.py:1:KL101:warning", "notes.txt:1:KL101:warning"]
    );
}

#[test]
fn no_prefilter_gives_the_same_findings_and_statistics_count_skips() {
    let dir = project("");
    write(dir.path(), "app.py", SECRET);
    write(dir.path(), "plain.py", "def f(x):\n    return x\n");
    let (_, with) = findings(dir.path(), &[]);
    let (_, without) = findings(dir.path(), &["--no-prefilter"]);
    assert_eq!(with, without);
    let run = keylint(dir.path(), &["check", "--statistics"]);
    assert!(
        run.stdout.contains("1  KL101  hardcoded-secret"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("Checked 2 files; 1 skipped by the pre-filter"),
        "{}",
        run.stdout
    );
    let run = keylint(dir.path(), &["check", "--statistics", "--no-prefilter"]);
    assert!(run.stdout.contains("0 skipped"), "{}", run.stdout);
}

const HOOK: &str = "import hashlib\nimport hmac\n\nfrom fastapi import FastAPI, Header, Request\n\napp = FastAPI()\n\n\n@app.post(\"/hook\")\nasync def hook(request: Request, x_signature: str = Header()):\n    expected = hmac.new(request.app.state.key, await request.body(), hashlib.sha256).hexdigest()\n    return expected == x_signature\n";

#[test]
fn json_tells_safe_fixes_from_unsafe_ones() {
    let dir = project("");
    write(dir.path(), "app.py", SECRET);
    write(dir.path(), "hook.py", HOOK);
    let (_, f) = findings(dir.path(), &[]);
    let by_code = |code: &str| f.iter().find(|x| x["code"] == code).unwrap().clone();
    // KL101's fix (read from the environment) changes behaviour: not applied by `--fix`.
    let kl101 = by_code("KL101");
    assert_eq!(kl101["fixable"], false, "{kl101}");
    assert_eq!(kl101["fix"]["applicability"], "unsafe", "{kl101}");
    // A signature (hex str) against a `str` header: compare_digest keeps `==`'s result.
    let kl205 = by_code("KL205");
    assert_eq!(kl205["fixable"], true, "{kl205}");
    assert_eq!(kl205["fix"]["applicability"], "safe", "{kl205}");
}

#[test]
fn unsafe_fixes_key_opts_fix_all_into_unsafe_fixes() {
    // Without the key, `--fix` applies the safe KL205 fix and leaves KL101's.
    let dir = project("");
    let app = write(dir.path(), "app.py", SECRET);
    let hook = write(dir.path(), "hook.py", HOOK);
    let (code, f) = findings(dir.path(), &["--fix"]);
    assert_eq!(brief(&f), vec!["app.py:1:KL101:warning"]);
    assert_eq!(code, 1);
    assert_eq!(std::fs::read_to_string(&app).unwrap(), SECRET);
    let fixed = std::fs::read_to_string(&hook).unwrap();
    assert!(
        fixed.contains("return hmac.compare_digest(expected.encode(), x_signature.encode())"),
        "{fixed}"
    );
    // With `unsafe-fixes = true`, `--fix` applies the unsafe ones too.
    let dir = project("unsafe-fixes = true\n");
    let app = write(dir.path(), "app.py", SECRET);
    let (code, f) = findings(dir.path(), &["--fix"]);
    assert!(f.is_empty(), "{f:?}");
    assert_eq!(code, 0);
    let fixed = std::fs::read_to_string(&app).unwrap();
    assert!(fixed.contains("os.environ[\"API_KEY\"]"), "{fixed}");
    // A value that is not a boolean is an error naming the key.
    let dir = project("unsafe-fixes = \"yes\"\n");
    write(dir.path(), "app.py", SECRET);
    let run = keylint(dir.path(), &["check"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("unsafe-fixes"), "{}", run.stderr);
}

#[test]
fn text_summary_counts_unsafe_fixes_as_fixable_when_the_configuration_applies_them() {
    let dir = project("");
    write(dir.path(), "app.py", SECRET);
    let run = keylint(dir.path(), &["check"]);
    assert!(
        run.stdout
            .contains("0 fixable with `--fix` (1 more with `--fix --unsafe-fixes`)."),
        "{}",
        run.stdout
    );
    let dir = project("unsafe-fixes = true\n");
    write(dir.path(), "app.py", SECRET);
    let run = keylint(dir.path(), &["check"]);
    assert!(
        run.stdout.contains("1 fixable with `--fix`."),
        "{}",
        run.stdout
    );
    let run = keylint(dir.path(), &["check", "--unsafe-fixes"]);
    assert!(
        run.stdout.contains("1 fixable with `--fix`."),
        "{}",
        run.stdout
    );
}

#[test]
fn statistics_tell_files_over_the_size_limit_from_pre_filter_skips() {
    let dir = project("max-file-size = 100\n");
    write(dir.path(), "app.py", SECRET);
    write(dir.path(), "plain.py", "def f(x):\n    return x\n");
    write(
        dir.path(),
        "big.py",
        &format!("{SECRET}\n{}", "x = 1\n".repeat(50)),
    );
    let run = keylint(dir.path(), &["check", "--statistics"]);
    assert!(
        run.stdout.contains(
            "Checked 3 files; 1 skipped by the pre-filter (no finding possible); 1 over \
             `max-file-size` (not analysed)."
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn sarif_fingerprints_do_not_hash_the_secret() {
    // Two files that differ only in the key's value: the same fingerprint, so the hash holds
    // nothing of the key (a weak one could be found again by guessing).
    let sarif = |key: &str| {
        let dir = project("");
        write(dir.path(), "app.py", &format!("API_KEY = \"{key}\"\n"));
        let run = keylint(dir.path(), &["check", "--output-format", "sarif"]);
        let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        v["runs"][0]["results"][0]["partialFingerprints"]["keylintFindingHash/v2"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        sarif("sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
        sarif("sk_live_9fQ21ZpKmbXCawrtY7udq3xa")
    );
}
