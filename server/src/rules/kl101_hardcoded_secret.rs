//! KL101 `hardcoded-secret`: a secret written as a string literal.
//!
//! Looks at every literal of the item bound to a secret-like target — a name, an attribute, a
//! subscript key (`app.config["SECRET_KEY"]`), a keyword argument (`update(SECRET_KEY=…)`,
//! `boto3.client(aws_secret_access_key=…)`), a dict key (`{"Authorization": "Bearer …"}`), a default
//! parameter value, or the fallback of an environment read (`os.environ.get("SECRET_KEY", "…")`) —
//! and at any literal in a known token format whatever its name. See [`crate::model::secrets`]
//! for what counts as a secret name, a placeholder, a token format and high entropy.

use crate::syntax::NodeExt;
use std::ops::Range;

use tree_sitter::Node;

use crate::finding::prefilter::{Group, Word};
use crate::finding::{Edit, Fix, WorkspaceOp};
use crate::finding::{Finding, Severity};
use crate::model::frameworks as fw;
use crate::model::secrets;
use crate::rules::{Ctx, FixAvailability, Rule, RuleMeta};
use crate::syntax::{self, Item};

pub static META: RuleMeta = RuleMeta {
    code: "KL101",
    name: "hardcoded-secret",
    summary: "A secret (API key, token, password) is written into the source code",
    severity: Severity::Warning,
    fix: FixAvailability::Sometimes,
    cwe: &["CWE-798", "CWE-259"],
    docs: include_str!("kl101_hardcoded_secret.md"),
    prefilter: &[fw::NAME_WORDS, FORMAT_WORDS, KEY_CALL_WORDS],
    reads_flows: false,
};

/// What the pre-filter looks for besides secret-like names: token formats whatever the name
/// (`secrets`' patterns), a URL that may hold `user:password@`, Slack/Discord webhooks.
const FORMAT_WORDS: &[Word] = &[
    Word::exact("AKIA", Group::Format),
    Word::exact("ASIA", Group::Format),
    Word::exact("ghp_", Group::Format),
    Word::exact("gho_", Group::Format),
    Word::exact("ghs_", Group::Format),
    Word::exact("ghu_", Group::Format),
    Word::exact("ghr_", Group::Format),
    Word::exact("github_pat_", Group::Format),
    Word::exact("sk_live_", Group::Format),
    Word::exact("rk_live_", Group::Format),
    Word::exact("sk_test_", Group::Format),
    Word::exact("rk_test_", Group::Format),
    Word::exact("sk-", Group::Format),
    Word::exact("xox", Group::Format),
    Word::exact("AIza", Group::Format),
    Word::exact("SG.", Group::Format),
    Word::exact("PRIVATE KEY", Group::Format),
    Word::exact("eyJ", Group::Format),
    Word::new("hooks.slack.com/", Group::Format),
    Word::new("/api/webhooks/", Group::Format),
    Word::new("://", Group::Url),
];

/// Calls that take a key as a literal ([`KEY_PARAMS`]: `jwt.encode(p, "…")`, `hmac.new(b"…")`,
/// `Fernet(…)`, itsdangerous serializers), credential calls (`HTTPBasicAuth(user, "…")`,
/// `x.login(user, "…")`) and the JWT key constant (`KEY = "…"` next to `ALGORITHM = "HS256"`).
const KEY_CALL_WORDS: &[Word] = &[
    Word::new("jwt", Group::KeyCall),
    Word::new("hmac", Group::KeyCall),
    Word::new("fernet", Group::KeyCall),
    Word::new("itsdangerous", Group::KeyCall),
    Word::exact("BasicAuth", Group::KeyCall),
    Word::exact("DigestAuth", Group::KeyCall),
    Word::exact("HTTPProxyAuth", Group::KeyCall),
    Word::exact("ALGORITHM", Group::KeyCall),
    Word::new("login", Group::Login),
];

pub struct HardcodedSecret;

