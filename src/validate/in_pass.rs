//! The transactions' row checks made while the features read the transactions, range by range,
//! so the largest file is decoded once instead of twice. The checks are those of
//! [`super::validate_inputs`]: every row's values (nulls, amounts, codes), the transaction ids
//! unique, every row of a known customer on one of that customer's accounts (E53), the rows of
//! unknown customers counted (W01). The pass only detects; a finding is reported by the same
//! whole-file check as before, so messages and exit codes do not depend on how it was found.

use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use polars::prelude::*;

use super::{
    column_checks, content_checks, fail, null_only_columns, orphan_warning, transaction_owners,
    unique_key, Counts, Warning,
};
use crate::contract;
use crate::error::{Error, Result};

/// A column the features' read adds: true on a row that fails a column check.
const FAULT: &str = "_fault";

/// The transactions' checks of one run, fed batch by batch as the features read each range.
pub struct InPass {
    /// The transactions file, for the whole-file check that reports a finding.
    scan: LazyFrame,
    as_of: NaiveDate,
    /// (institution_id, customer_id) of customers.parquet.
    customers: DataFrame,
    /// Every column check of a row, or-ed.
    fault: Expr,
    /// Where the transactions' row count and warning go in the counts.
    row_at: usize,
    warning_at: usize,
    tally: Arc<Mutex<Tally>>,
}

/// What the batches showed so far.
struct Tally {
    rows: u64,
    /// Rows whose customer is not in customers.parquet (W01).
    orphans: u64,
    /// A row failed a column check.
    fault: bool,
    /// Transaction ids strictly increasing within every batch so far.
    increasing: bool,
    /// The first and last transaction id of every batch: with ids increasing within each
    /// batch, spans that do not overlap prove every id unique.
    spans: Vec<(i64, i64)>,
    /// (account_id, customer_id) of the first row of each run of one pair in the current range.
    starts: Vec<DataFrame>,
    /// A run's account is not one of its customer's accounts: the whole-file check decides.
    owners_unsure: bool,
}

/// The transactions' row count and warning, once every range is read.
pub struct TransactionCounts {
    rows: u64,
    warning: Option<Warning>,
}

impl InPass {
    /// The checks of `scan` (transactions.parquet) as of `as_of`, after the files before it
    /// (`counts`); `None` when a non-nullable column already shows nulls, which the whole-file
    /// check reports at once.
    pub(super) fn new(
        scan: &LazyFrame,
        as_of: NaiveDate,
        customers: &DataFrame,
        counts: &Counts,
    ) -> Result<Option<InPass>> {
        let spec = &contract::TRANSACTIONS;
        let (null_only, clean) = null_only_columns(spec, scan, as_of)?;
        if !clean {
            return Ok(None);
        }
        let mut preds = Vec::new();
        for c in spec.columns {
            if !c.nullable && !null_only.contains(&c.name) {
                preds.push(col(c.name).is_null());
            }
            preds.extend(content_checks(spec, c, as_of).into_iter().map(|(_, e)| e));
        }
        let fault = preds
            .into_iter()
            .map(|e| e.fill_null(lit(false)))
            .reduce(|a, b| a.or(b))
            .unwrap_or(lit(false));
        Ok(Some(InPass {
            scan: scan.clone(),
            as_of,
            customers: customers.clone(),
            fault,
            row_at: counts.rows.len(),
            warning_at: counts.warnings.len(),
            tally: Arc::new(Mutex::new(Tally {
                rows: 0,
                orphans: 0,
                fault: false,
                increasing: true,
                spans: Vec::new(),
                starts: Vec::new(),
                owners_unsure: false,
            })),
        }))
    }

    /// The columns the read adds to each batch: `_fault` (true on a row that fails a column
    /// check), `txn_id` and `account_id`.
    pub fn columns(&self) -> [Expr; 3] {
        [
            self.fault.clone().alias(FAULT),
            col("txn_id"),
            col("account_id"),
        ]
    }

