//! Every output passes one guard, and every reader checks the run it reads (M4, P6): no command
//! can destroy what it reads, a run edited since it was written is refused by every reader and
//! found by `verify`, a merge must have every bucket of the book, cells a spreadsheet program
//! would run as formulas are neutralised, closed pipes change nothing, and files holding
//! customers' grades, names or ID numbers are their owner's only.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::run::{env, set_first, Env};
use common::{read_parquet, repo, s};
use polars::prelude::*;

/// Runs riskgrade with `args`: (exit code, standard output, standard error).
fn rg(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_riskgrade"))
        .args(args)
        .current_dir(repo(""))
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).to_string(),
        String::from_utf8_lossy(&o.stderr).to_string(),
    )
}

/// The sample assessed with its features kept, into `e.out`.
fn assessed(extra: &[&str]) -> Env {
    let e = env();
    let mut a = e.args();
    a.push("--keep-features".into());
    a.extend(extra.iter().map(|x| x.to_string()));
    let (code, err) = e.run_with(&a);
    assert_eq!(code, 0, "{err}");
    e
}

/// Every file under `dir` with its bytes.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(snapshot(&p));
        } else {
            out.push((p.clone(), std::fs::read(&p).unwrap()));
        }
    }
    out.sort();
    out
}

fn verify(run: &Path) -> (i32, String) {
    let (code, out, err) = rg(&["verify", "--run", s(run)]);
    (code, out + &err)
}

fn extract_args<'a>(run: &'a Path, out: &'a Path) -> Vec<&'a str> {
    vec![
        "extract",
        "-q",
        "--run",
        s(run),
        "--period-start",
        "2026-01-01",
        "--period-end",
        "2026-10-31",
        "--extracted-on",
        "2026-11-01",
        "--out",
        s(out),
    ]
}

/// Class 1: a command never writes over what it reads. `extract --out RUN`, `compare --out
/// RUN` (its features), `explain --html RUN/report.html`, `links --out` the book's own file or
/// a run's file, `merge --out` a bucket run, `assess --out` the folder holding the data: each
/// refused with exit 2, and the run or book is byte for byte as it was.
#[test]
fn e78_class1_no_command_writes_over_its_inputs() {
    let e = assessed(&[]);
    let run = e.out.clone();
    let before = snapshot(&run);
    let book_before = snapshot(&e.data);
    let features = run.join("features.parquet");
    let report = run.join("report.html");
    let customers = e.data.join("customers.parquet");
    let scores = run.join("scores.parquet");
    let parent = e.data.parent().unwrap().to_path_buf();
    let model = s(&e.model).to_string();
    let reference = s(&e.reference).to_string();
    let cases: Vec<(&str, Vec<&str>, &str)> = vec![
        ("extract --out RUN", extract_args(&run, &run), "--out"),
        (
            "compare --features RUN/features.parquet --out RUN",
            vec![
                "compare",
                "-q",
                "--baseline",
                &model,
                "--candidate",
                &model,
                "--features",
                s(&features),
                "--out",
                s(&run),
            ],
            "--out",
        ),
        (
            "explain --html RUN/report.html",
            vec![
                "explain",
                "--run",
                s(&run),
                "--customer",
                "C0000000001",
                "--html",
                s(&report),
            ],
            "--html",
        ),
        (
            "links --out DATA/customers.parquet",
            vec![
                "links",
                "-q",
                "--as-of",
                "2026-10-31",
                "--data",
                s(&e.data),
                "--model",
                &model,
                "--reference",
                &reference,
                "--out",
                s(&customers),
            ],
            "--out",
        ),
        (
            "links --out RUN/scores.parquet",
            vec![
                "links",
                "-q",
                "--as-of",
                "2026-10-31",
                "--data",
                s(&e.data),
                "--model",
                &model,
                "--reference",
                &reference,
                "--out",
                s(&scores),
            ],
            "lies inside",
        ),
        (
            "merge --runs RUN --out RUN",
            vec![
                "merge",
                "-q",
                "--runs",
                s(&run),
                "--model",
                &model,
                "--out",
                s(&run),
            ],
            "--out",
        ),
        (
            "assess --out the folder holding --data",
            vec![
                "assess",
                "-q",
                "--as-of",
                "2026-10-31",
                "--data",
                s(&e.data),
                "--model",
                &model,
                "--reference",
                &reference,
                "--out",
                s(&parent),
            ],
            "holds --data",
        ),
        (
            "assess --out the model file",
            vec![
                "assess",
                "-q",
                "--as-of",
                "2026-10-31",
                "--data",
                s(&e.data),
                "--model",
                &model,
                "--reference",
                &reference,
                "--out",
                &model,
            ],
            "--out",
        ),
        (
            "generate --out a book riskgrade did not write",
            vec!["generate", "-q", "--customers", "10", "--out", s(&e.data)],
            "not an earlier riskgrade output folder",
        ),
        (
            "extract --out a run folder of another command",
            {
                let mut a = extract_args(&run, &run);
                a.truncate(a.len() - 1);
                a
            },
            "",
        ),
    ];
    for (name, args, needle) in cases {
        let args: Vec<&str> = if name == "extract --out a run folder of another command" {
            // An assessment run that is not this extract's input: refused for its kind.
            let mut a = args;
            a.push(s(&run));
            a
        } else {
            args
        };
        let (code, _, err) = rg(&args);
        assert_eq!(code, 2, "{name}: {err}");
        assert!(err.contains(needle), "{name}: {err}");
        assert_eq!(snapshot(&run), before, "{name} changed the run");
        assert_eq!(snapshot(&e.data), book_before, "{name} changed the book");
    }
    assert_eq!(verify(&run).0, 0);
}

