//! Merging defaults, the config file, the environment and the flags into one [`Config`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use super::env::{apply_env, Env};
use super::flags::{apply_flags, flags_pace};
use super::notes::Note;
use super::path::{self, PathSetting};
use super::{Config, SinkKind};
use crate::cli::RunArgs;

/// Read when neither `--config` nor `KAFKA_GEN_CONFIG` names a file; optional.
pub const DEFAULT_CONFIG_PATH: &str = "config/generator.toml";

/// Builds the effective configuration: defaults < file < environment < flags, then validates.
pub fn resolve(args: &RunArgs) -> anyhow::Result<Config> {
    resolve_with_env(args, std::env::vars())
}

/// [`resolve`] with the environment passed in, for tests.
pub fn resolve_with_env(
    args: &RunArgs,
    vars: impl IntoIterator<Item = (String, String)>,
) -> anyhow::Result<Config> {
    resolve_noted(args, vars).map(|(config, _)| config)
}

/// [`resolve_with_env`], and the notes to log once logging is set up.
pub fn resolve_noted(
    args: &RunArgs,
    vars: impl IntoIterator<Item = (String, String)>,
) -> anyhow::Result<(Config, Vec<Note>)> {
    let mut notes = Vec::new();
    let mut alias = None;
    let mut env_params = Vec::new();
    let mut env_paths = Vec::new();
    let mut vars: Vec<(String, String)> = vars.into_iter().collect();
    let alias_params = super::world_env::apply(args, &mut vars, &mut notes)?;
    let mut vars: Vec<(String, String)> = vars
        .into_iter()
        .filter(|(k, v)| {
            if k == "KAFKA_BOOTSTRAP_SERVERS" {
                alias = Some(v.clone());
            }
            if let Some(setting) = PathSetting::from_env(k, v) {
                env_paths.push(setting);
                return false;
            }
            if let Some(name) = k.strip_prefix("KAFKA_GEN_PARAM_") {
                env_params.push((name.to_lowercase(), v.clone()));
                return false;
            }
            k.starts_with("KAFKA_GEN_")
        })
        .collect();
    if let Some(servers) = alias {
        let used = !vars.iter().any(|(k, _)| k == "KAFKA_GEN_BOOTSTRAP_SERVERS");
        if used {
            vars.push(("KAFKA_GEN_BOOTSTRAP_SERVERS".into(), servers));
        }
        notes.push(Note::BootstrapAlias { used });
    }
    let env: Env = envy::prefixed("KAFKA_GEN_")
        .from_iter(vars)
        .map_err(super::env::env_error)?;
    // Sorted, so that two variables setting one path resolve the same way on every platform.
    let mut env_paths: Vec<PathSetting> = env_paths.into_iter().collect::<anyhow::Result<_>>()?;
    env_paths.sort_by(|a, b| a.source.cmp(&b.source));
    let flag_paths: Vec<PathSetting> = (args.config.conf.iter())
        .map(|pair| PathSetting::from_flag(pair))
        .collect::<anyhow::Result<_>>()?;
    let paths = || env_paths.iter().chain(&flag_paths);
    for s in paths() {
        super::legacy::check_path(&s.source, &s.path)?;
    }

    let (path, explicit) = match (&args.config.config, &env.config) {
        (Some(p), _) | (None, Some(p)) => (p.clone(), true),
        (None, None) => (PathBuf::from(DEFAULT_CONFIG_PATH), false),
    };
    let (mut config, file_names_data_dir) = load_file(&path, explicit)?;
    notes.push(if explicit || path.exists() {
        Note::Loaded(path.clone())
    } else {
        Note::NoFile
    });
    let paced = config.schedule.paces() || env.sets_pacing() || flags_pace(args);
    let given = super::world_pace::Given::new(&config.schedule, &env, args);
    let output_from = match (&args.output, &env.output) {
        (Some(p), _) => Some(format!("--output {}", p.display())),
        (None, Some(p)) => Some(format!("KAFKA_GEN_OUTPUT={}", p.display())),
        (None, None) => None,
    };
    // A config file's weights, topics and data directory belong to the scenario it names; a
    // run of another scenario (from the environment or a flag) starts from that one's defaults.
    let world = args.world.as_ref().map(|w| w.display().to_string());
    let env_world = env.world.as_ref().map(|w| w.display().to_string());
    let path_scenario = paths()
        .rfind(|s| s.path == ["scenario"])
        .map(|s| s.text.clone());
    let scenario = path_scenario
        .as_ref()
        .or(world.as_ref())
        .or(args.scenario.as_ref())
        .or(env_world.as_ref())
        .or(env.scenario.as_ref());
    let switched = scenario.is_some_and(|s| *s != config.scenario);
    if switched {
        config.weights.clear();
        config.kafka.topics.clear();
    }
    let data_dir_given = (file_names_data_dir && !switched)
        || env.data_dir.is_some()
        || args.data_dir.is_some()
        || paths().any(|s| s.path == ["data_dir"]);
    apply_env(&mut config, env)?;
    for (name, value) in alias_params.into_iter().chain(env_params) {
        config.params.insert(name, toml::Value::String(value));
    }
    let before_paths = config.schedule.clone();
    path::apply(&mut config, &env_paths)?;
    apply_flags(&mut config, args)?;
    path::apply(&mut config, &flag_paths)?;
    let paced = paced || config.schedule.paces_beyond(&before_paths);
    super::world_env::streams(&mut config);
    crate::worldfile::set_params(config.param_texts());
    super::world_pace::apply(&mut config, &given, &mut notes);
    if !data_dir_given {
        if let Ok(s) = crate::scenario::find(&config.scenario) {
            config.data_dir = s.default_data_dir();
        }
    }
    if let Some(from) = output_from.filter(|_| !config.sinks.contains(&SinkKind::File)) {
        let sinks: Vec<String> = config
            .sinks
            .iter()
            .map(|k| format!("{k:?}").to_lowercase())
            .collect();
        bail!(
            "{from} is given but the sinks ({}) have no file sink, so nothing would be written \
             there; add file to --sink (e.g. --sink {},file) or leave out --output",
            sinks.join(","),
            sinks.join(",")
        );
    }
    // Issue 10: `--count 10000` alone ran at the live pace of 10-60 s an event, about four
    // days. A bounded run nobody asked to pace goes as fast as the sinks take events, on a
    // simulated clock with the same drawn gaps, so the event times look as they would live.
    let s = &mut config.schedule;
    if s.count.is_some() && s.start.is_none() && s.end.is_none() && !paced {
        s.ends_now = true;
        notes.push(Note::FastCount);
    }
    config.validate()?;
    Ok((config, notes))
}

