//! What a secret looks like: secret-like names, placeholder values, known token formats and entropy.
//!
//! Shared by KL101 (`hardcoded-secret`), KL102, KL205 and the data-flow rules. Everything here works on
//! short strings (a name, one literal's value): no regex is compiled per call (they are built once,
//! on first use, in [`LazyLock`]s and [`Pattern`]s) and nothing scans a whole file.
//!
//! ## Names
//! A name is split into lower-case words ([`syntax::name_words`]). It is *secret-like* when its words
//! hold a secret noun (`password`, `passwd`, `secret`, `token`, `apikey`, `credential`…) or a key
//! qualified as one (`api key`, `private key`, `access key`, `signing key`, `encryption key`…), unless a
//! later word says the name only *names* or describes the secret: `PASSWORD_FIELD`, `TOKEN_HEADER`,
//! `API_KEY_ENV`, `SECRET_KEY_NAME`, `TOKEN_URL`, `token_type`, `PASSWORD_MIN_LENGTH`…
//!
//! ## Values
//! A value is a placeholder (never a secret) when it is empty or very short, contains white space,
//! is a URL or a file path, looks like an environment-variable or header name, repeats one character,
//! or carries a placeholder marker (`changeme`, `your-api-key-here`, `<API_KEY>`, `xxxx`, `${VAR}`,
//! `%(x)s`, `{{ x }}`, `...`, `example`, `dummy`…), or is listed in `allowed-placeholders`
//! ([`is_placeholder`]). Signing keys ([`is_signing_key_name`]) and passwords handed to credential
//! APIs are live whatever they look like: for them only a recognisable placeholder is skipped
//! ([`is_obvious_placeholder`]) — `"secret"`, `"blog"` and a passphrase are keys.

use std::sync::{LazyLock, OnceLock};

use regex::Regex;

use super::syntax;

/// A pattern matched on ASCII text through its ASCII compilation (`\w`, `\d`, `\b` and `(?i)`
/// of ASCII only), on other text through its Unicode one, each compiled on first use. On ASCII
/// text the two match alike (every Unicode class holds the same ASCII characters as its ASCII
/// counterpart, and case folding an ASCII character within ASCII gives its ASCII case pair), and
/// almost every literal is ASCII: the Unicode compilation, several times the cost of the ASCII
/// one for `\w` and `(?i)` (2.2 ms against 16 µs for [`PYTHON_PATH`]), is paid only by a check
/// that meets a non-ASCII value.
pub struct Pattern {
    source: &'static str,
    ascii: OnceLock<regex::bytes::Regex>,
    unicode: OnceLock<Regex>,
}

impl Pattern {
    const fn new(source: &'static str) -> Pattern {
        Pattern {
            source,
            ascii: OnceLock::new(),
            unicode: OnceLock::new(),
        }
    }

    fn ascii(&self) -> &regex::bytes::Regex {
        self.ascii.get_or_init(|| {
            regex::bytes::RegexBuilder::new(self.source)
                .unicode(false)
                .build()
                .expect("valid regex")
        })
    }

    fn unicode(&self) -> &Regex {
        self.unicode
            .get_or_init(|| Regex::new(self.source).expect("valid regex"))
    }

    pub fn is_match(&self, text: &str) -> bool {
        if text.is_ascii() {
            self.ascii().is_match(text.as_bytes())
        } else {
            self.unicode().is_match(text)
        }
    }

    /// Compiles both forms (the language server's warm-up).
    fn warm_up(&self) {
        let _ = (self.ascii(), self.unicode());
    }
}

/// Nouns that make a name secret on their own.
const SECRET_NOUNS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "secret",
    "secrets",
    "token",
    "apikey",
    "secretkey",
    "privatekey",
    "accesskey",
    "authorization",
    "credential",
    "credentials",
    "passcode",
];

/// Words that turn `key` into a secret (`api key`, `private key`, `signing key`).
pub(crate) const KEY_QUALIFIERS: &[&str] = &[
    "api",
    "secret",
    "private",
    "access",
    "signing",
    "encryption",
    "master",
    "auth",
    "client",
    "license",
    "webhook",
    "jwt",
    "hmac",
    "app",
    "fernet",
    "session",
    "cipher",
    "crypto",
    "aes",
];

