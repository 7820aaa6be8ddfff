//! The incremental analyzer gives exactly the findings of a from-scratch analysis, keystroke by
//! keystroke, while module-level names come and go (the bindings an item read are tracked name by
//! name, see [`super::Deps`]).

use std::path::Path;
use std::sync::Arc;

use super::{analyze_text, Analyzer, Options};
use crate::document::{ContentChange, Document, Pos, PositionEncoding};

/// Lines that bind module names rules look up (loggers, apps, tables, env keys, module aliases).
const TYPED: &[&str] = &[
    "logger = logging.getLogger(__name__)",
    "API_KEY = os.environ[\"K\"]",
];

fn fixtures(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            fixtures(&p, out);
        } else if p.extension().is_some_and(|x| x == "py") {
            out.push(p);
        }
    }
}

fn check(doc: &Document, analyzer: &mut Analyzer, what: &str) {
    let options = Options::default();
    let incremental = analyzer.analyze(doc.view(), doc.source(), &options);
    let (fresh, mut scratch) = analyze_text(&doc.text(), &options);
    // With a syntax error in a statement reparsed alone, the whole-file parse may recover
    // differently (see `document/region.rs`): then the reference is a new analyzer on the same
    // syntax, which still checks every cached result.
    if doc.patch().is_some() && fresh.tree.root_node().has_error() {
        scratch = Analyzer::new().analyze(doc.view(), doc.source(), &options);
    }
    assert_eq!(
        compact(&incremental.findings),
        compact(&scratch.findings),
        "incremental and from-scratch findings differ ({what})"
    );
    assert_eq!(
        incremental.findings, scratch.findings,
        "incremental and from-scratch findings differ ({what})"
    );
    // Where imports go (reused while the statements and text it read are unchanged).
    assert_eq!(
        format!("{:?}", incremental.model.layout),
        format!("{:?}", scratch.model.layout),
        "incremental and from-scratch import layouts differ ({what})"
    );
}

/// Findings in short: rule, range, message, related places (for readable failures).
fn compact(findings: &[crate::finding::Finding]) -> Vec<String> {
    findings
        .iter()
        .map(|f| {
            let related: Vec<String> = f
                .related
                .iter()
                .map(|r| format!("{:?} {}", r.range, r.message))
                .collect();
            format!("{} {:?} {} {related:?}", f.rule.code, f.range, f.message)
        })
        .collect()
}

/// Types `line` as a new line at `at` one character at a time, then deletes it again (one
/// character at a time when `erase`, else at once), comparing with a from-scratch analysis after
/// every keystroke.
fn type_and_erase(text: &str, at: u32, line: &str, erase: bool, name: &str) {
    let enc = PositionEncoding::Utf8;
    let mut doc = Document::new(text, 1);
    let mut analyzer = Analyzer::new();
    check(&doc, &mut analyzer, name);
    let mut version = 1;
    let mut edit = |doc: &mut Document, start: Pos, end: Pos, text: &str| {
        version += 1;
        let change = ContentChange {
            range: Some((start, end)),
            text: text.to_string(),
        };
        doc.apply_changes(&[change], version, enc);
    };
    edit(&mut doc, Pos::new(at, 0), Pos::new(at, 0), "\n");
    check(&doc, &mut analyzer, name);
    let mut col = 0u32;
    for ch in line.chars() {
        edit(
            &mut doc,
            Pos::new(at, col),
            Pos::new(at, col),
            &ch.to_string(),
        );
        col += ch.len_utf8() as u32;
        check(
            &doc,
            &mut analyzer,
            &format!("{name}: typed {col} of {line:?}"),
        );
    }
    while erase && col > 0 {
        edit(&mut doc, Pos::new(at, col - 1), Pos::new(at, col), "");
        col -= 1;
        check(
            &doc,
            &mut analyzer,
            &format!("{name}: erased to {col} of {line:?}"),
        );
    }
    edit(&mut doc, Pos::new(at, 0), Pos::new(at + 1, 0), "");
    check(&doc, &mut analyzer, name);
    assert_eq!(doc.text(), text);
}

#[test]
fn typing_module_names_matches_scratch_analysis() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let mut files = Vec::new();
    fixtures(&root, &mut files);
    files.sort();
    assert!(!files.is_empty(), "no fixtures under {}", root.display());
    for file in &files {
        let text = std::fs::read_to_string(file).expect("a readable fixture");
        let name = file.display().to_string();
        let lines = text.split('\n').count() as u32;
        // At the end of the module (after every use) and at its start (before every use).
        for line in TYPED {
            type_and_erase(&text, lines - 1, line, false, &name);
        }
        type_and_erase(&text, 0, "os = app = 1", true, &name);
        // In the middle, indented as the line there (inside a class or a function, often).
        let middle = lines / 2;
        let indent: String = text
            .split('\n')
            .nth(middle as usize)
            .unwrap_or("")
            .chars()
            .take_while(|c| *c == ' ')
            .collect();
        let line = format!("{indent}PASSWORD = \"sk-live-4f9c2b7e8d1a6f3c9a0b\"");
        type_and_erase(&text, middle, &line, false, &name);
    }
}

/// Typing in the docstring, the imports, a class body and at the end of a module: the import
/// layout and the findings stay those of a from-scratch analysis.
#[test]
fn typing_around_the_imports_matches_scratch_analysis() {
    let text = "\"\"\"Docs.\"\"\"\nfrom __future__ import annotations\n\nimport os\nimport logging\n\nlogger = logging.getLogger(__name__)\n\n\nclass Settings:\n    api_key = \"sk-live-4f9c2b7e8d1a6f3c9a0b\"\n\n    def get(self):\n        return os.environ[\"KEY\"]\n\n\ndef send(key):\n    logger.info(\"key %s\", key)\n";
    let typed = [
        "import re",
        "\"\"\"",
        "    x = 1",
        "API_KEY = os.environ[\"K\"]",
    ];
    type_at_every_line(text, 0, &typed, true);
}

/// [`type_and_erase`] of each of `typed` as a new line before every line of `text` from `from` on.
fn type_at_every_line(text: &str, from: u32, typed: &[&str], erase: bool) {
    let lines = text.split('\n').count() as u32;
    for at in from..lines {
        for line in typed {
            type_and_erase(text, at, line, erase, &format!("line {at}"));
        }
    }
}