/// The file's configuration, and whether it names `data_dir` itself.
fn load_file(path: &Path, explicit: bool) -> anyhow::Result<(Config, bool)> {
    if !explicit && !path.exists() {
        return Ok((Config::default(), false));
    }
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "cannot read config file {}; check the path given to --config",
            path.display()
        )
    })?;
    if let Ok(table) = text.parse::<toml::Table>() {
        super::legacy::check_file(&path.display().to_string(), &table)?;
    }
    let mut config: Config = parse_file(path, &text)?;
    // Data paths in a config file are relative to the working directory, like flags.
    if config.data_dir.as_os_str().is_empty() {
        bail!(
            "config file {}: data_dir is empty; name the master data directory",
            path.display()
        );
    }
    config.weights = merge_weights(&BTreeMap::new(), &config.weights);
    let names_data_dir = text
        .parse::<toml::Table>()
        .is_ok_and(|t| t.contains_key("data_dir"));
    Ok((config, names_data_dir))
}

/// Parses a config file; an error names the file, the line and column, and the key.
fn parse_file(path: &Path, text: &str) -> anyhow::Result<Config> {
    let located = |e: &toml::de::Error, key: Option<String>| {
        let at = e
            .span()
            .and_then(|span| text.get(..span.start))
            .map(|before| {
                let line = before.matches('\n').count() + 1;
                let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                format!(", line {line}, column {column}")
            })
            .unwrap_or_default();
        let key = key
            .filter(|k| k != ".")
            .map(|k| format!("{k}: "))
            .unwrap_or_default();
        anyhow::anyhow!("config file {}{at}: {key}{}", path.display(), e.message())
    };
    let de = toml::Deserializer::parse(text).map_err(|e| located(&e, None))?;
    serde_path_to_error::deserialize(de).map_err(|e| located(e.inner(), Some(e.path().to_string())))
}

/// `name` as a scenario's own type name when it is one of its aliases (`sales` -> `sale`);
/// only retail has such aliases.
fn unaliased(name: &str) -> &str {
    use crate::scenario::Scenario;
    (crate::scenario::retail::Retail.weight_aliases().iter())
        .find(|(alias, _)| *alias == name)
        .map_or(name, |(_, to)| *to)
}

