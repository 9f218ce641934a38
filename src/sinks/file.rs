//! JSON lines in a file (`--output PATH`), or one file per event type (`--output-per-type`).

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::stdout::JsonLinesSink;
use super::FlushPolicy;
use crate::scenario::EventTypeSpec;

/// The `file` sink (`[file]` in the config file).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileSinkConfig {
    /// Output path (`--output`). Truncated at start.
    pub path: Option<PathBuf>,
    /// One file per event type: `events.jsonl` becomes `events.sale.jsonl`, ...
    pub per_type: bool,
}

/// `dir/events.jsonl` + `sale` -> `dir/events.sale.jsonl`.
pub fn per_type_path(path: &Path, type_name: &str) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match path.extension() {
        Some(ext) => format!("{stem}.{type_name}.{}", ext.to_string_lossy()),
        None => format!("{stem}.{type_name}"),
    };
    path.with_file_name(name)
}

/// Creates the output file(s) up front, so an unwritable path fails before any event is drawn.
/// `policy` says when buffered lines are written out (each batch in live mode, for `tail -f`).
pub fn open(
    config: &FileSinkConfig,
    types: &[EventTypeSpec],
    policy: FlushPolicy,
) -> anyhow::Result<JsonLinesSink<File>> {
    let path = config
        .path
        .as_deref()
        .context("the file sink needs a path; pass --output PATH")?;
    let paths: Vec<PathBuf> = if config.per_type {
        types.iter().map(|t| per_type_path(path, t.name)).collect()
    } else {
        vec![path.to_path_buf()]
    };
    let writers = paths
        .iter()
        .map(|p| {
            File::create(p).with_context(|| {
                format!(
                    "cannot write output file {}; check that its directory exists and is writable",
                    p.display()
                )
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(JsonLinesSink::new(
        "file",
        writers,
        config.per_type,
        types.len(),
        policy,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_type_names() {
        assert_eq!(
            per_type_path(Path::new("out/ev.jsonl"), "sale"),
            Path::new("out/ev.sale.jsonl")
        );
        assert_eq!(per_type_path(Path::new("ev"), "sale"), Path::new("ev.sale"));
    }

    #[test]
    fn unwritable_path_is_named() {
        let cfg = FileSinkConfig {
            path: Some("/nonexistent-dir/x.jsonl".into()),
            per_type: false,
        };
        let e = format!(
            "{:#}",
            open(&cfg, crate::scenario::retail::TYPES, FlushPolicy::WhenFull)
                .err()
                .unwrap()
        );
        assert!(
            e.contains("/nonexistent-dir/x.jsonl") && e.contains("writable"),
            "{e}"
        );
    }
}
