//! Helpers shared by the black-box tests and the latency replay harness: spawn a language server,
//! speak JSON-RPC with `Content-Length` framing over its stdio, and wait for messages with
//! timeouts (a hung server fails the test instead of hanging CI).

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// Default time to wait for one expected message.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// The keylint binary under test: `$KEYLINT_BIN` when set, else `keylint-dev`, a bin target of
/// this crate whose `main` is the same one line as keylint's (`keylint::cli::main()`), built by
/// cargo alongside the tests (integration tests get `CARGO_BIN_EXE_keylint-dev`; other binaries
/// of this crate find it next to themselves).
pub fn keylint_bin(cargo_bin_exe: Option<&str>) -> PathBuf {
    if let Some(p) = std::env::var_os("KEYLINT_BIN") {
        return PathBuf::from(p);
    }
    if let Some(p) = cargo_bin_exe {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe.parent().expect("exe dir");
    let name = format!("keylint-dev{}", std::env::consts::EXE_SUFFIX);
    for d in [dir, dir.parent().unwrap_or(dir)] {
        if d.join(&name).exists() {
            return d.join(&name);
        }
    }
    panic!("cannot find the keylint-dev binary near {exe:?}; set KEYLINT_BIN");
}

/// A message from the server and when it arrived.
#[derive(Debug, Clone)]
pub struct Received {
    pub at: Instant,
    pub msg: Value,
}

/// A language server process and a JSON-RPC client for it.
pub struct LspClient {
    child: Child,
    stdin: Option<ChildStdin>,
    rx: Receiver<Received>,
    /// Messages received but not yet consumed by a `wait_*`.
    pub buffer: VecDeque<Received>,
    /// Every `window/logMessage` text seen so far.
    pub logs: Vec<String>,
    next_id: i64,
    stderr: Arc<Mutex<String>>,
}

impl LspClient {
    /// Spawns `program args...` with piped stdio.
    pub fn spawn(program: impl AsRef<Path>, args: &[&str]) -> LspClient {
        let mut cmd = Command::new(program.as_ref());
        cmd.args(args);
        Self::spawn_command(cmd)
    }

    /// Spawns the keylint server (`keylint-dev server --stdio`).
    pub fn keylint(cargo_bin_exe: Option<&str>) -> LspClient {
        Self::spawn(keylint_bin(cargo_bin_exe), &["server", "--stdio"])
    }

    /// The server of a replay: this very binary run with `--serve-keylint` (the replays embed
    /// keylint's server), or `server`, a command line split at white space (`ruff server`).
    pub fn spawn_replay_server(server: Option<&str>) -> LspClient {
        match server {
            None => {
                let me = std::env::current_exe().expect("current exe");
                Self::spawn(me, &["--serve-keylint"])
            }
            Some(cmd) => {
                let mut parts = cmd.split_whitespace();
                let program = parts.next().expect("--server needs a command");
                let mut c = Command::new(program);
                c.args(parts);
                Self::spawn_command(c)
            }
        }
    }

    pub fn spawn_command(mut cmd: Command) -> LspClient {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawning the language server");
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::with_capacity(1 << 16, stdout);
            while let Some(body) = read_frame(&mut reader) {
                let at = Instant::now();
                let msg = serde_json::from_slice(&body)
                    .unwrap_or_else(|e| json!({"unparseable": e.to_string(), "len": body.len()}));
                if tx.send(Received { at, msg }).is_err() {
                    break;
                }
            }
        });
        let err_buf = Arc::new(Mutex::new(String::new()));
        let sink = err_buf.clone();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stderr);
            let mut line = String::new();
            while r.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                if let Ok(mut s) = sink.lock() {
                    s.push_str(&line);
                }
                line.clear();
            }
        });
        LspClient {
            stdin: child.stdin.take(),
            child,
            rx,
            buffer: VecDeque::new(),
            logs: Vec::new(),
            next_id: 1,
            stderr: err_buf,
        }
    }

    /// What the server wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Writes raw bytes to the server's stdin.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin.write_all(bytes).expect("writing to the server");
        stdin.flush().expect("flushing to the server");
    }

    /// Frames a body with `Content-Length` and sends it.
    pub fn send_body(&mut self, body: &[u8]) {
        let mut framed = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        framed.extend_from_slice(body);
        self.send_raw(&framed);
    }

    pub fn send(&mut self, msg: &Value) {
        self.send_body(&serde_json::to_vec(msg).expect("serializable"));
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request; returns its id.
    pub fn request_async(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        id
    }

    /// Sends a request and waits for its response (the whole response message).
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.request_async(method, params);
        self.response(id)
    }

    /// Waits for the response to request `id`.
    pub fn response(&mut self, id: i64) -> Value {
        self.wait_for(TIMEOUT, |m| {
            m.get("id") == Some(&json!(id)) && m.get("method").is_none()
        })
        .unwrap_or_else(|| panic!("no response to request {id} in time"))
        .msg
    }

    /// The next message from the server (buffered first), or `None` after `timeout`. Requests from
    /// the server (`client/registerCapability`, refreshes) are answered with a null result.
    pub fn recv(&mut self, timeout: Duration) -> Option<Received> {
        if let Some(r) = self.buffer.pop_front() {
            return Some(r);
        }
        self.recv_new(timeout)
    }

    fn recv_new(&mut self, timeout: Duration) -> Option<Received> {
        match self.rx.recv_timeout(timeout) {
            Ok(r) => {
                self.note(&r.msg);
                Some(r)
            }
            Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => None,
        }
    }

    fn note(&mut self, msg: &Value) {
        if msg["method"] == "window/logMessage" {
            if let Some(s) = msg["params"]["message"].as_str() {
                self.logs.push(s.to_string());
            }
        }
        if let (Some(id), Some(_)) = (msg.get("id"), msg.get("method")) {
            let reply = json!({"jsonrpc": "2.0", "id": id, "result": null});
            if let Some(stdin) = self.stdin.as_mut() {
                let body = serde_json::to_vec(&reply).expect("json");
                let _ = write!(stdin, "Content-Length: {}\r\n\r\n", body.len());
                let _ = stdin.write_all(&body);
                let _ = stdin.flush();
            }
        }
    }

    /// Waits until a message matching `pred` arrives (looking at buffered ones first); other
    /// messages stay buffered, in order.
    pub fn wait_for(
        &mut self,
        timeout: Duration,
        mut pred: impl FnMut(&Value) -> bool,
    ) -> Option<Received> {
        if let Some(i) = self.buffer.iter().position(|r| pred(&r.msg)) {
            return self.buffer.remove(i);
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let r = self.recv_new(left)?;
            if pred(&r.msg) {
                return Some(r);
            }
            self.buffer.push_back(r);
        }
    }

    /// Drains everything that arrives within `quiet` of the previous message.
    pub fn drain(&mut self, quiet: Duration) -> Vec<Received> {
        let mut out: Vec<Received> = self.buffer.drain(..).collect();
        while let Some(r) = self.recv_new(quiet) {
            out.push(r);
        }
        out
    }

    /// Waits for `textDocument/publishDiagnostics` for `uri` matching `pred`; returns its params.
    pub fn wait_diagnostics(&mut self, uri: &str, mut pred: impl FnMut(&Value) -> bool) -> Value {
        let r = self.wait_for(TIMEOUT, |m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && pred(&m["params"])
        });
        match r {
            Some(r) => r.msg["params"].clone(),
            None => panic!(
                "no matching diagnostics for {uri}; buffered: {:?}; stderr: {}",
                self.buffer.iter().map(|r| &r.msg).collect::<Vec<_>>(),
                self.stderr()
            ),
        }
    }

    /// Forgets the diagnostics of `uri` received so far and not yet waited for: a wait that
    /// follows a change then cannot be met by a publish sent before it (a server may publish one
    /// version twice, with more precise related places the second time).
    pub fn forget_diagnostics(&mut self, uri: &str) {
        while let Some(r) = self.recv_new(Duration::ZERO) {
            self.buffer.push_back(r);
        }
        self.buffer.retain(|r| {
            !(r.msg["method"] == "textDocument/publishDiagnostics" && r.msg["params"]["uri"] == uri)
        });
    }

    /// Waits for the diagnostics of `uri` at `version`.
    pub fn diagnostics_for_version(&mut self, uri: &str, version: i64) -> Value {
        self.wait_diagnostics(uri, |p| p["version"] == version)
    }

    /// `initialize` + `initialized` with these client capabilities; returns the initialize result.
    pub fn initialize(&mut self, capabilities: Value, extra: Value) -> Value {
        let mut params = json!({
            "processId": std::process::id(),
            "rootUri": null,
            "capabilities": capabilities,
        });
        if let (Some(p), Some(e)) = (params.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                p.insert(k.clone(), v.clone());
            }
        }
        let resp = self.request("initialize", params);
        assert!(resp.get("error").is_none(), "initialize failed: {resp}");
        self.notify("initialized", json!({}));
        resp["result"].clone()
    }

    pub fn did_open(&mut self, uri: &str, version: i64, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "python", "version": version, "text": text}}),
        );
    }

    /// One incremental change replacing `range` (LSP positions) by `text`.
    pub fn did_change_range(
        &mut self,
        uri: &str,
        version: i64,
        start: (u32, u32),
        end: (u32, u32),
        text: &str,
    ) {
        self.notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{
                    "range": {
                        "start": {"line": start.0, "character": start.1},
                        "end": {"line": end.0, "character": end.1}
                    },
                    "text": text
                }]
            }),
        );
    }

    pub fn did_change_full(&mut self, uri: &str, version: i64, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
        );
    }

    /// `shutdown` then `exit`; returns the exit status (waiting at most `TIMEOUT`).
    pub fn shutdown_and_exit(&mut self) -> ExitStatus {
        let resp = self.request("shutdown", Value::Null);
        assert!(resp.get("error").is_none(), "shutdown failed: {resp}");
        self.notify("exit", Value::Null);
        self.stdin.take();
        self.wait_exit(TIMEOUT)
            .expect("the server did not exit in time")
    }

    /// Waits for the process to end.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Closes the server's stdin (end of input).
    pub fn close_stdin(&mut self) {
        self.stdin.take();
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for LspClient {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Reads one `Content-Length` frame; `None` at end of input.
fn read_frame(reader: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut len = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            if len.is_some() {
                break;
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.trim().eq_ignore_ascii_case("content-length") {
                len = v.trim().parse::<usize>().ok();
            }
        }
    }
    let mut body = vec![0u8; len?];
    reader.read_exact(&mut body).ok()?;
    Some(body)
}

/// Client capabilities of a typical push client (no pull diagnostics) using UTF-16.
pub fn push_client_caps() -> Value {
    json!({
        "textDocument": {
            "publishDiagnostics": {"relatedInformation": true, "versionSupport": true},
            "codeAction": {"codeActionLiteralSupport": {"codeActionKind": {"valueSet": ["quickfix", "source"]}}},
            "hover": {"contentFormat": ["markdown", "plaintext"]},
            "synchronization": {"didSave": true}
        },
        "general": {"positionEncodings": ["utf-16"]}
    })
}

/// A file URI for a test document (the file need not exist).
pub fn test_uri(name: &str) -> String {
    format!("file:///keylint-test/{name}")
}

/// The `file://` URI of an absolute path on disk (for documents whose configuration files the
/// server must find).
pub fn file_uri(path: &Path) -> String {
    let mut uri = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                uri.push(b as char)
            }
            _ => uri.push_str(&format!("%{b:02X}")),
        }
    }
    uri
}

