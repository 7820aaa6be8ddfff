//! The keylint binary, built inside this crate so that the black-box tests always run a fresh one
//! (cargo builds a crate's own bin targets for its integration tests). Same `main` as
//! `server/src/main.rs`, with one test hook: `KEYLINT_DEV_PANIC_RULE=KL103` makes that rule panic
//! on every item (`keylint::rules::panicking`), to check that a failing rule is contained.

fn main() {
    if let Ok(rule) = std::env::var("KEYLINT_DEV_PANIC_RULE") {
        let Some(set) = keylint::rules::panicking::with_panicking(&rule) else {
            eprintln!("keylint-dev: KEYLINT_DEV_PANIC_RULE: no rule {rule:?}");
            std::process::exit(2);
        };
        keylint::rules::install(set);
    }
    keylint::cli::main()
}