/// The prefix and suffix two ropes share, found from their chunks, are shared bytes, and most of
/// the text after a small edit.
#[test]
fn common_affixes_are_shared_text() {
    let base: String = (0..3000).map(|i| format!("line {i}\n")).collect();
    let old = ropey::Rope::from_str(&base);
    for (at, remove, insert) in [
        (0, 0, "x"),
        (10, 3, ""),
        (base.len() / 2, 0, "PASSWORD"),
        (base.len() / 2, 1000, ""),
        (base.len() - 1, 1, "yy\n"),
        (base.len(), 0, "z"),
        (0, base.len(), "all new"),
    ] {
        let mut new = old.clone();
        new.remove(new.byte_to_char(at)..new.byte_to_char(at + remove));
        new.insert(new.byte_to_char(at), insert);
        let (p, s) = super::common_affixes(&old, &new);
        let (a, b) = (old.to_string(), new.to_string());
        assert!(p + s <= a.len().min(b.len()));
        assert_eq!(a[..p], b[..p]);
        assert_eq!(a[a.len() - s..], b[b.len() - s..]);
        let changed = remove.max(insert.len());
        assert!(
            p + s + changed + 2048 >= a.len().min(b.len()),
            "{at} {remove} {insert:?}: {p} + {s}"
        );
    }
    // Unrelated ropes with the same text: compared byte by byte, chunk by chunk.
    let other = ropey::Rope::from_str(&base);
    let (p, s) = super::common_affixes(&old, &other);
    assert!(p + s <= base.len());
    assert!(p > 0 && s > 0);
}

#[test]
fn the_warm_up_sample_goes_through_several_rules() {
    super::warm_up();
    let (_, analysis) = analyze_text(super::WARM_UP_SAMPLE, &Options::default());
    let mut rules: Vec<&str> = analysis.findings.iter().map(|f| f.rule.code).collect();
    rules.sort();
    rules.dedup();
    assert!(analysis.panics.is_empty());
    assert!(
        rules.len() >= 4,
        "the warm-up sample only reaches {rules:?}"
    );
}

/// Typing inside one function changes what the data flow resolves for the others (a helper that
/// starts hashing, raising, scanning, logging): the items whose findings read those facts are
/// checked again, and only the facts they read decide it (see [`super::Deps`]).
#[test]
fn typing_in_helpers_matches_scratch_analysis() {
    let text = r#"import hashlib
import logging

import boto3
from fastapi import FastAPI, Header

app = FastAPI()
logger = logging.getLogger(__name__)
table = boto3.resource("dynamodb").Table("keys")


def fingerprint(value):
    return value


def store(key):
    table.put_item(Item={"key": fingerprint(key)})


def check(key):
    if not key:
        return None


def everything():
    return []


@app.post("/keys")
def create(x_api_key: str = Header()):
    check(x_api_key)
    store(x_api_key)
    return {"ok": True}


@app.get("/keys")
def list_keys(x_api_key: str = Header()):
    logger.info("listing")
    return everything()
"#;
    let typed = [
        "    return hashlib.sha256(value.encode()).hexdigest()",
        "    raise ValueError(\"missing key\")",
        "    return table.scan()",
        "    logger.info(\"key %s\", key)",
        "    return key",
    ];
    type_at_every_line(text, 10, &typed, false);
}

#[test]
fn a_panicking_rule_is_contained_and_quotes_no_source() {
    use crate::rules::panicking::Panicking;
    use crate::rules::{built_in, Rule};
    const SECRET: &str = "sk-live-4f9c2b7e8d1a6f3c9a0b";
    let text = format!(
        "import os\n\nAPI_KEY = \"{SECRET}\"\nDEBUG = bool(os.environ.get(\"DEBUG\", \"False\"))\n"
    );
    let expected = |analysis: &super::Analysis| {
        let mut codes: Vec<&str> = analysis.findings.iter().map(|f| f.rule.code).collect();
        codes.sort();
        codes
    };
    let (_, all_rules) = analyze_text(&text, &Options::default());
    assert_eq!(expected(&all_rules), ["KL101", "KL103"]);

    // KL103 panics on every item; KL101 still reports.
    let set: Vec<&'static dyn Rule> = built_in()
        .iter()
        .map(|&r| -> &'static dyn Rule {
            if r.meta().code == "KL103" {
                Box::leak(Box::new(Panicking(r)))
            } else {
                r
            }
        })
        .collect();
    let mut analyzer = Analyzer::with_rules(Box::leak(set.into_boxed_slice()));
    let mut doc = Document::new(&text, 1);
    let first = analyzer.analyze(doc.view(), doc.source(), &Options::default());
    assert_eq!(expected(&first), ["KL101"]);
    // One report for the rule, on every item checked (the import, the two assignments), without
    // the source text its panic quoted.
    assert_eq!(first.panics.len(), 1, "{:?}", first.panics);
    let p = &first.panics[0];
    assert_eq!((p.rule, p.items), ("KL103", 3));
    assert!(p.message.starts_with("byte index 1"), "{p:?}");
    let shown = p.to_string();
    assert!(
        !shown.contains(SECRET) && !shown.contains("API_KEY") && !shown.contains('`'),
        "{shown}"
    );
    // The analyzer goes on: an edit is analysed again, and only the edited item fails again.
    doc.apply_change(
        &ContentChange {
            range: Some((Pos::new(1, 0), Pos::new(1, 0))),
            text: "TOKEN_TYPE = \"bearer\"\n".into(),
        },
        PositionEncoding::Utf16,
    );
    let second = analyzer.analyze(doc.view(), doc.source(), &Options::default());
    assert_eq!(expected(&second), ["KL101"]);
    assert_eq!(second.panics.len(), 1, "{:?}", second.panics);
    assert_eq!(second.panics[0].items, 1);
}