/// Words after the secret word that say the name holds *about* the secret, not the secret itself.
const NAMING_WORDS: &[&str] = &[
    "name",
    "names",
    "field",
    "fields",
    "header",
    "headers",
    "env",
    "environ",
    "var",
    "variable",
    "variables",
    "url",
    "uri",
    "urls",
    "endpoint",
    "type",
    "types",
    "kind",
    "path",
    "file",
    "filename",
    "dir",
    "prefix",
    "suffix",
    "label",
    "param",
    "parameter",
    "attr",
    "attribute",
    "column",
    "col",
    "length",
    "len",
    "min",
    "max",
    "regex",
    "pattern",
    "format",
    "expiry",
    "expires",
    "expire",
    "expiration",
    "exp",
    "ttl",
    "lifetime",
    "timeout",
    "age",
    "algorithm",
    "algorithms",
    "alg",
    "scheme",
    "location",
    "hash",
    "hashed",
    "hasher",
    "hashers",
    "validators",
    "backends",
    "classes",
    "id",
    "ids",
    "placeholder",
    "hint",
    "prompt",
    "message",
    "msg",
    "error",
    "errors",
    "help",
    "text",
    "template",
    "route",
    "policy",
    "rules",
    "validator",
    "mode",
    "cookie",
    "source",
    "location",
    "in",
    "count",
    "limit",
    "size",
    "version",
    "reset",
    "required",
    "enabled",
    "arn",
    "manager",
    "store",
    "vault",
    "provider",
    "backend",
    "region",
    "bucket",
    "table",
    "class",
    "module",
    "start",
    "end",
    "begin",
    "pos",
    "position",
    "index",
    "idx",
    "offset",
    "span",
    "char",
    "chars",
    "check",
    "checks",
    "choices",
    "options",
    "scope",
    "scopes",
    "claim",
    "claims",
    "title",
    "subject",
    "body",
    "description",
    "heading",
    "caption",
    "tooltip",
    "button",
    "link",
    "page",
    "html",
];

/// Words of a value that *names* a secret rather than being one (`"_password_reset_token"`,
/// `"set-password"`, `"access_token"`, `"x-api-key"`).
const NAME_VALUE_WORDS: &[&str] = &[
    "api",
    "key",
    "keys",
    "access",
    "refresh",
    "id",
    "token",
    "tokens",
    "secret",
    "secrets",
    "password",
    "passwd",
    "pwd",
    "client",
    "auth",
    "bearer",
    "x",
    "csrf",
    "xsrf",
    "session",
    "reset",
    "set",
    "get",
    "new",
    "old",
    "confirm",
    "current",
    "user",
    "internal",
    "private",
    "public",
    "signing",
    "field",
    "name",
    "header",
    "cookie",
    "param",
    "value",
    "type",
    "hash",
    "hashed",
    "salt",
    "code",
    "otp",
    "pin",
    "jwt",
    "oauth",
    "oauth2",
    "github",
    "google",
    "stripe",
    "aws",
    "app",
    "account",
    "admin",
    "verify",
    "verification",
    "change",
    "forgot",
    "form",
    "username",
    "and",
    "login",
    "email",
];

/// Does this name say it holds a secret? `extra` are configured extra secret words (lower case).
pub fn is_secret_name(name: &str, extra: &[String]) -> bool {
    let words = syntax::name_words(name);
    secret_word_index(&words, extra).is_some_and(|i| {
        // `API_KEY_ENV`, `TOKEN_URL`, `token_type`: a naming word after the secret word.
        !words[i + 1..]
            .iter()
            .any(|w| NAMING_WORDS.contains(&w.as_str()))
            // `num_tokens`, `TOKEN_COUNT`: counting words before it.
            && !words[..i]
                .iter()
                .any(|w| matches!(w.as_str(), "max" | "min" | "num" | "no" | "is" | "has" | "use" | "verify" | "check" | "forgot" | "hashed" | "hash" | "encrypted" | "masked" | "salted" | "fake" | "url"))
            // `dynamodb_table_api_keys`, `API_KEYS_TABLE`: the name of a table (a queue, a bucket)
            // that holds keys, not a key.
            && !words
                .iter()
                .any(|w| RESOURCE_WORDS.contains(&w.as_str()))
    })
}

/// Words that make a name the name of a store of secrets, wherever they stand
/// (`dynamodb_table_api_keys`, `token_bucket_size`, `SECRETS_QUEUE_URL`).
const RESOURCE_WORDS: &[&str] = &[
    "table",
    "tables",
    "bucket",
    "queue",
    "topic",
    "collection",
    "stream",
    "dynamodb",
    "ddb",
];

/// Does this secret-like name hold a key that signs or encrypts (`SECRET_KEY`, `app.secret_key`,
/// `JWT_SECRET`, `SIGNING_KEY`, `FERNET_KEY`, `client_secret`)? Such a key is a live secret
/// whatever its value: a weak one (`"secret"`, a 4-letter app name, a passphrase) is worse,
/// not better, since anyone can forge sessions or tokens with it. Call only on secret-like names.
pub fn is_signing_key_name(name: &str) -> bool {
    let words = syntax::name_words(name);
    if words.len() == 1 && matches!(words[0].as_str(), "secret" | "secretkey") {
        return true;
    }
    words.iter().enumerate().any(|(i, w)| {
        let before = i.checked_sub(1).map(|j| words[j].as_str());
        match w.as_str() {
            "secretkey" => true,
            "key" | "keys" => before.is_some_and(|b| SIGNING_QUALIFIERS.contains(&b)),
            "secret" => before.is_some_and(|b| SECRET_SIGNERS.contains(&b)),
            _ => false,
        }
    })
}

