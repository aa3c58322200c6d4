//! `riskgrade verify`: re-hashes a run's inputs and outputs against its manifest (M4).

use std::path::Path;

use serde_json::Value;

use crate::cli::VerifyArgs;
use crate::error::{Error, Result};
use crate::io::{sha256_file, RUN_MARKER};

/// What verification found.
#[derive(Debug, Default)]
pub struct Verification {
    /// Files whose hash matches.
    pub unchanged: usize,
    /// Files changed or missing, with what happened.
    pub changed: Vec<String>,
}

fn check(path: &Path, want: &str, v: &mut Verification) {
    match sha256_file(path) {
        Ok(h) if h == want => v.unchanged += 1,
        Ok(_) => v.changed.push(format!("changed: {}", path.display())),
        Err(_) => v.changed.push(format!("missing: {}", path.display())),
    }
}

/// Checks every input and output file named in the run's manifest.
pub fn verify(run: &Path) -> Result<Verification> {
    let path = run.join(RUN_MARKER);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Error::Usage(format!(
            "{}: {e}; give a folder written by riskgrade assess",
            path.display()
        ))
    })?;
    let m: Value = serde_json::from_str(&text)
        .map_err(|e| Error::Input(format!("{}: {e}", path.display())))?;
    let mut v = Verification::default();
    let list = |key: &str| -> Result<Vec<(String, String)>> {
        m[key]
            .as_array()
            .ok_or_else(|| Error::Input(format!("{}: no '{key}' list", path.display())))?
            .iter()
            .map(|e| {
                Ok((
                    e["file"].as_str().unwrap_or_default().to_string(),
                    e["sha256"].as_str().unwrap_or_default().to_string(),
                ))
            })
            .collect()
    };
    for (file, hash) in list("inputs")? {
        match file.strip_prefix("built-in:") {
            // A table built into riskgrade: checked against this binary's copy.
            Some(name) => {
                let same = crate::reference::BUILTIN
                    .iter()
                    .find(|(n, _)| *n == name)
                    .is_some_and(|(_, text)| crate::io::sha256_bytes(text.as_bytes()) == hash);
                if same {
                    v.unchanged += 1;
                } else {
                    v.changed
                        .push(format!("changed: {file} (this riskgrade's copy differs)"));
                }
            }
            None => check(Path::new(&file), &hash, &mut v),
        }
    }
    // The links table of a bucket run (`assess --links`).
    if let (Some(file), Some(hash)) = (m["links"]["file"].as_str(), m["links"]["sha256"].as_str()) {
        check(Path::new(file), hash, &mut v);
    }
    for (file, hash) in list("outputs")? {
        check(&run.join(file), &hash, &mut v);
    }
    Ok(v)
}

/// Runs the command; an unchanged run exits 0, a changed one with [`crate::error::EXIT_CHANGED`].
pub fn run(args: &VerifyArgs) -> Result<Verification> {
    let v = verify(&args.run)?;
    for c in &v.changed {
        println!("{c}");
    }
    if v.changed.is_empty() {
        println!(
            "{}: all {} files match the manifest",
            args.run.display(),
            v.unchanged
        );
    } else {
        println!(
            "{}: {} of {} files changed or missing since the run",
            args.run.display(),
            v.changed.len(),
            v.changed.len() + v.unchanged
        );
    }
    Ok(v)
}
