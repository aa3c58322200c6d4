//! File output: every output is first written into a staging folder beside its destination and
//! moved into place only when complete, so a failed or killed run leaves no half-written file.
//! Also Parquet/CSV/JSON writing helpers and SHA-256 hashing of files.

use std::fs::{self, File};
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use sha2::{Digest, Sha256};

use crate::error::{Context, Error, Result};

/// Marker file that identifies a folder written by `riskgrade assess`.
pub const RUN_MARKER: &str = "manifest.json";

/// A staging folder beside an output folder.
pub struct Staging {
    dest: PathBuf,
    tmp: PathBuf,
    done: bool,
}

impl Staging {
    /// Creates `.<name>.partial-<pid>` beside `dest` (and `dest`'s parent if needed).
    pub fn new(dest: &Path) -> Result<Self> {
        let name = dest
            .file_name()
            .ok_or_else(|| Error::Usage(format!("output folder {} has no name", dest.display())))?
            .to_string_lossy()
            .to_string();
        let parent = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent).internal_ctx(&format!("creating {}", parent.display()))?;
        // Remove what killed runs left behind: staging folders of processes no longer alive.
        let prefix = format!(".{name}.partial-");
        if let Ok(entries) = fs::read_dir(&parent) {
            for e in entries.flatten() {
                let n = e.file_name().to_string_lossy().to_string();
                let pid = n.strip_prefix(&prefix).map(|p| p.trim_end_matches(".old"));
                if let Some(pid) = pid {
                    let alive = pid != std::process::id().to_string()
                        && Path::new("/proc").join(pid).exists();
                    if !alive {
                        let _ = fs::remove_dir_all(e.path());
                    }
                }
            }
        }
        let tmp = parent.join(format!("{prefix}{}", std::process::id()));
        fs::create_dir(&tmp).internal_ctx(&format!("creating {}", tmp.display()))?;
        Ok(Staging {
            dest: dest.to_path_buf(),
            tmp,
            done: false,
        })
    }

    /// Path of `file` inside the staging folder.
    pub fn path(&self, file: &str) -> PathBuf {
        self.tmp.join(file)
    }

    /// Moves every staged file into the destination folder (creating it), one atomic rename
    /// per file; files of the destination that were not staged are left alone.
    pub fn commit(mut self) -> Result<()> {
        fs::create_dir_all(&self.dest).internal_ctx(&self.dest.display().to_string())?;
        let mut names: Vec<_> = fs::read_dir(&self.tmp)?
            .filter_map(|e| e.ok().map(|e| e.file_name()))
            .collect();
        names.sort();
        for name in names {
            fs::rename(self.tmp.join(&name), self.dest.join(&name))
                .internal_ctx(&format!("moving {} into place", name.to_string_lossy()))?;
        }
        fs::remove_dir(&self.tmp)?;
        self.done = true;
        Ok(())
    }

    /// Replaces the destination folder as a whole by the staging folder. The destination must
    /// be absent, empty, or an earlier run's folder (it holds [`RUN_MARKER`]).
    pub fn commit_replace(mut self) -> Result<()> {
        if self.dest.exists() {
            let old = self.tmp.with_extension("old");
            fs::rename(&self.dest, &old).internal_ctx("moving the previous run aside")?;
            fs::rename(&self.tmp, &self.dest).internal_ctx("moving the new run into place")?;
            fs::remove_dir_all(&old).internal_ctx("removing the previous run")?;
        } else {
            fs::rename(&self.tmp, &self.dest).internal_ctx("moving the new run into place")?;
        }
        self.done = true;
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_dir_all(&self.tmp);
        }
    }
}

/// Checks that `out` may be replaced by a run: absent, empty or an earlier run's folder, and
/// not the data folder itself.
pub fn check_run_dest(out: &Path, data: &Path) -> Result<()> {
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y || y.starts_with(&x),
        _ => false,
    };
    if same(out, data) {
        return Err(Error::Usage(format!(
            "--out {} is (or contains) the data folder {}: choose a separate output folder",
            out.display(),
            data.display()
        )));
    }
    if out.exists() {
        let empty = fs::read_dir(out)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !empty && !out.join(RUN_MARKER).exists() {
            return Err(Error::Usage(format!(
                "--out {} exists and is not an earlier riskgrade run (no {RUN_MARKER}); \
                 give a new or empty folder",
                out.display()
            )));
        }
    }
    Ok(())
}

/// Writes a frame as Parquet (zstd) to `path`.
pub fn write_parquet(df: &mut DataFrame, path: &Path) -> Result<()> {
    let file = File::create(path).internal_ctx(&path.display().to_string())?;
    ParquetWriter::new(file)
        .with_compression(ParquetCompression::Zstd(None))
        .finish(df)
        .internal_ctx(&path.display().to_string())?;
    Ok(())
}

/// Writes a frame as CSV with a header to `path`.
pub fn write_csv(df: &mut DataFrame, path: &Path) -> Result<()> {
    let mut file = File::create(path).internal_ctx(&path.display().to_string())?;
    CsvWriter::new(&mut file)
        .include_header(true)
        .finish(df)
        .internal_ctx(&path.display().to_string())?;
    Ok(())
}

/// Writes pretty JSON to `path`.
pub fn write_json(value: &serde_json::Value, path: &Path) -> Result<()> {
    let mut file = File::create(path).internal_ctx(&path.display().to_string())?;
    serde_json::to_writer_pretty(&mut file, value).internal_ctx(&path.display().to_string())?;
    file.write_all(b"\n")?;
    Ok(())
}

/// SHA-256 of a file, as lowercase hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    let file = File::open(path).internal_ctx(&path.display().to_string())?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}
