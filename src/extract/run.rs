//! An assessment run as the extract reads it: its manifest (as-of date, the resolved model with
//! its grades and labels), its outputs and the customers file it read, each checked against the
//! manifest's hash before use (M4: a changed file is an error, never a silent mismatch).

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use polars::prelude::*;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::inputs::scan_path;
use crate::io;

/// A grade of the run's model.
#[derive(Debug, Clone)]
pub struct GradeInfo {
    /// Name.
    pub name: String,
    /// enhanced, standard or simplified (C1, C2).
    pub measures: String,
    /// The control measures of the grade.
    pub controls: Vec<String>,
}

/// An assessment run.
pub struct Run {
    /// Its folder.
    pub dir: PathBuf,
    /// Its as-of date.
    pub as_of: NaiveDate,
    /// Grades, highest first.
    pub grades: Vec<GradeInfo>,
    /// Score levels m (W2).
    pub levels: u8,
    /// Sub-items (id, label), in model order.
    pub subitems: Vec<(String, String)>,
    /// Custom direct-highest criteria (id, label).
    pub custom_xh: Vec<(String, String)>,
    /// The customers file the run read.
    pub customers_file: PathBuf,
    /// The manifest.
    pub manifest: Value,
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

impl Run {
    /// Opens a run folder and checks the files the extract reads against its manifest.
    pub fn open(dir: &Path) -> Result<Run> {
        let mpath = dir.join(io::RUN_MARKER);
        let text = std::fs::read_to_string(&mpath).map_err(|e| {
            Error::Usage(format!(
                "--run {}: {e}; give a folder written by riskgrade assess",
                dir.display()
            ))
        })?;
        let manifest: Value = serde_json::from_str(&text)
            .map_err(|e| Error::Input(format!("{}: {e}", mpath.display())))?;
        if manifest["model"].is_null() || manifest["outputs"].as_array().is_none() {
            return Err(Error::Usage(format!(
                "--run {}: not an assessment run (its manifest has no model or outputs)",
                dir.display()
            )));
        }
        let as_of = NaiveDate::parse_from_str(&s(&manifest["as_of"]), "%Y-%m-%d")
            .map_err(|_| Error::Input(format!("{}: no as_of date", mpath.display())))?;
        let model = &manifest["model"];
        let grades = model["grades"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|g| GradeInfo {
                name: s(&g["name"]),
                measures: s(&g["measures"]),
                controls: g["controls"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(s)
                    .collect(),
            })
            .collect();
        let subitems = model["subitems"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|x| {
                let label = if x["label"].is_string() {
                    s(&x["label"])
                } else {
                    s(&x["name"])
                };
                (s(&x["id"]), label)
            })
            .collect();
        let custom_xh = model["direct_highest"]["custom"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| (s(&c["id"]), s(&c["label"])))
            .collect();
        let customers_file = manifest["inputs"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| PathBuf::from(s(&i["file"])))
            .find(|p| p.file_name().is_some_and(|n| n == "customers.parquet"))
            .ok_or_else(|| {
                Error::Input(format!(
                    "{}: no customers.parquet among the inputs",
                    mpath.display()
                ))
            })?;
        let levels = model["meta"]["m"].as_u64().unwrap_or(5) as u8;
        let run = Run {
            dir: dir.to_path_buf(),
            as_of,
            grades,
            levels,
            subitems,
            custom_xh,
            customers_file,
            manifest,
        };
        run.check_hashes()?;
        Ok(run)
    }

    /// A file of the run folder.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The files read, each against the manifest's hash.
    fn check_hashes(&self) -> Result<()> {
        let listed = |key: &str, path: &Path, name: &str| -> Result<()> {
            let want = self.manifest[key]
                .as_array()
                .into_iter()
                .flatten()
                .find(|e| {
                    let f = s(&e["file"]);
                    f == name || Path::new(&f) == path
                })
                .map(|e| s(&e["sha256"]))
                .ok_or_else(|| {
                    Error::Input(format!(
                        "{}: not listed in the run's manifest",
                        path.display()
                    ))
                })?;
            let got = io::sha256_file(path)
                .map_err(|_| Error::Input(format!("{}: missing since the run", path.display())))?;
            if got != want {
                return Err(Error::Input(format!(
                    "{}: changed since the run (SHA-256 differs from the manifest's); an extract reads only what the run read and wrote",
                    path.display()
                )));
            }
            Ok(())
        };
        for f in [
            "scores.parquet",
            "summary.json",
            "grade_history.parquet",
            "grades_next.parquet",
            "reclassify.parquet",
        ] {
            listed("outputs", &self.file(f), f)?;
        }
        listed("inputs", &self.customers_file, "customers.parquet")
    }

    /// The customers: ids, branch, kind, name, ID number, relationship dates.
    pub fn customers(&self) -> Result<LazyFrame> {
        let mut lf = scan_path(&self.customers_file)?;
        let schema = lf.collect_schema()?;
        if schema.get("relationship_end").is_none() {
            lf = lf.with_column(lit(NULL).cast(DataType::Date).alias("relationship_end"));
        }
        Ok(lf.select([
            col("customer_id"),
            col("institution_id"),
            col("branch_id"),
            col("kind"),
            col("customer_name"),
            col("id_number"),
            col("relationship_start"),
            col("relationship_end"),
        ]))
    }

    /// The run's scores joined with the customers (names, dates) and the day a grade set by
    /// hand was set (`_set_on`, from the next grade file).
    pub fn graded(&self, customers: LazyFrame) -> Result<LazyFrame> {
        let scores = scan_path(&self.file("scores.parquet"))?;
        let next = scan_path(&self.file("grades_next.parquet"))?
            .select([col("customer_id"), col("last_reviewed").alias("_set_on")]);
        Ok(scores
            .join(
                customers.select([
                    col("customer_id"),
                    col("institution_id").alias("_ci"),
                    col("customer_name"),
                    col("id_number"),
                    col("relationship_start"),
                    col("relationship_end"),
                ]),
                [col("customer_id"), col("institution_id")],
                [col("customer_id"), col("_ci")],
                JoinArgs::new(JoinType::Inner),
            )
            .join(
                next,
                [col("customer_id")],
                [col("customer_id")],
                JoinArgs::new(JoinType::Left),
            ))
    }

    /// The run's grade history.
    pub fn history(&self) -> Result<LazyFrame> {
        scan_path(&self.file("grade_history.parquet"))
    }

    /// The run's summary.
    pub fn summary(&self) -> Result<Value> {
        let p = self.file("summary.json");
        let t = std::fs::read_to_string(&p)
            .map_err(|e| Error::Input(format!("{}: {e}", p.display())))?;
        serde_json::from_str(&t).map_err(|e| Error::Input(format!("{}: {e}", p.display())))
    }
}