    /// What takes in each batch of a range, in any order and from several threads at once:
    /// the batch's [`InPass::columns`] and `customer_id` of the range's Enum type (null for a
    /// customer not in customers.parquet). The batches are contiguous runs of rows.
    pub fn observer(&self) -> impl Fn(&DataFrame) -> PolarsResult<()> + Send + Sync + 'static {
        let tally = self.tally.clone();
        move |df: &DataFrame| {
            let n = df.height();
            if n == 0 {
                return Ok(());
            }
            let fault = df.column(FAULT)?.bool()?.any();
            let cid = df.column("customer_id")?.as_materialized_series();
            let orphans = cid.null_count() as u64;
            let ids = df.column("txn_id")?.as_materialized_series();
            let increasing = n < 2 || ids.slice(1, n - 1).gt(&ids.slice(0, n - 1))?.all();
            let span = ids.i64()?.first().zip(ids.i64()?.last());
            // Runs of one (account, customer) pair: only their first rows are looked up.
            let changed = |s: &Series| -> PolarsResult<BooleanChunked> {
                // Each row against the one before (sliced, not shifted: no copy); the first
                // row of a batch starts a run.
                let mut c = BooleanChunked::new("".into(), [true]);
                if n > 1 {
                    c.append(&s.slice(1, n - 1).not_equal_missing(&s.slice(0, n - 1))?)?;
                }
                Ok(c)
            };
            let acc = df.column("account_id")?.as_materialized_series();
            let mask = (changed(acc)? | changed(&cid.to_physical_repr())?) & cid.is_not_null();
            let starts = df.select(["account_id", "customer_id"])?.filter(&mask)?;
            let mut t = tally.lock().expect("lock");
            t.rows += n as u64;
            t.orphans += orphans;
            t.fault |= fault;
            t.increasing &= increasing;
            t.spans.extend(span);
            if starts.height() > 0 {
                t.starts.push(starts);
            }
            Ok(())
        }
    }

    /// Ends a range whose customers' accounts are `accounts` ((account_id, customer_id) of the
    /// range's Enum type): a row that failed a column check is reported here.
    pub fn range_done(&self, accounts: LazyFrame) -> Result<()> {
        let (fault, starts) = {
            let mut t = self.tally.lock().expect("lock");
            (t.fault, std::mem::take(&mut t.starts))
        };
        if fault {
            return Err(self.report("a transaction failed a column check"));
        }
        let Some(starts) = starts.into_iter().reduce(|mut a, b| {
            a.vstack_mut_owned(b).expect("same columns");
            a
        }) else {
            return Ok(());
        };
        let keys = || [col("account_id"), col("customer_id")];
        let unmatched = starts
            .lazy()
            .join(accounts, keys(), keys(), JoinArgs::new(JoinType::Anti))
            .select([len().alias("n")])
            .collect()?;
        if super::first_count(&unmatched, "n")? > 0 {
            self.tally.lock().expect("lock").owners_unsure = true;
        }
        Ok(())
    }

    /// After the last range: the transaction ids unique, the owners' check settled, the rows
    /// counted.
    pub fn finish(&self, accounts: LazyFrame) -> Result<TransactionCounts> {
        let spec = &contract::TRANSACTIONS;
        let (rows, orphans, unique, unsure) = {
            let mut t = self.tally.lock().expect("lock");
            let unique = t.increasing && apart(&mut t.spans);
            (t.rows, t.orphans, unique, t.owners_unsure)
        };
        if !unique {
            unique_key(spec, &self.scan, rows)?;
        }
        let orphans = if unsure {
            let accounts = accounts
                .select([col("account_id"), col("customer_id")])
                .collect_with_engine(Engine::Streaming)
                .map_err(|e| fail(&contract::ACCOUNTS, format!("cannot read: {e}")))?
                .unwrap_single();
            transaction_owners(spec, &self.scan, &accounts, &self.customers)?
        } else {
            orphans
        };
        Ok(TransactionCounts {
            rows,
            warning: orphan_warning(spec, orphans, false),
        })
    }

    /// The error of the whole-file column checks; `what` names the finding should they pass.
    fn report(&self, what: &str) -> Error {
        // Transactions carry no grade column: no grade names are needed.
        match column_checks(&contract::TRANSACTIONS, &self.scan, self.as_of, &[]) {
            Err(e) => e,
            Ok(_) => Error::Internal(format!(
                "transactions.parquet: {what} while read for the features, but not when checked whole"
            )),
        }
    }
}

/// Whether the (first, last) spans of batches whose ids increase within each batch are pairwise
/// disjoint, which proves every id unique whatever order the batches came in.
fn apart(spans: &mut [(i64, i64)]) -> bool {
    spans.sort_unstable();
    spans.windows(2).all(|w| w[0].1 < w[1].0)
}

impl TransactionCounts {
    /// The counted warning, if any.
    pub fn warning(&self) -> Option<&Warning> {
        self.warning.as_ref()
    }
}

impl Counts {
    /// Fills the transactions' place left by [`super::validate_inputs_in_pass`].
    pub fn complete(&mut self, checks: &InPass, t: TransactionCounts) {
        self.rows[checks.row_at].1 = t.rows;
        if let Some(w) = t.warning {
            self.warnings.insert(checks.warning_at, w);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::apart;

    #[test]
    fn disjoint_spans_prove_ids_unique_in_any_order_p3() {
        assert!(apart(&mut []));
        assert!(apart(&mut [(1, 3), (4, 9)]));
        assert!(apart(&mut [(10, 12), (1, 3), (4, 9)]));
        assert!(apart(&mut [(5, 5), (6, 6)]));
        // Batches 1..3 and 3..5 both hold id 3; 1..5 holds 2..3.
        assert!(!apart(&mut [(1, 3), (3, 5)]));
        assert!(!apart(&mut [(2, 3), (1, 5)]));
        assert!(!apart(&mut [(7, 7), (7, 7)]));
    }
}
