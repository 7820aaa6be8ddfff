//! What one item contributes to the model ([`ItemFacts`]) and the facts it is made of: bindings,
//! classes, functions, imports, the role of a handler.

use std::hash::Hash;

use crate::syntax;

/// A module-level name bound to a value we can describe.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Binding {
    /// `import a.b as x` → `a.b`; `from a import b as x` → `a.b`.
    Import(String),
    /// `x = f(...)`, with `f` written as in the source (resolved through [`Model::resolve_path`]).
    /// `first_str_arg` is the first positional argument when it is a string literal
    /// (`boto3.resource("dynamodb")`).
    Call {
        callee: Vec<String>,
        first_str_arg: Option<String>,
    },
    /// `x = "literal"` at module level (only the fact that it is a literal string, never the value).
    StrLiteral,
    /// `def x` / `class x` at module level.
    Def,
    /// Anything else.
    Other,
}

/// Facts about one class (aggregated from its header and the items of its body).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ClassFact {
    pub name: String,
    /// Base classes as written (`BaseModel`, `pydantic.BaseModel`, `Config`).
    pub bases: Vec<Vec<String>>,
    /// Body assigns `TESTING = True` (or `DEBUG`-style development flags; see [`ClassFact::is_dev_or_test`]).
    pub testing_true: bool,
    /// Body assigns `DEBUG = True` (KL301 reads it; the project model keeps such a class in its
    /// module's summary, for `app.config.from_object(…)` in another module).
    pub debug_true: bool,
    /// Annotated fields of the body (`api_key: str`, `token: SecretStr = Field(...)`), in order.
    pub fields: Vec<String>,
    /// The fields of [`ClassFact::fields`] whose annotation is a masked secret type (pydantic's
    /// `SecretStr`/`SecretBytes`, `Optional[SecretStr]`, `SecretStr | None`, aliases included): their
    /// `str()`/`repr()` and dumps show `**********`, only `.get_secret_value()` unmasks them.
    pub masked: Vec<String>,
    /// Class attributes whose last binding in the body is a string literal
    /// (`reset_url_token = "set-password"`): constants of the code (never their values).
    pub str_consts: Vec<String>,
    /// Attributes its methods assign on the instance (`self.api_token = token`).
    pub self_assigned: Vec<String>,
    /// Attributes its methods assign a call to, with the callee as written (`self._table =
    /// dynamodb.Table(name)` → `("_table", ["dynamodb", "Table"])`; `self.repo = Repo()`): the
    /// last such assignment of an attribute wins. The data flow reads them as handles and
    /// instances inside every method.
    pub self_handles: Vec<(String, Vec<String>)>,
    /// Index of the class that contains this one, if nested.
    pub parent: Option<usize>,
}

impl ClassFact {
    /// A development or test configuration class: named `Dev*`, `Test*`, `Local*` (also `*Dev`,
    /// `*Test`, `*Testing`, `*Development`, `*Local`), or with `TESTING = True` in its body.
    pub fn is_dev_or_test(&self) -> bool {
        if self.testing_true {
            return true;
        }
        let words = syntax::name_words(&self.name);
        words.iter().any(|w| {
            matches!(
                w.as_str(),
                "dev" | "development" | "test" | "tests" | "testing" | "local" | "debug"
            )
        })
    }

    /// The field's annotation is a masked secret type (see [`ClassFact::masked`]).
    pub fn is_masked(&self, field: &str) -> bool {
        self.masked.iter().any(|m| m == field)
    }
}

/// Facts about one function definition (module-level function or method).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FunctionFact {
    pub name: String,
    /// Index into [`Model::classes`] when it is a method.
    pub class: Option<usize>,
    /// Decorator callees as written (`app.get`, `router.post`, `bp.route`, `app.errorhandler`).
    pub decorators: Vec<Vec<String>>,
    pub is_async: bool,
}

