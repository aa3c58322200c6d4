//! The monitor's files besides `monitor.json`: `monitor.csv` (one row per figure) and
//! `monitor.html` (one self-contained page: tables and inline SVG, no network).

use polars::prelude::*;

use super::Monitor;
use crate::error::Result;
use crate::report::charts;
use crate::report::html::{esc, figure, table, SCRIPT, STYLE};
use crate::report::lang::Lang;

fn f4(x: Option<f64>) -> String {
    x.map_or_else(|| "-".into(), |v| format!("{v:.4}"))
}

fn pct(x: f64) -> String {
    format!("{:.2}%", x * 100.0)
}

/// The rows of `monitor.csv`: section, run, subject, measure, value.
#[derive(Default)]
struct Rows(Vec<[String; 5]>);

impl Rows {
    fn put(&mut self, sec: &str, run: &str, subj: &str, what: &str, v: impl ToString) {
        self.0.push([
            sec.into(),
            run.into(),
            subj.into(),
            what.into(),
            v.to_string(),
        ]);
    }

    /// A PSI pair of one run, empty where there is none.
    fn psi(&mut self, p: &super::Psi, subject: &str) {
        let opt = |x: Option<f64>| x.map_or_else(String::new, |v| v.to_string());
        let r = p.as_of.as_str();
        self.put(
            "stability",
            r,
            subject,
            "psi_vs_previous",
            opt(p.vs_previous),
        );
        self.put("stability", r, subject, "psi_vs_first", opt(p.vs_first));
    }
}

fn runs_rows(m: &Monitor, rows: &mut Rows) {
    for r in &m.runs {
        rows.put("runs", &r.as_of, "", "customers", r.customers);
        for (g, n) in &r.grades {
            rows.put("runs", &r.as_of, g, "customers", n);
        }
    }
    for p in &m.stability.total_score {
        rows.psi(p, "total_score");
    }
    for s in &m.stability.subitems {
        for p in &s.runs {
            rows.psi(p, &s.subitem);
        }
    }
}

fn migration_rows(m: &Monitor, rows: &mut Rows) {
    for g in &m.migration {
        let run = format!("{}→{}", g.from, g.to);
        let sec = "migration";
        rows.put(sec, &run, "", "in_both", g.in_both);
        rows.put(sec, &run, "", "changed", g.changed);
        rows.put(sec, &run, "", "changed_share", g.changed_share);
        rows.put(sec, &run, "", "entered", g.entered);
        rows.put(sec, &run, "", "left", g.left);
        for (i, a) in g.from_grades.iter().enumerate() {
            for (j, b) in g.to_grades.iter().enumerate() {
                rows.put(sec, &run, &format!("{a}→{b}"), "customers", g.matrix[i][j]);
            }
        }
        for d in &g.drivers {
            rows.put(sec, &run, &d.subitem, "changed_grade_score_up", d.up);
            rows.put(sec, &run, &d.subitem, "changed_grade_score_down", d.down);
        }
    }
}

fn discrimination_rows(m: &Monitor, rows: &mut Rows) {
    let opt = |x: Option<f64>| x.map_or_else(String::new, |v| v.to_string());
    let sec = "discrimination";
    for b in &m.discrimination.runs {
        let r = b.as_of.as_str();
        rows.put(sec, r, "", "horizon_complete", b.horizon_complete);
        rows.put(sec, r, "", "customers", b.customers);
        rows.put(sec, r, "", "left_out", b.left_out);
        rows.put(sec, r, "", "reported", b.reported);
        rows.put(sec, r, "total_score", "auc", opt(b.auc));
        rows.put(sec, r, "total_score", "ks", opt(b.ks));
        for c in &b.capture {
            rows.put(sec, r, &c.grade, "customers", c.customers);
            rows.put(sec, r, &c.grade, "reported", c.reported);
            rows.put(sec, r, &c.grade, "capture_rate", c.capture_rate);
        }
    }
}

fn health_rows(m: &Monitor, rows: &mut Rows) {
    let sec = "health";
    for h in &m.health {
        let r = h.as_of.as_str();
        rows.put(sec, r, "", "override_rate", h.override_rate);
        rows.put(sec, r, "", "overrides_up", h.overrides_up);
        rows.put(sec, r, "", "overrides_down", h.overrides_down);
        rows.put(sec, r, "", "direct_highest_rate", h.direct_highest_rate);
        for (k, n) in &h.direct_highest_by_condition {
            rows.put(sec, r, k, "direct_highest", n);
        }
        rows.put(sec, r, "", "direct_low_rate", h.direct_low_rate);
        for (k, n) in &h.direct_low_by_class {
            rows.put(sec, r, k, "direct_low", n);
        }
        for (k, n) in &h.scored_on_missing_data {
            rows.put(sec, r, k, "scored_on_missing_data", n);
        }
        rows.put(sec, r, "", "work_list", h.work_list);
        rows.put(sec, r, "", "overdue", h.overdue);
        for o in &h.branch_outliers {
            rows.put(sec, r, &o.branch, "highest_share_z", o.z);
        }
    }
}

