//! `report.html`: one self-contained page (no network: inline SVG charts, inline CSS and a few
//! lines of script to sort tables) for compliance officers and branch managers. Its numbers come
//! from the summary and the run's outputs; it holds aggregates only, never a customer's row.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::charts::{self, grade_colour};
use super::lang::Lang;
use super::Summary;
use crate::error::Result;
use crate::model::{fmt_e2, Model, E4};
use crate::review::Counts;
use crate::scoring::{contributions, SEGMENT};

/// Aggregates of the run's outputs the page draws besides the summary (`report.json`). Sums
/// every one, so the aggregates of a book are those of its buckets added up
/// ([`Aggregates::merge`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Aggregates {
    /// Customers per whole point of adjusted total score, 0..=100.
    pub histogram: Vec<u64>,
    /// Customers by grade on file (None: none on file) and final grade.
    pub migration: Vec<(Option<String>, String, u64)>,
    /// Per sub-item: Σ a·(p × 100) over every scored customer.
    pub contributions: Vec<(String, String, i64)>,
    /// Customers needing action per month due (`YYYY-MM`) and whether overdue.
    pub due_months: Vec<(String, bool, u64)>,
}

fn pairs(df: &DataFrame, key: &str) -> Result<Vec<(Option<String>, u64)>> {
    let k = df.column(key)?.cast(&DataType::String)?;
    let n = df.column("n")?.cast(&DataType::UInt64)?;
    Ok(k.str()?
        .iter()
        .zip(n.u64()?.iter())
        .map(|(k, n)| (k.map(String::from), n.unwrap_or(0)))
        .collect())
}

/// Work-list customers (the rows with `reasons`) by the month of their due date ("YYYY-MM",
/// "" for none) and whether they are overdue. Counted by (year, month) as integers, then the few
/// groups named: naming each row first cost a date format per row.
fn due_months(scores: &DataFrame) -> Result<Vec<(String, bool, u64)>> {
    let due = scores
        .clone()
        .lazy()
        .filter(col("reasons").is_not_null())
        .group_by([
            col("due_date").dt().year().alias("year"),
            col("due_date").dt().month().alias("month"),
            col("overdue"),
        ])
        .agg([len().cast(DataType::UInt64).alias("n")])
        .collect()?;
    Ok(due
        .column("year")?
        .i32()?
        .iter()
        .zip(due.column("month")?.cast(&DataType::UInt32)?.u32()?.iter())
        .zip(due.column("overdue")?.bool()?.iter())
        .zip(due.column("n")?.u64()?.iter())
        .map(|(((y, m), o), n)| {
            let month = y.zip(m).map(|(y, m)| format!("{y:04}-{m:02}"));
            (
                month.unwrap_or_default(),
                o.unwrap_or(false),
                n.unwrap_or(0),
            )
        })
        .collect())
}

impl Aggregates {
    /// The aggregates of the final scores (`scores`: the review stage's frame), the work list's
    /// among them (its rows are those with `reasons`).
    pub fn of(scores: &DataFrame, model: &Model) -> Result<Aggregates> {
        let hist = scores
            .clone()
            .lazy()
            .group_by([col("adjusted_score")
                .floor()
                .clip(lit(0.0), lit(100.0))
                .cast(DataType::UInt32)
                .alias("bin")])
            .agg([len().cast(DataType::UInt64).alias("n")])
            .collect()?;
        let mut histogram = vec![0u64; 101];
        for (b, n) in pairs(&hist, "bin")? {
            if let Some(b) = b.and_then(|b| b.parse::<usize>().ok()) {
                histogram[b.min(100)] += n;
            }
        }
        let mig = scores
            .clone()
            .lazy()
            .group_by([col("grade_on_file"), col("grade")])
            .agg([len().cast(DataType::UInt64).alias("n")])
            .collect()?;
        let migration = mig
            .column("grade_on_file")?
            .str()?
            .iter()
            .zip(mig.column("grade")?.str()?.iter())
            .zip(mig.column("n")?.u64()?.iter())
            .map(|((a, b), n)| {
                (
                    a.map(String::from),
                    b.unwrap_or("").to_string(),
                    n.unwrap_or(0),
                )
            })
            .collect();
        let parts: Vec<Expr> = contributions(model)
            .into_iter()
            .zip(&model.subitems)
            .map(|(e, s)| e.sum().alias(s.id.as_str()))
            .collect();
        let cols: Vec<Expr> = std::iter::once(col(SEGMENT))
            .chain(model.subitems.iter().map(|s| col(s.id.as_str())))
            .collect();
        let sums = scores.clone().lazy().select(cols).select(parts).collect()?;
        let mut contributions = Vec::new();
        for s in &model.subitems {
            let v = sums
                .column(&s.id)?
                .cast(&DataType::Int64)?
                .i64()?
                .get(0)
                .unwrap_or(0);
            contributions.push((s.id.clone(), s.rule_id.clone(), v));
        }
        let due_months = due_months(scores)?;
        Ok(Aggregates {
            histogram,
            migration,
            contributions,
            due_months,
        }
        .in_order())
    }

