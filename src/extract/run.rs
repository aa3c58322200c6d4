//! An assessment run as the extract reads it: its manifest (as-of date, the resolved model with
//! its grades and labels), its outputs and the customers file it read, each checked against the
//! manifest's hash before use by [`RunFolder`] (M4: a changed file is an error, never a silent
//! mismatch).

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use polars::prelude::*;
use serde_json::Value;

use crate::error::Result;
use crate::inputs::scan_path;
use crate::run_folder::{RunFolder, BENEFICIAL_OWNERS, GRADES_NEXT, HISTORY, SCORES};

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
    /// The run folder, each file checked as it is read.
    pub folder: RunFolder,
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
    /// Direct-low classes (class, label) and the institution's own reason (L-CDD29).
    pub low_classes: Vec<(String, String)>,
    /// The institution's own reason for direct-low customers of no class.
    pub low_reason: Option<String>,
    /// The customers files the run read (one per bucket for a merged run), as its manifest
    /// names them (checked when read).
    pub customers_files: Vec<PathBuf>,
    /// The folders of the books the run read (for the guard of `--out`).
    pub data_folders: Vec<PathBuf>,
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

impl Run {
    /// Opens a run folder; the files the extract reads are checked against its manifest.
    pub fn open(dir: &Path) -> Result<Run> {
        let folder = RunFolder::open(dir)?;
        let as_of = folder.as_of()?;
        let model = &folder.assessment().model;
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
        let levels = model["meta"]["m"].as_u64().unwrap_or(5) as u8;
        let low = &model["direct_low"]["settings"];
        let low_classes = low["classes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                let label = s(&c["label"]);
                let class = s(&c["class"]);
                (class.clone(), if label.is_empty() { class } else { label })
            })
            .collect();
        let low_reason = low["reason"].as_str().map(String::from);
        let customers_files: Vec<PathBuf> = folder
            .manifest()
            .inputs
            .iter()
            .map(|i| PathBuf::from(&i.file))
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n == crate::contract::CUSTOMERS.file)
            })
            .collect();
        if customers_files.is_empty() {
            return Err(crate::error::Error::Input(format!(
                "{}: the run's manifest names no {} among its inputs",
                dir.display(),
                crate::contract::CUSTOMERS.file
            )));
        }
        let data_folders = customers_files
            .iter()
            .filter_map(|p| p.parent().map(Path::to_path_buf))
            .collect();
        folder.summary()?;
        Ok(Run {
            dir: dir.to_path_buf(),
            as_of,
            grades,
            levels,
            subitems,
            custom_xh,
            low_classes,
            low_reason,
            customers_files,
            data_folders,
            folder,
        })
    }

    /// The pieces the run is read in: the whole run (`None`), or each bucket's part of a run
    /// whose per-customer outputs are datasets.
    pub fn pieces(&self) -> Vec<Option<u32>> {
        match self.folder.buckets() {
            Some(_) => self.folder.part_buckets().into_iter().map(Some).collect(),
            None => vec![None],
        }
    }

    /// The output `name` of a piece (`None`: the whole run), checked.
    fn scan(&self, name: &str, piece: Option<u32>) -> Result<LazyFrame> {
        match piece {
            None => self.folder.scan(name),
            Some(k) => self.folder.scan_bucket(name, k)?.ok_or_else(|| {
                crate::error::Error::Input(format!(
                    "{}: bucket {k} has no part of {name}",
                    self.dir.display()
                ))
            }),
        }
    }

    /// The customers of a piece (`None`: the whole run): ids, branch, kind, name, ID number,
    /// relationship dates, from the customers files the run read (a bucket's own file for a
    /// bucket's piece), each checked against the manifest.
    pub fn customers(&self, piece: Option<u32>) -> Result<LazyFrame> {
        let file = crate::contract::CUSTOMERS.file;
        let files = match piece {
            Some(k) if self.folder.buckets().is_some() => {
                vec![self.folder.input_of_bucket(file, k)?]
            }
            _ => self.folder.inputs(file)?,
        };
        let mut scans = Vec::new();
        for f in &files {
            let mut lf = scan_path(f)?;
            let schema = lf.collect_schema()?;
            if schema.get("relationship_end").is_none() {
                lf = lf.with_column(lit(NULL).cast(DataType::Date).alias("relationship_end"));
            }
            scans.push(lf);
        }
        let lf = concat(scans, UnionArgs::default())?;
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

    /// The run's scores of the customers `within` selects in a piece, joined with the
    /// customers (names, dates) and the day a grade set by hand was set (`_set_on`, from the
    /// next grade file).
    pub fn graded(
        &self,
        customers: LazyFrame,
        within: Expr,
        piece: Option<u32>,
    ) -> Result<LazyFrame> {
        let scores = self.scan(SCORES, piece)?.filter(within.clone());
        let next = self
            .scan(GRADES_NEXT, piece)?
            .filter(within.clone())
            .select([col("customer_id"), col("last_reviewed").alias("_set_on")]);
        let scores = match self.folder.has(BENEFICIAL_OWNERS) {
            true => scores.join(
                xh3_owners(self.scan(BENEFICIAL_OWNERS, piece)?.filter(within)),
                [col("customer_id")],
                [col("customer_id")],
                crate::frame::left_in_order(),
            ),
            false => scores.with_column(lit(NULL).cast(DataType::String).alias(XH3_OWNER)),
        };
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
                {
                    let mut a = JoinArgs::new(JoinType::Inner);
                    a.maintain_order = MaintainOrderJoin::Left;
                    a
                },
            )
            .join(
                next,
                [col("customer_id")],
                [col("customer_id")],
                crate::frame::left_in_order(),
            ))
    }

    /// The run's grade history of the customers `within` selects in a piece.
    pub fn history(&self, within: Expr, piece: Option<u32>) -> Result<LazyFrame> {
        Ok(self.scan(HISTORY, piece)?.filter(within))
    }

    /// The run's scores of a piece.
    pub fn scores(&self, piece: Option<u32>) -> Result<LazyFrame> {
        self.scan(SCORES, piece)
    }

    /// The run's work list of a piece.
    pub fn reclassify(&self, piece: Option<u32>) -> Result<LazyFrame> {
        self.scan(crate::run_folder::RECLASSIFY, piece)
    }

    /// The run's summary.
    pub fn summary(&self) -> Result<Value> {
        let s = self.folder.summary()?;
        serde_json::to_value(s).map_err(|e| crate::error::Error::Internal(e.to_string()))
    }
}

