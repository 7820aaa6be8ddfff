//! Latency replay harness (not a test): types a line character by character into a file over the
//! real protocol, in lock step (the next edit is sent after the previous edit's
//! `publishDiagnostics` arrived), once at the end of the file and once in the middle, and reports
//! p50/p95/p99/max of the time from each `didChange` sent to its `publishDiagnostics` received.
//!
//! ```text
//! cargo run --release -p keylint-blackbox --bin replay -- .bench-cache/test_autodetector.py
//! cargo run --release -p keylint-blackbox --bin replay -- --server "ruff server" \
//!     --init-options '{"settings": {"lint": {"select": ["S"]}}}' FILE
//! cargo run --release -p keylint-blackbox --bin replay -- --profile FILE   # in-process split
//! ```
//!
//! Without `--server` the harness runs keylint's server itself (`replay --serve-keylint`, the same
//! `keylint::lsp::run_stdio` that `keylint server` runs, built in the same profile as the harness).

use std::process::Command;
use std::time::{Duration, Instant};

use keylint_blackbox::LspClient;
use serde_json::{json, Value};

const LINE: &str = "PASSWORD = \"sk-live-4f9c2b7e8d1a6f3c9a0b\"  # typed by replay";

struct Args {
    server: Option<String>,
    line: String,
    init_options: Value,
    files: Vec<String>,
    profile: bool,
    /// Print every keystroke's latency with the line typed so far.
    trace: bool,
    rounds: usize,
    step_timeout: Duration,
}

fn parse_args() -> Args {
    let mut args = Args {
        server: None,
        line: LINE.to_string(),
        init_options: Value::Null,
        files: Vec::new(),
        profile: false,
        trace: false,
        rounds: 1,
        step_timeout: Duration::from_secs(10),
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--serve-keylint" => std::process::exit(keylint::lsp::run_stdio()),
            "--server" => args.server = it.next(),
            "--init-options" => {
                let raw = it.next().unwrap_or_default();
                args.init_options = serde_json::from_str(&raw).unwrap_or_else(|e| {
                    eprintln!("replay: --init-options is not JSON: {e}");
                    std::process::exit(2)
                });
            }
            "--profile" => args.profile = true,
            "--trace" => args.trace = true,
            "--line" => args.line = it.next().unwrap_or_else(|| LINE.to_string()),
            "--rounds" => args.rounds = it.next().and_then(|s| s.parse().ok()).unwrap_or(1),
            "--step-timeout-ms" => {
                args.step_timeout =
                    Duration::from_millis(it.next().and_then(|s| s.parse().ok()).unwrap_or(10_000))
            }
            "-h" | "--help" => {
                println!(
                    "usage: replay [--server CMD] [--init-options JSON] [--line TEXT] [--rounds N] [--profile] [--trace] FILE..."
                );
                std::process::exit(0);
            }
            _ => args.files.push(a),
        }
    }
    if args.files.is_empty() {
        eprintln!("replay: give at least one Python file");
        std::process::exit(2);
    }
    args
}

fn main() {
    let args = parse_args();
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let date = Command::new("date")
        .arg("-u")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    println!("# replay  date: {date}  nproc: {nproc}");
    for file in &args.files {
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("replay: cannot read {file}: {e}");
                std::process::exit(2);
            }
        };
        if args.profile {
            profile(file, &text, Scenario::End, &args.line, args.trace);
            profile(file, &text, Scenario::Middle, &args.line, args.trace);
            continue;
        }
        let server_name = args
            .server
            .clone()
            .unwrap_or_else(|| "keylint server".into());
        for scenario in [Scenario::End, Scenario::Middle] {
            let mut all = Vec::new();
            let mut summary = String::new();
            for _ in 0..args.rounds {
                match replay(&args, &text, scenario) {
                    Ok((mut l, s)) => {
                        all.append(&mut l);
                        summary = s;
                    }
                    Err(e) => {
                        println!("{file} [{server_name}] {}: {e}", scenario.name());
                        break;
                    }
                }
            }
            if !all.is_empty() {
                report(
                    &format!("{file} [{server_name}] {}", scenario.name()),
                    &mut all,
                );
                println!("    {summary}");
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Scenario {
    End,
    Middle,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::End => "typing at the end",
            Scenario::Middle => "typing in the middle",
        }
    }
}

fn spawn(args: &Args) -> LspClient {
    LspClient::spawn_replay_server(args.server.as_deref())
}

