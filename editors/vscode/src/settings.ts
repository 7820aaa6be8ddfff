// The extension's own logic, free of the `vscode` module so that it can be unit-tested with node:
// reading settings into server options, and resolving which keylint binary to run.

/** Oldest server this extension can talk to (it needs `keylint server --stdio` and pull diagnostics). */
export const MIN_SERVER_VERSION = "0.1.0";

export type Severity = "error" | "warning" | "info" | "hint";

/** The `keylint.*` settings as VS Code gives them (anything may be missing or mistyped). */
export interface RawSettings {
  enable?: unknown;
  path?: unknown;
  select?: unknown;
  ignore?: unknown;
  severity?: unknown;
  extraSecretNames?: unknown;
  allowedPlaceholders?: unknown;
  maxFileSize?: unknown;
  unsafeFixes?: unknown;
}

/** The rule choices of the settings; empty lists mean "no override". */
export interface ServerSettings {
  select: string[];
  ignore: string[];
  severity: Record<string, Severity>;
  extraSecretNames: string[];
  allowedPlaceholders: string[];
  /** Bytes; `null`: the configuration's choice. */
  maxFileSize: number | null;
  /** `null`: the configuration's choice. */
  unsafeFixes: boolean | null;
}

/**
 * What the server receives as `initializationOptions` and in `workspace/didChangeConfiguration`:
 * only the overrides the user set. An empty `select` is left out, so it cannot read as "run no
 * rule"; the configuration file decides then.
 */
export function serverOverrides(s: ServerSettings): Partial<ServerSettings> {
  const out: Partial<ServerSettings> = {};
  if (s.select.length > 0) out.select = s.select;
  if (s.ignore.length > 0) out.ignore = s.ignore;
  if (Object.keys(s.severity).length > 0) out.severity = s.severity;
  if (s.extraSecretNames.length > 0) out.extraSecretNames = s.extraSecretNames;
  if (s.allowedPlaceholders.length > 0) out.allowedPlaceholders = s.allowedPlaceholders;
  if (s.maxFileSize !== null) out.maxFileSize = s.maxFileSize;
  if (s.unsafeFixes !== null) out.unsafeFixes = s.unsafeFixes;
  return out;
}

export interface Settings {
  enable: boolean;
  path: string;
  server: ServerSettings;
}

const SEVERITIES: readonly string[] = ["error", "warning", "info", "hint"];

function stringList(value: unknown): string[] {
  if (!Array.isArray(value)) {
    return [];
  }
  return value
    .filter((v): v is string => typeof v === "string")
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}

/** Normalises raw settings: wrong types fall back to defaults, unknown severities are dropped. */
export function readSettings(raw: RawSettings): Settings {
  const severity: Record<string, Severity> = {};
  if (raw.severity && typeof raw.severity === "object" && !Array.isArray(raw.severity)) {
    for (const [rule, level] of Object.entries(raw.severity as Record<string, unknown>)) {
      if (typeof level === "string" && SEVERITIES.includes(level.toLowerCase())) {
        severity[rule] = level.toLowerCase() as Severity;
      }
    }
  }
  return {
    enable: raw.enable === undefined ? true : raw.enable === true,
    path: typeof raw.path === "string" ? raw.path.trim() : "",
    server: {
      select: stringList(raw.select),
      ignore: stringList(raw.ignore),
      severity,
      extraSecretNames: stringList(raw.extraSecretNames),
      allowedPlaceholders: stringList(raw.allowedPlaceholders),
      maxFileSize:
        typeof raw.maxFileSize === "number" &&
        Number.isInteger(raw.maxFileSize) &&
        raw.maxFileSize >= 0
          ? raw.maxFileSize
          : null,
      unsafeFixes: typeof raw.unsafeFixes === "boolean" ? raw.unsafeFixes : null,
    },
  };
}

/** How to find files, injected so that tests need no real file system. */
export interface Probe {
  isExecutable(path: string): boolean;
  /** Directories of the PATH environment variable. */
  pathDirs(): string[];
  /**
   * Prefixes of the Python environments of the workspace, most specific first: the interpreter the
   * Python extension selected, `VIRTUAL_ENV`, `CONDA_PREFIX`, the workspace's `.venv`/`venv`. A
   * `pip install keylint` puts the binary in `<prefix>/bin` (`<prefix>\Scripts` on Windows).
   */
  pythonEnvs(): string[];
  join(...parts: string[]): string;
  platform: string;
}

