//! The command line: `keylint check`, `keylint server`, `keylint rule`, `keylint rules`.

mod check;
pub mod output;

use clap::{Parser, Subcommand};

pub use check::{check_file, CheckedFile};

#[derive(Parser, Debug)]
#[command(
    name = "keylint",
    version,
    about = "Finds API-key and secret exposure in Python web code (Flask, FastAPI + DynamoDB)",
    after_help = "Examples:\n  keylint check .\n  keylint check app.py --output-format json\n  keylint rule KL101\n  keylint server --stdio"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check Python files and directories for exposed secrets.
    Check(check::CheckArgs),
    /// Run the language server over stdio.
    Server {
        /// Accepted for VS Code's client, which appends it; stdio is the only transport.
        #[arg(long)]
        stdio: bool,
    },
    /// Print the documentation of one rule (by code or name).
    Rule { code: String },
    /// List every rule.
    Rules,
}

/// Entry point of the binary.
pub fn main() {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Check(args) => check::run(args),
        Command::Server { .. } => crate::lsp::run_stdio(),
        Command::Rule { code } => match crate::rules::find(&code) {
            Some(rule) => {
                print!("{}", rule.meta().docs);
                0
            }
            None => {
                eprintln!("keylint: no rule named `{code}` (see `keylint rules`)");
                2
            }
        },
        Command::Rules => {
            for m in crate::rules::all_meta() {
                println!(
                    "{}  {:<28} {:<8} fix: {:<9} {}",
                    m.code,
                    m.name,
                    m.severity.as_str(),
                    m.fix.as_str(),
                    m.summary
                );
            }
            0
        }
    };
    std::process::exit(code);
}
