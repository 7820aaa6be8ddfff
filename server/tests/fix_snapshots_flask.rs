//! Before/after snapshots of every fix kind of the Flask-side rules (KL101–KL103, KL205, KL301,
//! KL303): each snapshot shows the input, then the text after applying the first fix of every
//! finding of the rule (fix-all with unsafe fixes, restricted to that rule).

use keylint::engine::fixes::fix_all;
use keylint::engine::{analyze_text, Options};
use keylint::finding::Applicability;

fn options(code: &'static str) -> Options {
    Options {
        select: Some(vec![code]),
        ..Options::default()
    }
}

/// `before`, a separator, and the fixed text; asserts the fix leaves no finding of the rule.
fn before_after(code: &'static str, before: &str) -> String {
    let fixed = fix_all(before, &options(code), true).text;
    let (doc, analysis) = analyze_text(&fixed, &Options::default());
    assert!(
        !doc.tree.root_node().has_error(),
        "fixed text parses:\n{fixed}"
    );
    assert!(
        analysis.findings.iter().all(|f| f.rule.code != code),
        "{code} left after its fix:\n{fixed}"
    );
    assert_ne!(fixed, before, "{code}: no fix applied");
    format!("{before}\n----- after -----\n{fixed}")
}

/// The applicability of the first fix of the first finding of `code`.
fn applicability(code: &'static str, text: &str) -> Applicability {
    let (_, analysis) = analyze_text(text, &options(code));
    analysis
        .findings
        .iter()
        .find(|f| f.rule.code == code)
        .and_then(|f| f.fixes.first())
        .map(|f| f.applicability)
        .expect("a fix")
}

#[test]
fn kl101_env_fix_module_level() {
    insta::assert_snapshot!(before_after(
        "KL101",
        "from flask import Flask\n\napp = Flask(__name__)\napp.secret_key = \"f3c9a0b4f9c2b7e8d1a6\"  # session signing\napp.config[\"STRIPE_SECRET\"] = \"Zx81-mw29-Lq03-Tf55\"\n"
    ));
}

#[test]
fn kl101_env_fix_docstring_future_import() {
    insta::assert_snapshot!(before_after(
        "KL101",
        "\"\"\"Billing service.\"\"\"\nfrom __future__ import annotations\n\nAPI_KEY = \"c2b7e8d1a6f3c9a0b4f9\"\n"
    ));
}

/// Every line break of `text` is `\r\n`.
fn assert_crlf_only(text: &str) {
    let lf = text.matches('\n').count();
    let crlf = text.matches("\r\n").count();
    assert_eq!(lf, crlf, "a bare LF in a CRLF file:\n{text:?}");
}

#[test]
fn kl101_env_fix_crlf_alias_and_nested_scopes() {
    let before = "import os as _os\r\nimport boto3\r\n\r\n\r\nclass ProductionConfig:\r\n    DATABASE_PASSWORD = \"pr0d-db-pa55word\"\r\n\r\n\r\ndef client(region):\r\n    if region:\r\n        return boto3.client(\r\n            \"s3\",\r\n            aws_secret_access_key=\"Uq8/Lm2+Zr5Tq9Vw3Xy6Kb1Nc4\",\r\n        )\r\n    return None\r\n";
    assert_crlf_only(&fix_all(before, &options("KL101"), true).text);
    insta::assert_snapshot!(before_after("KL101", before));
}

#[test]
fn kl101_env_fix_bearer_default_and_fallback() {
    insta::assert_snapshot!(before_after(
        "KL101",
        "import os\nimport requests\n\nSECRET_KEY = os.environ.get(\"SECRET_KEY\", \"0a9f8e7d6c5b4a3f2e1d\")\n\n\ndef send(msg, api_key=\"Kp2Zr8Vw4Nb6Lt1Qx9My\"):\n    headers = {\"Authorization\": \"Bearer sk-Qm8x2Lw9Pz4Rt7Vb3Nc6Kd1F\"}\n    return requests.post(msg, headers=headers, timeout=5)\n"
    ));
}

#[test]
fn kl101_fixes_are_unsafe_and_dotenv_fix_carries_no_value() {
    let text = "API_KEY = \"c2b7e8d1a6f3c9a0b4f9\"\n";
    assert_eq!(applicability("KL101", text), Applicability::Unsafe);
    let (_, analysis) = analyze_text(text, &options("KL101"));
    let fixes = &analysis.findings[0].fixes;
    assert_eq!(fixes.len(), 2);
    let dotenv = &fixes[1];
    assert!(dotenv.title.contains(".env"));
    let debug = format!("{dotenv:?}");
    assert!(
        !debug.contains("c2b7e8d1"),
        "the fix must not carry the secret"
    );
    assert!(!analysis.findings[0].message.contains("c2b7"));
}

#[test]
fn kl102_check_after_assignment_and_before_call() {
    insta::assert_snapshot!(before_after(
        "KL102",
        "import os\nfrom openai import OpenAI\n\nAPI_KEY = os.getenv(\"API_KEY\")  # billing\n\n\ndef create_app(app):\n    app.config[\"SECRET_KEY\"] = os.environ.get(\"SECRET_KEY\")\n    client = OpenAI(api_key=os.getenv(\"OPENAI_API_KEY\"))\n    return client\n"
    ));
    assert_eq!(
        applicability("KL102", "import os\nAPI_KEY = os.getenv(\"API_KEY\")\n"),
        Applicability::Unsafe
    );
}