export type Resolution =
  | { kind: "found"; command: string; origin: "setting" | "bundled" | "python-env" | "path" }
  | { kind: "missing"; message: string };

/**
 * The Python environment prefixes to look in, most specific first, without duplicates:
 * `interpreter` is the Python executable the Python extension selected (or the
 * `python.defaultInterpreterPath` setting), `<prefix>/bin/python` or `<prefix>\python.exe`.
 */
export function pythonEnvPrefixes(
  interpreter: string | undefined,
  env: Record<string, string | undefined>,
  workspaceDirs: string[],
  join: (...parts: string[]) => string,
  dirname: (p: string) => string,
): string[] {
  const out: string[] = [];
  const add = (p: string | undefined) => {
    if (p && !out.includes(p)) out.push(p);
  };
  if (interpreter && /[\\/]/.test(interpreter)) {
    const dir = dirname(interpreter);
    // <prefix>/bin/python (POSIX) or <prefix>/Scripts/python.exe (a Windows venv): the prefix;
    // <prefix>/python.exe (a Windows base install): its directory.
    add(/[\\/](bin|Scripts)$/.test(dir) ? dirname(dir) : dir);
  }
  add(env.VIRTUAL_ENV);
  add(env.CONDA_PREFIX);
  for (const ws of workspaceDirs) {
    add(join(ws, ".venv"));
    add(join(ws, "venv"));
  }
  return out;
}

/**
 * Which binary to run: the `keylint.path` setting if set (it must exist), else the binary bundled
 * in the extension (`bin/keylint`, built for the platform the extension was packaged on), else a
 * pip-installed `keylint` in the workspace's Python environment, else `keylint` on PATH.
 */
export function resolveBinary(setting: string, extensionDir: string, probe: Probe): Resolution {
  const exe = probe.platform === "win32" ? "keylint.exe" : "keylint";
  if (setting) {
    if (probe.isExecutable(setting)) {
      return { kind: "found", command: setting, origin: "setting" };
    }
    return {
      kind: "missing",
      message: `keylint.path is set to "${setting}", but no executable is there. Fix the setting or clear it to use keylint from PATH.`,
    };
  }
  const bundled = probe.join(extensionDir, "bin", exe);
  if (probe.isExecutable(bundled)) {
    return { kind: "found", command: bundled, origin: "bundled" };
  }
  const scripts = probe.platform === "win32" ? "Scripts" : "bin";
  for (const prefix of probe.pythonEnvs()) {
    const candidate = probe.join(prefix, scripts, exe);
    if (probe.isExecutable(candidate)) {
      return { kind: "found", command: candidate, origin: "python-env" };
    }
  }
  for (const dir of probe.pathDirs()) {
    const candidate = probe.join(dir, exe);
    if (probe.isExecutable(candidate)) {
      return { kind: "found", command: candidate, origin: "path" };
    }
  }
  return {
    kind: "missing",
    message:
      "The keylint binary was not found. Install it into the project's Python environment with `pip install keylint` (or `pip install .` from the keylint repository), put it on PATH, or set keylint.path.",
  };
}

/** Parses `keylint 1.2.3` (the output of `keylint --version`). */
export function parseVersion(output: string): [number, number, number] | undefined {
  const m = /(\d+)\.(\d+)\.(\d+)/.exec(output);
  if (!m) {
    return undefined;
  }
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** True when `version` is at least `minimum` (both `x.y.z`). */
export function isAtLeast(version: [number, number, number], minimum: string): boolean {
  const min = parseVersion(minimum) ?? [0, 0, 0];
  for (let i = 0; i < 3; i++) {
    if (version[i] !== min[i]) {
      return version[i] > min[i];
    }
  }
  return true;
}

/** The message shown when the binary answers with a version older than the extension needs. */
export function tooOldMessage(found: string, command: string): string {
  return `keylint ${found} at ${command} is older than ${MIN_SERVER_VERSION}, which this extension needs. Update it (pip install -U keylint, or cargo install --path server) or set keylint.path to a newer binary.`;
}

/** Arguments of the server process (the language client appends `--stdio` itself). */
export function serverArgs(): string[] {
  return ["server"];
}
