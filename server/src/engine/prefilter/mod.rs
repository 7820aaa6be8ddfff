//! The pre-filter: decides from a file's raw bytes, before parsing, whether the file can have a
//! finding at all; a file that cannot is skipped. It must never change findings:
//! `server/tests/cli_prefilter.rs` runs the fixtures and the benchmark corpus with and without it.
//!
//! Two steps, each cheap next to a parse:
//! 1. One multi-pattern scan (Aho–Corasick) of the bytes for the words and token formats the rules
//!    need ([`words`]). Most files have none and are skipped here; a token format (`AKIA…`), a URL
//!    with credentials, a DynamoDB write or the suppression comment keeps a file at once.
//! 2. For the other words, the file is lexed ([`lex`]: identifiers, strings, operators, bracket
//!    depth, logical lines; comments skipped) and each rule's *shape* is checked where its parts
//!    must meet:
//!    * **in one logical line** (one statement: tree-sitter sees every expression of the rules
//!      inside one): a secret-like name bound to a string literal that is not certainly a
//!      placeholder (KL101: `NAME =`, `NAME:`, `"NAME":`, `["NAME"]`, `("NAME", "…")`, `auth=`),
//!      a secret-like name in a line with `==`/`!=` (KL205), a secret-like name next to a string
//!      in a file that reads the environment (KL102), a `debug` name and `True` in a statement that
//!      could switch debug mode on (KL301), a string with `bool`/`True`/`False` in a file that reads
//!      the environment (KL103);
//!    * **in the file** (the data flow crosses statements and functions): route or error handlers
//!      (a web framework, an `@app.` decorator, a handler registration) with config, the
//!      environment, error handling, a secret-like name, request headers, the request or a
//!      DynamoDB read (KL302, KL303, KL304 and the sources that only exist in handlers); outside
//!      handlers, a secret-like name with a log call or an HTTP client, and a source (the
//!      environment, a settings class). DynamoDB writes keep the file anyway. A handler shape
//!      needs its sink too: a function that may answer a request ([`handlers`]: returns reach
//!      the client), an `HTTPException` raised, a log call or a name imported from the project;
//!      error handling needs the exception named (`except E as e`, an error handler) or a
//!      traceback call; the request needs a key-like name, `.headers`, a log call or such an
//!      import.
//!
//!    Words only count in code (identifiers) or strings as the rule reads them: `app.` in a
//!    docstring does not make a file a Flask app, and nothing counts in a comment.
//!
//! ## The words come from the rules
//! Each rule declares, in its own file, the words its findings cannot exist without
//! (`RuleMeta::prefilter`: its own list and shared ones of `model::frameworks`, e.g.
//! `NAME_WORDS`, `WEB_WORDS`, `LOG_WORDS`), each with its [`Group`]; [`words`] collects them and
//! the pre-filter is built from nothing else. [`Prefilter::keep`] holds the matching machinery:
//! the shape each group must form. A new rule declares its words; when they need a shape of their
//! own, add a group and its shape here. A rule that declares no word switches the pre-filter off
//! (every file is analysed) and fails the test `every_rule_declares_its_words`. When in doubt, make
//! a word [`Group::Any`]: it only costs speed.
//!
//! Words are matched ASCII-case-insensitively as substrings (so `apiKey`, `API_KEY` and `x-api-key`
//! all contain `apikey`/`api_key`/`api-key`); token formats that have a fixed case (`AKIA`, `eyJ`)
//! and the Python constants `True`/`False` are checked with their case.

pub mod lex;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use lex::{Kind, Token};

pub use crate::finding::prefilter::{Group, Word};

/// Whether `word` makes `key` a secret in a name: a qualifier of `fw::is_key_name` (any word of
/// the name) or of `secrets::is_secret_name` (the word right before `key`). Read from the rules'
/// own lists, so the pre-filter cannot fall behind them.
fn is_key_qualifier(word: &str) -> bool {
    crate::model::secrets::KEY_QUALIFIERS.contains(&word)
        || crate::model::frameworks::KEY_QUALIFIERS.contains(&word)
}

/// The words of the pre-filter: every word the rules declare (`RuleMeta::prefilter`, the rules
/// of [`crate::config::all_meta`], KL001 included), each once, in the rules' order.
pub fn words() -> Vec<Word> {
    let mut out: Vec<Word> = Vec::new();
    for meta in crate::config::all_meta() {
        for word in meta.prefilter.iter().flat_map(|list| list.iter()) {
            if !out.contains(word) {
                out.push(*word);
            }
        }
    }
    out
}

/// The rules that declare no word for the pre-filter (should be none): with one, the pre-filter
/// is off.
pub fn uncovered_rules() -> Vec<&'static str> {
    crate::config::all_meta()
        .into_iter()
        .filter(|m| m.prefilter.iter().all(|list| list.is_empty()))
        .map(|m| m.code)
        .collect()
}

/// A compiled pre-filter.
pub struct Prefilter {
    ac: AhoCorasick,
    /// Per pattern: group, and the exact bytes when case matters.
    patterns: Vec<(Group, Option<Vec<u8>>)>,
    /// Off when a rule is not covered: every file is kept.
    enabled: bool,
    /// The configuration's `extra-secret-names`.
    extra: Vec<String>,
    /// The rules of [`crate::config::all_meta`], in its order (bit `i` of a [`Rules`] mask).
    rules: Vec<&'static str>,
    /// Per pattern: the rules that declare it (a configured secret name: the rules that declare
    /// a [`Group::Name`] word).
    declared_by: Vec<u64>,
}

/// Which rules may have a finding in a file, by their words ([`Prefilter::rules`]).
#[derive(Debug, Clone)]
pub struct Rules {
    codes: Vec<&'static str>,
    mask: u64,
}

impl Rules {
    /// Whether the rule `code` may have a finding (a rule unknown to the pre-filter: yes).
    pub fn may_report(&self, code: &str) -> bool {
        match self.codes.iter().position(|c| *c == code) {
            Some(i) => self.mask & (1 << i) != 0,
            None => true,
        }
    }

    /// The codes of the rules that may have a finding.
    pub fn codes_that_may_report(&self) -> Vec<&'static str> {
        (self.codes.iter().enumerate())
            .filter(|(i, _)| self.mask & (1 << i) != 0)
            .map(|(_, c)| *c)
            .collect()
    }

    /// Every rule may have a finding.
    pub fn all(&self) -> bool {
        self.mask.count_ones() as usize == self.codes.len()
    }

    /// Without the rules of [`FILE_SHAPE_RULES`] when the file is kept by a shape of one
    /// logical line (`reason`: [`is_line_shape`]), unless every rule may report
    /// ([`Prefilter::rules_for`]).
    fn for_reason(mut self, reason: Option<&str>) -> Rules {
        if !self.all() && reason.is_some_and(is_line_shape) {
            for (i, code) in self.codes.iter().enumerate() {
                if FILE_SHAPE_RULES.contains(code) {
                    self.mask &= !(1u64 << i);
                }
            }
        }
        self
    }
}

impl Rules {
    /// Without the rules whose shape does not hold in the file ([`Answer::rules`]).
    fn for_shapes(mut self, shaped: Shaped) -> Rules {
        for (i, code) in self.codes.iter().enumerate() {
            let holds = match LINE_SHAPE_RULES.iter().position(|c| c == code) {
                // KL207 also reads route parameters and the request's query (`request.args[
                // "api_key"]`) across statements: its line shape (a URL literal with a key in
                // its query) is not all it needs, and it is not narrowed (the ecosystem check's
                // zou, changedetection.io and hugpy-server have such findings).
                Some(_) if *code == "KL207" => true,
                // Where a file-wide shape holds, the data flow crosses statements and a one-line
                // rule may read it too: KL205 compares a `Header` parameter (key material from
                // the request) in a line with no secret-like name (`expected == x_signature`).
                // The pre-filter's own claim is per rule: its finding has its line shape or the
                // file has a file-wide shape; so the rule runs where either holds.
                Some(bit) => shaped.line & (1 << bit) != 0 || shaped.file,
                None => !FILE_SHAPE_RULES.contains(code) || shaped.file,
            };
            if !holds {
                self.mask &= !(1u64 << i);
            }
        }
        self
    }
}

/// The shapes that hold in a file ([`Prefilter::shapes`]).
#[derive(Debug, Clone, Copy, Default)]
struct Shaped {
    /// Bit `i`: the shape of `LINE_SHAPE_RULES[i]` holds in a logical line.
    line: u8,
    /// A shape of the whole file holds (a handler shape, a name with a log call or a sink, a
    /// DynamoDB write): the rules of [`FILE_SHAPE_RULES`] may report.
    file: bool,
}

/// What the words of a file say, file-wide (words in code only).
#[derive(Default)]
struct FileWords {
    web: bool,
    config: bool,
    env: bool,
    error: bool,
    request: bool,
    stored: bool,
    query: bool,
    table: bool,
    log: bool,
    http: bool,
    /// A secret-like name in code or in a string.
    name: bool,
    /// A header class (`Header`, `APIKeyHeader`) read in code: a source with a key name only.
    header: bool,
    /// A name the data flow may read as key material ([`names_key_material`]): `token`,
    /// `X-API-Key`, `password`, a security scheme; not `secret_name` nor `hashed_password`.
    key_name: bool,
    settings_class: bool,
    werkzeug: bool,
    mint: bool,
    /// An `except` clause that binds no name (`except ValueError:`): error handling for KL303
    /// only with a traceback call ([`except_may_leak`]).
    except: bool,
    /// An `except` clause that binds the exception to a name (`except E as e:`).
    except_as: bool,
    /// A word of an error handler in code (`errorhandler`, `exception_handler`,
    /// `error_handler`).
    error_handler: bool,
    /// The names an import binds to the environment or its reader (`from os import getenv as
    /// ge`, `from os import environ as E`): an environment read may be written with them
    /// ([`env_read_named`]).
    env_aliases: Vec<Vec<u8>>,
    /// `hmac` in code: KL205 may compare a signature (`hmac.new(…).hexdigest() != sig`), which
    /// it finds by its type, not by a name ([`compares_secret`]).
    hmac: bool,
}

/// Per token: what the words inside it are.
const NAME: u8 = 1;
const DEBUG: u8 = 2;
const TRUE: u8 = 4;
const FALSE: u8 = 8;
const BOOL: u8 = 16;
/// [`names_key_material`] was asked of the token (a token holds several words: `api_token`).
const KEY_NAME_SEEN: u8 = 32;

impl Prefilter {
    /// The pre-filter for the rules' [`words`] plus a configuration's `extra-secret-names` (each a
    /// [`Group::Name`] word).
    pub fn new(extra_secret_names: &[String]) -> Self {
        let mut words: Vec<(String, Group, bool)> = words()
            .iter()
            .map(|w| (w.word.to_string(), w.group, w.case_sensitive))
            .collect();
        let metas = crate::config::all_meta();
        let rules: Vec<&'static str> = metas.iter().map(|m| m.code).collect();
        assert!(rules.len() <= 64, "a rule mask holds 64 rules");
        let declares = |pred: &dyn Fn(&Word) -> bool| -> u64 {
            metas
                .iter()
                .enumerate()
                .filter(|(_, m)| m.prefilter.iter().flat_map(|l| l.iter()).any(pred))
                .fold(0, |mask, (i, _)| mask | (1 << i))
        };
        let mut declared_by: Vec<u64> = words
            .iter()
            .map(|(w, g, case)| {
                declares(&|d: &Word| {
                    d.word == w.as_str() && d.group == *g && d.case_sensitive == *case
                })
            })
            .collect();
        let name_rules = declares(&|d: &Word| d.group == Group::Name);
        for name in extra_secret_names {
            if !name.is_empty() {
                words.push((name.clone(), Group::Name, false));
                declared_by.push(name_rules);
            }
        }
        // A DFA: built once per check, it scans every file once (`answer`).
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
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
            extra: extra_secret_names.to_vec(),
            rules,
            declared_by,
        }
    }

    /// The rules that may have a finding in a file the pre-filter keeps, by the words each rule
    /// declares (`RuleMeta::prefilter`: the words its findings cannot exist without): a rule none
    /// of whose words occurs anywhere in the bytes (comments included, in any case unless the
    /// word's case is fixed) cannot report there, and `keylint check` leaves it out of the
    /// file's analysis (KL101 costs a tenth of a check; a FastAPI app without a secret-like name
    /// anywhere has no KL101 finding). Shapes are not looked at: a word anywhere is enough. Every
    /// rule may report when the pre-filter is off or the file mentions `keylint` (a directive:
    /// which rules ran decides nothing there, but it is not worth reasoning about).
    pub fn rules(&self, bytes: &[u8]) -> Rules {
        let all = self.all_mask();
        let mut mask = 0u64;
        if self.enabled {
            for m in self.ac.find_overlapping_iter(bytes) {
                let p = m.pattern().as_usize();
                if let (_, Some(exact)) = &self.patterns[p] {
                    if &bytes[m.range()] != exact.as_slice() {
                        continue;
                    }
                }
                mask |= self.declared_by[p];
                if mask == all {
                    break;
                }
            }
        }
        self.rules_of(mask)
    }

    /// [`Self::rules`], finer by the shape that keeps the file (`reason`, from [`Self::reason`]):
    /// the rules whose findings need a shape that holds in the file only (the data flow crosses
    /// statements: [`FILE_SHAPE_RULES`]) are left out when the file is kept by a shape of one
    /// logical line only (`"KL101 shape"`, …): none of the shapes that keep a file for them held
    /// (they are looked for first), so they cannot report there. A secret-like name alone
    /// (`password="x"` in a test) is what KL101 needs, not the data flow. Unchanged for a
    /// directive (every rule runs) and for any other reason.
    pub fn rules_for(&self, bytes: &[u8], reason: Option<&str>) -> Rules {
        self.rules(bytes).for_reason(reason)
    }

    /// Whether the file calls a name it imports from a module that may be the project's
    /// (`from .models import Article` then `Article(…)`): its flows may carry key material into
    /// another module, so `keylint check` computes them even when no rule of the file reads
    /// them.
    pub fn calls_project(&self, bytes: &[u8]) -> bool {
        let tokens = lex::lex(bytes);
        project_calls(bytes, &tokens)
    }
}

/// What the pre-filter says of one file ([`Prefilter::answer`]), from one scan of its bytes.
pub struct Answer {
    reason: Option<&'static str>,
    /// [`Prefilter::rules`] of the file.
    rules: Rules,
    /// The shapes that hold in the file, when [`Prefilter::reason`] looked at them.
    shaped: Option<Shaped>,
    /// The file's tokens, when [`Prefilter::reason`] lexed it.
    tokens: Option<Vec<Token>>,
}

impl Answer {
    /// [`Prefilter::reason`].
    pub fn reason(&self) -> Option<&'static str> {
        self.reason
    }

    /// [`Prefilter::rules`] of the file, finer by every shape that holds in it: a rule of
    /// [`LINE_SHAPE_RULES`] is left out unless its own shape holds in one of the file's logical
    /// lines (KL101's also: a token format, a key-taking call, a credential call, a URL with
    /// credentials), and the rules of [`FILE_SHAPE_RULES`] unless a shape of the whole file
    /// holds. Each shape is what its rule's findings cannot exist without (the argument that
    /// skips a file with none of them, rule by rule): a file kept for KL101's `password = "…"`
    /// does not run KL103 because it also has `True` and `environ` somewhere. Without shapes
    /// looked at (a word keeps the file, or the pre-filter is off): [`Prefilter::rules_for`].
    /// Unchanged when every rule may report (a directive).
    pub fn rules(&self) -> Rules {
        match self.shaped {
            Some(shaped) if !self.rules.all() => self.rules.clone().for_shapes(shaped),
            _ => self.rules.clone().for_reason(self.reason),
        }
    }

    /// [`Prefilter::calls_project`], from the tokens already lexed when there are any.
    pub fn calls_project(&self, bytes: &[u8]) -> bool {
        match &self.tokens {
            Some(tokens) => project_calls(bytes, tokens),
            None => project_calls(bytes, &lex::lex(bytes)),
        }
    }
}

impl Prefilter {
    /// Whether the pre-filter is on (every rule covered).
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// Whether the file may have a finding and must be analysed.
    pub fn keep(&self, bytes: &[u8]) -> bool {
        self.reason(bytes).is_some()
    }

