//! One request-batch of the `http` sink and its delivery: the encoded body, one attempt, and
//! the retry loop (exponential backoff with jitter from `backon`, `Retry-After` honoured).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use bytes::Bytes;
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::StatusCode;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::config::{BodyFormat, HttpSinkConfig};
use crate::event::Record;
use crate::sinks::dead_letter::{DeadLetter, Label, Outcome};

/// Longest excerpt of a refusal's body that is logged.
const BODY_EXCERPT: usize = 300;

/// Events of one request, encoded once and resent as they are on every retry.
pub struct Chunk {
    pub body: Bytes,
    pub content_type: &'static str,
    /// The event id for a single event; `batch-<first id>-<count>` for a batch, whose events
    /// carry their own ids inside.
    pub idempotency_key: String,
    /// Per event: its type index and where its JSON sits in `body` (for the dead-letter file).
    pub events: Vec<(usize, u32, u32)>,
}

impl Chunk {
    /// Encodes `records` as one request body in `format` (a lone object when there is one).
    pub fn encode(records: &[Record<'_>], format: BodyFormat) -> Self {
        let single = records.len() == 1;
        let bytes: usize = records.iter().map(|r| r.payload.len() + 1).sum();
        let mut body = Vec::with_capacity(bytes + 2);
        let mut events = Vec::with_capacity(records.len());
        if !single && format == BodyFormat::Array {
            body.push(b'[');
        }
        for (i, r) in records.iter().enumerate() {
            if i > 0 && format == BodyFormat::Array {
                body.push(b',');
            }
            let start = body.len() as u32;
            body.extend_from_slice(r.payload);
            events.push((usize::from(r.event_type), start, body.len() as u32));
            if !single && format == BodyFormat::Ndjson {
                body.push(b'\n');
            }
        }
        if !single && format == BodyFormat::Array {
            body.push(b']');
        }
        let idempotency_key = match records {
            [one] => one.event_id.to_string(),
            [first, ..] => format!("batch-{}-{}", first.event_id, records.len()),
            [] => String::new(),
        };
        let content_type = match (single, format) {
            (false, BodyFormat::Ndjson) => "application/x-ndjson",
            _ => "application/json",
        };
        Self {
            body: Bytes::from(body),
            content_type,
            idempotency_key,
            events,
        }
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Adds one to `counters[type]` for each event.
    fn count_into(&self, counters: &[AtomicU64]) {
        for (t, _, _) in &self.events {
            if let Some(c) = counters.get(*t) {
                c.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// What the sink's request tasks share: the client, the policy and the counters.
pub struct Shared {
    pub client: reqwest::Client,
    pub endpoint: reqwest::Url,
    pub authorization: Option<HeaderValue>,
    pub config: HttpSinkConfig,
    pub delivered: Vec<AtomicU64>,
    pub failed: Vec<AtomicU64>,
    pub retried: Vec<AtomicU64>,
    pub dead_letter: std::sync::Arc<DeadLetter>,
    warned_refused: AtomicBool,
    warned_retry: AtomicBool,
    warned_gave_up: AtomicBool,
}

/// How one attempt went.
#[derive(Debug)]
enum Attempt {
    Delivered,
    /// Worth another try; `after` is the server's `Retry-After`.
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    /// A 4xx other than 408/429: the same request will be refused again.
    Refused {
        status: StatusCode,
        excerpt: String,
    },
}

impl Shared {
    pub fn new(
        client: reqwest::Client,
        endpoint: reqwest::Url,
        config: HttpSinkConfig,
        types: usize,
        dead_letter: std::sync::Arc<DeadLetter>,
    ) -> Self {
        let authorization = config.authorization.as_ref().and_then(|secret| {
            let mut value = HeaderValue::from_str(secret.expose()).ok()?;
            // Keeps it out of reqwest's and hyper's Debug output.
            value.set_sensitive(true);
            Some(value)
        });
        let counters = || (0..types).map(|_| AtomicU64::new(0)).collect();
        Self {
            client,
            endpoint,
            authorization,
            config,
            delivered: counters(),
            failed: counters(),
            retried: counters(),
            dead_letter,
            warned_refused: AtomicBool::new(false),
            warned_retry: AtomicBool::new(false),
            warned_gave_up: AtomicBool::new(false),
        }
    }

    /// Delivers `chunk`, retrying what is worth retrying, until it is delivered, refused,
    /// out of attempts or time, or `cancel` fires (a flush ran out of time). Whatever is not
    /// delivered is dead-lettered and counted failed.
    pub async fn deliver(&self, chunk: Chunk, cancel: &CancellationToken) {
        let c = &self.config;
        // Without max_attempts, max_elapsed_secs alone bounds the retries (issue 10: 8 attempts
        // ran out after about 15 s, so max_elapsed_secs = 120 never applied).
        let retries = c
            .max_attempts
            .map_or(usize::MAX, |n| n.saturating_sub(1) as usize);
        let mut backoff = ExponentialBuilder::new()
            .with_jitter()
            .with_min_delay(Duration::from_millis(c.backoff_initial_ms))
            .with_max_delay(Duration::from_millis(c.backoff_max_ms))
            .with_max_times(retries)
            .build();
        let started = Instant::now();
        loop {
            let attempt = tokio::select! {
                biased;
                _ = cancel.cancelled() => return self.give_up(&chunk, "the flush timed out"),
                attempt = self.attempt(&chunk) => attempt,
            };
            let (reason, after) = match attempt {
                Attempt::Delivered => return chunk.count_into(&self.delivered),
                Attempt::Refused { status, excerpt } => {
                    let hint = refusal_hint(status);
                    if !self.warned_refused.swap(true, Ordering::Relaxed) {
                        tracing::error!(endpoint = %self.endpoint, status = status.as_u16(), body = %excerpt,
                            "The HTTP endpoint refused events{hint}; dead-lettering them (further refusals are counted, not logged).");
                    }
                    let why = format!("refused with status {}: {excerpt}{hint}", status.as_u16());
                    return self.fail(&chunk, &why);
                }
                Attempt::Retry { reason, after } => (reason, after),
            };
            // Retry-After is the server's word; otherwise the next backoff step.
            let Some(step) = backoff.next() else {
                return self.give_up(
                    &chunk,
                    &format!(
                        "{} attempts failed, the last: {reason}",
                        retries.saturating_add(1)
                    ),
                );
            };
            // The last wait is cut to what is left of max_elapsed_secs, so an endpoint back
            // within max_elapsed_secs always gets one more attempt.
            let left = c.max_elapsed().saturating_sub(started.elapsed());
            if left.is_zero() {
                return self.give_up(
                    &chunk,
                    &format!(
                        "retried for max_elapsed_secs {}; last: {reason}",
                        c.max_elapsed_secs
                    ),
                );
            }
            let delay = after.unwrap_or(step).min(left);
            if !self.warned_retry.swap(true, Ordering::Relaxed) {
                tracing::warn!(endpoint = %self.endpoint, %reason, "HTTP request failed; retrying with backoff (further retries are counted, not logged).");
            }
            tracing::debug!(%reason, delay_ms = delay.as_millis() as u64, events = chunk.len(), "Retrying an HTTP request.");
            chunk.count_into(&self.retried);
            tokio::select! {
                biased;
                _ = cancel.cancelled() => return self.give_up(&chunk, "the flush timed out"),
                _ = tokio::time::sleep(delay) => {}
            }
        }
    }

    async fn attempt(&self, chunk: &Chunk) -> Attempt {
        let mut request = self
            .client
            .post(self.endpoint.clone())
            .header(CONTENT_TYPE, chunk.content_type)
            .header("idempotency-key", chunk.idempotency_key.as_str())
            .body(chunk.body.clone());
        if let Some(auth) = &self.authorization {
            request = request.header(AUTHORIZATION, auth.clone());
        }
        let started = std::time::Instant::now();
        let result = request.send().await;
        let response = match result {
            Ok(response) => response,
            // Connection refused or reset, timeouts: the server may come back.
            Err(error) => {
                return Attempt::Retry {
                    reason: short_error(&error),
                    after: None,
                }
            }
        };
        let status = response.status();
        let after = retry_after(response.headers().get(RETRY_AFTER));
        // Reading the body returns the connection to the pool for reuse.
        let body = response.bytes().await;
        metrics::histogram!("kafka_gen_http_request_duration_seconds", "sink" => "http")
            .record(started.elapsed().as_secs_f64());
        if status.is_success() {
            return match body {
                Ok(_) => Attempt::Delivered,
                Err(error) => Attempt::Retry {
                    reason: short_error(&error),
                    after: None,
                },
            };
        }
        let excerpt = body.map(|b| excerpt(&b)).unwrap_or_default();
        if status == StatusCode::TOO_MANY_REQUESTS
            || status == StatusCode::REQUEST_TIMEOUT
            || status.is_server_error()
        {
            Attempt::Retry {
                reason: format!("HTTP {status}: {excerpt}"),
                after,
            }
        } else {
            Attempt::Refused { status, excerpt }
        }
    }

    fn give_up(&self, chunk: &Chunk, why: &str) {
        if !self.warned_gave_up.swap(true, Ordering::Relaxed) {
            tracing::error!(endpoint = %self.endpoint, reason = %why,
                "Gave up on an HTTP request; dead-lettering its events (further ones are counted, not logged).");
        }
        self.fail(chunk, why);
    }

    /// Dead-letters the chunk's events, then counts them failed (so counts never run ahead of
    /// the file).
    fn fail(&self, chunk: &Chunk, why: &str) {
        let endpoint = self.endpoint.as_str();
        let label = Label {
            sink: "http",
            topic: None,
            endpoint: Some(endpoint),
            key: None,
            outcome: Outcome::Failed,
            error: why,
            headers: None,
            timestamp_ms: None,
        };
        for (_, start, end) in &chunk.events {
            if let Some(payload) = chunk.body.get(*start as usize..*end as usize) {
                self.dead_letter.write(&label, payload);
            }
        }
        chunk.count_into(&self.failed);
    }
}

/// `Retry-After` as a delay: delta-seconds, or an HTTP date (RFC 9110 section 10.2.3).
fn retry_after(value: Option<&HeaderValue>) -> Option<Duration> {
    let text = value?.to_str().ok()?.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(text).ok()?;
    let wait = at.signed_duration_since(chrono::Utc::now());
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(BODY_EXCERPT) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_string(),
    }
}

/// What to check when the endpoint refuses the sink's credentials (a `kafka-gen ingest` with
/// tokens answers 401); empty for other refusals.
fn refusal_hint(status: StatusCode) -> &'static str {
    match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
            " (check the token it is sent: KAFKA_GEN_HTTP_AUTHORIZATION or [http] authorization, \
             \"Bearer <token>\")"
        }
        _ => "",
    }
}

/// The error and its causes on one line, without the URL reqwest repeats in each.
fn short_error(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    let mut text = kind.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Batch;

    fn batch(n: usize) -> Batch {
        let mut b = Batch::new();
        for i in 0..n {
            let payload = format!("{{\"event_id\":\"{}\",\"n\":{i}}}", uuid::Uuid::now_v7());
            b.push_encoded(&Record {
                event_type: (i % 2) as u8,
                primary: true,
                time_ms: 0,
                event_id: uuid::Uuid::now_v7(),
                key: b"k",
                payload: payload.as_bytes(),
            });
        }
        b
    }

    #[test]
    fn bodies_are_an_object_an_array_or_ndjson() {
        let b = batch(3);
        let records: Vec<_> = b.iter().collect();
        let one = Chunk::encode(&records[..1], BodyFormat::Array);
        assert_eq!(&one.body[..], records[0].payload);
        assert_eq!(one.idempotency_key, records[0].event_id.to_string());

        let array = Chunk::encode(&records, BodyFormat::Array);
        let v: serde_json::Value = serde_json::from_slice(&array.body).unwrap();
        assert_eq!(v.as_array().unwrap().len(), 3);
        assert_eq!(array.content_type, "application/json");
        assert!(array.idempotency_key.starts_with("batch-"));
        for (i, (_, s, e)) in array.events.iter().enumerate() {
            assert_eq!(&array.body[*s as usize..*e as usize], records[i].payload);
        }

        let nd = Chunk::encode(&records, BodyFormat::Ndjson);
        assert_eq!(nd.content_type, "application/x-ndjson");
        let lines: Vec<_> = std::str::from_utf8(&nd.body).unwrap().lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[2].as_bytes(), records[2].payload);
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let h = |s: &str| retry_after(Some(&HeaderValue::from_str(s).unwrap()));
        assert_eq!(h("3"), Some(Duration::from_secs(3)));
        assert_eq!(h("Sun, 06 Nov 1994 08:49:37 GMT"), Some(Duration::ZERO));
        assert_eq!(h("soon"), None);
        assert_eq!(retry_after(None), None);
    }

    #[test]
    fn a_refused_token_names_where_the_sink_takes_it() {
        assert!(refusal_hint(StatusCode::UNAUTHORIZED).contains("KAFKA_GEN_HTTP_AUTHORIZATION"));
        assert_eq!(refusal_hint(StatusCode::BAD_REQUEST), "");
    }

    #[test]
    fn excerpts_are_bounded() {
        assert_eq!(excerpt(b"  short \n"), "short");
        let long = "x".repeat(1000);
        assert_eq!(excerpt(long.as_bytes()).len(), BODY_EXCERPT + 3);
    }
}
