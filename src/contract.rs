//! The input data contract: which Parquet files the job reads, their columns, types,
//! nullability and meaning, and which rule IDs use each column. `docs/data-contract.md`
//! restates this table for people; a test keeps the two in step.

use crate::frame::EnumCast;
use polars::prelude::*;

/// Logical column type of the contract, with the Polars dtype it maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    /// UTF-8 string.
    Str,
    /// True or false.
    Bool,
    /// Calendar date (days since epoch).
    Date,
    /// Timestamp, millisecond precision, no time zone.
    Datetime,
    /// 64-bit float (amounts in CNY).
    F64,
    /// 64-bit signed integer.
    I64,
    /// 8-bit unsigned integer (small counts and levels).
    U8,
}

impl ColType {
    /// The Polars dtype this column has in the files.
    pub fn dtype(self) -> DataType {
        match self {
            ColType::Str => DataType::String,
            ColType::Bool => DataType::Boolean,
            ColType::Date => DataType::Date,
            ColType::Datetime => DataType::Datetime(TimeUnit::Milliseconds, None),
            ColType::F64 => DataType::Float64,
            ColType::I64 => DataType::Int64,
            ColType::U8 => DataType::UInt8,
        }
    }
    /// Whether a file column of type `have` is read as this type: the form itself, an all-null
    /// column, a categorical string for a string, any integer width for an integer (a value out
    /// of range is an error when read), any integer or float for an amount, any timestamp unit
    /// without a time zone for a timestamp or a date.
    pub fn accepts(self, have: &DataType) -> bool {
        if *have == self.dtype() || matches!(have, DataType::Null) {
            return true;
        }
        match self {
            ColType::Str => matches!(have, DataType::Categorical(..) | DataType::Enum(..)),
            ColType::U8 | ColType::I64 => have.is_integer(),
            ColType::F64 => have.is_integer() || have.is_float(),
            ColType::Date | ColType::Datetime => {
                matches!(have, DataType::Datetime(_, None))
                    || (self == ColType::Datetime && matches!(have, DataType::Date))
            }
            ColType::Bool => false,
        }
    }
    /// The name used in the docs.
    pub fn name(self) -> &'static str {
        match self {
            ColType::Str => "string",
            ColType::Bool => "bool",
            ColType::Date => "date",
            ColType::Datetime => "datetime[ms]",
            ColType::F64 => "f64",
            ColType::I64 => "i64",
            ColType::U8 => "u8",
        }
    }
}

/// One column of an input file.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Column name.
    pub name: &'static str,
    /// Its logical type.
    pub ty: ColType,
    /// Whether nulls are allowed.
    pub nullable: bool,
    /// Allowed values for a categorical string column (empty: any).
    pub values: &'static [&'static str],
    /// Meaning, for the docs.
    pub meaning: &'static str,
    /// Rule IDs that use the column.
    pub rules: &'static str,
    /// Whether a file may leave the column out (it is then read as all null).
    pub optional: bool,
}

/// One input file of the contract.
#[derive(Debug, Clone, Copy)]
pub struct FileSpec {
    /// File name inside the data folder.
    pub file: &'static str,
    /// Whether the job refuses to run without it.
    pub required: bool,
    /// Columns forming the unique key (non-null, no duplicates).
    pub key: &'static [&'static str],
    /// The columns.
    pub columns: &'static [Column],
}

impl FileSpec {
    /// The Polars schema of the file.
    pub fn schema(&self) -> Schema {
        self.columns
            .iter()
            .map(|c| Field::new(c.name.into(), c.ty.dtype()))
            .collect()
    }
    /// Looks a column up by name.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

const fn col(
    name: &'static str,
    ty: ColType,
    nullable: bool,
    meaning: &'static str,
    rules: &'static str,
) -> Column {
    Column {
        name,
        ty,
        nullable,
        values: &[],
        meaning,
        rules,
        optional: false,
    }
}

const fn cat(
    name: &'static str,
    nullable: bool,
    values: &'static [&'static str],
    meaning: &'static str,
    rules: &'static str,
) -> Column {
    Column {
        name,
        ty: ColType::Str,
        nullable,
        values,
        meaning,
        rules,
        optional: false,
    }
}

/// A nullable column a file may leave out (read as all null).
const fn opt(
    name: &'static str,
    ty: ColType,
    meaning: &'static str,
    rules: &'static str,
) -> Column {
    Column {
        optional: true,
        ..col(name, ty, true, meaning, rules)
    }
}

