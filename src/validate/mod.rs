//! Input validation against the data contract, before any work: files present and readable,
//! columns present with their contract types, keys non-null and unique (P3), category codes
//! known, non-nullable columns without nulls. Errors name the file, column, the count of
//! offending rows and the first few keys (never personal data).

use chrono::NaiveDate;

use polars::prelude::*;

use crate::contract::{self, ColType, FileSpec};
use crate::dates::date_lit;
use crate::error::{Error, Result};
use crate::inputs::{examples, Inputs};

mod in_pass;

pub use in_pass::{InPass, TransactionCounts};

/// Row counts of the files validated, and the rows set aside with a warning.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Counts {
    /// (file, rows) per file present.
    pub rows: Vec<(String, u64)>,
    /// Counted warnings: rows that are ignored, with the reason.
    pub warnings: Vec<Warning>,
}

/// A counted warning about input rows that the job sets aside.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Warning {
    /// The file.
    pub file: String,
    /// What is wrong and what the job does about it.
    pub message: String,
    /// How many rows.
    pub rows: u64,
}

/// Files whose rows must belong to a customer of customers.parquet; rows that do not are set
/// aside with a counted warning.
const ORPHAN_CHECKED: &[&str] = &[
    "accounts.parquet",
    "transactions.parquet",
    "reports.parquet",
    "grades.parquet",
    "events.parquet",
    "overrides.parquet",
];

/// Largest amount accepted, CNY (10¹²): anything above is a unit or parsing error.
pub const MAX_AMOUNT: f64 = 1e12;

/// Columns whose dates may not lie after the as-of date.
const NOT_AFTER_AS_OF: &[(&str, &str)] = &[
    ("customers.parquet", "birth_date"),
    ("customers.parquet", "founding_date"),
    ("customers.parquet", "relationship_start"),
    ("customers.parquet", "relationship_end"),
    ("customers.parquet", "cdd_completed_on"),
    ("customers.parquet", "bo_verified_on"),
    ("accounts.parquet", "opened_date"),
    ("grades.parquet", "first_graded"),
    ("grades.parquet", "last_reviewed"),
];

fn fail(spec: &FileSpec, msg: String) -> Error {
    Error::Input(format!("{}: {msg}", spec.file))
}

/// The count in the first row of column `name` of a one-row aggregate (0 when null).
fn first_count(df: &DataFrame, name: &str) -> Result<u64> {
    Ok(df
        .column(name)?
        .cast(&DataType::UInt64)?
        .u64()?
        .get(0)
        .unwrap_or(0))
}

/// Whether the non-null values of `key` strictly increase in file order, checked batch by
/// batch in one streaming pass over that column alone. Extracts numbered in sequence pass
/// this check, which proves the key unique without hashing every value (P3); otherwise the
/// caller counts distinct values.
fn strictly_increasing(lf: LazyFrame, key: &str) -> Result<bool> {
    use std::sync::{Arc, Mutex};
    // (still increasing, last value of the previous batch)
    let state = Arc::new(Mutex::new((true, None::<Series>)));
    let st = state.clone();
    let name = key.to_string();
    let check = move |df: DataFrame| -> PolarsResult<bool> {
        let s = df.column(&name)?.as_materialized_series().drop_nulls();
        let mut st = st.lock().expect("lock");
        if !st.0 || s.is_empty() {
            return Ok(!st.0);
        }
        let n = s.len();
        let mut ok = n < 2 || s.slice(1, n - 1).gt(&s.slice(0, n - 1))?.all();
        if let Some(last) = &st.1 {
            ok &= s.head(Some(1)).gt(last)?.all();
        }
        st.0 = ok;
        st.1 = Some(s.tail(Some(1)));
        // Returning true stops the query early.
        Ok(!ok)
    };
    lf.select([col(key)])
        .sink_batches(PlanCallback::new(check), true, None)?
        .collect_with_engine(Engine::Streaming)?;
    let ok = state.lock().expect("lock").0;
    Ok(ok)
}

