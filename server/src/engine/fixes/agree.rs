//! Fixes that touch the same stored DynamoDB attribute agree (issue #13, item 9).
//!
//! KL201's fix hashes a key before it is stored (keeping the attribute's name: a renamed attribute
//! is a `KeyError` in every reader, and a partition key cannot be renamed at all); a read of the
//! same attribute elsewhere in the file (`item["api_key"] != x_api_key`, KL205) would then compare
//! a hash with a raw key and reject every request. So after the rules ran, the fixes of one file
//! are looked at together: for each attribute a KL201 fix writes, every use of the attribute in
//! the file is found, and
//! * when it is compared (`item["api_key"] != given`, `item.get("api_key") == given`) or looked up
//!   by key (`Key={"api_key": k}`), the findings of all these places share **one** fix that stores
//!   the hash, looks keys up by their hash and compares hashes in constant time
//!   (`hmac.compare_digest(stored, sha256(given))`): whichever finding it is applied from, the file
//!   ends up the same;
//! * when it is used in a way the fix cannot follow (a condition or key expression that names it,
//!   `Key("api_key")`/`Attr("api_key")` conditions), the KL201 fixes of the attribute are
//!   withdrawn: no fix is better than one that breaks the app.
//!
//! This runs on the whole file (not per item, like the rules), after suppressions: in
//! [`crate::engine::pipeline::analyze`] and [`super::fix_all`].

use tree_sitter::Node;

use super::{Applicability, Edit, Fix};
use crate::document::{SourceText, TreeView};
use crate::finding::Finding;
use crate::model::Model;
use crate::syntax::{self, NodeExt};

/// How a place of the file uses a stored attribute.
pub(super) enum Use<'t> {
    /// `Key={"api_key": value}`: a lookup by the attribute; the value must be hashed too.
    Lookup(Node<'t>),
    /// `stored == given` / `!=`, with the stored side (`item["api_key"]`, `item.get("api_key")`).
    Compare {
        cmp: Node<'t>,
        stored: Node<'t>,
        given: Node<'t>,
        negated: bool,
    },
    /// A read that is not compared (returned, logged): it now reads the hash; nothing to rewrite,
    /// but the attribute keeps its name.
    Read,
    /// A use the fix cannot follow.
    Conflict,
}

/// One attribute written by KL201 fixes.
struct Attr<'t> {
    name: String,
    /// A PynamoDB attribute (`Account.api_key`), used through attribute nodes, not strings.
    pynamo: bool,
    /// Indices of the KL201 findings whose fix writes it.
    writes: Vec<usize>,
    uses: Vec<Use<'t>>,
}

