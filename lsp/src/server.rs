//! The language server: protocol requests in, library calls, protocol answers out.
//!
//! `Backend` implements tower-lsp's `LanguageServer`. It keeps the open buffers
//! (`documents`), the latest analysis (`Snapshot`) and a background task that analyses
//! after every change and publishes diagnostics. It never re-implements a check or a
//! query: diagnostics come from `routec::analyze`, queries from `routec::ide`,
//! formatting from `routec::format`; this module only converts positions and types.
//!
//! Invariants:
//! - Library calls run on the blocking pool (`run_blocking`), off the async request
//!   path; a panic in one is caught there, logged through `window/logMessage` and
//!   answered with an `InternalError`, and the server goes on serving.
//! - Analyses are coalesced: a change wakes the publisher, which analyses the latest
//!   state; one change or a hundred during an analysis cause one more analysis. A
//!   result whose generation is older than the documents' is dropped unpublished
//!   (a newer analysis is already due), so a stale version never overwrites a newer
//!   one. Only one analysis runs at a time; requests wait for it and share it.
//! - Text sync is incremental. Changes are applied in the order they arrive (the
//!   transport handles notifications one at a time), and one whose version is not newer
//!   than the buffer's is ignored. A change without a range replaces the whole text.
//! - Nothing is written to stdout but the protocol: logs go to the client.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use routec::ide;
use tokio::sync::Notify;
use tower_lsp::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp::lsp_types::*;
use tower_lsp::{Client, LanguageServer};

use crate::convert::{self, Encoding, Locate};
use crate::documents::{self, Documents};
use crate::snapshot::Snapshot;

/// The server's state, shared by the request handlers and the publisher.
struct State {
    documents: Mutex<Documents>,
    encoding: OnceLock<Encoding>,
    latest: Mutex<Option<Arc<Snapshot>>>,
    /// Held while an analysis runs, so that only one runs at a time.
    analysing: tokio::sync::Mutex<()>,
    changed: Notify,
    publisher_started: AtomicBool,
    watch_files: AtomicBool,
    shut_down: Arc<AtomicBool>,
}

#[derive(Clone)]
pub struct Backend {
    client: Client,
    state: Arc<State>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `RequestFailed`: the request was valid but cannot be carried out.
fn request_failed(message: impl Into<String>) -> Error {
    Error {
        code: ErrorCode::ServerError(-32803),
        message: message.into().into(),
        data: None,
    }
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_string()
    }
}

impl Backend {
    /// A server that reports through `client`; `shut_down` is set when the client asks
    /// for `shutdown`, so that the binary can exit with 0 after `exit` (1 otherwise).
    pub fn new(client: Client, shut_down: Arc<AtomicBool>) -> Backend {
        Backend {
            client,
            state: Arc::new(State {
                documents: Mutex::new(Documents::default()),
                encoding: OnceLock::new(),
                latest: Mutex::new(None),
                analysing: tokio::sync::Mutex::new(()),
                changed: Notify::new(),
                publisher_started: AtomicBool::new(false),
                watch_files: AtomicBool::new(false),
                shut_down,
            }),
        }
    }

    fn encoding(&self) -> Encoding {
        self.state.encoding.get().copied().unwrap_or_default()
    }

    /// Runs `work` on the blocking pool; a panic in it is logged to the client and
    /// becomes an `InternalError` answer.
    pub async fn run_blocking<T, F>(&self, what: &str, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        match tokio::task::spawn_blocking(work).await {
            Ok(value) => Ok(value),
            Err(error) => {
                let text = if error.is_panic() {
                    panic_text(error.into_panic().as_ref())
                } else {
                    "cancelled".to_string()
                };
                let message = format!("routec-lsp: {what} failed: {text}");
                self.client.log_message(MessageType::ERROR, &message).await;
                Err(Error {
                    code: ErrorCode::InternalError,
                    message: message.into(),
                    data: None,
                })
            }
        }
    }

