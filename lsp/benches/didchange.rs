//! How long from `didChange` to `publishDiagnostics` for a 10,000-line document, and how
//! much memory the server holds with it open.
//!
//! Run with `cargo bench -p routec-lsp --bench didchange`. Each change toggles one
//! weight at the end of the document (10% <-> 20%), so that every analysis both finds
//! and clears an error. Measured twice: in process through tower's `Service`, where
//! memory is the bench process's VmRSS, and over stdio with the `routec-lsp` binary,
//! where the time includes JSON framing and memory is the server process's VmRSS.
//! Target: under 50 ms per change on a 2-core machine.

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;
use support::stdio::{rss_kib, Process};

const LINES: usize = 10_000;
const CHANGES: usize = 30;
const URI: &str = "file:///bench/big.route";

/// A document of `LINES` lines: services of eleven lines each, all clean.
fn document() -> String {
    let mut text = String::from("// The benchmark's document: café ☕\nnamespace bench\n\n");
    let mut n = 0;
    while text.lines().count() + 11 <= LINES {
        text.push_str(&format!(
            "service svc-{n} {{\n  subset v1, v2\n  accepts GET, HEAD\n  timeout 3s\n  \
             retry 2 x 1s on 5xx, reset\n  routes {{\n    when header x-user == \"é😀\" -> v2\n    \
             when path ^= \"/api/{n}/\" -> v2\n    else -> v1 90%, v2 10%\n  }}\n}}\n\n"
        ));
        n += 1;
    }
    while text.lines().count() < LINES {
        text.push_str("// padding\n");
    }
    text
}

/// The range of the last `10%` and what to put there for change `i`.
fn toggle(text: &str, i: usize) -> serde_json::Value {
    let offset = text.rfind("10%").expect("a weight to toggle");
    let line = text[..offset].matches('\n').count();
    let column = offset - text[..offset].rfind('\n').map_or(0, |p| p + 1);
    let new = if i.is_multiple_of(2) { "2" } else { "1" };
    json!({
        "range": {
            "start": { "line": line, "character": column },
            "end": { "line": line, "character": column + 1 },
        },
        "text": new,
    })
}

fn summary(label: &str, mut times: Vec<Duration>) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let p95 = times[(times.len() * 95 / 100).min(times.len() - 1)];
    println!(
        "| {label:<34} | {:>7.1} | {:>7.1} | {:>7.1} | {:>7.1} |",
        ms(times[0]),
        ms(times[times.len() / 2]),
        ms(p95),
        ms(times[times.len() - 1]),
    );
}

async fn in_process(text: &str) -> (Vec<Duration>, u64, u64) {
    let before = rss_kib("self").unwrap_or(0);
    let (mut client, _) = support::Client::start(None, json!({})).await;
    client.open(URI, text, 1).await;
    let first = client.diagnostics(URI, Some(1)).await;
    assert!(first.is_empty(), "the document is clean: {first:?}");
    let mut times = Vec::new();
    for i in 0..CHANGES {
        let version = i as i32 + 2;
        let started = Instant::now();
        client
            .notify(
                "textDocument/didChange",
                json!({
                    "textDocument": { "uri": URI, "version": version },
                    "contentChanges": [toggle(text, i)],
                }),
            )
            .await;
        let diagnostics = client.diagnostics(URI, Some(version)).await;
        times.push(started.elapsed());
        assert_eq!(diagnostics.len(), usize::from(i.is_multiple_of(2)));
    }
    let after = rss_kib("self").unwrap_or(0);
    (times, before, after)
}

fn over_stdio(binary: &Path, text: &str) -> (Vec<Duration>, u64, u64) {
    let patience = Duration::from_secs(60);
    let mut server = Process::spawn(binary);
    let id = server.request("initialize", json!({ "capabilities": {} }));
    server.response(id, patience);
    server.notify("initialized", json!({}));
    let pid = server.pid().to_string();
    std::thread::sleep(Duration::from_millis(200));
    let before = rss_kib(&pid).unwrap_or(0);
    server.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": URI, "languageId": "route", "version": 1, "text": text } }),
    );
    server.diagnostics(URI, 1, patience);
    let mut times = Vec::new();
    for i in 0..CHANGES {
        let version = i as i64 + 2;
        let started = Instant::now();
        server.notify(
            "textDocument/didChange",
            json!({
                "textDocument": { "uri": URI, "version": version },
                "contentChanges": [toggle(text, i)],
            }),
        );
        server.diagnostics(URI, version, patience);
        times.push(started.elapsed());
    }
    let after = rss_kib(&pid).unwrap_or(0);
    let id = server.request("shutdown", serde_json::Value::Null);
    server.response(id, patience);
    server.notify("exit", serde_json::Value::Null);
    server.wait(patience);
    (times, before, after)
}

fn main() {
    let text = document();
    assert_eq!(text.lines().count(), LINES);
    println!(
        "didChange -> publishDiagnostics, {LINES}-line document ({} KiB), {CHANGES} changes",
        text.len() / 1024
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let (local, local_before, local_after) = runtime.block_on(in_process(&text));
    let (stdio, stdio_before, stdio_after) =
        over_stdio(Path::new(env!("CARGO_BIN_EXE_routec-lsp")), &text);
    println!(
        "| {:<34} | {:>7} | {:>7} | {:>7} | {:>7} |",
        "ms", "min", "median", "p95", "max"
    );
    println!("|{:-<36}|{:-<9}|{:-<9}|{:-<9}|{:-<9}|", "", "", "", "", "");
    summary("in process (tower Service)", local);
    summary("routec-lsp over stdio", stdio);
    println!();
    println!("| VmRSS (MiB)                        | before open | with it open |");
    println!("|------------------------------------|-------------|--------------|");
    let mib = |k: u64| k as f64 / 1024.0;
    println!(
        "| {:<34} | {:>11.1} | {:>12.1} |",
        "bench process (in process)",
        mib(local_before),
        mib(local_after)
    );
    println!(
        "| {:<34} | {:>11.1} | {:>12.1} |",
        "routec-lsp process (stdio)",
        mib(stdio_before),
        mib(stdio_after)
    );
}
