//! What an analysis step read of the model: binding names and data-flow facts, recorded while
//! [`record_binding_reads`] runs.

use std::cell::RefCell;

use rustc_hash::FxHashSet;

/// What an analysis step read of the module model while [`record_binding_reads`] ran: binding
/// names, and resolved data-flow facts by name.
#[derive(Debug, Default)]
pub struct BindingReads {
    /// Something listed every binding: the reader depends on all of them.
    pub all: bool,
    pub names: FxHashSet<String>,
    /// The data-flow facts read ([`Dataflow::function`](crate::dataflow::Dataflow::function),
    /// [`Dataflow::global`](crate::dataflow::Dataflow::global)).
    pub flow: FlowReads,
}

/// The resolved data-flow facts read, by name (see [`BindingReads`]).
#[derive(Debug, Default)]
pub struct FlowReads {
    /// Something listed every fact: the reader depends on all of them.
    pub all: bool,
    /// `(is_global, name)`: a module-level name's key material, or a function's facts.
    pub names: FxHashSet<(bool, String)>,
}

impl BindingReads {
    /// Adds these reads to `outer` (a nested recording counts for the enclosing one too).
    fn merge_into(&self, outer: &mut BindingReads) {
        if self.all {
            outer.all = true;
            outer.names.clear();
        } else if !outer.all {
            outer.names.extend(self.names.iter().cloned());
        }
        if self.flow.all {
            outer.flow.all = true;
            outer.flow.names.clear();
        } else if !outer.flow.all {
            outer.flow.names.extend(self.flow.names.iter().cloned());
        }
    }
}

thread_local! {
    static READS: RefCell<Option<BindingReads>> = const { RefCell::new(None) };
}

/// Runs `note` on the recorder of this thread, if one is recording.
fn with_recorder(note: impl FnOnce(&mut BindingReads)) {
    READS.with(|r| {
        if let Ok(mut r) = r.try_borrow_mut() {
            if let Some(r) = r.as_mut() {
                note(r);
            }
        }
    });
}

pub(super) fn note_read(name: &str) {
    with_recorder(|r| {
        if !r.all && !r.names.contains(name) {
            r.names.insert(name.to_owned());
        }
    });
}

pub(super) fn note_all() {
    with_recorder(|r| {
        r.all = true;
        r.names.clear();
    });
}

/// Records a read of the data-flow facts of `name` (a function, or a global when `global`).
pub(crate) fn note_flow_read(global: bool, name: &str) {
    with_recorder(|r| {
        if !r.flow.all {
            let key = (global, name.to_owned());
            if !r.flow.names.contains(&key) {
                r.flow.names.insert(key);
            }
        }
    });
}

/// Records that every data-flow fact was read.
pub(crate) fn note_flow_all() {
    with_recorder(|r| {
        r.flow.all = true;
        r.flow.names.clear();
    });
}

/// Runs `f` and returns, with its result, what it read of the model (on this thread): the names of
/// [`Model::bindings`] and the data-flow facts. Nested calls also count as reads of the enclosing
/// one.
pub fn record_binding_reads<R>(f: impl FnOnce() -> R) -> (R, BindingReads) {
    struct Restore(Option<BindingReads>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let outer = self.0.take();
            READS.with(|r| {
                let mut r = r.borrow_mut();
                let inner = std::mem::replace(&mut *r, outer);
                if let (Some(outer), Some(inner)) = (r.as_mut(), inner) {
                    inner.merge_into(outer);
                }
            });
        }
    }
    let outer = READS.with(|r| r.borrow_mut().replace(BindingReads::default()));
    let mut restore = Restore(outer);
    let result = f();
    // Take this call's reads, then let `restore` put the outer recorder back (merging nothing).
    let reads = READS
        .with(|r| r.borrow_mut().replace(BindingReads::default()))
        .unwrap_or_default();
    if let Some(outer) = restore.0.as_mut() {
        reads.merge_into(outer);
    }
    drop(restore);
    (result, reads)
}
