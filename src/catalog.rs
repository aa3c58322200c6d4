//! The feature catalogue: every customer-level feature the scoring rules and expressions of a
//! risk model may refer to, with its kind, the rule it serves and what it means. `features.rs`
//! computes exactly these columns; `docs/model.md` lists them for model authors.

use polars::prelude::{col, DataType, LazyFrame};

use crate::contract;

/// The kind of a feature, which decides the rule types that may read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A number: scored by `bins`.
    Num,
    /// A category with the listed values (empty: open set): scored by `map`.
    Cat(&'static [&'static str]),
    /// True/false: scored by `flag`.
    Bool,
}

/// Which customers a feature describes. A feature that does not apply to a customer's kind is
/// null for that customer by design (a natural person has no legal form); a rule reading it
/// does not apply to that customer and is not scored as missing (PR3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applies {
    /// Every customer.
    All,
    /// Natural persons only.
    Natural,
    /// Non-natural persons (legal entities, other organisations) only.
    NonNatural,
}

impl Applies {
    /// The customer kinds (`contract::KINDS` values) it covers.
    pub fn kinds(self) -> &'static [&'static str] {
        match self {
            Applies::All => contract::KINDS,
            Applies::Natural => &contract::KINDS[..1],
            Applies::NonNatural => &contract::KINDS[1..],
        }
    }
    /// As written in the docs.
    pub fn label(self) -> &'static str {
        match self {
            Applies::All => "all",
            Applies::Natural => "natural",
            Applies::NonNatural => "non_natural",
        }
    }
}

/// One feature.
#[derive(Debug, Clone, Copy)]
pub struct Feature {
    /// Column name.
    pub name: &'static str,
    /// Number, category or flag: which rule types may read it.
    pub kind: Kind,
    /// The customers it describes.
    pub applies: Applies,
    /// Rule IDs it serves.
    pub rules: &'static str,
    /// What it measures, for model authors.
    pub doc: &'static str,
}

const fn f(name: &'static str, kind: Kind, rules: &'static str, doc: &'static str) -> Feature {
    Feature {
        name,
        kind,
        applies: Applies::All,
        rules,
        doc,
    }
}

/// A feature of natural persons only.
const fn nat(name: &'static str, kind: Kind, rules: &'static str, doc: &'static str) -> Feature {
    Feature {
        applies: Applies::Natural,
        ..f(name, kind, rules, doc)
    }
}

/// A feature of non-natural persons only.
const fn org(name: &'static str, kind: Kind, rules: &'static str, doc: &'static str) -> Feature {
    Feature {
        applies: Applies::NonNatural,
        ..f(name, kind, rules, doc)
    }
}

use Kind::*;

/// Values of the `address_locality` feature (S2.4), from most to least local.
pub const LOCALITIES: &[&str] = &[
    "local",
    "partly_local",
    "other_city",
    "other_province",
    "no_address",
];

