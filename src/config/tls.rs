//! `[tls]` from the `KAFKA_GEN_TLS_*` environment and the `--tls-*` flags: inside `resolve`
//! for a run and `ingest`, and alone ([`resolve_tls`]) for `kafka-gen serve`, which reads no
//! config file.

use std::path::PathBuf;

use serde::Deserialize;

use crate::cli::TlsArgs;
use crate::listen::TlsConfig;

/// The `KAFKA_GEN_TLS_*` variables (the root `Env` holds the same three).
#[derive(Debug, Default, Deserialize)]
pub(super) struct TlsEnv {
    pub(super) tls_cert: Option<PathBuf>,
    pub(super) tls_key: Option<PathBuf>,
    pub(super) tls_client_ca: Option<PathBuf>,
}

impl TlsEnv {
    pub(super) fn apply(self, tls: &mut TlsConfig) {
        tls.cert_path = self.tls_cert.or(tls.cert_path.take());
        tls.key_path = self.tls_key.or(tls.key_path.take());
        tls.client_ca_path = self.tls_client_ca.or(tls.client_ca_path.take());
    }
}

pub(super) fn apply_flags(tls: &mut TlsConfig, a: &TlsArgs) {
    tls.cert_path = a.tls_cert.clone().or(tls.cert_path.take());
    tls.key_path = a.tls_key.clone().or(tls.key_path.take());
    tls.client_ca_path = a.tls_client_ca.clone().or(tls.client_ca_path.take());
}

/// `kafka-gen serve`'s TLS: the environment, then the flags; checked.
pub fn resolve_tls(
    args: &TlsArgs,
    vars: impl IntoIterator<Item = (String, String)>,
) -> anyhow::Result<TlsConfig> {
    // Only these: `serve` reads none of the run's other variables, so they are not judged.
    let vars = vars
        .into_iter()
        .filter(|(k, _)| k.starts_with("KAFKA_GEN_TLS_"));
    let env: TlsEnv = envy::prefixed("KAFKA_GEN_")
        .from_iter(vars)
        .map_err(super::env::env_error)?;
    let mut tls = TlsConfig::default();
    env.apply(&mut tls);
    apply_flags(&mut tls, args);
    tls.validate()?;
    Ok(tls)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        (pairs.iter())
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// A run, `ingest` and `serve` read the same variables, and a flag beats its variable.
    #[test]
    fn tls_comes_from_the_same_variables_and_flags_everywhere() {
        let env = vars(&[
            ("KAFKA_GEN_TLS_CERT", "env.crt"),
            ("KAFKA_GEN_TLS_KEY", "env.key"),
            ("KAFKA_GEN_TLS_CLIENT_CA", "ca.crt"),
            ("KAFKA_GEN_RATE", "not serve's business"),
        ]);
        let flags = TlsArgs {
            tls_cert: Some("flag.crt".into()),
            ..TlsArgs::default()
        };
        let served = resolve_tls(&flags, env.clone()).unwrap();
        assert_eq!(served.cert_path, Some("flag.crt".into()));
        assert_eq!(served.key_path, Some("env.key".into()));
        assert_eq!(served.client_ca_path, Some("ca.crt".into()));
        let run = crate::cli::RunArgs {
            tls: flags,
            sink: Some(vec![crate::sinks::SinkKind::Null]),
            ..crate::cli::RunArgs::default()
        };
        let env: Vec<_> = env
            .into_iter()
            .filter(|(k, _)| k != "KAFKA_GEN_RATE")
            .collect();
        let config = super::super::resolve_with_env(&run, env).unwrap();
        assert_eq!(config.tls, served);
    }

    /// Certificate and key come together: what is missing is named.
    #[test]
    fn a_certificate_without_its_key_is_refused_by_name() {
        let flags = TlsArgs {
            tls_cert: Some("server.crt".into()),
            ..TlsArgs::default()
        };
        let e = resolve_tls(&flags, vars(&[])).unwrap_err().to_string();
        assert!(e.contains("--tls-key is not"), "{e}");
        let e = resolve_tls(&TlsArgs::default(), vars(&[("KAFKA_GEN_TLS_KEY", "k")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("--tls-cert is not"), "{e}");
        let ca_only = TlsArgs {
            tls_client_ca: Some("ca.crt".into()),
            ..TlsArgs::default()
        };
        let e = resolve_tls(&ca_only, vars(&[])).unwrap_err().to_string();
        assert!(e.contains("--tls-client-ca"), "{e}");
        assert_eq!(
            resolve_tls(&TlsArgs::default(), vars(&[])).unwrap(),
            TlsConfig::default()
        );
    }
}
