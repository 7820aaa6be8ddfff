//! Every fix keylint offers on the real applications of the ecosystem check still parses and
//! changes only the statements of its findings: `scripts/ecosystem --check-fixes`, run with this
//! build's binary, when the applications are fetched (`./scripts/ecosystem` once; the cache may be
//! elsewhere, `KEYLINT_ECOSYSTEM_CACHE`). Skipped, saying why, when they are not, or when there is
//! no `python3`.

use std::path::Path;
use std::process::Command;

#[test]
fn fixes_on_the_ecosystem_apps_parse_and_stay_in_their_statements() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let out = match Command::new("python3")
        .arg(root.join("scripts/ecosystem"))
        .args(["--check-fixes", "--fetched-only"])
        .env("KEYLINT_BIN", env!("CARGO_BIN_EXE_keylint"))
        .current_dir(root)
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            eprintln!("skipped: no python3 to run scripts/ecosystem ({e})");
            return;
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(77) {
        eprintln!("skipped: {}", stdout.trim());
        return;
    }
    assert!(
        out.status.success(),
        "scripts/ecosystem --check-fixes failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(stdout.contains("fix problems: 0"), "{stdout}");
}
