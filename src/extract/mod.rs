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
    /// Also write the tables as XLSX workbooks.
    pub xlsx: bool,
    /// Customers per range (see [`RANGE_ROWS`]).
    pub range_rows: usize,
    /// Only this bucket of a run of datasets (the cluster's extract stage).
    pub bucket: Option<u32>,
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

/// Rows per `Risk_code` × `Acc_type` of a table (by the columns the profile fills), added
/// into `into`.
fn count_into(
    df: &DataFrame,
    profile_cols: &[profile::Col],
    into: &mut BTreeMap<(String, String), u64>,
) -> Result<()> {
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
        *into.entry(("all".into(), "all".into())).or_default() += df.height() as u64;
        return Ok(());
    };
    let g = df
        .clone()
        .lazy()
        .group_by([col(rc.as_str()), col(at.as_str())])
        .agg([len().cast(DataType::UInt64).alias("n")])
        .collect()?;
    let (r, a, n) = (
        g.column(&rc)?.str()?.clone(),
        g.column(&at)?.str()?.clone(),
        g.column("n")?.u64()?.clone(),
    );
    for ((r, a), n) in r.iter().zip(a.iter()).zip(n.iter()) {
        *into
            .entry((r.unwrap_or("").to_string(), a.unwrap_or("").to_string()))
            .or_default() += n.unwrap_or(0);
    }
    Ok(())
}

/// Rows per value of a text column, added into `into`.
fn tally(df: &DataFrame, column: &str, into: &mut BTreeMap<String, u64>) -> Result<()> {
    let g = df
        .clone()
        .lazy()
        .group_by([col(column)])
        .agg([len().cast(DataType::UInt64).alias("n")])
        .collect()?;
    for (k, n) in g
        .column(column)?
        .str()?
        .iter()
        .zip(g.column("n")?.u64()?.iter())
    {
        *into.entry(k.unwrap_or("").to_string()).or_default() += n.unwrap_or(0);
    }
    Ok(())
}

/// The customer-id ranges the extract is built in: `ids` are the run's graded customers in
/// order; each range but the first starts at every `rows`-th of them, the first has no lower
/// end and the last no upper end, so together they hold every customer id there is (the
/// history's too).
fn id_ranges(ids: &StringChunked, rows: usize) -> Vec<Expr> {
    let starts: Vec<String> = ids
        .iter()
        .step_by(rows.max(1))
        .skip(1)
        .flatten()
        .map(String::from)
        .collect();
    let id = || col("customer_id");
    let mut out = Vec::new();
    let mut lower: Option<&String> = None;
    for s in &starts {
        let upper = id().lt(lit(s.clone()));
        out.push(match lower {
            None => upper,
            Some(l) => id().gt_eq(lit(l.clone())).and(upper),
        });
        lower = Some(s);
    }
    out.push(match lower {
        None => lit(true),
        Some(l) => id().gt_eq(lit(l.clone())),
    });
    out
}

/// What the tables hold, counted as they are written; a bucket's extract keeps it in its
/// control file, and the parts' tallies add up to the whole run's.
#[derive(Default, Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Tally {
    new_rows: u64,
    his_rows: u64,
    /// `tb_risk_new` rows per grade.
    new_by_grade: BTreeMap<String, u64>,
    /// Graded customers out of the period's scope, per grade.
    out_of_scope: BTreeMap<String, u64>,
    /// Distinct (customer, day) gradings of the history within the period.
    his_gradings: u64,
    /// Rows per (Risk_code, Acc_type) of each table.
    #[serde(with = "pairs")]
    new_counts: BTreeMap<(String, String), u64>,
    #[serde(with = "pairs")]
    his_counts: BTreeMap<(String, String), u64>,
}

