//! A guard in front of tower-lsp-server's reader.
//!
//! tower-lsp-server's codec does not survive every bad input: a body that is not UTF-8 leaves its
//! decoder stuck on the same bytes, after a decode error the framed stream ends (and the server
//! with it), a request id that is not a 64-bit integer (`1.5`, `1e3`, `2^63`) is such an error,
//! and a request `$/…` it does not know is left unanswered. So a thread reads stdin, splits it into
//! `Content-Length` frames itself and forwards only well-formed JSON-RPC messages.
//!
//! * A malformed message becomes a `keylint/malformedMessage` notification, which the server logs
//!   through `window/logMessage`; nothing of the bad input's content is forwarded or logged (it
//!   may be source text).
//! * When the bad input is a request whose id can be read (even from a body that is not JSON or
//!   not UTF-8), this thread answers it itself, with the id exactly as the client wrote it:
//!   ParseError (-32700) for a body that does not parse, InvalidRequest (-32600) for a message of
//!   the wrong shape or with an id the server cannot represent, MethodNotFound (-32601) for `$/…`.
//!   Its answers and the server's messages go through one lock on stdout, one frame per `write`.
//! * A bad frame never makes the server deaf. A `Content-Length` that is missing, not a number or
//!   over [`MAX_FRAME`] is logged and the input is skipped up to the next `Content-Length` header
//!   (which cannot occur inside a JSON body: a raw line break is not allowed in a JSON string). A
//!   `Content-Length` that is too small or too large is repaired when the message can be told
//!   apart from what follows it (a complete JSON value followed by the next header, or by silence
//!   on the input), and logged.

use std::io::{Read, Write};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use serde::de::IgnoredAny;
use serde_json::{json, Value};
use tokio::io::{AsyncWrite, AsyncWriteExt, DuplexStream};

pub const MALFORMED_METHOD: &str = "keylint/malformedMessage";

/// Messages larger than this are skipped (up to the next header) rather than buffered: 256 MiB.
pub const MAX_FRAME: u64 = 256 * 1024 * 1024;

/// How long the input must stay quiet before a body that is already a complete JSON value, but
/// shorter than its `Content-Length`, is taken as the whole message.
const IDLE: Duration = Duration::from_millis(200);

const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const METHOD_NOT_FOUND: i64 = -32601;

/// Starts the reader thread; returns the stream tower-lsp-server reads from. Error answers of the
/// reader go straight to `out`.
pub fn guarded_stdin(
    handle: tokio::runtime::Handle,
    out: DirectStdout,
) -> (DuplexStream, std::thread::JoinHandle<()>) {
    let (server_side, mut our_side) = tokio::io::duplex(1 << 20);
    let thread = std::thread::Builder::new()
        .name("keylint-stdin".into())
        .spawn(move || {
            let mut frames = FrameReader::new(StdinSource::new());
            // Ends at end of input or on a read error.
            while let Ok(Some(event)) = frames.next_event() {
                let (forward, reply) = handle_event(event);
                if let Some(reply) = reply {
                    if out.write_frame(&framed(&reply)).is_err() {
                        break;
                    }
                }
                let sent = handle.block_on(async {
                    for body in &forward {
                        our_side.write_all(&framed(body)).await?;
                    }
                    our_side.flush().await
                });
                if sent.is_err() {
                    break;
                }
            }
            // Dropping `our_side` gives the server end of file.
        })
        .expect("spawning the stdin reader thread");
    (server_side, thread)
}

