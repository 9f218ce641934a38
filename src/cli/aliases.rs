//! The pre-pass that gives a world file's option aliases (`aliases:`, see
//! `worldfile::aliases`) their meaning: once the world is known (`--world FILE`, a
//! `--scenario` or `KAFKA_GEN_WORLD`/`KAFKA_GEN_SCENARIO` that is a path, or the file of
//! `kafka-gen check FILE`), its flags and
//! config keys are rewritten into kafka-gen's own (`--num-songs 200` into
//! `--set num_songs=200`, `--api-endpoint URL` into `--http-endpoint=URL`) before clap reads
//! the line. Anything not declared is left alone, so an unknown flag is still an error.

use std::ffi::OsString;
use std::path::Path;

use anyhow::{anyhow, bail, Context};

use crate::worldfile::aliases::{self, Target};
use crate::worldfile::format::{AliasDecl, AliasesDecl, Yaml};

/// The world file a command line runs, from its flags or else the environment: a path, or a
/// shipped world's name (`--scenario music`).
pub fn world_path(args: &[OsString], env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let mut from_flags = None;
    let mut it = args.iter().skip(1).filter_map(|a| a.to_str());
    while let Some(token) = it.next() {
        if token == "--" {
            break;
        }
        if token == "check" {
            // `kafka-gen check FILE`: the file is positional.
            if let Some(v) = it.clone().next().filter(|v| is_world(v)) {
                from_flags = Some(v.to_string());
            }
        }
        for flag in ["--world", "--scenario"] {
            let value = match token.strip_prefix(flag) {
                Some("") => it.clone().next(),
                Some(rest) => rest.strip_prefix('='),
                None => None,
            };
            if let Some(v) = value.filter(|v| is_world(v)) {
                from_flags = Some(v.to_string());
            }
        }
    }
    from_flags.or_else(|| {
        ["KAFKA_GEN_WORLD", "KAFKA_GEN_SCENARIO"]
            .into_iter()
            .filter_map(env)
            .find(|v| is_world(v))
    })
}

fn is_world(v: &str) -> bool {
    crate::worldfile::builtin::names_a_world_file(v)
}

/// `args` with the aliases of the world they run rewritten, and the notes of ignored ones.
pub fn expand(
    args: Vec<OsString>,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<(Vec<OsString>, Vec<String>)> {
    let Some(path) = world_path(&args, env) else {
        return Ok((args, vec![]));
    };
    let Some(table) = aliases::read(&path) else {
        return Ok((args, vec![]));
    };
    let mut out = Rewrite {
        table: &table,
        world: Path::new(&path),
        args: vec![],
        notes: vec![],
    };
    let mut it = args.into_iter();
    out.args.extend(it.next());
    while let Some(token) = it.next() {
        let Some(text) = token.to_str().map(str::to_string) else {
            out.args.push(token);
            continue;
        };
        if text == "--" {
            out.args.push(token);
            out.args.extend(it.by_ref());
            break;
        }
        let (name, inline) = match text.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (text.clone(), None),
        };
        if name == "--set" {
            let value = match inline {
                Some(v) => v,
                None => it
                    .next()
                    .and_then(|v| v.into_string().ok())
                    .ok_or_else(|| anyhow!("--set needs NAME=VALUE"))?,
            };
            out.set(&value)?;
        } else if let Some(alias) = table.flags.get(&name) {
            let value = match (alias.switch, inline) {
                (true, Some(v)) => bail!("{name} takes no value; got {name}={v}"),
                (true, None) => None,
                (false, Some(v)) => Some(v),
                (false, None) => Some(
                    it.next()
                        .and_then(|v| v.into_string().ok())
                        .ok_or_else(|| anyhow!("{name} needs a value ({})", what(alias)))?,
                ),
            };
            out.apply(&name, alias, value)?;
        } else {
            out.args.push(token);
        }
    }
    Ok((out.args, out.notes))
}

/// What an alias stands for, in words.
fn what(a: &AliasDecl) -> String {
    match aliases::target(a) {
        Target::Param(p) => format!("the world parameter {p}"),
        Target::Flag(f) => format!("kafka-gen's {f}"),
        Target::Env(e) => e.to_string(),
        Target::Ignore(_) | Target::Reject(_) => "ignored".into(),
    }
}

struct Rewrite<'a> {
    table: &'a AliasesDecl,
    world: &'a Path,
    args: Vec<OsString>,
    notes: Vec<String>,
}

