//! File output: every output is first written into a staging folder beside its destination,
//! flushed to disk, and swapped into place in one atomic step only when complete, so at every
//! instant the destination holds either the complete previous run or the complete new one, and
//! a failed or killed run leaves no half-written file. Also Parquet/CSV/JSON writing helpers and
//! SHA-256 hashing of files.
//!
//! A folder is recognised as an earlier run by [`MARKER`], a file only riskgrade writes, and by
//! its manifest listing every file in it: a folder holding anything riskgrade did not write is
//! never replaced or emptied.

use std::fs::{self, File};
use std::io::{BufReader, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use polars::prelude::*;
use sha2::{Digest, Sha256};

use crate::error::{Context, Error, Result};

/// The manifest of a run: what was read, what was written, with hashes.
pub const RUN_MARKER: &str = "manifest.json";
/// The marker file that identifies a folder written by riskgrade.
pub const MARKER: &str = ".riskgrade";
/// The first line of [`MARKER`].
const MARKER_TEXT: &str = "riskgrade output folder: replaced as a whole by the next run\n";

/// Stops the process at a named step when the environment variable `RISKGRADE_FAILPOINT`
/// names it, as a kill at that instant would: used by tests of the output swap.
pub fn failpoint(name: &str) {
    let set = std::env::var("RISKGRADE_FAILPOINT").unwrap_or_default();
    if set.split(',').any(|v| v == name) {
        eprintln!("riskgrade: stopped at fail point {name}");
        std::process::abort();
    }
}

/// The output folder as the run will use it: absolute, without `.` or `..` components, and,
/// when it is a symbolic link, the folder the link points to (the link stays in place).
pub fn resolve_out(out: &Path) -> Result<PathBuf> {
    let abs = std::path::absolute(out)
        .map_err(|e| Error::Usage(format!("--out {}: {e}", out.display())))?;
    let mut clean = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                clean.pop();
            }
            other => clean.push(other),
        }
    }
    if clean.file_name().is_none() {
        return Err(Error::Usage(format!(
            "--out {}: give a folder below the root, e.g. out/",
            out.display()
        )));
    }
    if fs::symlink_metadata(&clean).is_ok_and(|m| m.file_type().is_symlink()) {
        return clean.canonicalize().map_err(|e| {
            Error::Usage(format!(
                "--out {} is a link to {}: {e}",
                out.display(),
                fs::read_link(&clean).unwrap_or_default().display()
            ))
        });
    }
    Ok(clean)
}

/// Writes [`MARKER`] into `dir`.
pub fn write_marker(dir: &Path) -> Result<()> {
    let p = dir.join(MARKER);
    fs::write(&p, MARKER_TEXT).env_ctx(&format!("writing {}", p.display()))
}

/// Whether `dir` carries riskgrade's marker.
fn has_marker(dir: &Path) -> bool {
    fs::read_to_string(dir.join(MARKER)).is_ok_and(|t| t == MARKER_TEXT)
}

/// The files of an earlier run's folder that riskgrade did not write, or an error saying why
/// the folder is not a run folder at all. `None`: the folder may be replaced.
fn foreign_entry(dir: &Path) -> Option<String> {
    if !has_marker(dir) {
        return Some(format!("no {MARKER} marker"));
    }
    let manifest: serde_json::Value = match fs::read_to_string(dir.join(RUN_MARKER))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
    {
        Some(v) => v,
        None => return Some(format!("no readable {RUN_MARKER}")),
    };
    let listed: Vec<&str> = manifest["outputs"]
        .as_array()
        .map(|a| a.iter().filter_map(|o| o["file"].as_str()).collect())
        .unwrap_or_default();
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => return Some(e.to_string()),
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let ours = name == MARKER
            || name == RUN_MARKER
            || listed
                .iter()
                .any(|l| *l == name || l.starts_with(&format!("{name}/")));
        if !ours {
            return Some(format!("it holds '{name}', which riskgrade did not write"));
        }
    }
    None
}

