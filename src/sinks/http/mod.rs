//! The HTTP sink: POSTs events as JSON to an ingest endpoint, one per request or batched.
//!
//! - `config`: `[http]` options.
//! - `fields`: `[http] fields`, the top-level fields a posted event keeps.
//! - `request`: the encoded request-batch and its delivery with retries.
//!
//! `send` cuts the batch into requests of `batch_size` events, takes a concurrency permit for
//! each (waiting when all are taken: that is the backpressure that slows the generator) and
//! hands the request to its own task, which retries connection errors, timeouts, 408, 429
//! (honouring `Retry-After`) and 5xx with exponential backoff and jitter, bounded by
//! `max_attempts` and `max_elapsed_secs`. Other 4xx are permanent. Whatever is not delivered
//! ends in the shared dead-letter file and is counted failed; nothing is dropped silently.

pub mod config;
pub mod fields;
mod request;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use async_trait::async_trait;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use config::{BodyFormat, HttpSinkConfig};
use request::{Chunk, Shared};

use super::dead_letter::DeadLetter;
use super::{Sink, SinkCounts, SinkError};
use crate::event::{Batch, Record};

/// After a flush times out and cancels the requests, how long their tasks get to dead-letter.
const CANCEL_WAIT: Duration = Duration::from_secs(5);

/// The sink.
pub struct HttpSink {
    shared: Arc<Shared>,
    permits: Arc<Semaphore>,
    tasks: TaskTracker,
    cancel: CancellationToken,
    accepted: Vec<u64>,
}

impl HttpSink {
    /// Builds the client. Nothing is sent until the first batch: an endpoint that is down at
    /// start-up is retried like one that goes down later.
    pub fn open(
        config: &HttpSinkConfig,
        dead_letter: Arc<DeadLetter>,
        types: usize,
    ) -> anyhow::Result<Self> {
        config.validate()?;
        let endpoint = config.endpoint.as_deref().unwrap_or_default();
        let url = reqwest::Url::parse(endpoint)
            .with_context(|| format!("http endpoint {endpoint:?} is not a URL"))?;
        let client = reqwest::Client::builder()
            .timeout(config.timeout())
            .connect_timeout(config.timeout())
            .pool_max_idle_per_host(config.concurrency as usize)
            .tcp_nodelay(true)
            .user_agent(concat!("kafka-gen/", env!("CARGO_PKG_VERSION")));
        let client = with_tls(client, config)?
            .build()
            .context("cannot build the HTTP client")?;
        tracing::info!(endpoint = %url, batch_size = config.batch_size, concurrency = config.concurrency,
            authorization = config.authorization.is_some(), "HTTP sink ready.");
        let shared = Shared::new(client, url, config.clone(), types, dead_letter);
        Ok(Self {
            shared: Arc::new(shared),
            permits: Arc::new(Semaphore::new(config.concurrency as usize)),
            tasks: TaskTracker::new(),
            cancel: CancellationToken::new(),
            accepted: vec![0; types],
        })
    }

    /// Starts delivering one request-batch once a permit is free.
    async fn dispatch(&mut self, chunk: Chunk) -> Result<(), SinkError> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| SinkError::Fatal("the http sink was shut down".into()))?;
        for (t, _, _) in &chunk.events {
            if let Some(a) = self.accepted.get_mut(*t) {
                *a += 1;
            }
        }
        let shared = self.shared.clone();
        let cancel = self.cancel.clone();
        self.tasks.spawn(async move {
            shared.deliver(chunk, &cancel).await;
            drop(permit);
        });
        Ok(())
    }

    fn totals(&self) -> (u64, u64, u64) {
        let c = self.counts();
        (c.delivered_total(), c.failed_total(), c.retried_total())
    }
}