    /// Migration cells by grade on file then final grade, months due overdue first then by
    /// month: one order whatever the engine gave.
    fn in_order(mut self) -> Aggregates {
        self.migration.sort();
        self.due_months
            .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        self
    }

    /// The aggregates of a book from those of its buckets: every count added up.
    pub fn merge(parts: &[Aggregates]) -> Aggregates {
        let mut out = Aggregates {
            histogram: vec![0; 101],
            migration: Vec::new(),
            contributions: Vec::new(),
            due_months: Vec::new(),
        };
        for p in parts {
            for (i, n) in p.histogram.iter().enumerate() {
                if let Some(h) = out.histogram.get_mut(i) {
                    *h += n;
                }
            }
            for (a, b, n) in &p.migration {
                match out.migration.iter_mut().find(|(x, y, _)| x == a && y == b) {
                    Some(m) => m.2 += n,
                    None => out.migration.push((a.clone(), b.clone(), *n)),
                }
            }
            for (id, rule, v) in &p.contributions {
                match out.contributions.iter_mut().find(|(x, _, _)| x == id) {
                    Some(c) => c.2 += v,
                    None => out.contributions.push((id.clone(), rule.clone(), *v)),
                }
            }
            for (m, o, n) in &p.due_months {
                match out.due_months.iter_mut().find(|(x, y, _)| x == m && y == o) {
                    Some(d) => d.2 += n,
                    None => out.due_months.push((m.clone(), *o, *n)),
                }
            }
        }
        out.in_order()
    }
}

/// Text made safe for HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A sortable table.
pub(crate) fn table(id: &str, head: &[&str], rows: &[Vec<String>]) -> String {
    // In a box of its own that scrolls, so a wide table never moves the page sideways.
    let mut s = format!("<div class=\"wide\"><table class=\"sortable\" id=\"{id}\"><thead><tr>");
    for h in head {
        s += &format!("<th>{}</th>", esc(h));
    }
    s += "</tr></thead><tbody>";
    for r in rows {
        s += "<tr>";
        for c in r {
            s += &format!("<td>{}</td>", esc(c));
        }
        s += "</tr>";
    }
    s + "</tbody></table></div>"
}

pub(crate) fn figure(id: &str, svg: String) -> String {
    format!("<figure class=\"chart\" id=\"{id}\">{svg}</figure>")
}

fn pct(n: u64, total: u64) -> String {
    format!("{:.1}%", n as f64 * 100.0 / total.max(1) as f64)
}

/// Counts per grade of one dimension (`Counts` per key) as rows and stacked-bar input.
fn by_key(
    model: &Model,
    dim: &BTreeMap<String, Counts>,
) -> (Vec<String>, Vec<Vec<u64>>, Vec<Vec<String>>) {
    let names = model.grade_names();
    let mut keys = Vec::new();
    let mut counts = Vec::new();
    let mut rows = Vec::new();
    for (k, c) in dim {
        let v: Vec<u64> = names
            .iter()
            .map(|g| c.0.iter().find(|x| &x.0 == g).map_or(0, |x| x.1))
            .collect();
        let total: u64 = v.iter().sum();
        let mut row = vec![k.clone()];
        row.extend(v.iter().map(|x| x.to_string()));
        row.push(total.to_string());
        row.push(pct(v[0], total));
        rows.push(row);
        keys.push(k.clone());
        counts.push(v);
    }
    (keys, counts, rows)
}