    /// The analysis of the current documents: the latest one if nothing changed since,
    /// otherwise a new one.
    async fn snapshot(&self) -> Result<Arc<Snapshot>> {
        let _analysing = self.state.analysing.lock().await;
        let workspace = {
            let documents = lock(&self.state.documents);
            if let Some(latest) = lock(&self.state.latest).as_ref() {
                if latest.generation == documents.generation() {
                    return Ok(latest.clone());
                }
            }
            documents.workspace()
        };
        let encoding = self.encoding();
        let analysed = self
            .run_blocking("analysis", move || Snapshot::analyse(&workspace, encoding))
            .await?;
        match analysed {
            Ok(snapshot) => {
                let snapshot = Arc::new(snapshot);
                let mut latest = lock(&self.state.latest);
                if latest
                    .as_ref()
                    .is_none_or(|l| l.generation <= snapshot.generation)
                {
                    *latest = Some(snapshot.clone());
                }
                Ok(snapshot)
            }
            Err(error) => {
                let message = format!(
                    "routec-lsp: cannot read {}: {}",
                    error.path.display(),
                    error.error
                );
                self.client.log_message(MessageType::ERROR, &message).await;
                Err(request_failed(message))
            }
        }
    }

    fn changed(&self) {
        self.state.changed.notify_one();
    }

    fn start_publisher(&self) {
        if self.state.publisher_started.swap(true, Ordering::SeqCst) {
            return;
        }
        let backend = self.clone();
        tokio::spawn(async move { backend.publish_forever().await });
    }

    /// Analyses after every change and publishes what changed.
    async fn publish_forever(self) {
        let mut published: HashMap<Url, Vec<Diagnostic>> = HashMap::new();
        loop {
            self.state.changed.notified().await;
            if self.state.shut_down.load(Ordering::SeqCst) {
                return;
            }
            let Ok(snapshot) = self.snapshot().await else {
                continue;
            };
            if self.is_stale(&snapshot) {
                continue;
            }
            let from = snapshot.clone();
            let Ok(diagnostics) = self
                .run_blocking("diagnostics", move || from.diagnostics())
                .await
            else {
                continue;
            };
            if self.is_stale(&snapshot) {
                continue;
            }
            for (uri, list) in &diagnostics {
                let version = snapshot.versions.get(uri).copied();
                if version.is_some() || published.get(uri) != Some(list) {
                    self.client
                        .publish_diagnostics(uri.clone(), list.clone(), version)
                        .await;
                }
            }
            for uri in published.keys() {
                if !diagnostics.contains_key(uri) {
                    self.client
                        .publish_diagnostics(uri.clone(), Vec::new(), None)
                        .await;
                }
            }
            published = diagnostics;
        }
    }

    fn is_stale(&self, snapshot: &Snapshot) -> bool {
        snapshot.generation != lock(&self.state.documents).generation()
    }

    /// Finds the workspace's `.route` files again, then has them analysed.
    async fn rescan(&self) {
        let folders = lock(&self.state.documents).folders().to_vec();
        if folders.is_empty() {
            self.changed();
            return;
        }
        let Ok((files, truncated)) = self
            .run_blocking("workspace scan", move || documents::scan(&folders))
            .await
        else {
            return;
        };
        if truncated {
            self.client
                .log_message(
                    MessageType::WARNING,
                    format!(
                        "routec-lsp: the workspace is large; only {} .route files from at \
                         most {} directories are analysed",
                        documents::MAX_WORKSPACE_FILES,
                        documents::MAX_DIRECTORIES
                    ),
                )
                .await;
        }
        lock(&self.state.documents).set_files(files);
        self.changed();
    }

    async fn register_file_watcher(&self) {
        let options = DidChangeWatchedFilesRegistrationOptions {
            watchers: vec![FileSystemWatcher {
                glob_pattern: GlobPattern::String("**/*.route".to_string()),
                kind: None,
            }],
        };
        let Ok(options) = serde_json::to_value(options) else {
            return;
        };
        let registration = Registration {
            id: "routec-watch-route-files".to_string(),
            method: "workspace/didChangeWatchedFiles".to_string(),
            register_options: Some(options),
        };
        if let Err(error) = self.client.register_capability(vec![registration]).await {
            self.client
                .log_message(
                    MessageType::WARNING,
                    format!("routec-lsp: cannot watch .route files: {error}"),
                )
                .await;
        }
    }

    /// Runs a query on the current analysis at a position of a document; `None` for a
    /// document the analysis does not hold or a position outside it.
    async fn at_position<T, F>(
        &self,
        what: &str,
        at: TextDocumentPositionParams,
        query: F,
    ) -> Result<Option<T>>
    where
        T: Send + 'static,
        F: FnOnce(&Snapshot, routec::FileId, usize) -> Option<T> + Send + 'static,
    {
        let snapshot = self.snapshot().await?;
        self.run_blocking(what, move || {
            let (file, offset) = snapshot.offset(&at.text_document.uri, at.position)?;
            query(&snapshot, file, offset)
        })
        .await
    }

