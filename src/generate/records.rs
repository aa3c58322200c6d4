//! Synthetic records around the customers: suspicious and large-value reports (S1.4, XH4),
//! grades on file with their reviews (T2, T3), grades set by hand (PR4) and trigger events (T4).

use polars::prelude::*;

use super::customers::Profile;
use super::distributions::{dates, strs, Fmt};
use crate::rng::Rng;

/// Reports, grades on file, events and grades set by hand of a chunk's customers, in that
/// order.
pub fn make(
    rng: &mut Rng,
    f: &mut Fmt,
    profiles: &[Profile],
    as_of: i32,
) -> PolarsResult<[DataFrame; 4]> {
    let mut r = Records::new(profiles.len());
    for p in profiles {
        r.reports(rng, f, p, as_of);
        r.grade(rng, f, p, as_of);
        r.event(rng, f, p, as_of);
    }
    r.finish()
}

/// The columns of the four record files for one chunk.
struct Records {
    r_id: StringChunkedBuilder,
    r_cust: StringChunkedBuilder,
    r_type: Vec<&'static str>,
    r_date: Vec<Option<i32>>,
    r_proxy: Vec<bool>,
    g_cust: StringChunkedBuilder,
    g_grade: Vec<&'static str>,
    g_first: Vec<Option<i32>>,
    g_last: Vec<Option<i32>>,
    g_rev: Vec<Option<&'static str>>,
    g_screening: Vec<&'static str>,
    o_cust: StringChunkedBuilder,
    o_grade: Vec<&'static str>,
    o_role: Vec<&'static str>,
    o_by: Vec<&'static str>,
    o_on: Vec<Option<i32>>,
    o_reason: Vec<Option<&'static str>>,
    o_exp: Vec<Option<i32>>,
    e_cust: StringChunkedBuilder,
    e_type: Vec<&'static str>,
    e_date: Vec<Option<i32>>,
}

impl Records {
    /// Empty columns for `n` customers.
    fn new(n: usize) -> Self {
        Records {
            r_id: StringChunkedBuilder::new("report_id".into(), n / 10),
            r_cust: StringChunkedBuilder::new("customer_id".into(), n / 10),
            r_type: Vec::new(),
            r_date: Vec::new(),
            r_proxy: Vec::new(),
            g_cust: StringChunkedBuilder::new("customer_id".into(), n),
            g_grade: Vec::new(),
            g_first: Vec::new(),
            g_last: Vec::new(),
            g_rev: Vec::new(),
            g_screening: Vec::new(),
            o_cust: StringChunkedBuilder::new("customer_id".into(), n / 100),
            o_grade: Vec::new(),
            o_role: Vec::new(),
            o_by: Vec::new(),
            o_on: Vec::new(),
            o_reason: Vec::new(),
            o_exp: Vec::new(),
            e_cust: StringChunkedBuilder::new("customer_id".into(), n / 100),
            e_type: Vec::new(),
            e_date: Vec::new(),
        }
    }

    /// Suspicious transaction reports (S1.4, XH4; structurers more often) and large-value
    /// reports.
    fn reports(&mut self, rng: &mut Rng, f: &mut Fmt, p: &Profile, as_of: i32) {
        let strs_n = if rng.chance(if p.structurer { 0.5 } else { 0.005 }) {
            1 + rng.chance(0.3) as u64 + rng.chance(0.1) as u64
        } else {
            0
        };
        let lv_n = if p.big_cash || rng.chance(0.03) {
            rng.range(1, 6) as u64
        } else {
            0
        };
        for j in 0..strs_n + lv_n {
            self.r_id.append_value(f.id("R", p.g * 10 + j, 11));
            self.r_cust.append_value(f.id("C", p.g, 10));
            let suspicious = j < strs_n;
            self.r_type.push(if suspicious {
                "suspicious"
            } else {
                "large_value"
            });
            let back = if suspicious { 1095 } else { 365 };
            self.r_date.push(Some(as_of - rng.range(0, back) as i32));
            self.r_proxy
                .push(suspicious && p.proxy.is_some() && rng.chance(0.5));
        }
    }