/// Rows of `lf` whose customer is not among `ids` (a streaming anti-join on the customer id,
/// and the institution too where the file names it: P3, a grade of another institution is not
/// this customer's).
fn count_orphans(lf: LazyFrame, rows: u64, ids: DataFrame, with_institution: bool) -> Result<u64> {
    // The customer id first: the merge below needs the files' order key first.
    let on: &[&str] = if with_institution {
        &["customer_id", "institution_id"]
    } else {
        &["customer_id"]
    };
    let keys: Vec<Expr> = on.iter().map(|k| col(*k)).collect();
    let keys_only = lf.select(keys.clone());
    let orphans = if rows.saturating_mul(4) < ids.height() as u64 {
        // A file of a few rows is the hash table, the customers stream past it (rather than
        // hashing every customer to check a few rows); the customers' keys are unique, so a
        // row matches at most once.
        let known = ids.lazy().select(
            keys.iter()
                .cloned()
                .chain([lit(true).alias("_known")])
                .collect::<Vec<_>>(),
        );
        keys_only
            .join(
                known,
                keys.clone(),
                keys,
                JoinArgs::new(JoinType::Left).with_build_side(Some(JoinBuildSide::ForceLeft)),
            )
            .select([col("_known").is_null().sum().alias("n")])
    } else {
        // A file in customer order, as extracts are, is merged with the customers (in their
        // file's order); any other order is joined.
        let file_keys = keys_only
            .collect_with_engine(Engine::Streaming)?
            .unwrap_single();
        if let Some(n) = crate::frame::unmatched_by_merge(&file_keys, &ids, on) {
            return Ok(n as u64);
        }
        file_keys
            .lazy()
            .join(
                ids.lazy(),
                keys.clone(),
                keys,
                JoinArgs::new(JoinType::Anti),
            )
            .select([len().alias("n")])
    };
    let df = orphans
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
    first_count(&df, "n")
}

/// Pairs of date columns of one file where the first may not lie before the second.
const NOT_BEFORE: &[(&str, &str, &str)] = &[
    (
        "customers.parquet",
        "relationship_end",
        "relationship_start",
    ),
    ("accounts.parquet", "closed_date", "opened_date"),
    ("grades.parquet", "last_reviewed", "first_graded"),
    ("overrides.parquet", "expires_on", "set_on"),
];

/// Checks across rows that column checks cannot make: two different grades set by hand for one
/// customer on one day (PR4).
fn relational_checks(spec: &FileSpec, lf: &LazyFrame) -> Result<()> {
    let read = |e: PolarsError| fail(spec, format!("cannot read: {e}"));
    if spec.file == contract::OVERRIDES.file {
        let df = lf
            .clone()
            .group_by([col("customer_id"), col("set_on")])
            .agg([col("grade").n_unique().alias("_n")])
            .filter(col("_n").gt(lit(1u32)))
            .select([col("customer_id")])
            .sort(["customer_id"], SortMultipleOptions::default())
            .collect()
            .map_err(read)?;
        if df.height() > 0 {
            let ex = first_values(&df, "customer_id")?;
            return Err(fail(
                spec,
                format!(
                    "{} customers have different grades set by hand on the same day (PR4: one final grade; keep the one the AML compliance department decided): customer_id {ex}",
                    df.height()
                ),
            ));
        }
    }
    Ok(())
}