/// Class 1, kinds: an output folder of one kind is never replaced by another command's output.
#[test]
fn e79_class1_a_folder_of_another_kind_is_not_replaced() {
    let e = assessed(&[]);
    let ext = e.out.parent().unwrap().join("tables");
    let (code, _, err) = rg(&extract_args(&e.out, &ext));
    assert_eq!(code, 0, "{err}");
    let before = snapshot(&ext);
    // assess into the extract's folder.
    let mut a = e.args();
    let at = a.iter().position(|x| x == "--out").unwrap();
    a[at + 1] = s(&ext).to_string();
    let (code, err) = e.run_with(&a);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("inspection tables"), "{err}");
    assert_eq!(snapshot(&ext), before);
    // An extract again into it: its own kind, replaced.
    let (code, _, err) = rg(&extract_args(&e.out, &ext));
    assert_eq!(code, 0, "{err}");
}

/// Class 2: every reader checks the run against its manifest. A grade edited by hand in
/// scores.parquet is refused by `explain`, `extract`, `merge` and `compare --features` (exit 3),
/// and `verify` names the file (exit 4).
#[test]
fn e80_class2_an_edited_run_is_refused_by_every_reader() {
    let e = assessed(&[]);
    let run = &e.out;
    let scores = run.join("scores.parquet");
    let mut df = read_parquet(&scores)
        .lazy()
        .with_column(
            when(col("customer_id").eq(lit("C0000000001")))
                .then(lit("high"))
                .otherwise(col("grade"))
                .alias("grade"),
        )
        .collect()
        .unwrap();
    ParquetWriter::new(std::fs::File::create(&scores).unwrap())
        .finish(&mut df)
        .unwrap();
    let model = s(&e.model).to_string();
    let (code, _, err) = rg(&["explain", "--run", s(run), "--customer", "C0000000001"]);
    assert_eq!(code, 3, "explain: {err}");
    assert!(
        err.contains("scores.parquet: changed since the run"),
        "{err}"
    );
    let tables = run.parent().unwrap().join("tables");
    let (code, _, err) = rg(&extract_args(run, &tables));
    assert_eq!(code, 3, "extract: {err}");
    assert!(!tables.exists());
    let merged = run.parent().unwrap().join("merged");
    let (code, _, err) = rg(&[
        "merge",
        "-q",
        "--runs",
        s(run),
        "--model",
        &model,
        "--out",
        s(&merged),
    ]);
    assert_eq!(code, 3, "merge: {err}");
    assert!(err.contains("changed since the run"), "{err}");
    assert!(!merged.exists());
    let (code, out) = verify(run);
    assert_eq!(code, 4, "{out}");
    assert!(
        out.contains("changed: ") && out.contains("scores.parquet"),
        "{out}"
    );
}

