//! What the data flow knows about frameworks and libraries: which names say "key", which calls are
//! FastAPI parameter markers, DynamoDB writes and scans, loggers, outbound HTTP clients and
//! sanitisers. Everything works on qualified names from [`Model::resolve`](super::Model::resolve)
//! (or on a local handle's qualified name), so aliased imports (`import boto3 as b3`,
//! `from fastapi import Header as H`) are seen through.

use super::syntax;
use crate::finding::prefilter::{Group, Word};

/// A name (variable, parameter, header, field, environment variable) that says it holds key
/// material: `x_api_key`, `X-API-Key`, `apiKey`, `Authorization`, `STRIPE_SECRET`, `auth_token`.
/// Pagination and idempotency "keys/tokens", public keys and partition/sort keys are not secrets.
pub fn is_key_name(name: &str) -> bool {
    if lacks_key_words(name) {
        return false;
    }
    let words = syntax::name_words(name);
    key_words(&words)
}

/// True when an ASCII `name` contains none of the words [`key_words`] (and
/// [`is_minted_key_name`]) need to say yes: each of its words is a lower-cased run of its bytes,
/// so none can be `key`, `secret`, `password`… when the name does not contain it, whatever the
/// case. Most names are like that: they are answered without splitting them into words.
fn lacks_key_words(name: &str) -> bool {
    const NEEDED: [&[u8]; 6] = [
        b"key",
        b"secret",
        b"token",
        b"authorization",
        b"passw",
        b"credentials",
    ];
    let bytes = name.as_bytes();
    name.is_ascii()
        && !NEEDED.iter().any(|needle| {
            bytes
                .windows(needle.len())
                .any(|w| w.eq_ignore_ascii_case(needle))
        })
}

/// [`is_key_name`] on a name's words.
fn key_words(words: &[String]) -> bool {
    let has = |w: &str| words.iter().any(|x| x == w);
    if [
        "idempotency",
        "public",
        "page",
        "next",
        "continuation",
        "pagination",
        "partition",
        "sort",
        "primary",
        "cache",
        "hash",
        "hashed",
        "digest",
        "fingerprint",
        "prefix",
        "id",
        "type",
        "name",
        "length",
        "len",
        "expires",
        "expiry",
        "count",
    ]
    .iter()
    .any(|w| has(w))
    {
        return false;
    }
    (has("key") && KEY_QUALIFIERS.iter().any(|w| has(w)))
        || has("apikey")
        || has("secret")
        || has("token")
        || has("authorization")
        || has("password")
        || has("passwd")
        || has("credentials")
}

/// The name of a request header (or cookie) that carries a credential: a key-like name
/// ([`is_key_name`]: `X-Api-Key`, `Authorization`, `X-Refresh-Token`), or one that names a
/// credential only a header carries that way: a refresh or access token sent bare (`refresh`,
/// `access`, `X-Refresh`), a session (`X-Session`, `X-Admin-Session`, `X-Session-Id`: whoever
/// holds it is logged in), `X-Auth`, `Bearer`, `X-Jwt`, `Cookie` (the browser's session
/// cookies). Not a header *about* a credential or a user (`X-Auth-User`, `X-Auth-Method`,
/// `X-Session-Timeout`, `X-Csrf`, `Idempotency-Key`), and not the other headers
/// (`User-Agent`, `Accept-Language`, `X-Request-Id`). A webhook's signature (`X-Hub-Signature`)
/// is no credential: an HMAC of one body, worthless for any other request.
pub fn is_credential_header(name: &str) -> bool {
    credential_name(name, true)
}

/// [`is_credential_header`] for the name of a cookie (`session: str = Cookie()`): every such
/// name but `cookie` itself (a `hidden_cookie` parameter is a cookie, not the browser's session).
pub fn is_credential_cookie(name: &str) -> bool {
    credential_name(name, false)
}