/// `builder` trusting `[http] ca_path` and presenting `client_cert_path` (mTLS); an error names
/// the file and what is wrong with it.
fn with_tls(
    mut builder: reqwest::ClientBuilder,
    config: &HttpSinkConfig,
) -> anyhow::Result<reqwest::ClientBuilder> {
    let read = |path: &std::path::Path, field: &str| {
        std::fs::read(path).map_err(|e| {
            anyhow::anyhow!(
                "cannot read http.{field} {} ({e}); give a readable PEM file (config file [http])",
                path.display()
            )
        })
    };
    if let Some(path) = &config.ca_path {
        let bad = |why: String| {
            anyhow::anyhow!(
                "http.ca_path {} {why}; give the CA certificates to trust in PEM (config file \
                 [http])",
                path.display()
            )
        };
        let certs = reqwest::Certificate::from_pem_bundle(&read(path, "ca_path")?)
            .map_err(|e| bad(format!("is not valid PEM ({:#})", anyhow::Error::new(e))))?;
        if certs.is_empty() {
            return Err(bad(
                "holds no certificate (no -----BEGIN CERTIFICATE----- block)".into(),
            ));
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    if let (Some(cert), Some(key)) = (&config.client_cert_path, &config.client_key_path) {
        let identity = reqwest::Identity::from_pkcs8_pem(
            &read(cert, "client_cert_path")?,
            &read(key, "client_key_path")?,
        )
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot use the client certificate {} with the key {} ({:#}); give PEM files, \
                 the key in PKCS#8 (-----BEGIN PRIVATE KEY-----; convert one with `openssl \
                 pkcs8 -topk8 -nocrypt`) (config file [http])",
                cert.display(),
                key.display(),
                anyhow::Error::new(e)
            )
        })?;
        builder = builder.identity(identity);
    }
    Ok(builder)
}

#[async_trait]
impl Sink for HttpSink {
    fn name(&self) -> &'static str {
        "http"
    }

    async fn send(&mut self, batch: &Batch) -> Result<(), SinkError> {
        let size = self.shared.config.batch_size.max(1) as usize;
        let format = self.shared.config.format;
        let shared = Arc::clone(&self.shared);
        let fields = shared.config.fields.as_deref();
        let mut start = 0;
        while start < batch.len() {
            let end = (start + size).min(batch.len());
            let records: Vec<Record<'_>> = (start..end).filter_map(|i| batch.get(i)).collect();
            let chunk = match fields {
                None => Chunk::encode(&records, format),
                Some(fields) => {
                    let kept: Vec<Vec<u8>> = records
                        .iter()
                        .map(|r| fields::keep(r.payload, fields))
                        .collect();
                    let records: Vec<Record<'_>> = (records.iter().zip(&kept))
                        .map(|(r, payload)| Record { payload, ..*r })
                        .collect();
                    Chunk::encode(&records, format)
                }
            };
            start = end;
            if chunk.is_empty() {
                continue;
            }
            self.dispatch(chunk).await?;
        }
        Ok(())
    }

    async fn flush(&mut self, timeout: Duration) -> Result<(), SinkError> {
        let started = Instant::now();
        self.tasks.close();
        let timed_out = tokio::time::timeout(timeout, self.tasks.wait())
            .await
            .is_err();
        if timed_out {
            // Requests still retrying are abandoned; their tasks dead-letter the events.
            self.cancel.cancel();
            if tokio::time::timeout(CANCEL_WAIT, self.tasks.wait())
                .await
                .is_err()
            {
                tracing::error!("HTTP request tasks did not stop after cancellation.");
            }
        }
        self.tasks.reopen();
        let dead_letter = &self.shared.dead_letter;
        dead_letter.flush();
        let (delivered, failed, retried) = self.totals();
        let in_flight = self.counts().in_flight_total();
        tracing::info!(sink = "http", endpoint = %self.shared.endpoint, delivered, failed, retried, in_flight,
            elapsed_secs = format_args!("{:.1}", started.elapsed().as_secs_f64()), "HTTP sink flushed.");
        if timed_out {
            tracing::error!(
                timeout_secs = timeout.as_secs_f64(),
                "HTTP flush timed out; unfinished requests were dead-lettered."
            );
        }
        if failed > 0 {
            tracing::error!(failed, dead_lettered = dead_letter.written(), not_written = dead_letter.lost(),
                path = %dead_letter.path().display(), "Some events could not be posted; they are in the dead-letter file.");
        }
        Ok(())
    }

    fn counts(&self) -> SinkCounts {
        let s = &self.shared;
        let mut counts = SinkCounts::new(self.accepted.len());
        for (i, accepted) in self.accepted.iter().enumerate() {
            let delivered = s.delivered[i].load(Ordering::Relaxed);
            let failed = s.failed[i].load(Ordering::Relaxed);
            counts.delivered[i] = delivered;
            counts.failed[i] = failed;
            counts.retried[i] = s.retried[i].load(Ordering::Relaxed);
            counts.in_flight[i] = accepted.saturating_sub(delivered + failed);
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each way `[http]`'s TLS files can be wrong is refused at open, naming the file.
    #[test]
    fn bad_tls_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = (rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap())
            .self_signed(&key)
            .unwrap();
        std::fs::write(path("ca.crt"), cert.pem()).unwrap();
        std::fs::write(path("client.key"), key.serialize_pem()).unwrap();
        std::fs::write(path("empty.crt"), "").unwrap();
        std::fs::write(path("bad.crt"), "-----BEGIN CERTIFICATE-----\n@@@\n").unwrap();
        let config = |ca: &str, identity: Option<(&str, &str)>| HttpSinkConfig {
            endpoint: Some("https://localhost:1/events".into()),
            ca_path: Some(path(ca)),
            client_cert_path: identity.map(|(c, _)| path(c)),
            client_key_path: identity.map(|(_, k)| path(k)),
            ..HttpSinkConfig::default()
        };
        let error = |c: HttpSinkConfig| match with_tls(reqwest::Client::builder(), &c) {
            Ok(_) => panic!("accepted {c:?}"),
            Err(e) => format!("{e:#}"),
        };
        let e = error(config("missing.crt", None));
        assert!(
            e.contains("cannot read http.ca_path") && e.contains("missing.crt"),
            "{e}"
        );
        let e = error(config("empty.crt", None));
        assert!(e.contains("empty.crt holds no certificate"), "{e}");
        let e = error(config("bad.crt", None));
        assert!(e.contains("bad.crt is not valid PEM"), "{e}");
        let e = error(config("ca.crt", Some(("ca.crt", "ca.crt"))));
        assert!(e.contains("cannot use the client certificate"), "{e}");
        let build = |c: HttpSinkConfig| with_tls(reqwest::Client::builder(), &c).map(|b| b.build());
        build(config("ca.crt", None)).unwrap().unwrap();
        build(config("ca.crt", Some(("ca.crt", "client.key"))))
            .unwrap()
            .unwrap();
        // A certificate without its key, or a key alone, is refused when the section is read.
        let mut c = config("ca.crt", None);
        c.client_cert_path = Some(path("ca.crt"));
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("http.client_key_path is not"), "{e}");
    }
}
