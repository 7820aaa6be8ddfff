//! The command line: `keylint check`, `keylint server`, `keylint rule`, `keylint rules`.
//!
//! `check` goes through the same configuration API as the language server
//! ([`crate::config::Config::options_for`] and [`crate::engine::postprocess`]), so both report the
//! same findings for the same file.

pub mod baseline;
pub mod check;
/// Source encodings live with the document (the server decodes files on disk too).
pub use crate::document::encoding;
pub mod output;
/// The pre-filter lives with the engine (the server's index runs it too).
pub use crate::engine::prefilter;
pub mod project;
pub mod sarif;
pub mod show_fixes;
mod ts_alloc;

use std::io::Write;

use clap::{Parser, Subcommand, ValueEnum};

pub use check::{CheckArgs, OutputFormat};

const EXAMPLES: &str = "\
Examples:
  keylint check                          check the current directory
  keylint check app/ --output-format sarif > keylint.sarif
  keylint check --output-format github   annotations in GitHub Actions
  keylint check --fail-on error          exit 1 only for error findings
  keylint check --select KL101 --diff    show what `--fix` would change
  keylint check --fix --unsafe-fixes     apply every fix in place
  keylint rules                          list the rules
  keylint rule hardcoded-secret          a rule's documentation
  keylint server --stdio                 the language server

Exit codes (check): 0 no finding at or above --fail-on, 1 findings, 2 usage, configuration or
file errors.
Configuration: [tool.keylint] in pyproject.toml or keylint.toml (nearest to each file wins).";

#[derive(Parser, Debug)]
#[command(
    name = "keylint",
    version,
    about = "Finds API-key and secret exposure in Python web code (Flask, FastAPI + DynamoDB)",
    after_help = EXAMPLES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ListFormat {
    Text,
    Json,
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
    /// List every rule: code, name, default severity, fix availability.
    Rules {
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        output_format: ListFormat,
    },
}

/// `keylint rules`.
pub fn write_rules(w: &mut impl Write, format: ListFormat) -> std::io::Result<()> {
    let metas = crate::config::all_meta();
    match format {
        ListFormat::Json => {
            let list: Vec<serde_json::Value> = metas
                .iter()
                .map(|m| {
                    serde_json::json!({
                        "code": m.code,
                        "name": m.name,
                        "severity": m.severity.as_str(),
                        "fix": m.fix.as_str(),
                        "summary": m.summary,
                        "cwe": m.cwe,
                        "compliance": crate::rules::compliance(m.code).to_json(),
                        "url": output::rule_url(m),
                    })
                })
                .collect();
            serde_json::to_writer_pretty(&mut *w, &list)?;
            writeln!(w)
        }
        ListFormat::Text => {
            let name_w = metas.iter().map(|m| m.name.len()).max().unwrap_or(4).max(4);
            writeln!(
                w,
                "{:<6} {:<name_w$} {:<8} {:<9} SUMMARY",
                "CODE", "NAME", "SEVERITY", "FIX"
            )?;
            for m in &metas {
                writeln!(
                    w,
                    "{:<6} {:<name_w$} {:<8} {:<9} {}",
                    m.code,
                    m.name,
                    m.severity.as_str(),
                    m.fix.as_str(),
                    m.summary
                )?;
            }
            Ok(())
        }
    }
}

/// Entry point of the binary.
pub fn main() {
    crate::withhold_panic_payloads();
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Check(args) => {
            ts_alloc::install();
            check::run(args)
        }
        Command::Server { .. } => crate::lsp::run_stdio(),
        Command::Rule { code } => match crate::config::find_meta(&code) {
            Some(rule) => {
                print!("{}", rule.docs);
                0
            }
            None => {
                match crate::config::resolve_rule(&code) {
                    Ok(codes) => eprintln!(
                        "keylint: `{code}` is a prefix of several rules ({}); name one",
                        codes.join(", ")
                    ),
                    Err(msg) => eprintln!("keylint: {msg}"),
                }
                2
            }
        },
        Command::Rules { output_format } => {
            match write_rules(&mut std::io::stdout().lock(), output_format) {
                Ok(()) => 0,
                Err(_) => 2,
            }
        }
    };
    std::process::exit(code);
}
