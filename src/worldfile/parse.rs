//! Expressions and templates as text, parsed into an [`Ast`] once at load.
//!
//! Grammar, loosest first: `c ? a : b`; `or`; `and`; `not`; comparisons
//! (`== != < <= > >=`); `+ -`; `* / %`; unary `-`; calls `f(x, y)` and members `a.b`. Literals
//! are numbers, `'text'` or `"text"`, `true`, `false` and `null`. Templates (`${…}` in text) are
//! split in `parse_template`.

use std::fmt;

use super::lex::{lex, Tok};
pub use super::parse_template::{template, Format, Part};

#[derive(Debug, Clone, PartialEq)]
pub enum Ast {
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
    Null,
    Name(String),
    Member(Box<Ast>, String),
    Call(String, Vec<Ast>),
    Unary(UnOp, Box<Ast>),
    Binary(BinOp, Box<Ast>, Box<Ast>),
    Cond(Box<Ast>, Box<Ast>, Box<Ast>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Not,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

impl fmt::Display for BinOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "and",
            BinOp::Or => "or",
        };
        f.write_str(s)
    }
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    len: usize,
}

/// Parses one expression.
pub fn parse(src: &str) -> Result<Ast, String> {
    let toks = lex(src)?;
    let mut p = Parser {
        toks,
        pos: 0,
        len: src.len(),
    };
    if p.toks.is_empty() {
        return Err("empty expression".into());
    }
    let ast = p.cond()?;
    if p.pos < p.toks.len() {
        return Err(format!(
            "at column {}: unexpected text after the expression",
            p.col()
        ));
    }
    Ok(ast)
}

impl Parser {
    fn col(&self) -> usize {
        self.toks.get(self.pos).map_or(self.len, |t| t.1) + 1
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.0)
    }

    fn eat_op(&mut self, op: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Op(o)) if *o == op) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_word(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Ident(w)) if w == word) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, op: &str) -> Result<(), String> {
        if self.eat_op(op) {
            Ok(())
        } else {
            Err(format!("at column {}: expected `{op}`", self.col()))
        }
    }

    fn cond(&mut self) -> Result<Ast, String> {
        let c = self.or()?;
        if self.eat_op("?") {
            let a = self.cond()?;
            self.expect(":")?;
            let b = self.cond()?;
            return Ok(Ast::Cond(Box::new(c), Box::new(a), Box::new(b)));
        }
        Ok(c)
    }

    fn or(&mut self) -> Result<Ast, String> {
        let mut l = self.and()?;
        while self.eat_word("or") || self.eat_op("||") {
            l = Ast::Binary(BinOp::Or, Box::new(l), Box::new(self.and()?));
        }
        Ok(l)
    }

    fn and(&mut self) -> Result<Ast, String> {
        let mut l = self.not()?;
        while self.eat_word("and") || self.eat_op("&&") {
            l = Ast::Binary(BinOp::And, Box::new(l), Box::new(self.not()?));
        }
        Ok(l)
    }

    fn not(&mut self) -> Result<Ast, String> {
        if self.eat_word("not") || self.eat_op("!") {
            return Ok(Ast::Unary(UnOp::Not, Box::new(self.not()?)));
        }
        self.cmp()
    }

    fn cmp(&mut self) -> Result<Ast, String> {
        let l = self.sum()?;
        for (text, op) in [
            ("==", BinOp::Eq),
            ("!=", BinOp::Ne),
            ("<=", BinOp::Le),
            (">=", BinOp::Ge),
            ("<", BinOp::Lt),
            (">", BinOp::Gt),
        ] {
            if self.eat_op(text) {
                return Ok(Ast::Binary(op, Box::new(l), Box::new(self.sum()?)));
            }
        }
        Ok(l)
    }

    fn sum(&mut self) -> Result<Ast, String> {
        let mut l = self.product()?;
        loop {
            let op = if self.eat_op("+") {
                BinOp::Add
            } else if self.eat_op("-") {
                BinOp::Sub
            } else {
                return Ok(l);
            };
            l = Ast::Binary(op, Box::new(l), Box::new(self.product()?));
        }
    }

    fn product(&mut self) -> Result<Ast, String> {
        let mut l = self.unary()?;
        loop {
            let op = if self.eat_op("*") {
                BinOp::Mul
            } else if self.eat_op("/") {
                BinOp::Div
            } else if self.eat_op("%") {
                BinOp::Rem
            } else {
                return Ok(l);
            };
            l = Ast::Binary(op, Box::new(l), Box::new(self.unary()?));
        }
    }

    fn unary(&mut self) -> Result<Ast, String> {
        if self.eat_op("-") {
            return Ok(match self.unary()? {
                Ast::Int(i) => Ast::Int(-i),
                Ast::Float(f) => Ast::Float(-f),
                other => Ast::Unary(UnOp::Neg, Box::new(other)),
            });
        }
        self.postfix()
    }

    fn postfix(&mut self) -> Result<Ast, String> {
        let mut e = self.atom()?;
        while self.eat_op(".") {
            match self.toks.get(self.pos).map(|t| t.0.clone()) {
                Some(Tok::Ident(name)) => {
                    self.pos += 1;
                    e = Ast::Member(Box::new(e), name);
                }
                _ => {
                    return Err(format!(
                        "at column {}: expected a name after `.`",
                        self.col()
                    ))
                }
            }
        }
        Ok(e)
    }

    fn atom(&mut self) -> Result<Ast, String> {
        let col = self.col();
        let Some((tok, _)) = self.toks.get(self.pos).cloned() else {
            return Err(format!("at column {col}: the expression ends too soon"));
        };
        self.pos += 1;
        match tok {
            Tok::Int(i) => Ok(Ast::Int(i)),
            Tok::Float(f) => Ok(Ast::Float(f)),
            Tok::Str(s) => Ok(Ast::Str(s)),
            Tok::Op("(") => {
                let e = self.cond()?;
                self.expect(")")?;
                Ok(e)
            }
            Tok::Ident(name) => match name.as_str() {
                "true" => Ok(Ast::Bool(true)),
                "false" => Ok(Ast::Bool(false)),
                "null" => Ok(Ast::Null),
                _ if self.eat_op("(") => {
                    let mut args = Vec::new();
                    if !self.eat_op(")") {
                        loop {
                            args.push(self.cond()?);
                            if self.eat_op(")") {
                                break;
                            }
                            self.expect(",")?;
                        }
                    }
                    Ok(Ast::Call(name, args))
                }
                _ => Ok(Ast::Name(name)),
            },
            Tok::Op(op) => Err(format!("at column {col}: unexpected `{op}`")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_and_literals() {
        let ast = parse("a.balance >= amount * 2 + 1 and not chance(0.5)").unwrap();
        let Ast::Binary(BinOp::And, l, r) = ast else {
            panic!("{ast:?}")
        };
        assert!(matches!(*l, Ast::Binary(BinOp::Ge, _, _)));
        assert!(matches!(*r, Ast::Unary(UnOp::Not, _)));
        assert_eq!(parse("-3").unwrap(), Ast::Int(-3));
        assert_eq!(parse("1e3").unwrap(), Ast::Float(1000.0));
        assert_eq!(parse("'it''").unwrap_err(), "at column 5: unclosed text");
        assert!(parse("x ? 1 : 2").is_ok());
        assert!(parse("f(1,").unwrap_err().contains("ends too soon"));
        assert!(parse("a b").unwrap_err().contains("column 3"));
    }
}
