//! The list of every section and its fields, read from the sections' own types, which the
//! README's "Settings by section" must match word for word (a test below), so the documented
//! paths of `--conf` cannot drift from the code.
//!
//! The types are asked, not a hand-kept list: each section denies unknown fields, and serde's
//! error for an unknown one lists the known ones in their declared order.

use super::Config;

/// What sits at a path of the configuration.
enum Kind {
    /// A section (a table of named fields), with them.
    Section(Vec<String>),
    /// A map of names the user picks (`weights`, `kafka.topics`).
    Map,
    /// One value.
    Value,
}

/// Probes what `path` holds by reading a table with an unknown key there.
fn kind_at(path: &[String]) -> Kind {
    const PROBE: &str = "__probe__";
    let mut value = toml::Value::Table(toml::Table::from_iter([(
        PROBE.to_string(),
        toml::Value::Integer(0),
    )]));
    for part in path.iter().rev() {
        value = toml::Value::Table(toml::Table::from_iter([(part.clone(), value)]));
    }
    let Err(e) = serde_path_to_error::deserialize::<_, Config>(value) else {
        return Kind::Map;
    };
    let message = e.inner().message();
    // serde_path_to_error puts an unknown key in the path, and a refused value at its key.
    let at = e.path().to_string();
    let mut probe_at = path.join(".");
    if !probe_at.is_empty() {
        probe_at.push('.');
    }
    probe_at.push_str(PROBE);
    if at == probe_at && message.starts_with(&format!("unknown field `{PROBE}`")) {
        // serde's wording: "expected `a`", "expected `a` or `b`", "expected one of `a`, ...".
        let list = message.split_once("expected ").map_or("", |(_, l)| l);
        let list = list.trim_start_matches("one of ");
        let fields = list.split('`').skip(1).step_by(2);
        return Kind::Section(fields.map(str::to_string).collect());
    }
    // The probe was taken as a key and only its value refused: a map.
    if at == probe_at || at.starts_with(&format!("{probe_at}.")) {
        return Kind::Map;
    }
    Kind::Value
}

/// Every section with its fields, one line each: `` - `[kafka]`: `bootstrap_servers`, ... ``;
/// the root's own fields first, as `` - root: ``. Maps are marked `` `weights.<name>` ``.
pub fn settings_by_section() -> String {
    let mut out = String::new();
    let mut queue = vec![Vec::<String>::new()];
    while let Some(path) = queue.pop() {
        let Kind::Section(fields) = kind_at(&path) else {
            continue;
        };
        let mut shown = Vec::new();
        let mut nested = Vec::new();
        for field in fields {
            let mut child = path.clone();
            child.push(field.clone());
            match kind_at(&child) {
                Kind::Section(_) => nested.push(child),
                Kind::Map => shown.push(format!("`{field}.<name>`")),
                Kind::Value => shown.push(format!("`{field}`")),
            }
        }
        let name = if path.is_empty() {
            "root".to_string()
        } else {
            format!("`[{}]`", path.join("."))
        };
        if !shown.is_empty() {
            out.push_str(&format!("- {name}: {}\n", shown.join(", ")));
        }
        queue.extend(nested.into_iter().rev());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README's list, between its markers.
    fn readme_block() -> String {
        let readme = include_str!("../../README.md");
        let start = "<!-- settings-by-section: start -->\n";
        let end = "<!-- settings-by-section: end -->";
        let from = readme
            .find(start)
            .expect("README.md has the settings-by-section start marker");
        let rest = &readme[from + start.len()..];
        rest[..rest.find(end).expect("and its end marker")].to_string()
    }

    #[test]
    fn the_readme_lists_every_section_and_field() {
        let generated = settings_by_section();
        assert!(
            generated.contains("- `[kafka]`: `bootstrap_servers`"),
            "{generated}"
        );
        assert!(generated.contains("`[kafka.security]`"), "{generated}");
        assert!(generated.contains("`weights.<name>`"), "{generated}");
        assert_eq!(
            readme_block(),
            generated,
            "README.md's \"Settings by section\" is out of date; replace the lines between its \
             markers with:\n{generated}"
        );
    }
}
