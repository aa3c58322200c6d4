//! A customer's rating sheet (`riskgrade explain`): every sub-item with the feature values that
//! decided it, the rule that fired, its score, weight and contribution; the total, regional
//! coefficient and adjusted score; the direct-highest conditions met and direct-low
//! disqualifiers; the grade on file, a grade set by hand and its reviewer; the reasons to act and
//! the due date. Read from a run's outputs and its `features.parquet` (`assess --keep-features`),
//! one customer's rows only; names and ID numbers only when asked for.

use std::path::Path;

use polars::prelude::*;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::inputs::scan_path;
use crate::model::{fmt_e2, Model, E2};
use crate::report::lang::Lang;
use crate::run_folder::{RunFolder, BENEFICIAL_OWNERS, FEATURES, GRADES_NEXT, RECLASSIFY, SCORES};
use crate::scoring;

/// One rule of a sub-item, as it read this customer.
#[derive(Debug, Clone, Serialize)]
pub struct RuleLine {
    /// The feature read.
    pub feature: String,
    /// Its value for the customer (`missing` when null).
    pub value: String,
    /// Whether the rule applies to the customer's kind.
    pub applies: bool,
    /// The score the rule gives (None: missing or doubtful, or not applying).
    pub score: Option<u8>,
}

/// One sub-item of the sheet.
#[derive(Debug, Clone, Serialize)]
pub struct SubitemLine {
    /// Id (score column).
    pub id: String,
    /// Label.
    pub label: String,
    /// Rulebook ID.
    pub rule_id: String,
    /// The rules.
    pub rules: Vec<RuleLine>,
    /// The sub-item's score (the highest of the rules that apply; the missing score where
    /// information is missing).
    pub score: u8,
    /// Scored on missing information (PR3).
    pub missing: bool,
    /// Weight in the customer's segment.
    pub weight: String,
    /// Score × weight / m: points of total score.
    pub points: f64,
}

/// A beneficial owner of an entity customer (L-BOI6), from the run's beneficial-owners file.
#[derive(Debug, Clone, Serialize)]
pub struct OwnerLine {
    /// The person.
    pub person_id: String,
    /// equity, voting, control, state_owned_representative or fallback.
    pub basis: String,
    /// Effective equity.
    pub effective_share: f64,
    /// Effective income or voting rights.
    pub voting_share: f64,
    /// The path that made the person a beneficial owner, from the customer up.
    pub path: String,
    /// The person's PEP relation and watch-list hit.
    pub pep_relation: Option<String>,
    /// On a monitoring list.
    pub watchlist_hit: Option<bool>,
}

/// A customer's rating sheet.
#[derive(Debug, Clone, Serialize)]
pub struct Sheet {
    /// Customer number.
    pub customer_id: String,
    /// Institution.
    pub institution_id: String,
    /// Branch.
    pub branch_id: String,
    /// Name and ID number, with `--with-pii` only.
    pub identity: Option<(String, String)>,
    /// natural or non_natural.
    pub kind: String,
    /// Segment.
    pub segment: String,
    /// The run's as-of date.
    pub as_of: String,
    /// Model id and version.
    pub model: String,
    /// The sub-items adopted in the segment.
    pub subitems: Vec<SubitemLine>,
    /// Σ a·(p × 100).
    pub weighted_sum: i64,
    /// Σ a·p / m.
    pub total_score: f64,
    /// Regional coefficient (M2).
    pub regional_coefficient: f64,
    /// min(100, total × coefficient).
    pub adjusted_score: f64,
    /// The grade the score gives.
    pub scored_grade: String,
    /// Direct-highest conditions met (XH).
    pub direct_highest: Option<String>,
    /// Direct-low disqualifiers of an eligible customer (XL).
    pub direct_low_blocked_by: Option<String>,
    /// The model's grade.
    pub computed_grade: String,
    /// The final grade.
    pub grade: String,
    /// scored, direct_highest, direct_low or override.
    pub basis: String,
    /// The grade on file before the run.
    pub grade_on_file: Option<String>,
    /// Who last reviewed or set the grade, and when (next grade file).
    pub reviewer: Option<String>,
    /// The last review.
    pub last_reviewed: Option<String>,
    /// A grade set by hand on file (PR4).
    pub override_grade: Option<String>,
    /// Reasons to act, comma-joined, if any.
    pub reasons: Option<String>,
    /// The due date of the action.
    pub due_date: Option<String>,
    /// Whether the action is overdue.
    pub overdue: Option<bool>,
    /// The branch-level adjustment whose rules scored the customer (M2).
    pub overlay: Option<String>,
    /// Whether enhanced due diligence is required, and why (L-CDD27, 28, 30, 33, 40).
    pub edd: Option<String>,
    /// The recorded class of a direct-low grade (L-CDD29).
    pub direct_low_class: Option<String>,
    /// Its beneficial owners, where the run had an ownership graph and the customer is an
    /// entity (None: no graph).
    pub owners: Option<Vec<OwnerLine>>,
    /// The model's page language (`[model] language`), for the default of `--lang`.
    #[serde(skip)]
    pub model_language: Option<String>,
}