fn credential_name(name: &str, header: bool) -> bool {
    let words = syntax::name_words(name);
    if key_words(&words) {
        return true;
    }
    const ABOUT: &[&str] = &[
        "user",
        "username",
        "email",
        "login",
        "method",
        "type",
        "scheme",
        "mode",
        "provider",
        "status",
        "state",
        "required",
        "enabled",
        "url",
        "uri",
        "path",
        "domain",
        "timeout",
        "ttl",
        "expires",
        "expiry",
        "expiration",
        "age",
        "count",
        "length",
        "len",
        "version",
        "name",
        "rate",
        "interval",
        "period",
        "level",
        "control",
        "cache",
        "consent",
        "policy",
        "hash",
        "hashed",
        "digest",
        "fingerprint",
        "prefix",
        "public",
        "idempotency",
        "csrf",
        "xsrf",
        "language",
        "lang",
        "locale",
        "region",
    ];
    if words.iter().any(|w| ABOUT.contains(&w.as_str())) {
        return false;
    }
    let has = |w: &str| words.iter().any(|x| x == w);
    let bare: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .filter(|w| *w != "x")
        .collect();
    ["refresh", "session", "sessionid", "auth", "bearer", "jwt"]
        .iter()
        .any(|w| has(w))
        || bare == ["access"]
        // The `Cookie` header itself (not `X-Hidden-Cookie`, nor any name of a cookie).
        || (header && (bare == ["cookie"] || bare == ["cookies"]))
}

/// A name that says "key" strongly enough to report its value where its origin is unknown
/// (a parameter `api_key`, `self.secret`, `config["API_KEY"]`): [`is_key_name`], but not the
/// name of something about a key (`api_key_header`, `token_url`, `secret_env_var`) nor a CSRF
/// token (made to be sent to the browser).
pub fn is_named_key(name: &str) -> bool {
    is_key_name(name)
        && !syntax::name_words(name).iter().any(|w| {
            matches!(
                w.as_str(),
                "csrf"
                    | "xsrf"
                    | "header"
                    | "field"
                    | "param"
                    | "env"
                    | "var"
                    | "url"
                    | "uri"
                    | "path"
                    | "file"
                    | "endpoint"
                    | "label"
                    | "kind"
                    | "scheme"
                    | "location"
                    | "format"
                    | "required"
                    | "valid"
                    | "is"
                    | "has"
                    | "use"
                    | "arn"
                    | "manager"
                    | "vault"
                    | "store"
                    | "version"
            )
        })
}

/// A value the service mints, bound to `name`, is key material: a name like a key
/// ([`is_key_name`]) or plain `key` (`key = secrets.token_urlsafe(32)`, `new_key = uuid4().hex`).
pub fn is_minted_key_name(name: &str) -> bool {
    if lacks_key_words(name) {
        return false;
    }
    minted_key_words(&syntax::name_words(name))
}

/// [`is_minted_key_name`] on a name's words.
fn minted_key_words(words: &[String]) -> bool {
    if key_words(words) {
        return true;
    }
    words.iter().any(|w| w == "key")
        && !words.iter().any(|w| {
            matches!(
                w.as_str(),
                "idempotency"
                    | "public"
                    | "partition"
                    | "sort"
                    | "primary"
                    | "cache"
                    | "hash"
                    | "hashed"
                    | "digest"
                    | "prefix"
                    | "id"
                    | "name"
                    | "s3"
                    | "object"
                    | "file"
                    | "lock"
                    | "redis"
                    | "dict"
                    | "map"
                    | "table"
            )
        })
}

/// A call that mints a random secret: `secrets.token_urlsafe()`, `secrets.token_hex()`,
/// `secrets.token_bytes()`, `Fernet.generate_key()`, `os.urandom()`; or issues a bearer token
/// (`jwt.encode(...)` of PyJWT and python-jose). (A `uuid4()` is minted too, but is a key only
/// through its name: see [`is_minted_key_name`]; so is a JWT.)
pub fn is_mint_call(q: &str) -> bool {
    matches!(
        q,
        "jwt.encode"
            | "jose.jwt.encode"
            | "secrets.token_urlsafe"
            | "secrets.token_hex"
            | "secrets.token_bytes"
            | "os.urandom"
            | "cryptography.fernet.Fernet.generate_key"
            | "uuid.uuid4"
            | "uuid.uuid1"
            // Random strings of a chosen length: how Flask apps mint OAuth2 client secrets
            // (`client.client_secret = gen_salt(48)`, authlib's own examples).
            | "werkzeug.security.gen_salt"
            | "authlib.common.security.generate_token"
    )
}