/// Checks that `out` may receive a run: absent, empty, or an earlier riskgrade output folder
/// holding only files riskgrade wrote; and not the data folder or inside it.
pub fn check_run_dest(out: &Path, data: &Path) -> Result<()> {
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y || y.starts_with(&x) || x.starts_with(&y),
        _ => false,
    };
    if same(out, data) {
        return Err(Error::Usage(format!(
            "--out {} is, contains or lies inside the data folder {}: choose a separate output folder",
            out.display(),
            data.display()
        )));
    }
    check_replaceable(out)
}

/// Checks that `out` is absent, an empty folder, or an earlier riskgrade output folder.
pub fn check_replaceable(out: &Path) -> Result<()> {
    match fs::symlink_metadata(out) {
        Err(_) => return Ok(()),
        Ok(m) if !m.is_dir() => {
            return Err(Error::Usage(format!(
                "--out {} exists and is not a folder; give a new or empty folder",
                out.display()
            )))
        }
        Ok(_) => {}
    }
    let empty = fs::read_dir(out)
        .map(|mut d| d.next().is_none())
        .unwrap_or(false);
    if empty {
        return Ok(());
    }
    if let Some(why) = foreign_entry(out) {
        return Err(Error::Usage(format!(
            "--out {} exists and is not an earlier riskgrade output folder ({why}); \
             give a new or empty folder",
            out.display()
        )));
    }
    Ok(())
}

/// A staging folder beside an output folder.
pub struct Staging {
    dest: PathBuf,
    tmp: PathBuf,
    done: bool,
}

/// Whether the process `pid` (a decimal string) is alive and is not this one.
fn other_alive(pid: &str) -> bool {
    pid != std::process::id().to_string() && Path::new("/proc").join(pid).exists()
}

impl Staging {
    /// Creates `.<name>.partial-<pid>` beside `dest` (and `dest`'s parent if needed). First
    /// clears what interrupted runs left: staging folders of processes no longer alive, and a
    /// previous run moved aside by a swap that did not finish (put back if `dest` is missing).
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
        fs::create_dir_all(&parent).env_ctx(&format!("creating {}", parent.display()))?;
        let partial = format!(".{name}.partial-");
        let aside = format!(".{name}.old-");
        if let Ok(entries) = fs::read_dir(&parent) {
            let mut entries: Vec<_> = entries.flatten().map(|e| e.file_name()).collect();
            entries.sort();
            for n in entries {
                let n = n.to_string_lossy().to_string();
                let path = parent.join(&n);
                if let Some(pid) = n.strip_prefix(&partial) {
                    if !other_alive(pid) {
                        let _ = fs::remove_dir_all(&path);
                    }
                } else if let Some(pid) = n.strip_prefix(&aside) {
                    if !other_alive(pid) {
                        if dest.exists() {
                            let _ = fs::remove_dir_all(&path);
                        } else {
                            fs::rename(&path, dest).env_ctx(&format!(
                                "putting back the previous run {} as {}",
                                path.display(),
                                dest.display()
                            ))?;
                        }
                    }
                }
            }
        }
        let tmp = parent.join(format!("{partial}{}", std::process::id()));
        let _ = fs::remove_dir_all(&tmp);
        fs::create_dir(&tmp).env_ctx(&format!("creating {}", tmp.display()))?;
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

    /// Flushes every staged file and the staging folder to disk, so that a power cut after
    /// the swap cannot leave empty files behind a manifest naming them.
    fn sync(&self) -> Result<()> {
        fn sync_tree(dir: &Path) -> Result<()> {
            for e in fs::read_dir(dir).env_ctx(&dir.display().to_string())? {
                let p = e?.path();
                if p.is_dir() {
                    sync_tree(&p)?;
                } else {
                    File::open(&p)
                        .and_then(|f| f.sync_all())
                        .env_ctx(&format!("flushing {}", p.display()))?;
                }
            }
            sync_dir(dir)
        }
        sync_tree(&self.tmp)
    }

    /// Moves every staged file into the destination folder (creating it), one atomic rename
    /// per file; files of the destination that were not staged are left alone.
    pub fn commit(mut self) -> Result<()> {
        self.sync()?;
        fs::create_dir_all(&self.dest).env_ctx(&self.dest.display().to_string())?;
        let mut names: Vec<_> = fs::read_dir(&self.tmp)?
            .filter_map(|e| e.ok().map(|e| e.file_name()))
            .collect();
        names.sort();
        for name in names {
            fs::rename(self.tmp.join(&name), self.dest.join(&name))
                .env_ctx(&format!("moving {} into place", name.to_string_lossy()))?;
        }
        sync_dir(&self.dest)?;
        fs::remove_dir(&self.tmp)?;
        self.done = true;
        Ok(())
    }