/// Every feature, grouped by element.
pub const CATALOG: &[Feature] = &[
    // E1 customer characteristics
    f("kind", Cat(contract::KINDS), "P2", "natural or non_natural"),
    f("info_openness", Cat(contract::OPENNESS), "S1.1", "public availability of the customer's information"),
    f("onboarding_channel", Cat(contract::CHANNELS), "S1.2, XL5", "channel through which the relationship was built"),
    f("id_doc_type", Cat(contract::ID_DOCS), "S1.3", "kind of identity document"),
    f("str_count", Num, "S1.4, XH4, XL4", "suspicious transaction reports filed on the customer, all time up to the as-of date"),
    f("large_value_report_count", Num, "S1.4", "large-value reports filed on the customer in the look-back window"),
    org("legal_form", Cat(contract::LEGAL_FORMS), "S1.5", "legal form (non-natural persons)"),
    org("ownership_layers", Num, "S1.5", "layers of ownership to the ultimate owners"),
    org("hidden_shareholders", Bool, "S1.5", "hidden, nominee or anonymous shareholders"),
    org("ownership_depth", Num, "S1.5", "links on the longest chain of owners above it in the ownership graph, a cycle of k entities counted as k - 1 links (graph)"),
    org("intermediate_entities", Num, "S1.5", "distinct entities above it in the ownership graph (graph)"),
    org("circular_ownership", Bool, "S1.5", "it or an entity above it lies on an ownership cycle (graph)"),
    org("bo_count", Num, "L-BOI6", "its beneficial owners, the fallback counted (graph)"),
    org("bo_identified", Bool, "L-BOI6, PR3, XL", "beneficial owners identified by equity, income or voting rights, control, or as a state-owned entity's legal representative; false: only the fallback, or no one (graph)"),
    org("bo_fanout", Num, "S1.5, XH6", "most entity customers one of its beneficial owners is beneficial owner of: a shell-network signal (graph)"),
    org("bo_pep_relation", Cat(contract::PEP_RELATIONS), "S4.2, XH3", "worst PEP relation among its beneficial owners (graph)"),
    org("bo_watchlist_hit", Bool, "XH3", "one of its beneficial owners is on a monitoring list (graph)"),
    f("alert_level", Num, "S1.6", "0 none, 1 negative media, 2 regulator/law-enforcement/exchange alert, 3 record of crime or fraud"),
    nat("age_years", Num, "S1.7", "age in whole years at the as-of date (natural persons)"),
    org("existence_days", Num, "S1.8", "days from founding to the as-of date (non-natural persons)"),
    f("tenure_days", Num, "segments, T1", "days from the start of the relationship to the as-of date"),
    // E2 geography
    f("country_sanctioned", Bool, "S2.1", "any of the customer's countries (nationality, residence, registration, business, beneficial owner, main counterparties) is under sanctions"),
    f("country_fatf_level", Num, "S2.2", "worst FATF status among those countries: 0 none, 1 increased monitoring, 2 call for action"),
    f("country_predicate_level", Num, "S2.3", "worst predicate-crime level (1-5) among those countries"),
    f("region_predicate_level", Num, "S2.3", "worst predicate-crime level (1-5) among the customer's domestic provinces"),
    f("country_offshore", Bool, "S2.4", "any of those countries is an offshore centre"),
    f("address_locality", Cat(LOCALITIES), "S2.4", "where the residence / registration / business places lie relative to the institution's branch cities"),
    // E3 business
    f("txn_count", Num, "S3.5, published table", "transactions in the look-back window"),
    f("txn_amount_total", Num, "E3", "sum of transaction amounts in the window, CNY (added exactly, in whole fen)"),
    f("max_single_amount", Num, "published table", "largest single transaction in the window, CNY"),
    f("cash_total", Num, "S3.1", "sum of cash transactions in the window, CNY (added exactly, in whole fen)"),
    f("cash_count", Num, "S3.1", "cash transactions in the window"),
    f("cash_large_days", Num, "S3.1", "days on which the customer's cash total reached the large-value threshold"),
    f("cash_near_threshold_count", Num, "S3.1", "cash transactions just below the large-value threshold (structuring)"),
    f("shared_device_customers", Num, "S3.2(1)", "most customers using one device this customer used online (0: no online use, 1: not shared)"),
    f("offsite_online_count", Num, "S3.2(2)", "online transactions from an IP abroad or outside the branch city"),
    f("shared_ip_customers", Num, "S3.2(3)", "most customers using one IP address this customer used online (0: no online use, 1: not shared)"),
    f("max_online_amount", Num, "S3.2(4)", "largest online or mobile transaction in the window, CNY"),
    f("corp_personal_count", Num, "S3.2(5)", "transactions between a corporate (对公: non-natural or government) and a personal (对私) account"),
    f("corp_personal_large_count", Num, "S3.2(5), S3.5", "of those, at or above the large-transfer threshold of the customer's kind"),
    f("related_party_large_count", Num, "S3.2(6)", "related-party transactions at or above the non-natural large-transfer threshold"),
    f("cross_border_count", Num, "S3.3", "cross-border transactions in the window"),
    f("cross_border_high_risk_count", Num, "S3.3", "cross-border transactions with a sanctioned or FATF-listed country"),
    f("proxy_customers", Num, "S3.4(1)", "most customers any proxy acting for this customer acted for (0: no proxy)"),
    f("proxy_str_count", Num, "S3.4(2)", "suspicious transaction reports involving business done by a proxy"),
    f("proxy_accounts_opened", Num, "S3.4(3)", "most accounts opened by one proxy who opened an account of this customer (0: none)"),
    f("shared_contact_customers", Num, "S3.4(4)", "most customers sharing this customer's phone or emergency contact (0: none given, 1: not shared)"),
    f("accounts_opened_closed", Num, "S3.5", "accounts opened or closed in the window"),
    nat("natural_crossborder_remit_count", Num, "S3.5", "natural persons' outgoing cross-border transfers in the window"),
    // E4 industry
    f("industry_code", Cat(&[]), "S4.1, S4.3", "GB/T 4754 industry code"),
    f("industry_risk", Num, "S4.1", "risk level (1-5) of the industry in the institution's list"),
    f("industry_cash_intensity", Num, "S4.3, S3.1", "cash intensity (1-5) of the industry"),
    f("pep_relation", Cat(contract::PEP_RELATIONS), "S4.2, XH2", "the customer's own PEP relation"),
    org("controller_pep_relation", Cat(contract::PEP_RELATIONS), "S4.2, XH3", "PEP relation of its controller or beneficial owner: bo_pep_relation where the graph names beneficial owners, else the customer's record"),
    // exceptions and scope
    f("watchlist_hit", Bool, "XH1", "on an AML monitoring list"),
    org("controller_watchlist_hit", Bool, "XH3", "controller or beneficial owner on such a list: bo_watchlist_hit where the graph names beneficial owners, else the customer's record"),
    f("refuses_cdd", Bool, "XH5, XL6", "refuses due diligence"),
    f("non_resident", Bool, "XL3", "non-resident"),
    f("foreign_id_document", Bool, "XL3", "identity document issued abroad"),
    f("correspondent_relation", Bool, "XL2", "correspondent banking relationship"),
    f("trust_relation", Bool, "XL2", "trust or other high-risk business relationship"),
    f("onboarding_proxy", Bool, "XL5", "a non-professional proxy or unrelated person acted at onboarding"),
    f("net_financial_assets", Num, "XL1", "net financial assets at the institution, CNY"),
    f("annual_life_premium", Num, "XL1", "annual life premium, CNY"),
    f("noncash_single_premium", Num, "XL1", "largest non-cash single premium, CNY"),
    f("walk_in", Bool, "SC2", "one-off (walk-in) transaction customer"),
    f("id_expired", Bool, "L-CDD26, L-CDD29", "the identity document expired before the as-of date (null: no expiry date recorded)"),
];

