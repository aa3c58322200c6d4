//! Reference tables: country risk (sanctions, FATF lists, predicate crime, offshore centres;
//! S2.1–S2.4), domestic regions (S2.3), industries (S4.1, S4.3) and the institution's branches
//! (S2.4 locality, M2). Small CSV files read once into memory.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::error::{Error, Result};

/// Risk facts about one country.
#[derive(Debug, Clone, PartialEq)]
pub struct Country {
    /// ISO 3166-1 alpha-2 code.
    pub iso2: String,
    /// Under sanctions China imposes or recognises (S2.1).
    pub sanctioned: bool,
    /// FATF status: 0 none, 1 increased monitoring, 2 call for action (S2.2).
    pub fatf_level: u8,
    /// Predicate-crime level 1..5 (S2.3).
    pub predicate: u8,
    /// Offshore centre (S2.4).
    pub offshore: bool,
}

/// All reference tables.
#[derive(Debug, Clone, Default)]
pub struct Reference {
    /// Countries with any risk fact (others: no sanctions, not listed, level 1, not offshore).
    pub countries: Vec<Country>,
    /// The FATF list version in use (from its file name).
    pub fatf_version: String,
    /// Province code → predicate-crime level (S2.3); others 1.
    pub regions: Vec<(String, u8)>,
    /// Industry code → (risk level S4.1, cash intensity S4.3); others (1, 1).
    pub industries: Vec<(String, u8, u8)>,
    /// Branch id → (province, city).
    pub branches: Vec<(String, String, String)>,
    /// The files read, for the manifest.
    pub files: Vec<PathBuf>,
}

fn read_csv(path: &Path, columns: &[&str]) -> Result<DataFrame> {
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .and_then(|r| r.finish())
        .map_err(|e| Error::Input(format!("{}: cannot read as CSV: {e}", path.display())))?;
    for c in columns {
        if df.column(c).is_err() {
            return Err(Error::Input(format!(
                "{}: missing column '{c}'; expected columns {}",
                path.display(),
                columns.join(",")
            )));
        }
    }
    Ok(df)
}

fn strings(df: &DataFrame, path: &Path, name: &str) -> Result<Vec<String>> {
    let ca = df.column(name)?.str()?.clone();
    ca.iter()
        .enumerate()
        .map(|(i, v)| {
            v.map(|s| s.trim().to_string()).ok_or_else(|| {
                Error::Input(format!(
                    "{}: row {}: column '{name}' is empty",
                    path.display(),
                    i + 2
                ))
            })
        })
        .collect()
}

fn level(path: &Path, row: usize, col: &str, s: &str, max: u8) -> Result<u8> {
    s.parse::<u8>()
        .ok()
        .filter(|v| (1..=max).contains(v))
        .ok_or_else(|| {
            Error::Input(format!(
                "{}: row {}: {col} '{s}' is not a level from 1 to {max}",
                path.display(),
                row + 2
            ))
        })
}

fn flag(path: &Path, row: usize, col: &str, s: &str) -> Result<bool> {
    match s {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" | "" => Ok(false),
        _ => Err(Error::Input(format!(
            "{}: row {}: {col} '{s}' is not true or false",
            path.display(),
            row + 2
        ))),
    }
}

