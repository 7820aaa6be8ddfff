//! Documents over the size limit (the `maxFileSize` setting, [`DEFAULT_MAX_FILE_SIZE`] bytes by
//! default): generated data or a vendored bundle, not code a person types. Such a document is
//! kept as text only (a rope, so that edits stay cheap and it is analysed again once it is back
//! under the limit), never parsed nor analysed; it gets one information diagnostic saying so, and
//! the user one message when it opens or grows over the limit. A 10 MB document used to take 21 s
//! to its first diagnostics, 7 s per edit and 1.4 GB.
//!
//! Memory freed by the analysis is returned to the system after a document closes
//! ([`trim_memory`], once the analyses are quiet): glibc's allocator otherwise keeps the peak of
//! every arena.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ropey::Rope;
use tower_lsp_server::ls_types::*;

pub use crate::config::DEFAULT_MAX_FILE_SIZE;
use crate::document::{ContentChange, PositionEncoding};

/// The limit in bytes; `None` when the setting is 0 (no limit).
pub fn limit(setting: Option<u64>) -> Option<usize> {
    match setting.unwrap_or(DEFAULT_MAX_FILE_SIZE) {
        0 => None,
        n => Some(usize::try_from(n).unwrap_or(usize::MAX)),
    }
}

/// Whether a text of `len` bytes is over the limit.
pub fn over(len: usize, limit: Option<usize>) -> bool {
    limit.is_some_and(|l| len > l)
}

fn mib(bytes: usize) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// Why the document is not analysed (for the diagnostic, the message and the log).
pub fn reason(size: usize, limit: usize) -> String {
    format!(
        "not analysed: the file is {} ({size} bytes), over keylint's limit of {} ({limit} bytes; \
         setting `maxFileSize` in bytes, 0 for no limit; `max-file-size` in keylint.toml for \
         `keylint check`)",
        mib(size),
        mib(limit)
    )
}

/// The one diagnostic of a document over the limit.
pub fn diagnostic(size: usize, limit: usize) -> Diagnostic {
    Diagnostic {
        range: Range::default(),
        severity: Some(DiagnosticSeverity::INFORMATION),
        source: Some("keylint".into()),
        message: reason(size, limit),
        ..Diagnostic::default()
    }
}

/// Applies LSP content changes to the rope of a document that is not parsed, with the position
/// rules of `Document::position_to_byte`: clamped, never inside a character nor a `\r\n`.
pub fn apply_changes(rope: &mut Rope, changes: &[ContentChange], enc: PositionEncoding) {
    for change in changes {
        match change.range {
            None => *rope = Rope::from_str(&change.text),
            Some((a, b)) => {
                let start = crate::document::rope_position_to_byte(rope, a, enc);
                let end = crate::document::rope_position_to_byte(rope, b, enc).max(start);
                let (c0, c1) = (rope.byte_to_char(start), rope.byte_to_char(end));
                rope.remove(c0..c1);
                rope.insert(c0, &change.text);
            }
        }
    }
}

/// How long the analyses must have been quiet before [`trim_memory`] trims.
const TRIM_QUIET: Duration = Duration::from_millis(1000);

/// When an analysis last started or ended, in milliseconds since [`epoch`].
static LAST_ANALYSIS_MS: AtomicU64 = AtomicU64::new(0);

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_ms() -> u64 {
    epoch().elapsed().as_millis().min(u64::MAX as u128) as u64
}

/// An analysis starts or ends: a trim queued waits until the analyses have been quiet for
/// [`TRIM_QUIET`].
pub fn note_analysis() {
    LAST_ANALYSIS_MS.store(now_ms(), Ordering::Relaxed);
}

/// Returns freed memory to the system (glibc keeps it in its arenas otherwise), on the blocking
/// pool, once no analysis has started or ended for [`TRIM_QUIET`]; a trim already queued covers
/// the callers that come meanwhile. `malloc_trim` walks and locks every arena in turn, so an
/// analysis allocating meanwhile waits for it: run right after an open (its own trim, or the
/// index's), it cost the first keystrokes after opening a 7,943-line module up to 1.5 ms of
/// waits (issue #14; typing17b's per-phase timestamps). A user who opens a file and types at
/// once is trimmed for at the first pause.
pub fn trim_memory() {
    static QUEUED: AtomicBool = AtomicBool::new(false);
    if QUEUED.swap(true, Ordering::AcqRel) {
        return;
    }
    tokio::spawn(async {
        loop {
            let idle = Duration::from_millis(
                now_ms().saturating_sub(LAST_ANALYSIS_MS.load(Ordering::Relaxed)),
            );
            if idle >= TRIM_QUIET {
                break;
            }
            tokio::time::sleep(TRIM_QUIET - idle).await;
        }
        QUEUED.store(false, Ordering::Release);
        let _ = tokio::task::spawn_blocking(|| {
            #[cfg(all(target_os = "linux", target_env = "gnu"))]
            // SAFETY: malloc_trim only releases free memory of the allocator's arenas.
            unsafe {
                libc::malloc_trim(0);
            }
        })
        .await;
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{Document, Pos};

    #[test]
    fn edits_land_where_the_document_puts_them() {
        let text = "a = 1\r\nb = 'é😀x'\rc = 3\nlast";
        let positions = [
            (0, 0),
            (0, 3),
            (0, 99),
            (1, 5),
            (1, 6),
            (1, 7),
            (1, 8),
            (2, 1),
            (3, 2),
            (3, 99),
            (7, 0),
        ];
        for enc in [
            PositionEncoding::Utf8,
            PositionEncoding::Utf16,
            PositionEncoding::Utf32,
        ] {
            for &(l, c) in &positions {
                let doc = Document::new(text, 1);
                let rope = Rope::from_str(text);
                let pos = Pos::new(l, c);
                assert_eq!(
                    crate::document::rope_position_to_byte(&rope, pos, enc),
                    doc.position_to_byte(pos, enc),
                    "{enc:?} {l}:{c}"
                );
            }
        }
        let mut rope = Rope::from_str(text);
        let change = |range: Option<((u32, u32), (u32, u32))>, text: &str| ContentChange {
            range: range.map(|(a, b)| (Pos::new(a.0, a.1), Pos::new(b.0, b.1))),
            text: text.into(),
        };
        apply_changes(
            &mut rope,
            &[
                change(Some(((0, 0), (0, 1))), "alpha"),
                change(Some(((3, 4), (3, 0))), "!"),
            ],
            PositionEncoding::Utf16,
        );
        assert_eq!(rope.to_string(), "alpha = 1\r\nb = 'é😀x'\rc = 3\nlast!");
        apply_changes(
            &mut rope,
            &[change(None, "x = 1\n")],
            PositionEncoding::Utf16,
        );
        assert_eq!(rope.to_string(), "x = 1\n");
    }

    #[test]
    fn the_limit_and_its_message() {
        assert_eq!(limit(None), Some(DEFAULT_MAX_FILE_SIZE as usize));
        assert_eq!(limit(Some(0)), None);
        assert!(over(11, Some(10)) && !over(10, Some(10)) && !over(usize::MAX, None));
        let r = reason(10 << 20, 1 << 20);
        assert!(r.contains("10.0 MiB") && r.contains("1.0 MiB") && r.contains("maxFileSize"));
    }
}
