//! The `routec-lsp` binary over stdio, framed with Content-Length, as an editor runs it.

mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};
use support::stdio::Process;

const PATIENCE: Duration = Duration::from_secs(30);

const BROKEN: &str = "namespace shop\n\nservice reviews {\n  subset v1\n  routes {\n    when path ^= \"/a\" -> v2\n    else -> v1\n  }\n}\n";

fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_routec-lsp"))
}

fn start(root: &Path) -> Process {
    let mut server = Process::spawn(binary());
    let id = server.request(
        "initialize",
        json!({
            "processId": std::process::id(),
            "rootUri": support::uri(root),
            "capabilities": {},
        }),
    );
    let initialized = server.response(id, PATIENCE);
    assert_eq!(
        initialized["result"]["capabilities"]["positionEncoding"],
        "utf-16"
    );
    server.notify("initialized", json!({}));
    server
}

#[test]
fn a_session_from_initialize_to_exit() {
    let root = tempfile::tempdir().unwrap();
    let file = root.path().join("shop.route");
    std::fs::write(&file, BROKEN).unwrap();
    let uri = support::uri(&file).to_string();
    let mut server = start(root.path());

    server.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "route", "version": 1, "text": BROKEN } }),
    );
    let published = server.diagnostics(&uri, 1, PATIENCE);
    let diagnostics = published["params"]["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 1, "{published}");
    assert_eq!(diagnostics[0]["code"], "E0201");
    assert_eq!(
        diagnostics[0]["range"]["start"],
        json!({ "line": 5, "character": 25 })
    );

    let id = server.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": { "line": 3, "character": 10 } }),
    );
    let hover = server.response(id, PATIENCE);
    assert!(hover.get("error").is_none(), "{hover}");
    assert!(hover.get("result").is_some(), "{hover}");

    let id = server.request("shutdown", Value::Null);
    let shutdown = server.response(id, PATIENCE);
    assert_eq!(shutdown["result"], Value::Null, "{shutdown}");
    server.notify("exit", Value::Null);
    let status = server.wait(PATIENCE);
    assert_eq!(status.code(), Some(0));
}

#[test]
fn garbage_on_the_wire_is_refused_and_the_session_goes_on() {
    let root = tempfile::tempdir().unwrap();
    let mut server = start(root.path());
    server.send_raw(b"{ this is not json");
    server.send_raw(b"[1, 2, 3]");
    server.send_raw("\u{0}\u{1}é😀".as_bytes());
    server.send_raw(b"");
    server.send_raw(b"Content-Length: nonsense\r\n\r\n");
    let mut codes = Vec::new();
    for _ in 0..5 {
        let refused = server.wait_for(PATIENCE, |m| m["id"].is_null() && m.get("error").is_some());
        codes.push(refused["error"]["code"].as_i64().unwrap());
    }
    codes.sort();
    assert_eq!(codes, [-32700, -32700, -32700, -32700, -32600]);
    let id = server.request("workspace/symbol", json!({ "query": "" }));
    let answer = server.response(id, PATIENCE);
    assert!(answer.get("result").is_some(), "{answer}");
    let id = server.request("shutdown", Value::Null);
    server.response(id, PATIENCE);
    server.notify("exit", Value::Null);
    assert_eq!(server.wait(PATIENCE).code(), Some(0));
}

#[test]
fn exit_without_shutdown_is_status_one() {
    let root = tempfile::tempdir().unwrap();
    let mut server = start(root.path());
    server.notify("exit", Value::Null);
    assert_eq!(server.wait(PATIENCE).code(), Some(1));
}

#[test]
fn exit_right_after_shutdown_ends_the_process() {
    let root = tempfile::tempdir().unwrap();
    let mut server = start(root.path());
    server.request("shutdown", Value::Null);
    server.notify("exit", Value::Null);
    // stdin stays open: the server must end on `exit`, not on the end of its input.
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = server.try_wait() {
            break status;
        }
        assert!(started.elapsed() < PATIENCE, "still running after exit");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(status.code(), Some(0));
}