/// Makes the fixes of `findings` that write, read and compare one stored attribute agree (see the
/// module's documentation).
pub fn agree(findings: &mut [Finding], tree: TreeView, src: SourceText, model: &Model) {
    if !findings
        .iter()
        .any(|f| f.rule.code == "KL201" && !f.fixes.is_empty())
    {
        return;
    }
    let mut attrs: Vec<Attr> = Vec::new();
    // Byte ranges the KL201 fixes rewrite (their own writes, not uses to follow).
    let mut own: Vec<std::ops::Range<usize>> = Vec::new();
    for (i, f) in findings.iter().enumerate() {
        if f.rule.code != "KL201" {
            continue;
        }
        let Some(fix) = f.fixes.first() else { continue };
        for e in fix.edits.iter() {
            let (name, pynamo) = match written_attr(tree, src, e) {
                Some(name) => (name, false),
                None => match pynamo::written_attr(tree, src, model, e) {
                    Some(name) => (name, true),
                    None => continue,
                },
            };
            own.push(e.range.clone());
            match attrs.iter_mut().find(|a| a.name == name) {
                Some(a) => {
                    a.pynamo |= pynamo;
                    if !a.writes.contains(&i) {
                        a.writes.push(i);
                    }
                }
                None => attrs.push(Attr {
                    name,
                    pynamo,
                    writes: vec![i],
                    uses: Vec::new(),
                }),
            }
        }
    }
    if attrs.is_empty() {
        return;
    }
    for s in tree.nodes_of_kind(syntax::kinds().string) {
        let Some(value) = syntax::string_value(s, src) else {
            continue;
        };
        for a in attrs.iter_mut() {
            if let Some(u) = use_of(s, &value, &a.name, &own, src) {
                a.uses.push(u);
            }
        }
    }
    for a in attrs.iter_mut().filter(|a| a.pynamo) {
        let uses = pynamo::uses(tree, src, model, &a.name, &own);
        a.uses.extend(uses);
    }
    let hashlib = model.module_alias("hashlib").unwrap_or("hashlib");
    let hmac = model.module_alias("hmac").unwrap_or("hmac");
    for a in attrs {
        if a.uses.iter().all(|u| matches!(u, Use::Read)) {
            continue;
        }
        if a.uses.iter().any(|u| matches!(u, Use::Conflict)) {
            for &i in &a.writes {
                findings[i].fixes.clear();
            }
            continue;
        }
        let mut edits: Vec<Edit> = Vec::new();
        for &i in &a.writes {
            if let Some(fix) = findings[i].fixes.first() {
                edits.extend(fix.edits.iter().cloned());
            }
        }
        let mut compares = Vec::new();
        for u in &a.uses {
            match u {
                Use::Lookup(v) => edits.push(Edit::replace(
                    v.byte_range(),
                    format!(
                        "{hashlib}.sha256({}.encode()).hexdigest()",
                        operand(*v, src)
                    ),
                )),
                Use::Compare {
                    cmp,
                    stored,
                    given,
                    negated,
                } => {
                    let (not_open, not_close) = if !negated {
                        ("", "")
                    } else if cmp.parent().is_some_and(|p| {
                        matches!(
                            p.kind_str(),
                            "if_statement"
                                | "elif_clause"
                                | "while_statement"
                                | "boolean_operator"
                                | "parenthesized_expression"
                                | "assignment"
                                | "return_statement"
                                | "argument_list"
                        )
                    }) {
                        ("not ", "")
                    } else {
                        ("(not ", ")")
                    };
                    edits.push(Edit::replace(
                        cmp.byte_range(),
                        format!(
                            "{not_open}{hmac}.compare_digest(({} or \"\").encode(), {hashlib}.sha256(({} or \"\").encode()).hexdigest().encode()){not_close}",
                            src.node_text(*stored),
                            src.node_text(*given),
                        ),
                    ));
                    compares.push(cmp.byte_range());
                }
                Use::Read | Use::Conflict => {}
            }
        }
        edits.sort_by_key(|e| (e.range.start, e.range.end));
        edits.dedup();
        let places = a.uses.iter().filter(|u| !matches!(u, Use::Read)).count();
        let mut fix = Fix::new(
            format!(
                "Store a SHA-256 hash of `{}` and use the hash where it is read back ({places} other place{})",
                a.name,
                if places == 1 { "" } else { "s" }
            ),
            Applicability::Unsafe,
        )
        .import("hashlib");
        if !compares.is_empty() {
            fix = fix.import("hmac");
        }
        fix.edits = edits;
        for &i in &a.writes {
            findings[i].fixes = vec![fix.clone()];
        }
        // The compare findings (KL205) of the reads get the same fix: whichever is applied first,
        // the file ends up the same.
        for f in findings.iter_mut() {
            if f.rule.code == "KL205" && compares.contains(&f.range) {
                f.fixes = vec![fix.clone()];
            }
        }
    }
}

mod pynamo;

/// The attribute a KL201 value edit writes: the key of its pair (`"api_key": v`, client style
/// `"api_key": {"S": v}`), or for `ExpressionAttributeValues={":k": v}` the name that
/// `UpdateExpression` sets from `:k`.
fn written_attr(tree: TreeView, src: SourceText, e: &Edit) -> Option<String> {
    let node = tree.descendant_for_byte_range(e.range.start, e.range.end)?;
    if node.byte_range() != e.range {
        return None;
    }
    let mut pair = node.parent().filter(|p| p.kind_str() == "pair")?;
    let mut key = syntax::string_value(pair.field("key")?, src)?;
    if key == "S" {
        // `{"S": v}` inside `"api_key": {...}`.
        pair = pair.parent()?.parent().filter(|p| p.kind_str() == "pair")?;
        key = syntax::string_value(pair.field("key")?, src)?;
    }
    if !key.starts_with(':') {
        return Some(key);
    }
    let kw = pair
        .parent()?
        .parent()
        .filter(|k| k.kind_str() == "keyword_argument")?;
    let call = kw.parent()?.parent().filter(|c| c.kind_str() == "call")?;
    let expr = syntax::string_value(syntax::keyword_arg(call, "UpdateExpression", src)?, src)?;
    // `SET api_key = :k, other = :o`.
    expr.split(',')
        .flat_map(|part| {
            part.split_whitespace()
                .collect::<Vec<_>>()
                .windows(3)
                .map(|w| (w[0].to_string(), w[1] == "=", w[2].to_string()))
                .collect::<Vec<_>>()
        })
        .find(|(_, eq, v)| *eq && *v == key)
        .map(|(name, _, _)| name)
        .filter(|n| n.chars().all(|c| c.is_alphanumeric() || c == '_'))
}

