//! `checks:`, the rules a world file states beyond what the contract derives from its
//! templates (types, references, order, carried values): `stream_seq == prev(stream_id,
//! stream_seq, 0) + 1`, `play_duration_ms <= song_id.duration_ms`. Each rule is compiled once
//! at load, per event type it is on, by the expression compiler: the event's fields, `prev`,
//! `first` and `lookup` become numbered inputs (slots) that [`super::check_run`] fills from
//! the event as emitted, then the rule is evaluated as any other expression.

use std::collections::BTreeSet;
use std::sync::Mutex;

use indexmap::IndexMap;

use super::build::Source;
use super::compile::{known_bool, KindInfo, Place, Scope};
use super::error::WorldError;
use super::expr::Expr;
use super::format::{EnvelopeKind, WorldFile};
use super::model::EventModel;
use super::parse::{self, Ast};
use super::show::show;
use super::template::Node;
use super::value::{Base, Ty, Value};

/// Every rule of the file, compiled per event type.
#[derive(Debug, Default)]
pub struct Checks {
    pub rules: Vec<Rule>,
    /// Per event type, its rules: (index in `rules`, the rule compiled for that type).
    pub by_type: Vec<Vec<(u16, Compiled)>>,
    /// How many per-key memories (`prev` and `first` calls) the rules keep.
    pub sites: usize,
    /// Per event type, where the event keeps its id, time and cause.
    pub envelope: Vec<Places>,
}

#[derive(Debug)]
pub struct Rule {
    /// Its name, which violations carry as their rule.
    pub name: &'static str,
    pub text: String,
    pub on: Vec<u16>,
}

/// A rule compiled for one event type.
#[derive(Debug)]
pub struct Compiled {
    /// Inputs, in evaluation order: each reads only the slots before it.
    pub slots: Vec<Slot>,
    pub rule: Expr,
    /// Whether it remembers earlier events (`prev`, `first`).
    pub stateful: bool,
    /// Whether it reads master data (an entity's field, `lookup`).
    pub needs_master: bool,
}

#[derive(Debug)]
pub struct Slot {
    /// How a violation names it: the field's path or the call's text.
    pub label: String,
    pub kind: SlotKind,
}

#[derive(Debug)]
pub enum SlotKind {
    /// A field of the event; an entity of kind `ent` when its template writes an id.
    Field { path: Vec<String>, ent: Option<u16> },
    /// A field this type lacks and another type the rule is on has: null.
    Absent,
    /// The entity of a kind whose id `id` gives.
    Lookup { kind: u16, id: Expr },
    /// What an earlier event with the same key left in memory `site`: the previous one's
    /// `value`, or with `first` the first one's.
    Memory {
        site: u16,
        first: bool,
        key: Expr,
        value: Expr,
        default: Option<Expr>,
    },
}

/// Paths (field names from the top) of an event type's id, time and cause.
#[derive(Debug, Default, Clone)]
pub struct Places {
    pub id: Option<Vec<String>>,
    pub time: Option<Vec<String>>,
    pub cause: Option<Vec<String>>,
}

/// Names the compiler knows in an event, which a field of the same name shadows.
const BUILTIN: [&str; 5] = ["now", "event_time", "event_id", "event_type", "caused_by"];
/// Fields the standard envelope writes before the payload's.
const ENVELOPE: [(&str, Base, Option<&str>); 6] = [
    ("event_id", Base::Str, Some("uuid")),
    ("event_type", Base::Str, None),
    ("event_time", Base::Str, Some("date-time")),
    ("schema_version", Base::Int, None),
    ("scenario", Base::Str, None),
    ("caused_by", Base::Str, Some("uuid")),
];

type R<T> = Result<T, WorldError>;

