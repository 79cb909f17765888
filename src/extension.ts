import * as vscode from 'vscode';

export function activate(_context: vscode.ExtensionContext): void {
  // Wiring comes with the VS Code layer.
}

export function deactivate(): void {}
