//! A guard in front of tower-lsp-server's reader.
//!
//! tower-lsp-server's codec does not survive every bad input: a body that is not UTF-8 leaves its
//! decoder stuck on the same bytes, and after a decode error the framed stream may end, which ends
//! the server. So a thread reads stdin, splits it into `Content-Length` frames itself and forwards
//! only well-formed JSON-RPC messages. A malformed frame becomes a `keylint/malformedMessage`
//! notification (logged through `window/logMessage`), or a `keylint/malformedRequest` request with
//! the original id when one can be recovered, so the client gets an error answer instead of
//! waiting. Nothing of the bad input's content is forwarded (it may be source text).

use std::io::{BufRead, BufReader, Read, Write};
use std::pin::Pin;
use std::task::{Context, Poll};

use serde_json::{json, Value};
use tokio::io::{AsyncWrite, AsyncWriteExt, DuplexStream};

pub const MALFORMED_METHOD: &str = "keylint/malformedMessage";
pub const MALFORMED_REQUEST_METHOD: &str = "keylint/malformedRequest";

/// Frames larger than this are refused (and skipped) rather than buffered.
const MAX_FRAME: usize = 512 * 1024 * 1024;

/// Starts the reader thread; returns the stream tower-lsp-server reads from.
pub fn guarded_stdin(
    handle: tokio::runtime::Handle,
) -> (DuplexStream, std::thread::JoinHandle<()>) {
    let (server_side, mut our_side) = tokio::io::duplex(1 << 20);
    let thread = std::thread::Builder::new()
        .name("keylint-stdin".into())
        .spawn(move || {
            let stdin = std::io::stdin();
            let mut reader = BufReader::with_capacity(1 << 16, stdin.lock());
            // Ends at end of input or on a read error.
            while let Ok(Some(frame)) = read_frame(&mut reader) {
                let out = match frame {
                    Frame::Body(body) => check_message(body),
                    Frame::BadHeader(reason) => malformed(&reason, None),
                };
                let mut framed = format!("Content-Length: {}\r\n\r\n", out.len()).into_bytes();
                framed.extend_from_slice(&out);
                let sent = handle.block_on(async {
                    our_side.write_all(&framed).await?;
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
pub struct DirectStdout(Out);

enum Out {
    Raw(std::fs::File),
    Std(std::io::Stdout),
}

impl DirectStdout {
    pub fn new() -> Self {
        use std::os::fd::AsFd;
        let stdout = std::io::stdout();
        let raw = stdout.as_fd().try_clone_to_owned().map(std::fs::File::from);
        DirectStdout(match raw {
            Ok(file) => Out::Raw(file),
            Err(_) => Out::Std(stdout),
        })
    }

    fn write_frame(&mut self, buf: &[u8]) -> std::io::Result<()> {
        match &mut self.0 {
            Out::Raw(file) => file.write_all(buf),
            Out::Std(out) => {
                let mut out = out.lock();
                out.write_all(buf).and_then(|()| out.flush())
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.0 {
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
        Poll::Ready(self.get_mut().write_frame(buf).map(|()| buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(self.get_mut().flush())
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.poll_flush(cx)
    }
}

enum Frame {
    Body(Vec<u8>),
    BadHeader(String),
}

/// Reads one frame: header lines up to an empty line, then `Content-Length` bytes.
/// `Ok(None)` at end of input.
fn read_frame(reader: &mut impl BufRead) -> std::io::Result<Option<Frame>> {
    let mut content_length: Option<Result<usize, String>> = None;
    let mut saw_header = false;
    loop {
        let mut line = Vec::new();
        let n = reader.read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok(None);
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            if saw_header {
                break;
            }
            // Stray blank line between frames: skip it.
            continue;
        }
        saw_header = true;
        if let Some((name, value)) = text.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                content_length = Some(
                    value
                        .trim()
                        .parse::<usize>()
                        .map_err(|_| "invalid Content-Length header".to_string()),
                );
            }
        } else {
            return Ok(Some(Frame::BadHeader(
                "a header line without `:` (garbage between messages?)".into(),
            )));
        }
    }
    let len = match content_length {
        None => {
            return Ok(Some(Frame::BadHeader(
                "missing Content-Length header".into(),
            )))
        }
        Some(Err(reason)) => return Ok(Some(Frame::BadHeader(reason))),
        Some(Ok(len)) => len,
    };
    if len > MAX_FRAME {
        std::io::copy(&mut reader.take(len as u64), &mut std::io::sink())?;
        return Ok(Some(Frame::BadHeader(format!(
            "message of {len} bytes is larger than the {MAX_FRAME}-byte limit"
        ))));
    }
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body)?;
    Ok(Some(Frame::Body(body)))
}

/// The bytes to forward for a body: the body itself when it is a well-formed JSON-RPC message, a
/// replacement message otherwise.
fn check_message(body: Vec<u8>) -> Vec<u8> {
    let text = match std::str::from_utf8(&body) {
        Ok(text) => text,
        Err(err) => {
            return malformed(
                &format!("message is not valid UTF-8 (byte {})", err.valid_up_to()),
                None,
            )
        }
    };
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(err) => {
            return malformed(
                &format!(
                    "message is not valid JSON (line {}, column {}: {:?})",
                    err.line(),
                    err.column(),
                    err.classify()
                ),
                None,
            )
        }
    };
    match shape_error(&value) {
        None => body,
        Some(reason) => {
            let id = value
                .get("id")
                .filter(|id| id.is_number() || id.is_string())
                .cloned();
            malformed(reason, id)
        }
    }
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
        if let Some(n) = id.as_number() {
            if n.as_i64().is_none() {
                return Some("a numeric `id` must be an integer");
            }
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

/// The replacement for a malformed message: a request with the recovered id (so the client gets an
/// error answer), else a notification the server logs.
fn malformed(reason: &str, id: Option<Value>) -> Vec<u8> {
    let msg = match id {
        Some(id) => json!({
            "jsonrpc": "2.0",
            "id": id,
            "method": MALFORMED_REQUEST_METHOD,
            "params": { "reason": reason },
        }),
        None => json!({
            "jsonrpc": "2.0",
            "method": MALFORMED_METHOD,
            "params": { "reason": reason },
        }),
    };
    serde_json::to_vec(&msg).expect("a JSON value serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(input: &[u8]) -> Vec<Value> {
        let mut reader = BufReader::new(input);
        let mut out = Vec::new();
        while let Some(frame) = read_frame(&mut reader).unwrap() {
            let bytes = match frame {
                Frame::Body(b) => check_message(b),
                Frame::BadHeader(r) => malformed(&r, None),
            };
            out.push(serde_json::from_slice(&bytes).unwrap());
        }
        out
    }

    fn frame(body: &[u8]) -> Vec<u8> {
        let mut v = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn good_messages_pass_through() {
        let body = br#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#;
        let got = frames(&frame(body));
        assert_eq!(got, vec![serde_json::from_slice::<Value>(body).unwrap()]);
    }

    #[test]
    fn bad_json_and_bad_utf8_become_notifications() {
        let mut input = frame(b"{not json");
        input.extend(frame(b"{\"jsonrpc\":\"2.0\",\"method\":\"x\xff\"}"));
        input.extend(frame(br#"{"jsonrpc":"2.0","id":7,"method":3}"#));
        let got = frames(&input);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0]["method"], MALFORMED_METHOD);
        assert_eq!(got[1]["method"], MALFORMED_METHOD);
        assert_eq!(got[2]["method"], MALFORMED_REQUEST_METHOD);
        assert_eq!(got[2]["id"], 7);
    }

    #[test]
    fn missing_content_length_is_reported_and_reading_goes_on() {
        let mut input = b"Content-Type: x\r\n\r\n".to_vec();
        input.extend(frame(
            br#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#,
        ));
        let got = frames(&input);
        assert_eq!(got[0]["method"], MALFORMED_METHOD);
        assert_eq!(got[1]["method"], "initialized");
    }
}
