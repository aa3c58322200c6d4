//! The candidate models of a comparison: model files, a folder of them, or a grid of weight
//! moves generated from the baseline (W1 kept: every weight > 0, two decimals, sum exactly 100).
//! Every candidate is validated before any work; an invalid one stops the run naming the file
//! and key, or the generated vector.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::model::{Model, E2};

/// One candidate model.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Its name in the outputs (file stem, or the generated vector's name).
    pub name: String,
    /// Where it came from (a file path, or `grid: …`).
    pub source: String,
    /// The validated model.
    pub model: Model,
}

/// A grid of weight moves (docs/compare.md).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Grid {
    moves: Vec<Move>,
}

/// Move `start`, `start + step`, … up to `end` points of weight from one sub-item to another,
/// in the given segments (default: every segment adopting both).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Move {
    from: String,
    to: String,
    start: f64,
    end: f64,
    step: f64,
    #[serde(default)]
    segments: Vec<String>,
}

/// Loads the candidates named by the flags, in order: files, the folder's files, the grid.
pub fn load(
    files: &[std::path::PathBuf],
    dir: Option<&Path>,
    grid: Option<&Path>,
    baseline: &Model,
) -> Result<Vec<Candidate>> {
    let mut paths: Vec<std::path::PathBuf> = files.to_vec();
    if let Some(d) = dir {
        let mut found: Vec<_> = std::fs::read_dir(d)
            .map_err(|e| Error::Usage(format!("--candidates {}: {e}", d.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        found.sort();
        if found.is_empty() {
            return Err(Error::Usage(format!(
                "--candidates {}: no *.toml model files in it",
                d.display()
            )));
        }
        paths.extend(found);
    }
    let mut out = Vec::new();
    for p in paths {
        let model = Model::load(&p)?;
        let name = p
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        out.push(Candidate {
            name,
            source: p.display().to_string(),
            model,
        });
    }
    if let Some(g) = grid {
        out.extend(from_grid(g, baseline)?);
    }
    if out.is_empty() {
        return Err(Error::Usage(
            "give at least one candidate: --candidate FILE, --candidates DIR or --grid FILE".into(),
        ));
    }
    let mut seen = BTreeMap::new();
    for c in &out {
        if let Some(first) = seen.insert(c.name.clone(), c.source.clone()) {
            return Err(Error::Usage(format!(
                "two candidates are named '{}' ({first} and {}); rename one file",
                c.name, c.source
            )));
        }
        if c.model.params_json() != baseline.params_json() {
            return Err(Error::Model(format!(
                "{}: [features] differs from the baseline's; candidates change weights, bands, coefficients, exceptions, segments or scoring rules over the same features",
                c.source
            )));
        }
    }
    Ok(out)
}

/// The candidates a grid generates from the baseline.
fn from_grid(path: &Path, baseline: &Model) -> Result<Vec<Candidate>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Usage(format!("--grid {}: {e}", path.display())))?;
    let grid: Grid =
        toml::from_str(&text).map_err(|e| Error::Model(format!("{}: {e}", path.display())))?;
    let mut out = Vec::new();
    for (i, mv) in grid.moves.iter().enumerate() {
        let key = format!("{}: moves[{i}]", path.display());
        let fixed = |x: f64, what: &str| -> Result<i64> {
            let v = x * E2 as f64;
            if !x.is_finite() || (v - v.round()).abs() > 1e-6 || v.abs() > 1e6 {
                return Err(Error::Model(format!(
                    "{key}.{what}: {x}; give points with at most 2 decimals"
                )));
            }
            Ok(v.round() as i64)
        };
        let (start, end, step) = (
            fixed(mv.start, "start")?,
            fixed(mv.end, "end")?,
            fixed(mv.step, "step")?,
        );
        if step <= 0 || end < start {
            return Err(Error::Model(format!(
                "{key}: give start ≤ end and step > 0"
            )));
        }
        if (end - start) / step > 100_000 {
            return Err(Error::Model(format!("{key}: more than 100,000 vectors")));
        }
        let mut points = start;
        while points <= end {
            out.push(moved(baseline, mv, points, &key)?);
            points += step;
        }
    }
    Ok(out)
}

/// The baseline with `points` (× 100) moved from `mv.from` to `mv.to`.
fn moved(baseline: &Model, mv: &Move, points: i64, key: &str) -> Result<Candidate> {
    let mut model = baseline.clone();
    let sign = if points >= 0 { "+" } else { "-" };
    let name = format!(
        "{}_to_{}_{sign}{}",
        mv.from,
        mv.to,
        crate::model::fmt_e2(points.abs())
    );
    let mut touched = 0;
    for seg in &mut model.segments {
        if !mv.segments.is_empty() && !mv.segments.contains(&seg.name) {
            continue;
        }
        let has = |id: &str| seg.weights.iter().position(|(s, _)| s == id);
        let (Some(f), Some(t)) = (has(&mv.from), has(&mv.to)) else {
            if !mv.segments.is_empty() {
                return Err(Error::Model(format!(
                    "{key}: segment {} does not adopt both {} and {}",
                    seg.name, mv.from, mv.to
                )));
            }
            continue;
        };
        seg.weights[f].1 -= points;
        seg.weights[t].1 += points;
        if seg.weights[f].1 <= 0 || seg.weights[t].1 <= 0 {
            return Err(Error::Model(format!(
                "{key}: the vector {name} leaves segment {} with weight {} for {} (W1: every adopted sub-item weighs more than 0)",
                seg.name,
                crate::model::fmt_e2(seg.weights[f].1.min(seg.weights[t].1)),
                if seg.weights[f].1 <= 0 { &mv.from } else { &mv.to },
            )));
        }
        touched += 1;
    }
    if touched == 0 {
        return Err(Error::Model(format!(
            "{key}: no segment adopts both {} and {}",
            mv.from, mv.to
        )));
    }
    Ok(Candidate {
        name: name.clone(),
        source: format!("grid: {name}"),
        model,
    })
}