/// The transactions' customers and accounts in one pass: rows whose customer is not in
/// customers.parquet are counted (set aside: W01), a row on an account of another customer is
/// refused. One anti-join of every row's (account_id, customer_id) against the accounts of
/// known customers leaves the rows to look at, normally none (no row of the others is
/// gathered); those are classified by the customers and the accounts' owners.
fn transaction_owners(
    spec: &FileSpec,
    lf: &LazyFrame,
    accounts: &DataFrame,
    customers: &DataFrame,
) -> Result<u64> {
    let read = |e: PolarsError| fail(spec, format!("cannot read: {e}"));
    let keys = || [col("account_id"), col("customer_id")];
    let on_right =
        || JoinArgs::new(JoinType::Left).with_build_side(Some(JoinBuildSide::ForceRight));
    let known = customers
        .clone()
        .lazy()
        .select([col("customer_id"), lit(true).alias("_known")]);
    let owned = accounts.clone().lazy().select(keys()).join(
        known.clone(),
        [col("customer_id")],
        [col("customer_id")],
        JoinArgs::new(JoinType::Semi),
    );
    let look_at = |rows: LazyFrame| {
        rows.join(owned.clone(), keys(), keys(), JoinArgs::new(JoinType::Anti))
            .join(
                known.clone(),
                [col("customer_id")],
                [col("customer_id")],
                on_right(),
            )
            .join(
                owned
                    .clone()
                    .select([col("account_id"), col("customer_id").alias("_owner")]),
                [col("account_id")],
                [col("account_id")],
                on_right(),
            )
            .with_column(
                // Account ids are unique, so an owner found here is another customer.
                col("_known")
                    .is_not_null()
                    .and(col("_owner").is_not_null())
                    .alias("_other"),
            )
    };
    let count = |looked_at: LazyFrame| {
        looked_at
            .select([
                col("_known").is_null().sum().alias("orphans"),
                col("_other").sum().alias("other"),
            ])
            .collect_with_engine(Engine::Streaming)
            .map_err(read)
            .map(|r| r.unwrap_single())
    };
    let rows = lf
        .clone()
        .select([col("txn_id"), col("account_id"), col("customer_id")]);
    // Extracts list a customer's transactions account by account: only the first row of each
    // run of one (account, customer) pair is looked up. Only when a run is of an unknown
    // customer or on another customer's account are the rows counted one by one.
    let changed = |c: &str| col(c).neq_missing(col(c).shift(lit(1)));
    let runs = count(look_at(
        rows.clone()
            .filter(changed("account_id").or(changed("customer_id"))),
    ))?;
    if first_count(&runs, "orphans")? == 0 && first_count(&runs, "other")? == 0 {
        return Ok(0);
    }
    let looked_at = look_at(rows);
    let counts = count(looked_at.clone())?;
    let other = first_count(&counts, "other")?;
    if other > 0 {
        let df = looked_at
            .filter(col("_other"))
            .select([col("txn_id")])
            .sort(["txn_id"], SortMultipleOptions::default())
            .limit(5)
            .collect_with_engine(Engine::Streaming)
            .map_err(read)?
            .unwrap_single();
        let ex = first_values(&df, "txn_id")?;
        return Err(fail(
            spec,
            format!(
                "{other} rows are on an account of another customer (accounts.parquet names its owner): first at txn_id {ex}"
            ),
        ));
    }
    first_count(&counts, "orphans")
}

/// The first five values of a column, comma-joined.
fn first_values(df: &DataFrame, name: &str) -> Result<String> {
    let c = df.column(name)?.cast(&DataType::String)?;
    Ok(c.str()?
        .iter()
        .take(5)
        .map(|v| v.unwrap_or("<null>").to_string())
        .collect::<Vec<_>>()
        .join(", "))
}

