//! `riskgrade extract`: the PBoC inspection tables of an assessment run.

use crate::cli::ExtractArgs;
use crate::dates;
use crate::error::{Error, Result};
use crate::extract::{self, Encoding, Period, Profile, Request, Run, MIN_SALT_BYTES};
use crate::guard::Guard;
use crate::progress::Progress;
use crate::run_folder::{
    Extraction, FileHash, FolderKind, Manifest, Record, CONTROL_JSON, MANIFEST,
};

/// A random salt for --mask, from the operating system: 32 bytes as 64 hex digits.
fn random_salt() -> Result<String> {
    use std::io::Read;
    let mut b = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .map_err(|e| Error::Env(format!("/dev/urandom: {e}")))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// Runs the command; returns a one-line account (counts only, never personal data).
pub fn run(args: &ExtractArgs, progress: &Progress) -> Result<String> {
    let started = dates::now_rfc3339();
    let profile = Profile::load(&args.profile)?;
    let encoding = Encoding::parse(&args.encoding)?;
    let mask = match (args.mask, &args.salt) {
        (false, _) => None,
        (true, Some(s)) if s.len() < MIN_SALT_BYTES => {
            return Err(Error::Usage(format!(
                "--salt: {} bytes; a salt of at least {MIN_SALT_BYTES} bytes keys the masks \
                 (HMAC-SHA256), or leave --salt out for a random one",
                s.len()
            )))
        }
        (true, Some(s)) => Some(s.clone()),
        (true, None) => Some(random_salt()?),
    };
    let run = Run::open(&args.run)?;
    if let Some(b) = args.bucket {
        if run.folder.buckets() != Some(b.count) {
            return Err(Error::Usage(format!(
                "--bucket {b}: the run is {}",
                match run.folder.buckets() {
                    Some(n) => format!("merged from {n} buckets"),
                    None => "not merged as datasets; extract it whole".into(),
                }
            )));
        }
    }
    let mut guard = Guard::new();
    guard.input("--run", &args.run);
    for p in &args.parts {
        guard.input("--parts", p);
    }
    for d in &run.data_folders {
        guard.input("the folder of the run's customers file", d);
    }
    if !matches!(args.profile.as_str(), "bank" | "insurance" | "futures") {
        guard.input("--profile", std::path::Path::new(&args.profile));
    }
    let out = guard.folder("--out", &args.out, FolderKind::Extract)?;
    let period = Period {
        start: args.period_start,
        end: args.period_end,
        extracted_on: args.extracted_on.unwrap_or_else(dates::today),
    };
    extract::check_period(&run, period)?;
    progress.line(&format!(
        "extracting {} (as of {}) for {} to {}, profile {}",
        args.run.display(),
        run.as_of,
        period.start,
        period.end,
        profile.name
    ));
    let staged = out.stage()?;
    let req = Request {
        run: &run,
        period,
        profile: &profile,
        encoding,
        mask,
        stats: args.stats,
        xlsx: args.xlsx,
        range_rows: args.partition_rows as usize,
        bucket: args.bucket.map(|b| b.index),
    };
    let done = if args.parts.is_empty() {
        extract::extract(&req, &staged.dir(), progress)?
    } else {
        let parts = args
            .parts
            .iter()
            .map(|d| read_part(d))
            .collect::<Result<Vec<_>>>()?;
        extract::combine(&req, &parts, &staged.dir())?
    };
    let run_dir = std::fs::canonicalize(&run.dir).unwrap_or_else(|_| run.dir.clone());
    let mut manifest = Manifest::new(
        started,
        Record::Extract(Extraction {
            run: run_dir.display().to_string(),
            run_manifest_sha256: run.folder.manifest_sha256().to_string(),
        }),
    );
    // What the extract read: the run (its manifest names every file it holds) and the
    // customers file, whose names and ID numbers it copies.
    manifest.inputs = vec![FileHash {
        file: run_dir.join(MANIFEST).display().to_string(),
        sha256: run.folder.manifest_sha256().to_string(),
    }];
    for f in &run.customers_files {
        manifest
            .inputs
            .push(FileHash::of(f, &f.display().to_string())?);
    }
    staged.commit(&mut manifest)?;
    let t = &done.control["tables"];
    Ok(format!(
        "tb_risk_new {} rows, tb_risk_his {} rows; reconciled with the run's summary and history",
        t["tb_risk_new"]["rows"], t["tb_risk_his"]["rows"]
    ))
}

/// A bucket's extract (`extract --bucket`), checked against its manifest before it is read.
fn read_part(dir: &std::path::Path) -> Result<extract::Part> {
    let v = crate::run_folder::verify(dir)?;
    if let Some(c) = v.changed.first() {
        return Err(Error::Input(format!(
            "--parts {}: {c}; the part is not as riskgrade wrote it",
            dir.display()
        )));
    }
    let path = dir.join(CONTROL_JSON);
    let control = std::fs::read_to_string(&path)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
        .map_err(|e| Error::Input(format!("{}: {e}", path.display())))?;
    Ok(extract::Part {
        dir: dir.to_path_buf(),
        control,
    })
}
