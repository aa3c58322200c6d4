//! Regulator extracts (`riskgrade extract`): the PBoC inspection tables of customer grades,
//! `tb_risk_new` (every customer's latest grade) and `tb_risk_his` (every grading within the
//! inspection period), built from an assessment run and reconciled to the last row with its
//! summary and grade history before anything is written. Personal data (P6) appears only in
//! these files, which are readable by their owner only; `--mask` replaces it by salted hashes.
//!
//! `run` reads and checks the run, `profile` holds the column layouts, `norm` the basis text,
//! `tables` builds the tables, `files` writes CSV and XLSX, `stats` the periodic statistics.

mod files;
mod norm;
mod profile;
mod run;
mod stats;
mod tables;

use std::collections::BTreeMap;
use std::path::Path;

use polars::prelude::*;
use serde_json::{json, Value};

pub use files::{Encoding, SHEET_ROWS};
pub use norm::{shorten, MAX_CHARS};
pub use profile::Profile;
pub use run::Run;
pub use tables::{Period, ABSENT};

use crate::error::{Error, Result};
use crate::io;
use crate::run_folder::{CONTROL_CSV, CONTROL_JSON};

/// What to extract.
pub struct Request<'a> {
    /// The run.
    pub run: &'a Run,
    /// The inspection period.
    pub period: Period,
    /// The column layout.
    pub profile: &'a Profile,
    /// CSV encoding.
    pub encoding: Encoding,
    /// Salt of the masking hash, when names and ID numbers are masked.
    pub mask: Option<String>,
    /// Also write the statistics.
    pub stats: bool,
}

/// What an extract wrote: its control record.
pub struct Extract {
    /// The control record (also `control.json`).
    pub control: Value,
}

/// Checks the period against the run and the day of extraction.
pub fn check_period(run: &Run, p: Period) -> Result<()> {
    if p.start > p.end {
        return Err(Error::Usage(format!(
            "--period-start {} is after --period-end {}",
            p.start, p.end
        )));
    }
    if p.end > p.extracted_on {
        return Err(Error::Usage(format!(
            "--period-end {} is after the day of extraction {}",
            p.end, p.extracted_on
        )));
    }
    if run.as_of < p.start || run.as_of > p.extracted_on {
        return Err(Error::Usage(format!(
            "the run was assessed as of {}, outside the inspection period's start {} and the day of extraction {}; extract from a run of the period",
            run.as_of, p.start, p.extracted_on
        )));
    }
    Ok(())
}

/// Shortest salt of `--mask`: a shorter key lets a dictionary of names or ID numbers reverse
/// the masks.
pub const MIN_SALT_BYTES: usize = 16;

/// HMAC-SHA256 (RFC 2104) of `msg` under `key`.
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |b: u8| k.iter().map(|x| x ^ b).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(msg)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// Replaces names and ID numbers by the first 16 bytes (32 hex digits) of
/// HMAC-SHA256(salt, value): the same value gives the same mask within an extract, and without
/// the salt no dictionary of names or ID numbers finds them.
fn masked(customers: LazyFrame, salt: &str) -> LazyFrame {
    let hash = |c: &str| {
        let salt = salt.as_bytes().to_vec();
        col(c).map(
            move |c| {
                let out: StringChunked = c
                    .str()?
                    .iter()
                    .map(|v| {
                        v.map(|v| {
                            hmac_sha256(&salt, v.as_bytes())
                                .iter()
                                .take(16)
                                .map(|b| format!("{b:02x}"))
                                .collect::<String>()
                        })
                    })
                    .collect();
                Ok(out.with_name(c.name().clone()).into_column())
            },
            |_, f| Ok(Field::new(f.name().clone(), DataType::String)),
        )
    };
    customers.with_columns([hash("customer_name"), hash("id_number")])
}

/// Rows per `Risk_code` × `Acc_type` of a table (by the columns the profile fills).
fn counts(df: &DataFrame, profile_cols: &[profile::Col]) -> Result<Vec<(String, String, u64)>> {
    let find = |s: profile::Source| {
        profile_cols
            .iter()
            .find(|c| c.value == s)
            .map(|c| c.header.clone())
    };
    let (Some(rc), Some(at)) = (
        find(profile::Source::RiskCode),
        find(profile::Source::AccType),
    ) else {
        return Ok(vec![("all".into(), "all".into(), df.height() as u64)]);
    };
    let g = df
        .clone()
        .lazy()
        .group_by([col(rc.as_str()), col(at.as_str())])
        .agg([len().cast(DataType::UInt64).alias("n")])
        .sort([rc.as_str(), at.as_str()], SortMultipleOptions::default())
        .collect()?;
    let (r, a, n) = (
        g.column(&rc)?.str()?.clone(),
        g.column(&at)?.str()?.clone(),
        g.column("n")?.u64()?.clone(),
    );
    Ok(r.iter()
        .zip(a.iter())
        .zip(n.iter())
        .map(|((r, a), n)| {
            (
                r.unwrap_or("").to_string(),
                a.unwrap_or("").to_string(),
                n.unwrap_or(0),
            )
        })
        .collect())
}

