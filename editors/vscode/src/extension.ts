// keylint for VS Code: starts `keylint server` over stdio through vscode-languageclient.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import {
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  TransportKind,
} from "vscode-languageclient/node";
import {
  isAtLeast,
  MIN_SERVER_VERSION,
  parseVersion,
  Probe,
  pythonEnvPrefixes,
  readSettings,
  serverOverrides,
  resolveBinary,
  serverArgs,
  Settings,
  tooOldMessage,
} from "./settings";

let client: LanguageClient | undefined;
let output: vscode.LogOutputChannel | undefined;

const probe: Probe = {
  isExecutable(p: string): boolean {
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return fs.statSync(p).isFile();
    } catch {
      return false;
    }
  },
  pathDirs(): string[] {
    return (process.env.PATH ?? "").split(path.delimiter).filter((d) => d.length > 0);
  },
  pythonEnvs: () => pythonEnvs,
  join: (...parts: string[]) => path.join(...parts),
  platform: process.platform,
};

/** Set before each resolution (the selected interpreter may change between restarts). */
let pythonEnvs: string[] = [];

/** The Python interpreter the Python extension selected, if it is installed; else the setting. */
async function selectedInterpreter(): Promise<string | undefined> {
  try {
    const python = vscode.extensions.getExtension("ms-python.python");
    if (python) {
      const api = python.isActive ? python.exports : await python.activate();
      const envPath = api?.environments?.getActiveEnvironmentPath?.();
      const env = envPath ? await api.environments.resolveEnvironment(envPath) : undefined;
      const exe: unknown = env?.executable?.uri?.fsPath ?? envPath?.path;
      if (typeof exe === "string" && exe.length > 0) {
        return exe;
      }
    }
  } catch {
    // No Python extension, or an API of another shape: fall back to the setting.
  }
  const setting = vscode.workspace.getConfiguration("python").get<string>("defaultInterpreterPath");
  return setting && setting !== "python" ? setting : undefined;
}

function currentSettings(): Settings {
  const c = vscode.workspace.getConfiguration("keylint");
  return readSettings({
    enable: c.get("enable"),
    path: c.get("path"),
    select: c.get("select"),
    ignore: c.get("ignore"),
    severity: c.get("severity"),
    extraSecretNames: c.get("extraSecretNames"),
    allowedPlaceholders: c.get("allowedPlaceholders"),
    maxFileSize: c.get("maxFileSize"),
    unsafeFixes: c.get("unsafeFixes"),
  });
}

function versionOf(command: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(command, ["--version"], { timeout: 5000 }, (err, stdout) => {
      resolve(err ? undefined : stdout.trim());
    });
  });
}

async function start(context: vscode.ExtensionContext): Promise<void> {
  const settings = currentSettings();
  if (!settings.enable) {
    return;
  }
  pythonEnvs = pythonEnvPrefixes(
    await selectedInterpreter(),
    process.env,
    (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath),
    path.join,
    path.dirname,
  );
  const resolution = resolveBinary(settings.path, context.extensionPath, probe);
  if (resolution.kind === "missing") {
    const pick = await vscode.window.showErrorMessage(resolution.message, "Open settings");
    if (pick === "Open settings") {
      await vscode.commands.executeCommand("workbench.action.openSettings", "keylint.path");
    }
    return;
  }
  const versionText = await versionOf(resolution.command);
  const version = versionText ? parseVersion(versionText) : undefined;
  if (!version || !isAtLeast(version, MIN_SERVER_VERSION)) {
    await vscode.window.showErrorMessage(
      tooOldMessage(versionText ?? "(no version)", resolution.command),
    );
    return;
  }
  output ??= vscode.window.createOutputChannel("keylint", { log: true });
  output.appendLine(`keylint: using ${resolution.command} (${resolution.origin}, ${versionText})`);

  const serverOptions: ServerOptions = {
    command: resolution.command,
    args: serverArgs(),
    transport: TransportKind.stdio,
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: "python" },
      { scheme: "untitled", language: "python" },
    ],
    initializationOptions: serverOverrides(settings.server),
    outputChannel: output,
    revealOutputChannelOn: RevealOutputChannelOn.Never,
    synchronize: {
      fileEvents: vscode.workspace.createFileSystemWatcher("**/{pyproject.toml,keylint.toml}"),
    },
    middleware: {
      workspace: {
        // Settings changes reach the running server without a restart.
        configuration: () => [serverOverrides(currentSettings().server)],
      },
    },
  };
  client = new LanguageClient("keylint", "keylint", serverOptions, clientOptions);
  await client.start();
}

async function stop(): Promise<void> {
  const c = client;
  client = undefined;
  if (c) {
    await c.stop();
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  context.subscriptions.push(
    vscode.commands.registerCommand("keylint.restart", async () => {
      await stop();
      await start(context);
    }),
    vscode.commands.registerCommand("keylint.showOutput", () => {
      output ??= vscode.window.createOutputChannel("keylint", { log: true });
      output.show(true);
    }),
    vscode.commands.registerCommand("keylint.fixAll", async () => {
      await vscode.commands.executeCommand("editor.action.codeAction", {
        kind: "source.fixAll.keylint",
        apply: "first",
      });
    }),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (e.affectsConfiguration("keylint.enable") || e.affectsConfiguration("keylint.path")) {
        await stop();
        await start(context);
      } else if (e.affectsConfiguration("keylint") && client) {
        await client.sendNotification("workspace/didChangeConfiguration", {
          settings: { keylint: serverOverrides(currentSettings().server) },
        });
      }
    }),
  );
  await start(context);
}

export async function deactivate(): Promise<void> {
  await stop();
}
