//! A handler's interface: its parameters (request fields, headers, `Depends`), its route's
//! `dependencies=[...]` and whether its `response_model` filters what it returns.

use tree_sitter::Node;

use crate::dataflow::{Base, CallFact, Kind, Taint};
use crate::model::frameworks as fw;
use crate::model::Binding;
use crate::syntax::{self, string_value, NodeExt};

use super::{named_children, Walker, MAX_CALLS};

impl<'a> Walker<'a> {
    pub(super) fn output_filtered(&self, def: Node, decorators: &[Node]) -> bool {
        for &deco in decorators {
            if deco.kind_str() == "call" {
                if let Some(v) = syntax::keyword_arg(deco, "response_model", self.src) {
                    // A response model that declares an unmasked key field lets the key through.
                    let class = element_class(&self.text(v));
                    return self.text(v) != "None"
                        && !matches!(self.secret_model(&class), Some((_, _, false)));
                }
            }
        }
        if let Some(ret) = def.field("return_type") {
            let t = syntax::unparenthesize(ret);
            let t = if t.kind_str() == "type" {
                t.named_child(0).unwrap_or(t)
            } else {
                t
            };
            if t.kind_str() == "identifier" {
                let name = self.text(t);
                return self.model.classes.iter().any(|c| c.name == name)
                    && self.secret_model(&name).is_none_or(|(_, _, masked)| masked);
            }
        }
        false
    }

    /// `dependencies=[Depends(verify_key)]` of a route: each dependency of the module runs on
    /// every request (a call with no arguments, for its scans).
    pub(super) fn route_dependencies(&mut self, decorators: &[Node]) {
        for &deco in decorators {
            if deco.kind_str() != "call" {
                continue;
            }
            let Some(list) = syntax::keyword_arg(deco, "dependencies", self.src) else {
                continue;
            };
            for dep in named_children(list) {
                if dep.kind_str() != "call" {
                    continue;
                }
                let Some(q) = self.model.callee(dep, self.src) else {
                    continue;
                };
                if !(fw::is_fastapi(&q, "Depends") || fw::is_fastapi(&q, "Security")) {
                    continue;
                }
                let Some(f) = syntax::positional_args(dep).first().copied() else {
                    continue;
                };
                let name = self.text(f).into_owned();
                if f.kind_str() == "identifier"
                    && self.is_module_function(&name)
                    && self.flow.calls.len() < MAX_CALLS
                {
                    self.flow.calls.push(CallFact {
                        callee: name,
                        range: self.rel(dep),
                        args: Vec::new(),
                        kwargs: Vec::new(),
                        bound: false,
                    });
                } else if let Some(path) = self.imported_dependency(f) {
                    self.module_call(dep, path, false, &[], &[]);
                }
            }
        }
    }

