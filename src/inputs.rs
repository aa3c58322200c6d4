//! The input files of one portfolio folder, opened once: every file of the contract that is
//! there, checked to be a regular Parquet file with the contract's columns, and scanned lazily
//! with the contract's types. The stages are handed these scans, never the folder's path.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::contract::{self, FileSpec};
use crate::error::{Error, Result};

/// One input file: where it is and its lazy scan.
#[derive(Clone)]
pub struct InputFile {
    /// The contract's description of the file.
    pub spec: FileSpec,
    /// Its path.
    pub path: PathBuf,
    /// Its scan, with the contract's column types.
    pub scan: LazyFrame,
}

/// Every input file of a portfolio folder.
#[derive(Clone)]
pub struct Inputs {
    /// The folder.
    pub dir: PathBuf,
    /// The files present, in the contract's order.
    pub files: Vec<InputFile>,
}

impl Inputs {
    /// Opens the folder: required files present, every file a readable Parquet file with the
    /// contract's columns in the contract's types (or a form read as them, see [`scan`]).
    pub fn open(dir: &Path) -> Result<Inputs> {
        if !dir.is_dir() {
            return Err(Error::Input(format!(
                "data folder {} does not exist or is not a folder",
                dir.display()
            )));
        }
        let mut files = Vec::new();
        for spec in contract::FILES {
            if let Some(scan) = check_schema(dir, spec)? {
                files.push(InputFile {
                    spec: *spec,
                    path: dir.join(spec.file),
                    scan,
                });
            }
        }
        Ok(Inputs {
            dir: dir.to_path_buf(),
            files,
        })
    }

    /// The scan of a file of the contract, if the folder has it.
    pub fn get(&self, spec: &FileSpec) -> Option<LazyFrame> {
        self.files
            .iter()
            .find(|f| f.spec.file == spec.file)
            .map(|f| f.scan.clone())
    }

    /// The scan of a required file (present once [`Inputs::open`] succeeded).
    pub fn required(&self, spec: &FileSpec) -> LazyFrame {
        self.get(spec)
            .unwrap_or_else(|| panic!("{} is required and was checked when opened", spec.file))
    }
}

fn fail(spec: &FileSpec, msg: String) -> Error {
    Error::Input(format!("{}: {msg}", spec.file))
}

/// Lazily scans a Parquet file as it is: the path is a path, never a pattern.
pub fn scan_path(path: &Path) -> Result<LazyFrame> {
    let p = path
        .to_str()
        .ok_or_else(|| Error::Usage(format!("path {} is not UTF-8", path.display())))?;
    let args = ScanArgsParquet {
        glob: false,
        hive_options: HiveOptions::new_disabled(),
        ..Default::default()
    };
    LazyFrame::scan_parquet(PlRefPath::from(p), args)
        .map_err(|e| Error::Input(format!("{}: {e}", path.display())))
}

/// The file-level key-value metadata of a Parquet file that its writer put there (the Arrow
/// schema the Parquet writer stores beside it, `ARROW:schema`, is left out).
pub fn parquet_metadata(path: &Path) -> Result<Vec<(String, String)>> {
    let file =
        std::fs::File::open(path).map_err(|e| Error::Input(format!("{}: {e}", path.display())))?;
    let mut reader = polars::io::parquet::read::ParquetReader::new(file);
    let md = reader
        .get_metadata()
        .map_err(|e| Error::Input(format!("{}: cannot read as Parquet: {e}", path.display())))?;
    Ok(md
        .key_value_metadata()
        .iter()
        .flatten()
        .filter(|kv| !kv.key.starts_with("ARROW:"))
        .map(|kv| (kv.key.clone(), kv.value.clone().unwrap_or_default()))
        .collect())
}

/// Lazily scans one input file of the contract. The path is a path, never a pattern (no glob
/// expansion, no hive partitions). Columns written in a form users' tools commonly produce are
/// read as the contract's type (see [`contract::ColType::accepts`]): a dictionary-encoded or
/// categorical string, an all-null column, another integer or float width, another timestamp
/// unit, a date written as a timestamp.
pub fn scan(data: &Path, spec: &FileSpec) -> Result<LazyFrame> {
    let path = data.join(spec.file);
    let mut lf = scan_path(&path)?;
    let schema = lf
        .collect_schema()
        .map_err(|e| Error::Input(format!("{}: cannot read as Parquet: {e}", path.display())))?;
    let casts: Vec<Expr> = spec
        .columns
        .iter()
        .filter_map(|c| {
            let have = schema.get(c.name)?;
            (*have != c.ty.dtype() && c.ty.accepts(have))
                .then(|| col(c.name).strict_cast(c.ty.dtype()))
        })
        .collect();
    // Optional columns a file leaves out are read as all null.
    let absent: Vec<Expr> = spec
        .columns
        .iter()
        .filter(|c| c.optional && schema.get(c.name).is_none())
        .map(|c| lit(NULL).cast(c.ty.dtype()).alias(c.name))
        .collect();
    let casts: Vec<Expr> = casts.into_iter().chain(absent).collect();
    if !casts.is_empty() {
        lf = lf.with_columns(casts);
    }
    Ok(lf)
}

/// Checks one file's presence, kind and schema; returns its scan (`None`: an optional file
/// that is not there).
pub fn check_schema(data: &Path, spec: &FileSpec) -> Result<Option<LazyFrame>> {
    let path = data.join(spec.file);
    if !path.exists() {
        if spec.required {
            return Err(fail(
                spec,
                format!(
                    "missing from {}; the data contract requires it (docs/data-contract.md)",
                    data.display()
                ),
            ));
        }
        return Ok(None);
    }
    // A folder of parts, a pipe or a device is not a Parquet file (a pipe would block forever).
    if !path.metadata().is_ok_and(|m| m.is_file()) {
        return Err(fail(
            spec,
            format!(
                "{} is not a regular file; give one Parquet file (a folder of parts: write them as one file first)",
                path.display()
            ),
        ));
    }
    let mut lf = scan(data, spec)?;
    let schema = lf
        .collect_schema()
        .map_err(|e| fail(spec, format!("cannot read as Parquet: {e}")))?;
    for c in spec.columns {
        match schema.get(c.name) {
            None => {
                return Err(fail(
                    spec,
                    format!(
                        "missing column '{}' ({}, {})",
                        c.name,
                        c.ty.name(),
                        c.meaning
                    ),
                ))
            }
            Some(dt) if *dt != c.ty.dtype() => {
                return Err(fail(
                    spec,
                    format!(
                        "column '{}' has type {dt}; the contract says {}",
                        c.name,
                        c.ty.name()
                    ),
                ))
            }
            _ => {}
        }
    }
    Ok(Some(lf))
}

/// The first few values of `id_col` on rows of `lf` where `bad` holds, comma-joined: how
/// messages name the rows at fault (by key, never by personal data).
pub fn examples(lf: LazyFrame, bad: Expr, id_col: &str) -> String {
    lf.filter(bad)
        .select([col(id_col).cast(DataType::String)])
        .limit(5)
        .collect()
        .ok()
        .and_then(|df| {
            df.column(id_col).ok().and_then(|c| {
                c.str().ok().map(|s| {
                    s.iter()
                        .map(|v| v.unwrap_or("<null>").to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                })
            })
        })
        .unwrap_or_default()
}
