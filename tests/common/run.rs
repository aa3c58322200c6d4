//! A copy of the bundled sample to break one thing in, and the program run on it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use polars::prelude::*;

use super::repo;

/// A temporary copy of the sample data, reference tables and default model, and an output path.
pub struct Env {
    pub _tmp: tempfile::TempDir,
    pub data: PathBuf,
    pub reference: PathBuf,
    pub model: PathBuf,
    pub out: PathBuf,
}

/// Copies the files of a folder.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// A fresh [`Env`].
pub fn env() -> Env {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let reference = tmp.path().join("reference");
    copy_dir(&repo("data/sample"), &data);
    copy_dir(&repo("data/reference"), &reference);
    let model = tmp.path().join("model.toml");
    std::fs::copy(repo("data/models/default.toml"), &model).unwrap();
    let out = tmp.path().join("out");
    Env {
        data,
        reference,
        model,
        out,
        _tmp: tmp,
    }
}

impl Env {
    pub fn args(&self) -> Vec<String> {
        [
            "assess",
            "-q",
            "--as-of",
            "2026-10-31",
            "--data",
            self.data.to_str().unwrap(),
            "--reference",
            self.reference.to_str().unwrap(),
            "--model",
            self.model.to_str().unwrap(),
            "--out",
            self.out.to_str().unwrap(),
        ]
        .map(String::from)
        .to_vec()
    }
    pub fn run_with(&self, args: &[String]) -> (i32, String) {
        let o = Command::new(env!("CARGO_BIN_EXE_riskgrade"))
            .args(args)
            .output()
            .unwrap();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stderr).to_string(),
        )
    }
    pub fn run(&self) -> (i32, String) {
        self.run_with(&self.args())
    }
    pub fn edit(&self, file: &str, f: impl FnOnce(LazyFrame) -> LazyFrame) {
        let path = self.data.join(file);
        let df =
            LazyFrame::scan_parquet(PlRefPath::from(path.to_str().unwrap()), Default::default())
                .unwrap();
        let mut df = f(df).collect().unwrap();
        let file = std::fs::File::create(&path).unwrap();
        ParquetWriter::new(file).finish(&mut df).unwrap();
    }
    pub fn edit_model(&self, from: &str, to: &str) {
        let t = std::fs::read_to_string(&self.model).unwrap();
        assert!(t.contains(from), "{from}");
        std::fs::write(&self.model, t.replacen(from, to, 1)).unwrap();
    }
}

/// Sets column `c` of the first row to `v`.
pub fn set_first(lf: LazyFrame, c: &str, v: Expr) -> LazyFrame {
    set_row(lf, c, 0, v)
}

/// Sets column `c` of row `row` (from 0) to `v`.
pub fn set_row(lf: LazyFrame, c: &str, row: u32, v: Expr) -> LazyFrame {
    set_where(lf, c, col("_i").eq(lit(row)), v)
}

/// Sets column `c` of the last row to `v`.
pub fn set_last(lf: LazyFrame, c: &str, v: Expr) -> LazyFrame {
    set_where(lf, c, col("_i").eq(col("_i").max()), v)
}

/// Sets column `c` to `v` on the rows where `at` holds; `at` reads the row index `_i`.
fn set_where(lf: LazyFrame, c: &str, at: Expr, v: Expr) -> LazyFrame {
    lf.with_row_index("_i", None)
        .with_column(when(at).then(v).otherwise(col(c)).alias(c))
        .drop(cols(["_i"]))
}

/// Runs `assess` and checks the exit code, a part of the message, and that a failed run
/// wrote nothing.
pub fn expect(id: &str, e: &Env, code: i32, needle: &str) {
    let (got, stderr) = e.run();
    assert_eq!(got, code, "{id}: {stderr}");
    assert!(
        stderr.contains(needle),
        "{id}: expected '{needle}' in: {stderr}"
    );
    // A failed run writes nothing.
    if code != 0 {
        assert!(!e.out.exists(), "{id}: output written by a failed run");
    }
}

impl Env {
    /// Runs `validate` on the data, reference and model.
    pub fn validate(&self) -> (i32, String) {
        self.run_with(
            &[
                "validate",
                "--as-of",
                "2026-10-31",
                "--data",
                self.data.to_str().unwrap(),
                "--reference",
                self.reference.to_str().unwrap(),
                "--model",
                self.model.to_str().unwrap(),
            ]
            .map(String::from),
        )
    }
    /// The summary.json of the last run.
    pub fn summary(&self) -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(self.out.join("summary.json")).unwrap())
            .unwrap()
    }
    /// Rewrites a reference file's text.
    pub fn edit_reference(&self, file: &str, f: impl FnOnce(String) -> String) {
        let p = self.reference.join(file);
        let t = std::fs::read_to_string(&p).unwrap();
        std::fs::write(&p, f(t)).unwrap();
    }
}