/// Class 2, features: `compare --features` refuses a file edited by hand, a customer twice, a
/// file computed under other `[features]` settings than the baseline's, and an `--as-of` other
/// than the file's own; a file outside a run folder cannot be checked and is refused.
#[test]
fn e81_class2_compare_features_are_checked_against_run_and_baseline() {
    let e = assessed(&[]);
    let features = e.out.join("features.parquet");
    let model = s(&e.model).to_string();
    let out = e.out.parent().unwrap().join("cmp");
    let compare = |extra: &[&str]| {
        let mut a = vec![
            "compare",
            "-q",
            "--baseline",
            &model,
            "--candidate",
            &model,
            "--out",
            s(&out),
        ];
        a.extend_from_slice(extra);
        rg(&a)
    };
    let (code, _, err) = compare(&["--features", s(&features)]);
    assert_eq!(code, 0, "{err}");
    // --as-of other than the file's.
    let (code, _, err) = compare(&["--features", s(&features), "--as-of", "2026-11-30"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("computed as of 2026-10-31"), "{err}");
    // A baseline with other [features] settings.
    let other = e.out.parent().unwrap().join("other.toml");
    let text = std::fs::read_to_string(&e.model).unwrap();
    let changed = text.replacen("lookback_months = 12", "lookback_months = 6", 1);
    assert_ne!(text, changed, "the model sets lookback_months");
    std::fs::write(&other, changed).unwrap();
    let (code, _, err) = rg(&[
        "compare",
        "-q",
        "--baseline",
        s(&other),
        "--candidate",
        s(&other),
        "--features",
        s(&features),
        "--out",
        s(&out),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("[features]"), "{err}");
    // A copy outside its run folder.
    let loose = e.out.parent().unwrap().join("loose");
    std::fs::create_dir(&loose).unwrap();
    std::fs::copy(&features, loose.join("features.parquet")).unwrap();
    let (code, _, err) = compare(&["--features", s(&loose.join("features.parquet"))]);
    assert_eq!(code, 2, "{err}");
    // A customer duplicated in the file.
    let df = read_parquet(&features);
    let mut dup = df.vstack(&df.slice(0, 1)).unwrap();
    ParquetWriter::new(std::fs::File::create(&features).unwrap())
        .finish(&mut dup)
        .unwrap();
    let (code, _, err) = compare(&["--features", s(&features)]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("changed since the run"), "{err}");
}

/// Class 2, verify: a file added to a run, or the manifest's list of outputs emptied, is a
/// difference (exit 4), not a pass.
#[test]
fn e80_class2_verify_finds_added_files_and_emptied_lists() {
    let e = assessed(&[]);
    assert_eq!(verify(&e.out).0, 0);
    std::fs::write(e.out.join("notes.txt"), "mine").unwrap();
    let (code, out) = verify(&e.out);
    assert_eq!(code, 4, "{out}");
    assert!(out.contains("added: notes.txt"), "{out}");
    std::fs::remove_file(e.out.join("notes.txt")).unwrap();
    let m = e.out.join("manifest.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&m).unwrap()).unwrap();
    v["outputs"] = serde_json::json!([]);
    v["inputs"] = serde_json::json!([]);
    std::fs::write(&m, serde_json::to_string(&v).unwrap()).unwrap();
    let (code, out) = verify(&e.out);
    assert_eq!(code, 4, "{out}");
    assert!(out.contains("does not list scores.parquet"), "{out}");
    // And no reader accepts it.
    let (code, _, err) = rg(&["explain", "--run", s(&e.out), "--customer", "C0000000001"]);
    assert_eq!(code, 3, "{err}");
}

/// Class 4: names, ID numbers and customer ids that a spreadsheet program would run as formulas
/// (`=`, `+`, `-`, `@`, TAB, CR first) are written with a leading `'` and quoted in
/// tb_risk_new.csv and tb_risk_his.csv, and with a leading `'` in the run's reclassify.csv; the
/// XLSX cells stay text.
#[test]
fn class4_formula_cells_are_neutralised() {
    let e = env();
    let payload = "=cmd|' /C calc'!A0";
    e.edit("customers.parquet", |lf| {
        set_first(
            set_first(lf, "customer_name", lit(payload)),
            "id_number",
            lit("+123,4"),
        )
    });
    let mut a = e.args();
    a.push("--keep-features".into());
    let (code, err) = e.run_with(&a);
    assert_eq!(code, 0, "{err}");
    let tables = e.out.parent().unwrap().join("tables");
    let mut a = extract_args(&e.out, &tables);
    a.push("--xlsx");
    let (code, _, err) = rg(&a);
    assert_eq!(code, 0, "{err}");
    let csv = std::fs::read_to_string(tables.join("tb_risk_new.csv")).unwrap();
    assert!(csv.contains("\"'=cmd|' /C calc'!A0\""), "{csv}");
    assert!(csv.contains("\"'+123,4\""), "{csv}");
    for line in csv.lines() {
        for cell in line.split(',') {
            assert!(
                !cell.starts_with(['=', '+', '@', '\t', '\r']),
                "a raw formula cell: {line}"
            );
        }
    }
    let his = std::fs::read_to_string(tables.join("tb_risk_his.csv")).unwrap();
    assert!(!his.contains(",=cmd"), "{his}");
    // The workbook holds the value as text, unchanged.
    use calamine::{open_workbook, Reader, Xlsx};
    let mut wb: Xlsx<_> = open_workbook(tables.join("tb_risk_new.xlsx")).unwrap();
    let range = wb.worksheet_range("tb_risk_new").unwrap();
    let found = range.rows().any(|r| {
        r.iter()
            .any(|c| matches!(c, calamine::Data::String(t) if t == payload))
    });
    assert!(found, "the XLSX keeps the text as it is");
}

/// Class 4, the run's own CSV: a customer id beginning with `=` is written `'=…` in
/// reclassify.csv (reclassify.parquet keeps it as it is).
#[test]
fn class4_reclassify_csv_neutralises_ids() {
    let e = env();
    for f in [
        "customers.parquet",
        "accounts.parquet",
        "transactions.parquet",
    ] {
        e.edit(f, |lf| {
            lf.with_column(
                when(col("customer_id").eq(lit("C0000000001")))
                    .then(lit("=1+1"))
                    .otherwise(col("customer_id"))
                    .alias("customer_id"),
            )
        });
    }
    let (code, err) = e.run();
    assert_eq!(code, 0, "{err}");
    let csv = std::fs::read_to_string(e.out.join("reclassify.csv")).unwrap();
    assert!(
        csv.contains("'=1+1"),
        "the customer is new, so listed: {csv}"
    );
    assert!(!csv.lines().any(|l| l.starts_with("=1+1")), "{csv}");
    let parquet = read_parquet(&e.out.join("reclassify.parquet"));
    let ids = parquet
        .column("customer_id")
        .unwrap()
        .str()
        .unwrap()
        .clone();
    assert!(ids.iter().any(|i| i == Some("=1+1")));
}

/// Class 5: a closed standard output never panics or changes the answer: `verify | head -c0`
/// exits 0 for an unchanged run and 4 for a changed one; `validate` and `explain` exit 0.
#[test]
fn class5_closed_pipes_change_nothing() {
    let e = assessed(&[]);
    let closed = |args: &[&str]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_riskgrade"))
            .args(args)
            .current_dir(repo(""))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Close both pipes before the command writes.
        drop(child.stdout.take());
        drop(child.stderr.take());
        child.wait().unwrap().code().unwrap_or(-1)
    };
    assert_eq!(closed(&["verify", "--run", s(&e.out)]), 0);
    assert_eq!(closed(&["validate", "--model", s(&e.model)]), 0);
    assert_eq!(
        closed(&["explain", "--run", s(&e.out), "--customer", "C0000000001"]),
        0
    );
    assert_eq!(closed(&["--help"]), 0);
    std::fs::write(e.out.join("summary.json"), "{}").unwrap();
    assert_eq!(closed(&["verify", "--run", s(&e.out)]), 4);
}

/// Class 6: a profile with a header given twice is a usage error naming it (not an engine
/// dump); a profile without `acc_type` or `risk_code` columns reconciles like any other.
#[test]
fn e85_class6_profiles_twice_a_header_and_without_codes() {
    let e = assessed(&[]);
    let dir = e.out.parent().unwrap();
    let twice = dir.join("twice.toml");
    std::fs::write(
        &twice,
        "name = \"twice\"\nnew = [{header = \"Cst_no\", value = \"customer\"}, {header = \"Cst_no\", value = \"branch\"}]\nhis = [{header = \"Cst_no\", value = \"customer\"}]\n",
    )
    .unwrap();
    let out = dir.join("t1");
    let mut a = extract_args(&e.out, &out);
    a.extend(["--profile", s(&twice)]);
    let (code, _, err) = rg(&a);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("header 'Cst_no' twice"), "{err}");
    let bare = dir.join("bare.toml");
    std::fs::write(
        &bare,
        "name = \"bare\"\nnew = [{header = \"Cst_no\", value = \"customer\"}, {header = \"Time\", value = \"time\"}]\nhis = [{header = \"Cst_no\", value = \"customer\"}]\n",
    )
    .unwrap();
    let out = dir.join("t2");
    let mut a = extract_args(&e.out, &out);
    a.extend(["--profile", s(&bare)]);
    let (code, _, err) = rg(&a);
    assert_eq!(code, 0, "{err}");
    let control: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("control.json")).unwrap()).unwrap();
    // Every graded customer of the sample is in scope: low 2,895, medium 76, high 29 in the
    // summary, each found in the table.
    let by = control["reconciliation"]["tb_risk_new_by_grade"]
        .as_array()
        .unwrap();
    let total: u64 = by.iter().map(|g| g["tb_risk_new"].as_u64().unwrap()).sum();
    let summary: u64 = by.iter().map(|g| g["summary"].as_u64().unwrap()).sum();
    assert_eq!(
        total
            + by.iter()
                .map(|g| g["out_of_scope"].as_u64().unwrap())
                .sum::<u64>(),
        summary
    );
    assert_eq!(summary, 3000);
}

