//! The `routec-lsp` binary: the language server over stdin and stdout.
//!
//! Stdout carries the protocol and nothing else; the server logs through the client
//! (`window/logMessage`). Exit status: 0 after `shutdown` then `exit`, 1 when the
//! client went away or sent `exit` without `shutdown` (as the protocol asks).

#[tokio::main]
async fn main() {
    let shut_down = routec_lsp::serve(tokio::io::stdin(), tokio::io::stdout()).await;
    // Exit now rather than wait for an analysis still running on the blocking pool.
    std::process::exit(if shut_down { 0 } else { 1 });
}
