//! `riskgrade extract`: the PBoC inspection tables of an assessment run.

use serde_json::json;

use crate::cli::ExtractArgs;
use crate::dates;
use crate::error::{Error, Result};
use crate::extract::{self, Encoding, Period, Profile, Request, Run};
use crate::io::{self, Staging};
use crate::progress::Progress;

/// A random salt for --mask, from the operating system.
fn random_salt() -> Result<String> {
    use std::io::Read;
    let mut b = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .map_err(|e| Error::Env(format!("/dev/urandom: {e}")))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// Runs the command; returns a one-line account (counts only, never personal data).
pub fn run(args: &ExtractArgs, progress: &Progress) -> Result<String> {
    let started = dates::now_rfc3339();
    let run = Run::open(&args.run)?;
    let period = Period {
        start: args.period_start,
        end: args.period_end,
        extracted_on: args.extracted_on.unwrap_or_else(dates::today),
    };
    extract::check_period(&run, period)?;
    let profile = Profile::load(&args.profile)?;
    let encoding = Encoding::parse(&args.encoding)?;
    let mask = match (args.mask, &args.salt) {
        (false, _) => None,
        (true, Some(s)) => Some(s.clone()),
        (true, None) => Some(random_salt()?),
    };
    let out = io::resolve_out(&args.out)?;
    io::check_replaceable(&out)?;
    progress.line(&format!(
        "extracting {} (as of {}) for {} to {}, profile {}",
        args.run.display(),
        run.as_of,
        period.start,
        period.end,
        profile.name
    ));
    let staging = Staging::new(&out)?;
    let req = Request {
        run: &run,
        period,
        profile: &profile,
        encoding,
        mask,
        stats: args.stats,
    };
    let done = extract::extract(&req, staging.path("").as_path())?;
    let mut outputs = done.control["files"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for f in ["control.csv", "control.json"] {
        outputs.push(json!({"file": f, "sha256": io::sha256_file(&staging.path(f))?}));
    }
    let manifest = json!({
        "riskgrade_version": env!("CARGO_PKG_VERSION"),
        "command": "extract",
        "started": started,
        "finished": dates::now_rfc3339(),
        "run": args.run.display().to_string(),
        "inputs": [],
        "outputs": outputs,
    });
    io::write_json(&manifest, &staging.path(io::RUN_MARKER))?;
    staging.commit_replace()?;
    let t = &done.control["tables"];
    Ok(format!(
        "tb_risk_new {} rows, tb_risk_his {} rows; reconciled with the run's summary and history",
        t["tb_risk_new"]["rows"], t["tb_risk_his"]["rows"]
    ))
}