/// Rows of `tb_risk_new` per grade (its [`tables::GRADE`] column).
fn grade_counts(new: &DataFrame) -> Result<BTreeMap<String, u64>> {
    let g = new
        .clone()
        .lazy()
        .group_by([col(tables::GRADE)])
        .agg([len().cast(DataType::UInt64).alias("n")])
        .collect()?;
    Ok(g.column(tables::GRADE)?
        .str()?
        .iter()
        .zip(g.column("n")?.u64()?.iter())
        .map(|(k, n)| (k.unwrap_or("").to_string(), n.unwrap_or(0)))
        .collect())
}

/// Reconciles `tb_risk_new` with the run's summary (customers per grade, those out of scope
/// counted apart) and `tb_risk_his` with the grade history (gradings within the period, one per
/// customer and day). Any difference is an error.
fn reconcile(
    req: &Request<'_>,
    customers: LazyFrame,
    new_by_grade: &BTreeMap<String, u64>,
    his_rows: u64,
) -> Result<Value> {
    let run = req.run;
    let summary = run.summary()?;
    let graded = run.graded(customers.clone())?;
    let out = graded
        .clone()
        .filter(tables::in_scope(req.period).not())
        .group_by([col("grade")])
        .agg([len().cast(DataType::UInt64).alias("n")])
        .collect()?;
    let mut out_of_scope: BTreeMap<String, u64> = BTreeMap::new();
    for (g, n) in out
        .column("grade")?
        .str()?
        .iter()
        .zip(out.column("n")?.u64()?.iter())
    {
        out_of_scope.insert(g.unwrap_or("").to_string(), n.unwrap_or(0));
    }
    let mut grades = Vec::new();
    for (i, g) in run.grades.iter().enumerate() {
        let code = (10 + i).to_string();
        let in_table: u64 = new_by_grade.get(&g.name).copied().unwrap_or(0);
        let outside = out_of_scope.get(&g.name).copied().unwrap_or(0);
        let want = summary["grades"][&g.name].as_u64().unwrap_or(0);
        if in_table + outside != want {
            return Err(Error::Input(format!(
                "reconciliation: tb_risk_new has {in_table} customers graded {} (Risk_code {code}) and {outside} are out of the period's scope, but the run's summary.json counts {want}; nothing was written",
                g.name
            )));
        }
        grades.push(json!({"grade": g.name, "risk_code": code, "tb_risk_new": in_table, "out_of_scope": outside, "summary": want}));
    }
    let p = req.period;
    let h = run
        .history()?
        .filter(
            col("graded_on")
                .gt_eq(crate::dates::date_lit(p.start))
                .and(col("graded_on").lt_eq(crate::dates::date_lit(p.end))),
        )
        .select([col("customer_id"), col("graded_on")])
        .unique(None, UniqueKeepStrategy::Any)
        .select([len().cast(DataType::UInt64).alias("n")])
        .collect()?;
    let want_his = h.column("n")?.u64()?.get(0).unwrap_or(0);
    if want_his != his_rows {
        return Err(Error::Input(format!(
            "reconciliation: tb_risk_his has {his_rows} rows but grade_history.parquet holds {want_his} gradings within the period; nothing was written"
        )));
    }
    Ok(
        json!({"tb_risk_new_by_grade": grades, "tb_risk_his": {"rows": his_rows, "grade_history_gradings_in_period": want_his}}),
    )
}