    /// Runs a query on the current analysis of a whole document.
    async fn in_document<T, F>(&self, what: &str, uri: Url, query: F) -> Result<Option<T>>
    where
        T: Send + 'static,
        F: FnOnce(&Snapshot, routec::FileId) -> Option<T> + Send + 'static,
    {
        let snapshot = self.snapshot().await?;
        self.run_blocking(what, move || {
            let file = snapshot.file_of(&uri)?;
            query(&snapshot, file)
        })
        .await
    }
}

fn folders_of(params: &InitializeParams) -> Vec<PathBuf> {
    let uris: Vec<&Url> = match &params.workspace_folders {
        Some(folders) if !folders.is_empty() => folders.iter().map(|f| &f.uri).collect(),
        _ => params.root_uri.iter().collect(),
    };
    uris.into_iter()
        .filter_map(|uri| uri.to_file_path().ok())
        .map(|path| documents::normalize(&path))
        .collect()
}

fn capabilities(encoding: Encoding) -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(encoding.kind()),
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                will_save: None,
                will_save_wait_until: None,
                save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                    include_text: Some(false),
                })),
            },
        )),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Right(RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: WorkDoneProgressOptions::default(),
        })),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec!["/".to_string()]),
            ..CompletionOptions::default()
        }),
        document_symbol_provider: Some(OneOf::Left(true)),
        workspace_symbol_provider: Some(OneOf::Left(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
            work_done_progress_options: WorkDoneProgressOptions::default(),
            resolve_provider: None,
        })),
        semantic_tokens_provider: Some(SemanticTokensServerCapabilities::SemanticTokensOptions(
            SemanticTokensOptions {
                work_done_progress_options: WorkDoneProgressOptions::default(),
                legend: convert::token_legend(),
                range: None,
                full: Some(SemanticTokensFullOptions::Bool(true)),
            },
        )),
        workspace: Some(WorkspaceServerCapabilities {
            workspace_folders: Some(WorkspaceFoldersServerCapabilities {
                supported: Some(true),
                change_notifications: Some(OneOf::Left(true)),
            }),
            file_operations: None,
        }),
        ..ServerCapabilities::default()
    }
}

/// A document symbol the way every client accepts it: a name that is not empty, a
/// selection inside the range.
fn document_symbol(snapshot: &Snapshot, symbol: &ide::DocumentSymbol) -> DocumentSymbol {
    let range = snapshot.range(symbol.span);
    let selection = if symbol.selection.file == symbol.span.file
        && symbol.selection.start >= symbol.span.start
        && symbol.selection.end <= symbol.span.end
    {
        snapshot.range(symbol.selection)
    } else {
        range
    };
    #[allow(deprecated)]
    DocumentSymbol {
        name: symbol_name(symbol),
        detail: symbol.detail.clone(),
        kind: convert::symbol_kind(symbol.kind),
        tags: None,
        deprecated: None,
        range,
        selection_range: selection,
        children: (!symbol.children.is_empty()).then(|| {
            symbol
                .children
                .iter()
                .filter(|c| c.span.file == symbol.span.file)
                .map(|c| document_symbol(snapshot, c))
                .collect()
        }),
    }
}

fn symbol_name(symbol: &ide::DocumentSymbol) -> String {
    if !symbol.name.trim().is_empty() {
        symbol.name.clone()
    } else {
        symbol
            .detail
            .clone()
            .filter(|d| !d.trim().is_empty())
            .unwrap_or_else(|| "(unnamed)".to_string())
    }
}

fn flatten_symbols(
    snapshot: &Snapshot,
    symbols: &[ide::DocumentSymbol],
    container: Option<&str>,
    out: &mut Vec<SymbolInformation>,
) {
    for symbol in symbols {
        if let Some(location) = snapshot.location(symbol.selection) {
            #[allow(deprecated)]
            out.push(SymbolInformation {
                name: symbol_name(symbol),
                kind: convert::symbol_kind(symbol.kind),
                tags: None,
                deprecated: None,
                location,
                container_name: container.map(str::to_string),
            });
        }
        flatten_symbols(snapshot, &symbol.children, Some(&symbol.name), out);
    }
}

