//! Reloading the TLS certificate without a restart: on SIGHUP, and when its files change.
//!
//! Change is noticed by reading the files every [`POLL_INTERVAL`] and comparing a hash of
//! their bytes, not by file-system events (`notify`): a renewal that swaps a symlink
//! (Kubernetes secrets, certbot's `live/` links) or renames a file over the old one changes
//! no watched inode, and an mtime can stay the same across a copy that keeps it (`cp -p`);
//! the bytes always differ. Three small files read every few seconds cost nothing, and no
//! dependency is added. A file caught half-written fails to load, is reported once, and the
//! next poll after its writer finishes loads it.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use super::Tls;

/// How often the certificate's files are looked at.
pub const POLL_INTERVAL: Duration = Duration::from_secs(5);

/// Reloads `tls` on SIGHUP and when its files change (looked at every `poll`), until
/// `cancel`. New connections get the new certificate; a bad new file keeps the old one in use
/// and is logged as an error. SIGHUP is taken from here on (its default is to end the
/// process), so this is called before the listeners announce themselves.
pub fn watch(tls: Tls, poll: Duration, cancel: CancellationToken) -> JoinHandle<()> {
    let mut hangup = Hangup::new();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(Instant::now() + poll, poll);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            let (outcome, why) = tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tick.tick() => match tls.reload_if_changed() {
                    None => continue,
                    Some(outcome) => (outcome, "its files changed"),
                },
                () = hangup.recv() => (tls.reload(), "SIGHUP"),
            };
            let cert = tls.cert_path().display();
            match outcome {
                Ok(()) => tracing::info!(%cert, trigger = why,
                    "TLS certificate reloaded; new connections use it."),
                Err(error) => tracing::error!(%cert, trigger = why, error = %format!("{error:#}"),
                    "Cannot reload the TLS certificate; keeping the one in use."),
            }
        }
    })
}

/// SIGHUP, where there is one.
struct Hangup {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Hangup {
    fn new() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let signal = signal(SignalKind::hangup())
                .map_err(|error| {
                    tracing::warn!(%error, "Cannot watch for SIGHUP; the TLS certificate is \
                        still reloaded when its files change.");
                })
                .ok();
            Self { signal }
        }
        #[cfg(not(unix))]
        Self {}
    }

    /// The next SIGHUP; never, without one.
    async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some(signal) = &mut self.signal {
            if signal.recv().await.is_some() {
                return;
            }
        }
        std::future::pending::<()>().await;
    }
}
