//! Command-line flags. What the flags mean lives in `cmd/`; this file only declares them.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};

/// Grades every customer of a financial institution for money-laundering and
/// terrorist-financing risk, following the PBoC guideline on ML/TF risk assessment and
/// customer classification (rule IDs in docs/ cite it).
#[derive(Debug, Parser)]
#[command(name = "riskgrade", version, about, long_about = None)]
#[command(
    after_help = "Exit codes: 0 ok, 1 internal error, 2 usage or model error, 3 input data error, \
                  4 verify found changed files, 5 environment error (output not writable, disk full)."
)]
pub struct Cli {
    /// Print no progress lines (warnings are still printed, on standard error).
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// What riskgrade can do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Grade every customer: features, sub-item scores, totals, exceptions, grades and reports.
    Assess(AssessArgs),
    /// Check a risk model file and, with --data, a portfolio folder against the data contract.
    Validate(ValidateArgs),
    /// Write a synthetic portfolio (deterministic for a seed) in the data contract: about 90%
    /// natural persons, 0.1% foreign PEPs and their relatives or associates, 0.01% watch-list
    /// hits, STR histories, shared IP addresses, devices, phones and busy proxies, cross-border
    /// flows to FATF-listed countries, cash just under 50,000 CNY, grades on file (some
    /// overdue), grades set by hand and trigger events; about 20 transactions per customer
    /// per year with a long tail.
    Generate(GenerateArgs),
    /// Re-hash a run's inputs and outputs against its manifest: has anything changed since?
    Verify(VerifyArgs),
    /// Benchmark candidate models against a baseline over the whole book: who changes grade,
    /// distributions per segment and branch, migration matrices, band-edge counts, review
    /// workload, STR back-test, and the baseline's sensitivity to each weight.
    Compare(CompareArgs),
    /// Write the PBoC inspection tables of customer grades (tb_risk_new, tb_risk_his) from an
    /// assessment run, reconciled with its summary and history, as CSV and XLSX with a control
    /// file; with --stats, the periodic AML report's statistics.
    Extract(ExtractArgs),
    /// Print a customer's rating sheet: every sub-item with the feature values and rule that
    /// decided it, score, weight and points; totals, exceptions, grade on file, grade set by
    /// hand, reasons to act and due date (needs a run made with --keep-features).
    Explain(ExplainArgs),
    /// Write a starter model and the reference tables into a folder, for an institution to
    /// edit.
    Init(InitArgs),
    /// Write the links table of the whole book: every IP address, device, phone, emergency
    /// contact and proxy shared by two or more customers, with its count, for `assess --links`
    /// on one bucket of the book (docs/scale-out.md).
    Links(LinksArgs),
    /// Write the beneficial-owners table of the whole book from its ownership graph
    /// (ownership.parquet, persons.parquet; L-BOI6): effective shares through chains and
    /// cycles, control, the fallback; for `assess --owners` on one bucket of the book.
    Owners(OwnersArgs),
    /// Is the model still working? Runs of one book at successive as-of dates compared: score
    /// stability (PSI), grade migration and its drivers, discrimination back-tested on later
    /// suspicious-transaction reports (AUC, KS, capture per grade), process health
    /// (docs/monitor.md).
    Monitor(MonitorArgs),
    /// Combine the runs of every bucket of a book into one run folder, as a single `assess`
    /// of the whole book would have written it (docs/scale-out.md).
    Merge(MergeArgs),
    /// List the customers whose records may be purged (L-CDD44): relationship ended at least
    /// ten years before the run's as-of date, no open investigation. Deletes nothing.
    Retention(RetentionArgs),
}

/// Flags of `explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The assessment run (made with --keep-features).
    #[arg(long, value_name = "DIR")]
    pub run: PathBuf,
    /// The customer number.
    #[arg(long, value_name = "ID")]
    pub customer: String,
    /// Also write the sheet as an HTML page.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Print the sheet as JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Include the customer's name and ID number (personal data).
    #[arg(long)]
    pub with_pii: bool,
    /// The language of the sheet. Default: the model's `[model] language`, else en.
    #[arg(long, value_enum)]
    pub lang: Option<crate::report::lang::Lang>,
}

/// Flags of `init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The folder to create (must be new or empty): model.toml and reference/.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