/// A package of a framework or library whose classes are no classes of the project (the rules
/// know what theirs do): `django`, `fastapi`, `pydantic`, `boto3`, `pynamodb`… (`top`: the first
/// component of a qualified name).
pub fn is_framework_package(top: &str) -> bool {
    matches!(
        top,
        "django"
            | "flask"
            | "fastapi"
            | "starlette"
            | "pydantic"
            | "pydantic_settings"
            | "werkzeug"
            | "sqlalchemy"
            | "boto3"
            | "botocore"
            | "pynamodb"
            | "requests"
            | "httpx"
            | "aiohttp"
            | "typing"
    )
}

/// A PynamoDB model class: a base resolving to `pynamodb.models.Model`.
pub fn is_pynamo_model_base(q: &str) -> bool {
    q == "pynamodb.models.Model" || q == "pynamodb.Model"
}

/// An attribute of a stored item that holds key material or a credential's hash
/// (`api_key`, `access_token`, `password_hash`, `refresh_token_hash`): read back and returned or
/// logged whole, the item exposes it.
pub fn is_sensitive_attribute(name: &str) -> bool {
    let words: Vec<String> = syntax::name_words(name)
        .into_iter()
        .filter(|w| !matches!(w.as_str(), "hash" | "hashed" | "digest"))
        .collect();
    key_words(&words)
}

/// `fastapi.Header`, `fastapi.params.Header`, ….
pub fn is_fastapi(q: &str, name: &str) -> bool {
    q == format!("fastapi.{name}")
        || q == format!("fastapi.params.{name}")
        || q == format!("fastapi.param_functions.{name}")
}

/// A security scheme class whose dependency returns key material.
pub fn is_key_scheme(q: &str) -> bool {
    let last = q.rsplit('.').next().unwrap_or(q);
    q.starts_with("fastapi.")
        && matches!(
            last,
            "APIKeyHeader" | "APIKeyQuery" | "APIKeyCookie" | "HTTPBearer" | "OAuth2PasswordBearer"
        )
}

/// `fastapi.Request`, `starlette.requests.Request`.
pub fn is_request_class(q: &str) -> bool {
    matches!(
        q,
        "fastapi.Request"
            | "starlette.requests.Request"
            | "flask.Request"
            | "fastapi.requests.Request"
    )
}

/// The Flask request global.
pub fn is_flask_request(q: &str) -> bool {
    matches!(q, "flask.request" | "quart.request")
}

const HASH_MODULES: &[&str] = &[
    "hashlib.",
    "hmac.",
    "bcrypt.",
    "argon2.",
    "passlib.",
    "secrets.compare_digest",
    "werkzeug.security.generate_password_hash",
    "werkzeug.security.check_password_hash",
];

/// A call whose result carries no key material: hashing, comparison, length, type tests.
pub fn is_sanitizer(q: &str) -> bool {
    HASH_MODULES.iter().any(|m| q.starts_with(m))
        || matches!(
            q,
            "len" | "bool" | "isinstance" | "hash" | "int" | "uuid.uuid4" | "uuid.uuid5"
        )
}

/// Calls that pass their arguments' key material through (encodings, containers, responses).
pub fn is_passthrough(q: &str) -> bool {
    matches!(
        q,
        "str"
            | "repr"
            | "bytes"
            | "dict"
            | "list"
            | "tuple"
            | "vars"
            | "format"
            | "json.dumps"
            | "json.loads"
            | "copy.copy"
            | "copy.deepcopy"
            | "fastapi.responses.ORJSONResponse"
            | "fastapi.responses.UJSONResponse"
            | "fastapi.responses.HTMLResponse"
            | "starlette.responses.PlainTextResponse"
            | "starlette.responses.HTMLResponse"
            | "fastapi.encoders.jsonable_encoder"
            | "fastapi.responses.JSONResponse"
            | "fastapi.responses.PlainTextResponse"
            | "fastapi.responses.Response"
            | "fastapi.Response"
            | "starlette.responses.JSONResponse"
            | "starlette.responses.Response"
            | "flask.jsonify"
            | "flask.make_response"
            | "flask.Response"
            | "urllib.parse.quote"
            | "urllib.parse.urlencode"
    ) || q.starts_with("base64.")
        // boto3's `TypeSerializer().serialize(v)`: `v` as a typed attribute map.
        || q.ends_with("TypeSerializer().serialize")
        || q.ends_with("TypeSerializer.serialize")
}

