import assert from "node:assert/strict";
import { test } from "node:test";
import {
  isAtLeast,
  parseVersion,
  Probe,
  pythonEnvPrefixes,
  readSettings,
  resolveBinary,
  serverArgs,
  serverOverrides,
} from "../src/settings";

function fakeProbe(
  executables: string[],
  pathDirs: string[] = ["/usr/bin", "/opt/bin"],
  pythonEnvs: string[] = ["/ws/.venv"],
  platform = "linux",
): Probe {
  return {
    isExecutable: (p) => executables.includes(p),
    pathDirs: () => pathDirs,
    pythonEnvs: () => pythonEnvs,
    join: (...parts) => parts.join("/"),
    platform,
  };
}

test("defaults when nothing is set", () => {
  const s = readSettings({});
  assert.equal(s.enable, true);
  assert.equal(s.path, "");
  assert.deepEqual(s.server, {
    select: [],
    ignore: [],
    severity: {},
    extraSecretNames: [],
    allowedPlaceholders: [],
    maxFileSize: null,
    unsafeFixes: null,
  });
  assert.deepEqual(serverOverrides(s.server), {});
});

test("settings become server options; wrong types fall back", () => {
  const s = readSettings({
    enable: false,
    path: "  /opt/keylint  ",
    select: ["KL101", " hardcoded-secret ", 3, ""],
    ignore: "KL202",
    severity: { KL101: "Error", KL202: "loud", KL301: 1 },
  });
  assert.equal(s.enable, false);
  assert.equal(s.path, "/opt/keylint");
  assert.deepEqual(s.server.select, ["KL101", "hardcoded-secret"]);
  assert.deepEqual(s.server.ignore, []);
  assert.deepEqual(s.server.severity, { KL101: "error" });
});

test("the path setting wins when it exists", () => {
  const r = resolveBinary("/opt/keylint", "/ext", fakeProbe(["/opt/keylint", "/ext/bin/keylint"]));
  assert.deepEqual(r, { kind: "found", command: "/opt/keylint", origin: "setting" });
});

test("a path setting that does not exist is an error naming the setting, not a silent fallback", () => {
  const r = resolveBinary("/nope/keylint", "/ext", fakeProbe(["/ext/bin/keylint"]));
  assert.equal(r.kind, "missing");
  assert.match(r.kind === "missing" ? r.message : "", /keylint\.path.*\/nope\/keylint/);
});

test("the bundled binary comes before PATH", () => {
  const r = resolveBinary("", "/ext", fakeProbe(["/ext/bin/keylint", "/usr/bin/keylint"]));
  assert.deepEqual(r, { kind: "found", command: "/ext/bin/keylint", origin: "bundled" });
});

test("PATH is searched in order", () => {
  const r = resolveBinary("", "/ext", fakeProbe(["/opt/bin/keylint", "/usr/bin/keylint"]));
  assert.deepEqual(r, { kind: "found", command: "/usr/bin/keylint", origin: "path" });
});

test("nothing found gives an install hint", () => {
  const r = resolveBinary("", "/ext", fakeProbe([]));
  assert.equal(r.kind, "missing");
  assert.match(r.kind === "missing" ? r.message : "", /pip install keylint/);
});

test("a pip-installed keylint in the Python environment is found with no setting", () => {
  const r = resolveBinary("", "/ext", fakeProbe(["/ws/.venv/bin/keylint"], []));
  assert.deepEqual(r, { kind: "found", command: "/ws/.venv/bin/keylint", origin: "python-env" });
});

test("bundled, then the Python environment, then PATH", () => {
  const all = ["/ext/bin/keylint", "/ws/.venv/bin/keylint", "/usr/bin/keylint"];
  assert.deepEqual(resolveBinary("", "/ext", fakeProbe(all)), {
    kind: "found",
    command: "/ext/bin/keylint",
    origin: "bundled",
  });
  assert.deepEqual(resolveBinary("", "/ext", fakeProbe(all.slice(1))), {
    kind: "found",
    command: "/ws/.venv/bin/keylint",
    origin: "python-env",
  });
  assert.deepEqual(resolveBinary("", "/ext", fakeProbe(all.slice(2))), {
    kind: "found",
    command: "/usr/bin/keylint",
    origin: "path",
  });
});

test("a Windows venv keeps its binary in Scripts", () => {
  const r = resolveBinary("", "C:/ext", fakeProbe(["C:/ws/.venv/Scripts/keylint.exe"], [], ["C:/ws/.venv"], "win32"));
  assert.deepEqual(r, { kind: "found", command: "C:/ws/.venv/Scripts/keylint.exe", origin: "python-env" });
});

test("Python environment prefixes: the selected interpreter first, then the environment, then the workspace", () => {
  const join = (...p: string[]) => p.join("/");
  const dirname = (p: string) => p.replace(/[\\/][^\\/]*$/, "");
  assert.deepEqual(
    pythonEnvPrefixes("/home/u/proj/.venv/bin/python", { VIRTUAL_ENV: "/other/venv" }, ["/home/u/proj"], join, dirname),
    ["/home/u/proj/.venv", "/other/venv", "/home/u/proj/venv"],
  );
  assert.deepEqual(pythonEnvPrefixes("C:\\Python312\\python.exe", {}, [], join, dirname), ["C:\\Python312"]);
  assert.deepEqual(pythonEnvPrefixes("python", { CONDA_PREFIX: "/opt/conda" }, [], join, dirname), ["/opt/conda"]);
});

test("versions", () => {
  assert.deepEqual(parseVersion("keylint 0.1.0\n"), [0, 1, 0]);
  assert.equal(parseVersion("keylint"), undefined);
  assert.equal(isAtLeast([0, 1, 0], "0.1.0"), true);
  assert.equal(isAtLeast([0, 0, 9], "0.1.0"), false);
  assert.equal(isAtLeast([1, 0, 0], "0.9.9"), true);
  assert.equal(isAtLeast([0, 2, 0], "0.10.0"), false);
});

test("server arguments leave --stdio to the client", () => {
  assert.deepEqual(serverArgs(), ["server"]);
});

test("only the overrides the user set reach the server; an empty select is not 'no rules'", () => {
  assert.deepEqual(serverOverrides(readSettings({}).server), {});
  assert.deepEqual(
    serverOverrides(readSettings({ select: ["KL101"], severity: { KL202: "hint" } }).server),
    { select: ["KL101"], severity: { KL202: "hint" } },
  );
});

test("secret names, placeholders, the size limit and unsafe fixes reach the server when set", () => {
  const s = readSettings({
    extraSecretNames: ["stripe_sk", 4],
    allowedPlaceholders: [" demo-key "],
    maxFileSize: 0,
    unsafeFixes: false,
  });
  assert.deepEqual(serverOverrides(s.server), {
    extraSecretNames: ["stripe_sk"],
    allowedPlaceholders: ["demo-key"],
    maxFileSize: 0,
    unsafeFixes: false,
  });
  const bad = readSettings({ maxFileSize: -1, unsafeFixes: "yes" });
  assert.deepEqual(serverOverrides(bad.server), {});
  assert.equal(readSettings({ maxFileSize: 2.5 }).server.maxFileSize, null);
});