#[test]
fn statements_nested_too_deep_are_left_out_and_reported() {
    // `levels` nested `str()` around a key from a header, logged: KL202 while it is shallow enough.
    let handler = |levels: usize| {
        format!(
            "@app.get(\"/\")\ndef h(x_api_key: str = Header()):\n    logging.info({}x_api_key{})\n",
            "str(".repeat(levels),
            ")".repeat(levels)
        )
    };
    let head = "import logging\nfrom fastapi import FastAPI, Header\napp = FastAPI()\nAPI_KEY = \"sk-live-4f9c2b7e8d1a6f3c9a0b\"\n";
    let codes = |a: &super::Analysis| {
        let mut c: Vec<&str> = a.findings.iter().map(|f| f.rule.code).collect();
        c.sort();
        c
    };
    // A call nests two levels (the call and its argument list): 100 calls are 200-odd levels.
    let (_, shallow) = analyze_text(&format!("{head}{}", handler(100)), &Options::default());
    assert_eq!(codes(&shallow), ["KL101", "KL202"]);
    assert!(shallow.not_analysed.is_empty());

    let text = format!("{head}{}", handler(2_000));
    let (doc, deep) = analyze_text(&text, &Options::default());
    // The other statements are analysed; the handler is left out, and said so.
    assert_eq!(codes(&deep), ["KL101"]);
    assert_eq!(deep.not_analysed.len(), 1);
    let n = deep.not_analysed[0];
    assert_eq!(doc.rope.byte_to_line(n.start), 4, "the decorated handler");
    assert!(n.depth > super::MAX_NESTING && n.depth < 4_100, "{n:?}");

    // Incrementally: typing in the deep handler reports it again (it is looked at anew), typing
    // elsewhere does not; the findings are a fresh analysis's.
    let mut doc = Document::new(&text, 1);
    let mut analyzer = Analyzer::new();
    let first = analyzer.analyze(doc.view(), doc.source(), &Options::default());
    assert_eq!(first.not_analysed.len(), 1);
    doc.apply_change(
        &ContentChange {
            range: Some((Pos::new(1, 0), Pos::new(1, 0))),
            text: "import os\n".into(),
        },
        PositionEncoding::Utf16,
    );
    let elsewhere = analyzer.analyze(doc.view(), doc.source(), &Options::default());
    assert!(
        elsewhere.not_analysed.is_empty(),
        "{:?} checked {} of {}",
        elsewhere.not_analysed,
        elsewhere.items_checked,
        elsewhere.items_total
    );
    assert_eq!(codes(&elsewhere), ["KL101"]);
    doc.apply_change(
        &ContentChange {
            range: Some((Pos::new(7, 4), Pos::new(7, 4))),
            text: "x = 1; ".into(),
        },
        PositionEncoding::Utf16,
    );
    let inside = analyzer.analyze(doc.view(), doc.source(), &Options::default());
    assert_eq!(inside.not_analysed.len(), 1);
    assert_eq!(codes(&inside), ["KL101"]);
}

/// The same text does not always parse alike: `print(request.headers)` followed by a stray `x` is
/// a Python 2 `print_statement`; pressing Enter before the `x` makes it a call logging a header
/// (KL202), with the same text. Its cached (empty) findings must not be reused.
#[test]
fn an_item_whose_text_parses_anew_is_checked_again() {
    let text = "from flask import request\nprint(request.headers)x\n";
    let mut doc = Document::new(text, 1);
    let mut analyzer = Analyzer::new();
    check(&doc, &mut analyzer, "before");
    doc.apply_changes(
        &[ContentChange {
            range: Some((Pos::new(1, 22), Pos::new(1, 22))),
            text: "\n".into(),
        }],
        2,
        PositionEncoding::Utf16,
    );
    let after = analyzer.analyze(doc.view(), doc.source(), &Options::default());
    let codes: Vec<_> = after.findings.iter().map(|f| f.rule.code).collect();
    assert_eq!(codes, ["KL202"]);
    check(&doc, &mut analyzer, "after Enter");
    // And back: the stray token joins the line again.
    doc.apply_changes(
        &[ContentChange {
            range: Some((Pos::new(1, 22), Pos::new(2, 0))),
            text: String::new(),
        }],
        3,
        PositionEncoding::Utf16,
    );
    check(&doc, &mut analyzer, "after Backspace");
}

/// The fixes insert lines with the first line's ending: when an edit changes that ending (here
/// from `\n` to a lone `\r`, which Python also ends a line at), the findings of an item the edit
/// left alone must not keep the fix of the old ending (found by `document_props`' chaotic edits).
#[test]
fn a_changed_first_line_ending_reaches_the_cached_fixes() {
    let text = "x = 1\nAPI_KEY = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc'\n";
    let mut doc = Document::new(text, 1);
    let mut analyzer = Analyzer::new();
    check(&doc, &mut analyzer, "before");
    for (version, ending) in [(2, "\r"), (3, "\r\n"), (4, "\n")] {
        let old_end = doc.text().find(['\r', '\n']).unwrap();
        let old_len = if doc.text()[old_end..].starts_with("\r\n") {
            2
        } else {
            1
        };
        let mut new = doc.text();
        new.replace_range(old_end..old_end + old_len, ending);
        doc.apply_changes(
            &[ContentChange {
                range: None,
                text: new,
            }],
            version,
            PositionEncoding::Utf16,
        );
        let after = analyzer.analyze(doc.view(), doc.source(), &Options::default());
        let inserted: Vec<&str> = after
            .findings
            .iter()
            .flat_map(|f| &f.fixes)
            .flat_map(|fix| &fix.edits)
            .map(|e| e.new_text.as_str())
            .filter(|t| t.starts_with("if not"))
            .collect();
        assert!(!inserted.is_empty(), "{:?}", after.findings);
        for t in inserted {
            assert!(t.ends_with(ending), "{ending:?}: {t:?}");
            assert_eq!(t.matches(ending).count(), 2, "{ending:?}: {t:?}");
        }
        check(&doc, &mut analyzer, ending);
    }
}

/// A FastAPI + DynamoDB module of `n` handlers, the shape of `scripts/gen-fastapi-module`: each
/// takes a `Header` key, checks it with `hmac.compare_digest`, calls a hashing helper and an
/// audit helper.
pub(crate) fn fastapi_module(n: usize) -> String {
    let mut out = String::from(
        r#"import hashlib
import hmac
import logging
import os

import boto3
from fastapi import FastAPI, Header, HTTPException

logger = logging.getLogger(__name__)
app = FastAPI()
table = boto3.resource("dynamodb").Table(os.environ.get("TABLE", "items"))
audit_table = boto3.resource("dynamodb").Table("audit")
EXPECTED_KEY_HASH = os.environ.get("EXPECTED_KEY_HASH", "")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def audit(event: str, key_hash: str) -> None:
    logger.info("audit %s by %s", event, key_hash)
    audit_table.put_item(Item={"event": event, "by": key_hash})
"#,
    );
    for i in 0..n {
        out.push_str(&format!(
            r#"

@app.get("/items/{{item_id}}/v{i}")
def get_item_{i}(item_id: str, x_api_key: str = Header(...)):
    key_hash = hash_key(x_api_key)
    if not hmac.compare_digest(key_hash, EXPECTED_KEY_HASH):
        raise HTTPException(status_code=401, detail="invalid API key")
    audit("get_item_{i}", key_hash)
    response = table.get_item(Key={{"id": item_id, "kind": "v{i}"}})
    item = response.get("Item")
    if item is None:
        raise HTTPException(status_code=404, detail="not found")
    return {{"id": item_id, "name": item.get("name", "")}}
"#
        ));
    }
    out
}