/// What one item contributes to the model. Extracted from the item alone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ItemFacts {
    /// (bound name, binding), in order.
    pub bindings: Vec<(String, Binding)>,
    /// Imports of this item: (bound name, qualified module path, is a plain `import x`).
    pub imports: Vec<ImportFact>,
    /// A class header (for class-header items).
    pub class: Option<ClassFact>,
    /// The body of the enclosing class assigns `TESTING = True`.
    pub sets_testing_true: bool,
    /// The body of the enclosing class assigns `DEBUG = True`.
    pub sets_debug_true: bool,
    /// An annotated class-body field name.
    pub field: Option<String>,
    /// The types its annotation names, as written (`Optional[SecretStr]` → `Optional`,
    /// `SecretStr`); calls and literals inside it (`Field(...)`) are not read.
    pub field_types: Vec<Vec<String>>,
    /// Attributes a method assigns on `self` (`self.api_token = token`), for methods.
    pub self_assigned: Vec<String>,
    /// Of those, the ones assigned a call, with its callee as written (see
    /// [`ClassFact::self_handles`]).
    pub self_handles: Vec<(String, Vec<String>)>,
    /// Functions defined by this item (top-level or method).
    pub functions: Vec<FunctionFact>,
    /// Names registered by call as handlers: `app.register_error_handler(E, f)`,
    /// `app.add_exception_handler(E, f)`, `app.add_url_rule(..., view_func=f)`, `app.add_api_route(.., f)`.
    pub registered_handlers: Vec<(String, HandlerKind)>,
    /// The first argument of each `register_error_handler(E, f)` / `add_exception_handler(E, f)`:
    /// `(f, E as written)` (`404`, `WrongParameterException`, `Exception`).
    pub registered_error_types: Vec<(String, String)>,
    /// Values this item checks before use (see [`validation::validated_names`]).
    pub validated: Vec<String>,
    /// `NAME = ["A", "B"]`: a name bound to a sequence of string literals.
    pub string_list: Option<(String, Vec<String>)>,
    /// `NAME = {"development": DevelopmentConfig, "production": "app.config.ProductionConfig"}`
    /// (or `dict(dev=DevConfig, …)`) at module level: a name bound to a mapping whose every value
    /// names a class, encoded as [`ItemFacts::config_loads`] entries (the map a
    /// `from_object(NAME[key])` chooses from).
    pub class_map: Option<(String, Vec<String>)>,
    /// Top-level functions whose `return` is a call, with that call's callee as written
    /// (`def get_table(): return dynamodb.Table("t")` → `("get_table", ["dynamodb", "Table"])`),
    /// or a name of the module, behind a `=` (`def get_repo(): return repo` → `("get_repo",
    /// ["=repo"]`): no callee resolves through it, the project model reads it as the module-level
    /// instance the function hands out.
    pub returns: Vec<(String, Vec<String>)>,
    /// The classes this item loads as a Flask configuration (`app.config.from_object(Config)`,
    /// `from_object(config.ProductionConfig)`, `from_object("app.config.ProductionConfig")`), in
    /// order: a name or dotted name as written (`Config`, `config.ProductionConfig`), a string
    /// literal behind a `"` (`"app.config.ProductionConfig`). A call inside the branch of an `if`
    /// whose condition names a development or test setting (`if env == "development":`) is
    /// left out: that class is loaded only there. A class chosen through a mapping
    /// (`from_object(config[name])`) is the mapping's name or dotted name behind a `[`
    /// (`[config`, `[settings.config`): every class of the mapping is loaded ([`ItemFacts::class_map`]).
    pub config_loads: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImportFact {
    pub bound: String,
    pub qualified: String,
    pub plain: bool,
}

/// The role a function plays for a web framework.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HandlerKind {
    /// A request handler (`@app.route`, `@app.get`, `@bp.post`, `@router.put`, `add_url_rule`).
    Route,
    /// An error handler (`@app.errorhandler`, `@app.exception_handler`, `register_error_handler`).
    ErrorHandler,
}

/// Route or error handler, from a decorator's qualified callee.
pub fn handler_kind_of_decorator(qualified: &str) -> Option<HandlerKind> {
    let (object, method) = qualified.rsplit_once('.')?;
    let app_like = object.ends_with("()")
        && [
            "flask.Flask()",
            "flask.Blueprint()",
            "fastapi.FastAPI()",
            "fastapi.APIRouter()",
            "fastapi.routing.APIRouter()",
            "flask.blueprints.Blueprint()",
            "quart.Quart()",
            "starlette.applications.Starlette()",
        ]
        .iter()
        .any(|known| object == *known || object.ends_with(&format!(".{known}")));
    // An app object we cannot resolve (passed in, created by a factory) still counts when the
    // decorator's shape is unmistakable.
    let looks_like_app = app_like || object.ends_with(".app") || object == "app";
    if !looks_like_app && !app_like {
        return None;
    }
    match method {
        "route" | "get" | "post" | "put" | "patch" | "delete" | "head" | "options"
        | "api_route" | "websocket" => Some(HandlerKind::Route),
        "errorhandler" | "exception_handler" | "app_errorhandler" => {
            Some(HandlerKind::ErrorHandler)
        }
        _ => None,
    }
}