/// Builds, reconciles and writes the extract into `dir` (a staging folder).
pub fn extract(req: &Request<'_>, dir: &Path) -> Result<Extract> {
    let run = req.run;
    let mut customers = run.customers()?;
    if let Some(salt) = &req.mask {
        customers = masked(customers, salt);
    }
    let graded = tables::graded_with_norm(run, customers.clone())?;
    let mut new = tables::new_table(run, &graded, req.period, &req.profile.new)?;
    let new_by_grade = grade_counts(&new)?;
    new.drop_in_place(tables::GRADE)?;
    let his = tables::his_table(
        run,
        customers.clone(),
        &graded,
        req.period,
        &req.profile.his,
    )?;
    drop(graded);
    if let Some(branch) = req
        .profile
        .new
        .iter()
        .find(|c| c.value == profile::Source::Branch)
    {
        let long = new
            .column(&branch.header)?
            .str()?
            .iter()
            .flatten()
            .find(|b| b.chars().count() > 20)
            .map(String::from);
        if let Some(b) = long {
            return Err(Error::Input(format!(
                "customers.parquet: branch code '{b}' is longer than the 20 characters of {}",
                branch.header
            )));
        }
    }
    let new_counts = counts(&new, &req.profile.new)?;
    let his_counts = counts(&his, &req.profile.his)?;
    let reconciliation = reconcile(req, customers.clone(), &new_by_grade, his.height() as u64)?;
    files::private(dir, true)?;
    let enc = match req.encoding {
        Encoding::Utf8 => "utf-8",
        Encoding::Gb18030 => "gb18030",
    };
    let mut written: Vec<String> = Vec::new();
    let mut sheets = BTreeMap::new();
    // The large workbook is written on its own thread while the rest is written here.
    let (new_sheets, rest) = std::thread::scope(|sc| {
        let xlsx = sc.spawn(|| {
            files::write_xlsx(
                &new,
                &dir.join("tb_risk_new.xlsx"),
                "tb_risk_new",
                dir,
                SHEET_ROWS,
            )
        });
        let rest = (|| -> Result<Vec<String>> {
            files::write_csv(&new, &dir.join("tb_risk_new.csv"), req.encoding)?;
            files::write_csv(&his, &dir.join("tb_risk_his.csv"), req.encoding)?;
            files::write_xlsx(
                &his,
                &dir.join("tb_risk_his.xlsx"),
                "tb_risk_his",
                dir,
                SHEET_ROWS,
            )
        })();
        (xlsx.join(), rest)
    });
    let new_sheets =
        new_sheets.map_err(|_| Error::Internal("the workbook writer panicked".into()))??;
    sheets.insert("tb_risk_new", new_sheets);
    sheets.insert("tb_risk_his", rest?);
    for name in ["tb_risk_new", "tb_risk_his"] {
        written.push(format!("{name}.csv"));
        written.push(format!("{name}.xlsx"));
    }
    if req.stats {
        stats_files(req, customers, dir, &mut written)?;
    }
    let by = |c: &[(String, String, u64)]| -> Vec<Value> {
        c.iter()
            .map(|(r, a, n)| json!({"Risk_code": r, "Acc_type": a, "rows": n}))
            .collect()
    };
    let mut hashes = Vec::new();
    for f in &written {
        hashes.push(json!({"file": f, "sha256": io::sha256_file(&dir.join(f))?}));
    }
    let control = json!({
        "run": run.dir.display().to_string(),
        "run_as_of": run.as_of.to_string(),
        "period_start": req.period.start.to_string(),
        "period_end": req.period.end.to_string(),
        "extracted_on": req.period.extracted_on.to_string(),
        "profile": req.profile,
        "encoding": enc,
        "masked": req.mask.is_some(),
        "tables": {
            "tb_risk_new": {"rows": new.height(), "by_risk_code_and_acc_type": by(&new_counts), "sheets": sheets["tb_risk_new"]},
            "tb_risk_his": {"rows": his.height(), "by_risk_code_and_acc_type": by(&his_counts), "sheets": sheets["tb_risk_his"]},
        },
        "reconciliation": reconciliation,
        "files": hashes,
    });
    let mut rows: [Vec<String>; 4] = Default::default();
    for (t, c) in [("tb_risk_new", &new_counts), ("tb_risk_his", &his_counts)] {
        for (r, a, n) in c.iter() {
            rows[0].push(t.into());
            rows[1].push(r.clone());
            rows[2].push(a.clone());
            rows[3].push(n.to_string());
        }
    }
    let n = rows[0].len();
    let [t, r, a, k] = rows;
    let ctl = DataFrame::new(
        n,
        vec![
            Column::new("table".into(), t),
            Column::new("Risk_code".into(), r),
            Column::new("Acc_type".into(), a),
            Column::new("rows".into(), k),
        ],
    )?;
    files::write_csv(&ctl, &dir.join(CONTROL_CSV), Encoding::Utf8)?;
    io::write_json(&control, &dir.join(CONTROL_JSON))?;
    Ok(Extract { control })
}

/// The statistics as CSV files and one workbook.
fn stats_files(
    req: &Request<'_>,
    customers: LazyFrame,
    dir: &Path,
    written: &mut Vec<String>,
) -> Result<()> {
    use rust_xlsxwriter::Workbook;
    let path = dir.join("stats.xlsx");
    let x = |e: rust_xlsxwriter::XlsxError| Error::Env(format!("writing {}: {e}", path.display()));
    let mut wb = Workbook::new();
    for (name, df) in stats::tables(req.run, customers, req.period)? {
        let f = format!("stats_{name}.csv");
        files::write_csv(&df, &dir.join(&f), req.encoding)?;
        written.push(f);
        let ws = wb.add_worksheet();
        ws.set_name(name).map_err(x)?;
        for (c, n) in df.get_column_names().iter().enumerate() {
            ws.write_string(0, c as u16, n.as_str()).map_err(x)?;
        }
        for (c, column) in df.columns().iter().enumerate() {
            for (r, v) in column.str()?.iter().enumerate() {
                ws.write_string(r as u32 + 1, c as u16, v.unwrap_or(ABSENT))
                    .map_err(x)?;
            }
        }
    }
    wb.save(&path).map_err(x)?;
    files::private(&path, false)?;
    written.push("stats.xlsx".into());
    Ok(())
}