impl Rewrite<'_> {
    /// One `--set` value: `NAME=VALUE` (a parameter or a config key), or `@FILE` (the
    /// document's YAML config file, every key in it).
    fn set(&mut self, value: &str) -> anyhow::Result<()> {
        if let Some(file) = value.strip_prefix('@') {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("--set @{file}: cannot read the config file"))?;
            let yaml: Yaml = serde_yaml_ng::from_str(&text)
                .map_err(|e| anyhow!("--set @{file}: not YAML: {e}"))?;
            let mut pairs = vec![];
            flatten("", &yaml, &mut pairs).map_err(|e| anyhow!("--set @{file}: {e}"))?;
            for (key, v) in pairs {
                self.key(&key, v, &format!("--set @{file}"))?;
            }
            return Ok(());
        }
        let (key, v) = crate::worldfile::param_pair(value, "--set")?;
        self.key(&key, v, "--set")
    }

    /// A config key: an alias, or else a parameter's own name (left to the world to check).
    fn key(&mut self, key: &str, value: String, source: &str) -> anyhow::Result<()> {
        match self.table.keys.get(key) {
            Some(alias) => self.apply(key, alias, Some(value)),
            None if key.contains('.') => {
                let known: Vec<&str> = self.table.keys.keys().map(String::as_str).collect();
                bail!(
                    "{source}: {key:?} is not an option of {}; its config keys are: {} (or \
                     give a parameter by name; `kafka-gen check {}` lists them)",
                    self.world.display(),
                    known.join(", "),
                    self.world.display()
                )
            }
            None => {
                self.args.push("--set".into());
                self.args.push(format!("{key}={value}").into());
                Ok(())
            }
        }
    }

    fn apply(&mut self, name: &str, a: &AliasDecl, value: Option<String>) -> anyhow::Result<()> {
        let value = value.map(|v| format!("{v}{}", a.suffix));
        if let (Some(advice), Some(path)) = (&a.must_exist, &value) {
            if !Path::new(path).exists() {
                bail!("{name} {path:?} does not exist; {advice}");
            }
        }
        match aliases::target(a) {
            Target::Param(p) => {
                self.args.push("--set".into());
                self.args
                    .push(format!("{p}={}", value.unwrap_or_default()).into());
            }
            Target::Flag(f) => self.args.push(match value {
                Some(v) => format!("{f}={v}").into(),
                None => f.into(),
            }),
            Target::Ignore(note) => self.notes.push(format!("{name} is ignored: {note}")),
            Target::Reject(why) => bail!("{name} is not supported: {why}"),
            Target::Env(_) => bail!("{name} stands for a variable, not a flag"),
        }
        Ok(())
    }
}

/// The scalar leaves of a YAML mapping as dotted keys and text values.
fn flatten(prefix: &str, y: &Yaml, out: &mut Vec<(String, String)>) -> Result<(), String> {
    let text = match y {
        Yaml::Mapping(m) => {
            for (k, v) in m {
                let k = k
                    .as_str()
                    .ok_or_else(|| format!("key {k:?} under {prefix:?} is not text"))?;
                let key = if prefix.is_empty() {
                    k.to_string()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out)?;
            }
            return Ok(());
        }
        Yaml::Bool(b) => b.to_string(),
        Yaml::Number(n) => n.to_string(),
        Yaml::String(s) => s.clone(),
        Yaml::Null => return Ok(()),
        _ => return Err(format!("{prefix}: a list is not an option value")),
    };
    out.push((prefix.to_string(), text));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const WORLD: &str = "world: w\nparams:\n  n: {default: 1}\nevents:\n  e: {payload: {a: 1}}\n\
        aliases:\n  flags:\n    --num: {param: n}\n    --url: {flag: --http-endpoint}\n    \
        --dur: {flag: --duration, suffix: s}\n    --live: {switch: true, ignore: the default}\n    \
        --old: {reject: gone; use --num}\n  keys:\n    sim.n: {param: n}\n";

    fn expand_in(dir: &Path, args: &[&str], world_var: bool) -> anyhow::Result<Vec<String>> {
        let path = dir.join("w.yaml");
        std::fs::write(&path, WORLD).unwrap();
        let world = path.display().to_string();
        let mut argv: Vec<OsString> = vec!["kafka-gen".into()];
        if !world_var {
            argv.extend(["--world".into(), world.clone().into()]);
        }
        argv.extend(args.iter().map(OsString::from));
        let env = move |var: &str| (world_var && var == "KAFKA_GEN_WORLD").then(|| world.clone());
        let (out, _) = expand(argv, &env)?;
        let skip = if world_var { 1 } else { 3 };
        Ok(out
            .iter()
            .skip(skip)
            .map(|a| a.to_string_lossy().into_owned())
            .collect())
    }

    #[test]
    fn flags_and_keys_become_kafka_gens_own() {
        let dir = tempfile::tempdir().unwrap();
        let got = expand_in(
            dir.path(),
            &[
                "--num=3",
                "--url",
                "http://x",
                "--dur",
                "90",
                "--live",
                "--set=sim.n=4",
                "--rate",
                "2",
            ],
            false,
        )
        .unwrap();
        assert_eq!(
            got,
            [
                "--set",
                "n=3",
                "--http-endpoint=http://x",
                "--duration=90s",
                "--set",
                "n=4",
                "--rate",
                "2"
            ]
        );
        // The world named by the environment; nothing after `--` is touched.
        let got = expand_in(dir.path(), &["--num", "5", "--", "--num", "6"], true).unwrap();
        assert_eq!(got, ["--set", "n=5", "--", "--num", "6"]);
    }

    #[test]
    fn bad_alias_use_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let err = |args: &[&str]| expand_in(dir.path(), args, false).unwrap_err().to_string();
        assert!(err(&["--old", "1"]).contains("--old is not supported: gone; use --num"));
        assert!(err(&["--live=yes"]).contains("--live takes no value"));
        assert!(err(&["--num"]).contains("--num needs a value (the world parameter n)"));
        assert!(err(&["--set", "sim.m=1"]).contains("\"sim.m\" is not an option"));
        let list = dir.path().join("c.yaml");
        std::fs::write(&list, "sim:\n  n: [1, 2]\n").unwrap();
        let at = format!("@{}", list.display());
        assert!(err(&["--set", &at]).contains("sim.n: a list is not an option value"));
    }
}
