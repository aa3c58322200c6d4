//! China's working-day calendar (T1): a day is a working day unless it is a weekend or a
//! public holiday, except the weekend days the State Council names as make-up working days.
//! The facts come from CSV files (`date,kind[,note]`, kind `holiday` or `workday`): the bundled
//! `calendar_cn.csv` and any `calendar_*.csv` a user adds beside it (later files win). A year with
//! no entry at all is not covered: it falls back to weekends only and is reported.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{Datelike, NaiveDate, Weekday};

use crate::error::{Error, Result};

/// A working-day calendar.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    special: BTreeMap<NaiveDate, bool>,
    years: BTreeSet<i32>,
    /// Files read.
    pub files: Vec<std::path::PathBuf>,
}

impl Calendar {
    /// Builds a calendar from `(date, is_working_day)` entries.
    pub fn from_entries(entries: &[(NaiveDate, bool)]) -> Calendar {
        let mut c = Calendar::default();
        for (d, w) in entries {
            c.special.insert(*d, *w);
            c.years.insert(d.year());
        }
        c
    }

    /// Parses one CSV text; `name` is used in error messages.
    pub fn add_csv(&mut self, name: &str, text: &str) -> Result<()> {
        let header = text
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .trim_start_matches('\u{feff}');
        let fields: Vec<&str> = header.split(',').map(str::trim).collect();
        if fields.len() < 2 || fields[0] != "date" || fields[1] != "kind" {
            return Err(Error::Input(format!(
                "{name}: line 1: the first line must be the header 'date,kind' (optionally ',note'), found '{header}'; a file without it would lose its first day"
            )));
        }
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if i == 0 || line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.splitn(3, ',');
            let (d, k) = (
                parts.next().unwrap_or(""),
                parts.next().unwrap_or("").trim(),
            );
            let date = NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").map_err(|_| {
                Error::Input(format!(
                    "{name}: line {}: '{d}' is not a YYYY-MM-DD date",
                    i + 1
                ))
            })?;
            let working = match k {
                "holiday" => false,
                "workday" => true,
                _ => {
                    return Err(Error::Input(format!(
                        "{name}: line {}: kind '{k}'; use holiday or workday",
                        i + 1
                    )))
                }
            };
            self.special.insert(date, working);
            self.years.insert(date.year());
        }
        Ok(())
    }

    /// Loads `calendar_cn.csv` and then every other `calendar_*.csv` of `dir` in name order.
    pub fn load(dir: &Path) -> Result<Calendar> {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| Error::Input(format!("reference folder {}: {e}", dir.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let n = p.file_name().unwrap_or_default().to_string_lossy();
                n.starts_with("calendar") && n.ends_with(".csv")
            })
            .collect();
        files.sort_by_key(|p| (p.file_name().map(|n| n != "calendar_cn.csv"), p.clone()));
        let mut c = Calendar::default();
        for f in files {
            let text = std::fs::read_to_string(&f)
                .map_err(|e| Error::Input(format!("{}: {e}", f.display())))?;
            c.add_csv(&f.display().to_string(), &text)?;
            c.files.push(f);
        }
        Ok(c)
    }

    /// Whether the calendar has data for `year`.
    pub fn covers(&self, year: i32) -> bool {
        self.years.contains(&year)
    }

    /// Years the calendar has data for.
    pub fn years(&self) -> Vec<i32> {
        self.years.iter().copied().collect()
    }

    /// Whether `d` is a working day.
    pub fn is_working(&self, d: NaiveDate) -> bool {
        match self.special.get(&d) {
            Some(w) => *w,
            None => !matches!(d.weekday(), Weekday::Sat | Weekday::Sun),
        }
    }

    /// The `n`-th working day after `start` (the start day itself does not count), and the
    /// years passed through that the calendar does not cover.
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> (NaiveDate, BTreeSet<i32>) {
        let mut d = start;
        let mut left = n;
        let mut missing = BTreeSet::new();
        while left > 0 {
            d = d.succ_opt().expect("date in range");
            if !self.covers(d.year()) {
                missing.insert(d.year());
            }
            if self.is_working(d) {
                left -= 1;
            }
        }
        (d, missing)
    }
}