/// A literal bound to a target.
struct Candidate<'t> {
    /// How the message names the target: `API_KEY`, `app.config["SECRET_KEY"]`, `password=`.
    target: String,
    /// The name whose words decide secret-ness (`SECRET_KEY`, `aws_secret_access_key`).
    name: String,
    literal: Node<'t>,
    /// The node the fix replaces (the literal, or the whole `os.environ.get(…, "…")` call).
    replace: Node<'t>,
    /// The literal is used as a key (`jwt.encode(payload, "…")`): any non-empty value is reported,
    /// placeholders included — a placeholder key in use is still a key anyone can read.
    strict: bool,
    /// Any literal but a recognisable placeholder is reported
    /// ([`secrets::is_obvious_placeholder`]): a password passed to a credential API
    /// (`smtp.login(user, "…")`, `HTTPBasicAuth(u, "…")`, `connect(password="…")`).
    live: bool,
    /// A signing key whatever its name says (`KEY = "…"` next to `ALGORITHM = "HS256"`).
    signing: bool,
    /// The variable the code already reads (`os.environ.get("FLASK_SECRET") or "…"`).
    env: Option<String>,
}

/// Parameters that take a signing or encryption key: (callee, position, keyword, env variable).
const KEY_PARAMS: &[(&str, usize, &str, &str)] = &[
    ("jwt.encode", 1, "key", "JWT_SECRET_KEY"),
    ("jwt.decode", 1, "key", "JWT_SECRET_KEY"),
    (
        "itsdangerous.URLSafeTimedSerializer",
        0,
        "secret_key",
        "SECRET_KEY",
    ),
    (
        "itsdangerous.URLSafeSerializer",
        0,
        "secret_key",
        "SECRET_KEY",
    ),
    (
        "itsdangerous.TimedSerializer",
        0,
        "secret_key",
        "SECRET_KEY",
    ),
    ("itsdangerous.Serializer", 0, "secret_key", "SECRET_KEY"),
    ("itsdangerous.Signer", 0, "secret_key", "SECRET_KEY"),
    (
        "itsdangerous.TimestampSigner",
        0,
        "secret_key",
        "SECRET_KEY",
    ),
    ("hmac.new", 0, "key", "HMAC_KEY"),
    // fastapi-users: `JWTStrategy(secret=…)` signs every access token.
    ("JWTStrategy", 0, "secret", "JWT_SECRET"),
    ("cryptography.fernet.Fernet", 0, "key", "FERNET_KEY"),
];

/// The node kinds the walk of [`HardcodedSecret::check`] looks at: the bindings of
/// [`candidate`] and [`sequence_candidates`], calls ([`key_constant`]) and string literals.
static KINDS: std::sync::LazyLock<syntax::KindSet> = std::sync::LazyLock::new(|| {
    syntax::KindSet::of(&[
        "assignment",
        "keyword_argument",
        "pair",
        "default_parameter",
        "typed_default_parameter",
        "call",
        "string",
        "concatenated_string",
    ])
});

impl Rule for HardcodedSecret {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, item: &Item, ctx: &Ctx, out: &mut Vec<Finding>) {
        let in_dev = ctx.file.is_test || ctx.in_dev_class(item);
        let first = out.len();
        self.check_literals(item, ctx, in_dev, out);
        // In a class another module loads with `from_object(…)`: the place that loads it.
        if out.len() > first && !in_dev {
            if let Some(related) = ctx.config_loaded_by(item) {
                for f in &mut out[first..] {
                    f.related.push(related.clone());
                }
            }
        }
    }
}

