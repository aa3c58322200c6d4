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
    "ed01a195dd134f39bbb10d2489b48e62136763ff39566b606fd9f6069f5a575e", // scores.parquet
    "b96bdf608dc8f3e5cff7842b230f0cbd34210e75508f9847a0890284c278506a", // distribution.csv
    "3b9b2019a93473fd7726d47634137ce9301a4ee231907c356d6cd0207d8ce344", // summary.json
    "5f6ed3dcf8d32800e6c8c605d09108e6c9c1af111ead4896e7a99b17bee9b88e", // reclassify.parquet
    "40722cec9225f0e0df18602482431bd0c43e8e72a49b88c5d62bbbc6408e81e9", // reclassify.csv
    "59329e8888afb88948d89753742aa72d5b1799e02a25b09c5a50f6642f2ea820", // grades_next.parquet
    "fc34b682d8b2948787e46e9e3d24f4e15ffda7393753baebda4087993f13bddd", // grade_history.parquet
];
const GENERATED_INPUTS: &[&str] = &[
    "e5a4797380411dcbdf02e4469c42934d43b729162c8cc106b18b81b3db21edfd", // customers.parquet
    "8ba09039fc5d24601922ec4f8ddc9c6ae6f44b972ef9a26eaf9dd4c648dea5bc", // accounts.parquet
    "4d3c20365b9c7730af772c97d00f5e50210e1d38972a9d5df309cccd6af7b73e", // transactions.parquet
    "586190e1ae05d6ca6afc4a8fb4aa3eda581147cc765f1f691aa50c528ccc4ae7", // reports.parquet
    "7cebc7d4ea04eb53f762559feb5e502f6b999eaf316b9c1f4a9367a62b54159d", // grades.parquet
    "2392bb9b03aa9ba8b3b7d03622b0c84716a50c18dbe4a4261829363983bb6797", // events.parquet
    "58f54167f4fa6f7690f060e7af8269cb77031667c2212e3e604aa44ec28f4176", // overrides.parquet
];
const GENERATED: &[&str] = &[
    "9c84c0cd1488ebf232f476cb8e1625680fa7e11f82812eb286ce7fba3798a9de", // scores.parquet
    "49f524d1a107cbf5bda37f3345ad9d182a9e487dd1e6b9658c43d3e2b67a5706", // distribution.csv
    "c1cd03f55de868b9dbecdc94e52bb80cdcd914aeb368c7c41a0feca4ecaafa50", // summary.json
    "386738c7e262942e105db4cd93a24fa4fd3b58f08430add4b0d515622c4ca4a0", // reclassify.parquet
    "fdda8d132b2cdfa14e52ed2bfa1f6654460f0beb7062613eef47225410404647", // reclassify.csv
    "c8b978e2b187719f9604732906147fcac4c3b5e517f7f7059e9652e8c7b19f4b", // grades_next.parquet
    "9a79e5cd8c08a1372a915210ec988d2f0fbf20a3a11c20b7b92a4f6fb43ec625", // grade_history.parquet
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