/// Flags of `extract`.
#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// The assessment run (a folder written by riskgrade assess).
    #[arg(long, value_name = "DIR")]
    pub run: PathBuf,
    /// First day of the inspection period (YYYY-MM-DD).
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub period_start: NaiveDate,
    /// Last day of the inspection period (YYYY-MM-DD).
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub period_end: NaiveDate,
    /// The day of extraction (YYYY-MM-DD). Default: today.
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub extracted_on: Option<NaiveDate>,
    /// Column layout: bank, insurance, futures, or a profile file (docs/extract.md).
    #[arg(long, default_value = "bank", value_name = "PROFILE")]
    pub profile: String,
    /// Text encoding of the CSV files: utf-8 or gb18030.
    #[arg(long, default_value = "utf-8", value_name = "ENCODING")]
    pub encoding: String,
    /// Replace names and ID numbers by salted hashes (test extracts).
    #[arg(long)]
    pub mask: bool,
    /// The salt of --mask (default: random, not kept).
    #[arg(long, value_name = "TEXT", requires = "mask")]
    pub salt: Option<String>,
    /// Also write the statistics for the periodic AML report.
    #[arg(long)]
    pub stats: bool,
    /// Also write both tables as XLSX workbooks (sheets of at most 1,048,575 rows).
    #[arg(long, conflicts_with = "parts")]
    pub xlsx: bool,
    /// Extract only bucket K of a run merged as datasets (the cluster's extract stage, one task
    /// per bucket); its folder is a part for --parts.
    #[arg(long, value_name = "K/N", conflicts_with = "parts")]
    pub bucket: Option<crate::bucket::Bucket>,
    /// Combine the extracts of every bucket of the run (made with --bucket) into one: the
    /// tables' CSV files concatenated in bucket order, reconciled with the run.
    #[arg(long, value_name = "DIR", num_args = 1..)]
    pub parts: Vec<PathBuf>,
    /// Customers per range: the tables are built and written a range of customer ids at a time,
    /// so memory holds one range's rows.
    #[arg(long, default_value_t = crate::extract::RANGE_ROWS as u64, value_name = "N",
          value_parser = clap::value_parser!(u64).range(MIN_PARTITION_ROWS..))]
    pub partition_rows: u64,
    /// Output folder; replaced as a whole when the extract succeeds.
    #[arg(long, default_value = "extract_out", value_name = "DIR")]
    pub out: PathBuf,
}

/// Flags of `compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The model in force.
    #[arg(long, value_name = "FILE")]
    pub baseline: PathBuf,
    /// A candidate model (repeatable).
    #[arg(long, value_name = "FILE")]
    pub candidate: Vec<PathBuf>,
    /// A folder of candidate models (every *.toml in it).
    #[arg(long, value_name = "DIR")]
    pub candidates: Option<PathBuf>,
    /// A grid of weight moves generating candidates from the baseline (docs/compare.md).
    #[arg(long, value_name = "FILE")]
    pub grid: Option<PathBuf>,
    /// Compute the features from this portfolio folder.
    #[arg(long, value_name = "DIR", conflicts_with = "features")]
    pub data: Option<PathBuf>,
    /// Read the features from an earlier `assess --keep-features` (its features.parquet).
    #[arg(long, value_name = "FILE")]
    pub features: Option<PathBuf>,
    /// Folder with the reference tables (with --data). Default: data/reference where it
    /// exists, else the built-in tables.
    #[arg(long, value_name = "DIR")]
    pub reference: Option<PathBuf>,
    /// The assessment date (YYYY-MM-DD). Default: today.
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
    /// Grade names of candidates mapped to the baseline's, as CANDIDATE_GRADE=BASELINE_GRADE
    /// (repeatable); without it, grades of other names are compared by rank.
    #[arg(long, value_name = "A=B")]
    pub grade_map: Vec<String>,
    /// Write the changed-customer lists: for every candidate (all) or none.
    #[arg(long, default_value = "all", value_parser = ["all", "none"])]
    pub changed_lists: String,
    /// Output folder; replaced as a whole when the run succeeds.
    #[arg(long, default_value = "compare_out", value_name = "DIR")]
    pub out: PathBuf,
    /// Customers per range when features are computed from --data.
    #[arg(long, default_value_t = PARTITION_ROWS, value_name = "N",
          value_parser = clap::value_parser!(u64).range(MIN_PARTITION_ROWS..))]
    pub partition_rows: u64,
    /// The language of the pages (report.html, compare.html, monitor.html). Default: the
    /// model's `[model] language`, else en.
    #[arg(long, value_enum)]
    pub lang: Option<crate::report::lang::Lang>,
}

