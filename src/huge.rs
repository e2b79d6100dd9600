//! The binary's allocator: the system's, with large blocks (a million VMs' vectors, a
//! snapshot's bytes, sort keys) advised to the kernel as huge-page memory, so that filling
//! one costs a page fault per 2 MB instead of per 4 KB. A report at a million VMs faulted
//! about 320,000 times; a fault costs about a microsecond and a half on these machines.

use std::alloc::{GlobalAlloc, Layout, System};

/// Blocks at least this large are advised.
const LARGE: usize = 4 << 20;
/// The huge page size the advice is aligned to.
const HUGE: usize = 2 << 20;

pub struct HugeLarge;

/// Advises the whole huge pages inside `[p, p + n)`.
fn advise(p: *mut u8, n: usize) {
    #[cfg(target_os = "linux")]
    {
        let start = (p as usize).next_multiple_of(HUGE);
        let end = (p as usize).saturating_add(n) & !(HUGE - 1);
        if end > start {
            // SAFETY: the range lies inside a block the system allocator just handed out;
            // MADV_HUGEPAGE changes how its pages are backed, never their contents.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (p, n);
}

// SAFETY: every call is passed to `System` unchanged; `advise` only adds advice.
unsafe impl GlobalAlloc for HugeLarge {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc`, passed on.
        let p = unsafe { System.alloc(layout) };
        if layout.size() >= LARGE && !p.is_null() {
            advise(p, layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc_zeroed`, passed on.
        let p = unsafe { System.alloc_zeroed(layout) };
        if layout.size() >= LARGE && !p.is_null() {
            advise(p, layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract for `dealloc`, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract for `realloc`, passed on.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if new_size >= LARGE && !p.is_null() {
            advise(p, new_size);
        }
        p
    }
}