/// Whether `value` names an entry of a session or cookie store rather than a key that signs it:
/// the name's `key` is a session's or a cookie's (`SESSION_KEY`, `CSRF_SESSION_KEY`,
/// `session_key`) and the value is a private lower-case identifier (`"_auth_user_id"`,
/// `"_csrftoken"`, `"_messages"`: Django's keys of `request.session`). A generated value
/// (`CSRF_SESSION_KEY = "f3Kd…"`, Flask-WTF's signing key) is not such a name.
pub fn is_store_entry_key(value: &str, name: &str) -> bool {
    let words = syntax::name_words(name);
    let session_key = words.iter().enumerate().any(|(i, w)| {
        matches!(w.as_str(), "key" | "keys")
            && i > 0
            && matches!(words[i - 1].as_str(), "session" | "cookie")
    });
    session_key && STORE_ENTRY.is_match(value)
}

/// A private lower-case identifier of words (`_auth_user_backend`), see [`is_store_entry_key`].
static STORE_ENTRY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^_[a-z]+(?:_[a-z]+)*$").expect("valid regex"));

/// Qualifiers of `key` that make it a signing or encryption key (`secret key`, `JWT key`).
const SIGNING_QUALIFIERS: &[&str] = &[
    "secret",
    "signing",
    "jwt",
    "hmac",
    "fernet",
    "encryption",
    "session",
    "cookie",
    "csrf",
    "app",
    "master",
    "cipher",
    "crypto",
    "aes",
];

/// Words before `secret` that make it a signing secret (`JWT_SECRET`, `SESSION_SECRET`,
/// `webhook_secret`); `stripe_secret`, `client_secret` are credentials of another service.
const SECRET_SIGNERS: &[&str] = &[
    "jwt",
    "app",
    "session",
    "signing",
    "flask",
    "cookie",
    "csrf",
    "hmac",
    "token",
    "auth",
    "webhook",
    "django",
    "starlette",
    "fastapi",
    "access",
    "refresh",
];

/// Index of the (last) word that makes the name secret.
fn secret_word_index(words: &[String], extra: &[String]) -> Option<usize> {
    let mut found = None;
    for (i, w) in words.iter().enumerate() {
        let w = w.as_str();
        let hit = SECRET_NOUNS.contains(&w)
            || extra.iter().any(|e| e == w)
            || (matches!(w, "key" | "keys")
                && i > 0
                && KEY_QUALIFIERS.contains(&words[i - 1].as_str()))
            || w.ends_with("apikey")
            || w.ends_with("secret")
            || (w.ends_with("token") && w.len() > 5 && !w.starts_with("max"))
            || w.ends_with("password");
        if hit {
            found = Some(i);
        }
    }
    // `x_api_key_header`: the secret word is `key` but the name is `api key` → index of `key`.
    found
}

/// An environment-variable name for a target (`apiKey` → `API_KEY`, `X-API-Key` → `API_KEY`).
pub fn env_var_name(target: &str) -> String {
    let words = syntax::name_words(target);
    let words: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .skip_while(|w| *w == "x" || *w == "http")
        .collect();
    let name = words.join("_").to_ascii_uppercase();
    let name: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("SECRET_{name}")
    } else {
        name
    }
}

/// Placeholder markers: a value containing one is an example, never a live secret.
static PLACEHOLDER: Pattern = Pattern::new(
    r"(?xi)
        change[-_\x20]?me | changeit | replace[-_\x20]?me | fill[-_\x20]?me | your[-_\x20]
        | ^<.*>$ | xxxx | \*\*\*\* | \$\{ | \{\{ | %\( | \.\.\. | ^\$[A-Z_]+$
        | example | dummy | placeholder | sample | redacted | not[-_\x20]?set | insert[-_\x20]
        | ^(none|null|nil|undefined|true|false|secret|password|passwd|token|apikey|api[-_]key|key|test|testing|dev|development|default|bearer|basic|str|string|required|optional|todo|fixme|tbd)$
        | ^test[-_]?(secret|password|token|key)s?$ | ^(fake|mock)[-_]",
);

/// An environment-variable-like value: `API_KEY`, `STRIPE_SECRET`.
static ENV_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^_*[A-Z][A-Z0-9]*(_+[A-Z0-9]+)+_*$|^[A-Z]{2,}(PASSWORD|PASSWD|TOKEN|SECRET|APIKEY)$",
    )
    .expect("valid regex")
});

/// A header-like value: `X-API-Key`, `Authorization`, `X-Auth-Token`.
static HEADER_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[Xx]-[A-Za-z]+(?:-[A-Za-z]+)*|[A-Z][a-z]+(?:-[A-Z][a-z]+)+|Authorization)$")
        .expect("valid regex")
});

/// A value made of lower-case identifier words only, every one of them a naming word.
fn is_name_value(v: &str) -> bool {
    if !v
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
    {
        return false;
    }
    let words = syntax::name_words(v);
    !words.is_empty()
        && words.iter().any(|w| {
            matches!(
                w.as_str(),
                "token" | "password" | "secret" | "key" | "passwd" | "pwd"
            )
        })
        && words
            .iter()
            .all(|w| NAME_VALUE_WORDS.contains(&w.trim_end_matches(|c: char| c.is_ascii_digit())))
}