/// Class 6: `--mask` is keyed: a salt under 16 bytes is refused; masks are HMAC-SHA256
/// (RFC 4231 test case 2: key "Jefe").
#[test]
fn e84_class6_masks_are_keyed_hmacs() {
    let mac = riskgrade::extract::hmac_sha256(b"Jefe", b"what do ya want for nothing?");
    let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        hex,
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    // RFC 4231 test case 6: a key longer than the block is hashed first.
    let mac = riskgrade::extract::hmac_sha256(
        &[0xaa; 131],
        b"Test Using Larger Than Block-Size Key - Hash Key First",
    );
    let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        hex,
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
    );
    let e = assessed(&[]);
    let out = e.out.parent().unwrap().join("masked");
    for salt in ["", "short"] {
        let mut a = extract_args(&e.out, &out);
        a.extend(["--mask", "--salt", salt]);
        let (code, _, err) = rg(&a);
        assert_eq!(code, 2, "salt '{salt}': {err}");
        assert!(err.contains("at least 16 bytes"), "{err}");
    }
    let mut a = extract_args(&e.out, &out);
    a.extend(["--mask", "--salt", "0123456789abcdef"]);
    let (code, _, err) = rg(&a);
    assert_eq!(code, 0, "{err}");
    // A name masked is the first 16 bytes of HMAC-SHA256(salt, name), as hex.
    let customers = read_parquet(&e.data.join("customers.parquet"));
    let name = customers
        .column("customer_name")
        .unwrap()
        .str()
        .unwrap()
        .get(0)
        .unwrap()
        .to_string();
    let want: String = riskgrade::extract::hmac_sha256(b"0123456789abcdef", name.as_bytes())[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let csv = std::fs::read_to_string(out.join("tb_risk_new.csv")).unwrap();
    assert!(csv.contains(&want), "{want} not in the masked table");
    assert!(!csv.contains(&name));
}