/// Replaces the first `old` of the document's text with `new` (one notification), and analyses.
fn replace(doc: &mut Document, analyzer: &mut Analyzer, old: &str, new: &str) -> super::Analysis {
    let text = doc.text();
    let at = text.find(old).expect("the text to replace");
    let pos = |byte: usize| {
        let line = text[..byte].matches('\n').count() as u32;
        let col = (byte - text[..byte].rfind('\n').map_or(0, |i| i + 1)) as u32;
        Pos::new(line, col)
    };
    let change = ContentChange {
        range: Some((pos(at), pos(at + old.len()))),
        text: new.to_string(),
    };
    let version = doc.version + 1;
    doc.apply_changes(&[change], version, PositionEncoding::Utf8);
    let analysis = analyzer.analyze(doc.view(), doc.source(), &Options::default());
    let (_, fresh) = analyze_text(&doc.text(), &Options::default());
    assert_eq!(
        compact(&analysis.findings),
        compact(&fresh.findings),
        "incremental and fresh differ"
    );
    assert_eq!(
        analysis.findings, fresh.findings,
        "incremental and fresh differ"
    );
    analysis
}

/// An edit inside one handler resolves that handler's flow again and merges what reaches the
/// parameters of its two helpers; no other function is resolved again, and only its item is
/// checked again.
#[test]
fn an_edit_inside_one_handler_resolves_that_handler_only() {
    let text = fastapi_module(12);
    let mut doc = Document::new(&text, 1);
    let mut analyzer = Analyzer::new();
    analyzer.analyze(doc.view(), doc.source(), &Options::default());
    let first = analyzer.resolve_stats();
    assert!(first.full);
    assert_eq!(first.resolved, 14, "{first:?}");
    // A statement at the top of a handler's body moves everything after it in that handler.
    let analysis = replace(
        &mut doc,
        &mut analyzer,
        "    key_hash = hash_key(x_api_key)\n    if not hmac.compare_digest(key_hash, EXPECTED_KEY_HASH):\n        raise HTTPException(status_code=401, detail=\"invalid API key\")\n    audit(\"get_item_6\"",
        "    n = 1\n    key_hash = hash_key(x_api_key)\n    if not hmac.compare_digest(key_hash, EXPECTED_KEY_HASH):\n        raise HTTPException(status_code=401, detail=\"invalid API key\")\n    audit(\"get_item_6\"",
    );
    let stats = analyzer.resolve_stats();
    assert!(!stats.full);
    assert_eq!(stats.changed, 1, "{stats:?}");
    assert_eq!(stats.resolved, 1, "{stats:?}");
    assert_eq!(stats.merged, 1, "{stats:?}");
    assert_eq!(analysis.items_checked, 1);
    // Every later item moved: still nothing to resolve for them.
    let analysis = replace(&mut doc, &mut analyzer, "    n = 1\n", "");
    let stats = analyzer.resolve_stats();
    assert_eq!((stats.changed, stats.resolved), (1, 1), "{stats:?}");
    assert_eq!(analysis.items_checked, 1);
    // A literal that no flow holds: no resolution at all.
    replace(&mut doc, &mut analyzer, "\"not found\")\n    return {\"id\": item_id, \"name\": item.get(\"name\", \"\")}\n\n\n@app.get(\"/items/{item_id}/v8\")", "\"not there\")\n    return {\"id\": item_id, \"name\": item.get(\"name\", \"\")}\n\n\n@app.get(\"/items/{item_id}/v8\")");
    let stats = analyzer.resolve_stats();
    assert_eq!(
        (stats.changed, stats.resolved, stats.merged),
        (0, 0, 0),
        "{stats:?}"
    );
}

/// A helper that starts returning the key it hashed (or logging it): the change reaches the
/// findings of its callers, and of no other function.
#[test]
fn a_helpers_change_reaches_its_callers_findings() {
    let text = fastapi_module(6).replace(
        "    return {\"id\": item_id, \"name\": item.get(\"name\", \"\")}",
        "    logger.info(\"served %s\", key_hash)\n    return {\"id\": item_id, \"name\": item.get(\"name\", \"\")}",
    );
    let text =
        format!("{text}\n\n@app.get(\"/health\")\ndef health():\n    return {{\"ok\": True}}\n");
    let mut doc = Document::new(&text, 1);
    let mut analyzer = Analyzer::new();
    let analysis = analyzer.analyze(doc.view(), doc.source(), &Options::default());
    let logged = |a: &super::Analysis| a.findings.iter().filter(|f| f.rule.code == "KL202").count();
    assert_eq!(logged(&analysis), 0, "{:?}", analysis.findings);
    let analysis = replace(
        &mut doc,
        &mut analyzer,
        "    return hashlib.sha256(key.encode()).hexdigest()",
        "    return key",
    );
    // Each handler logs what the helper returns: the key now, with its path; so does `audit`.
    assert_eq!(logged(&analysis), 7, "{:?}", analysis.findings);
    let stats = analyzer.resolve_stats();
    // The helper, its six callers (their returns and contributions read its return), and
    // `audit` (the key reaches its parameter now); not `health`.
    assert_eq!((stats.changed, stats.resolved), (1, 8), "{stats:?}");
    // And back.
    let analysis = replace(
        &mut doc,
        &mut analyzer,
        "    return key\n",
        "    return hashlib.sha256(key.encode()).hexdigest()\n",
    );
    assert_eq!(logged(&analysis), 0);
    // The audit helper logs its parameter: the key reaches it through every handler.
    let analysis = replace(
        &mut doc,
        &mut analyzer,
        "    logger.info(\"audit %s by %s\", event, key_hash)",
        "    logger.info(\"audit %s by %s\", event, key_hash)\n    logger.info(\"raw %s\", event)",
    );
    assert_eq!(logged(&analysis), 0);
}

/// Typing in a handler, in a helper and at module level of a FastAPI module: the findings are
/// those of a from-scratch analysis after every keystroke.
#[test]
fn typing_in_a_fastapi_module_matches_scratch_analysis() {
    let text = fastapi_module(5);
    let line_of = |needle: &str| text[..text.find(needle).unwrap()].matches('\n').count() as u32;
    let handler = line_of("    response = table.get_item(Key={\"id\": item_id, \"kind\": \"v2\"})");
    type_and_erase(
        &text,
        handler,
        "    logger.info(\"checking key %s\", x_api_key)",
        false,
        "handler",
    );
    let helper = line_of("    return hashlib.sha256(");
    type_and_erase(
        &text,
        helper,
        "    return key",
        true,
        "helper returns the key",
    );
    let audit = line_of("    audit_table.put_item(");
    type_and_erase(
        &text,
        audit,
        "    logger.info(\"key %s\", key_hash)",
        false,
        "audit logs",
    );
    let first = line_of("@app.get(\"/items/{item_id}/v0\")");
    type_and_erase(
        &text,
        first,
        "def hash_key(k): return k",
        false,
        "a second hash_key",
    );
}