pub(crate) const STYLE: &str = "body{font-family:sans-serif;margin:2em;color:#222;max-width:1200px}\
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ccc}\
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}\
td:first-child,th:first-child{text-align:left}th{background:#f4f4f4;cursor:pointer}\
figure{margin:1em 0}.note{color:#555;font-size:.9em}\
svg{max-width:100%;height:auto}.wide{overflow-x:auto;max-width:100%}\
.headline{display:flex;flex-wrap:wrap;gap:.5em 2em;padding:.6em 1em;background:#f6f8fa;border:1px solid #ddd}\
.headline div{font-size:.9em;color:#555}.headline b{display:block;font-size:1.4em;color:#222}\
@page{size:A4 landscape;margin:12mm}\
@media print{body{margin:0;max-width:none}h2{break-after:avoid}figure,table,.headline{break-inside:avoid}th{cursor:auto}}";

/// Sorts a table by the clicked column (numbers as numbers); checks every chart is drawn and
/// says so on `body` (`data-ready`), and whether the page is wider than the window
/// (`data-wide`), for the browser test.
pub(crate) const SCRIPT: &str = "document.querySelectorAll('table.sortable th').forEach(function(th,i){\
th.addEventListener('click',function(){var tb=th.closest('table').tBodies[0];\
var rows=Array.prototype.slice.call(tb.rows);var asc=th.dataset.asc!=='1';th.dataset.asc=asc?'1':'0';\
rows.sort(function(a,b){var x=a.cells[i].textContent,y=b.cells[i].textContent;\
var nx=parseFloat(x.replace('%','')),ny=parseFloat(y.replace('%',''));\
var c=(!isNaN(nx)&&!isNaN(ny))?nx-ny:x.localeCompare(y);return asc?c:-c;});\
rows.forEach(function(r){tb.appendChild(r);});});});\
var figs=document.querySelectorAll('figure.chart');var drawn=0;\
figs.forEach(function(f){if(f.querySelector('svg rect')){drawn++;}});\
document.body.setAttribute('data-ready',String(drawn));\
var de=document.documentElement;document.body.setAttribute('data-wide',String(de.scrollWidth>de.clientWidth));";

/// Renders the page in language `l`.
pub fn render(summary: &Summary, model: &Model, agg: &Aggregates, l: Lang) -> Result<String> {
    let total = summary.customers;
    let mut b = String::new();
    let m = &model.meta;
    b += &format!(
        "<h1>{} {}</h1><p>{} <b>{} {}</b>, {} {} ({} {}); {} {}; {} {}.</p>",
        l.t("Customer risk grading, as of"),
        esc(&summary.as_of),
        l.t("Model"),
        esc(&m.id),
        esc(&m.version),
        l.t("approved by"),
        esc(&m.approved_by),
        l.t("on"),
        esc(&m.approved_on),
        total,
        l.t("customers graded"),
        l.t("FATF lists"),
        esc(&summary.fatf_lists)
    );
    let texts: Vec<String> = summary
        .rulebook
        .iter()
        .map(|t| {
            format!(
                "{} ({} {}{})",
                esc(&t.id),
                l.t("in effect from"),
                esc(&t.effective),
                if t.in_force {
                    String::new()
                } else {
                    format!(", {}", l.t("not yet on the as-of date"))
                }
            )
        })
        .collect();
    b += &format!("<p>{}: {}.</p>", l.t("Rulebook"), texts.join("; "));
    b += &headline(l, summary, model, agg);
    grades_section(l, &mut b, summary, model)?;
    histogram_section(l, &mut b, model, agg)?;
    migration_section(l, &mut b, model, agg)?;
    shares_section(l, &mut b, agg)?;
    exceptions_section(l, &mut b, summary)?;
    worklist_section(l, &mut b, summary, agg)?;
    model_section(l, &mut b, model)?;
    Ok(format!(
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>riskgrade report {}</title><style>{STYLE}</style></head><body>{b}<script>{SCRIPT}</script></body></html>\n",
        l.html(),
        esc(&summary.as_of)
    ))
}