/// Class 6: whatever the umask, run folders, extracts and rating sheet pages are their owner's
/// only (folders 0700, files 0600).
#[test]
fn class6_outputs_are_owner_only_whatever_the_umask() {
    let e = env();
    let mut a = e.args();
    a.push("--keep-features".into());
    let sh = |args: &[String]| {
        let line = args
            .iter()
            .map(|x| format!("'{x}'"))
            .collect::<Vec<_>>()
            .join(" ");
        Command::new("sh")
            .arg("-c")
            .arg(format!(
                "umask 000; exec '{}' {line}",
                env!("CARGO_BIN_EXE_riskgrade")
            ))
            .current_dir(repo(""))
            .output()
            .unwrap()
    };
    let o = sh(&a);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let tables = e.out.parent().unwrap().join("tables");
    let o = sh(&extract_args(&e.out, &tables)
        .iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let page = e.out.parent().unwrap().join("sheet.html");
    let o = sh(&[
        "explain",
        "--run",
        s(&e.out),
        "--customer",
        "C0000000001",
        "--with-pii",
        "--html",
        s(&page),
    ]
    .map(String::from));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&page), 0o600);
    for dir in [&e.out, &tables] {
        assert_eq!(mode(dir), 0o700, "{}", dir.display());
        for (f, _) in snapshot(dir) {
            assert_eq!(mode(&f), 0o600, "{}", f.display());
        }
    }
    // The page is riskgrade's own: explain may replace it.
    let (code, _, err) = rg(&[
        "explain",
        "--run",
        s(&e.out),
        "--customer",
        "C0000000002",
        "--html",
        s(&page),
    ]);
    assert_eq!(code, 0, "{err}");
}