impl HardcodedSecret {
    fn check_literals(&self, item: &Item, ctx: &Ctx, in_dev: bool, out: &mut Vec<Finding>) {
        // Literals already judged by their target (a placeholder bound to `API_KEY` is not scanned
        // again for token formats).
        let mut seen: Vec<Range<usize>> = Vec::new();
        let mut walk = item.descendants(item.node);
        while let Some(node) = walk.next() {
            // Most nodes are of none of the kinds below (names, punctuation, blocks…).
            if !KINDS.contains(walk.kind()) {
                continue;
            }
            // `API_KEYS = ["…", "…"]`: every element is a secret; no fix (one variable per element
            // is not what a human would write).
            for c in sequence_candidates(node, ctx) {
                seen.push(c.literal.byte_range());
                if let Some(mut f) = judge(&c, in_dev, ctx) {
                    f.fixes.clear();
                    out.push(f);
                }
            }
            // A call's callee, resolved once for both checks below (most calls are neither).
            let callee = if node.kind_str() == "call" && has_arguments(node) {
                ctx.callee(node)
            } else {
                None
            };
            if let Some(f) = key_constant(node, callee.as_deref(), in_dev, ctx) {
                out.push(f);
                continue;
            }
            if let Some(c) = candidate(node, &walk, callee.as_deref(), ctx) {
                if seen.contains(&c.literal.byte_range()) {
                    continue;
                }
                seen.push(c.literal.byte_range());
                if let Some(f) = judge(&c, in_dev, ctx).or_else(|| fstring_token(c.literal, ctx)) {
                    out.push(f);
                }
                continue;
            }
            if !syntax::is_string(node) {
                continue;
            }
            // `syntax::is_docstring_like`, with the parent looked up once.
            let parent = walk.parent();
            let parent_kind = parent.map(|p| p.kind_str());
            if parent_kind == Some("concatenated_string")
                || seen.contains(&node.byte_range())
                || parent.is_some_and(|p| {
                    p.kind_str() == "expression_statement" && p.named_child_count() == 1
                })
                || parent_kind == Some("comparison_operator")
            {
                continue;
            }
            let allowed = &ctx.settings.allowed_placeholders;
            let Some(value) = syntax::string_value_cow(node, ctx.src) else {
                // An f-string: its literal parts can still hold a token
                // (`f"https://api.example.com/{path}?key=AIza…"`). Reported without a fix.
                if let Some(f) = fstring_token(node, ctx) {
                    seen.push(node.byte_range());
                    out.push(f);
                }
                continue;
            };
            let Some(format) = secrets::token_format(&value, allowed)
                .or_else(|| secrets::url_credentials(&value, allowed))
            else {
                continue;
            };
            seen.push(node.byte_range());
            let c = Candidate {
                target: String::new(),
                name: format.env.to_string(),
                literal: node,
                replace: node,
                strict: false,
                live: false,
                signing: false,
                env: None,
            };
            if let Some(f) = judge(&c, in_dev, ctx) {
                out.push(f);
            }
        }
    }
}

/// The string elements of a list, tuple or set bound to a secret-like name.
fn sequence_candidates<'t>(node: Node<'t>, ctx: &Ctx) -> Vec<Candidate<'t>> {
    if node.kind_str() != "assignment" {
        return Vec::new();
    }
    // The value first: most are no sequence, and their target is not looked up.
    let Some(right) = node.field("right").map(syntax::unparenthesize) else {
        return Vec::new();
    };
    if !matches!(right.kind_str(), "list" | "tuple" | "set") {
        return Vec::new();
    }
    let Some(left) = node.field("left") else {
        return Vec::new();
    };
    let name = match left.kind_str() {
        "identifier" => ctx.text(left).into_owned(),
        "attribute" => match left.field("attribute") {
            Some(a) => ctx.text(a).into_owned(),
            None => return Vec::new(),
        },
        "subscript" => match left
            .field("subscript")
            .and_then(|k| syntax::string_value(k, ctx.src))
        {
            Some(k) => k,
            None => return Vec::new(),
        },
        _ => return Vec::new(),
    };
    let mut cursor = right.walk();
    right
        .named_children(&mut cursor)
        .filter(|e| syntax::is_string(*e))
        .map(|literal| Candidate {
            target: syntax::short_text(left, ctx.src).into_owned(),
            name: name.clone(),
            literal,
            replace: literal,
            strict: false,
            live: false,
            signing: false,
            env: None,
        })
        .collect()
}

/// A token format in the literal parts of an f-string.
fn fstring_token(node: Node, ctx: &Ctx) -> Option<Finding> {
    if node.kind_str() != "string" {
        return None;
    }
    let mut cursor = node.walk();
    let format = node
        .children(&mut cursor)
        .filter(|c| c.kind_str() == "string_content")
        .find_map(|part| {
            secrets::token_format(&ctx.text(part), &ctx.settings.allowed_placeholders)
        })?;
    // Only token formats reach here: a leaked key, in test code too.
    let severity = Severity::Error;
    Some(
        Finding::new(
            &META,
            node.byte_range(),
            format!(
                "Hardcoded {} in an f-string; read it from the environment",
                format.label
            ),
        )
        .with_severity(severity),
    )
}

