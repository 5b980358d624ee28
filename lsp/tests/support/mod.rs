//! Drives the server in process, through tower's `Service`, as an editor would.
//!
//! `Client` sends requests and notifications as JSON-RPC values and collects what the
//! server sends back on its socket (diagnostics, log messages), so that a test can wait
//! for the notification it expects.

#![allow(dead_code)]

pub mod stdio;

use std::future::poll_fn;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use routec_lsp::Backend;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tower_lsp::jsonrpc::{Request, Response};
use tower_lsp::LspService;
use tower_service::Service;

/// How long a test waits for something the server should send.
pub const PATIENCE: Duration = Duration::from_secs(20);

pub struct Client {
    service: LspService<Backend>,
    from_server: mpsc::UnboundedReceiver<Request>,
    /// Notifications received but not yet asked for.
    seen: Vec<Request>,
    next_id: i64,
}

impl Client {
    /// A server, initialised with `capabilities` and the workspace folder `root`.
    pub async fn start(root: Option<&Path>, capabilities: Value) -> (Client, Value) {
        let (service, socket) = routec_lsp::service(Arc::new(AtomicBool::new(false)));
        let (tx, from_server) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut socket = socket;
            while let Some(request) = socket.next().await {
                if tx.send(request).is_err() {
                    break;
                }
            }
        });
        let mut client = Client {
            service,
            from_server,
            seen: Vec::new(),
            next_id: 0,
        };
        let root_uri = root.map(|r| uri(r).to_string());
        let result = client
            .request(
                "initialize",
                json!({ "processId": null, "rootUri": root_uri, "capabilities": capabilities }),
            )
            .await
            .expect("initialize succeeds");
        client.notify("initialized", json!({})).await;
        (client, result)
    }

    pub async fn call(&mut self, request: Request) -> Option<Response> {
        poll_fn(|cx| self.service.poll_ready(cx))
            .await
            .expect("the service is ready");
        self.service
            .call(request)
            .await
            .expect("the service has not exited")
    }

    /// A request's result, or its error as a JSON value.
    pub async fn request(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        self.next_id += 1;
        let builder = Request::build(method.to_string()).id(self.next_id);
        let request = match params {
            Value::Null => builder.finish(),
            params => builder.params(params).finish(),
        };
        let response = self.call(request).await.expect("a request is answered");
        let (_, body) = response.into_parts();
        body.map_err(|e| serde_json::to_value(e).expect("errors serialise"))
    }

    pub async fn notify(&mut self, method: &str, params: Value) {
        let request = Request::build(method.to_string()).params(params).finish();
        assert!(self.call(request).await.is_none());
    }

    pub async fn open(&mut self, uri: &str, text: &str, version: i32) {
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": {
                "uri": uri, "languageId": "route", "version": version, "text": text,
            }}),
        )
        .await;
    }

    pub async fn change(&mut self, uri: &str, text: &str, version: i32) {
        self.notify(
            "textDocument/didChange",
            json!({
                "textDocument": { "uri": uri, "version": version },
                "contentChanges": [{ "text": text }],
            }),
        )
        .await;
    }

    /// Waits for a notification that `accept` takes; earlier ones stay available.
    pub async fn wait_for(&mut self, what: &str, accept: impl Fn(&Request) -> bool) -> Request {
        if let Some(i) = self.seen.iter().position(&accept) {
            return self.seen.remove(i);
        }
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let next = tokio::time::timeout_at(deadline, self.from_server.recv())
                .await
                .unwrap_or_else(|_| panic!("no {what} within {PATIENCE:?}; seen {:#?}", self.seen))
                .expect("the server's socket stays open");
            if accept(&next) {
                return next;
            }
            self.seen.push(next);
        }
    }

    /// The diagnostics published for `uri`: the first publication with `version` (any
    /// version when `None`).
    pub async fn diagnostics(&mut self, uri: &str, version: Option<i32>) -> Vec<Value> {
        let request = self
            .wait_for(&format!("diagnostics for {uri} v{version:?}"), |r| {
                r.method() == "textDocument/publishDiagnostics"
                    && r.params().is_some_and(|p| {
                        p["uri"] == uri && version.is_none_or(|v| p["version"] == json!(v))
                    })
            })
            .await;
        request.params().expect("has params")["diagnostics"]
            .as_array()
            .expect("a list")
            .clone()
    }

    /// Everything received so far and not yet asked for, after a short wait.
    pub async fn drain(&mut self, wait: Duration) -> Vec<Request> {
        let deadline = tokio::time::Instant::now() + wait;
        while let Ok(Some(next)) = tokio::time::timeout_at(deadline, self.from_server.recv()).await
        {
            self.seen.push(next);
        }
        std::mem::take(&mut self.seen)
    }
}

pub fn uri(path: &Path) -> tower_lsp::lsp_types::Url {
    tower_lsp::lsp_types::Url::from_file_path(path).expect("an absolute path")
}

pub fn codes(diagnostics: &[Value]) -> Vec<String> {
    diagnostics
        .iter()
        .map(|d| d["code"].as_str().unwrap_or("?").to_string())
        .collect()
}

/// The 0-based line and UTF-16 column of the first occurrence of `needle`.
pub fn utf16_position(text: &str, needle: &str) -> (u32, u32) {
    let offset = text.find(needle).expect("the needle is in the text");
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line = text[..offset].matches('\n').count();
    let column: usize = text[line_start..offset].chars().map(char::len_utf16).sum();
    (line as u32, column as u32)
}

pub fn position(text: &str, needle: &str) -> Value {
    let (line, character) = utf16_position(text, needle);
    json!({ "line": line, "character": character })
}

/// The byte offset of a UTF-16 protocol position in `text`.
pub fn offset(text: &str, position: &Value) -> usize {
    let line = position["line"].as_u64().expect("a line") as usize;
    let character = position["character"].as_u64().expect("a character") as usize;
    let start = if line == 0 {
        0
    } else {
        text.match_indices('\n')
            .nth(line - 1)
            .expect("the line exists")
            .0
            + 1
    };
    let mut units = 0;
    for (i, c) in text[start..].char_indices() {
        if units >= character || c == '\n' {
            return start + i;
        }
        units += c.len_utf16();
    }
    text.len()
}

/// `text` with the protocol's text edits applied (UTF-16 positions).
pub fn apply_edits(text: &str, edits: &[Value]) -> String {
    let mut edits: Vec<(usize, usize, &str)> = edits
        .iter()
        .map(|e| {
            (
                offset(text, &e["range"]["start"]),
                offset(text, &e["range"]["end"]),
                e["newText"].as_str().expect("new text"),
            )
        })
        .collect();
    edits.sort_by_key(|(start, end, _)| std::cmp::Reverse((*start, *end)));
    let mut out = text.to_string();
    for (start, end, new) in edits {
        out.replace_range(start..end, new);
    }
    out
}
