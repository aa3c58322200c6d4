//! Column layouts of the inspection tables: the bank version of the PBoC inspection data
//! interface (eight columns), the insurance and futures versions (a score column, and in the
//! history a first-grading flag), or a layout of the user's own (a TOML file).

use serde::Deserialize;

use crate::error::{Error, Result};

/// What a column of an inspection table holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The branch that holds the relationship (`Bank_code1`).
    Branch,
    /// The customer number (`Cst_no`).
    Customer,
    /// The customer's name (personal data).
    Name,
    /// The ID document number or unified social credit code (personal data).
    IdNumber,
    /// `11` individual, `12` organisation.
    AccType,
    /// 9 + the grade's rank (10 the highest).
    RiskCode,
    /// The grading date, `YYYYMMDD`.
    Time,
    /// The basis: each criterion with its points, or the reason of a direct grade.
    Norm,
    /// The total score (after the regional coefficient).
    Score,
    /// `11` the customer's first grading, `12` a later one (history only).
    FirstGrading,
}

/// One column: its header and what it holds.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Col {
    /// Header, as the interface writes it.
    pub header: String,
    /// What it holds.
    pub value: Source,
}

/// A layout of both tables.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Name (`bank`, `insurance`, `futures` or the user's).
    pub name: String,
    /// Columns of `tb_risk_new`.
    pub new: Vec<Col>,
    /// Columns of `tb_risk_his`.
    pub his: Vec<Col>,
}

fn cols(list: &[(&str, Source)]) -> Vec<Col> {
    list.iter()
        .map(|(h, v)| Col {
            header: h.to_string(),
            value: *v,
        })
        .collect()
}

/// The bank version's eight columns, in order.
const BANK: &[(&str, Source)] = &[
    ("Bank_code1", Source::Branch),
    ("Cst_no", Source::Customer),
    ("Self_acc_name", Source::Name),
    ("Id_no", Source::IdNumber),
    ("Acc_type", Source::AccType),
    ("Risk_code", Source::RiskCode),
    ("Time", Source::Time),
    ("Norm", Source::Norm),
];

impl Profile {
    /// A built-in profile by name, or a TOML file of the user's.
    pub fn load(name_or_file: &str) -> Result<Profile> {
        let with = |name: &str, extra_new: &[(&str, Source)], extra_his: &[(&str, Source)]| {
            let mut new = cols(BANK);
            new.extend(cols(extra_new));
            let mut his = cols(BANK);
            his.extend(cols(extra_his));
            Profile {
                name: name.into(),
                new,
                his,
            }
        };
        let score = [("Score", Source::Score)];
        let first = [
            ("Score", Source::Score),
            ("First_flag", Source::FirstGrading),
        ];
        let p = match name_or_file {
            "bank" => with("bank", &[], &[]),
            "insurance" => with("insurance", &score, &first),
            "futures" => with("futures", &score, &first),
            file => {
                let text = std::fs::read_to_string(file).map_err(|e| {
                    Error::Usage(format!(
                        "--profile {file}: {e}; use bank, insurance, futures or a profile file"
                    ))
                })?;
                toml::from_str(&text).map_err(|e| Error::Usage(format!("--profile {file}: {e}")))?
            }
        };
        for (table, list) in [("new", &p.new), ("his", &p.his)] {
            if let Some(c) = list
                .iter()
                .find(|c| c.header.trim().is_empty() || c.header.trim() != c.header)
            {
                return Err(Error::Usage(format!(
                    "profile {}: the {table} table has the header '{}'; name every column, without spaces around the name",
                    p.name, c.header
                )));
            }
            // Headers that differ only in case are one column to most inspection tools.
            let mut seen = std::collections::BTreeSet::new();
            if let Some(c) = list.iter().find(|c| !seen.insert(c.header.to_lowercase())) {
                return Err(Error::Usage(format!(
                    "profile {}: the {table} table has the header '{}' twice (letter case aside); give each column its own header",
                    p.name, c.header
                )));
            }
            if !list.iter().any(|c| c.value == Source::Customer) {
                return Err(Error::Usage(format!(
                    "profile {}: the {table} table needs a customer column (value = \"customer\")",
                    p.name
                )));
            }
            if table == "new" && list.iter().any(|c| c.value == Source::FirstGrading) {
                return Err(Error::Usage(format!(
                    "profile {}: first_grading is a column of the history table only",
                    p.name
                )));
            }
        }
        Ok(p)
    }
}