use ColType::*;

/// Customer kinds (P2; the guideline's natural vs non-natural persons).
pub const KINDS: &[&str] = &["natural", "non_natural"];
/// Onboarding channels (S1.2, XL5).
pub const CHANNELS: &[&str] = &["face_to_face", "affiliate", "intermediary", "online"];
/// Information-openness categories (S1.1).
pub const OPENNESS: &[&str] = &[
    "state_organ",
    "public_institution",
    "soe",
    "listed",
    "other",
];
/// Identity document types (S1.3).
pub const ID_DOCS: &[&str] = &[
    "resident_id",
    "passport",
    "hk_macau_permit",
    "taiwan_permit",
    "foreign_permanent_residence",
    "unified_social_credit",
    "business_license",
    "other",
];
/// Legal forms of non-natural persons (S1.5).
pub const LEGAL_FORMS: &[&str] = &[
    "state_organ",
    "public_institution",
    "state_owned",
    "listed_company",
    "joint_stock",
    "limited_company",
    "partnership",
    "sole_proprietorship",
    "family_firm",
    "foreign_entity",
    "other",
];
/// PEP relations (S4.2, XH2, XH3).
pub const PEP_RELATIONS: &[&str] = &[
    "none",
    "foreign_pep",
    "relative",
    "close_associate",
    "domestic_pep",
    "former_foreign_pep",
    "io_senior_manager",
];
/// Transaction channels (S3.2).
pub const TXN_CHANNELS: &[&str] = &["counter", "online", "mobile", "atm"];
/// Transaction directions.
pub const DIRECTIONS: &[&str] = &["in", "out"];
/// Counterparty kinds (S3.2(5), S3.5, C2).
pub const COUNTERPARTY_KINDS: &[&str] = &["natural", "non_natural", "government"];
/// Report types (S1.4, XH4, XL4).
pub const REPORT_TYPES: &[&str] = &["suspicious", "large_value"];
/// Event types (T4).
pub const EVENT_TYPES: &[&str] = &[
    "identity_change",
    "judicial_investigation",
    "media_report",
    "name_change",
    "id_document_change",
    "business_scope_change",
    "legal_representative_change",
    "beneficial_owner_change",
    "profile_inconsistent",
];

/// The event types the 2013 guideline's T4 names; the others are L-CDD26's triggers.
pub const EVENT_TYPES_2013: &[&str] =
    &["identity_change", "judicial_investigation", "media_report"];

/// ISO 3166-1 alpha-2 country codes (the 249 officially assigned, and XK for Kosovo, a
/// user-assigned code in wide use). Country columns hold these exactly: upper case, no spaces.
pub const COUNTRIES: &[&str] = &[
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW", "XK",
];

/// Whether `code` is an ISO 3166-1 alpha-2 code of [`COUNTRIES`].
pub fn is_country(code: &str) -> bool {
    COUNTRIES.contains(&code)
}

/// Bases of a grade (XH, XL, W3, PR4).
pub const BASES: &[&str] = &["scored", "direct_highest", "direct_low", "override"];

/// GB/T 2260 province-level codes (provinces, autonomous regions, municipalities, Taiwan, Hong
/// Kong, Macao). A city code is four digits: its province's two, then two of its own.
pub const PROVINCES: &[&str] = &[
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
    "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71",
    "81", "82",
];

/// A customer's domestic places as (province column, city column) of `customers.parquet`
/// (S2.3, S2.4). A null province is read from the city's first two digits.
pub const PLACES: [(&str, &str); 3] = [
    ("residence_province", "residence_city"),
    ("registration_province", "registration_city"),
    ("business_province", "business_city"),
];

/// Whether `code` is a GB/T 2260 province code.
pub fn is_province(code: &str) -> bool {
    PROVINCES.contains(&code)
}

/// Whether `code` is a GB/T 2260 city code: four ASCII digits, the first two a province code.
pub fn is_city(code: &str) -> bool {
    code.len() == 4 && code.bytes().all(|b| b.is_ascii_digit()) && is_province(&code[..2])
}

/// Every well-formed GB/T 2260 city code (province code followed by 00–99).
pub fn city_codes() -> Vec<String> {
    PROVINCES
        .iter()
        .flat_map(|p| (0..100).map(move |i| format!("{p}{i:02}")))
        .collect()
}