/// Compiles the file's `checks:` against its compiled events.
pub fn build(
    src: &Source<'_>,
    file: &WorldFile,
    params: &IndexMap<String, Value>,
    infos: &[KindInfo],
    events: &[EventModel],
) -> R<Checks> {
    let standard = file.envelope == EnvelopeKind::Standard;
    let mut checks = Checks {
        by_type: events.iter().map(|_| Vec::new()).collect(),
        envelope: events.iter().map(|e| places(e, standard)).collect(),
        ..Checks::default()
    };
    for (name, decl) in &file.checks {
        let at = |item: &str| ["checks".to_string(), name.clone(), item.to_string()];
        let path = at("rule");
        let path: Vec<&str> = path.iter().map(String::as_str).collect();
        let fail = |msg: String| src.err(&path, format!("in `{}`: {msg}", decl.rule));
        let name_ok = name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !name_ok {
            return Err(src.err(
                &["checks", name],
                "a check's name is its rule's name in violations: use a-z, 0-9 and _, starting with a letter",
            ));
        }
        let ast = parse::parse(&decl.rule).map_err(&fail)?;
        let explicit = match &decl.on {
            Some(list) => {
                let mut on = Vec::new();
                for t in list {
                    let Some(i) = events.iter().position(|e| e.name == *t) else {
                        let known: Vec<&str> = events.iter().map(|e| e.name.as_str()).collect();
                        return Err(src.err(
                            &["checks", name, "on"],
                            format!("`{t}` is not an event type; types: {}", known.join(", ")),
                        ));
                    };
                    on.push(i as u16);
                }
                if on.is_empty() {
                    return Err(src.err(&["checks", name, "on"], "names no event type"));
                }
                Some(on)
            }
            None => None,
        };
        let candidates: Vec<u16> = explicit
            .clone()
            .unwrap_or_else(|| (0..events.len() as u16).collect());
        let mut on = Vec::new();
        let mut missing = None;
        let sites_before = checks.sites;
        let mut sites_here = 0;
        for &t in &candidates {
            let mut c = Compiler {
                events,
                standard,
                t: t as usize,
                on: &candidates,
                lenient: explicit.is_some(),
                scope: Scope {
                    params,
                    kinds: infos,
                    globals: &[],
                    pairs: &[],
                    locals: Vec::new(),
                    place: Place::Event,
                },
                slots: Vec::new(),
                sites: sites_before,
            };
            match c.rule(&ast) {
                Ok(compiled) => {
                    sites_here = c.sites - sites_before;
                    checks.by_type[t as usize].push((checks.rules.len() as u16, compiled));
                    on.push(t);
                }
                Err(Fail::Missing(m)) if explicit.is_none() => {
                    missing.get_or_insert(m);
                }
                Err(Fail::Missing(m) | Fail::Bad(m)) => {
                    let ty = &events[t as usize].name;
                    return Err(fail(format!("on {ty}: {m}")));
                }
            }
        }
        if on.is_empty() {
            let m = missing.unwrap_or_default();
            return Err(fail(format!("no event type has every field it reads: {m}")));
        }
        checks.sites += sites_here;
        checks.rules.push(Rule {
            name: intern(name),
            text: decl.rule.clone(),
            on,
        });
    }
    Ok(checks)
}

/// Why a rule does not compile for a type: a field it lacks (with no `on:`, the rule is then
/// not on that type), or anything else.
enum Fail {
    Missing(String),
    Bad(String),
}

impl From<String> for Fail {
    fn from(s: String) -> Self {
        Fail::Bad(s)
    }
}

struct Compiler<'a> {
    events: &'a [EventModel],
    standard: bool,
    t: usize,
    on: &'a [u16],
    /// A field another type of `on` has reads as null here.
    lenient: bool,
    scope: Scope<'a>,
    slots: Vec<Slot>,
    /// The next memory's number.
    sites: usize,
}

impl Compiler<'_> {
    fn rule(&mut self, ast: &Ast) -> Result<Compiled, Fail> {
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
            .any(|s| matches!(s.kind, SlotKind::Memory { .. }));
        Ok(Compiled {
            slots: std::mem::take(&mut self.slots),
            rule,
            stateful,
            needs_master,
        })
    }

    /// `ast` with the event's fields, `prev`, `first` and `lookup` replaced by slots.
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
            Ast::Call(f, args) if f == "prev" || f == "first" => {
                if in_memory {
                    return Err(Fail::Bad(format!(
                        "`{f}` cannot be inside another prev or first"
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

    /// A new slot, or the one already made for the same text (`prev(k, v)` read twice is
    /// one memory).
    fn slot(&mut self, label: String, kind: SlotKind, ty: Ty) -> Ast {
        if self.slots.iter().any(|s| s.label == label) {
            if let SlotKind::Memory { .. } = kind {
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

/// Where an event type keeps its id, time and cause: the standard envelope's fields, or the
/// payload fields whose template is exactly `${event_id}`, `${event_time}`, `${caused_by}`.
fn places(ev: &EventModel, standard: bool) -> Places {
    fn find(fields: &[(String, Node)], at: &mut Vec<String>, p: &mut Places) {
        for (name, node) in fields {
            at.push(name.clone());
            match node {
                Node::Object(inner) => find(inner, at, p),
                Node::Value(Expr::EventId, ..) => p.id = Some(at.clone()),
                Node::Value(Expr::EventTime, ..) => p.time = Some(at.clone()),
                Node::Value(Expr::CausedBy, ..) => p.cause = Some(at.clone()),
                _ => {}
            }
            at.pop();
        }
    }
    if standard {
        let top = |s: &str| Some(vec![s.to_string()]);
        return Places {
            id: top("event_id"),
            time: top("event_time"),
            cause: top("caused_by"),
        };
    }
    let mut p = Places::default();
    find(&ev.payload, &mut Vec::new(), &mut p);
    p
}

/// A rule's name for the life of the process, stored once however often a file is loaded.
fn intern(name: &str) -> &'static str {
    static NAMES: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());
    let Ok(mut names) = NAMES.lock() else {
        return "check";
    };
    if let Some(n) = names.get(name) {
        return n;
    }
    let n: &'static str = Box::leak(name.to_string().into_boxed_str());
    names.insert(n);
    n
}
