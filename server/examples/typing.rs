//! In-process typing loop for profiling (perf / callgrind): types the replay's line into a file at
//! the end or in the middle, applying each keystroke to the document and analysing it the way the
//! language server does (`engine::pipeline::analyze_rope` with the default configuration, conversion to LSP
//! diagnostics and their JSON).
//!
//! `cargo run --release -p keylint --example typing -- FILE [end|middle] [rounds]`
//! (`TYPING_LINE=…` types another line: `logger.info("checking key %s", x_api_key)` for the
//! FastAPI modules of `scripts/gen-fastapi-module`).

use std::time::{Duration, Instant};

use keylint::config::Config;
use keylint::document::{ContentChange, Document, Pos, PositionEncoding};
use keylint::engine::Analyzer;

const LINE: &str = "PASSWORD = \"sk-live-4f9c2b7e8d1a6f3c9a0b\"  # typed by replay";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let text = std::fs::read_to_string(&args[1]).expect("a file");
    let middle = args.get(2).is_some_and(|s| s == "middle");
    let rounds: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(5);
    // `KEYLINT_TRACE=1`: one line per keystroke (the text typed so far, document and analysis
    // times, items checked), to see which keystrokes are slow.
    let trace = std::env::var_os("KEYLINT_TRACE").is_some();
    // `KEYLINT_SUMMARY=1`: also build the module's project summary after every analysis, as the
    // server does for a file of an indexed workspace.
    let summarise = std::env::var_os("KEYLINT_SUMMARY").is_some();
    let lines: Vec<&str> = text.split('\n').collect();
    let (line_no, indent) = if middle {
        let mid = lines.len() / 2;
        let at = (mid..lines.len())
            .find(|&i| {
                let l = lines[i].trim_start();
                !l.is_empty()
                    && ![
                        "#", ")", "]", "}", "@", "def ", "class ", "elif", "else", "except",
                        "finally",
                    ]
                    .iter()
                    .any(|p| l.starts_with(p))
            })
            .unwrap_or(mid);
        let indent: String = lines[at]
            .chars()
            .take_while(|c| *c == ' ' || *c == '\t')
            .collect();
        (at as u32, indent)
    } else {
        (lines.len() as u32 - 1, String::new())
    };
    let mut edits = Vec::new();
    let typed_line = if middle {
        edits.push(((line_no, 0), format!("{indent}\n")));
        line_no
    } else {
        edits.push(((line_no, lines[line_no as usize].len() as u32), "\n".into()));
        line_no + 1
    };
    let mut col = indent.len() as u32;
    let typed = std::env::var("TYPING_LINE").unwrap_or_else(|_| LINE.to_string());
    for ch in typed.chars() {
        edits.push(((typed_line, col), ch.to_string()));
        col += ch.len_utf8() as u32;
    }
    let config = Config::default();
    let path = std::path::Path::new("typed.py");
    let uri: tower_lsp_server::ls_types::Uri = "file:///typed.py".parse().expect("a URI");
    // The module's summary after the last analysis (what the server's project holds).
    let last_summary: std::cell::RefCell<Option<keylint::project::ModuleSummary>> =
        std::cell::RefCell::new(None);
    let analyze = |analyzer: &mut Analyzer, doc: &Document| {
        let a = keylint::engine::pipeline::analyze_rope(
            analyzer,
            doc.view(),
            doc.source().rope(),
            &config,
            Some(path),
        );
        let diagnostics = keylint::lsp::convert::diagnostics(
            &uri,
            doc,
            &a,
            PositionEncoding::Utf8,
            &keylint::lsp::convert::OnDisk,
        );
        // As the server sends them: their `data` made JSON, then the message.
        let json = serde_json::to_string(&diagnostics.to_lsp()).expect("diagnostics serialise");
        std::hint::black_box(json);
        if summarise {
            // What the server adds in a workspace: the module's project summary, again, made
            // like the last one.
            let mut last = last_summary.borrow_mut();
            let summary = keylint::project::ModuleSummary::new_like(
                last.as_ref(),
                analyzer.flows(),
                &a.model,
                doc.view(),
                doc.source(),
                Some(
                    &analyzer.top_level_starts(keylint::project::ModuleSummary::from_import_kind()),
                ),
            );
            *last = Some(std::hint::black_box(summary));
        }
        a
    };
    let (mut apply, mut analyses) = (Vec::new(), Vec::new());
    let mut checked = 0;
    let mut doc = Document::new(&text, 1);
    let mut analyzer = Analyzer::new();
    keylint::engine::warm_up();
    analyze(&mut analyzer, &doc);
    let mut version = 1;
    for round in 0..rounds {
        if round > 0 {
            // Take the typed line out again (one edit, not measured).
            let (start, end) = if middle {
                (Pos::new(line_no, 0), Pos::new(line_no + 1, 0))
            } else {
                (
                    Pos::new(line_no, lines[line_no as usize].len() as u32),
                    Pos::new(line_no + 1, col),
                )
            };
            version += 1;
            let change = ContentChange {
                range: Some((start, end)),
                text: String::new(),
            };
            doc.apply_changes(&[change], version, PositionEncoding::Utf8);
            analyze(&mut analyzer, &doc);
            assert_eq!(doc.text(), text);
        }
        for ((l, c), s) in edits.iter() {
            version += 1;
            let change = ContentChange {
                range: Some((Pos::new(*l, *c), Pos::new(*l, *c))),
                text: s.clone(),
            };
            let t = Instant::now();
            doc.apply_changes(&[change], version, PositionEncoding::Utf8);
            let dt_apply = t.elapsed();
            apply.push(dt_apply);
            let t = Instant::now();
            let a = analyze(&mut analyzer, &doc);
            let dt_analyze = t.elapsed();
            analyses.push(dt_analyze);
            checked += a.items_checked;
            if trace {
                let line = doc.rope.line(typed_line as usize).to_string();
                let r = analyzer.resolve_stats();
                println!(
                    "{:>9.3} {:>9.3} {:>5} walked {:>4} merged {:>4} resolved {:>3} relinked {:>4}{} {:?}",
                    dt_apply.as_secs_f64() * 1e3,
                    dt_analyze.as_secs_f64() * 1e3,
                    a.items_checked,
                    a.items_walked,
                    a.facts_merged,
                    r.resolved,
                    r.relinked,
                    if r.full { " full" } else { "" },
                    line.trim_end()
                );
            }
        }
    }
    for (name, v) in [("apply", &mut apply), ("analyze", &mut analyses)] {
        v.sort();
        let p = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
        let mean: Duration = v.iter().sum::<Duration>() / v.len() as u32;
        println!(
            "{name}: n={} p50={:?} p95={:?} p99={:?} max={:?} mean={:?}",
            v.len(),
            p(0.5),
            p(0.95),
            p(0.99),
            v[v.len() - 1],
            mean
        );
    }
    println!("items checked: {checked}");
}
