//! File output: every output is first written into a staging folder beside its destination,
//! flushed to disk, and swapped into place in one atomic step only when complete, so at every
//! instant the destination holds either the complete previous run or the complete new one, and
//! a failed or killed run leaves no half-written file. Also Parquet/CSV/JSON writing helpers and
//! SHA-256 hashing of files.
//!
//! Every file and folder written here is its owner's only (0600, 0700), whatever the umask:
//! outputs hold customers' grades (P6) and, in extracts, their names and ID numbers. Which
//! folder may be replaced is decided by `guard`, not here.

use std::fs::{self, File};
use std::io::{BufReader, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use polars::prelude::*;
use sha2::{Digest, Sha256};

use crate::error::{Context, Error, Result};

/// Stops the process at a named step when the environment variable `RISKGRADE_FAILPOINT`
/// names it, as a kill at that instant would: used by tests of the output swap.
pub fn failpoint(name: &str) {
    let set = std::env::var("RISKGRADE_FAILPOINT").unwrap_or_default();
    if set.split(',').any(|v| v == name) {
        crate::errln!("riskgrade: stopped at fail point {name}");
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

/// Whether `s` is a process id: decimal digits only.
fn is_pid(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// What an interrupted run may have left beside an output folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leftover {
    /// A staging folder (`.<name>.partial-<pid>`) of a process no longer alive.
    Partial,
    /// A previous output moved aside by a swap that did not finish (`.<name>.old-<pid>`).
    Aside,
}

impl Staging {
    /// Creates `.<name>.partial-<pid>` beside `dest` (and `dest`'s parent if needed). First
    /// clears what interrupted runs left, but only folders named with a process id no longer
    /// alive that `may_touch` recognises as riskgrade's (by their marker; never a command's
    /// input): staging folders, and a previous output moved aside by a swap that did not
    /// finish (put back if `dest` is missing). The caller marks the new staging folder.
    pub fn new(dest: &Path, may_touch: &dyn Fn(&Path, Leftover) -> bool) -> Result<Self> {
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
                let real_dir = fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
                if let Some(pid) = n.strip_prefix(&partial) {
                    if is_pid(pid)
                        && !other_alive(pid)
                        && real_dir
                        && may_touch(&path, Leftover::Partial)
                    {
                        let _ = fs::remove_dir_all(&path);
                    }
                } else if let Some(pid) = n.strip_prefix(&aside) {
                    if is_pid(pid)
                        && !other_alive(pid)
                        && real_dir
                        && may_touch(&path, Leftover::Aside)
                    {
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
        if fs::symlink_metadata(&tmp).is_ok() {
            if !may_touch(&tmp, Leftover::Partial) {
                return Err(Error::Env(format!(
                    "{} exists and is not a staging folder of riskgrade's; move it away",
                    tmp.display()
                )));
            }
            fs::remove_dir_all(&tmp).env_ctx(&format!("removing {}", tmp.display()))?;
        }
        create_private_dir(&tmp)?;
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

    /// Replaces the destination folder as a whole by the staging folder, atomically: the two
    /// folders are exchanged in one `renameat2(RENAME_EXCHANGE)` and the previous run is then
    /// removed. An existing destination is first checked again by `may_replace` (the guard of
    /// the command's output), as it may have changed while the command ran.
    pub fn commit_replace(mut self, may_replace: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
        self.sync()?;
        failpoint("swap:synced");
        let parent = self.tmp.parent().unwrap_or(Path::new(".")).to_path_buf();
        if fs::symlink_metadata(&self.dest).is_ok() {
            may_replace(&self.dest)?;
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

/// Creates (or truncates) `path` for writing, readable and writable by its owner only.
pub fn create_private(path: &Path) -> Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .env_ctx(&format!("writing {}", path.display()))?;
    // A file that existed keeps its mode through `open`: set it.
    use std::os::unix::fs::PermissionsExt;
    f.set_permissions(fs::Permissions::from_mode(0o600))
        .env_ctx(&format!("writing {}", path.display()))?;
    Ok(f)
}

/// Writes `bytes` to `path`, readable and writable by its owner only.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = create_private(path)?;
    f.write_all(bytes)
        .env_ctx(&format!("writing {}", path.display()))
}

/// Creates the folder `path` (not its parents), usable by its owner only.
pub fn create_private_dir(path: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .mode(0o700)
        .create(path)
        .env_ctx(&format!("creating {}", path.display()))?;
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o700))
        .env_ctx(&format!("creating {}", path.display()))
}

/// Makes `to` hold the bytes of `from`: a hard link when both lie on one file system (no byte
/// is read), else a copy. Returns whether it copied.
pub fn link_or_copy(from: &Path, to: &Path) -> Result<bool> {
    match fs::hard_link(from, to) {
        Ok(()) => Ok(false),
        Err(_) => {
            let mut src = File::open(from).env_ctx(&format!("reading {}", from.display()))?;
            let mut dst = create_private(to)?;
            std::io::copy(&mut src, &mut dst).env_ctx(&format!("copying {}", from.display()))?;
            Ok(true)
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
    let file = create_private(path)?;
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

/// The compression of every Parquet file riskgrade writes.
const COMPRESSION: ParquetCompression = ParquetCompression::Zstd(None);

/// Writes a frame as Parquet (zstd) to `path`. Row groups are cut at the same rows whatever
/// chunks the frame is held in, so the file's bytes depend on its data alone: below
/// [`ROW_GROUP_ROWS`] rows one group; from there `rows / ROW_GROUP_ROWS` groups of equal size,
/// the last taking the rest (Polars' own cut of a frame held in one chunk). Each group is copied
/// into one chunk as it is written, never the whole frame.
pub fn write_parquet(df: &mut DataFrame, path: &Path) -> Result<()> {
    write_parquet_with(df, path, &[])
}

/// [`write_parquet`] with file-level key-value metadata (what the file was computed from).
pub fn write_parquet_with(df: &mut DataFrame, path: &Path, kv: &[(&str, String)]) -> Result<()> {
    let n = df.height() / ROW_GROUP_ROWS;
    let kv = (!kv.is_empty()).then(|| {
        polars::io::parquet::write::KeyValueMetadata::from_static(
            kv.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
        )
    });
    write_file(path, |w| {
        let writer = ParquetWriter::new(w)
            .with_compression(COMPRESSION)
            .with_key_value_metadata(kv);
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
            write_row_group(&mut out, &group).map_err(|e| e.to_string())?;
        }
        out.finish().map(|_| ()).map_err(|e| e.to_string())
    })
}

/// Writes `group` (one chunk per column) as one row group, its columns encoded and compressed in
/// parallel. Polars' batched writer compresses a row group's pages one after another as it
/// writes them (at 10M customers the scores file took 3.4–3.9 s on 1.3 cores); the pages here
/// are made by the same functions with the same settings, so the file is the same byte for byte.
fn write_row_group<W: Write>(
    out: &mut polars::io::parquet::write::BatchedWriter<W>,
    group: &DataFrame,
) -> PolarsResult<()> {
    use polars_parquet::write::{
        array_to_columns, compress, CompressedPage, Version, WriteOptions,
    };
    use rayon::prelude::*;
    // The settings `ParquetWriter::new(..).with_compression(COMPRESSION)` writes with.
    let options = WriteOptions {
        statistics: Default::default(),
        version: Version::V1,
        compression: COMPRESSION.into(),
        data_page_size: None,
    };
    let encodings =
        polars::io::parquet::write::get_encodings(&group.schema().to_arrow(CompatLevel::newest()));
    let fields = out.parquet_schema().fields().to_vec();
    for batch in group.iter_chunks(CompatLevel::newest(), false) {
        if batch.is_empty() {
            continue;
        }
        let columns: Vec<Vec<Vec<CompressedPage>>> = batch
            .columns()
            .par_iter()
            .zip(&fields)
            .zip(encodings.as_ref())
            .map(|((array, field), encoding)| {
                array_to_columns(array, field.clone(), options, encoding)?
                    .into_iter()
                    .map(|pages| {
                        pages
                            .map(|page| Ok(compress(page?, Vec::new(), options.compression)?))
                            .collect::<PolarsResult<Vec<_>>>()
                    })
                    .collect()
            })
            .collect::<PolarsResult<_>>()?;
        let leaves: Vec<Vec<CompressedPage>> = columns.into_iter().flatten().collect();
        out.write_row_group(batch.len() as u64, &leaves)?;
    }
    Ok(())
}

/// Whether a spreadsheet program would read a cell holding `s` as a formula: its first
/// character is `=`, `+`, `-`, `@`, TAB or CR (OWASP, CSV injection).
pub fn is_formula(s: &str) -> bool {
    s.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// The frame with every text value that [`is_formula`] given a leading `'`, so a spreadsheet
/// program shows it as text instead of running it. Columns without such a value are passed as
/// they are.
pub fn neutralised(df: &DataFrame) -> Result<DataFrame> {
    let mut out = df.clone();
    for c in df.columns() {
        let Ok(ca) = c.str() else { continue };
        if !ca.iter().flatten().any(is_formula) {
            continue;
        }
        let fixed: StringChunked = ca
            .iter()
            .map(|v| {
                v.map(|v| {
                    if is_formula(v) {
                        format!("'{v}")
                    } else {
                        v.to_string()
                    }
                })
            })
            .collect();
        out.with_column(fixed.with_name(c.name().clone()).into_column())?;
    }
    Ok(out)
}

/// Writes `height` rows as Parquet (zstd) to `path`, a row group at a time: `group(offset,
/// len)` makes each group's frame, cut at the rows [`write_parquet`] cuts a frame of that
/// height at, so only one group is held at once.
pub fn write_parquet_groups(
    path: &Path,
    height: usize,
    kv: &[(&str, String)],
    mut group: impl FnMut(usize, usize) -> Result<DataFrame>,
) -> Result<()> {
    let n = (height / ROW_GROUP_ROWS).max(1);
    let rows = height / n;
    let kv = (!kv.is_empty()).then(|| {
        polars::io::parquet::write::KeyValueMetadata::from_static(
            kv.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
        )
    });
    let mut failed: Option<Error> = None;
    write_file(path, |w| {
        let mut out = None;
        for g in 0..n {
            let len = if g + 1 == n { height - g * rows } else { rows };
            let mut df = match group(g * rows, len) {
                Ok(df) => df,
                Err(e) => {
                    failed = Some(e);
                    return Err("a row group could not be made".into());
                }
            };
            df.rechunk_mut();
            if out.is_none() {
                out = Some(
                    ParquetWriter::new(&mut *w)
                        .with_compression(COMPRESSION)
                        .with_key_value_metadata(kv.clone())
                        .batched(df.schema())
                        .map_err(|e| e.to_string())?,
                );
            }
            if let Some(o) = out.as_mut() {
                write_row_group(o, &df).map_err(|e| e.to_string())?;
            }
        }
        match out {
            Some(o) => o.finish().map(|_| ()).map_err(|e| e.to_string()),
            None => Ok(()),
        }
    })
    .map_err(|e| failed.take().unwrap_or(e))
}

/// Writes a frame as CSV with a header to `path` (RFC 4180 quoting); text values a spreadsheet
/// program would run as formulas are written with a leading `'` ([`neutralised`]).
pub fn write_csv(df: &mut DataFrame, path: &Path) -> Result<()> {
    let mut safe = neutralised(df)?;
    write_file(path, |w| {
        CsvWriter::new(w)
            .include_header(true)
            .finish(&mut safe)
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

    /// The row groups encoded in parallel are the bytes Polars' own batched writer writes for
    /// the same groups: text (dictionary and plain), dates, booleans, floats, small integers,
    /// nulls.
    #[test]
    fn parallel_row_groups_are_polars_own_bytes() {
        let rows = 600_000usize;
        let grade = ["low", "medium", "high"];
        let df = DataFrame::new_infer_height(vec![
            Column::new(
                "id".into(),
                (0..rows).map(|i| format!("C{i:010}")).collect::<Vec<_>>(),
            ),
            Column::new(
                "grade".into(),
                (0..rows)
                    .map(|i| (i % 7 != 0).then_some(grade[i % 3]))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "due".into(),
                (0..rows as i32)
                    .map(|i| (i % 5 != 0).then_some(20_000 + i % 400))
                    .collect::<Vec<_>>(),
            )
            .cast(&DataType::Date)
            .unwrap(),
            Column::new(
                "flag".into(),
                (0..rows).map(|i| i % 3 == 0).collect::<Vec<_>>(),
            ),
            Column::new(
                "total".into(),
                (0..rows).map(|i| i as f64 * 0.37).collect::<Vec<_>>(),
            ),
            Column::new(
                "score".into(),
                (0..rows).map(|i| (i % 11) as u8).collect::<Vec<_>>(),
            ),
        ])
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let ours = dir.path().join("ours.parquet");
        write_parquet(&mut df.clone(), &ours).unwrap();
        // Polars' writer, given the same two groups of 300,000 rows.
        let mut theirs = Vec::new();
        let mut w = ParquetWriter::new(&mut theirs)
            .with_compression(ParquetCompression::Zstd(None))
            .batched(df.schema())
            .unwrap();
        for at in [0, 300_000] {
            w.write_batch(&df.slice(at, 300_000)).unwrap();
        }
        w.finish().unwrap();
        assert!(std::fs::read(&ours).unwrap() == theirs, "different bytes");
    }
}
