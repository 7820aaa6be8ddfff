//! keylint: finds API-key and secret exposure in Python web code (Flask, FastAPI + DynamoDB).
//!
//! The library is the whole engine; the binary (`keylint`) is a thin shell over [`cli`] and [`lsp`].
//! See `ARCHITECTURE.md` at the repository root for the map of the rooms and the path of an edit.

pub mod analysis;
pub mod cli;
pub mod config;
pub mod document;
pub mod finding;
pub mod fixes;
pub mod lsp;
pub mod rules;
