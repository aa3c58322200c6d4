//! A deterministic mutation test of the model parser and validator (the cargo-fuzz target in
//! `fuzz/` explores further): no input may make them panic.

mod common;

use common::repo;
use riskgrade::model::Model;
use riskgrade::rng::Rng;

const TOKENS: &[&str] = &[
    "=",
    "[",
    "]",
    "{",
    "}",
    "\"",
    ",",
    "\n",
    "(",
    ")",
    "-1",
    "0",
    "1e309",
    "nan",
    "inf",
    "-inf",
    "min",
    "255",
    "256",
    "999999999999999999999",
    "true",
    "[[grades]]",
    "[[segments]]",
    "[subitems.x]",
    "interval = \"(0, 100]\"",
    "m = 1",
    "m = 0",
    "score = 0",
    "weights",
    "and",
    "or",
    "not",
    "in",
    "'",
    "==",
    ">=",
    "\u{0}",
    "é",
    "0.00001",
];

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut s: Vec<char> = text.chars().collect();
    for _ in 0..rng.range(1, 6) {
        if s.is_empty() {
            break;
        }
        let at = rng.range(0, s.len() as i64) as usize;
        match rng.range(0, 5) {
            0 => {
                let end = (at + rng.range(1, 80) as usize).min(s.len());
                s.drain(at..end);
            }
            1 => {
                let tok = TOKENS[rng.range(0, TOKENS.len() as i64) as usize];
                for (k, c) in tok.chars().enumerate() {
                    s.insert(at + k, c);
                }
            }
            2 => s[at] = char::from_u32(rng.range(0, 0x250) as u32).unwrap_or('x'),
            3 => {
                let end = (at + rng.range(1, 200) as usize).min(s.len());
                let piece: Vec<char> = s[at..end].to_vec();
                let to = rng.range(0, s.len() as i64) as usize;
                for (k, c) in piece.into_iter().enumerate() {
                    s.insert(to + k, c);
                }
            }
            _ => {
                // replace a number
                if s[at].is_ascii_digit() {
                    s[at] = char::from(b'0' + rng.range(0, 10) as u8);
                }
            }
        }
    }
    s.into_iter().collect()
}

#[test]
fn model_parser_never_panics_on_mutated_models() {
    let seeds: Vec<String> = [
        "data/models/default.toml",
        "tests/models/published.toml",
        "tests/models/three_level.toml",
    ]
    .iter()
    .map(|f| std::fs::read_to_string(repo(f)).unwrap())
    .collect();
    let mut rng = Rng::new(2026, 11);
    let mut accepted = 0;
    for i in 0..6000 {
        let text = mutate(&mut rng, &seeds[i % seeds.len()]);
        let r = std::panic::catch_unwind(|| Model::parse(&text).is_ok());
        match r {
            Ok(ok) => accepted += ok as usize,
            Err(_) => panic!("panic on input:\n{text}"),
        }
        let head: String = text.chars().take(120).collect();
        let e = std::panic::catch_unwind(|| riskgrade::expr::parse(&head).is_ok());
        assert!(e.is_ok(), "expression parser panicked on {head:?}");
    }
    // Some mutations (in comments, rationale text) keep the model valid.
    assert!(accepted > 0);
}

/// A random expression over the catalogue: features of every kind, literals of every type,
/// every operator, nesting up to `depth`.
fn random_expr(rng: &mut Rng, depth: u32) -> String {
    use riskgrade::catalog::CATALOG;
    let atom = |rng: &mut Rng| -> String {
        match rng.range(0, 5) {
            0 | 1 => CATALOG[rng.range(0, CATALOG.len() as i64) as usize]
                .name
                .to_string(),
            2 => format!("{}", rng.range(-5, 100_000)),
            3 => ["'natural'", "'none'", "'x'", "'foreign_pep'", "''"][rng.range(0, 5) as usize]
                .to_string(),
            _ => ["true", "false"][rng.range(0, 2) as usize].to_string(),
        }
    };
    if depth == 0 || rng.range(0, 4) == 0 {
        let op = ["==", "!=", "<", "<=", ">", ">="][rng.range(0, 6) as usize];
        return match rng.range(0, 6) {
            0 => atom(rng),
            1 => format!("{} in [{}, {}]", atom(rng), atom(rng), atom(rng)),
            _ => format!("{} {op} {}", atom(rng), atom(rng)),
        };
    }
    match rng.range(0, 4) {
        0 => format!("not {}", random_expr(rng, depth - 1)),
        1 => format!("({})", random_expr(rng, depth - 1)),
        2 => format!(
            "{} and {}",
            random_expr(rng, depth - 1),
            random_expr(rng, depth - 1)
        ),
        _ => format!(
            "{} or {}",
            random_expr(rng, depth - 1),
            random_expr(rng, depth - 1)
        ),
    }
}

/// Type-checked expressions never fail when a run evaluates them; ill-typed or too deep ones
/// are refused when the model is loaded, never by a panic or a stack overflow.
#[test]
fn checked_expressions_always_evaluate() {
    use polars::prelude::*;
    let text = std::fs::read_to_string(repo("data/models/default.toml")).unwrap();
    let mut rng = Rng::new(2026, 12);
    let features = common::base_features(4);
    let (mut ok, mut refused) = (0, 0);
    for i in 0..1500 {
        let depth = if i % 50 == 0 {
            60
        } else {
            rng.range(0, 8) as u32
        };
        let src = random_expr(&mut rng, depth);
        match riskgrade::expr::parse_checked(&src) {
            Err(_) => refused += 1,
            Ok(_) => {
                ok += 1;
                let model_text = text.replacen(
                    "when = \"alert_level >= 3\"",
                    &format!("when = \"{src}\""),
                    1,
                );
                let model = Model::parse(&model_text)
                    .unwrap_or_else(|e| panic!("checked but refused: {src}: {e}"));
                let out = riskgrade::scoring::score(features.clone().lazy(), &model).collect();
                assert!(out.is_ok(), "{src}: {:?}", out.err());
            }
        }
    }
    assert!(ok > 50 && refused > 50, "ok {ok}, refused {refused}");
}
