//! `[tls]`: the certificate, key and optional client CA of this process's listeners, and
//! [`Tls`], the loaded acceptor that new connections take their configuration from.
//!
//! One `[tls]` serves every listener of a process: a process runs one service (`ingest`,
//! `serve`, or a run) and at most the metrics listener beside it, and both answer on the same
//! host name, so one certificate fits both; a second set of flags would only be a second thing
//! to rotate.
//!
//! rustls with the `ring` provider, handed to each configuration rather than installed as the
//! process-wide default (no process-wide state). The configuration in use sits behind a lock
//! that a reload swaps: a connection takes the one current when it arrives, and keeps it.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use anyhow::{anyhow, bail, Context};
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use serde::{Deserialize, Serialize};
use tokio_rustls::TlsAcceptor;

/// TLS for this process's listeners (`[tls]`): the ingest API and its metrics listener, a
/// run's metrics listener, or `kafka-gen serve`. Unset: plain HTTP.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// The server's certificate chain, PEM, its own certificate first (`--tls-cert`,
    /// `KAFKA_GEN_TLS_CERT`). Reloaded on SIGHUP and when the file changes.
    pub cert_path: Option<PathBuf>,
    /// The certificate's private key, PEM: PKCS#8, PKCS#1 or SEC1, not encrypted
    /// (`--tls-key`, `KAFKA_GEN_TLS_KEY`).
    pub key_path: Option<PathBuf>,
    /// CA certificates, PEM, that clients' certificates must chain to. Set, every client must
    /// present a certificate it verifies (mTLS) (`--tls-client-ca`, `KAFKA_GEN_TLS_CLIENT_CA`).
    pub client_ca_path: Option<PathBuf>,
}

impl TlsConfig {
    /// Checks that the certificate and key come together, and a client CA only with them.
    pub fn validate(&self) -> anyhow::Result<()> {
        match (&self.cert_path, &self.key_path) {
            (Some(_), None) => bail!(
                "--tls-cert is set but --tls-key is not; give both (the certificate and its \
                 private key) or neither (KAFKA_GEN_TLS_KEY or [tls] key_path)"
            ),
            (None, Some(_)) => bail!(
                "--tls-key is set but --tls-cert is not; give both (the certificate and its \
                 private key) or neither (KAFKA_GEN_TLS_CERT or [tls] cert_path)"
            ),
            (None, None) if self.client_ca_path.is_some() => bail!(
                "--tls-client-ca is set but --tls-cert and --tls-key are not; client \
                 certificates (mTLS) need the server's own TLS certificate and key"
            ),
            _ => Ok(()),
        }
    }

    /// Whether the listeners serve TLS.
    pub fn is_on(&self) -> bool {
        self.cert_path.is_some()
    }
}

/// The loaded TLS configuration of a process's listeners; clones share it, so a reload
/// reaches every listener.
#[derive(Clone)]
pub struct Tls {
    inner: Arc<Inner>,
}

struct Inner {
    files: Files,
    current: RwLock<Arc<ServerConfig>>,
    /// A hash of the files' bytes (or of the error reading them) last looked at by
    /// [`Tls::reload_if_changed`], so that a bad file is reported once, not every poll.
    seen: Mutex<u64>,
}

/// Where the PEM files are.
#[derive(Debug, Clone)]
struct Files {
    cert: PathBuf,
    key: PathBuf,
    client_ca: Option<PathBuf>,
}

/// The files' contents, read together.
struct Pem {
    cert: Vec<u8>,
    key: Vec<u8>,
    client_ca: Option<Vec<u8>>,
}

impl Tls {
    /// Reads and checks the files of `config`; `None` when TLS is off. Every error names the
    /// file and what is wrong with it.
    pub fn load(config: &TlsConfig) -> anyhow::Result<Option<Self>> {
        config.validate()?;
        let (Some(cert), Some(key)) = (&config.cert_path, &config.key_path) else {
            return Ok(None);
        };
        let files = Files {
            cert: cert.clone(),
            key: key.clone(),
            client_ca: config.client_ca_path.clone(),
        };
        let pem = files.read()?;
        let server = files.build(&pem)?;
        let seen = fingerprint(&Ok(&pem));
        Ok(Some(Self {
            inner: Arc::new(Inner {
                files,
                current: RwLock::new(Arc::new(server)),
                seen: Mutex::new(seen),
            }),
        }))
    }

    /// Reads the files again and, if they make a valid configuration, serves new connections
    /// with it; otherwise keeps the one in use and says why.
    pub fn reload(&self) -> anyhow::Result<()> {
        let pem = self.inner.files.read();
        *lock(&self.inner.seen) = fingerprint(&pem.as_ref());
        self.install(&pem?)
    }

    /// [`Tls::reload`] when the files' bytes differ from the last look; `None` when they do
    /// not (nor does the error reading them).
    pub fn reload_if_changed(&self) -> Option<anyhow::Result<()>> {
        let pem = self.inner.files.read();
        let now = fingerprint(&pem.as_ref());
        {
            let mut seen = lock(&self.inner.seen);
            if *seen == now {
                return None;
            }
            *seen = now;
        }
        Some(pem.and_then(|pem| self.install(&pem)))
    }

