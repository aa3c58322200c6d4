//! Reference tables: country risk (sanctions, FATF lists, predicate crime, offshore centres;
//! S2.1–S2.4), domestic regions (S2.3), industries (S4.1, S4.3) and the institution's branches
//! (S2.4 locality, M2). Small CSV files read once into memory and checked row by row: codes in
//! their standard form (ISO 3166-1 alpha-2, GB/T 2260), no key twice, no empty required table.

use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;

use crate::contract;
use crate::error::{Error, Result};

/// The bundled reference tables, built into the binary: used when no reference folder is given
/// and none is at the default path, and written by `riskgrade init`.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "countries.csv",
        include_str!("../data/reference/countries.csv"),
    ),
    (
        "fatf_lists_2026-06.csv",
        include_str!("../data/reference/fatf_lists_2026-06.csv"),
    ),
    ("regions.csv", include_str!("../data/reference/regions.csv")),
    (
        "industries.csv",
        include_str!("../data/reference/industries.csv"),
    ),
    (
        "branches.csv",
        include_str!("../data/reference/branches.csv"),
    ),
    (
        "calendar_cn.csv",
        include_str!("../data/reference/calendar_cn.csv"),
    ),
];

/// Writes the built-in reference tables into `dir`.
pub fn write_builtin(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::Env(format!("{}: {e}", dir.display())))?;
    for (name, text) in BUILTIN {
        std::fs::write(dir.join(name), text)
            .map_err(|e| Error::Env(format!("{}: {e}", dir.join(name).display())))?;
    }
    Ok(())
}

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
    /// The FATF list version in use (`YYYY-MM`, from its file name).
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

/// One CSV reference table, read as text.
struct Table {
    path: PathBuf,
    df: DataFrame,
}

fn bad(path: &Path, row: usize, msg: impl std::fmt::Display) -> Error {
    Error::Input(format!("{}: row {}: {msg}", path.display(), row + 2))
}

impl Table {
    /// Reads `path` with a header naming at least `columns`; blank lines are skipped.
    fn read(path: &Path, columns: &[&str]) -> Result<Table> {
        let meta = std::fs::metadata(path)
            .map_err(|e| Error::Input(format!("{}: cannot read as CSV: {e}", path.display())))?;
        if !meta.is_file() {
            return Err(Error::Input(format!(
                "{}: not a regular file; give a CSV file",
                path.display()
            )));
        }
        let df = CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .try_into_reader_with_file_path(Some(path.to_path_buf()))
            .and_then(|r| r.finish())
            .map_err(|e| Error::Input(format!("{}: cannot read as CSV: {e}", path.display())))?;
        for c in columns {
            if df.column(c).is_err() {
                let header: Vec<String> = df
                    .get_column_names()
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
                return Err(Error::Input(format!(
                    "{}: missing column '{c}'; the header line must name {} (found: {})",
                    path.display(),
                    columns.join(","),
                    header.join(",")
                )));
            }
        }
        // A line with no value at all (a trailing blank line) is not a row.
        let any = df
            .columns()
            .iter()
            .map(|c| c.as_materialized_series().is_not_null())
            .reduce(|a, b| a | b);
        let df = match any {
            Some(mask) => df.filter(&mask)?,
            None => df,
        };
        Ok(Table {
            path: path.to_path_buf(),
            df,
        })
    }

