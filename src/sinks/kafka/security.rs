//! Security settings and secrets: `[kafka.security]`, the [`Secret`] type, and the raw
//! librdkafka map, which redact passwords wherever they are printed or logged.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize, Serializer};

/// What secrets look like in `kafka-gen config` and in Debug output.
pub const REDACTED: &str = "***redacted***";

/// A value that must never be logged or printed: passwords, key passphrases.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for handing to librdkafka only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(if revealing() { &self.0 } else { REDACTED })
    }
}

thread_local! {
    static REVEAL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn revealing() -> bool {
    REVEAL.with(std::cell::Cell::get)
}

/// Runs `f` with secrets serializing as themselves rather than redacted, on this thread only.
/// For setting a config field by path, which writes the configuration out to a value tree and
/// reads it back: a redacted secret would come back as `***redacted***`. The tree never leaves
/// `f`.
pub fn with_secrets_revealed<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            REVEAL.with(|r| r.set(self.0));
        }
    }
    let _restore = Restore(REVEAL.with(|r| r.replace(true)));
    f()
}

/// Raw librdkafka properties. Values of keys that look secret (`*password*`, `*secret*`,
/// `sasl.jaas.config`, `*.pem` key material) are redacted when printed.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct RawOptions(pub BTreeMap<String, String>);

impl RawOptions {
    fn is_secret(key: &str) -> bool {
        let k = key.to_ascii_lowercase();
        [
            "password",
            "secret",
            "jaas",
            "ssl.key.pem",
            "ssl_key",
            "token",
        ]
        .iter()
        .any(|s| k.contains(s))
    }

    fn redacted(&self) -> BTreeMap<&str, &str> {
        self.0
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str(),
                    if Self::is_secret(k) {
                        REDACTED
                    } else {
                        v.as_str()
                    },
                )
            })
            .collect()
    }
}

impl fmt::Debug for RawOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.redacted().fmt(f)
    }
}

impl Serialize for RawOptions {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if revealing() {
            return self.0.serialize(s);
        }
        self.redacted().serialize(s)
    }
}

/// How the client talks to the brokers (`[kafka.security]`). Unset fields leave librdkafka's
/// defaults (plaintext, no SASL).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityConfig {
    /// `plaintext`, `ssl`, `sasl_plaintext` or `sasl_ssl` (`security.protocol`).
    pub protocol: Option<String>,
    /// `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512` (`sasl.mechanism`).
    pub sasl_mechanism: Option<String>,
    /// SASL user name (`sasl.username`).
    pub sasl_username: Option<String>,
    /// SASL password (`sasl.password`); better given as `KAFKA_GEN_SASL_PASSWORD`.
    pub sasl_password: Option<Secret>,
    /// PEM file of the CA that signed the brokers' certificates (`ssl.ca.location`).
    pub ssl_ca_path: Option<PathBuf>,
    /// Client certificate for mutual TLS, PEM (`ssl.certificate.location`).
    pub ssl_certificate_path: Option<PathBuf>,
    /// Client private key for mutual TLS, PEM (`ssl.key.location`).
    pub ssl_key_path: Option<PathBuf>,
    /// Passphrase of the client private key (`ssl.key.password`).
    pub ssl_key_password: Option<Secret>,
}
