//! `riskgrade explain`: a customer's rating sheet.

use crate::cli::ExplainArgs;
use crate::error::{Error, Result};
use crate::explain;
use crate::guard::{FileKind, Guard};

/// Runs the command: the sheet on standard output (text or JSON), and as HTML with --html
/// (written atomically, readable by its owner only: with --with-pii it holds a name and an ID
/// number).
pub fn run(args: &ExplainArgs) -> Result<()> {
    let html = match &args.html {
        Some(p) => {
            let mut guard = Guard::new();
            guard.input("--run", &args.run);
            Some(guard.file("--html", p, FileKind::SheetPage)?)
        }
        None => None,
    };
    let sheet = explain::sheet(&args.run, &args.customer, args.with_pii)?;
    let lang = crate::report::lang::Lang::choose(args.lang, sheet.model_language.as_deref());
    if let Some(path) = &html {
        let dir = path
            .parent()
            .map(|p| p.to_path_buf())
            .unwrap_or_else(|| std::path::PathBuf::from("."));
        let tmp = tempfile::Builder::new()
            .prefix(".riskgrade-sheet-")
            .tempfile_in(&dir)
            .map_err(|e| Error::Env(format!("--html {}: {e}", path.display())))?;
        crate::io::write_private(tmp.path(), sheet.html(lang).as_bytes())?;
        tmp.persist(path)
            .map_err(|e| Error::Env(format!("--html {}: {}", path.display(), e.error)))?;
    }
    if args.json {
        crate::outln!(
            "{}",
            serde_json::to_string_pretty(&sheet).map_err(|e| Error::Internal(e.to_string()))?
        );
    } else {
        crate::out!("{}", sheet.text(lang));
    }
    Ok(())
}
