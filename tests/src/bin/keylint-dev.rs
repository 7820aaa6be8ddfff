//! The keylint binary, built inside this crate so that the black-box tests always run a fresh one
//! (cargo builds a crate's own bin targets for its integration tests). Same `main` as
//! `server/src/main.rs`.

fn main() {
    keylint::cli::main()
}