/// Methods of a str/bytes/dict/model that keep the receiver's key material in their result.
pub fn is_carrying_method(method: &str) -> bool {
    matches!(
        method,
        "strip"
            | "lstrip"
            | "rstrip"
            | "encode"
            | "decode"
            | "lower"
            | "upper"
            | "casefold"
            | "title"
            | "replace"
            | "split"
            | "rsplit"
            | "partition"
            | "format"
            | "join"
            | "removeprefix"
            | "removesuffix"
            | "copy"
            | "dict"
            | "model_dump"
            | "json"
            | "model_dump_json"
            | "items"
            | "values"
            | "to_dict"
            | "get_secret_value"
            | "to_json"
            | "to_simple_dict"
            | "serialize"
            | "__dict__"
    )
}

/// DynamoDB write methods and the keyword arguments that carry stored values.
pub fn dynamodb_write(method: &str) -> Option<&'static [&'static str]> {
    match method {
        "put_item" => Some(&["Item"]),
        "update_item" => Some(&["ExpressionAttributeValues", "AttributeUpdates"]),
        "transact_write_items" => Some(&["TransactItems"]),
        "batch_write_item" => Some(&["RequestItems"]),
        _ => None,
    }
}

/// The receiver of a method call looks like a DynamoDB table, client, resource or batch writer.
pub fn is_dynamodb_receiver(qualified: Option<&str>, text: &str) -> bool {
    if let Some(q) = qualified {
        if q.starts_with("boto3.")
            || q.contains(".Table()")
            || q.contains("batch_writer()")
            || q.starts_with("dynamodb.")
            || q.starts_with("aioboto3.")
            || q.contains("batch_write()")
        {
            return true;
        }
    }
    // (`text.to_ascii_lowercase().contains(…)`, without the copy.)
    let contains = |word: &str| {
        text.as_bytes()
            .windows(word.len())
            .any(|w| w.eq_ignore_ascii_case(word.as_bytes()))
    };
    contains("table")
        || contains("tbl")
        || contains("dynamo")
        || contains("ddb")
        || contains("batch")
}

/// A method of a logger (`info`, `warning`, `exception`...): the last name of a log call's path.
pub fn is_log_method(method: &str) -> bool {
    LOG_METHODS.contains(&method)
}

const LOG_METHODS: &[&str] = &[
    "debug",
    "info",
    "warning",
    "warn",
    "error",
    "exception",
    "critical",
    "fatal",
    "log",
];

/// A logging call: `logging.info`, a `logging.getLogger()` logger, `app.logger`, `print`,
/// `sys.stdout.write`, `warnings.warn`, structlog/loguru loggers.
pub fn is_log_call(qualified: Option<&str>, path: Option<&[String]>) -> bool {
    if let Some(q) = qualified {
        if matches!(
            q,
            "print" | "sys.stdout.write" | "sys.stderr.write" | "warnings.warn"
        ) {
            return true;
        }
        if let Some((recv, method)) = q.rsplit_once('.') {
            if LOG_METHODS.contains(&method)
                && (recv == "logging"
                    || recv.starts_with("logging.getLogger(")
                    || recv.starts_with("logging.Logger")
                    || recv.ends_with(".logger")
                    || recv.starts_with("structlog.")
                    || recv.starts_with("loguru.logger"))
            {
                return true;
            }
        }
    }
    if let Some([.., recv, method]) = path {
        return LOG_METHODS.contains(&method.as_str())
            && matches!(
                recv.as_str(),
                "logger" | "log" | "_logger" | "_log" | "LOGGER" | "LOG" | "logging"
            );
    }
    false
}

/// An outbound HTTP call, with the index of its URL argument when given positionally.
pub fn http_call(qualified: &str) -> Option<usize> {
    let (recv, method) = qualified.rsplit_once('.')?;
    let client = matches!(recv, "requests" | "httpx")
        || recv.starts_with("requests.Session(")
        || recv.starts_with("requests.session(")
        || recv.starts_with("httpx.Client(")
        || recv.starts_with("httpx.AsyncClient(")
        || recv.starts_with("aiohttp.ClientSession(");
    if client {
        return match method {
            "get" | "post" | "put" | "patch" | "delete" | "head" | "options" | "stream" => Some(0),
            "request" => Some(1),
            _ => None,
        };
    }
    match qualified {
        "urllib.request.urlopen" | "urllib.request.Request" => Some(0),
        _ => None,
    }
}

