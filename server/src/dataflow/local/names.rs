//! Qualified names and constants: what an expression names through local handles and the model,
//! and whether a URL is a constant of the code.

use tree_sitter::Node;

use crate::model::Binding;
use crate::syntax::{self, NodeExt};

use super::{named_children_vec, Walker, MAX_DEPTH};

impl<'a> Walker<'a> {
    /// A function of the module. (Class headers do not bind module names in the model, so a
    /// module-level `Def` binding is a function; no scan of the function list per call.)
    pub(super) fn is_module_function(&self, name: &str) -> bool {
        matches!(self.model.binding(name), Some(Binding::Def))
    }

    /// The qualified name of an expression through local handles and the model.
    pub(super) fn qualify(&self, node: Node) -> Option<String> {
        self.qualify_depth(node, 0)
    }

    /// [`Walker::qualify`] of `node` at nesting `depth`, remembered (see [`Walker::qualified`]).
    /// The depth only matters through [`MAX_DEPTH`]: a computation that went `h` levels below its
    /// node without passing the limit gives the same at any depth `d` with `d + h <= MAX_DEPTH`
    /// (it takes the same steps), and only such computations are remembered.
    fn qualify_depth(&self, node: Node, depth: usize) -> Option<String> {
        if depth > MAX_DEPTH {
            self.qualify_deepest
                .set(self.qualify_deepest.get().max(depth));
            return None;
        }
        let node = syntax::unparenthesize(node);
        let key = node.id();
        if let Some((height, q)) = self.qualified.borrow().get(&key) {
            if depth + height <= MAX_DEPTH {
                self.qualify_deepest
                    .set(self.qualify_deepest.get().max(depth + height));
                return q.clone();
            }
        }
        let outer = self.qualify_deepest.replace(depth);
        let q = self.qualify_node(node, depth);
        let deepest = self.qualify_deepest.get();
        self.qualify_deepest.set(outer.max(deepest));
        if deepest <= MAX_DEPTH {
            self.qualified
                .borrow_mut()
                .insert(key, (deepest - depth, q.clone()));
        }
        q
    }

    /// [`Walker::qualify_depth`] of an unparenthesized node, computed.
    fn qualify_node(&self, node: Node, depth: usize) -> Option<String> {
        match node.kind_str() {
            "identifier" => {
                let name = self.text(node);
                if let Some(q) = self.handles.get(&*name) {
                    return Some(q.clone());
                }
                if self.locals.contains(&*name) {
                    return None;
                }
                self.model.resolve(node, self.src)
            }
            "attribute" => {
                // `self._table` set to `dynamodb.Table(name)` in `__init__`.
                if let Some(callee) = self.self_attribute(node) {
                    if let Some(q) = self.model.resolve_path(callee) {
                        return Some(format!("{q}()"));
                    }
                }
                let obj = node.field("object")?;
                let attr = node.field("attribute")?;
                // `db.table` of a module of the project imported whole (`import app.db as db`):
                // the model resolves the pair (`ForeignName::made_by`).
                if obj.kind_str() == "identifier" && !self.model.foreign_names.is_empty() {
                    let name = self.text(obj);
                    if !self.handles.contains_key(&*name) && !self.locals.contains(&*name) {
                        return self.model.resolve(node, self.src);
                    }
                }
                Some(format!(
                    "{}.{}",
                    self.qualify_depth(obj, depth + 1)?,
                    self.text(attr)
                ))
            }
            "call" => {
                let f = node.field("function")?;
                if f.kind_str() == "identifier" {
                    // `get_table()`: what the module function returns.
                    let name = self.src.node_text(f);
                    if !self.locals.contains(name.as_ref()) && self.is_module_function(&name) {
                        let callee = self.model.function_returns.get(name.as_ref())?;
                        return Some(format!("{}()", self.model.resolve_path(callee)?));
                    }
                }
                Some(format!("{}()", self.qualify_depth(f, depth + 1)?))
            }
            "await" => self.qualify_depth(node.named_child(0)?, depth + 1),
            _ => None,
        }
    }

    /// A URL that is a constant of the code (a literal, a module constant, a literal scheme and
    /// host with a variable path).
    pub(super) fn is_const(&self, node: Node) -> bool {
        self.is_const_depth(node, 0)
    }

    fn is_const_depth(&self, node: Node, depth: usize) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        let node = syntax::unparenthesize(node);
        match node.kind_str() {
            "string" => {
                let kids = named_children_vec(node);
                match kids.iter().find(|c| c.kind_str() != "string_start") {
                    None => true,
                    Some(first) if first.kind_str() == "string_end" => true,
                    Some(first) if first.kind_str() == "string_content" => {
                        let text = self.text(*first);
                        let has_interp = kids.iter().any(|c| c.kind_str() == "interpolation");
                        !has_interp
                            || text
                                .split_once("://")
                                .is_some_and(|(_, rest)| rest.contains('/') || rest.len() > 3)
                    }
                    Some(first) if first.kind_str() == "interpolation" => first
                        .named_child(0)
                        .is_some_and(|e| self.is_const_depth(e, depth + 1)),
                    _ => false,
                }
            }
            "concatenated_string" => node
                .named_child(0)
                .is_some_and(|c| self.is_const_depth(c, depth + 1)),
            "binary_operator" => node
                .field("left")
                .is_some_and(|l| self.is_const_depth(l, depth + 1)),
            "identifier" => {
                let name = self.text(node);
                self.consts.contains(&*name) || !self.locals.contains(&*name)
            }
            // `self.base_url`, `settings.partner_url`: configuration of an object, not request data.
            "attribute" => node.field("object").is_some_and(|o| {
                matches!(self.src.node_text(o).as_ref(), "self" | "cls")
                    || self.is_const_depth(o, depth + 1)
            }),
            "call" => {
                let Some(f) = node.field("function") else {
                    return false;
                };
                if f.kind_str() == "attribute"
                    && f.field("attribute")
                        .is_some_and(|a| self.text(a) == "format")
                {
                    return f
                        .field("object")
                        .is_some_and(|o| self.is_const_depth(o, depth + 1));
                }
                let q = self.qualify(f).unwrap_or_default();
                if q.ends_with("urljoin") {
                    return syntax::positional_args(node)
                        .first()
                        .is_some_and(|a| self.is_const_depth(*a, depth + 1));
                }
                false
            }
            _ => false,
        }
    }
}
