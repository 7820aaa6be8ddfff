//! The pre-filter never changes findings: over the rule fixtures (`fixtures/**`), the CLI
//! fixtures and — when it was fetched (`./scripts/fetch-bench-corpus --all`) — the benchmark
//! corpus (`.bench-cache/src`), every file the pre-filter would skip is analysed anyway and must
//! have no finding, as test code and as application code, with every rule enabled.

use std::path::{Path, PathBuf};

use keylint::engine::prefilter::Prefilter;
use keylint::engine::{analyze_text, Options};
use keylint::rules::FileContext;

fn python_files(root: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            python_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "py") {
            out.push(path);
        }
    }
}

/// Checks every skipped file under `root`; returns (files, skipped).
fn check_tree(root: &Path, prefilter: &Prefilter) -> (usize, usize) {
    let mut files = Vec::new();
    python_files(root, &mut files);
    files.sort();
    let mut skipped = 0;
    let mut lost = Vec::new();
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        if prefilter.keep(&bytes) {
            continue;
        }
        skipped += 1;
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        for analysis in as_code_and_test(path, &text) {
            if let Some(f) = analysis.findings.first() {
                lost.push(format!("{}: {} {}", path.display(), f.rule.code, f.message));
            }
        }
    }
    assert!(
        lost.is_empty(),
        "the pre-filter skipped files with findings — declare the rule's words in its RuleMeta (`prefilter`) or extend engine/prefilter's shapes:\n{}",
        lost.join("\n")
    );
    (files.len(), skipped)
}

/// The analyses of the file `path` with `text`, as application code and as a test.
fn as_code_and_test(path: &Path, text: &str) -> [keylint::engine::Analysis; 2] {
    [false, true].map(|is_test| {
        let options = Options {
            file: FileContext {
                path: Some(path.to_path_buf()),
                is_test,
            },
            ..Options::default()
        };
        analyze_text(text, &options).1
    })
}

/// Checks that every finding of every file under `root` is of a rule the pre-filter's
/// [`Prefilter::rules`] says may report in that file (`keylint check` leaves the others out of
/// the file's analysis); returns (files, files where a rule is left out).
fn check_rules_left_out(root: &Path, prefilter: &Prefilter) -> (usize, usize) {
    let mut files = Vec::new();
    python_files(root, &mut files);
    files.sort();
    let mut narrowed = 0;
    let mut lost = Vec::new();
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let rules = prefilter.rules(&bytes);
        if rules.all() {
            continue;
        }
        narrowed += 1;
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        for analysis in as_code_and_test(path, &text) {
            for f in analysis
                .findings
                .iter()
                .filter(|f| !rules.may_report(f.rule.code))
            {
                lost.push(format!("{}: {} {}", path.display(), f.rule.code, f.message));
            }
        }
    }
    assert!(
        lost.is_empty(),
        "a rule left out of a file by its words has a finding there — declare the word in its RuleMeta (`prefilter`):\n{}",
        lost.join("\n")
    );
    (files.len(), narrowed)
}

#[test]
fn rules_left_out_by_their_words_have_no_finding() {
    let p = Prefilter::new(&[]);
    let (files, narrowed) = check_rules_left_out(&repo().join("fixtures"), &p);
    assert!(files > 0);
    assert!(narrowed > 0, "some fixture lacks the words of some rule");
    check_rules_left_out(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli_fixtures"),
        &p,
    );
    let corpus = repo().join(".bench-cache/src");
    if corpus.is_dir() {
        let (files, narrowed) = check_rules_left_out(&corpus, &p);
        eprintln!("corpus: {files} files, {narrowed} with a rule left out, no finding lost");
    }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn prefilter_loses_no_finding_on_the_fixtures() {
    let p = Prefilter::new(&[]);
    assert!(
        p.is_enabled(),
        "every rule is covered by the pre-filter table"
    );
    let (files, _) = check_tree(&repo().join("fixtures"), &p);
    assert!(files > 0);
    let (_, skipped) = check_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli_fixtures"),
        &p,
    );
    assert!(skipped >= 1, "clean.py is skipped");
}