    /// Why the file must be analysed (`None`: it cannot have a finding): the first shape found,
    /// e.g. `"word"`, `"web app with config"`, `"name with a sink"`, `"KL101 shape"`.
    pub fn reason(&self, bytes: &[u8]) -> Option<&'static str> {
        self.answer(bytes).reason
    }

    /// The whole answer for a file from one scan of its bytes: [`Self::reason`], the rule mask
    /// of [`Self::rules`] (collected from the same matches) and the tokens, when the shapes were
    /// looked at, for [`Answer::calls_project`].
    pub fn answer(&self, bytes: &[u8]) -> Answer {
        let all = self.all_mask();
        if !self.enabled {
            return Answer {
                reason: Some("pre-filter off"),
                rules: self.rules_of(all),
                shaped: None,
                tokens: None,
            };
        }
        // Step 1: the words, and the ones that keep the file alone. Every match counts for the
        // rules that declare it ([`Self::rules`]); once a word keeps the file, the scan goes on
        // for them only.
        let mut hits: Vec<(usize, usize, Group)> = Vec::new();
        let mut mask = 0u64;
        let mut kept: Option<&'static str> = None;
        for m in self.ac.find_overlapping_iter(bytes) {
            let p = m.pattern().as_usize();
            let (group, exact) = &self.patterns[p];
            if let Some(exact) = exact {
                if &bytes[m.range()] != exact.as_slice() {
                    continue;
                }
            }
            mask |= self.declared_by[p];
            if kept.is_some() {
                if mask == all {
                    break;
                }
                continue;
            }
            match group {
                // A DynamoDB write is a method call (`table.put_item(…)`): checked in step 2
                // (`def update_item(…)`, a route of every FastAPI tutorial, is none).
                Group::Any if is_dynamodb_write_word(&bytes[m.range()]) => {
                    hits.push((m.start(), m.end(), Group::Any))
                }
                Group::Any => kept = Some("word"),
                Group::Key if !qualified_key_at(bytes, m.start(), m.end()) => {}
                g => hits.push((m.start(), m.end(), *g)),
            }
        }
        let mut tokens = None;
        let mut shaped = None;
        let reason = if kept.is_some() {
            kept
        } else if hits.is_empty() {
            None
        } else {
            let lexed = lex::lex(bytes);
            let (reason, shapes) = self.shapes(bytes, &hits, &lexed);
            tokens = Some(lexed);
            shaped = Some(shapes);
            reason
        };
        Answer {
            reason,
            rules: self.rules_of(mask),
            shaped,
            tokens,
        }
    }

    /// The mask of every rule.
    fn all_mask(&self) -> u64 {
        if self.rules.len() == 64 {
            u64::MAX
        } else {
            (1u64 << self.rules.len()) - 1
        }
    }

    /// [`Rules`] of the rules declaring the words found (`mask`): all of them for a directive.
    fn rules_of(&self, mask: u64) -> Rules {
        let directive = self
            .rules
            .iter()
            .position(|c| *c == crate::config::UNUSED_SUPPRESSION.code)
            .map_or(0, |i| 1u64 << i);
        let mask = if !self.enabled || mask & directive != 0 {
            self.all_mask()
        } else {
            mask
        };
        Rules {
            codes: self.rules.clone(),
            mask,
        }
    }

    /// Step 2 of [`Self::answer`]: the shapes the words (`hits`) form in the file's `tokens`:
    /// the reason (the first shape found, in the order of the checks) and every shape that holds
    /// ([`Shaped`], for [`Answer::rules`]; all of them are looked for, which costs a scan of the
    /// tokens of a kept file, little next to its parse).
    fn shapes(
        &self,
        bytes: &[u8],
        hits: &[(usize, usize, Group)],
        tokens: &[Token],
    ) -> (Option<&'static str>, Shaped) {
        let mut marks = vec![0u8; tokens.len()];
        let mut file = FileWords::default();
        // A shape that keeps the file at its word: KL101's (a token format, a key-taking call, a
        // credential call, a URL with credentials) or a DynamoDB write (a file shape).
        let mut early: Option<&'static str> = None;
        let mut shaped = Shaped::default();
        for &(start, end, group) in hits {
            // The token the word starts in (`app.` starts in the identifier `app`).
            let i = tokens.partition_point(|t| (t.end as usize) <= start);
            let Some(token) = tokens.get(i).filter(|t| (t.start as usize) <= start) else {
                continue; // in a comment or between tokens
            };
            let code = token.kind == Kind::Ident;
            let named = token.kind != Kind::Op;
            match group {
                Group::Name | Group::Key if named => {
                    marks[i] |= NAME;
                    file.name = true;
                    file.key_name = file.key_name
                        || (marks[i] & KEY_NAME_SEEN == 0 && {
                            marks[i] |= KEY_NAME_SEEN;
                            names_key_material(bytes, token, &self.extra)
                        });
                }
                // Not the module of a `from … import` (`from django.contrib.auth import
                // get_user_model`), which binds no name `auth`.
                Group::Auth
                    if code
                        && token.text(bytes) == b"auth"
                        && !imported_from_module(bytes, tokens, i) =>
                {
                    marks[i] |= NAME;
                    file.name = true;
                    file.key_name = true;
                }
                Group::Debug if named => marks[i] |= DEBUG,
                Group::Format if token.kind == Kind::Str && format_may_match(bytes, tokens, i) => {
                    shaped.line |= KL101_BIT;
                    early.get_or_insert("token format");
                }
                Group::KeyCall if code && key_call_named(bytes, token, &bytes[start..end]) => {
                    file.hmac |= bytes[start..end].eq_ignore_ascii_case(b"hmac");
                    shaped.line |= KL101_BIT;
                    early.get_or_insert("key-taking call");
                }
                Group::Login
                    if code
                        && token.text(bytes) == b"login"
                        && i > 0
                        && tokens[i - 1].is_op(bytes, b".")
                        && tokens.get(i + 1).is_some_and(|n| n.is_op(bytes, b"("))
                        && second_argument_has_string(bytes, tokens, i) =>
                {
                    shaped.line |= KL101_BIT;
                    early.get_or_insert("credential call");
                }
                // `scheme://user:password@host` in a string literal, as `secrets::url_credentials`
                // reads it (escapes are not decoded, so `\x40` is no `@`); a literal with
                // interpolation or escapes, or one that goes on in the next, may hold one.
                Group::Url
                    if token.kind == Kind::Str && url_may_have_credentials(bytes, tokens, i) =>
                {
                    shaped.line |= KL101_BIT;
                    early.get_or_insert("URL with credentials");
                }
                // A DynamoDB write: the method name of an attribute (`x.put_item`, as
                // `dataflow::local` reads a write), anywhere in it.
                Group::Any if code && i > 0 && tokens[i - 1].is_op(bytes, b".") => {
                    shaped.file = true;
                    early.get_or_insert("DynamoDB write");
                }
                Group::True if code && token.text(bytes) == b"True" => marks[i] |= TRUE,
                Group::Flag if code && token.text(bytes) == b"False" => marks[i] |= FALSE,
                Group::Flag
                    if code
                        && token.text(bytes) == b"bool"
                        && tokens.get(i + 1).is_some_and(|n| n.is_op(bytes, b"(")) =>
                {
                    marks[i] |= BOOL
                }
                _ if !code => {}
                Group::Env => file.env = true,
                // The module or method name itself (`quartet` is no Quart app).
                Group::Web => {
                    file.web |= token.text(bytes).eq_ignore_ascii_case(&bytes[start..end])
                }
                Group::App => {
                    file.web |= token.text(bytes) == b"app"
                        && token.end as usize == end - 1
                        && first_of_line(tokens, i).is_op(bytes, b"@");
                }
                // A base class (`class S(BaseSettings):`).
                Group::SettingsClass => {
                    file.settings_class |= token.text(bytes).ends_with(b"Settings")
                        && token.depth > 0
                        && first_of_line(tokens, i).text(bytes) == b"class";
                }
                // Not pydantic's model configuration (`model_config = ConfigDict(…)`, `class
                // Config:` in a model), which no view returns as the app's configuration, nor a
                // module of a `from … import`. A settings class keeps its `BaseSettings`,
                // `SettingsConfigDict`, `settings`.
                Group::Config => {
                    let text = token.text(bytes);
                    let model_config = matches!(text, b"model_config" | b"ConfigDict")
                        || (text == b"Config" && i > 0 && tokens[i - 1].text(bytes) == b"class");
                    file.config |= !model_config && !imported_from_module(bytes, tokens, i)
                }
                // `except` the keyword (an `except` block), not a part of a name
                // (`HTTPException`, imported by most FastAPI apps, raises nothing caught).
                // KL303 reads the exception through a name: the alias of `except E as e` (an
                // `as` in the clause's logical line) or an error handler's parameter (its
                // words: `errorhandler`, `exception_handler`, `error_handler`); without one,
                // only a traceback call leaks ([`except_may_leak`]).
                Group::Error => {
                    if !bytes[start..end].eq_ignore_ascii_case(b"except") {
                        file.error_handler = true;
                    } else if token.text(bytes) == b"except" {
                        if names_exception(bytes, tokens, i) {
                            file.except_as = true;
                        } else {
                            file.except = true;
                        }
                    }
                }
                // The request's sources are read from a name: the request (Flask's `request`, a
                // `Request` parameter, a parameter named `request`: `model::frameworks::
                // is_request_class`, `is_flask_request`) or a header class (`Header()`,
                // `APIKeyHeader`); `x.headers` is one only on the request. So neither a keyword
                // argument of a call (`client.get(u, headers=h)`: headers sent, not read), a
                // module of a `from … import` (`from docs_src.header_params import app`), nor a
                // name with `header` but neither `request` nor `Header` (`response.headers`)
                // reads one.
                //
                // A header class alone (`user_agent: str = Header()`, `Annotated[CommonHeaders,
                // Header()]`) is a source only for a parameter or field named like a key
                // (`dataflow::local::handler`): it counts with a name the data flow reads as one
                // ([`FileWords::key_name`]); the request counts alone (its headers hold any key).
                Group::Request => {
                    let text = token.text(bytes);
                    let request = text.windows(7).any(|w| w.eq_ignore_ascii_case(b"request"));
                    let named = request || memchr::memmem::find(text, b"Header").is_some();
                    let read = named
                        && !keyword_argument(bytes, tokens, i)
                        && !imported_from_module(bytes, tokens, i);
                    if request {
                        file.request |= read;
                    } else {
                        file.header |= read;
                    }
                }
                // `get_item` and `scan` are read as methods (`table.get_item(…)`, `t.scan()`,
                // as `dataflow::local` reads a DynamoDB or PynamoDB read), not a function name
                // (`def get_item(…)`, a route of the FastAPI tutorials) nor a part of one
                // (`scanner`); a paginator anywhere.
                Group::Stored => {
                    let after_dot = i > 0 && tokens[i - 1].is_op(bytes, b".");
                    let word = &bytes[start..end];
                    file.stored |= if word.eq_ignore_ascii_case(b"get_item") {
                        after_dot
                    } else if word.eq_ignore_ascii_case(b"scan") {
                        after_dot && token.text(bytes) == b"scan"
                    } else {
                        true
                    }
                }
                // `query` is a method too (`table.query(…)`), not FastAPI's `Query(…)`.
                Group::Query => {
                    file.query |=
                        token.text(bytes) == b"query" && i > 0 && tokens[i - 1].is_op(bytes, b".")
                }
                Group::Table => file.table = true,
                Group::Log => file.log = true,
                Group::LogName => {
                    let t = token.text(bytes).to_ascii_lowercase();
                    file.log |= matches!(t.as_slice(), b"log" | b"_log");
                }
                Group::Http => file.http |= imports_http_client(bytes, tokens, i),
                Group::Werkzeug => file.werkzeug = true,
                Group::Mint => file.mint = true,
                _ => {}
            }
        }
        if file.env {
            file.env_aliases = env_aliases(bytes, tokens);
        }
        let stored = file.stored || (file.query && file.table);
        // Whether a function of the file may answer a request (`dataflow`'s `FnFlow::responds`:
        // a route, error handler or middleware): what it returns reaches the client (KL203's
        // `Return` sinks, KL302's views, KL303's route and error handler scopes). Elsewhere
        // only an `HTTPException` raised (KL203's `Detail`, KL303's `raise_only`) does.
        let handlers = if file.web
            && (file.config
                || file.error_handler
                || file.except_as
                || file.except
                || file.request
                || file.header
                || file.name)
        {
            handlers(bytes, tokens)
        } else {
            Handlers::default()
        };
        let responds = handlers.route || handlers.error;
        // KL303 reads the exception in an error handler (its parameters), or through a name
        // (`except E as e`) or a traceback call in an `except` block of a route or middleware,
        // or of any function that raises an `HTTPException` (or a response) with it.
        let exception = file.except_as || (file.except && except_may_leak(bytes, tokens));
        file.error = file.web
            && (handlers.error
                || (exception && (handlers.route || raises_to_client(bytes, tokens))));
        // The request's key material reaches a rule through a name read as one
        // ([`names_key_material`]: `request.headers["X-API-Key"]`, a body field, a header
        // parameter, a model's field), the whole headers
        // (`request.headers`: `Kind::Headers`, the only kind KL203 and KL201 take from the
        // request without a name) returned or put in an `HTTPException`'s detail (a DynamoDB
        // write keeps the file anyway), a log call (KL202 logs the whole request or its body),
        // or another module (a call or an instance of an imported class): without any of them
        // a handler that reads the request (`request.url`, `request.scope`) cannot report.
        let request = file.web
            && (file.request || (file.header && file.key_name))
            && (file.key_name
                || (reads_headers(bytes, tokens)
                    && (responds || raises_http_exception(bytes, tokens)))
                || (file.log && may_call_log(bytes, tokens))
                || uses_project_imports(bytes, tokens));
        // A secret-like name keeps a web app when the data flow can read it as key material in
        // a handler or a dependency, or send it to another module of the project: a name it
        // reads as a key ([`names_key_material`]) in a file with handlers, FastAPI parameter
        // markers or a call of a name imported from outside the frameworks
        // ([`handlers_or_project_calls`]). Elsewhere (a test that imports the app and calls it
        // through a test client, a model with a `secret_name` field) the name is read as in any
        // other module, below.
        //
        // Without a function that answers (no `Return` sink), the name must meet a sink of
        // another kind: an `HTTPException`'s detail, a log call, an HTTP client (a DynamoDB
        // write keeps the file anyway), or another module.
        let web_name = file.web
            && file.name
            && file.key_name
            && handlers_or_project_calls(bytes, tokens)
            && (responds
                || raises_http_exception(bytes, tokens)
                || (file.log && may_call_log(bytes, tokens))
                || file.http
                || uses_project_imports(bytes, tokens));
        // Route and error handlers: what they expose (KL302, KL303, KL304) and the sources that
        // only exist in them (header and query parameters, request bodies, the request, stored
        // items), which reach every sink of the data flow.
        // The configuration is exposed by a view only (KL302), which the file must define; a
        // configuration class loaded (`app.config.from_object(DevConfig)`, in an app factory
        // too) is what KL301 reads in the class's module, through this one's summary.
        let config = file.web && file.config && (responds || loads_config(bytes, tokens));
        let mut file_reason = None;
        if file.web && (config || file.env || file.error || request || stored || web_name) {
            // The reason names the first of them found, in this order.
            file_reason = Some(if web_name {
                "web app with a secret-like name"
            } else if config {
                "web app with config"
            } else if file.env {
                "web app with the environment"
            } else if file.error {
                "web app with error handling"
            } else if stored {
                "web app with stored items"
            } else {
                "web app with the request"
            });
        }
        // Outside handlers, key material comes from the environment (a variable named like a key,
        // as a string literal: `os.environ["API_KEY"]`) or a settings class.
        // A key known by its name only (a parameter `api_key`, `self.token`,
        // `config["SECRET_KEY"]`) is a source wherever a log call can take it (KL202).
        //
        // The name must be one the data flow reads as key material ([`FileWords::key_name`]:
        // every source KL202 takes outside handlers is named so: a key-named variable,
        // parameter, attribute, subscript or environment variable, a model's secret-named field;
        // not `secret_name`), or a minted key: a minting call (`uuid4()`, its word `uuid`) bound
        // to a name [`minted_key_named`] finds (`dataflow::local`'s `minted_as` reads the name
        // of the binding with `fw::is_minted_key_name`): a `UUIDField` and a log call are none.
        if file_reason.is_none()
            && (file.key_name || (file.mint && minted_key_named(bytes, tokens)))
            && file.log
            && may_call_log(bytes, tokens)
        {
            file_reason = Some("name with a log call");
        }
        if file_reason.is_none() && file.name && file.http {
            let env_key = file.env
                && tokens.iter().zip(&marks).any(|(t, m)| {
                    m & NAME != 0
                        && t.kind == Kind::Str
                        && names_key(bytes, t, crate::model::frameworks::is_key_name)
                });
            if env_key || file.settings_class {
                file_reason = Some("name with a sink");
            }
        }
        shaped.file |= file_reason.is_some();
        let (line_reason, line) =
            lines_may_have_findings(bytes, tokens, &marks, &file, &self.extra);
        shaped.line |= line;
        (early.or(file_reason).or(line_reason), shaped)
    }
}

/// The rules whose findings need a shape of the whole file ([`Prefilter::reason`] looks for
/// them before the shapes of one logical line): the data-flow rules (KL201–KL204, KL206: a
/// source of key material and a sink, or a call into the project) and the rules of handlers
/// (KL302, KL303, KL304). KL205 and KL207 are syntactic (one line), as are KL101, KL102, KL103
/// and KL301.
pub const FILE_SHAPE_RULES: &[&str] = &[
    "KL201", "KL202", "KL203", "KL204", "KL206", "KL302", "KL303", "KL304",
];

/// The rules whose findings need a shape of one logical line ([`lines_may_have_findings`]),
/// each its own (bit `i` of [`Shaped::line`]); KL101's shapes also keep a file at its word (a
/// token format, a key-taking call, a credential call, a URL with credentials). With
/// [`FILE_SHAPE_RULES`] and KL001 (the directive, which runs every rule), every rule.
pub const LINE_SHAPE_RULES: &[&str] = &["KL205", "KL102", "KL207", "KL103", "KL301", "KL101"];

/// The bit of KL101 in [`Shaped::line`].
const KL101_BIT: u8 = 1 << 5;

/// Whether `reason` ([`Prefilter::reason`]) is a shape of one logical line
/// ([`lines_may_have_findings`]): `"KL101 shape"`, `"KL205 shape"`, ….
pub fn is_line_shape(reason: &str) -> bool {
    reason.starts_with("KL") && reason.ends_with(" shape")
}