/// Brackets left open while typing swallow the next functions (or a module-level statement) and
/// give them back: the resolver takes the window of flows that changed and splices its call
/// graph around it (`Resolver::splice_graph`, checked against a rebuilt graph in every test
/// build). A function defined twice, whose last definition is swallowed (its name resolves to
/// the first again), a helper below the edit called from above it, module-level names and
/// nameless statements below it: the findings are those of a from-scratch analysis after every
/// keystroke, typing and erasing.
#[test]
fn brackets_left_open_across_functions_match_scratch_analysis() {
    let text = r#"import logging
import os

from fastapi import FastAPI, Header

logger = logging.getLogger(__name__)
app = FastAPI()


def store(key):
    return key


@app.get("/a")
def route_a(x_api_key: str = Header(...)):
    value = store(x_api_key)
    return {"ok": True}


def store(key):
    logger.info("stored %s", key)


@app.get("/b")
def route_b(x_api_key: str = Header(...)):
    forward(x_api_key)
    return {"ok": True}


def forward(key):
    store(key)
    logger.info("forwarded %s", key)


SECRET = os.environ["SECRET"]
app.include_router(None)
app.include_router(None)


def route_c(x_api_key: str = Header(...)):
    forward(SECRET)
    return store(x_api_key)
"#;
    let line_of = |needle: &str| text[..text.find(needle).unwrap()].matches('\n').count() as u32;
    let in_a = line_of("    return {\"ok\": True}");
    type_and_erase(
        text,
        in_a,
        "    logger.info(\"checking %s\", x_api_key)",
        true,
        "open call before the last store",
    );
    type_and_erase(text, in_a, "    store((x_api_key", true, "two brackets");
    let in_b = line_of("    forward(x_api_key)");
    type_and_erase(
        text,
        in_b,
        "    logger.info(\"checking %s\", {\"k\": [x_api_key",
        true,
        "open brackets before forward",
    );
    let module = line_of("SECRET = ");
    type_and_erase(text, module, "TOKEN = store(", true, "module level");
    type_and_erase(text, module, "def store(k", true, "a third store");
}

/// An edit that leaves every item's facts as they were (a literal in a handler's body) reuses the
/// merged model of the last run, functions and fingerprints, instead of merging every item again;
/// a renamed handler changes its facts, and the model is merged anew: both equal a fresh one.
#[test]
fn an_edit_that_keeps_every_items_facts_reuses_the_merged_model() {
    let text = fastapi_module(12);
    let mut doc = Document::new(&text, 1);
    let mut analyzer = Analyzer::new();
    let first = analyzer.analyze(doc.view(), doc.source(), &Options::default());
    let same_as_fresh = |doc: &Document, model: &crate::model::Model| {
        let (_, fresh) = analyze_text(&doc.text(), &Options::default());
        assert_eq!(model.rest_fingerprint(), fresh.model.rest_fingerprint());
        assert_eq!(
            model.bindings().fingerprint(),
            fresh.model.bindings().fingerprint()
        );
        assert_eq!(model.functions, fresh.model.functions);
    };
    let analysis = replace(
        &mut doc,
        &mut analyzer,
        "\"kind\": \"v6\"}",
        "\"kind\": \"w6\"}",
    );
    assert!(
        Arc::ptr_eq(&first.model.functions, &analysis.model.functions),
        "the merged model is reused"
    );
    same_as_fresh(&doc, &analysis.model);
    let renamed = replace(
        &mut doc,
        &mut analyzer,
        "def get_item_6(",
        "def get_item_six(",
    );
    assert!(!Arc::ptr_eq(
        &analysis.model.functions,
        &renamed.model.functions
    ));
    assert!(renamed
        .model
        .functions
        .iter()
        .any(|f| f.name == "get_item_six"));
    same_as_fresh(&doc, &renamed.model);
}

#[test]
fn a_merge_takes_again_the_functions_of_the_items_an_edit_left_alone() {
    let same_as_fresh = |doc: &Document, analysis: &super::Analysis| {
        let (_, fresh) = analyze_text(&doc.text(), &Options::default());
        assert_eq!(analysis.model.functions, fresh.model.functions);
        assert_eq!(
            analysis.model.rest_fingerprint(),
            fresh.model.rest_fingerprint()
        );
        assert_eq!(analysis.findings, fresh.findings);
    };
    let text = fastapi_module(12);
    let mut doc = Document::new(&text, 1);
    let mut analyzer = Analyzer::new();
    let first = analyzer.analyze(doc.view(), doc.source(), &Options::default());
    let lists = first.model.functions.lists();
    assert!(lists > 12);
    // A renamed handler: its list is made again, every other one is the last merge's.
    let renamed = replace(
        &mut doc,
        &mut analyzer,
        "def get_item_6(",
        "def get_item_six(",
    );
    same_as_fresh(&doc, &renamed);
    let functions = &renamed.model.functions;
    assert_eq!(functions.lists(), lists);
    assert_eq!(functions.shared_with(&first.model.functions), lists - 1);
    // A call left open in a handler swallows the next one, then is closed again. With the
    // syntax error the fresh parse may recover otherwise: the kept lists are checked against a
    // merge of the same items' facts from scratch.
    let same_as_merged = |analyzer: &Analyzer, analysis: &super::Analysis| {
        let merged = crate::model::Model::from_facts(
            analyzer
                .entries
                .iter()
                .map(|(_, c)| (&c.facts, &*c.classes)),
        );
        assert_eq!(analysis.model.functions, merged.functions);
    };
    let open = replace(
        &mut doc,
        &mut analyzer,
        "    audit(\"get_item_5\", key_hash)\n",
        "    audit(\"get_item_5\", key_hash)\n    logger.info(\n",
    );
    same_as_merged(&analyzer, &open);
    let closed = replace(
        &mut doc,
        &mut analyzer,
        "    logger.info(\n",
        "    logger.info(key_hash)\n",
    );
    same_as_merged(&analyzer, &closed);
    same_as_fresh(&doc, &closed);
    assert!(closed.model.functions.shared_with(&renamed.model.functions) >= lists - 2);
    // A class added above methods moves their class index: their lists are made again.
    let with_class =
        "class A:\n    def m(self):\n        pass\n\n\nclass B:\n    def n(self):\n        pass\n";
    let mut doc = Document::new(with_class, 1);
    let mut analyzer = Analyzer::new();
    let first = analyzer.analyze(doc.view(), doc.source(), &Options::default());
    same_as_fresh(&doc, &first);
    same_as_merged(&analyzer, &first);
    let moved = replace(
        &mut doc,
        &mut analyzer,
        "class B:",
        "class Z:\n    pass\n\n\nclass B:",
    );
    same_as_fresh(&doc, &moved);
    same_as_merged(&analyzer, &moved);
    let n = moved
        .model
        .functions
        .iter()
        .find(|f| f.name == "n")
        .expect("method n");
    assert_eq!(n.class, Some(2));
}