/// The checks of the values of column `c` of `spec` beyond nulls (dates, amounts, levels,
/// codes), as (message, predicate of an offending row).
fn content_checks(spec: &FileSpec, c: &contract::Column, as_of: NaiveDate) -> Vec<(String, Expr)> {
    let y1900 = date_lit(chrono::NaiveDate::from_ymd_opt(1900, 1, 1).expect("date"));
    let mut out = Vec::new();
    if matches!(c.ty, ColType::Date) {
        out.push((
            format!("column '{}' has dates before 1900-01-01", c.name),
            col(c.name).lt(y1900),
        ));
        if NOT_AFTER_AS_OF.contains(&(spec.file, c.name)) {
            out.push((
                format!("column '{}' has dates after the as-of date {as_of}", c.name),
                col(c.name).gt(date_lit(as_of)),
            ));
        }
    }
    if matches!(c.ty, ColType::F64) {
        out.push((
            format!(
                "column '{}' has negative, non-finite or absurd values (valid: 0 to {MAX_AMOUNT:e} CNY)",
                c.name
            ),
            col(c.name)
                .lt(lit(0.0))
                .or(col(c.name).gt(lit(MAX_AMOUNT)))
                .or(col(c.name).is_nan()),
        ));
    }
    if c.name == "alert_level" {
        out.push((
            "column 'alert_level' has levels above 3 (valid: 0 none, 1 media, 2 regulator alert, 3 record of crime)".into(),
            col(c.name).gt(lit(3u8)),
        ));
    }
    if c.name.ends_with("country") || c.name == "nationality" {
        // Exactly the code: 'kp' or ' CN' would match no reference row and pass as harmless.
        out.push((
            format!("column '{}' has values that are not ISO 3166-1 alpha-2 codes (two capital letters, e.g. CN; lower case and spaces are refused)", c.name),
            not_cast(col(c.name), contract::to_country),
        ));
    }
    if c.name.ends_with("_province") {
        out.push((
            format!(
                "column '{}' has values that are not GB/T 2260 province codes (two digits, e.g. 53 for Yunnan)",
                c.name
            ),
            not_in(col(c.name), contract::PROVINCES),
        ));
    }
    if c.name.ends_with("_city") {
        out.push((
            format!(
                "column '{}' has values that are not GB/T 2260 city codes (four digits, the first two a province code, e.g. 5301 for Kunming)",
                c.name
            ),
            not_cast(col(c.name), contract::to_city),
        ));
        if let Some((prov, _)) = contract::PLACES.iter().find(|(_, city)| *city == c.name) {
            // S2.3: a city code carries its province in its first two digits.
            out.push((
                format!(
                    "column '{prov}' contradicts column '{}' (a GB/T 2260 city code's first two digits are its province)",
                    c.name
                ),
                col(*prov)
                    .neq(col(c.name).str().head(lit(2)))
                    .fill_null(lit(false)),
            ));
        }
    }
    for (file, later, earlier) in NOT_BEFORE {
        if spec.file == *file && c.name == *later {
            out.push((
                format!("column '{later}' has dates before '{earlier}' of the same row"),
                col(*later).lt(col(*earlier)).fill_null(lit(false)),
            ));
        }
    }
    if !c.values.is_empty() {
        let known = c
            .values
            .iter()
            .map(|v| col(c.name).eq(lit(*v)))
            .reduce(|a, b| a.or(b))
            .unwrap();
        out.push((
            format!(
                "column '{}' has unknown codes; valid: {}",
                c.name,
                c.values.join(", ")
            ),
            col(c.name).is_not_null().and(known.not()),
        ));
    }
    out
}

/// True where `e` is one of `values`, false where it is not or is null. Membership is a cast
/// to an Enum of `values` (a value outside it becomes null), which the streaming engine
/// evaluates morsel by morsel; `is_in` against a literal list is planned as a join that holds
/// its input whole.
pub fn one_of<S: AsRef<str>>(e: Expr, values: &[S]) -> Expr {
    e.cast(contract::enum_of(values)).is_not_null()
}

/// The non-null values of `e` that are not among `values` (see [`one_of`]).
pub(crate) fn not_in<S: AsRef<str>>(e: Expr, values: &[S]) -> Expr {
    not_of(e, contract::enum_of(values))
}

/// The non-null values of `e` that are not categories of the Enum type `t`.
fn not_of(e: Expr, t: DataType) -> Expr {
    not_cast(e, |e| e.cast(t))
}

/// The non-null values of `e` that `cast` (to an Enum type) makes null.
fn not_cast(e: Expr, cast: impl FnOnce(Expr) -> Expr) -> Expr {
    e.clone().is_not_null().and(cast(e).is_null())
}

/// What the checks of one file need from the files before it.
#[derive(Default)]
struct Seen {
    /// (institution_id, customer_id) of customers.parquet, once it has passed.
    customers: Option<DataFrame>,
    /// (account_id, customer_id) of accounts.parquet, for the transactions' owner check.
    accounts: Option<DataFrame>,
}

