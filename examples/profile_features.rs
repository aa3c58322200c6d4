//! Prints Polars' per-node profile of the feature query (where the time goes).
//! usage: cargo run --release --example profile_features -- DATA_DIR AS_OF

use polars::prelude::*;
use riskgrade::features::{self, Ctx};
use riskgrade::model::Model;
use riskgrade::reference::Reference;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    riskgrade::alloc::tune_memory();
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().expect("DATA_DIR"));
    let as_of =
        chrono::NaiveDate::parse_from_str(&args.next().expect("AS_OF"), "%Y-%m-%d").unwrap();
    let model = Model::load(std::path::Path::new("data/models/default.toml")).unwrap();
    let reference = Reference::load(std::path::Path::new("data/reference"), as_of).unwrap();
    let ctx = Ctx {
        params: &model.params,
        reference: &reference,
        as_of,
        links: None,
        owners: None,
        fused: true,
    };
    let inputs = riskgrade::inputs::Inputs::open(&dir).unwrap();
    let (_, profile) = features::first_range_plan(&inputs, ctx, 500_000)
        .unwrap()
        .profile()
        .unwrap();
    std::env::set_var("POLARS_FMT_MAX_ROWS", "200");
    std::env::set_var("POLARS_FMT_STR_LEN", "80");
    let p = profile
        .lazy()
        .with_column((col("end") - col("start")).alias("us"))
        .sort(
            ["us"],
            SortMultipleOptions::default().with_order_descending(true),
        )
        .collect()
        .unwrap();
    println!("{p}");
}