/// A project resolver that resolves this module alone (its component is itself) and counts the
/// resolutions asked of it.
struct Alone(std::sync::atomic::AtomicUsize);

impl crate::dataflow::cross::FlowResolver for Alone {
    fn resolve(&self, flows: &[(&crate::dataflow::FnFlow, usize)]) -> crate::dataflow::Dataflow {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        crate::dataflow::resolve(flows.iter().copied())
    }
    fn signature(&self) -> u64 {
        0
    }
    fn alone(&self, _flows: &[(&crate::dataflow::FnFlow, usize)]) -> bool {
        true
    }
}

/// In the server every module has a project resolver; one the project resolves alone is resolved
/// by the analyzer's incremental resolver (the project's resolution is one from scratch, on every
/// keystroke that moves an item): typing in a handler asks the project for no resolution, and
/// the findings are those of a fresh analysis after every keystroke.
#[test]
fn a_module_the_project_resolves_alone_is_resolved_incrementally() {
    let text = fastapi_module(8);
    let at = text[..text.find("    audit(\"get_item_4\"").unwrap()]
        .matches('\n')
        .count() as u32;
    let resolver = Arc::new(Alone(Default::default()));
    let mut analyzer = Analyzer::new();
    analyzer.set_resolver(Some(resolver.clone()));
    let mut doc = Document::new(&text, 1);
    check(&doc, &mut analyzer, "opened");
    let mut version = 1;
    let mut col = 0;
    for (i, ch) in "\n    logger.info(\"checking key %s\", x_api_key)"
        .chars()
        .enumerate()
    {
        version += 1;
        let (line, c) = if i == 0 { (at, 0) } else { (at, col) };
        let change = ContentChange {
            range: Some((Pos::new(line, c), Pos::new(line, c))),
            text: ch.to_string(),
        };
        doc.apply_changes(&[change], version, PositionEncoding::Utf8);
        if i > 0 {
            col += 1;
        }
        check(&doc, &mut analyzer, "typing in a handler");
        assert!(analyzer.resolve_stats().resolved <= 2);
    }
    assert_eq!(
        resolver.0.load(std::sync::atomic::Ordering::Relaxed),
        0,
        "the project resolved the module"
    );
}

/// What one keystroke of typing a logging line inside a handler in the middle of a module cost:
/// per keystroke, (items taken from the tree, items checked by the rules, functions resolved,
/// incoming parameters merged, flows whose call-graph edges were made again), then (bytes read to
/// tell whether the text spells `keylint`, whether the module's project summary made after the
/// analysis, as the server makes it, sorted the module's names again).
type Work = ((usize, usize, usize, usize, usize), (usize, bool));

fn typing_work(handlers: usize) -> Vec<Work> {
    let text = fastapi_module(handlers);
    let needle = format!(
        "    response = table.get_item(Key={{\"id\": item_id, \"kind\": \"v{}\"}})",
        handlers / 2
    );
    let line = text[..text.find(&needle).expect("the middle handler")]
        .matches('\n')
        .count() as u32;
    let mut doc = Document::new(&text, 1);
    let mut analyzer = Analyzer::new();
    let a = analyzer.analyze(doc.view(), doc.source(), &Options::default());
    let mut summary =
        crate::project::ModuleSummary::new(analyzer.flows(), &a.model, doc.view(), doc.source());
    let mut work = Vec::new();
    let mut edit = |doc: &mut Document, (l, c): (u32, u32), s: &str| {
        let version = doc.version + 1;
        let change = ContentChange {
            range: Some((Pos::new(l, c), Pos::new(l, c))),
            text: s.to_string(),
        };
        doc.apply_changes(&[change], version, PositionEncoding::Utf8);
        let a = analyzer.analyze(doc.view(), doc.source(), &Options::default());
        let r = analyzer.resolve_stats();
        let next = crate::project::ModuleSummary::new_like(
            Some(&summary),
            analyzer.flows(),
            &a.model,
            doc.view(),
            doc.source(),
            Some(&analyzer.top_level_starts(crate::project::ModuleSummary::from_import_kind())),
        );
        let sorted_again = next.function_names().as_ptr() != summary.function_names().as_ptr();
        summary = next;
        work.push((
            (
                a.items_walked,
                a.items_checked,
                r.resolved,
                r.merged,
                r.relinked,
            ),
            (analyzer.mentions_scanned(), sorted_again),
        ));
    };
    edit(&mut doc, (line, 0), "    \n");
    for (col, ch) in "logger.info(\"checking key %s\", x_api_key)"
        .chars()
        .enumerate()
    {
        edit(&mut doc, (line, 4 + col as u32), &ch.to_string());
    }
    work
}

