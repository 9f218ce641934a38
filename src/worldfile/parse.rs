//! Expressions and templates as text, parsed into an [`Ast`] once at load.
//!
//! Grammar, loosest first: `c ? a : b`; `or`; `and`; `not`; comparisons
//! (`== != < <= > >=`); `+ -`; `* / %`; unary `-`; calls `f(x, y)` and members `a.b`. Literals
//! are numbers, `'text'` or `"text"`, `true`, `false` and `null`. Templates (`${…}` in text) are
//! split in `parse_template`.

use std::fmt;

use super::lex::{lex, Tok};
pub use super::parse_template::{template, Format, Part};

/// How deep an expression may nest, counted along its deepest path of operators, calls, members
/// and brackets. Compiling, evaluating and dropping an expression walk its tree recursively, so
/// a long enough `((((1))))` or `1 + 1 + ... + 1` overflowed the stack and crashed `check`
/// (issue 30, found by fuzzing). Expressions people write nest a few levels.
pub const MAX_DEPTH: usize = 100;

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
    /// The depth of the tree the last parsing method returned (a name or literal is 1).
    depth: usize,
    /// The brackets, arguments, `?:` arms and prefix operators being parsed: the parser's
    /// own recursion, bounded apart, as `((((1))))` makes no node.
    open: usize,
}

