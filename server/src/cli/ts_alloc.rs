//! tree-sitter's allocator for `keylint check`: mimalloc, for tree-sitter's own allocations only
//! (its trees, parse stacks and the Python scanner's state: the grammar is compiled with
//! `TREE_SITTER_REUSE_ALLOCATOR`, see `.cargo/config.toml`, so that its scanner's arrays are
//! allocated through this allocator too), set once before any parse. The Rust
//! side keeps the system allocator, and so does the language server (`keylint server`), which
//! shares the binary: a global swap made the check faster but tripled its peak memory.
//!
//! tree-sitter calls these through its `ts_malloc` & co. without checking the result, as its
//! default functions do (they abort when the memory runs out): these abort too.

use std::ffi::c_void;

use libmimalloc_sys as mi;

unsafe extern "C" fn malloc(size: usize) -> *mut c_void {
    // SAFETY: mimalloc's malloc, any size.
    let p = unsafe { mi::mi_malloc(size) };
    if p.is_null() && size != 0 {
        std::process::abort();
    }
    p
}

unsafe extern "C" fn calloc(count: usize, size: usize) -> *mut c_void {
    let Some(bytes) = count.checked_mul(size) else {
        std::process::abort();
    };
    // SAFETY: mimalloc's zeroed malloc, any size.
    let p = unsafe { mi::mi_zalloc(bytes) };
    if p.is_null() && bytes != 0 {
        std::process::abort();
    }
    p
}

unsafe extern "C" fn realloc(ptr: *mut c_void, size: usize) -> *mut c_void {
    // SAFETY: `ptr` is null or was allocated by these functions (tree-sitter only frees and
    // reallocates what its allocator gave it, and the allocator is set before any allocation).
    let p = unsafe { mi::mi_realloc(ptr, size) };
    if p.is_null() && size != 0 {
        std::process::abort();
    }
    p
}

unsafe extern "C" fn free(ptr: *mut c_void) {
    // SAFETY: as for `realloc`.
    unsafe { mi::mi_free(ptr) }
}

/// Makes tree-sitter allocate with mimalloc. Call once, first thing in `keylint check`, before
/// any tree-sitter object exists (`tree_sitter::set_allocator`'s contract: nothing allocated by
/// the previous functions may be freed by these) and before any other thread runs.
pub fn install() {
    // SAFETY: called once at the start of the process's `check` command, on its only thread,
    // before any parser, tree or query is made.
    unsafe {
        tree_sitter::set_allocator(Some(tree_sitter::Allocator {
            malloc,
            calloc,
            realloc,
            free,
        }))
    }
}
