//! Setting any field of any section by its dotted path, with no wiring per field (issue 11):
//! `--conf kafka.linger_ms=5` on the command line, `KAFKA_GEN__KAFKA__LINGER_MS=5` in the
//! environment. A path is the field's place in the config file (`[kafka] linger_ms`), so every
//! documented field, and every one added later, can be set this way.
//!
//! The configuration is written out to a TOML tree, the value put at its path, and the tree
//! read back through the sections' own types, so a setting is checked exactly as the config
//! file is: an unknown path or a value of the wrong type is an error naming both, and ranges
//! are checked with the rest by `Config::validate`.

use anyhow::{anyhow, bail};

use super::Config;

/// Environment variables that set a path: `KAFKA_GEN__` then the path, `__` between its parts.
pub const ENV_PREFIX: &str = "KAFKA_GEN__";

/// One `PATH=VALUE` setting.
#[derive(Debug, Clone, PartialEq)]
pub struct PathSetting {
    /// The path's parts: `["kafka", "linger_ms"]`.
    pub path: Vec<String>,
    /// The value as given; read as TOML (`5`, `true`, `["a", "b"]`), else as a string.
    pub text: String,
    /// Where it came from, for errors: `--conf kafka.linger_ms=5`, or the variable's name.
    pub source: String,
}

impl PathSetting {
    /// Parses a `--conf PATH=VALUE` flag. PATH is a TOML dotted key, so a map key holding
    /// dots is quoted: `--conf 'kafka.librdkafka."socket.timeout.ms"=5000'`.
    pub fn from_flag(pair: &str) -> anyhow::Result<Self> {
        let source = format!("--conf {pair}");
        let Some((path, text)) = pair.split_once('=') else {
            bail!("{source}: expected PATH=VALUE, e.g. --conf kafka.linger_ms=5");
        };
        let path = split_path(path.trim())
            .ok_or_else(|| anyhow!("{source}: {:?} is not a dotted path such as kafka.linger_ms or schedule.rate_per_sec", path.trim()))?;
        Ok(Self {
            path,
            text: text.trim().to_string(),
            source,
        })
    }

    /// Reads `KAFKA_GEN__SECTION__FIELD=VALUE`; `None` for a variable without the prefix.
    pub fn from_env(name: &str, value: &str) -> Option<anyhow::Result<Self>> {
        let rest = name.strip_prefix(ENV_PREFIX)?;
        let path: Vec<String> = rest.split("__").map(str::to_lowercase).collect();
        if path.iter().any(String::is_empty) {
            return Some(Err(anyhow!(
                "environment variable {name}: the path after {ENV_PREFIX} has an empty part; \
                 write e.g. KAFKA_GEN__KAFKA__LINGER_MS=5 (parts joined by __)"
            )));
        }
        Some(Ok(Self {
            path,
            text: value.trim().to_string(),
            source: format!("environment variable {name}"),
        }))
    }

    /// The path as the config file spells it: `kafka.linger_ms`.
    pub fn dotted(&self) -> String {
        self.path.join(".")
    }

    /// Whether this sets `[section] field`, or all of `section` when `field` is empty.
    pub fn sets(&self, section: &str, field: &str) -> bool {
        match self.path.as_slice() {
            [s, rest @ ..] if s == section => {
                field.is_empty() || rest.first().is_some_and(|f| f == field)
            }
            _ => false,
        }
    }

    /// The values the text may mean, most literal first: TOML (`5` a number, `true` a bool,
    /// `[1, 2]` an array), then a plain string, then a comma-separated list of strings.
    fn candidates(&self) -> Vec<toml::Value> {
        let mut out = Vec::new();
        if let Ok(mut t) = format!("v = {}", self.text).parse::<toml::Table>() {
            if let Some(v) = t.remove("v") {
                out.push(v);
            }
        }
        out.push(toml::Value::String(self.text.clone()));
        if self.text.contains(',') {
            let items = self
                .text
                .split(',')
                .map(|s| toml::Value::String(s.trim().into()));
            out.push(toml::Value::Array(items.collect()));
        }
        out
    }
}

/// A TOML dotted key's parts, read by the TOML parser itself, so quoting works as in a file.
fn split_path(path: &str) -> Option<Vec<String>> {
    let mut table: toml::Table = format!("{path} = 0").parse().ok()?;
    let mut parts = Vec::new();
    loop {
        let (key, value) = table.into_iter().next()?;
        parts.push(key);
        match value {
            toml::Value::Table(t) if t.len() == 1 => table = t,
            toml::Value::Integer(0) => return Some(parts),
            _ => return None,
        }
    }
}

