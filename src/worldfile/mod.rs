//! Worlds described in a YAML file (`worlds/README.md` documents the format): parsed once,
//! compiled to a [`model::Model`], and served through the same [`crate::scenario::Scenario`]
//! interface as the built-in retail world.
//!
//! - [`format`]: the file's shape (serde, and its JSON Schema via schemars);
//! - [`parse`] (`lex`: its tokens; `parse_template`), [`compile`], [`expr`], [`value`],
//!   [`fake`]: expressions, from text to typed, slot-resolved trees and their evaluation
//!   (`ops`: the operators, `op_types`: their types);
//!   [`tables`]: the master data and state they read;
//! - [`template`]: payload templates, written straight to the output buffer;
//! - [`build`], `build_expr`, `params`, [`events`] (and `uses`, where each name is read),
//!   [`model`]: the whole file compiled, with located errors;
//! - [`master`]: entities made, written and loaded;
//! - `file_scenario`: a compiled world as a [`crate::scenario::Scenario`] ([`FileScenario`]);
//! - [`runtime`]: the world that runs: state, picks, effects, follow-ups; `queue`: the
//!   follow-ups waiting for their time and the values they carry;
//! - [`contract`]: the checks `consume` and the ingest API derive from the file;
//! - [`checks`], `check_compile`, [`check_run`]: the rules a file states in `checks:`,
//!   compiled per event type and run on events as emitted;
//! - [`roles`]: where an `envelope: none` payload keeps its event id, time and cause;
//! - [`tally`]: per event type, the draws and what refused them; `trial`: `check`'s trial run;
//! - [`schema`]: JSON Schema per event type;
//! - [`pace`]: the world's default pace; [`capacity`]: the population it needs at a pace;
//!   [`aliases`]: its source document's option names;
//! - [`builtin`]: the world files shipped in the binary (music, tutoring, web, bnpl).

pub mod aliases;
pub mod build;
mod build_expr;
pub mod builtin;
mod call;
pub mod capacity;
pub mod carried;
mod check_compile;
pub mod check_run;
pub mod checks;
#[cfg(test)]
mod checks_recent_tests;
#[cfg(test)]
mod checks_tests;
pub mod compile;
pub mod compiled;
#[cfg(test)]
mod compiled_tests;
pub mod contract;
mod effects;
pub mod error;
mod event_compile;
pub mod events;
pub mod expr;
pub mod fake;
mod file_scenario;
pub mod filter;
mod fn_draws;
mod fn_math;
mod fn_zone;
pub mod format;
pub mod functions;
mod groups;
pub mod index;
mod lex;
pub mod master;
pub mod model;
mod op_types;
mod ops;
pub mod pace;
mod params;
pub mod parse;
mod parse_template;
pub mod per;
#[cfg(test)]
mod per_tests;
pub mod pick;
pub mod program;
mod queue;
pub mod roles;
pub mod rows;
pub mod runtime;
pub mod schema;
mod shape;
mod show;
mod snapshot;
pub mod tables;
pub mod tally;
pub mod template;
#[cfg(test)]
mod template_tests;
#[cfg(test)]
mod test_support;
mod ticks;
pub mod trial;
mod uses;
pub mod value;
pub mod window;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use crate::exit::BadInputExt;
use error::WorldError;
pub use file_scenario::FileScenario;
use model::Model;

/// Reads and compiles a world file with parameter overrides (`--set`).
pub fn load(path: &Path, overrides: &BTreeMap<String, String>) -> Result<Model, WorldError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| WorldError {
        file: file.clone(),
        line: None,
        column: None,
        path: String::new(),
        message: format!("cannot read the world file: {e}"),
    })?;
    compile_text(&file, &text, overrides)
}

/// [`load`] for a `--world` value: a path, or a shipped world's name (`music`).
pub fn load_named(world: &Path, overrides: &BTreeMap<String, String>) -> Result<Model, WorldError> {
    match world.to_str().and_then(builtin::get) {
        Some(b) if !is_path(b.name) => compile_text(b.file, b.text, overrides),
        _ => load(world, overrides),
    }
}

