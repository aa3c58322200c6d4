//! A book opened for work: the setup every command that reads a portfolio shares (`assess`,
//! `links`, `compare --data`, `validate --data`): the as-of date, the model, the input files
//! opened and checked against the data contract, the reference tables and working-day
//! calendar, and the customers' branches checked against `branches.csv` (S2.4, M2).

use std::path::Path;

use chrono::NaiveDate;
use polars::prelude::DataFrame;

use super::Source;
use crate::calendar::Calendar;
use crate::error::Result;
use crate::features::Ctx;
use crate::inputs::Inputs;
use crate::model::Model;
use crate::progress::Progress;
use crate::reference::Reference;
use crate::validate::{self, Counts, InPass};

/// How a command opens a book.
pub struct Opening<'a> {
    /// The portfolio folder.
    pub data: &'a Path,
    /// `--reference`, if given.
    pub reference: Option<&'a Path>,
    /// `--as-of`, if given (default: today).
    pub as_of: Option<NaiveDate>,
    /// Leave the transactions' row checks to the feature pass (`assess`, `compare`): one
    /// decode of the file instead of two.
    pub checks_in_pass: bool,
}

/// A book with its model and reference tables, checked and ready for the features.
pub struct Book {
    /// The as-of date.
    pub as_of: NaiveDate,
    /// The model and how it is named.
    pub model: Model,
    /// How the model is named (path or built-in).
    pub model_name: String,
    /// The input files.
    pub inputs: Inputs,
    /// Rows and warnings of the inputs (the transactions' filled by the feature pass when
    /// their checks are made there).
    pub counts: Counts,
    /// The transactions' row checks, when made in the feature pass.
    pub txn_checks: Option<InPass>,
    /// The reference tables.
    pub reference: Reference,
    /// How the reference folder is named (path or built-in).
    pub reference_name: String,
    /// The working-day calendar (T1).
    pub calendar: Calendar,
    /// Keeps the built-in reference tables' folder while the book is open.
    _builtin: Option<tempfile::TempDir>,
}

impl Book {
    /// Opens and checks the book; warnings go to `progress`.
    pub fn open(how: Opening<'_>, mut model: Source<Model>, progress: &Progress) -> Result<Book> {
        let as_of = how.as_of.unwrap_or_else(crate::dates::today);
        // The texts in force on the as-of date decide which rules apply.
        model.value.set_as_of(as_of);
        for w in &model.value.warnings {
            progress.warn(&format!("{}: {w}", model.name));
        }
        let inputs = Inputs::open(how.data)?;
        let (counts, txn_checks) = if how.checks_in_pass {
            validate::validate_inputs_in_pass(&inputs, as_of, &model.value.grade_names())?
        } else {
            (
                validate::validate_inputs(&inputs, as_of, &model.value.grade_names())?,
                None,
            )
        };
        for w in &counts.warnings {
            progress.warn(&format!("{}: {} {}", w.file, w.rows, w.message));
        }
        let (ref_src, builtin) = super::reference_from(how.reference)?;
        let reference = Reference::load(&ref_src.value, as_of)?;
        let calendar = Calendar::load(&ref_src.value)?;
        progress.line(&format!(
            "model {}; reference tables {}",
            model.name, ref_src.name
        ));
        let branch_ids: Vec<String> = reference.branches.iter().map(|b| b.0.clone()).collect();
        model.value.check_branches(&branch_ids)?;
        model.value.place_overlays(&reference.branches)?;
        validate::branches_known(&inputs, &branch_ids)?;
        Ok(Book {
            as_of,
            model: model.value,
            model_name: model.name,
            inputs,
            counts,
            txn_checks,
            reference,
            reference_name: ref_src.name,
            calendar,
            _builtin: builtin,
        })
    }

    /// What the features depend on besides the data.
    pub fn ctx<'a>(
        &'a self,
        links: Option<&'a DataFrame>,
        owners: Option<&'a DataFrame>,
    ) -> Ctx<'a> {
        Ctx {
            params: &self.model.params,
            reference: &self.reference,
            as_of: self.as_of,
            links,
            owners,
            fused: crate::features::fused_pass_enabled(),
        }
    }

    /// The beneficial-owners table of the book's ownership graph (`None`: it has none).
    pub fn owners(&self) -> Result<Option<DataFrame>> {
        if !crate::owners::has_graph(&self.inputs) {
            return Ok(None);
        }
        crate::owners::table(
            &self.inputs,
            self.as_of,
            self.model.params.beneficial_owner_share,
        )
        .map(Some)
    }
}
