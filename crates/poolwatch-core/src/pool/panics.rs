//! The process's one panic hook: silent on pool workers, the application's handler (or the hook before it) elsewhere.

use super::worker::THREAD_PREFIX;
use std::panic::PanicHookInfo;
use std::sync::Once;
use std::sync::OnceLock;

/// A panic hook, as `std::panic::take_hook` returns it.
pub type Hook = Box<dyn Fn(&PanicHookInfo<'_>) + Send + Sync + 'static>;

/// What a panic outside the pool's workers does; it is given the hook that was installed
/// before poolwatch's (the default one prints the panic) to call when it wants that.
pub type OtherThreads = Box<dyn Fn(&PanicHookInfo<'_>, &Hook) + Send + Sync + 'static>;

/// The application's handler for panics outside the workers, if it set one.
static OTHER_THREADS: OnceLock<OtherThreads> = OnceLock::new();

/// True on a pool worker thread (named with [`THREAD_PREFIX`]).
fn on_worker_thread() -> bool {
    std::thread::current()
        .name()
        .is_some_and(|name| name.starts_with(THREAD_PREFIX))
}

/// Installs (once) the hook: panics on worker threads are caught and logged as task errors,
/// so the hook stays silent for them (printing would corrupt a dashboard); any other panic
/// goes to the application's handler if set, else to the previous hook.
pub(crate) fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if on_worker_thread() {
                return;
            }
            if let Some(handler) = OTHER_THREADS.get() {
                handler(info, &previous);
                return;
            }
            previous(info);
        }));
    });
}

/// Sets what panics outside the workers do (the first call wins) and installs the hook.
pub fn handle_other_threads(handler: OtherThreads) {
    // A second handler is ignored: the process has one terminal to restore.
    let _first_wins = OTHER_THREADS.set(handler);
    install();
}