/// Typing inside a handler costs the same work in a module of 30 handlers and of 120: the
/// items walked (those of the edited statement, not every statement of the module), the items
/// checked, the functions resolved and the flows whose call-graph edges are made again (a
/// keystroke that changes what the handler calls or reads moves its edges only) do not grow
/// with the module.
#[test]
fn a_keystroke_in_a_handler_walks_the_same_items_at_any_module_size() {
    let small = typing_work(30);
    let big = typing_work(120);
    // The call graph made again whole (more flows than one handler has) is `None`.
    let without_walked = |w: &[Work]| -> Vec<(usize, usize, usize, Option<usize>, bool)> {
        w.iter()
            .map(|&((_, c, r, m, g), (_, sorted))| (c, r, m, Some(g).filter(|&g| g <= 8), sorted))
            .collect()
    };
    assert_eq!(without_walked(&small), without_walked(&big));
    // The text read for suppressions is the text the analyzer finds changed (the keystroke, or
    // the rest of a rope chunk the edit split: at most a chunk, about 1 KiB) and a spelling's
    // length around it, not the module (before: the whole text, every keystroke).
    for work in [&small, &big] {
        assert!(
            work.iter().all(|&(_, (scanned, _))| scanned <= 2048),
            "bytes read for `keylint`: {work:?}"
        );
        let one_char = work
            .iter()
            .filter(|&&(_, (scanned, _))| scanned <= 16)
            .count();
        assert!(
            one_char + 2 >= work.len(),
            "bytes read for `keylint`: {work:?}"
        );
        // The summary's sorted names are the last one's while the keystroke leaves the module's
        // functions as they were: all but the keystrokes where the open call swallows the next
        // handler (a function gone, then back).
        let sorted = work.iter().filter(|&&(_, (_, s))| s).count();
        assert!(sorted <= 4, "names sorted again {sorted} times: {work:?}");
    }
    // Typing `logger`, `logger.info(…` changes what the handler reads and calls: its edges move.
    // While the open call swallows the next handler's decorator (a function gone, then back),
    // the graph is spliced around the window of flows that changed, not made again whole
    // (before: on 4 keystrokes, every flow of the module).
    for work in [&small, &big] {
        let whole = work.iter().filter(|&&((.., g), _)| g > 8).count();
        assert_eq!(whole, 0, "the call graph rebuilt {whole} times: {work:?}");
    }
    // The statements walked are those of the text the edit changed, found by comparing the
    // texts' chunks: it may take a neighbour of the edited statement, depending on where the
    // chunks of the text end, never the module.
    for work in [&small, &big] {
        assert!(
            work.iter().all(|&((walked, ..), _)| walked <= 8),
            "every keystroke walks the edited statement (and the few an open bracket takes): {work:?}"
        );
    }
}

/// Module-level names bound, rebound and unbound while typing (a key's binding turning from a
/// literal into a call and back, a second definition of a helper, a name shadowing an import):
/// the cached flows and findings known valid at the last run are checked against the names bound
/// differently since (not hashed again one by one), and equal a from-scratch analysis after every
/// keystroke, with items that read a changed name and items that do not.
#[test]
fn bindings_changed_between_keystrokes_match_scratch_analysis() {
    let text = r#"import logging
import os

import requests

logger = logging.getLogger(__name__)
API_KEY = "sk-live-4f9c2b7e8d1a6f3c9a0b"


def send(url):
    return requests.get(url, headers={"Authorization": API_KEY})


def audit(key):
    logger.info("audit %s", key)


def route(x_api_key):
    audit(API_KEY)
    return send(x_api_key)


def other():
    return os.environ["HOME"]
"#;
    let line_of = |needle: &str| text[..text.find(needle).unwrap()].matches('\n').count() as u32;
    let key = line_of("API_KEY = ");
    type_and_erase(
        text,
        key + 1,
        "API_KEY = os.environ[\"K\"]",
        true,
        "rebinding the key",
    );
    type_and_erase(
        text,
        key,
        "API_KEY = (",
        true,
        "an open call swallowing the key",
    );
    let other = line_of("def other(");
    type_and_erase(
        text,
        other,
        "def audit(key): return key",
        true,
        "a second audit",
    );
    type_and_erase(
        text,
        other,
        "requests = logger = None",
        true,
        "shadowing names",
    );
}

/// [`BindingsView::changed_names`](crate::model::BindingsView::changed_names): the names bound
/// in one model only or bound differently, and none beyond the limit.
#[test]
fn changed_names_are_the_bindings_that_differ() {
    let (_, a) = analyze_text(
        "import os\nA = 1\nB = os.environ['K']\ndef f():\n    pass\n",
        &Options::default(),
    );
    let (_, b) = analyze_text(
        "import os\nA = 1\nB = 'x'\ndef g():\n    pass\n",
        &Options::default(),
    );
    let mut changed = a
        .model
        .bindings()
        .changed_names(b.model.bindings(), 16)
        .expect("under the limit");
    changed.sort();
    assert_eq!(changed, ["B", "f", "g"]);
    assert_eq!(
        a.model.bindings().changed_names(a.model.bindings(), 0),
        Some(vec![])
    );
    assert_eq!(
        a.model.bindings().changed_names(b.model.bindings(), 2),
        None
    );
}

/// [`super::pipeline::analyze_rope`] (the server's: the text, or the part of it around the edit,
/// copied in one piece into the analyzer's buffer first) gives the findings of an analysis that
/// slices the rope, keystroke by keystroke, in a small module (the whole text copied) and in the
/// middle of a large one (a window: the helpers the handler calls lie outside it), while the
/// module grows, shrinks (the buffer is reused: no stale tail) and is replaced by a much smaller
/// text (the buffer is not kept). It fails if the flat copy were not the rope's text.
#[test]
fn an_analysis_of_the_rope_copied_in_one_piece_finds_what_the_rope_gives() {
    for handlers in [6, 160] {
        rope_copied_in_one_piece_finds_what_the_rope_gives(handlers);
    }
}

fn rope_copied_in_one_piece_finds_what_the_rope_gives(handlers: usize) {
    use crate::config::Config;
    let config = Config::default();
    let text = fastapi_module(handlers);
    let mut doc = Document::new(&text, 0);
    let mut flat = Analyzer::new();
    let mut by_rope = Analyzer::new();
    let mut compare = |doc: &Document, what: &str| {
        let a = super::pipeline::analyze_rope(
            &mut flat,
            doc.view(),
            doc.source().rope(),
            &config,
            None,
        );
        let b = super::pipeline::analyze(&mut by_rope, doc.view(), doc.source(), &config, None);
        assert_eq!(compact(&a.findings), compact(&b.findings), "{what}");
        assert_eq!(a.findings, b.findings, "{what}");
        a.findings.len()
    };
    compare(&doc, "opened");
    let edit = |doc: &mut Document, at: usize, len: usize, new: &str| {
        let text = doc.text();
        let pos = |byte: usize| {
            let line = text[..byte].matches('\n').count() as u32;
            let col = (byte - text[..byte].rfind('\n').map_or(0, |i| i + 1)) as u32;
            Pos::new(line, col)
        };
        let change = ContentChange {
            range: Some((pos(at), pos(at + len))),
            text: new.to_string(),
        };
        let version = doc.version + 1;
        doc.apply_changes(&[change], version, PositionEncoding::Utf8);
    };
    let line = "    logger.info(\"checking key %s\", x_api_key)\n";
    let handler = text
        .find(&format!("def get_item_{}(", handlers / 2))
        .unwrap();
    let at = handler
        + text[handler..]
            .find("    response = table.get_item(")
            .unwrap();
    let mut found = 0;
    for n in 1..=line.len() {
        edit(&mut doc, at, n - 1, &line[..n]);
        found = compare(&doc, &format!("typed {n} chars"));
    }
    assert!(found > 0, "the logged key is found");
    // The end of the module cut off: a shorter text in a buffer that held a longer one.
    let cut = doc.text().len() / 2;
    let cut = doc.text()[cut..]
        .find("\n@app")
        .map_or(cut, |i| cut + i + 1);
    let len = doc.text().len() - cut;
    edit(&mut doc, cut, len, "");
    compare(&doc, "the second half cut off");
    let len = doc.text().len();
    edit(
        &mut doc,
        0,
        len,
        "import os\nAPI_KEY = \"sk_live_0123456789abcdefghij\"\n",
    );
    compare(&doc, "replaced by a short module");
}

