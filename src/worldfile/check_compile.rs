//! A rule of `checks:` compiled for one event type: its names resolved against the event's
//! fields (and the envelope's), its `prev`, `first`, `recent`, `total` and `lookup` calls made
//! slots, then the rest compiled by the expression compiler and checked for what a rule may not
//! do (read world state, draw at random, be anything but true or false).

use super::checks::{Compiled, Slot, SlotKind};
use super::compile::{known_bool, Scope};
use super::expr::Expr;
use super::model::EventModel;
use super::parse::Ast;
use super::show::show;
use super::template::Node;
use super::value::{Base, Ty};

/// Names the compiler knows in an event, which a field of the same name shadows.
pub(super) const BUILTIN: [&str; 5] = ["now", "event_time", "event_id", "event_type", "caused_by"];
/// Fields the standard envelope writes before the payload's.
pub(super) const ENVELOPE: [(&str, Base, Option<&str>); 6] = [
    ("event_id", Base::Str, Some("uuid")),
    ("event_type", Base::Str, None),
    ("event_time", Base::Str, Some("date-time")),
    ("schema_version", Base::Int, None),
    ("scenario", Base::Str, None),
    ("caused_by", Base::Str, Some("uuid")),
];

/// Why a rule does not compile for a type: a field it lacks (with no `on:`, the rule is then
/// not on that type), or anything else.
pub(super) enum Fail {
    Missing(String),
    Bad(String),
}

impl From<String> for Fail {
    fn from(s: String) -> Self {
        Fail::Bad(s)
    }
}

pub(super) struct Compiler<'a> {
    pub(super) events: &'a [EventModel],
    pub(super) standard: bool,
    pub(super) t: usize,
    pub(super) on: &'a [u16],
    /// A field another type of `on` has reads as null here.
    pub(super) lenient: bool,
    pub(super) scope: Scope<'a>,
    pub(super) slots: Vec<Slot>,
    /// The next memory's number.
    pub(super) sites: usize,
}