/// The entry of [`KEY_PARAMS`] a callee matches (`callee == q` or ends with `.{q}`).
fn key_param(callee: &str) -> Option<&'static (&'static str, usize, &'static str, &'static str)> {
    KEY_PARAMS.iter().find(|(q, ..)| {
        callee
            .strip_suffix(*q)
            .is_some_and(|head| head.is_empty() || head.ends_with('.'))
    })
}

/// `Fernet(KEY)`, `jwt.encode(p, KEY)` where `KEY` is a module-level string literal whose name does
/// not say it is a secret (a secret-like name is reported where it is bound): the key is in the
/// source all the same. Reported on the argument, without a fix.
fn key_constant(node: Node, callee: Option<&str>, in_dev: bool, ctx: &Ctx) -> Option<Finding> {
    if node.kind_str() != "call" {
        return None;
    }
    let &(name, index, keyword, _) = key_param(callee?)?;
    let arg = syntax::positional_args(node)
        .get(index)
        .copied()
        .or_else(|| syntax::keyword_arg(node, keyword, ctx.src))?;
    if arg.kind_str() != "identifier" {
        return None;
    }
    let constant = ctx.text(arg);
    if is_secret_name(&constant)
        || ctx.model.bindings().get(&constant) != Some(&crate::model::Binding::StrLiteral)
    {
        return None;
    }
    let severity = if in_dev {
        Severity::Hint
    } else {
        Severity::Error
    };
    Some(
        Finding::new(
            &META,
            arg.byte_range(),
            format!(
                "The key of `{name}` is `{constant}`, a string literal of this module; read it from the environment"
            ),
        )
        .with_severity(severity),
    )
}

/// Whether a call has an argument at all (`f()` binds nothing and needs no callee).
fn has_arguments(call: Node) -> bool {
    call.field("arguments")
        .is_some_and(|args| args.named_child_count() > 0)
}