    /// The trimmed values of a column; an empty value is an error naming the row.
    fn strings(&self, name: &str) -> Result<Vec<String>> {
        let ca = self.df.column(name)?.str()?.clone();
        ca.iter()
            .enumerate()
            .map(|(i, v)| {
                v.map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| bad(&self.path, i, format!("column '{name}' is empty")))
            })
            .collect()
    }

    /// The values of the key column `name`, each checked by `valid` (described by `what`) and
    /// unique.
    fn keys(&self, name: &str, what: &str, valid: impl Fn(&str) -> bool) -> Result<Vec<String>> {
        let v = self.strings(name)?;
        let mut seen = std::collections::HashMap::new();
        for (i, k) in v.iter().enumerate() {
            if !valid(k) {
                return Err(bad(&self.path, i, format!("{name} '{k}' is not {what}")));
            }
            if let Some(first) = seen.insert(k.as_str(), i) {
                return Err(bad(
                    &self.path,
                    i,
                    format!(
                        "{name} '{k}' appears again (first at row {}); give each once",
                        first + 2
                    ),
                ));
            }
        }
        Ok(v)
    }

    fn non_empty(&self, what: &str) -> Result<()> {
        if self.df.height() == 0 {
            return Err(Error::Input(format!(
                "{}: has no rows; {what}",
                self.path.display()
            )));
        }
        Ok(())
    }
}

fn level(path: &Path, row: usize, col: &str, s: &str, max: u8) -> Result<u8> {
    s.parse::<u8>()
        .ok()
        .filter(|v| (1..=max).contains(v))
        .ok_or_else(|| {
            bad(
                path,
                row,
                format!("{col} '{s}' is not a level from 1 to {max}"),
            )
        })
}

fn flag(path: &Path, row: usize, col: &str, s: &str) -> Result<bool> {
    match s {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(bad(path, row, format!("{col} '{s}' is not true or false"))),
    }
}

const ISO_HELP: &str = "an ISO 3166-1 alpha-2 code (two capital letters, e.g. CN)";

/// The FATF list files of `dir` by version (`fatf_lists_YYYY-MM.csv`), oldest first. A file
/// named `fatf_lists_*` otherwise is an error: which list is in force must never be a guess.
pub fn fatf_versions(dir: &Path) -> Result<Vec<(NaiveDate, PathBuf)>> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::Input(format!("reference folder {}: {e}", dir.display())))?;
    for e in entries.flatten() {
        let p = e.path();
        let n = p
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let Some(rest) = n.strip_prefix("fatf_lists_") else {
            continue;
        };
        let month = rest
            .strip_suffix(".csv")
            .filter(|v| v.len() == 7)
            .and_then(|v| NaiveDate::parse_from_str(&format!("{v}-01"), "%Y-%m-%d").ok());
        match month {
            Some(m) => out.push((m, p)),
            None => {
                return Err(Error::Input(format!(
                    "{}: a FATF list file is named fatf_lists_<YYYY-MM>.csv after the plenary it \
                     follows; rename it or move it out of the reference folder",
                    p.display()
                )))
            }
        }
    }
    out.sort();
    Ok(out)
}