/// Class 6: a links table says what it was computed from: one of another as-of date or of
/// another book is refused by `assess --links` (exit 3).
#[test]
fn e83_class6_links_of_another_date_or_book_are_refused() {
    let e = env();
    let dir = e.out.parent().unwrap().to_path_buf();
    let links = |as_of: &str, data: &Path, out: &Path| {
        rg(&[
            "links",
            "-q",
            "--as-of",
            as_of,
            "--data",
            s(data),
            "--model",
            s(&e.model),
            "--reference",
            s(&e.reference),
            "--out",
            s(out),
        ])
    };
    let other_date = dir.join("links-nov.parquet");
    assert_eq!(links("2026-11-30", &e.data, &other_date).0, 0);
    let mut a = e.args();
    a.extend(["--links".into(), s(&other_date).into()]);
    let (code, err) = e.run_with(&a);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("computed as of 2026-11-30"), "{err}");
    // Another book: the sample less one customer.
    let other = dir.join("other-book");
    common::run::copy_dir(&e.data, &other);
    let df = read_parquet(&other.join("customers.parquet")).slice(1, 2999);
    common::write(&mut df.clone(), &other, "customers.parquet");
    let other_book = dir.join("links-other.parquet");
    let (code, _, err) = links("2026-10-31", &other, &other_book);
    assert_eq!(code, 0, "{err}");
    let mut a = e.args();
    a.extend(["--links".into(), s(&other_book).into()]);
    let (code, err) = e.run_with(&a);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("computed from another book"), "{err}");
    // The right one is accepted, and a links table may replace its own earlier file only.
    let right = dir.join("links.parquet");
    assert_eq!(links("2026-10-31", &e.data, &right).0, 0);
    assert_eq!(links("2026-10-31", &e.data, &right).0, 0);
    let mut a = e.args();
    a.extend(["--links".into(), s(&right).into()]);
    let (code, err) = e.run_with(&a);
    assert_eq!(code, 0, "{err}");
}

