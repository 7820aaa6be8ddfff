//! The plain data of fixes: text edits a finding offers, with their applicability. Turning them
//! into a module's edits (imports added) and applying them is [`crate::engine::fixes`].

use std::ops::Range;

use serde::{Deserialize, Serialize};

/// Whether applying a fix keeps the program's meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    /// Meaning kept: part of `--fix` and of "fix all" by default, `isPreferred` in the editor.
    Safe,
    /// Behaviour changes (a key now read from the environment, a stored value now hashed):
    /// only with `--unsafe-fixes`, never preferred automatically.
    Unsafe,
}

/// Replace `range` (bytes of the document) by `new_text`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Edit {
    pub range: Range<usize>,
    pub new_text: String,
}

impl Edit {
    pub fn replace(range: Range<usize>, new_text: impl Into<String>) -> Self {
        Edit {
            range,
            new_text: new_text.into(),
        }
    }
    pub fn insert(at: usize, new_text: impl Into<String>) -> Self {
        Edit::replace(at..at, new_text)
    }
    pub fn delete(range: Range<usize>) -> Self {
        Edit::replace(range, "")
    }
}

/// An operation on another file of the workspace (the "move to `.env`" fix).
///
/// The secret value itself is never stored here: `value_range` points into the document, and the
/// operation is materialised from the document text only when the user asks for the fix.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WorkspaceOp {
    /// Append `NAME=<text of value_range>` to `.env` at the workspace root (created if absent).
    AppendEnv {
        name: String,
        value_range: Range<usize>,
    },
    /// Make sure `.gitignore` at the workspace root ignores `pattern`.
    EnsureIgnored { pattern: String },
}

/// One fix of one finding.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fix {
    pub title: String,
    pub applicability: Applicability,
    /// Edits of the document, non-overlapping.
    pub edits: Vec<Edit>,
    /// Modules the fixed code needs (`"os"`, `"hmac"`, `"hashlib"`): resolved into an import edit
    /// by [`crate::engine::fixes::materialize`] against the current module, so that a cached fix never adds one twice.
    pub imports: Vec<&'static str>,
    /// Operations on other files; a client without file-operation support is not offered such a fix.
    pub workspace_ops: Vec<WorkspaceOp>,
}

impl Fix {
    pub fn new(title: impl Into<String>, applicability: Applicability) -> Self {
        Fix {
            title: title.into(),
            applicability,
            edits: Vec::new(),
            imports: Vec::new(),
            workspace_ops: Vec::new(),
        }
    }
    pub fn safe(title: impl Into<String>) -> Self {
        Fix::new(title, Applicability::Safe)
    }
    pub fn unsafe_(title: impl Into<String>) -> Self {
        Fix::new(title, Applicability::Unsafe)
    }
    pub fn edit(mut self, edit: Edit) -> Self {
        self.edits.push(edit);
        self
    }
    pub fn import(mut self, module: &'static str) -> Self {
        if !self.imports.contains(&module) {
            self.imports.push(module);
        }
        self
    }
    pub fn workspace_op(mut self, op: WorkspaceOp) -> Self {
        self.workspace_ops.push(op);
        self
    }
}