/// The LSP column of byte `byte_col` of `line` in `enc` ("utf-8", "utf-16", "utf-32") units.
pub fn column(line: &str, byte_col: usize, enc: &str) -> u32 {
    let prefix = &line[..byte_col];
    (match enc {
        "utf-8" => prefix.len(),
        "utf-32" => prefix.chars().count(),
        _ => prefix.chars().map(char::len_utf16).sum(),
    }) as u32
}

/// Byte offset of an LSP position in `text` (positions in `enc` units; clamped).
pub fn offset(text: &str, line: u32, character: u32, enc: &str) -> usize {
    let mut start = 0;
    for _ in 0..line {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let mut units = 0u32;
    for (i, c) in text[start..end].char_indices() {
        if units >= character {
            return start + i;
        }
        units += match enc {
            "utf-8" => c.len_utf8() as u32,
            "utf-32" => 1,
            _ => c.len_utf16() as u32,
        };
    }
    end
}

/// Applies LSP `TextEdit`s (a JSON array) to `text`.
pub fn apply_text_edits(text: &str, edits: &Value, enc: &str) -> String {
    let mut spans: Vec<(usize, usize, String)> = edits
        .as_array()
        .expect("edits array")
        .iter()
        .map(|e| {
            let r = &e["range"];
            let pos = |p: &Value| {
                offset(
                    text,
                    p["line"].as_u64().unwrap() as u32,
                    p["character"].as_u64().unwrap() as u32,
                    enc,
                )
            };
            (
                pos(&r["start"]),
                pos(&r["end"]),
                e["newText"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    spans.sort_by_key(|s| (s.0, s.1));
    let mut out = String::new();
    let mut at = 0;
    for (s, e, t) in spans {
        out.push_str(&text[at..s]);
        out.push_str(&t);
        at = e;
    }
    out.push_str(&text[at..]);
    out
}

/// The `.py` files under `dir` (walked down, any depth), sorted.
pub fn python_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "py") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