/// Validates every input file for an assessment as of `as_of` with a model whose grades are
/// `grades` (grades on file and set by hand must be among them); returns row counts and
/// counted warnings. The first error found stops the check.
pub fn validate_inputs(inputs: &Inputs, as_of: NaiveDate, grades: &[String]) -> Result<Counts> {
    Ok(validate(inputs, as_of, grades, false)?.0)
}

/// [`validate_inputs`], the transactions' row checks left to the features' read of the
/// transactions ([`InPass`]): the largest file is decoded once. The returned counts hold the
/// transactions' place, filled by [`Counts::complete`].
pub fn validate_inputs_in_pass(
    inputs: &Inputs,
    as_of: NaiveDate,
    grades: &[String],
) -> Result<(Counts, Option<InPass>)> {
    validate(inputs, as_of, grades, true)
}

fn validate(
    inputs: &Inputs,
    as_of: NaiveDate,
    grades: &[String],
    in_pass: bool,
) -> Result<(Counts, Option<InPass>)> {
    let mut counts = Counts::default();
    let mut seen = Seen::default();
    let mut deferred = None;
    for file in &inputs.files {
        let (spec, lf) = (&file.spec, &file.scan);
        if let (true, true, Some(customers)) = (
            in_pass,
            spec.file == contract::TRANSACTIONS.file,
            &seen.customers,
        ) {
            if let Some(checks) = InPass::new(lf, as_of, customers, &counts)? {
                counts.rows.push((spec.file.to_string(), 0));
                deferred = Some(checks);
                continue;
            }
        }
        let rows = column_checks(spec, lf, as_of, grades)?;
        // Only the customers are needed: an institution may have no report, event or grade.
        if rows == 0 && spec.file == contract::CUSTOMERS.file {
            return Err(fail(spec, "has no rows".into()));
        }
        unique_key(spec, lf, rows)?;
        if let Some(w) = orphans(spec, lf, rows, &seen)? {
            counts.warnings.push(w);
        }
        relational_checks(spec, lf)?;
        remember(spec, lf, &mut seen)?;
        counts.rows.push((spec.file.to_string(), rows));
    }
    Ok((counts, deferred))
}

/// Keeps what later files are checked against.
fn remember(spec: &FileSpec, lf: &LazyFrame, seen: &mut Seen) -> Result<()> {
    let keep = |cols: [&str; 2]| -> Result<DataFrame> {
        Ok(lf
            .clone()
            .select(cols.map(col))
            .collect_with_engine(Engine::Streaming)?
            .unwrap_single())
    };
    if spec.file == contract::CUSTOMERS.file {
        seen.customers = Some(keep(["institution_id", "customer_id"])?);
    }
    if spec.file == contract::ACCOUNTS.file {
        seen.accounts = Some(keep(["account_id", "customer_id"])?);
    }
    Ok(())
}

/// Columns whose only check is "no nulls" (the others are decoded anyway), proved clean by one
/// filter over them all, which the Parquet reader answers from the row groups' null counts
/// without decoding a value when the writer recorded them. Returns the columns and whether
/// they are clean; when not, their null checks join the main pass.
fn null_only_columns(
    spec: &FileSpec,
    lf: &LazyFrame,
    as_of: NaiveDate,
) -> Result<(Vec<&'static str>, bool)> {
    let null_only: Vec<&str> = spec
        .columns
        .iter()
        .filter(|c| !c.nullable && content_checks(spec, c, as_of).is_empty())
        .map(|c| c.name)
        .collect();
    let clean = match null_only
        .iter()
        .map(|c| col(*c).is_null())
        .reduce(|a, b| a.or(b))
    {
        None => true,
        Some(any_null) => {
            let df = lf
                .clone()
                .filter(any_null)
                .select([len().alias("n")])
                .collect_with_engine(Engine::Streaming)
                .map_err(|e| fail(spec, format!("cannot read: {e}")))?
                .unwrap_single();
            first_count(&df, "n")? == 0
        }
    };
    Ok((null_only, clean))
}

