//! Latency replay across modules (not a test; issue #14): opens every route module of a package
//! written by `scripts/gen-fastapi-project` and its `app/repository.py`, then types a line into a
//! function of the repository character by character, in lock step, over the real protocol
//! (push diagnostics), and reports p50/p95/p99/max of the time from each `didChange` to the
//! *last* `publishDiagnostics` it brings: the repository's own (for its version) and every route
//! module's republished.
//!
//! ```text
//! ./scripts/gen-fastapi-project 50 .bench-cache/fastapi_project_50
//! cargo run --release -p keylint-blackbox --bin replay_project -- .bench-cache/fastapi_project_50
//! replay_project --function describe DIR     # a function no route module reads: none republished
//! replay_project --server "keylint server" DIR   # another build of keylint
//! ```
//!
//! After each keystroke the harness waits for the repository's publish and then for the route
//! modules' until all of them have published or none has for `--quiet-ms` (default 300): the
//! server republishes only the modules whose view of the project changed, so how many come is
//! part of what is measured (reported per keystroke: min, median, max). With `--expect-all` a
//! keystroke that does not republish every route module is an error.
//!
//! Without `--server` the harness runs keylint's server itself (`--serve-keylint`, the same
//! `keylint::lsp::run_stdio` that `keylint server` runs, built in the same profile).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use keylint_blackbox::{file_uri, LspClient};
use serde_json::{json, Value};

/// Typed into `audit(event, key)`: once complete, the key reaches a log there.
const LINE: &str = "logger.info(\"audit %s by %s\", event, key)";

struct Args {
    server: Option<String>,
    dir: PathBuf,
    function: String,
    line: String,
    rounds: usize,
    quiet: Duration,
    expect_all: bool,
    trace: bool,
}

fn parse_args() -> Args {
    let mut args = Args {
        server: None,
        dir: PathBuf::new(),
        function: "audit".into(),
        line: LINE.into(),
        rounds: 1,
        quiet: Duration::from_millis(300),
        expect_all: false,
        trace: false,
    };
    let mut dir = None;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--serve-keylint" => std::process::exit(keylint::lsp::run_stdio()),
            "--server" => args.server = it.next(),
            "--function" => args.function = it.next().unwrap_or(args.function),
            "--line" => args.line = it.next().unwrap_or(args.line),
            "--rounds" => args.rounds = it.next().and_then(|s| s.parse().ok()).unwrap_or(1),
            "--quiet-ms" => {
                args.quiet =
                    Duration::from_millis(it.next().and_then(|s| s.parse().ok()).unwrap_or(300))
            }
            "--expect-all" => args.expect_all = true,
            "--trace" => args.trace = true,
            "-h" | "--help" => {
                println!(
                    "usage: replay_project [--server CMD] [--function NAME] [--line TEXT] [--rounds N] [--quiet-ms MS] [--expect-all] [--trace] DIR"
                );
                std::process::exit(0);
            }
            _ => dir = Some(PathBuf::from(a)),
        }
    }
    let Some(dir) = dir else {
        eprintln!("replay_project: give the directory of a generated project");
        std::process::exit(2);
    };
    args.dir = dir.canonicalize().unwrap_or_else(|e| {
        eprintln!("replay_project: {}: {e}", dir.display());
        std::process::exit(2)
    });
    args
}

fn spawn(args: &Args) -> LspClient {
    LspClient::spawn_replay_server(args.server.as_deref())
}

fn is_publish(m: &Value) -> bool {
    m["method"] == "textDocument/publishDiagnostics"
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
    println!("# replay_project  date: {date}  nproc: {nproc}");
    let app = args.dir.join("app");
    let helper = app.join("repository.py");
    let mut routes: Vec<PathBuf> = std::fs::read_dir(&app)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("routes_"))
                })
                .collect()
        })
        .unwrap_or_default();
    routes.sort();
    if routes.is_empty() || !helper.exists() {
        eprintln!(
            "replay_project: {} is not a project of scripts/gen-fastapi-project",
            args.dir.display()
        );
        std::process::exit(2);
    }
    let server = args
        .server
        .clone()
        .unwrap_or_else(|| "keylint server".into());
    let mut all = Vec::new();
    let mut own = Vec::new();
    let mut counts = Vec::new();
    for _ in 0..args.rounds {
        match replay(&args, &helper, &routes) {
            Ok((mut l, mut o, mut c)) => {
                all.append(&mut l);
                own.append(&mut o);
                counts.append(&mut c);
            }
            Err(e) => {
                println!("{} [{server}]: {e}", args.dir.display());
                std::process::exit(1);
            }
        }
    }
    let label = format!(
        "{} [{server}] typing in `{}` of repository.py, {} route modules open",
        args.dir.display(),
        args.function,
        routes.len()
    );
    report(&format!("{label}: until the last publish"), &mut all);
    report(&format!("{label}: repository.py's own publish"), &mut own);
    counts.sort_unstable();
    println!(
        "    route modules republished per keystroke: min {} median {} max {} (of {})",
        counts[0],
        counts[counts.len() / 2],
        counts[counts.len() - 1],
        routes.len()
    );
}

