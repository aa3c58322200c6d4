//! The small expression language of the risk model, used for the institution's own
//! direct-highest criteria (XH6) and for who may be graded directly low (XL).
//!
//! Grammar (keywords are lower case):
//! ```text
//! expr  := and ("or" and)*
//! and   := not ("and" not)*
//! not   := "not" not | cmp
//! cmp   := atom (("==" | "!=" | "<" | "<=" | ">" | ">=") atom)?
//!        | atom "in" "[" literal ("," literal)* "]"
//! atom  := number | 'string' | "string" | true | false | feature | "(" expr ")"
//! ```
//! A feature name is any feature of the catalogue (`catalog::CATALOG`). A comparison with a
//! missing (null) feature value is false.
//!
//! Expressions are type-checked when the model is loaded ([`parse_checked`]): a number is
//! compared with a number, a category with one of its values (`==`, `!=`, `in`), a flag with
//! `true`/`false` (`==`, `!=`); `and`, `or`, `not` and the whole expression take conditions.
//! Nesting is limited to [`MAX_DEPTH`] levels and the size to [`MAX_TERMS`] comparisons, so no
//! model can exhaust the stack or the query planner.

use polars::prelude::*;

use crate::catalog::{self, Kind};

/// Deepest nesting of parentheses and `not` accepted.
pub const MAX_DEPTH: usize = 32;
/// Most comparisons (and flag tests) in one expression.
pub const MAX_TERMS: usize = 64;
/// Most literals in one `in [...]` list.
pub const MAX_LIST: usize = 1_000;

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Ast {
    /// Numeric literal.
    Num(f64),
    /// String literal.
    Str(String),
    /// Boolean literal.
    Bool(bool),
    /// Feature reference.
    Feature(String),
    /// `not a`.
    Not(Box<Ast>),
    /// `a and b`.
    And(Box<Ast>, Box<Ast>),
    /// `a or b`.
    Or(Box<Ast>, Box<Ast>),
    /// `a OP b`.
    Cmp(Box<Ast>, CmpOp, Box<Ast>),
    /// Membership in a literal list.
    In(Box<Ast>, Vec<Ast>),
}