/// Whether a token with a secret-like word may name key material as the data flow and the rules
/// that follow it read names: a key (`fw::is_key_name`, `is_minted_key_name`), a stored
/// attribute that holds one or its hash (`is_sensitive_attribute`), a secret
/// (`secrets::is_secret_name`, with the configured names), an AWS credential, or a bearer
/// security scheme (`HTTPBearer`, `OAuth2PasswordBearer`: `fw::is_key_scheme`). A string with
/// escapes or interpolation may spell any. Not: `secret_name`, `hashed_password`, `num_tokens`.
fn names_key_material(bytes: &[u8], t: &Token, extra: &[String]) -> bool {
    use crate::model::{frameworks as fw, secrets};
    names_key(bytes, t, |n| {
        fw::is_key_name(n)
            || fw::is_minted_key_name(n)
            || fw::is_sensitive_attribute(n)
            || fw::is_aws_credential_name(n)
            || secrets::is_secret_name(n, extra)
            || n.to_ascii_lowercase().contains("bearer")
    })
}

/// Whether a web app's file may hold what makes a secret-like name a source or a sink only in
/// web code, or may send it to another module of the project:
/// * a route or error handler: a decorator `@….route(`, `@….get(`, … (the methods of
///   `model::facts::handler_kind_of_decorator`), or a registration call (`add_url_rule`,
///   `add_api_route`, `add_route`, `register_error_handler`, `add_exception_handler`);
/// * a FastAPI parameter marker (`Depends`, `Security`, `Header`, `Cookie`, `Query`, `Form`,
///   `Body`, `File`): a dependency's parameters are sources and its value goes to the handlers;
/// * a call of a name imported from a module that is not a framework, a test tool or the
///   standard library (`from app.crud import save_key` then `save_key(…)` or
///   `crud.save_key(…)`): the project model follows key material into it.
fn handlers_or_project_calls(bytes: &[u8], tokens: &[Token]) -> bool {
    calls_into(bytes, tokens, true)
}

/// The last of [`handlers_or_project_calls`]: a call of a name imported from a module that may
/// be the project's.
fn project_calls(bytes: &[u8], tokens: &[Token]) -> bool {
    calls_into(bytes, tokens, false)
}

/// [`handlers_or_project_calls`], handlers and parameter markers only when `handlers`.
fn calls_into(bytes: &[u8], tokens: &[Token], handlers: bool) -> bool {
    if handlers
        && tokens.iter().enumerate().any(|(k, t)| {
            t.kind == Kind::Ident
                && (matches!(
                    t.text(bytes),
                    b"add_url_rule"
                        | b"add_api_route"
                        | b"add_route"
                        | b"register_error_handler"
                        | b"add_exception_handler"
                        | b"Depends"
                        | b"Security"
                        | b"Header"
                        | b"Cookie"
                        | b"Query"
                        | b"Form"
                        | b"Body"
                        | b"File"
                ) || decorates_handler(bytes, tokens, k, true))
        })
    {
        return true;
    }
    let imported = match project_imports(bytes, tokens) {
        ProjectImports::Star => return true,
        ProjectImports::Names(names) if names.is_empty() => return false,
        ProjectImports::Names(names) => names,
    };
    let ident = |k: usize| {
        tokens
            .get(k)
            .filter(|t| t.kind == Kind::Ident)
            .map(|t| t.text(bytes))
    };
    let is_op = |k: usize, op: &[u8]| tokens.get(k).is_some_and(|t| t.is_op(bytes, op));
    // A call of an imported name: `name(` or `name.attr(`.
    tokens.iter().enumerate().any(|(k, t)| {
        t.kind == Kind::Ident
            && !is_op(k.wrapping_sub(1), b".")
            && imported.contains(&t.text(bytes))
            && (is_op(k + 1, b"(")
                || (is_op(k + 1, b".") && ident(k + 2).is_some() && is_op(k + 3, b"(")))
    })
}

/// Whether the file uses, anywhere outside its imports, a name it imports from a module that
/// may be the project's ([`project_imports`]): called (`save(request)`, `store.save(…)`), or
/// not (`repo: Repo = Depends(get_repo)`, then `repo.save(request)`; a class attribute set to an
/// imported instance): the project model may carry the file's values into that module. A
/// superset of [`project_calls`].
fn uses_project_imports(bytes: &[u8], tokens: &[Token]) -> bool {
    let imported = match project_imports(bytes, tokens) {
        ProjectImports::Star => return true,
        ProjectImports::Names(names) => names,
    };
    !imported.is_empty()
        && tokens.iter().enumerate().any(|(k, t)| {
            t.kind == Kind::Ident
                && !(k > 0 && tokens[k - 1].is_op(bytes, b"."))
                && imported.contains(&t.text(bytes))
                && !matches!(first_of_line(tokens, k).text(bytes), b"import" | b"from")
        })
}

/// The names a file's imports bind from modules that may be the project's (not
/// [`external_module`]s), or any name (`from m import *`).
enum ProjectImports<'a> {
    Names(Vec<&'a [u8]>),
    Star,
}

fn project_imports<'a>(bytes: &'a [u8], tokens: &[Token]) -> ProjectImports<'a> {
    let ident = |k: usize| {
        tokens
            .get(k)
            .filter(|t| t.kind == Kind::Ident)
            .map(|t| t.text(bytes))
    };
    let is_op = |k: usize, op: &[u8]| tokens.get(k).is_some_and(|t| t.is_op(bytes, op));
    let mut imported: Vec<&[u8]> = Vec::new();
    for (k, t) in tokens.iter().enumerate() {
        if t.kind != Kind::Ident
            || !matches!(t.text(bytes), b"import" | b"from")
            || !std::ptr::eq(first_of_line(tokens, k), t)
        {
            continue;
        }
        // `import a.b as c`, `import a, b`, `from a.b import c as d, e`, `from . import x`.
        let line = t.line;
        let stmt: Vec<usize> = (k..tokens.len())
            .take_while(|&j| tokens[j].line == line)
            .collect();
        let from = t.text(bytes) == b"from";
        let module = ident(k + 1);
        if from && module.is_some_and(external_module) {
            continue;
        }
        let Some(at) = stmt
            .iter()
            .position(|&j| ident(j) == Some(b"import".as_slice()))
        else {
            continue;
        };
        // Each item (split at `,`): `a.b as c` binds `c`; `import a.b` binds `a`;
        // `from m import x` binds `x`; `from m import *` binds any name.
        for item in stmt[at + 1..].split(|&j| is_op(j, b",")) {
            let names: Vec<&[u8]> = item.iter().filter_map(|&j| ident(j)).collect();
            if from && item.iter().any(|&j| is_op(j, b"*")) {
                return ProjectImports::Star;
            }
            let (Some(&first), Some(&last)) = (names.first(), names.last()) else {
                continue;
            };
            if !from && external_module(first) {
                continue;
            }
            let aliased = names.len() > 1 && names[names.len() - 2] == b"as";
            imported.push(if aliased || from { last } else { first });
        }
    }
    ProjectImports::Names(imported)
}

/// Whether the file may read the request's headers as the data flow does (`Kind::Headers`, from
/// the field `headers` of the request: `dataflow::local::fields`' `project`): the attribute
/// `.headers` (`request.headers`, `req.headers.get(…)`) or the string `"headers"`
/// (`request["headers"]`); not the keyword argument `headers=` of a call (headers sent, not
/// read), nor a docstring that mentions them.
fn reads_headers(bytes: &[u8], tokens: &[Token]) -> bool {
    tokens.iter().enumerate().any(|(k, t)| match t.kind {
        Kind::Str => t.content(bytes) == b"headers",
        Kind::Ident => t.text(bytes) == b"headers" && k > 0 && tokens[k - 1].is_op(bytes, b"."),
        Kind::Op => false,
    })
}

/// Whether the `except` keyword `tokens[i]` binds the exception to a name (`except E as e:`,
/// `except (A, B) as e:`): an `as` after it in its logical line.
fn names_exception(bytes: &[u8], tokens: &[Token], i: usize) -> bool {
    let line = tokens[i].line;
    tokens[i + 1..]
        .iter()
        .take_while(|t| t.line == line)
        .any(|t| t.kind == Kind::Ident && t.text(bytes) == b"as")
}

/// Whether an `except` block that binds no name may send the error's details to the client as
/// KL303 reads them: only through a traceback call (`frameworks::is_traceback_text`:
/// `traceback.format_exc()`), whose module `traceback` the file names (`import traceback`,
/// `from traceback import format_exc`; a string too: `importlib.import_module("traceback")`).
fn except_may_leak(bytes: &[u8], tokens: &[Token]) -> bool {
    tokens.iter().any(|t| match t.kind {
        Kind::Ident => t.text(bytes) == b"traceback",
        Kind::Str => memchr::memmem::find(t.text(bytes), b"traceback").is_some(),
        Kind::Op => false,
    })
}

/// Whether the identifier `tokens[k]` is the method of a handler decorator as
/// `model::facts::handler_kind_of_decorator` reads one (`@app.get(…)`, `@bp.route`): a route
/// method, or with `errors` an error handler's, after a `.` in a line that starts with `@`.
fn decorates_handler(bytes: &[u8], tokens: &[Token], k: usize, errors: bool) -> bool {
    let route = matches!(
        tokens[k].text(bytes),
        b"route"
            | b"get"
            | b"post"
            | b"put"
            | b"patch"
            | b"delete"
            | b"head"
            | b"options"
            | b"api_route"
            | b"websocket"
    );
    let error = matches!(
        tokens[k].text(bytes),
        b"errorhandler" | b"exception_handler" | b"app_errorhandler"
    );
    tokens[k].kind == Kind::Ident
        && (route || (errors && error))
        && k > 0
        && tokens[k - 1].is_op(bytes, b".")
        && first_of_line(tokens, k).is_op(bytes, b"@")
}

/// What functions of the file may answer a request as `dataflow::local::analyze` and
/// `model::Model::handler_kind` read them ([`Handlers`]): a route or error handler by its
/// decorator (`model::facts::handler_kind_of_decorator`: the method `route`, `get`, …,
/// `errorhandler`, `exception_handler` of what the model resolves) or a middleware
/// (`middleware`, `before_request`), or a function registered by name (`add_url_rule`,
/// `add_api_route`, `add_route`, `register_error_handler`, `add_exception_handler`:
/// `model::collect`'s `registered_handlers`, matched against the names of the file's own
/// functions).
///
/// A method name counts in a decorator's line (`@app.get(…)`, `@get(…)` after `from app import
/// get`), as a name an import binds, or as an attribute that is not called (`get = app.get`: a
/// decorator written through an alias, which the model resolves to the method). A registration
/// counts when the argument that names the view or handler (as `collect_registration` reads
/// it: the second positional argument, the third of `add_url_rule`, or `view_func=` /
/// `endpoint=`) names a function the file defines (`app.add_url_rule("/", view_func=index)`);
/// `self.add_api_route(path, func)` with a parameter registers nothing of the module.
fn handlers(bytes: &[u8], tokens: &[Token]) -> Handlers {
    const ROUTES: &[&[u8]] = &[
        b"route",
        b"get",
        b"post",
        b"put",
        b"patch",
        b"delete",
        b"head",
        b"options",
        b"api_route",
        b"websocket",
        b"middleware",
        b"before_request",
        b"before_app_request",
    ];
    const ERRORS: &[&[u8]] = &[b"errorhandler", b"exception_handler", b"app_errorhandler"];
    let is_op = |k: usize, op: &[u8]| tokens.get(k).is_some_and(|t| t.is_op(bytes, op));
    let mut found = Handlers::default();
    let mut defs: Option<Vec<&[u8]>> = None;
    for (k, t) in tokens.iter().enumerate() {
        if t.kind != Kind::Ident {
            continue;
        }
        let text = t.text(bytes);
        let (route, error) = (ROUTES.contains(&text), ERRORS.contains(&text));
        if route || error {
            let first = first_of_line(tokens, k);
            let imported = matches!(first.text(bytes), b"import" | b"from") && {
                let line = t.line;
                tokens[..k]
                    .iter()
                    .rev()
                    .take_while(|p| p.line == line)
                    .any(|p| p.kind == Kind::Ident && p.text(bytes) == b"import")
            };
            if first.is_op(bytes, b"@")
                || imported
                || (k > 0 && is_op(k - 1, b".") && !is_op(k + 1, b"("))
            {
                found.route |= route;
                found.error |= error;
            }
        } else if is_op(k + 1, b"(") {
            let (position, error) = match text {
                b"add_url_rule" => (2, false),
                b"add_api_route" | b"add_route" => (1, false),
                b"register_error_handler" | b"add_exception_handler" => (1, true),
                _ => continue,
            };
            if (error && found.error) || (!error && found.route) {
                continue;
            }
            let defs = defs.get_or_insert_with(|| {
                (1..tokens.len())
                    .filter(|&j| {
                        tokens[j].kind == Kind::Ident
                            && tokens[j - 1].kind == Kind::Ident
                            && tokens[j - 1].text(bytes) == b"def"
                    })
                    .map(|j| tokens[j].text(bytes))
                    .collect()
            });
            // The arguments: the tokens after `(` one level deeper, split at its commas.
            let depth = tokens[k + 1].depth;
            let line = t.line;
            let args: Vec<usize> = (k + 2..tokens.len())
                .take_while(|&j| tokens[j].line == line && tokens[j].depth > depth)
                .collect();
            let mut positional = 0;
            let registers = args
                .split(|&j| tokens[j].depth == depth + 1 && is_op(j, b","))
                .any(|arg| {
                    let named = |a: &[usize]| {
                        a.len() == 1
                            && tokens[a[0]].kind == Kind::Ident
                            && defs.contains(&tokens[a[0]].text(bytes))
                    };
                    match arg {
                        [kw, eq, value @ ..] if is_op(*eq, b"=") => {
                            matches!(tokens[*kw].text(bytes), b"view_func" | b"endpoint")
                                && named(value)
                        }
                        _ => {
                            positional += 1;
                            positional == position + 1 && named(arg)
                        }
                    }
                });
            if registers {
                found.route |= !error;
                found.error |= error;
            }
        }
        if found.route && found.error {
            break;
        }
    }
    found
}

/// What [`handlers`] finds in a file.
#[derive(Default, Clone, Copy)]
struct Handlers {
    /// A route handler or a middleware may be defined (`FnFlow::is_route`).
    route: bool,
    /// An error handler may be defined (`HandlerKind::ErrorHandler`).
    error: bool,
}

/// Whether the file loads a configuration class (`app.config.from_object(…)`:
/// `model::collect`'s `config_loads`), which KL301 reads in the class's module.
fn loads_config(bytes: &[u8], tokens: &[Token]) -> bool {
    tokens
        .iter()
        .any(|t| t.kind == Kind::Ident && t.text(bytes) == b"from_object")
}

/// Whether the file may raise an `HTTPException` (`dataflow::local::calls`' `Detail` sink: a
/// name that resolves to FastAPI's or Starlette's, imported under its name or aliased in an
/// import that names it).
fn raises_http_exception(bytes: &[u8], tokens: &[Token]) -> bool {
    tokens
        .iter()
        .any(|t| t.kind == Kind::Ident && t.text(bytes).ends_with(b"HTTPException"))
}

/// Whether the file may raise what KL303 reads as reaching the client from any function (its
/// `raise_only` scopes' sink): `raise` of a call of a name ending in `HTTPException` or
/// `Response` (`raise HTTPException(…)`, `raise web.JSONResponse(…)`).
fn raises_to_client(bytes: &[u8], tokens: &[Token]) -> bool {
    (0..tokens.len()).any(|k| {
        if tokens[k].kind != Kind::Ident || tokens[k].text(bytes) != b"raise" {
            return false;
        }
        // The raised callee: a dotted name, then `(`.
        let mut j = k + 1;
        while tokens
            .get(j)
            .is_some_and(|t| t.kind == Kind::Ident || t.is_op(bytes, b"."))
        {
            j += 1;
        }
        j > k + 1
            && tokens.get(j).is_some_and(|t| t.is_op(bytes, b"("))
            && tokens[j - 1].kind == Kind::Ident
            && {
                let callee = tokens[j - 1].text(bytes);
                callee.ends_with(b"HTTPException") || callee.ends_with(b"Response")
            }
    })
}

/// A module (its first identifier) that is surely not the project's: a web framework, a test
/// tool or a standard library module the fastapi and Flask apps import.
fn external_module(first: &[u8]) -> bool {
    matches!(
        first,
        b"fastapi"
            | b"starlette"
            | b"flask"
            | b"quart"
            | b"werkzeug"
            | b"pydantic"
            | b"pydantic_settings"
            | b"typing"
            | b"typing_extensions"
            | b"pytest"
            | b"dirty_equals"
            | b"inline_snapshot"
            | b"sqlmodel"
            | b"sqlalchemy"
            | b"__future__"
            | b"importlib"
            | b"os"
            | b"sys"
            | b"json"
            | b"re"
            | b"enum"
            | b"uuid"
            | b"datetime"
            | b"dataclasses"
            | b"collections"
            | b"functools"
            | b"contextlib"
            | b"asyncio"
            | b"anyio"
            | b"unittest"
            | b"pathlib"
            | b"decimal"
            | b"abc"
            | b"ast"
            | b"base64"
            | b"copy"
            | b"csv"
            | b"hashlib"
            | b"hmac"
            | b"http"
            | b"inspect"
            | b"io"
            | b"itertools"
            | b"logging"
            | b"math"
            | b"operator"
            | b"random"
            | b"shutil"
            | b"string"
            | b"subprocess"
            | b"tempfile"
            | b"textwrap"
            | b"threading"
            | b"time"
            | b"types"
            | b"warnings"
            | b"weakref"
    )
}