/// E78, leftovers: what an interrupted run left beside `--out` is cleared only when riskgrade
/// made it (a numeric process id, its staging mark or its marker) and it is not an input: a
/// data folder named like a leftover is read, not removed or moved; a user's folder named
/// like one stays.
#[test]
fn e78_leftovers_of_interrupted_runs_are_never_inputs_or_users_folders() {
    let e = env();
    let dir = e.out.parent().unwrap().to_path_buf();
    for name in [
        ".out.partial-mydata",
        ".out.old-mydata",
        ".out.partial-99999999",
    ] {
        let data = dir.join(name);
        common::run::copy_dir(&e.data, &data);
        let mut a = e.args();
        let at = a.iter().position(|x| x == "--data").unwrap();
        a[at + 1] = s(&data).to_string();
        let (code, err) = e.run_with(&a);
        assert_eq!(code, 0, "{name}: {err}");
        assert!(
            data.join("customers.parquet").exists(),
            "{name} was removed"
        );
    }
    // A user's folder named like a staging folder of a dead process, without the mark.
    let mine = dir.join(".out.partial-88888888");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("mine.txt"), "mine").unwrap();
    assert_eq!(e.run().0, 0);
    assert!(mine.join("mine.txt").exists());
}

/// E79, nesting: an output is never written inside a folder riskgrade wrote as another output
/// (that output would no longer be as riskgrade wrote it); `init` refuses it too and makes an
/// empty folder its owner's only.
#[test]
fn e79_no_output_inside_another_output() {
    let e = assessed(&[]);
    let run = &e.out;
    let mut a = e.args();
    let at = a.iter().position(|x| x == "--out").unwrap();
    a[at + 1] = s(&run.join("sub")).to_string();
    let (code, err) = e.run_with(&a);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("lies inside"), "{err}");
    let (code, _, err) = rg(&["init", s(&run.join("x"))]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = rg(&[
        "explain",
        "--run",
        s(run),
        "--customer",
        "C0000000001",
        "--html",
        s(&run.join("x.html")),
    ]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(verify(run).0, 0, "the run is as it was");
    let open = run.parent().unwrap().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let (code, _, err) = rg(&["init", s(&open)]);
    assert_eq!(code, 0, "{err}");
    let mode = std::fs::metadata(&open).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
}

/// E79, replacing: an existing folder is replaced only if every file in it is as riskgrade
/// wrote it: a fake marker and manifest naming a user's file, or a run with a file edited since,
/// are kept and the command refused.
#[test]
fn e79_only_an_unchanged_output_is_replaced() {
    let e = env();
    std::fs::create_dir_all(&e.out).unwrap();
    std::fs::write(e.out.join("important.txt"), "mine").unwrap();
    std::fs::write(
        e.out.join(".riskgrade"),
        "riskgrade output folder: replaced as a whole by the next run\nkind: run\n",
    )
    .unwrap();
    std::fs::write(
        e.out.join("manifest.json"),
        r#"{"outputs": [{"file": "important.txt", "sha256": "00"}]}"#,
    )
    .unwrap();
    let (code, err) = e.run();
    assert_eq!(code, 2, "{err}");
    assert!(e.out.join("important.txt").exists());
    let e = assessed(&[]);
    std::fs::write(e.out.join("reclassify.csv"), "my notes").unwrap();
    let (code, err) = e.run();
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("changed since riskgrade wrote it"), "{err}");
    assert_eq!(
        std::fs::read_to_string(e.out.join("reclassify.csv")).unwrap(),
        "my notes"
    );
}

