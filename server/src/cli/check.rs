//! `keylint check PATH…`: analyse files and report.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use crate::analysis::{Analysis, Analyzer, Options};
use crate::document::Document;
use crate::rules::FileContext;

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Files or directories to check (default: the current directory).
    pub paths: Vec<PathBuf>,
    /// How to print the findings.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output_format: OutputFormat,
}

/// One analysed file.
pub struct CheckedFile {
    pub path: PathBuf,
    pub doc: Document,
    pub analysis: Analysis,
}

/// Analyses one file's text.
pub fn check_file(path: &Path, text: &str) -> CheckedFile {
    let doc = Document::new(text, 0);
    let options = Options {
        file: FileContext {
            path: Some(path.to_path_buf()),
            is_test: crate::config::is_test_path(path),
        },
        ..Options::default()
    };
    let analysis = Analyzer::new().analyze(&doc.tree, doc.source(), &options);
    CheckedFile {
        path: path.to_path_buf(),
        doc,
        analysis,
    }
}

pub fn run(args: CheckArgs) -> i32 {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let mut files = Vec::new();
    let mut errors = 0;
    for root in &paths {
        if root.is_file() {
            files.push(root.clone());
            continue;
        }
        for entry in ignore::WalkBuilder::new(root).build() {
            match entry {
                Ok(e) if e.path().extension().is_some_and(|x| x == "py") && e.path().is_file() => {
                    files.push(e.into_path())
                }
                Ok(_) => {}
                Err(err) => {
                    eprintln!("keylint: {err}");
                    errors += 1;
                }
            }
        }
    }
    files.sort();
    let mut checked = Vec::new();
    for path in files {
        match std::fs::read(&path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => checked.push(check_file(&path, &text)),
                Err(_) => {
                    eprintln!("keylint: {}: not valid UTF-8, skipped", path.display());
                    errors += 1;
                }
            },
            Err(err) => {
                eprintln!("keylint: {}: {err}", path.display());
                errors += 1;
            }
        }
    }
    let findings: usize = checked.iter().map(|c| c.analysis.findings.len()).sum();
    let mut stdout = std::io::stdout().lock();
    let written = match args.output_format {
        OutputFormat::Text => super::output::write_text(&mut stdout, &checked),
        OutputFormat::Json => super::output::write_json(&mut stdout, &checked),
    };
    if let Err(err) = written {
        eprintln!("keylint: cannot write the report: {err}");
        return 2;
    }
    if errors > 0 {
        2
    } else if findings > 0 {
        1
    } else {
        0
    }
}