/// The literal bound to a target by `node` (the node `walk` returned last), if `node` binds one;
/// `callee`: the resolved callee of `node` when it is a call with arguments.
fn candidate<'t>(
    node: Node<'t>,
    walk: &syntax::Walk<'_, 't>,
    callee: Option<&str>,
    ctx: &Ctx,
) -> Option<Candidate<'t>> {
    let src = ctx.src;
    let literal_of =
        |n: Node<'t>| Some(syntax::unparenthesize(n)).filter(|n| syntax::is_string(*n));
    let bound = |n: Node<'t>| bound_literal(n, ctx);
    let candidate = match node.kind_str() {
        "assignment" => {
            // The value first: most bind no literal, and their target is not looked up.
            let (literal, replace, mut env) = bound(node.field("right")?)?;
            let left = node.field("left")?;
            let name = match left.kind_str() {
                "identifier" => ctx.text(left).into_owned(),
                "attribute" => ctx.text(left.field("attribute")?).into_owned(),
                "subscript" => syntax::string_value(left.field("subscript")?, src)?,
                _ => return None,
            };
            // `os.environ["OPENAI_API_KEY"] = "…"`: the variable keeps its exact name.
            if sets_environment(node, ctx) {
                env = Some(name.clone());
            }
            // `KEY = "…"` in a module that also sets `ALGORITHM = "HS256"`: a JWT signing key.
            let signing = left.kind_str() == "identifier" && jwt_key_constant(&name, ctx);
            Some(Candidate {
                target: syntax::short_text(left, src).into_owned(),
                name,
                literal,
                replace,
                strict: false,
                live: signing,
                signing,
                env,
            })
        }
        "keyword_argument" => {
            // (Borrowed: copied only for a candidate.)
            let name = ctx.text(node.field("name")?);
            let value = node.field("value")?;
            // `requests.get(url, auth=("user", "s3cr3t"))`: the second element is a password.
            if name == "auth" {
                let value = syntax::unparenthesize(value);
                let mut cursor = value.walk();
                let parts: Vec<Node> = value
                    .named_children(&mut cursor)
                    .filter(|n| n.kind_str() != "comment")
                    .collect();
                let literal = match parts[..] {
                    [_, password] if value.kind_str() == "tuple" && syntax::is_string(password) => {
                        password
                    }
                    _ => return None,
                };
                return Some(Candidate {
                    target: "auth=(…, password)".into(),
                    name: "password".into(),
                    literal,
                    replace: literal,
                    strict: false,
                    live: true,
                    signing: false,
                    env: Some("API_PASSWORD".into()),
                });
            }
            let (literal, replace, env) = bound(value)?;
            // `redis.Redis(password="…")`, `psycopg2.connect(password="…")`: a password handed
            // to a client is live whatever it looks like.
            let live = walk
                .parent()
                .is_some_and(|p| p.kind_str() == "argument_list")
                && is_password_name(&name);
            Some(Candidate {
                target: format!("{name}="),
                name: name.into_owned(),
                literal,
                replace,
                strict: false,
                live,
                signing: false,
                env,
            })
        }
        "pair" => {
            // The value first: most bind no literal, and their key is not read.
            let (literal, replace, env) = bound(node.field("value")?)?;
            let key = node.field("key")?;
            let name = syntax::string_value(key, src)?;
            Some(Candidate {
                target: syntax::short_text(key, src).into_owned(),
                name,
                literal,
                replace,
                strict: false,
                live: false,
                signing: false,
                env,
            })
        }
        "default_parameter" | "typed_default_parameter" => {
            let name = ctx.text(node.field("name")?).into_owned();
            let (literal, replace, env) = bound(node.field("value")?)?;
            Some(Candidate {
                target: format!("{name}="),
                name,
                literal,
                replace,
                strict: false,
                live: false,
                signing: false,
                env,
            })
        }
        "call" => {
            // `os.environ.get("SECRET_KEY", "fallback")`, `os.getenv(…, default=…)`.
            // `smtp.login(user, "…")` on a local `smtp`: the callee need not resolve.
            if let Some(c) = credential_call(node, callee, ctx) {
                return Some(c);
            }
            let callee = callee?;
            if let Some(&(name, index, keyword, env)) = key_param(callee) {
                let arg = syntax::positional_args(node)
                    .get(index)
                    .copied()
                    .or_else(|| syntax::keyword_arg(node, keyword, src))?;
                let literal = literal_of(arg)?;
                return Some(Candidate {
                    target: format!("{name}({keyword}=…)"),
                    name: env.to_string(),
                    literal,
                    replace: literal,
                    strict: true,
                    live: false,
                    signing: false,
                    env: None,
                });
            }
            if !(fw::is_env_get(callee) || callee == "os.environ.setdefault") {
                return None;
            }
            let args = syntax::positional_args(node);
            let name = syntax::string_value(*args.first()?, src)?;
            let fallback = args
                .get(1)
                .copied()
                .or_else(|| syntax::keyword_arg(node, "default", src))?;
            let literal = literal_of(fallback)?;
            Some(Candidate {
                target: format!(
                    "{name}` fallback of `{}",
                    syntax::short_text(node.field("function")?, src)
                ),
                name: name.clone(),
                literal,
                replace: node,
                strict: false,
                live: false,
                signing: false,
                env: Some(name),
            })
        }
        _ => None,
    }?;
    // Example payloads and literals compared against are not bindings. Both look at the
    // ancestors inside the item only: past the item's statement come the block, class and module
    // around it, which neither takes for an example or a comparison (`in_comparison` stops at a
    // block or module).
    if matches!(node.kind_str(), "pair" | "keyword_argument")
        && (in_example(walk.ancestors().in_index(), ctx)
            || in_comparison(walk.ancestors().in_index()))
    {
        return None;
    }
    Some(candidate)
}

/// Constructors of HTTP credentials whose second positional argument (or `password=`) is a
/// password: `requests.auth.HTTPBasicAuth("user", "…")`, `aiohttp.BasicAuth`, `httpx.BasicAuth`.
const CREDENTIAL_CLASSES: &[&str] = &[
    "HTTPBasicAuth",
    "HTTPDigestAuth",
    "HTTPProxyAuth",
    "BasicAuth",
    "DigestAuth",
];