/// E79, rating sheet pages: `explain --html` replaces only a page it wrote, unchanged since (the
/// page carries the digest of its content): not a file that merely quotes its generator line,
/// not its own page with notes added.
#[test]
fn e79_a_rating_sheet_page_is_replaced_only_unchanged() {
    let e = assessed(&[]);
    let page = e.out.parent().unwrap().join("sheet.html");
    let explain = |customer: &str| {
        rg(&[
            "explain",
            "--run",
            s(&e.out),
            "--customer",
            customer,
            "--html",
            s(&page),
        ])
    };
    assert_eq!(explain("C0000000001").0, 0);
    assert_eq!(explain("C0000000002").0, 0, "its own page is replaced");
    let mut text = std::fs::read_to_string(&page).unwrap();
    text.push_str("<p>reviewer's notes</p>");
    std::fs::write(&page, &text).unwrap();
    let (code, _, err) = explain("C0000000003");
    assert_eq!(code, 2, "{err}");
    assert!(std::fs::read_to_string(&page)
        .unwrap()
        .contains("reviewer's notes"));
    let notes = e.out.parent().unwrap().join("notes.html");
    std::fs::write(
        &notes,
        "<code><meta name=\"generator\" content=\"riskgrade explain\"></code>",
    )
    .unwrap();
    let (code, _, err) = rg(&[
        "explain",
        "--run",
        s(&e.out),
        "--customer",
        "C0000000001",
        "--html",
        s(&notes),
    ]);
    assert_eq!(code, 2, "{err}");
}

/// E80, the manifest itself: its as-of date must agree with the summary it hashes, its lists of
/// inputs must name the book and reference tables, each once, and every file it lists must be
/// there: otherwise every reader refuses the run and `verify` exits 4.
#[test]
fn e80_an_edited_manifest_or_a_missing_file_is_refused() {
    let edit = |e: &Env, f: &dyn Fn(&mut serde_json::Value)| {
        let m = e.out.join("manifest.json");
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&m).unwrap()).unwrap();
        f(&mut v);
        std::fs::write(&m, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    };
    let explain = |e: &Env| rg(&["explain", "--run", s(&e.out), "--customer", "C0000000001"]);
    // The as-of date moved.
    let e = assessed(&[]);
    edit(&e, &|v| v["as_of"] = "2026-10-01".into());
    let out = e.out.parent().unwrap().join("tables");
    let (code, _, err) = rg(&extract_args(&e.out, &out));
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("as of 2026-10-01"), "{err}");
    // The inputs emptied, or one listed twice.
    let e = assessed(&[]);
    edit(&e, &|v| v["inputs"] = serde_json::json!([]));
    assert_eq!(explain(&e).0, 3);
    assert_eq!(verify(&e.out).0, 4);
    let e = assessed(&[]);
    edit(&e, &|v| {
        let first = v["inputs"][0].clone();
        v["inputs"].as_array_mut().unwrap().push(first);
    });
    assert_eq!(explain(&e).0, 3);
    // A file removed that the reader does not read.
    let e = assessed(&[]);
    std::fs::remove_file(e.out.join("report.html")).unwrap();
    let (code, _, err) = explain(&e);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("missing: report.html"), "{err}");
    // A manifest of another format: a difference for verify, not a usage error.
    let e = assessed(&[]);
    edit(&e, &|v| v["format"] = 1.into());
    assert_eq!(verify(&e.out).0, 4);
}

/// Class 5, the other side: results that cannot be written for another reason than a closed
/// pipe (a full disk) fail the command with exit 5.
#[test]
fn class5_a_full_standard_output_is_an_environment_error() {
    let e = assessed(&[]);
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_riskgrade"))
        .args(["explain", "--run", s(&e.out), "--customer", "C0000000001"])
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// E85, more: headers that differ only in letter case, or with spaces around the name.
#[test]
fn e85_headers_differing_in_case_or_spaces_are_refused() {
    let e = assessed(&[]);
    let dir = e.out.parent().unwrap();
    for (name, body) in [
        ("case", "new = [{header = \"Cst_no\", value = \"customer\"}, {header = \"cst_no\", value = \"branch\"}]"),
        ("space", "new = [{header = \"Cst_no \", value = \"customer\"}]"),
    ] {
        let f = dir.join(format!("{name}.toml"));
        std::fs::write(
            &f,
            format!("name = \"{name}\"\n{body}\nhis = [{{header = \"Cst_no\", value = \"customer\"}}]\n"),
        )
        .unwrap();
        let out = dir.join(format!("x-{name}"));
        let mut a = extract_args(&e.out, &out);
        a.extend(["--profile", s(&f)]);
        let (code, _, err) = rg(&a);
        assert_eq!(code, 2, "{name}: {err}");
    }
}