fn framed(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

/// Standard output, written directly by the task that sends a message, one frame per `write`.
///
/// `tokio::io::stdout` hands every write to the blocking pool: one thread wake-up between a
/// `publishDiagnostics` and the client, on every keystroke. And `std::io::Stdout` is line-buffered:
/// it writes a frame up to the last `\n` (the end of the `Content-Length` header) at once and the
/// body on flush, two `write`s and two wake-ups of the client where one will do. So the server
/// writes to its own handle on the standard output's pipe (a duplicate of fd 1, unbuffered): one
/// `write` per frame (tower-lsp-server's codec hands over each whole frame; the rare short write
/// to a full pipe is completed by `write_all`). The pipe is read by the client meanwhile, and
/// stdin is read by its own thread, so a client that writes while it does not read cannot wedge
/// the server against a full pipe. Falls back to `std::io::Stdout` where fd 1 cannot be duplicated.
#[derive(Clone)]
pub struct DirectStdout(Arc<Mutex<Out>>);

enum Out {
    Raw(std::fs::File),
    Std(std::io::Stdout),
}

impl DirectStdout {
    pub fn new() -> Self {
        use std::os::fd::AsFd;
        let stdout = std::io::stdout();
        let raw = stdout.as_fd().try_clone_to_owned().map(std::fs::File::from);
        DirectStdout(Arc::new(Mutex::new(match raw {
            Ok(file) => Out::Raw(file),
            Err(_) => Out::Std(stdout),
        })))
    }

    /// Writes `buf` whole; the lock keeps the frames of the server and of the stdin reader (its
    /// error answers) from interleaving.
    fn write_frame(&self, buf: &[u8]) -> std::io::Result<()> {
        let mut out = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match &mut *out {
            Out::Raw(file) => file.write_all(buf),
            Out::Std(out) => {
                let mut out = out.lock();
                out.write_all(buf).and_then(|()| out.flush())
            }
        }
    }

    fn flush_out(&self) -> std::io::Result<()> {
        let mut out = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match &mut *out {
            Out::Raw(_) => Ok(()),
            Out::Std(out) => out.flush(),
        }
    }
}

impl AsyncWrite for DirectStdout {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(self.write_frame(buf).map(|()| buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(self.flush_out())
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.poll_flush(cx)
    }
}

/// What the frame reader found.
#[derive(Debug)]
enum Event {
    /// A frame's body, with a note when its framing was wrong but the message could be recovered.
    Body(Vec<u8>, Option<String>),
    /// Input that is not a message: why, and the raw id of a request found in it (answered with
    /// ParseError).
    Bad { reason: String, id: Option<Vec<u8>> },
}

/// The bytes to forward to the server, and the answer to send the client, for one event.
fn handle_event(event: Event) -> (Vec<Vec<u8>>, Option<Vec<u8>>) {
    let mut forward = Vec::new();
    let (reason, id, code) = match event {
        Event::Body(body, note) => {
            if let Some(note) = note {
                forward.push(malformed(&note));
            }
            match check_message(body) {
                Verdict::Forward(body) => {
                    forward.push(body);
                    return (forward, None);
                }
                Verdict::Reject { reason, id, code } => (reason, id, code),
            }
        }
        Event::Bad { reason, id } => (reason, id, PARSE_ERROR),
    };
    let reply = id.map(|id| error_response(&id, code, &reason));
    if code != METHOD_NOT_FOUND {
        let answered = if reply.is_some() {
            " (the request was answered with an error)"
        } else {
            ""
        };
        forward.push(malformed(&format!("{reason}{answered}")));
    }
    (forward, reply)
}

enum Verdict {
    Forward(Vec<u8>),
    /// Not for the server: why, the raw id to answer (a request's), and the error code.
    Reject {
        reason: String,
        id: Option<Vec<u8>>,
        code: i64,
    },
}

/// Whether a body is a well-formed JSON-RPC message for tower-lsp-server, and what to do if not.
fn check_message(body: Vec<u8>) -> Verdict {
    let text = match std::str::from_utf8(&body) {
        Ok(text) => text,
        Err(err) => {
            return Verdict::Reject {
                reason: format!("message is not valid UTF-8 (byte {})", err.valid_up_to()),
                id: request_id(&body),
                code: PARSE_ERROR,
            }
        }
    };
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(err) => {
            return Verdict::Reject {
                reason: format!(
                    "message is not valid JSON (line {}, column {}: {:?})",
                    err.line(),
                    err.column(),
                    err.classify()
                ),
                id: request_id(&body),
                code: PARSE_ERROR,
            }
        }
    };
    // A response of the client is never answered.
    let is_response = value.get("method").is_none()
        && (value.get("result").is_some() || value.get("error").is_some());
    let answerable = |v: &Value| {
        if is_response {
            None
        } else {
            request_id(&body).or_else(|| {
                v.get("id")
                    .filter(|id| id.is_string() || id.is_i64())
                    .map(|id| id.to_string().into_bytes())
            })
        }
    };
    if let Some(reason) = shape_error(&value) {
        return Verdict::Reject {
            reason: reason.to_string(),
            id: answerable(&value),
            code: INVALID_REQUEST,
        };
    }
    // tower-lsp-server leaves requests `$/…` it does not know unanswered; the specification asks
    // for MethodNotFound. (Notifications `$/…` are ignored, as the specification allows.)
    if let (Some(method), Some(_)) = (value.get("method").and_then(Value::as_str), value.get("id"))
    {
        if method.starts_with("$/") {
            return Verdict::Reject {
                reason: format!("method not found: {method}"),
                id: answerable(&value),
                code: METHOD_NOT_FOUND,
            };
        }
    }
    Verdict::Forward(body)
}

/// Why a JSON value is not a JSON-RPC 2.0 message tower-lsp-server accepts, if it is not.
fn shape_error(value: &Value) -> Option<&'static str> {
    let Some(obj) = value.as_object() else {
        return Some("message is not a JSON object (batches are not supported)");
    };
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Some("message lacks `\"jsonrpc\": \"2.0\"`");
    }
    if let Some(id) = obj.get("id") {
        if !(id.is_number() || id.is_string() || id.is_null()) {
            return Some("`id` must be a number, a string or null");
        }
        if id.is_number() && !id.is_i64() {
            return Some(
                "a numeric `id` must be an integer from -2^63 to 2^63-1, without a fraction or \
                 an exponent",
            );
        }
    }
    match obj.get("method") {
        Some(Value::String(_)) => match obj.get("params") {
            None | Some(Value::Object(_)) | Some(Value::Array(_)) | Some(Value::Null) => None,
            Some(_) => Some("`params` must be an object or an array"),
        },
        Some(_) => Some("`method` must be a string"),
        None => {
            if obj.contains_key("id") && (obj.contains_key("result") ^ obj.contains_key("error")) {
                None
            } else {
                Some("message is neither a request, a notification nor a response")
            }
        }
    }
}

