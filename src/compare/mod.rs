//! Weight benchmarking (`riskgrade compare`): many candidate models against the baseline over
//! the whole book in one pass. The features are computed once (or read from an earlier
//! `assess --keep-features`); customers with identical score profiles are counted once
//! (`profiles`); each model grades the profiles with the same expressions as `assess`
//! (`evaluate`); the comparison is counted per candidate (`result`) and written out
//! (`output`). Memory holds the profiles and one candidate's grading at a time, never
//! candidates × customers; only the changed-customer lists are per customer.

mod candidates;
mod evaluate;
mod output;
mod page;
mod profiles;
mod result;

use std::collections::BTreeMap;

use polars::prelude::*;

pub use candidates::Candidate;
pub use evaluate::{add_reviews, GradeMatch, Grading, MONTHS};
pub use output::{screen, write, write_changed};
pub use result::{CandidateResult, Comparison, Sensitivity};

use rayon::prelude::*;

use crate::error::Result;
use crate::model::Model;
pub use profiles::{Groups, Profiles};

/// Candidates graded at once (their gradings are held together, never all of them).
const BATCH: usize = 8;

/// Everything a comparison needs: the baseline, the candidates, the profiles of the book.
pub struct Book<'a> {
    /// The model in force.
    pub baseline: &'a Model,
    /// The candidates, validated.
    pub candidates: &'a [Candidate],
    /// The as-of date (for review workload).
    pub as_of: chrono::NaiveDate,
}

/// Loads the candidates named by the flags (every one validated first).
pub fn load_candidates(
    files: &[std::path::PathBuf],
    dir: Option<&std::path::Path>,
    grid: Option<&std::path::Path>,
    baseline: &Model,
) -> Result<Vec<Candidate>> {
    candidates::load(files, dir, grid, baseline)
}

/// What is handed out for each candidate as soon as it is graded (to write its list of changed
/// customers): the candidate, the profiles, and both gradings.
pub struct Graded<'a> {
    /// The candidate.
    pub candidate: &'a Candidate,
    /// The profiles of the book.
    pub profiles: &'a Profiles,
    /// The baseline's grading.
    pub base: &'a Grading,
    /// The candidate's grading.
    pub cand: &'a Grading,
    /// Its grades matched to the baseline's.
    pub matching: &'a evaluate::GradeMatch,
    /// The baseline model.
    pub baseline: &'a Model,
    /// The rule sets and exception configurations compared.
    pub groups: &'a Groups,
}

/// Compares every candidate with the baseline over the customers of `features` (the feature
/// frame of `assess`, with `last_reviewed` when known). `each` is handed every candidate once
/// graded.
pub fn compare(
    book: &Book<'_>,
    features: LazyFrame,
    grade_map: &BTreeMap<String, String>,
    each: impl Fn(Graded<'_>) -> Result<()> + Sync,
) -> Result<Comparison> {
    let mut models: Vec<&Model> = vec![book.baseline];
    models.extend(book.candidates.iter().map(|c| &c.model));
    let groups = Groups::of(&models);
    let profiles = profiles::build(features, &models, &groups, book.as_of)?;
    let statics = result::Statics::of(&profiles, book.baseline)?;
    let base = evaluate::grade(&profiles.table, book.baseline, &groups)?;
    let mut results = Vec::with_capacity(book.candidates.len());
    // Candidates are graded a batch at a time, in parallel, each handed out once graded.
    for batch in book.candidates.chunks(BATCH) {
        let graded: Vec<Result<CandidateResult>> = batch
            .par_iter()
            .map(|c| {
                let grading = evaluate::grade(&profiles.table, &c.model, &groups)?;
                let matching =
                    evaluate::GradeMatch::of(book.baseline, &c.model, grade_map, &c.source)?;
                let rescored = groups.rules_of(&c.model) != groups.rules_of(book.baseline);
                let r = result::CandidateResult::of(
                    c,
                    &statics,
                    book.baseline,
                    &base,
                    &grading,
                    &matching,
                    rescored,
                );
                each(Graded {
                    candidate: c,
                    profiles: &profiles,
                    base: &base,
                    cand: &grading,
                    matching: &matching,
                    baseline: book.baseline,
                    groups: &groups,
                })?;
                Ok(r)
            })
            .collect();
        for r in graded {
            results.push(r?);
        }
    }
    let sensitivity =
        result::sensitivity(&profiles.table, &statics, book.baseline, &groups, &base)?;
    Ok(Comparison {
        as_of: book.as_of.to_string(),
        customers: statics.customers(),
        profiles: profiles.table.height() as u64,
        baseline: result::baseline_summary(book.baseline, &statics, &base),
        candidates: results,
        sensitivity,
    })
}
