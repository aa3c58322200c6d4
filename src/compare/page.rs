//! `compare.html`, the committee pack of a comparison: one self-contained page (inline SVG,
//! sortable tables, no network) drawn like `report.html`: the grade distributions of the
//! baseline and every candidate, each candidate's migration matrix as a heat map, customers near
//! a band edge, the review workload and its change per branch, the STR back-test and the
//! baseline's sensitivity to each weight.

use super::result::{CandidateResult, Comparison};
use crate::error::Result;
use crate::report::charts;
use crate::report::html::{esc, figure, table, SCRIPT, STYLE};
use crate::report::lang::Lang;

fn signed(x: i64) -> String {
    format!("{x:+}")
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// The page.
/// The page in language `l`.
pub fn html(c: &Comparison, l: Lang) -> Result<String> {
    let mut b = format!(
        "<h1>{} {}</h1><p>Baseline <b>{}</b> against {} candidate(s) over {} customers ({} distinct profiles).</p>",
        l.t("Model comparison, as of"),
        esc(&c.as_of),
        esc(&c.baseline.model),
        c.candidates.len(),
        c.customers,
        c.profiles
    );
    summary_section(l, c, &mut b);
    distribution_section(l, c, &mut b)?;
    for cand in &c.candidates {
        candidate_section(l, c, cand, &mut b)?;
    }
    sensitivity_section(l, c, &mut b);
    Ok(format!(
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>riskgrade comparison {}</title><style>{STYLE}{HEAT}</style></head><body>{b}<script>{SCRIPT}</script></body></html>\n",
        l.html(),
        esc(&c.as_of)
    ))
}

/// Heat-map cells: the background set per cell.
const HEAT: &str = "td.heat{color:#111}";

/// One row per candidate: who changes grade, the highest grade, band edges, workload.
fn summary_section(l: Lang, c: &Comparison, b: &mut String) {
    *b += &format!("<h2>{}</h2>", l.t("Summary"));
    let rows: Vec<Vec<String>> = c
        .candidates
        .iter()
        .map(|x| {
            vec![
                x.name.clone(),
                x.changed.up.to_string(),
                x.changed.down.to_string(),
                x.changed.in_or_out.to_string(),
                signed(x.highest_grade_change),
                format!("{} → {}", x.near_band_edge[0], x.near_band_edge[1]),
                signed(x.workload_change),
            ]
        })
        .collect();
    *b += &table(
        "summary",
        &[
            l.t("candidate"),
            "to a higher grade",
            "to a lower grade",
            "graded by one only",
            "highest grade, change",
            "within 1 point of a band edge",
            "reviews over 25 months, change",
        ],
        &rows,
    );
}

/// Customers per grade under the baseline and each candidate (stacked bars and a table).
fn distribution_section(l: Lang, c: &Comparison, b: &mut String) -> Result<()> {
    *b += &format!("<h2>{}</h2>", l.t("Grade distribution"));
    let names: Vec<String> = c.baseline.grades.iter().map(|g| g.0.clone()).collect();
    let grades: Vec<String> = names.iter().map(|g| l.name(g)).collect();
    let mut keys = vec![l.t("baseline").to_string()];
    let mut counts = vec![c.baseline.grades.iter().map(|g| g.1).collect::<Vec<u64>>()];
    for cand in &c.candidates {
        keys.push(cand.name.clone());
        counts.push(
            names
                .iter()
                .map(|g| {
                    cand.distribution
                        .iter()
                        .filter(|d| d.dimension == "all" && &d.grade == g)
                        .map(|d| d.candidate)
                        .sum()
                })
                .collect(),
        );
    }
    *b += &figure(
        "chart-distribution",
        charts::stacked(
            l.t("Customers per grade, per model"),
            &keys,
            &grades,
            &counts,
        )?,
    );
    let mut head = vec![l.t("model")];
    head.extend(grades.iter().map(|g| g.as_str()));
    let rows: Vec<Vec<String>> = keys
        .iter()
        .zip(&counts)
        .map(|(k, v)| {
            let mut r = vec![k.clone()];
            r.extend(v.iter().map(|n| n.to_string()));
            r
        })
        .collect();
    *b += &table("distribution", &head, &rows);
    Ok(())
}

/// A candidate's migration heat map, workload and back-test.
fn candidate_section(l: Lang, c: &Comparison, x: &CandidateResult, b: &mut String) -> Result<()> {
    *b += &format!(
        "<h2>{}</h2><p class=\"note\">{}; grades compared by {}.</p>",
        esc(&x.name),
        esc(&x.source),
        esc(x.grades_compared_by)
    );
    // Migration: rows the baseline's grade, columns the candidate's, shaded by the row's
    // share (the diagonal: unchanged).
    let mut names: Vec<String> = c.baseline.grades.iter().map(|g| l.name(&g.0)).collect();
    names.push("not graded".into());
    let mut s = format!(
        "<h3>{}</h3><div class=\"wide\"><table class=\"sortable\" id=\"migration-",
        l.t("Migration")
    );
    s += &format!(
        "{}\"><thead><tr><th>baseline \\ candidate</th>",
        esc(&x.name)
    );
    for n in &names {
        s += &format!("<th>{}</th>", esc(n));
    }
    s += "</tr></thead><tbody>";
    for (i, row) in x.migration.iter().enumerate() {
        let total: u64 = row.iter().sum::<u64>().max(1);
        s += &format!(
            "<tr><td>{}</td>",
            esc(names.get(i).map_or("", |n| n.as_str()))
        );
        for (j, v) in row.iter().enumerate() {
            let share = *v as f64 / total as f64;
            // Off the diagonal red, on it grey; the deeper the larger the share of the row.
            let (r, g, bl) = if i == j {
                (120, 120, 120)
            } else {
                (192, 57, 43)
            };
            let alpha = if *v == 0 { 0.0 } else { 0.08 + 0.72 * share };
            s += &format!(
                "<td class=\"heat\" style=\"background:rgba({r},{g},{bl},{alpha:.2})\" title=\"{}\">{v}</td>",
                pct(share)
            );
        }
        s += "</tr>";
    }
    *b += &(s + "</tbody></table></div>");
    // Workload: reviews per month, and per branch.
    let months: Vec<String> = (0..x.workload.candidate_by_month.len())
        .map(|m| format!("+{m}"))
        .collect();
    let colour = |_: usize| charts::grade_colour(4, 6);
    *b += &figure(
        &format!("chart-workload-base-{}", esc(&x.name)),
        charts::bars(
            "Reviews falling due per month (as-of month +0 … +24), baseline",
            &months,
            &x.workload.baseline_by_month,
            colour,
        )?,
    );
    *b += &figure(
        &format!("chart-workload-{}", esc(&x.name)),
        charts::bars(
            "… and with the candidate",
            &months,
            &x.workload.candidate_by_month,
            colour,
        )?,
    );
    let rows: Vec<Vec<String>> = x
        .workload
        .by_branch
        .iter()
        .map(|(br, [base, cand])| {
            vec![
                br.clone(),
                base.to_string(),
                cand.to_string(),
                signed(*cand as i64 - *base as i64),
                format!("{:.1}", (*cand as f64 - *base as f64) / 25.0),
            ]
        })
        .collect();
    *b += &table(
        &format!("workload-{}", esc(&x.name)),
        &[
            "branch",
            "baseline reviews (25 months)",
            "candidate",
            "change",
            "change per month",
        ],
        &rows,
    );
    let rows: Vec<Vec<String>> = x
        .backtest
        .iter()
        .map(|t| {
            vec![
                l.name(&t.grade),
                t.customers.to_string(),
                t.with_str.to_string(),
                pct(t.str_share),
                t.with_xh.to_string(),
            ]
        })
        .collect();
    *b += &format!("<h3>{}</h3>", l.t("STR back-test"));
    *b += &table(
        &format!("backtest-{}", esc(&x.name)),
        &[
            "grade",
            "customers",
            "with an STR",
            "share of all with an STR",
            "of those, direct highest",
        ],
        &rows,
    );
    Ok(())
}

/// The baseline's sensitivity to each weight.
fn sensitivity_section(l: Lang, c: &Comparison, b: &mut String) {
    if c.sensitivity.is_empty() {
        return;
    }
    *b += &format!("<h2>{}</h2>", l.t("Sensitivity of the baseline"));
    *b += "<p class=\"note\">Customers changing grade when one sub-item's weight moves by one point (taken from or given to the others in proportion): up / down.</p>";
    let pair = |p: Option<[u64; 2]>| p.map_or_else(|| "-".into(), |[u, d]| format!("{u} / {d}"));
    let rows: Vec<Vec<String>> = c
        .sensitivity
        .iter()
        .map(|s| vec![s.subitem.clone(), pair(s.plus_one), pair(s.minus_one)])
        .collect();
    *b += &table(
        "sensitivity",
        &["sub-item", "weight +1", "weight −1"],
        &rows,
    );
}
