//! `[auth]`: where the bearer tokens come from, shared by every listener; and the per-client
//! bounds each listener states in its own section, checked here the same way for all.

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::tokens::Tokens;
use crate::sinks::kafka::Secret;

/// The variable tokens come from besides the file.
pub const TOKENS_VAR: &str = "KAFKA_GEN_AUTH_TOKENS";

/// Bearer-token authentication of the HTTP listeners (`[auth]`): the ingest API, `kafka-gen
/// serve` and the metrics listener. With no tokens, they answer anyone who can reach them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// A file of bearer tokens, one a line, blank lines and `#` comments skipped
    /// (`--auth-token-file`, `KAFKA_GEN_AUTH_TOKEN_FILE`). Read when a listener starts.
    pub token_file: Option<PathBuf>,
    /// Answer `GET /health` without a token, for load balancers and orchestrators
    /// (`--auth-health-open`, `KAFKA_GEN_AUTH_HEALTH_OPEN`).
    pub health_open: bool,
    /// Tokens from `KAFKA_GEN_AUTH_TOKENS`, separated by commas or newlines. Never read from
    /// a file or a flag (where `ps` would show it) and never printed.
    #[serde(skip)]
    pub env_tokens: Option<Secret>,
}

impl AuthConfig {
    /// Applies `KAFKA_GEN_AUTH_TOKEN_FILE`, `KAFKA_GEN_AUTH_TOKENS` and
    /// `KAFKA_GEN_AUTH_HEALTH_OPEN`, each where set.
    pub fn apply_env(
        &mut self,
        token_file: Option<PathBuf>,
        tokens: Option<String>,
        health_open: Option<bool>,
    ) {
        self.token_file = token_file.or(self.token_file.take());
        if let Some(tokens) = tokens {
            self.env_tokens = Some(Secret::new(tokens));
        }
        self.health_open = health_open.unwrap_or(self.health_open);
    }

    /// The settings from the process environment alone, for `kafka-gen serve`, which reads
    /// no config file.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let health_open = match var("KAFKA_GEN_AUTH_HEALTH_OPEN") {
            None => None,
            Some(v) => Some(v.trim().parse::<bool>().map_err(|_| {
                anyhow::anyhow!("KAFKA_GEN_AUTH_HEALTH_OPEN is {v:?}; it must be true or false")
            })?),
        };
        let mut c = Self::default();
        c.apply_env(
            var("KAFKA_GEN_AUTH_TOKEN_FILE").map(PathBuf::from),
            var(TOKENS_VAR),
            health_open,
        );
        Ok(c)
    }
}

/// Who a listener lets in: the tokens loaded from `[auth]`, or none (anyone).
#[derive(Debug, Clone, Default)]
pub struct Access {
    pub(super) tokens: Option<Arc<Tokens>>,
    pub(super) health_open: bool,
}

impl Access {
    /// Reads the token file and the variable; every token of both is accepted. An empty file
    /// or variable, or a malformed token, is an error naming where it is.
    pub fn load(c: &AuthConfig) -> anyhow::Result<Self> {
        let file = c.token_file.as_deref().map(Tokens::from_file).transpose()?;
        let env = (c.env_tokens.as_ref())
            .map(|s| Tokens::from_list(s.expose(), TOKENS_VAR))
            .transpose()?;
        let tokens = match (file, env) {
            (Some(a), Some(b)) => Some(a.merge(b)?),
            (a, b) => a.or(b),
        };
        Ok(Self {
            tokens: tokens.map(Arc::new),
            health_open: c.health_open,
        })
    }

    /// Anyone may come in.
    pub fn open() -> Self {
        Self::default()
    }

    /// Whether a request needs a token.
    pub fn requires_token(&self) -> bool {
        self.tokens.is_some()
    }
}