/// A dotted Python path (`django.contrib.auth.hashers.PBKDF2PasswordHasher`, `app.auth.TokenBackend`).
static PYTHON_PATH: Pattern = Pattern::new(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*){2,}$");

/// A file path or a URL.
static PATH_OR_URL: Pattern = Pattern::new(
    r"^(?:arn:aws|[a-z][a-z0-9+.-]*://[^@]*$|\.{1,2}/|~/|/[A-Za-z_][\w.-]*/|[\w./-]*\.(?:pem|key|json|txt|crt|p12|pfx|ya?ml|env|cfg|ini|toml|bat|sh|py|js|html?|csv|db|sqlite3?|log|xml|conf)$)",
);

/// A password hash (`$2b$12$…`, `pbkdf2:sha256:…`, `$argon2id$…`): stored, not secret.
static PASSWORD_HASH: Pattern = Pattern::new(
    r"^(?:\$2[abxy]?\$\d\d\$|\$argon2(?:id|i|d)\$|\$[156]\$|pbkdf2[:_$]|scrypt:|sha256\$|bcrypt\$)",
);

/// `Bearer …`, `Token …`, `Basic …`: the scheme is not part of the secret.
pub fn split_scheme(value: &str) -> (usize, &str) {
    for scheme in ["Bearer ", "bearer ", "Token ", "token ", "Basic ", "Bot "] {
        if let Some(rest) = value.strip_prefix(scheme) {
            return (scheme.len(), rest);
        }
    }
    (0, value)
}

/// The patterns matched ASCII-only on ASCII text ([`Pattern`]).
static PATTERNS: [&Pattern; 6] = [
    &PLACEHOLDER,
    &OBVIOUS_PLACEHOLDER,
    &PYTHON_PATH,
    &PATH_OR_URL,
    &PASSWORD_HASH,
    &TEST_MARKER,
];

/// Builds every lazily compiled pattern of this module and runs each once, so that the first
/// literal that looks like a key does not pay for compiling them (several milliseconds): the
/// language server calls it at start-up, off the path of any request.
pub fn warm_up() {
    let sample = "sk-live-4f9c2b7e8d1a6f3c9a0b";
    for p in PATTERNS {
        p.warm_up();
    }
    let _ = (
        ENV_NAME.is_match(sample),
        HEADER_NAME.is_match(sample),
        FORMAT_PREFIXES.is_match(sample),
        URL_CREDENTIALS.is_match("postgresql://app:s3cr3t@db.example.com/app"),
    );
    for re in FORMAT_REGEXES.iter() {
        let _ = re.find(sample);
    }
}

/// Recognisably a placeholder, and nothing else: the only values not reported where any literal is
/// a live key (a signing key, the key parameter of a signing call, a password passed to a
/// credential API). Empty or blank, `None`, the target's own name (`password="password"` names a
/// form field), a marker (`changeme`, `your-…`, `<…>`, `xxxx`, `****`, `${VAR}`, `{{ x }}`,
/// `%(x)s`, `...`, `example`, `dummy`, `placeholder`, `sample`, `redacted`, `not-set`,
/// `insert-…`, `todo`, `fake-…`, `mock-…`), an environment-variable name, a file path or URL,
/// a password hash, or a value listed in `allowed-placeholders`. Short, weak and spaced values
/// (`"secret"`, `"blog"`, `"aaaaaaaa"`, `"correct horse battery staple"`) are **not** placeholders.
pub fn is_obvious_placeholder(value: &str, name: &str, allowed: &[String]) -> bool {
    let v = value.trim();
    if v.is_empty() || allowed.iter().any(|a| a == v) {
        return true;
    }
    let squash = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase()
    };
    if !name.is_empty() && squash(v) == squash(name) {
        return true;
    }
    OBVIOUS_PLACEHOLDER.is_match(v)
        || PASSWORD_HASH.is_match(v)
        || ENV_NAME.is_match(v)
        || PATH_OR_URL.is_match(v)
}

