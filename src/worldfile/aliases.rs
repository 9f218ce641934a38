//! A world's other names for its options (`aliases:` in the file): the flags, config-file keys
//! and environment variables of its source document, each standing for a parameter or a
//! kafka-gen option. Checked here when the world loads; applied before the flags are parsed
//! (`cli::aliases`) and while the environment is read (`config::resolve`).

use super::build::Source;
use super::error::WorldError;
use super::format::{AliasDecl, AliasesDecl, WorldFile};

/// What an alias does with its value.
#[derive(Debug, Clone, PartialEq)]
pub enum Target<'a> {
    Param(&'a str),
    Flag(&'a str),
    Env(&'a str),
    Ignore(&'a str),
    Reject(&'a str),
}

/// The one target of a checked alias.
pub fn target(a: &AliasDecl) -> Target<'_> {
    match (&a.param, &a.flag, &a.env, &a.ignore, &a.reject) {
        (Some(p), ..) => Target::Param(p),
        (_, Some(f), ..) => Target::Flag(f),
        (_, _, Some(e), ..) => Target::Env(e),
        (_, _, _, Some(note), _) => Target::Ignore(note),
        (.., Some(why)) => Target::Reject(why),
        _ => Target::Ignore(""),
    }
}

/// Checks every alias: one target each, of a kind its section allows, naming a parameter
/// the world has.
pub fn check(src: &Source<'_>, file: &WorldFile) -> Result<(), WorldError> {
    let sections = [
        ("flags", &file.aliases.flags),
        ("keys", &file.aliases.keys),
        ("env", &file.aliases.env),
    ];
    for (section, map) in sections {
        for (name, a) in map {
            let path = ["aliases", section, name.as_str()];
            let err = |m: String| Err(src.err(&path, m));
            let targets = [
                a.param.is_some(),
                a.flag.is_some(),
                a.env.is_some(),
                a.ignore.is_some(),
                a.reject.is_some(),
            ];
            if targets.iter().filter(|t| **t).count() != 1 {
                return err("give exactly one of param, flag, env, ignore or reject".into());
            }
            let well_named = match section {
                "flags" => name.starts_with("--") && name.len() > 2 && !name.contains('='),
                "keys" => !name.is_empty() && !name.contains(['=', ' ']),
                _ => !name.is_empty() && !name.contains(['=', ' ']),
            };
            if !well_named {
                return err(format!(
                    "{name:?} is not a {} name",
                    match section {
                        "flags" => "flag (write it with its dashes, e.g. --num-songs)",
                        "keys" => "config key (dotted, e.g. user_behavior.session_duration_min)",
                        _ => "environment variable",
                    }
                ));
            }
            if a.switch && section != "flags" {
                return err("switch is for flag aliases only".into());
            }
            if a.must_exist.is_some() && !(section == "flags" && a.flag.is_some()) {
                return err("must_exist is for flag aliases that give a flag only".into());
            }
            if !a.sets.is_empty() && section != "env" {
                return err("sets is for environment aliases only".into());
            }
            if let Some(v) = a.sets.keys().find(|v| !v.starts_with("KAFKA_GEN_")) {
                return err(format!(
                    "sets {v:?}: an alias sets KAFKA_GEN_ variables only"
                ));
            }
            match target(a) {
                Target::Param(p) if !file.params.contains_key(p) => {
                    let known: Vec<&str> = file.params.keys().map(String::as_str).collect();
                    return err(format!(
                        "the world has no parameter `{p}`; parameters: {}",
                        known.join(", ")
                    ));
                }
                Target::Param(_) if a.switch => {
                    return err("a switch takes no value, so it cannot set a parameter".into())
                }
                Target::Flag(f) if section == "env" || !f.starts_with("--") => {
                    return err(format!(
                        "flag {f:?}: an environment alias names a variable (env: KAFKA_GEN_...), \
                         and a flag alias a kafka-gen flag with its dashes (--http-endpoint)"
                    ));
                }
                Target::Env(e) if section != "env" || !e.starts_with("KAFKA_GEN_") => {
                    return err(format!(
                        "env {e:?}: only an environment alias names a variable, and it must be \
                         a KAFKA_GEN_ one"
                    ));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// The aliases of the world file `world` names (a path, or a shipped world's name such as
/// `music`), checked; `None` if it cannot be read or parsed (loading it later reports why,
/// with its location).
pub fn read(world: &str) -> Option<AliasesDecl> {
    let (name, text) = super::builtin::source(world)?;
    let file: WorldFile = serde_yaml_ng::from_str(&text).ok()?;
    check(
        &Source {
            file: &name,
            text: &text,
        },
        &file,
    )
    .ok()?;
    Some(file.aliases)
}

#[cfg(test)]
mod tests {
    fn load(aliases: &str) -> Result<(), String> {
        let text = format!(
            "world: w\nparams:\n  n: {{default: 1}}\nevents:\n  e: {{payload: {{a: 1}}}}\naliases:\n{aliases}"
        );
        super::super::compile_text("w.yaml", &text, &Default::default())
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_bad_alias_is_a_located_error() {
        assert_eq!(load("  flags:\n    --num: {param: n}\n"), Ok(()));
        let e = load("  flags:\n    --num: {param: n, ignore: x}\n").unwrap_err();
        assert!(
            e.starts_with("w.yaml:8:5: aliases.flags.--num: give exactly one"),
            "{e}"
        );
        let e = load("  keys:\n    sim.m: {param: m}\n").unwrap_err();
        assert!(
            e.contains("the world has no parameter `m`; parameters: n"),
            "{e}"
        );
        let e = load("  flags:\n    num: {param: n}\n").unwrap_err();
        assert!(e.contains("with its dashes"), "{e}");
        let e = load("  flags:\n    --u: {env: KAFKA_GEN_HTTP_ENDPOINT}\n").unwrap_err();
        assert!(
            e.contains("only an environment alias names a variable"),
            "{e}"
        );
        let e = load("  env:\n    URL: {env: HTTP_ENDPOINT}\n").unwrap_err();
        assert!(e.contains("KAFKA_GEN_"), "{e}");
        let e = load("  env:\n    URL: {flag: --http-endpoint}\n").unwrap_err();
        assert!(e.contains("an environment alias names a variable"), "{e}");
        let e = load("  keys:\n    a.b: {param: n, switch: true}\n").unwrap_err();
        assert!(e.contains("switch is for flag aliases only"), "{e}");
    }
}