/// Compiles a world file's text; `file` names it in errors.
pub fn compile_text(
    file: &str,
    text: &str,
    overrides: &BTreeMap<String, String>,
) -> Result<Model, WorldError> {
    let parsed: format::WorldFile = serde_yaml_ng::from_str(text).map_err(|e| {
        let loc = e.location();
        let mut message = e.to_string();
        if let Some(cut) = message.find(" at line ") {
            message.truncate(cut);
        }
        if message.starts_with("mapping values are not allowed") {
            // YAML reads `: ` inside an unquoted value as a new key: `a ? b : c` and
            // `format('x: {}', v)` both need quotes, which nothing else tells a new user.
            message.push_str(
                "; a value with `: ` in it (such as `${a ? b : c}`) must be quoted: \"${a ? b : c}\"",
            );
        }
        WorldError {
            file: file.to_string(),
            line: loc.as_ref().map(|l| l.line()),
            column: loc.as_ref().map(|l| l.column()),
            path: String::new(),
            message,
        }
    })?;
    let mut overrides = overrides.clone();
    // A parameter's own environment variables (`STREAM_COUNT`), below --set.
    for (name, decl) in &parsed.params {
        let vars = decl
            .env
            .iter()
            .cloned()
            .chain([format!("KAFKA_GEN_PARAM_{}", name.to_uppercase())]);
        for var in vars {
            if let Ok(v) = std::env::var(&var) {
                overrides.entry(name.clone()).or_insert(v);
            }
        }
    }
    build::build(&build::Source { file, text }, parsed, &overrides)
}

/// One `NAME=VALUE` parameter setting; `source` (`--set`, `KAFKA_GEN_SET`) names it in errors.
pub fn param_pair(pair: &str, source: &str) -> anyhow::Result<(String, String)> {
    pair.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
        .ok_or_else(|| anyhow::anyhow!("{source} {pair:?}: write NAME=VALUE, e.g. num_users=50"))
}

/// Parameter overrides for worlds found by name through [`crate::scenario::find`]: set once
/// from the config (`[params]`, `KAFKA_GEN_PARAM_*`, `--set`) before any world is loaded.
static PARAMS: Mutex<BTreeMap<String, String>> = Mutex::new(BTreeMap::new());

pub fn set_params(params: BTreeMap<String, String>) {
    if let Ok(mut p) = PARAMS.lock() {
        *p = params;
    }
}

/// Whether a scenario name is a world file's path.
pub fn is_path(name: &str) -> bool {
    name.ends_with(".yaml") || name.ends_with(".yml") || name.contains('/')
}

type Cache = Mutex<HashMap<(PathBuf, BTreeMap<String, String>), &'static FileScenario>>;

/// The scenario of a world file, compiled once per path and parameters for the process.
pub fn scenario(path: &Path) -> anyhow::Result<&'static FileScenario> {
    cached(path.to_path_buf(), || {
        let file = path.display().to_string();
        let data_dir = Path::new("data").join("worlds");
        Ok((file, None, data_dir))
    })
}

