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

/// Writes the text columns of `df` as CSV to `path` in `enc`, a block of rows at a time.
pub fn write_csv(df: &DataFrame, path: &Path, enc: Encoding) -> Result<()> {
    let file = crate::io::create_private(path)?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let cols: Vec<&StringChunked> = df
        .columns()
        .iter()
        .map(|c| c.str())
        .collect::<PolarsResult<_>>()?;
    let mut block = String::with_capacity(1 << 20);
    let header: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| field(n.as_str()).to_string())
        .collect();
    block.push_str(&header.join(","));
    block.push('\n');
    let mut encoder = encoding_rs::GB18030.new_encoder();
    let mut flush = |block: &mut String, last: bool| -> Result<()> {
        match enc {
            Encoding::Utf8 => w.write_all(block.as_bytes()).map_err(|e| env(path, e))?,
            Encoding::Gb18030 => {
                let mut out = vec![
                    0u8;
                    encoder
                        .max_buffer_length_from_utf8_without_replacement(block.len())
                        .unwrap_or(block.len() * 4 + 16)
                ];
                let (res, _read, written) =
                    encoder.encode_from_utf8_without_replacement(block, &mut out, last);
                if let encoding_rs::EncoderResult::Unmappable(c) = res {
                    return Err(Error::Input(format!(
                        "{}: character U+{:04X} has no GB18030 form",
                        path.display(),
                        c as u32
                    )));
                }
                w.write_all(&out[..written]).map_err(|e| env(path, e))?;
            }
        }
        block.clear();
        Ok(())
    };
    for row in 0..df.height() {
        for (i, c) in cols.iter().enumerate() {
            if i > 0 {
                block.push(',');
            }
            block.push_str(&field(c.get(row).unwrap_or("")));
        }
        block.push('\n');
        if block.len() > (1 << 20) - 4096 {
            flush(&mut block, false)?;
        }
    }
    flush(&mut block, true)?;
    w.flush().map_err(|e| env(path, e))?;
    Ok(())
}

/// Writes the text columns of `df` as an XLSX workbook, `sheet`, `sheet_2`, … of at most
/// `per_sheet` rows each under the header; temporary files stay in `tmp` (an owner-only
/// folder). Returns the sheet names.
pub fn write_xlsx(
    df: &DataFrame,
    path: &Path,
    sheet: &str,
    tmp: &Path,
    per_sheet: usize,
) -> Result<Vec<String>> {
    use rust_xlsxwriter::Workbook;
    let x = |e: rust_xlsxwriter::XlsxError| env(path, e);
    let mut wb = Workbook::new();
    wb.set_tempdir(tmp).map_err(x)?;
    let cols: Vec<&StringChunked> = df
        .columns()
        .iter()
        .map(|c| c.str())
        .collect::<PolarsResult<_>>()?;
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let mut sheets = Vec::new();
    let mut start = 0;
    loop {
        let name = if sheets.is_empty() {
            sheet.to_string()
        } else {
            format!("{sheet}_{}", sheets.len() + 1)
        };
        // Constant-memory mode: rows go to a temporary file as they are written (the fastest
        // mode measured here, before low-memory and in-memory).
        let ws = wb.add_worksheet_with_constant_memory();
        ws.set_name(&name).map_err(x)?;
        for (c, n) in names.iter().enumerate() {
            ws.write_string(0, c as u16, n).map_err(x)?;
        }
        let end = (start + per_sheet).min(df.height());
        for row in start..end {
            let r = (row - start + 1) as u32;
            for (c, col) in cols.iter().enumerate() {
                ws.write_string(r, c as u16, col.get(row).unwrap_or(""))
                    .map_err(x)?;
            }
        }
        sheets.push(name);
        start = end;
        if start >= df.height() {
            break;
        }
    }
    wb.save(path).map_err(x)?;
    private(path, false)?;
    Ok(sheets)
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
