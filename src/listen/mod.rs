//! The listening side of the three HTTP services (`kafka-gen ingest`, `kafka-gen serve` and
//! the metrics listener): binding the port, TLS, and the one accept loop that serves them all.
//!
//! - this module: binding a server's listening socket, with the exit-code rule of
//!   [`crate::exit`]: a port another process holds is a failure of the run (exit 1: nothing the
//!   user wrote is wrong, and a restart may succeed), any other refusal (an address not on this
//!   host, a port the user may not bind) is bad input (exit 2). A malformed address never gets
//!   here: the flag's parser rejects it.
//! - `tls`: `[tls]` (certificate, key, optional client CA for mTLS) and the loaded acceptor.
//! - `reload`: reloading the certificate on SIGHUP and when its files change.
//! - `accept`: the accept loop, over plain TCP or TLS, with a header read timeout, the
//!   client's address as `ConnectInfo`, and a bounded graceful drain.

mod accept;
mod reload;
pub mod tls;

pub use accept::{serve, DEFAULT_HEADER_READ_TIMEOUT};
pub use reload::{watch, POLL_INTERVAL};
pub use tls::{Tls, TlsConfig};

use std::io::ErrorKind;
use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::exit::{BadInputExt, RunFailedExt};

/// Loads `[tls]` and keeps it current ([`keep_current`]) until `cancel`; `None` when TLS is
/// off. A file that cannot be read or used is bad input (exit 2), named with what is wrong.
/// Call it inside the runtime, before the listeners start.
pub fn start_tls(config: &TlsConfig, cancel: &CancellationToken) -> anyhow::Result<Option<Tls>> {
    let tls = Tls::load(config).bad_input()?;
    if let Some(tls) = &tls {
        keep_current(tls, cancel);
    }
    Ok(tls)
}

/// Reloads `tls` on SIGHUP and when its files change ([`watch`]) until `cancel`, and says so.
/// Call it inside the runtime.
pub fn keep_current(tls: &Tls, cancel: &CancellationToken) {
    watch(tls.clone(), POLL_INTERVAL, cancel.clone());
    tracing::info!(cert = %tls.cert_path().display(), client_certificates = tls.mutual(),
        "TLS on: the listeners serve HTTPS (reloaded on SIGHUP or when the files change).");
}

/// Binds `addr`, which the user gave with `flag` (e.g. `--listen`).
pub async fn bind(addr: SocketAddr, flag: &str) -> anyhow::Result<TcpListener> {
    match TcpListener::bind(addr).await {
        Ok(listener) => Ok(listener),
        Err(error) if error.kind() == ErrorKind::AddrInUse => Err(anyhow::anyhow!(
            "cannot listen on {addr}: another process holds the port ({error}); stop it, or \
             pick a free address with {flag}"
        ))
        .run_failed(),
        Err(error) => Err(anyhow::anyhow!(
            "cannot listen on {addr} ({error}); give an address of this host and a port this \
             user may bind with {flag}"
        ))
        .bad_input(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::ExitCode;

    #[tokio::test]
    async fn a_port_in_use_is_a_run_failure_and_a_foreign_address_bad_input() {
        let held = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = held.local_addr().unwrap();
        let in_use = bind(addr, "--listen").await.unwrap_err();
        assert_eq!(crate::exit::code_for(&in_use), ExitCode::from(1));
        assert!(format!("{in_use:#}").contains("--listen"), "{in_use:#}");
        // TEST-NET-1 (RFC 5737) is never an address of this host.
        let foreign: SocketAddr = "192.0.2.1:8080".parse().unwrap();
        let not_here = bind(foreign, "--listen").await.unwrap_err();
        assert_eq!(crate::exit::code_for(&not_here), ExitCode::from(2));
    }
}