/// A string literal compared with a category feature must be one of its values.
fn check_value(feature: &Ast, values: &[&str], other: &Ast) -> Result<(), String> {
    if let (Ast::Feature(f), Ast::Str(v)) = (feature, other) {
        if !values.is_empty() && !values.contains(&v.as_str()) {
            return Err(format!(
                "'{v}' is not a value of {f}; valid: {}",
                values.join(", ")
            ));
        }
    }
    Ok(())
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Str(String),
    Ident(String),
    Op(&'static str),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
}

fn lex(src: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1
            }
            '[' => {
                out.push(Tok::LBracket);
                i += 1
            }
            ']' => {
                out.push(Tok::RBracket);
                i += 1
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1
            }
            '\'' | '"' => {
                let end = chars[i + 1..].iter().position(|&d| d == c).ok_or_else(|| {
                    format!("unterminated string starting at character {}", i + 1)
                })?;
                out.push(Tok::Str(chars[i + 1..i + 1 + end].iter().collect()));
                i += end + 2;
            }
            '=' | '!' | '<' | '>' => {
                let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
                let op = match two.as_str() {
                    "==" => "==",
                    "!=" => "!=",
                    "<=" => "<=",
                    ">=" => ">=",
                    _ if c == '<' => "<",
                    _ if c == '>' => ">",
                    _ => {
                        return Err(format!(
                            "unknown operator at character {}; use == != < <= > >=",
                            i + 1
                        ))
                    }
                };
                i += op.len();
                out.push(Tok::Op(op));
            }
            _ if c.is_ascii_digit() || c == '-' || c == '.' => {
                let start = i;
                i += 1;
                while i < chars.len()
                    && (chars[i].is_ascii_digit() || chars[i] == '.' || chars[i] == '_')
                {
                    i += 1;
                }
                let s: String = chars[start..i].iter().filter(|&&d| d != '_').collect();
                out.push(Tok::Num(
                    s.parse().map_err(|_| format!("bad number '{s}'"))?,
                ));
            }
            _ if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                out.push(Tok::Ident(chars[start..i].iter().collect()));
            }
            _ => return Err(format!("unexpected character '{c}' at {}", i + 1)),
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
    terms: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn keyword(&mut self, kw: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Ident(s)) if s == kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn or(&mut self) -> Result<Ast, String> {
        let mut lhs = self.and()?;
        while self.keyword("or") {
            lhs = Ast::Or(Box::new(lhs), Box::new(self.and()?));
        }
        Ok(lhs)
    }
    fn and(&mut self) -> Result<Ast, String> {
        let mut lhs = self.not()?;
        while self.keyword("and") {
            lhs = Ast::And(Box::new(lhs), Box::new(self.not()?));
        }
        Ok(lhs)
    }
    fn deeper(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!(
                "nested deeper than {MAX_DEPTH} levels of parentheses or 'not'; simplify it"
            ));
        }
        Ok(())
    }
    fn not(&mut self) -> Result<Ast, String> {
        if self.keyword("not") {
            self.deeper()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Ast::Not(Box::new(inner)));
        }
        self.cmp()
    }
    fn cmp(&mut self) -> Result<Ast, String> {
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(format!(
                "more than {MAX_TERMS} comparisons; split the rule or use 'in [...]'"
            ));
        }
        let lhs = self.atom()?;
        if self.keyword("in") {
            if self.next() != Some(Tok::LBracket) {
                return Err("expected '[' after 'in'".into());
            }
            let mut items = Vec::new();
            loop {
                let a = self.atom()?;
                if matches!(a, Ast::Feature(_)) {
                    return Err("a list after 'in' holds literals only".into());
                }
                items.push(a);
                if items.len() > MAX_LIST {
                    return Err(format!("a list after 'in' holds at most {MAX_LIST} values"));
                }
                match self.next() {
                    Some(Tok::Comma) => continue,
                    Some(Tok::RBracket) => break,
                    _ => return Err("expected ',' or ']' in list".into()),
                }
            }
            return Ok(Ast::In(Box::new(lhs), items));
        }
        if let Some(Tok::Op(op)) = self.peek().cloned() {
            self.pos += 1;
            let op = match op {
                "==" => CmpOp::Eq,
                "!=" => CmpOp::Ne,
                "<" => CmpOp::Lt,
                "<=" => CmpOp::Le,
                ">" => CmpOp::Gt,
                _ => CmpOp::Ge,
            };
            let rhs = self.atom()?;
            return Ok(Ast::Cmp(Box::new(lhs), op, Box::new(rhs)));
        }
        Ok(lhs)
    }
    fn atom(&mut self) -> Result<Ast, String> {
        match self.next() {
            Some(Tok::Num(n)) => Ok(Ast::Num(n)),
            Some(Tok::Str(s)) => Ok(Ast::Str(s)),
            Some(Tok::Ident(s)) if s == "true" => Ok(Ast::Bool(true)),
            Some(Tok::Ident(s)) if s == "false" => Ok(Ast::Bool(false)),
            Some(Tok::Ident(s)) if ["and", "or", "not", "in"].contains(&s.as_str()) => {
                Err(format!("unexpected keyword '{s}'"))
            }
            Some(Tok::Ident(s)) => Ok(Ast::Feature(s)),
            Some(Tok::LParen) => {
                self.deeper()?;
                let e = self.or()?;
                if self.next() != Some(Tok::RParen) {
                    return Err("missing ')'".into());
                }
                self.depth -= 1;
                Ok(e)
            }
            Some(t) => Err(format!("unexpected {}", t.describe())),
            None => Err("unexpected end of expression".into()),
        }
    }
}

/// Parses an expression.
pub fn parse(src: &str) -> Result<Ast, String> {
    let toks = lex(src)?;
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
        terms: 0,
    };
    let ast = p.or()?;
    if p.pos < p.toks.len() {
        return Err(format!(
            "unexpected {} after the expression",
            p.toks[p.pos].describe()
        ));
    }
    Ok(ast)
}

/// Parses an expression and type-checks it against the feature catalogue: the expression must
/// be a condition, and every comparison must compare like with like.
pub fn parse_checked(src: &str) -> Result<Ast, String> {
    let ast = parse(src)?;
    match ast.ty()? {
        Ty::Bool => Ok(ast),
        t => Err(format!(
            "{} is {}, not a condition; compare it, e.g. 'alert_level >= 3'",
            ast.describe(),
            t.name()
        )),
    }
}

/// The type of a (sub-)expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Num,
    /// A string literal or a category feature with its values (empty: open set).
    Str(&'static [&'static str]),
    Bool,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::Num => "a number",
            Ty::Str(_) => "a category",
            Ty::Bool => "a flag",
        }
    }
}

impl Tok {
    /// The token as a user wrote it.
    fn describe(&self) -> String {
        match self {
            Tok::Num(n) => format!("number {n}"),
            Tok::Str(s) => format!("string '{s}'"),
            Tok::Ident(s) => format!("'{s}'"),
            Tok::Op(o) => format!("'{o}'"),
            Tok::LParen => "'('".into(),
            Tok::RParen => "')'".into(),
            Tok::LBracket => "'['".into(),
            Tok::RBracket => "']'".into(),
            Tok::Comma => "','".into(),
        }
    }
}

