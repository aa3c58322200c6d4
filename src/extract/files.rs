//! Writing the extract: CSV in UTF-8 or GB18030 (header = the interface's column names), XLSX
//! continued on new sheets past Excel's row limit, every file readable by its owner only.

use std::fs;
use std::io::{BufWriter, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use polars::prelude::*;

use crate::error::{Error, Result};

/// Text encodings of the CSV files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 (default).
    Utf8,
    /// GB18030, which many inspection tools in China expect.
    Gb18030,
}

impl Encoding {
    /// Parses `--encoding`.
    pub fn parse(s: &str) -> Result<Encoding> {
        match s.to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" => Ok(Encoding::Utf8),
            "gb18030" => Ok(Encoding::Gb18030),
            _ => Err(Error::Usage(format!(
                "--encoding {s}: use utf-8 or gb18030"
            ))),
        }
    }
}

/// Rows of one sheet: Excel's limit of 1,048,576 rows less the header.
pub const SHEET_ROWS: usize = 1_048_575;

/// Makes a file or folder readable (and writable) by its owner only.
pub fn private(path: &Path, dir: bool) -> Result<()> {
    let mode = if dir { 0o700 } else { 0o600 };
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(|e| Error::Env(format!("{}: {e}", path.display())))
}

fn env(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Env(format!("writing {}: {e}", path.display()))
}

/// A CSV field (RFC 4180): a value a spreadsheet program would run as a formula (its first
/// character `=`, `+`, `-`, `@`, TAB or CR) gets a leading `'` and quotes (OWASP's advice
/// against CSV injection); a value holding a separator, a quote or a line break is quoted, its
/// quotes doubled. The interface's own `@N` (no value) is written as it is.
fn field(s: &str) -> std::borrow::Cow<'_, str> {
    if crate::io::is_formula(s) && s != super::ABSENT {
        format!("\"'{}\"", s.replace('"', "\"\"")).into()
    } else if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
    }
}

/// A CSV file written a frame at a time (RFC 4180, in UTF-8 or GB18030), readable by its owner
/// only.
pub struct CsvTable {
    path: std::path::PathBuf,
    w: BufWriter<std::fs::File>,
    enc: Encoding,
    encoder: encoding_rs::Encoder,
    block: String,
    out: Vec<u8>,
}

impl CsvTable {
    /// Creates the file and writes the header.
    pub fn create(path: &Path, enc: Encoding, header: &[String]) -> Result<CsvTable> {
        let file = crate::io::create_private(path)?;
        let mut t = CsvTable {
            path: path.to_path_buf(),
            w: BufWriter::with_capacity(1 << 20, file),
            enc,
            encoder: encoding_rs::GB18030.new_encoder(),
            block: String::with_capacity(1 << 20),
            out: Vec::new(),
        };
        let header: Vec<String> = header.iter().map(|n| field(n).to_string()).collect();
        t.block.push_str(&header.join(","));
        t.block.push('\n');
        Ok(t)
    }

    /// Appends the rows of `df` (text columns, in header order).
    pub fn append(&mut self, df: &DataFrame) -> Result<()> {
        let cols: Vec<&StringChunked> = df
            .columns()
            .iter()
            .map(|c| c.str())
            .collect::<PolarsResult<_>>()?;
        let mut iters: Vec<_> = cols.iter().map(|c| c.iter()).collect();
        for _ in 0..df.height() {
            for (i, it) in iters.iter_mut().enumerate() {
                if i > 0 {
                    self.block.push(',');
                }
                self.block
                    .push_str(&field(it.next().flatten().unwrap_or("")));
            }
            self.block.push('\n');
            if self.block.len() > (1 << 20) - 4096 {
                self.flush(false)?;
            }
        }
        Ok(())
    }

    fn flush(&mut self, last: bool) -> Result<()> {
        match self.enc {
            Encoding::Utf8 => self
                .w
                .write_all(self.block.as_bytes())
                .map_err(|e| env(&self.path, e))?,
            Encoding::Gb18030 => {
                let need = self
                    .encoder
                    .max_buffer_length_from_utf8_without_replacement(self.block.len())
                    .unwrap_or(self.block.len() * 4 + 16);
                self.out.resize(need, 0);
                let (res, _read, written) = self.encoder.encode_from_utf8_without_replacement(
                    &self.block,
                    &mut self.out,
                    last,
                );
                if let encoding_rs::EncoderResult::Unmappable(c) = res {
                    return Err(Error::Input(format!(
                        "{}: character U+{:04X} has no GB18030 form",
                        self.path.display(),
                        c as u32
                    )));
                }
                self.w
                    .write_all(&self.out[..written])
                    .map_err(|e| env(&self.path, e))?;
            }
        }
        self.block.clear();
        Ok(())
    }

    /// Writes what is left and closes the file.
    pub fn finish(mut self) -> Result<()> {
        self.flush(true)?;
        self.w.flush().map_err(|e| env(&self.path, e))
    }
}

/// The column names of a frame.
pub fn header(df: &DataFrame) -> Vec<String> {
    df.get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect()
}

/// Writes the text columns of `df` as CSV to `path` in `enc`.
pub fn write_csv(df: &DataFrame, path: &Path, enc: Encoding) -> Result<()> {
    let mut t = CsvTable::create(path, enc, &header(df))?;
    t.append(df)?;
    t.finish()
}