/// Per keystroke: the time to the last publish, to the repository's own, and how many route
/// modules were republished.
type Measured = (Vec<Duration>, Vec<Duration>, Vec<usize>);

fn replay(args: &Args, helper: &Path, routes: &[PathBuf]) -> Result<Measured, String> {
    let root = file_uri(&args.dir);
    let mut c = spawn(args);
    let caps = json!({
        "textDocument": {
            "publishDiagnostics": {"relatedInformation": true, "versionSupport": true},
            "synchronization": {"didSave": true}
        },
        "window": {"workDoneProgress": true},
        "workspace": {"workspaceFolders": true},
        "general": {"positionEncodings": ["utf-8", "utf-16"]}
    });
    c.initialize(
        caps,
        json!({"rootUri": root, "workspaceFolders": [{"uri": root, "name": "replay"}]}),
    );
    // The index, then every module open, then quiet (republishes of the opens settle).
    c.wait_for(Duration::from_secs(120), |m| {
        m["method"] == "$/progress" && m["params"]["value"]["kind"] == "end"
    })
    .ok_or("the server reported no end of indexing ($/progress)")?;
    let text = std::fs::read_to_string(helper).map_err(|e| e.to_string())?;
    let helper_uri = file_uri(helper);
    let mut route_uris: HashSet<String> = HashSet::new();
    for r in routes {
        let t = std::fs::read_to_string(r).map_err(|e| e.to_string())?;
        let u = file_uri(r);
        c.did_open(&u, 1, &t);
        route_uris.insert(u);
    }
    c.did_open(&helper_uri, 1, &text);
    c.wait_for(Duration::from_secs(60), |m| {
        is_publish(m) && m["params"]["uri"] == helper_uri.as_str()
    })
    .ok_or("no diagnostics for repository.py after didOpen")?;
    c.drain(Duration::from_millis(1000));
    c.buffer.clear();

    // Where to type: a new line at the end of the function's body.
    let lines: Vec<&str> = text.split('\n').collect();
    let def = lines
        .iter()
        .position(|l| l.starts_with(&format!("def {}(", args.function)))
        .ok_or_else(|| format!("no function `{}` in repository.py", args.function))?;
    let last = (def + 1..lines.len())
        .take_while(|&i| lines[i].starts_with("    "))
        .last()
        .unwrap_or(def);
    let mut edits: Vec<((u32, u32), String)> =
        vec![((last as u32, lines[last].len() as u32), "\n    ".into())];
    let mut col = 4u32;
    for ch in args.line.chars() {
        edits.push((((last + 1) as u32, col), ch.to_string()));
        col += ch.len_utf16() as u32;
    }

    let mut version = 1i64;
    let (mut latencies, mut own, mut counts) = (Vec::new(), Vec::new(), Vec::new());
    for ((line, character), insert) in edits {
        version += 1;
        let sent = Instant::now();
        c.did_change_range(
            &helper_uri,
            version,
            (line, character),
            (line, character),
            &insert,
        );
        let mut seen: HashSet<String> = HashSet::new();
        let mut own_at: Option<Instant> = None;
        let mut last_at = sent;
        let deadline = sent + Duration::from_secs(30);
        loop {
            let done_routes = seen.len() == route_uris.len();
            if own_at.is_some() && done_routes {
                break;
            }
            // Before the repository's publish: wait up to the deadline; after it, for the quiet
            // time since the last publish.
            let wait = if own_at.is_none() {
                deadline.saturating_duration_since(Instant::now())
            } else {
                args.quiet
            };
            let Some(r) = c.recv(wait) else {
                if own_at.is_none() {
                    return Err(format!(
                        "no publishDiagnostics for version {version} of repository.py within 30 s"
                    ));
                }
                break;
            };
            if !is_publish(&r.msg) {
                continue;
            }
            let uri = r.msg["params"]["uri"].as_str().unwrap_or("").to_string();
            if uri == helper_uri {
                if r.msg["params"]["version"] == version {
                    own_at = Some(r.at);
                    last_at = last_at.max(r.at);
                }
            } else if route_uris.contains(&uri) {
                seen.insert(uri);
                last_at = last_at.max(r.at);
            }
        }
        if args.expect_all && seen.len() != route_uris.len() {
            return Err(format!(
                "version {version}: {} of {} route modules republished",
                seen.len(),
                route_uris.len()
            ));
        }
        let latency = last_at.saturating_duration_since(sent);
        let own_latency = own_at.map_or(latency, |t| t.saturating_duration_since(sent));
        if args.trace {
            println!(
                "    {:>8} ms (own {:>8} ms), {} route modules  {insert:?}",
                ms(latency),
                ms(own_latency),
                seen.len()
            );
        }
        latencies.push(latency);
        own.push(own_latency);
        counts.push(seen.len());
    }
    let _ = c.request("shutdown", Value::Null);
    c.notify("exit", Value::Null);
    c.close_stdin();
    let _ = c.wait_exit(Duration::from_secs(5));
    Ok((latencies, own, counts))
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
    let mean = lat.iter().sum::<Duration>() / lat.len().max(1) as u32;
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
