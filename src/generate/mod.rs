//! A deterministic synthetic portfolio in the data contract (`contract.rs`), realistic enough
//! that every rule fires on some customers. Customers are made in fixed-size chunks, each from
//! its own random stream, several chunks in parallel; each chunk is written as one row group of
//! every file as soon as it is made, so memory stays constant whatever the portfolio size and
//! the bytes depend only on the seed. Within a chunk the stream is consumed in a fixed order:
//! customers, accounts, transactions, then the records around them.

mod accounts;
mod customers;
pub mod distributions;
mod ownership;
mod records;
mod transactions;

use std::path::Path;

use polars::prelude::*;
use rayon::prelude::*;

use crate::contract::{self, FileSpec};
use crate::error::{Context, Result};
use crate::guard::Guard;
use crate::rng::Rng;
use crate::run_folder::{FolderKind, Generated, Manifest, Record};
use crate::{io, progress::Progress};

pub use distributions::BRANCHES;

/// Customers per chunk (one Parquet row group of each file).
const CHUNK: u64 = 32_768;

/// Settings of `riskgrade generate`.
#[derive(Debug, Clone)]
pub struct GenOptions {
    /// Number of customers.
    pub customers: u64,
    /// Random seed.
    pub seed: u64,
    /// Date the portfolio is observed (transactions cover the 365 days before it).
    pub as_of: i32,
    /// Only customers and the ownership graph; the other files empty.
    pub graph_only: bool,
}

/// Row counts of a generated portfolio.
#[derive(Debug, Default, Clone, Copy)]
pub struct GenStats {
    /// Rows of customers.parquet.
    pub customers: u64,
    /// Rows of accounts.parquet.
    pub accounts: u64,
    /// Rows of transactions.parquet.
    pub transactions: u64,
    /// Rows of reports.parquet.
    pub reports: u64,
    /// Grades on file.
    pub grades: u64,
    /// Rows of events.parquet.
    pub events: u64,
    /// Grades set by hand.
    pub overrides: u64,
    /// Edges of ownership.parquet.
    pub ownership: u64,
    /// Rows of persons.parquet (the shared pool not counted).
    pub persons: u64,
}

struct Chunk {
    frames: [DataFrame; 9],
}

/// One chunk of customers and everything about them, from its own random stream.
fn gen_chunk(opts: &GenOptions, chunk: u64) -> PolarsResult<Chunk> {
    let first = chunk * CHUNK;
    let n = CHUNK.min(opts.customers - first) as usize;
    let mut rng = Rng::new(opts.seed, chunk);
    let mut f = distributions::Fmt(String::with_capacity(32));
    let mut cust = customers::Customers::new(n);
    let profiles: Vec<customers::Profile> = (0..n as u64)
        .map(|i| cust.push(&mut rng, &mut f, (first + i, i, chunk), opts.as_of))
        .collect();
    let customers = cust.finish()?;
    // The graph draws from a stream of its own: with --graph-only it is the same.
    let [accounts, transactions, reports, grades, events, overrides] = if opts.graph_only {
        [
            contract::ACCOUNTS,
            contract::TRANSACTIONS,
            contract::REPORTS,
            contract::GRADES,
            contract::EVENTS,
            contract::OVERRIDES,
        ]
        .map(|s| DataFrame::empty_with_schema(&s.schema()))
    } else {
        let (accounts, first_account) = accounts::make(&mut rng, &mut f, &profiles, opts.as_of)?;
        let transactions =
            transactions::make(&mut rng, &mut f, &profiles, &first_account, opts.as_of)?;
        let [reports, grades, events, overrides] =
            records::make(&mut rng, &mut f, &profiles, opts.as_of)?;
        [accounts, transactions, reports, grades, events, overrides]
    };
    let [ownership, persons] = ownership::make(
        &mut Rng::new(opts.seed, ownership::stream(chunk)),
        &mut f,
        &profiles,
        customers.column("legal_form")?.str()?,
        chunk,
        opts.customers,
        opts.as_of,
    )?;
    Ok(Chunk {
        frames: [
            customers,
            accounts,
            transactions,
            reports,
            grades,
            events,
            overrides,
            ownership,
            persons,
        ],
    })
}

/// Generates the portfolio into `out` (created if needed); files are written under temporary
/// names and renamed into place only when all of them are complete.
pub fn generate(opts: &GenOptions, out: &Path, progress: &Progress) -> Result<GenStats> {
    let specs: [FileSpec; 9] = [
        contract::CUSTOMERS,
        contract::ACCOUNTS,
        contract::TRANSACTIONS,
        contract::REPORTS,
        contract::GRADES,
        contract::EVENTS,
        contract::OVERRIDES,
        contract::OWNERSHIP,
        contract::PERSONS,
    ];
    let dest = Guard::new().folder("--out", out, FolderKind::Book)?;
    let started = crate::dates::now_rfc3339();
    let staging = dest.stage()?;
    let mut writers = specs
        .iter()
        .map(|s| {
            let file = io::create_private(&staging.path(s.file))?;
            ParquetWriter::new(file)
                .with_compression(ParquetCompression::Zstd(None))
                .batched(&s.schema())
                .internal_ctx(s.file)
        })
        .collect::<Result<Vec<_>>>()?;
    // The shared pool of persons who own many entities comes first in persons.parquet.
    writers[8]
        .write_batch(&ownership::pool(opts.seed, opts.customers)?)
        .internal_ctx(contract::PERSONS.file)?;
    let chunks = opts.customers.div_ceil(CHUNK);
    let window = rayon::current_num_threads().max(1) as u64;
    let mut stats = GenStats::default();
    let task = progress.task("generating customers", opts.customers);
    let mut start = 0;
    while start < chunks {
        let end = (start + window).min(chunks);
        let made: Vec<Chunk> = (start..end)
            .into_par_iter()
            .map(|c| gen_chunk(opts, c))
            .collect::<PolarsResult<_>>()?;
        for chunk in made {
            let rows: Vec<u64> = chunk.frames.iter().map(|d| d.height() as u64).collect();
            stats.customers += rows[0];
            stats.accounts += rows[1];
            stats.transactions += rows[2];
            stats.reports += rows[3];
            stats.grades += rows[4];
            stats.events += rows[5];
            stats.overrides += rows[6];
            stats.ownership += rows[7];
            stats.persons += rows[8];
            for (w, (df, s)) in writers.iter_mut().zip(chunk.frames.iter().zip(&specs)) {
                w.write_batch(df).internal_ctx(s.file)?;
            }
            task.advance(rows[0]);
        }
        start = end;
    }
    for (w, s) in writers.iter().zip(&specs) {
        w.finish().internal_ctx(s.file)?;
    }
    task.done();
    let mut manifest = Manifest::new(
        started,
        Record::Generate(Generated {
            customers: opts.customers,
            seed: opts.seed,
            as_of: (crate::dates::epoch() + chrono::TimeDelta::days(i64::from(opts.as_of)))
                .to_string(),
        }),
    );
    staging.commit(&mut manifest)?;
    Ok(stats)
}
