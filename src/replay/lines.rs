//! A dead-letter file read one line at a time from a byte offset, each line with its number
//! and where it starts and ends, so a replay holds one line, not the file.

use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::progress::Progress;
use super::DeadLine;

/// A dead-letter file read one line at a time, each with its line number and byte offsets,
/// so a replay holds one line (and one batch's offsets) in memory, not the file.
pub(super) struct Lines {
    reader: BufReader<File>,
    path: PathBuf,
    /// Byte offset of the next line, and how many lines came before it.
    offset: u64,
    number: u64,
    buf: String,
}

/// One line: its number (from 1), where it starts and ends in the file.
#[derive(Debug, Clone, Copy)]
pub(super) struct At {
    pub number: u64,
    pub start: u64,
    pub end: u64,
}

impl Lines {
    pub(super) fn open(path: &Path, from: &Progress) -> anyhow::Result<Self> {
        let mut file = File::open(path).with_context(|| {
            format!(
                "cannot read the dead-letter file {}; check the path",
                path.display()
            )
        })?;
        file.seek(SeekFrom::Start(from.offset))?;
        Ok(Self {
            reader: BufReader::new(file),
            path: path.to_path_buf(),
            offset: from.offset,
            number: from.lines,
            buf: String::new(),
        })
    }

    /// The next line (without its newline), or `None` at the end of the file.
    pub(super) fn next(&mut self) -> anyhow::Result<Option<(At, &str)>> {
        self.buf.clear();
        let n = self
            .reader
            .read_line(&mut self.buf)
            .with_context(|| format!("cannot read {}", self.path.display()))?;
        if n == 0 {
            return Ok(None);
        }
        self.number += 1;
        let at = At {
            number: self.number,
            start: self.offset,
            end: self.offset + n as u64,
        };
        self.offset = at.end;
        Ok(Some((at, self.buf.trim_end_matches(['\n', '\r']))))
    }
}

/// One line as a dead-letter line; an error names the file and line.
pub(super) fn parse(path: &Path, number: u64, line: &str) -> anyhow::Result<DeadLine> {
    serde_json::from_str::<DeadLine>(line).map_err(|error| {
        anyhow::anyhow!(
            "{}:{number}: not a kafka-gen dead-letter line ({error}); each line must be \
             {{\"sink\",\"topic\",\"key\",\"outcome\",\"error\",\"event\"}} as the README describes",
            path.display(),
        )
    })
}

/// Checks every line from `from` on before anything is sent, one at a time; returns how many
/// lines are to be handled (not blank, not settled by an earlier replay).
pub fn check_lines(path: &Path, from: &Progress) -> anyhow::Result<u64> {
    let mut lines = Lines::open(path, from)?;
    let mut count = 0;
    while let Some((at, line)) = lines.next()? {
        if line.trim().is_empty() || from.settled_after.contains(&at.number) {
            continue;
        }
        parse(path, at.number, line)?;
        count += 1;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"{"sink":"kafka","topic":"t","key":"k","outcome":"failed","event":{}}"#;

    /// From a recorded offset, lines come with their own numbers and offsets; settled lines
    /// and blank ones are not counted, and a bad line is named by file and number.
    #[test]
    fn reads_from_an_offset_and_names_a_bad_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dl.jsonl");
        std::fs::write(&path, format!("{LINE}\n\n{LINE}\n{LINE}\n")).unwrap();
        let len = LINE.len() as u64 + 1;
        let from = Progress {
            offset: len,
            lines: 1,
            settled_after: vec![4],
        };
        let mut lines = Lines::open(&path, &from).unwrap();
        let (at, text) = lines.next().unwrap().unwrap();
        assert_eq!((at.number, at.start, at.end, text), (2, len, len + 1, ""));
        let (at, _) = lines.next().unwrap().unwrap();
        assert_eq!((at.number, at.start), (3, len + 1));
        assert_eq!(check_lines(&path, &from).unwrap(), 1);
        std::fs::write(&path, format!("{LINE}\nnot json\n")).unwrap();
        let e = check_lines(&path, &Progress::default()).unwrap_err();
        assert!(e.to_string().contains("dl.jsonl:2: not a kafka-gen"), "{e}");
    }
}
