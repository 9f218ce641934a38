//! Expressions from [`Ast`] to [`Expr`]: names resolved to slots, types and ranges inferred,
//! constants folded, and distribution parameters checked, all once at load.

use indexmap::IndexMap;
use rand::SeedableRng;

use super::expr::{Ctx, Expr, Master, State};
use super::op_types::{arith, impossible, incomparable};
use super::parse::{Ast, BinOp, UnOp};
use super::value::{Base, Ty, Value};

/// What the compiler knows of one entity kind.
#[derive(Debug, Clone, Default)]
pub struct KindInfo {
    pub name: String,
    pub fields: Vec<(String, Ty)>,
    pub state: Vec<(String, Ty)>,
    /// Window variables with their length in ms.
    pub windows: Vec<(String, i64)>,
}

#[derive(Debug, Clone)]
pub struct PairInfo {
    pub a: u16,
    pub b: u16,
    pub vars: Vec<(String, Ty)>,
}

/// Where an expression stands, which decides the names it may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// Only parameters: counts, bounds, weights.
    Static,
    /// An entity's id or field: parameters, `seq` and `ref`.
    Entity,
    /// An event: everything.
    Event,
}

pub struct Scope<'a> {
    pub params: &'a IndexMap<String, Value>,
    pub kinds: &'a [KindInfo],
    pub globals: &'a [(String, Ty)],
    pub pairs: &'a [PairInfo],
    pub locals: Vec<(String, Ty)>,
    pub place: Place,
}

