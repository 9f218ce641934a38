//! `kafka-gen scenarios`: what each scenario and world file offers, as text.

/// `kafka-gen scenarios`: each scenario with its master data and event types: retail, the
/// world files built in (with their file), then the other world files in `worlds/`.
pub fn scenarios_listing() -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for name in crate::scenario::names() {
        match crate::scenario::find(name) {
            Ok(s) => describe_scenario(&mut out, s),
            Err(e) => {
                let _ = writeln!(out, "{name}: cannot be loaded: {e:#}");
            }
        }
        if let Some(b) = crate::worldfile::builtin::get(name) {
            let _ = writeln!(out, "  world file: {} (built in)", b.file);
        }
        out.push('\n');
    }
    for path in world_files() {
        let name = path.display().to_string();
        let shipped = path
            .file_stem()
            .and_then(|f| f.to_str())
            .is_some_and(|f| crate::worldfile::builtin::get(f).is_some());
        if shipped {
            continue;
        }
        match crate::worldfile::scenario(&path) {
            Ok(s) => {
                let _ = writeln!(out, "world file {name} (--world {name})");
                describe_scenario(&mut out, s);
                out.push('\n');
            }
            Err(e) => {
                let _ = writeln!(out, "world file {name}: cannot be loaded: {e:#}\n");
            }
        }
    }
    out
}

/// The shipped world files, `worlds/*.yaml`, by name.
fn world_files() -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir("worlds")
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn describe_scenario(out: &mut String, s: &dyn crate::scenario::Scenario) {
    use std::fmt::Write;
    let _ = writeln!(out, "{}: {}", s.name(), s.description());
    let kinds: Vec<String> = s
        .master_kinds()
        .iter()
        .map(|k| format!("{} ({})", k.name, k.default_count))
        .collect();
    let _ = writeln!(
        out,
        "  master data in {}: {}",
        s.default_data_dir().display(),
        kinds.join(", ")
    );
    let _ = writeln!(
        out,
        "  {:<28} {:>6}  {:<34} key",
        "event type", "weight", "topic"
    );
    for t in s.event_types() {
        let _ = writeln!(
            out,
            "  {:<28} {:>6.3}  {:<34} {}",
            t.name, t.default_weight, t.default_topic, t.key_field
        );
    }
}