impl Ast {
    fn describe(&self) -> String {
        match self {
            Ast::Num(n) => format!("{n}"),
            Ast::Str(s) => format!("'{s}'"),
            Ast::Bool(b) => format!("{b}"),
            Ast::Feature(f) => format!("'{f}'"),
            _ => "the expression".into(),
        }
    }

    fn ty(&self) -> Result<Ty, String> {
        let cond = |a: &Ast, what: &str| -> Result<(), String> {
            match a.ty()? {
                Ty::Bool => Ok(()),
                t => Err(format!(
                    "'{what}' takes conditions; {} is {}",
                    a.describe(),
                    t.name()
                )),
            }
        };
        Ok(match self {
            Ast::Num(_) => Ty::Num,
            Ast::Str(_) => Ty::Str(&[]),
            Ast::Bool(_) => Ty::Bool,
            Ast::Feature(f) => match catalog::feature(f) {
                None => {
                    return Err(format!(
                        "no feature '{f}'; features are listed in docs/model.md"
                    ))
                }
                Some(feat) => match feat.kind {
                    Kind::Num => Ty::Num,
                    Kind::Cat(values) => Ty::Str(values),
                    Kind::Bool => Ty::Bool,
                },
            },
            Ast::Not(a) => {
                cond(a, "not")?;
                Ty::Bool
            }
            Ast::And(a, b) => {
                cond(a, "and")?;
                cond(b, "and")?;
                Ty::Bool
            }
            Ast::Or(a, b) => {
                cond(a, "or")?;
                cond(b, "or")?;
                Ty::Bool
            }
            Ast::Cmp(a, op, b) => {
                if !matches!(**a, Ast::Feature(_)) && !matches!(**b, Ast::Feature(_)) {
                    return Err(format!(
                        "{} {} {} compares two literals; compare a feature",
                        a.describe(),
                        op.symbol(),
                        b.describe()
                    ));
                }
                let (ta, tb) = (a.ty()?, b.ty()?);
                match (ta, tb) {
                    (Ty::Num, Ty::Num) => {}
                    (Ty::Str(va), Ty::Str(vb)) if matches!(op, CmpOp::Eq | CmpOp::Ne) => {
                        check_value(a, va, b)?;
                        check_value(b, vb, a)?;
                    }
                    (Ty::Bool, Ty::Bool) if matches!(op, CmpOp::Eq | CmpOp::Ne) => {}
                    (Ty::Str(_), Ty::Str(_)) | (Ty::Bool, Ty::Bool) => {
                        return Err(format!(
                            "{} {} {}: {} is compared with == or != only",
                            a.describe(),
                            op.symbol(),
                            b.describe(),
                            ta.name()
                        ))
                    }
                    _ => {
                        return Err(format!(
                            "{} {} {} compares {} with {}; compare like with like",
                            a.describe(),
                            op.symbol(),
                            b.describe(),
                            ta.name(),
                            tb.name()
                        ))
                    }
                }
                Ty::Bool
            }
            Ast::In(a, items) => {
                let ta = a.ty()?;
                for i in items {
                    match (ta, i.ty()?) {
                        (Ty::Num, Ty::Num) => {}
                        (Ty::Str(va), Ty::Str(_)) => check_value(a, va, i)?,
                        (t, ti) => {
                            return Err(format!(
                                "{} in [...] lists {} ({}); {} is {}",
                                a.describe(),
                                i.describe(),
                                ti.name(),
                                a.describe(),
                                t.name()
                            ))
                        }
                    }
                }
                Ty::Bool
            }
        })
    }

    /// Every feature the expression refers to.
    pub fn features(&self, out: &mut Vec<String>) {
        match self {
            Ast::Feature(f) => out.push(f.clone()),
            Ast::Not(a) => a.features(out),
            Ast::And(a, b) | Ast::Or(a, b) | Ast::Cmp(a, _, b) => {
                a.features(out);
                b.features(out);
            }
            Ast::In(a, items) => {
                a.features(out);
                items.iter().for_each(|i| i.features(out));
            }
            _ => {}
        }
    }

