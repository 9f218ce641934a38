//! `checks:`, the rules a world file states beyond what the contract derives from its
//! templates (types, references, order, carried values): `stream_seq == prev(stream_id,
//! stream_seq, 0) + 1`, `play_duration_ms <= song_id.duration_ms`. Each rule is compiled once
//! at load, per event type it is on, by the expression compiler: the event's fields, `prev`,
//! `first` and `lookup` become numbered inputs (slots, [`super::check_compile`]) that
//! [`super::check_run`] fills from the event as emitted, then the rule is evaluated as any
//! other expression.

use std::collections::BTreeSet;
use std::sync::Mutex;

use indexmap::IndexMap;

use super::build::Source;
use super::check_compile::{Compiler, Fail};
use super::compile::{KindInfo, Place, Scope};
use super::error::WorldError;
use super::expr::Expr;
use super::format::{EnvelopeKind, WorldFile};
use super::model::EventModel;
use super::parse;
use super::template::Node;
use super::value::Value;

/// Every rule of the file, compiled per event type.
#[derive(Debug, Default)]
pub struct Checks {
    pub rules: Vec<Rule>,
    /// Per event type, its rules: (index in `rules`, the rule compiled for that type).
    pub by_type: Vec<Vec<(u16, Compiled)>>,
    /// How many per-key memories (`prev`, `first`, `recent` and `total` calls) the rules keep.
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
    /// Whether it remembers earlier events (`prev`, `first`, `recent`, `total`).
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
    /// How many earlier events with the same key, for which `counted` held, fall in the last
    /// `within_ms` of event time (memory `site`); each event for which it holds is counted.
    /// `within_ms` is `i64::MAX` for `total`: every earlier event, kept as a number per key.
    Recent {
        site: u16,
        key: Expr,
        within_ms: i64,
        counted: Expr,
    },
}

/// Paths (field names from the top) of an event type's id, time and cause.
#[derive(Debug, Default, Clone)]
pub struct Places {
    pub id: Option<Vec<String>>,
    pub time: Option<Vec<String>>,
    pub cause: Option<Vec<String>>,
}

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
        let explicit = match &decl.types {
            Some(list) => {
                let mut on = Vec::new();
                for t in list {
                    let Some(i) = events.iter().position(|e| e.name == *t) else {
                        let known: Vec<&str> = events.iter().map(|e| e.name.as_str()).collect();
                        return Err(src.err(
                            &["checks", name, "types"],
                            format!("`{t}` is not an event type; types: {}", known.join(", ")),
                        ));
                    };
                    on.push(i as u16);
                }
                if on.is_empty() {
                    return Err(src.err(&["checks", name, "types"], "names no event type"));
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