/// `over` on top of `base`; a type named in `over` replaces it in `base` under either name.
pub(super) fn merge_weights(
    base: &BTreeMap<String, f64>,
    over: &BTreeMap<String, f64>,
) -> BTreeMap<String, f64> {
    let mut merged = base.clone();
    merged.retain(|k, _| !over.keys().any(|o| unaliased(o) == unaliased(k)));
    merged.extend(over.iter().map(|(k, v)| (k.clone(), *v)));
    merged
}

/// Parses `sale=0.6,price_change=0.05`.
pub(super) fn parse_weights(text: &str, source: &str) -> anyhow::Result<BTreeMap<String, f64>> {
    text.split(',')
        .filter(|part| !part.trim().is_empty())
        .map(|part| {
            let (name, value) = part.split_once('=').with_context(|| {
                format!(
                    "{source}: {part:?} is not TYPE=WEIGHT; write e.g. sale=0.6,price_change=0.05"
                )
            })?;
            let weight: f64 = value.trim().parse().map_err(|_| {
                anyhow::anyhow!("{source}: weight {value:?} for {name:?} is not a number")
            })?;
            Ok((name.trim().to_string(), weight))
        })
        .collect()
}

pub(super) fn parse_sinks(text: &str) -> anyhow::Result<Vec<SinkKind>> {
    use clap::ValueEnum;
    text.split(',')
        .map(|s| {
            SinkKind::from_str(s.trim(), true).map_err(|_| {
                anyhow::anyhow!(
                    "KAFKA_GEN_SINK: unknown sink {s:?}; use kafka, stdout, file, null or http"
                )
            })
        })
        .collect()
}

