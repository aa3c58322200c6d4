//! Why a customer needs action, each reason once: its name in the outputs, the rule it serves,
//! when it applies and by when the action is due.

use chrono::NaiveDate;
use polars::prelude::*;

use crate::dates::date_lit;
use crate::model::InForce;

pub use crate::scoring::law_bits;

/// Whether bit `b` of `_law` is set.
pub fn law_bit(b: u8) -> Expr {
    (col("_law").cast(DataType::UInt8) / lit(b) % lit(2u8))
        .eq(lit(1u8))
        .fill_null(lit(false))
}

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
    /// L-CDD26: the customer changed its name.
    NameChange,
    /// L-CDD26: the customer changed its identity document type or number.
    IdDocumentChange,
    /// L-CDD26: the customer changed its business scope.
    BusinessScopeChange,
    /// L-CDD26: the customer changed its legal representative.
    LegalRepresentativeChange,
    /// L-CDD26: the customer's beneficiary or beneficial owner changed.
    BeneficialOwnerChange,
    /// L-CDD26: its transactions contradict its profile, or earlier identity data is in doubt.
    ProfileInconsistent,
    /// L-CDD26: its identity document expired without renewal.
    IdExpired,
    /// L-SP13: its screening against the lists changed since the grade on file.
    ListChange,
    /// L-CDD30, L-AML38: due diligence refused: end the relationship and file an STR.
    CddRefused,
    /// L-CDD51: a customer of before L-CDD without due diligence completed since.
    LegacyCdd,
    /// L-BO39: an entity of before L-BO without its beneficial owners verified since.
    LegacyBo,
}

impl Reason {
    /// Every reason, in output order.
    pub const ALL: [Reason; 20] = [
        Reason::GradeChange,
        Reason::NewCustomer,
        Reason::ReviewDue,
        Reason::FirstReview,
        Reason::TriggerEvent,
        Reason::OverrideDisagreement,
        Reason::OverrideExpired,
        Reason::ExceptionEntered,
        Reason::ExceptionLeft,
        Reason::NameChange,
        Reason::IdDocumentChange,
        Reason::BusinessScopeChange,
        Reason::LegalRepresentativeChange,
        Reason::BeneficialOwnerChange,
        Reason::ProfileInconsistent,
        Reason::IdExpired,
        Reason::ListChange,
        Reason::CddRefused,
        Reason::LegacyCdd,
        Reason::LegacyBo,
    ];

    /// Whether the reason exists under the texts in force (the 2013 guideline's always; the
    /// others from the effective date of the text that makes them, when the model declares it).
    pub fn active(self, law: InForce) -> bool {
        match self {
            Reason::NameChange
            | Reason::IdDocumentChange
            | Reason::BusinessScopeChange
            | Reason::LegalRepresentativeChange
            | Reason::BeneficialOwnerChange
            | Reason::ProfileInconsistent
            | Reason::IdExpired
            | Reason::CddRefused
            | Reason::LegacyCdd => law.cdd,
            Reason::ListChange => law.sp,
            Reason::LegacyBo => law.bo,
            _ => true,
        }
    }

    /// The event type of a L-CDD26 trigger.
    pub fn event_type(self) -> Option<&'static str> {
        Some(match self {
            Reason::NameChange => "name_change",
            Reason::IdDocumentChange => "id_document_change",
            Reason::BusinessScopeChange => "business_scope_change",
            Reason::LegalRepresentativeChange => "legal_representative_change",
            Reason::BeneficialOwnerChange => "beneficial_owner_change",
            Reason::ProfileInconsistent => "profile_inconsistent",
            _ => return None,
        })
    }

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
            Reason::NameChange => "name_change",
            Reason::IdDocumentChange => "id_document_change",
            Reason::BusinessScopeChange => "business_scope_change",
            Reason::LegalRepresentativeChange => "legal_representative_change",
            Reason::BeneficialOwnerChange => "beneficial_owner_change",
            Reason::ProfileInconsistent => "profile_inconsistent",
            Reason::IdExpired => "id_expired",
            Reason::ListChange => "list_change",
            Reason::CddRefused => "cdd_refused",
            Reason::LegacyCdd => "legacy_cdd",
            Reason::LegacyBo => "legacy_bo",
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
            Reason::NameChange => "L-CDD26: the customer changed its name",
            Reason::IdDocumentChange => {
                "L-CDD26: the customer changed its identity document type or number"
            }
            Reason::BusinessScopeChange => "L-CDD26: the customer changed its business scope",
            Reason::LegalRepresentativeChange => {
                "L-CDD26: the customer changed its legal representative"
            }
            Reason::BeneficialOwnerChange => {
                "L-CDD26: the customer's beneficiary or beneficial owner changed"
            }
            Reason::ProfileInconsistent => {
                "L-CDD26: transactions contradict the profile, or identity data is in doubt"
            }
            Reason::IdExpired => {
                "L-CDD26: the identity document expired without renewal; due at once (restrictive measures allowed)"
            }
            Reason::ListChange => {
                "L-SP13: screened against changed lists, the result differs from the grade on file's"
            }
            Reason::CddRefused => {
                "L-CDD30, L-AML38: due diligence refused: end the relationship and file an STR"
            }
            Reason::LegacyCdd => {
                "L-CDD51: an existing customer without due diligence completed since L-CDD; due by the deadline of its grade group"
            }
            Reason::LegacyBo => {
                "L-BO39: an existing entity without its beneficial owners verified since L-BO; due by the deadline of its grade group"
            }
        }
    }

    /// The name of the per-customer flag column.
    pub fn flag(self) -> String {
        format!("_r_{}", self.name())
    }

    /// When the reason applies (over the reviewed customer columns and the due-date columns),
    /// and its due date. Periodic reviews count when due by `horizon_end`.
    pub fn rule(self, as_of: NaiveDate, horizon_end: NaiveDate, law: InForce) -> (Expr, Expr) {
        let graded = col("grade_on_file").is_not_null();
        let now = date_lit(as_of);
        let event = super::on_file::event_seen;
        if let Some(t) = self.event_type() {
            return (event(t), now);
        }
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
            // T4's own events; from L-CDD on, its triggers have their own reasons.
            Reason::TriggerEvent if law.cdd => (
                crate::contract::EVENT_TYPES_2013
                    .iter()
                    .map(|t| event(t))
                    .reduce(|a, b| a.or(b))
                    .expect("event types"),
                now,
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
            Reason::IdExpired => (law_bit(law_bits::ID_EXPIRED), now),
            Reason::ListChange => (
                col("screening_on_file")
                    .is_not_null()
                    .and(col("screening_on_file").neq(col("screening"))),
                now,
            ),
            Reason::CddRefused => (law_bit(law_bits::CDD_REFUSED), now),
            Reason::LegacyCdd => (col("_due_legacy_cdd").is_not_null(), col("_due_legacy_cdd")),
            Reason::LegacyBo => (col("_due_legacy_bo").is_not_null(), col("_due_legacy_bo")),
            other => unreachable!("{other:?} is an event reason"),
        }
    }
}
