//! A world file's environment aliases (`aliases: env:`): the variables of its source
//! document, read as the `KAFKA_GEN_*` variable or parameter they stand for, below it when
//! both are set (as `KAFKA_BOOTSTRAP_SERVERS` is read as `KAFKA_GEN_BOOTSTRAP_SERVERS`).

use anyhow::bail;

use super::Note;
use crate::cli::RunArgs;
use crate::worldfile::aliases::{self, Target};

/// The world file this run names, by flag or by environment: a path, or a shipped world's
/// name (`music`).
fn world_path(args: &RunArgs, vars: &[(String, String)]) -> Option<String> {
    let var = |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    args.world
        .as_ref()
        .map(|w| w.display().to_string())
        .or_else(|| args.scenario.clone())
        .or_else(|| var("KAFKA_GEN_WORLD"))
        .or_else(|| var("KAFKA_GEN_SCENARIO"))
        .filter(|w| crate::worldfile::builtin::names_a_world_file(w))
}

/// `streams` (`streams = N` in the config file, `KAFKA_GEN_STREAMS`, a `serve` request) as
/// the parameter the world's `--streams` alias names (music's `threads`), unless that
/// parameter is set itself: the Rust worlds took `streams` before issue 11.
pub(super) fn streams(config: &mut super::Config) {
    let Some(n) = config.streams else { return };
    let Some(table) = Some(config.scenario.as_str())
        .filter(|w| crate::worldfile::builtin::names_a_world_file(w))
        .and_then(aliases::read)
    else {
        return;
    };
    if let Some(Target::Param(p)) = table.flags.get("--streams").map(aliases::target) {
        (config.params.entry(p.to_string())).or_insert_with(|| toml::Value::Integer(n.into()));
    }
}

/// Adds to `vars` the `KAFKA_GEN_*` variables the world's aliases stand for, and returns the
/// parameters they set.
pub(super) fn apply(
    args: &RunArgs,
    vars: &mut Vec<(String, String)>,
    notes: &mut Vec<Note>,
) -> anyhow::Result<Vec<(String, String)>> {
    let Some(table) = world_path(args, vars).and_then(|p| aliases::read(&p)) else {
        return Ok(vec![]);
    };
    let mut params = vec![];
    for (name, alias) in &table.env {
        let Some(value) = vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()) else {
            continue;
        };
        match aliases::target(alias) {
            Target::Env(to) => {
                let used = !vars.iter().any(|(k, _)| k == to);
                if used {
                    vars.push((to.to_string(), format!("{value}{}", alias.suffix)));
                    // What else the alias means (tutoring's INGEST_API_URL: the http sink,
                    // one event per request), below what the user set.
                    for (var, v) in &alias.sets {
                        if !vars.iter().any(|(k, _)| k == var) {
                            vars.push((var.clone(), v.clone()));
                            notes.push(Note::WorldAlias(format!("{name} sets {var}={v}.")));
                        }
                    }
                }
                notes.push(Note::WorldAlias(if used {
                    format!("Using {name} as {to}.")
                } else {
                    format!("Ignoring {name}: {to} is set and wins.")
                }));
            }
            Target::Param(p) => params.push((p.to_string(), format!("{value}{}", alias.suffix))),
            Target::Ignore(why) => notes.push(Note::WorldAlias(format!("Ignoring {name}: {why}"))),
            Target::Reject(why) => bail!("{name} is set, but it is not supported: {why}"),
            Target::Flag(_) => {}
        }
    }
    Ok(params)
}