/// Grade names of the model in a grade column (P4, PR4): checked before any work.
fn grade_checks(spec: &FileSpec, grades: &[String]) -> Vec<(String, Expr)> {
    if spec.file != contract::GRADES.file && spec.file != contract::OVERRIDES.file {
        return vec![];
    }
    vec![(
        format!(
            "column 'grade' has grades the model does not know; valid: {}",
            grades.join(", ")
        ),
        not_in(col("grade"), grades),
    )]
}

/// Every column check of a file in one streaming pass: nulls where none are allowed, and the
/// content checks (dates, amounts, levels, codes, grade names). Returns the row count; the
/// first failing check is an error naming the column, the count and the first rows.
fn column_checks(
    spec: &FileSpec,
    lf: &LazyFrame,
    as_of: NaiveDate,
    grades: &[String],
) -> Result<u64> {
    let id_col = spec.key.last().copied().unwrap_or("customer_id");
    let (null_only, null_only_clean) = null_only_columns(spec, lf, as_of)?;
    let mut checks: Vec<(String, Expr)> = Vec::new();
    for c in spec.columns {
        let proved_non_null = null_only_clean && null_only.contains(&c.name);
        if !c.nullable && !proved_non_null {
            checks.push((
                format!(
                    "column '{}' has null values; it must always be given",
                    c.name
                ),
                col(c.name).is_null(),
            ));
        }
        checks.extend(content_checks(spec, c, as_of));
    }
    checks.extend(grade_checks(spec, grades));
    let mut aggs = vec![len().alias("_rows")];
    for (i, (_, e)) in checks.iter().enumerate() {
        aggs.push(
            e.clone()
                .cast(DataType::UInt32)
                .sum()
                .alias(format!("_c{i}")),
        );
    }
    // The checks are aggregations, evaluated in cache-sized morsels without holding the
    // file's columns whole.
    let df = lf
        .clone()
        .select(aggs)
        .collect_with_engine(Engine::Streaming)
        .map_err(|e| fail(spec, format!("cannot read: {e}")))?
        .unwrap_single();
    for (i, (msg, e)) in checks.iter().enumerate() {
        let n = first_count(&df, &format!("_c{i}"))?;
        if n > 0 {
            let ex = examples(lf.clone(), e.clone(), id_col);
            return Err(fail(
                spec,
                format!("{msg}: {n} rows, first at {id_col} {ex}"),
            ));
        }
    }
    first_count(&df, "_rows")
}

/// The key is unique (P3: customer ids are unique in the folder). A key whose values strictly
/// increase in file order is proved unique without hashing every value.
fn unique_key(spec: &FileSpec, lf: &LazyFrame, rows: u64) -> Result<()> {
    let read = |e: Error| fail(spec, format!("cannot read: {e}"));
    let unique_col = match spec.key {
        [] => return Ok(()),
        [k] => *k,
        _ => "customer_id",
    };
    if strictly_increasing(lf.clone(), unique_col).map_err(read)? {
        // Nulls were counted by the null check; non-null values strictly increase.
        return Ok(());
    }
    if spec.key.len() == 1 {
        let df = lf
            .clone()
            .select([col(unique_col).n_unique().alias("_unique")])
            .collect_with_engine(Engine::Streaming)
            .map_err(|e| fail(spec, format!("cannot read: {e}")))?
            .unwrap_single();
        let dup = rows - first_count(&df, "_unique")?;
        if dup > 0 {
            return Err(fail(
                spec,
                format!("{dup} duplicate values in key column '{unique_col}'; each must be unique"),
            ));
        }
        return Ok(());
    }
    // P3: one row per customer; customer ids are unique in the folder.
    let df = lf
        .clone()
        .group_by([col("customer_id")])
        .agg([len().alias("_n")])
        .filter(col("_n").gt(lit(1u32)))
        .select([col("customer_id")])
        .sort(["customer_id"], SortMultipleOptions::default())
        .collect()?;
    if df.height() > 0 {
        return Err(fail(
            spec,
            format!(
                "{} customer ids appear more than once (P3: one grade per customer per institution), e.g. {}",
                df.height(),
                first_values(&df, "customer_id")?
            ),
        ));
    }
    Ok(())
}