/// The markers of [`is_obvious_placeholder`].
static OBVIOUS_PLACEHOLDER: Pattern = Pattern::new(
    r"(?xi)
        change[-_\x20]?me | changeit | replace[-_\x20]?me | fill[-_\x20]?me | your[-_\x20]
        | ^<.*>$ | xxxx | \*\*\*\* | \$\{ | \{\{ | %\( | \.\.\. | ^\$[A-Z_]+$
        | example | dummy | placeholder | sample | redacted | not[-_\x20]?set | insert[-_\x20]
        | ^(none|null|nil|undefined|todo|fixme|tbd)$ | ^(fake|mock)[-_]",
);

/// Is `value` a placeholder (or otherwise clearly not a secret)?
pub fn is_placeholder(value: &str, allowed: &[String]) -> bool {
    let v = value.trim();
    if v.chars().count() < 6 || v.contains(char::is_whitespace) {
        return true;
    }
    if allowed.iter().any(|a| a == v) {
        return true;
    }
    let mut chars = v.chars();
    let first = chars.next();
    if chars.all(|c| Some(c) == first) {
        return true;
    }
    PLACEHOLDER.is_match(v)
        || PASSWORD_HASH.is_match(v)
        || ENV_NAME.is_match(v)
        || is_name_value(v)
        || PYTHON_PATH.is_match(v)
        || HEADER_NAME.is_match(v)
        || PATH_OR_URL.is_match(v)
}

/// A known token format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenFormat {
    /// `AWS access key id`, `GitHub token`…
    pub label: &'static str,
    /// Environment-variable name a fix reads it from when the target has no name of its own.
    pub env: &'static str,
}

const FORMATS: &[(&str, TokenFormat)] = &[
    (
        r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
        TokenFormat {
            label: "AWS access key id",
            env: "AWS_ACCESS_KEY_ID",
        },
    ),
    (
        r"\bgh[pousr]_[A-Za-z0-9]{36,}\b|\bgithub_pat_[A-Za-z0-9_]{22,}",
        TokenFormat {
            label: "GitHub token",
            env: "GITHUB_TOKEN",
        },
    ),
    (
        r"\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}",
        TokenFormat {
            label: "Stripe secret key",
            env: "STRIPE_SECRET_KEY",
        },
    ),
    (
        r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}",
        TokenFormat {
            label: "OpenAI API key",
            env: "OPENAI_API_KEY",
        },
    ),
    (
        r"\bxox[abposr]-[A-Za-z0-9-]{10,}",
        TokenFormat {
            label: "Slack token",
            env: "SLACK_TOKEN",
        },
    ),
    (
        r"\bAIza[0-9A-Za-z_-]{35}",
        TokenFormat {
            label: "Google API key",
            env: "GOOGLE_API_KEY",
        },
    ),
    (
        r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}",
        TokenFormat {
            label: "SendGrid API key",
            env: "SENDGRID_API_KEY",
        },
    ),
    (
        r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----",
        TokenFormat {
            label: "private key",
            env: "PRIVATE_KEY",
        },
    ),
    (
        r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/-]{20,}",
        TokenFormat {
            label: "Slack webhook URL",
            env: "SLACK_WEBHOOK_URL",
        },
    ),
    (
        r"discord(?:app)?\.com/api/webhooks/[0-9]{5,}/[A-Za-z0-9_-]{20,}",
        TokenFormat {
            label: "Discord webhook URL",
            env: "DISCORD_WEBHOOK_URL",
        },
    ),
    (
        r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}",
        TokenFormat {
            label: "JSON web token",
            env: "JWT_TOKEN",
        },
    ),
];

/// Cheap pre-filter: only values holding one of these can match a format.
static FORMAT_PREFIXES: LazyLock<aho_corasick::AhoCorasick> = LazyLock::new(|| {
    aho_corasick::AhoCorasick::new([
        "AKIA",
        "ASIA",
        "gh",
        "github_pat_",
        "k_live_",
        "k_test_",
        "sk-",
        "xox",
        "AIza",
        "SG.",
        "-----BEGIN",
        "eyJ",
        "hooks.slack.com/",
        "/api/webhooks/",
    ])
    .expect("valid prefixes")
});

static FORMAT_REGEXES: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    FORMATS
        .iter()
        .map(|(re, _)| Regex::new(re).expect("valid token format regex"))
        .collect()
});

/// `scheme://user:password@host`: credentials in a connection URL.
static URL_CREDENTIALS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b[a-z][a-z0-9+.-]*://([^:/?#@\s]*):([^@/?#\s]+)@([^:/?#\s]+)")
        .expect("valid regex")
});

/// A password written into a connection URL (`postgresql://app:s3cr3t@db.example.com/app`), unless
/// it is a placeholder, repeats the user name, or the host is a local development one.
pub fn url_credentials(value: &str, allowed: &[String]) -> Option<TokenFormat> {
    if !value.contains("://") || !value.contains('@') {
        return None;
    }
    let caps = URL_CREDENTIALS.captures(value)?;
    let (user, password, host) = (&caps[1], &caps[2], caps[3].to_ascii_lowercase());
    let local = matches!(
        host.as_str(),
        "localhost"
            | "127.0.0.1"
            | "0.0.0.0"
            | "::1"
            | "db"
            | "database"
            | "postgres"
            | "mysql"
            | "redis"
            | "mongo"
            | "mongodb"
            | "rabbitmq"
            | "host.docker.internal"
    );
    if local
        || password == user
        || PLACEHOLDER.is_match(&host)
        // Long filler (`paaaaaaaaaaaaaaa`) is not a password; a short weak one (`toor`) is.
        || (password.len() >= 12 && entropy(password) < 2.5)
        || is_obvious_placeholder(password, user, allowed)
        || matches!(
            password.to_ascii_lowercase().as_str(),
            "password" | "passwd" | "pass" | "pwd" | "secret" | "pw"
        )
    {
        return None;
    }
    Some(TokenFormat {
        label: "password in a connection URL",
        env: "DATABASE_URL",
    })
}

