//! Extracting an item's facts from its syntax ([`item_facts`]): assignments, classes and their
//! attributes, functions, handler registrations.

use std::borrow::Cow;
use std::sync::LazyLock;

use tree_sitter::Node;

use super::validation;
use crate::document::SourceText;
use crate::syntax::{self, dotted_path, string_value, KindSet, NodeExt};

use super::facts::{Binding, ClassFact, FunctionFact, HandlerKind, ImportFact, ItemFacts};

/// The node kinds the walks below look at; the others are skipped by a bit test of the kind id
/// the item's index holds (no call into tree-sitter for each node of a function body).
static FACTORY_KINDS: LazyLock<KindSet> =
    LazyLock::new(|| KindSet::of(&["function_definition", "class_definition", "lambda", "call"]));
static ASSIGNMENT_KINDS: LazyLock<KindSet> =
    LazyLock::new(|| KindSet::of(&["assignment", "augmented_assignment"]));
static RETURNED_KINDS: LazyLock<KindSet> = LazyLock::new(|| {
    KindSet::of(&[
        "function_definition",
        "class_definition",
        "lambda",
        "assignment",
        "return_statement",
        "yield",
    ])
});

/// Extracts the facts of one item. `node` is a top-level statement, a class-body statement, or a
/// class header (`header == true`: only the class name and bases are read).
pub fn item_facts(item: &crate::syntax::Item, src: SourceText) -> ItemFacts {
    let (node, header) = (item.node, item.header);
    let mut facts = ItemFacts::default();
    if header {
        let class = syntax::definition(node);
        let name = class
            .field("name")
            .map(|n| src.node_text(n).into_owned())
            .unwrap_or_default();
        let mut bases = Vec::new();
        if let Some(args) = class.field("superclasses") {
            let mut cursor = args.walk();
            for arg in args.named_children(&mut cursor) {
                if let Some(path) = dotted_path(arg, src) {
                    bases.push(path);
                }
            }
        }
        facts.class = Some(ClassFact {
            name: name.clone(),
            bases,
            ..ClassFact::default()
        });
        facts.bindings.push((name, Binding::Def));
        return facts;
    }
    collect_statement(item, node, src, &mut facts);
    facts.validated = validation::validated_names(item.nodes().walk(), src);
    if node.kind_str() == "expression_statement" {
        facts.string_list = validation::string_list(node, src);
        facts.class_map = class_map(node, src);
    }
    facts
}

