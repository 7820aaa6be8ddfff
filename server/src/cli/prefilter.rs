//! The pre-filter: one multi-pattern scan (Aho–Corasick) of a file's raw bytes, before parsing,
//! for the words and token formats the rules need. A file with none of a rule's triggers cannot get
//! a finding of that rule; a file that cannot get any finding is skipped. It must never change
//! findings: `server/tests/cli_prefilter.rs` runs the fixtures and the benchmark corpus with and without it.
//!
//! ## The word table — EVERY NEW RULE MUST EXTEND IT
//! [`TABLE`] is the single place that says what may trigger a rule. When you add a rule, add the
//! words its findings cannot exist without (as a [`Group::Any`] word when one suffices, or to the
//! groups of a conjunction) and add its code to [`COVERED_RULES`]. A rule missing from
//! `COVERED_RULES` switches the pre-filter off (every file is analysed) and fails the test
//! `every_rule_is_covered`. When in doubt, make a word [`Group::Any`]: it only costs speed.
//!
//! Words are matched ASCII-case-insensitively as substrings (so `apiKey`, `API_KEY` and `x-api-key`
//! all contain `apikey`/`api_key`/`api-key`); token formats that have a fixed case (`AKIA`, `eyJ`)
//! are checked with their case, so `msg.` does not look like a SendGrid `SG.` key.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// What a word of the table stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Alone enough to keep the file.
    Any,
    /// `key`: keeps the file when the name around it says "key" with a qualifier (`signing_key`,
    /// `X-Auth-Key`, `MasterKey`): see [`is_key_qualifier`].
    Key,
    /// `://`: keeps the file when the rest of the line could hold `user:password@` (an `@`, or a
    /// backslash that may escape one) — KL101's password in a connection URL.
    Url,
    /// Web framework markers (Flask, FastAPI, Starlette, Quart, or an `app.` object): route and
    /// error handlers exist only with one of them (see `analysis::handler_kind_of_decorator`).
    Web,
    /// Configuration reads (`config`, `settings`): exposure in a route handler needs `Web` too.
    Config,
    /// Error handling (`except`, `errorhandler`, `exception_handler`, `error_handler`): an error
    /// leak needs `Web` too. (What leaks the details — `str(e)`, `f"{e}"`, `"%s" % e`, `e.args` —
    /// has no word to look for.)
    Error,
    /// `request`: the whole request logged (KL202) needs `Web` and `Log` too.
    Request,
    /// What a logging call contains (`log`, `print`, `write`, `warn`).
    Log,
    /// `query`: a whole DynamoDB item read with `table.query(...)` (KL203) needs `Table` too.
    Query,
    /// What a DynamoDB receiver's text or qualified name contains (`table`, `ddb`, `boto`…).
    Table,
}

/// Whether `word` makes `key` a secret in a name: a qualifier of `fw::is_key_name` (any word of
/// the name) or of `secrets::is_secret_name` (the word right before `key`). Read from the rules'
/// own lists, so the pre-filter cannot fall behind them.
fn is_key_qualifier(word: &str) -> bool {
    crate::analysis::secrets::KEY_QUALIFIERS.contains(&word)
        || crate::analysis::frameworks::KEY_QUALIFIERS.contains(&word)
}