/// Parses `HOST:PORT` where HOST is an IP address (`0.0.0.0:9464`).
pub fn parse_listen(text: &str, source: &str) -> anyhow::Result<std::net::SocketAddr> {
    text.trim().parse().map_err(|_| {
        anyhow::anyhow!("{source}: {text:?} is not an IP:PORT address; write e.g. 0.0.0.0:9464")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn file(text: &str) -> (tempfile::TempDir, RunArgs) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, text).unwrap();
        (
            dir,
            RunArgs {
                config: crate::cli::ConfigArgs {
                    config: Some(path),
                    ..Default::default()
                },
                ..Default::default()
            },
        )
    }

    #[test]
    fn precedence_is_defaults_file_env_flags() {
        let (_dir, mut args) =
            file("[schedule]\nmin_delta_secs = 2\nmax_delta_secs = 20\n[weights]\nsale = 0.7\n");
        let c = resolve_with_env(&args, env(&[])).unwrap();
        assert_eq!(
            (c.schedule.min_delta_secs, c.schedule.max_delta_secs),
            (2.0, 20.0)
        );
        assert_eq!(c.stats_interval_secs, 10.0);

        let e = env(&[
            ("KAFKA_GEN_MAX_DELTA", "30"),
            ("KAFKA_GEN_WEIGHTS", "price_change=0.2"),
            ("OTHER", "x"),
        ]);
        let c = resolve_with_env(&args, e.clone()).unwrap();
        assert_eq!(
            (c.schedule.min_delta_secs, c.schedule.max_delta_secs),
            (2.0, 30.0)
        );
        assert_eq!(c.weights.get("sale"), Some(&0.7));
        assert_eq!(c.weights.get("price_change"), Some(&0.2));

        args.max_delta = Some(40.0);
        let c = resolve_with_env(&args, e).unwrap();
        assert_eq!(c.schedule.max_delta_secs, 40.0);
    }

    #[test]
    fn bad_input_is_named() {
        let err = |text: &str, vars: &[(&str, &str)]| {
            let (_dir, args) = file(text);
            format!("{:#}", resolve_with_env(&args, env(vars)).unwrap_err())
        };
        assert!(err("bogus = 1\n", &[]).contains("unknown field `bogus`"));
        assert!(err("[schedule\n", &[]).contains("c.toml"));
        assert!(err("[weights]\nsale = -0.5\n", &[]).contains("weight for \"sale\" is -0.5"));
        assert!(err("[weights]\nsale = nan\n", &[]).contains("weight for \"sale\" is NaN"));
        assert!(err("[weights]\nrefund = 1\n", &[]).contains("unknown event type \"refund\""));
        let all_zero = "[weights]\nsale=0\ninventory_update=0\ncustomer_event=0\nprice_change=0\nrestock_alert=0\n";
        assert!(err(all_zero, &[]).contains("all event weights are zero"));
        assert!(err("", &[("KAFKA_GEN_MIN_DELTA", "70")])
            .contains("min delta 70s is greater than max delta 60s"));
        assert!(err("", &[("KAFKA_GEN_MIN_DELTA", "-1")]).contains("min delta is -1"));
        assert!(err("", &[("KAFKA_GEN_RATE", "0")]).contains("rate is 0"));
        assert!(err("", &[("KAFKA_GEN_COUNT", "0")]).contains("count is 0"));
        assert!(err("", &[("KAFKA_GEN_DURATION", "-3")]).contains("\"-3\""));
        let typo = err("", &[("KAFKA_GEN_MAX_DELTAS", "3")]);
        assert!(typo.contains("KAFKA_GEN_MAX_DELTAS is not one kafka-gen reads; did you mean KAFKA_GEN_MAX_DELTA?"), "{typo}");
        let count = err("", &[("KAFKA_GEN_COUNT", "many")]);
        assert!(
            count.contains(
                "KAFKA_GEN_COUNT: invalid digit found in string while parsing value 'many'"
            ),
            "{count}"
        );
        assert!(err("", &[("KAFKA_GEN_SINK", "kafak")]).contains("unknown sink \"kafak\""));
        assert!(err("", &[("KAFKA_GEN_SINK", "file")]).contains("needs a path"));
        assert!(err("", &[("KAFKA_GEN_SINK", "http")]).contains("--http-endpoint"));
        assert!(err("", &[("KAFKA_GEN_METRICS_LISTEN", "localhost")]).contains("\"localhost\""));
        let bad_url = [
            ("KAFKA_GEN_SINK", "http"),
            ("KAFKA_GEN_HTTP_ENDPOINT", "nope"),
        ];
        assert!(err("", &bad_url).contains("\"nope\""));

        let mut args = RunArgs::default();
        args.config.config = Some("/nonexistent/x.toml".into());
        let e = format!("{:#}", resolve_with_env(&args, env(&[])).unwrap_err());
        assert!(e.contains("/nonexistent/x.toml"), "{e}");
    }

    #[test]
    fn output_implies_file_sink_and_continuous_clears_limits() {
        let (_dir, mut args) = file("[schedule]\ncount = 5\nduration = \"2h\"\n");
        args.output = Some("out.jsonl".into());
        args.continuous = true;
        let c = resolve_with_env(&args, env(&[])).unwrap();
        assert_eq!(c.sinks, vec![SinkKind::File]);
        assert_eq!((c.schedule.count, c.schedule.duration), (None, None));
    }

    #[test]
    fn http_settings_merge_and_the_authorization_stays_secret() {
        let (_dir, mut args) = file("[http]\nbatch_size = 50\nconcurrency = 2\n");
        let vars = env(&[
            ("KAFKA_GEN_SINK", "kafka,http"),
            ("KAFKA_GEN_HTTP_ENDPOINT", "http://ingest-api:8080/events"),
            ("KAFKA_GEN_HTTP_AUTHORIZATION", "Bearer hunter2"),
            ("KAFKA_GEN_HTTP_CONCURRENCY", "4"),
        ]);
        args.http_batch_size = Some(100);
        let c = resolve_with_env(&args, vars).unwrap();
        assert_eq!(c.sinks, vec![SinkKind::Kafka, SinkKind::Http]);
        assert_eq!(
            c.http.endpoint.as_deref(),
            Some("http://ingest-api:8080/events")
        );
        assert_eq!((c.http.concurrency, c.http.batch_size), (4, 100));
        assert_eq!(
            c.http.authorization.as_ref().map(|s| s.expose()),
            Some("Bearer hunter2")
        );
        let printed = format!("{}\n{c:?}", c.to_toml().unwrap());
        assert!(!printed.contains("hunter2"), "{printed}");
    }

    #[test]
    fn printed_config_reads_back() {
        let (_dir, args) =
            file("seed = 7\n[schedule]\nduration = 90\nstart = \"2025-01-01T00:00:00Z\"\n");
        let c = resolve_with_env(&args, env(&[])).unwrap();
        let back: Config = toml::from_str(&c.to_toml().unwrap()).unwrap();
        assert_eq!(back, c);
    }
}