/// Facts of one statement; compound statements at module level (`if`, `try`, `with`) are looked
/// into, function bodies are not.
fn collect_statement<'t>(
    item: &crate::syntax::Item<'t>,
    node: Node<'t>,
    src: SourceText,
    facts: &mut ItemFacts,
) {
    match node.kind_str() {
        "import_statement" => {
            let mut cursor = node.walk();
            for name in node.children_by_field_name("name", &mut cursor) {
                match name.kind_str() {
                    "dotted_name" => {
                        let path = dotted_path(name, src).unwrap_or_default();
                        if let Some(first) = path.first() {
                            // `import a.b` binds `a`.
                            facts.imports.push(ImportFact {
                                bound: first.clone(),
                                qualified: first.clone(),
                                plain: true,
                            });
                            facts
                                .bindings
                                .push((first.clone(), Binding::Import(first.clone())));
                        }
                    }
                    "aliased_import" => {
                        let path = name
                            .field("name")
                            .and_then(|n| dotted_path(n, src))
                            .unwrap_or_default()
                            .join(".");
                        if let Some(alias) = name.field("alias") {
                            let alias = src.node_text(alias).into_owned();
                            facts.imports.push(ImportFact {
                                bound: alias.clone(),
                                qualified: path.clone(),
                                plain: true,
                            });
                            facts.bindings.push((alias, Binding::Import(path)));
                        }
                    }
                    _ => {}
                }
            }
        }
        "import_from_statement" => {
            let module = node
                .field("module_name")
                .map(|m| {
                    if m.kind_str() == "relative_import" {
                        src.node_text(m).into_owned()
                    } else {
                        dotted_path(m, src).unwrap_or_default().join(".")
                    }
                })
                .unwrap_or_default();
            let mut cursor = node.walk();
            for name in node.children_by_field_name("name", &mut cursor) {
                let (orig, bound) = match name.kind_str() {
                    "dotted_name" => {
                        let p = dotted_path(name, src).unwrap_or_default().join(".");
                        (p.clone(), p)
                    }
                    "aliased_import" => {
                        let orig = name
                            .field("name")
                            .and_then(|n| dotted_path(n, src))
                            .unwrap_or_default()
                            .join(".");
                        let alias = name
                            .field("alias")
                            .map(|a| src.node_text(a).into_owned())
                            .unwrap_or_else(|| orig.clone());
                        (orig, alias)
                    }
                    _ => continue,
                };
                let qualified = format!("{module}.{orig}");
                facts.imports.push(ImportFact {
                    bound: bound.clone(),
                    qualified: qualified.clone(),
                    plain: false,
                });
                facts.bindings.push((bound, Binding::Import(qualified)));
            }
        }
        "expression_statement" => {
            let mut cursor = node.walk();
            for child in node.named_children(&mut cursor) {
                match child.kind_str() {
                    "assignment" => collect_assignment(child, src, facts),
                    "call" => collect_registration(child, src, facts),
                    _ => {}
                }
            }
        }
        "function_definition" | "decorated_definition" | "class_definition" => {
            let def = syntax::definition(node);
            if let Some(name) = def.field("name") {
                let name = src.node_text(name).into_owned();
                if def.kind_str() == "function_definition" {
                    // `node` is the statement: no climb to the definition's parent.
                    let decorators = syntax::statement_decorators(node)
                        .into_iter()
                        .filter_map(|d| {
                            let callee = if d.kind_str() == "call" {
                                d.field("function")?
                            } else {
                                d
                            };
                            dotted_path(callee, src)
                        })
                        .collect();
                    let is_async = def
                        .child(0)
                        .is_some_and(|first| src.node_text(first) == "async");
                    facts.functions.push(FunctionFact {
                        name: name.clone(),
                        class: None,
                        decorators,
                        is_async,
                    });
                    if let Some(callee) = returned_callee(item, def, src) {
                        facts.returns.push((name.clone(), callee));
                    }
                    (facts.self_assigned, facts.self_handles) = self_assigned(item, def, src);
                    // Handlers registered inside an app factory (`def create_app(): …
                    // app.register_error_handler(500, on_error)`).
                    if let Some(body) = def.field("body") {
                        let mut walk = item.descendants(body);
                        while let Some(n) = walk.next() {
                            if !FACTORY_KINDS.contains(walk.kind()) {
                                continue;
                            }
                            match n.kind_str() {
                                "function_definition" | "class_definition" | "lambda" => {
                                    walk.skip_children()
                                }
                                "call" => {
                                    let registers = n
                                        .field("function")
                                        .filter(|f| f.kind_str() == "attribute")
                                        .and_then(|f| f.field("attribute"))
                                        .is_some_and(|a| {
                                            matches!(
                                                src.node_text(a).as_ref(),
                                                "register_error_handler"
                                                    | "add_exception_handler"
                                                    | "add_url_rule"
                                                    | "add_api_route"
                                                    | "add_route"
                                                    | "from_object"
                                            )
                                        });
                                    if registers {
                                        collect_registration(n, src, facts);
                                    }
                                }
                                _ => {}
                            }
                        }
                    }
                }
                facts.bindings.push((name, Binding::Def));
            }
        }
        "if_statement" | "try_statement" | "with_statement" | "else_clause" | "elif_clause"
        | "except_clause" | "finally_clause" | "block" => {
            let mut cursor = node.walk();
            for child in node.named_children(&mut cursor) {
                if matches!(
                    child.kind_str(),
                    "block" | "else_clause" | "elif_clause" | "except_clause" | "finally_clause"
                ) || child.parent().is_some_and(|p| p.kind_str() == "block")
                {
                    collect_statement(item, child, src, facts);
                }
            }
        }
        _ => {}
    }
}

fn collect_assignment(assign: Node, src: SourceText, facts: &mut ItemFacts) {
    let Some(left) = assign.field("left") else {
        return;
    };
    // A class-body field annotation: `api_key: str` / `api_key: str = Field(...)`.
    if let (Some(ty), "identifier") = (assign.field("type"), left.kind_str()) {
        facts.field = Some(src.node_text(left).into_owned());
        facts.field_types = annotation_types(ty, src);
    }
    let Some(right) = assign.field("right") else {
        return;
    };
    if left.kind_str() != "identifier" {
        return;
    }
    let name = src.node_text(left).into_owned();
    if name == "TESTING" && src.node_text(right) == "True" {
        facts.sets_testing_true = true;
    }
    if name == "DEBUG" && src.node_text(right) == "True" {
        facts.sets_debug_true = true;
    }
    let right = syntax::unparenthesize(right);
    let binding = match right.kind_str() {
        "call" => match right.field("function") {
            Some(f) => {
                let callee = callee_path(f, src);
                let first_str_arg = syntax::positional_args(right)
                    .first()
                    .and_then(|a| string_value(*a, src));
                match callee {
                    Some(callee) => Binding::Call {
                        callee,
                        first_str_arg,
                    },
                    None => Binding::Other,
                }
            }
            None => Binding::Other,
        },
        "string" | "concatenated_string" => Binding::StrLiteral,
        _ => Binding::Other,
    };
    facts.bindings.push((name, binding));
}

