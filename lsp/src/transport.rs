//! JSON-RPC over a byte stream with `Content-Length` framing: the server's stdio.
//!
//! Frames in, `LspService` calls, frames out. This replaces tower-lsp 0.20's `Server`
//! for two reasons: that one stops reading for good after the first malformed frame
//! (tokio-util's `FramedRead` ends its stream after a decoder error, so one bad
//! message would end the session), and it runs notifications concurrently, so that
//! `didOpen`, `didChange` and `didClose` could be handled out of order.
//!
//! Invariants: notifications (and `shutdown`) are handled one after another in the
//! order they arrive, and a request is started only after every message before it has
//! been handled; other requests then run concurrently and answer when done. A frame that is not JSON is
//! answered with a parse error, JSON that is not a message with an invalid-request
//! error, and reading goes on; `"params": null` is taken as no params. Only one task writes to the output, a whole frame at a
//! time. Reading ends at the end of input or after `exit`.

use std::future::poll_fn;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::sync::mpsc;
use tower_lsp::jsonrpc::{Request, Response};
use tower_lsp::{ClientSocket, LspService};
use tower_service::Service;

use crate::server::Backend;

/// A header line longer than this is not a header.
const MAX_HEADER_LINE: usize = 8 * 1024;
/// A body longer than this is skipped unread and refused.
const MAX_BODY: usize = 256 * 1024 * 1024;

enum Frame {
    Body(Vec<u8>),
    /// Bytes that do not make a frame, and why.
    Malformed(String),
    End,
}

/// Serves `service` on `input` and `output` until the input ends or the client sends
/// `exit`.
pub async fn serve<I, O>(
    input: I,
    output: O,
    mut service: LspService<Backend>,
    socket: ClientSocket,
) where
    I: AsyncRead + Unpin,
    O: AsyncWrite + Unpin + Send + 'static,
{
    let (out, frames_out) = mpsc::unbounded_channel::<String>();
    let writer = tokio::spawn(write_frames(output, frames_out));
    let (mut to_client, mut from_client) = socket.split();
    let forward = out.clone();
    let forwarder = tokio::spawn(async move {
        while let Some(request) = to_client.next().await {
            if forward.send(request.to_string()).is_err() {
                break;
            }
        }
    });

    let mut input = BufReader::new(input);
    loop {
        let body = match read_frame(&mut input).await {
            Frame::End => break,
            Frame::Malformed(why) => {
                let _ = out.send(error_frame(Value::Null, -32700, &why));
                continue;
            }
            Frame::Body(body) => body,
        };
        let mut message: Value = match serde_json::from_slice(&body) {
            Ok(message) => message,
            Err(error) => {
                let _ = out.send(error_frame(
                    Value::Null,
                    -32700,
                    &format!("Parse error: {error}"),
                ));
                continue;
            }
        };
        let id = message.get("id").cloned().unwrap_or(Value::Null);
        // `"params": null` means no params, as some clients send `shutdown` and `exit`;
        // tower-lsp would refuse it.
        if let Some(object) = message.as_object_mut() {
            if object.get("params").is_some_and(Value::is_null) {
                object.remove("params");
            }
        }
        if message.get("method").is_some_and(Value::is_string) {
            let request: Request = match serde_json::from_value(message) {
                Ok(request) => request,
                Err(error) => {
                    let _ = out.send(error_frame(
                        id,
                        -32600,
                        &format!("Invalid request: {error}"),
                    ));
                    continue;
                }
            };
            if poll_fn(|cx| service.poll_ready(cx)).await.is_err() {
                break;
            }
            let is_notification = request.id().is_none();
            let is_exit = request.method() == "exit";
            let is_shutdown = request.method() == "shutdown";
            let answer = service.call(request);
            if is_notification {
                if answer.await.is_err() || is_exit {
                    break;
                }
            } else if is_shutdown {
                // In order, so that an `exit` sent right after it finds it done.
                if let Ok(Some(response)) = answer.await {
                    if let Ok(text) = serde_json::to_string(&response) {
                        let _ = out.send(text);
                    }
                }
            } else {
                let out = out.clone();
                tokio::spawn(async move {
                    if let Ok(Some(response)) = answer.await {
                        if let Ok(text) = serde_json::to_string(&response) {
                            let _ = out.send(text);
                        }
                    }
                });
            }
        } else if message.get("result").is_some() || message.get("error").is_some() {
            match serde_json::from_value::<Response>(message) {
                Ok(response) => {
                    let _ = from_client.send(response).await;
                }
                Err(error) => {
                    let _ = out.send(error_frame(
                        id,
                        -32600,
                        &format!("Invalid response: {error}"),
                    ));
                }
            }
        } else {
            let _ = out.send(error_frame(
                id,
                -32600,
                "Invalid request: not a JSON-RPC message",
            ));
        }
    }
    drop(out);
    forwarder.abort();
    // Answers already written stay written; a request still running is not waited for
    // long, since the client has gone or asked the server to exit.
    let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
}

