use crate::document::Document;
use crate::engine::{analyze_text, Analyzer};
use crate::rules::Options;

const TWO_DEEP: &str = r#"import boto3
from fastapi import FastAPI, Header

app = FastAPI()
table = boto3.resource("dynamodb").Table("t")


def save_key(k):
    table.put_item(Item={"api_key": k})


def register(key):
    save_key(key)


@app.post("/r")
def route(x_api_key: str = Header(min_length=32)):
    register(x_api_key)
"#;

fn slice(text: &str, r: &std::ops::Range<usize>) -> String {
    text[r.clone()].to_string()
}

#[test]
fn two_deep_helper_path() {
    let (_, analysis) = analyze_text(TWO_DEEP, &Options::default());
    let f = analysis
        .findings
        .iter()
        .find(|f| f.rule.code == "KL201")
        .expect("KL201 finding");
    assert_eq!(slice(TWO_DEEP, &f.range), r#"{"api_key": k}"#);
    let related: Vec<(String, String)> = f
        .related
        .iter()
        .map(|r| (slice(TWO_DEEP, &r.range), r.message.clone()))
        .collect();
    assert_eq!(
        related,
        vec![
            (
                "x_api_key".to_string(),
                "API key enters here (header `x-api-key`)".to_string()
            ),
            (
                "register(x_api_key)".to_string(),
                "passed to `register` here".to_string()
            ),
            (
                "save_key(key)".to_string(),
                "passed to `save_key` here".to_string()
            ),
        ]
    );
}

#[test]
fn summaries_are_in_the_model() {
    let (_, analysis) = analyze_text(TWO_DEEP, &Options::default());
    let df = &analysis.dataflow;
    let save = &df.functions["save_key"];
    assert_ne!(save.param_sinks[0] & super::SinkKind::Persist.bit(), 0);
    let register = &df.functions["register"];
    assert_ne!(register.param_sinks[0] & super::SinkKind::Persist.bit(), 0);
    assert_eq!(register.param_in[0].len(), 1);
    assert!(df.functions["route"].param_in[0].is_empty());
}

#[test]
fn mutual_recursion_terminates_and_is_followed() {
    let text = r#"import logging
from fastapi import FastAPI, Header

app = FastAPI()


def ping(n, key):
    if n:
        return pong(n - 1, key)
    logging.info("key %s", key)
    return key


def pong(n, key):
    return ping(n, key)


@app.get("/")
def route(x_api_key: str = Header(min_length=32)):
    return {"n": len(pong(5, x_api_key))}
"#;
    let (_, analysis) = analyze_text(text, &Options::default());
    let codes: Vec<&str> = analysis.findings.iter().map(|f| f.rule.code).collect();
    assert_eq!(codes, vec!["KL202"]);
}

#[test]
fn an_edit_that_keeps_summaries_rechecks_one_item() {
    let mut analyzer = Analyzer::new();
    let options = Options::default();
    let doc = Document::new(TWO_DEEP, 0);
    let first = analyzer.analyze(doc.view(), doc.source(), &options);
    assert_eq!(first.items_checked, first.items_total);

    // A statement added at the end of the last function: no summary, no path place moves.
    let edited = format!("{TWO_DEEP}    print(\"registered\")\n");
    let doc = Document::new(&edited, 1);
    let second = analyzer.analyze(doc.view(), doc.source(), &options);
    assert_eq!(second.items_checked, 1);
    assert_eq!(second.findings.len(), first.findings.len());

    // Hashing in `register` changes its summary: the finding in `save_key` goes away.
    let hashed = edited.replace(
        "    save_key(key)",
        "    save_key(hashlib.sha256(key.encode()).hexdigest())",
    );
    let hashed = format!("import hashlib\n{hashed}");
    let doc = Document::new(&hashed, 2);
    let third = analyzer.analyze(doc.view(), doc.source(), &options);
    assert!(third.findings.iter().all(|f| f.rule.code != "KL201"));
}

#[test]
fn deeply_nested_expressions_do_not_overflow() {
    let mut text = String::from(
        "import logging\nfrom fastapi import FastAPI, Header\napp = FastAPI()\n\n@app.get(\"/\")\ndef f(x_api_key: str = Header()):\n    s = x_api_key",
    );
    for _ in 0..20_000 {
        text.push_str(" + x_api_key");
    }
    text.push_str("\n    logging.info(s)\n");
    let result = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || {
            let (_, analysis) = analyze_text(&text, &Options::default());
            (analysis.panics.len(), analysis.not_analysed.len())
        })
        .unwrap()
        .join();
    // The handler nests 20,000 levels deep: left out, and said so.
    assert_eq!(result.ok(), Some((0, 1)));
}

