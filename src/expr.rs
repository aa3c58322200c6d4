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
//! A feature name is any feature of the catalogue (`features::CATALOG`). A comparison with a
//! missing (null) feature value is false.

use polars::prelude::*;

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
    /// Negation.
    Not(Box<Ast>),
    /// Conjunction.
    And(Box<Ast>, Box<Ast>),
    /// Disjunction.
    Or(Box<Ast>, Box<Ast>),
    /// Comparison.
    Cmp(Box<Ast>, CmpOp, Box<Ast>),
    /// Membership in a literal list.
    In(Box<Ast>, Vec<Ast>),
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
    fn not(&mut self) -> Result<Ast, String> {
        if self.keyword("not") {
            return Ok(Ast::Not(Box::new(self.not()?)));
        }
        self.cmp()
    }
    fn cmp(&mut self) -> Result<Ast, String> {
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
                let e = self.or()?;
                if self.next() != Some(Tok::RParen) {
                    return Err("missing ')'".into());
                }
                Ok(e)
            }
            Some(t) => Err(format!("unexpected {t:?}")),
            None => Err("unexpected end of expression".into()),
        }
    }
}

/// Parses an expression.
pub fn parse(src: &str) -> Result<Ast, String> {
    let toks = lex(src)?;
    let mut p = Parser { toks, pos: 0 };
    let ast = p.or()?;
    if p.pos < p.toks.len() {
        return Err(format!(
            "unexpected {:?} after the expression",
            p.toks[p.pos]
        ));
    }
    Ok(ast)
}

impl Ast {
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
            Ast::In(a, items) => items
                .iter()
                .map(|i| a.to_expr().eq(i.to_expr()).fill_null(lit(false)))
                .reduce(|x, y| x.or(y))
                .unwrap_or(lit(false)),
        }
    }

    /// The expression as a filter: true where it holds, false where it does not or is null.
    pub fn to_predicate(&self) -> Expr {
        self.to_expr().fill_null(lit(false))
    }
}