/// How much one listener takes: per client address, and at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Requests per second one client address may make on average; 0 for no limit.
    pub client_requests_per_sec: f64,
    /// Requests one client address may make at once above that rate.
    pub client_burst: u32,
    /// Requests handled at once, one more answered 503; `None` where the listener bounds its
    /// requests itself (the ingest API's `POST /events`).
    pub max_concurrent_requests: Option<usize>,
}

/// Bounds of a per-client rate: requests per second (0 turns it off).
pub const CLIENT_RATE: (f64, f64) = (0.01, 1e6);
/// Bounds of a per-client burst, requests.
pub const CLIENT_BURST: (i128, i128) = (1, 1_000_000);
/// Bounds of requests handled at once.
pub const CONCURRENT: (i128, i128) = (1, 10_000);

impl Limits {
    /// Checks each bound; `name` gives a field's name as the user sets it
    /// (`ingest.client_burst`, `--client-burst`), `fix` where.
    pub fn validate(&self, name: impl Fn(&str) -> String, fix: &str) -> anyhow::Result<()> {
        use crate::bounds::{check, check_whole};
        let rate = self.client_requests_per_sec;
        if rate != 0.0 {
            check(
                rate,
                CLIENT_RATE,
                &name("client_requests_per_sec"),
                "requests per second, or 0 for no limit",
                fix,
            )?;
        }
        let burst = &name("client_burst");
        check_whole(self.client_burst, CLIENT_BURST, burst, "requests", fix)?;
        if let Some(n) = self.max_concurrent_requests {
            let what = name("max_concurrent_requests");
            check_whole(n as u64, CONCURRENT, &what, "requests", fix)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "0123456789abcdef0123";

    #[test]
    fn tokens_come_from_the_file_and_the_variable_and_stay_secret() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t");
        std::fs::write(&file, "fedcba9876543210fedc\n").unwrap();
        let vars = |name: &str| match name {
            "KAFKA_GEN_AUTH_TOKEN_FILE" => Some(file.display().to_string()),
            "KAFKA_GEN_AUTH_TOKENS" => Some(T.to_string()),
            "KAFKA_GEN_AUTH_HEALTH_OPEN" => Some("true".to_string()),
            _ => None,
        };
        let c = AuthConfig::from_env(vars).unwrap();
        assert!(c.health_open);
        assert!(!format!("{c:?}").contains(T));
        let printed = toml::to_string(&c).unwrap();
        assert!(!printed.contains(T), "{printed}");
        let access = Access::load(&c).unwrap();
        let tokens = access.tokens.as_ref().unwrap();
        assert!(tokens.accepts(T.as_bytes()) && tokens.accepts(b"fedcba9876543210fedc"));
        assert!(!Access::load(&AuthConfig::default())
            .unwrap()
            .requires_token());
        let bad = |_: &str| Some("yes".to_string());
        let e = AuthConfig::from_env(bad).unwrap_err().to_string();
        assert!(e.contains("KAFKA_GEN_AUTH_HEALTH_OPEN is \"yes\""), "{e}");
    }

    #[test]
    fn limits_are_range_checked_by_name() {
        let ok = Limits {
            client_requests_per_sec: 0.0,
            client_burst: 1,
            max_concurrent_requests: Some(1),
        };
        let name = |f: &str| format!("--{}", f.replace('_', "-"));
        ok.validate(name, "flags").unwrap();
        let e = Limits {
            client_requests_per_sec: -1.0,
            ..ok
        }
        .validate(name, "flags")
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("--client-requests-per-sec is -1; it must be 0.01 to 1e6"),
            "{e}"
        );
        let e = Limits {
            client_burst: 0,
            ..ok
        };
        assert!(e
            .validate(name, "f")
            .unwrap_err()
            .to_string()
            .contains("--client-burst is 0"));
        let e = Limits {
            max_concurrent_requests: Some(20_000),
            ..ok
        };
        let e = e.validate(name, "f").unwrap_err().to_string();
        assert!(
            e.contains("max-concurrent-requests is 20000; it must be 1 to 10000"),
            "{e}"
        );
    }
}