/// Whether `tokens[k]`, a called name (`warnings.warn`), is called with constants only: its
/// arguments are plain string literals (no `f`-string, nothing joined with `%` or `+`), numbers,
/// `True`, `False`, `None`, keyword names and names of warning classes (`…Warning`), so nothing
/// the data flow follows reaches the call. Not called (`w = warnings.warn`): false.
fn logs_constants(bytes: &[u8], tokens: &[Token], k: usize) -> bool {
    if !tokens.get(k + 1).is_some_and(|t| t.is_op(bytes, b"(")) {
        return false;
    }
    for (j, t) in tokens.iter().enumerate().skip(k + 2) {
        let text = t.text(bytes);
        let ok = match t.kind {
            Kind::Str => !t.formatted,
            Kind::Op => match text {
                b")" => return true,
                b"," | b"=" => true,
                _ => false,
            },
            Kind::Ident => {
                text.iter().all(u8::is_ascii_digit)
                    || matches!(text, b"True" | b"False" | b"None")
                    || text.ends_with(b"Warning")
                    || tokens.get(j + 1).is_some_and(|n| n.is_op(bytes, b"="))
            }
        };
        if !ok {
            return false;
        }
    }
    false
}

/// Whether the identifier `tokens[i]` names a keyword argument of a call (`f(headers=h)`): `=`
/// follows it inside brackets, and its logical line is no `def`/`async def`/`lambda` (where it
/// would be a parameter with a default).
fn keyword_argument(bytes: &[u8], tokens: &[Token], i: usize) -> bool {
    let line = tokens[i].line;
    tokens[i].depth > 0
        && tokens.get(i + 1).is_some_and(|n| n.is_op(bytes, b"="))
        && !matches!(
            first_of_line(tokens, i).text(bytes),
            b"def" | b"async" | b"lambda"
        )
        && !tokens[..i]
            .iter()
            .rev()
            .take_while(|t| t.line == line)
            .any(|t| t.kind == Kind::Ident && t.text(bytes) == b"lambda")
}

/// Whether the identifier `tokens[i]` is part of the module of a `from … import` (before its
/// `import`): it binds no name of the module.
fn imported_from_module(bytes: &[u8], tokens: &[Token], i: usize) -> bool {
    let line = tokens[i].line;
    first_of_line(tokens, i).text(bytes) == b"from"
        && !tokens[..=i]
            .iter()
            .rev()
            .take_while(|t| t.line == line)
            .any(|t| t.kind == Kind::Ident && t.text(bytes) == b"import")
}

/// Whether the call of `tokens[k]` (`(` follows it) may pass a string literal as its second
/// positional argument: KL101's `credential_call` reads `x.login(user, "…")` only with a string
/// there (`syntax::positional_args(…)[1]`, unparenthesized), so `client.login(username="u",
/// password="p")` (keywords) and `smtp.login(self.user, self.password)` hold no password of
/// the code. Positional arguments are counted at the call's bracket depth, keyword arguments
/// (`name=`) left out; any string token in the second one counts.
fn second_argument_has_string(bytes: &[u8], tokens: &[Token], k: usize) -> bool {
    let Some(open) = tokens.get(k + 1) else {
        return false;
    };
    let depth = open.depth;
    let args: Vec<usize> = (k + 2..tokens.len())
        .take_while(|&j| tokens[j].depth > depth)
        .collect();
    let is_op = |j: usize, op: &[u8]| tokens[j].is_op(bytes, op);
    args.split(|&j| tokens[j].depth == depth + 1 && is_op(j, b","))
        .filter(
            |arg| !matches!(arg, [_, eq, ..] if is_op(*eq, b"=") && tokens[*eq].depth == depth + 1),
        )
        .nth(1)
        .is_some_and(|arg| arg.iter().any(|&j| tokens[j].kind == Kind::Str))
}

/// Whether the file may bind a minted value to a name `dataflow::local` reads as a minted key
/// (`minted_as`, with `fw::is_minted_key_name`): the name of an assignment's target (an
/// identifier, an attribute's name: one identifier token), of a keyword argument (an
/// identifier), or the string key of a subscript or a dict entry (a string before `]` or `:`;
/// one with escapes or interpolation, or implicitly concatenated, may spell any name). Without
/// one, a minting call (`uuid.uuid4()`) is no source: `key = uuid4()` and `api_key = …` are
/// one, a `UUIDField` or `uuid.UUID(value)` with `primary_key` (no minted key name) none.
fn minted_key_named(bytes: &[u8], tokens: &[Token]) -> bool {
    let is_str = |k: usize| tokens.get(k).is_some_and(|t| t.kind == Kind::Str);
    let is_op = |k: usize, op: &[u8]| tokens.get(k).is_some_and(|t| t.is_op(bytes, op));
    // An identifier where `minted_as` may read it: before `=` (a target, a keyword argument),
    // after `as` (`with … as key`), or an annotated target or an element of a target list
    // (before `:`, `,`, `)` or `]`, with an `=` later in its logical line: `key: str = …`,
    // `a, key = …`; not `if value == key:` nor `for key, value in …:`).
    let binds = |k: usize| {
        is_op(k + 1, b"=")
            || (k > 0 && tokens[k - 1].kind == Kind::Ident && tokens[k - 1].text(bytes) == b"as")
            || ([&b":"[..], b",", b")", b"]"]
                .iter()
                .any(|op| is_op(k + 1, op))
                && tokens[k + 1..]
                    .iter()
                    .take_while(|n| n.line == tokens[k].line)
                    .any(|n| n.is_op(bytes, b"=")))
    };
    tokens.iter().enumerate().any(|(k, t)| match t.kind {
        Kind::Ident => {
            std::str::from_utf8(t.text(bytes))
                .map_or(true, crate::model::frameworks::is_minted_key_name)
                && binds(k)
        }
        Kind::Str => {
            tokens
                .get(k + 1)
                .is_some_and(|n| n.is_op(bytes, b":") || n.is_op(bytes, b"]"))
                && (!t.plain
                    || is_str(k + 1)
                    || (k > 0 && is_str(k - 1))
                    || std::str::from_utf8(t.content(bytes))
                        .map_or(true, crate::model::frameworks::is_minted_key_name))
        }
        Kind::Op => false,
    })
}

/// Whether the file's code may hold a logging call as `frameworks::is_log_call` reads one. Every
/// name of its qualified name or path is written in the module (the call, an import, a binding;
/// no fact of another module names a logger), so its identifiers must be there:
/// * `print`;
/// * `warnings.warn`: `warnings`, and `warn` as an attribute (`warnings.warn`, `w.warn`) or
///   imported (`from warnings import warn as emit`);
/// * `sys.stdout.write`, `sys.stderr.write`: `stdout` or `stderr` as `sys.stdout` or imported,
///   and `.write` after `sys.stdout` or an imported `stdout` (after any name when `stdout` is
///   imported under another one: `from sys import stdout as out`);
/// * a logger's method (`debug`, `info`, `warning`, `warn`, `error`, `exception`, `critical`,
///   `fatal`, `log`) as an attribute (not in the module of a `from … import`) or imported, and
///   its receiver: `logging` (`logging.info`, `logging.getLogger(…)`, `logging.Logger`),
///   `logger` (`….logger`, a path's `logger`), `structlog`, `loguru` anywhere, or a path's
///   `log`, `_logger`, `_log`, `LOGGER`, `LOG` (before a `.`: `self.log(…)` is none).
///
/// Any of these names called with constants only ([`logs_constants`]: `logger.warning("…")`,
/// `warnings.warn("…", RemovedInDjango60Warning, stacklevel=2)`) logs nothing the data flow
/// follows and does not count there; not called (`w = warnings.warn`), it counts.
///
/// A `from … import *` or `import sys as …` lets a method, `warn` or `stdout` be written bare
/// (then any occurrence counts). A `Warning` class, `assertWarns`, `cm.exception` or
/// `stdout=self.stdout` in a test, a variable `log`, or `print_function` alone is no call.
fn may_call_log(bytes: &[u8], tokens: &[Token]) -> bool {
    let ident = |k: usize, text: &[u8]| {
        tokens
            .get(k)
            .is_some_and(|t| t.kind == Kind::Ident && t.text(bytes) == text)
    };
    let after_dot = |k: usize| k > 0 && tokens[k - 1].is_op(bytes, b".");
    // In an import statement: `import` earlier in its logical line (`from m import (a as b)`).
    let imported = |k: usize| {
        let line = tokens[k].line;
        tokens[..k]
            .iter()
            .rev()
            .take_while(|t| t.line == line)
            .any(|t| t.kind == Kind::Ident && t.text(bytes) == b"import")
    };
    // Names may be written bare: `from m import *`, `import sys as s`.
    let bare = tokens.iter().enumerate().any(|(k, t)| {
        (t.is_op(bytes, b"*") && k > 0 && ident(k - 1, b"import"))
            || (t.kind == Kind::Ident
                && t.text(bytes) == b"sys"
                && ident(k + 1, b"as")
                && imported(k))
    });
    // `from sys import stdout as out`: `out.write(…)` is `sys.stdout.write`; so is it after
    // `out = sys.stdout` (the data flow follows a local alias): `stdout` not followed by a
    // `.` in a statement that may bind it (an `=`, `:=`, a `for`, a `with … as`).
    let binds_std = |k: usize| {
        let line = tokens[k].line;
        let mut start = k;
        while start > 0 && tokens[start - 1].line == line {
            start -= 1;
        }
        let mut with = false;
        tokens[start..]
            .iter()
            .take_while(|t| t.line == line)
            .any(|t| match t.kind {
                Kind::Op => t.is_op(bytes, b"=") || t.is_op(bytes, b":="),
                Kind::Ident => {
                    let text = t.text(bytes);
                    with |= text == b"with";
                    text == b"for" || (with && text == b"as")
                }
                Kind::Str => false,
            })
    };
    let std_alias = bare
        || tokens.iter().enumerate().any(|(k, t)| {
            t.kind == Kind::Ident
                && matches!(t.text(bytes), b"stdout" | b"stderr")
                && ((ident(k + 1, b"as") && imported(k))
                    || (!tokens.get(k + 1).is_some_and(|n| n.is_op(bytes, b".")) && binds_std(k)))
        });
    let (mut warnings, mut warn, mut std, mut write, mut method, mut receiver) =
        (false, false, false, false, false, false);
    for (k, t) in tokens.iter().enumerate() {
        if t.kind != Kind::Ident {
            continue;
        }
        let text = t.text(bytes);
        let callee = matches!(
            text,
            b"print"
                | b"warn"
                | b"write"
                | b"debug"
                | b"info"
                | b"warning"
                | b"error"
                | b"exception"
                | b"critical"
                | b"fatal"
                | b"log"
        );
        // A call with constants only (`logger.warning("Session data corrupted")`,
        // `warnings.warn("…", RemovedInDjango60Warning, stacklevel=2)`) sinks nothing the data
        // flow follows (`SinkKind::Log` takes the arguments' taint); the name elsewhere (not
        // called: `f = logger.info`) still counts.
        if callee && logs_constants(bytes, tokens, k) {
            continue;
        }
        // A method's name: written bare, after a `.` (not in the module of a `from … import`:
        // `from django.utils.log import log_response` calls no `log`), or imported.
        let named =
            || bare || (after_dot(k) && !imported_from_module(bytes, tokens, k)) || imported(k);
        // A receiver of `is_log_call`'s path test (`log.info(…)`: the name before the
        // method's `.`); `logging`, `logger`, `structlog` and `loguru` may also be read in a
        // qualified name (`app.logger`, `logging.getLogger(…)` bound to another name), anywhere.
        let path_receiver = || tokens.get(k + 1).is_some_and(|n| n.is_op(bytes, b"."));
        match text {
            b"print" => return true,
            b"warnings" => warnings = true,
            b"warn" => {
                let named = named();
                warn |= named;
                method |= named;
            }
            b"stdout" | b"stderr" => {
                std |= bare || (after_dot(k) && k > 1 && ident(k - 2, b"sys")) || imported(k)
            }
            // `write` of `sys.stdout` or of `stdout` (imported from `sys`), not of another
            // object's `stdout` (`self.stdout.write(…)`, a management command's output).
            b"write" => {
                write |= after_dot(k)
                    && (std_alias
                        || (k > 1
                            && (ident(k - 2, b"stdout") || ident(k - 2, b"stderr"))
                            && !(k > 2
                                && tokens[k - 3].is_op(bytes, b".")
                                && !(k > 3 && ident(k - 4, b"sys")))))
            }
            b"debug" | b"info" | b"warning" | b"error" | b"exception" | b"critical" | b"fatal" => {
                method |= named()
            }
            b"log" => {
                method |= named();
                receiver |= path_receiver();
            }
            b"_logger" | b"_log" | b"LOGGER" | b"LOG" => receiver |= path_receiver(),
            b"logging" | b"logger" | b"structlog" | b"loguru" => receiver = true,
            _ => {}
        }
        if (warnings && warn) || (std && write) || (method && receiver) {
            return true;
        }
    }
    false
}

/// The string literal `tokens[i]` with the literals implicitly concatenated to it (`'a' 'b'`):
/// one value for `syntax::string_value`.
fn concatenated(tokens: &[Token], i: usize) -> &[Token] {
    let is_str = |k: usize| tokens.get(k).is_some_and(|t| t.kind == Kind::Str);
    let (mut first, mut last) = (i, i);
    while first > 0 && is_str(first - 1) {
        first -= 1;
    }
    while is_str(last + 1) {
        last += 1;
    }
    &tokens[first..=last]
}

/// Whether the string literal `tokens[i]` (with the literals implicitly concatenated to it) may
/// hold `scheme://user:password@host` as `secrets::url_credentials` judges it on the value
/// `syntax::string_value` reads: exactly the text between the quotes when there is no escape and
/// no interpolation; otherwise any `@` may be one.
fn url_may_have_credentials(bytes: &[u8], tokens: &[Token], i: usize) -> bool {
    let parts = concatenated(tokens, i);
    let mut value = Vec::new();
    for t in parts {
        value.extend_from_slice(t.content(bytes));
    }
    // `string_value` reads a literal's text between its quotes as written, escapes included
    // (`\x40` is no `@`), in a raw string or not; only an interpolation hides the value.
    let exact = parts.iter().all(|t| {
        !t.formatted || (!t.content(bytes).contains(&b'{') && !t.content(bytes).contains(&b'\\'))
    });
    if !exact {
        return value.contains(&b'@');
    }
    std::str::from_utf8(&value).map_or(true, |v| {
        use crate::model::secrets::{split_scheme, url_credentials};
        url_credentials(v, &[]).is_some() || url_credentials(split_scheme(v).1, &[]).is_some()
    })
}

/// Whether the identifier `tokens[i]` (with a word of [`Group::Http`]) imports an HTTP client as
/// `frameworks::http_call` resolves one: every qualified name it takes starts with `requests`,
/// `httpx`, `aiohttp` or `urllib`, which only an import binds (`model::Model::resolve`: an
/// import's module, or a call made through one), so the name is the first of a module in an
/// import statement (`import requests`, `import os, httpx`, `from aiohttp import
/// ClientSession`), not a part of a name (`_requests`, `grequests`), an attribute
/// (`self.requests`) or a name imported from another module (`from .utils import requests`
/// comes after `import`, and counts anyway). `from urllib.parse import …` binds no name
/// `urllib.request` reads; `import urllib.parse` binds `urllib` and counts.
fn imports_http_client(bytes: &[u8], tokens: &[Token], i: usize) -> bool {
    let t = &tokens[i];
    let is_ident = |k: usize, text: &[u8]| {
        tokens
            .get(k)
            .is_some_and(|t| t.kind == Kind::Ident && t.text(bytes) == text)
    };
    let text = t.text(bytes);
    if t.kind != Kind::Ident || !matches!(text, b"requests" | b"httpx" | b"aiohttp" | b"urllib") {
        return false;
    }
    let first = first_of_line(tokens, i);
    if !matches!(first.text(bytes), b"import" | b"from") || i == 0 {
        return false;
    }
    let prev = &tokens[i - 1];
    let after = prev.is_op(bytes, b",")
        || (prev.kind == Kind::Ident && matches!(prev.text(bytes), b"import" | b"from"));
    if !after {
        return false;
    }
    // `from urllib.parse import urlencode`: only `urllib.request` holds a client.
    !(text == b"urllib"
        && first.text(bytes) == b"from"
        && tokens.get(i + 1).is_some_and(|n| n.is_op(bytes, b"."))
        && !is_ident(i + 2, b"request"))
}

/// Whether the string literal `tokens[i]`, with a word of a token format, may hold one as
/// KL101 reads literals: `secrets::token_format` of the value of the literal or of the implicit
/// concatenation it is part of (`string_value`: the text between the quotes as written). An
/// f-string's literal parts are read apart from its interpolations (`fstring_token`): one with
/// an interpolation counts whatever it holds.
fn format_may_match(bytes: &[u8], tokens: &[Token], i: usize) -> bool {
    use crate::model::secrets::token_format;
    let parts = concatenated(tokens, i);
    if parts
        .iter()
        .any(|t| t.formatted && t.content(bytes).contains(&b'{'))
    {
        return true;
    }
    let mut value = Vec::new();
    for t in parts {
        value.extend_from_slice(t.content(bytes));
    }
    let matches =
        |v: &[u8]| std::str::from_utf8(v).map_or(true, |v| token_format(v, &[]).is_some());
    matches(&value) || parts.iter().any(|t| matches(t.content(bytes)))
}

