//! The documentation states the same contract and features as the code.

mod common;

use common::repo;
use riskgrade::catalog::{Kind, CATALOG};
use riskgrade::contract::FILES;

#[test]
fn data_contract_doc_lists_every_column_with_its_type() {
    let doc = std::fs::read_to_string(repo("docs/data-contract.md")).unwrap();
    for spec in FILES {
        assert!(doc.contains(&format!("## {}", spec.file)), "{}", spec.file);
        for c in spec.columns {
            let row = format!(
                "| `{}` | {} | {} |",
                c.name,
                c.ty.name(),
                if c.nullable { "yes" } else { "no" }
            );
            assert!(doc.contains(&row), "{} {row}", spec.file);
        }
    }
}

#[test]
fn model_doc_lists_every_feature() {
    let doc = std::fs::read_to_string(repo("docs/model.md")).unwrap();
    for f in CATALOG {
        let kind = match f.kind {
            Kind::Num => "number",
            Kind::Bool => "bool",
            Kind::Cat(_) => "category",
        };
        let row = format!("| `{}` | {kind}", f.name);
        let line = doc
            .lines()
            .find(|l| l.starts_with(&row))
            .unwrap_or_else(|| panic!("{}", f.name));
        // PR3: the "applies to" column states the customers the feature describes.
        let applies = line.split('|').nth(3).unwrap_or("").trim();
        assert_eq!(applies, f.applies.label(), "{}", f.name);
    }
}

#[test]
fn readme_opens_with_the_run_and_test_commands() {
    let readme = std::fs::read_to_string(repo("README.md")).unwrap();
    let run = readme.find("cargo run --release -- assess").unwrap();
    let test = readme.find("\ntests/run.sh\n").unwrap();
    assert!(run < test && test < 1200);
    // CI runs exactly the README's test command, and it runs the whole suite in release.
    let ci = std::fs::read_to_string(repo(".ci/run")).unwrap();
    assert!(ci.lines().any(|l| l.trim() == "tests/run.sh"));
    let script = std::fs::read_to_string(repo("tests/run.sh")).unwrap();
    assert!(script
        .lines()
        .any(|l| l.trim() == "exec cargo test --release \"$@\""));
}
