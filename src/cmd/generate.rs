//! `riskgrade generate`: a synthetic portfolio for trials, tests and benchmarks.

use std::time::Instant;

use crate::cli::GenerateArgs;
use crate::dates::days_since_epoch;
use crate::error::Result;
use crate::generate::{generate, GenOptions};
use crate::progress::Progress;

/// Runs the command.
pub fn run(args: &GenerateArgs, progress: &Progress) -> Result<()> {
    let start = Instant::now();
    let opts = GenOptions {
        customers: args.customers,
        seed: args.seed,
        as_of: days_since_epoch(args.as_of),
        graph_only: args.graph_only,
    };
    let s = generate(&opts, &args.out, progress)?;
    crate::outln!(
        "wrote {} customers, {} accounts, {} transactions, {} reports, {} grades, {} events, {} ownership edges to {} in {:.1}s",
        s.customers,
        s.accounts,
        s.transactions,
        s.reports,
        s.grades,
        s.events,
        s.ownership,
        args.out.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
