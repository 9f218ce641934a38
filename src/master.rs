//! Reading and writing master-data files, whatever the scenario: JSON (an array of objects) or
//! CSV, chosen by extension, with errors that name the file and the record.

use std::collections::HashSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// File format for master data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Json,
    Csv,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
        }
    }
}

/// One kind of master-data record (a store, a product, ...).
pub trait MasterRecord: DeserializeOwned + Serialize {
    /// File stem: `stores` for `stores.json` / `stores.csv`.
    const KIND: &'static str;
    /// The record's unique id.
    fn id(&self) -> &str;
    /// Checks of one record on its own; the message names the bad field and value.
    fn check(&self) -> Result<(), String> {
        Ok(())
    }
}

/// Finds the file for `T` in `dir`: exactly one of `KIND.json` and `KIND.csv` must exist.
pub fn locate<T: MasterRecord>(dir: &Path) -> anyhow::Result<(PathBuf, Format)> {
    let json = dir.join(format!("{}.json", T::KIND));
    let csv = dir.join(format!("{}.csv", T::KIND));
    match (json.is_file(), csv.is_file()) {
        (true, false) => Ok((json, Format::Json)),
        (false, true) => Ok((csv, Format::Csv)),
        (true, true) => bail!(
            "both {} and {} exist; keep one of them so it is clear which to load",
            json.display(),
            csv.display()
        ),
        (false, false) => bail!(
            "master data file {} (or .csv) is missing; run `kafka-gen master --out {}` to create it, or pass --data-dir",
            json.display(),
            dir.display()
        ),
    }
}

/// Loads and checks every record of kind `T` from `dir`: not empty, each record well formed and
/// passing [`MasterRecord::check`], ids unique.
pub fn load<T: MasterRecord>(dir: &Path) -> anyhow::Result<Vec<T>> {
    let (path, format) = locate::<T>(dir)?;
    let records = match format {
        Format::Json => read_json::<T>(&path)?,
        Format::Csv => read_csv::<T>(&path)?,
    };
    if records.is_empty() {
        bail!(
            "{} holds no records; it needs at least one (regenerate it with `kafka-gen master`)",
            path.display()
        );
    }
    let mut seen = HashSet::with_capacity(records.len());
    for (i, record) in records.iter().enumerate() {
        if let Err(problem) = record.check() {
            bail!(
                "{}: record {} (id {:?}): {problem}",
                path.display(),
                i + 1,
                record.id()
            );
        }
        if !seen.insert(record.id()) {
            bail!(
                "{}: record {}: duplicate id {:?}; ids must be unique",
                path.display(),
                i + 1,
                record.id()
            );
        }
    }
    Ok(records)
}

fn read_json<T: MasterRecord>(path: &Path) -> anyhow::Result<Vec<T>> {
    let text =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    if text.trim().is_empty() {
        bail!(
            "{} is empty; it needs a JSON array of records (regenerate it with `kafka-gen master`)",
            path.display()
        );
    }
    let values: Vec<serde_json::Value> = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a JSON array of records", path.display()))?;
    values
        .into_iter()
        .enumerate()
        .map(|(i, value)| {
            let id = value
                .as_object()
                .and_then(|o| o.values().next())
                .map(|v| v.to_string());
            serde_json::from_value(value).with_context(|| {
                format!(
                    "{}: record {} (starting {}) is malformed",
                    path.display(),
                    i + 1,
                    id.unwrap_or_default()
                )
            })
        })
        .collect()
}

fn read_csv<T: MasterRecord>(path: &Path) -> anyhow::Result<Vec<T>> {
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    reader
        .deserialize()
        .enumerate()
        .map(|(i, row)| {
            row.with_context(|| format!("{}: record {} is malformed", path.display(), i + 1))
        })
        .collect()
}

/// Writes `records` to `dir/KIND.<ext>`, one JSON object per line inside the array so diffs
/// stay readable. Returns the path written.
pub fn write<T: MasterRecord>(
    dir: &Path,
    records: &[T],
    format: Format,
) -> anyhow::Result<PathBuf> {
    let path = dir.join(format!("{}.{}", T::KIND, format.extension()));
    let mut out = Vec::new();
    match format {
        Format::Json => {
            out.extend_from_slice(b"[\n");
            for (i, record) in records.iter().enumerate() {
                serde_json::to_writer(&mut out, record)?;
                out.extend_from_slice(if i + 1 < records.len() { b",\n" } else { b"\n" });
            }
            out.extend_from_slice(b"]\n");
        }
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(&mut out);
            for record in records {
                writer.serialize(record)?;
            }
            writer.flush()?;
        }
    }
    let mut file =
        fs::File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(&out)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Thing {
        id: String,
        price: f64,
    }

    impl MasterRecord for Thing {
        const KIND: &'static str = "things";
        fn id(&self) -> &str {
            &self.id
        }
        fn check(&self) -> Result<(), String> {
            if self.price < 0.0 {
                return Err(format!("price is {}; it must be >= 0", self.price));
            }
            Ok(())
        }
    }

    fn err_of(dir: &Path) -> String {
        format!("{:#}", load::<Thing>(dir).unwrap_err())
    }

    #[test]
    fn round_trips_both_formats() {
        for format in [Format::Json, Format::Csv] {
            let dir = tempfile::tempdir().unwrap();
            let things = vec![
                Thing {
                    id: "a".into(),
                    price: 1.5,
                },
                Thing {
                    id: "b".into(),
                    price: 0.0,
                },
            ];
            write(dir.path(), &things, format).unwrap();
            assert_eq!(load::<Thing>(dir.path()).unwrap(), things);
        }
    }

    #[test]
    fn errors_name_the_file_and_record() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            err_of(dir.path()).contains("things.json (or .csv) is missing; run `kafka-gen master")
        );

        let file = dir.path().join("things.json");
        fs::write(&file, "").unwrap();
        assert!(err_of(dir.path()).contains("is empty"));
        fs::write(&file, "[]").unwrap();
        assert!(err_of(dir.path()).contains("holds no records"));
        fs::write(&file, "[{\"id\":\"a\",\"price\":1}").unwrap();
        assert!(err_of(dir.path()).contains("is not a JSON array"));
        fs::write(&file, "[{\"id\":\"a\",\"price\":1},{\"id\":\"b\"}]").unwrap();
        let e = err_of(dir.path());
        assert!(
            e.contains("record 2") && e.contains("missing field `price`"),
            "{e}"
        );
        fs::write(
            &file,
            "[{\"id\":\"a\",\"price\":1},{\"id\":\"a\",\"price\":2}]",
        )
        .unwrap();
        assert!(err_of(dir.path()).contains("duplicate id \"a\""));
        fs::write(&file, "[{\"id\":\"a\",\"price\":-1}]").unwrap();
        let e = err_of(dir.path());
        assert!(e.contains("record 1 (id \"a\"): price is -1"), "{e}");

        fs::write(dir.path().join("things.csv"), "id,price\na,1\n").unwrap();
        assert!(err_of(dir.path()).contains("both"));
        fs::remove_file(&file).unwrap();
        fs::write(dir.path().join("things.csv"), "id,price\na,1\nb,zz\n").unwrap();
        let e = err_of(dir.path());
        assert!(e.contains("things.csv: record 2 is malformed"), "{e}");
    }
}
