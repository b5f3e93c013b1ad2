//! systemd readiness and watchdog (`Type=notify`). Every call is a no-op
//! without `NOTIFY_SOCKET`, so the daemon runs the same outside systemd.

use std::time::Duration;

use sd_notify::NotifyState;

fn send(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(false, states) {
        tracing::debug!("sd_notify failed: {e}");
    }
}

pub fn ready() {
    send(&[NotifyState::Ready, NotifyState::Status("watching")]);
}

/// RELOADING=1 with MONOTONIC_USEC, as systemd 253+ requires.
pub fn reloading() {
    send(&[
        NotifyState::Reloading,
        NotifyState::monotonic_usec_now().unwrap_or(NotifyState::Status("reloading")),
    ]);
}

pub fn stopping() {
    send(&[NotifyState::Stopping]);
}

pub fn watchdog() {
    send(&[NotifyState::Watchdog]);
}

/// How often to ping the watchdog (half its timeout), when one is set.
/// As libsystemd's `sd_watchdog_enabled`: `WATCHDOG_USEC` enables it, and
/// `WATCHDOG_PID`, when present, must be our pid (the sd-notify crate
/// demands it be present, which systemd does not).
pub fn watchdog_interval() -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC")
        .ok()?
        .parse()
        .ok()
        .filter(|u| *u > 0)?;
    if let Ok(pid) = std::env::var("WATCHDOG_PID") {
        if pid.parse::<u32>().ok() != Some(std::process::id()) {
            return None;
        }
    }
    Some(Duration::from_micros(usec / 2))
}