#[test]
fn prefilter_loses_no_finding_on_the_corpus() {
    let corpus = repo().join(".bench-cache/src");
    if !corpus.is_dir() {
        eprintln!(
            "no corpus at {} (./scripts/fetch-bench-corpus --all): skipped",
            corpus.display()
        );
        return;
    }
    let (files, skipped) = check_tree(&corpus, &Prefilter::new(&[]));
    eprintln!("corpus: {files} files, {skipped} skipped by the pre-filter, none with a finding");
    assert!(files > 1000);
}

/// The lexer's premise: every simple statement, decorator, and header part of a compound
/// statement (parameters, bases, conditions) that tree-sitter parses lies in one logical line of
/// the pre-filter's lexer. Checked on every error-free file of the fixtures and of the corpus.
#[test]
fn every_statement_lies_in_one_logical_line() {
    use keylint::engine::prefilter::lex::lex;
    let mut roots = vec![
        repo().join("fixtures"),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli_fixtures"),
    ];
    let corpus = repo().join(".bench-cache/src");
    if corpus.is_dir() {
        roots.push(corpus);
    }
    let mut parser = keylint::document::python_parser();
    let (mut checked, mut statements) = (0, 0usize);
    let mut split = Vec::new();
    for root in roots {
        let mut files = Vec::new();
        python_files(&root, &mut files);
        for path in files {
            let bytes = std::fs::read(&path).unwrap();
            let tree = parser.parse(&bytes, None).unwrap();
            if tree.root_node().has_error() {
                continue;
            }
            checked += 1;
            let tokens = lex(&bytes);
            let mut cursor = tree.walk();
            let mut stack = vec![tree.root_node()];
            while let Some(node) = stack.pop() {
                let whole = matches!(
                    node.kind(),
                    "expression_statement"
                        | "return_statement"
                        | "assert_statement"
                        | "raise_statement"
                        | "delete_statement"
                        | "import_statement"
                        | "import_from_statement"
                        | "global_statement"
                        | "nonlocal_statement"
                        | "type_alias_statement"
                        | "decorator"
                        | "parameters"
                        | "argument_list"
                ) || node.parent().is_some_and(|p| {
                    matches!(
                        p.kind(),
                        "if_statement"
                            | "elif_clause"
                            | "while_statement"
                            | "for_statement"
                            | "with_clause"
                            | "match_statement"
                            | "case_clause"
                    ) && p.child_by_field_name("body") != Some(node)
                        && node.kind() != "block"
                        && node.kind() != "comment"
                        && node.is_named()
                        && !node.kind().ends_with("_clause")
                });
                if whole {
                    statements += 1;
                    let range = node.byte_range();
                    let mut lines = tokens
                        .iter()
                        .filter(|t| range.contains(&(t.start as usize)))
                        .map(|t| t.line);
                    if let Some(first) = lines.next() {
                        if lines.any(|l| l != first) && split.len() < 20 {
                            split.push(format!(
                                "{}:{}: {}",
                                path.display(),
                                node.start_position().row + 1,
                                node.kind()
                            ));
                        }
                    }
                    continue;
                }
                stack.extend(node.children(&mut cursor));
            }
        }
    }
    eprintln!("{checked} files, {statements} statements");
    assert!(checked > 10);
    assert!(
        split.is_empty(),
        "statements split across logical lines:\n{}",
        split.join("\n")
    );
}

/// Each `skipped` text is not kept by the pre-filter and has no finding; each `near` miss is
/// kept and has a finding of its rule (analysed as `app/module.py`).
fn assert_skipped_and_near(skipped: &[&str], near: &[(&str, &str)]) {
    let p = Prefilter::new(&[]);
    let path = Path::new("app/module.py");
    let codes = |text: &str| -> Vec<&'static str> {
        as_code_and_test(path, text)[0]
            .findings
            .iter()
            .map(|f| f.rule.code)
            .collect()
    };
    for text in skipped {
        assert_eq!(p.reason(text.as_bytes()), None, "kept:\n{text}");
        assert_eq!(codes(text), Vec::<&str>::new(), "{text}");
    }
    for (text, code) in near {
        assert!(p.keep(text.as_bytes()), "skipped:\n{text}");
        assert!(
            codes(text).contains(code),
            "no {code} in {:?}:\n{text}",
            codes(text)
        );
    }
}