/// An Enum type of `values` (sorted, each once): a cast to it leaves a value outside the list
/// null.
pub fn enum_of<S: AsRef<str>>(values: &[S]) -> DataType {
    let mut v: Vec<&str> = values.iter().map(|s| s.as_ref()).collect();
    v.sort_unstable();
    v.dedup();
    let cats = FrozenCategories::new(v).expect("distinct categories");
    DataType::from_frozen_categories(cats)
}

/// The ISO 3166-1 alpha-2 codes ([`COUNTRIES`]) as one Enum type for the whole run: the
/// checks and the features cast a country column to the same type, so a query casts it once.
pub fn country_enum() -> DataType {
    static T: std::sync::OnceLock<DataType> = std::sync::OnceLock::new();
    T.get_or_init(|| enum_of(COUNTRIES)).clone()
}

/// The GB/T 2260 city codes ([`city_codes`]) as one Enum type for the whole run (see
/// [`country_enum`]).
pub fn city_enum() -> DataType {
    static T: std::sync::OnceLock<DataType> = std::sync::OnceLock::new();
    T.get_or_init(|| enum_of(&city_codes())).clone()
}

/// Text `e` cast to [`country_enum`] by one function for the whole run, so that a query casts
/// a column once however many places ask (see [`crate::frame::EnumCast`]).
pub fn to_country(e: Expr) -> Expr {
    static C: std::sync::OnceLock<EnumCast> = std::sync::OnceLock::new();
    C.get_or_init(|| EnumCast::new(country_enum())).of(e)
}

/// Text `e` cast to [`city_enum`] (see [`to_country`]).
pub fn to_city(e: Expr) -> Expr {
    static C: std::sync::OnceLock<EnumCast> = std::sync::OnceLock::new();
    C.get_or_init(|| EnumCast::new(city_enum())).of(e)
}

/// `customers.parquet`: one row per customer per institution (P3).
pub const CUSTOMERS: FileSpec = FileSpec {
    file: "customers.parquet",
    required: true,
    key: &["institution_id", "customer_id"],
    columns: &[
        col("customer_id", Str, false, "customer number, unique within the institution", "P3"),
        col("institution_id", Str, false, "institution code", "P3, M1"),
        col("branch_id", Str, false, "branch that holds the relationship", "M2, S2.4"),
        cat("kind", false, KINDS, "natural person or non-natural person (legal entity, other organisation)", "P2, W1 segments"),
        col("customer_name", Str, true, "account name (personal data: only the regulator extract reads it)", "extract"),
        col("id_number", Str, true, "ID document number (personal data: only the regulator extract reads it)", "extract"),
        col("birth_date", Date, true, "date of birth (natural persons)", "S1.7"),
        col("founding_date", Date, true, "date of establishment (non-natural persons)", "S1.8"),
        col("relationship_start", Date, false, "date the business relationship started", "T1, T3, segments"),
        opt("relationship_end", Date, "date the business relationship ended (null or column left out: live)", "extract scope, T1-T4"),
        cat("onboarding_channel", true, CHANNELS, "channel through which the relationship was built", "S1.2, XL5"),
        cat("info_openness", true, OPENNESS, "public availability of the customer's information", "S1.1"),
        cat("id_doc_type", true, ID_DOCS, "kind of identity document", "S1.3"),
        col("id_issuing_country", Str, true, "ISO 3166-1 alpha-2 country that issued the document", "XL3"),
        cat("legal_form", true, LEGAL_FORMS, "legal form (non-natural persons)", "S1.5"),
        col("ownership_layers", U8, true, "layers of ownership between the customer and its ultimate owners", "S1.5"),
        col("hidden_shareholders", Bool, true, "hidden, nominee or anonymous shareholders", "S1.5"),
        col("nationality", Str, true, "ISO alpha-2 nationality (natural persons)", "S2.1-S2.4"),
        col("residence_country", Str, true, "ISO alpha-2 country of residence", "S2.1-S2.4"),
        col("registration_country", Str, true, "ISO alpha-2 country of registration (non-natural persons)", "S2.1-S2.4"),
        col("business_country", Str, true, "ISO alpha-2 country of the main place of business", "S2.1-S2.4"),
        col("bo_country", Str, true, "ISO alpha-2 country of the beneficial owner or controller", "S2.1-S2.4"),
        col("residence_province", Str, true, "GB/T 2260 province code (2 digits) of residence", "S2.3, S2.4"),
        col("residence_city", Str, true, "GB/T 2260 city code (4 digits) of residence", "S2.4"),
        col("registration_province", Str, true, "province code of registration", "S2.3, S2.4"),
        col("registration_city", Str, true, "city code of registration", "S2.4"),
        col("business_province", Str, true, "province code of the place of business", "S2.3, S2.4"),
        col("business_city", Str, true, "city code of the place of business", "S2.4"),
        col("industry_code", Str, true, "GB/T 4754 industry code (for natural persons: of the occupation)", "S4.1, S4.3, S3.1"),
        cat("pep_relation", true, PEP_RELATIONS, "the customer's own PEP relation", "S4.2, XH2"),
        cat("controller_pep_relation", true, PEP_RELATIONS, "PEP relation of the actual controller or beneficial owner", "S4.2, XH3"),
        col("watchlist_hit", Bool, false, "on a list China publishes or recognises for AML monitoring", "XH1"),
        col("controller_watchlist_hit", Bool, true, "the controller or beneficial owner is on such a list", "XH3"),
        col("alert_level", U8, true, "0 none, 1 major negative media report, 2 regulator / law-enforcement / exchange alert, 3 record of crime, financial violation or fraud", "S1.6"),
        col("refuses_cdd", Bool, false, "refuses to cooperate with customer due diligence", "XH5, XL6"),
        col("non_resident", Bool, false, "non-resident customer", "XL3"),
        col("correspondent_relation", Bool, false, "correspondent banking relationship with the institution", "XL2"),
        col("trust_relation", Bool, false, "trust or other high-risk business relationship", "XL2"),
        col("onboarding_proxy_id", Str, true, "identifier of the non-professional proxy who acted at onboarding (null: none)", "S3.4, XL5"),
        col("phone_hash", Str, true, "hash of the phone number", "S3.4(4)"),
        col("emergency_contact_hash", Str, true, "hash of the emergency contact", "S3.4(4)"),
        col("net_financial_assets", F64, true, "net financial assets held at the institution, CNY", "XL1"),
        col("annual_life_premium", F64, true, "annual life-insurance premium, CNY", "XL1"),
        col("noncash_single_premium", F64, true, "largest non-cash single premium, CNY", "XL1"),
        col("walk_in", Bool, false, "one-off (walk-in) transaction customer", "SC2"),
        opt("id_expiry_date", Date, "expiry date of the identity document (null or column left out: none recorded)", "L-CDD26, L-CDD29"),
        opt("cdd_completed_on", Date, "the day the customer's due diligence was last completed (null or column left out: none on file)", "L-CDD51"),
        opt("bo_verified_on", Date, "the day the beneficial owners were last verified (entities; null or left out: none on file)", "L-BO39"),
    ],
};