/// Rows of customers not in customers.parquet: set aside with a counted warning.
/// The transactions' rows are also checked against their accounts' owners here (E53).
fn orphans(spec: &FileSpec, lf: &LazyFrame, rows: u64, seen: &Seen) -> Result<Option<Warning>> {
    let (true, Some(ids)) = (ORPHAN_CHECKED.contains(&spec.file), &seen.customers) else {
        return Ok(None);
    };
    let with_institution = spec.column("institution_id").is_some();
    let n = match (&seen.accounts, spec.file == contract::TRANSACTIONS.file) {
        (Some(acc), true) => transaction_owners(spec, lf, acc, ids)?,
        _ => count_orphans(lf.clone(), rows, ids.clone(), with_institution)
            .map_err(|e| fail(spec, format!("cannot read: {e}")))?,
    };
    Ok(orphan_warning(spec, n, with_institution))
}

/// The counted warning of `n` rows of unknown customers (none when `n` is 0).
fn orphan_warning(spec: &FileSpec, n: u64, with_institution: bool) -> Option<Warning> {
    (n > 0).then(|| Warning {
        file: spec.file.to_string(),
        message: if with_institution {
            "rows whose (institution_id, customer_id) is not a customer of customers.parquet; they are ignored"
        } else {
            "rows whose customer_id is not in customers.parquet; they are ignored"
        }
        .into(),
        rows: n,
    })
}

