//! What the review stage writes: the work list (`reclassify`), the grade file for the next run,
//! the extended grade history, and the summary counts.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use polars::prelude::*;
use serde::Serialize;

use super::reasons::Reason;
use crate::contract;
use crate::dates::date_lit;
use crate::error::Result;
use crate::inputs::Inputs;
use crate::model::InForce;

/// Counts by name, written as a JSON object in the order given.
#[derive(Debug, Clone, Default)]
pub struct Counts(pub Vec<(String, u64)>);

impl Serialize for Counts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de> serde::Deserialize<'de> for Counts {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Ordered;
        impl<'de> serde::de::Visitor<'de> for Ordered {
            type Value = Counts;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of counts")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> std::result::Result<Counts, A::Error> {
                let mut out = Vec::new();
                while let Some(e) = m.next_entry::<String, u64>()? {
                    out.push(e);
                }
                Ok(Counts(out))
            }
        }
        d.deserialize_map(Ordered)
    }
}

impl Counts {
    /// Adds `other`'s counts key by key; keys `self` lacks are appended in `other`'s order.
    pub fn add(&mut self, other: &Counts) {
        for (k, n) in &other.0 {
            match self.0.iter_mut().find(|(have, _)| have == k) {
                Some((_, m)) => *m += n,
                None => self.0.push((k.clone(), *n)),
            }
        }
    }
}

/// Customers needing action at one branch.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct BranchWork {
    /// Customers needing action.
    pub customers: u64,
    /// Of those, overdue.
    pub overdue: u64,
}

/// What the working-day calendar covered (T1).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct CalendarUse {
    /// Years with holiday data.
    pub years_covered: Vec<i32>,
    /// Years a T1 due date passed through without data: weekends only were counted.
    pub years_without_data_weekends_only: Vec<i32>,
}

/// The review counts of `summary.json` → `reclassification`.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ReviewSummary {
    /// Customers with at least one reason.
    pub customers_needing_action: u64,
    /// Of those, with a due date before the as-of date.
    pub overdue: u64,
    /// Customers per reason, in reason order.
    pub per_reason: Counts,
    /// Workload per branch.
    pub per_branch: BTreeMap<String, BranchWork>,
    /// `--horizon`.
    pub horizon_days: u32,
    /// Grades set by hand in force (PR4).
    pub grades_set_by_hand_in_force: u64,
    /// Calendar coverage.
    pub calendar: CalendarUse,
    /// L-SP13: the screening against the lists in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screening: Option<Screening>,
    /// Customers for whom enhanced due diligence is required (L-CDD27, 28, 30, 33, 40).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edd_required: Option<u64>,
}

/// L-SP13: every customer screened against the lists in force, and whose result changed since
/// the grade on file.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Screening {
    /// The lists screened against (the FATF lists' version).
    pub lists: String,
    /// Customers screened: every graded customer.
    pub screened: u64,
    /// Of those, whose screening result differs from the one recorded with the grade on file.
    pub result_changed: u64,
}

impl ReviewSummary {
    /// The counts of a book from those of its buckets (`riskgrade merge`): sums, the
    /// branches' workloads added, the years without calendar data joined.
    pub fn merge(parts: &[ReviewSummary]) -> Option<ReviewSummary> {
        let mut out = parts.first()?.clone();
        for p in &parts[1..] {
            out.customers_needing_action += p.customers_needing_action;
            out.overdue += p.overdue;
            out.per_reason.add(&p.per_reason);
            for (b, w) in &p.per_branch {
                let e = out.per_branch.entry(b.clone()).or_insert(BranchWork {
                    customers: 0,
                    overdue: 0,
                });
                e.customers += w.customers;
                e.overdue += w.overdue;
            }
            out.grades_set_by_hand_in_force += p.grades_set_by_hand_in_force;
            if let (Some(a), Some(b)) = (out.edd_required.as_mut(), p.edd_required) {
                *a += b;
            }
            if let (Some(a), Some(b)) = (out.screening.as_mut(), p.screening.as_ref()) {
                a.screened += b.screened;
                a.result_changed += b.result_changed;
            }
            let years = &mut out.calendar.years_without_data_weekends_only;
            years.extend(&p.calendar.years_without_data_weekends_only);
            years.sort_unstable();
            years.dedup();
        }
        Some(out)
    }
}

/// One row per customer needing action, earliest due date first, then by customer id.
pub fn reclassify(df: &DataFrame) -> Result<DataFrame> {
    // The rows to act on put in order on the two keys alone, then each column gathered once in
    // that order: filtered and then sorted, the 19 columns were copied twice (at 10M customers
    // the work list holds 6.7M rows).
    Ok(df.select(WORK_LIST)?.take(&work_list_order(df)?)?)
}