/// The end of a text as a protocol position.
fn end_of(text: &str, encoding: Encoding) -> Position {
    let line = text.bytes().filter(|b| *b == b'\n').count();
    let last = &text[text.rfind('\n').map_or(0, |i| i + 1)..];
    let character: usize = match encoding {
        Encoding::Utf8 => last.len(),
        Encoding::Utf16 => last.chars().map(char::len_utf16).sum(),
    };
    Position::new(line as u32, character as u32)
}

/// Applies one change to a buffer: a range of it, or without a range the whole text.
fn apply_change(text: &mut String, change: TextDocumentContentChangeEvent, encoding: Encoding) {
    let Some(range) = change.range else {
        *text = change.text;
        return;
    };
    let lines = routec::source::LineIndex::new(text);
    let start = convert::offset_in(text, &lines, range.start, encoding).unwrap_or(text.len());
    let end = convert::offset_in(text, &lines, range.end, encoding)
        .unwrap_or(text.len())
        .max(start);
    text.replace_range(start..end, &change.text);
}

#[tower_lsp::async_trait]
impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let offered = params
            .capabilities
            .general
            .as_ref()
            .and_then(|g| g.position_encodings.as_deref());
        let encoding = Encoding::negotiate(offered);
        let _ = self.state.encoding.set(encoding);
        let watch = params
            .capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|w| w.dynamic_registration)
            .unwrap_or(false);
        self.state.watch_files.store(watch, Ordering::SeqCst);
        lock(&self.state.documents).set_folders(folders_of(&params));
        self.start_publisher();
        Ok(InitializeResult {
            capabilities: capabilities(self.encoding()),
            server_info: Some(ServerInfo {
                name: "routec-lsp".to_string(),
                version: Some(env!("CARGO_PKG_VERSION").to_string()),
            }),
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        if self.state.watch_files.load(Ordering::SeqCst) {
            let backend = self.clone();
            tokio::spawn(async move { backend.register_file_watcher().await });
        }
        self.rescan().await;
    }

    async fn shutdown(&self) -> Result<()> {
        self.state.shut_down.store(true, Ordering::SeqCst);
        self.changed();
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let document = params.text_document;
        lock(&self.state.documents).open(document.uri, document.text, document.version);
        self.changed();
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let uri = params.text_document.uri;
        let version = params.text_document.version;
        let encoding = self.encoding();
        let applied = {
            let mut documents = lock(&self.state.documents);
            match documents.get(&uri) {
                Some(document) if version > document.version => {
                    let mut text = document.text.as_ref().clone();
                    for change in params.content_changes {
                        apply_change(&mut text, change, encoding);
                    }
                    documents.change(&uri, text, version)
                }
                _ => false,
            }
        };
        if applied {
            self.changed();
        }
    }

    async fn did_save(&self, _: DidSaveTextDocumentParams) {
        self.rescan().await;
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        lock(&self.state.documents).close(&params.text_document.uri);
        self.changed();
    }

    async fn did_change_watched_files(&self, _: DidChangeWatchedFilesParams) {
        self.rescan().await;
    }

    async fn did_change_workspace_folders(&self, params: DidChangeWorkspaceFoldersParams) {
        {
            let mut documents = lock(&self.state.documents);
            let removed: Vec<PathBuf> = params
                .event
                .removed
                .iter()
                .filter_map(|f| f.uri.to_file_path().ok())
                .map(|p| documents::normalize(&p))
                .collect();
            let mut folders: Vec<PathBuf> = documents
                .folders()
                .iter()
                .filter(|f| !removed.contains(f))
                .cloned()
                .collect();
            folders.extend(
                params
                    .event
                    .added
                    .iter()
                    .filter_map(|f| f.uri.to_file_path().ok())
                    .map(|p| documents::normalize(&p)),
            );
            documents.set_folders(folders);
        }
        self.rescan().await;
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        self.at_position(
            "hover",
            params.text_document_position_params,
            |s, file, offset| {
                let hover = ide::hover(&s.analysis, file, offset)?;
                Some(Hover {
                    contents: HoverContents::Markup(MarkupContent {
                        kind: MarkupKind::Markdown,
                        value: hover.markdown,
                    }),
                    range: (hover.span.file == file).then(|| s.range(hover.span)),
                })
            },
        )
        .await
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        self.at_position(
            "definition",
            params.text_document_position_params,
            |s, file, offset| {
                let span = ide::definition(&s.analysis, file, offset)?;
                Some(GotoDefinitionResponse::Scalar(s.location(span)?))
            },
        )
        .await
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        let include_declaration = params.context.include_declaration;
        self.at_position(
            "references",
            params.text_document_position,
            move |s, file, offset| {
                let spans = ide::references(&s.analysis, file, offset, include_declaration);
                Some(
                    spans
                        .into_iter()
                        .filter_map(|span| s.location(span))
                        .collect(),
                )
            },
        )
        .await
    }

    async fn prepare_rename(
        &self,
        params: TextDocumentPositionParams,
    ) -> Result<Option<PrepareRenameResponse>> {
        let found = self
            .at_position("prepareRename", params, |s, file, offset| {
                let mut spans = ide::references(&s.analysis, file, offset, true);
                spans.extend(ide::definition(&s.analysis, file, offset));
                let here = spans.iter().copied().find(|sp| {
                    sp.file == file && sp.start as usize <= offset && offset <= sp.end as usize
                })?;
                if spans.iter().any(|sp| s.uri_of(sp.file).is_none()) {
                    return Some(Err(format!(
                        "`{}` is declared in the standard library and cannot be renamed",
                        s.analysis.sources().slice(here)
                    )));
                }
                Some(Ok(PrepareRenameResponse::RangeWithPlaceholder {
                    range: s.range(here),
                    placeholder: s.analysis.sources().slice(here).to_string(),
                }))
            })
            .await?;
        match found {
            None => Ok(None),
            Some(Ok(response)) => Ok(Some(response)),
            Some(Err(why)) => Err(request_failed(why)),
        }
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        let new_name = params.new_name;
        let found = self
            .at_position(
                "rename",
                params.text_document_position,
                move |s, file, offset| {
                    Some(match ide::rename(&s.analysis, file, offset, &new_name) {
                        Ok(edits) => s.workspace_edit(&edits).ok_or_else(|| {
                            "the rename would change the standard library".to_string()
                        }),
                        Err(why) => Err(why),
                    })
                },
            )
            .await?;
        match found {
            None => Ok(None),
            Some(Ok(edit)) => Ok(Some(edit)),
            Some(Err(why)) => Err(request_failed(why)),
        }
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        self.at_position(
            "completion",
            params.text_document_position,
            |s, file, offset| {
                let source = s.source(file);
                let text = source.text.as_str();
                let name_start = convert::word_start(text, offset);
                let path_start = {
                    let before = &text[..name_start];
                    match before.strip_suffix('/') {
                        Some(head) => convert::word_start(head, head.len()),
                        None => name_start,
                    }
                };
                let end = convert::position(source, offset, s.encoding);
                let items = ide::completions(&s.analysis, file, offset)
                    .into_iter()
                    .map(|c| {
                        let start = if c.label.contains('/') {
                            path_start
                        } else {
                            name_start
                        };
                        CompletionItem {
                            text_edit: Some(CompletionTextEdit::Edit(TextEdit {
                                range: Range::new(
                                    convert::position(source, start, s.encoding),
                                    end,
                                ),
                                new_text: c.label.clone(),
                            })),
                            kind: Some(convert::completion_kind(c.kind)),
                            detail: c.detail,
                            label: c.label,
                            ..CompletionItem::default()
                        }
                    })
                    .collect();
                Some(CompletionResponse::Array(items))
            },
        )
        .await
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        self.in_document("documentSymbol", params.text_document.uri, |s, file| {
            let symbols = ide::document_symbols(&s.analysis, file)
                .iter()
                .filter(|symbol| symbol.span.file == file)
                .map(|symbol| document_symbol(s, symbol))
                .collect();
            Some(DocumentSymbolResponse::Nested(symbols))
        })
        .await
    }

    async fn symbol(
        &self,
        params: WorkspaceSymbolParams,
    ) -> Result<Option<Vec<SymbolInformation>>> {
        let snapshot = self.snapshot().await?;
        self.run_blocking("workspace/symbol", move || {
            let symbols = ide::workspace_symbols(&snapshot.analysis, &params.query);
            let mut out = Vec::new();
            flatten_symbols(&snapshot, &symbols, None, &mut out);
            Some(out)
        })
        .await
    }

    async fn formatting(&self, params: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        let Some(text) = lock(&self.state.documents)
            .get(&params.text_document.uri)
            .map(|d| d.text.clone())
        else {
            return Ok(None);
        };
        let encoding = self.encoding();
        self.run_blocking("formatting", move || match routec::format::format(&text) {
            Ok(formatted) if formatted != *text => Some(vec![TextEdit {
                range: Range::new(Position::new(0, 0), end_of(&text, encoding)),
                new_text: formatted,
            }]),
            // Already formatted, or syntax errors (which the diagnostics show).
            Ok(_) | Err(_) => Some(Vec::new()),
        })
        .await
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        if let Some(only) = &params.context.only {
            if !only.iter().any(|k| k.as_str().starts_with("quickfix")) {
                return Ok(Some(Vec::new()));
            }
        }
        let range = params.range;
        self.in_document("codeAction", params.text_document.uri, move |s, file| {
            let source = s.source(file);
            let start = convert::offset(source, range.start, s.encoding)?;
            let end = convert::offset(source, range.end, s.encoding).unwrap_or(source.text.len());
            let mut actions = Vec::new();
            for diagnostic in &s.analysis.diagnostics {
                let span = diagnostic.primary_span();
                let touches = span.file == file
                    && span.start as usize <= end.max(start)
                    && start <= span.end as usize;
                if !touches || diagnostic.fixes.is_empty() {
                    continue;
                }
                let shown = convert::diagnostic(diagnostic, None, s);
                for fix in &diagnostic.fixes {
                    let Some(edit) = s.workspace_edit(&fix.edits) else {
                        continue;
                    };
                    actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                        title: fix.title.clone(),
                        kind: Some(CodeActionKind::QUICKFIX),
                        diagnostics: Some(vec![shown.clone()]),
                        edit: Some(edit),
                        command: None,
                        is_preferred: Some(diagnostic.fixes.len() == 1),
                        disabled: None,
                        data: None,
                    }));
                }
            }
            Some(actions)
        })
        .await
    }

    async fn semantic_tokens_full(
        &self,
        params: SemanticTokensParams,
    ) -> Result<Option<SemanticTokensResult>> {
        self.in_document("semanticTokens", params.text_document.uri, |s, file| {
            let tokens: Vec<ide::SemanticToken> = ide::semantic_tokens(&s.analysis, file)
                .into_iter()
                .filter(|t| t.span.file == file)
                .collect();
            Some(SemanticTokensResult::Tokens(SemanticTokens {
                result_id: None,
                data: convert::semantic_tokens(s.source(file), &tokens, s.encoding),
            }))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_lsp::LspService;

    #[test]
    fn end_of_counts_the_last_line() {
        assert_eq!(end_of("a\né😀", Encoding::Utf16), Position::new(1, 3));
        assert_eq!(end_of("a\né😀", Encoding::Utf8), Position::new(1, 6));
        assert_eq!(end_of("", Encoding::Utf16), Position::new(0, 0));
    }

    #[test]
    fn range_changes_apply_to_the_buffer() {
        let mut text = "ab\né😀x".to_string();
        let change = TextDocumentContentChangeEvent {
            range: Some(Range::new(Position::new(1, 3), Position::new(1, 4))),
            range_length: None,
            text: "yz".to_string(),
        };
        apply_change(&mut text, change, Encoding::Utf16);
        assert_eq!(text, "ab\né😀yz");
    }

    #[tokio::test]
    async fn a_panic_in_library_code_is_logged_and_answered_with_an_error() {
        use futures::StreamExt;
        use tower_lsp::jsonrpc::Request;
        use tower_service::Service;

        let (mut service, mut socket) =
            LspService::new(|client| Backend::new(client, Arc::new(AtomicBool::new(false))));
        let initialize = Request::build("initialize")
            .id(1)
            .params(serde_json::json!({ "capabilities": {} }))
            .finish();
        std::future::poll_fn(|cx| service.poll_ready(cx))
            .await
            .expect("ready");
        service.call(initialize).await.expect("initialized");
        let backend = service.inner().clone();
        let answer = tokio::spawn(async move {
            backend
                .run_blocking("hover", || panic!("a bug in a query"))
                .await
        });
        let logged = socket.next().await.expect("a notification");
        assert_eq!(logged.method(), "window/logMessage");
        let params = logged.params().expect("params");
        assert_eq!(params["type"], 1, "an error");
        assert!(
            params["message"]
                .as_str()
                .is_some_and(|m| m.contains("hover failed: a bug in a query")),
            "{params}"
        );
        let error = answer
            .await
            .expect("the task ends")
            .expect_err("the panic becomes an error");
        assert_eq!(error.code, ErrorCode::InternalError);
        let after = service.inner().run_blocking("hover", || 42).await;
        assert_eq!(after.ok(), Some(42));
    }
}
