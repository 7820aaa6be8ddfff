//! What a rule tells the pre-filter (`engine::prefilter`) to look for: the words its findings
//! cannot exist without, each with the [`Group`] that says how the pre-filter reads it. Every rule
//! declares them in its own file ([`RuleMeta::prefilter`](super::RuleMeta::prefilter), often with
//! shared lists of `model::secrets` and `model::frameworks`); the pre-filter is built from them
//! alone and keeps the matching machinery (the shapes each group must form, `Prefilter::keep`).
//! A rule that declares no word switches the pre-filter off.

/// What a word stands for, i.e. how the pre-filter reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Group {
    /// Alone enough to keep the file.
    Any,
    /// A token format (`AKIA…`, `ghp_…`, `sk-…`): keeps the file when it is in a string literal
    /// (KL101 reads string values, f-string parts included).
    Format,
    /// A call that takes a key as a literal (KL101's `KEY_PARAMS`: `jwt.encode(p, "…")`,
    /// `hmac.new(b"…")`, `Fernet(…)`, itsdangerous serializers): keeps the file when in code.
    KeyCall,
    /// `://` in a string literal: keeps the file when the literal could hold `user:password@`
    /// — KL101's password in a connection URL.
    Url,
    /// A secret-like name (`secret`, `token`, `passw`, `api_key`…, and the configuration's
    /// `extra-secret-names`), in an identifier or a string.
    Name,
    /// `key`: a [`Group::Name`] when the name around it says "key" with a qualifier
    /// (`signing_key`, `X-Auth-Key`, `MasterKey`).
    Key,
    /// `login`: keeps the file when it is a method called (`smtp.login(user, "…")`).
    Login,
    /// `auth`: a [`Group::Name`] when it is the whole identifier (`requests.get(u, auth=(…))`).
    Auth,
    /// `debug` in a name or string (KL301).
    Debug,
    /// `True` (case-sensitive).
    True,
    /// `False` (case-sensitive) and `bool`: KL103's `bool(os.environ.get(…))` and flag defaults.
    Flag,
    /// Environment reads (`environ`, `getenv`).
    Env,
    /// Web framework markers (Flask, FastAPI, Starlette, Quart) and handler registrations
    /// (`add_url_rule`, `register_error_handler`…): route and error handlers exist only with one of
    /// them (see `model::handler_kind_of_decorator` and `model::collect_registration`).
    Web,
    /// `app.`: a [`Group::Web`] in a decorator whose path has the name `app` (`@app.route`,
    /// `@self.app.get`): the handler of an app the model cannot resolve.
    App,
    /// `Settings` (case-sensitive) in a name: a settings class (`class S(BaseSettings)`), whose
    /// secret fields are a data-flow source without any web framework.
    SettingsClass,
    /// Configuration reads (`config`, `settings`): exposure in a route handler needs `Web` too.
    Config,
    /// Error handling (`except`, `errorhandler`, `exception_handler`, `error_handler`): an error
    /// leak needs `Web` too.
    Error,
    /// `request` (the whole request, its headers) and `header` (`Header()` parameters,
    /// `request.headers`): data-flow sources that need `Web`.
    Request,
    /// A DynamoDB read of whole items (`get_item`, `scan`, a paginator): KL203 and KL304 need `Web`.
    Stored,
    /// `query`: a whole DynamoDB item read with `table.query(...)` needs `Table` (and `Web`).
    Query,
    /// What a DynamoDB receiver's text or qualified name contains (`table`, `ddb`, `boto`…).
    Table,
    /// What a logging call needs (`print`, `warn`, `stdout`, `stderr`, `logg…`, `structlog`,
    /// `loguru`; see `frameworks::is_log_call`).
    Log,
    /// `log`: a [`Group::Log`] when it is a whole identifier (`log.info`, `_log`, `LOG`).
    LogName,
    /// `werkzeug` (`run_simple(..., use_debugger=True)`, which may be imported under another name).
    Werkzeug,
    /// Outbound HTTP clients (`requests`, `httpx`, `urllib`, `aiohttp`; see
    /// `frameworks::http_call`).
    Http,
    /// `uuid`: a key minted as `key = uuid4().hex` is a source wherever a log call can take it
    /// (stored, a DynamoDB word keeps the file anyway).
    Mint,
}

/// One word of a rule for the pre-filter. Words are matched ASCII-case-insensitively as
/// substrings (so `apiKey`, `API_KEY` and `x-api-key` all contain `apikey`/`api_key`/`api-key`),
/// unless `case_sensitive` (token formats with a fixed case, `AKIA`, `eyJ`; the Python constants
/// `True`/`False`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Word {
    pub word: &'static str,
    pub group: Group,
    pub case_sensitive: bool,
}

impl Word {
    /// A word matched in any case.
    pub const fn new(word: &'static str, group: Group) -> Word {
        Word {
            word,
            group,
            case_sensitive: false,
        }
    }

    /// A word matched with its case.
    pub const fn exact(word: &'static str, group: Group) -> Word {
        Word {
            word,
            group,
            case_sensitive: true,
        }
    }
}