/// A `keylint/malformedMessage` notification, which the server logs.
fn malformed(reason: &str) -> Vec<u8> {
    let msg = json!({
        "jsonrpc": "2.0",
        "method": MALFORMED_METHOD,
        "params": { "reason": reason },
    });
    serde_json::to_vec(&msg).expect("a JSON value serializes")
}

/// An error response to the request with this raw id (a JSON number or string, as the client
/// wrote it).
fn error_response(id: &[u8], code: i64, message: &str) -> Vec<u8> {
    let mut out = br#"{"jsonrpc":"2.0","id":"#.to_vec();
    out.extend_from_slice(id);
    out.extend_from_slice(br#","error":"#);
    let error = json!({ "code": code, "message": format!("keylint: {message}") });
    out.extend(serde_json::to_vec(&error).expect("a JSON value serializes"));
    out.push(b'}');
    out
}

/// The raw text of the top-level `"id"` of a JSON object, read from a body that may be cut short,
/// not valid JSON elsewhere, or not UTF-8; `None` unless it is a complete JSON number or string.
fn request_id(body: &[u8]) -> Option<Vec<u8>> {
    let mut depth = 0usize;
    let mut expect_key = false;
    let mut i = 0;
    while i < body.len() {
        match body[i] {
            b'{' => {
                depth += 1;
                expect_key = depth == 1;
                i += 1;
            }
            b'[' => {
                depth += 1;
                i += 1;
            }
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                i += 1;
            }
            b',' => {
                expect_key = depth == 1;
                i += 1;
            }
            b'"' => {
                let end = string_end(body, i)?;
                if depth == 1 && expect_key {
                    expect_key = false;
                    if &body[i..end] == b"\"id\"" {
                        let mut j = skip_ws(body, end);
                        if body.get(j) != Some(&b':') {
                            return None;
                        }
                        j = skip_ws(body, j + 1);
                        return raw_id(body, j);
                    }
                }
                i = end;
            }
            _ => i += 1,
        }
    }
    None
}

fn skip_ws(body: &[u8], mut i: usize) -> usize {
    while body.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
        i += 1;
    }
    i
}