/// The buffer [`super::pipeline::analyze_rope`] copies the text into holds the whole text for a
/// first analysis, with room for the keystrokes that lengthen it; a keystroke in a large module
/// copies only the part around it (at most a few times [`super::TEXT_WINDOW_MARGIN`]), into the
/// same buffer; a run of the same text again copies all of it. It fails if every keystroke copied the whole text (it did: 260 KB a keystroke at
/// 7,943 lines), or if the buffer were made at the text's exact size (it was: the first
/// keystroke after the document opened moved it, a new mapping faulted in by the copy, 0.3 ms
/// of that keystroke at 7,943 lines).
#[test]
fn typing_a_line_copies_the_text_around_it_into_the_buffer_of_the_first_analysis() {
    use crate::config::Config;
    let config = Config::default();
    let text = fastapi_module(400);
    let mut doc = Document::new(&text, 0);
    let mut analyzer = Analyzer::new();
    let analyze = |analyzer: &mut Analyzer, doc: &Document| {
        super::pipeline::analyze_rope(analyzer, doc.view(), doc.source().rope(), &config, None);
        (analyzer.flat.capacity(), analyzer.flat.len())
    };
    let (opened, len) = analyze(&mut analyzer, &doc);
    assert_eq!(len, text.len());
    assert!(text.len() > 8 * super::TEXT_WINDOW_MARGIN, "a large module");
    let line = "    logger.info(\"checking key %s\", x_api_key)\n";
    let handler = text.find("def get_item_200(").unwrap();
    let at = handler
        + text[handler..]
            .find("    response = table.get_item(")
            .unwrap();
    let line_no = text[..at].matches('\n').count() as u32;
    for (n, ch) in line.chars().enumerate() {
        let pos = Pos::new(line_no, n as u32);
        let change = ContentChange {
            range: Some((pos, pos)),
            text: ch.to_string(),
        };
        let version = doc.version + 1;
        doc.apply_changes(&[change], version, PositionEncoding::Utf8);
        let (capacity, len) = analyze(&mut analyzer, &doc);
        assert!(
            len <= 3 * super::TEXT_WINDOW_MARGIN,
            "typed {} chars: {len} bytes copied",
            n + 1
        );
        assert_eq!(
            capacity,
            opened,
            "typed {} chars: the buffer changed",
            n + 1
        );
    }
    // The same text analysed again (the project's view changed, say): it may check items
    // anywhere, and the whole text is copied.
    let (_, len) = analyze(&mut analyzer, &doc);
    assert_eq!(len, doc.text().len(), "the same text again");
}

/// A resolver that resolves every module alone, counts how often it is asked whether the module
/// is alone, and whose signature (what the rest of the project is) the test moves.
#[derive(Default)]
struct CountingResolver {
    signature: std::sync::atomic::AtomicU64,
    asked: std::sync::atomic::AtomicUsize,
}

impl crate::dataflow::cross::FlowResolver for CountingResolver {
    fn resolve(&self, flows: &[(&crate::dataflow::FnFlow, usize)]) -> crate::dataflow::Dataflow {
        crate::dataflow::resolve(flows.iter().copied())
    }
    fn signature(&self) -> u64 {
        self.signature.load(std::sync::atomic::Ordering::SeqCst)
    }
    fn alone(&self, _flows: &[(&crate::dataflow::FnFlow, usize)]) -> bool {
        self.asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        true
    }
}

/// The project changes after the run that read it (the server sets the module's summary after
/// each analysis, the index ends after the open): `refresh_project` asks the project then, so the
/// next keystroke does not (issue #14: the first keystroke after opening a module paid it, in
/// proportion to the module), and its findings are a fresh analysis's.
#[test]
fn refreshing_the_project_view_moves_its_work_off_the_next_keystroke() {
    use std::sync::atomic::Ordering::SeqCst;
    let text =
        "import logging\nfrom fastapi import FastAPI, Header\n\nlogger = logging.getLogger()\n\
                app = FastAPI()\n\n\ndef audit(key):\n    return key\n\n\n@app.get(\"/a\")\n\
                def a(x_api_key: str = Header()):\n    audit(x_api_key)\n    return {}\n";
    let mut doc = Document::new(text, 1);
    let resolver = Arc::new(CountingResolver::default());
    let mut analyzer = Analyzer::new();
    analyzer.set_resolver(Some(resolver.clone()));
    let options = Options::default();
    analyzer.analyze(doc.view(), doc.source(), &options);
    assert_eq!(resolver.asked.load(SeqCst), 1, "the open asks once");
    // Nothing changed: nothing asked.
    assert!(!analyzer.refresh_project(), "the view is the run's");
    assert_eq!(resolver.asked.load(SeqCst), 1, "a current view is kept");
    // The project changes after the run: asked now, not by the keystroke that follows (the
    // module still alone: the data flow the run read, nothing to run again).
    resolver.signature.store(7, SeqCst);
    assert!(!analyzer.refresh_project(), "the data flow the run read");
    assert_eq!(
        resolver.asked.load(SeqCst),
        2,
        "the refresh asks the project"
    );
    // A keystroke outside every function's flows (a blank line at the end).
    let end = doc.text().lines().count() as u32;
    let change = ContentChange {
        range: Some((Pos::new(end, 0), Pos::new(end, 0))),
        text: "\n".to_string(),
    };
    doc.apply_changes(&[change], 2, PositionEncoding::Utf8);
    check(&doc, &mut analyzer, "the keystroke after a refresh");
    assert_eq!(
        resolver.asked.load(SeqCst),
        2,
        "the keystroke after the refresh asks the project again"
    );
    // And typing into the handler still gives a fresh analysis's findings.
    let change = ContentChange {
        range: Some((Pos::new(13, 20), Pos::new(13, 20))),
        text: "\n    logger.info(x_api_key)".to_string(),
    };
    doc.apply_changes(&[change], 3, PositionEncoding::Utf8);
    check(
        &doc,
        &mut analyzer,
        "typing into the handler after a refresh",
    );
}