/// The customer's rows of the run's beneficial-owners file (None: the run had no graph).
fn owners_of(run: &RunFolder, customer: &str) -> Result<Option<Vec<OwnerLine>>> {
    if !run.has(BENEFICIAL_OWNERS) {
        return Ok(None);
    }
    let Some(lf) = run.scan_for(BENEFICIAL_OWNERS, customer)? else {
        return Ok(Some(vec![]));
    };
    let df = lf
        .filter(
            col("customer_id")
                .eq(lit(customer.to_string()))
                .and(col("person_id").is_not_null()),
        )
        .collect()?;
    let mut out = Vec::new();
    for i in 0..df.height() {
        let row = df.slice(i as i64, 1);
        out.push(OwnerLine {
            person_id: text(&row, "person_id").unwrap_or_default(),
            basis: text(&row, "basis").unwrap_or_default(),
            effective_share: float(&row, "effective_share").unwrap_or(0.0),
            voting_share: float(&row, "voting_share").unwrap_or(0.0),
            path: text(&row, "path").unwrap_or_default(),
            pep_relation: text(&row, "person_pep_relation"),
            watchlist_hit: row.column("person_watchlist_hit")?.bool()?.get(0),
        });
    }
    Ok(Some(out))
}

/// The rows of `customer` in a frame; a customer found twice is refused (P3: one grade per
/// customer).
fn one_row(lf: LazyFrame, file: &str, customer: &str) -> Result<Option<DataFrame>> {
    let df = lf
        .filter(col("customer_id").eq(lit(customer.to_string())))
        .collect()?;
    if df.height() > 1 {
        return Err(Error::Input(format!(
            "{file}: customer {customer} appears {} times; each customer is graded once (P3)",
            df.height()
        )));
    }
    Ok((df.height() == 1).then_some(df))
}

fn text(df: &DataFrame, c: &str) -> Option<String> {
    let col = df.column(c).ok()?;
    let v = col.get(0).ok()?;
    if v.is_null() {
        None
    } else {
        Some(match v {
            AnyValue::String(s) => s.to_string(),
            AnyValue::StringOwned(s) => s.to_string(),
            other => other.to_string(),
        })
    }
}

fn float(df: &DataFrame, c: &str) -> Result<f64> {
    Ok(df
        .column(c)?
        .cast(&DataType::Float64)?
        .f64()?
        .get(0)
        .unwrap_or(0.0))
}

/// The run's model: the model file named in its manifest, checked to be the model the run used.
fn model_of(run: &RunFolder) -> Result<Model> {
    let a = run.assessment();
    let file = a.model_file.as_str();
    let model = if file == crate::model::BUILTIN {
        Model::builtin()?
    } else {
        Model::load(Path::new(file))?
    };
    let same = serde_json::to_value(&model).ok().as_ref() == Some(&a.model);
    if !same {
        return Err(Error::Input(format!(
            "{file}: the model file changed since the run; explain reads the model the run used"
        )));
    }
    Ok(model)
}