/// The row numbers of the work list's rows (those with `reasons`) in its order: by `due_date`,
/// then `customer_id`. Rows flagged in ascending id order (as the features leave a book whose
/// customers file is) are already in id order: a stable sort on the due date alone keeps them
/// so among equal dates, without comparing text or a second key.
fn work_list_order(df: &DataFrame) -> Result<IdxCa> {
    let ids_ascending =
        df.column("customer_id")?.is_sorted_flag() == polars::series::IsSorted::Ascending;
    let rows = df
        .select(["reasons", "due_date", "customer_id"])?
        .lazy()
        .with_row_index("_row", None)
        .filter(col("reasons").is_not_null());
    let sorted = if ids_ascending {
        rows.sort(
            ["due_date"],
            SortMultipleOptions::default().with_maintain_order(true),
        )
    } else {
        rows.sort(["due_date", "customer_id"], SortMultipleOptions::default())
    };
    let order = sorted.select([col("_row")]).collect()?;
    Ok(order.column("_row")?.idx()?.clone())
}

/// The columns of the review's frame that [`reclassify`], [`grades_next`] and [`history`]
/// read: the work list's and six more.
pub fn sources() -> Vec<&'static str> {
    let more = [
        "_override_valid",
        "override_on",
        "override_by",
        "reviewer",
        "screening",
        "adjusted_score",
    ];
    WORK_LIST.iter().chain(&more).copied().collect()
}

/// The columns of the work list (`reclassify.parquet`, `reclassify.csv`), in order.
const WORK_LIST: [&str; 19] = [
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
    "action",
];

/// The grade file for the next run: the final grade; a first grading starts the clock (T3),
/// and a grade set by hand counts as a review on the day it was set (PR4).
pub fn grades_next(df: &DataFrame, as_of: NaiveDate, lists: &str) -> Result<DataFrame> {
    let today = date_lit(as_of);
    Ok(df
        .clone()
        .lazy()
        .select([
            col("customer_id"),
            col("institution_id"),
            col("grade"),
            col("first_graded").fill_null(today.clone()),
            when(
                col("_override_valid").and(
                    col("override_on")
                        .gt(col("last_reviewed"))
                        .fill_null(lit(true)),
                ),
            )
            .then(col("override_on"))
            .otherwise(col("last_reviewed").fill_null(today))
            .alias("last_reviewed"),
            when(col("_override_valid"))
                .then(col("override_by"))
                .otherwise(col("reviewer"))
                .alias("reviewer"),
            col("basis"),
            // What this grading was screened against and found (L-SP13), for the next run.
            lit(lists.to_string()).alias("screened_lists"),
            col("screening"),
        ])
        .sort(["customer_id"], SortMultipleOptions::default())
        .collect()?)
}