#[test]
fn helper_returning_a_table_is_a_table() {
    let text = r#"import boto3 as b3
from fastapi import APIRouter

router = APIRouter()
ddb = b3.resource("dynamodb")


def accounts():
    return ddb.Table("accounts")


@router.get("/all")
def all_accounts():
    return {"n": accounts().scan()["Count"]}
"#;
    let (_, analysis) = analyze_text(text, &Options::default());
    assert_eq!(
        analysis.model.function_returns.get("accounts"),
        Some(&vec!["ddb".to_string(), "Table".to_string()])
    );
    let codes: Vec<&str> = analysis.findings.iter().map(|f| f.rule.code).collect();
    assert_eq!(codes, vec!["KL304"]);
}

#[test]
fn instance_method_path_names_each_call() {
    let text = r#"import boto3
from fastapi import FastAPI, Header

app = FastAPI()


class Store:
    def __init__(self, table):
        self.table = table

    def put(self, key):
        self.table.put_item(Item={"api_key": key})


store = Store(boto3.resource("dynamodb").Table("k"))


@app.post("/")
def route(x_api_key: str = Header(min_length=32)):
    store.put(x_api_key)
"#;
    let (_, analysis) = analyze_text(text, &Options::default());
    let f = analysis
        .findings
        .iter()
        .find(|f| f.rule.code == "KL201")
        .expect("KL201");
    let messages: Vec<&str> = f.related.iter().map(|r| r.message.as_str()).collect();
    assert_eq!(
        messages,
        vec![
            "API key enters here (header `x-api-key`)",
            "passed to `Store.put` here"
        ]
    );
}

/// A repository reached through a yielding dependency in `Annotated[...]`, its table a handle set
/// in `__init__` under a name that says nothing of DynamoDB.
const REPOSITORY: &str = r#"import logging
from typing import Annotated, Optional

import boto3
from fastapi import Depends, FastAPI, Header

app = FastAPI()
dynamodb = boto3.resource("dynamodb")


class Repo:
    def __init__(self):
        self._records = dynamodb.Table("records")

    def everything(self):
        return self._records.scan()["Items"]

    def save(self, owner, secret):
        self.note(secret)

    def note(self, what):
        logging.info("saved %s", what)


def get_repo():
    repo = Repo()
    yield repo


@app.post("/keys")
def create(
    x_api_key: Annotated[str, Header(min_length=32)],
    repo: Annotated[Repo, Depends(get_repo)],
):
    repo.save("me", x_api_key)


@app.get("/keys")
def list_keys(repo: Repo = Depends(get_repo)):
    return {"n": len(repo.everything())}
"#;

#[test]
fn yielding_factory_gives_its_class() {
    let (_, analysis) = analyze_text(REPOSITORY, &Options::default());
    assert_eq!(
        analysis.model.function_returns.get("get_repo"),
        Some(&vec!["Repo".to_string()])
    );
    let repo = analysis
        .model
        .classes
        .iter()
        .find(|c| c.name == "Repo")
        .unwrap();
    assert_eq!(
        repo.self_handles,
        vec![(
            "_records".to_string(),
            vec!["dynamodb".to_string(), "Table".to_string()]
        )]
    );
}

#[test]
fn dependency_receiver_is_followed_into_its_methods() {
    let (_, analysis) = analyze_text(REPOSITORY, &Options::default());
    let mut codes: Vec<&str> = analysis.findings.iter().map(|f| f.rule.code).collect();
    codes.sort();
    assert_eq!(codes, vec!["KL202", "KL304"]);
    // The log call is reported inside the method, the path leading back to the header.
    let logged = analysis
        .findings
        .iter()
        .find(|f| f.rule.code == "KL202")
        .unwrap();
    assert_eq!(slice(REPOSITORY, &logged.range), "what");
    let related: Vec<(String, String)> = logged
        .related
        .iter()
        .map(|r| (slice(REPOSITORY, &r.range), r.message.clone()))
        .collect();
    assert_eq!(
        related,
        vec![
            (
                "x_api_key".to_string(),
                "API key enters here (header `x-api-key`)".to_string()
            ),
            (
                "repo.save(\"me\", x_api_key)".to_string(),
                "passed to `Repo.save` here".to_string()
            ),
            (
                "self.note(secret)".to_string(),
                "passed to `Repo.note` here".to_string()
            ),
        ]
    );
    // The scan behind the method, reported at the route's call.
    let scan = analysis
        .findings
        .iter()
        .find(|f| f.rule.code == "KL304")
        .unwrap();
    assert_eq!(slice(REPOSITORY, &scan.range), "repo.everything()");
}

