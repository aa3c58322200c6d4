//! riskgrade: grades every customer of a financial institution for money-laundering and
//! terrorist-financing risk under the PBoC guideline on risk assessment and customer
//! classification. Data flows one way: input loading (`contract`, `validate`) → features
//! (`features`, `catalog`, `reference`) → scores and grades (`model`, `scoring`) → outputs
//! (`report`, `io`). `cmd` holds one module per subcommand.

pub mod alloc;
pub mod calendar;
pub mod catalog;
pub mod cli;
pub mod cmd;
pub mod contract;
pub mod dates;
pub mod error;
pub mod expr;
pub mod features;
pub mod generate;
pub mod io;
pub mod model;
pub mod progress;
pub mod reference;
pub mod report;
pub mod review;
pub mod rng;
pub mod scoring;
pub mod validate;
