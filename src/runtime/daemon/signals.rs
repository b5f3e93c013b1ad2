//! OS signals, turned into one enum in one place.

use tokio::signal::unix::{signal, Signal as TokioSignal, SignalKind};

/// What a signal asks the daemon to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGHUP: reload the config.
    Reload,
    /// SIGTERM / SIGINT: flush, checkpoint, exit 0.
    Stop,
    /// SIGUSR1: rotate now.
    Rotate,
}

/// The signal streams the daemon listens to.
pub struct Signals {
    hup: TokioSignal,
    term: TokioSignal,
    int: TokioSignal,
    usr1: TokioSignal,
}

impl Signals {
    pub fn install() -> std::io::Result<Signals> {
        crate::sys::sender::watch_hup()?;
        Ok(Signals {
            hup: signal(SignalKind::hangup())?,
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            usr1: signal(SignalKind::user_defined1())?,
        })
    }

    /// The next signal.
    pub async fn recv(&mut self) -> Signal {
        tokio::select! {
            _ = self.hup.recv() => Signal::Reload,
            _ = self.term.recv() => Signal::Stop,
            _ = self.int.recv() => Signal::Stop,
            _ = self.usr1.recv() => Signal::Rotate,
        }
    }
}