/// The attributes a method assigns on its instance (`self.api_token = …`, `self.n += 1`), when
/// its first parameter is `self`; and those assigned a call, with its callee as written
/// (`self._table = dynamodb.Table(name)`; the last assignment wins, anything else than a call
/// forgets it).
#[allow(clippy::type_complexity)]
fn self_assigned<'t>(
    item: &crate::syntax::Item<'t>,
    def: Node<'t>,
    src: SourceText,
) -> (Vec<String>, Vec<(String, Vec<String>)>) {
    let first = def.field("parameters").and_then(|p| p.named_child(0));
    let receiver = match first {
        Some(p) if p.kind_str() == "identifier" => src.node_text(p),
        _ => return (Vec::new(), Vec::new()),
    };
    if receiver != "self" {
        return (Vec::new(), Vec::new());
    }
    let mut out: Vec<String> = Vec::new();
    let mut handles: Vec<(String, Vec<String>)> = Vec::new();
    let Some(body) = def.field("body") else {
        return (out, handles);
    };
    let mut walk = item.descendants(body);
    while let Some(n) = walk.next() {
        if !ASSIGNMENT_KINDS.contains(walk.kind()) {
            continue;
        }
        let Some(left) = n.field("left") else {
            continue;
        };
        // The target itself, or the elements of a tuple or list of targets (an identifier has
        // none); read without a cursor.
        let targets = (left.kind_str() == "attribute")
            .then_some(left)
            .into_iter()
            .chain(
                (left.kind_str() != "attribute")
                    .then(|| syntax::named_children(left))
                    .into_iter()
                    .flatten(),
            );
        for t in targets {
            if t.kind_str() != "attribute" {
                continue;
            }
            let (Some(obj), Some(attr)) = (t.field("object"), t.field("attribute")) else {
                continue;
            };
            if src.node_text(obj) == "self" {
                let attr = src.node_text(attr).into_owned();
                handles.retain(|(a, _)| *a != attr);
                let value = n
                    .field("right")
                    .map(syntax::unparenthesize)
                    .filter(|r| n.kind_str() == "assignment" && t == left && r.kind_str() == "call")
                    .and_then(|r| callee_path(r.field("function")?, src));
                if let Some(callee) = value {
                    handles.push((attr.clone(), callee));
                }
                if !out.contains(&attr) {
                    out.push(attr);
                }
            }
        }
    }
    (out, handles)
}

/// The types an annotation names, as written: every name or dotted name outside calls and
/// literals (`Annotated[Optional[SecretStr], Field(min_length=8)]` → `Annotated`, `Optional`,
/// `SecretStr`).
fn annotation_types(ty: Node, src: SourceText) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut walk = syntax::descendants(ty);
    while let Some(n) = walk.next() {
        match n.kind() {
            "call" | "string" | "concatenated_string" | "keyword_argument" => walk.skip_children(),
            "identifier" | "attribute" => {
                if let Some(path) = dotted_path(n, src) {
                    out.push(path);
                    walk.skip_children();
                }
            }
            _ => {}
        }
    }
    out
}

/// The callee of a call as a path, looking through inner calls: `boto3.resource("x").Table` →
/// `["boto3", "resource()", "Table"]` is flattened to `["boto3.resource()", "Table"]`'s resolution
/// order by [`Model::resolve_path`], which sees `resource()` as a plain part.
fn callee_path(node: Node, src: SourceText) -> Option<Vec<String>> {
    match node.kind_str() {
        "identifier" => Some(vec![src.node_text(node).into_owned()]),
        "attribute" => {
            let mut p = callee_path(node.field("object")?, src)?;
            p.push(src.node_text(node.field("attribute")?).into_owned());
            Some(p)
        }
        "call" => {
            let mut p = callee_path(node.field("function")?, src)?;
            let last = p.pop()?;
            p.push(format!("{last}()"));
            Some(p)
        }
        _ => None,
    }
}