/// `(word, group, case-sensitive)`.
pub const TABLE: &[(&str, Group, bool)] = &[
    // Hardcoded secrets (KL101), secret comparisons, data flow sources: secret-like names. A bare
    // `key` is not a secret name (`key = ...` is everywhere); a key needs a qualifier.
    ("secret", Group::Any, false),
    ("token", Group::Any, false),
    ("passw", Group::Any, false),
    ("pwd", Group::Any, false),
    ("credential", Group::Any, false),
    ("private", Group::Any, false),
    ("apikey", Group::Any, false),
    ("api_key", Group::Any, false),
    ("api-key", Group::Any, false),
    ("accesskey", Group::Any, false),
    ("access_key", Group::Any, false),
    ("access-key", Group::Any, false),
    // Token formats, whatever the name.
    ("AKIA", Group::Any, true),
    ("ASIA", Group::Any, true),
    ("ghp_", Group::Any, true),
    ("gho_", Group::Any, true),
    ("ghs_", Group::Any, true),
    ("ghu_", Group::Any, true),
    ("ghr_", Group::Any, true),
    ("github_pat_", Group::Any, true),
    ("sk_live_", Group::Any, true),
    ("rk_live_", Group::Any, true),
    ("sk_test_", Group::Any, true),
    ("rk_test_", Group::Any, true),
    ("sk-", Group::Any, true),
    ("xox", Group::Any, true),
    ("AIza", Group::Any, true),
    ("SG.", Group::Any, true),
    ("PRIVATE KEY", Group::Any, true),
    ("eyJ", Group::Any, true),
    // Secret nouns the words above miss (`secrets::SECRET_NOUNS`, `fw::is_key_name`), key
    // schemes (`HTTPBearer`), and the suppression comment (KL001 `unused-suppression`).
    ("passphrase", Group::Any, false),
    ("passcode", Group::Any, false),
    ("authoriz", Group::Any, false),
    ("bearer", Group::Any, false),
    ("keylint", Group::Any, false),
    ("key", Group::Key, false),
    ("://", Group::Url, false),
    // Environment reads, debug flags, request headers, DynamoDB.
    ("environ", Group::Any, false),
    ("getenv", Group::Any, false),
    ("debug", Group::Any, false),
    ("header", Group::Any, false),
    ("scan", Group::Any, false),
    ("dynamodb", Group::Any, false),
    ("put_item", Group::Any, false),
    ("update_item", Group::Any, false),
    ("batch_write", Group::Any, false),
    ("transact_write", Group::Any, false),
    ("get_item", Group::Any, false),
    ("paginator", Group::Any, false),
    ("query", Group::Query, false),
    ("table", Group::Table, false),
    ("tbl", Group::Table, false),
    ("ddb", Group::Table, false),
    ("batch", Group::Table, false),
    ("boto", Group::Table, false),
    // Config exposure and error leaks in route/error handlers.
    ("flask", Group::Web, false),
    ("fastapi", Group::Web, false),
    ("starlette", Group::Web, false),
    ("quart", Group::Web, false),
    ("app.", Group::Web, false),
    ("config", Group::Config, false),
    ("settings", Group::Config, false),
    ("except", Group::Error, false),
    ("errorhandler", Group::Error, false),
    ("exception_handler", Group::Error, false),
    ("error_handler", Group::Error, false),
    ("request", Group::Request, false),
    ("log", Group::Log, false),
    ("print", Group::Log, false),
    ("write", Group::Log, false),
    ("warn", Group::Log, false),
];

/// Codes of the rules whose triggers [`TABLE`] covers. Add a rule's code here when you extend the
/// table for it.
pub const COVERED_RULES: &[&str] = &[
    "KL001", "KL101", "KL102", "KL103", "KL201", "KL202", "KL203", "KL204", "KL205", "KL206",
    "KL301", "KL302", "KL303", "KL304",
];

/// The rules of the registry the table does not cover (should be empty).
pub fn uncovered_rules() -> Vec<&'static str> {
    crate::config::all_meta()
        .into_iter()
        .map(|m| m.code)
        .filter(|c| !COVERED_RULES.contains(c))
        .collect()
}

/// A compiled pre-filter.
pub struct Prefilter {
    ac: AhoCorasick,
    /// Per pattern: group, and the exact bytes when case matters.
    patterns: Vec<(Group, Option<Vec<u8>>)>,
    /// Off when a rule is not covered: every file is kept.
    enabled: bool,
}

impl Prefilter {
    /// The pre-filter for the table plus a configuration's `extra-secret-names` (each an
    /// [`Group::Any`] word).
    pub fn new(extra_secret_names: &[String]) -> Self {
        let mut words: Vec<(String, Group, bool)> = TABLE
            .iter()
            .map(|(w, g, c)| (w.to_string(), *g, *c))
            .collect();
        for name in extra_secret_names {
            if !name.is_empty() {
                words.push((name.clone(), Group::Any, false));
            }
        }
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(words.iter().map(|(w, _, _)| w.as_bytes()))
            .expect("the pre-filter table builds");
        let patterns = words
            .iter()
            .map(|(w, g, case)| (*g, case.then(|| w.as_bytes().to_vec())))
            .collect();
        Prefilter {
            ac,
            patterns,
            enabled: uncovered_rules().is_empty(),
        }
    }

