//! The synthetic institution and the distributions the generator draws from: branches,
//! provinces, foreign countries, offshore centres, industries; and id formatting.

use std::fmt::Write as _;

use polars::prelude::*;

/// Branches of the synthetic institution: id, province, city (GB/T 2260 codes).
pub const BRANCHES: &[(&str, &str, &str)] = &[
    ("B001", "11", "1101"),
    ("B002", "31", "3101"),
    ("B003", "44", "4401"),
    ("B004", "44", "4403"),
    ("B005", "33", "3301"),
    ("B006", "32", "3201"),
    ("B007", "51", "5101"),
    ("B008", "53", "5301"),
    ("B009", "45", "4501"),
    ("B010", "64", "6401"),
];

/// Provinces of customers' places outside their branch city, with weights.
pub const PROVINCES: &[(&str, f64)] = &[
    ("11", 8.0),
    ("31", 8.0),
    ("44", 14.0),
    ("33", 9.0),
    ("32", 9.0),
    ("37", 7.0),
    ("51", 7.0),
    ("42", 6.0),
    ("53", 5.0),
    ("45", 5.0),
    ("64", 2.0),
    ("54", 1.0),
    ("65", 2.0),
    ("21", 4.0),
];

/// Foreign countries of foreign customers, counterparties and IP addresses, with weights.
pub const FOREIGN: &[(&str, f64)] = &[
    ("US", 10.0),
    ("GB", 5.0),
    ("JP", 8.0),
    ("KR", 8.0),
    ("SG", 6.0),
    ("RU", 5.0),
    ("DE", 4.0),
    ("AU", 4.0),
    ("CA", 4.0),
    ("MY", 4.0),
    ("TH", 3.0),
    ("VN", 3.0),
    ("LA", 1.0),
    ("MM", 1.0),
    ("KE", 0.5),
    ("IR", 0.4),
    ("KP", 0.2),
    ("VG", 1.0),
    ("KY", 1.0),
];

/// Offshore centres of beneficial owners, with weights.
pub const OFFSHORE: &[(&str, f64)] = &[("VG", 1.0), ("KY", 1.0), ("BM", 0.5), ("SC", 0.3)];

/// GB/T 4754 industries of customers, with weights.
pub const INDUSTRIES: &[(&str, f64)] = &[
    ("A01", 4.0),
    ("C13", 5.0),
    ("C42", 1.0),
    ("E47", 5.0),
    ("F51", 8.0),
    ("F52", 10.0),
    ("G54", 4.0),
    ("H61", 3.0),
    ("H62", 5.0),
    ("I65", 6.0),
    ("J66", 1.0),
    ("J67", 1.0),
    ("J69", 0.5),
    ("K70", 3.0),
    ("L72", 5.0),
    ("L7291", 1.0),
    ("M73", 2.0),
    ("P83", 4.0),
    ("Q84", 4.0),
    ("R86", 0.8),
    ("R87", 0.5),
    ("R90", 1.0),
    ("S92", 1.0),
];

/// Builds string ids without allocating one `String` per value.
pub struct Fmt(pub String);
impl Fmt {
    /// `prefix` and `n` zero-padded to `width`.
    pub fn id(&mut self, prefix: &str, n: u64, width: usize) -> &str {
        self.0.clear();
        let _ = write!(self.0, "{prefix}{n:0width$}");
        &self.0
    }
    /// `prefix` and `n` in 16 hex digits.
    pub fn hex(&mut self, prefix: &str, n: u64) -> &str {
        self.0.clear();
        let _ = write!(self.0, "{prefix}{n:016x}");
        &self.0
    }
    /// An IPv4 address made from `n`.
    pub fn ip(&mut self, n: u64) -> &str {
        self.0.clear();
        let b = n.to_le_bytes();
        let _ = write!(
            self.0,
            "{}.{}.{}.{}",
            1 + b[0] % 223,
            b[1],
            b[2],
            1 + b[3] % 254
        );
        &self.0
    }
}

/// A string column from optional values.
pub fn strs(name: &str, v: Vec<Option<&str>>) -> Column {
    Column::new(name.into(), v)
}

/// A date column from days since 1970-01-01.
pub fn dates(name: &str, v: Vec<Option<i32>>) -> PolarsResult<Column> {
    Column::new(name.into(), v).cast(&DataType::Date)
}