/// The known token format `value` contains, if any. The matched token itself must not be a
/// placeholder (AWS's documented `AKIAIOSFODNN7EXAMPLE`, `sk-xxxxxxxx…`) and, except for PEM headers,
/// must mix letters and digits like a generated token does.
pub fn token_format(value: &str, allowed: &[String]) -> Option<TokenFormat> {
    if value.len() < 16 || !FORMAT_PREFIXES.is_match(value) {
        return None;
    }
    let v = value.trim();
    if allowed.iter().any(|a| a == v) {
        return None;
    }
    // Each format in its order (a set of them would cost as much to compile as all of them).
    for (re, &(_, format)) in FORMAT_REGEXES.iter().zip(FORMATS) {
        let Some(m) = re.find(value) else {
            continue;
        };
        let token = m.as_str();
        let generated = format.label == "private key"
            || (token.chars().any(|c| c.is_ascii_digit())
                && token.chars().any(|c| c.is_ascii_alphabetic()));
        if generated && !PLACEHOLDER.is_match(token) {
            return Some(format);
        }
    }
    None
}

/// A value that spells words of its own name, as an enum-like label does
/// (`AUTH_STATUS_INVALID_CREDENTIALS = "invalid_credentials"`, `ERR_BAD_TOKEN = "bad-token"`): at
/// least two lower-case words, every one of them a word of the name. A single word
/// (`ADMIN_PASSWORD = "admin"`) is a weak password, not a label.
pub fn spells_name(value: &str, name: &str) -> bool {
    let v = value.trim();
    if !v
        .chars()
        .all(|c| c.is_ascii_lowercase() || matches!(c, '_' | '-' | '.' | ' '))
    {
        return false;
    }
    let words = syntax::name_words(v);
    let name_words = syntax::name_words(name);
    words.len() >= 2 && words.iter().all(|w| name_words.contains(w))
}

/// A test marker inside a token: `sk-CANARY-…`, `ghp_FAKE…`, `…-test-…`, `dummy`, `example`,
/// `mock`, `sample`, `not-real`. `test` counts only as a word of its own, and a provider's own
/// `sk_test_` prefix (Stripe's test-mode keys, real keys) is not a marker.
static TEST_MARKER: Pattern = Pattern::new(
    r"(?i)canary|fake|dummy|example|sample|mock|not[-_]?real|do[-_]?not[-_]?(?:use|expose)|(?:^|[^a-z])test(?:[^a-z]|$)",
);

/// A key in a live format: a provider's real key shape ([`token_format`]) whose token has real
/// entropy ([`is_high_entropy`]) and no test marker ([`TEST_MARKER`]); for a private key block,
/// a body of at least 64 base64 characters of real entropy (a real key has hundreds). Such a key
/// is an error even in test code; other known formats there (`sk-CANARY-…`, a PEM block around
/// `test_key_content`) are test fixtures.
pub fn is_live_format(value: &str, allowed: &[String]) -> bool {
    if token_format(value, allowed).is_none() {
        return false;
    }
    for (re, (_, format)) in FORMAT_REGEXES.iter().zip(FORMATS) {
        let Some(m) = re.find(value) else {
            continue;
        };
        if format.label == "private key" {
            let body: String = value[m.end()..]
                .split("-----END")
                .next()
                .unwrap_or_default()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
                .collect();
            if body.len() >= 64 && entropy(&body) >= 4.5 && !TEST_MARKER.is_match(&body) {
                return true;
            }
            continue;
        }
        let token = m.as_str();
        let bare = STRIPE_MODE.replace(token, "");
        if is_high_entropy(token) && !TEST_MARKER.is_match(&bare) {
            return true;
        }
    }
    false
}

/// Stripe's mode prefix (`sk_test_`, `rk_live_`): part of the real format, not a marker.
static STRIPE_MODE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[sr]k_(?:live|test)_").expect("valid regex"));