    /// Whether the pre-filter is on (every rule covered).
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// Whether the file may have a finding and must be analysed.
    pub fn keep(&self, bytes: &[u8]) -> bool {
        if !self.enabled {
            return true;
        }
        let (mut web, mut config, mut error) = (false, false, false);
        let (mut request, mut log, mut query, mut table) = (false, false, false, false);
        for m in self.ac.find_overlapping_iter(bytes) {
            let (group, exact) = &self.patterns[m.pattern().as_usize()];
            if let Some(exact) = exact {
                if &bytes[m.range()] != exact.as_slice() {
                    continue;
                }
            }
            match group {
                Group::Any => return true,
                Group::Key => {
                    if qualified_key_at(bytes, m.start(), m.end()) {
                        return true;
                    }
                }
                Group::Url => {
                    let rest = &bytes[m.end()..];
                    let line = &rest[..rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len())];
                    if line.iter().any(|b| matches!(b, b'@' | b'\\')) {
                        return true;
                    }
                }
                Group::Web => web = true,
                Group::Config => config = true,
                Group::Error => error = true,
                Group::Request => request = true,
                Group::Log => log = true,
                Group::Query => query = true,
                Group::Table => table = true,
            }
            if (web && (config || error || (request && log))) || (query && table) {
                return true;
            }
        }
        false
    }
}

/// The name around `key` at `start..end` (letters, digits, `_`, `-`, `.`) has a word of
/// [`is_key_qualifier`] (split like `syntax::name_words`: separators and camelCase).
fn qualified_key_at(bytes: &[u8], start: usize, end: usize) -> bool {
    let part = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.');
    let from = bytes[..start]
        .iter()
        .rposition(|b| !part(b))
        .map_or(0, |i| i + 1);
    let to = bytes[end..]
        .iter()
        .position(|b| !part(b))
        .map_or(bytes.len(), |i| end + i);
    let Ok(name) = std::str::from_utf8(&bytes[from..to]) else {
        return true;
    };
    crate::analysis::syntax::name_words(name)
        .iter()
        .any(|w| is_key_qualifier(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_is_covered() {
        assert!(
            uncovered_rules().is_empty(),
            "extend cli/prefilter.rs TABLE and COVERED_RULES for: {:?}",
            uncovered_rules()
        );
    }

    #[test]
    fn keeps_and_skips() {
        let p = Prefilter::new(&[]);
        assert!(p.keep(b"API_KEY = 'x'"));
        assert!(p.keep(b"apiKey = 'x'"));
        assert!(p.keep(b"x = 'AKIA0000'"));
        assert!(!p.keep(b"x = 'akia0000'"));
        assert!(!p.keep(b"msg.format(key=1)"));
        assert!(!p.keep(b"import os\nx = {'key': 1}\n"));
        assert!(!p.keep(b"from django.conf import settings\n"));
        assert!(p.keep(b"from flask import Flask\nfrom x import settings\n"));
        assert!(!p.keep(b"try:\n    f()\nexcept E as e:\n    print(str(e))\n"));
        assert!(p.keep(b"@app.errorhandler(E)\ndef h(e):\n    return str(e)\n"));
        assert!(!p.keep(b"STRIPE = 'abc'"));
        assert!(Prefilter::new(&["stripe".into()]).keep(b"STRIPE = 'abc'"));
    }

    #[test]
    fn keys_need_a_qualifier_in_their_name() {
        let p = Prefilter::new(&[]);
        assert!(p.keep(b"def f(signing_key: str):\n    pass\n"));
        assert!(p.keep(b"MasterKey = load()"));
        assert!(p.keep(b"h = {'X-Auth-Key': k}"));
        assert!(p.keep(b"if key_for_x == other: pass"));
        assert!(!p.keep(b"monkey = {'key': 1}\nsorted(d, key=len)\n"));
        assert!(!p.keep(b"cache_key = make(key)\n"));
    }

    #[test]
    fn connection_urls_with_credentials() {
        let p = Prefilter::new(&[]);
        assert!(p.keep(b"DB = 'postgresql://app:s3cr3t@db.internal/app'\n"));
        assert!(p.keep(b"u = 'http://\\u00fcser:p\\u00e4ss\\x40host'\n"));
        assert!(!p.keep(b"URL = 'https://example.com/docs'\n@decorator\ndef f(): pass\n"));
    }

    #[test]
    fn conjunctions() {
        let p = Prefilter::new(&[]);
        // An error leak without `str(`: `f"{e}"`.
        assert!(p.keep(b"@app.errorhandler(E)\ndef h(e):\n    return f\"{e}\"\n"));
        assert!(p.keep(b"app.register_error_handler(E, h)\n"));
        // The whole request logged.
        assert!(p.keep(b"from flask import request\nlogger.info(request)\n"));
        assert!(!p.keep(b"from flask import request\nreturn request.args\n"));
        // A whole DynamoDB item read with `query`.
        assert!(p.keep(b"items = accounts_table.query(KeyConditionExpression=c)\n"));
        assert!(!p.keep(b"rows = db.session.query(User).all()\n"));
        assert!(p.keep(b"page = client.get_paginator('scan')\n"));
    }
}
