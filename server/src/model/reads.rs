//! What an analysis step read of the model: binding names and data-flow facts, noted by the
//! model's own [`ReadRecorder`] while [`Model::record_reads`](super::Model::record_reads) runs.
//!
//! The recorder is part of the value every reader receives (`&Model`): a lookup of the bindings
//! goes through [`Model::bindings`](super::Model::bindings), a view that carries the recorder, and
//! one of the data-flow facts through the rules' `Ctx::dataflow`, a `dataflow::FlowView` made with
//! the same model's [`Model::recorder`](super::Model::recorder). There is no ambient
//! (thread-local) state: what a step read is what it read of the model it was given.

use std::sync::{Mutex, MutexGuard};

use rustc_hash::FxHashSet;

/// What an analysis step read of the module model while
/// [`Model::record_reads`](super::Model::record_reads) ran: binding names, and resolved data-flow
/// facts by name.
#[derive(Debug, Default)]
pub struct BindingReads {
    /// Something listed every binding: the reader depends on all of them.
    pub all: bool,
    pub names: FxHashSet<String>,
    /// The data-flow facts read (`dataflow::FlowView::function`, `FlowView::global`).
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

/// The recorder a [`Model`](super::Model) carries: what the readers of that model read, while
/// [`ReadRecorder::record`] runs (outside it, reads are not noted).
///
/// A copy of a model starts with a recorder of its own that records nothing. (A mutex, not a
/// `RefCell`, only so that a model can be shared between threads once analysed: the analyzer
/// records on the model it is building, which no other thread sees.)
#[derive(Debug, Default)]
pub struct ReadRecorder {
    reads: Mutex<Option<BindingReads>>,
}

impl Clone for ReadRecorder {
    fn clone(&self) -> Self {
        ReadRecorder::default()
    }
}

impl ReadRecorder {
    fn lock(&self) -> MutexGuard<'_, Option<BindingReads>> {
        self.reads.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `note` on the reads being recorded, if a recording runs.
    fn with(&self, note: impl FnOnce(&mut BindingReads)) {
        if let Some(r) = self.lock().as_mut() {
            note(r);
        }
    }

    /// Records a read of the binding of `name`.
    pub(crate) fn binding(&self, name: &str) {
        self.with(|r| {
            if !r.all && !r.names.contains(name) {
                r.names.insert(name.to_owned());
            }
        });
    }

    /// Records that every binding was read.
    pub(crate) fn all_bindings(&self) {
        self.with(|r| {
            r.all = true;
            r.names.clear();
        });
    }

    /// Records a read of the data-flow facts of `name` (a function, or a global when `global`).
    pub(crate) fn flow(&self, global: bool, name: &str) {
        self.with(|r| {
            if !r.flow.all {
                let key = (global, name.to_owned());
                if !r.flow.names.contains(&key) {
                    r.flow.names.insert(key);
                }
            }
        });
    }

    /// Records that every data-flow fact was read.
    pub(crate) fn all_flow(&self) {
        self.with(|r| {
            r.flow.all = true;
            r.flow.names.clear();
        });
    }

    /// Runs `f` and returns, with its result, what was read through this recorder meanwhile.
    /// Nested calls also count as reads of the enclosing one.
    pub fn record<R>(&self, f: impl FnOnce() -> R) -> (R, BindingReads) {
        struct Restore<'r> {
            recorder: &'r ReadRecorder,
            outer: Option<BindingReads>,
        }
        impl Drop for Restore<'_> {
            fn drop(&mut self) {
                let outer = self.outer.take();
                let mut r = self.recorder.lock();
                let inner = std::mem::replace(&mut *r, outer);
                if let (Some(outer), Some(inner)) = (r.as_mut(), inner) {
                    inner.merge_into(outer);
                }
            }
        }
        let outer = self.lock().replace(BindingReads::default());
        let mut restore = Restore {
            recorder: self,
            outer,
        };
        let result = f();
        // Take this call's reads, then let `restore` put the outer recording back (merging
        // nothing).
        let reads = self
            .lock()
            .replace(BindingReads::default())
            .unwrap_or_default();
        if let Some(outer) = restore.outer.as_mut() {
            reads.merge_into(outer);
        }
        drop(restore);
        (result, reads)
    }
}

#[cfg(test)]
mod tests {
    use super::super::Model;

    /// The reads are those of the model the step was given: reading another model (or the same
    /// model outside a recording) notes nothing, and a nested recording counts for the outer one.
    #[test]
    fn a_model_records_what_is_read_of_it_and_nothing_else() {
        let (a, b) = (Model::default(), Model::default());
        let (((), inner), outer) = a.record_reads(|| {
            b.bindings().get("other");
            b.recorder().flow(false, "other");
            a.bindings().get("outer");
            a.record_reads(|| {
                a.bindings().contains_key("inner");
                a.recorder().flow(true, "key");
                b.bindings().keys().count();
            })
        });
        let names = |r: &super::BindingReads| {
            let mut v: Vec<_> = r.names.iter().cloned().collect();
            v.sort();
            v
        };
        assert_eq!(names(&inner), ["inner"]);
        assert_eq!(names(&outer), ["inner", "outer"]);
        assert!(
            !outer.all && !inner.all,
            "listing another model's bindings is not a read of a"
        );
        let flow: Vec<_> = outer.flow.names.iter().cloned().collect();
        assert_eq!(flow, [(true, "key".to_string())]);
        assert!(!outer.flow.all);
        // Outside a recording nothing is kept for the next one.
        a.bindings().get("late");
        let ((), next) = a.record_reads(|| ());
        assert!(next.names.is_empty() && next.flow.names.is_empty());
    }
}