/// Every grading (M4): the input history, plus this run's first gradings and grade changes,
/// sorted by customer and date.
pub fn history(df: &DataFrame, inputs: &Inputs, as_of: NaiveDate) -> Result<DataFrame> {
    let new_rows = df
        .clone()
        .lazy()
        .filter(
            col("grade_on_file")
                .is_null()
                .or(col("grade_on_file").neq(col("grade"))),
        )
        .select([
            col("customer_id"),
            col("institution_id"),
            col("grade"),
            col("grade_on_file").alias("previous_grade"),
            date_lit(as_of).alias("graded_on"),
            col("basis"),
            col("adjusted_score").alias("total_score"),
        ])
        .sort(["customer_id"], SortMultipleOptions::default());
    // In customer order, each customer's gradings by date, the input's order kept among
    // gradings of one day and this run's last: the same rows in the same order however the
    // book was split into buckets (`riskgrade merge`).
    let all = match inputs.get(&contract::HISTORY) {
        Some(h) => concat([h, new_rows], UnionArgs::default())?,
        None => new_rows,
    };
    Ok(all
        .sort(
            ["customer_id", "graded_on"],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .collect()?)
}

fn true_count(df: &DataFrame, name: &str) -> Result<u64> {
    Ok(df.column(name)?.bool()?.sum().unwrap_or(0) as u64)
}

/// Customers per reason, overdue, and the workload per branch.
pub fn summary(
    df: &DataFrame,
    horizon_days: u32,
    calendar: CalendarUse,
    law: InForce,
    lists: &str,
) -> Result<ReviewSummary> {
    let mut per_reason = Counts::default();
    for r in Reason::ALL.into_iter().filter(|r| r.active(law)) {
        per_reason
            .0
            .push((r.name().to_string(), true_count(df, &r.flag())?));
    }
    let branch = df
        .clone()
        .lazy()
        .filter(col("reasons").is_not_null())
        .group_by([col("branch_id")])
        .agg([
            len().cast(DataType::UInt64).alias("customers"),
            col("overdue").cast(DataType::UInt64).sum().alias("overdue"),
        ])
        .collect()?;
    let (b, c, o) = (
        branch.column("branch_id")?.str()?,
        branch.column("customers")?.u64()?,
        branch.column("overdue")?.u64()?,
    );
    let per_branch = b
        .iter()
        .zip(c.iter())
        .zip(o.iter())
        .map(|((b, c), o)| {
            (
                b.unwrap_or("").to_string(),
                BranchWork {
                    customers: c.unwrap_or(0),
                    overdue: o.unwrap_or(0),
                },
            )
        })
        .collect();
    // L-SP13: every customer is screened against the lists in force; the count of those whose
    // result differs from the one recorded with their grade on file.
    let screening = if law.sp {
        Some(Screening {
            lists: lists.to_string(),
            screened: df.height() as u64,
            result_changed: true_count(df, &Reason::ListChange.flag())?,
        })
    } else {
        None
    };
    // The work list's rows are those with a reason.
    let listed = df.column("reasons")?.is_not_null();
    let overdue = &listed & df.column("overdue")?.bool()?;
    Ok(ReviewSummary {
        customers_needing_action: listed.sum().unwrap_or(0) as u64,
        overdue: overdue.sum().unwrap_or(0) as u64,
        per_reason,
        per_branch,
        horizon_days,
        grades_set_by_hand_in_force: true_count(df, "_override_valid")?,
        calendar,
        screening,
        edd_required: if law.cdd {
            Some(true_count(df, "edd_required")?)
        } else {
            None
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `df` with its `customer_id` flagged as in ascending order, as the features flag it.
    fn ids_flagged_sorted(df: &DataFrame) -> DataFrame {
        let mut flagged = df.clone();
        let mut ids = flagged.column("customer_id").unwrap().clone();
        ids.set_sorted_flag(polars::series::IsSorted::Ascending);
        flagged.with_column(ids).unwrap();
        flagged
    }

    #[test]
    fn work_list_by_due_date_then_customer_whether_or_not_ids_are_flagged_sorted() {
        let d = |s: &str| Some(NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap());
        let df = df!(
            "customer_id" => ["C1", "C2", "C3", "C4", "C5", "C6"],
            "reasons" => [Some("review_due"), None, Some("grade_change"), Some("new_customer"), Some("review_due"), Some("id_expired")],
            "due_date" => [d("2026-11-30"), d("2026-10-01"), d("2026-11-03"), d("2026-11-30"), None, d("2026-11-03")],
        )
        .unwrap();
        // No due date first (nulls sort first), then 3 Nov (C3, C6), then 30 Nov (C1, C4);
        // C2 has no reason.
        let want: Vec<Option<IdxSize>> = [4, 2, 5, 0, 3].map(Some).to_vec();
        let unflagged: Vec<Option<IdxSize>> = work_list_order(&df).unwrap().iter().collect();
        assert_eq!(unflagged, want);
        let got: Vec<Option<IdxSize>> = work_list_order(&ids_flagged_sorted(&df))
            .unwrap()
            .iter()
            .collect();
        assert_eq!(got, want);
    }

    /// Many customers on few due dates: with the ids flagged in order, the rows sorted on the
    /// due date alone keep id order among equal dates, as the sort on (due date, text id) puts
    /// them: the order among equal dates comes from the rows' order alone.
    #[test]
    fn work_list_ties_in_id_order_when_ids_are_flagged_sorted() {
        let n = 20_000;
        let ids: Vec<String> = (0..n).map(|i| format!("C{i:05}")).collect();
        let day = |i: usize| NaiveDate::from_ymd_opt(2026, 11, 1 + (i * 7919 % 5) as u32);
        let due: Vec<Option<NaiveDate>> = (0..n)
            .map(|i| if i % 13 == 0 { None } else { day(i) })
            .collect();
        let reasons: Vec<Option<&str>> = (0..n)
            .map(|i| (i % 3 != 0).then_some("review_due"))
            .collect();
        let df = df!("customer_id" => ids, "reasons" => reasons, "due_date" => due).unwrap();
        let by_text: Vec<Option<IdxSize>> = work_list_order(&df).unwrap().iter().collect();
        let by_row: Vec<Option<IdxSize>> = work_list_order(&ids_flagged_sorted(&df))
            .unwrap()
            .iter()
            .collect();
        assert_eq!(by_row.len(), (0..n).filter(|i| i % 3 != 0).count());
        assert_eq!(by_row, by_text);
    }
}
