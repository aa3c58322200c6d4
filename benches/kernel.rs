//! The scoring kernel: totals (W3), regional coefficients (M2) and grades (W4) from sub-item
//! scores, for 10M customers × 20 sub-items (the part a weight benchmark repeats per weight
//! vector). Run: `cargo bench --bench kernel`.

use polars::prelude::*;
use riskgrade::model::Model;
use riskgrade::rng::Rng;
use riskgrade::scoring::{totals_and_grades, SEGMENT};

/// The allocator and memory settings of the `riskgrade` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    riskgrade::alloc::tune_memory();
    divan::main();
}

const N: usize = 10_000_000;

fn model() -> Model {
    Model::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/models/default.toml"
    )))
    .unwrap()
}

fn scores(model: &Model) -> DataFrame {
    let mut rng = Rng::new(1, 1);
    let mut cols = vec![
        Column::new(
            SEGMENT.into(),
            (0..N)
                .map(|i| {
                    if i % 10 == 0 {
                        "non_natural"
                    } else {
                        "natural"
                    }
                })
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "branch_id".into(),
            (0..N)
                .map(|i| ["B001", "B008", "B009"][i % 3])
                .collect::<Vec<_>>(),
        ),
    ];
    for s in &model.subitems {
        let v: Vec<u8> = (0..N)
            .map(|_| 1 + (rng.next_u64() % model.m() as u64) as u8)
            .collect();
        cols.push(Column::new(s.id.as_str().into(), v));
    }
    DataFrame::new(N, cols).unwrap()
}

/// Totals and grades of 10M customers on `engine`.
fn kernel(bencher: divan::Bencher, engine: Engine) {
    let model = model();
    let df = scores(&model);
    assert_eq!(model.subitems.len(), 20);
    bencher.bench(|| {
        totals_and_grades(df.clone().lazy(), &model)
            .select([
                col("weighted_sum"),
                col("adjusted_score"),
                col("scored_grade"),
            ])
            .collect_with_engine(engine)
            .unwrap()
    });
}

/// The in-memory engine (materialises every intermediate column).
#[divan::bench(sample_count = 5)]
fn totals_and_grades_10m_x_20(bencher: divan::Bencher) {
    kernel(bencher, Engine::InMemory);
}

/// The streaming engine, as `assess` runs it.
#[divan::bench(sample_count = 5)]
fn totals_and_grades_10m_x_20_streaming(bencher: divan::Bencher) {
    kernel(bencher, Engine::Streaming);
}
