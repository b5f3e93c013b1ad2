//! Named crash points for the crash-torture tests. Built with the
//! `failpoints` feature (the test command enables it), `FAILPOINTS` in the
//! environment arms them, e.g. `FAILPOINTS=compress.renamed=2*off->return`:
//! the third time compression gets there, the process SIGKILLs itself —
//! exactly as `kill -9` would stop it, with no destructor, flush or unwind.
//! Without the feature every point compiles to nothing.
//!
//! The points sit between the steps whose order the recovery code relies on
//! (see ARCHITECTURE.md, "Crash safety"), so the tests can stop the daemon
//! at each of them rather than hope a random kill lands there.

/// Whether the point `name` is armed to fire now.
#[inline]
pub fn hit(name: &str) -> bool {
    #[cfg(feature = "failpoints")]
    {
        (|| -> bool {
            fail::fail_point!(name, |_| true);
            false
        })()
    }
    #[cfg(not(feature = "failpoints"))]
    {
        let _ = name;
        false
    }
}

/// Die here, as by `kill -9`, if the point `name` is armed.
#[inline]
pub fn point(name: &str) {
    if hit(name) {
        die();
    }
}

/// SIGKILL this process.
pub fn die() -> ! {
    let _ = rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::KILL);
    std::process::abort()
}

/// Read `FAILPOINTS` (the feature's setup); keep the guard for the
/// process's life.
#[cfg(feature = "failpoints")]
pub fn setup() -> fail::FailScenario<'static> {
    fail::FailScenario::setup()
}
