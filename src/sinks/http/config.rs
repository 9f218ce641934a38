//! `[http]` in the config file: where the `http` sink posts, how it batches, how hard it tries.
//! The `Authorization` value is a [`Secret`]: it prints as `***redacted***` and is never logged.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use serde::{Deserialize, Serialize};

use crate::sinks::kafka::Secret;

/// How a request carrying several events is encoded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum BodyFormat {
    /// `[{...},{...}]`, `Content-Type: application/json`.
    #[default]
    Array,
    /// One event per line, `Content-Type: application/x-ndjson`.
    Ndjson,
}

/// The `http` sink (`[http]` in the config file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpSinkConfig {
    /// URL events are POSTed to (`--http-endpoint`, `KAFKA_GEN_HTTP_ENDPOINT`).
    pub endpoint: Option<String>,
    /// Events per request. 1 posts each event as one JSON object with its own
    /// `Idempotency-Key`; more posts a batch in `format`.
    pub batch_size: u32,
    /// Encoding of batches: `array` (a JSON array) or `ndjson`.
    pub format: BodyFormat,
    /// Requests in flight at once (`--http-concurrency`); when all are busy the generator waits.
    pub concurrency: u32,
    /// How long one request may take, connecting included, in milliseconds. Longer than the
    /// ingest API's `ack_timeout_ms` (15 s) plus a margin: a client that gives up first resends
    /// events the service may still be producing.
    pub timeout_ms: u64,
    /// Most attempts per request, the first included; then its events are dead-lettered.
    /// Unset (the default): no limit, `max_elapsed_secs` alone decides.
    pub max_attempts: Option<u32>,
    /// Most time spent retrying one request, in seconds; then its events are dead-lettered.
    pub max_elapsed_secs: f64,
    /// First retry delay in milliseconds; doubles per attempt, with jitter.
    pub backoff_initial_ms: u64,
    /// Longest retry delay in milliseconds (a longer `Retry-After` is still honoured).
    pub backoff_max_ms: u64,
    /// `Authorization` header value, e.g. `Bearer abc` (`KAFKA_GEN_HTTP_AUTHORIZATION`).
    /// Never logged; printed redacted.
    pub authorization: Option<Secret>,
    /// The top-level fields each posted event keeps, in this order (`KAFKA_GEN_HTTP_FIELDS`,
    /// comma-separated); unset posts the whole event. `["event_type", "payload"]` posts the
    /// tutoring document's own body; the event's id still goes in `Idempotency-Key`.
    pub fields: Option<Vec<String>>,
    /// CA certificates (PEM) trusted for an `https://` endpoint besides the system's, e.g. the
    /// private CA of an ingest API serving TLS (`--tls-cert`).
    pub ca_path: Option<PathBuf>,
    /// A client certificate (PEM) presented to an endpoint that requires one (mTLS, ingest's
    /// `--tls-client-ca`); needs `client_key_path`.
    pub client_cert_path: Option<PathBuf>,
    /// The client certificate's private key, PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub client_key_path: Option<PathBuf>,
}

impl Default for HttpSinkConfig {
    fn default() -> Self {
        Self {
            endpoint: None,
            batch_size: 500,
            format: BodyFormat::Array,
            concurrency: 8,
            timeout_ms: 20_000,
            max_attempts: None,
            max_elapsed_secs: 120.0,
            backoff_initial_ms: 100,
            backoff_max_ms: 10_000,
            authorization: None,
            fields: None,
            ca_path: None,
            client_cert_path: None,
            client_key_path: None,
        }
    }
}