/// The callee of the call a function returns (`return boto3.resource("dynamodb").Table(name)`),
/// when every `return` (or `yield`: a dependency, a factory) of its own body gives a call to the
/// same callee, directly or through a local name assigned that call (`repo = Repo(t); yield repo`).
fn returned_callee<'t>(
    item: &crate::syntax::Item<'t>,
    def: Node<'t>,
    src: SourceText,
) -> Option<Vec<String>> {
    let body = def.field("body")?;
    let mut found: Option<Vec<String>> = None;
    // Local names assigned a call (`repo = Repo(table)`), with the call's function, for
    // `return repo` / `yield repo` (its path is built there: most assignments are never
    // returned); `None` once assigned anything else.
    let mut locals: Vec<(Cow<str>, Option<Node>)> = Vec::new();
    let mut walk = item.descendants(body);
    while let Some(n) = walk.next() {
        if !RETURNED_KINDS.contains(walk.kind()) {
            continue;
        }
        match n.kind_str() {
            "function_definition" | "class_definition" | "lambda" => walk.skip_children(),
            "assignment" => {
                let Some(left) = n.field("left").filter(|l| l.kind_str() == "identifier") else {
                    continue;
                };
                let name = src.node_text(left);
                let callee = n
                    .field("right")
                    .map(syntax::unparenthesize)
                    .filter(|r| r.kind_str() == "call")
                    .and_then(|r| r.field("function"));
                locals.retain(|(l, _)| *l != name);
                locals.push((name, callee));
            }
            // A dependency or factory with `yield` gives what it yields.
            // (The `yield` keyword inside it is an unnamed node of the same kind.)
            "return_statement" | "yield" if n.is_named() => {
                let value = syntax::unparenthesize(n.named_child(0)?);
                let callee = match value.kind_str() {
                    "call" => callee_path(value.field("function")?, src)?,
                    "identifier" => {
                        let name = src.node_text(value);
                        match locals.iter().find(|(l, _)| *l == name) {
                            Some((_, f)) => callee_path((*f)?, src)?,
                            // A name of the module (`repo = Repo(table)` at module level, or
                            // imported): `=` and the name (see [`ItemFacts::returns`]).
                            None if !is_parameter(def, &name, src) => vec![format!("={name}")],
                            None => return None,
                        }
                    }
                    _ => return None,
                };
                match &found {
                    Some(f) if *f != callee => return None,
                    _ => found = Some(callee),
                }
            }
            _ => {}
        }
    }
    found
}

/// `name` is a parameter of the function `def`.
fn is_parameter(def: Node, name: &str, src: SourceText) -> bool {
    let Some(params) = def.field("parameters") else {
        return false;
    };
    let mut cursor = params.walk();
    let found = params.named_children(&mut cursor).any(|p| {
        let id = match p.kind_str() {
            "identifier" => Some(p),
            "default_parameter" | "typed_default_parameter" => p.field("name"),
            "typed_parameter" | "list_splat_pattern" | "dictionary_splat_pattern" => {
                p.named_child(0)
            }
            _ => None,
        };
        id.is_some_and(|id| src.node_text(id) == name)
    });
    found
}

fn collect_registration(call: Node, src: SourceText, facts: &mut ItemFacts) {
    let Some(f) = call.field("function") else {
        return;
    };
    let Some(path) = dotted_path(f, src) else {
        return;
    };
    let Some(method) = path.last() else { return };
    let args = syntax::positional_args(call);
    let name_of = |n: Option<&Node>| {
        n.filter(|n| n.kind_str() == "identifier")
            .map(|n| src.node_text(*n).into_owned())
    };
    match method.as_str() {
        "register_error_handler" | "add_exception_handler" => {
            if let Some(name) = name_of(args.get(1)) {
                if let Some(ty) = args.first() {
                    facts
                        .registered_error_types
                        .push((name.clone(), src.node_text(*ty).into_owned()));
                }
                facts
                    .registered_handlers
                    .push((name, HandlerKind::ErrorHandler));
            }
        }
        "add_url_rule" | "add_api_route" | "add_route" => {
            let view = syntax::keyword_arg(call, "view_func", src)
                .or_else(|| syntax::keyword_arg(call, "endpoint", src))
                .or_else(|| {
                    args.get(if method == "add_url_rule" { 2 } else { 1 })
                        .copied()
                });
            if let Some(name) = name_of(view.as_ref()) {
                facts.registered_handlers.push((name, HandlerKind::Route));
            }
        }
        // `app.config.from_object(X)`: the configuration class the app runs with.
        "from_object" => facts.config_loads.extend(config_load(call, src)),
        _ => {}
    }
}

