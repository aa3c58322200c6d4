//! `riskgrade monitor`: runs of one book at successive as-of dates, compared (docs/monitor.md).

use std::path::Path;

use crate::cli::MonitorArgs;
use crate::error::{Error, Result};
use crate::guard::Guard;
use crate::inputs::scan_path;
use crate::io;
use crate::monitor::{self, page, Outcomes, Run};
use crate::progress::Progress;
use crate::run_folder::{
    FileHash, FolderKind, Manifest, Monitored, Record, RunFolder, MANIFEST, MONITOR_CSV,
    MONITOR_HTML, MONITOR_JSON,
};

/// Runs the command; returns the one-screen summary.
pub fn run(args: &MonitorArgs, progress: &Progress) -> Result<String> {
    let started = crate::dates::now_rfc3339();
    if args.runs.len() < 2 {
        return Err(Error::Usage(
            "--runs: give at least two runs of the book, at different as-of dates".into(),
        ));
    }
    let mut guard = Guard::new();
    for r in &args.runs {
        guard.input("--runs", r);
    }
    if let Some(d) = &args.data {
        guard.input("--data", d);
    }
    let out = guard.folder("--out", &args.out, FolderKind::Monitor)?;
    let mut runs = Vec::new();
    for dir in &args.runs {
        progress.line(&format!("reading run {}", dir.display()));
        runs.push(Run::open(dir)?);
    }
    runs.sort_by_key(|r| r.as_of);
    if let Some(w) = runs.windows(2).find(|w| w[0].as_of == w[1].as_of) {
        return Err(Error::Usage(format!(
            "--runs: {} and {} are both as of {}; give one run per as-of date",
            w[0].folder, w[1].folder, w[0].as_of
        )));
    }
    let latest = runs.last().map(|r| r.as_of).unwrap_or_default();
    let observed_to = args.observed_to.unwrap_or(latest);
    let mut inputs: Vec<FileHash> = Vec::new();
    for dir in &args.runs {
        let path = dir.join(MANIFEST);
        inputs.push(FileHash::of(&path, &absolute(&path))?);
    }
    let outcomes = match &args.data {
        Some(d) => {
            let (reports, customers) = (d.join("reports.parquet"), d.join("customers.parquet"));
            for p in [&reports, &customers] {
                if !p.is_file() {
                    return Err(Error::Input(format!(
                        "--data {}: no {}; the back-test reads the book's reports.parquet and customers.parquet",
                        d.display(),
                        p.file_name().unwrap_or_default().to_string_lossy()
                    )));
                }
                inputs.push(FileHash::of(p, &absolute(p))?);
            }
            Outcomes::read(
                d.display().to_string(),
                scan_path(&reports)?,
                scan_path(&customers)?,
                observed_to,
            )?
        }
        None => {
            let dir =
                Path::new(&runs.last().map(|r| r.folder.clone()).unwrap_or_default()).to_path_buf();
            let f = RunFolder::open(&dir)?;
            let scans = |name: &str| -> Result<polars::prelude::LazyFrame> {
                let files = f.inputs(name)?;
                let parts = files
                    .iter()
                    .map(|p| scan_path(p))
                    .collect::<Result<Vec<_>>>()?;
                Ok(polars::prelude::concat(parts, Default::default())?)
            };
            Outcomes::read(
                format!("the inputs of the run {}", dir.display()),
                scans("reports.parquet")?,
                scans("customers.parquet")?,
                observed_to,
            )?
        }
    };
    progress.line(&format!(
        "monitoring {} runs, {} to {}",
        runs.len(),
        runs[0].as_of,
        latest
    ));
    let m = monitor::monitor(&runs, &outcomes, args.horizon_months)?;
    let staged = out.stage()?;
    let json = serde_json::to_value(&m).map_err(|e| Error::Internal(e.to_string()))?;
    io::write_json(&json, &staged.path(MONITOR_JSON))?;
    io::write_csv(&mut page::csv(&m)?, &staged.path(MONITOR_CSV))?;
    let lang = crate::report::lang::Lang::choose(args.lang, runs[0].language.as_deref());
    io::write_private(&staged.path(MONITOR_HTML), page::html(&m, lang)?.as_bytes())?;
    let mut manifest = Manifest::new(
        started,
        Record::Monitor(Monitored {
            as_of: runs.iter().map(|r| r.as_of.to_string()).collect(),
            horizon_months: args.horizon_months,
            observed_to: observed_to.to_string(),
            reports_from: outcomes.source.clone(),
        }),
    );
    manifest.inputs = inputs;
    staged.commit(&mut manifest)?;
    Ok(screen(&m))
}

fn absolute(p: &Path) -> String {
    p.canonicalize()
        .unwrap_or_else(|_| p.to_path_buf())
        .display()
        .to_string()
}

/// One line per run: customers, highest-grade share, PSI of the total score against the run
/// before, AUC.
fn screen(m: &monitor::Monitor) -> String {
    let mut s = String::new();
    for (i, r) in m.runs.iter().enumerate() {
        let high = r.grades.first().map_or(0, |g| g.1);
        let psi = m.stability.total_score[i]
            .vs_previous
            .map_or_else(|| "-".into(), |v| format!("{v:.4}"));
        let auc = m.discrimination.runs[i]
            .auc
            .map_or_else(|| "-".into(), |v| format!("{v:.3}"));
        s += &format!(
            "{}  {} customers, {:.2}% {}, PSI vs previous {psi}, AUC {auc}\n",
            r.as_of,
            r.customers,
            high as f64 * 100.0 / r.customers.max(1) as f64,
            r.grades.first().map_or("", |g| g.0.as_str()),
        );
    }
    for c in &m.model_changes {
        s += &format!("model change: {c}\n");
    }
    s
}
