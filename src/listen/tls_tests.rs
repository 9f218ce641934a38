//! `Tls` against a real rustls client over an in-memory pipe: which certificate a new
//! connection is served, reloads (explicit, on changed files, on SIGHUP), a bad new file
//! keeping the old certificate, mTLS, and errors that name the file.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio_util::sync::CancellationToken;

use super::*;
use crate::listen::{serve, watch, POLL_INTERVAL};

/// A test CA, whose certificates name `localhost`.
struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A certificate and its key, in PEM.
struct Leaf {
    cert: String,
    key: String,
}

impl Ca {
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        (params.distinguished_name).push(rcgen::DnType::CommonName, name);
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        Self { issuer }
    }

    fn leaf(&self, common_name: &str) -> Leaf {
        let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        (params.distinguished_name).push(rcgen::DnType::CommonName, common_name);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Leaf {
            cert: cert.pem(),
            key: key.serialize_pem(),
        }
    }

    fn roots(&self) -> rustls::RootCertStore {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.issuer.der().clone()).unwrap();
        roots
    }
}

/// The files of `[tls]` in a temporary directory.
struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path(name), text).unwrap();
    }

    fn serve(&self, leaf: &Leaf) {
        self.write("server.crt", &leaf.cert);
        self.write("server.key", &leaf.key);
    }

    fn config(&self, client_ca: bool) -> TlsConfig {
        TlsConfig {
            cert_path: Some(self.path("server.crt")),
            key_path: Some(self.path("server.key")),
            client_ca_path: client_ca.then(|| self.path("client-ca.crt")),
        }
    }
}

/// A client trusting `ca`, presenting `identity` when given.
fn client(ca: &Ca, identity: Option<&Leaf>) -> rustls::ClientConfig {
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(ca.roots());
    match identity {
        None => builder.with_no_client_auth(),
        Some(leaf) => {
            let chain = vec![CertificateDer::from_pem_slice(leaf.cert.as_bytes()).unwrap()];
            let key = PrivateKeyDer::from_pem_slice(leaf.key.as_bytes()).unwrap();
            builder.with_client_auth_cert(chain, key).unwrap()
        }
    }
}

/// One handshake over an in-memory pipe: the certificate the client was served, or the
/// error of whichever side failed.
async fn handshake(tls: &Tls, client: rustls::ClientConfig) -> Result<Vec<u8>, String> {
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let acceptor = tls.acceptor();
    let server = tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        let mut stream = acceptor.accept(server_io).await?;
        // TLS 1.3 refuses a client certificate after the client's side is done: write, so
        // that the refusal (or success) reaches the client before it reads.
        stream.write_all(b"ok").await?;
        stream.flush().await
    });
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
    let name = ServerName::try_from("localhost").unwrap();
    let outcome = async {
        use tokio::io::AsyncReadExt;
        let mut stream = connector.connect(name, client_io).await?;
        let mut ok = [0u8; 2];
        stream.read_exact(&mut ok).await?;
        let served = stream.get_ref().1.peer_certificates().unwrap()[0].to_vec();
        Ok::<_, std::io::Error>(served)
    }
    .await;
    let served = server.await.unwrap();
    match (outcome, served) {
        (Ok(cert), Ok(())) => Ok(cert),
        (Err(e), _) => Err(format!("client: {e}")),
        (_, Err(e)) => Err(format!("server: {e}")),
    }
}

fn der(pem: &str) -> Vec<u8> {
    CertificateDer::from_pem_slice(pem.as_bytes())
        .unwrap()
        .to_vec()
}

#[tokio::test]
async fn a_reload_serves_the_new_certificate_to_new_connections() {
    let ca = Ca::new("test CA");
    let (first, second) = (ca.leaf("first"), ca.leaf("second"));
    let files = Files::new();
    files.serve(&first);
    let tls = Tls::load(&files.config(false)).unwrap().unwrap();
    assert!(!tls.mutual());
    assert_eq!(
        handshake(&tls, client(&ca, None)).await,
        Ok(der(&first.cert))
    );
    assert!(tls.reload_if_changed().is_none(), "nothing changed yet");
    files.serve(&second);
    tls.reload_if_changed().unwrap().unwrap();
    assert_eq!(
        handshake(&tls, client(&ca, None)).await,
        Ok(der(&second.cert))
    );
    assert!(
        tls.reload_if_changed().is_none(),
        "the change is taken once"
    );
    // A client that does not trust the CA is refused.
    let stranger = Ca::new("another CA");
    let refused = handshake(&tls, client(&stranger, None)).await.unwrap_err();
    assert!(refused.contains("UnknownIssuer"), "{refused}");
}

#[tokio::test]
async fn a_bad_new_file_keeps_the_certificate_in_use() {
    let ca = Ca::new("test CA");
    let (first, second) = (ca.leaf("first"), ca.leaf("second"));
    let files = Files::new();
    files.serve(&first);
    let tls = Tls::load(&files.config(false)).unwrap().unwrap();
    // Half a renewal: the new certificate beside the old key.
    files.write("server.crt", &second.cert);
    let e = format!("{:#}", tls.reload_if_changed().unwrap().unwrap_err());
    assert!(e.contains("server.crt") && e.contains("server.key"), "{e}");
    assert_eq!(
        handshake(&tls, client(&ca, None)).await,
        Ok(der(&first.cert))
    );
    assert!(
        tls.reload_if_changed().is_none(),
        "a bad file is reported once"
    );
    // SIGHUP's explicit reload tries again, and fails the same way.
    assert!(tls.reload().is_err());
    files.write("server.key", &second.key);
    tls.reload_if_changed().unwrap().unwrap();
    assert_eq!(
        handshake(&tls, client(&ca, None)).await,
        Ok(der(&second.cert))
    );
}