/// The features read from the ownership graph (`owners`): null for every customer of a book
/// without one, and then a rule over them does not apply (no score, not missing: PR3).
pub const GRAPH_FEATURES: [&str; 8] = [
    "ownership_depth",
    "intermediate_entities",
    "circular_ownership",
    "bo_count",
    "bo_identified",
    "bo_fanout",
    "bo_pep_relation",
    "bo_watchlist_hit",
];

/// Looks a feature up by name.
pub fn feature(name: &str) -> Option<&'static Feature> {
    CATALOG.iter().find(|f| f.name == name)
}

/// Columns of `scores.parquet` after the sub-item scores, in order (`grade_on_file` is joined
/// in by the review stage).
pub const RESULT_COLUMNS: [&str; 13] = [
    "weighted_sum",
    "total_score",
    "regional_coefficient",
    "adjusted_score",
    "scored_grade",
    "direct_highest",
    "direct_low_blocked_by",
    "computed_grade",
    "grade",
    "basis",
    "grade_on_file",
    "missing_subitems",
    "top_subitems",
];

/// Columns the review stage and the other outputs set beside the scores.
pub const REVIEW_COLUMNS: &[&str] = &[
    "segment",
    "reasons",
    "due_date",
    "overdue",
    "grade_steps",
    "last_reviewed",
    "first_graded",
    "reviewer",
    "basis_on_file",
    "events_since_review",
    "override_grade",
    "override_by",
    "override_role",
    "override_on",
    "override_expires",
    "previous_grade",
    "graded_on",
    "direct_low_class",
    "overlay",
    "edd_required",
    "edd_reasons",
    "action",
    "screened_lists",
    "screening",
    "legacy_deadline",
    "cdd_completed_on",
    "bo_verified_on",
];