/// Every sub-item the customer's segment weighs: each rule with the feature value, whether it
/// applies and its score, evaluated by the run's own expressions over the feature row `f`;
/// the sub-item's score from `s`, weight and points.
fn subitem_lines(
    model: &Model,
    seg: &crate::model::Segment,
    f: &DataFrame,
    s: &DataFrame,
    missing: &[String],
    rules_of: &dyn Fn(&crate::model::Subitem) -> Vec<crate::model::Rule>,
) -> Result<Vec<SubitemLine>> {
    let mut exprs = Vec::new();
    for sub in &model.subitems {
        for (j, r) in rules_of(sub).iter().enumerate() {
            exprs.push(scoring::rule_score(&r.feature, &r.kind).alias(format!("_{}_{j}", sub.id)));
            let on = scoring::rule_applies(r).unwrap_or(lit(true));
            exprs.push(
                on.fill_null(lit(false))
                    .alias(format!("_on_{}_{j}", sub.id)),
            );
        }
    }
    let scored = f.clone().lazy().select(exprs).collect()?;
    let m = model.m() as f64;
    let mut subitems = Vec::new();
    for sub in &model.subitems {
        let w = seg.weight_e2(&sub.id);
        if w == 0 {
            continue;
        }
        let rules = rules_of(sub)
            .iter()
            .enumerate()
            .map(|(j, r)| {
                let applies = scored
                    .column(&format!("_on_{}_{j}", sub.id))?
                    .bool()?
                    .get(0)
                    .unwrap_or(false);
                Ok(RuleLine {
                    feature: r.feature.clone(),
                    value: text(f, &r.feature).unwrap_or_else(|| "missing".into()),
                    applies,
                    score: if applies {
                        scored
                            .column(&format!("_{}_{j}", sub.id))?
                            .cast(&DataType::UInt8)?
                            .u8()?
                            .get(0)
                    } else {
                        None
                    },
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let score = s
            .column(&sub.id)?
            .cast(&DataType::UInt8)?
            .u8()?
            .get(0)
            .unwrap_or(0);
        subitems.push(SubitemLine {
            id: sub.id.clone(),
            label: sub.label.clone(),
            rule_id: sub.rule_id.clone(),
            rules,
            score,
            missing: missing.contains(&sub.id),
            weight: fmt_e2(w),
            points: score as f64 * w as f64 / (E2 as f64 * m),
        });
    }
    Ok(subitems)
}

/// The customer's name and id number (`--with-pii`), from the run's own customers file (of
/// the customer's bucket in a run of datasets).
fn identity_of(run: &RunFolder, customer: &str) -> Result<Option<(String, String)>> {
    let file = crate::contract::CUSTOMERS.file;
    let files = match run.buckets() {
        Some(n) => vec![run.input_of_bucket(file, crate::bucket::of(customer, n))?],
        None => run.inputs(file)?,
    };
    let scans = files
        .iter()
        .map(|p| scan_path(p))
        .collect::<Result<Vec<_>>>()?;
    Ok(
        one_row(concat(scans, UnionArgs::default())?, file, customer)?.map(|c| {
            (
                text(&c, "customer_name").unwrap_or_else(|| "@N".into()),
                text(&c, "id_number").unwrap_or_else(|| "@N".into()),
            )
        }),
    )
}

/// Builds the sheet of `customer` from the run in `run`; every file read is checked against
/// the run's manifest first.
pub fn sheet(run_dir: &Path, customer: &str, with_pii: bool) -> Result<Sheet> {
    let run = RunFolder::open(run_dir)?;
    if !run.has(FEATURES) {
        return Err(Error::Usage(format!(
            "--run {}: the run was made without --keep-features, so the feature values behind its grades were not kept; rerun riskgrade assess with --keep-features to explain a grade",
            run_dir.display()
        )));
    }
    let model = model_of(&run)?;
    let scan = |name: &str| -> Result<LazyFrame> {
        Ok(run.scan_for(name, customer)?.unwrap_or_else(|| {
            DataFrame::empty_with_schema(&Schema::from_iter([Field::new(
                "customer_id".into(),
                DataType::String,
            )]))
            .lazy()
        }))
    };
    let f = one_row(scan(FEATURES)?, FEATURES, customer)?.ok_or_else(|| {
        Error::Usage(format!(
            "--customer {customer}: no such customer in this run"
        ))
    })?;
    let s = one_row(scan(SCORES)?, SCORES, customer)?.ok_or_else(|| {
        Error::Usage(format!(
            "--customer {customer}: not graded in this run (left out by the model's scope, SC2)"
        ))
    })?;
    let next = one_row(scan(GRADES_NEXT)?, GRADES_NEXT, customer)?;
    let work = one_row(scan(RECLASSIFY)?, RECLASSIFY, customer)?;
    let kind = text(&s, "kind").unwrap_or_default();
    let segment = text(&s, "segment").unwrap_or_default();
    let seg = model
        .segments
        .iter()
        .find(|g| g.name == segment)
        .ok_or_else(|| Error::Internal(format!("segment {segment} not in the model")))?;
    let missing: Vec<String> = text(&s, "missing_subitems")
        .map(|m| m.split(',').map(String::from).collect())
        .unwrap_or_default();
    // The branch-level adjustment that applied (M2): its rules replace head office's there.
    let overlay = text(&s, "overlay");
    let adjusted = overlay
        .as_ref()
        .and_then(|name| model.overlays.iter().find(|o| &o.name == name));
    let rules_of = |sub: &crate::model::Subitem| -> Vec<crate::model::Rule> {
        adjusted
            .and_then(|o| o.rules.get(&sub.id).cloned())
            .unwrap_or_else(|| sub.rules.clone())
    };
    let subitems = subitem_lines(&model, seg, &f, &s, &missing, &rules_of)?;
    let identity = if with_pii {
        identity_of(&run, customer)?
    } else {
        None
    };
    let from = |df: &Option<DataFrame>, c: &str| df.as_ref().and_then(|d| text(d, c));
    let owners = if kind == "non_natural" {
        owners_of(&run, customer)?
    } else {
        None
    };
    Ok(Sheet {
        customer_id: customer.to_string(),
        institution_id: text(&s, "institution_id").unwrap_or_default(),
        branch_id: text(&s, "branch_id").unwrap_or_default(),
        identity,
        kind,
        segment,
        as_of: run.assessment().as_of.clone(),
        model: format!("{} {}", model.meta.id, model.meta.version),
        subitems,
        weighted_sum: s
            .column("weighted_sum")?
            .cast(&DataType::Int64)?
            .i64()?
            .get(0)
            .unwrap_or(0),
        total_score: float(&s, "total_score")?,
        regional_coefficient: float(&s, "regional_coefficient")?,
        adjusted_score: float(&s, "adjusted_score")?,
        scored_grade: text(&s, "scored_grade").unwrap_or_default(),
        direct_highest: text(&s, "direct_highest"),
        direct_low_blocked_by: text(&s, "direct_low_blocked_by"),
        computed_grade: text(&s, "computed_grade").unwrap_or_default(),
        grade: text(&s, "grade").unwrap_or_default(),
        basis: text(&s, "basis").unwrap_or_default(),
        grade_on_file: text(&s, "grade_on_file"),
        reviewer: from(&next, "reviewer"),
        last_reviewed: from(&next, "last_reviewed"),
        override_grade: from(&work, "override_grade"),
        reasons: from(&work, "reasons"),
        due_date: from(&work, "due_date"),
        overdue: work
            .as_ref()
            .and_then(|w| w.column("overdue").ok()?.bool().ok()?.get(0)),
        overlay,
        edd: text(&s, "edd_reasons"),
        direct_low_class: text(&s, "direct_low_class"),
        owners,
        model_language: model.meta.language.clone(),
    })
}

impl Sheet {
    /// The sheet as text, in language `l`.
    pub fn text(&self, l: Lang) -> String {
        let t = |e: &'static str| l.t(e);
        let none = t("none");
        let mut s = format!(
            "{} {} ({} {}, {} {}), {} {}, {} {}\n",
            t("rating sheet of customer"),
            self.customer_id,
            t("institution"),
            self.institution_id,
            t("branch"),
            self.branch_id,
            t("as of"),
            self.as_of,
            t("model"),
            self.model
        );
        if let Some((n, i)) = &self.identity {
            s += &format!("{} {n}, {} {i}\n", t("name"), t("ID"));
        }
        s += &format!(
            "{} {}, {} {}\n",
            t("kind"),
            self.kind,
            t("segment"),
            self.segment
        );
        if let Some(o) = &self.overlay {
            s += &format!(
                "{} {o} {}\n",
                t("branch-level adjustment"),
                t("(M2): its rules score the sub-items it names")
            );
        }
        s += "\n";
        s += &format!(
            "{:<8} {:<8} {:>6} {:>7} {:>7}  {}\n",
            t("sub-item"),
            t("rule"),
            t("score"),
            t("weight"),
            t("points"),
            t("rules (feature = value → score)")
        );
        for sub in &self.subitems {
            let rules: Vec<String> = sub
                .rules
                .iter()
                .map(|r| {
                    if !r.applies {
                        format!("{} ({})", r.feature, t("not applicable"))
                    } else {
                        format!(
                            "{} = {} → {}",
                            r.feature,
                            r.value,
                            r.score.map_or(t("missing").into(), |x| x.to_string())
                        )
                    }
                })
                .collect();
            s += &format!(
                "{:<8} {:<8} {:>6} {:>7} {:>7.2}  {}{}\n",
                sub.id,
                sub.rule_id,
                sub.score,
                sub.weight,
                sub.points,
                rules.join("; "),
                if sub.missing {
                    format!("  [{}]", t("missing information, PR3"))
                } else {
                    String::new()
                }
            );
        }
        s += &format!(
            "\n{} {} → {} {} × {} {} → {} {}; {} {}\n",
            t("weighted sum"),
            self.weighted_sum,
            t("total"),
            self.total_score,
            t("regional coefficient"),
            self.regional_coefficient,
            t("adjusted"),
            self.adjusted_score,
            t("scored grade"),
            l.name(&self.scored_grade)
        );
        s += &format!(
            "{}: {}; {}: {}\n",
            t("direct highest"),
            self.direct_highest.as_deref().unwrap_or(none),
            t("direct low blocked by"),
            self.direct_low_blocked_by.as_deref().unwrap_or("-")
        );
        let grade = |g: Option<&str>| g.map_or_else(|| none.to_string(), |g| l.name(g));
        s += &format!(
            "{} {}, {} {} ({} {}); {} {}; {} {}; {} {} {} {}\n",
            t("computed grade"),
            l.name(&self.computed_grade),
            t("final grade"),
            l.name(&self.grade),
            t("basis"),
            self.basis,
            t("grade on file"),
            grade(self.grade_on_file.as_deref()),
            t("set by hand"),
            grade(self.override_grade.as_deref()),
            t("reviewer"),
            self.reviewer.as_deref().unwrap_or("-"),
            t("on"),
            self.last_reviewed.as_deref().unwrap_or("-")
        );
        if let Some(c) = &self.direct_low_class {
            s += &format!("{}: {c} (L-CDD29)\n", t("direct-low class"));
        }
        if let Some(e) = &self.edd {
            s += &format!("{}: {e}\n", t("enhanced due diligence"));
        }
        s += &self.owners_text(l);
        s += &match &self.reasons {
            Some(r) => format!(
                "{}: {}, {} {}{}\n",
                t("action"),
                r.split(',')
                    .map(|x| l.name(x))
                    .collect::<Vec<_>>()
                    .join(","),
                t("due"),
                self.due_date.as_deref().unwrap_or("-"),
                if self.overdue == Some(true) {
                    format!(" ({})", t("overdue"))
                } else {
                    String::new()
                }
            ),
            None => format!("{}\n", t("no action needed")),
        };
        s
    }

    /// The beneficial owners' lines (L-BOI6), if the customer is an entity of a book with a
    /// graph.
    fn owners_text(&self, l: Lang) -> String {
        let t = |e: &'static str| l.t(e);
        match self.owners.as_deref() {
            None => String::new(),
            Some([]) => format!(
                "{}: {}\n",
                t("beneficial owners (L-BOI6)"),
                t("none identified, and no one runs its daily business on file")
            ),
            Some(owners) => {
                let mut s = format!("{}:\n", t("beneficial owners (L-BOI6)"));
                for o in owners {
                    let flags = [
                        o.pep_relation
                            .as_deref()
                            .filter(|p| *p != "none")
                            .map(|p| format!("{} {p}", t("PEP relation"))),
                        (o.watchlist_hit == Some(true))
                            .then(|| t("on a monitoring list").to_string()),
                    ]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>();
                    s += &format!(
                        "  {} {} {}: {} {:.2} %, {} {:.2} %; {} {}{}\n",
                        o.person_id,
                        t("by"),
                        o.basis,
                        t("equity"),
                        o.effective_share * 100.0,
                        t("voting"),
                        o.voting_share * 100.0,
                        t("path"),
                        o.path,
                        if flags.is_empty() {
                            String::new()
                        } else {
                            format!(" ({})", flags.join(", "))
                        }
                    );
                }
                s
            }
        }
    }

    /// The sheet as a self-contained HTML page, in language `l`.
    pub fn html(&self, l: Lang) -> String {
        use crate::report::html::esc;
        let mut rows = String::new();
        for l in &self.subitems {
            let rules: Vec<String> = l
                .rules
                .iter()
                .map(|r| {
                    if r.applies {
                        format!(
                            "{} = {} → {}",
                            esc(&r.feature),
                            esc(&r.value),
                            r.score.map_or("missing".into(), |x| x.to_string())
                        )
                    } else {
                        format!("{} (not applicable)", esc(&r.feature))
                    }
                })
                .collect();
            rows += &format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td><td>{}</td></tr>",
                esc(&l.id),
                esc(&l.label),
                esc(&l.rule_id),
                l.score,
                esc(&l.weight),
                l.points,
                rules.join("<br>")
            );
        }
        crate::guard::signed_page(&format!(
            "<title>{title} {id}</title><style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:3px 8px}}</style></head><body><h1>{title} {id}</h1><pre>{text}</pre><table><tr><th>sub-item</th><th>label</th><th>rule</th><th>score</th><th>weight</th><th>points</th><th>rules</th></tr>{rows}</table></body></html>\n",
            id = esc(&self.customer_id),
            title = l.t("rating sheet of customer"),
            text = esc(&self.text(l))
        ))
    }
}
