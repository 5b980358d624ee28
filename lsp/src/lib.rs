//! routec-lsp: the routec language server, as a library for the binary, the tests and
//! the benchmark.
//!
//! `server` answers the protocol; `documents` holds the open buffers and finds the
//! workspace's files; `snapshot` is one analysis of them and decides which files show
//! diagnostics; `convert` turns routec's byte spans and values into the protocol's
//! positions (UTF-16 or UTF-8, as negotiated) and types; `transport` frames JSON-RPC
//! on stdio.

mod convert;
mod documents;
mod server;
mod snapshot;
mod transport;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

pub use server::Backend;
use tower_lsp::{ClientSocket, LspService};

/// The server as a tower `Service`, with the socket its notifications to the client
/// come out of. `shut_down` is set once the client has sent `shutdown`.
pub fn service(shut_down: Arc<AtomicBool>) -> (LspService<Backend>, ClientSocket) {
    LspService::new(|client| Backend::new(client, shut_down))
}

/// Serves the protocol on `input` and `output` (stdin and stdout) until the input ends
/// or the client sends `exit`; true when the client sent `shutdown` first.
pub async fn serve<I, O>(input: I, output: O) -> bool
where
    I: tokio::io::AsyncRead + Unpin,
    O: tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let shut_down = Arc::new(AtomicBool::new(false));
    let (service, socket) = service(shut_down.clone());
    transport::serve(input, output, service, socket).await;
    shut_down.load(std::sync::atomic::Ordering::SeqCst)
}
