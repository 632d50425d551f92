//! The `poolwatch` binary: everything it does lives in the library's application layer.

use std::sync::atomic::{AtomicBool, Ordering};

/// Descriptor 1 was closed when the process started.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
/// Descriptor 2 was closed when the process started.
static STDERR_CLOSED: AtomicBool = AtomicBool::new(false);

/// Runs before `main` and before Rust's runtime, which opens `/dev/null` on a closed
/// descriptor 0, 1 or 2: only here can `poolwatch >&-` be told from `poolwatch >/dev/null`.
#[used]
#[unsafe(link_section = ".init_array")]
static SEE_CLOSED_DESCRIPTORS: extern "C" fn() = see_closed_descriptors;

extern "C" fn see_closed_descriptors() {
    for (fd, closed) in [(1, &STDOUT_CLOSED), (2, &STDERR_CLOSED)] {
        // SAFETY: F_GETFD only reads the flags of a descriptor number; an unused number fails
        // with EBADF, and nothing else is touched.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1 {
            closed.store(true, Ordering::Relaxed);
        }
    }
}

fn main() -> std::process::ExitCode {
    poolwatch::note_closed_at_start(
        STDOUT_CLOSED.load(Ordering::Relaxed),
        STDERR_CLOSED.load(Ordering::Relaxed),
    );
    poolwatch::cli_main()
}