/// Every customer's branch is a branch of the reference table: locality (S2.4) and the
/// account-opening place (S3.2(2)) are read from it, and a branch it does not list would match
/// nothing silently.
pub fn branches_known(inputs: &Inputs, branches: &[String]) -> Result<()> {
    let spec = &contract::CUSTOMERS;
    let lf = inputs.required(spec);
    let unknown = not_in(col("branch_id"), branches);
    let df = lf
        .clone()
        .filter(unknown.clone())
        .select([len().alias("n")])
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
    let n = first_count(&df, "n")?;
    if n > 0 {
        let ex = examples(lf, unknown, "customer_id");
        return Err(fail(
            spec,
            format!(
                "column 'branch_id' has branches that branches.csv does not list: {n} rows, first at customer_id {ex}; add them to the reference table"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(ids: &[Option<&str>]) -> LazyFrame {
        df!("k" => ids.to_vec()).unwrap().lazy()
    }

    #[test]
    fn strictly_increasing_proves_unique_keys() {
        assert!(strictly_increasing(frame(&[Some("a"), Some("b"), Some("c")]), "k").unwrap());
        // Nulls are left to the null check.
        assert!(strictly_increasing(frame(&[Some("a"), None, Some("c")]), "k").unwrap());
        assert!(!strictly_increasing(frame(&[Some("a"), Some("a")]), "k").unwrap());
        assert!(!strictly_increasing(frame(&[Some("b"), Some("a")]), "k").unwrap());
        assert!(strictly_increasing(frame(&[]), "k").unwrap());
    }

    #[test]
    fn not_in_flags_exactly_the_values_outside_the_list() {
        let df = frame(&[
            Some("CN"),
            Some("kp"),
            Some(" CN"),
            None,
            Some("ZZ"),
            Some("XK"),
        ])
        .select([not_in(col("k"), contract::COUNTRIES).alias("bad")])
        .collect_with_engine(Engine::Streaming)
        .unwrap()
        .unwrap_single();
        let bad: Vec<Option<bool>> = df.column("bad").unwrap().bool().unwrap().iter().collect();
        // Null is left to the null check; case and spaces are not forgiven.
        let want = [false, true, true, false, true, false].map(Some);
        assert_eq!(bad, want);
    }

    fn customers() -> DataFrame {
        df!("institution_id" => ["I", "I"], "customer_id" => ["c1", "c2"]).unwrap()
    }

    fn accounts() -> DataFrame {
        // a3 belongs to a customer not in customers.parquet.
        df!("account_id" => ["a1", "a2", "a3"], "customer_id" => ["c1", "c2", "c9"]).unwrap()
    }

    fn transactions(rows: &[(i64, &str, &str)]) -> LazyFrame {
        df!(
            "txn_id" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            "account_id" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            "customer_id" => rows.iter().map(|r| r.2).collect::<Vec<_>>()
        )
        .unwrap()
        .lazy()
    }

    const CLEAN: [(i64, &str, &str); 5] = [
        (1, "a1", "c1"), // the owner's own account
        (2, "a9", "c1"), // an account not in accounts.parquet: nothing to compare with
        (3, "a1", "c9"), // a customer not in customers.parquet (W01), on a known account
        (4, "a3", "c9"), // W01, on the account of an unknown customer
        (5, "a3", "c2"), // the account's owner is not a customer: not compared
    ];

    #[test]
    fn transactions_of_unknown_customers_are_counted_and_set_aside_w01() {
        let spec = &contract::TRANSACTIONS;
        let n = transaction_owners(spec, &transactions(&CLEAN), &accounts(), &customers());
        assert_eq!(n.unwrap(), 2);
    }

    #[test]
    fn runs_of_one_account_are_looked_up_once_and_counted_row_by_row() {
        let spec = &contract::TRANSACTIONS;
        let (acc, cust) = (accounts(), customers());
        let clean = [
            (1, "a1", "c1"),
            (2, "a1", "c1"),
            (3, "a2", "c2"),
            (4, "a1", "c1"),
        ];
        let n = transaction_owners(spec, &transactions(&clean), &acc, &cust);
        assert_eq!(n.unwrap(), 0);
        // A run of three rows of an unknown customer counts three rows, not one.
        let runs = [
            (1, "a1", "c1"),
            (2, "a1", "c9"),
            (3, "a1", "c9"),
            (4, "a1", "c9"),
        ];
        let n = transaction_owners(spec, &transactions(&runs), &acc, &cust);
        assert_eq!(n.unwrap(), 3);
        let other = [(1, "a1", "c1"), (2, "a2", "c1"), (3, "a2", "c1")];
        let e = transaction_owners(spec, &transactions(&other), &acc, &cust).unwrap_err();
        assert!(e
            .to_string()
            .contains("2 rows are on an account of another customer"));
    }

    #[test]
    fn a_transaction_on_another_customers_account_is_refused_e53() {
        let spec = &contract::TRANSACTIONS;
        let mut rows = CLEAN.to_vec();
        rows.push((7, "a2", "c1"));
        rows.push((6, "a1", "c2"));
        let e = transaction_owners(spec, &transactions(&rows), &accounts(), &customers())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("2 rows are on an account of another customer")
                && e.contains("first at txn_id 6, 7"),
            "{e}"
        );
    }

    #[test]
    fn orphans_are_counted_whichever_side_is_hashed() {
        let ids =
            df!("customer_id" => (0..100).map(|i| format!("c{i}")).collect::<Vec<_>>()).unwrap();
        let rows = |ids: &[&str]| df!("customer_id" => ids.to_vec()).unwrap().lazy();
        // 3 rows against 100 customers: the rows are the hash table.
        let few = count_orphans(rows(&["c1", "x", "c1"]), 3, ids.clone(), false).unwrap();
        assert_eq!(few, 1);
        // As many rows as customers: the customers are.
        let many: Vec<String> = (0..100)
            .map(|i| format!("{}{i}", if i < 7 { "x" } else { "c" }))
            .collect();
        let many: Vec<&str> = many.iter().map(|s| s.as_str()).collect();
        assert_eq!(count_orphans(rows(&many), 100, ids, false).unwrap(), 7);
    }
}
