//! One file per LSP request.

pub mod code_action;
pub mod diagnostic;
pub mod hover;
pub mod initialize;
