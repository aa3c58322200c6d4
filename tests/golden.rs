//! The golden outputs: the bundled sample and a fixed-seed generated portfolio, assessed with
//! the default model, give outputs whose SHA-256 are pinned here. A change that moves one byte
//! of any output fails this test. Update the pins only in a commit that means to change the
//! output, and say why in it (`GOLDEN_PRINT=1 cargo test --release --test golden -- --nocapture`
//! prints the current hashes).

mod common;

use std::path::Path;
use std::process::Command;

use common::repo;
use riskgrade::io::sha256_file;

/// The outputs pinned (manifest.json carries timestamps and paths, so it is not).
const OUTPUTS: &[&str] = &[
    "scores.parquet",
    "distribution.csv",
    "summary.json",
    "reclassify.parquet",
    "reclassify.csv",
    "grades_next.parquet",
    "grade_history.parquet",
];

fn assess(data: &Path, out: &Path) {
    let o = Command::new(env!("CARGO_BIN_EXE_riskgrade"))
        .args([
            "assess",
            "-q",
            "--as-of",
            "2026-10-31",
            "--horizon",
            "30",
            "--data",
        ])
        .arg(data)
        .arg("--out")
        .arg(out)
        .arg("--model")
        .arg(repo("data/models/default.toml"))
        .arg("--reference")
        .arg(repo("data/reference"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn check(name: &str, dir: &Path, files: &[&str], pins: &[&str]) {
    let got: Vec<String> = files
        .iter()
        .map(|f| sha256_file(&dir.join(f)).unwrap())
        .collect();
    if std::env::var("GOLDEN_PRINT").is_ok() {
        println!("{name}:");
        for (f, h) in files.iter().zip(&got) {
            println!("    \"{h}\", // {f}");
        }
    }
    assert_eq!(pins.len(), files.len(), "{name}: one pin per file");
    for ((f, g), p) in files.iter().zip(&got).zip(pins) {
        assert_eq!(g, p, "{name}: {f} changed");
    }
}

#[test]
fn golden_outputs_of_the_sample() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    assess(&repo("data/sample"), &out);
    check("sample", &out, OUTPUTS, SAMPLE);
}

#[test]
fn golden_generated_portfolio_and_its_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let o = Command::new(env!("CARGO_BIN_EXE_riskgrade"))
        .args([
            "generate",
            "-q",
            "--customers",
            "30000",
            "--seed",
            "42",
            "--out",
        ])
        .arg(&data)
        .output()
        .unwrap();
    assert!(o.status.success());
    check("generated inputs", &data, INPUTS, GENERATED_INPUTS);
    let out = tmp.path().join("out");
    assess(&data, &out);
    check("generated outputs", &out, OUTPUTS, GENERATED);
}

const INPUTS: &[&str] = &[
    "customers.parquet",
    "accounts.parquet",
    "transactions.parquet",
    "reports.parquet",
    "grades.parquet",
    "events.parquet",
    "overrides.parquet",
];

const SAMPLE: &[&str] = &[
    "e1be98cd9096fe59a525555d5e3bba68de7290b61d34b47b8ae2c50af0c17431", // scores.parquet
    "e0fa6a47462a051b76802f44631d98928457ac154506a2741c5de52598bc131a", // distribution.csv
    "f612091c0b396568a6ce32a00680e598b57b4c13bd4b0cae69a1715fa1738ad2", // summary.json
    "e3a4b9317ef69ad84c6456cfb389e8b9bcd41e36d3866ec1c4a3f5505aac16d2", // reclassify.parquet
    "b7675649fa1fcb53a07b7f6cbcea2c9735cc03931369bc157aae53636d2c4cbf", // reclassify.csv
    "ad07d00be273929b86386c95ee28198ed2d62031fb36ad3ed22a284a62ae7fa4", // grades_next.parquet
    "906e81da0e1f287ca06cdeb352371f1faf1d36a49649500e3031fd0c7dfcd32a", // grade_history.parquet
];
const GENERATED_INPUTS: &[&str] = &[
    "781d3fa99665adb5b7e2b02457c21ced76423ad73c12a6acbf2a53e0d5e7752b", // customers.parquet
    "b1a4a21337f0b9a65e4e386e580a3d1ef0b37bd1065d9dedf6cefd846de37696", // accounts.parquet
    "5c6bb57a68d3bd1d6563e876d83f3e9fea7b887f46123324ce23a79abdc93483", // transactions.parquet
    "b41cd63c61134ece566c87c3ac61e1fac5061e1ebc295b2feac6f4b4c5de7a7f", // reports.parquet
    "7d73f08cc45979049b154d1f8d0ae80e897934beace60e1182c62cb0b3960167", // grades.parquet
    "fffaa510425aba6f8daf453c8c37ad3c3833d4a41a2588c0028a410cd65e37b8", // events.parquet
    "6ae2a6d4c991b89be99521997e041a5aac8256359d1ee442fc349e2992846ae6", // overrides.parquet
];
const GENERATED: &[&str] = &[
    "400f758182ce8083977177d54780621aa4c6d16ff526819ac0d505f8347fe6b1", // scores.parquet
    "50e1aa419e0f97e7eaa623f3009b34b643a3e00488911bc1171fd8f100df2e56", // distribution.csv
    "981f047bb8830f4dff2bfea93be29731bbb0b546eff02a9b938f0d6700e411ce", // summary.json
    "8389f0a365f4735829055b0dc3b62b1a0f25b607b366340808a135f9b67719a5", // reclassify.parquet
    "24bb897addef698ddb69c039c8e42799c2a58e8665006fd333fda14259441210", // reclassify.csv
    "b78be544b854849b073608aec65fd0b84c9ff8b9e7d5d781a5476b2b76628ede", // grades_next.parquet
    "6e52f0db34ce1c8808e8eb9365307f69407bdbcb0a2d042b483cfcf002309873", // grade_history.parquet
];

/// The columns `scores.parquet` and `reclassify.parquet` had under the 2013 guideline alone.
const SCORES_2013: &[&str] = &[
    "customer_id",
    "institution_id",
    "branch_id",
    "kind",
    "segment",
    "s1_1",
    "s1_2",
    "s1_3",
    "s1_4",
    "s1_5",
    "s1_6",
    "s1_7",
    "s1_8",
    "s2_1",
    "s2_2",
    "s2_3",
    "s2_4",
    "s3_1",
    "s3_2",
    "s3_3",
    "s3_4",
    "s3_5",
    "s4_1",
    "s4_2",
    "s4_3",
    "weighted_sum",
    "total_score",
    "regional_coefficient",
    "adjusted_score",
    "scored_grade",
    "direct_highest",
    "direct_low_blocked_by",
    "computed_grade",
    "grade",
    "basis",
    "missing_subitems",
    "top_subitems",
];

/// The columns of `reclassify.parquet` under the 2013 guideline alone.
const RECLASSIFY_2013: &[&str] = &[
    "customer_id",
    "institution_id",
    "branch_id",
    "reasons",
    "due_date",
    "overdue",
    "grade_on_file",
    "computed_grade",
    "grade",
    "grade_steps",
    "basis",
    "direct_highest",
    "last_reviewed",
    "first_graded",
    "relationship_start",
    "events_since_review",
    "override_grade",
    "override_expires",
];

/// SHA-256 of a frame's columns `cols` written as Parquet the way riskgrade writes.
fn columns_sha256(path: &Path, cols: &[&str]) -> String {
    let df = common::read_parquet(path);
    let have: Vec<&str> = cols
        .iter()
        .copied()
        .filter(|c| df.column(c).is_ok())
        .collect();
    let mut df = df.select(have).unwrap();
    let tmp = tempfile::NamedTempFile::new().unwrap();
    riskgrade::io::write_parquet(&mut df, tmp.path()).unwrap();
    sha256_file(tmp.path()).unwrap()
}

/// An existing model that declares no rulebook beyond the 2013 guideline (the default model as
/// it was before the 2025-26 texts), on the sample as it was, grades every customer as it did:
/// every column `scores.parquet` had then, and the work list's, are unchanged (pinned from the
/// run before the 2026 rules were added). The 2026 rules add columns and reasons only where a
/// model declares them.
#[test]
fn golden_a_2013_model_grades_as_before() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_riskgrade"))
        .args([
            "assess",
            "-q",
            "--as-of",
            "2026-10-31",
            "--horizon",
            "30",
            "--data",
        ])
        .arg(repo("tests/data/sample-2013"))
        .arg("--out")
        .arg(&out)
        .arg("--model")
        .arg(repo("tests/models/guideline-2013.toml"))
        .arg("--reference")
        .arg(repo("data/reference"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let scores = columns_sha256(&out.join("scores.parquet"), SCORES_2013);
    let reclassify = columns_sha256(&out.join("reclassify.parquet"), RECLASSIFY_2013);
    if std::env::var("GOLDEN_PRINT").is_ok() {
        println!("2013: scores {scores} reclassify {reclassify}");
    }
    assert_eq!(scores, PIN_2013_SCORES, "the 2013 model's grades changed");
    assert_eq!(
        reclassify, PIN_2013_RECLASSIFY,
        "the 2013 model's work list changed"
    );
}

const PIN_2013_SCORES: &str = "b8ac3f9abd2fcbb1af36f35d5d16d8317706337807ef9f6e872eea74e406abfd";
const PIN_2013_RECLASSIFY: &str =
    "e3a4b9317ef69ad84c6456cfb389e8b9bcd41e36d3866ec1c4a3f5505aac16d2";