#[tokio::test]
async fn with_a_client_ca_only_clients_with_its_certificates_are_served() {
    let server_ca = Ca::new("server CA");
    let client_ca = Ca::new("client CA");
    let files = Files::new();
    files.serve(&server_ca.leaf("server"));
    files.write("client-ca.crt", &client_ca.issuer.pem());
    let tls = Tls::load(&files.config(true)).unwrap().unwrap();
    assert!(tls.mutual());
    let anonymous = handshake(&tls, client(&server_ca, None)).await;
    assert!(
        anonymous.is_err(),
        "a client without a certificate was served"
    );
    let signed = client_ca.leaf("a client");
    assert!(handshake(&tls, client(&server_ca, Some(&signed)))
        .await
        .is_ok());
    let forged = Ca::new("someone else").leaf("a client");
    let e = handshake(&tls, client(&server_ca, Some(&forged))).await;
    assert!(
        e.is_err(),
        "a client certificate from another CA was accepted"
    );
}

/// Each way a file can be wrong, named with the file.
#[test]
fn bad_files_are_named_with_what_is_wrong() {
    let ca = Ca::new("test CA");
    let leaf = ca.leaf("server");
    let files = Files::new();
    let error = |config: &TlsConfig| match Tls::load(config) {
        Ok(_) => panic!("loaded"),
        Err(e) => format!("{e:#}"),
    };
    let config = files.config(false);
    let e = error(&config);
    assert!(e.contains("cannot read the TLS certificate file") && e.contains("server.crt"));
    files.write("server.crt", "not a certificate\n");
    files.write("server.key", &leaf.key);
    let e = error(&config);
    assert!(e.contains("server.crt holds no certificate"), "{e}");
    files.write("server.crt", "-----BEGIN CERTIFICATE-----\n@@@\n");
    let e = error(&config);
    assert!(e.contains("server.crt is not valid PEM"), "{e}");
    files.write("server.crt", &leaf.cert);
    files.write("server.key", &leaf.cert);
    let e = error(&config);
    assert!(e.contains("server.key holds no private key"), "{e}");
    files.write("server.key", &ca.leaf("other").key);
    let e = error(&config);
    assert!(e.contains("cannot serve the TLS certificate in"), "{e}");
    files.write("server.key", &leaf.key);
    assert!(Tls::load(&config).unwrap().is_some());
    let mutual = files.config(true);
    let e = error(&mutual);
    assert!(
        e.contains("client CA file") && e.contains("client-ca.crt"),
        "{e}"
    );
    files.write("client-ca.crt", "");
    let e = error(&mutual);
    assert!(e.contains("client-ca.crt holds no certificate"), "{e}");
    assert!(Tls::load(&TlsConfig::default()).unwrap().is_none());
}

/// The poll notices changed files on tokio's clock.
#[tokio::test(start_paused = true)]
async fn the_watcher_reloads_when_the_files_change() {
    let ca = Ca::new("test CA");
    let (first, second) = (ca.leaf("first"), ca.leaf("second"));
    let files = Files::new();
    files.serve(&first);
    let tls = Tls::load(&files.config(false)).unwrap().unwrap();
    let cancel = CancellationToken::new();
    let watcher = watch(tls.clone(), POLL_INTERVAL, cancel.clone());
    files.serve(&second);
    tokio::time::sleep(POLL_INTERVAL / 2).await;
    assert_eq!(
        handshake(&tls, client(&ca, None)).await,
        Ok(der(&first.cert))
    );
    tokio::time::sleep(POLL_INTERVAL).await;
    assert_eq!(
        handshake(&tls, client(&ca, None)).await,
        Ok(der(&second.cert))
    );
    cancel.cancel();
    watcher.await.unwrap();
}

/// SIGHUP reloads at once, with no poll due for an hour. (Real time: the signal arrives
/// through the OS; the wait is bounded.)
#[cfg(unix)]
#[tokio::test]
async fn sighup_reloads_the_certificate() {
    let ca = Ca::new("test CA");
    let (first, second) = (ca.leaf("first"), ca.leaf("second"));
    let files = Files::new();
    files.serve(&first);
    let tls = Tls::load(&files.config(false)).unwrap().unwrap();
    let cancel = CancellationToken::new();
    let watcher = watch(tls.clone(), Duration::from_secs(3600), cancel.clone());
    files.serve(&second);
    // SAFETY: raising a signal this process handles (`watch` registered it above).
    assert_eq!(unsafe { libc::raise(libc::SIGHUP) }, 0);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while handshake(&tls, client(&ca, None)).await != Ok(der(&second.cert)) {
        assert!(
            std::time::Instant::now() < deadline,
            "SIGHUP did not reload"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    cancel.cancel();
    watcher.await.unwrap();
}

/// A client that connects and never starts its handshake is let go after the header read
/// timeout, on tokio's clock.
#[tokio::test(start_paused = true)]
async fn a_silent_client_is_disconnected_after_the_timeout() {
    let files = Files::new();
    files.serve(&Ca::new("test CA").leaf("server"));
    let tls = Tls::load(&files.config(false)).unwrap().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let cancel = CancellationToken::new();
    let timeout = Duration::from_secs(7);
    let router = axum::Router::new();
    let server = tokio::spawn(serve(listener, router, Some(tls), timeout, cancel.clone()));
    let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();
    let started = tokio::time::Instant::now();
    let mut buf = [0u8; 1];
    use tokio::io::AsyncReadExt;
    let read = silent.read(&mut buf).await;
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    assert!(started.elapsed() >= timeout, "{:?}", started.elapsed());
    cancel.cancel();
    server.await.unwrap();
}
