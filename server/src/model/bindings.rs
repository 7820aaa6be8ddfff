//! The module-level bindings of a model, looked up name by name through [`BindingsView`], which
//! records each lookup in the model's [`ReadRecorder`] (see [`super::reads`]).

use std::hash::{Hash, Hasher};

use rustc_hash::{FxHashMap, FxHasher};

use super::facts::Binding;
use super::reads::ReadRecorder;

/// The module-level bindings of a [`Model`](super::Model): name → binding. Read only through a
/// [`BindingsView`] ([`Model::bindings`](super::Model::bindings)).
#[derive(Debug, Clone, Default)]
pub struct Bindings {
    /// Shared: the analyzer copies the model on every keystroke.
    map: std::sync::Arc<FxHashMap<String, Binding>>,
}

/// The bindings as a reader of the model sees them: every read is noted in the model's
/// [`ReadRecorder`] (by name for [`get`](BindingsView::get) and
/// [`contains_key`](BindingsView::contains_key), as "everything" for the iterators), so that the
/// analyzer knows which names an item's findings depend on: typing a new module-level name (`P`,
/// `PA`, `PAS`…) re-checks only the items that looked that name up.
#[derive(Debug, Clone, Copy)]
pub struct BindingsView<'a> {
    bindings: &'a Bindings,
    reads: &'a ReadRecorder,
}

impl<'a> BindingsView<'a> {
    pub(super) fn new(bindings: &'a Bindings, reads: &'a ReadRecorder) -> Self {
        BindingsView { bindings, reads }
    }

    pub fn get(self, name: &str) -> Option<&'a Binding> {
        self.reads.binding(name);
        self.bindings.map.get(name)
    }

    pub fn contains_key(self, name: &str) -> bool {
        self.reads.binding(name);
        self.bindings.map.contains_key(name)
    }

    /// Every bound name (an item that lists them depends on all bindings).
    pub fn keys(self) -> impl Iterator<Item = &'a String> {
        self.reads.all_bindings();
        self.bindings.map.keys()
    }

    pub fn iter(self) -> impl Iterator<Item = (&'a String, &'a Binding)> {
        self.reads.all_bindings();
        self.bindings.map.iter()
    }

    pub fn len(self) -> usize {
        self.reads.all_bindings();
        self.bindings.map.len()
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// A hash of the binding of `name` (or of its absence), not recorded as a read.
    pub fn hash_of(self, name: &str) -> u64 {
        self.bindings.hash_of(name)
    }

    /// A hash of every binding, independent of the map's order; not recorded as a read.
    pub fn fingerprint(self) -> u64 {
        self.bindings.fingerprint()
    }

    /// The names bound differently in `self` and `other` (bound in one only, or to another
    /// binding), in no particular order; `None` when there are more than `limit`. Not recorded
    /// as a read. A reader that read none of them read the same bindings in both.
    pub fn changed_names(self, other: BindingsView<'_>, limit: usize) -> Option<Vec<String>> {
        let (a, b) = (&self.bindings.map, &other.bindings.map);
        let mut changed = Vec::new();
        if std::sync::Arc::ptr_eq(a, b) {
            return Some(changed);
        }
        for (name, binding) in a.iter() {
            if b.get(name) != Some(binding) {
                if changed.len() == limit {
                    return None;
                }
                changed.push(name.clone());
            }
        }
        for name in b.keys() {
            if !a.contains_key(name) {
                if changed.len() == limit {
                    return None;
                }
                changed.push(name.clone());
            }
        }
        Some(changed)
    }
}

impl Bindings {
    /// No bindings, with room for `n`.
    pub fn with_capacity(n: usize) -> Self {
        Bindings {
            map: std::sync::Arc::new(FxHashMap::with_capacity_and_hasher(n, Default::default())),
        }
    }

    pub fn insert(&mut self, name: String, binding: Binding) -> Option<Binding> {
        std::sync::Arc::make_mut(&mut self.map).insert(name, binding)
    }

    /// A hash of the binding of `name` (or of its absence), not recorded as a read.
    fn hash_of(&self, name: &str) -> u64 {
        let mut h = FxHasher::default();
        self.map.get(name).hash(&mut h);
        h.finish()
    }

    /// A hash of every binding, independent of the map's order; not recorded as a read.
    fn fingerprint(&self) -> u64 {
        let mut sum = 0u64;
        for entry in self.map.iter() {
            let mut h = FxHasher::default();
            entry.hash(&mut h);
            // Mix so that a sum of entries cannot cancel out trivially.
            sum = sum.wrapping_add(h.finish().wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5555);
        }
        let mut h = FxHasher::default();
        (self.map.len(), sum).hash(&mut h);
        h.finish()
    }
}