#[test]
fn kl103_parse_flag() {
    insta::assert_snapshot!(before_after(
        "KL103",
        "import os as _os\n\nDEBUG = bool(_os.environ.get(\"DEBUG\", \"False\"))\nTESTING = bool(_os.getenv(\"TESTING\"))\nLEVEL = 2 + bool(_os.getenv(\"VERBOSE\", \"0\"))\napp.run(debug=_os.getenv(\"FLASK_DEBUG\", False))\n"
    ));
    assert_eq!(
        applicability(
            "KL103",
            "import os\nDEBUG = bool(os.getenv(\"DEBUG\", \"False\"))\n"
        ),
        Applicability::Unsafe
    );
}

#[test]
fn kl205_compare_digest() {
    insta::assert_snapshot!(before_after(
        "KL205",
        "from flask import Flask, abort, request\n\napp = Flask(__name__)\n\n\n@app.before_request\ndef check_key():\n    if request.headers.get(\"X-API-Key\") != app.config[\"API_KEY\"]:\n        abort(401)\n    ok = (\n        request.args.get(\"api_key\")  # from the query string\n        == app.config[\"API_KEY\"]\n    )\n    return ok or f\"Bearer {app.config['API_TOKEN']}\" == request.headers.get(\"Authorization\")\n"
    ));
    assert_eq!(
        applicability(
            "KL205",
            "def f(api_key, expected):\n    return api_key == expected\n"
        ),
        Applicability::Unsafe
    );
}

/// Every KL205 finding of `text` with the applicability of its fix, in order.
fn kl205_applicabilities(text: &str) -> Vec<Applicability> {
    let (_, analysis) = analyze_text(text, &options("KL205"));
    analysis
        .findings
        .iter()
        .filter(|f| f.rule.code == "KL205")
        .map(|f| f.fixes[0].applicability)
        .collect()
}

#[test]
fn kl205_webhook_signatures_and_safe_forms() {
    let text = "import hashlib\nimport hmac\nfrom typing import Annotated\n\nfrom fastapi import FastAPI, Header, HTTPException, Request\nfrom flask import request as flask_request\n\napp = FastAPI()\nKEY = b\"\"\n\n\n@app.post(\"/a\")\nasync def a(request: Request, x_signature: Annotated[str, Header()]):\n    expected = hmac.new(KEY, await request.body(), hashlib.sha256).hexdigest()\n    if expected != x_signature:\n        raise HTTPException(401)\n\n\n@app.post(\"/b\")\nasync def b(request: Request):\n    expected = \"sha256=\" + hmac.new(KEY, await request.body(), hashlib.sha256).hexdigest()\n    if request.headers.get(\"X-Signature\") != expected:\n        raise HTTPException(401)\n\n\n@app.post(\"/c\")\nasync def c(request: Request):\n    raw = hmac.new(KEY, await request.body(), hashlib.sha256).digest()\n    return raw == await request.body()\n\n\n@app.get(\"/d\")\ndef d(x_api_key: str = Header(), x_admin_token: str = Header()):\n    return x_api_key == x_admin_token\n\n\ndef e():\n    return flask_request.headers.get(\"X-Api-Key\") == flask_request.headers.get(\"X-Api-Token\")\n";
    // Safe: str against str (a header is never `None` here, a signature never empty), bytes
    // against bytes. Unsafe: two values that may both be `None` (`None == None`, `"" == None`).
    assert_eq!(
        kl205_applicabilities(text),
        vec![
            Applicability::Safe,
            Applicability::Safe,
            Applicability::Safe,
            Applicability::Safe,
            Applicability::Unsafe
        ]
    );
    insta::assert_snapshot!(before_after("KL205", text));
}

#[test]
fn kl205_queries_are_not_comparisons() {
    let text = "from sqlalchemy import and_, select\n\n\nclass Base:\n    pass\n\n\nclass User(Base):\n    api_token = None\n\n\ndef f(session, users, token):\n    session.execute(select(User).where(User.api_token == token))\n    session.query(User).filter(and_(User.api_token == token, User.api_token != None)).first()\n    session.execute(select(users).where(users.c.api_token == token))\n    User.scan(User.api_token == token)\n    User.count(\"u\", filter_condition=(User.api_token == token) & (User.api_token == token))\n    return User.get(User.api_token == token)\n";
    assert_eq!(kl205_applicabilities(text), vec![]);
}

#[test]
fn kl301_debug_from_environment() {
    insta::assert_snapshot!(before_after(
        "KL301",
        "from flask import Flask as F\n\napp = F(__name__)\napp.config[\"DEBUG\"] = True\n\nif __name__ == \"__main__\":\n    app.run(\n        host=\"0.0.0.0\",\n        debug=True,  # local only\n    )\n"
    ));
    assert_eq!(
        applicability(
            "KL301",
            "from flask import Flask\napp = Flask(__name__)\napp.run(debug=True)\n"
        ),
        Applicability::Unsafe
    );
}

