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
    let df = &analysis.model.dataflow;
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