/// `accounts.parquet`: accounts of the customers.
pub const ACCOUNTS: FileSpec = FileSpec {
    file: "accounts.parquet",
    required: true,
    key: &["account_id"],
    columns: &[
        col("account_id", Str, false, "account number", "S3.4, S3.5"),
        col(
            "customer_id",
            Str,
            false,
            "owner (customers.customer_id)",
            "S3.4, S3.5",
        ),
        col("opened_date", Date, false, "date opened", "S3.5"),
        col(
            "closed_date",
            Date,
            true,
            "date closed (null: open)",
            "S3.5",
        ),
        col(
            "opened_by_proxy_id",
            Str,
            true,
            "non-professional proxy who opened the account (null: the customer)",
            "S3.4(1), S3.4(3)",
        ),
    ],
};

/// `transactions.parquet`: the customers' transactions.
pub const TRANSACTIONS: FileSpec = FileSpec {
    file: "transactions.parquet",
    required: true,
    key: &["txn_id"],
    columns: &[
        col("txn_id", I64, false, "transaction id", "-"),
        col("customer_id", Str, false, "customers.customer_id", "E3"),
        col("account_id", Str, false, "accounts.account_id", "E3"),
        col(
            "ts",
            Datetime,
            false,
            "time of the transaction (local time)",
            "look-back window",
        ),
        col("amount", F64, false, "amount in CNY, positive", "S3.1-S3.5"),
        cat(
            "direction",
            false,
            DIRECTIONS,
            "in (credit) or out (debit)",
            "S3.1",
        ),
        col("cash", Bool, false, "cash transaction", "S3.1"),
        cat(
            "channel",
            false,
            TXN_CHANNELS,
            "counter, online, mobile or ATM",
            "S3.2",
        ),
        col(
            "ip_address",
            Str,
            true,
            "IP address of an online or mobile transaction",
            "S3.2(3)",
        ),
        col(
            "ip_country",
            Str,
            true,
            "ISO alpha-2 country of the IP address",
            "S3.2(2)",
        ),
        col(
            "ip_city",
            Str,
            true,
            "GB/T 2260 city code of the IP address (domestic)",
            "S3.2(2)",
        ),
        col(
            "device_id",
            Str,
            true,
            "device identifier of an online or mobile transaction",
            "S3.2(1)",
        ),
        col(
            "cross_border",
            Bool,
            false,
            "cross-border transaction",
            "S3.3, S3.5",
        ),
        col(
            "counterparty_id",
            Str,
            true,
            "counterparty identifier",
            "S3.2(5)",
        ),
        cat(
            "counterparty_kind",
            true,
            COUNTERPARTY_KINDS,
            "natural, non_natural or government",
            "S3.2(5), S3.5",
        ),
        col(
            "counterparty_country",
            Str,
            true,
            "ISO alpha-2 country of the counterparty",
            "E2, S3.3",
        ),
        col(
            "related_party",
            Bool,
            false,
            "counterparty is a related company",
            "S3.2(6)",
        ),
        col(
            "proxy_id",
            Str,
            true,
            "non-professional proxy who did the transaction for the customer",
            "S3.4(1)",
        ),
    ],
};