    pub(super) fn params(&mut self, def: Node) {
        let Some(params) = def.field("parameters") else {
            return;
        };
        let is_route = self.flow.is_route;
        for p in named_children(params) {
            let (name_node, ty, default) = match p.kind_str() {
                "identifier" => (Some(p), None, None),
                "typed_parameter" => (p.named_child(0), p.field("type"), None),
                "default_parameter" | "typed_default_parameter" => {
                    (p.field("name"), p.field("type"), p.field("value"))
                }
                "list_splat_pattern" | "dictionary_splat_pattern" => (p.named_child(0), None, None),
                _ => continue,
            };
            let Some(name_node) = name_node else { continue };
            let name = self.text(name_node).into_owned();
            let idx = self.flow.params.len() as u16;
            self.flow.params.push(name.clone());
            self.locals.insert(name.clone());
            self.forget_qualified();
            let mut taint = Taint::one(Base::Param(idx));

            // Markers: the default, and calls inside `Annotated[...]`.
            let mut markers: Vec<Node> = Vec::new();
            if let Some(d) = default.filter(|d| d.kind_str() == "call") {
                markers.push(d);
            }
            if let Some(ty) = ty {
                for n in syntax::descendants(ty) {
                    if n.kind_str() == "call" {
                        markers.push(n);
                    }
                }
            }
            let mut marked = false;
            // `repo = Depends(get_repo)` with `get_repo` of another module: an instance of
            // the class it returns, unless the annotation names one.
            let mut factory: Option<String> = None;
            // pydantic v2 `Annotated[str, StringConstraints(min_length=32)]`, `constr(...)`,
            // `Field(min_length=…)`: the key's shape is checked before the handler runs.
            let constrained = markers.iter().any(|m| {
                self.model.callee(*m, self.src).is_some_and(|q| {
                    (q.ends_with("StringConstraints")
                        || q.ends_with(".constr")
                        || q == "pydantic.Field"
                        || q.starts_with("fastapi."))
                        && ["min_length", "max_length", "regex", "pattern"]
                            .iter()
                            .any(|k| syntax::keyword_arg(*m, k, self.src).is_some())
                })
            });
            for m in markers {
                let Some(q) = self.model.callee(m, self.src) else {
                    continue;
                };
                if fw::is_fastapi(&q, "Header")
                    || fw::is_fastapi(&q, "Query")
                    || fw::is_fastapi(&q, "Cookie")
                {
                    marked = true;
                    let alias = syntax::keyword_arg(m, "alias", self.src)
                        .and_then(|a| string_value(a, self.src));
                    let shown = alias.clone().unwrap_or_else(|| {
                        if q.ends_with("Header") {
                            name.replace('_', "-")
                        } else {
                            name.clone()
                        }
                    });
                    // A header or cookie: a credential's name (`x_refresh`, `X-Session`,
                    // `Cookie`; [`fw::is_credential_header`], [`fw::is_credential_cookie`]); a
                    // query parameter: a key's.
                    let credential = |n: &str| {
                        if q.ends_with("Query") {
                            fw::is_key_name(n)
                        } else if q.ends_with("Cookie") {
                            fw::is_credential_cookie(n)
                        } else {
                            fw::is_credential_header(n)
                        }
                    };
                    if credential(&shown) || (alias.is_none() && credential(&name)) {
                        let what = if q.ends_with("Header") {
                            "header"
                        } else if q.ends_with("Query") {
                            "query parameter"
                        } else {
                            "cookie"
                        };
                        let t = self.source(
                            name_node,
                            Kind::Key,
                            format!("API key enters here ({what} `{shown}`)"),
                            None,
                            Some(idx),
                        );
                        taint.union(&t);
                        if ["min_length", "max_length", "regex", "pattern"]
                            .iter()
                            .any(|k| syntax::keyword_arg(m, k, self.src).is_some())
                        {
                            let mut v = t.clone();
                            v.union(&Taint::one(Base::Param(idx)));
                            self.flow.validations.push((v, 0));
                        }
                    }
                } else if fw::is_fastapi(&q, "Security") || fw::is_fastapi(&q, "Depends") {
                    marked = true;
                    let dep = syntax::positional_args(m)
                        .first()
                        .copied()
                        .or_else(|| syntax::keyword_arg(m, "dependency", self.src));
                    let Some(dep) = dep else { continue };
                    let scheme = match dep.kind_str() {
                        "call" => self.model.callee(dep, self.src),
                        "identifier" => match self.model.binding(&self.text(dep)) {
                            Some(Binding::Call { callee, .. }) => self.model.resolve_path(callee),
                            _ => None,
                        },
                        _ => None,
                    };
                    if scheme.as_deref().is_some_and(fw::is_key_scheme) {
                        let t = self.source(
                            name_node,
                            Kind::Key,
                            format!(
                                "API key enters here (security scheme `{}`)",
                                syntax::short_text(dep, self.src)
                            ),
                            None,
                            None,
                        );
                        taint.union(&t);
                    } else if dep.kind_str() == "identifier" {
                        let dep_name = self.text(dep).into_owned();
                        // `repo: Repo = Depends(get_repo)`, `Depends(Repo)`: an instance.
                        if let Some(class) = self.class_made_by(std::slice::from_ref(&dep_name), 0)
                        {
                            self.instances.insert(name.clone(), class);
                        } else {
                            factory = factory
                                .or_else(|| self.imported_factory(std::slice::from_ref(&dep_name)));
                        }
                        if self.is_module_function(&dep_name) && self.flow.calls.len() < MAX_CALLS {
                            let k = self.flow.calls.len() as u16;
                            self.flow.calls.push(CallFact {
                                callee: dep_name,
                                range: self.rel(m),
                                args: Vec::new(),
                                kwargs: Vec::new(),
                                bound: false,
                            });
                            taint.union(&Taint::one(Base::Call(k)));
                        } else if let Some(path) = self.imported_dependency(dep) {
                            // `Depends(get_api_key)` after `from .deps import get_api_key`.
                            taint.union(&self.module_call(m, path, false, &[], &[]));
                        }
                    } else if let Some(path) = self.imported_dependency(dep) {
                        // `Depends(deps.get_repo)` after `from . import deps`.
                        if dep.kind_str() == "attribute" {
                            factory = factory.or_else(|| {
                                self.imported_factory(&syntax::dotted_path(dep, self.src)?)
                            });
                        }
                        taint.union(&self.module_call(m, path, false, &[], &[]));
                    }
                }
            }

            if constrained && !taint.0.iter().all(|l| l.base == Base::Param(idx)) {
                self.flow.validations.push((taint.clone(), 0));
            }
            if let Some(ty) = ty {
                let ty_node = if ty.kind_str() == "type" {
                    ty.named_child(0).unwrap_or(ty)
                } else {
                    ty
                };
                let ty_text = self.text(ty_node);
                // `repo: Repo`, `Annotated[Repo, Depends(get_repo)]`, `Optional[Repo]`, `Repo =
                // Depends()`: an instance of a module class.
                if !self.instances.contains_key(&name) {
                    let class = element_class(annotated_type(&ty_text));
                    // (Not a body model: its annotated fields are data, its methods are not
                    // the service layer.)
                    let plain = self
                        .model
                        .classes
                        .iter()
                        .rev()
                        .find(|c| c.name == class)
                        .is_some_and(|c| c.fields.is_empty());
                    if plain && self.is_module_class(&class) {
                        self.instances.insert(name.clone(), class);
                    } else if let Some(c) = self.annotated_import(annotated_type(&ty_text)) {
                        // `repo: KeyRepository = Depends(get_repo)` after `from .repository
                        // import KeyRepository`: an instance of another module's class.
                        self.instances.insert(name.clone(), c);
                    }
                }
                let q = self.model.resolve(ty_node, self.src);
                if q.as_deref().is_some_and(fw::is_request_class) {
                    let t = self.request_source(name_node);
                    taint.union(&t);
                } else if !marked && is_route {
                    let class_name = element_class(&ty_text);
                    if let Some((class, field, masked)) = self.secret_model(&class_name) {
                        let t = self.source(
                            name_node,
                            Self::model_kind(masked),
                            format!(
                                "request body `{class}` with secret field `{field}` enters here"
                            ),
                            Some(class),
                            None,
                        );
                        taint.union(&t);
                    } else if fw::is_key_name(&name)
                        && matches!(
                            &*ty_text,
                            "str" | "Optional[str]" | "str | None" | "typing.Optional[str]"
                        )
                    {
                        let t = self.source(
                            name_node,
                            Kind::Key,
                            format!("API key enters here (query parameter `{name}`)"),
                            None,
                            Some(idx),
                        );
                        taint.union(&t);
                    }
                }
                if ty_text.contains("Table") {
                    self.handles.insert(name.clone(), "dynamodb.Table()".into());
                } else if let Some(q) = q {
                    self.handles.insert(name.clone(), format!("{q}()"));
                }
                self.forget_qualified();
            }
            if let Some(f) = factory {
                self.instances.entry(name.clone()).or_insert(f);
            }
            if ty.is_none() && name == "request" && self.flow.responds {
                // `async def handler(request, exc)`: Starlette passes the request.
                let t = self.request_source(name_node);
                taint.union(&t);
            }
            // A key known by its name only (`def sign(payload, api_key)`), outside handlers
            // (whose parameters are sources by their markers).
            let plain_type = ty.is_none_or(|t| {
                let t = self.text(t);
                (t.contains("str") || t.contains("bytes")) && !t.contains("Secret")
            });
            if !self.flow.responds
                && plain_type
                && !matches!(name.as_str(), "self" | "cls")
                && fw::is_named_key(&name)
            {
                let t = self.source(
                    name_node,
                    Kind::Named,
                    format!("parameter `{name}`, a key by its name"),
                    None,
                    None,
                );
                taint.union(&t);
            }
            if !self.handles.contains_key(&name) {
                let lower = name.to_ascii_lowercase();
                if lower == "table" || lower.ends_with("_table") {
                    self.handles.insert(name.clone(), "dynamodb.Table()".into());
                } else if matches!(lower.as_str(), "logger" | "log") {
                    self.handles.insert(name.clone(), "logging.Logger()".into());
                }
                self.forget_qualified();
            }
            self.env.insert(name, taint);
        }
    }
}