/// The figures a reader wants first: customers, the highest grade's share and its change
/// since the grades on file, customers to act on, overdue.
fn headline(l: Lang, summary: &Summary, model: &Model, agg: &Aggregates) -> String {
    let total = summary.customers;
    let names = model.grade_names();
    let highest = names.first().cloned().unwrap_or_default();
    let now = summary
        .grades
        .0
        .iter()
        .find(|g| g.0 == highest)
        .map_or(0, |g| g.1);
    // The grades on file of the customers graded now (those with one).
    let on_file: u64 = agg
        .migration
        .iter()
        .filter(|m| m.0.is_some())
        .map(|m| m.2)
        .sum();
    let high_on_file: u64 = agg
        .migration
        .iter()
        .filter(|m| m.0.as_deref() == Some(highest.as_str()))
        .map(|m| m.2)
        .sum();
    let share = |n: u64, d: u64| n as f64 * 100.0 / d.max(1) as f64;
    let change = if on_file > 0 {
        let d = share(now, total) - share(high_on_file, on_file);
        format!(
            "{d:+.2} {} ({:.2}%)",
            l.t("points since the grades on file"),
            share(high_on_file, on_file)
        )
    } else {
        l.t("no grades on file").to_string()
    };
    let r = &summary.reclassification;
    let cell = |v: String, what: String| format!("<div><b>{v}</b>{}</div>", esc(&what));
    format!(
        "<div class=\"headline\" id=\"headline\">{}{}{}{}</div>",
        cell(total.to_string(), l.t("customers graded").into()),
        cell(
            format!("{:.2}%", share(now, total)),
            format!("{} ({now}); {change}", l.name(&highest))
        ),
        cell(
            r.customers_needing_action.to_string(),
            l.t("customers to act on").into()
        ),
        cell(r.overdue.to_string(), l.t("overdue").into()),
    )
}

/// Grades overall, per segment, per branch.
fn grades_section(l: Lang, b: &mut String, summary: &Summary, model: &Model) -> Result<()> {
    let names = model.grade_names();
    let g = names.len();
    let total = summary.customers;
    *b += &format!("<h2>{}</h2>", l.t("Grade distribution"));
    let shown: Vec<String> = names.iter().map(|n| l.name(n)).collect();
    let counts: Vec<u64> = summary.grades.0.iter().map(|x| x.1).collect();
    *b += &figure(
        "chart-grades",
        charts::bars(l.t("Customers per grade"), &shown, &counts, |i| {
            grade_colour(i, g)
        })?,
    );
    let rows: Vec<Vec<String>> = summary
        .grades
        .0
        .iter()
        .map(|(k, n)| vec![l.name(k), n.to_string(), pct(*n, total)])
        .collect();
    *b += &table(
        "table-grades",
        &[l.t("grade"), l.t("customers"), l.t("share")],
        &rows,
    );
    let mut head: Vec<&str> = vec![l.t("key")];
    head.extend(shown.iter().map(|s| s.as_str()));
    head.extend([l.t("customers"), l.t("highest share")]);
    for (id, title, chart, dim) in [
        (
            "segment",
            "Per segment",
            "Customers per grade, per segment",
            &summary.by_segment,
        ),
        (
            "branch",
            "Per branch",
            "Customers per grade, per branch",
            &summary.by_branch,
        ),
    ] {
        let (keys, c, rows) = by_key(model, dim);
        *b += &format!("<h3>{}</h3>", l.t(title));
        *b += &figure(
            &format!("chart-{id}"),
            charts::stacked(l.t(chart), &keys, &shown, &c)?,
        );
        *b += &table(&format!("table-{id}"), &head, &rows);
    }
    Ok(())
}

/// Histogram with band edges.
fn histogram_section(l: Lang, b: &mut String, model: &Model, agg: &Aggregates) -> Result<()> {
    let g = model.grades.len();
    *b += &format!("<h2>{}</h2>", l.t("Total scores"));
    let edges: Vec<(f64, String)> = model.grades[..g - 1]
        .iter()
        .map(|gr| {
            (
                gr.lower.e4 as f64 / E4 as f64,
                format!("{} {}", l.name(&gr.name), gr.interval),
            )
        })
        .collect();
    *b += &figure(
        "chart-histogram",
        charts::histogram(
            l.t("Customers by adjusted total score, with the band edges"),
            &agg.histogram,
            &edges,
        )?,
    );
    Ok(())
}

