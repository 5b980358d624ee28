// The routec extension: starts `routec-lsp` over stdio for .route files.
//
// Plain JavaScript (CommonJS), no build step. The server does the work: diagnostics,
// hover, navigation, rename, completion, symbols, formatting, quick fixes and semantic
// tokens all come from routec-lsp. This file only finds the executable (the setting
// `routec.server.path`, default `routec-lsp` on PATH), starts it, and restarts it when
// that setting changes or on the command "routec: Restart the routec language server".

'use strict';

const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

/** @type {LanguageClient | undefined} */
let client;

function serverPath() {
  const configured = vscode.workspace.getConfiguration('routec').get('server.path');
  return typeof configured === 'string' && configured.trim() !== ''
    ? configured.trim()
    : 'routec-lsp';
}

async function start(context) {
  const command = serverPath();
  const serverOptions = {
    run: { command, transport: TransportKind.stdio },
    debug: { command, transport: TransportKind.stdio },
  };
  const clientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'route' },
      { scheme: 'untitled', language: 'route' },
    ],
    synchronize: {
      // The server re-reads the workspace's .route files when one changes on disk.
      fileEvents: vscode.workspace.createFileSystemWatcher('**/*.route'),
    },
  };
  client = new LanguageClient('routec', 'routec', serverOptions, clientOptions);
  try {
    await client.start();
  } catch (error) {
    client = undefined;
    const choice = await vscode.window.showErrorMessage(
      `routec: cannot start the language server \`${command}\` (${error && error.message ? error.message : error}). ` +
        'Install it with `cargo install --path lsp` or set `routec.server.path`.',
      'Open Settings',
    );
    if (choice === 'Open Settings') {
      vscode.commands.executeCommand('workbench.action.openSettings', 'routec.server.path');
    }
  }
}

async function stop() {
  const running = client;
  client = undefined;
  if (running) {
    await running.stop();
  }
}

async function restart(context) {
  await stop();
  await start(context);
}

/** @param {vscode.ExtensionContext} context */
async function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand('routec.restartServer', () => restart(context)),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('routec.server.path')) {
        restart(context);
      }
    }),
  );
  await start(context);
}

function deactivate() {
  return stop();
}

module.exports = { activate, deactivate };