/// The shapes tightened on django's kept files without a finding (2026-12-07): each `skipped`
/// file is no longer kept (it was) and has no finding; each `near` miss is still kept and has a
/// finding of its rule.
#[test]
fn tightened_shapes_skip_files_without_findings_and_keep_their_near_misses() {
    let log = "import logging\nlogger = logging.getLogger(__name__)\n";
    let skipped: &[&str] = &[
        // A log call with constants only sinks nothing (django's sessions backends).
        &format!("{log}def f(api_key):\n    logger.warning('Session data corrupted', exc_info=True)\n    return api_key\n"),
        // `self.log(…)` is no logger's method: `log` is a receiver only before a `.`.
        "def f(self, api_key):\n    self.log('key: %s' % api_key)\n",
        // The module of a `from … import` calls nothing (`from django.utils.log import …`).
        "from django.utils.log import log_response\ndef f(api_key):\n    log_response(api_key)\n",
        // `auth` in the module of a `from … import` names nothing.
        "from django.contrib.auth import get_user_model\ndef f(user):\n    print('user %s' % user)\n",
        // A minting call with a key-like name that is bound to nothing minted (`if … == key:`).
        "import uuid\nimport logging\ndef f(value, optgroup_key):\n    if value == optgroup_key:\n        logging.info(value)\n    return uuid.uuid4()\n",
        // KL101: a literal inside a call or a subscript of the value, or nested in a sequence,
        // is not the value bound.
        "session_key = models.CharField(_('session key'), max_length=40)\n",
        "password = settings_dict['OPTIONS'].get('password', settings_dict['PASSWORD'])\n",
        "auth = Person.objects.create(name='Someone')\n",
    ];
    let near: &[(&str, &str)] = &[
        (&format!("{log}def f(api_key):\n    logger.warning('bad key %s', api_key)\n"), "KL202"),
        (&format!("{log}def f(api_key):\n    logger.warning('bad key', exc_info=True)\n    logger.info(api_key)\n"), "KL202"),
        ("import logging\nlog = logging.getLogger(__name__)\ndef f(api_key):\n    log.info('key: %s' % api_key)\n", "KL202"),
        ("from django.contrib.auth import x\nimport requests\nrequests.get(u, auth=('admin', 's3cr3t-Pa55w0rd'))\n", "KL101"),
        ("import uuid\nimport logging\ndef f():\n    key = str(uuid.uuid4())\n    logging.info(key)\n", "KL202"),
        ("import uuid\nimport logging\ndef f():\n    a, key = 1, uuid.uuid4()\n    logging.info(key)\n", "KL202"),
        ("import os\npassword = os.environ.get('DB_PASSWORD') or 'hunter2-x9Q'\n", "KL101"),
        ("password = ('hunter2-x9Q')\n", "KL101"),
        ("API_KEYS = ['8f3a9c2e71b4d5a6']\n", "KL101"),
        ("API_KEYS = (['8f3a9c2e71b4d5a6'])\n", "KL101"),
        ("requests.get(u, auth=('admin', 's3cr3t-Pa55w0rd'))\n", "KL101"),
        ("db = connect(password='s3cr3t-Pa55w0rd', host=h('x'))\n", "KL101"),
    ];
    assert_skipped_and_near(skipped, near);
}

