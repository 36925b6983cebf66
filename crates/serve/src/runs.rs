//! Run folders as `scratchnet train` writes them: `model.bin`, `summary.json`, `loss.csv`
//! (`iteration,loss`) and `accuracy.csv` (`epoch,iteration,train_acc,test_acc|val_acc`). Read
//! here as plain data, each file bounded, so that the page works on runs of any build.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

// the run folder's names, as the trainer writes them
pub(crate) use scratchnet_run::MODEL_FILE;
use scratchnet_run::{ACCURACY_CSV, LOSS_CSV, SUMMARY_FILE};
/// Larger files are not read (a million-iteration loss.csv is about 30 MB).
const MAX_CSV: u64 = 256 << 20;
const MAX_SUMMARY: u64 = 1 << 20;
/// The loss curve sent has at most this many points (means of equal buckets).
const MAX_POINTS: usize = 1000;

/// One run folder under `runs/`.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct RunEntry {
    pub name: String,
    /// `test_acc` of its summary, if it has one.
    pub test_acc: Option<f64>,
    /// The net as its summary describes it.
    pub describe: Option<String>,
}

/// The folders of `root` that hold a model file, newest name first (the trainer names them by
/// UTC time).
pub(crate) fn list(root: &Path) -> Vec<RunEntry> {
    let Ok(dir) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut runs: Vec<RunEntry> = dir
        .flatten()
        .filter(|e| e.path().join(MODEL_FILE).is_file())
        .filter_map(|e| e.file_name().into_string().ok())
        .take(10_000)
        .map(|name| {
            let summary = summary(&root.join(&name));
            let get = |k: &str| summary.as_ref().and_then(|s| s.get(k).cloned());
            RunEntry {
                test_acc: get("test_acc").and_then(|v| v.as_f64()),
                describe: get("describe")
                    .and_then(|v| v.as_str().filter(|d| !d.is_empty()).map(str::to_owned)),
                name,
            }
        })
        .collect();
    runs.sort_by(|a, b| b.name.cmp(&a.name));
    runs
}

/// The folder `name` under `root`, if `name` is one folder name (no separator, not `..`) and
/// it holds a model file.
pub(crate) fn resolve(root: &Path, name: &str) -> Option<PathBuf> {
    let plain = !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\'])
        && !name.contains('\0');
    let dir = root.join(name);
    (plain && dir.join(MODEL_FILE).is_file()).then_some(dir)
}

fn summary(dir: &Path) -> Option<Value> {
    let text =
        scratchnet_fileio::read_to_string_limited(dir.join(SUMMARY_FILE), MAX_SUMMARY).ok()?;
    serde_json::from_str(&text).ok()
}

/// A CSV of numbers: its header and rows (a row that does not parse ends the reading: the file
/// is being written).
#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<f64>>,
}

fn table(path: &Path) -> Option<Table> {
    let text = scratchnet_fileio::read_to_string_limited(path, MAX_CSV).ok()?;
    let mut lines = text.lines();
    let header = lines
        .next()?
        .split(',')
        .map(|h| h.trim().to_owned())
        .collect();
    let rows = lines
        .map(|l| {
            l.split(',')
                .map(|v| v.trim().parse::<f64>().ok())
                .collect::<Option<Vec<_>>>()
        })
        .take_while(Option::is_some)
        .flatten()
        .collect();
    Some(Table { header, rows })
}

/// What the page shows of a run.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct RunView {
    pub name: String,
    pub dir: String,
    pub summary: Option<Value>,
    /// `iteration, loss`, as the means of buckets of `bucket` iterations.
    pub loss: Table,
    pub bucket: usize,
    pub accuracy: Option<Table>,
}

pub(crate) fn view(name: &str, dir: &Path) -> RunView {
    let raw = table(&dir.join(LOSS_CSV)).unwrap_or_default();
    let bucket = raw.rows.len().div_ceil(MAX_POINTS).max(1);
    let rows = raw
        .rows
        .chunks(bucket)
        .filter(|c| c.iter().all(|r| r.len() >= 2))
        .map(|c| {
            let n = c.len() as f64;
            vec![
                c.iter().map(|r| r[0]).sum::<f64>() / n,
                c.iter().map(|r| r[1]).sum::<f64>() / n,
            ]
        })
        .collect();
    RunView {
        name: name.to_owned(),
        dir: dir.display().to_string(),
        summary: summary(dir),
        loss: Table {
            header: raw.header,
            rows,
        },
        bucket,
        accuracy: table(&dir.join(ACCURACY_CSV)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_folder_reads_and_long_losses_are_bucket_means() {
        let root = tempfile::tempdir().unwrap();
        let run = root.path().join("2026-01-02_03-04-05");
        std::fs::create_dir(&run).unwrap();
        std::fs::write(run.join(MODEL_FILE), b"x").unwrap();
        let loss: String = std::iter::once("iteration,loss\n".to_owned())
            .chain((1..=2500).map(|k| format!("{k},{}\n", k % 2)))
            .collect();
        std::fs::write(run.join(LOSS_CSV), loss).unwrap();
        std::fs::write(
            run.join(ACCURACY_CSV),
            "epoch,iteration,train_acc,test_acc\n0,1,0.1,0.2\n1,600,0.9,0.91\n",
        )
        .unwrap();
        std::fs::write(
            run.join(SUMMARY_FILE),
            r#"{"test_acc": 0.91, "describe": "backprop, f64, hidden 50, batch 100, lr 0.1"}"#,
        )
        .unwrap();
        std::fs::create_dir(root.path().join("empty")).unwrap();
        let runs = list(root.path());
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].test_acc, Some(0.91));
        assert_eq!(
            runs[0].describe.as_deref(),
            Some("backprop, f64, hidden 50, batch 100, lr 0.1")
        );
        let v = view(&runs[0].name, &run);
        // 2500 points in buckets of 3: 834 means; the first is of iterations 1, 2, 3
        assert_eq!(v.bucket, 3);
        assert_eq!(v.loss.rows.len(), 834);
        assert_eq!(v.loss.rows[0], [2.0, 2.0 / 3.0]);
        assert_eq!(v.accuracy.unwrap().rows[1], [1.0, 600.0, 0.9, 0.91]);
        assert!(resolve(root.path(), &runs[0].name).is_some());
        for bad in ["..", "empty", "../x", "", "nope"] {
            assert!(resolve(root.path(), bad).is_none(), "{bad}");
        }
    }
}