#[test]
fn kl303_generic_message_flask_app_logger() {
    insta::assert_snapshot!(before_after(
        "KL303",
        "from flask import Flask, jsonify\n\napp = Flask(__name__)\n\n\n@app.errorhandler(Exception)\ndef handle(e):\n    return jsonify(error=str(e), trace=repr(e)), 500\n"
    ));
}

#[test]
fn kl303_generic_message_fastapi_logging_import() {
    insta::assert_snapshot!(before_after(
        "KL303",
        "\"\"\"Items API.\"\"\"\nfrom __future__ import annotations\n\nfrom fastapi import FastAPI, HTTPException\n\napi = FastAPI()\n\n\n@api.get(\"/items/{item_id}\")\nasync def read_item(item_id: int):\n    try:\n        return load(item_id)\n    except LookupError as e:\n        raise HTTPException(status_code=500, detail=f\"lookup failed: {e}\")\n"
    ));
    assert_eq!(
        applicability(
            "KL303",
            "from flask import Flask, jsonify\napp = Flask(__name__)\n@app.errorhandler(Exception)\ndef h(e):\n    return str(e)\n"
        ),
        Applicability::Unsafe
    );
}

#[test]
fn kl101_env_fix_or_fallback_and_jwt_key() {
    insta::assert_snapshot!(before_after(
        "KL101",
        "import os\n\nimport jwt\n\n\nclass Config:\n    SECRET_KEY = os.environ.get(\"FLASK_SECRET\") or \"you-will-never-guess\"\n\n\ndef sign(payload):\n    return jwt.encode(payload, \"secret\", algorithm=\"HS256\")\n"
    ));
}

#[test]
fn kl101_env_fix_keeps_tab_indentation() {
    let before = "def client():\n\tif True:\n\t\treturn connect(password=\"pr0d-db-pa55word\")\n";
    let fixed = fix_all(before, &options("KL101"), true).text;
    assert!(
        fixed.contains("\t\tif not os.environ.get(\"PASSWORD\"):\n\t\t\traise RuntimeError("),
        "{fixed}"
    );
}

#[test]
fn kl101_honours_extra_secret_names_and_allowed_placeholders() {
    use keylint::rules::RuleSettings;
    let text = "ATM_PIN = \"88201934\"\nAPI_KEY = \"local-dev-key-1\"\n";
    let options = Options {
        select: Some(vec!["KL101"]),
        settings: RuleSettings {
            extra_secret_names: vec!["pin".into()],
            allowed_placeholders: vec!["local-dev-key-1".into()],
        },
        ..Options::default()
    };
    let (_, analysis) = analyze_text(text, &options);
    let messages: Vec<&str> = analysis
        .findings
        .iter()
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(messages[0].contains("`ATM_PIN`"), "{messages:?}");
    let (_, default) = analyze_text(text, &options_default_kl101());
    assert_eq!(
        default.findings.len(),
        1,
        "API_KEY only without the settings"
    );
    assert!(default.findings[0].message.contains("`API_KEY`"));
}

fn options_default_kl101() -> Options {
    options("KL101")
}

/// Every rule's fix together on a realistic module (fix-all with unsafe fixes).
#[test]
fn realistic_app_fix_all() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/flask/realistic_app.py"
    );
    let before = std::fs::read_to_string(path).unwrap();
    let fixed = fix_all(&before, &Options::default(), true).text;
    let (doc, analysis) = analyze_text(&fixed, &Options::default());
    assert!(!doc.tree.root_node().has_error());
    let left: Vec<_> = analysis
        .findings
        .iter()
        .filter(|f| !f.fixes.is_empty())
        .map(|f| f.rule.code)
        .collect();
    assert!(left.is_empty(), "fixable findings left: {left:?}\n{fixed}");
    insta::assert_snapshot!(fixed);
}

#[test]
fn kl101_setting_the_environment_in_code_becomes_a_check() {
    insta::assert_snapshot!(before_after(
        "KL101",
        "import os\n\nos.environ[\"OPENAI_API_KEY\"] = \"sk-proj-Qm8x2Lw9Pz4Rt7Vb3Nc6Kd1F\"  # TODO remove\nos.environ.setdefault(\"stripe_secret\", \"Zx81-mw29-Lq03-Tf55-b\")\n"
    ));
}

#[test]
fn kl205_signature_message_never_quotes_an_inline_key() {
    let text = "import hmac\nfrom flask import request\n\n\ndef hook():\n    return hmac.new(b\"whsec-9f8e7d6c5b4a\", request.data, \"sha256\").hexdigest() != request.headers[\"X-Sig\"]\n";
    let (_, analysis) = analyze_text(text, &options("KL205"));
    let f = analysis
        .findings
        .iter()
        .find(|f| f.rule.code == "KL205")
        .expect("a KL205 finding");
    assert!(
        f.message
            .starts_with("an HMAC signature is compared with `!=`"),
        "{}",
        f.message
    );
    assert!(!f.message.contains("whsec"), "{}", f.message);
}