/// Every figure as a row: section, run (as-of date, or `FROM→TO`), subject, measure, value.
pub fn csv(m: &Monitor) -> Result<DataFrame> {
    let mut rows = Rows::default();
    runs_rows(m, &mut rows);
    migration_rows(m, &mut rows);
    discrimination_rows(m, &mut rows);
    health_rows(m, &mut rows);
    let column = |i: usize, name: &str| {
        Column::new(
            name.into(),
            rows.0.iter().map(|r| r[i].clone()).collect::<Vec<String>>(),
        )
    };
    Ok(DataFrame::new_infer_height(vec![
        column(0, "section"),
        column(1, "run"),
        column(2, "subject"),
        column(3, "measure"),
        column(4, "value"),
    ])?)
}

/// The page.
pub fn html(m: &Monitor, l: Lang) -> Result<String> {
    let mut b = String::new();
    let first = &m.runs[0];
    let last = &m.runs[m.runs.len() - 1];
    b += &format!(
        "<h1>{}, {} {} {}</h1><p>{} {}; {} <b>{}</b>.</p>",
        l.t("Model monitoring"),
        esc(&first.as_of),
        l.t("to"),
        esc(&last.as_of),
        m.runs.len(),
        l.t("runs of the book"),
        l.t("model"),
        esc(&first.model)
    );
    if m.model_changes.is_empty() {
        b += &format!("<p>{}</p>", l.t("Every run was made with the same model."));
    } else {
        b += &format!("<p>{}</p><ul>", l.t("Models differ:"));
        for c in &m.model_changes {
            b += &format!("<li>{}</li>", esc(c));
        }
        b += "</ul>";
    }
    grades_section(l, m, &mut b)?;
    stability_section(l, m, &mut b)?;
    migration_section(l, m, &mut b)?;
    discrimination_section(l, m, &mut b)?;
    health_section(l, m, &mut b)?;
    Ok(format!(
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>riskgrade monitor {} to {}</title><style>{STYLE}</style></head><body>{b}<script>{SCRIPT}</script></body></html>\n",
        l.html(),
        esc(&first.as_of),
        esc(&last.as_of)
    ))
}

/// Grades per run: a table and a stacked bar chart.
fn grades_section(l: Lang, m: &Monitor, b: &mut String) -> Result<()> {
    let first = &m.runs[0];
    let grades: Vec<String> = first.grades.iter().map(|g| l.name(&g.0)).collect();
    let mut head = vec![l.t("as of"), l.t("customers")];
    head.extend(grades.iter().map(|g| g.as_str()));
    let rows: Vec<Vec<String>> = m
        .runs
        .iter()
        .map(|r| {
            let mut row = vec![r.as_of.clone(), r.customers.to_string()];
            row.extend(
                r.grades
                    .iter()
                    .map(|(_, n)| format!("{n} ({})", pct(*n as f64 / r.customers.max(1) as f64))),
            );
            row
        })
        .collect();
    *b += &format!("<h2>{}</h2>", l.t("Grades per run"));
    *b += &table("grades", &head, &rows);
    let dates: Vec<String> = m.runs.iter().map(|r| r.as_of.clone()).collect();
    let counts: Vec<Vec<u64>> = m
        .runs
        .iter()
        .map(|r| r.grades.iter().map(|g| g.1).collect())
        .collect();
    *b += &figure(
        "grades-chart",
        charts::stacked(l.t("Customers per grade"), &dates, &grades, &counts)?,
    );
    Ok(())
}

/// PSI of the total score and each sub-item.
fn stability_section(l: Lang, m: &Monitor, b: &mut String) -> Result<()> {
    *b += &format!("<h2>{}</h2>", l.t("Stability (population stability index)"));
    *b += "<p class=\"note\">PSI = Σ (a − e)·ln(a/e) over bins, e the earlier run's share, a the later run's, a share of 0 taken as 0.01 %. Total scores binned at the first run's deciles; sub-items by their levels. Below 0.10 stable, 0.10–0.25 shifting, above 0.25 a shift to explain. One column per run against the run before it; the last column, the latest run against the first.</p>";
    let later: Vec<&str> = m.runs.iter().skip(1).map(|r| r.as_of.as_str()).collect();
    let mut head = vec![l.t("what")];
    head.extend(later.iter().copied());
    head.push(l.t("latest vs first"));
    let rows: Vec<Vec<String>> = std::iter::once((l.t("total score"), &m.stability.total_score))
        .chain(
            m.stability
                .subitems
                .iter()
                .map(|s| (s.subitem.as_str(), &s.runs)),
        )
        .map(|(name, runs)| {
            let mut row = vec![name.to_string()];
            row.extend(later.iter().map(|d| {
                f4(runs
                    .iter()
                    .find(|p| p.as_of == *d)
                    .and_then(|p| p.vs_previous))
            }));
            row.push(f4(runs
                .last()
                .filter(|_| runs.len() > 1)
                .and_then(|p| p.vs_first)));
            row
        })
        .collect();
    *b += &table("stability", &head, &rows);
    Ok(())
}