/// The [`Group::Any`] words of the DynamoDB write methods (`model::frameworks::dynamodb_write`):
/// they keep a file only as the method of a call, `x.put_item(…)`.
fn is_dynamodb_write_word(word: &[u8]) -> bool {
    ["put_item", "update_item", "batch_write", "transact_write"]
        .iter()
        .any(|w| word.eq_ignore_ascii_case(w.as_bytes()))
}

/// The first token of the logical line of `tokens[i]`.
fn first_of_line(tokens: &[Token], i: usize) -> &Token {
    let line = tokens[i].line;
    let mut k = i;
    while k > 0 && tokens[k - 1].line == line {
        k -= 1;
    }
    &tokens[k]
}

/// The one-statement shapes (see the module docs): the first found (the reason) and every rule
/// of [`LINE_SHAPE_RULES`] whose shape holds in a logical line (its bit).
fn lines_may_have_findings(
    bytes: &[u8],
    tokens: &[Token],
    marks: &[u8],
    file: &FileWords,
    extra: &[String],
) -> (Option<&'static str>, u8) {
    const REASONS: [&str; 6] = [
        "KL205 shape",
        "KL102 shape",
        "KL207 shape",
        "KL103 shape",
        "KL301 shape",
        "KL101 shape",
    ];
    let mut all = 0u8;
    let mut reason = None;
    let mut line_start = 0;
    while line_start < tokens.len() {
        let line = tokens[line_start].line;
        let line_end = line_start
            + tokens[line_start..]
                .iter()
                .position(|t| t.line != line)
                .unwrap_or(tokens.len() - line_start);
        let found = line_may_have_findings(
            bytes,
            &tokens[line_start..line_end],
            &marks[line_start..line_end],
            file,
            extra,
            !all,
        );
        if reason.is_none() && found != 0 {
            reason = Some(REASONS[found.trailing_zeros() as usize]);
        }
        all |= found;
        if all == (1 << LINE_SHAPE_RULES.len()) - 1 {
            break;
        }
        line_start = line_end;
    }
    (reason, all)
}

/// The shapes of [`LINE_SHAPE_RULES`] that hold in one logical line (bit `i`: the rule `i`), of
/// those asked (`wanted`: the others are not looked for).
fn line_may_have_findings(
    bytes: &[u8],
    tokens: &[Token],
    marks: &[u8],
    file: &FileWords,
    extra: &[String],
    wanted: u8,
) -> u8 {
    let mut found = 0u8;
    let any = |bit: u8| marks.iter().any(|m| m & bit != 0);
    let has_string = tokens.iter().any(|t| t.kind == Kind::Str);
    // A token naming a secret as KL205 names an operand and KL102 a target or variable.
    let secret_operand = || {
        marks
            .iter()
            .enumerate()
            .any(|(i, m)| m & NAME != 0 && names_operand(bytes, tokens, i, extra))
    };
    // KL205: an operand of `==`/`!=` with a secret name (its identifier, attribute, subscript
    // key or `.get("…")` variable: one token). Not in an `assert` statement, which the rule
    // skips whole (a test's `assert r.json() == {"token": …}`): a logical line that starts with
    // `assert`, holds no `;` and ends with its brackets closed is one (an unclosed bracket runs
    // the line on to the end of the file, over other statements).
    let assertion = tokens
        .first()
        .is_some_and(|t| t.kind == Kind::Ident && t.text(bytes) == b"assert")
        && tokens.last().is_some_and(|t| t.depth == 0)
        && !tokens.iter().any(|t| t.is_op(bytes, b";"));
    if wanted & 1 != 0
        && !assertion
        && tokens
            .iter()
            .any(|t| t.is_op(bytes, b"==") || t.is_op(bytes, b"!="))
        && secret_operand()
        && (file.hmac || compares_secret(bytes, tokens, marks, extra))
    {
        found |= 1;
    }
    // An environment read as KL102 and KL103 resolve one (`model::Model::callee`: a name bound
    // by an import): its name in the statement (`env_read_named`), then its variable, a string
    // literal right after the bracket (`string_value` of the first positional argument or of
    // the subscript).
    let env_read = |subscript: bool| {
        file.env
            && tokens.windows(2).any(|w| {
                (w[0].is_op(bytes, b"(") || (subscript && w[0].is_op(bytes, b"[")))
                    && w[1].kind == Kind::Str
            })
            && env_read_named(bytes, tokens, &file.env_aliases)
    };
    // KL102: a secret name (target or variable) next to a string in a file that reads the
    // environment. (Not narrowed to an environment read named in the statement, as KL103 is:
    // a key-named variable read there, `relay(os.environ["PAYMENT_API_KEY"])`, is also the
    // source of a flow into another module, which no file-wide shape keeps; and the data flow
    // resolves a local alias, `e = os.environ`, that the rules' model does not.)
    if wanted & 2 != 0 && file.env && has_string && secret_operand() {
        found |= 2;
    }
    // KL207: a URL literal with a key in its query (`?api_key=`, `&token=`, `?key=`), as the
    // rule reads the literal's text (`kl207::query_key`: a URL-like literal, a key-named
    // parameter right after `?`/`&` and a value filled in after `=`). A formatted string is
    // one token here but holds the strings of its interpolations (`f"{u + '?key='}"`), which
    // tree-sitter sees apart: any with `?`/`&` and `=` counts.
    if wanted & 4 != 0
        && tokens.iter().zip(marks).any(|(t, m)| {
            t.kind == Kind::Str && {
                let c = t.content(bytes);
                let query = c.contains(&b'?') || c.contains(&b'&');
                query
                    && c.contains(&b'=')
                    && (m & NAME != 0 || c.to_ascii_lowercase().windows(4).any(|w| w == b"key="))
                    && (t.formatted
                        || std::str::from_utf8(t.text(bytes)).map_or(true, |text| {
                            crate::rules::kl207_key_in_url::query_key(text).is_some()
                        }))
            }
        })
    {
        found |= 4;
    }
    // KL103: `bool(<env read>)` (the variable a literal), or a `True`/`False` default of an
    // environment read whose variable is a flag by name (`kl103::flag_name`). Either way an
    // environment read is in the statement, and its variable is a string literal right after
    // the bracket: the first positional argument of `os.getenv("X", …)` /
    // `os.environ.get("X", …)` or the subscript of `os.environ["X"]` (`kl103`'s `env_read`
    // takes `string_value` of exactly that node), so a `(` or `[` followed by a string.
    if wanted & 8 != 0
        && file.env
        && has_string
        && env_read(true)
        && (any(BOOL)
            || (any(TRUE | FALSE)
                && tokens.iter().any(|t| {
                    t.kind == Kind::Str
                        && (!t.plain
                            || std::str::from_utf8(t.content(bytes))
                                .map_or(true, crate::rules::kl103_env_flag_misparse::flag_name))
                })))
    {
        found |= 8;
    }
    // KL301: `debug` and `True` in a statement that can switch debug mode on: a binding of the
    // debug name (`app.debug = True`, `DEBUG = True`, `DEBUG: bool = True`,
    // `app.config["DEBUG"] = True`), a `run`/`update`/`from_mapping` call, or an app constructor
    // (which needs a web framework).
    if wanted & 16 != 0 && any(DEBUG) && any(TRUE) {
        let shaped = tokens
            .iter()
            .zip(marks)
            .enumerate()
            .any(|(i, (_, m))| m & DEBUG != 0 && debug_binding(bytes, tokens, i));
        let call = tokens.iter().any(|t| {
            t.kind == Kind::Ident
                && matches!(
                    t.text(bytes),
                    b"run" | b"run_simple" | b"update" | b"from_mapping"
                )
        });
        if shaped || call || file.web || file.werkzeug {
            found |= 16;
        }
    }
    // KL101: a secret name (`secrets::is_secret_name`, as the rule judges the target) bound to a
    // literal that may be a secret, inside the value bound.
    if wanted & KL101_BIT != 0 && has_string {
        for (i, (t, m)) in tokens.iter().zip(marks).enumerate() {
            if m & NAME == 0 || !is_secret_token(bytes, t, extra) {
                continue;
            }
            // `("NAME", "…")` binds only as the fallback of an environment read
            // (`os.environ.get("NAME", "…")`, `getenv`, `setdefault`: resolved through `os`, so
            // an environment word is in the file), not `client.post("/token", data=…)`.
            // The variable is the first argument (`(` right before it) of a call the statement
            // names as an environment read ([`env_read_named`]).
            if t.kind == Kind::Str
                && tokens.get(i + 1).is_some_and(|n| n.is_op(bytes, b","))
                && !(file.env
                    && i > 0
                    && tokens[i - 1].is_op(bytes, b"(")
                    && env_read_named(bytes, tokens, &file.env_aliases))
            {
                continue;
            }
            if let Some(value) = bound_value(bytes, tokens, i) {
                let bound = literals_bound(bytes, value);
                if value.iter().enumerate().any(|(j, s)| {
                    bound[j]
                        && may_be_secret(
                            bytes,
                            t,
                            s,
                            value.get(j + 1),
                            t.kind == Kind::Ident && keyword_argument(bytes, tokens, i),
                        )
                }) {
                    found |= KL101_BIT;
                    break;
                }
            }
        }
    }
    found
}

/// Per token of a bound value ([`bound_value`]): whether it is a string literal KL101 may judge
/// as the value bound (`bound_literal`, `sequence_candidates`, the `auth=(…, password)` tuple
/// and the fallback of an environment read take the value, the right side of an `or`, or an
/// element of a list, tuple or set, each unparenthesized): not inside the arguments of a call
/// or a subscript within the value (`models.CharField(_("session key"))`, `d["OPTIONS"].get(
/// "password")`), nor inside a bracket nested in a list, tuple or set (`[("a", "b")]`). A
/// bracket is a call's or a subscript's when it follows a name that is no keyword, a string or
/// a closing bracket; any other `(` groups.
fn literals_bound(bytes: &[u8], value: &[Token]) -> Vec<bool> {
    const KEYWORDS: &[&[u8]] = &[
        b"False",
        b"None",
        b"True",
        b"and",
        b"as",
        b"assert",
        b"async",
        b"await",
        b"break",
        b"class",
        b"continue",
        b"def",
        b"del",
        b"elif",
        b"else",
        b"except",
        b"finally",
        b"for",
        b"from",
        b"global",
        b"if",
        b"import",
        b"in",
        b"is",
        b"lambda",
        b"nonlocal",
        b"not",
        b"or",
        b"pass",
        b"raise",
        b"return",
        b"try",
        b"while",
        b"with",
        b"yield",
        b"match",
        b"case",
        b"type",
        b"print",
        b"exec",
    ];
    // The brackets open around the current token: (opening byte, a call's or subscript's).
    let mut open: Vec<(u8, bool)> = Vec::new();
    let mut out = vec![false; value.len()];
    for (j, s) in value.iter().enumerate() {
        match s.kind {
            Kind::Op => match s.text(bytes) {
                [b @ (b'(' | b'[' | b'{')] => {
                    let call = *b != b'{'
                        && j > 0
                        && match value[j - 1].kind {
                            Kind::Ident => !KEYWORDS.contains(&value[j - 1].text(bytes)),
                            Kind::Str => true,
                            Kind::Op => matches!(value[j - 1].text(bytes), b")" | b"]" | b"}"),
                        };
                    open.push((*b, call));
                }
                b")" | b"]" | b"}" => {
                    open.pop();
                }
                _ => {}
            },
            Kind::Str => {
                out[j] = match open.split_last() {
                    None => true,
                    Some((last, outer)) => {
                        !last.1 && outer.iter().all(|(b, call)| *b == b'(' && !call)
                    }
                };
            }
            Kind::Ident => {}
        }
    }
    out
}

/// A binding KL301 reports when the value is `True`: `DEBUG = True` (a configuration class),
/// `<app>.debug = True` (an app by name, or any object: resolved, it needs a web framework import,
/// which keeps the file anyway), `<x>.config["DEBUG"] = True`.
fn debug_binding(bytes: &[u8], tokens: &[Token], i: usize) -> bool {
    let t = &tokens[i];
    let next = tokens.get(i + 1);
    let before = |k: usize| i.checked_sub(k).map(|j| &tokens[j]);
    match t.kind {
        Kind::Ident => {
            if t.depth != 0 || !next.is_some_and(|n| n.is_op(bytes, b"=") || n.is_op(bytes, b":")) {
                return false;
            }
            if !before(1).is_some_and(|p| p.is_op(bytes, b".")) {
                return t.text(bytes) == b"DEBUG";
            }
            t.text(bytes) == b"debug"
                && match before(2) {
                    Some(obj) if obj.kind == Kind::Ident => {
                        let name = String::from_utf8_lossy(obj.text(bytes));
                        crate::syntax::name_words(&name).last().is_some_and(|w| {
                            matches!(w.as_str(), "app" | "application" | "socketio")
                        })
                    }
                    _ => true,
                }
        }
        Kind::Str => {
            next.is_some_and(|n| n.is_op(bytes, b"]"))
                && (!t.plain || t.content(bytes) == b"DEBUG")
                && before(1).is_some_and(|p| p.is_op(bytes, b"["))
                && before(2).is_some_and(|p| p.kind == Kind::Ident && p.text(bytes) == b"config")
        }
        Kind::Op => false,
    }
}

/// Whether `tokens[i]` is a secret name as KL205 names an operand and KL102 a target or variable:
/// an identifier that is not an object, callee or subscripted value (`token.x`, `token()`,
/// `token[0]` are named by what follows), or a string.
fn names_operand(bytes: &[u8], tokens: &[Token], i: usize, extra: &[String]) -> bool {
    let t = &tokens[i];
    let named_by_what_follows = t.kind == Kind::Ident
        && tokens
            .get(i + 1)
            .is_some_and(|n| n.is_op(bytes, b".") || n.is_op(bytes, b"(") || n.is_op(bytes, b"["));
    !named_by_what_follows
        && names_key(bytes, t, |n| {
            crate::model::secrets::is_secret_name(n, extra)
        })
}

/// Whether the identifier `token`, with the word `word` of [`Group::KeyCall`], may name what
/// KL101 (and KL205's signatures) read through it: `hmac` as the module itself (`hmac.new` is
/// the qualified name `KEY_PARAMS` and `kl205`'s types take, which only an import of `hmac`
/// binds: not `salted_hmac`), `ALGORITHM` as the module binding `jwt_key_constant` looks up
/// (`ALGORITHM` or `JWT_ALGORITHM`, not `GDAL_RESAMPLE_ALGORITHMS`); the other words as before.
fn key_call_named(bytes: &[u8], token: &Token, word: &[u8]) -> bool {
    let text = token.text(bytes);
    if word.eq_ignore_ascii_case(b"hmac") {
        text == b"hmac"
    } else if word == b"ALGORITHM" {
        matches!(text, b"ALGORITHM" | b"JWT_ALGORITHM")
    } else {
        true
    }
}

/// Whether a logical line may hold a comparison KL205 reports by a name: `L == R` or `L != R`
/// with neither operand a literal (`is_literal_like`: `token == "COLLATE"`, `x != None`) and a
/// secret name ([`names_operand`]) inside one of them (`p1 != p2 or not password_validated`
/// has none). tree-sitter's operands are primary expressions: an operand runs from the
/// operator over tokens deeper in brackets and tokens at its depth up to one no primary
/// expression holds unbracketed (`and`, `or`, `not`, `if`, `,`, `:`, `=`, another `==`, …) or
/// a bracket that closes around it; so each operand found here holds the real one (a longer
/// one only when the line does not parse as written). An operand is a literal when it is one
/// token: a plain string (`string_value` reads it), a number, `None`, `True` or `False`.
fn compares_secret(bytes: &[u8], tokens: &[Token], marks: &[u8], extra: &[String]) -> bool {
    let ends_operand = |t: &Token| match t.kind {
        Kind::Op => matches!(
            t.text(bytes),
            b"==" | b"!=" | b"," | b":" | b"=" | b":=" | b";" | b"->"
        ),
        Kind::Ident => matches!(
            t.text(bytes),
            b"and"
                | b"or"
                | b"not"
                | b"if"
                | b"else"
                | b"elif"
                | b"while"
                | b"for"
                | b"in"
                | b"is"
                | b"lambda"
                | b"return"
                | b"yield"
                | b"assert"
                | b"del"
                | b"with"
                | b"as"
                | b"raise"
        ),
        Kind::Str => false,
    };
    let literal = |operand: &[Token]| match operand {
        [t] => match t.kind {
            Kind::Str => t.plain && !t.formatted,
            Kind::Ident => {
                let text = t.text(bytes);
                text.first().is_some_and(u8::is_ascii_digit)
                    || matches!(text, b"None" | b"True" | b"False")
            }
            Kind::Op => false,
        },
        _ => false,
    };
    (0..tokens.len()).any(|k| {
        if !(tokens[k].is_op(bytes, b"==") || tokens[k].is_op(bytes, b"!=")) {
            return false;
        }
        let depth = tokens[k].depth;
        let inside = |t: &Token| t.depth > depth || (t.depth == depth && !ends_operand(t));
        let mut start = k;
        while start > 0 && inside(&tokens[start - 1]) {
            start -= 1;
        }
        let mut end = k + 1;
        while end < tokens.len() && inside(&tokens[end]) {
            end += 1;
        }
        let (left, right) = (&tokens[start..k], &tokens[k + 1..end]);
        // Two names (one identifier each), as `kl205` skips them: a confirmation
        // (`new_password == confirm`) or two values the user typed (`password != password2`).
        let name = |operand: &[Token]| match operand {
            [t] if t.kind == Kind::Ident => std::str::from_utf8(t.text(bytes)).ok(),
            _ => None,
        };
        let (a, b) = (name(left), name(right));
        if a.into_iter()
            .chain(b)
            .any(crate::rules::kl205_insecure_key_compare::is_confirmation)
        {
            return false;
        }
        if let (Some(a), Some(b)) = (a, b) {
            let stem = |n: &str| {
                n.trim_end_matches(|c: char| c.is_ascii_digit() || c == '_')
                    .to_ascii_lowercase()
            };
            if !a.eq_ignore_ascii_case(b) && stem(a) == stem(b) {
                return false;
            }
        }
        !literal(left)
            && !literal(right)
            && (start..end)
                .any(|j| j != k && marks[j] & NAME != 0 && names_operand(bytes, tokens, j, extra))
    })
}