/// A map keyed by pairs, as a list of `[a, b, n]`.
mod pairs {
    use std::collections::BTreeMap;
    type Map = BTreeMap<(String, String), u64>;
    pub fn serialize<S: serde::Serializer>(m: &Map, s: S) -> Result<S::Ok, S::Error> {
        use serde::Serialize;
        m.iter()
            .map(|((a, b), n)| (a, b, n))
            .collect::<Vec<_>>()
            .serialize(s)
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Map, D::Error> {
        let v: Vec<(String, String, u64)> = serde::Deserialize::deserialize(d)?;
        Ok(v.into_iter().map(|(a, b, n)| ((a, b), n)).collect())
    }
}

impl Tally {
    /// Adds another part's tally.
    fn add(&mut self, o: &Tally) {
        self.new_rows += o.new_rows;
        self.his_rows += o.his_rows;
        self.his_gradings += o.his_gradings;
        for (k, n) in &o.new_by_grade {
            *self.new_by_grade.entry(k.clone()).or_default() += n;
        }
        for (k, n) in &o.out_of_scope {
            *self.out_of_scope.entry(k.clone()).or_default() += n;
        }
        for (k, n) in &o.new_counts {
            *self.new_counts.entry(k.clone()).or_default() += n;
        }
        for (k, n) in &o.his_counts {
            *self.his_counts.entry(k.clone()).or_default() += n;
        }
    }
}

/// The two tables' files, written a range at a time.
struct Writers {
    new_csv: files::CsvTable,
    his_csv: files::CsvTable,
    xlsx: Option<(files::XlsxTable, files::XlsxTable)>,
}

/// Reconciles `tb_risk_new` with the run's summary (customers per grade, those out of scope
/// counted apart) and `tb_risk_his` with the grade history (gradings within the period, one per
/// customer and day). Any difference is an error.
fn reconcile(req: &Request<'_>, t: &Tally) -> Result<Value> {
    let run = req.run;
    let summary = run.summary()?;
    let mut grades = Vec::new();
    for (i, g) in run.grades.iter().enumerate() {
        let code = (10 + i).to_string();
        let in_table: u64 = t.new_by_grade.get(&g.name).copied().unwrap_or(0);
        let outside = t.out_of_scope.get(&g.name).copied().unwrap_or(0);
        let want = summary["grades"][&g.name].as_u64().unwrap_or(0);
        if in_table + outside != want {
            return Err(Error::Input(format!(
                "reconciliation: tb_risk_new has {in_table} customers graded {} (Risk_code {code}) and {outside} are out of the period's scope, but the run's summary.json counts {want}; nothing was written",
                g.name
            )));
        }
        grades.push(json!({"grade": g.name, "risk_code": code, "tb_risk_new": in_table, "out_of_scope": outside, "summary": want}));
    }
    if t.his_gradings != t.his_rows {
        return Err(Error::Input(format!(
            "reconciliation: tb_risk_his has {} rows but grade_history.parquet holds {} gradings within the period; nothing was written",
            t.his_rows, t.his_gradings
        )));
    }
    Ok(
        json!({"tb_risk_new_by_grade": grades, "tb_risk_his": {"rows": t.his_rows, "grade_history_gradings_in_period": t.his_gradings}}),
    )
}

/// Customers per range: the tables are built, counted and written a range of customer ids at a
/// time, so memory holds one range's rows, never every `Norm` text of the book.
pub const RANGE_ROWS: usize = 250_000;

/// Builds one range's tables, checks them, counts them and appends them to the files.
fn extract_range(
    req: &Request<'_>,
    customers: &LazyFrame,
    (within, piece): (Expr, Option<u32>),
    t: &mut Tally,
    w: &mut Writers,
) -> Result<()> {
    let run = req.run;
    let p = req.period;
    let cust = customers.clone().filter(within.clone()).collect()?.lazy();
    let graded = tables::graded_with_norm(run, cust.clone(), within.clone(), piece)?;
    let mut new = tables::new_table(run, &graded, p, &req.profile.new)?;
    tally(&new, tables::GRADE, &mut t.new_by_grade)?;
    new.drop_in_place(tables::GRADE)?;
    let outside = graded
        .clone()
        .lazy()
        .filter(tables::in_scope(p).not())
        .select([col("grade")])
        .collect()?;
    tally(&outside, "grade", &mut t.out_of_scope)?;
    let his = tables::his_table(
        run,
        cust,
        &graded,
        p,
        &req.profile.his,
        within.clone(),
        piece,
    )?;
    drop(graded);
    let gradings = run
        .history(within, piece)?
        .filter(
            col("graded_on")
                .gt_eq(crate::dates::date_lit(p.start))
                .and(col("graded_on").lt_eq(crate::dates::date_lit(p.end))),
        )
        .select([col("customer_id"), col("graded_on")])
        .unique(None, UniqueKeepStrategy::Any)
        .select([len().cast(DataType::UInt64).alias("n")])
        .collect()?;
    t.his_gradings += gradings.column("n")?.u64()?.get(0).unwrap_or(0);
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
    count_into(&new, &req.profile.new, &mut t.new_counts)?;
    count_into(&his, &req.profile.his, &mut t.his_counts)?;
    t.new_rows += new.height() as u64;
    t.his_rows += his.height() as u64;
    w.new_csv.append(&new)?;
    w.his_csv.append(&his)?;
    if let Some((xn, xh)) = &mut w.xlsx {
        xn.append(&new)?;
        xh.append(&his)?;
    }
    Ok(())
}

/// Builds, reconciles and writes the extract into `dir` (a staging folder): the run's scores
/// are read once, a range of customer ids at a time (for a run of datasets, bucket by bucket,
/// each bucket's customers from its own customers file), and each range's rows are appended to
/// the files as they are made. With `req.bucket` only that bucket is extracted and its tally
/// kept in the control file for [`combine`], which reconciles the parts with the run.
pub fn extract(
    req: &Request<'_>,
    dir: &Path,
    progress: &crate::progress::Progress,
) -> Result<Extract> {
    let run = req.run;
    files::private(dir, true)?;
    let pieces = match req.bucket {
        Some(k) => {
            if !run.pieces().contains(&Some(k)) {
                return Err(Error::Usage(format!(
                    "--bucket {k}: the run has no part of bucket {k}; --bucket extracts one bucket of a run merged as datasets"
                )));
            }
            vec![Some(k)]
        }
        None => run.pieces(),
    };
    let headers = |cols: &[profile::Col]| cols.iter().map(|c| c.header.clone()).collect::<Vec<_>>();
    let (new_header, his_header) = (headers(&req.profile.new), headers(&req.profile.his));
    let mut w = Writers {
        new_csv: files::CsvTable::create(&dir.join(TB_NEW_CSV), req.encoding, &new_header)?,
        his_csv: files::CsvTable::create(&dir.join(TB_HIS_CSV), req.encoding, &his_header)?,
        xlsx: if req.xlsx {
            Some((
                files::XlsxTable::create(
                    &dir.join(TB_NEW_XLSX),
                    "tb_risk_new",
                    &new_header,
                    dir,
                    SHEET_ROWS,
                )?,
                files::XlsxTable::create(
                    &dir.join(TB_HIS_XLSX),
                    "tb_risk_his",
                    &his_header,
                    dir,
                    SHEET_ROWS,
                )?,
            ))
        } else {
            None
        },
    };
    let mut t = Tally::default();
    for piece in pieces {
        let mut customers = run.customers(piece)?;
        if let Some(salt) = &req.mask {
            customers = masked(customers, salt);
        }
        let ids = run.scores(piece)?.select([col("customer_id")]).collect()?;
        let ranges = id_ranges(ids.column("customer_id")?.str()?, req.range_rows);
        drop(ids);
        let label = match piece {
            Some(k) => format!("bucket {k}: customer ranges"),
            None => "customer ranges".into(),
        };
        let task = progress.task(&label, ranges.len() as u64);
        for within in ranges {
            extract_range(req, &customers, (within, piece), &mut t, &mut w)?;
            task.advance(1);
        }
        task.done();
    }
    let reconciliation = match req.bucket {
        Some(_) => Value::Null,
        None => reconcile(req, &t)?,
    };
    let Writers {
        new_csv,
        his_csv,
        xlsx,
    } = w;
    new_csv.finish()?;
    his_csv.finish()?;
    let mut written: Vec<String> = vec![TB_NEW_CSV.into(), TB_HIS_CSV.into()];
    let mut sheets = BTreeMap::new();
    if let Some((xn, xh)) = xlsx {
        // The two workbooks are zipped together on two threads.
        let (a, b) = std::thread::scope(|sc| {
            let a = sc.spawn(|| xn.finish());
            (a.join(), xh.finish())
        });
        sheets.insert(
            "tb_risk_new",
            a.map_err(|_| Error::Internal("the workbook writer panicked".into()))??,
        );
        sheets.insert("tb_risk_his", b?);
        written.push(TB_NEW_XLSX.into());
        written.push(TB_HIS_XLSX.into());
    }
    if req.stats && req.bucket.is_none() {
        let customers = run.customers(None)?;
        let customers = match &req.mask {
            Some(salt) => masked(customers, salt),
            None => customers,
        };
        stats_files(req, customers, dir, &mut written)?;
    }
    control(req, dir, &t, reconciliation, &sheets, &written)
}

/// The tables' file names.
const TB_NEW_CSV: &str = "tb_risk_new.csv";
const TB_HIS_CSV: &str = "tb_risk_his.csv";
const TB_NEW_XLSX: &str = "tb_risk_new.xlsx";
const TB_HIS_XLSX: &str = "tb_risk_his.xlsx";

/// Writes the control files (`control.json`, `control.csv`) of an extract whose tables are
/// counted in `t`.
fn control(
    req: &Request<'_>,
    dir: &Path,
    t: &Tally,
    reconciliation: Value,
    sheets: &BTreeMap<&str, Vec<String>>,
    written: &[String],
) -> Result<Extract> {
    let run = req.run;
    let enc = match req.encoding {
        Encoding::Utf8 => "utf-8",
        Encoding::Gb18030 => "gb18030",
    };
    let by = |c: &BTreeMap<(String, String), u64>| -> Vec<Value> {
        c.iter()
            .map(|((r, a), n)| json!({"Risk_code": r, "Acc_type": a, "rows": n}))
            .collect()
    };
    let mut hashes = Vec::new();
    for f in written {
        hashes.push(json!({"file": f, "sha256": io::sha256_file(&dir.join(f))?}));
    }
    let sheet_list = |k: &str| sheets.get(k).cloned().unwrap_or_default();
    let mut control = json!({
        "run": run.dir.display().to_string(),
        "run_as_of": run.as_of.to_string(),
        "period_start": req.period.start.to_string(),
        "period_end": req.period.end.to_string(),
        "extracted_on": req.period.extracted_on.to_string(),
        "profile": req.profile,
        "encoding": enc,
        "masked": req.mask.is_some(),
        "rulebook": run.summary()?["rulebook"],
        "tables": {
            "tb_risk_new": {"rows": t.new_rows, "by_risk_code_and_acc_type": by(&t.new_counts), "sheets": sheet_list("tb_risk_new")},
            "tb_risk_his": {"rows": t.his_rows, "by_risk_code_and_acc_type": by(&t.his_counts), "sheets": sheet_list("tb_risk_his")},
        },
        "reconciliation": reconciliation,
        "files": hashes,
    });
    if let Some(k) = req.bucket {
        // A part: what the combining extract reconciles, and which part it is.
        control["bucket"] = json!(k);
        control["run_manifest_sha256"] = json!(run.folder.manifest_sha256());
        control["mask_check"] = json!(req.mask.as_ref().map(|s| {
            // Whether the parts were masked with one salt, without the salt.
            let mac = hmac_sha256(s.as_bytes(), b"riskgrade mask check");
            mac.iter()
                .take(8)
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        }));
        control["tally"] = serde_json::to_value(t).map_err(|e| Error::Internal(e.to_string()))?;
    }
    let mut rows: [Vec<String>; 4] = Default::default();
    for (table, c) in [
        ("tb_risk_new", &t.new_counts),
        ("tb_risk_his", &t.his_counts),
    ] {
        for ((r, a), n) in c.iter() {
            rows[0].push(table.into());
            rows[1].push(r.clone());
            rows[2].push(a.clone());
            rows[3].push(n.to_string());
        }
    }
    let n = rows[0].len();
    let [tb, r, a, k] = rows;
    let ctl = DataFrame::new(
        n,
        vec![
            Column::new("table".into(), tb),
            Column::new("Risk_code".into(), r),
            Column::new("Acc_type".into(), a),
            Column::new("rows".into(), k),
        ],
    )?;
    files::write_csv(&ctl, &dir.join(CONTROL_CSV), Encoding::Utf8)?;
    io::write_json(&control, &dir.join(CONTROL_JSON))?;
    Ok(Extract { control })
}

/// One bucket's extract, as [`combine`] reads it.
pub struct Part {
    /// Its folder.
    pub dir: std::path::PathBuf,
    /// Its control record.
    pub control: Value,
}

/// The extract of a run of datasets made from its buckets' extracts (`extract --parts`, the
/// cluster's extract stage): each table's CSV files concatenated byte for byte in bucket order
/// (the header once), the parts' tallies added up and reconciled with the run's summary, and
/// the control files written as for one extract. Every bucket of the run must have its part,
/// made from this run with the same period, profile, encoding and masking.
pub fn combine(req: &Request<'_>, parts: &[Part], dir: &Path) -> Result<Extract> {
    let run = req.run;
    files::private(dir, true)?;
    let want: Vec<u32> = run.pieces().into_iter().flatten().collect();
    if want.is_empty() {
        return Err(Error::Usage(
            "--parts: the run is not merged as datasets; extract it directly".into(),
        ));
    }
    let mut by_bucket: BTreeMap<u32, &Part> = BTreeMap::new();
    let mine = |p: &Part, key: &str, value: Value| -> Result<()> {
        if p.control[key] != value {
            return Err(Error::Usage(format!(
                "--parts {}: made with {key} {}, not {value}; combine the parts of one extract",
                p.dir.display(),
                p.control[key]
            )));
        }
        Ok(())
    };
    let first_mask = parts.first().map(|p| p.control["mask_check"].clone());
    for p in parts {
        let k = p.control["bucket"].as_u64().ok_or_else(|| {
            Error::Usage(format!(
                "--parts {}: not the extract of one bucket (extract --bucket K/N)",
                p.dir.display()
            ))
        })? as u32;
        mine(
            p,
            "run_manifest_sha256",
            json!(run.folder.manifest_sha256()),
        )?;
        mine(p, "period_start", json!(req.period.start.to_string()))?;
        mine(p, "period_end", json!(req.period.end.to_string()))?;
        mine(
            p,
            "extracted_on",
            json!(req.period.extracted_on.to_string()),
        )?;
        mine(
            p,
            "profile",
            serde_json::to_value(req.profile).map_err(|e| Error::Internal(e.to_string()))?,
        )?;
        mine(
            p,
            "encoding",
            json!(match req.encoding {
                Encoding::Utf8 => "utf-8",
                Encoding::Gb18030 => "gb18030",
            }),
        )?;
        if let Some(m) = &first_mask {
            mine(p, "mask_check", m.clone())?;
        }
        if by_bucket.insert(k, p).is_some() {
            return Err(Error::Usage(format!("--parts: bucket {k} is given twice")));
        }
    }
    let missing: Vec<String> = want
        .iter()
        .filter(|k| !by_bucket.contains_key(k))
        .map(|k| k.to_string())
        .collect();
    if !missing.is_empty() || by_bucket.len() != want.len() {
        return Err(Error::Usage(format!(
            "--parts: the run has buckets {want:?}; the parts of bucket(s) {} are missing (or parts of other buckets given)",
            missing.join(", ")
        )));
    }
    let mut t = Tally::default();
    for p in by_bucket.values() {
        let tally: Tally = serde_json::from_value(p.control["tally"].clone())
            .map_err(|e| Error::Input(format!("{}: control.json: {e}", p.dir.display())))?;
        t.add(&tally);
    }
    let reconciliation = reconcile(req, &t)?;
    for name in [TB_NEW_CSV, TB_HIS_CSV] {
        let mut out = std::io::BufWriter::new(io::create_private(&dir.join(name))?);
        for (i, p) in by_bucket.values().enumerate() {
            let bytes = std::fs::read(p.dir.join(name))
                .map_err(|e| Error::Input(format!("{}: {e}", p.dir.join(name).display())))?;
            // The header once: every part's first line is the same header.
            let body = if i == 0 {
                &bytes[..]
            } else {
                let nl = bytes
                    .iter()
                    .position(|b| *b == b'\n')
                    .map_or(bytes.len(), |x| x + 1);
                &bytes[nl..]
            };
            use std::io::Write;
            out.write_all(body)
                .map_err(|e| Error::Env(format!("writing {name}: {e}")))?;
        }
        use std::io::Write;
        out.flush()
            .map_err(|e| Error::Env(format!("writing {name}: {e}")))?;
    }
    let written: Vec<String> = vec![TB_NEW_CSV.into(), TB_HIS_CSV.into()];
    control(req, dir, &t, reconciliation, &BTreeMap::new(), &written)
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