/// Flags of `retention`.
#[derive(Debug, Args)]
pub struct RetentionArgs {
    /// The assessment run.
    #[arg(long, value_name = "DIR")]
    pub run: PathBuf,
    /// Years records are kept after the relationship ends (L-CDD44: at least 10).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(10..=100))]
    pub years: u32,
}

/// Flags of `verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The run folder (written by `riskgrade assess`).
    #[arg(long, value_name = "DIR")]
    pub run: PathBuf,
}

/// Where the inputs are.
#[derive(Debug, Args, Clone)]
pub struct Inputs {
    /// Folder with customers.parquet, accounts.parquet, transactions.parquet, reports.parquet
    /// and optionally grades.parquet, events.parquet, overrides.parquet, grade_history.parquet
    /// (docs/data-contract.md).
    #[arg(long, default_value = "data/sample", value_name = "DIR")]
    pub data: PathBuf,
    /// The risk model file (TOML; see docs/model.md). Default: data/models/default.toml where
    /// it exists, else the default model built into riskgrade.
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// Folder with the reference tables (countries, FATF lists, regions, industries, branches,
    /// working-day calendars). Default: data/reference where it exists, else the tables built
    /// into riskgrade.
    #[arg(long, value_name = "DIR")]
    pub reference: Option<PathBuf>,
}

/// Flags of `assess`.
#[derive(Debug, Args)]
pub struct AssessArgs {
    #[command(flatten)]
    /// The data, model and reference tables.
    pub inputs: Inputs,
    /// The assessment date (YYYY-MM-DD): the look-back window ends on it. Default: today.
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
    /// Output folder; replaced as a whole when the run succeeds.
    #[arg(long, default_value = "out", value_name = "DIR")]
    pub out: PathBuf,
    /// Also list customers whose periodic review (T2, T3) falls due within this many days.
    #[arg(long, default_value_t = 0, value_name = "DAYS",
          value_parser = clap::value_parser!(u32).range(0..=MAX_HORIZON_DAYS as i64))]
    pub horizon: u32,
    /// Customers per range when features are computed range by range (bounded memory). Files
    /// clustered by customer id, as core-banking extracts usually are, are read only where a
    /// range lies; for unsorted files a larger value means fewer passes over the transactions.
    #[arg(long, default_value_t = PARTITION_ROWS, value_name = "N",
          value_parser = clap::value_parser!(u64).range(MIN_PARTITION_ROWS..))]
    pub partition_rows: u64,
    /// Print wall time, CPU time and peak memory of each stage.
    #[arg(long)]
    pub timings: bool,
    /// Also write features.parquet: every catalogue feature of every customer, with the grade
    /// on file and last review, for `riskgrade compare --features` and `riskgrade explain`.
    #[arg(long)]
    pub keep_features: bool,
    /// The links table of the whole book (`riskgrade links`): shared IP addresses, devices,
    /// phones and proxies are counted over the book, not over --data alone (one bucket of it).
    #[arg(long, value_name = "FILE")]
    pub links: Option<PathBuf>,
    /// --data is bucket K of N: every customer id must satisfy
    /// pmod(xxhash64(customer_id), N) = K (docs/scale-out.md). Recorded for `riskgrade merge`.
    #[arg(long, value_name = "K/N", requires = "links")]
    pub bucket: Option<crate::bucket::Bucket>,
    /// The beneficial-owners table of the whole book (`riskgrade owners`): a bucket's entities
    /// may be owned through entities of other buckets, so the graph is solved once for the
    /// book and each bucket reads its customers' rows. Without it, the book's own
    /// ownership.parquet (if any) is solved here.
    #[arg(long, value_name = "FILE")]
    pub owners: Option<PathBuf>,
    /// The language of the pages (report.html, compare.html, monitor.html). Default: the
    /// model's `[model] language`, else en.
    #[arg(long, value_enum)]
    pub lang: Option<crate::report::lang::Lang>,
}