#[test]
fn receiver_shapes_resolve_to_the_class() {
    // The module without its routes, then one route per shape, each reaching `Repo.save`.
    let base = &REPOSITORY[..REPOSITORY.find("@app.post").unwrap()];
    for (params, body) in [
        (
            "repo: Repo = Depends(get_repo)",
            "repo.save('me', x_api_key)",
        ),
        ("repo: Repo = Depends(Repo)", "repo.save('me', x_api_key)"),
        ("repo: Repo = Depends()", "repo.save('me', x_api_key)"),
        (
            "repo: Optional[Repo] = Depends(make)",
            "repo.save('me', x_api_key)",
        ),
        ("repo: Repo", "repo.save('me', x_api_key)"),
        ("", "repo = get_repo()\n    repo.save('me', x_api_key)"),
        ("", "repo = make()\n    repo.save('me', x_api_key)"),
        ("", "repo = Repo()\n    repo.save('me', x_api_key)"),
        ("", "shared.save('me', x_api_key)"),
    ] {
        let sep = if params.is_empty() { "" } else { ", " };
        let text = format!(
            "{base}def make():\n    return get_repo()\n\n\nshared = make()\n\n\n@app.post(\"/k\")\ndef route(x_api_key: Annotated[str, Header(min_length=32)]{sep}{params}):\n    {body}\n"
        );
        let (_, analysis) = analyze_text(&text, &Options::default());
        let logged: Vec<Vec<&str>> = analysis
            .findings
            .iter()
            .filter(|f| f.rule.code == "KL202")
            .map(|f| f.related.iter().map(|r| r.message.as_str()).collect())
            .collect();
        assert_eq!(
            logged,
            vec![vec![
                "API key enters here (header `x-api-key`)",
                "passed to `Repo.save` here",
                "passed to `Repo.note` here"
            ]],
            "{params} / {body}"
        );
    }
}

#[test]
fn editing_init_updates_every_method_like_a_fresh_analysis() {
    let options = Options::default();
    let mut analyzer = Analyzer::new();
    let doc = Document::new(REPOSITORY, 0);
    let first = analyzer.analyze(doc.view(), doc.source(), &options);
    assert!(first.findings.iter().any(|f| f.rule.code == "KL304"));
    // `_records` no longer a table: the scan behind `everything` is gone.
    let edited = REPOSITORY.replace("dynamodb.Table(\"records\")", "list()");
    let doc = Document::new(&edited, 1);
    let second = analyzer.analyze(doc.view(), doc.source(), &options);
    let (_, fresh) = analyze_text(&edited, &options);
    let key = |fs: &[crate::finding::Finding]| -> Vec<(&'static str, std::ops::Range<usize>)> {
        fs.iter().map(|f| (f.rule.code, f.range.clone())).collect()
    };
    assert_eq!(key(&second.findings), key(&fresh.findings));
    assert!(second.findings.iter().all(|f| f.rule.code != "KL304"));
}

#[test]
fn attribute_instances_and_session_handles_are_known_in_methods() {
    let text = r#"import aioboto3
from fastapi import Depends, FastAPI, Header

app = FastAPI()


class Vault:
    def __init__(self):
        self._session = aioboto3.Session()

    async def keep(self, value):
        async with self._session.resource("dynamodb") as res:
            box = await res.Table("vault")
            await box.put_item(Item={"v": value})

    async def everything(self):
        async with self._session.resource("dynamodb") as res:
            box = await res.Table("vault")
            return (await box.scan())["Items"]


class Service:
    def __init__(self):
        self.vault = Vault()

    async def register(self, value):
        await self.vault.keep(value)

    async def count(self):
        return len(await self.vault.everything())


@app.post("/register")
async def register(x_api_key: str = Header(min_length=32), svc: Service = Depends()):
    await svc.register(x_api_key)


@app.get("/count")
async def count(svc: Service = Depends()):
    return {"n": await svc.count()}
"#;
    let (_, analysis) = analyze_text(text, &Options::default());
    // The scan on a table of the session set in `__init__`, two methods away.
    let scans: Vec<&str> = analysis
        .findings
        .iter()
        .filter(|f| f.rule.code == "KL304")
        .map(|f| &text[f.range.clone()])
        .collect();
    assert_eq!(scans, vec!["svc.count()"]);
    let stored: Vec<Vec<&str>> = analysis
        .findings
        .iter()
        .filter(|f| f.rule.code == "KL201")
        .map(|f| f.related.iter().map(|r| r.message.as_str()).collect())
        .collect();
    assert_eq!(
        stored,
        vec![vec![
            "API key enters here (header `x-api-key`)",
            "passed to `Service.register` here",
            "passed to `Vault.keep` here"
        ]]
    );
}