/// The latencies of typing `args.line` (default [`LINE`]) into `text`, one per character.
fn replay(args: &Args, text: &str, scenario: Scenario) -> Result<(Vec<Duration>, String), String> {
    let dir = std::env::temp_dir().join(format!("keylint-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let path = dir.join("replayed.py");
    std::fs::write(&path, text).map_err(|e| e.to_string())?;
    let root = format!("file://{}", dir.display());
    let uri = format!("{root}/replayed.py");

    let mut c = spawn(args);
    let caps = json!({
        "textDocument": {
            "publishDiagnostics": {"relatedInformation": true, "versionSupport": true},
            "synchronization": {"didSave": true}
        },
        "general": {"positionEncodings": ["utf-8", "utf-16"]}
    });
    let mut extra = json!({"rootUri": root, "workspaceFolders": [{"uri": root, "name": "replay"}]});
    if !args.init_options.is_null() {
        extra["initializationOptions"] = args.init_options.clone();
    }
    let init = c.initialize(caps, extra);
    let enc = init["capabilities"]["positionEncoding"]
        .as_str()
        .unwrap_or("utf-16")
        .to_string();
    c.did_open(&uri, 1, text);
    let wait_publish = |c: &mut LspClient, version: i64, timeout: Duration| {
        c.wait_for(timeout, |m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri.as_str()
                && (m["params"]["version"] == version || m["params"]["version"].is_null())
        })
    };
    // The first analysis: at least a minute (longer with `--step-timeout-ms`: a server under
    // callgrind takes minutes to open an 8,000-line module).
    wait_publish(&mut c, 1, Duration::from_secs(60).max(args.step_timeout))
        .ok_or("no diagnostics after didOpen (does the server push?)")?;

    let mut version = 1i64;
    let mut latencies = Vec::new();
    let mut last = Value::Null;
    let edits = keystrokes(text, scenario, &args.line, &enc);
    let mut typed = String::new();
    for ((line, character), insert) in edits {
        version += 1;
        let sent = Instant::now();
        c.did_change_range(&uri, version, (line, character), (line, character), &insert);
        let got = wait_publish(&mut c, version, args.step_timeout).ok_or_else(|| {
            format!(
                "no publishDiagnostics for version {version} within {:?} (not lock step)",
                args.step_timeout
            )
        })?;
        let latency = got.at.saturating_duration_since(sent);
        if args.trace {
            typed.push_str(&insert);
            println!(
                "    {:>8} ms  {:?}",
                ms(latency),
                typed.rsplit('\n').next().unwrap_or("")
            );
        }
        latencies.push(latency);
        last = got.msg["params"]["diagnostics"].clone();
        c.buffer.clear();
    }
    let _ = c.request("shutdown", Value::Null);
    c.notify("exit", Value::Null);
    c.close_stdin();
    let _ = c.wait_exit(Duration::from_secs(5));
    let _ = std::fs::remove_dir_all(&dir);
    let mut codes: Vec<String> = last
        .as_array()
        .map(|a| {
            a.iter()
                .map(|d| match &d["code"] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    codes.sort();
    codes.dedup();
    let summary = format!(
        "final publish: {} diagnostics [{}]",
        last.as_array().map_or(0, |a| a.len()),
        codes.join(",")
    );
    Ok((latencies, summary))
}

/// The edits that type `typed` as a new line (each an insertion at a position in `enc` units):
/// first the Enter key, then one character at a time.
fn keystrokes(text: &str, scenario: Scenario, typed: &str, enc: &str) -> Vec<((u32, u32), String)> {
    // Where to type: a new line after the last line, or a new line in the middle with the
    // indentation of its neighbour (so the finished line is valid Python where it stands).
    let lines: Vec<&str> = text.split('\n').collect();
    let (line_no, indent) = match scenario {
        Scenario::End => (lines.len() as u32 - 1, String::new()),
        Scenario::Middle => {
            let mid = lines.len() / 2;
            let at = (mid..lines.len())
                .find(|&i| {
                    let l = lines[i].trim_start();
                    !l.is_empty()
                        && !l.starts_with('#')
                        && !l.starts_with(')')
                        && !l.starts_with(']')
                        && !l.starts_with('}')
                        && !l.starts_with('@')
                        && !l.starts_with("def ")
                        && !l.starts_with("class ")
                        && !l.starts_with("elif")
                        && !l.starts_with("else")
                        && !l.starts_with("except")
                        && !l.starts_with("finally")
                })
                .unwrap_or(mid);
            let indent: String = lines[at]
                .chars()
                .take_while(|c| *c == ' ' || *c == '\t')
                .collect();
            (at as u32, indent)
        }
    };
    // Open the new line (measured like any keystroke: the Enter key).
    let mut edits: Vec<((u32, u32), String)> = Vec::new();
    match scenario {
        Scenario::End => {
            let last_len = units(lines[line_no as usize], enc);
            edits.push(((line_no, last_len), "\n".into()));
        }
        Scenario::Middle => {
            edits.push(((line_no, 0), format!("{indent}\n")));
        }
    }
    let typed_line = line_no + 1;
    let typed_line = match scenario {
        Scenario::End => typed_line,
        Scenario::Middle => line_no,
    };
    let mut col = units(&indent, enc);
    for ch in typed.chars() {
        edits.push(((typed_line, col), ch.to_string()));
        col += units(&ch.to_string(), enc);
    }
    edits
}

fn units(s: &str, enc: &str) -> u32 {
    (match enc {
        "utf-8" => s.len(),
        "utf-32" => s.chars().count(),
        _ => s.chars().map(char::len_utf16).sum(),
    }) as u32
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

fn report(label: &str, lat: &mut [Duration]) {
    lat.sort();
    let mean = lat.iter().sum::<Duration>() / lat.len() as u32;
    println!(
        "{label}: n={} p50={} p95={} p99={} max={} mean={} (ms)",
        lat.len(),
        ms(percentile(lat, 0.50)),
        ms(percentile(lat, 0.95)),
        ms(percentile(lat, 0.99)),
        ms(lat[lat.len() - 1]),
        ms(mean)
    );
}

/// In-process split of one keystroke: document update (the stub reparses from scratch), analysis,
/// conversion to diagnostics. No protocol.
fn profile(file: &str, text: &str, scenario: Scenario, line: &str, trace: bool) {
    use keylint::document::{ContentChange, Document, Pos, PositionEncoding};
    use keylint::engine::{Analyzer, Options};

    let enc = PositionEncoding::Utf8;
    let mut doc = Document::new(text, 1);
    let mut analyzer = Analyzer::new();
    let options = Options::default();
    analyzer.analyze(doc.view(), doc.source(), &options);
    let uri = "file:///replay/profiled.py".parse().expect("a valid URI");
    let changes: Vec<ContentChange> = keystrokes(text, scenario, line, "utf-8")
        .into_iter()
        .map(|((line, character), insert)| ContentChange {
            range: Some((Pos::new(line, character), Pos::new(line, character))),
            text: insert,
        })
        .collect();
    let (mut apply, mut parse_only, mut analyze, mut convert, mut incremental) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut parser = keylint::document::python_parser();
    // What an incremental engine would pay: `Tree::edit` + reparse with the old tree.
    let mut inc_text = text.to_string();
    let mut inc_parser = keylint::document::python_parser();
    let mut inc_tree = inc_parser.parse(&inc_text, None).expect("a tree");
    for (i, change) in changes.iter().enumerate() {
        if let Some((start, _)) = change.range {
            let line_start: usize = inc_text
                .split_inclusive('\n')
                .take(start.line as usize)
                .map(str::len)
                .sum();
            let at = line_start + start.character as usize;
            let t = Instant::now();
            inc_text.insert_str(at, &change.text);
            let (row, col) = (start.line as usize, start.character as usize);
            let new_end = match change.text.rfind('\n') {
                Some(i) => tree_sitter::Point::new(row + 1, change.text.len() - i - 1),
                None => tree_sitter::Point::new(row, col + change.text.len()),
            };
            inc_tree.edit(&tree_sitter::InputEdit {
                start_byte: at,
                old_end_byte: at,
                new_end_byte: at + change.text.len(),
                start_position: tree_sitter::Point::new(row, col),
                old_end_position: tree_sitter::Point::new(row, col),
                new_end_position: new_end,
            });
            inc_tree = inc_parser
                .parse(&inc_text, Some(&inc_tree))
                .expect("a tree");
            incremental.push(t.elapsed());
        }
        let t = Instant::now();
        doc.apply_changes(std::slice::from_ref(change), i as i32 + 2, enc);
        apply.push(t.elapsed());
        let full = doc.text();
        let t = Instant::now();
        let _ = parser.parse(&full, None);
        parse_only.push(t.elapsed());
        let t = Instant::now();
        let analysis = analyzer.analyze(doc.view(), doc.source(), &options);
        analyze.push(t.elapsed());
        if trace {
            let stats = analyzer.resolve_stats();
            println!(
                "    {:>8} ms  items checked {}/{}, data flow: {} changed, {} resolved{}  {:?}",
                ms(t.elapsed()),
                analysis.items_checked,
                analysis.items_total,
                stats.changed,
                stats.resolved,
                if stats.full { " (from scratch)" } else { "" },
                change.text
            );
        }
        let t = Instant::now();
        let _ = keylint::lsp::convert::diagnostics(
            &uri,
            &doc,
            &analysis,
            enc,
            &keylint::lsp::convert::OnDisk,
        );
        convert.push(t.elapsed());
    }
    report(
        &format!(
            "{file} [in-process, {}] document apply_change",
            scenario.name()
        ),
        &mut apply,
    );
    report(
        &format!(
            "{file} [in-process, {}]   of which a from-scratch tree-sitter parse",
            scenario.name()
        ),
        &mut parse_only,
    );
    report(
        &format!(
            "{file} [in-process, {}] estimate: tree-sitter edit + incremental reparse",
            scenario.name()
        ),
        &mut incremental,
    );
    report(
        &format!(
            "{file} [in-process, {}] analysis (incremental)",
            scenario.name()
        ),
        &mut analyze,
    );
    report(
        &format!(
            "{file} [in-process, {}] findings → diagnostics",
            scenario.name()
        ),
        &mut convert,
    );
}