/// Flags of `links`.
#[derive(Debug, Args)]
pub struct LinksArgs {
    #[command(flatten)]
    /// The data, model and reference tables.
    pub inputs: Inputs,
    /// The assessment date (YYYY-MM-DD): the look-back window ends on it. Default: today.
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
    /// The Parquet file to write (replaced when the command succeeds).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// Flags of `owners`.
#[derive(Debug, Args)]
pub struct OwnersArgs {
    #[command(flatten)]
    /// The data, model and reference tables.
    pub inputs: Inputs,
    /// The assessment date (YYYY-MM-DD): edges live on it count. Default: today.
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
    /// The Parquet file to write (replaced when the command succeeds).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// Flags of `monitor`.
#[derive(Debug, Args)]
pub struct MonitorArgs {
    /// The run folders (`assess` or `merge`), any order: at least two, each at its own as-of
    /// date.
    #[arg(long, value_name = "DIR", num_args = 1.., required = true)]
    pub runs: Vec<PathBuf>,
    /// A portfolio folder whose reports.parquet and customers.parquet hold what happened after
    /// the runs. Default: the latest run's own input files (checked against its manifest).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// The last day the reports observe. Default: the latest run's as-of date.
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub observed_to: Option<NaiveDate>,
    /// Months after each as-of date within which a suspicious-transaction report counts.
    #[arg(long, value_name = "MONTHS", default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=120))]
    pub horizon_months: u32,
    /// The folder to write monitor.json, monitor.csv and monitor.html into (replaced when
    /// the command succeeds).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The language of the pages (report.html, compare.html, monitor.html). Default: the
    /// model's `[model] language`, else en.
    #[arg(long, value_enum)]
    pub lang: Option<crate::report::lang::Lang>,
}

/// Flags of `merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The bucket runs (folders written by `assess --bucket K/N --links FILE`).
    #[arg(long, value_name = "DIR", num_args = 1.., required = true)]
    pub runs: Vec<PathBuf>,
    /// The model the runs were made with. Default: data/models/default.toml where it exists,
    /// else the built-in default model.
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// The reference tables the runs were made with (checked against each run's), recorded as
    /// the merged run's. Default: data/reference where it exists, else the built-in tables.
    #[arg(long, value_name = "DIR")]
    pub reference: Option<PathBuf>,
    /// Concatenate the buckets' per-customer files into single files sorted as one `assess`
    /// sorts them (for books that fit on this machine); without it they become datasets, a
    /// folder of one part per bucket (scores.parquet/part-00003.parquet), linked, not read.
    #[arg(long)]
    pub single_file: bool,
    /// Buckets that hold no customer and so have no run (comma-separated indices).
    #[arg(long, value_name = "K,...", value_delimiter = ',')]
    pub empty_buckets: Vec<u32>,
    /// Output folder; replaced as a whole when the merge succeeds.
    #[arg(long, default_value = "out", value_name = "DIR")]
    pub out: PathBuf,
    /// The language of the pages (report.html, compare.html, monitor.html). Default: the
    /// model's `[model] language`, else en.
    #[arg(long, value_enum)]
    pub lang: Option<crate::report::lang::Lang>,
}

/// Flags of `validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The risk model file to check. Default: data/models/default.toml where it exists, else
    /// the built-in default model.
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// Also check this portfolio folder against the data contract.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Also check the reference tables in this folder.
    #[arg(long, value_name = "DIR")]
    pub reference: Option<PathBuf>,
    /// The assessment date the data is checked for (dates after it are refused). Default: today.
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
}

/// Flags of `generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Number of customers (at least 1).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub customers: u64,
    /// Random seed: the same seed gives byte-identical files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The date the portfolio is observed; transactions cover the year before it.
    #[arg(long, value_name = "DATE", value_parser = parse_date, default_value = "2026-10-31")]
    pub as_of: NaiveDate,
    /// Output folder (created if needed; the generated files in it are replaced).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Only the customers and their ownership graph (the other files empty): the same
    /// customers and graph as the whole book, for benchmarks of `riskgrade owners`.
    #[arg(long)]
    pub graph_only: bool,
}

/// Longest `--horizon`: ten years of days (a review horizon beyond that is a typing error).
pub const MAX_HORIZON_DAYS: u32 = 3_660;
/// Default `--partition-rows`: customers per range when features are computed range by range.
pub const PARTITION_ROWS: u64 = 500_000;
/// Smallest `--partition-rows`: below it the per-range overhead dominates.
pub const MIN_PARTITION_ROWS: u64 = 1_000;

/// Parses a YYYY-MM-DD date.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("'{s}' is not a date; write YYYY-MM-DD"))
}