/// `reports.parquet`: suspicious-transaction and large-value reports filed on customers.
pub const REPORTS: FileSpec = FileSpec {
    file: "reports.parquet",
    required: true,
    key: &["report_id"],
    columns: &[
        col("report_id", Str, false, "report id", "-"),
        col("customer_id", Str, false, "customers.customer_id", "S1.4"),
        cat(
            "report_type",
            false,
            REPORT_TYPES,
            "suspicious (STR) or large_value",
            "S1.4, XH4, XL4",
        ),
        col("report_date", Date, false, "date filed", "S1.4"),
        col(
            "proxy_involved",
            Bool,
            false,
            "business done by a proxy is part of the report",
            "S3.4(2)",
        ),
    ],
};

/// `grades.parquet`: the grades on file from the previous run.
pub const GRADES: FileSpec = FileSpec {
    file: "grades.parquet",
    required: false,
    key: &["institution_id", "customer_id"],
    columns: &[
        col(
            "customer_id",
            Str,
            false,
            "customers.customer_id",
            "P3, T1-T4",
        ),
        col("institution_id", Str, false, "institution code", "P3"),
        col(
            "grade",
            Str,
            false,
            "grade on file (a grade name of the model)",
            "P4",
        ),
        col(
            "first_graded",
            Date,
            false,
            "date of the first grading",
            "T3",
        ),
        col(
            "last_reviewed",
            Date,
            false,
            "date of the last review",
            "T2, T4",
        ),
        col("reviewer", Str, true, "who confirmed the grade", "PR4"),
        cat(
            "basis",
            true,
            BASES,
            "basis of the grade on file (scored, direct_highest, direct_low, override)",
            "XH, P4",
        ),
        opt("screened_lists", Str, "the lists the grade on file was screened against (the FATF lists' version; written by grades_next)", "L-SP13"),
        opt("screening", Str, "the screening result behind the grade on file (watch-list hits, worst FATF status; written by grades_next)", "L-SP13"),
    ],
};

/// Roles that may set a grade by hand (PR4).
pub const OVERRIDE_ROLES: &[&str] = &["second_reviewer", "compliance"];

/// `overrides.parquet`: grades set by hand (PR4).
pub const OVERRIDES: FileSpec = FileSpec {
    file: "overrides.parquet",
    required: false,
    key: &[],
    columns: &[
        col("customer_id", Str, false, "customers.customer_id", "PR4"),
        col(
            "grade",
            Str,
            false,
            "the grade set (a grade name of the model)",
            "PR4",
        ),
        cat(
            "set_by_role",
            false,
            OVERRIDE_ROLES,
            "second_reviewer or compliance (the AML compliance department)",
            "PR4",
        ),
        col("set_by", Str, false, "who set it (staff id)", "PR4, M4"),
        col("set_on", Date, false, "date it was set", "PR4"),
        col("reason", Str, true, "why", "PR4, M4"),
        col(
            "expires_on",
            Date,
            true,
            "last day it stands (null: until replaced)",
            "PR4",
        ),
    ],
};