/// The shapes tightened on django's kept files without a finding (session 20, 2026-12-07): each
/// `skipped` file is no longer kept (it was) and has no finding; each `near` miss is still kept
/// and has a finding of its rule.
#[test]
fn shapes_need_what_their_rule_reads() {
    let skipped: &[&str] = &[
        // KL103: `True` and a flag-like string in a statement without an environment read
        // (`environ` is a WSGI parameter elsewhere in the file).
        "def app(environ):\n    return environ\nx = configure('debug', on=True)\n",
        "import os\nif os.environ.get('X') == 'true':\n    pass\nsettings = configure(['DEBUG'], debug=True)\n",
        // KL205: the secret is compared with a literal, or is no operand of the comparison.
        "def f(token):\n    if token == 'COLLATE':\n        return 1\n",
        "def f(p1, p2, password_validated):\n    while (p1 != p2 or not password_validated):\n        pass\n",
        // KL207: `?`, `=` and `key=` in a literal that is no URL with a key in its query.
        "x = 'models.%s(primary_key=True)  # AutoField?' % t\n",
        // A token format's prefix in a literal that holds no token of the format.
        "x = b'eyJ2ZXJzaW9uIjozLCJzb3VyY2VzIjpbIl9zcmMv'\n",
        // URL credentials: a regular expression with `@` and escapes.
        "import re\nurl_re = re.compile(r'^(?:[a-z0-9.+-]*)://' r'(?:[^\\s:@/]+(?::[^\\s:@/]*)?@)?')\n",
        // A name with a sink: `requests` only as a part of other names.
        "from pydantic_settings import BaseSettings\n\n\nclass S(BaseSettings):\n    api_key: str\n\n\ndef f(self):\n    self.handle_requests(1)\n",
        // A name with a log call: `self.stdout.write` is no `sys.stdout.write`.
        "import sys\nkeys = ['SECRET_KEY']\nsys.stdout.flush()\ndef f(self, x):\n    self.stdout.write(x)\n",
        // KL205: two values the user typed, or a confirmation.
        "def f(password, password2):\n    if password != password2:\n        raise ValueError\n",
        "def f(token, confirm_token):\n    return token == confirm_token\n",
        // Key-taking calls: `hmac` in another name, `ALGORITHM` in another name.
        "from django.utils.crypto import salted_hmac\ndef f(secret):\n    return salted_hmac('k', 'v', secret=secret)\n",
        "GDAL_RESAMPLE_ALGORITHMS = {'NearestNeighbour': 0}\nKEY = 'f9Kx2-Lq81zQw7Lp'\n",
    ];
    let near: &[(&str, &str)] = &[
        ("import os\nDEBUG = bool(os.environ.get('DEBUG'))\n", "KL103"),
        ("from os import getenv as ge\nDEBUG = ge('DEBUG', False)\n", "KL103"),
        ("import os\nAPI_KEY = os.getenv('API_KEY')\n", "KL102"),
        ("from os import environ as env\nAPI_KEY = env.get('API_KEY')\n", "KL102"),
        ("def f(token, expected):\n    if token == expected:\n        return 1\n", "KL205"),
        ("def f(password, stored_password):\n    return password != stored_password\n", "KL205"),
        ("import hmac\nKEY = 'k3y-Zx81Lq'\ndef f(body):\n    return hmac.new(b'f9Kx2-Lq81zQ', body, 'sha256').digest()\n", "KL101"),
        ("ALGORITHM = 'HS256'\nKEY = 'f9Kx2-Lq81zQw7Lp'\n", "KL101"),
        ("def f(request, settings):\n    return (request.headers.get('X-Token')) != settings.API_TOKEN\n", "KL205"),
        ("def f(api_key):\n    return 'https://x.example/v1?api_key=' + api_key\n", "KL207"),
        ("x = 'token: ghp_' 'aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF3hJ5'\n", "KL101"),
        ("DB = r'postgres://admin:s3cr\\etPa55w0rd@dbhost/app'\n", "KL101"),
        ("import os\nimport requests\nKEY = os.environ['API_KEY']\ndef f(url):\n    return requests.get(url, headers={'X-API-Key': KEY})\n", "KL204"),
        ("import sys\ndef f(api_key):\n    sys.stdout.write(api_key)\n", "KL202"),
        ("from sys import stdout as out\ndef f(api_key):\n    out.write(api_key)\n", "KL202"),
        ("import os\nSECRET = os.environ.get('APP_SECRET', 'hunter2-x9Q-live')\n", "KL101"),
    ];
    assert_skipped_and_near(skipped, near);
}
