//! `riskgrade generate`: a synthetic portfolio for trials, tests and benchmarks.

use std::time::Instant;

use crate::cli::GenerateArgs;
use crate::dates::days_since_epoch;
use crate::error::{Error, Result};
use crate::generate::{generate, GenOptions};
use crate::progress::Progress;

/// `--out` must be a new folder or a folder of portfolio files: not a file, and not a folder
/// riskgrade wrote results into.
fn check_out(out: &std::path::Path) -> Result<()> {
    if out.exists() && !out.is_dir() {
        return Err(Error::Usage(format!(
            "--out {} exists and is not a folder; give a folder for the portfolio",
            out.display()
        )));
    }
    if out.join(crate::io::MARKER).exists() || out.join(crate::io::RUN_MARKER).exists() {
        return Err(Error::Usage(format!(
            "--out {} holds the results of a riskgrade run; write the portfolio into another folder",
            out.display()
        )));
    }
    Ok(())
}

/// Runs the command.
pub fn run(args: &GenerateArgs, progress: &Progress) -> Result<()> {
    let start = Instant::now();
    let opts = GenOptions {
        customers: args.customers,
        seed: args.seed,
        as_of: days_since_epoch(args.as_of),
    };
    check_out(&args.out)?;
    let s = generate(&opts, &args.out, progress)?;
    println!(
        "wrote {} customers, {} accounts, {} transactions, {} reports, {} grades, {} events to {} in {:.1}s",
        s.customers,
        s.accounts,
        s.transactions,
        s.reports,
        s.grades,
        s.events,
        args.out.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