/// A password handed to a credential API as the second positional argument:
/// `HTTPBasicAuth("user", "…")` and `x.login(user, "…")` (`smtplib`, `imaplib`, `ftplib`,
/// `poplib`'s `pass_` aside).
fn credential_call<'t>(node: Node<'t>, callee: Option<&str>, ctx: &Ctx) -> Option<Candidate<'t>> {
    let function = node.field("function")?;
    let text;
    let callee = match callee {
        Some(c) => c,
        None => {
            text = ctx.text(function);
            &text
        }
    };
    let last = callee.rsplit('.').next().unwrap_or(callee);
    let login = function.kind_str() == "attribute"
        && function
            .field("attribute")
            .is_some_and(|a| ctx.text(a) == "login");
    if !login && !CREDENTIAL_CLASSES.contains(&last) {
        return None;
    }
    let args = syntax::positional_args(node);
    let arg = match args.get(1) {
        Some(a) => *a,
        None if login => return None,
        None => syntax::keyword_arg(node, "password", ctx.src)?,
    };
    let literal = Some(syntax::unparenthesize(arg)).filter(|n| syntax::is_string(*n))?;
    let target = if login {
        "login(…, password)".to_string()
    } else {
        format!("{last}(…, password)")
    };
    Some(Candidate {
        target,
        name: "password".into(),
        literal,
        replace: literal,
        strict: false,
        live: true,
        signing: false,
        env: None,
    })
}

/// A name made of a password word (`password`, `db_password`, `passwd`, `pwd`).
fn is_password_name(name: &str) -> bool {
    let words = syntax::name_words(name);
    words.last().is_some_and(|w| {
        matches!(
            w.as_str(),
            "password" | "passwd" | "pwd" | "passphrase" | "pass"
        )
    }) && is_secret_name(name)
}

/// `KEY = "…"`, `JWT_KEY`, `SIGNING = "…"` in a module that binds `ALGORITHM` (or
/// `JWT_ALGORITHM`): the FastAPI way of writing a JWT signing key.
fn jwt_key_constant(name: &str, ctx: &Ctx) -> bool {
    let words = syntax::name_words(name);
    let signing_words =
        |w: &String| matches!(w.as_str(), "key" | "secret" | "jwt" | "signing" | "token");
    if !words.last().is_some_and(|w| w == "key" || w == "secret")
        || !words.iter().all(signing_words)
    {
        return false;
    }
    ["ALGORITHM", "JWT_ALGORITHM"]
        .iter()
        .any(|a| ctx.model.bindings().get(a).is_some())
        || imports_jwt_signer(ctx)
}

/// The module imports a JWT library or a JWT signer (`import jwt`, `from jose import jwt`,
/// `from fastapi_users.authentication import JWTStrategy`): its `SECRET`/`KEY` constants sign
/// tokens.
fn imports_jwt_signer(ctx: &Ctx) -> bool {
    ctx.model.bindings().iter().any(|(_, b)| match b {
        crate::model::Binding::Import(path) => {
            path == "jwt"
                || path.ends_with(".jwt")
                || path.ends_with(".JWTStrategy")
                || path == "JWTStrategy"
        }
        _ => false,
    })
}

/// The literal a value binds: the value itself, or the fallback of an `or`
/// (`os.environ.get("SECRET_KEY") or "you-will-never-guess"`), with the node a fix replaces (the
/// whole `or` when its left side reads the environment) and the variable read.
fn bound_literal<'t>(value: Node<'t>, ctx: &Ctx) -> Option<(Node<'t>, Node<'t>, Option<String>)> {
    let value = syntax::unparenthesize(value);
    if syntax::is_string(value) {
        return Some((value, value, None));
    }
    if value.kind_str() != "boolean_operator"
        || value.child(1).is_none_or(|op| op.kind_str() != "or")
    {
        return None;
    }
    let right = syntax::unparenthesize(value.field("right")?);
    if !syntax::is_string(right) {
        return None;
    }
    let left = syntax::unparenthesize(value.field("left")?);
    let read = (left.kind_str() == "call")
        .then(|| ctx.callee(left))
        .flatten()
        .filter(|q| fw::is_env_get(q))
        .and_then(|_| syntax::positional_args(left).first().copied())
        .and_then(|a| syntax::string_value(a, ctx.src));
    match read {
        Some(env) => Some((right, value, Some(env))),
        None => Some((right, right, None)),
    }
}