impl Scope<'_> {
    pub fn local(&self, name: &str) -> Option<(u16, &Ty)> {
        self.locals
            .iter()
            .rposition(|(n, _)| n == name)
            .map(|i| (i as u16, &self.locals[i].1))
    }

    pub(super) fn kind_names(&self) -> Vec<String> {
        self.kinds.iter().map(|k| k.name.clone()).collect()
    }

    pub fn kind(&self, name: &str) -> Result<u16, String> {
        self.kinds
            .iter()
            .position(|k| k.name == name)
            .map(|i| i as u16)
            .ok_or_else(|| {
                format!(
                    "unknown entity kind `{name}`; kinds: {}",
                    self.kind_names().join(", ")
                )
            })
    }

    /// Compiles `ast`, folding what is constant.
    pub fn compile(&self, ast: &Ast) -> Result<(Expr, Ty), String> {
        let (e, t) = self.compile_inner(ast)?;
        Ok(fold(e, t))
    }

    fn compile_inner(&self, ast: &Ast) -> Result<(Expr, Ty), String> {
        Ok(match ast {
            Ast::Int(i) => (Expr::Lit(Value::Int(*i)), Ty::exact(&Value::Int(*i))),
            Ast::Float(f) => (Expr::Lit(Value::float(*f)), Ty::exact(&Value::float(*f))),
            Ast::Str(s) => {
                let v = Value::str(s);
                let t = Ty::exact(&v);
                (Expr::Lit(v), t)
            }
            Ast::Bool(b) => (Expr::Lit(Value::bool(*b)), bool_ty(Some(*b))),
            Ast::Null => (Expr::Lit(Value::Null), Ty::of(Base::Null)),
            Ast::Name(n) => self.name(n)?,
            Ast::Member(base, name) => self.member(base, name)?,
            Ast::Call(f, args) => self.call(f, args)?,
            Ast::Unary(UnOp::Neg, x) => {
                let (e, t) = self.compile(x)?;
                if !t.is_number() && t.base != Base::Any {
                    return Err(format!(
                        "`-` needs a number, not {}",
                        t.describe(&self.kind_names())
                    ));
                }
                let ty = Ty {
                    lo: t.hi.map(|h| -h),
                    hi: t.lo.map(|l| -l),
                    ..t
                };
                (Expr::Neg(Box::new(e)), ty)
            }
            Ast::Unary(UnOp::Not, x) => {
                let (e, t) = self.compile(x)?;
                self.want_bool("not", &t)?;
                let known = known_bool(&t).map(|b| !b);
                (Expr::Not(Box::new(e)), bool_ty(known))
            }
            Ast::Binary(op, a, b) => self.binary(*op, a, b)?,
            Ast::Cond(c, a, b) => {
                let (ce, ct) = self.compile(c)?;
                self.want_bool("the condition of `? :`", &ct)?;
                let (ae, at) = self.compile(a)?;
                let (be, bt) = self.compile(b)?;
                match known_bool(&ct) {
                    Some(true) => (ae, at),
                    Some(false) => (be, bt),
                    None => {
                        let t = at.union(&bt);
                        (Expr::Cond(Box::new(ce), Box::new(ae), Box::new(be)), t)
                    }
                }
            }
        })
    }

    fn want_bool(&self, what: &str, t: &Ty) -> Result<(), String> {
        if matches!(t.base, Base::Bool | Base::Any) {
            Ok(())
        } else {
            Err(format!(
                "{what} needs true or false, not {}",
                t.describe(&self.kind_names())
            ))
        }
    }

    fn name(&self, n: &str) -> Result<(Expr, Ty), String> {
        if let Some((slot, ty)) = self.local(n) {
            return Ok((Expr::Local(slot), ty.clone()));
        }
        if let Some(v) = self.params.get(n) {
            return Ok((Expr::Lit(v.clone()), Ty::exact(v)));
        }
        let event = self.place == Place::Event;
        Ok(match n {
            "now" if event => (Expr::Now, Ty::of(Base::Int)),
            "event_time" if event => (Expr::EventTime, Ty::format(Base::Str, "date-time")),
            "event_id" if event => (Expr::EventId, Ty::format(Base::Str, "uuid")),
            "event_type" if event => (Expr::EventType, Ty::of(Base::Str)),
            "caused_by" if event => (
                Expr::CausedBy,
                Ty {
                    nullable: true,
                    ..Ty::format(Base::Str, "uuid")
                },
            ),
            "seq" if self.place == Place::Entity => {
                (Expr::Seq, Ty::range(Base::Int, Some(1.0), None))
            }
            _ => {
                let mut known: Vec<&str> = self.locals.iter().map(|(n, _)| n.as_str()).collect();
                known.extend(self.params.keys().map(String::as_str));
                known.extend(match self.place {
                    Place::Event => {
                        &["now", "event_time", "event_id", "event_type", "caused_by"][..]
                    }
                    Place::Entity => &["seq"][..],
                    Place::Static => &[][..],
                });
                return Err(format!(
                    "unknown name `{n}`; known here: {}",
                    known.join(", ")
                ));
            }
        })
    }

    fn member(&self, base: &Ast, name: &str) -> Result<(Expr, Ty), String> {
        if let Ast::Name(g) = base {
            if g == "global" && self.local("global").is_none() {
                let Some(i) = self.globals.iter().position(|(n, _)| n == name) else {
                    let known: Vec<&str> = self.globals.iter().map(|(n, _)| n.as_str()).collect();
                    return Err(format!(
                        "unknown global state `{name}`; declared: {}",
                        known.join(", ")
                    ));
                };
                self.want_event("global state")?;
                return Ok((Expr::Global(i as u16), self.globals[i].1.clone()));
            }
        }
        if let Ast::Call(f, args) = base {
            if f == "pair" {
                self.want_event("pair state")?;
                let [a, b] = args.as_slice() else {
                    return Err(format!("`pair` takes 2 arguments, not {}", args.len()));
                };
                let (a, at) = self.compile(a)?;
                let (b, bt) = self.compile(b)?;
                let (Base::Ent(ka), Base::Ent(kb)) = (at.base, bt.base) else {
                    return Err("pair(a, b) needs two entities".into());
                };
                let Some(p) = self.pairs.iter().position(|p| p.a == ka && p.b == kb) else {
                    return Err(format!(
                        "no pair state is declared for {}*{}",
                        self.kinds[ka as usize].name, self.kinds[kb as usize].name
                    ));
                };
                let pair = &self.pairs[p];
                let Some(v) = pair.vars.iter().position(|(n, _)| n == name) else {
                    return Err(format!("unknown pair state `{name}`"));
                };
                return Ok((
                    Expr::Pair(Box::new(a), Box::new(b), p as u16, v as u16),
                    pair.vars[v].1.clone(),
                ));
            }
        }
        let (e, t) = self.compile(base)?;
        let Base::Ent(k) = t.base else {
            return Err(format!(
                "`.{name}` needs an entity, not {}",
                t.describe(&self.kind_names())
            ));
        };
        let kind = &self.kinds[k as usize];
        if name == "id" {
            // Text at run time; typed as the entity so a payload field holding it is checked
            // as a reference.
            return Ok((Expr::Id(Box::new(e)), Ty::of(Base::Ent(k))));
        }
        if let Some(f) = kind.fields.iter().position(|(n, _)| n == name) {
            return Ok((
                Expr::Field(Box::new(e), k, f as u16),
                kind.fields[f].1.clone(),
            ));
        }
        if let Some(v) = kind.state.iter().position(|(n, _)| n == name) {
            self.want_event("state")?;
            return Ok((
                Expr::State(Box::new(e), k, v as u16),
                kind.state[v].1.clone(),
            ));
        }
        if let Some(v) = kind.windows.iter().position(|(n, _)| n == name) {
            self.want_event("state")?;
            let len = kind.windows[v].1;
            return Ok((
                Expr::Window(Box::new(e), k, v as u16, len),
                Ty::range(Base::Int, Some(0.0), None),
            ));
        }
        let mut known = vec!["id".to_string()];
        known.extend(kind.fields.iter().map(|f| f.0.clone()));
        known.extend(kind.state.iter().map(|f| f.0.clone()));
        known.extend(kind.windows.iter().map(|f| f.0.clone()));
        Err(format!(
            "`{}` has no field or state `{name}`; it has: {}",
            kind.name,
            known.join(", ")
        ))
    }

    fn want_event(&self, what: &str) -> Result<(), String> {
        if self.place == Place::Event {
            Ok(())
        } else {
            Err(format!("{what} can only be read in an event"))
        }
    }

    fn binary(&self, op: BinOp, a: &Ast, b: &Ast) -> Result<(Expr, Ty), String> {
        let (ae, at) = self.compile(a)?;
        let (be, bt) = self.compile(b)?;
        let names = self.kind_names();
        let ty = match op {
            BinOp::And | BinOp::Or => {
                self.want_bool(&format!("`{op}`"), &at)?;
                self.want_bool(&format!("`{op}`"), &bt)?;
                let known = match (op, known_bool(&at), known_bool(&bt)) {
                    (BinOp::And, Some(false), _) | (BinOp::And, _, Some(false)) => Some(false),
                    (BinOp::And, Some(true), Some(true)) => Some(true),
                    (BinOp::Or, Some(true), _) | (BinOp::Or, _, Some(true)) => Some(true),
                    (BinOp::Or, Some(false), Some(false)) => Some(false),
                    _ => None,
                };
                bool_ty(known)
            }
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                if let Some(why) = incomparable(op, &at, &bt, &names) {
                    return Err(format!(
                        "`{op}` compares {} with {}; {why}",
                        at.describe(&names),
                        bt.describe(&names)
                    ));
                }
                bool_ty(impossible(op, &at, &bt).then_some(false))
            }
            BinOp::Add
                if matches!(at.base, Base::Str | Base::Ent(_))
                    && matches!(bt.base, Base::Str | Base::Ent(_)) =>
            {
                Ty::of(Base::Str)
            }
            _ => {
                if !(at.is_number() || at.base == Base::Any)
                    || !(bt.is_number() || bt.base == Base::Any)
                {
                    return Err(format!(
                        "`{op}` needs numbers, not {} and {}",
                        at.describe(&names),
                        bt.describe(&names)
                    ));
                }
                arith(op, &at, &bt)
            }
        };
        Ok((Expr::Bin(op, Box::new(ae), Box::new(be)), ty))
    }
}

