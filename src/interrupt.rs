//! The signals that end the console: SIGTERM, SIGHUP and SIGINT. Caught, so that the terminal is
//! restored before referee exits (their default action would leave it raw and on the alternate
//! screen). Writes in flight when one comes need nothing here: each intent is journaled before it
//! is sent, and the next start reconciles whatever has no outcome with the server.

/// A signal that ended the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interrupt {
    pub name: &'static str,
    number: u8,
}

#[cfg(unix)]
const SIGHUP: Interrupt = Interrupt {
    name: "SIGHUP",
    number: 1,
};
const SIGINT: Interrupt = Interrupt {
    name: "SIGINT",
    number: 2,
};
#[cfg(unix)]
const SIGTERM: Interrupt = Interrupt {
    name: "SIGTERM",
    number: 15,
};

impl Interrupt {
    /// The status a shell reports for a process this signal ended: 128 + its number.
    pub fn exit_status(self) -> u8 {
        128 + self.number
    }
}

/// The three signals, caught from `listen` on.
#[cfg(unix)]
pub struct Interrupts {
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Interrupts {
    /// Starts catching them (in a tokio runtime); call it before the terminal goes raw, so that no
    /// signal finds the terminal raw and referee deaf.
    pub fn listen() -> std::io::Result<Interrupts> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Interrupts {
            term: signal(SignalKind::terminate())?,
            hup: signal(SignalKind::hangup())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    /// The next one to arrive.
    pub async fn next(&mut self) -> Interrupt {
        tokio::select! {
            Some(()) = self.term.recv() => SIGTERM,
            Some(()) = self.hup.recv() => SIGHUP,
            Some(()) = self.int.recv() => SIGINT,
            else => std::future::pending().await,
        }
    }
}

/// Elsewhere only Ctrl-c (as SIGINT).
#[cfg(not(unix))]
pub struct Interrupts;

#[cfg(not(unix))]
impl Interrupts {
    pub fn listen() -> std::io::Result<Interrupts> {
        Ok(Interrupts)
    }

    pub async fn next(&mut self) -> Interrupt {
        match tokio::signal::ctrl_c().await {
            Ok(()) => SIGINT,
            Err(_) => std::future::pending().await,
        }
    }
}
