//! `riskgrade explain`: a customer's rating sheet.

use crate::cli::ExplainArgs;
use crate::error::{Error, Result};
use crate::explain;

/// Runs the command: the sheet on standard output (text or JSON), and as HTML with --html.
pub fn run(args: &ExplainArgs) -> Result<()> {
    let sheet = explain::sheet(&args.run, &args.customer, args.with_pii)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&sheet).map_err(|e| Error::Internal(e.to_string()))?
        );
    } else {
        print!("{}", sheet.text());
    }
    if let Some(path) = &args.html {
        std::fs::write(path, sheet.html())
            .map_err(|e| Error::Env(format!("writing {}: {e}", path.display())))?;
    }
    Ok(())
}