/// Migration.
fn migration_section(l: Lang, b: &mut String, model: &Model, agg: &Aggregates) -> Result<()> {
    let names = model.grade_names();
    *b += &format!(
        "<h2>{}</h2><p class=\"note\">{}</p>",
        l.t("Migration from the grades on file"),
        l.t("Rows: grade on file; columns: the final grade of this run.")
    );
    let mut on_file: Vec<String> = names.clone();
    on_file.push("none on file".into());
    let mut mrows = Vec::new();
    for of in &on_file {
        let mut row = vec![l.name(of)];
        for n in &names {
            let v = agg
                .migration
                .iter()
                .filter(|(a, c, _)| a.as_deref().unwrap_or("none on file") == of && c == n)
                .map(|x| x.2)
                .sum::<u64>();
            row.push(v.to_string());
        }
        mrows.push(row);
    }
    let mut mhead: Vec<&str> = vec!["on file \\ new"];
    let shown: Vec<String> = names.iter().map(|n| l.name(n)).collect();
    mhead.extend(shown.iter().map(|s| s.as_str()));
    *b += &table("table-migration", &mhead, &mrows);
    Ok(())
}

/// Shares of the total.
fn shares_section(l: Lang, b: &mut String, agg: &Aggregates) -> Result<()> {
    *b += &format!("<h2>{}</h2>", l.t("What the totals are made of"));
    let all: i64 = agg.contributions.iter().map(|x| x.2).sum::<i64>().max(1);
    let mut elements: BTreeMap<String, i64> = BTreeMap::new();
    for (_, rule, v) in &agg.contributions {
        let e = match rule.get(..2) {
            Some(p) if p.starts_with('S') => format!("E{}", &p[1..]),
            _ => "other".into(),
        };
        *elements.entry(e).or_default() += v;
    }
    let ekeys: Vec<String> = elements.keys().cloned().collect();
    let evals: Vec<u64> = elements
        .values()
        .map(|v| (*v * 1000 / all) as u64)
        .collect();
    *b += &figure(
        "chart-elements",
        charts::bars(
            l.t("Share of the total per element (‰)"),
            &ekeys,
            &evals,
            |_| plotters::style::RGBColor(52, 152, 219),
        )?,
    );
    let srows: Vec<Vec<String>> = agg
        .contributions
        .iter()
        .map(|(id, rule, v)| {
            vec![
                id.clone(),
                rule.clone(),
                format!("{:.2}%", *v as f64 * 100.0 / all as f64),
            ]
        })
        .collect();
    *b += &table(
        "table-subitems",
        &[l.t("sub-item"), l.t("rule"), "Σ a·p"],
        &srows,
    );
    Ok(())
}

/// Exceptions and missing data.
fn exceptions_section(l: Lang, b: &mut String, summary: &Summary) -> Result<()> {
    let total = summary.customers;
    *b += &format!("<h2>{}</h2>", l.t("Exceptions and missing information"));
    let xrows: Vec<Vec<String>> = summary
        .direct_highest
        .0
        .iter()
        .map(|(k, v)| vec![format!("direct highest {k}"), v.to_string()])
        .chain(
            summary
                .direct_low_blocked_by
                .0
                .iter()
                .map(|(k, v)| vec![format!("direct low blocked by {k}"), v.to_string()]),
        )
        .collect();
    let xkeys: Vec<String> = summary
        .direct_highest
        .0
        .iter()
        .map(|x| x.0.clone())
        .collect();
    let xvals: Vec<u64> = summary.direct_highest.0.iter().map(|x| x.1).collect();
    *b += &figure(
        "chart-exceptions",
        charts::bars(
            l.t("Customers per direct-highest condition (XH)"),
            &xkeys,
            &xvals,
            |_| grade_colour(0, 5),
        )?,
    );
    *b += &table(
        "table-exceptions",
        &[l.t("condition"), l.t("customers")],
        &xrows,
    );
    let mut missing: Vec<(String, u64)> = summary.scored_on_missing_data.0.clone();
    missing.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mrows: Vec<Vec<String>> = missing
        .iter()
        .map(|(k, v)| vec![k.clone(), v.to_string(), pct(*v, total)])
        .collect();
    *b += &table(
        "table-missing",
        &[
            "sub-item scored on missing data (PR3)",
            l.t("customers"),
            l.t("share"),
        ],
        &mrows,
    );
    Ok(())
}

