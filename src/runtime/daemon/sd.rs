//! systemd readiness and watchdog (`Type=notify`). Every call is a no-op
//! without `NOTIFY_SOCKET`, so the daemon runs the same outside systemd.
//! Notifications are sent without blocking: a listener that stopped reading
//! (its queue full) costs a dropped notification, never a frozen daemon.

use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;

use sd_notify::NotifyState;

fn send(states: &[NotifyState<'_>]) {
    if let Err(e) = try_send(states) {
        tracing::debug!("sd_notify failed: {e}");
    }
}

fn try_send(states: &[NotifyState<'_>]) -> std::io::Result<()> {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return Ok(());
    };
    let msg: Vec<String> = states.iter().map(|s| s.to_string()).collect();
    let msg = msg.join("\n");
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str());
    let addr = match bytes.strip_prefix(b"@") {
        Some(name) => {
            use std::os::linux::net::SocketAddrExt;
            SocketAddr::from_abstract_name(name)?
        }
        None => SocketAddr::from_pathname(&path)?,
    };
    let sock = UnixDatagram::unbound()?;
    sock.set_nonblocking(true)?;
    sock.send_to_addr(msg.as_bytes(), &addr)?;
    Ok(())
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