/// The scenario of a shipped world file (`music`), compiled once per parameters. Its master
/// data lives in `data/<name>` by default.
pub fn builtin_scenario(b: &'static builtin::Builtin) -> anyhow::Result<&'static FileScenario> {
    // Not a path a user could name: `builtin:` cannot start a file's path here.
    let key = PathBuf::from(format!("builtin:{}", b.name));
    cached(key, || {
        Ok((b.file.to_string(), Some(b.text), PathBuf::from("data")))
    })
}

/// The file's name in messages, its text if it is not to be read from that name, and the
/// directory its default data directory `<dir>/<world>` is in.
type Found = (String, Option<&'static str>, PathBuf);

fn cached(
    key: PathBuf,
    find: impl FnOnce() -> anyhow::Result<Found>,
) -> anyhow::Result<&'static FileScenario> {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let params = PARAMS.lock().map(|p| p.clone()).unwrap_or_default();
    let key = (key, params);
    let cache = CACHE.get_or_init(Default::default);
    if let Some(s) = cache.lock().ok().and_then(|c| c.get(&key).copied()) {
        return Ok(s);
    }
    let (file, text, data_root) = find()?;
    let model = match text {
        Some(text) => compile_text(&file, text, &key.1),
        None => load(Path::new(&file), &key.1),
    }
    .bad_input()?;
    let mut s = FileScenario::new(model);
    s.data_root = data_root;
    let s: &'static FileScenario = Box::leak(Box::new(s));
    if let Ok(mut c) = cache.lock() {
        c.insert(key, s);
    }
    if let Ok(mut names) = NAMES.lock() {
        names.insert(s.name.to_string(), s);
    }
    Ok(s)
}

/// World files loaded so far, by world name (the last one loaded wins), so that what knows a
/// world only by name (a `serve` request, a config built from it) finds it.
static NAMES: Mutex<BTreeMap<String, &'static FileScenario>> = Mutex::new(BTreeMap::new());

/// A world file already loaded in this process, by its world name.
pub fn by_name(name: &str) -> Option<&'static FileScenario> {
    NAMES.lock().ok().and_then(|n| n.get(name).copied())
}

/// What `kafka-gen check` prints: parameters, entities, state and event types.
pub fn describe(model: &Model) -> String {
    use std::fmt::Write;
    let kinds: Vec<String> = model.kinds.iter().map(|k| k.name.clone()).collect();
    let mut s = String::new();
    let _ = writeln!(s, "world {}: {}", model.name, model.description);
    if !model.params.is_empty() {
        let _ = writeln!(s, "parameters:");
        for (name, v) in &model.params {
            let doc = model
                .param_docs
                .get(name)
                .filter(|d| !d.is_empty())
                .map(|d| format!("  ({d})"))
                .unwrap_or_default();
            let _ = writeln!(s, "  {name} = {v}{doc}");
        }
    }
    let _ = writeln!(s, "entities:");
    for k in &model.kinds {
        let fields: Vec<String> = k
            .fields
            .iter()
            .map(|(n, node)| format!("{n}: {}", node.ty().describe(&kinds)))
            .collect();
        let _ = writeln!(
            s,
            "  {} x{} (id `{}`): {}",
            k.name,
            k.count,
            k.id_field,
            fields.join("; ")
        );
        for v in &k.state {
            let _ = writeln!(s, "    state {}: {}", v.name, v.ty.describe(&kinds));
        }
        for (w, len) in &k.windows {
            let _ = writeln!(s, "    window {w}: {} h", *len as f64 / 3.6e6);
        }
    }
    for g in &model.globals {
        let _ = writeln!(s, "  global {}: {}", g.name, g.ty.describe(&kinds));
    }
    let total: f64 = model.events.iter().map(|e| e.weight).sum();
    let _ = writeln!(s, "events:");
    for e in &model.events {
        let share = if let Some(per) = &e.per {
            let kind = &model.kinds[per.kind as usize].name;
            format!("per entity, on each of the {kind}' own clocks")
        } else if e.weight > 0.0 {
            format!("{:.1}% of primary draws", 100.0 * e.weight / total)
        } else {
            "follow-up only".into()
        };
        let follows: Vec<&str> = e
            .follow
            .iter()
            .map(|f| model.events[f.target as usize].name.as_str())
            .collect();
        let then = if follows.is_empty() {
            String::new()
        } else {
            format!(", then {}", follows.join(", "))
        };
        let key = if e.key_field.is_empty() {
            "no key".to_string()
        } else {
            format!("key {}", e.key_field)
        };
        let _ = writeln!(
            s,
            "  {} -> topic {} ({key}; {share}{then})",
            e.name, e.topic
        );
    }
    if !model.checks.rules.is_empty() {
        let _ = writeln!(s, "checks:");
    }
    for r in &model.checks.rules {
        let on: Vec<&str> =
            r.on.iter()
                .map(|&t| model.events[t as usize].name.as_str())
                .collect();
        let _ = writeln!(s, "  {} (on {}): {}", r.name, on.join(", "), r.text);
    }
    s
}