/// Work list.
fn worklist_section(l: Lang, b: &mut String, summary: &Summary, agg: &Aggregates) -> Result<()> {
    let r = &summary.reclassification;
    *b += &format!(
        "<h2>{}</h2><p>{} {}, {} {}.</p>",
        l.t("Work list"),
        r.customers_needing_action,
        l.t("customers need action"),
        r.overdue,
        l.t("overdue")
    );
    let rkeys: Vec<String> = r.per_reason.0.iter().map(|x| l.name(&x.0)).collect();
    let rvals: Vec<u64> = r.per_reason.0.iter().map(|x| x.1).collect();
    *b += &figure(
        "chart-reasons",
        charts::bars(l.t("Customers per reason"), &rkeys, &rvals, |_| {
            plotters::style::RGBColor(142, 68, 173)
        })?,
    );
    let mkeys: Vec<String> = agg
        .due_months
        .iter()
        .map(|(m, o, _)| {
            if *o {
                format!("{m} {}", l.t("overdue"))
            } else {
                m.clone()
            }
        })
        .collect();
    let mvals: Vec<u64> = agg.due_months.iter().map(|x| x.2).collect();
    let overdue_n = agg.due_months.iter().filter(|x| x.1).count();
    *b += &figure(
        "chart-due",
        charts::bars(
            l.t("Customers by month due (overdue first)"),
            &mkeys,
            &mvals,
            |i| {
                if i < overdue_n {
                    grade_colour(0, 5)
                } else {
                    plotters::style::RGBColor(41, 128, 185)
                }
            },
        )?,
    );
    let brows: Vec<Vec<String>> = r
        .per_branch
        .iter()
        .map(|(k, w)| vec![k.clone(), w.customers.to_string(), w.overdue.to_string()])
        .collect();
    *b += &table(
        "table-worklist",
        &[
            l.t("branch"),
            l.t("customers needing action"),
            l.t("overdue"),
        ],
        &brows,
    );
    Ok(())
}

/// Model.
fn model_section(l: Lang, b: &mut String, model: &Model) -> Result<()> {
    let m = &model.meta;
    *b += &format!(
        "<h2>{}</h2><p>{}</p>",
        l.t("The model (P5)"),
        esc(&m.rationale).replace('\n', " ")
    );
    let grows: Vec<Vec<String>> = model
        .grades
        .iter()
        .map(|gr| {
            vec![
                l.name(&gr.name),
                gr.interval.clone(),
                gr.review_months.to_string(),
                gr.measures.clone(),
                gr.controls.join("; "),
            ]
        })
        .collect();
    *b += &table(
        "table-bands",
        &["grade", "band", "review months", "measures", "controls"],
        &grows,
    );
    let mut wrows = Vec::new();
    for seg in &model.segments {
        for (id, w) in &seg.weights {
            wrows.push(vec![seg.name.clone(), id.clone(), fmt_e2(*w)]);
        }
    }
    *b += &table("table-weights", &["segment", "sub-item", "weight"], &wrows);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn due_months_count_the_work_list_by_month_and_overdue() {
        let d = |s: &str| Some(NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap());
        // Five rows on the work list (a reason), one not on it (counted nowhere).
        let scores = df!(
            "reasons" => [Some("review_due"), Some("grade_change"), Some("review_due"), Some("new_customer"), Some("id_expired"), None],
            "due_date" => [d("2026-11-03"), d("2026-11-30"), d("2026-10-20"), d("2027-01-05"), None, d("2026-11-03")],
            "overdue" => [false, false, true, false, false, false],
        )
        .unwrap();
        let mut got = due_months(&scores).unwrap();
        got.sort();
        let want = [
            (String::new(), false, 1),
            ("2026-10".to_string(), true, 1),
            ("2026-11".to_string(), false, 2),
            ("2027-01".to_string(), false, 1),
        ];
        assert_eq!(got, want);
    }
}