/// An XLSX workbook of one table written a frame at a time: sheet `name`, then `name_2`, … of
/// at most `per_sheet` rows each under the header; every cell a text cell (never a formula).
/// Temporary files stay in `tmp` (an owner-only folder).
pub struct XlsxTable {
    path: std::path::PathBuf,
    wb: rust_xlsxwriter::Workbook,
    name: String,
    header: Vec<String>,
    per_sheet: usize,
    sheets: Vec<String>,
    /// Rows written on the current sheet.
    row: usize,
}

impl XlsxTable {
    /// A workbook to be written at `path`.
    pub fn create(
        path: &Path,
        name: &str,
        header: &[String],
        tmp: &Path,
        per_sheet: usize,
    ) -> Result<XlsxTable> {
        let mut wb = rust_xlsxwriter::Workbook::new();
        wb.set_tempdir(tmp).map_err(|e| env(path, e))?;
        let mut t = XlsxTable {
            path: path.to_path_buf(),
            wb,
            name: name.to_string(),
            header: header.to_vec(),
            per_sheet,
            sheets: Vec::new(),
            row: 0,
        };
        t.new_sheet()?;
        Ok(t)
    }

    fn new_sheet(&mut self) -> Result<()> {
        let path = self.path.clone();
        let x = |e: rust_xlsxwriter::XlsxError| env(&path, e);
        let name = if self.sheets.is_empty() {
            self.name.clone()
        } else {
            format!("{}_{}", self.name, self.sheets.len() + 1)
        };
        // Constant-memory mode: rows go to a temporary file as they are written (the fastest
        // mode measured here, before low-memory and in-memory).
        let ws = self.wb.add_worksheet_with_constant_memory();
        ws.set_name(&name).map_err(x)?;
        for (c, n) in self.header.iter().enumerate() {
            ws.write_string(0, c as u16, n).map_err(x)?;
        }
        self.sheets.push(name);
        self.row = 0;
        Ok(())
    }

    /// Appends the rows of `df` (text columns, in header order).
    pub fn append(&mut self, df: &DataFrame) -> Result<()> {
        let path = self.path.clone();
        let x = |e: rust_xlsxwriter::XlsxError| env(&path, e);
        let cols: Vec<&StringChunked> = df
            .columns()
            .iter()
            .map(|c| c.str())
            .collect::<PolarsResult<_>>()?;
        let mut iters: Vec<_> = cols.iter().map(|c| c.iter()).collect();
        for _ in 0..df.height() {
            if self.row == self.per_sheet {
                self.new_sheet()?;
            }
            self.row += 1;
            let r = self.row as u32;
            let index = self.sheets.len() - 1;
            let ws = self.wb.worksheet_from_index(index).map_err(x)?;
            for (c, it) in iters.iter_mut().enumerate() {
                ws.write_string(r, c as u16, it.next().flatten().unwrap_or(""))
                    .map_err(x)?;
            }
        }
        Ok(())
    }

    /// Saves the workbook; returns its sheet names.
    pub fn finish(mut self) -> Result<Vec<String>> {
        self.wb.save(&self.path).map_err(|e| env(&self.path, e))?;
        private(&self.path, false)?;
        Ok(self.sheets)
    }
}

/// Writes the text columns of `df` as an XLSX workbook (see [`XlsxTable`]); returns the sheet
/// names.
#[cfg(test)]
pub fn write_xlsx(
    df: &DataFrame,
    path: &Path,
    sheet: &str,
    tmp: &Path,
    per_sheet: usize,
) -> Result<Vec<String>> {
    let mut t = XlsxTable::create(path, sheet, &header(df), tmp, per_sheet)?;
    t.append(df)?;
    t.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{open_workbook, Reader, Xlsx};

    #[test]
    fn a_table_longer_than_a_sheet_continues_on_the_next() {
        let tmp = tempfile::tempdir().unwrap();
        let df = df!("Cst_no" => ["C1", "C2", "C3", "C4", "C5"], "Norm" => ["a, b", "\"q\"", "c", "d", "e"]).unwrap();
        let path = tmp.path().join("t.xlsx");
        let sheets = write_xlsx(&df, &path, "tb_risk_new", tmp.path(), 2).unwrap();
        assert_eq!(sheets, ["tb_risk_new", "tb_risk_new_2", "tb_risk_new_3"]);
        let mut wb: Xlsx<_> = open_workbook(&path).unwrap();
        let rows: Vec<usize> = sheets
            .iter()
            .map(|s| wb.worksheet_range(s).unwrap().rows().count())
            .collect();
        // Each sheet has the header and its rows: 2, 2, 1.
        assert_eq!(rows, [3, 3, 2]);
        let last = wb.worksheet_range("tb_risk_new_3").unwrap();
        assert_eq!(last.get((1, 0)).unwrap().to_string(), "C5");
        // The CSV quotes what needs it.
        let csv = tmp.path().join("t.csv");
        write_csv(&df, &csv, Encoding::Utf8).unwrap();
        let text = std::fs::read_to_string(&csv).unwrap();
        assert!(text.contains("C1,\"a, b\"\nC2,\"\"\"q\"\"\"\n"), "{text}");
        let mode = std::fs::metadata(&csv).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