/// Shannon entropy of `value` in bits per character.
pub fn entropy(value: &str) -> f64 {
    let mut counts = [0u32; 256];
    let mut n = 0u32;
    for b in value.bytes() {
        counts[b as usize] += 1;
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    let n = f64::from(n);
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// Random-looking: at least 16 characters of at least 3.5 bits each (hex keys reach ~3.7–4.0,
/// base64 ~4.5–5.5; English words and `my-dev-password` stay below).
pub fn is_high_entropy(value: &str) -> bool {
    let v = value.trim();
    v.len() >= 16 && entropy(v) >= 3.5
}

/// Where `text` holds known token formats, judged as [`token_format`] judges them: the byte
/// range of each match (for masking: [`crate::engine::redact::mask_secrets`]).
pub fn token_format_spans(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    if text.len() < 16 || !FORMAT_PREFIXES.is_match(text) {
        return out;
    }
    for (re, (_, format)) in FORMAT_REGEXES.iter().zip(FORMATS) {
        for m in re.find_iter(text) {
            let token = m.as_str();
            let generated = format.label == "private key"
                || (token.chars().any(|c| c.is_ascii_digit())
                    && token.chars().any(|c| c.is_ascii_alphabetic()));
            if generated && !PLACEHOLDER.is_match(token) {
                out.push(m.range());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A [`Pattern`] answers as its Unicode regex does, on ASCII text (through its ASCII
    /// compilation) and on other text: words, digits, boundaries and case folding included.
    #[test]
    fn patterns_match_as_their_unicode_regex() {
        let samples = [
            "django.contrib.auth.hashers.PBKDF2PasswordHasher",
            "app.módulo.clé",
            "app.auth",
            "/etc/ssl/private/server.key",
            "/données/clé.pem",
            "https://example.com/x",
            "~/keys/id_rsa",
            "config.yaml",
            "ŝecret.json",
            "$2b$12$abcdefghijklmnopqrstuv",
            "$2b$١٢$abc",
            "pbkdf2:sha256:260000$salt$hash",
            "CHANGEME",
            "ChangeMe-Now",
            "chanGe_mE",
            "your-api-key-here",
            "YOUR_TOKEN",
            "<API_KEY>",
            "<clé>",
            "${SECRET}",
            "$SECRET_KEY",
            "EXAMPLE",
            "ſample",
            "placeholder",
            "None",
            "fake-token",
            "sk-CANARY-abc",
            "xx-TEST-yy",
            "Test",
            "latest",
            "tést",
            "not_real",
            "do-not-use",
            "s3cr3t-Kεy-9f8e7d6c5b4a",
            "\u{212a}ey.example",
            "",
        ];
        for p in PATTERNS {
            let unicode = Regex::new(p.source).expect("valid regex");
            for s in samples {
                assert_eq!(p.is_match(s), unicode.is_match(s), "{} on {s:?}", p.source);
            }
        }
        // Non-ASCII text goes through the Unicode compilation: `\w` holds `ó`.
        assert!(PYTHON_PATH.is_match("app.módulo.clé"));
        assert!(PATH_OR_URL.is_match("/données/clé.pem"));
        assert!(PLACEHOLDER.is_match("ſample"), "Unicode case folding");
    }

    fn secret(n: &str) -> bool {
        is_secret_name(n, &[])
    }

    #[test]
    fn names() {
        for n in [
            "API_KEY",
            "apiKey",
            "stripe_secret",
            "secret_key",
            "SECRET_KEY",
            "password",
            "DB_PASSWORD",
            "aws_secret_access_key",
            "GITHUB_TOKEN",
            "accessToken",
            "client_secret",
            "private_key",
            "X-API-Key",
            "Authorization",
            "apikey",
            "JWT_SECRET_KEY",
            "refresh_token",
        ] {
            assert!(secret(n), "{n} is secret");
        }
        for n in [
            "PASSWORD_FIELD",
            "TOKEN_HEADER",
            "token_type",
            "API_KEY_ENV",
            "SECRET_KEY_NAME",
            "TOKEN_URL",
            "tokenUrl",
            "key",
            "max_tokens",
            "PASSWORD_MIN_LENGTH",
            "token_start",
            "PASSWORD_HASHERS",
            "JWT_BLACKLIST_TOKEN_CHECKS",
            "auth_password_changed_title",
            "hashed_password",
            "password_hash",
            "AWS_ACCESS_KEY_ID",
            "monkey",
            "keyboard",
            "tokenizer",
            "secretary",
        ] {
            assert!(!secret(n), "{n} is not secret");
        }
        assert!(is_secret_name("my_pin", &["pin".into()]));
    }

    #[test]
    fn placeholders() {
        for v in [
            "",
            "changeme",
            "your-api-key-here",
            "<API_KEY>",
            "xxxxxxxx",
            "${API_KEY}",
            "%(secret)s",
            "...",
            "API_KEY",
            "X-API-Key",
            "https://example.com/token",
            "bearer",
            "Enter your password",
            "keys/private.pem",
            "AKIAIOSFODNN7EXAMPLE",
            "_password_reset_token",
            "__APP_INSTALL_MARKER__",
            "PGPASSWORD",
            "username-password",
            "set-password",
            "access_token",
            "make.bat",
            "django.contrib.auth.hashers.PBKDF2PasswordHasher",
            "$2b$12$EixZaYVK1fsbw1ZfbX3OXePaWxn96p36WQoeG6Lruj3vjPGga31lW",
            "pbkdf2:sha256:600000$abc$def",
        ] {
            assert!(is_placeholder(v, &[]), "{v:?} is a placeholder");
        }
        for v in [
            "s3cr3t-Pa55",
            "a8f5f167f44f4964e6c998dee827110c",
            "hunter22",
        ] {
            assert!(!is_placeholder(v, &[]), "{v:?} is not a placeholder");
        }
        assert!(is_placeholder("local-secret-1", &["local-secret-1".into()]));
    }

    #[test]
    fn signing_keys_and_obvious_placeholders() {
        for n in [
            "SECRET_KEY",
            "secret_key",
            "JWT_SECRET",
            "JWT_SECRET_KEY",
            "SECRET",
            "SESSION_SECRET",
            "signing_key",
            "FERNET_KEY",
            "webhook_secret",
        ] {
            assert!(is_signing_key_name(n), "{n} signs");
        }
        for n in [
            "stripe_secret",
            "client_secret",
            "API_KEY",
            "password",
            "GITHUB_TOKEN",
        ] {
            assert!(!is_signing_key_name(n), "{n} does not sign");
        }
        for (name, value) in [
            ("SESSION_KEY", "_auth_user_id"),
            ("BACKEND_SESSION_KEY", "_auth_user_backend"),
            ("CSRF_SESSION_KEY", "_csrftoken"),
            ("session_key", "_messages"),
        ] {
            assert!(
                is_store_entry_key(value, name),
                "{name} = {value:?} names an entry"
            );
        }
        for (name, value) in [
            ("CSRF_SESSION_KEY", "f3Kd9aQ2LmX8vB1nZ7"),
            ("SESSION_KEY", "auth_user_id"),
            ("SESSION_KEY", "_Auth2"),
            ("SECRET_KEY", "_auth_user_id"),
            ("API_KEY", "_internal_key"),
        ] {
            assert!(
                !is_store_entry_key(value, name),
                "{name} = {value:?} may sign"
            );
        }
        for n in [
            "dynamodb_table_api_keys",
            "API_KEYS_TABLE",
            "token_bucket",
            "SECRETS_QUEUE_URL",
        ] {
            assert!(!secret(n), "{n} names a store");
        }
        let obvious = |v: &str, name: &str| is_obvious_placeholder(v, name, &[]);
        for (v, name) in [
            ("", "SECRET_KEY"),
            ("changeme", "SECRET_KEY"),
            ("<your-key>", "SECRET_KEY"),
            ("your-api-key-here", "API_KEY"),
            ("xxxxxxxx", "SECRET_KEY"),
            ("None", "SECRET_KEY"),
            ("...", "SECRET_KEY"),
            ("password", "password"),
            ("api-key", "api_key"),
            ("${JWT_SECRET}", "JWT_SECRET"),
        ] {
            assert!(obvious(v, name), "{v:?} for {name} is a placeholder");
        }
        for v in [
            "secret",
            "blog",
            "aaaaaaaa",
            "correct horse battery staple",
            "dev",
            "test",
        ] {
            assert!(!obvious(v, "SECRET_KEY"), "{v:?} is a live key");
        }
    }

    #[test]
    fn formats() {
        let f = |v: &str| token_format(v, &[]).map(|f| f.label);
        assert_eq!(f("AKIAZ3MUXQ4VL7PQ2TRD"), Some("AWS access key id"));
        assert_eq!(f("AKIAIOSFODNN7EXAMPLE"), None);
        assert_eq!(
            f("ghp_1A2b3C4d5E6f7G8h9I0jK1l2M3n4O5p6Q7r8"),
            Some("GitHub token")
        );
        assert_eq!(f("sk_live_51HbX2pKq8Rt3Vw9Yz"), Some("Stripe secret key"));
        assert_eq!(
            f("Bearer sk-Qm8x2Lw9Pz4Rt7Vb3Nc6Kd1F"),
            Some("OpenAI API key")
        );
        assert_eq!(
            f("-----BEGIN RSA PRIVATE KEY-----\nMIIE"),
            Some("private key")
        );
        assert_eq!(f("just a sentence with sk- in it"), None);
        let u = |v: &str| url_credentials(v, &[]).map(|f| f.label);
        assert_eq!(
            u("postgresql://app:Xk29-pLq7-Zr81@prod-db.internal:5432/app"),
            Some("password in a connection URL")
        );
        assert_eq!(u("postgresql://postgres:postgres@localhost/app"), None);
        assert_eq!(u("postgresql://app:${DB_PASSWORD}@prod-db/app"), None);
        assert_eq!(u("https://example.com/a@b"), None);
        assert_eq!(u("http://foo:bar:baz@example.com"), None);
        assert_eq!(
            u("https://userid:paaaaaaaaaaaaaaaaaaaaaaaaa@host.net"),
            None
        );
        assert_eq!(
            u("mysql://root:toor@10.0.0.5/app"),
            Some("password in a connection URL")
        );
        assert_eq!(u("postgresql://user:password@db.example.com/app"), None);
        assert_eq!(
            f("https://hooks.slack.com/services/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"),
            Some("Slack webhook URL")
        );
        assert_eq!(
            f("https://hooks.slack.com/services/TXXXXXXXX/BXXXXXXXX/XXXXXXXXXXXXXXXXXXXXXXXX"),
            None
        );
        assert_eq!(
            f("https://discord.com/api/webhooks/998877665544332211/Zr8-Lq2_Wm9xT4vB7nK1cP6yH3jD0sF5gA2eR8uI"),
            Some("Discord webhook URL")
        );
        assert_eq!(f("sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"), None);
        assert_eq!(f("sk-abcdefghijklmnopqrstuvwxyz"), None);
        assert_eq!(
            f("https://maps.example.com/api?key=AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"),
            Some("Google API key")
        );
        assert!(is_high_entropy("a8f5f167f44f4964e6c998dee827110c"));
        assert!(!is_high_entropy("my-dev-password"));
    }
}
