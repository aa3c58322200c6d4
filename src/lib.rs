//! riskgrade: grades every customer of a financial institution for money-laundering and
//! terrorist-financing risk under the PBoC guideline on risk assessment and customer
//! classification. The modules are listed in the order data flows through them; each reads
//! only modules listed above it (see docs/architecture.md).

// Inputs: the data contract, the portfolio's files opened once, their validation, and the
// reference tables (countries, FATF lists, regions, industries, branches, working days).
pub mod contract;
pub mod inputs;
pub mod validate;
pub mod bucket;
pub mod reference;
pub mod calendar;

// Beneficial owners from the ownership graph (L-BOI6, S1.5, XH3).
pub mod owners;

// Features: the catalogue of what a rule may read, and its derivation (E1–E4).
pub mod catalog;
pub mod features;

// The risk model and scoring: expressions, the model file, sub-item scores, totals, grades
// and exceptions (W1–W5, XH, XL, M2, PR3).
pub mod expr;
pub mod model;
pub mod scoring;

// Reclassification and review scheduling (P4, T1–T4, PR4).
pub mod review;

// Outputs: reports, files written atomically, the output folders and their manifests, and
// the guard every output passes.
pub mod report;
pub mod io;
pub mod run_folder;
pub mod guard;

// Weight benchmarking: candidate models against the baseline over the whole book.
pub mod compare;

// Regulator extracts: the PBoC inspection tables of customer grades.
pub mod extract;

// A customer's rating sheet.
pub mod explain;

// Monitoring of the model across runs: stability, migration, back-test, process health.
pub mod monitor;

// Commands: flags, and one module per subcommand.
pub mod cli;
pub mod cmd;

// Support used throughout: errors, dates, progress, memory, the synthetic portfolio.
pub mod alloc;
pub mod console;
pub mod dates;
pub mod error;
pub mod frame;
pub mod layout;
pub mod generate;
pub mod progress;
pub mod rng;