/// The type of `Annotated[T, ...]` (`T`), or the annotation itself.
fn annotated_type(ty: &str) -> &str {
    let t = ty.trim();
    let Some(inner) = t
        .strip_prefix("Annotated[")
        .or_else(|| t.strip_prefix("typing.Annotated["))
        .or_else(|| t.strip_prefix("typing_extensions.Annotated["))
    else {
        return t;
    };
    let mut depth = 0usize;
    for (i, ch) in inner.char_indices() {
        match ch {
            '[' | '(' => depth += 1,
            ']' | ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => return inner[..i].trim(),
            _ => {}
        }
    }
    inner.trim_end_matches(']').trim()
}

/// The class of a parameter or response annotation, seen through one container or option:
/// `list[KeyIn]`, `List[KeyIn]`, `Sequence[KeyIn]`, `Optional[KeyIn]`, `KeyIn | None`,
/// `models.KeyIn` → `KeyIn`.
fn element_class(ty: &str) -> String {
    let mut t = ty.trim();
    for prefix in [
        "list[",
        "List[",
        "typing.List[",
        "Sequence[",
        "typing.Sequence[",
        "Optional[",
        "typing.Optional[",
    ] {
        if let Some(inner) = t.strip_prefix(prefix).and_then(|r| r.strip_suffix(']')) {
            t = inner.trim();
            break;
        }
    }
    if let Some(inner) = t.strip_suffix("| None") {
        t = inner.trim();
    }
    t.rsplit('.').next().unwrap_or(t).to_string()
}
