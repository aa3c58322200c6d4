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
    "17c73d94e9df6f9469c118cb64966d2049151de0a11981908d787b421c974073", // scores.parquet
    "38902bee401dd18fd2bebb2d60df4d2bfbf7176315cfceb01b58eef9b2709bdc", // distribution.csv
    "813a2f30d9845332d254a9ae85bf1c21030f9e6a060f4eac2e0f08231261b72b", // summary.json
    "5844071c5548335c08cd8fb63ca362b4bfec047eec761ec1e9ac3a1568b37a27", // reclassify.parquet
    "e264e39de79c82c22c0239ef78ad73da5e3c105b3abc1fde2047df74835dbdd0", // reclassify.csv
    "80fb3c706302570a0389cede02f4aaa5e7ae11f7f25f0e562b5db1565a5e71f2", // grades_next.parquet
    "c1c1829143d45df6bb1059360ff214d70d42a9f38b36773f72c9b5c6fb2287f4", // grade_history.parquet
];
const GENERATED_INPUTS: &[&str] = &[
    "06bd5e1be0be0f3469a67dca03285ae05bd075d939e193da2ed4e46c291e4d7a", // customers.parquet
    "8ba09039fc5d24601922ec4f8ddc9c6ae6f44b972ef9a26eaf9dd4c648dea5bc", // accounts.parquet
    "4d3c20365b9c7730af772c97d00f5e50210e1d38972a9d5df309cccd6af7b73e", // transactions.parquet
    "586190e1ae05d6ca6afc4a8fb4aa3eda581147cc765f1f691aa50c528ccc4ae7", // reports.parquet
    "7cebc7d4ea04eb53f762559feb5e502f6b999eaf316b9c1f4a9367a62b54159d", // grades.parquet
    "d9ad4bcb3d00c146b1d56faffc6331bb0b6a74d3e8e2da0a3e2f444312de541d", // events.parquet
    "58f54167f4fa6f7690f060e7af8269cb77031667c2212e3e604aa44ec28f4176", // overrides.parquet
];
const GENERATED: &[&str] = &[
    "faa3f6bcb4371f24fcc3941b631caa561f70ba7b1b0bc3cdb1b70147156c55bd", // scores.parquet
    "812436a844c5eef0ea02bc6b6918f93fd46175e931df3e31a342f88a86adec65", // distribution.csv
    "0e75110f4514a79303f18b531f9a037f562de21b7daf8d77f35175777d6a0e10", // summary.json
    "79a49bb40dc2268a8a9f9cad9fbf0483d13034e68fd8841c83ffb6e4709aba77", // reclassify.parquet
    "e236a0d9a52cf20a7622c4f0c2a97c51f65a1b99e9ce490df13b1e960820581a", // reclassify.csv
    "f417c3678018763964ec0e5f0bef87e0191d3f9bbfc85941f7a066f3c972dc22", // grades_next.parquet
    "1732ded07bbc9f1f19f42f430d5286f0c77db3bbe89df08d5cea705cc9bf77ff", // grade_history.parquet
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