/// Parses one expression.
pub fn parse(src: &str) -> Result<Ast, String> {
    let toks = lex(src)?;
    let mut p = Parser {
        toks,
        pos: 0,
        len: src.len(),
        depth: 0,
        open: 0,
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

    fn too_deep(&self) -> String {
        format!(
            "at column {}: the expression nests more than {MAX_DEPTH} deep; split it into \
             `let` values",
            self.col()
        )
    }

    /// `ast`, a node over children at most `children` deep: an error past [`MAX_DEPTH`].
    fn node(&mut self, ast: Ast, children: usize) -> Result<Ast, String> {
        self.depth = children + 1;
        if self.depth > MAX_DEPTH {
            return Err(self.too_deep());
        }
        Ok(ast)
    }

    /// `parse` one level further in: an error past [`MAX_DEPTH`] levels open at once.
    fn nested(&mut self, parse: fn(&mut Self) -> Result<Ast, String>) -> Result<Ast, String> {
        if self.open >= MAX_DEPTH {
            return Err(self.too_deep());
        }
        self.open += 1;
        let ast = parse(self)?;
        self.open -= 1;
        Ok(ast)
    }

    /// `left op right ...`, left-associative: `next` parses each operand.
    fn chain(
        &mut self,
        next: fn(&mut Self) -> Result<Ast, String>,
        op: fn(&mut Self) -> Option<BinOp>,
    ) -> Result<Ast, String> {
        let mut l = next(self)?;
        while let Some(op) = op(self) {
            let left = self.depth;
            let r = next(self)?;
            l = self.node(
                Ast::Binary(op, Box::new(l), Box::new(r)),
                left.max(self.depth),
            )?;
        }
        Ok(l)
    }

    fn cond(&mut self) -> Result<Ast, String> {
        let c = self.or()?;
        if self.eat_op("?") {
            let at = self.depth;
            let a = self.nested(Self::cond)?;
            let at = at.max(self.depth);
            self.expect(":")?;
            let b = self.nested(Self::cond)?;
            let at = at.max(self.depth);
            return self.node(Ast::Cond(Box::new(c), Box::new(a), Box::new(b)), at);
        }
        Ok(c)
    }

    fn or(&mut self) -> Result<Ast, String> {
        self.chain(Self::and, |p| {
            (p.eat_word("or") || p.eat_op("||")).then_some(BinOp::Or)
        })
    }

    fn and(&mut self) -> Result<Ast, String> {
        self.chain(Self::not, |p| {
            (p.eat_word("and") || p.eat_op("&&")).then_some(BinOp::And)
        })
    }

    fn not(&mut self) -> Result<Ast, String> {
        if self.eat_word("not") || self.eat_op("!") {
            let x = self.nested(Self::not)?;
            return self.node(Ast::Unary(UnOp::Not, Box::new(x)), self.depth);
        }
        self.cmp()
    }

    fn cmp(&mut self) -> Result<Ast, String> {
        let l = self.sum()?;
        let left = self.depth;
        for (text, op) in [
            ("==", BinOp::Eq),
            ("!=", BinOp::Ne),
            ("<=", BinOp::Le),
            (">=", BinOp::Ge),
            ("<", BinOp::Lt),
            (">", BinOp::Gt),
        ] {
            if self.eat_op(text) {
                let r = self.sum()?;
                return self.node(
                    Ast::Binary(op, Box::new(l), Box::new(r)),
                    left.max(self.depth),
                );
            }
        }
        Ok(l)
    }

    fn sum(&mut self) -> Result<Ast, String> {
        self.chain(Self::product, |p| {
            if p.eat_op("+") {
                Some(BinOp::Add)
            } else if p.eat_op("-") {
                Some(BinOp::Sub)
            } else {
                None
            }
        })
    }

    fn product(&mut self) -> Result<Ast, String> {
        self.chain(Self::unary, |p| {
            if p.eat_op("*") {
                Some(BinOp::Mul)
            } else if p.eat_op("/") {
                Some(BinOp::Div)
            } else if p.eat_op("%") {
                Some(BinOp::Rem)
            } else {
                None
            }
        })
    }

    fn unary(&mut self) -> Result<Ast, String> {
        if self.eat_op("-") {
            // A number's sign folds into it (from a digit string, so `-i` cannot overflow).
            return match self.nested(Self::unary)? {
                Ast::Int(i) => Ok(Ast::Int(-i)),
                Ast::Float(f) => Ok(Ast::Float(-f)),
                other => self.node(Ast::Unary(UnOp::Neg, Box::new(other)), self.depth),
            };
        }
        self.postfix()
    }

    fn postfix(&mut self) -> Result<Ast, String> {
        let mut e = self.atom()?;
        while self.eat_op(".") {
            match self.toks.get(self.pos).map(|t| t.0.clone()) {
                Some(Tok::Ident(name)) => {
                    self.pos += 1;
                    e = self.node(Ast::Member(Box::new(e), name), self.depth)?;
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
        self.depth = 1;
        match tok {
            Tok::Int(i) => Ok(Ast::Int(i)),
            Tok::Float(f) => Ok(Ast::Float(f)),
            Tok::Str(s) => Ok(Ast::Str(s)),
            Tok::Op("(") => {
                let e = self.nested(Self::cond)?;
                self.expect(")")?;
                Ok(e)
            }
            Tok::Ident(name) => match name.as_str() {
                "true" => Ok(Ast::Bool(true)),
                "false" => Ok(Ast::Bool(false)),
                "null" => Ok(Ast::Null),
                _ if self.eat_op("(") => {
                    let (mut args, mut deepest) = (Vec::new(), 0);
                    if !self.eat_op(")") {
                        loop {
                            args.push(self.nested(Self::cond)?);
                            deepest = deepest.max(self.depth);
                            if self.eat_op(")") {
                                break;
                            }
                            self.expect(",")?;
                        }
                    }
                    self.node(Ast::Call(name, args), deepest)
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

    /// The tree's depth along its deepest path, counted as the parser counts it.
    fn depth(ast: &Ast) -> usize {
        1 + match ast {
            Ast::Member(x, _) | Ast::Unary(_, x) => depth(x),
            Ast::Binary(_, a, b) => depth(a).max(depth(b)),
            Ast::Cond(c, a, b) => depth(c).max(depth(a)).max(depth(b)),
            Ast::Call(_, args) => args.iter().map(depth).max().unwrap_or(0),
            _ => 0,
        }
    }

    /// Issue 30, found by fuzzing: each of these overflowed the stack (a crash, not an error)
    /// at 2,000 to 20,000 levels, in parsing, compiling or evaluating. Now each is refused
    /// past `MAX_DEPTH` with a message, and allowed up to it.
    #[test]
    fn nesting_is_bounded_by_max_depth() {
        /// An expression of this shape, `n` levels deep.
        type Shape = fn(usize) -> String;
        let n = MAX_DEPTH;
        let cases: [(&str, Shape); 7] = [
            ("brackets", |n| {
                format!("{}1{}", "(".repeat(n + 1), ")".repeat(n + 1))
            }),
            ("negations", |n| format!("{}x", "-".repeat(n))),
            ("nots", |n| format!("{}x", "!".repeat(n))),
            ("a sum", |n| vec!["1"; n + 1].join(" + ")),
            ("calls", |n| {
                format!("{}1{}", "abs(".repeat(n), ")".repeat(n))
            }),
            ("arms", |n| format!("{}2", "x ? 1 : ".repeat(n))),
            ("members", |n| format!("x{}", ".y".repeat(n))),
        ];
        for (what, text) in cases {
            let at_most = parse(&text(n - 1)).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert!(depth(&at_most) <= n, "{what}: {}", depth(&at_most));
            for deeper in [n + 1, 20_000] {
                let e = parse(&text(deeper)).unwrap_err();
                assert!(e.contains("nests more than 100 deep"), "{what}: {e}");
            }
        }
    }
}