pub(super) fn bool_ty(known: Option<bool>) -> Ty {
    Ty {
        one_of: known.map(|b| vec![Value::bool(b)]),
        ..Ty::of(Base::Bool)
    }
}

/// `Some(b)` when a boolean type can only be `b`.
pub fn known_bool(t: &Ty) -> Option<bool> {
    match t.one_of.as_deref() {
        Some([Value::Bool(b)]) => Some(b.get()),
        _ => None,
    }
}

/// Folds an expression whose parts are all constant and whose functions draw nothing.
fn fold(e: Expr, t: Ty) -> (Expr, Ty) {
    if !constant(&e) || matches!(e, Expr::Lit(_)) {
        return (e, t);
    }
    let master = Master::default();
    let state = State::default();
    let ctx = Ctx {
        master: &master,
        state: &state,
        locals: &[],
        now: 0,
        event_id: uuid::Uuid::nil(),
        caused_by: None,
        event_type: "",
        seq: 0,
    };
    let mut rng = crate::SimRng::seed_from_u64(0);
    let v = ctx.eval(&e, &mut rng);
    let mut ty = Ty::exact(&v);
    if t.base == Base::Float && ty.base == Base::Int {
        ty.base = Base::Float;
    }
    (Expr::Lit(v), ty)
}

fn constant(e: &Expr) -> bool {
    !e.any(&mut |n| match n {
        Expr::Lit(_) | Expr::Neg(_) | Expr::Not(_) | Expr::Bin(..) | Expr::Cond(..) => false,
        Expr::Call(f, _) => !f.pure(),
        _ => true,
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::compile;

    /// Issue 30, found by the expression fuzz target: `pair().x` and `pair(a).x` read
    /// arguments that were not there and panicked; they are refused as `pair(a)` alone is.
    #[test]
    fn pair_state_needs_two_arguments() {
        for (text, n) in [("pair().x", 0), ("pair(1).x", 1), ("pair(1, 2, 3).x", 3)] {
            let e = compile(text).unwrap_err();
            assert_eq!(e, format!("`pair` takes 2 arguments, not {n}"), "{text}");
        }
        let e = compile("pair(1, 2).x").unwrap_err();
        assert_eq!(e, "pair(a, b) needs two entities");
    }
}
