//! Running a dependency's parser (ext4-view, fatfs, SQLite's bindings) so that a panic in
//! it on hostile input is an error naming where it happened, not a crash: the panic is
//! caught, and the process's panic hook stays quiet for it (it is reported as an error).

use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    /// How many contained calls this thread is inside.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    /// Where the last contained panic happened.
    static WHERE: RefCell<String> = const { RefCell::new(String::new()) };
}

static HOOK: Once = Once::new();

/// Chains a hook in front of the current one that stays silent inside [`contained`].
fn install_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if DEPTH.with(Cell::get) > 0 {
                let at = info
                    .location()
                    .map(|l| format!(" at {}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                WHERE.with(|w| *w.borrow_mut() = at);
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs `f`; a panic inside it becomes `Err` with its message and location.
pub fn contained<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    install_hook();
    DEPTH.with(|d| d.set(d.get() + 1));
    let result = catch_unwind(AssertUnwindSafe(f));
    DEPTH.with(|d| d.set(d.get() - 1));
    result.map_err(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".into());
        let at = WHERE.with(|w| std::mem::take(&mut *w.borrow_mut()));
        format!("{message}{at}")
    })
}

/// Reads the filesystem at `start` with `read`: a panic in its reader is the filesystem's
/// error ([`crate::ContentError::Reader`]), like any other reason it cannot be read.
pub(crate) fn reading<T>(
    start: u64,
    read: impl FnOnce() -> Result<T, crate::ContentError>,
) -> Result<T, crate::ContentError> {
    contained(read).unwrap_or_else(|panic| Err(crate::ContentError::Reader { start, panic }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_an_error_with_its_place() {
        assert_eq!(contained(|| 4), Ok(4));
        let e = contained(|| -> u32 {
            let v: Vec<u32> = Vec::new();
            let i = v.len() + 3;
            v[i]
        })
        .unwrap_err();
        assert!(
            e.contains("index out of bounds") && e.contains("contain.rs"),
            "{e}"
        );
    }
}