/// The end (exclusive) of the JSON string starting at `start` (a `"`), if it ends.
fn string_end(body: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    while i < body.len() {
        match body[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The JSON number or string at `start`, when it is complete and well-formed.
fn raw_id(body: &[u8], start: usize) -> Option<Vec<u8>> {
    let first = *body.get(start)?;
    let end = if first == b'"' {
        let end = string_end(body, start)?;
        serde_json::from_slice::<String>(&body[start..end]).ok()?;
        end
    } else if first == b'-' || first.is_ascii_digit() {
        let len = body[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
            .count();
        let end = start + len;
        // A number cut off by the end of the body may be longer.
        if end == body.len() || !valid_number(&body[start..end]) {
            return None;
        }
        end
    } else {
        return None;
    };
    Some(body[start..end].to_vec())
}

/// JSON's number grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
fn valid_number(s: &[u8]) -> bool {
    let mut i = usize::from(s.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let from = *i;
        while s.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - from
    };
    let int_start = i;
    let n = digits(&mut i);
    if n == 0 || (n > 1 && s[int_start] == b'0') {
        return false;
    }
    if s.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(s.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == s.len()
}

/// Where the input comes from: something to read, and a way to tell that nothing more is coming
/// for now.
trait Source: Read {
    /// Whether no input arrives within `wait` (asked only when everything read so far is used).
    fn idle(&mut self, wait: Duration) -> bool;
}

/// The standard input, read unbuffered (the reader keeps its own buffer, so that `poll` on the
/// descriptor tells whether input is pending).
struct StdinSource(std::fs::File);

impl StdinSource {
    fn new() -> Self {
        use std::os::fd::AsFd;
        let fd = std::io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .expect("duplicating the standard input's descriptor");
        StdinSource(std::fs::File::from(fd))
    }
}

impl Read for StdinSource {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl Source for StdinSource {
    fn idle(&mut self, wait: Duration) -> bool {
        use std::os::fd::AsRawFd;
        let mut fds = libc::pollfd {
            fd: self.0.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = wait.as_millis().min(i32::MAX as u128) as libc::c_int;
        // SAFETY: one valid `pollfd` for a descriptor this struct owns.
        let ready = unsafe { libc::poll(&mut fds, 1, ms) };
        ready == 0
    }
}

const READ_CHUNK: usize = 64 * 1024;
/// A header line longer than this is not a header.
const MAX_HEADER_LINE: usize = 8 * 1024;
/// The bytes kept at the end of skipped input, where the next header may have begun.
const HEADER_TAIL: usize = 128;
/// How much of skipped input is kept to find a request's id in.
const MAX_SKIPPED: usize = 64 * 1024;

/// Splits the input into frames, and finds the next frame again after a bad one.
struct FrameReader<S> {
    src: S,
    buf: Vec<u8>,
    /// Bytes of `buf` before this are used.
    pos: usize,
    eof: bool,
    /// After bad input: skipping up to the next `Content-Length` header.
    resync: bool,
    /// The start of what was skipped (a request in it is answered).
    skipped: Vec<u8>,
}

enum Header {
    /// The header block ended; the `Content-Length` it gave (`Err` for a bad value).
    Done(Option<Result<u64, ()>>),
    /// Input that is not a header, from `pos`.
    Garbage,
}

enum Skip {
    Found,
    Eof,
    /// The input went quiet after skipped bytes.
    Idle,
}

impl<S: Source> FrameReader<S> {
    fn new(src: S) -> Self {
        FrameReader {
            src,
            buf: Vec::new(),
            pos: 0,
            eof: false,
            resync: false,
            skipped: Vec::new(),
        }
    }

    fn avail(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    /// Reads more input into the buffer; `false` at end of input.
    fn more(&mut self) -> std::io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.pos > 0 && self.pos >= self.buf.len() / 2 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let len = self.buf.len();
        self.buf.resize(len + READ_CHUNK, 0);
        let n = loop {
            match self.src.read(&mut self.buf[len..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.buf.truncate(len);
                    return Err(e);
                }
            }
        };
        self.buf.truncate(len + n);
        self.eof = n == 0;
        Ok(n > 0)
    }

    /// The next message or piece of bad input; `None` at end of input.
    fn next_event(&mut self) -> std::io::Result<Option<Event>> {
        if self.pos == self.buf.len() && self.buf.capacity() > 4 * READ_CHUNK {
            // The buffer of a large message is not kept.
            self.buf = Vec::new();
            self.pos = 0;
        }
        loop {
            if self.resync {
                let skip = self.skip_to_header()?;
                let skipped = std::mem::take(&mut self.skipped);
                // A request in the skipped input is answered.
                if let Some(id) = request_id(&skipped) {
                    return Ok(Some(Event::Bad {
                        reason: "a request without a valid `Content-Length` header was skipped"
                            .into(),
                        id: Some(id),
                    }));
                }
                match skip {
                    Skip::Eof => return Ok(None),
                    Skip::Found | Skip::Idle => continue,
                }
            }
            let content_length = match self.read_header()? {
                None => return Ok(None),
                Some(Header::Garbage) => {
                    self.resync = true;
                    return Ok(Some(Event::Bad {
                        reason: "malformed input between messages (not a `Name: value` header); \
                                 skipped up to the next `Content-Length` header"
                            .into(),
                        id: None,
                    }));
                }
                Some(Header::Done(cl)) => cl,
            };
            let reason = match content_length {
                None => "a message without a `Content-Length` header; skipped up to the next one"
                    .to_string(),
                Some(Err(())) => "a `Content-Length` header that is not a non-negative integer; \
                                  skipped up to the next one"
                    .to_string(),
                Some(Ok(len)) if len > MAX_FRAME => format!(
                    "a message of {len} bytes (`Content-Length`) is over the limit of {MAX_FRAME} \
                     bytes; skipped up to the next `Content-Length` header"
                ),
                Some(Ok(len)) => return self.read_body(len as usize),
            };
            self.resync = true;
            return Ok(Some(Event::Bad { reason, id: None }));
        }
    }

    /// Reads a header block, up to its empty line. `None` at end of input.
    fn read_header(&mut self) -> std::io::Result<Option<Header>> {
        let mut content_length = None;
        let mut first = true;
        loop {
            let line_end = loop {
                if first {
                    // Blank bytes between frames.
                    let blank = self
                        .avail()
                        .iter()
                        .take_while(|b| matches!(b, b'\r' | b'\n' | b' ' | b'\t'))
                        .count();
                    self.pos += blank;
                }
                if let Some(i) = memchr::memchr(b'\n', self.avail()) {
                    break i;
                }
                let partial = self.avail();
                if partial.len() > MAX_HEADER_LINE || !header_start(partial) {
                    return Ok(Some(Header::Garbage));
                }
                if !self.more()? {
                    return Ok(None);
                }
            };
            let line = &self.avail()[..line_end];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                self.pos += line_end + 1;
                return Ok(Some(Header::Done(content_length)));
            }
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                return Ok(Some(Header::Garbage));
            };
            let (name, value) = (&line[..colon], &line[colon + 1..]);
            if name.is_empty() || !name.iter().all(|&b| is_token(b)) {
                return Ok(Some(Header::Garbage));
            }
            if name.eq_ignore_ascii_case(b"content-length") {
                let value = value.trim_ascii();
                content_length = Some(
                    std::str::from_utf8(value)
                        .ok()
                        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                        .and_then(|v| v.parse::<u64>().ok())
                        .ok_or(()),
                );
            }
            self.pos += line_end + 1;
            first = false;
        }
    }

    /// Skips input up to the next `Content-Length` header, keeping the start of what it skips.
    fn skip_to_header(&mut self) -> std::io::Result<Skip> {
        loop {
            if let Some(i) = find_header(self.avail()) {
                self.keep_skipped(i);
                self.pos += i;
                self.resync = false;
                return Ok(Skip::Found);
            }
            let tail = self.avail().len().min(HEADER_TAIL);
            self.keep_skipped(self.avail().len() - tail);
            self.pos = self.buf.len() - tail;
            if self.eof {
                return Ok(Skip::Eof);
            }
            // A request skipped whole is answered now, not when the client sends the next one.
            if self.skipped.iter().any(|b| !b.is_ascii_whitespace()) || tail > 0 {
                let pending = [self.skipped.as_slice(), self.avail()].concat();
                if ends_with_brace(&pending) && self.src.idle(IDLE) {
                    let n = self.avail().len();
                    self.keep_skipped(n);
                    self.pos = self.buf.len();
                    return Ok(Skip::Idle);
                }
            }
            if !self.more()? {
                let n = self.avail().len();
                self.keep_skipped(n);
                self.pos = self.buf.len();
                return Ok(Skip::Eof);
            }
        }
    }

    fn keep_skipped(&mut self, n: usize) {
        let room = MAX_SKIPPED.saturating_sub(self.skipped.len());
        let from = self.pos;
        self.skipped
            .extend_from_slice(&self.buf[from..from + n.min(room)]);
    }

    /// The message in the input available, shorter than its `Content-Length` `len`: a complete
    /// JSON value, followed by nothing or by the next header.
    fn cut_short(&mut self, len: usize) -> Option<Event> {
        let avail = self.avail();
        let end = first_value_end(avail)?;
        let after = &avail[skip_ws(avail, end)..];
        if !(after.is_empty() || header_start(after)) {
            return None;
        }
        let body = avail[..end].to_vec();
        self.pos += end;
        let note = format!(
            "`Content-Length` {len} is larger than the message ({end} bytes); the message was \
             read anyway"
        );
        Some(Event::Body(body, Some(note)))
    }

    /// Reads a body of `len` bytes (the `Content-Length`), repairing a wrong length when the
    /// message can be told apart from what follows it.
    fn read_body(&mut self, len: usize) -> std::io::Result<Option<Event>> {
        while self.avail().len() < len {
            // The input stops short of the announced length: a complete JSON value is the whole
            // message when nothing more comes.
            if ends_with_brace(self.avail()) && self.src.idle(IDLE) {
                if let Some(event) = self.cut_short(len) {
                    return Ok(Some(event));
                }
            }
            if !self.more()? {
                return Ok(self.cut_short(len));
            }
        }
        let body = &self.avail()[..len];
        let parsed = serde_json::from_slice::<IgnoredAny>(body);
        match parsed {
            Ok(_) => {
                let body = body.to_vec();
                self.pos += len;
                Ok(Some(Event::Body(body, None)))
            }
            Err(e) if e.is_eof() => {
                // Too small? The message may go on in the bytes after it, up to the next header.
                let rest = self.avail();
                let limit = find_header(&rest[len..]).map_or(rest.len(), |i| len + i);
                if let Some(end) = first_value_end(&rest[..limit]) {
                    if end > len && rest[end..limit].iter().all(u8::is_ascii_whitespace) {
                        let body = rest[..end].to_vec();
                        self.pos += end;
                        let note = format!(
                            "`Content-Length` {len} is smaller than the message ({end} bytes); \
                             the message was read anyway"
                        );
                        return Ok(Some(Event::Body(body, Some(note))));
                    }
                }
                let id = request_id(body);
                self.pos += len;
                // What is left of the message is skipped, silently.
                self.resync = true;
                Ok(Some(Event::Bad {
                    reason: "message is not valid JSON (it ends early: a `Content-Length` too \
                             small?)"
                        .into(),
                    id,
                }))
            }
            Err(_) => {
                // Too large? A complete message, then the start of the next header.
                if let Some(end) = first_value_end(body) {
                    let after = &body[skip_ws(body, end)..];
                    if !after.is_empty() && header_start(after) {
                        let body = body[..end].to_vec();
                        self.pos += end;
                        let note = format!(
                            "`Content-Length` {len} is larger than the message ({end} bytes), \
                             which the next header follows; the message was read anyway"
                        );
                        return Ok(Some(Event::Body(body, Some(note))));
                    }
                }
                let body = body.to_vec();
                self.pos += len;
                Ok(Some(Event::Body(body, None)))
            }
        }
    }
}

/// A header name's characters (RFC 9110 `tchar`).
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Whether `partial` (no line break in it) can be the start of a header line.
fn header_start(partial: &[u8]) -> bool {
    match partial.iter().position(|&b| !is_token(b)) {
        None => true,
        Some(i) => i > 0 && partial[i] == b':',
    }
}

fn ends_with_brace(bytes: &[u8]) -> bool {
    bytes.trim_ascii_end().last() == Some(&b'}')
}

/// Where the first JSON value of `bytes` ends, if `bytes` starts with a complete one.
fn first_value_end(bytes: &[u8]) -> Option<usize> {
    let mut values = serde_json::Deserializer::from_slice(bytes).into_iter::<IgnoredAny>();
    match values.next() {
        Some(Ok(_)) => Some(values.byte_offset()),
        _ => None,
    }
}

/// The start of the first `Content-Length: <digits>` line in `bytes` (anywhere: after bad input
/// the header may follow the previous bytes without a line break).
fn find_header(bytes: &[u8]) -> Option<usize> {
    const NAME: &[u8] = b"content-length";
    let mut from = 0;
    while let Some(i) = memchr::memchr2(b'c', b'C', &bytes[from..]) {
        let start = from + i;
        from = start + 1;
        let rest = &bytes[start..];
        if rest.len() < NAME.len() || !rest[..NAME.len()].eq_ignore_ascii_case(NAME) {
            continue;
        }
        let mut j = NAME.len();
        let spaces = |j: &mut usize| {
            while matches!(rest.get(*j), Some(b' ' | b'\t')) {
                *j += 1;
            }
        };
        spaces(&mut j);
        if rest.get(j) != Some(&b':') {
            continue;
        }
        j += 1;
        spaces(&mut j);
        let digits = rest[j..].iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            continue;
        }
        j += digits;
        spaces(&mut j);
        if rest.get(j) == Some(&b'\r') {
            j += 1;
        }
        if rest.get(j) == Some(&b'\n') {
            return Some(start);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// Input written in chunks, the input going quiet after each.
    struct Chunks(VecDeque<Vec<u8>>);

    impl Read for Chunks {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let Some(chunk) = self.0.front_mut() else {
                return Ok(0);
            };
            let n = chunk.len().min(buf.len());
            buf[..n].copy_from_slice(&chunk[..n]);
            chunk.drain(..n);
            if chunk.is_empty() {
                self.0.pop_front();
            }
            Ok(n)
        }
    }

    impl Source for Chunks {
        fn idle(&mut self, _: Duration) -> bool {
            true
        }
    }

    /// What the reader makes of `chunks`: the messages forwarded to the server and the answers
    /// sent to the client (as text, to see ids exactly as written).
    fn run(chunks: &[Vec<u8>]) -> (Vec<Value>, Vec<String>) {
        let mut reader = FrameReader::new(Chunks(chunks.iter().cloned().collect()));
        let (mut forwarded, mut replies) = (Vec::new(), Vec::new());
        while let Some(event) = reader.next_event().unwrap() {
            let (fwd, reply) = handle_event(event);
            for body in fwd {
                forwarded.push(serde_json::from_slice(&body).unwrap());
            }
            replies.extend(reply.map(|r| String::from_utf8(r).unwrap()));
        }
        (forwarded, replies)
    }

    fn frame(body: &[u8]) -> Vec<u8> {
        framed(body)
    }

    fn request(id: u32) -> Vec<u8> {
        format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"shutdown"}}"#).into_bytes()
    }

    /// The ids of the requests forwarded, and the reasons logged.
    fn split(forwarded: &[Value]) -> (Vec<i64>, Vec<String>) {
        let mut ids = Vec::new();
        let mut logs = Vec::new();
        for m in forwarded {
            if m["method"] == MALFORMED_METHOD {
                logs.push(m["params"]["reason"].as_str().unwrap().to_string());
            } else {
                ids.push(m["id"].as_i64().unwrap());
            }
        }
        (ids, logs)
    }

    #[test]
    fn good_messages_pass_through() {
        let body = br#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#;
        let (got, replies) = run(&[frame(body)]);
        assert_eq!(got, vec![serde_json::from_slice::<Value>(body).unwrap()]);
        assert!(replies.is_empty());
    }

    #[test]
    fn bad_json_and_bad_utf8_are_logged_and_requests_among_them_answered() {
        let mut input = frame(b"{not json");
        input.extend(frame(b"{\"jsonrpc\":\"2.0\",\"method\":\"x\xff\"}"));
        input.extend(frame(br#"{"jsonrpc":"2.0","id":7,"method":3}"#));
        input.extend(frame(
            b"{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"x\xff\"}",
        ));
        input.extend(frame(
            br#"{"jsonrpc":"2.0","id":8,"method":"hover","params":{"#,
        ));
        let (got, replies) = run(&[input]);
        let (ids, logs) = split(&got);
        assert!(ids.is_empty());
        assert_eq!(logs.len(), 5, "{logs:?}");
        assert_eq!(replies.len(), 3, "{replies:?}");
        let replies: Vec<Value> = replies
            .iter()
            .map(|r| serde_json::from_str(r).unwrap())
            .collect();
        assert_eq!(replies[0]["id"], 7);
        assert_eq!(replies[0]["error"]["code"], INVALID_REQUEST);
        assert_eq!(replies[1]["id"], "a");
        assert_eq!(replies[1]["error"]["code"], PARSE_ERROR);
        assert_eq!(replies[2]["id"], 8);
        assert_eq!(replies[2]["error"]["code"], PARSE_ERROR);
    }

    #[test]
    fn ids_the_server_cannot_hold_are_answered_as_written() {
        for id in [
            "1.5",
            "1.0",
            "1e3",
            "-0.5E-2",
            "9223372036854775808",
            "-9223372036854775809",
            "18446744073709551616",
        ] {
            let body = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"textDocument/hover"}}"#);
            let (got, replies) = run(&[frame(body.as_bytes())]);
            let (ids, logs) = split(&got);
            assert!(ids.is_empty() && logs.len() == 1, "{id}: {got:?}");
            assert_eq!(replies.len(), 1, "{id}");
            assert!(
                replies[0].starts_with(&format!(r#"{{"jsonrpc":"2.0","id":{id},"error":{{"#)),
                "{}",
                replies[0]
            );
            assert!(replies[0].contains("-32600"), "{}", replies[0]);
        }
        // Integers in range pass.
        for id in ["9223372036854775807", "-9223372036854775808", "\"x\""] {
            let body = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"shutdown"}}"#);
            let (got, replies) = run(&[frame(body.as_bytes())]);
            assert_eq!(got.len(), 1, "{id}");
            assert_eq!(got[0]["method"], "shutdown");
            assert!(replies.is_empty());
        }
    }

    #[test]
    fn requests_dollar_slash_get_method_not_found() {
        let mut input = frame(br#"{"jsonrpc":"2.0","id":4,"method":"$/anything","params":{}}"#);
        input.extend(frame(
            br#"{"jsonrpc":"2.0","method":"$/notify","params":{}}"#,
        ));
        let (got, replies) = run(&[input]);
        assert_eq!(got.len(), 1, "the notification goes on: {got:?}");
        assert_eq!(got[0]["method"], "$/notify");
        let reply: Value = serde_json::from_str(&replies[0]).unwrap();
        assert_eq!(reply["id"], 4);
        assert_eq!(reply["error"]["code"], METHOD_NOT_FOUND);
    }

    #[test]
    fn request_id_is_read_from_broken_bodies() {
        let id = |b: &[u8]| request_id(b).map(|v| String::from_utf8(v).unwrap());
        assert_eq!(
            id(br#"{"jsonrpc":"2.0","id":12,"met"#).as_deref(),
            Some("12")
        );
        assert_eq!(
            id(br#"{"params":{"id":3},"id":"x\"y"}"#).as_deref(),
            Some(r#""x\"y""#)
        );
        assert_eq!(id(br#"{"method":"id","id":1"#), None, "cut number");
        assert_eq!(id(br#"{"a":["id",{"id":2}]}"#), None);
        assert_eq!(id(br#""id":5}"#), None, "not inside an object");
        assert_eq!(id(b"{\"id\":01}"), None);
        assert_eq!(id(b"{\"id\":true}"), None);
    }

    /// Each bad frame, then three good requests: the good ones all reach the server.
    #[test]
    fn a_bad_frame_never_makes_the_reader_deaf() {
        let msg = request(100);
        let n = msg.len();
        let with_len = |len: &str| {
            let mut v = format!("Content-Length: {len}\r\n\r\n").into_bytes();
            v.extend_from_slice(&msg);
            v
        };
        let mut missing = b"Content-Type: application/json\r\n\r\n".to_vec();
        missing.extend_from_slice(&msg);
        // (input before the good ones, whether the bad message is recovered, a log that must be
        // there)
        let cases: Vec<(&str, Vec<u8>, bool, &str)> = vec![
            ("too short", with_len(&(n - 5).to_string()), true, "smaller"),
            ("too long", with_len(&(n + 5).to_string()), true, "larger"),
            (
                "far too long",
                with_len(&(n + 500).to_string()),
                true,
                "larger",
            ),
            (
                "non-numeric",
                with_len("abc"),
                false,
                "not a non-negative integer",
            ),
            (
                "negative",
                with_len("-5"),
                false,
                "not a non-negative integer",
            ),
            ("10^12", with_len("1000000000000"), false, "over the limit"),
            ("missing", missing, false, "without a `Content-Length`"),
            (
                "garbage",
                b"hello there\r\n\r\n".to_vec(),
                false,
                "malformed input",
            ),
            ("body without header", msg.clone(), false, "malformed input"),
        ];
        for (name, bad, recovered, log) in cases {
            let mut good = Vec::new();
            for id in 1..=3 {
                good.extend(frame(&request(id)));
            }
            // All in one write, and the bad frame alone before the client waits.
            for chunks in [
                vec![[bad.clone(), good.clone()].concat()],
                vec![bad.clone(), good],
            ] {
                let (got, replies) = run(&chunks);
                let (ids, logs) = split(&got);
                let expected: &[i64] = if recovered {
                    &[100, 1, 2, 3]
                } else {
                    &[1, 2, 3]
                };
                assert_eq!(ids, expected, "{name}: {logs:?}");
                assert!(logs.iter().any(|l| l.contains(log)), "{name}: {logs:?}");
                if !recovered && name != "garbage" {
                    // The skipped request is answered.
                    assert_eq!(replies.len(), 1, "{name}: {replies:?}");
                    let reply: Value = serde_json::from_str(&replies[0]).unwrap();
                    assert_eq!(reply["id"], 100, "{name}");
                    assert_eq!(reply["error"]["code"], PARSE_ERROR, "{name}");
                } else {
                    assert!(replies.is_empty(), "{name}: {replies:?}");
                }
            }
        }
    }

    #[test]
    fn missing_content_length_is_reported_and_reading_goes_on() {
        let mut input = b"Content-Type: x\r\n\r\n".to_vec();
        input.extend(frame(
            br#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#,
        ));
        let (got, _) = run(&[input]);
        assert_eq!(got[0]["method"], MALFORMED_METHOD);
        assert_eq!(got[1]["method"], "initialized");
    }

    #[test]
    fn finds_the_next_header() {
        assert_eq!(find_header(b"xx}Content-Length: 12\r\n\r\n"), Some(3));
        assert_eq!(find_header(b"content-length:7\n"), Some(0));
        assert_eq!(find_header(br#""Content-Length: 12\r\n""#), None);
        assert_eq!(
            find_header(b"Content-Length: 12"),
            None,
            "not a whole line yet"
        );
        assert_eq!(find_header(b"Content-Length: x\r\n"), None);
    }
}