/// Inside an example payload (`json_schema_extra={"examples": [{"password": "…"}]}`,
/// `EXAMPLE_USER = {"password": …}`): documentation, not configuration.
fn in_example<'t>(ancestors: impl Iterator<Item = Node<'t>>, ctx: &Ctx) -> bool {
    for n in ancestors.take(12) {
        let name = match n.kind_str() {
            "pair" => n
                .field("key")
                .and_then(|k| syntax::string_value(k, ctx.src)),
            "keyword_argument" => n.field("name").map(|k| ctx.text(k).into_owned()),
            "assignment" => n.field("left").map(|k| ctx.text(k).into_owned()),
            _ => None,
        };
        if let Some(name) = name {
            let lower = name.to_ascii_lowercase();
            if lower.contains("example")
                || lower.contains("schema_extra")
                || lower.contains("sample")
            {
                return true;
            }
        }
    }
    false
}

/// `os.environ["X"] = …` or `os.environ.setdefault("X", …)`: code that sets the environment itself.
fn sets_environment(node: Node, ctx: &Ctx) -> bool {
    match node.kind_str() {
        "assignment" => node
            .field("left")
            .filter(|l| l.kind_str() == "subscript")
            .and_then(|l| l.field("value"))
            .is_some_and(|v| ctx.model.resolve(v, ctx.src).as_deref() == Some(fw::ENVIRON)),
        "call" => matches!(
            ctx.callee(node).as_deref(),
            Some("os.environ.setdefault" | "os.putenv")
        ),
        _ => false,
    }
}

/// Part of an operand of a comparison (`assert response.json() == {"access_token": "…"}`): a
/// comparison with a literal, not a binding.
fn in_comparison<'t>(ancestors: impl Iterator<Item = Node<'t>>) -> bool {
    for n in ancestors {
        match n.kind_str() {
            "comparison_operator" => return true,
            "block" | "module" | "lambda" | "function_definition" | "call" => return false,
            _ => {}
        }
    }
    false
}

/// A finding for a candidate whose value is a secret.
fn judge(c: &Candidate, in_dev: bool, ctx: &Ctx) -> Option<Finding> {
    let value = syntax::string_value(c.literal, ctx.src)?;
    let (scheme_len, secret) = secrets::split_scheme(&value);
    let allowed = &ctx.settings.allowed_placeholders;
    let format = secrets::token_format(secret, allowed)
        .or_else(|| secrets::url_credentials(secret, allowed));
    let named =
        c.strict || c.live || secrets::is_secret_name(&c.name, &ctx.settings.extra_secret_names);
    // A signing key (`SECRET_KEY`, `JWT_SECRET`, the key of `jwt.encode`): weak is worse.
    let signing = c.strict || c.signing || (named && secrets::is_signing_key_name(&c.name));
    let named_secret = named
        && if c.strict {
            !secret.trim().is_empty() && !allowed.iter().any(|a| a == secret)
        } else if c.live || signing {
            // A constant that signs tokens (`SECRET = "SECRET"` next to a JWT signer) is the key
            // even when it spells its own name; the own-name exception is for form fields
            // (`password="password"`).
            let own = if c.signing { "" } else { c.name.as_str() };
            // `SESSION_KEY = "_auth_user_id"`: the name of an entry of the session, not its key.
            let entry = !c.strict && !c.live && secrets::is_store_entry_key(secret, &c.name);
            !secrets::is_obvious_placeholder(secret, own, allowed) && !entry
        } else {
            !secrets::is_placeholder(secret, allowed) && !secrets::spells_name(secret, &c.name)
        };
    if format.is_none() && !named_secret {
        return None;
    }
    // A live-format key is a leaked key even in test code (issues #13, #17): a provider's key
    // shape with real entropy and no test marker (`sk-CANARY-…`), or a private key block with
    // real key material. The other secrets there, test fixtures, are hints.
    let live_format = secrets::is_live_format(secret, allowed);
    let severity = if in_dev && !live_format {
        Severity::Hint
    } else if format.is_some() || signing || secrets::is_high_entropy(secret) {
        Severity::Error
    } else {
        Severity::Warning
    };
    let message = match (format, c.target.is_empty()) {
        (Some(f), true) => format!(
            "Hardcoded {} in a string literal; read it from the environment",
            f.label
        ),
        (Some(f), false) => format!(
            "Hardcoded {} in `{}`; read it from the environment",
            f.label, c.target
        ),
        (None, _) => format!(
            "Hardcoded secret in `{}`; read it from the environment",
            c.target
        ),
    };
    let url_named = format.is_some_and(|f| f.env == "DATABASE_URL") && !c.target.is_empty();
    let env = if let Some(env) = &c.env {
        env.clone()
    } else if named || url_named {
        secrets::env_var_name(&c.name)
    } else {
        format.map_or_else(|| secrets::env_var_name(&c.name), |f| f.env.to_string())
    };
    let env = if env == "AUTHORIZATION" {
        "API_TOKEN".to_string()
    } else {
        env
    };
    let mut finding = Finding::new(&META, c.literal.byte_range(), message).with_severity(severity);
    for fix in env_fixes(c, &env, scheme_len, ctx) {
        finding = finding.with_fix(fix);
    }
    Some(finding)
}

