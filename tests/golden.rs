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
    "beneficial_owners.parquet",
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
    "ownership.parquet",
    "persons.parquet",
];

const SAMPLE: &[&str] = &[
    "79ecfb2fb4954e802c997026a5394e6d0360178cb5ba4df87a2141f3f1be889f", // scores.parquet
    "d775f5974471a901a4e10d59eb7d3bc1748639a57db0bad1087b497d7213bdd9", // distribution.csv
    "2ec7d6ac6efa055d7dbc7cd766e1b4e0d4172a8a5bfdf262df134a3f76da8e01", // summary.json
    "1208c39e13fcfde14e2abbcb057652786f341edb587b98c2a411c1dbf0c18e8c", // reclassify.parquet
    "aede47c2d407cb56c8778fab640af30e259214271a485fecf25a132aaa1ca73c", // reclassify.csv
    "c772e3478c4bb5732e44e3064daf8bf454d0dec35fa1e80c7c0640b35c6d9bb6", // grades_next.parquet
    "e11cb5762b2c6a89c3a39bd27fc2d9b1302c70085a353487596a889cde55302a", // grade_history.parquet
    "aa31cb1feb99f35d9a0c86dc3bf3348088550282da700b698649d59c61dfea6e", // beneficial_owners.parquet
];
const GENERATED_INPUTS: &[&str] = &[
    "06bd5e1be0be0f3469a67dca03285ae05bd075d939e193da2ed4e46c291e4d7a", // customers.parquet
    "8ba09039fc5d24601922ec4f8ddc9c6ae6f44b972ef9a26eaf9dd4c648dea5bc", // accounts.parquet
    "4d3c20365b9c7730af772c97d00f5e50210e1d38972a9d5df309cccd6af7b73e", // transactions.parquet
    "586190e1ae05d6ca6afc4a8fb4aa3eda581147cc765f1f691aa50c528ccc4ae7", // reports.parquet
    "7cebc7d4ea04eb53f762559feb5e502f6b999eaf316b9c1f4a9367a62b54159d", // grades.parquet
    "d9ad4bcb3d00c146b1d56faffc6331bb0b6a74d3e8e2da0a3e2f444312de541d", // events.parquet
    "58f54167f4fa6f7690f060e7af8269cb77031667c2212e3e604aa44ec28f4176", // overrides.parquet
    "c4adabc25a2a7836f8f7ec7612724bfc91d5b812aa4a0192e82dce7f686c12e9", // ownership.parquet
    "2a07ac37965b35937f1fd6fe800101cb1bab940760de6f5429ba36843fb23242", // persons.parquet
];
const GENERATED: &[&str] = &[
    "900c288937d6b61532947f6634baa3fca69929d6875dd5ddbc666817cc36da38", // scores.parquet
    "82cce8bf1f5ca14b97250790fa6e9eda50e7427c85b55d2668fcaa6b4355f92d", // distribution.csv
    "863de4b0318b3a6f417971ed1efcb75b1351e43c34c62f696575e39bf4c543a7", // summary.json
    "ae088f4c69f88df90153ba3b0dc143ac3ac03e715f62ba26f90da6d7df3ba4a9", // reclassify.parquet
    "307ac2da99000a2aa508ebbfad99f27d4e89ed2cb45e252b60fe9a3f4e9d1268", // reclassify.csv
    "38105f99ed5001d49c3c9e77bdadf89103eac3e9f2af9a4d3affde3a19403d4d", // grades_next.parquet
    "cbb2db0c11ba1e53b0d93ba4f859c966a900eef7ff563601c82c2dbee4b693d0", // grade_history.parquet
    "3ddfb5c9ce2356244935c83f10a63c862dbff7e2faf058b4ae6aa5158edbad4f", // beneficial_owners.parquet
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