/// Columns of `scores.parquet` after [`RESULT_COLUMNS`]: the class of a direct-low grade
/// (L-CDD29), the branch-level adjustment that applied (M2), and whether and why enhanced due
/// diligence is required (L-CDD27, 28, 30, 33, 40).
pub const LAW_COLUMNS: [&str; 4] = ["direct_low_class", "overlay", "edd_required", "edd_reasons"];

/// Whether a name is taken by a feature or by a column a run writes: a sub-item id (its score
/// column) must not shadow one.
pub fn is_reserved(name: &str) -> bool {
    feature(name).is_some()
        || crate::contract::CUSTOMERS.column(name).is_some()
        || RESULT_COLUMNS.contains(&name)
        || REVIEW_COLUMNS.contains(&name)
        || crate::owners::COLUMNS.contains(&name)
}

/// The features made from a range's per-customer window aggregates. When the range's
/// transactions come customer by customer, the fused pass (`features::fused`) computes those
/// aggregates in one pass over its rows; otherwise the engine's group-bys do
/// (`features::transactions`, `features::geography`); the two give the same bits (tests). The
/// shared IP and device counts take from it only whether the customer used a key at all; the
/// country facts, the customer's own countries too. Every other feature has one path.
pub const WINDOW_PASS: [&str; 21] = [
    "country_sanctioned",
    "country_fatf_level",
    "country_predicate_level",
    "country_offshore",
    "txn_count",
    "txn_amount_total",
    "max_single_amount",
    "cash_total",
    "cash_count",
    "cash_large_days",
    "cash_near_threshold_count",
    "shared_device_customers",
    "offsite_online_count",
    "shared_ip_customers",
    "max_online_amount",
    "corp_personal_count",
    "corp_personal_large_count",
    "related_party_large_count",
    "cross_border_count",
    "cross_border_high_risk_count",
    "natural_crossborder_remit_count",
];

/// The category features with a closed list of values and the type the feature frame holds
/// them in: an Enum of the values (one byte a row instead of a 16-byte text view), one type per
/// feature for the whole run so ranges stack. Values are checked against the same lists
/// before any work; an open set (`industry_code`) stays text.
pub fn enum_features() -> &'static [(&'static str, DataType)] {
    static TYPES: std::sync::OnceLock<Vec<(&'static str, DataType)>> = std::sync::OnceLock::new();
    TYPES.get_or_init(|| {
        CATALOG
            .iter()
            .filter_map(|f| match f.kind {
                Cat(values) if !values.is_empty() => Some((f.name, contract::enum_of(values))),
                _ => None,
            })
            .collect()
    })
}

/// `features` with the category features of [`enum_features`] as text again, for what reads
/// them as text (the scoring rules, `features.parquet`); evaluated batch by batch.
pub fn categories_as_text(features: LazyFrame) -> LazyFrame {
    features.with_columns(
        enum_features()
            .iter()
            .map(|(name, _)| col(*name).cast(DataType::String))
            .collect::<Vec<_>>(),
    )
}