/// A name of an AWS credential (`aws_secret_access_key`, `AWS_ACCESS_KEY_ID`, `FS_S3_SECRET_KEY`,
/// `aws_session_token`): boto3, botocore and PynamoDB take `None` for it as "use the default
/// credential chain" (an instance or task role, `~/.aws`), so an unset variable is a valid setting.
pub fn is_aws_credential_name(name: &str) -> bool {
    let words = syntax::name_words(name);
    let has = |w: &str| words.iter().any(|x| x == w);
    (has("aws") || has("s3"))
        && ((has("access") && has("key"))
            || (has("secret") && has("key"))
            || (has("session") && has("token")))
}

/// An environment read with a default (`os.environ.get`, `os.getenv`), by qualified name.
pub fn is_env_get(q: &str) -> bool {
    matches!(q, "os.environ.get" | "os.getenv")
}

/// The environment mapping, by qualified name.
pub const ENVIRON: &str = "os.environ";

/// An app constructor that takes `debug=` (`FastAPI(debug=True)`, `Starlette(debug=True)`).
pub fn is_asgi_app_constructor(q: &str) -> bool {
    matches!(
        q,
        "fastapi.FastAPI" | "starlette.applications.Starlette" | "fastapi.applications.FastAPI"
    )
}

/// A call, by the last name of its callee, whose arguments become the response (or the page the
/// client sees): Flask's `jsonify`, `make_response`, `abort`, `flash`; the response classes of
/// Flask, Starlette and FastAPI; `render_template_string`.
pub fn is_response_call(last: &str) -> bool {
    matches!(
        last,
        "jsonify"
            | "make_response"
            | "abort"
            | "flash"
            | "Response"
            | "JSONResponse"
            | "PlainTextResponse"
            | "HTMLResponse"
            | "ORJSONResponse"
            | "UJSONResponse"
            | "render_template_string"
            | "json_response"
    )
}

/// A template file rendered, by the callee's last name (`render_template`): what reaches the
/// page is what the template shows (an error message, yes; `config`, one value of it).
pub fn is_template_render(last: &str) -> bool {
    last == "render_template"
}

/// A logging call by the last name of its callee (`logger.info`, `log.warning`, `print`): the
/// value goes to the log, not to the client.
pub fn is_log_method_name(last: &str) -> bool {
    last == "print" || LOG_METHODS.contains(&last)
}

/// A call whose result is the text of a traceback (`traceback.format_exc()`), by qualified name.
pub fn is_traceback_text(q: &str) -> bool {
    matches!(
        q,
        "traceback.format_exc"
            | "traceback.format_exception"
            | "traceback.format_tb"
            | "traceback.format_stack"
    )
}

/// The pre-filter's words for a secret-like name (`secrets::is_secret_name`, [`is_key_name`]);
/// a bare `key` is not one (`key = ...` is everywhere): a key needs a qualifier ([`Group::Key`]).
pub const NAME_WORDS: &[Word] = &[
    Word::new("secret", Group::Name),
    Word::new("token", Group::Name),
    Word::new("passw", Group::Name),
    Word::new("pwd", Group::Name),
    Word::new("credential", Group::Name),
    Word::new("privatekey", Group::Name),
    Word::new("apikey", Group::Name),
    Word::new("api_key", Group::Name),
    Word::new("api-key", Group::Name),
    Word::new("accesskey", Group::Name),
    Word::new("access_key", Group::Name),
    Word::new("access-key", Group::Name),
    Word::new("passphrase", Group::Name),
    Word::new("passcode", Group::Name),
    Word::new("authoriz", Group::Name),
    Word::new("bearer", Group::Name),
    Word::new("key", Group::Key),
    Word::exact("auth", Group::Auth),
];

/// The pre-filter's words for an environment read (`os.environ`, `os.getenv`).
pub const ENV_WORDS: &[Word] = &[
    Word::new("environ", Group::Env),
    Word::new("getenv", Group::Env),
];

