//! Where a replay of a dead-letter file has got to, kept beside it in `<file>.replayed` so that
//! a stopped replay resumes where it left off. Written after each batch the producer has
//! finished with (and when the replay stops), through a temporary file and a rename, so the
//! file on disk is always a whole record.
//!
//! A line is *settled* when it needs no sending again: delivered, given up on in flight
//! (`unknown`: it may be on the topic, and sending it again could duplicate it), or skipped.
//! Everything before `offset` is settled; `settled_after` names the settled lines after it,
//! at most one batch of them (the replay stops after a batch with a failed line).

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// How far a replay got.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Progress {
    /// Byte offset of the first line not settled.
    pub offset: u64,
    /// Lines before `offset` (so the line at `offset` is line `lines + 1`).
    pub lines: u64,
    /// Settled lines after `offset`, by line number from 1.
    #[serde(default)]
    pub settled_after: Vec<u64>,
}

/// `dead-letter.jsonl` -> `dead-letter.jsonl.replayed`.
pub fn sidecar(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".replayed");
    PathBuf::from(name)
}

/// The progress recorded for `path`, or `None` when no replay of it has recorded any.
pub fn load(path: &Path) -> anyhow::Result<Option<Progress>> {
    let side = sidecar(path);
    let text = match std::fs::read_to_string(&side) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read {}", side.display()));
        }
    };
    serde_json::from_str(&text).map(Some).with_context(|| {
        format!(
            "{} is not a replay progress record; remove it, or pass --restart to replay the \
             whole file",
            side.display()
        )
    })
}

/// Records `progress` for `path`.
pub fn save(path: &Path, progress: &Progress) -> anyhow::Result<()> {
    let side = sidecar(path);
    let mut tmp = side.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let text = serde_json::to_string(progress)?;
    std::fs::write(&tmp, text + "\n")
        .and_then(|()| std::fs::rename(&tmp, &side))
        .with_context(|| format!("cannot record the replay's progress in {}", side.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_round_trips_and_a_missing_record_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("dl.jsonl");
        assert_eq!(load(&file).unwrap(), None);
        let p = Progress {
            offset: 1234,
            lines: 7,
            settled_after: vec![9, 10],
        };
        save(&file, &p).unwrap();
        assert_eq!(load(&file).unwrap(), Some(p));
        assert!(sidecar(&file).ends_with("dl.jsonl.replayed"));
        std::fs::write(sidecar(&file), "nonsense").unwrap();
        let e = load(&file).unwrap_err();
        assert!(format!("{e:#}").contains("--restart"), "{e:#}");
    }
}