    /// Replaces the destination folder as a whole by the staging folder, atomically: the two
    /// folders are exchanged in one `renameat2(RENAME_EXCHANGE)` and the previous run is then
    /// removed. The destination must be absent, empty, or an earlier riskgrade output folder.
    pub fn commit_replace(mut self) -> Result<()> {
        write_marker(&self.tmp)?;
        self.sync()?;
        failpoint("swap:synced");
        let parent = self.tmp.parent().unwrap_or(Path::new(".")).to_path_buf();
        if fs::symlink_metadata(&self.dest).is_ok() {
            check_replaceable(&self.dest)?;
            match exchange(&self.tmp, &self.dest) {
                Ok(()) => {
                    failpoint("swap:exchanged");
                    sync_dir(&parent)?;
                    // The staging path now holds the previous run.
                    fs::remove_dir_all(&self.tmp)
                        .env_ctx(&format!("removing the previous run {}", self.tmp.display()))?;
                }
                Err(e) if exchange_unsupported(&e) => {
                    // A file system without RENAME_EXCHANGE: move the previous run aside, put
                    // the new one in place, then remove the old. A kill in between leaves the
                    // previous run aside, and the next run puts it back (see `new`).
                    let name = self.dest.file_name().unwrap_or_default().to_string_lossy();
                    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
                    fs::rename(&self.dest, &old).env_ctx("moving the previous run aside")?;
                    failpoint("swap:aside");
                    fs::rename(&self.tmp, &self.dest).env_ctx("moving the new run into place")?;
                    sync_dir(&parent)?;
                    fs::remove_dir_all(&old).env_ctx("removing the previous run")?;
                }
                Err(e) => {
                    return Err(Error::Env(format!(
                        "swapping {} into place: {e}",
                        self.dest.display()
                    )))
                }
            }
        } else {
            fs::rename(&self.tmp, &self.dest).env_ctx(&format!(
                "moving the new run into place as {}",
                self.dest.display()
            ))?;
            sync_dir(&parent)?;
        }
        failpoint("swap:done");
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

/// Flushes a folder's entries (names, renames) to disk.
fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|f| f.sync_all())
        .env_ctx(&format!("flushing {}", dir.display()))
}

/// Exchanges two paths atomically (Linux `renameat2` with `RENAME_EXCHANGE`).
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    // Tests of the fallback for file systems without the exchange set this fail point.
    if std::env::var("RISKGRADE_FAILPOINT").is_ok_and(|v| v.starts_with("no-exchange")) {
        return Err(std::io::Error::from_raw_os_error(libc::EINVAL));
    }
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let ca = CString::new(a.as_os_str().as_bytes())?;
    let cb = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both paths are valid NUL-terminated strings for the duration of the call.
    let r = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

fn exchange_unsupported(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EINVAL) | Some(libc::ENOSYS) | Some(libc::EOPNOTSUPP)
    )
}

/// A writer that keeps the first I/O error it met, so that a failure reported by a format
/// library in its own words ("Invalid thrift: transport error") can be told as what happened
/// ("No space left on device").
struct Recording<W: Write> {
    inner: W,
    first_error: Arc<Mutex<Option<String>>>,
}

impl<W: Write> Write for Recording<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf).inspect_err(|e| self.record(e))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush().inspect_err(|e| self.record(e))
    }
}

impl<W: Write> Recording<W> {
    fn record(&self, e: &std::io::Error) {
        let mut slot = self.first_error.lock().expect("lock");
        if slot.is_none() {
            *slot = Some(e.to_string());
        }
    }
}