/// The pre-filter's words for a web framework and its handler registrations: route and error
/// handlers exist only with one of them (`model::handler_kind_of_decorator`,
/// `model::collect_registration`).
pub const WEB_WORDS: &[Word] = &[
    Word::new("flask", Group::Web),
    Word::new("fastapi", Group::Web),
    Word::new("starlette", Group::Web),
    Word::new("quart", Group::Web),
    Word::new("add_url_rule", Group::Web),
    Word::new("add_api_route", Group::Web),
    Word::new("add_route", Group::Web),
    Word::new("register_error_handler", Group::Web),
    Word::new("add_exception_handler", Group::Web),
    Word::new("app.", Group::App),
];

/// The pre-filter's words for DynamoDB: the module, the write methods ([`dynamodb_write`]) and
/// PynamoDB models (`.save()`, `.update(actions=…)`, reads).
pub const DYNAMODB_WORDS: &[Word] = &[
    Word::new("dynamodb", Group::Any),
    Word::new("put_item", Group::Any),
    Word::new("update_item", Group::Any),
    Word::new("batch_write", Group::Any),
    Word::new("transact_write", Group::Any),
    Word::new("pynamodb", Group::Any),
];

/// The pre-filter's words for a whole stored item read ([`is_dynamodb_receiver`]'s receivers
/// with `get_item`, `scan`, `query`, a paginator).
pub const STORED_WORDS: &[Word] = &[
    Word::new("get_item", Group::Stored),
    Word::new("scan", Group::Stored),
    Word::new("paginator", Group::Stored),
    Word::new("query", Group::Query),
    Word::new("table", Group::Table),
    Word::new("tbl", Group::Table),
    Word::new("ddb", Group::Table),
    Word::new("batch", Group::Table),
    Word::new("boto", Group::Table),
];

/// The pre-filter's words for the sources of the data flow besides the environment and the web
/// framework: settings classes, the request and its headers, stored items, keys the service
/// mints ([`is_mint_call`], [`is_minted_key_name`]).
pub const SOURCE_WORDS: &[Word] = &[
    Word::exact("Settings", Group::SettingsClass),
    Word::new("request", Group::Request),
    Word::new("header", Group::Request),
    Word::new("token_urlsafe", Group::Any),
    Word::new("token_hex", Group::Any),
    Word::new("token_bytes", Group::Any),
    Word::new("generate_key", Group::Any),
    Word::new("urandom", Group::Any),
    Word::new("uuid", Group::Mint),
];

/// The pre-filter's words for a logging call ([`is_log_call`]).
pub const LOG_WORDS: &[Word] = &[
    Word::new("print", Group::Log),
    Word::new("warn", Group::Log),
    Word::new("stdout", Group::Log),
    Word::new("stderr", Group::Log),
    Word::new("logg", Group::Log),
    Word::new("structlog", Group::Log),
    Word::new("loguru", Group::Log),
    Word::new("log", Group::LogName),
];

/// The pre-filter's words for an outbound HTTP call ([`http_call`]).
pub const HTTP_WORDS: &[Word] = &[
    Word::new("requests", Group::Http),
    Word::new("httpx", Group::Http),
    Word::new("urllib", Group::Http),
    Word::new("aiohttp", Group::Http),
];