fn error_frame(id: Value, code: i64, message: &str) -> String {
    json!({ "jsonrpc": "2.0", "error": { "code": code, "message": message }, "id": id }).to_string()
}

async fn write_frames<O: AsyncWrite + Unpin>(
    mut output: O,
    mut frames: mpsc::UnboundedReceiver<String>,
) {
    while let Some(body) = frames.recv().await {
        let header = format!("Content-Length: {}\r\n\r\n", body.len());
        let written = async {
            output.write_all(header.as_bytes()).await?;
            output.write_all(body.as_bytes()).await?;
            output.flush().await
        };
        if written.await.is_err() {
            return;
        }
    }
}

/// Reads the headers and body of one frame.
async fn read_frame<I: AsyncBufRead + Unpin>(input: &mut I) -> Frame {
    let mut length: Option<Result<usize, String>> = None;
    let mut any_header = false;
    loop {
        let line = match read_line(input).await {
            Line::End if any_header => {
                return Frame::Malformed("the input ended inside a header".into())
            }
            Line::End => return Frame::End,
            Line::TooLong => {
                any_header = true;
                length = Some(Err("a header line is too long".into()));
                continue;
            }
            Line::Text(line) => line,
        };
        if line.is_empty() {
            if !any_header {
                // Blank lines between frames are harmless.
                continue;
            }
            break;
        }
        any_header = true;
        let text = String::from_utf8_lossy(&line);
        if let Some((name, value)) = text.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                length = Some(
                    value
                        .trim()
                        .parse::<usize>()
                        .map_err(|_| format!("Content-Length `{}` is not a length", value.trim())),
                );
            }
        }
    }
    let length = match length {
        None => return Frame::Malformed("a header without Content-Length".into()),
        Some(Err(why)) => return Frame::Malformed(why),
        Some(Ok(length)) => length,
    };
    if length > MAX_BODY {
        let skipped = tokio::io::copy(
            &mut AsyncReadExt::take(&mut *input, length as u64),
            &mut tokio::io::sink(),
        )
        .await;
        return match skipped {
            Ok(n) if n == length as u64 => {
                Frame::Malformed(format!("a message of {length} bytes is too long"))
            }
            _ => Frame::End,
        };
    }
    let mut body = vec![0; length];
    match input.read_exact(&mut body).await {
        Ok(_) => Frame::Body(body),
        Err(_) => Frame::End,
    }
}

enum Line {
    Text(Vec<u8>),
    TooLong,
    End,
}

/// One line without its `\r\n` or `\n`, at most `MAX_HEADER_LINE` bytes kept.
async fn read_line<I: AsyncBufRead + Unpin>(input: &mut I) -> Line {
    let mut line = Vec::new();
    let mut too_long = false;
    loop {
        let available = match input.fill_buf().await {
            Ok(available) => available,
            Err(_) => return Line::End,
        };
        if available.is_empty() {
            return if line.is_empty() && !too_long {
                Line::End
            } else {
                Line::Text(line)
            };
        }
        let (chunk, done) = match available.iter().position(|b| *b == b'\n') {
            Some(i) => (&available[..i], Some(i + 1)),
            None => (available, None),
        };
        if line.len() + chunk.len() > MAX_HEADER_LINE {
            too_long = true;
        } else {
            line.extend_from_slice(chunk);
        }
        let used = done.unwrap_or(available.len());
        input.consume(used);
        if done.is_some() {
            if too_long {
                return Line::TooLong;
            }
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            return Line::Text(line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn frames(input: &[u8]) -> Vec<String> {
        let mut input = BufReader::new(input);
        let mut out = Vec::new();
        loop {
            match read_frame(&mut input).await {
                Frame::End => return out,
                Frame::Malformed(why) => out.push(format!("malformed: {why}")),
                Frame::Body(body) => out.push(String::from_utf8_lossy(&body).into_owned()),
            }
        }
    }

    #[tokio::test]
    async fn frames_are_read_and_garbage_is_skipped() {
        let input = b"Content-Length: 2\r\n\r\n{}\
            garbage line\r\n\r\n\
            content-length: 3\nContent-Type: application/vscode-jsonrpc; charset=utf-8\n\n[1]\
            Content-Length: x\r\n\r\n\
            Content-Length: 4\r\n\r\nnull";
        assert_eq!(
            frames(input).await,
            [
                "{}",
                "malformed: a header without Content-Length",
                "[1]",
                "malformed: Content-Length `x` is not a length",
                "null",
            ]
        );
    }

    #[tokio::test]
    async fn a_frame_cut_short_ends_the_input() {
        assert_eq!(
            frames(b"Content-Length: 10\r\n\r\n{}").await,
            Vec::<String>::new()
        );
        let long = vec![b'a'; MAX_HEADER_LINE + 10];
        let mut input = long.clone();
        input.extend_from_slice(b"\r\n\r\nContent-Length: 2\r\n\r\n{}");
        assert_eq!(
            frames(&input).await,
            ["malformed: a header line is too long", "{}"]
        );
    }
}
