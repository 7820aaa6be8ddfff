//! Before/after snapshots of every fix the FastAPI + DynamoDB rules offer: each fixture under
//! `fixtures/fastapi/` is fixed with `fix_all` (unsafe fixes included) and the result is
//! snapshotted, so a change in any fix shows up in review.

use std::path::{Path, PathBuf};

use keylint::engine::fixes::fix_all;
use keylint::engine::Options;
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

/// A fixture app of `fixtures/fixapps/` (executed before and after fix-all by `tests/fixapps/`).
fn fixapp(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/fixapps")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

/// The fixes of the findings of `text` through the pipeline the CLI and the server share:
/// `(rule code, fix titles)` per finding.
fn fixes_of(text: &str) -> Vec<(&'static str, Vec<keylint::finding::Fix>)> {
    let (_, analysis) =
        keylint::engine::pipeline::analyze_text(text, &keylint::config::Config::default(), None);
    analysis
        .findings
        .iter()
        .map(|f| (f.rule.code, f.fixes.clone()))
        .collect()
}

#[test]
fn stored_key_fixes_agree() {
    for name in ["fastapi_keys.py", "flask_keys.py"] {
        let text = fixapp(name);
        let fixes = fixes_of(&text);
        // Every KL201 write and KL205 compare of `api_key` offers the same single fix.
        let shared: Vec<_> = fixes
            .iter()
            .filter(|(code, _)| matches!(*code, "KL201" | "KL205"))
            .collect();
        assert!(shared.len() >= 2, "{name}: {fixes:?}");
        for (code, f) in &shared {
            assert_eq!(f.len(), 1, "{name} {code}: {f:?}");
            assert_eq!(f[0], shared[0].1[0], "{name} {code}: the fixes differ");
            assert!(
                f[0].title.starts_with(
                    "Store a SHA-256 hash of `api_key` and use the hash where it is read back"
                ),
                "{}",
                f[0].title
            );
        }
    }
    let (_, text) = {
        let t = fixapp("fastapi_keys.py");
        let options = Options {
            file: FileContext {
                path: Some(PathBuf::from("fixapps/fastapi_keys.py")),
                is_test: false,
            },
            ..Options::default()
        };
        (t.clone(), fix_all(&t, &options, true).text)
    };
    insta::assert_snapshot!(text);
}

#[test]
fn stored_key_lookups_are_hashed_and_conditions_withdraw_the_fix() {
    // The key is the partition key: the lookup hashes what it looks up.
    let lookup = "import boto3\nfrom fastapi import FastAPI, Header, HTTPException\n\napp = FastAPI()\ntable = boto3.resource(\"dynamodb\").Table(\"keys\")\n\n\n@app.post(\"/keys\")\ndef create(owner: str, x_api_key: str = Header()):\n    table.put_item(Item={\"api_key\": x_api_key, \"owner\": owner})\n\n\n@app.get(\"/whoami\")\ndef whoami(x_api_key: str = Header()):\n    item = table.get_item(Key={\"api_key\": x_api_key}).get(\"Item\")\n    if item is None:\n        raise HTTPException(401)\n    return {\"owner\": item[\"owner\"]}\n";
    let options = Options::default();
    let fixed = fix_all(lookup, &options, true).text;
    assert!(
        fixed.contains("Key={\"api_key\": hashlib.sha256(x_api_key.encode()).hexdigest()}"),
        "{fixed}"
    );
    assert!(
        fixed.contains(
            "Item={\"api_key\": hashlib.sha256(x_api_key.encode()).hexdigest(), \"owner\": owner}"
        ),
        "{fixed}"
    );
    // A condition expression on the raw attribute: the fix cannot follow it, so none is offered.
    let condition = lookup.replace(
        "    item = table.get_item(Key={\"api_key\": x_api_key}).get(\"Item\")\n",
        "    item = table.scan(FilterExpression=Attr(\"api_key\").eq(x_api_key))[\"Items\"]\n",
    );
    let kl201: Vec<_> = fixes_of(&condition)
        .into_iter()
        .filter(|(code, _)| *code == "KL201")
        .collect();
    assert_eq!(kl201.len(), 1, "{kl201:?}");
    assert!(kl201[0].1.is_empty(), "{kl201:?}");
}

#[test]
fn pynamodb_fixes() {
    insta::assert_snapshot!(fixed("pynamodb_models.py"));
}

/// The findings of `text` on the given lines (1-based) with their fixes.
fn fixes_on_lines(text: &str, code: &str) -> Vec<(usize, Vec<keylint::finding::Fix>)> {
    let (_, analysis) =
        keylint::engine::pipeline::analyze_text(text, &keylint::config::Config::default(), None);
    analysis
        .findings
        .iter()
        .filter(|f| f.rule.code == code)
        .map(|f| {
            (
                text[..f.range.start].matches('\n').count() + 1,
                f.fixes.clone(),
            )
        })
        .collect()
}

#[test]
fn pynamodb_stored_key_fixes_agree() {
    let text = fixapp("pynamodb_keys.py");
    // The refresh token: written by assignment + save and by an update action, compared, and
    // scanned for. The three findings share one fix.
    let writes = fixes_on_lines(&text, "KL201");
    let compares = fixes_on_lines(&text, "KL205");
    let token: Vec<_> = writes
        .iter()
        .chain(compares.iter())
        .filter(|(_, f)| {
            f.first()
                .is_some_and(|f| f.title.contains("`refresh_token`"))
        })
        .collect();
    assert_eq!(token.len(), 3, "{writes:?} {compares:?}");
    for (_, f) in &token {
        assert_eq!(f.len(), 1);
        assert_eq!(f[0], token[0].1[0], "the fixes differ");
    }
    // The API key is the hash key: its write's fix also hashes the `ApiKey.get` lookup.
    let key: Vec<_> = writes
        .iter()
        .filter(|(_, f)| f.first().is_some_and(|f| f.title.contains("`api_key`")))
        .collect();
    assert_eq!(key.len(), 1, "{writes:?}");
    let options = Options {
        file: FileContext {
            path: Some(PathBuf::from("fixapps/pynamodb_keys.py")),
            is_test: false,
        },
        ..Options::default()
    };
    insta::assert_snapshot!(fix_all(&text, &options, true).text);
}

#[test]
fn pynamodb_uses_the_fix_cannot_follow_withdraw_it() {
    let text = fixapp("pynamodb_keys.py");
    let token_fixes = |text: &str| -> Vec<usize> {
        fixes_on_lines(text, "KL201")
            .into_iter()
            .filter(|(line, _)| *line > 40)
            .map(|(_, f)| f.len())
            .collect()
    };
    // As written: both refresh-token writes have their fix.
    assert_eq!(token_fixes(&text), vec![1, 1], "{text}");
    // A condition the fix cannot rewrite (`startswith`): no fix for the attribute's writes.
    let prefix = text.replace(
        "Account.scan(Account.refresh_token == x_refresh_token)",
        "Account.scan(Account.refresh_token.startswith(x_refresh_token))",
    );
    assert_ne!(prefix, text);
    assert_eq!(token_fixes(&prefix), vec![0, 0], "{prefix}");
    // A comparison on an object not known to come from the model: withdrawn too.
    let unknown = text.replace(
        "if account.refresh_token != x_refresh_token",
        "if current(owner).refresh_token != x_refresh_token",
    );
    assert_ne!(unknown, text);
    assert_eq!(token_fixes(&unknown), vec![0, 0], "{unknown}");
    // The API key's lookup through a bound method (`run_in_threadpool(ApiKey.get, key)`): the
    // fix cannot hash what the runner passes on, so the write keeps no fix.
    let bound = text.replace(
        "record = ApiKey.get(x_api_key)",
        "record = run_in_threadpool(ApiKey.get, x_api_key)",
    );
    assert_ne!(bound, text);
    let key: Vec<_> = fixes_on_lines(&bound, "KL201")
        .into_iter()
        .filter(|(line, _)| *line < 40)
        .collect();
    assert_eq!(key.len(), 1, "{key:?}");
    assert!(key[0].1.is_empty(), "{key:?}");
}

/// Two keys stored by one write (one KL201 finding each, `fixapps/two_keys.py`): each finding's
/// fix hashes its own key only (the API key's, compared elsewhere, also rewrites the comparison),
/// and fix-all applies both and hashes both keys.
#[test]
fn two_keys_in_one_write_each_fix_hashes_its_own_key() {
    let text = fixapp("two_keys.py");
    let (_, analysis) =
        keylint::engine::pipeline::analyze_text(&text, &keylint::config::Config::default(), None);
    let line_of = |at: usize| text[..at].matches('\n').count() + 1;
    let mut shown = Vec::new();
    for f in analysis.findings.iter().filter(|f| f.rule.code == "KL201") {
        assert_eq!(f.fixes.len(), 1, "{f:?}");
        let fix = &f.fixes[0];
        let mut edits: Vec<String> = fix
            .edits
            .iter()
            .map(|e| format!("{}: {}", line_of(e.range.start), e.new_text))
            .collect();
        edits.sort();
        shown.push(format!(
            "line {}: {}\n  {}",
            line_of(f.range.start),
            fix.title,
            edits.join("\n  ")
        ));
        // Its own key's line, and no other KL201 finding's.
        assert!(
            fix.edits
                .iter()
                .any(|e| line_of(e.range.start) == line_of(f.range.start)),
            "{}",
            shown.join("\n")
        );
    }
    assert_eq!(shown.len(), 2, "{}", shown.join("\n"));
    let [api, admin] = [&shown[0], &shown[1]];
    assert!(
        api.contains("x_api_key") && !api.contains("x_admin_key"),
        "{api}"
    );
    assert!(
        admin.contains("x_admin_key") && !admin.contains("x_api_key"),
        "{admin}"
    );
    // One key written to two attributes (one finding): its fix hashes it in both.
    let copied = text.replace(
        "            \"admin_key\": x_admin_key,",
        "            \"api_key_copy\": x_api_key,\n            \"admin_key\": x_admin_key,",
    );
    assert_ne!(copied, text);
    let (_, analysis) =
        keylint::engine::pipeline::analyze_text(&copied, &keylint::config::Config::default(), None);
    let kl201: Vec<_> = analysis
        .findings
        .iter()
        .filter(|f| f.rule.code == "KL201")
        .collect();
    assert_eq!(kl201.len(), 2, "{kl201:?}");
    let hashed = |f: &keylint::finding::Finding, key: &str| {
        f.fixes.first().map_or(0, |fix| {
            fix.edits
                .iter()
                .filter(|e| e.new_text == format!("hashlib.sha256({key}.encode()).hexdigest()"))
                .count()
        })
    };
    assert_eq!(hashed(kl201[0], "x_api_key"), 2, "{kl201:?}");
    assert_eq!(hashed(kl201[0], "x_admin_key"), 0, "{kl201:?}");
    assert_eq!(hashed(kl201[1], "x_admin_key"), 1, "{kl201:?}");
    assert_eq!(hashed(kl201[1], "x_api_key"), 0, "{kl201:?}");
    let options = Options {
        file: FileContext {
            path: Some(PathBuf::from("fixapps/two_keys.py")),
            is_test: false,
        },
        ..Options::default()
    };
    let fixed = fix_all(&text, &options, true).text;
    assert!(
        fixed.contains("\"api_key\": hashlib.sha256(x_api_key.encode()).hexdigest(),")
            && fixed.contains("\"admin_key\": hashlib.sha256(x_admin_key.encode()).hexdigest(),"),
        "{fixed}"
    );
    insta::assert_snapshot!(format!("{}\n---\n{fixed}", shown.join("\n")));
}