/// Words that make `key` in a name (`x_api_key`, `X-Auth-Key`) key material for the data flow.
pub(crate) const KEY_QUALIFIERS: &[&str] = &[
    "api",
    "secret",
    "private",
    "access",
    "x",
    "auth",
    "subscription",
    "master",
    "signing",
    "encryption",
    "license",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_without_key_words_are_answered_as_by_their_words() {
        // Each name judged by its words (what `is_key_name` and `is_minted_key_name` did for
        // every name before `lacks_key_words` answered most of them early).
        let mut early = 0;
        for name in [
            "x",
            "user_id",
            "page",
            "items",
            "API_KEY",
            "apiKey",
            "x-api-key",
            "KEY",
            "monkey",
            "Keyboard",
            "new_key",
            "key_id",
            "SECRET",
            "clientSecret",
            "TOKEN_URL",
            "refreshToken",
            "Authorization",
            "PassWord",
            "passwd",
            "pass_word",
            "Credentials",
            "aws_creds",
            "s3_key",
            "idempotency_key",
            "public_key",
            "cache_key",
            "keyName",
            "K_E_Y",
            "secretsManager",
            "tok",
            "résumé_key",
            "clé",
            "\u{212a}ey",
            "x_\u{212a}EY_secret",
            "",
        ] {
            let words = syntax::name_words(name);
            assert_eq!(is_key_name(name), key_words(&words), "{name:?}");
            assert_eq!(
                is_minted_key_name(name),
                minted_key_words(&words),
                "{name:?}"
            );
            if lacks_key_words(name) {
                early += 1;
                assert!(
                    !key_words(&words) && !words.iter().any(|w| w == "key"),
                    "{name:?}"
                );
            }
        }
        assert!(early > 3, "some names are answered early");
    }

    #[test]
    fn credential_headers() {
        for yes in [
            "x_api_key",
            "Authorization",
            "X-Refresh-Token",
            "x_refresh",
            "refresh",
            "access",
            "x-access",
            "x_admin_session",
            "X-Session-ID",
            "session",
            "x_auth",
            "bearer",
            "x_jwt",
            "Cookie",
            "X-Amz-Security-Token",
        ] {
            assert!(is_credential_header(yes), "{yes}");
        }
        for no in [
            "user_agent",
            "Accept-Language",
            "x_request_id",
            "X-Correlation-Id",
            "x_forwarded_for",
            "content_type",
            "x_auth_user",
            "X-Auth-Request-Email",
            "x_auth_method",
            "x_session_timeout",
            "x_access_level",
            "access_control",
            "x_hub_signature_256",
            "Stripe-Signature",
            "Idempotency-Key",
            "x_refresh_rate",
            "cookie_consent",
            "x_tenant",
            "hidden_cookie",
        ] {
            assert!(!is_credential_header(no), "{no}");
        }
        // A cookie: its name says what it holds (`session`), not that it is one.
        assert!(is_credential_cookie("session"));
        assert!(is_credential_cookie("refresh_token"));
        assert!(!is_credential_cookie("cookie"));
        assert!(!is_credential_cookie("hidden_cookie"));
        assert!(!is_credential_cookie("theme"));
    }

    #[test]
    fn minted_named_and_sensitive_names() {
        for yes in ["key", "new_key", "api_key", "raw_key", "token"] {
            assert!(is_minted_key_name(yes), "{yes}");
        }
        for no in [
            "request_id",
            "cache_key",
            "s3_key",
            "idempotency_key",
            "key_id",
            "nonce",
        ] {
            assert!(!is_minted_key_name(no), "{no}");
        }
        for yes in ["api_key", "signing_secret", "token", "access_token"] {
            assert!(is_named_key(yes), "{yes}");
        }
        for no in [
            "csrf_token",
            "api_key_header",
            "token_url",
            "token_type",
            "max_tokens",
            "page_token",
            "secret_env_var",
            "secret_arn",
        ] {
            assert!(!is_named_key(no), "{no}");
        }
        for yes in [
            "password_hash",
            "refresh_token",
            "api_key_hash",
            "access_token",
        ] {
            assert!(is_sensitive_attribute(yes), "{yes}");
        }
        for no in ["email", "created", "title", "note_id"] {
            assert!(!is_sensitive_attribute(no), "{no}");
        }
    }

    #[test]
    fn aws_credential_names() {
        for yes in [
            "aws_secret_access_key",
            "aws_access_key_id",
            "AWS_SESSION_TOKEN",
            "FS_S3_SECRET_KEY",
            "S3_ACCESS_KEY",
        ] {
            assert!(is_aws_credential_name(yes), "{yes}");
        }
        for no in [
            "DB_SECRET_ACCESS_KEY",
            "STRIPE_SECRET_KEY",
            "aws_region",
            "s3_bucket",
        ] {
            assert!(!is_aws_credential_name(no), "{no}");
        }
    }

    #[test]
    fn key_names() {
        for yes in [
            "x_api_key",
            "X-API-Key",
            "apiKey",
            "Authorization",
            "STRIPE_SECRET",
            "auth_token",
            "api_key",
            "token",
            "Ocp-Apim-Subscription-Key",
            "X-Auth-Token",
            "PRIVATE-TOKEN",
        ] {
            assert!(is_key_name(yes), "{yes}");
        }
        for no in [
            "Idempotency-Key",
            "next_token",
            "page_token",
            "public_key",
            "key_hash",
            "partition_key",
            "user_id",
            "name",
            "key",
        ] {
            assert!(!is_key_name(no), "{no}");
        }
    }
}