/// A step of a view whose item has no known start (the resolution lacks its anchor) is left out
/// of the path: placed at its relative range it would point into the start of the module's own
/// file (seen once as a KL304 related place in the route's file at the helper's offsets).
#[test]
fn a_step_whose_item_has_no_known_start_is_left_out_rather_than_misplaced() {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use super::{Anchor, Dataflow, FlowView, FnFacts, Step};
    let step = |anchor: &str, at: usize, message: &str| Step {
        anchor: Some(Anchor::from(anchor)),
        range: at..at + 8,
        message: message.into(),
    };
    let facts = FnFacts {
        scan: Some(vec![
            step("load", 12, "called here"),
            step("gone", 30, "DynamoDB scan here"),
        ]),
        ..FnFacts::default()
    };
    let mut functions = BTreeMap::new();
    functions.insert(Arc::from("load"), Arc::new(facts));
    let mut starts = rustc_hash::FxHashMap::default();
    starts.insert(Anchor::from("load"), 100);
    let df = Dataflow::from_parts(functions, BTreeMap::new(), starts, Vec::new());
    let reads = crate::model::ReadRecorder::default();
    let path = FlowView::new(&df, &reads).scan_path("load").unwrap();
    let placed: Vec<(std::ops::Range<usize>, &str)> = path
        .iter()
        .map(|s| (s.range.clone(), s.message.as_str()))
        .collect();
    assert_eq!(placed, [(112..120, "called here")]);
}

/// The `(global, name)` reads whose [`super::Dataflow::hash_of`] differs between `old` and `new`.
fn reads_changed(old: &super::Dataflow, new: &super::Dataflow) -> Vec<(bool, String)> {
    let mut keys: Vec<(bool, String)> = Vec::new();
    for df in [old, new] {
        keys.extend(df.fn_hashes.keys().map(|n| (false, n.to_string())));
        keys.extend(df.global_hashes.keys().map(|n| (true, n.clone())));
        keys.extend(
            df.starts
                .keys()
                .map(|a| (true, format!("{}{a}", super::ANCHOR_READ))),
        );
    }
    keys.sort();
    keys.dedup();
    keys.retain(|(g, n)| old.hash_of(*g, n) != new.hash_of(*g, n));
    keys
}

#[test]
fn the_resolver_delta_names_every_read_that_hashes_differently() {
    // Edits of one module, each analysed after the last: a sink added to a helper (its facts
    // and its callers'), a global bound to a key, a function added above the others (every
    // start moves), renamed, removed, and the text back as it was.
    let hashed = TWO_DEEP.replace(
        "    save_key(key)",
        "    save_key(hashlib.sha256(key.encode()).hexdigest())",
    );
    let texts = [
        TWO_DEEP.to_string(),
        format!("{TWO_DEEP}    print(\"registered\")\n"),
        format!("import hashlib\n{hashed}"),
        TWO_DEEP.replace(
            "app = FastAPI()",
            "import os\napp = FastAPI()\nAPI_KEY = os.environ[\"API_KEY\"]",
        ),
        TWO_DEEP.replace(
            "def save_key(k):",
            "def audit(v):\n    print(v)\n\n\ndef save_key(k):\n    audit(k)",
        ),
        TWO_DEEP.replace("save_key", "store_key"),
        TWO_DEEP.replace("    register(x_api_key)", "    pass"),
        TWO_DEEP.to_string(),
    ];
    let options = Options::default();
    let mut analyzer = Analyzer::new();
    let mut last: Option<(std::sync::Arc<super::Dataflow>, u64)> = None;
    let mut known = 0;
    for (version, text) in texts.iter().enumerate() {
        let doc = Document::new(text, version as i32);
        analyzer.analyze(doc.view(), doc.source(), &options);
        let r = analyzer.resolver();
        let now = r.dataflow().clone();
        if let Some((before, generation)) = &last {
            assert_eq!(r.generation(), generation + 1);
            let changed = reads_changed(before, &now);
            if let Some(delta) = r.delta() {
                known += 1;
                for read in &changed {
                    assert!(
                        delta.contains(read),
                        "edit {version}: {read:?} hashes differently and is not in {delta:?}"
                    );
                }
            }
        }
        last = Some((now, r.generation()));
    }
    // The edits that keep the call graph are resolved incrementally, with a delta.
    assert!(known >= 3, "{known} deltas known");
}
