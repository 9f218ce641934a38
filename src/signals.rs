//! SIGINT/SIGTERM for every long-running command (a run, `consume`, `ingest`, `serve`,
//! `replay`): the first signal asks for a clean stop, the second exits at once.

use tokio_util::sync::CancellationToken;

/// Cancels `token` on the first SIGINT or SIGTERM; a second one exits at once.
pub async fn stop_on_signals(token: CancellationToken) {
    for round in 0..2 {
        if wait_for_signal().await.is_err() {
            return;
        }
        if round == 0 {
            tracing::info!("Stopping: finishing the current batch and flushing sinks (signal again to quit now).");
            token.cancel();
        } else {
            tracing::warn!("Second signal: exiting without flushing.");
            std::process::exit(130);
        }
    }
}

async fn wait_for_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}