    /// A grade on file for most customers older than 15 days, with its first grading and last
    /// review (T2, T3); a few grades set by hand (PR4), some expired.
    fn grade(&mut self, rng: &mut Rng, f: &mut Fmt, p: &Profile, as_of: i32) {
        if p.rel_start <= as_of - 15 && rng.chance(0.995) {
            self.g_cust.append_value(f.id("C", p.g, 10));
            self.g_grade
                .push(*rng.pick(&[("low", 0.9), ("medium", 0.08), ("high", 0.02)]));
            let first_g = p.rel_start + rng.range(0, 14) as i32;
            self.g_first.push(Some(first_g));
            // Most reviews are recent; some are overdue.
            let back = rng.range(0, 800) as i32;
            self.g_last.push(Some((as_of - back).max(first_g)));
            self.g_rev
                .push(Some(*rng.pick(&[("R01", 1.0), ("R02", 1.0), ("R03", 1.0)])));
            self.g_screening.push(if p.natural { "0-0" } else { "000" });
            // Grades set by hand (PR4): some expired, some in force.
            if rng.chance(0.002) {
                self.o_cust.append_value(f.id("C", p.g, 10));
                self.o_grade
                    .push(*rng.pick(&[("low", 0.5), ("medium", 0.3), ("high", 0.2)]));
                self.o_role
                    .push(*rng.pick(&[("second_reviewer", 0.6), ("compliance", 0.4)]));
                self.o_by
                    .push(*rng.pick(&[("S101", 1.0), ("S102", 1.0), ("S201", 1.0)]));
                let on = as_of - rng.range(1, 700) as i32;
                self.o_on.push(Some(on));
                self.o_reason
                    .push(Some("documented review of the customer's business"));
                self.o_exp.push(if rng.chance(0.5) {
                    Some(on + rng.range(30, 730) as i32)
                } else {
                    None
                });
            }
        }
    }

    /// Trigger events (T4).
    fn event(&mut self, rng: &mut Rng, f: &mut Fmt, p: &Profile, as_of: i32) {
        // Every event type on one of the first customers of every book, a month ago.
        let types = crate::contract::EVENT_TYPES;
        if (p.g as usize) < types.len() {
            self.e_cust.append_value(f.id("C", p.g, 10));
            self.e_type.push(types[p.g as usize]);
            self.e_date.push(Some(as_of - 30));
        }
        if rng.chance(0.003) {
            self.e_cust.append_value(f.id("C", p.g, 10));
            self.e_type.push(*rng.pick(&[
                ("identity_change", 0.4),
                ("judicial_investigation", 0.15),
                ("media_report", 0.15),
                ("name_change", 0.05),
                ("id_document_change", 0.05),
                ("business_scope_change", 0.05),
                ("legal_representative_change", 0.05),
                ("beneficial_owner_change", 0.05),
                ("profile_inconsistent", 0.05),
            ]));
            self.e_date.push(Some(as_of - rng.range(0, 730) as i32));
        }
    }

    /// The four frames: reports, grades, events, grades set by hand.
    fn finish(self) -> PolarsResult<[DataFrame; 4]> {
        let nr = self.r_type.len();
        let reports = DataFrame::new(
            nr,
            vec![
                self.r_id.finish().into_column(),
                self.r_cust.finish().into_column(),
                Column::new("report_type".into(), self.r_type),
                dates("report_date", self.r_date)?,
                Column::new("proxy_involved".into(), self.r_proxy),
            ],
        )?;
        let ng = self.g_grade.len();
        let grades = DataFrame::new(
            ng,
            vec![
                self.g_cust.finish().into_column(),
                Column::new("institution_id".into(), vec!["INST001"; ng]),
                Column::new("grade".into(), self.g_grade),
                dates("first_graded", self.g_first)?,
                dates("last_reviewed", self.g_last)?,
                strs("reviewer", self.g_rev),
                Column::new("basis".into(), vec!["scored"; ng]),
                // Screened at the last review against the lists of February 2026, with nothing
                // found (L-SP13): customers found now have their screening changed.
                Column::new("screened_lists".into(), vec!["2026-02"; ng]),
                Column::new("screening".into(), self.g_screening),
            ],
        )?;
        let no = self.o_grade.len();
        let overrides = DataFrame::new(
            no,
            vec![
                self.o_cust.finish().into_column(),
                Column::new("grade".into(), self.o_grade),
                Column::new("set_by_role".into(), self.o_role),
                Column::new("set_by".into(), self.o_by),
                dates("set_on", self.o_on)?,
                strs("reason", self.o_reason),
                dates("expires_on", self.o_exp)?,
            ],
        )?;
        let ne = self.e_type.len();
        let events = DataFrame::new(
            ne,
            vec![
                self.e_cust.finish().into_column(),
                Column::new("event_type".into(), self.e_type),
                dates("event_date", self.e_date)?,
            ],
        )?;
        Ok([reports, grades, events, overrides])
    }
}