impl HttpSinkConfig {
    /// Checks the options; messages name the option and the bad value.
    pub fn validate(&self) -> anyhow::Result<()> {
        let Some(endpoint) = &self.endpoint else {
            bail!("the http sink needs an endpoint; pass --http-endpoint URL (or set KAFKA_GEN_HTTP_ENDPOINT or [http] endpoint)");
        };
        match reqwest::Url::parse(endpoint) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {}
            _ => bail!(
                "http endpoint {endpoint:?} is not an http:// or https:// URL; pass e.g. --http-endpoint http://localhost:8080/events"
            ),
        }
        self.check_ranges()
    }

    /// The section's numbers and header, which hold whether or not a run posts: a config
    /// file's `[http]` is checked at load even when the sink is not used (issue 28).
    pub fn check_ranges(&self) -> anyhow::Result<()> {
        if !(1..=100_000).contains(&self.batch_size) {
            bail!(
                "http.batch_size is {}; it must be 1..=100000 events per request",
                self.batch_size
            );
        }
        if !(1..=10_000).contains(&self.concurrency) {
            bail!(
                "http concurrency is {}; it must be 1..=10000 requests (--http-concurrency)",
                self.concurrency
            );
        }
        {
            use crate::bounds::{check, check_whole, DAY_SECS, MAX_TIMEOUT_MS};
            const FIX: &str = "config file [http]";
            let ms = (1, i128::from(MAX_TIMEOUT_MS));
            check_whole(self.timeout_ms, ms, "http.timeout_ms", "ms", FIX)?;
            let fix = "config file [http]; 1 means no retries";
            if let Some(attempts) = self.max_attempts {
                check_whole(attempts, (1, 1000), "http.max_attempts", "", fix)?;
            }
            let elapsed = self.max_elapsed_secs;
            check(
                elapsed,
                (0.0, DAY_SECS),
                "http.max_elapsed_secs",
                "seconds",
                FIX,
            )?;
            check_whole(
                self.backoff_initial_ms,
                ms,
                "http.backoff_initial_ms",
                "ms",
                FIX,
            )?;
            check_whole(self.backoff_max_ms, ms, "http.backoff_max_ms", "ms", FIX)?;
        }
        if self.backoff_max_ms < self.backoff_initial_ms {
            bail!(
                "http backoff is {}..{} ms; backoff_initial_ms must be >= 1 and <= backoff_max_ms",
                self.backoff_initial_ms,
                self.backoff_max_ms
            );
        }
        if self
            .fields
            .as_ref()
            .is_some_and(|f| f.iter().all(|f| f.trim().is_empty()))
        {
            bail!("http.fields names no field; list the fields each event keeps, e.g. [\"event_type\", \"payload\"], or leave it out to post whole events");
        }
        match (&self.client_cert_path, &self.client_key_path) {
            (Some(_), None) => bail!(
                "http.client_cert_path is set but http.client_key_path is not; give both (the \
                 client certificate and its private key) or neither (config file [http])"
            ),
            (None, Some(_)) => bail!(
                "http.client_key_path is set but http.client_cert_path is not; give both (the \
                 client certificate and its private key) or neither (config file [http])"
            ),
            _ => {}
        }
        if let Some(auth) = &self.authorization {
            if reqwest::header::HeaderValue::from_str(auth.expose()).is_err() {
                // Do not echo the value: it is a secret.
                bail!("http.authorization is not a valid header value (control characters or non-ASCII); check KAFKA_GEN_HTTP_AUTHORIZATION");
            }
        }
        Ok(())
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    /// `validate` bounds the setting; a value past `Duration`'s range still gives a day.
    pub fn max_elapsed(&self) -> Duration {
        Duration::try_from_secs_f64(self.max_elapsed_secs).unwrap_or(Duration::from_secs(86_400))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_endpoint(url: &str) -> HttpSinkConfig {
        HttpSinkConfig {
            endpoint: Some(url.into()),
            ..HttpSinkConfig::default()
        }
    }

    #[test]
    fn bad_values_are_named() {
        let err = |c: HttpSinkConfig| c.validate().unwrap_err().to_string();
        assert!(err(HttpSinkConfig::default()).contains("--http-endpoint"));
        assert!(err(with_endpoint("localhost:8080")).contains("\"localhost:8080\""));
        assert!(err(with_endpoint("ftp://x/")).contains("\"ftp://x/\""));
        let c = HttpSinkConfig {
            concurrency: 0,
            ..with_endpoint("http://h/e")
        };
        assert!(err(c).contains("concurrency is 0"));
        let c = HttpSinkConfig {
            batch_size: 0,
            ..with_endpoint("http://h/e")
        };
        assert!(err(c).contains("batch_size is 0"));
        with_endpoint("https://ingest.example.com/api/events")
            .validate()
            .unwrap();
    }

    #[test]
    fn authorization_is_redacted_and_checked_without_echo() {
        let c = HttpSinkConfig {
            authorization: Some(Secret::new("Bearer hunter2")),
            ..with_endpoint("http://h/e")
        };
        let printed = format!("{c:?}\n{}", toml::to_string(&c).unwrap());
        assert!(!printed.contains("hunter2"), "{printed}");
        let bad = HttpSinkConfig {
            authorization: Some(Secret::new("Bearer hunter2\n")),
            ..c
        };
        let e = bad.validate().unwrap_err().to_string();
        assert!(e.contains("authorization") && !e.contains("hunter2"), "{e}");
    }
}