/// `grade_history.parquet`: every grading of every customer (optional input; the run writes
/// the extended history).
pub const HISTORY: FileSpec = FileSpec {
    file: "grade_history.parquet",
    required: false,
    key: &[],
    columns: &[
        col(
            "customer_id",
            Str,
            false,
            "customers.customer_id",
            "M4, extract",
        ),
        col(
            "institution_id",
            Str,
            false,
            "institution code",
            "M4, extract",
        ),
        col("grade", Str, false, "grade given", "M4"),
        col(
            "previous_grade",
            Str,
            true,
            "grade before (null: first grading)",
            "P4",
        ),
        col("graded_on", Date, false, "date of the grading", "M4"),
        cat(
            "basis",
            false,
            BASES,
            "scored, direct_highest, direct_low or override",
            "M4",
        ),
        col("total_score", F64, true, "total score at the grading", "M4"),
    ],
};

/// `events.parquet`: trigger events (T4).
pub const EVENTS: FileSpec = FileSpec {
    file: "events.parquet",
    required: false,
    key: &[],
    columns: &[
        col("customer_id", Str, false, "customers.customer_id", "T4"),
        cat(
            "event_type",
            false,
            EVENT_TYPES,
            "identity_change, judicial_investigation, media_report (T4); name_change, id_document_change, business_scope_change, legal_representative_change, beneficial_owner_change, profile_inconsistent (L-CDD26)",
            "T4",
        ),
        col("event_date", Date, false, "date of the event", "T4"),
    ],
};

/// Roles of an edge of the ownership graph (L-BOI6).
pub const OWNERSHIP_ROLES: &[&str] = &["owner", "manager", "legal_representative"];
/// Kinds of the rows of `persons.parquet`.
pub const PERSON_KINDS: &[&str] = &["natural", "entity"];

/// `ownership.parquet`: the ownership graph, an edge per row (L-BOI6, S1.5).
pub const OWNERSHIP: FileSpec = FileSpec {
    file: "ownership.parquet",
    required: false,
    key: &[],
    columns: &[
        col("owned_id", Str, false, "the entity held or run: a customer_id of a non-natural customer, or a person_id of an entity of persons.parquet", "S1.5, L-BOI6"),
        col("owner_id", Str, false, "who holds, controls, runs or represents it: a customer_id, or a person_id of persons.parquet", "S1.5, L-BOI6"),
        cat("role", false, OWNERSHIP_ROLES, "owner (holds equity, income or voting rights, or controls it), manager (runs its daily business: the fallback), legal_representative", "L-BOI6"),
        opt("equity_share", F64, "fraction of its equity, shares or partnership interest held, 0 to 1 (null: none)", "L-BOI6"),
        opt("voting_share", F64, "fraction of its income or voting rights held, 0 to 1 (null: as equity_share)", "L-BOI6"),
        opt("controls", Bool, "the owner actually controls it (agreement, board, trust deed, nominee); more than half the voting rights is control whatever this says", "L-BOI6"),
        col("formed_on", Date, false, "first day the edge holds", "L-BOI6"),
        opt("ended_on", Date, "first day the edge no longer holds (null or column left out: still holds)", "L-BOI6"),
    ],
};

/// `persons.parquet`: the natural persons and non-customer entities that appear in
/// `ownership.parquet` (L-BOI6, XH3, S2).
pub const PERSONS: FileSpec = FileSpec {
    file: "persons.parquet",
    required: false,
    key: &["person_id"],
    columns: &[
        col(
            "person_id",
            Str,
            false,
            "identifier of the person or entity, distinct from every customer_id",
            "L-BOI6",
        ),
        cat(
            "kind",
            false,
            PERSON_KINDS,
            "natural person, or entity (company, trust, partnership, fund)",
            "L-BOI6",
        ),
        col(
            "country",
            Str,
            true,
            "ISO alpha-2 nationality (natural persons) or country of registration (entities)",
            "S2.1-S2.4",
        ),
        cat(
            "pep_relation",
            true,
            PEP_RELATIONS,
            "the person's PEP relation",
            "S4.2, XH3",
        ),
        col(
            "watchlist_hit",
            Bool,
            true,
            "on a list China publishes or recognises for AML monitoring",
            "XH3",
        ),
        opt(
            "state_owned",
            Bool,
            "an entity owned by the state: an ultimate holder, not followed up (null: no)",
            "L-BOI6",
        ),
    ],
};

/// Every input file, in load order.
pub const FILES: &[FileSpec] = &[
    CUSTOMERS,
    ACCOUNTS,
    TRANSACTIONS,
    REPORTS,
    GRADES,
    EVENTS,
    OVERRIDES,
    HISTORY,
    OWNERSHIP,
    PERSONS,
];
