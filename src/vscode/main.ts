// The wiring, loaded right after activation (see extension.ts): builds the service and the views and
// reads the kubeconfig; the first network call happens on sign-in or on a due refresh.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { AuthEngine } from '../core/auth';
import { azureCliMethod, azureCliOnPath } from '../core/auth/azure-cli';
import { browserMethod } from '../core/auth/browser';
import { deviceCodeMethod } from '../core/auth/device-code';
import type { SignInMethod, SignInMethodId, SignInMethods } from '../core/auth/methods';
import { cacheSecretKey } from '../core/auth/token-cache';
import { systemClock } from '../core/ports';
import { kubectlClientMinor } from '../core/session/format';
import { SessionRecordStore, sessionStoreFile } from '../core/session/records';
import { SessionService } from '../core/session/service';
import { channelLogger, secretStorageStore } from './adapters';
import { ClusterTreeProvider } from './clusterTree';
import { commandHandlers, type CommandHandlers } from './commands';
import type { MethodsHere } from './methodPick';
import { vscodeAccountMethod } from './vscodeAccount';
import { affectsSettings, armSettings, kubectlPath, onSettingRefused, readSettings, refreshBeforeMinutes } from './settings';
import { AzureModel } from './azure';
import { azureCommands } from './azureCommands';
import { SignInStatusBar } from './statusBar';

export interface Running {
  /** The service behind the views. */
  readonly service: SessionService;
  /** How many accounts the token cache in SecretStorage holds for the kubeconfig's AKS clients (no secrets). */
  cachedAccountCount(): Promise<number>;
  /** The file every window of this machine shares its sessions and leases in (no secrets). */
  readonly sessionStore: string;
  readonly commands: CommandHandlers;
}

const reloadDelayMs = 300;

export function start(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): Running {
  const logger = channelLogger(log);
  onSettingRefused((reason) => logger.warn(reason));
  const secretStore = secretStorageStore(context.secrets);

  let engine: AuthEngine | undefined;
  const auth = (): AuthEngine => {
    // Loaded on first use, so activation does not pay for MSAL.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { AuthEngine: Engine } = require('../core/auth') as typeof import('../core/auth');
    return (engine ??= new Engine({ secretStore, logger }));
  };

  // The global storage folder is the same for every window of this profile (on the remote side too), so
  // the windows share one record of who is signed in and who refreshes what.
  const records = new SessionRecordStore({ dir: context.globalStorageUri.fsPath, clock: systemClock, logger });
  const methods: SignInMethods = new Map<SignInMethodId, SignInMethod>([
    ['browser', browserMethod(auth)],
    ['deviceCode', deviceCodeMethod(auth)],
    ['vscodeAccount', vscodeAccountMethod()],
    ['azureCli', azureCliMethod({ logger })],
  ]);
  const here: MethodsHere = {
    methods,
    // The Azure CLI only where az is on PATH (looked up without starting it).
    available: async () => new Set([...methods.keys()].filter((id) => id !== 'azureCli' || azureCliOnPath() !== undefined)),
    // A desktop window's browser runs where the extension host can serve (or forward) a loopback port;
    // in a browser tab (code-server, vscode.dev, Codespaces on the web) it usually does not.
    browserReachesLoopback: () => vscode.env.uiKind === vscode.UIKind.Desktop,
  };
  const service = new SessionService({
    methods,
    clock: systemClock,
    logger,
    records,
    legacyState: context.globalState,
    settings: readSettings,
    kubectlMinor: () => kubectlClientMinor(kubectlPath()),
  });

  const azure = new AzureModel(context.globalState, methods, armSettings, logger);
  const tree = new ClusterTreeProvider(service, azure);
  const view = vscode.window.createTreeView('aksSignIn.clusters', { treeDataProvider: tree, showCollapseAll: false });
  const statusBar = new SignInStatusBar(service, refreshBeforeMinutes);

  const updateContextKeys = () => {
    const status = service.kubeconfig;
    const state = status.kind !== 'loaded' ? status.kind : service.entries().some((entry) => entry.state.kind !== 'notAks') ? 'ok' : 'noAks';
    void vscode.commands.executeCommand('setContext', 'aksSignIn.kubeconfigState', state);
  };

  let watchers: vscode.Disposable[] = [];
  let reloadTimer: ReturnType<typeof setTimeout> | undefined;
  const scheduleReload = () => {
    if (reloadTimer) clearTimeout(reloadTimer);
    reloadTimer = setTimeout(() => void service.reload(), reloadDelayMs);
  };
  const watchKubeconfigs = () => {
    for (const watcher of watchers) watcher.dispose();
    // Watch the folder, not the file: kubectl and this extension replace the file by renaming over it.
    watchers = readSettings().kubeconfigPaths.map((file) => {
      const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(path.dirname(file)), path.basename(file)));
      watcher.onDidChange(scheduleReload);
      watcher.onDidCreate(scheduleReload);
      watcher.onDidDelete(scheduleReload);
      return watcher;
    });
  };

  context.subscriptions.push(
    service,
    records,
    azure,
    tree,
    view,
    statusBar,
    service.onDidChange(updateContextKeys),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (!affectsSettings(event)) return;
      service.settingsChanged();
      if (event.affectsConfiguration('aksSignIn.resourceManagerEndpoint') || event.affectsConfiguration('aksSignIn.authorityHost')) azure.forget();
      watchKubeconfigs();
      scheduleReload();
    }),
    vscode.authentication.onDidChangeSessions((event) => {
      if (event.provider.id === 'microsoft' || event.provider.id === 'microsoft-sovereign-cloud') void service.recheck('vscodeAccount');
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      watchKubeconfigs();
      scheduleReload();
    }),
    { dispose: () => watchers.forEach((watcher) => watcher.dispose()) },
    { dispose: () => reloadTimer && clearTimeout(reloadTimer) },
    { dispose: () => engine?.dispose() },
  );

  watchKubeconfigs();
  void service.reload();
  const cachedAccountCount = async (): Promise<number> => {
    let count = 0;
    for (const clientId of service.clientIds()) {
      const serialized = await context.secrets.get(cacheSecretKey(clientId));
      if (serialized) count += Object.keys((JSON.parse(serialized) as { Account?: object }).Account ?? {}).length;
    }
    return count;
  };
  const arm = azureCommands(service, azure, here, armSettings, () => readSettings().kubeconfigPaths[0]);
  const sessionStore = sessionStoreFile(context.globalStorageUri.fsPath);
  return { service, cachedAccountCount, sessionStore, commands: commandHandlers(service, log, here, arm) };
}