/// The prefix of a string literal (`b`, `r`, `f`, `rb`…), lower-cased.
fn string_prefix(literal: Node, ctx: &Ctx) -> String {
    let text = ctx.text(literal);
    text.chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// *Read from the environment* and *Move to `.env`*.
fn env_fixes(c: &Candidate, env: &str, scheme_len: usize, ctx: &Ctx) -> Vec<Fix> {
    if c.literal.kind_str() != "string" && scheme_len > 0 {
        return Vec::new();
    }
    if string_prefix(c.literal, ctx).contains('b') {
        // A bytes literal: `os.environ[...]` would change its type.
        return Vec::new();
    }
    let os = ctx.model.module_alias("os").unwrap_or("os").to_string();
    let read = format!("{os}.environ[\"{env}\"]");
    let replacement = if scheme_len > 0 {
        let value = syntax::string_value(c.literal, ctx.src).unwrap_or_default();
        let scheme = &value[..scheme_len];
        format!("f\"{scheme}{{{os}.environ['{env}']}}\"")
    } else {
        read
    };
    let stmt = syntax::line_statement(c.literal, ctx.src);
    let mut base = match stmt.named_child(0) {
        // `os.environ["X"] = "…"` / `os.environ.setdefault("X", "…")` on its own line: the
        // statement goes, the check stays.
        Some(inner)
            if stmt.kind_str() == "expression_statement"
                && stmt.named_child_count() == 1
                && sets_environment(inner, ctx) =>
        {
            let indent = syntax::indentation_at(ctx.src, stmt.start_byte());
            let unit = syntax::indent_unit(&indent);
            let eol = ctx.src.line_ending();
            let hint = syntax::missing_env_hint(stmt);
            Fix::unsafe_(format!(
                "Remove the hardcoded `{env}` and require it from the environment"
            ))
            .edit(Edit::replace(
                stmt.byte_range(),
                format!(
                    "if not {os}.environ.get(\"{env}\"):{eol}{indent}{unit}raise RuntimeError(\"{env} is not set: {hint}\")"
                ),
            ))
        }
        _ => Fix::unsafe_(format!("Read `{env}` from the environment"))
            .edit(syntax::require_env_edit(stmt, env, &os, ctx.src))
            .edit(Edit::replace(c.replace.byte_range(), replacement)),
    };
    if ctx.model.module_alias("os").is_none() {
        base = base.import("os");
    }
    let mut fixes = vec![base.clone()];
    // `.env`: the value is taken from the document when the fix is applied, never stored here.
    let escapes = {
        let mut cursor = c.literal.walk();
        let found = c
            .literal
            .children(&mut cursor)
            .any(|ch| ch.kind_str() == "escape_sequence");
        found
    };
    // A multi-line value (a PEM key) does not fit on one `.env` line.
    let multiline =
        syntax::string_value(c.literal, ctx.src).is_some_and(|v| v.contains(['\n', '\r']));
    if let (Some(content), false) = (
        syntax::string_content_range(c.literal),
        escapes || multiline,
    ) {
        let mut dotenv = base;
        dotenv.title = format!("Move `{env}` to `.env` and read it from the environment");
        dotenv = dotenv
            .workspace_op(WorkspaceOp::AppendEnv {
                name: env.to_string(),
                value_range: content.start + scheme_len..content.end,
            })
            .workspace_op(WorkspaceOp::EnsureIgnored {
                pattern: ".env".into(),
            });
        fixes.push(dotenv);
    }
    fixes
}

/// A name whose words say it holds a secret (no configured extra names).
pub fn is_secret_name(name: &str) -> bool {
    secrets::is_secret_name(name, &[])
}