    fn install(&self, pem: &Pem) -> anyhow::Result<()> {
        let server = self.inner.files.build(pem)?;
        *self
            .inner
            .current
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(server);
        Ok(())
    }

    /// The acceptor for a connection arriving now.
    pub fn acceptor(&self) -> TlsAcceptor {
        let current = self
            .inner
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        TlsAcceptor::from(Arc::clone(&current))
    }

    /// The certificate file, for log lines.
    pub fn cert_path(&self) -> &Path {
        &self.inner.files.cert
    }

    /// Whether clients must present a certificate (mTLS).
    pub fn mutual(&self) -> bool {
        self.inner.files.client_ca.is_some()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A hash of what reading the files gave, to notice a change without keeping a copy of the
/// key. Not cryptographic: a collision would only delay a reload to the next SIGHUP.
fn fingerprint(read: &Result<&Pem, &anyhow::Error>) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    match read {
        Ok(pem) => (&pem.cert, &pem.key, &pem.client_ca).hash(&mut h),
        Err(e) => format!("{e:#}").hash(&mut h),
    }
    h.finish()
}

/// Reads one file, naming it and its flag when it cannot be read.
fn read(path: &Path, what: &str, flag: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        anyhow!(
            "cannot read the TLS {what} file {} ({e}); give a readable PEM file with {flag}",
            path.display()
        )
    })
}

/// Every certificate in a PEM file: at least one, else an error naming the file.
fn certificates(
    bytes: &[u8],
    path: &Path,
    what: &str,
    flag: &str,
) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_slice_iter(bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            anyhow!(
                "the TLS {what} file {} is not valid PEM ({e}); give PEM certificates with {flag}",
                path.display()
            )
        })?;
    if certs.is_empty() {
        bail!(
            "the TLS {what} file {} holds no certificate (no -----BEGIN CERTIFICATE----- \
             block); give PEM certificates with {flag}",
            path.display()
        );
    }
    Ok(certs)
}

impl Files {
    fn read(&self) -> anyhow::Result<Pem> {
        Ok(Pem {
            cert: read(&self.cert, "certificate", "--tls-cert")?,
            key: read(&self.key, "key", "--tls-key")?,
            client_ca: (self.client_ca.as_deref())
                .map(|p| read(p, "client CA", "--tls-client-ca"))
                .transpose()?,
        })
    }

    /// The server configuration the files make.
    fn build(&self, pem: &Pem) -> anyhow::Result<ServerConfig> {
        let provider = provider();
        let certs = certificates(&pem.cert, &self.cert, "certificate", "--tls-cert")?;
        let key = PrivateKeyDer::from_pem_slice(&pem.key).map_err(|e| {
            let key = self.key.display();
            match e {
                pem::Error::NoItemsFound => anyhow!(
                    "the TLS key file {key} holds no private key (no -----BEGIN PRIVATE KEY-----, \
                     RSA PRIVATE KEY or EC PRIVATE KEY block; an encrypted key must be \
                     decrypted first, e.g. `openssl pkey -in KEY -out PLAIN`); give it with \
                     --tls-key"
                ),
                e => {
                    anyhow!("the TLS key file {key} is not valid PEM ({e}); give it with --tls-key")
                }
            }
        })?;
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .context("the ring provider offers no TLS version")?;
        let builder = match (&self.client_ca, &pem.client_ca) {
            (Some(path), Some(bytes)) => {
                let flag = "--tls-client-ca";
                let mut roots = RootCertStore::empty();
                for cert in certificates(bytes, path, "client CA", flag)? {
                    roots.add(cert).map_err(|e| {
                        anyhow!(
                            "the TLS client CA file {} holds a certificate that is not a valid \
                             CA certificate ({e}); give the CA that signs the clients' \
                             certificates with {flag}",
                            path.display()
                        )
                    })?;
                }
                let verifier = WebPkiClientVerifier::builder_with_provider(roots.into(), provider)
                    .build()
                    .map_err(|e| {
                        anyhow!("the TLS client CA file {} is unusable: {e}", path.display())
                    })?;
                builder.with_client_cert_verifier(verifier)
            }
            _ => builder.with_no_client_auth(),
        };
        let mut config = builder.with_single_cert(certs, key).map_err(|e| {
            anyhow!(
                "cannot serve the TLS certificate in {} with the key in {} ({e}); give the \
                 certificate and the private key it was issued for (--tls-cert, --tls-key)",
                self.cert.display(),
                self.key.display()
            )
        })?;
        // The listeners speak HTTP/1.1 only.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }
}

/// rustls's `ring` provider, handed to each configuration. rustls 0.23.48 deprecates it for
/// lacking post-quantum key exchange, which only its aws-lc-rs provider has; that one needs
/// cmake and a C build this project keeps out (see Cargo.toml). TLS 1.3 with X25519 stays.
#[allow(deprecated)]
pub(crate) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

#[cfg(test)]
#[path = "tls_tests.rs"]
mod tests;
