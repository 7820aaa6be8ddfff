//! Files as `keylint check` meets them (issue #13): PEP 263 encodings (item 13), read-only files
//! under `--fix` (item 11), and live token formats in test code (item 14).

mod cli_common;

use cli_common::{findings, keylint, project, write};

/// A Latin-1 file with a `# coding:` line is checked, not an error, and `--fix` writes it back in
/// Latin-1.
#[test]
fn a_latin1_file_is_decoded_and_fixed_in_its_encoding() {
    let dir = project("");
    let path = dir.path().join("legacy.py");
    let mut src = b"# -*- coding: latin-1 -*-\n# Caf\xe9 settings (\xa9 2009)\n".to_vec();
    src.extend_from_slice(b"API_KEY = \"hunter2hunter2\"\nNAME = \"Jos\xe9\"\n");
    std::fs::write(&path, &src).unwrap();
    let (code, found) = findings(dir.path(), &[]);
    assert_eq!(code, 1, "{found:?}");
    assert_eq!(cli_common::brief(&found), vec!["legacy.py:3:KL101:warning"]);
    let run = keylint(dir.path(), &["check", "--fix", "--unsafe-fixes"]);
    assert_ne!(run.code, 2, "{}", run.stderr);
    let fixed = std::fs::read(&path).unwrap();
    assert!(!fixed.windows(14).any(|w| w == b"hunter2hunter2"));
    assert!(fixed.windows(11).any(|w| w == b"NAME = \"Jos"), "kept");
    assert!(
        fixed.windows(5).any(|w| w == b"Jos\xe9\""),
        "still Latin-1: {:?}",
        String::from_utf8_lossy(&fixed)
    );
    assert!(
        std::str::from_utf8(&fixed).is_err(),
        "not re-encoded as UTF-8"
    );
}

#[test]
fn an_undecodable_file_is_reported_and_the_run_goes_on() {
    let dir = project("");
    std::fs::write(dir.path().join("a.py"), b"# coding: koi8-r\nx = 1\n").unwrap();
    std::fs::write(dir.path().join("b.py"), b"x = '\xe9'\n").unwrap();
    write(dir.path(), "c.py", cli_common::SECRET);
    let run = keylint(dir.path(), &["check"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("a.py: declares the encoding `koi8-r`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("b.py: not valid UTF-8"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("c.py:1:11: KL101"), "{}", run.stdout);
}

#[cfg(unix)]
#[test]
fn fix_refuses_a_read_only_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = project("");
    let path = write(dir.path(), "app.py", cli_common::SECRET);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
    let run = keylint(dir.path(), &["check", "--fix", "--unsafe-fixes"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr
            .contains("app.py: not fixed: the file is read-only"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), cli_common::SECRET);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o444);
}

/// A live token format in test code fails CI at the default `--fail-on` (warning); a plain
/// secret there stays a hint and does not.
#[test]
fn a_live_token_in_test_code_fails_ci() {
    let dir = project("");
    write(
        dir.path(),
        "tests/test_pay.py",
        "STRIPE_KEY = \"sk_live_4eC39HqLyjWDarjtT1zdp7dc\"\n",
    );
    let (code, found) = findings(dir.path(), &[]);
    assert_eq!(
        cli_common::brief(&found),
        vec!["tests/test_pay.py:1:KL101:error"]
    );
    assert_eq!(code, 1);
    let dir = project("");
    write(
        dir.path(),
        "tests/test_pay.py",
        "PASSWORD = \"hunter2hunter2\"\n",
    );
    let (code, found) = findings(dir.path(), &[]);
    assert_eq!(
        cli_common::brief(&found),
        vec!["tests/test_pay.py:1:KL101:hint"]
    );
    assert_eq!(code, 0);
}
