//! Why a customer needs action, each reason once: its name in the outputs, the rule it serves,
//! when it applies and by when the action is due.

use chrono::NaiveDate;
use polars::prelude::*;

use crate::dates::date_lit;

/// A reason a customer needs action, in output order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// P4: the grade differs from the grade on file.
    GradeChange,
    /// T1: not yet graded.
    NewCustomer,
    /// T2: periodic review due.
    ReviewDue,
    /// T3: first review within three years of the first grading.
    FirstReview,
    /// T4: a trigger event after the last review.
    TriggerEvent,
    /// PR4: a grade set by hand the new score disagrees with.
    OverrideDisagreement,
    /// PR4: a grade set by hand whose expiry has passed.
    OverrideExpired,
    /// XH: the customer now meets a direct-highest condition.
    ExceptionEntered,
    /// XH: the customer no longer meets the direct-highest condition on file.
    ExceptionLeft,
}

impl Reason {
    /// Every reason, in output order.
    pub const ALL: [Reason; 9] = [
        Reason::GradeChange,
        Reason::NewCustomer,
        Reason::ReviewDue,
        Reason::FirstReview,
        Reason::TriggerEvent,
        Reason::OverrideDisagreement,
        Reason::OverrideExpired,
        Reason::ExceptionEntered,
        Reason::ExceptionLeft,
    ];

    /// The name written to the outputs.
    pub fn name(self) -> &'static str {
        match self {
            Reason::GradeChange => "grade_change",
            Reason::NewCustomer => "new_customer",
            Reason::ReviewDue => "review_due",
            Reason::FirstReview => "first_review",
            Reason::TriggerEvent => "trigger_event",
            Reason::OverrideDisagreement => "override_disagreement",
            Reason::OverrideExpired => "override_expired",
            Reason::ExceptionEntered => "exception_entered",
            Reason::ExceptionLeft => "exception_left",
        }
    }

    /// The rule and what it asks, for people.
    pub fn doc(self) -> &'static str {
        match self {
            Reason::GradeChange => "P4: the grade differs from the grade on file",
            Reason::NewCustomer => {
                "T1: not yet graded; due 10 working days after the relationship started"
            }
            Reason::ReviewDue => "T2: periodic review of the grade is due (or within the horizon)",
            Reason::FirstReview => "T3: first review within three years of the first grading",
            Reason::TriggerEvent => {
                "T4: identity change, judicial investigation or media report after the last review"
            }
            Reason::OverrideDisagreement => {
                "PR4: a grade set by hand that the new score disagrees with"
            }
            Reason::OverrideExpired => "PR4: a grade set by hand whose expiry has passed",
            Reason::ExceptionEntered => "XH: the customer now meets a direct-highest condition",
            Reason::ExceptionLeft => {
                "XH: the customer no longer meets the direct-highest condition on file"
            }
        }
    }

    /// The name of the per-customer flag column.
    pub fn flag(self) -> String {
        format!("_r_{}", self.name())
    }

    /// When the reason applies (over the reviewed customer columns and the due-date columns),
    /// and its due date. Periodic reviews count when due by `horizon_end`.
    pub fn rule(self, as_of: NaiveDate, horizon_end: NaiveDate) -> (Expr, Expr) {
        let graded = col("grade_on_file").is_not_null();
        let now = date_lit(as_of);
        match self {
            Reason::GradeChange => (graded.and(col("grade_on_file").neq(col("grade"))), now),
            Reason::NewCustomer => (graded.not(), col("_due_t1")),
            Reason::ReviewDue => (
                graded.and(col("_due_t2").lt_eq(date_lit(horizon_end))),
                col("_due_t2"),
            ),
            Reason::FirstReview => (
                graded
                    .and(col("last_reviewed").lt_eq(col("first_graded")))
                    .and(col("_due_t3").lt_eq(date_lit(horizon_end))),
                col("_due_t3"),
            ),
            Reason::TriggerEvent => (col("events_since_review").is_not_null(), now),
            Reason::OverrideDisagreement => (
                col("_override_valid").and(col("override_grade").neq(col("computed_grade"))),
                now,
            ),
            Reason::OverrideExpired => (col("_override_expired"), col("override_expires")),
            Reason::ExceptionEntered => (
                graded.and(col("direct_highest").is_not_null()).and(
                    col("basis_on_file")
                        .neq(lit("direct_highest"))
                        .fill_null(lit(true)),
                ),
                now,
            ),
            Reason::ExceptionLeft => (
                col("direct_highest")
                    .is_null()
                    .and(col("basis_on_file").eq(lit("direct_highest"))),
                now,
            ),
        }
    }
}