impl Compiler<'_> {
    pub(super) fn rule(&mut self, ast: &Ast) -> Result<Compiled, Fail> {
        let ast = self.rewrite(ast, false)?;
        let (rule, ty) = self.scope.compile(&ast)?;
        let kinds = self.scope.kind_names();
        if !matches!(ty.base, Base::Bool | Base::Any) {
            return Err(Fail::Bad(format!(
                "a rule must be true or false, not {}",
                ty.describe(&kinds)
            )));
        }
        if known_bool(&ty) == Some(false) {
            return Err(Fail::Bad("this rule can never hold".into()));
        }
        let mut exprs: Vec<&Expr> = vec![&rule];
        for s in &self.slots {
            match &s.kind {
                SlotKind::Field { .. } | SlotKind::Absent => {}
                SlotKind::Lookup { id, .. } => exprs.push(id),
                SlotKind::Memory {
                    key,
                    value,
                    default,
                    ..
                } => exprs.extend([key, value].into_iter().chain(default.as_ref())),
                SlotKind::Recent { key, counted, .. } => exprs.extend([key, counted]),
            }
        }
        let mut needs_master = self
            .slots
            .iter()
            .any(|s| matches!(s.kind, SlotKind::Lookup { .. }));
        for e in exprs {
            let mut bad = None;
            e.any(&mut |n| {
                match n {
                    Expr::State(..) | Expr::Window(..) | Expr::Global(_) | Expr::Pair(..) => {
                        bad = Some("reads world state, which only the generator sees; a rule reads the event, parameters, master data and earlier events".to_string());
                    }
                    Expr::Call(f, _) if !f.pure() => {
                        bad = Some("it draws at random (uniform, chance, uuid, ref, fake, ...); a rule must give one answer for one stream".into());
                    }
                    Expr::Field(..) | Expr::Id(_) => needs_master = true,
                    _ => {}
                }
                bad.is_some()
            });
            if let Some(m) = bad {
                return Err(Fail::Bad(m));
            }
        }
        let stateful = self
            .slots
            .iter()
            .any(|s| matches!(s.kind, SlotKind::Memory { .. } | SlotKind::Recent { .. }));
        Ok(Compiled {
            slots: std::mem::take(&mut self.slots),
            rule,
            stateful,
            needs_master,
        })
    }

    /// `ast` with the event's fields, `prev`, `first`, `recent`, `total` and `lookup`
    /// replaced by slots.
    fn rewrite(&mut self, ast: &Ast, in_memory: bool) -> Result<Ast, Fail> {
        let re = |c: &mut Self, a: &Ast| c.rewrite(a, in_memory).map(Box::new);
        Ok(match ast {
            Ast::Name(_) | Ast::Member(..) => {
                let mut names = Vec::new();
                let plain = chain(ast, &mut names);
                match ast {
                    // `lookup('songs', id).duration_ms`: members of something computed.
                    Ast::Member(base, name) if !plain => Ast::Member(re(self, base)?, name.clone()),
                    _ => self.field(&names)?,
                }
            }
            Ast::Call(f, args) if f == "recent" || f == "total" => {
                if in_memory {
                    return Err(Fail::Bad(format!(
                        "`{f}` cannot be inside a prev, first, recent or total"
                    )));
                }
                if f == "total" {
                    self.total(ast, args)?
                } else {
                    self.recent(ast, args)?
                }
            }
            Ast::Call(f, args) if f == "prev" || f == "first" => {
                if in_memory {
                    return Err(Fail::Bad(format!(
                        "`{f}` cannot be inside another prev, first, recent or total"
                    )));
                }
                if !(2..=3).contains(&args.len()) {
                    return Err(Fail::Bad(format!(
                        "{f}(key, value) or {f}(key, value, default): the value of an earlier event with the same key, or default when there is none"
                    )));
                }
                let mut parts = Vec::new();
                for a in args {
                    let a = self.rewrite(a, true)?;
                    parts.push(self.scope.compile(&a)?);
                }
                let default = (parts.len() == 3).then(|| parts.remove(2));
                let (value, vt) = parts.remove(1);
                let (key, _) = parts.remove(0);
                let ty = match &default {
                    Some((_, dt)) => vt.union(dt),
                    None => vt,
                };
                let site = self.sites as u16;
                self.sites += 1;
                let kind = SlotKind::Memory {
                    site,
                    first: f == "first",
                    key,
                    value,
                    default: default.map(|d| d.0),
                };
                self.slot(
                    show(ast),
                    kind,
                    Ty {
                        nullable: true,
                        ..ty
                    },
                )
            }
            Ast::Call(f, args) if f == "lookup" => {
                let (Some(Ast::Str(kind)), 2) = (args.first(), args.len()) else {
                    return Err(Fail::Bad(
                        "lookup(kind, id) takes an entity kind in quotes and an id: lookup('songs', song_id)"
                            .into(),
                    ));
                };
                let k = self.scope.kind(kind)?;
                let id = self.rewrite(&args[1], in_memory)?;
                let (id, it) = self.scope.compile(&id)?;
                if !matches!(it.base, Base::Str | Base::Ent(_) | Base::Any) {
                    let kinds = self.scope.kind_names();
                    return Err(Fail::Bad(format!(
                        "lookup's id must be text, not {}",
                        it.describe(&kinds)
                    )));
                }
                let kind = SlotKind::Lookup { kind: k, id };
                self.slot(show(ast), kind, Ty::of(Base::Ent(k)))
            }
            Ast::Call(f, args) => Ast::Call(
                f.clone(),
                args.iter()
                    .map(|a| self.rewrite(a, in_memory))
                    .collect::<Result<_, _>>()?,
            ),
            Ast::Unary(op, x) => Ast::Unary(*op, re(self, x)?),
            Ast::Binary(op, a, b) => Ast::Binary(*op, re(self, a)?, re(self, b)?),
            Ast::Cond(c, a, b) => Ast::Cond(re(self, c)?, re(self, a)?, re(self, b)?),
            other => other.clone(),
        })
    }

    /// A name or member chain: a field path of the event (members past a leaf apply to its
    /// value), or a name the compiler knows.
    fn field(&mut self, names: &[String]) -> Result<Ast, Fail> {
        let members = |base: Ast, rest: &[String]| {
            rest.iter()
                .fold(base, |b, n| Ast::Member(Box::new(b), n.clone()))
        };
        let here = match resolve(&self.events[self.t], self.standard, names) {
            Ok(found) => found.ok_or(None),
            Err(Fail::Missing(m)) => Err(Some(m)),
            Err(bad) => return Err(bad),
        };
        match here {
            Ok((n, ty)) => {
                let label = names[..n].join(".");
                let ent = match ty.base {
                    Base::Ent(k) => Some(k),
                    _ => None,
                };
                let path = names[..n].to_vec();
                let base = self.slot(label, SlotKind::Field { path, ent }, ty);
                Ok(members(base, &names[n..]))
            }
            Err(nested) => {
                let first = &names[0];
                if self.lenient {
                    let other = self.on.iter().find_map(|&o| {
                        match resolve(&self.events[o as usize], self.standard, names) {
                            Ok(Some((n, ty))) => Some((n, ty)),
                            _ => None,
                        }
                    });
                    if let Some((n, ty)) = other {
                        // Typed as in the types that have it, so `absent * 2` compiles.
                        let ty = Ty {
                            nullable: true,
                            ..ty
                        };
                        let base = self.slot(names[..n].join("."), SlotKind::Absent, ty);
                        return Ok(members(base, &names[n..]));
                    }
                }
                if BUILTIN.contains(&first.as_str())
                    || first == "global"
                    || self.scope.params.contains_key(first)
                {
                    return Ok(members(Ast::Name(first.clone()), &names[1..]));
                }
                if let Some(m) = nested {
                    return Err(Fail::Missing(m));
                }
                let ev = &self.events[self.t];
                let mut fields: Vec<&str> = ev.payload.iter().map(|(n, _)| n.as_str()).collect();
                if self.standard {
                    fields.extend(ENVELOPE.iter().map(|e| e.0));
                }
                Err(Fail::Missing(format!(
                    "unknown name `{first}`; {} has the fields {}, and the names {} and the parameters",
                    ev.name,
                    fields.join(", "),
                    BUILTIN.join(", ")
                )))
            }
        }
    }

    /// `recent(key, seconds, counted)`: how many earlier events with the same key, for which
    /// `counted` held, came in the last `seconds` of event time; `seconds` is known at load.
    fn recent(&mut self, ast: &Ast, args: &[Ast]) -> Result<Ast, Fail> {
        const USAGE: &str = "recent(key, seconds, counted): how many earlier events with the same key, for which counted held, came in the last seconds (a number known at load, such as 7 * 86400)";
        let [key, seconds, counted] = args else {
            return Err(Fail::Bad(USAGE.into()));
        };
        let (key, counted) = self.counted("recent", key, counted)?;
        let seconds = self.rewrite(seconds, true)?;
        let within_ms = match self.scope.compile(&seconds)?.0 {
            Expr::Lit(v) => v
                .as_f64()
                .filter(|s| *s > 0.0 && *s <= 3.2e9)
                .map(|s| (s * 1000.0).round() as i64),
            _ => None,
        };
        let Some(within_ms) = within_ms else {
            return Err(Fail::Bad(format!(
                "recent's seconds must be a number from 0 (exclusive) to 3.2e9 known at load; {USAGE}"
            )));
        };
        Ok(self.count_slot(ast, key, within_ms, counted))
    }

    /// `total(key, counted)`: how many earlier events with the same key, for which `counted`
    /// held, the stream holds since its start. Known only when it is read from its start; it
    /// keeps a number per key, where `recent` keeps the times in its span.
    fn total(&mut self, ast: &Ast, args: &[Ast]) -> Result<Ast, Fail> {
        let [key, counted] = args else {
            return Err(Fail::Bad("total(key, counted): how many earlier events with the same key, for which counted held, the stream holds since its start".into()));
        };
        let (key, counted) = self.counted("total", key, counted)?;
        Ok(self.count_slot(ast, key, i64::MAX, counted))
    }

    /// The key and the condition of a `recent` or `total` call, compiled.
    fn counted(&mut self, f: &str, key: &Ast, counted: &Ast) -> Result<(Expr, Expr), Fail> {
        let key = self.rewrite(key, true)?;
        let (key, _) = self.scope.compile(&key)?;
        let counted = self.rewrite(counted, true)?;
        let (counted, ct) = self.scope.compile(&counted)?;
        if !matches!(ct.base, Base::Bool | Base::Any) {
            let kinds = self.scope.kind_names();
            return Err(Fail::Bad(format!(
                "{f}'s counted must be true or false, not {}",
                ct.describe(&kinds)
            )));
        }
        Ok((key, counted))
    }

    /// The slot of a count over the last `within_ms` of event time (`i64::MAX`: ever).
    fn count_slot(&mut self, ast: &Ast, key: Expr, within_ms: i64, counted: Expr) -> Ast {
        let site = self.sites as u16;
        self.sites += 1;
        let kind = SlotKind::Recent {
            site,
            key,
            within_ms,
            counted,
        };
        let ty = Ty {
            nullable: true,
            ..Ty::range(Base::Int, Some(0.0), None)
        };
        self.slot(show(ast), kind, ty)
    }

    /// A new slot, or the one already made for the same text (`prev(k, v)` read twice is
    /// one memory).
    fn slot(&mut self, label: String, kind: SlotKind, ty: Ty) -> Ast {
        if self.slots.iter().any(|s| s.label == label) {
            if let SlotKind::Memory { .. } | SlotKind::Recent { .. } = kind {
                self.sites -= 1;
            }
            return Ast::Name(label);
        }
        self.scope.locals.push((label.clone(), ty));
        self.slots.push(Slot {
            label: label.clone(),
            kind,
        });
        Ast::Name(label)
    }
}

