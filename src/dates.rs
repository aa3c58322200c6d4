//! Date helpers.

use chrono::NaiveDate;

/// 1970-01-01.
pub fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date")
}

/// Days since 1970-01-01 (the Parquet/Arrow date representation).
pub fn days_since_epoch(d: NaiveDate) -> i32 {
    (d - epoch()).num_days() as i32
}

/// Today's date (UTC).
pub fn today() -> NaiveDate {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    epoch() + chrono::Days::new(secs / 86_400)
}

/// Now as an RFC 3339 UTC timestamp.
pub fn now_rfc3339() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    chrono::DateTime::from_timestamp(d.as_secs() as i64, d.subsec_nanos())
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// A Polars literal of type Date.
pub fn date_lit(d: NaiveDate) -> polars::prelude::Expr {
    use polars::prelude::*;
    lit(days_since_epoch(d)).cast(DataType::Date)
}
