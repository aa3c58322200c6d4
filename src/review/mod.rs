//! Reclassification and review scheduling (P4, T1–T4, PR4): compares the new grades with the
//! grades on file, applies grades set by hand, reads trigger events, and lists every customer
//! that needs action with all its reasons and a due date. Also builds the grade file for the
//! next run and the grade history.
//!
//! `on_file` joins what the institution has on file and sets the final grade, `due` computes
//! the due dates (T1–T3), `reasons` says once per reason when it applies, `outputs` writes the
//! work list, the next grade file, the history and the counts.

mod due;
mod law;
mod on_file;
mod outputs;
mod reasons;

use chrono::NaiveDate;
use polars::lazy::dsl;
use polars::prelude::*;

use crate::calendar::Calendar;
use crate::dates::date_lit;
use crate::error::Result;
use crate::inputs::Inputs;
use crate::model::{InForce, Model};
use crate::scoring::names_where;

pub use due::add_months;
pub use outputs::{BranchWork, CalendarUse, Counts, ReviewSummary};
pub use reasons::Reason;

/// Results of the review stage. The work list, the next grade file and the history are made
/// from `scores` one at a time as they are written ([`Review::reclassify`],
/// [`Review::grades_next`], [`Review::history`]), so that no two of them are held at once (at
/// 10M customers each is a gigabyte or more).
#[derive(Debug)]
pub struct Review {
    /// The scores with the final `grade` and `basis` (overrides applied), `grade_on_file`, and
    /// what the outputs are made from.
    pub scores: DataFrame,
    /// Counts for summary.json.
    pub summary: ReviewSummary,
    as_of: NaiveDate,
    lists: String,
}

impl Review {
    /// One row per customer needing action, earliest due date first (`reclassify.parquet`).
    pub fn reclassify(&self) -> Result<DataFrame> {
        outputs::reclassify(&self.scores)
    }

    /// The grade file for the next run (`grades_next.parquet`).
    pub fn grades_next(&self) -> Result<DataFrame> {
        outputs::grades_next(&self.scores, self.as_of, &self.lists)
    }

    /// Every grading, the input history's and this run's (`grade_history.parquet`).
    pub fn history(&self, inputs: &Inputs) -> Result<DataFrame> {
        outputs::history(&self.scores, inputs, self.as_of)
    }

    /// Keeps only the columns the three outputs above are made from (once the scores file,
    /// the summary and the report are made).
    pub fn keep_output_sources(&mut self) -> Result<()> {
        self.scores = self.scores.select(outputs::sources())?;
        Ok(())
    }
}

/// The grade on file and the last review of every customer of `customers` (with
/// `customer_id`, `institution_id`), a grade set by hand counting as a review (PR4), as the
/// review stage reads them.
pub fn on_file_now(customers: LazyFrame, inputs: &Inputs, as_of: NaiveDate) -> Result<LazyFrame> {
    let customers = customers
        .select([col("customer_id"), col("institution_id")])
        .collect()?;
    Ok(on_file::on_file(customers, inputs, as_of)?.lazy().select([
        col("customer_id"),
        col("institution_id"),
        col("grade_on_file"),
        col("last_reviewed"),
    ]))
}

/// What the review stage reads besides the scored customers.
pub struct Setting<'a> {
    /// The input files.
    pub inputs: &'a Inputs,
    /// The model (its texts in force set for the as-of date).
    pub model: &'a Model,
    /// The as-of date.
    pub as_of: NaiveDate,
    /// `--horizon`.
    pub horizon_days: u32,
    /// The working-day calendar (T1).
    pub calendar: &'a Calendar,
    /// The lists screened against (the FATF lists' version), recorded in the next grade file
    /// (L-SP13).
    pub lists: &'a str,
}

/// Runs the review stage over the scored customers.
pub fn review(scored: DataFrame, s: Setting<'_>) -> Result<Review> {
    let (inputs, model, as_of, horizon_days, calendar) =
        (s.inputs, s.model, s.as_of, s.horizon_days, s.calendar);
    // Each step's working memory goes back before the next (at 10M customers a step's
    // leftovers, held a second, were what set the job's peak).
    let step = || crate::alloc::release_freed_memory();
    let df = on_file::final_grades(scored, inputs, model, as_of)?;
    step();
    let due = due::DueDates::of(&df, calendar)?;
    let missing_years = due.missing_years.clone();
    let horizon_end = as_of + chrono::Days::new(horizon_days as u64);
    let df = crate::layout::with_columns(df, due.columns()?)?;
    step();
    let df = law::with_law_columns(df, inputs, model)?;
    step();
    let df = with_reasons(df, as_of, horizon_end, model.law)?;
    let calendar_use = CalendarUse {
        years_covered: calendar.years(),
        years_without_data_weekends_only: missing_years.into_iter().collect(),
    };
    let summary = outputs::summary(&df, horizon_days, calendar_use, model.law, s.lists)?;
    Ok(Review {
        scores: df,
        summary,
        as_of,
        lists: s.lists.to_string(),
    })
}

/// Every reason's flag, the `reasons` that apply (comma-joined), the earliest `due_date` and
/// whether it is `overdue`.
fn with_reasons(
    df: DataFrame,
    as_of: NaiveDate,
    horizon_end: NaiveDate,
    law: InForce,
) -> Result<DataFrame> {
    let rules: Vec<(Reason, Expr, Expr)> = Reason::ALL
        .iter()
        .filter(|r| r.active(law))
        .map(|r| {
            let (cond, due) = r.rule(as_of, horizon_end, law);
            (*r, cond, due)
        })
        .collect();
    // A relationship that has ended needs no action.
    let live = col("relationship_end")
        .is_null()
        .or(col("relationship_end").gt(date_lit(as_of)));
    let flags: Vec<Expr> = rules
        .iter()
        .map(|(r, cond, _)| {
            cond.clone()
                .fill_null(lit(false))
                .and(live.clone())
                .alias(r.flag())
        })
        .collect();
    // One date column per distinct due date (the five reasons due on the day share one), folded
    // pairwise into their minimum: five date columns of the whole book (10M customers: 40 MB
    // each) instead of nine.
    let mut dues: Vec<(Expr, Expr)> = Vec::new();
    for (r, _, due) in &rules {
        match dues.iter_mut().find(|(d, _)| d == due) {
            Some((_, flag)) => *flag = flag.clone().or(col(r.flag())),
            None => dues.push((due.clone(), col(r.flag()))),
        }
    }
    let due_date = dues
        .into_iter()
        .map(|(due, flag)| {
            when(flag)
                .then(due)
                .otherwise(lit(NULL).cast(DataType::Date))
        })
        .reduce(|a, b| dsl::min_horizontal([a, b]).expect("two inputs"))
        .expect("reasons");
    let list = names_where(
        rules
            .iter()
            .map(|(r, _, _)| (r.name().to_string(), col(r.flag())))
            .collect(),
        ",",
    );
    let df = crate::layout::with_columns(df, flags)?;
    let df = crate::layout::with_columns(
        df,
        vec![
            due_date.cast(DataType::Date).alias("due_date"),
            list.alias("reasons"),
        ],
    )?;
    crate::layout::with_columns(
        df,
        vec![col("due_date")
            .lt(date_lit(as_of))
            .fill_null(lit(false))
            .alias("overdue")],
    )
}