/// The names of `a.b.c`, if it is a chain of plain names.
fn chain(ast: &Ast, out: &mut Vec<String>) -> bool {
    match ast {
        Ast::Name(n) => {
            out.push(n.clone());
            true
        }
        Ast::Member(base, n) => {
            let ok = chain(base, out);
            out.push(n.clone());
            ok
        }
        _ => false,
    }
}

/// How many of `names` make a field path of the event type, and the leaf's type; None if the
/// first is not one of its fields.
fn resolve(ev: &EventModel, standard: bool, names: &[String]) -> Result<Option<(usize, Ty)>, Fail> {
    if standard {
        if let Some((_, base, format)) = ENVELOPE.iter().find(|e| e.0 == names[0]) {
            let ty = Ty {
                format: *format,
                nullable: names[0] == "caused_by",
                ..Ty::of(*base)
            };
            return Ok(Some((1, ty)));
        }
    }
    let mut fields = &ev.payload;
    for (i, name) in names.iter().enumerate() {
        let Some((_, node)) = fields.iter().find(|(n, _)| n == name) else {
            if i == 0 {
                return Ok(None);
            }
            let known: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
            return Err(Fail::Missing(format!(
                "`{}` has no field `{name}`; it has: {}",
                names[..i].join("."),
                known.join(", ")
            )));
        };
        match node {
            Node::Object(inner) if i + 1 < names.len() => fields = inner,
            Node::Object(inner) => {
                let known: Vec<&str> = inner.iter().map(|(n, _)| n.as_str()).collect();
                return Err(Fail::Bad(format!(
                    "`{}` is an object; name one of its fields: {}",
                    names.join("."),
                    known.join(", ")
                )));
            }
            Node::Array(_) => {
                return Err(Fail::Bad(format!(
                    "`{}` is a list; a rule reads single values",
                    names[..=i].join(".")
                )))
            }
            leaf => return Ok(Some((i + 1, leaf.ty()))),
        }
    }
    Ok(None)
}