/// How the string literal `s` (with value `value`) uses attribute `name`, if it does.
fn use_of<'t>(
    s: Node<'t>,
    value: &str,
    name: &str,
    own: &[std::ops::Range<usize>],
    src: SourceText,
) -> Option<Use<'t>> {
    let inside_own = |n: Node| {
        own.iter()
            .any(|r| n.start_byte() <= r.start && r.end <= n.end_byte())
    };
    let parent = s.parent()?;
    // An expression string: `UpdateExpression="SET api_key = :k"` of a fixed write is the write.
    if parent.kind_str() == "keyword_argument" {
        let kw = src.node_text(parent.field("name")?);
        if !kw.ends_with("Expression")
            || !value
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .any(|w| w == name)
        {
            return None;
        }
        let call = parent.parent()?.parent()?;
        let own_write = kw == "UpdateExpression" && inside_own(call);
        return (!own_write).then_some(Use::Conflict);
    }
    if value != name {
        return None;
    }
    match parent.kind_str() {
        // `Key={"api_key": k}`. (Other dicts that name it — responses, writes KL201 did not
        // report, whose value is not a raw key — are left alone.)
        "pair" if parent.field("key") == Some(s) => {
            if inside_own(parent) {
                return None;
            }
            let dict = parent.parent()?;
            let in_key = dict
                .parent()
                .filter(|k| k.kind_str() == "keyword_argument")
                .and_then(|k| k.field("name"))
                .is_some_and(|n| src.node_text(n) == "Key");
            if !in_key {
                return None;
            }
            match parent.field("value") {
                Some(v) if v.kind_str() != "dictionary" => Some(Use::Lookup(v)),
                _ => Some(Use::Conflict),
            }
        }
        // `item["api_key"]`.
        "subscript" if parent.field("subscript") == Some(s) => Some(read(parent)),
        // `item.get("api_key")`.
        "argument_list" => {
            let call = parent.parent().filter(|c| c.kind_str() == "call")?;
            let function = call.field("function")?;
            if syntax::positional_args(call).first() != Some(&s) {
                return None;
            }
            let name = match function.kind_str() {
                "attribute" => src.node_text(function.field("attribute")?),
                _ => src.node_text(function),
            };
            match name.as_ref() {
                "get" if function.kind_str() == "attribute" => Some(read(call)),
                // boto3 conditions: `Key("api_key").eq(k)`, `Attr("api_key").eq(k)`.
                "Key" | "Attr" => Some(Use::Conflict),
                _ => None,
            }
        }
        _ => None,
    }
}

/// A read of the attribute: a comparison when it is an operand of `==`/`!=`; otherwise nothing to
/// rewrite (a returned or logged value is now the hash: the program runs on).
pub(super) fn read(stored: Node) -> Use {
    let mut node = stored;
    while let Some(p) = node
        .parent()
        .filter(|p| p.kind_str() == "parenthesized_expression")
    {
        node = p;
    }
    let Some(cmp) = node
        .parent()
        .filter(|p| p.kind_str() == "comparison_operator")
    else {
        return Use::Read;
    };
    let mut cursor = cmp.walk();
    let operands: Vec<Node> = cmp
        .named_children(&mut cursor)
        .filter(|c| c.kind_str() != "comment")
        .collect();
    let op = (0..cmp.child_count())
        .filter_map(|i| cmp.child(i))
        .find(|c| !c.is_named())
        .map(|c| c.kind_str());
    let negated = match op {
        Some("==") => false,
        Some("!=") => true,
        _ => return Use::Read,
    };
    let [a, b] = operands[..] else {
        return Use::Read;
    };
    let given = if a.id() == node.id() { b } else { a };
    Use::Compare {
        cmp,
        stored,
        given,
        negated,
    }
}

/// The text of `node` as the operand of `.encode()`: parenthesized unless it is a primary.
fn operand(node: Node, src: SourceText) -> String {
    let text = src.node_text(node);
    if matches!(
        node.kind_str(),
        "identifier" | "attribute" | "subscript" | "call" | "string"
    ) {
        text.into_owned()
    } else {
        format!("({text})")
    }
}