/// Whether a statement may hold an environment read as `model::Model::callee` and `resolve`
/// read one (`os.environ.get`, `os.getenv`, `os.environ[…]`): every name of the qualified name
/// is written in the statement but the first, which an import binds (`import os as o`, `from
/// os import environ`), so the identifier `environ` or `getenv`, or a name an import binds to
/// either (`aliases`: `from os import getenv as ge`). The model resolves no other binding to
/// them (an assignment `env = os.environ` makes no alias; a module-level object of another
/// module is a DynamoDB handle only). A formatted string (`f"{os.getenv('K')}"`) is one token
/// of the lexer: one that may name either counts too.
fn env_read_named(bytes: &[u8], tokens: &[Token], aliases: &[Vec<u8>]) -> bool {
    let names = |text: &[u8]| {
        text == b"environ" || text == b"getenv" || aliases.iter().any(|a| a.as_slice() == text)
    };
    tokens.iter().any(|t| match t.kind {
        Kind::Ident => names(t.text(bytes)),
        Kind::Str if t.formatted => {
            let text = t.text(bytes);
            memchr::memmem::find(text, b"environ").is_some()
                || memchr::memmem::find(text, b"getenv").is_some()
                || aliases
                    .iter()
                    .any(|a| memchr::memmem::find(text, a).is_some())
        }
        _ => false,
    })
}

/// The names an import binds to `environ` or `getenv` under another name (`from os import
/// getenv as ge`, `import os.environ as E`): `as` right after either in an import statement.
fn env_aliases(bytes: &[u8], tokens: &[Token]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for k in 0..tokens.len().saturating_sub(2) {
        let t = &tokens[k];
        if t.kind == Kind::Ident
            && matches!(t.text(bytes), b"environ" | b"getenv")
            && tokens[k + 1].kind == Kind::Ident
            && tokens[k + 1].text(bytes) == b"as"
            && tokens[k + 2].kind == Kind::Ident
            && matches!(first_of_line(tokens, k).text(bytes), b"import" | b"from")
        {
            out.push(tokens[k + 2].text(bytes).to_vec());
        }
    }
    out
}

/// Whether the name token `t` is a secret name for KL101: an identifier, or a string literal's
/// value, that `secrets::is_secret_name` accepts (`auth` stands for the password of
/// `auth=(user, password)`). A string with escapes or interpolation may be one.
fn is_secret_token(bytes: &[u8], t: &Token, extra: &[String]) -> bool {
    (t.kind == Kind::Ident && t.text(bytes) == b"auth")
        || names_key(bytes, t, |n| {
            crate::model::secrets::is_secret_name(n, extra)
        })
}

/// Whether `is_name` accepts the name a token spells: an identifier, or a plain string's value
/// (a string with escapes or interpolation may spell anything).
fn names_key(bytes: &[u8], t: &Token, is_name: impl Fn(&str) -> bool) -> bool {
    let text = match t.kind {
        Kind::Ident => t.text(bytes),
        Kind::Str if t.plain => t.content(bytes),
        Kind::Str => return true,
        Kind::Op => return false,
    };
    std::str::from_utf8(text).map_or(true, is_name)
}

/// The tokens of the value a name token binds, when it binds one: after `NAME =` / `NAME:`
/// (`NAME: str = …`, `{NAME: …}`, `f(NAME=…)`), `"NAME":`, `["NAME"] =` and `("NAME", …)`
/// (`os.environ.get("NAME", …)`), up to the next `,` at the binder's depth or the bracket that
/// closes around it.
fn bound_value<'a>(bytes: &[u8], tokens: &'a [Token], i: usize) -> Option<&'a [Token]> {
    let t = &tokens[i];
    let next = tokens.get(i + 1)?;
    let binder = match t.kind {
        Kind::Ident if next.is_op(bytes, b"=") || next.is_op(bytes, b":") => i + 1,
        Kind::Str if next.is_op(bytes, b":") || next.is_op(bytes, b",") => i + 1,
        // `x["NAME"] = …`: the value follows the `=` after the bracket.
        Kind::Str if next.is_op(bytes, b"]") => {
            let eq = tokens.get(i + 2)?;
            if !eq.is_op(bytes, b"=") {
                return None;
            }
            i + 2
        }
        _ => return None,
    };
    let depth = tokens[binder].depth;
    let rest = &tokens[binder + 1..];
    let end = rest
        .iter()
        .position(|s| s.depth < depth || (s.depth == depth && s.is_op(bytes, b",")))
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