/// Opens `path` for writing through a [`Recording`] writer; the closure writes, and a failure
/// is reported with the I/O error underneath it when there was one.
fn write_file(
    path: &Path,
    f: impl FnOnce(&mut Recording<std::io::BufWriter<File>>) -> std::result::Result<(), String>,
) -> Result<()> {
    let file = File::create(path).env_ctx(&format!("writing {}", path.display()))?;
    let first_error = Arc::new(Mutex::new(None));
    let mut w = Recording {
        inner: std::io::BufWriter::with_capacity(1 << 20, file),
        first_error: first_error.clone(),
    };
    let result = f(&mut w).and_then(|()| w.flush().map_err(|e| e.to_string()));
    match result {
        Ok(()) => Ok(()),
        Err(msg) => {
            let io = first_error.lock().expect("lock").clone();
            Err(match io {
                Some(io) => Error::Env(format!("writing {}: {io}", path.display())),
                None => Error::Internal(format!("writing {}: {msg}", path.display())),
            })
        }
    }
}

/// Rows from which a Parquet file is cut into several row groups (Polars' default group size).
const ROW_GROUP_ROWS: usize = 512 * 512;

/// Writes a frame as Parquet (zstd) to `path`. Row groups are cut at the same rows whatever
/// chunks the frame is held in, so the file's bytes depend on its data alone: below
/// [`ROW_GROUP_ROWS`] rows one group; from there `rows / ROW_GROUP_ROWS` groups of equal size,
/// the last taking the rest (Polars' own cut of a frame held in one chunk). Each group is copied
/// into one chunk as it is written, never the whole frame.
pub fn write_parquet(df: &mut DataFrame, path: &Path) -> Result<()> {
    let n = df.height() / ROW_GROUP_ROWS;
    write_file(path, |w| {
        let writer = ParquetWriter::new(w).with_compression(ParquetCompression::Zstd(None));
        if n == 0 {
            return writer.finish(df).map(|_| ()).map_err(|e| e.to_string());
        }
        let rows = df.height() / n;
        let mut out = writer.batched(df.schema()).map_err(|e| e.to_string())?;
        for g in 0..n {
            let len = if g + 1 == n {
                df.height() - g * rows
            } else {
                rows
            };
            let mut group = df.slice((g * rows) as i64, len);
            group.rechunk_mut();
            out.write_batch(&group).map_err(|e| e.to_string())?;
        }
        out.finish().map(|_| ()).map_err(|e| e.to_string())
    })
}

/// Writes a frame as CSV with a header to `path`.
pub fn write_csv(df: &mut DataFrame, path: &Path) -> Result<()> {
    write_file(path, |w| {
        CsvWriter::new(w)
            .include_header(true)
            .finish(df)
            .map_err(|e| e.to_string())
    })
}

/// Writes pretty JSON to `path`.
pub fn write_json(value: &serde_json::Value, path: &Path) -> Result<()> {
    write_file(path, |w| {
        serde_json::to_writer_pretty(&mut *w, value).map_err(|e| e.to_string())?;
        w.write_all(b"\n").map_err(|e| e.to_string())
    })
}

/// SHA-256 of bytes, as lowercase hex.
pub fn sha256_bytes(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Row groups are cut by rows alone: the same frame held in one chunk or in many uneven ones
    /// is written to the same bytes, in rows / 262,144 groups.
    #[test]
    fn parquet_bytes_do_not_depend_on_how_the_frame_is_chunked() {
        let rows = 600_000i64;
        let whole = Series::new("v".into(), (0..rows).collect::<Vec<_>>());
        let mut chunked = whole.slice(0, 1);
        for (at, len) in [(1, 99_999), (100_000, 350_000), (450_000, 150_000)] {
            chunked.append(&whole.slice(at, len)).unwrap();
        }
        assert_eq!(chunked.n_chunks(), 4);
        let dir = tempfile::tempdir().unwrap();
        let write = |s: &Series, name: &str| {
            let mut df = DataFrame::new_infer_height(vec![s.clone().into()]).unwrap();
            let path = dir.path().join(name);
            write_parquet(&mut df, &path).unwrap();
            path
        };
        let (a, b) = (write(&whole, "a.parquet"), write(&chunked, "b.parquet"));
        let same = std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap();
        assert!(same, "one frame, two chunkings, two different files");
        let md = polars::io::parquet::read::ParquetReader::new(std::fs::File::open(&b).unwrap())
            .get_metadata()
            .unwrap()
            .clone();
        let groups: Vec<usize> = md.row_groups.iter().map(|g| g.num_rows()).collect();
        assert_eq!(groups, vec![300_000, 300_000]);
    }
}
