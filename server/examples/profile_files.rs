//! Where `keylint check` spends its time: analyses every `*.py` file under a directory that the
//! pre-filter keeps, with the default configuration, and prints the totals and the slowest files.
//!
//!     cargo run --release --example profile_files -- .bench-cache/src/django [N]

use std::time::{Duration, Instant};

/// CPU time this thread has run so far (`/proc/thread-self/schedstat`; zero where there is none):
/// unlike the wall clock, not inflated when other processes share the cores.
fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .map_or(Duration::ZERO, Duration::from_nanos)
}

use keylint::config::Config;
use keylint::engine::pipeline::analyze_text;
use keylint::engine::prefilter::Prefilter;

fn main() {
    let mut args = std::env::args().skip(1);
    let root = args.next().expect("usage: profile_files DIR [N]");
    let top: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(15);
    let config = Config::default();
    let prefilter = Prefilter::new(&[]);
    let mut rows: Vec<(Duration, usize, String)> = Vec::new();
    let (mut kept, mut skipped, mut total) = (0, 0, Duration::ZERO);
    let (mut parse, mut lines) = (Duration::ZERO, 0);
    let (mut parse_cpu, mut total_cpu) = (Duration::ZERO, Duration::ZERO);
    for entry in ignore::Walk::new(&root).flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "py") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let Some(why) = prefilter.reason(text.as_bytes()) else {
            skipped += 1;
            continue;
        };
        if std::env::var_os("WHY").is_some() {
            println!("kept ({why}): {}", path.display());
        }
        kept += 1;
        let c = thread_cpu();
        let t = Instant::now();
        let mut parser = keylint::document::python_parser();
        std::hint::black_box(parser.parse(&text, None));
        parse += t.elapsed();
        parse_cpu += thread_cpu() - c;
        lines += text.lines().count();
        let c = thread_cpu();
        let t = Instant::now();
        let (_parsed, analysis) = analyze_text(&text, &config, Some(path));
        let took = t.elapsed();
        total_cpu += thread_cpu() - c;
        std::hint::black_box(analysis.findings.len());
        total += took;
        rows.push((took, text.lines().count(), path.display().to_string()));
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.0));
    println!("kept {kept} ({lines} lines), skipped {skipped}; parse alone {parse:.2?}, parse + analysis {total:.2?} (one thread)");
    println!("CPU time: parse alone {parse_cpu:.2?}, parse + analysis {total_cpu:.2?}");
    for (took, lines, path) in rows.iter().take(top) {
        println!("{took:>10.2?} {lines:>6} lines  {path}");
    }
}
