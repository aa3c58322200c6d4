//! The structure the code promises: the production feature path gives exactly the catalogue,
//! every column a run writes is a name a sub-item id may not take, and modules read only the
//! modules listed above them in `lib.rs` (the pipeline order).

mod common;

use std::process::Command;

use common::repo;
use polars::prelude::*;
use riskgrade::catalog::{is_reserved, Kind, CATALOG};
use riskgrade::features::{self, Ctx, CARRIED};
use riskgrade::inputs::Inputs;
use riskgrade::model::Model;
use riskgrade::reference::Reference;

#[test]
fn feature_frame_is_the_catalogue_in_order() {
    let as_of = chrono::NaiveDate::from_ymd_opt(2026, 10, 31).unwrap();
    let model = Model::load(&repo("data/models/default.toml")).unwrap();
    let reference = Reference::load(&repo("data/reference"), as_of).unwrap();
    let inputs = Inputs::open(&repo("data/sample")).unwrap();
    let ctx = Ctx {
        params: &model.params,
        reference: &reference,
        as_of,
        links: None,
        owners: None,
        fused: true,
    };
    let df = features::build_partitioned(
        &inputs,
        ctx,
        1_000,
        &riskgrade::progress::Progress::new(true),
        None,
    )
    .unwrap()
    .0;
    assert_eq!(df.height(), 3000);
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let want: Vec<String> = CARRIED
        .iter()
        .map(|s| s.to_string())
        .chain(CATALOG.iter().map(|f| f.name.to_string()))
        .collect();
    assert_eq!(names, want);
    for f in CATALOG {
        let dt = df.column(f.name).unwrap().dtype().clone();
        let ok = match f.kind {
            Kind::Num => dt.is_primitive_numeric(),
            // A closed list is held as an Enum of exactly its values, an open set as text.
            Kind::Cat([]) => dt == DataType::String,
            Kind::Cat(values) => match &dt {
                DataType::Enum(cats, _) => {
                    let mut want: Vec<&str> = values.to_vec();
                    want.sort_unstable();
                    cats.categories().values_iter().eq(want)
                }
                _ => false,
            },
            Kind::Bool => dt == DataType::Boolean,
        };
        assert!(ok, "{}: {dt}", f.name);
    }
}

#[test]
fn every_output_column_is_reserved_or_a_subitem() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_riskgrade"))
        .args(["assess", "-q", "--as-of", "2026-10-31", "--out"])
        .arg(&out)
        .current_dir(repo(""))
        .output()
        .unwrap();
    assert!(o.status.success());
    let model = Model::load(&repo("data/models/default.toml")).unwrap();
    for f in std::fs::read_dir(&out).unwrap() {
        let p = f.unwrap().path();
        if p.extension().is_none_or(|e| e != "parquet") {
            continue;
        }
        let df = LazyFrame::scan_parquet(PlRefPath::from(p.to_str().unwrap()), Default::default())
            .unwrap()
            .limit(1)
            .collect()
            .unwrap();
        for c in df.get_column_names() {
            let c = c.as_str();
            assert!(
                is_reserved(c) || model.subitems.iter().any(|s| s.id == c),
                "{}: column {c} is neither reserved nor a sub-item",
                p.display()
            );
        }
    }
}

/// Each module reads only modules listed above it in lib.rs (cmd, cli and the support modules
/// at the end excepted: they serve every stage).
#[test]
fn imports_flow_one_way() {
    let lib = std::fs::read_to_string(repo("src/lib.rs")).unwrap();
    let order: Vec<String> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod "))
        .map(|m| m.trim_end_matches(';').to_string())
        .collect();
    let support = [
        "alloc", "console", "dates", "error", "frame", "generate", "layout", "progress", "rng",
        "cli", "cmd",
    ];
    for (i, m) in order.iter().enumerate() {
        if support.contains(&m.as_str()) {
            continue;
        }
        let files: Vec<std::path::PathBuf> = {
            let dir = repo(&format!("src/{m}"));
            if dir.is_dir() {
                std::fs::read_dir(dir)
                    .unwrap()
                    .map(|e| e.unwrap().path())
                    .collect()
            } else {
                vec![repo(&format!("src/{m}.rs"))]
            }
        };
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for (j, other) in order.iter().enumerate() {
                if j > i
                    && !support.contains(&other.as_str())
                    && text.contains(&format!("crate::{other}"))
                {
                    panic!("{} reads crate::{other}, listed after {m}", f.display());
                }
            }
        }
    }
}

/// Every `.rs` file under `dir`.
fn sources(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(sources(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out
}

/// `src/run_folder.rs` is the only code that knows the names of the files of an output folder
/// and reads or writes a manifest: every other module asks it (names, `RunFolder`,
/// `Manifest`), so a reader cannot reach a file without its check against the manifest.
#[test]
fn only_run_folder_knows_output_files_and_manifests() {
    let owned = [
        "\"scores.parquet\"",
        "\"distribution.csv\"",
        "\"summary.json\"",
        "\"reclassify.parquet\"",
        "\"reclassify.csv\"",
        "\"grades_next.parquet\"",
        "\"grade_history.parquet\"",
        "\"report.html\"",
        "\"features.parquet\"",
        "\"manifest.json\"",
        "\".riskgrade\"",
        "\"control.json\"",
        "\"control.csv\"",
        "\"compare.json\"",
        "\"compare.csv\"",
        "\"outputs\"",
        "Manifest::read(",
        "MARKER",
    ];
    for f in sources(&repo("src")) {
        if f.ends_with("src/run_folder.rs") {
            continue;
        }
        let mut text = std::fs::read_to_string(&f).unwrap();
        if f.ends_with("src/contract.rs") {
            // The data contract's input history has the name of the run's history output.
            text = text.replace("\"grade_history.parquet\"", "");
        }
        for name in owned {
            assert!(
                !text.contains(name),
                "{} names {name}: ask run_folder",
                f.display()
            );
        }
    }
}