    /// The Polars expression; comparisons with null are false.
    pub fn to_expr(&self) -> Expr {
        match self {
            Ast::Num(n) => lit(*n),
            Ast::Str(s) => lit(s.clone()),
            Ast::Bool(b) => lit(*b),
            Ast::Feature(f) => col(f.as_str()),
            Ast::Not(a) => a.to_predicate().not(),
            Ast::And(a, b) => a.to_predicate().and(b.to_predicate()),
            Ast::Or(a, b) => a.to_predicate().or(b.to_predicate()),
            Ast::Cmp(a, op, b) => {
                let (l, r) = (a.to_expr(), b.to_expr());
                let e = match op {
                    CmpOp::Eq => l.eq(r),
                    CmpOp::Ne => l.neq(r),
                    CmpOp::Lt => l.lt(r),
                    CmpOp::Le => l.lt_eq(r),
                    CmpOp::Gt => l.gt(r),
                    CmpOp::Ge => l.gt_eq(r),
                };
                e.fill_null(lit(false))
            }
            Ast::In(a, items) => {
                let nums: Vec<f64> = items
                    .iter()
                    .filter_map(|i| match i {
                        Ast::Num(n) => Some(*n),
                        _ => None,
                    })
                    .collect();
                let strs: Vec<String> = items
                    .iter()
                    .filter_map(|i| match i {
                        Ast::Str(s) => Some(s.clone()),
                        _ => None,
                    })
                    .collect();
                let member = if nums.is_empty() {
                    crate::validate::one_of(a.to_expr(), &strs)
                } else {
                    a.to_expr()
                        .cast(DataType::Float64)
                        .is_in(lit(Series::new("in".into(), nums)).implode(false), false)
                };
                member.fill_null(lit(false))
            }
        }
    }

    /// The expression as a filter: true where it holds, false where it does not or is null.
    pub fn to_predicate(&self) -> Expr {
        self.to_expr().fill_null(lit(false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(src: &str, df: &DataFrame) -> Vec<Option<bool>> {
        let e = parse_checked(src).unwrap().to_predicate();
        df.clone()
            .lazy()
            .select([e.alias("r")])
            .collect()
            .unwrap()
            .column("r")
            .unwrap()
            .bool()
            .unwrap()
            .iter()
            .collect()
    }

    fn frame() -> DataFrame {
        df!(
            "alert_level" => [Some(3u8), Some(0), None],
            "kind" => [Some("natural"), Some("non_natural"), None],
            "watchlist_hit" => [Some(false), Some(true), None],
        )
        .unwrap()
    }

    #[test]
    fn and_binds_tighter_than_or_and_not_tighter_than_and() {
        let a = parse("alert_level >= 3 or kind == 'x' and watchlist_hit").unwrap();
        assert!(matches!(a, Ast::Or(_, ref b) if matches!(**b, Ast::And(_, _))));
        let n = parse("not watchlist_hit and alert_level > 1").unwrap();
        assert!(matches!(n, Ast::And(ref l, _) if matches!(**l, Ast::Not(_))));
        // Row 1: alert 3; row 2: non-natural and on the list; row 3: all missing.
        assert_eq!(
            eval(
                "alert_level >= 3 or kind == 'non_natural' and watchlist_hit",
                &frame()
            ),
            vec![Some(true), Some(true), Some(false)]
        );
        // Parentheses change it: (alert ≥ 3 or non-natural) and on the list.
        assert_eq!(
            eval(
                "(alert_level >= 3 or kind == 'non_natural') and watchlist_hit",
                &frame()
            ),
            vec![Some(false), Some(true), Some(false)]
        );
    }

    #[test]
    fn in_lists_and_comparisons_with_missing_values_are_false() {
        assert_eq!(
            eval("kind in ['natural']", &frame()),
            vec![Some(true), Some(false), Some(false)]
        );
        // A list naming a value twice, and the streaming engine the scores run on.
        let e = parse_checked("kind in ['non_natural', 'non_natural']")
            .unwrap()
            .to_predicate();
        let r = frame()
            .lazy()
            .select([e.alias("r")])
            .collect_with_engine(Engine::Streaming)
            .unwrap()
            .unwrap_single();
        let r: Vec<Option<bool>> = r.column("r").unwrap().bool().unwrap().iter().collect();
        assert_eq!(r, vec![Some(false), Some(true), Some(false)]);
        assert_eq!(
            eval("alert_level in [0, 1]", &frame()),
            vec![Some(false), Some(true), Some(false)]
        );
        // A missing value compares false both ways, and `not` of that is true.
        assert_eq!(
            eval("not alert_level >= 1", &frame()),
            vec![Some(false), Some(true), Some(true)]
        );
    }

    #[test]
    fn messages_read_as_the_user_wrote() {
        let e = parse("(alert_level >= 3").unwrap_err();
        assert_eq!(e, "missing ')'");
        let e = parse("alert_level >= 3)").unwrap_err();
        assert_eq!(e, "unexpected ')' after the expression");
        let e = parse_checked("kind > 3").unwrap_err();
        assert!(e.contains("compares a category with a number"), "{e}");
    }
}
