//! The config sections of the worlds that were Rust modules before issue 11 (`[music]`,
//! `[tutoring]`, `[web]`, `[bnpl]`). Those worlds are world files now, tuned by their
//! parameters; an old section is refused with, for each key, what it became, rather than
//! with serde's bare "unknown field".

use anyhow::bail;

/// What a key of an old section became: a parameter of the world file, or nothing.
enum Became {
    Param(&'static str),
    Gone(&'static str),
}
use Became::{Gone, Param};

/// Each old section's keys (from `MusicConfig`, `TutoringConfig`, `WebConfig`, `BnplConfig`
/// as they were) and what they became in `worlds/<section>.yaml`.
static SECTIONS: &[(&str, &[(&str, Became)])] = &[
    (
        "music",
        &[
            (
                "popularity_skew",
                Gone("the file's song pick has a fixed Zipf exponent (`by: zipf, s: 1.1`); edit a copy of worlds/music.yaml to change it"),
            ),
            (
                "trending_share",
                Gone("the file has no trending releases; new releases are a third of the songs and join the pick on their release date"),
            ),
            ("trending_days", Gone("the file has no trending releases")),
            ("full_play_share", Param("full_play_share")),
            ("session_plays_min", Param("session_plays_min")),
            ("session_plays_max", Param("session_plays_max")),
            ("home_location_share", Param("home_location_share")),
        ],
    ),
    (
        "tutoring",
        &[
            (
                "session_minutes_min",
                Gone("the file draws a session's length from its scheduled 30, 60 or 90 minutes (20 to 95 minutes); edit a copy of worlds/tutoring.yaml to change it"),
            ),
            (
                "session_minutes_max",
                Gone("the file draws a session's length from its scheduled 30, 60 or 90 minutes (20 to 95 minutes); edit a copy of worlds/tutoring.yaml to change it"),
            ),
            ("success_share", Param("success_share")),
            ("call_resolved_share", Param("resolved_share")),
        ],
    ),
    (
        "web",
        &[
            ("session_secs_min", Param("session_duration_min")),
            ("session_secs_max", Param("session_duration_max")),
            ("pages_min", Param("pages_per_session_min")),
            ("pages_max", Param("pages_per_session_max")),
            ("page_secs_min", Param("time_per_page_min")),
            ("page_secs_max", Param("time_per_page_max")),
            ("clicks_max", Param("clicks_per_page_max")),
            (
                "journeys",
                Gone("each journey's share is its own parameter: journey_shopping, journey_content, journey_signup, journey_contact, journey_random (percent)"),
            ),
        ],
    ),
    (
        "bnpl",
        &[
            ("base_default_rate", Param("default_rate")),
            (
                "currency",
                Gone("the file writes no currency field; amounts are plain numbers"),
            ),
        ],
    ),
];

/// Refuses a config file whose table has an old world section, naming each of its keys.
pub(super) fn check_file(file: &str, table: &toml::Table) -> anyhow::Result<()> {
    for (section, _) in SECTIONS {
        if let Some(value) = table.get(*section) {
            let keys: Vec<String> = match value.as_table() {
                Some(t) => t.keys().cloned().collect(),
                None => vec![],
            };
            bail!(
                "{}",
                message(&format!("config file {file}"), section, &keys)
            );
        }
    }
    Ok(())
}

/// Refuses a setting by path (`--conf music.full_play_share=0.5`, `KAFKA_GEN__MUSIC__...`)
/// into an old world section.
pub(super) fn check_path(source: &str, path: &[String]) -> anyhow::Result<()> {
    if let Some(section) = path.first().filter(|s| is_old(s)) {
        bail!("{}", message(source, section, &path[1..2.min(path.len())]));
    }
    Ok(())
}

fn is_old(section: &str) -> bool {
    SECTIONS.iter().any(|(s, _)| *s == section)
}

/// The error for an old section: where, each key and what it became, and what to do.
fn message(source: &str, section: &str, keys: &[String]) -> String {
    let table = SECTIONS
        .iter()
        .find(|(s, _)| *s == section)
        .map_or(&[][..], |(_, t)| *t);
    let mut lines = vec![format!(
        "{source}: [{section}] configured the {section} world when it was written in Rust; it is \
         now the world file worlds/{section}.yaml, set by its parameters. Remove the [{section}] \
         section and set the parameters instead ([params] NAME = V in the config file, or \
         --set NAME=V; `kafka-gen check {section}` lists them):"
    )];
    if keys.is_empty() {
        lines.push("  (the section names no key)".into());
    }
    for key in keys {
        let became = match table.iter().find(|(k, _)| k == key) {
            Some((_, Param(p))) => format!("the parameter {p}: --set {p}=V or [params] {p} = V"),
            Some((_, Gone(why))) => format!("no parameter: {why}"),
            None => format!("not a key the {section} world ever had"),
        };
        lines.push(format!("  {section}.{key} -> {became}"));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_old_section_names_each_key_and_what_it_became() {
        let table: toml::Table =
            toml::from_str("[web]\npages_max = 9\njourneys = {shopping = 50}\nnope = 1\n").unwrap();
        let e = check_file("c.toml", &table).unwrap_err().to_string();
        assert!(
            e.starts_with("config file c.toml: [web] configured the web world"),
            "{e}"
        );
        assert!(
            e.contains("web.pages_max -> the parameter pages_per_session_max: --set pages_per_session_max=V"),
            "{e}"
        );
        assert!(
            e.contains("web.journeys -> no parameter: each journey's share"),
            "{e}"
        );
        assert!(
            e.contains("web.nope -> not a key the web world ever had"),
            "{e}"
        );
        let ok: toml::Table = toml::from_str("[retail]\n").unwrap();
        assert!(check_file("c.toml", &ok).is_ok());
        let path = ["bnpl".to_string(), "base_default_rate".to_string()];
        let e = check_path("--conf bnpl.base_default_rate=0.1", &path)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("bnpl.base_default_rate -> the parameter default_rate"),
            "{e}"
        );
        assert!(check_path("--conf kafka.linger_ms=5", &["kafka".into()]).is_ok());
    }
}
