//! One file per LSP notification. Each applies its state change before its first `.await`
//! (see the ordering notes on [`Server`](super::server::Server)).

pub mod did_change;
pub mod did_change_configuration;
pub mod did_change_watched_files;
pub mod did_close;
pub mod did_open;