/// `app.config.from_object(X)` outside a development branch: the class it loads, encoded as
/// [`ItemFacts::config_loads`] has it.
pub fn config_load(call: Node, src: SourceText) -> Option<String> {
    let path = dotted_path(call.field("function")?, src)?;
    if path.len() < 2
        || path[path.len() - 1] != "from_object"
        || path[path.len() - 2] != "config"
        || in_dev_branch(call, src)
    {
        return None;
    }
    let arg = *syntax::positional_args(call).first()?;
    match arg.kind_str() {
        "string" => string_value(arg, src)
            .filter(|s| !s.is_empty() && !s.contains(char::is_whitespace))
            .map(|s| format!("\"{s}")),
        "identifier" | "attribute" => dotted_path(arg, src).map(|p| p.join(".")),
        // `from_object(config[name])`: a class chosen through a mapping.
        "subscript" => arg
            .field("value")
            .filter(|v| matches!(v.kind_str(), "identifier" | "attribute"))
            .and_then(|v| dotted_path(v, src))
            .map(|p| format!("[{}", p.join("."))),
        _ => None,
    }
}

/// Every `app.config.from_object(X)` of the module under `root` that [`config_load`] reads,
/// with the call's byte range, in document order.
pub fn config_load_sites(root: Node, src: SourceText) -> Vec<(String, std::ops::Range<usize>)> {
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(n) = stack.pop() {
        if n.kind_str() == "call" {
            if let Some(l) = config_load(n, src) {
                out.push((l, n.byte_range()));
            }
        }
        let mut cursor = n.walk();
        let children: Vec<Node> = n.named_children(&mut cursor).collect();
        stack.extend(children.into_iter().rev());
    }
    out
}

/// `NAME = {"dev": DevConfig, "prod": "app.config.ProdConfig"}` or `NAME = dict(dev=DevConfig)`:
/// a mapping whose every value names a class (a capitalised name, `config.DevConfig`, or a dotted
/// string whose last part is capitalised), its values encoded as [`ItemFacts::config_loads`].
fn class_map(stmt: Node, src: SourceText) -> Option<(String, Vec<String>)> {
    let (left, right) = syntax::name_assignment(stmt)?;
    let mut values: Vec<Node> = Vec::new();
    let mut cursor = right.walk();
    match right.kind_str() {
        "dictionary" => {
            for pair in right.named_children(&mut cursor) {
                if pair.kind_str() != "pair" {
                    return None;
                }
                values.push(pair.field("value")?);
            }
        }
        "call" => {
            if right.field("function").map(|f| src.node_text(f)).as_deref() != Some("dict") {
                return None;
            }
            let args = right.field("arguments")?;
            for arg in args.named_children(&mut cursor) {
                if arg.kind_str() != "keyword_argument" {
                    return None;
                }
                values.push(arg.field("value")?);
            }
        }
        _ => return None,
    }
    let capitalised = |s: &str| {
        s.rsplit('.')
            .next()
            .is_some_and(|l| l.starts_with(|c: char| c.is_ascii_uppercase()))
    };
    let mut out = Vec::with_capacity(values.len());
    for v in values {
        let encoded = match v.kind_str() {
            "string" => string_value(v, src)
                .filter(|s| s.contains('.') && !s.contains(char::is_whitespace) && capitalised(s))
                .map(|s| format!("\"{s}")),
            "identifier" | "attribute" => dotted_path(v, src)
                .map(|p| p.join("."))
                .filter(|p| capitalised(p)),
            _ => None,
        }?;
        if !out.contains(&encoded) {
            out.push(encoded);
        }
    }
    (!out.is_empty()).then(|| (src.node_text(left).into_owned(), out))
}

/// `call` lies in the branch of an `if`/`elif` whose condition names a development or test
/// setting (`if os.environ.get("FLASK_ENV") == "development":`, `if app.debug:`, `if testing:`).
fn in_dev_branch(call: Node, src: SourceText) -> bool {
    let mut child = call;
    while let Some(parent) = child.parent() {
        if matches!(parent.kind_str(), "if_statement" | "elif_clause")
            && parent.field("consequence") == Some(child)
        {
            let dev = parent.field("condition").is_some_and(|c| {
                syntax::name_words(&src.node_text(c)).iter().any(|w| {
                    matches!(
                        w.as_str(),
                        "dev" | "development" | "debug" | "test" | "tests" | "testing" | "local"
                    )
                })
            });
            if dev {
                return true;
            }
        }
        if matches!(
            parent.kind_str(),
            "function_definition" | "class_definition"
        ) {
            break;
        }
        child = parent;
    }
    false
}