/// The column of [`Run::graded`] naming, per entity customer, the beneficial owner behind XH3:
/// the PEP or listed owner with the largest effective share (`受益所有人 P1 (股权 30%; 经 C1 <
/// X1 < P1)`), null where there is none.
pub const XH3_OWNER: &str = "_xh3_owner";

/// [`XH3_OWNER`] from the run's beneficial-owners rows.
fn xh3_owners(rows: LazyFrame) -> LazyFrame {
    let basis = crate::frame::lookup(
        col("basis"),
        crate::owners::kernel::BASES.to_vec(),
        vec![
            "股权",
            "收益权或表决权",
            "实际控制",
            "国有企业法定代表人",
            "日常经营管理人员",
        ],
        col("basis"),
        DataType::String,
    );
    let share = when(col("basis").eq(lit("voting")))
        .then(col("voting_share"))
        .otherwise(col("effective_share"));
    rows.filter(
        col("person_pep_relation")
            .neq(lit("none"))
            .fill_null(lit(false))
            .or(col("person_watchlist_hit").fill_null(lit(false))),
    )
    .sort(
        ["customer_id", "effective_share"],
        SortMultipleOptions::default().with_order_descending_multi([false, true]),
    )
    .group_by_stable([col("customer_id")])
    .agg([concat_str(
        [
            lit("受益所有人 "),
            col("person_id"),
            lit(" ("),
            basis,
            lit(" "),
            (share * lit(100.0))
                .round(2, RoundMode::HalfAwayFromZero)
                .cast(DataType::String),
            lit("%; 经 "),
            col("path"),
            lit(")"),
        ],
        "",
        true,
    )
    .first()
    .alias(XH3_OWNER)])
}