/// Applies `settings` in order on top of `config`, each read through the sections' types.
pub fn apply(config: &mut Config, settings: &[PathSetting]) -> anyhow::Result<()> {
    if settings.is_empty() {
        return Ok(());
    }
    // TOML integers are i64; a seed may be any u64, so it stays out of the tree unless set.
    let seed = config.seed.take();
    // Tokens from the environment are never written out, so they do not come back either.
    let env_tokens = config.auth.env_tokens.take();
    let mut tree =
        crate::sinks::kafka::security::with_secrets_revealed(|| toml::Table::try_from(&*config))
            .map_err(|e| anyhow!("cannot apply --conf settings to this configuration: {e}"))?;
    let mut seed_set = false;
    for setting in settings {
        seed_set |= setting.path == ["seed"];
        let mut first_error = None;
        let mut applied = None;
        for value in setting.candidates() {
            let mut candidate = tree.clone();
            insert(&mut candidate, setting, value)?;
            match read_back(&candidate) {
                Ok(c) => {
                    applied = Some((candidate, c));
                    break;
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match (applied, first_error) {
            (Some((t, c)), _) => {
                tree = t;
                *config = c;
            }
            (None, Some((at, message))) => return Err(explain(setting, &at, &message)),
            (None, None) => bail!("{}: nothing to set", setting.source),
        }
    }
    if !seed_set {
        config.seed = seed;
    }
    config.auth.env_tokens = env_tokens;
    Ok(())
}

/// Puts `value` at the setting's path, making the sections on the way.
fn insert(tree: &mut toml::Table, s: &PathSetting, value: toml::Value) -> anyhow::Result<()> {
    let Some((last, sections)) = s.path.split_last() else {
        anyhow::bail!(
            "{}: the path is empty; name a setting, e.g. kafka.linger_ms",
            s.source
        );
    };
    let mut table = tree;
    for (i, part) in sections.iter().enumerate() {
        let entry = table
            .entry(part.clone())
            .or_insert_with(|| toml::Value::Table(Default::default()));
        let toml::Value::Table(next) = entry else {
            bail!(
                "{}: {} is a value, not a section, so it has no field {:?}; set {} itself",
                s.source,
                s.path[..=i].join("."),
                s.path[i + 1],
                s.path[..=i].join(".")
            );
        };
        table = next;
    }
    table.insert(last.clone(), value);
    Ok(())
}

/// The tree read back as a configuration; on error, the path serde stopped at and why.
fn read_back(tree: &toml::Table) -> Result<Config, (String, String)> {
    let value = toml::Value::Table(tree.clone());
    serde_path_to_error::deserialize(value).map_err(|e| {
        let at = e.path().to_string();
        (at, e.inner().message().to_string())
    })
}

fn explain(s: &PathSetting, at: &str, message: &str) -> anyhow::Error {
    const SEE: &str = "the settings by section are in README.md; `kafka-gen config` prints them";
    let path = s.dotted();
    // serde_path_to_error puts an unknown key at the end of the path it reports.
    let parent = at.rsplit_once('.').map(|(p, _)| p);
    if message.starts_with("unknown field") {
        let within = parent.map_or("the config root".to_string(), |p| format!("[{p}]"));
        return anyhow!(
            "{}: {path} is not a setting; {within} has no such field: {message} ({SEE})",
            s.source
        );
    }
    // A path through a value, which was unset and so taken for a section on the way.
    if message.starts_with("invalid type: map") && at != path {
        return anyhow!(
            "{}: {at} is a value, not a section, so it has no field {:?}; set {at} itself \
             ({message})",
            s.source,
            path[at.len()..].trim_start_matches('.')
        );
    }
    anyhow!(
        "{}: {path} cannot be {:?}: {message} ({SEE})",
        s.source,
        s.text
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(config: &mut Config, pairs: &[&str]) -> anyhow::Result<()> {
        let settings: Vec<_> = pairs
            .iter()
            .map(|p| PathSetting::from_flag(p))
            .collect::<anyhow::Result<_>>()?;
        apply(config, &settings)
    }

    #[test]
    fn sets_fields_of_several_sections_by_path() {
        let mut c = Config::default();
        set(
            &mut c,
            &[
                "kafka.linger_ms=7",
                "kafka.bootstrap_servers=broker:9093",
                "schedule.rate_per_sec=2.5",
                "schedule.duration=90s",
                "http.format=ndjson",
                "ingest.listen=127.0.0.1:9000",
                "profile.timezone=Europe/Paris",
                "weights.sale=0.5",
                "kafka.topics.sale=sales-v2",
                "sinks=stdout,null",
                "seed=7",
                "kafka.librdkafka.\"socket.timeout.ms\"=5000",
            ],
        )
        .unwrap();
        assert_eq!(c.kafka.linger_ms, 7);
        assert_eq!(c.kafka.bootstrap_servers, "broker:9093");
        assert_eq!(c.schedule.rate_per_sec, Some(2.5));
        assert_eq!(c.schedule.duration.map(|d| d.0.as_secs()), Some(90));
        assert_eq!(c.http.format, crate::sinks::http::BodyFormat::Ndjson);
        assert_eq!(c.ingest.listen.to_string(), "127.0.0.1:9000");
        assert_eq!(c.profile.timezone, "Europe/Paris");
        assert_eq!(c.weights.get("sale"), Some(&0.5));
        assert_eq!(
            c.kafka.topics.get("sale").map(String::as_str),
            Some("sales-v2")
        );
        use crate::sinks::SinkKind;
        assert_eq!(c.sinks, vec![SinkKind::Stdout, SinkKind::Null]);
        assert_eq!(c.seed, Some(7));
        assert_eq!(
            c.kafka
                .librdkafka
                .0
                .get("socket.timeout.ms")
                .map(String::as_str),
            Some("5000")
        );
    }

    #[test]
    fn other_fields_and_secrets_survive_a_setting() {
        use crate::sinks::kafka::Secret;
        let mut c = Config {
            seed: Some(u64::MAX),
            ..Config::default()
        };
        c.kafka.security.sasl_password = Some(Secret::new("hunter2"));
        c.http.authorization = Some(Secret::new("Bearer t"));
        c.kafka
            .librdkafka
            .0
            .insert("sasl.jaas.config".into(), "j".into());
        set(&mut c, &["kafka.linger_ms=9"]).unwrap();
        assert_eq!(c.seed, Some(u64::MAX));
        let pw = c.kafka.security.sasl_password.as_ref().map(Secret::expose);
        assert_eq!(pw, Some("hunter2"));
        let auth = c.http.authorization.as_ref().map(Secret::expose);
        assert_eq!(auth, Some("Bearer t"));
        assert_eq!(c.kafka.librdkafka.0["sasl.jaas.config"], "j");
        // Printing still redacts once the setting is done.
        assert!(!c.to_toml().unwrap().contains("hunter2"));
    }

    /// Issue 30: tokens from `KAFKA_GEN_AUTH_TOKENS` are never written out, so the round trip
    /// through the tree would drop them, and with them the listeners' authentication.
    #[test]
    fn tokens_from_the_environment_survive_a_setting_and_are_never_printed() {
        use crate::sinks::kafka::Secret;
        let mut c = Config::default();
        c.auth.env_tokens = Some(Secret::new("0123456789abcdef0123"));
        set(
            &mut c,
            &["auth.token_file=/run/tokens", "kafka.linger_ms=9"],
        )
        .unwrap();
        let tokens = c.auth.env_tokens.as_ref().map(Secret::expose);
        assert_eq!(tokens, Some("0123456789abcdef0123"));
        assert_eq!(c.auth.token_file, Some("/run/tokens".into()));
        let printed = format!("{}\n{c:?}", c.to_toml().unwrap());
        assert!(!printed.contains("0123456789abcdef0123"), "{printed}");
    }

    #[test]
    fn a_bad_path_or_value_names_both_and_what_is_allowed() {
        let err = |pair: &str| format!("{:#}", set(&mut Config::default(), &[pair]).unwrap_err());
        let e = err("kafka.lingr_ms=5");
        assert!(
            e.starts_with("--conf kafka.lingr_ms=5: kafka.lingr_ms is not a setting"),
            "{e}"
        );
        assert!(
            e.contains("expected one of") && e.contains("`linger_ms`"),
            "{e}"
        );
        let e = err("kafak.linger_ms=5");
        assert!(
            e.contains("kafak.linger_ms is not a setting") && e.contains("`kafka`"),
            "{e}"
        );
        let e = err("kafka.linger_ms=soon");
        assert!(
            e.contains("kafka.linger_ms cannot be \"soon\"") && e.contains("u32"),
            "{e}"
        );
        let e = err("schedule.duration=forever");
        assert!(e.contains("\"forever\"") && e.contains("90s"), "{e}");
        let e = err("seed.x=1");
        assert!(e.contains("seed is a value, not a section"), "{e}");
        let e = err("kafka.linger_ms.x=1");
        assert!(
            e.contains("kafka.linger_ms is a value, not a section"),
            "{e}"
        );
        let e = err("nopath");
        assert!(e.contains("expected PATH=VALUE"), "{e}");
        let e = err("kafka..x=1");
        assert!(e.contains("is not a dotted path"), "{e}");
    }

    #[test]
    fn environment_names_map_to_paths() {
        let s = PathSetting::from_env("KAFKA_GEN__KAFKA__LINGER_MS", "5")
            .unwrap()
            .unwrap();
        assert_eq!(s.path, ["kafka", "linger_ms"]);
        assert!(PathSetting::from_env("KAFKA_GEN_RATE", "5").is_none());
        let e = PathSetting::from_env("KAFKA_GEN__KAFKA____X", "5")
            .unwrap()
            .unwrap_err();
        assert!(e.to_string().contains("empty part"), "{e}");
    }
}