impl Reference {
    /// Loads the tables from `dir`: `countries.csv`, the FATF lists in force on `as_of` (the
    /// newest `fatf_lists_<YYYY-MM>.csv` not later than the as-of month), `regions.csv`,
    /// `industries.csv`, `branches.csv`.
    pub fn load(dir: &Path, as_of: NaiveDate) -> Result<Reference> {
        let mut r = Reference::default();
        let versions = fatf_versions(dir)?;
        let as_of_month = as_of.with_day(1).unwrap_or(as_of);
        let (fatf_month, fatf_path) = versions
            .iter()
            .rev()
            .find(|(m, _)| *m <= as_of_month)
            .cloned()
            .ok_or_else(|| {
                Error::Input(format!(
                    "reference folder {}: no fatf_lists_<YYYY-MM>.csv in force on {as_of} (versions found: {}); add the FATF lists of the last plenary before it",
                    dir.display(),
                    if versions.is_empty() {
                        "none".to_string()
                    } else {
                        versions
                            .iter()
                            .map(|(m, _)| m.format("%Y-%m").to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                ))
            })?;
        r.fatf_version = fatf_month.format("%Y-%m").to_string();

        r.load_countries(dir, &fatf_path)?;
        r.load_regions(dir)?;
        r.load_industries(dir)?;
        r.load_branches(dir)?;
        Ok(r)
    }

    /// countries.csv (S2.1, S2.3, S2.4) and the FATF lists in force (S2.2).
    fn load_countries(&mut self, dir: &Path, fatf_path: &Path) -> Result<()> {
        let r = self;
        let path = dir.join("countries.csv");
        let t = Table::read(
            &path,
            &["iso2", "sanctioned", "predicate_crime", "offshore"],
        )?;
        let (iso, sanc, pred, off) = (
            t.keys("iso2", ISO_HELP, contract::is_country)?,
            t.strings("sanctioned")?,
            t.strings("predicate_crime")?,
            t.strings("offshore")?,
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
        let t = Table::read(fatf_path, &["iso2", "fatf_status"])?;
        t.non_empty("the FATF lists are never empty; check the file")?;
        let (iso, status) = (
            t.keys("iso2", ISO_HELP, contract::is_country)?,
            t.strings("fatf_status")?,
        );
        for i in 0..iso.len() {
            let lvl = match status[i].as_str() {
                "call_for_action" => 2,
                "increased_monitoring" => 1,
                s => {
                    return Err(bad(
                        fatf_path,
                        i,
                        format!("fatf_status '{s}'; use call_for_action or increased_monitoring"),
                    ))
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
        r.files.push(fatf_path.to_path_buf());
        Ok(())
    }

    /// regions.csv: predicate-crime levels of domestic provinces (S2.3).
    fn load_regions(&mut self, dir: &Path) -> Result<()> {
        let r = self;
        let path = dir.join("regions.csv");
        let t = Table::read(&path, &["province_code", "predicate_crime"])?;
        let (code, pred) = (
            t.keys(
                "province_code",
                "a GB/T 2260 province code (two digits, e.g. 53)",
                contract::is_province,
            )?,
            t.strings("predicate_crime")?,
        );
        for i in 0..code.len() {
            r.regions.push((
                code[i].clone(),
                level(&path, i, "predicate_crime", &pred[i], 5)?,
            ));
        }
        r.files.push(path);
        Ok(())
    }

    /// industries.csv: risk level (S4.1) and cash intensity (S4.3) of industries.
    fn load_industries(&mut self, dir: &Path) -> Result<()> {
        let r = self;
        let path = dir.join("industries.csv");
        let t = Table::read(&path, &["industry_code", "risk_level", "cash_intensity"])?;
        let (code, risk, cash) = (
            t.keys("industry_code", "an industry code", |_| true)?,
            t.strings("risk_level")?,
            t.strings("cash_intensity")?,
        );
        for i in 0..code.len() {
            r.industries.push((
                code[i].clone(),
                level(&path, i, "risk_level", &risk[i], 5)?,
                level(&path, i, "cash_intensity", &cash[i], 5)?,
            ));
        }
        r.files.push(path);
        Ok(())
    }

    /// branches.csv: the institution's branches and their places (S2.4, S3.2(2), M2).
    fn load_branches(&mut self, dir: &Path) -> Result<()> {
        let r = self;
        let path = dir.join("branches.csv");
        let t = Table::read(&path, &["branch_id", "province_code", "city_code"])?;
        t.non_empty("list the institution's branches (locality S2.4 and the account-opening place S3.2(2) are read from them)")?;
        let (b, p, c) = (
            t.keys("branch_id", "a branch id", |_| true)?,
            t.strings("province_code")?,
            t.strings("city_code")?,
        );
        for i in 0..b.len() {
            if !contract::is_province(&p[i]) {
                return Err(bad(
                    &path,
                    i,
                    format!("province_code '{}' is not a GB/T 2260 province code", p[i]),
                ));
            }
            if !contract::is_city(&c[i]) || !c[i].starts_with(&p[i]) {
                return Err(bad(
                    &path,
                    i,
                    format!(
                        "city_code '{}' is not a GB/T 2260 city code of province {}",
                        c[i], p[i]
                    ),
                ));
            }
            r.branches.push((b[i].clone(), p[i].clone(), c[i].clone()));
        }
        r.files.push(path);
        Ok(())
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
