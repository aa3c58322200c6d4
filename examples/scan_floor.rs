//! The bare-scan floor of `riskgrade assess`: the time Polars needs just to read the columns the
//! job uses (transactions of the look-back window included), with nothing computed.
//! usage: cargo run --release --example scan_floor -- DATA_DIR

use std::time::Instant;

use polars::prelude::*;
use riskgrade::contract;
use riskgrade::inputs::scan;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    riskgrade::alloc::tune_memory();
    let dir =
        std::path::PathBuf::from(std::env::args().nth(1).expect("usage: scan_floor DATA_DIR"));
    let t = Instant::now();
    let mut rows = 0;
    for spec in contract::FILES {
        if !dir.join(spec.file).exists() {
            continue;
        }
        let cols: Vec<Expr> = spec
            .columns
            .iter()
            .filter(|c| {
                !matches!(
                    c.name,
                    "customer_name"
                        | "id_number"
                        | "txn_id"
                        | "account_id"
                        | "counterparty_id"
                        | "report_id"
                )
            })
            .map(|c| col(c.name))
            .collect();
        let df = scan(&dir, spec).unwrap().select(cols).collect().unwrap();
        rows += df.height();
    }
    println!(
        "scan floor: {rows} rows read in {:.2}s",
        t.elapsed().as_secs_f64()
    );
}