/// Migration matrices and drivers between consecutive runs.
fn migration_section(l: Lang, m: &Monitor, b: &mut String) -> Result<()> {
    *b += &format!("<h2>{}</h2>", l.t("Migration between consecutive runs"));
    for g in &m.migration {
        *b += &format!(
            "<h3>{} → {}</h3><p>{} customers in both, {} changed grade ({}); {} entered, {} left.</p>",
            esc(&g.from),
            esc(&g.to),
            g.in_both,
            g.changed,
            pct(g.changed_share),
            g.entered,
            g.left
        );
        let mut head = vec!["from \\ to".to_string()];
        head.extend(g.to_grades.iter().map(|x| l.name(x)));
        let head: Vec<&str> = head.iter().map(|s| s.as_str()).collect();
        let rows: Vec<Vec<String>> = g
            .from_grades
            .iter()
            .zip(&g.matrix)
            .map(|(a, row)| {
                let mut r = vec![l.name(a)];
                r.extend(row.iter().map(|n| n.to_string()));
                r
            })
            .collect();
        *b += &table(&format!("migration-{}", g.to), &head, &rows);
        let rows: Vec<Vec<String>> = g
            .drivers
            .iter()
            .map(|d| vec![d.subitem.clone(), d.up.to_string(), d.down.to_string()])
            .collect();
        *b += &table(
            &format!("drivers-{}", g.to),
            &[
                "sub-item",
                "changed grade, score up",
                "changed grade, score down",
            ],
            &rows,
        );
    }
    Ok(())
}

/// The back-test of each run.
fn discrimination_section(l: Lang, m: &Monitor, b: &mut String) -> Result<()> {
    let d = &m.discrimination;
    *b += &format!(
        "<h2>{}</h2><p class=\"note\">Suspicious-transaction reports filed within {} months after each as-of date ({}, observed to {}). A customer not reported is counted only when watched for the whole horizon; the others are left out. AUC: the probability that a reported customer scored above one not reported (ties ½). KS: the largest gap between their score distributions.</p>",
        l.t("Discrimination, back-tested"),
        d.horizon_months,
        esc(&d.reports_from),
        esc(&d.observed_to)
    );
    let rows: Vec<Vec<String>> = d
        .runs
        .iter()
        .map(|x| {
            vec![
                x.as_of.clone(),
                x.horizon_end.clone(),
                if x.horizon_complete { "yes" } else { "no" }.into(),
                x.customers.to_string(),
                x.left_out.to_string(),
                x.reported.to_string(),
                f4(x.auc),
                f4(x.ks),
                x.capture
                    .iter()
                    .map(|c| format!("{} {}", c.grade, pct(c.capture_rate)))
                    .collect::<Vec<_>>()
                    .join(", "),
            ]
        })
        .collect();
    *b += &table(
        "discrimination",
        &[
            "as of",
            "horizon to",
            "complete",
            "customers",
            "left out",
            "reported",
            "AUC",
            "KS",
            "capture per grade",
        ],
        &rows,
    );
    Ok(())
}

/// Process health of each run.
fn health_section(l: Lang, m: &Monitor, b: &mut String) -> Result<()> {
    *b += &format!("<h2>{}</h2>", l.t("Process health"));
    *b += &format!("<p class=\"note\">Branches apart: a branch whose highest-grade share lies {} or more standard errors from the book's (z = (p − p₀)/√(p₀(1 − p₀)/n)).</p>", super::OUTLIER_Z);
    let rows: Vec<Vec<String>> = m
        .health
        .iter()
        .map(|h| {
            vec![
                h.as_of.clone(),
                format!("{} ({})", h.overrides, pct(h.override_rate)),
                format!("{} / {}", h.overrides_up, h.overrides_down),
                format!("{} ({})", h.direct_highest, pct(h.direct_highest_rate)),
                format!("{} ({})", h.direct_low, pct(h.direct_low_rate)),
                h.scored_on_missing_data.values().sum::<u64>().to_string(),
                h.work_list.to_string(),
                h.overdue.to_string(),
                h.branch_outliers
                    .iter()
                    .map(|o| format!("{} (z {:.1})", o.branch, o.z))
                    .collect::<Vec<_>>()
                    .join(", "),
            ]
        })
        .collect();
    *b += &table(
        "health",
        &[
            "as of",
            "overrides",
            "up / down",
            "direct highest",
            "direct low",
            "scores on missing data",
            "work list",
            "overdue",
            "branches apart",
        ],
        &rows,
    );
    Ok(())
}