/// Whether a string literal token bound to the name token `name` may hold a secret: its value is
/// not certainly a placeholder by `secrets::is_placeholder` nor a label spelling its name
/// (`secrets::spells_name`) — or, for the bindings whose any value is live to KL101 (signing
/// keys, `auth`, a password passed as a keyword argument: `keyword`), by
/// `secrets::is_obvious_placeholder` — with no allowed placeholders of the configuration (those
/// only make more values placeholders). A password bound otherwise (`"password": "secret"` in a
/// dict, `PASSWORD = "…"`, a parameter's default) is judged like any secret, as the rule does.
/// Strings with escapes or interpolation, and implicit concatenations (`"ab" "cd"`), may always.
fn may_be_secret(
    bytes: &[u8],
    name: &Token,
    s: &Token,
    next: Option<&Token>,
    keyword: bool,
) -> bool {
    use crate::model::secrets;
    if !s.plain || next.is_some_and(|n| n.kind == Kind::Str) {
        return true;
    }
    let Ok(value) = std::str::from_utf8(s.content(bytes)) else {
        return true;
    };
    let (_, secret) = secrets::split_scheme(value);
    let name = match name.kind {
        Kind::Ident => name.text(bytes),
        _ => name.content(bytes),
    };
    let Ok(name) = std::str::from_utf8(name) else {
        return true;
    };
    let live = name == "auth"
        || secrets::is_signing_key_name(name)
        || (keyword
            && crate::syntax::name_words(name).last().is_some_and(|w| {
                matches!(
                    w.as_str(),
                    "password" | "passwd" | "pwd" | "passphrase" | "pass"
                )
            }));
    if live {
        !secrets::is_obvious_placeholder(secret, "", &[])
    } else {
        !secrets::is_placeholder(secret, &[]) && !secrets::spells_name(secret, name)
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
    crate::syntax::name_words(name)
        .iter()
        .any(|w| is_key_qualifier(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_declares_its_words() {
        assert!(
            uncovered_rules().is_empty(),
            "declare the pre-filter's words in the RuleMeta of: {:?}",
            uncovered_rules()
        );
        assert!(Prefilter::new(&[]).is_enabled());
    }

    /// The pre-filter is built from the rules' words and nothing else: every word a rule declares
    /// is one of the pre-filter's patterns, with its group and case, and every pattern is a rule's.
    #[test]
    fn the_prefilter_is_built_from_the_rules_words() {
        let p = Prefilter::new(&[]);
        let declared: Vec<Word> = crate::config::all_meta()
            .into_iter()
            .flat_map(|m| m.prefilter.iter().flat_map(|l| l.iter().copied()))
            .collect();
        let built = words();
        assert_eq!(p.patterns.len(), built.len());
        for (w, (group, exact)) in built.iter().zip(&p.patterns) {
            assert_eq!(*group, w.group, "{}", w.word);
            assert_eq!(exact.is_some(), w.case_sensitive, "{}", w.word);
        }
        for w in &declared {
            assert!(built.contains(w), "{} is not in the pre-filter", w.word);
        }
        for w in &built {
            assert!(declared.contains(w), "{} is no rule's word", w.word);
        }
        // One reading per word: the same word in two groups would be read twice, differently.
        for w in &built {
            let groups: Vec<Group> = built
                .iter()
                .filter(|o| o.word == w.word)
                .map(|o| o.group)
                .collect();
            assert_eq!(groups.len(), 1, "{} has groups {groups:?}", w.word);
        }
        // Each rule's own words: the suppression comment is KL001's, `debug` KL301's.
        let of = |code: &str| {
            crate::config::all_meta()
                .into_iter()
                .find(|m| m.code == code)
                .unwrap()
                .prefilter
                .iter()
                .flat_map(|l| l.iter().map(|w| w.word))
                .collect::<Vec<_>>()
        };
        assert!(of("KL001").contains(&"keylint"));
        assert!(of("KL301").contains(&"debug"));
        assert!(!of("KL304").contains(&"debug"));
    }

    #[test]
    fn keeps_and_skips() {
        let p = Prefilter::new(&[]);
        assert!(p.keep(b"API_KEY = 'x8Fq2LmZ'"));
        assert!(p.keep(b"apiKey = 'x8Fq2LmZ'"));
        assert!(p.keep(b"x = 'AKIA2E0A8F3B1C9D4E5F'"));
        // A token format's word alone is no token of the format.
        assert!(!p.keep(b"x = 'AKIA0000'"));
        assert!(!p.keep(b"x = 'akia0000'"));
        assert!(!p.keep(b"msg.format(key=1)"));
        assert!(!p.keep(b"import os\nx = {'key': 1}\n"));
        assert!(!p.keep(b"from django.conf import settings\n"));
        assert!(p.keep(b"from flask import Flask\nfrom x import settings\n@app.route('/')\n"));
        assert!(!p.keep(b"from flask import Flask\nfrom x import settings\n"));
        assert!(!p.keep(b"try:\n    f()\nexcept E as e:\n    print(str(e))\n"));
        assert!(p.keep(b"@app.errorhandler(E)\ndef h(e):\n    return str(e)\n"));
        assert!(!p.keep(b"STRIPE = 'abc'"));
        assert!(Prefilter::new(&["stripe".into()]).keep(b"STRIPE = 'x8Fq2LmZ'"));
    }

    /// The handler shapes need what a finding there needs (a function that answers, the
    /// exception named, a sink of the request's key material); each edge is also a fixture of
    /// `fixtures/prefilter/` (kept, with its finding).
    #[test]
    fn handler_shapes_need_their_sink() {
        let p = Prefilter::new(&[]);
        let app = "from fastapi import FastAPI, Request\napp = FastAPI()\n";
        let keeps = |body: &str| p.keep(format!("{app}{body}").as_bytes());
        // The request: `request.url` returned reaches no rule; the headers, a log call, a
        // key-like name or a project import may.
        let route = "@app.get('/')\ndef f(request: Request):\n";
        assert!(!keeps(&format!(
            "{route}    return {{'u': str(request.url)}}\n"
        )));
        assert!(keeps(&format!("{route}    return request.headers\n")));
        assert!(keeps(&format!("{route}    return request['headers']\n")));
        assert!(keeps(&format!(
            "import logging\n{route}    logging.info(request)\n"
        )));
        assert!(keeps(&format!(
            "{route}    return request.headers['x-api-key']\n"
        )));
        assert!(keeps(&format!(
            "from .audit import log_it\n{route}    log_it(request)\n"
        )));
        // Headers in a module with no function that answers and no `HTTPException`: none.
        assert!(!keeps(
            "def f(request: Request):\n    return request.headers\n"
        ));
        assert!(keeps(
            "def f(request: Request):\n    return request.headers\nf.x = app.get\n"
        ));
        // A registration counts when it names a function of the file.
        let view = "def echo(request: Request):\n    return request.headers\n";
        assert!(keeps(&format!("{view}app.add_api_route('/', echo)\n")));
        assert!(keeps(&format!(
            "{view}app.add_api_route('/', endpoint=echo)\n"
        )));
        assert!(!keeps(&format!("{view}app.add_api_route('/', other)\n")));
        assert!(!keeps(&format!("{view}app.add_api_route(echo, other)\n")));
        // Error handling: an `except` that names nothing, in a library module: none.
        let lib = "def f():\n    try:\n        g()\n    except KeyError:\n        return None\n";
        assert!(!keeps(lib));
        assert!(!keeps(
            "def f():\n    try:\n        g()\n    except KeyError as e:\n        return str(e)\n"
        ));
        assert!(keeps("def f():\n    try:\n        g()\n    except KeyError as e:\n        raise HTTPException(500, str(e))\n"));
        assert!(keeps(&format!("import traceback\n@app.get('/')\n{}", lib)));
        assert!(keeps("async def on_error(request, exc):\n    return str(exc)\napp.add_exception_handler(Exception, on_error)\n"));
        assert!(!keeps("def decorator(func):\n    app.add_exception_handler(Exception, func)\n    return func\n"));
    }

    #[test]
    fn rules_without_their_words_are_left_out() {
        let p = Prefilter::new(&[]);
        // A FastAPI app with no secret-like name, token format or key-taking call anywhere:
        // KL101 and KL205 cannot report; the data-flow rules (the request) and KL303 may.
        let app = b"from fastapi import FastAPI, Request\napp = FastAPI()\n\
                    @app.get('/')\nasync def f(request: Request):\n    try:\n        return g(request)\n\
                    except ValueError as e:\n        return str(e)\n";
        assert!(p.keep(app));
        let rules = p.rules(app);
        assert!(!rules.all());
        for code in ["KL101", "KL205"] {
            assert!(!rules.may_report(code), "{code}");
        }
        for code in ["KL202", "KL203", "KL303"] {
            assert!(rules.may_report(code), "{code}");
        }
        // A word anywhere counts, in a comment too; a word of fixed case only in its case.
        let with = |extra: &str| {
            p.rules(format!("{}{extra}", std::str::from_utf8(app).unwrap()).as_bytes())
        };
        assert!(with("# the api_key\n").may_report("KL101"));
        assert!(!with("X = 'akia'\n").may_report("KL101"));
        assert!(with("X = 'AKIA'\n").may_report("KL101"));
        // A configured secret name counts for the rules that read secret-like names.
        let extra = Prefilter::new(&["stripe".into()]);
        assert!(!extra.rules(app).may_report("KL101"));
        let mut stripe = app.to_vec();
        stripe.extend_from_slice(b"STRIPE = 1\n");
        assert!(extra.rules(&stripe).may_report("KL101"));
        // A directive: every rule runs (KL001 reads which rules report).
        assert!(with("x = 1  # keylint: ignore[KL101]\n").all());
        // An unknown rule (a rule installed for the tests) may report.
        assert!(rules.may_report("KL999"));
    }

    #[test]
    fn data_flow_rules_need_their_own_shapes() {
        let p = Prefilter::new(&[]);
        // A django-like test: secret-like names as keyword arguments and bound to literals, no
        // source with a sink. KL101 may report; no rule of the data flow or of handlers.
        let test = b"from django.test import TestCase\n\n\
                     class T(TestCase):\n    def setUp(self):\n        \
                     self.user = make(username='u', password='secret')\n        \
                     self.password = 'secret'\n";
        let reason = p.reason(test);
        assert_eq!(reason, Some("KL101 shape"));
        let rules = p.rules_for(test, reason);
        assert!(rules.may_report("KL101"));
        for code in FILE_SHAPE_RULES {
            assert!(!rules.may_report(code), "{code}");
        }
        // By its words alone, the data-flow rules may report (the shared secret-name words).
        assert!(p.rules(test).may_report("KL202"));
        assert!(crate::engine::flows_needed(Some(
            &p.rules(test).codes_that_may_report()
        )));
        assert!(!crate::engine::flows_needed(Some(
            &rules.codes_that_may_report()
        )));
        // A Header key and a log call: KL202 may report (and the other data-flow rules).
        let app = b"import logging\nfrom fastapi import FastAPI, Header\napp = FastAPI()\n\
                    @app.get('/')\ndef f(x_api_key: str = Header()):\n    \
                    logging.info(x_api_key)\n";
        let reason = p.reason(app);
        assert!(reason.is_some_and(|r| !is_line_shape(r)), "{reason:?}");
        let rules = p.rules_for(app, reason);
        assert!(rules.may_report("KL202"));
        assert!(crate::engine::flows_needed(Some(
            &rules.codes_that_may_report()
        )));
        // A directive: every rule, whatever the shape.
        let mut directive = test.to_vec();
        directive.extend_from_slice(b"X = 1  # keylint: ignore[KL101]\n");
        assert!(p.rules_for(&directive, p.reason(&directive)).all());
        // Calls into the project: a name imported from a module that may be the project's.
        assert!(p.calls_project(b"from .models import Article\nArticle(title='x')\n"));
        assert!(!p.calls_project(b"import os\nfrom fastapi import FastAPI\nos.getenv(FastAPI())\n"));
        assert!(!p.calls_project(test));
    }

    #[test]
    fn dynamodb_writes_are_method_calls() {
        let p = Prefilter::new(&[]);
        assert!(p.keep(b"table.put_item(Item=item)\n"));
        assert!(p.keep(b"t = x.Table('t')\nt . update_item(Key=k)\n"));
        assert!(p.keep(b"(db  # c\n .batch_write_item(RequestItems=r))\n"));
        assert!(p.keep(b"c.transact_write_items(TransactItems=t)\n"));
        // A function named like a write (FastAPI's tutorial route), a string, a comment.
        assert!(!p.keep(b"@router.put('/{i}')\nasync def update_item(i: str):\n    return i\n"));
        assert!(!p.keep(b"r = update_item(1)\nname = 'put_item'\n# x.put_item(y)\n"));
    }

    #[test]
    fn error_handling_is_an_except_block_or_an_error_handler() {
        let p = Prefilter::new(&[]);
        let app = "from fastapi import FastAPI, HTTPException\napp = FastAPI()\n";
        let keep = |code: &str| p.keep(format!("{app}{code}").as_bytes());
        assert!(keep("@app.get('/')\ndef f():\n    try:\n        g()\n    except E as e:\n        return str(e)\n"));
        assert!(keep(
            "@app.exception_handler(E)\ndef h(r, e):\n    return str(e)\n"
        ));
        assert!(keep(
            "def h(r, e):\n    return str(e)\napp.add_exception_handler(E, h)\n"
        ));
        // A handler registered must be a function of the file.
        assert!(!keep("app.add_exception_handler(E, h)\n"));
        // `HTTPException` raised, nothing caught.
        assert!(!keep(
            "@app.get('/')\ndef f():\n    raise HTTPException(404)\n"
        ));
    }

    #[test]
    fn a_stored_item_is_read_by_a_method() {
        let p = Prefilter::new(&[]);
        let app = "from fastapi import FastAPI\napp = FastAPI()\n";
        let keep = |code: &str| p.keep(format!("{app}{code}").as_bytes());
        assert!(keep(
            "@app.get('/')\ndef f(k):\n    return t.get_item(Key=k)\n"
        ));
        assert!(keep(
            "@app.get('/')\ndef f(k):\n    return c.batch_get_item(R=k)\n"
        ));
        // A route named `get_item` reads nothing stored.
        assert!(!keep("@app.get('/')\ndef get_item(k):\n    return k\n"));
    }

    #[test]
    fn keeps_kl101_live_secrets_and_credential_calls() {
        let p = Prefilter::new(&[]);
        // Weak signing keys are reported (`secrets::is_signing_key_name`).
        assert!(p.keep(b"SECRET_KEY = 'secret'\n"));
        assert!(p.keep(b"app.secret_key = 'blog'\n"));
        assert!(p.keep(b"JWT_SECRET = 'a long pass phrase'\n"));
        assert!(!p.keep(b"SECRET_KEY = 'changeme'\n"));
        // A password handed to a client or to `auth=`.
        assert!(p.keep(b"r = redis.Redis(password='abc')\n"));
        assert!(p.keep(b"r = get(u, auth=('u', 'pw'))\n"));
        assert!(p.keep(b"s.login(user, 'pw99')\n"));
        assert!(!p.keep(b"def login(user): pass\n"));
        assert!(p.keep(b"a = HTTPBasicAuth('u', 'pw99')\n"));
        assert!(p.keep(b"KEY = 'abc'\nALGORITHM = 'HS256'\n"));
        assert!(p.keep(
            b"H = 'https://hooks.slack.com/services/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'\n"
        ));
        assert!(
            p.keep(b"H = 'https://discord.com/api/webhooks/99887766/Zr8Lq2Wm9xT4vB7nK1cP6yH3jD'\n")
        );
    }

    #[test]
    fn keys_need_a_qualifier_in_their_name() {
        let p = Prefilter::new(&[]);
        assert!(p.keep(b"def f(signing_key: str = 'x8Fq2LmZ'):\n    pass\n"));
        assert!(p.keep(b"MasterKey = 'x8Fq2LmZ'"));
        assert!(p.keep(b"h = {'X-Auth-Key': 'x8Fq2LmZ'}"));
        assert!(p.keep(b"if signing_key == other: pass"));
        // `is_secret_name` wants the qualifier before `key` (KL205 judges by it).
        assert!(!p.keep(b"if key_for_x == other: pass"));
        assert!(!p.keep(b"monkey = {'key': 'x8Fq2LmZ'}\nsorted(d, key=len)\n"));
        assert!(!p.keep(b"cache_key = make(key)\n"));
    }

    #[test]
    fn connection_urls_with_credentials() {
        let p = Prefilter::new(&[]);
        assert!(p.keep(b"DB = 'postgresql://app:Xk9q2LmZ7vR@db.internal/app'\n"));
        // A weak password on a remote host is still one; a placeholder is not.
        assert!(p.keep(b"DB = 'postgresql://app:s3cr3t@db.internal/app'\n"));
        assert!(!p.keep(b"DB = 'postgresql://app:password@db.internal/app'\n"));
        // With escapes, an `@` after the scheme keeps it (escapes are not decoded: `\x40` is none).
        assert!(!p.keep(b"u = 'http://\\u00fcser:p\\u00e4ss\\x40host'\n"));
        assert!(p.keep(b"u = 'http://\\u00fcser:p\\u00e4ss@host'\n"));
        assert!(!p.keep(b"u = 'https://example.com/a@b'\n"));
        assert!(p.keep(b"DB = ('postgresql://app:Xk9q2LmZ7vR'\n      '@db.internal/app')\n"));
        assert!(!p.keep(b"URL = 'https://example.com/docs'\n@decorator\ndef f(): pass\n"));
        assert!(!p.keep(b"URL = 'https://example.com/docs'  # by @someone\n"));
    }

    #[test]
    fn conjunctions() {
        let p = Prefilter::new(&[]);
        // An error leak without `str(`: `f"{e}"`.
        assert!(p.keep(b"@app.errorhandler(E)\ndef h(e):\n    return f\"{e}\"\n"));
        assert!(p.keep(b"def h(e):\n    return str(e)\napp.register_error_handler(E, h)\n"));
        // The whole request logged.
        assert!(p.keep(b"from flask import request\nlogger.info(request)\n"));
        // A whole DynamoDB item read with `query`, a scan, in a web app.
        assert!(p.keep(
            b"from flask import Flask\nitems = accounts_table.query(KeyConditionExpression=c)\n"
        ));
        assert!(!p.keep(b"rows = db.session.query(User).all()\n"));
        assert!(p.keep(b"from fastapi import FastAPI\npage = client.get_paginator('scan')\n"));
        // Handlers of an app the model cannot resolve, or registered by a call.
        assert!(p.keep(b"@app.route('/')\ndef f():\n    return dict(cfg.config)\n"));
        assert!(p.keep(b"bp.add_url_rule('/', view_func=v)\ndef v():\n    return settings.X\n"));
        assert!(!p.keep(b"for app in apps:\n    print(app.label, settings.X)\n"));
        // Words in comments and docstrings do not make a web app.
        assert!(!p.keep(b"# a Flask app. Its config\nx = settings.X\n"));
        assert!(
            !p.keep(b"def f():\n    \"\"\"Works like app.config.\"\"\"\n    return settings.X\n")
        );
    }

    #[test]
    fn secret_names_need_a_shape_or_a_sink() {
        let p = Prefilter::new(&[]);
        // Bound to a literal that may be a secret (KL101).
        assert!(p.keep(b"password = 'hunter2hunter2'\n"));
        assert!(p.keep(b"d = {\n    'password':\n        'hunter2hunter2',\n}\n"));
        assert!(p.keep(b"app.config['SECRET_KEY'] = 'x8Fq2LmZ'\n"));
        assert!(p.keep(b"os.environ.get('SECRET_KEY', 'x8Fq2LmZ')\n"));
        assert!(p.keep(b"def f(token: str = 'x8Fq2LmZ'):\n    pass\n"));
        assert!(p.keep(b"requests.get(u, auth=('user', 'x8Fq2LmZ'))\n"));
        assert!(p.keep(b"PASSWORD = (\n    'hunter2' 'hunter2'\n)\n"));
        assert!(p.keep(b"PASSWORD = \"h\\x75nter\"\n"));
        // Certainly placeholders, or not bound to the literal.
        assert!(!p.keep(b"password = ''\ntoken = 'changeme'\n"));
        assert!(!p.keep(b"def check_token(self, user, token):\n    return make('x8Fq2LmZ')\n"));
        assert!(!p.keep(b"template = 'password_reset.html'\nx = token\n"));
        // Only the value bound counts, and only a secret name binds.
        assert!(!p.keep(b"u = create_user(password='changeme', email='someone@example.com')\n"));
        assert!(p.keep(b"u = create_user(email='someone@example.com', password='x8Fq2LmZ')\n"));
        assert!(!p.keep(b"secretary = models.ForeignKey('Employee', on_delete=CASCADE)\n"));
        assert!(!p.keep(b"password_reset_template = 'registration/x8Fq2LmZ.html'\n"));
        assert!(p.keep(b"API_KEYS = [\n    'x8Fq2LmZ',\n]\n"));
        assert!(p.keep(b"SECRET = os.environ.get('S') or 'x8Fq2LmZ'\n"));
        // Compared (KL205).
        assert!(p.keep(b"if token != expected:\n    raise E\n"));
        assert!(p.keep(b"if request.headers.get('X-API-Key') != expected:\n    raise E\n"));
        assert!(!p.keep(b"if len(tokens) > 1 and tokens[1] != 'as':\n    raise E\n"));
        // With a source and a sink of the data flow.
        assert!(
            p.keep(b"import os\nk = os.environ['API_KEY']\ndef f(api_key):\n    print(api_key)\n")
        );
        assert!(!p.keep(
            b"import os\nk = os.environ['HOME']\ndef f(api_key):\n    httpx.post(u, api_key)\n"
        ));
        assert!(p.keep(b"class S(BaseSettings):\n    api_key: str\nlog.info(S())\n"));
        // A key known by its name only, logged (KL202).
        assert!(p.keep(b"def f(api_key):\n    print(api_key)\n"));
        assert!(!p.keep(b"def f(api_key):\n    httpx.post(u, api_key)\n"));
        assert!(!p.keep(b"import os\ndef f(api_key):\n    blog.save(api_key)\n"));
        assert!(p.keep(b"from fastapi import Header\ndef f(x_token = Header()):\n    g(x_token)\n"));
        // In a comment only.
        assert!(!p.keep(b"# the token is 'x8Fq2LmZ'\nx = 1\n"));
    }

    #[test]
    fn a_secret_like_name_keeps_a_web_app_with_handlers_or_project_calls() {
        let p = Prefilter::new(&[]);
        // A test that imports the app and calls it through a test client: no handler, no
        // dependency, no call into the project.
        let test = "from fastapi.testclient import TestClient\n\
                    from docs_src.security.tutorial003 import app\n\
                    client = TestClient(app)\n\
                    def test_login():\n    r = client.post('/token', data={'username': 'a'})\n    \
                    token = r.json()\n";
        assert_eq!(p.reason(test.as_bytes()), None, "{test}");
        // The same with a route, a dependency, or the token sent into a project module.
        assert!(p.keep(format!("{test}@app.get('/')\ndef f():\n    return 1\n").as_bytes()));
        assert!(p.keep(format!("{test}def g(x=Depends(f)):\n    return x\n").as_bytes()));
        assert!(p.keep(format!("{test}from app.crud import save\nsave(token)\n").as_bytes()));
        assert!(p.keep(format!("{test}import app.crud as crud\ncrud.save(token)\n").as_bytes()));
        assert!(p.keep(format!("{test}from .crud import *\n").as_bytes()));
        assert!(p.keep(format!("{test}app.add_api_route('/', f)\n").as_bytes()));
        // Calls into frameworks and the standard library send it nowhere.
        assert!(!p.keep(format!("{test}import json\njson.dumps(token)\n").as_bytes()));
        // A name the data flow does not read as a key, in a web app with handlers.
        let app = "from fastapi import FastAPI\napp = FastAPI()\n@app.get('/')\n";
        assert!(
            !p.keep(format!("{app}def f(hero: Hero):\n    return hero.secret_name\n").as_bytes())
        );
        assert!(p.keep(format!("{app}def f(user: User):\n    return user.api_token\n").as_bytes()));
        assert!(p.keep(format!("{app}def f(c=Depends(HTTPBearer())):\n    return c\n").as_bytes()));
    }

    /// [`Prefilter::answer`] (one scan) says what the separate scans say: the rules of
    /// [`Prefilter::rules_for`] (the same when the shapes were not looked at, some of them
    /// otherwise: [`Answer::rules`]) and [`Prefilter::calls_project`], over the fixtures, a
    /// directive and a configured name, and the FastAPI corpus when it was fetched.
    #[test]
    fn one_answer_is_the_separate_scans() {
        fn python_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    python_files(&path, out);
                } else if path.extension().is_some_and(|e| e == "py") {
                    out.push(path);
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        python_files(&root.join("fixtures"), &mut files);
        python_files(&root.join(".bench-cache/src/fastapi"), &mut files);
        let mut texts: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
        texts.push(b"import os\nk = os.environ['API_KEY']  # keylint: disable=KL102\n".to_vec());
        texts.push(b"STRIPE = 'x8Fq2LmZ'\nrequests.get(u, auth=STRIPE)\n".to_vec());
        texts.push(b"from .crud import save\napi_key = 'x8Fq2LmZ'\nsave(api_key)\n".to_vec());
        let (mut kept, mut lexed) = (0, 0);
        for p in [Prefilter::new(&[]), Prefilter::new(&["stripe".into()])] {
            for bytes in &texts {
                let answer = p.answer(bytes);
                let reason = answer.reason();
                kept += usize::from(reason.is_some());
                lexed += usize::from(answer.tokens.is_some());
                let (shaped, separate) = (
                    answer.rules().codes_that_may_report(),
                    p.rules_for(bytes, reason).codes_that_may_report(),
                );
                if answer.shaped.is_none() {
                    assert_eq!(shaped, separate, "{}", String::from_utf8_lossy(bytes));
                } else {
                    assert!(
                        shaped.iter().all(|c| separate.contains(c)),
                        "{}",
                        String::from_utf8_lossy(bytes)
                    );
                }
                assert_eq!(answer.calls_project(bytes), p.calls_project(bytes));
            }
        }
        assert!(kept > 0 && lexed > 0 && kept < 2 * texts.len());
    }

    /// The module of `fixtures/projects/dropped_global` the route imports its key from is
    /// skipped (`project_cli` checks that `keylint check` still reads it for the route).
    #[test]
    fn the_dropped_global_fixture_s_config_module_is_skipped() {
        let p = Prefilter::new(&[]);
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fixtures/projects/dropped_global"
        );
        let read = |f: &str| std::fs::read(format!("{dir}/{f}")).unwrap();
        assert_eq!(p.reason(&read("config.py")), None);
        assert!(p.keep(&read("main.py")));
    }

    #[test]
    fn comparisons_in_asserts_and_passwords_outside_credential_calls() {
        let p = Prefilter::new(&[]);
        // KL205 skips `assert` statements.
        assert!(!p.keep(b"def test():\n    assert r.json() == {'token': t}\n"));
        assert!(p.keep(b"def f():\n    if r.json() == {'token': t}:\n        pass\n"));
        assert!(p.keep(b"assert x; ok = token == t\n"));
        // An unclosed bracket runs the assertion over the next statements.
        assert!(p.keep(b"assert f(\nif token == t:\n    pass\n"));
        // A password in a dict or bound to a name is judged like any secret; passed as a
        // keyword argument, any value but a marker is live.
        assert!(!p.keep(b"r = client.post('/login', data={'password': 'secret'})\n"));
        assert!(!p.keep(b"PASSWORD = 'secret'\n"));
        assert!(p.keep(b"db = connect(password='secret')\n"));
        assert!(p.keep(b"d = {'password': 'hunter2hunter2'}\n"));
        // A label that spells its name.
        assert!(!p.keep(b"ERR_BAD_TOKEN = 'bad-token'\n"));
        // `("NAME", "…")` is the fallback of an environment read only.
        assert!(!p.keep(b"r = client.post('/token', data={'username': 'someone'})\n"));
        assert!(p.keep(b"import os\nt = os.environ.get('API_TOKEN', 'x8Fq2LmZ')\n"));
        assert!(p.keep(b"from os import getenv as g\nt = g('API_TOKEN', 'x8Fq2LmZ')\n"));
    }

    #[test]
    fn web_app_words_that_read_nothing() {
        let p = Prefilter::new(&[]);
        // With a log call: the request, read, has a sink (`handler_shapes_need_their_sink`).
        let app = "import logging\nfrom fastapi import FastAPI\napp = FastAPI()\nlogging.info(x)\n";
        let keeps = |body: &str| p.keep(format!("{app}{body}\n").as_bytes());
        // Headers sent by a test client, a module path, pydantic's model configuration.
        assert!(!keeps("r = client.get('/', headers={'X-Custom': 'x'})"));
        assert!(!keeps("from docs_src.header_params.tutorial001 import app"));
        assert!(!keeps(
            "from docs_src.path_operation_configuration import app"
        ));
        assert!(!keeps(
            "def test_f():\n    assert response.headers['x-a'] == 'b'"
        ));
        assert!(!keeps(
            "class Item(BaseModel):\n    model_config = ConfigDict(extra='forbid')"
        ));
        assert!(!keeps(
            "class Item(BaseModel):\n    class Config:\n        orm_mode = True"
        ));
        // Headers and the configuration read, a parameter with a default, a settings class.
        assert!(keeps(
            "@app.get('/')\ndef f(request: Request):\n    return request.scope"
        ));
        assert!(keeps(
            "@app.get('/')\ndef f(x_api_key: str = Header()):\n    return x_api_key"
        ));
        assert!(keeps(
            "@app.get('/')\ndef f(x: str = Header(alias='Authorization')):\n    return x"
        ));
        assert!(keeps("def f(request=None):\n    return request"));
        assert!(keeps("f(lambda request=None: request)"));
        assert!(!keeps("r = client.get('/', request=None)"));
        assert!(keeps("from fastapi.security import APIKeyHeader"));
        // A header parameter or header model with no name like a key is no source.
        assert!(!keeps(
            "@app.get('/')\ndef f(user_agent: str = Header()):\n    return user_agent"
        ));
        assert!(!keeps(
            "class CommonHeaders(BaseModel):\n    host: str\n@app.get('/')\n\
             def f(h: Annotated[CommonHeaders, Header()]):\n    return h"
        ));
        assert!(keeps(
            "class CommonHeaders(BaseModel):\n    x_token: str\n@app.get('/')\n\
             def f(h: Annotated[CommonHeaders, Header()]):\n    return h"
        ));
        assert!(keeps(
            "@app.get('/')\nasync def f(req: Request):\n    return req.headers"
        ));
        assert!(keeps("@app.get('/')\ndef f():\n    return settings"));
        let view = "@app.get('/')\ndef f():\n    return 1\n";
        assert!(keeps(&format!(
            "{view}class S(BaseSettings):\n    model_config = SettingsConfigDict()"
        )));
        assert!(keeps(&format!(
            "{view}class Config(BaseSettings):\n    debug: bool = False"
        )));
        // The configuration is exposed by a view (KL302): without one in the file (a settings
        // module, a test that builds the app), it exposes nothing here.
        assert!(!keeps(
            "class S(BaseSettings):\n    model_config = SettingsConfigDict()"
        ));
        assert!(!keeps("def test_f():\n    assert settings.app_name == 'x'"));
        assert!(keeps(
            "app.add_api_route('/', f)\ndef f():\n    return settings"
        ));
        assert!(keeps("@app.route\ndef f():\n    return settings"));
        // An app factory loading a configuration class (KL301 reads the class's `DEBUG`).
        assert!(keeps(
            "def create_app():\n    app.config.from_object(DevConfig)\n    return app"
        ));
    }

    #[test]
    fn a_file_runs_the_rules_whose_shapes_hold() {
        let p = Prefilter::new(&[]);
        let rules = |text: &str| p.answer(text.as_bytes()).rules();
        // A django-like test kept for KL101 (`password="…"`), with `True`, `environ` and a URL
        // with a query elsewhere: KL103's and KL207's words, not their shapes.
        let test = "import os\nfrom django.test import TestCase\n\n\
                    class T(TestCase):\n    def setUp(self):\n        \
                    self.user = make(username='u', password='hunter2x')\n        \
                    os.environ.pop('X')\n        self.ok = True\n        \
                    self.url = '/a/?page=2'\n";
        // (KL102's shape holds too: a secret name and a string in a file that reads the
        // environment.)
        assert_eq!(p.reason(test.as_bytes()), Some("KL102 shape"));
        let words = p.rules(test.as_bytes());
        assert!(words.may_report("KL103") && words.may_report("KL207"));
        let shaped = rules(test);
        assert!(shaped.may_report("KL101") && shaped.may_report("KL102"));
        // (KL207 is never narrowed: it reads more than its line shape.)
        assert!(shaped.may_report("KL207"));
        for code in ["KL103", "KL205", "KL301"] {
            assert!(!shaped.may_report(code), "{code}");
        }
        for code in FILE_SHAPE_RULES {
            assert!(!shaped.may_report(code), "{code}");
        }
        // Each shape found later in the file counts too, whatever the reason.
        let both = format!("{test}DEBUG = os.environ.get('DEBUG', False)\n");
        assert_eq!(p.reason(both.as_bytes()), Some("KL102 shape"));
        assert!(rules(&both).may_report("KL103") && rules(&both).may_report("KL101"));
        // A shape of the whole file (a key-named parameter logged): the data-flow rules run,
        // and so do the one-line rules whose words are there (the data flow crosses statements
        // there: a one-line rule may read it, see the next case).
        let logged = "import logging\ndef f(api_key):\n    logging.info(api_key)\n";
        assert_eq!(p.reason(logged.as_bytes()), Some("name with a log call"));
        assert!(p.rules(logged.as_bytes()).may_report("KL101"));
        assert!(rules(logged).may_report("KL202"));
        assert!(rules(logged).may_report("KL101"));
        // KL205 on a `Header` parameter compared in a line with no secret-like name: the file
        // is kept by a handler's shape, not KL205's line shape, and KL205 must still run.
        let hook =
            "import hashlib\nimport hmac\n\nfrom fastapi import FastAPI, Header, Request\n\n\
                    app = FastAPI()\n\n\n@app.post(\"/hook\")\n\
                    async def hook(request: Request, x_signature: str = Header()):\n    \
                    expected = hmac.new(request.app.state.key, await request.body(), \
                    hashlib.sha256).hexdigest()\n    return expected == x_signature\n";
        assert!(p.reason(hook.as_bytes()).is_some());
        assert!(rules(hook).may_report("KL205"));
        // Kept at a word of KL101 (`smtp.login(user, "…")`): KL101 (and KL207, never narrowed),
        // no data flow needed.
        let login = "def send(smtp, password):\n    smtp.login('u', 'hunter2x')\n";
        assert_eq!(p.reason(login.as_bytes()), Some("credential call"));
        assert!(rules(login).may_report("KL101"));
        for code in FILE_SHAPE_RULES
            .iter()
            .chain(["KL102", "KL103", "KL205", "KL301"].iter())
        {
            assert!(!rules(login).may_report(code), "{code}");
        }
        assert!(!crate::engine::flows_needed(Some(
            &rules(login).codes_that_may_report()
        )));
        // But with a file shape too, the data-flow rules run.
        let both = format!("{login}import logging\ndef g(api_key):\n    logging.info(api_key)\n");
        assert!(rules(&both).may_report("KL202") && rules(&both).may_report("KL101"));
        // A directive: every rule.
        assert!(rules(&format!("{test}x = 1  # keylint: ignore[KL101]\n")).all());
    }

    /// KL101's line shape counts only a literal the rule may judge as the value bound
    /// ([`literals_bound`]): not one inside a call or a subscript of the value, nor one nested
    /// in an element of a sequence.
    #[test]
    fn kl101_s_shape_needs_the_literal_bound() {
        let p = Prefilter::new(&[]);
        let reason = |text: &str| p.reason(text.as_bytes());
        // (Escapes: the value may be anything, so only its position decides.)
        assert_eq!(reason("API_KEYS = [('admin', 'x\\n9f3Qz')]\n"), None);
        assert_eq!(reason("api_key = make(_('x\\n9f3Qz'))\n"), None);
        assert_eq!(reason("api_key = d['x\\n9f3Qz']\n"), None);
        assert_eq!(reason("f(api_key=g('x\\n9f3Qz'))\n"), None);
        for kept in [
            "API_KEYS = ['x\\n9f3Qz']\n",
            "API_KEYS = (['x\\n9f3Qz'])\n",
            "API_KEYS = {'x\\n9f3Qz'}\n",
            "api_key = (('x\\n9f3Qz'))\n",
            "api_key = get('K') or 'x\\n9f3Qz'\n",
            "api_key = (get('K') or 'x\\n9f3Qz')\n",
            "api_key = None or ('x\\n9f3Qz')\n",
            "f(api_key='x\\n9f3Qz', b=g('y'))\n",
            "requests.get(u, auth=('u', 'x\\n9f3Qz'))\n",
            "api_key: Optional[str] = 'x\\n9f3Qz'\n",
        ] {
            assert_eq!(reason(kept), Some("KL101 shape"), "{kept}");
        }
    }

    #[test]
    fn a_credential_call_needs_a_string_password() {
        let p = Prefilter::new(&[]);
        // KL101 reads the second positional argument of `x.login(…)`, a string literal.
        assert_eq!(
            p.reason(b"def f(smtp):\n    smtp.login('user', 'hunter2x')\n"),
            Some("credential call")
        );
        assert_eq!(
            p.reason(
                b"def f(smtp, u):\n    smtp.login(\n        u,\n        ('hunter' 'x'),\n    )\n"
            ),
            Some("credential call")
        );
        // Keyword arguments (a test client's login), or names: no literal of the code there.
        assert_eq!(
            p.reason(b"def t(self):\n    self.client.login(username='u', password=pw)\n"),
            None
        );
        assert_eq!(
            p.reason(b"def f(self):\n    self.connection.login(self.username, self.pwd_x)\n"),
            None
        );
        assert_eq!(p.reason(b"def f(s):\n    s.login(f('a', 'b'))\n"), None);
    }

    #[test]
    fn an_env_flag_needs_an_env_read_s_variable() {
        let p = Prefilter::new(&[]);
        // A flag-like string with `True` in a file that reads the environment elsewhere: no
        // environment read in the statement (its variable a string right after `(` or `[`).
        let options = "import os\nHOME = os.environ['HOME']\nOPTIONS = {'USE_TZ': True}\n";
        assert_eq!(p.reason(options.as_bytes()), None);
        for read in [
            "X = os.getenv('USE_TZ', True)",
            "X = bool(os.environ['USE_TZ'])",
            "X = os.environ.get('USE_TZ', default=False)",
        ] {
            let text = format!("import os\n{read}\n");
            assert_eq!(p.reason(text.as_bytes()), Some("KL103 shape"), "{read}");
        }
    }

    #[test]
    fn a_name_with_a_log_call_needs_a_name_of_key_material() {
        let p = Prefilter::new(&[]);
        // A secret-like word the data flow does not read as key material (`num_tokens`), or a
        // minting word (`uuid`) with no minted key name (`UUIDField`, `primary_key`): no source
        // reaches the log call (the old shape kept both).
        let tokens = "import logging\ndef f(num_tokens):\n    logging.info(num_tokens)\n";
        assert_eq!(p.reason(tokens.as_bytes()), None);
        let uuid = "import logging, uuid\nclass UUIDField(Field):\n    primary_key = False\n    \
                    def to_python(self, value):\n        logging.debug(value)\n        \
                    return uuid.UUID(value)\n";
        assert_eq!(p.reason(uuid.as_bytes()), None);
        // Still kept: a name of key material, or a minted value bound to a key's name, as an
        // identifier, a keyword argument or a string key.
        assert!(p.keep(b"import logging\ndef f(api_token):\n    logging.info(api_token)\n"));
        for minted in [
            "key = uuid.uuid4().hex",
            "obj.key = str(uuid4())",
            "make(key=uuid4())",
            "d['key'] = uuid4()",
            "d = {'key': uuid4()}",
            "d = {'k' 'ey': uuid4()}",
        ] {
            let text = format!(
                "import logging, uuid\ndef f(d, obj):\n    {minted}\n    logging.info(d)\n"
            );
            assert_eq!(
                p.reason(text.as_bytes()),
                Some("name with a log call"),
                "{minted}"
            );
        }
    }

    #[test]
    fn a_name_with_a_log_call_needs_the_call_s_names() {
        let p = Prefilter::new(&[]);
        let keeps = |body: &str| p.keep(format!("def f(self, api_key):\n{body}\n").as_bytes());
        // Log words that make no logging call (`frameworks::is_log_call`).
        assert!(!keeps("    self.assertWarns(RuntimeWarning, g, api_key)"));
        assert!(!keeps(
            "    call_command('x', stdout=self.stdout, password=api_key)"
        ));
        assert!(!keeps(
            "    with warnings.catch_warnings():\n        g(api_key)"
        ));
        assert!(!keeps("    self.logged_in(api_key)"));
        assert!(!keeps("    logger_name = api_key"));
        // Logging calls, as written or through an import or a binding.
        assert!(keeps("    print(api_key)"));
        assert!(keeps("    warnings.warn(api_key)"));
        assert!(keeps("    warnings.warn('k: %s' % api_key, UserWarning)"));
        assert!(keeps("    warnings.warn(f'k: {api_key}', stacklevel=2)"));
        assert!(keeps("    w = warnings.warn\n    w(api_key)"));
        assert!(keeps(
            "    warnings.warn('x', category=UserWarning)\n    warnings.warn(api_key)"
        ));
        assert!(!keeps(
            "    warnings.warn('k', RemovedInDjango60Warning, stacklevel=2)"
        ));
        assert!(!keeps(
            "    warnings.warn(\n        'a' 'b',\n        category=UserWarning,\n    )"
        ));
        assert!(keeps(
            "    from warnings import warn as emit\n    emit(api_key)"
        ));
        assert!(keeps("    import sys\n    sys.stderr.write(api_key)"));
        assert!(keeps(
            "    from sys import stdout\n    stdout.write(api_key)"
        ));
        assert!(keeps("    logging.info(api_key)"));
        assert!(keeps(
            "    from logging import error as oops\n    oops(api_key)"
        ));
        assert!(keeps("    self.logger.warning(api_key)"));
        assert!(keeps("    app.logger.log(20, api_key)"));
        assert!(keeps("    LOG.fatal(api_key)"));
        assert!(keeps("    _log.exception(api_key)"));
        assert!(keeps("    structlog.get_logger().debug(api_key)"));
        assert!(keeps(
            "    from loguru import logger\n    logger.critical(api_key)"
        ));
        assert!(keeps("    log.info(api_key)"));
        assert!(keeps("    from logging import *\n    info(api_key)"));
        assert!(keeps("    import sys as s\n    s.stdout.write(api_key)"));
        assert!(keeps("    out = sys.stdout\n    out.write(api_key)"));
        // Names that make no call: a variable `log`, an exception read, a test's own stdout.
        assert!(!keeps(
            "    log = LogEntry.get(api_key)\n    log.get_change_message()"
        ));
        assert!(!keeps(
            "    with self.assertRaises(E) as cm:\n        g(api_key)\n    cm.exception"
        ));
        assert!(!keeps("    import sys\n    self.stdout.write(api_key)"));
        assert!(!keeps("    import logging\n    x = 'logging.info' + info"));
        // The names must be code: in a string or a comment they make no call.
        assert!(!keeps("    g(api_key)  # logging.info(api_key)"));
        assert!(!keeps("    g(api_key, 'logging.info')"));
    }

    #[test]
    fn words_where_the_rules_read_them() {
        let p = Prefilter::new(&[]);
        // Token formats in strings only; key-taking calls in code only.
        assert!(p.keep(b"k = f'https://x.example/?key=AIza{rest}'\n"));
        assert!(!p.keep(b"# AKIA... is an AWS key id\nx = 1\n"));
        assert!(p.keep(b"import jwt\n"));
        assert!(!p.keep(b"x = 'see the jwt docs'\n"));
        // Framework names are whole names.
        assert!(
            !p.keep(b"class QuartetAdmin:\n    def f(self, settings):\n        return settings\n")
        );
        // KL205: `token.kind == x` compares `kind`, `tokens[1] == x` compares an element.
        assert!(!p.keep(b"if token.token_type == TokenType.TEXT:\n    pass\n"));
        assert!(p.keep(b"if self.token == token2:\n    pass\n"));
        // KL103: `bool` called.
        assert!(!p.keep(b"import os\nx: bool = f('DEBUG')\n"));
        // Settings classes are bases.
        assert!(p.keep(b"class S(BaseSettings):\n    api_key: str\nprint(S().api_key)\n"));
        assert!(!p.keep(
            b"class DjangoAdminSettings(TestCase):\n    api_key = None\nhttpx.get(api_key)\n"
        ));
    }

    #[test]
    fn environment_and_debug() {
        let p = Prefilter::new(&[]);
        assert!(p.keep(b"import os\nDEBUG = bool(os.environ.get('DEBUG', 'False'))\n"));
        assert!(p.keep(b"from os import getenv as g\nX = g('DEBUG_SQL', False)\n"));
        assert!(p.keep(b"import os\nSTRIPE_KEY = os.getenv('STRIPE_API_KEY')\n"));
        assert!(!p.keep(b"import os\nHOME = os.environ['HOME']\n"));
        assert!(!p.keep(b"import os\nconn.settings_dict['ATOMIC_REQUESTS'] = True\n"));
        assert!(p.keep(b"import os\nX = os.environ.get('ENABLE_CACHE', True)\n"));
        assert!(p.keep(b"app.run(debug=True)\n"));
        assert!(p.keep(b"app.debug = True\n"));
        assert!(p.keep(b"class Config:\n    DEBUG: bool = True\n"));
        assert!(p.keep(b"app.config['DEBUG'] = True\n"));
        assert!(p.keep(b"app.config.update(\n    DEBUG=True,\n)\n"));
        assert!(p.keep(b"from fastapi import FastAPI as F\napi = F(debug=True)\n"));
        assert!(!p.keep(b"@override_settings(DEBUG=True)\ndef test(self):\n    pass\n"));
        assert!(!p.keep(b"DEBUG = False\nlogger_enabled = True\n"));
        assert!(!p.keep(b"settings.DEBUG = True\nconnection.settings_dict['DEBUG'] = True\n"));
        assert!(p.keep(b"my_app.debug = True\n"));
        assert!(p.keep(b"create_app().debug = True\n"));
        assert!(p.keep(
            b"from werkzeug.serving import run_simple as rs\nrs('h', 1, a, use_debugger=True)\n"
        ));
    }
}
