//! Frees what an analysis leaves behind off the request path.
//!
//! Storing a document's new results replaces its last ones, and those often hold the last
//! reference to a whole merged model, data flow and syntax tree: freeing them costs O(module)
//! (0.64–0.89 M instructions at 7,943 lines). `store_and_publish` runs in the message loop's
//! future, which writes the `publishDiagnostics` it queued only after the handler returns, so a
//! drop there delays every publish. [`drop_later`] hands the value to one long-lived thread of
//! lower priority instead (a channel send: no thread is spawned, and the scheduler runs the
//! message loop first when both are ready).

use std::sync::mpsc::{channel, Sender};
use std::sync::OnceLock;

type Garbage = Box<dyn Send>;

/// The reaper's queue (`None` when its thread could not be started: then values drop in place).
static REAPER: OnceLock<Option<Sender<Garbage>>> = OnceLock::new();

/// Drops `value` on the reaper thread (in place when there is none).
pub fn drop_later<T: Send + 'static>(value: T) {
    match REAPER.get_or_init(start) {
        Some(tx) => {
            // Sent back when the thread is gone (it never ends on its own): dropped here.
            if let Err(returned) = tx.send(Box::new(value)) {
                drop(returned.0);
            }
        }
        None => drop(value),
    }
}

fn start() -> Option<Sender<Garbage>> {
    let (tx, rx) = channel::<Garbage>();
    std::thread::Builder::new()
        .name("keylint-reaper".into())
        .spawn(move || {
            lower_priority();
            for garbage in rx {
                drop(garbage);
            }
        })
        .ok()
        .map(|_| tx)
}

/// A nice value of 10 for the calling thread (on Linux, the nice value is per thread): it still
/// keeps up under load (about a tenth of a core's share against the other threads) but yields
/// to the message loop and the analyses.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority only changes the scheduling priority of the thread whose id is given:
    // this one.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, 10);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::SyncSender;

    /// Reports the thread that drops it.
    struct Probe(SyncSender<std::thread::ThreadId>);

    impl Drop for Probe {
        fn drop(&mut self) {
            let _ = self.0.send(std::thread::current().id());
        }
    }

    #[test]
    fn values_are_dropped_on_the_reaper_thread() {
        let (tx, rx) = std::sync::mpsc::sync_channel(2);
        drop_later(Probe(tx.clone()));
        drop_later(Probe(tx));
        for _ in 0..2 {
            let dropper = rx
                .recv_timeout(std::time::Duration::from_secs(60))
                .expect("the value is dropped");
            assert_ne!(dropper, std::thread::current().id());
        }
    }
}
