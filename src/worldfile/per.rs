//! Event types that run per entity (`per: {s: students}`), each entity on its own clock: the
//! file's form checked and its pick added to the event's picks, and the clock's expressions
//! (`every`, `start`, `until`) compiled in a scope that holds only that pick.
//!
//! Issue 29, item 4: with one global rate and a share per type, "each sensor reports every
//! 10 s" cannot be said, and the pace outruns the population; a clock per entity makes the
//! world's rate follow from its population.

use indexmap::IndexMap;

use super::build::{expr, Source};
use super::compile::{KindInfo, PairInfo, Place, Scope};
use super::error::WorldError;
use super::expr::Expr;
use super::format::{PickDecl, Src, WorldFile};
use super::model::PerModel;
use super::value::{Base, Ty, Value};

type R<T> = Result<T, WorldError>;

/// Most seconds a gap or start may be, as a literal: about a century, so that a due time stays
/// far inside what an event time can carry.
pub const MAX_GAP_SECS: f64 = 3.2e9;

/// Checks each `per:` and adds its pick as the event's first pick, so that the event's slot 0
/// is the entity whose clock ticked. Run before the event types are compiled.
pub(super) fn adopt(src: &Source<'_>, file: &mut WorldFile) -> R<()> {
    let kinds: Vec<String> = file.entities.keys().cloned().collect();
    for (name, e) in file.events.iter_mut() {
        let path = |field: &'static str| ["events", name.as_str(), field];
        let Some(per) = &e.per else {
            for (field, given) in [
                ("every", e.every.is_some()),
                ("start", e.start.is_some()),
                ("until", e.until.is_some()),
            ] {
                if given {
                    return Err(src.err(
                        &path(field),
                        format!(
                            "`{field}` belongs to a per-entity clock; add `per: {{s: KIND}}` to \
                             run {name} per entity, or remove `{field}`"
                        ),
                    ));
                }
            }
            continue;
        };
        let mut entries = per.iter();
        let (Some((pick, kind)), None) = (entries.next(), entries.next()) else {
            return Err(src.err(
                &path("per"),
                format!(
                    "per has {} entries; it names exactly one pick and its kind, such as \
                     `per: {{s: students}}`",
                    per.len()
                ),
            ));
        };
        if !kinds.contains(kind) {
            return Err(src.err_at(
                &path("per"),
                kind,
                format!(
                    "per: `{kind}` is not an entity kind; kinds: {}",
                    kinds.join(", ")
                ),
            ));
        }
        if e.pick.contains_key(pick) {
            return Err(src.err_at(
                &path("pick"),
                pick,
                format!(
                    "`{pick}` is the per-entity pick (per: {{{pick}: {kind}}}); give this pick \
                     another name"
                ),
            ));
        }
        if e.every.is_none() {
            return Err(src.err(
                &path("per"),
                format!(
                    "a per-entity type needs `every`: the seconds from one tick of a {kind} to \
                     its next, such as `every: exponential(3600)`"
                ),
            ));
        }
        let (pick, kind) = (pick.clone(), kind.clone());
        e.pick.shift_insert(0, pick, PickDecl::Kind(kind));
    }
    Ok(())
}

/// What compiles a per-entity clock's expressions.
pub(super) struct PerCtx<'a> {
    pub(super) src: &'a Source<'a>,
    pub(super) params: &'a IndexMap<String, Value>,
    pub(super) infos: &'a [KindInfo],
    pub(super) globals: &'a [(String, Ty)],
    pub(super) pairs: &'a [PairInfo],
}

impl PerCtx<'_> {
    /// The clock of event type `name` (whose pick [`adopt`] added), or `None` without `per`.
    pub(super) fn compile(&self, name: &str, e: &super::format::EventDecl) -> R<Option<PerModel>> {
        let (Some(per), Some(every)) = (&e.per, &e.every) else {
            return Ok(None);
        };
        let Some((pick, kind)) = per.first() else {
            return Ok(None);
        };
        let kind = self
            .infos
            .iter()
            .position(|k| k.name == *kind)
            .ok_or_else(|| self.src.err(&["events", name, "per"], "unknown kind"))?
            as u16;
        let scope = Scope {
            params: self.params,
            kinds: self.infos,
            globals: self.globals,
            pairs: self.pairs,
            locals: vec![(pick.clone(), Ty::of(Base::Ent(kind)))],
            place: Place::Event,
        };
        let reads = format!("it may read `{pick}`, params, globals and master data");
        let number = |field: &str, s: &Src| -> R<Expr> {
            let path = ["events", name, field];
            let (x, ty) = expr(self.src, &scope, s, &path).map_err(|e| WorldError {
                message: format!("{}; {reads}", e.message),
                ..e
            })?;
            if !(ty.is_number() || ty.base == Base::Any) {
                return Err(self.src.err(
                    &path,
                    format!(
                        "{field} `{}` is {}, not a number of seconds",
                        s.text(),
                        ty.describe(&[])
                    ),
                ));
            }
            if let Expr::Lit(v) = &x {
                let ok = |n: f64| {
                    if field == "every" {
                        n > 0.0 && n <= MAX_GAP_SECS
                    } else {
                        (0.0..=MAX_GAP_SECS).contains(&n)
                    }
                };
                if !v.as_f64().is_some_and(ok) {
                    let range = if field == "every" {
                        format!("above 0 and at most {MAX_GAP_SECS:e} seconds")
                    } else {
                        format!("0..{MAX_GAP_SECS:e} seconds")
                    };
                    return Err(self
                        .src
                        .err(&path, format!("{field} is {v}; it must be {range}")));
                }
            }
            Ok(x)
        };
        let every = number("every", every)?;
        let start = e.start.as_ref().map(|s| number("start", s)).transpose()?;
        let until = match &e.until {
            None => None,
            Some(u) => {
                let path = ["events", name, "until"];
                let (x, ty) = expr(self.src, &scope, u, &path).map_err(|e| WorldError {
                    message: format!("{}; {reads}", e.message),
                    ..e
                })?;
                if !matches!(ty.base, Base::Bool | Base::Any) {
                    return Err(self.src.err(
                        &path,
                        format!("`{}` is {}, not true or false", u.text(), ty.describe(&[])),
                    ));
                }
                Some(x)
            }
        };
        Ok(Some(PerModel {
            kind,
            every,
            start,
            until,
        }))
    }
}