impl Reference {
    /// Loads the tables from `dir`: `countries.csv`, the newest `fatf_lists_*.csv`,
    /// `regions.csv`, `industries.csv`, `branches.csv`.
    pub fn load(dir: &Path) -> Result<Reference> {
        let mut r = Reference::default();
        let mut fatf: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| Error::Input(format!("reference folder {}: {e}", dir.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let n = p.file_name().unwrap_or_default().to_string_lossy();
                n.starts_with("fatf_lists_") && n.ends_with(".csv")
            })
            .collect();
        fatf.sort();
        let fatf_path = fatf.pop().ok_or_else(|| {
            Error::Input(format!(
                "reference folder {}: no fatf_lists_<YYYY-MM>.csv (the FATF lists in force)",
                dir.display()
            ))
        })?;
        r.fatf_version = fatf_path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .trim_start_matches("fatf_lists_")
            .to_string();

        let path = dir.join("countries.csv");
        let df = read_csv(
            &path,
            &["iso2", "sanctioned", "predicate_crime", "offshore"],
        )?;
        let (iso, sanc, pred, off) = (
            strings(&df, &path, "iso2")?,
            strings(&df, &path, "sanctioned")?,
            strings(&df, &path, "predicate_crime")?,
            strings(&df, &path, "offshore")?,
        );
        for i in 0..iso.len() {
            r.countries.push(Country {
                iso2: iso[i].clone(),
                sanctioned: flag(&path, i, "sanctioned", &sanc[i])?,
                fatf_level: 0,
                predicate: level(&path, i, "predicate_crime", &pred[i], 5)?,
                offshore: flag(&path, i, "offshore", &off[i])?,
            });
        }
        let df = read_csv(&fatf_path, &["iso2", "fatf_status"])?;
        let (iso, status) = (
            strings(&df, &fatf_path, "iso2")?,
            strings(&df, &fatf_path, "fatf_status")?,
        );
        for i in 0..iso.len() {
            let lvl = match status[i].as_str() {
                "call_for_action" => 2,
                "increased_monitoring" => 1,
                s => {
                    return Err(Error::Input(format!(
                    "{}: row {}: fatf_status '{s}'; use call_for_action or increased_monitoring",
                    fatf_path.display(),
                    i + 2
                )))
                }
            };
            match r.countries.iter_mut().find(|c| c.iso2 == iso[i]) {
                Some(c) => c.fatf_level = lvl,
                None => r.countries.push(Country {
                    iso2: iso[i].clone(),
                    sanctioned: false,
                    fatf_level: lvl,
                    predicate: 1,
                    offshore: false,
                }),
            }
        }
        r.files.push(path);
        r.files.push(fatf_path);

        let path = dir.join("regions.csv");
        let df = read_csv(&path, &["province_code", "predicate_crime"])?;
        let (code, pred) = (
            strings(&df, &path, "province_code")?,
            strings(&df, &path, "predicate_crime")?,
        );
        for i in 0..code.len() {
            r.regions.push((
                code[i].clone(),
                level(&path, i, "predicate_crime", &pred[i], 5)?,
            ));
        }
        r.files.push(path);

        let path = dir.join("industries.csv");
        let df = read_csv(&path, &["industry_code", "risk_level", "cash_intensity"])?;
        let (code, risk, cash) = (
            strings(&df, &path, "industry_code")?,
            strings(&df, &path, "risk_level")?,
            strings(&df, &path, "cash_intensity")?,
        );
        for i in 0..code.len() {
            r.industries.push((
                code[i].clone(),
                level(&path, i, "risk_level", &risk[i], 5)?,
                level(&path, i, "cash_intensity", &cash[i], 5)?,
            ));
        }
        r.files.push(path);

        let path = dir.join("branches.csv");
        let df = read_csv(&path, &["branch_id", "province_code", "city_code"])?;
        let (b, p, c) = (
            strings(&df, &path, "branch_id")?,
            strings(&df, &path, "province_code")?,
            strings(&df, &path, "city_code")?,
        );
        for i in 0..b.len() {
            r.branches.push((b[i].clone(), p[i].clone(), c[i].clone()));
        }
        r.files.push(path);
        Ok(r)
    }

    /// ISO codes of countries that make a cross-border transaction high-risk (S3.3):
    /// sanctioned or on a FATF list.
    pub fn risky_countries(&self) -> Vec<String> {
        self.countries
            .iter()
            .filter(|c| c.sanctioned || c.fatf_level > 0)
            .map(|c| c.iso2.clone())
            .collect()
    }
}

/// `expr` mapped through a small lookup table to a level, `default` for values not in it;
/// null stays null.
pub fn lookup_u8(expr: Expr, keys: Vec<String>, values: Vec<u8>, default: u8) -> Expr {
    let e = expr.clone();
    when(e.is_null())
        .then(lit(NULL).cast(DataType::UInt8))
        .otherwise(expr.replace_strict(
            lit(Series::new("k".into(), keys)),
            lit(Series::new("v".into(), values)),
            Some(lit(default)),
            Some(DataType::UInt8),
        ))
}
