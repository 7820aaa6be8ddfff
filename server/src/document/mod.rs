//! The document: a rope (the text, LSP line semantics via ropey's `cr_lines`), a tree-sitter tree and
//! the LSP version. Edits arrive as LSP content changes and are applied in place: the rope is edited,
//! the old tree is told about the edit (`InputEdit`, byte columns) and reparsed incrementally, reading
//! the text from the rope's chunks.

mod position;
mod text;

pub use position::{ContentChange, Pos, PositionEncoding};

pub use text::SourceText;

use ropey::Rope;
use tree_sitter::{Parser, Tree};

/// A new tree-sitter parser for Python.
pub fn python_parser() -> Parser {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_python::LANGUAGE.into())
        .expect("tree-sitter-python is compatible with the linked tree-sitter");
    parser
}

/// One open (or checked) Python file.
pub struct Document {
    pub rope: Rope,
    pub tree: Tree,
    /// LSP version; 0 for files read by the CLI.
    pub version: i32,
    parser: Parser,
}

impl Document {
    /// Parses `text` from scratch.
    pub fn new(text: &str, version: i32) -> Self {
        let mut parser = python_parser();
        let tree = parser
            .parse(text, None)
            .expect("parsing without a timeout or cancellation flag always returns a tree");
        Document {
            rope: Rope::from_str(text),
            tree,
            version,
            parser,
        }
    }

    pub fn source(&self) -> SourceText<'_> {
        SourceText::new(&self.rope)
    }

    /// The whole text (a copy: for tests and the CLI's fix writer, never per keystroke).
    pub fn text(&self) -> String {
        self.rope.to_string()
    }

    /// The parser kept for incremental reparses.
    pub fn parser_mut(&mut self) -> &mut Parser {
        &mut self.parser
    }
}

impl Clone for Document {
    fn clone(&self) -> Self {
        Document {
            rope: self.rope.clone(),
            tree: self.tree.clone(),
            version: self.version,
            parser: python_parser(),
        }
    }
}
