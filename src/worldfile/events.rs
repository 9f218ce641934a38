//! Event types compiled: who follows whom, which names a follow-up takes from its cause,
//! slot tables, picks, guards, effects, payloads and follow-ups.

use std::collections::BTreeSet;

use indexmap::IndexMap;

use super::build::{expr, Source};
use super::compile::{KindInfo, PairInfo, Place, Scope};
use super::error::WorldError;
use super::event_compile::EventCtx;
use super::expr::Expr;
use super::format::{PickDecl, Src, WorldFile};
use super::model::*;
use super::parse::{self, Ast};
use super::uses::{reads, undefined, Chains, Uses};
use super::value::{Base, Ty, Value};

pub(super) type R<T> = Result<T, WorldError>;

const SPECIAL: &[&str] = &["now", "event_time", "event_id", "event_type", "caused_by"];

/// Which occurrence of a repeated follow-up this is, from 1; 1 for any other event. Filled in
/// by the runtime, not carried from the cause; a pick, `let` or param of that name wins.
pub const OCCURRENCE: &str = "occurrence";

pub(super) fn parse_at(src: &Source<'_>, s: &Src, path: &[&str]) -> R<Ast> {
    let text = s.text();
    parse::parse(&text).map_err(|e| src.err(path, format!("in `{text}`: {e}")))
}

pub(super) fn pick_kind(p: &PickDecl) -> &str {
    match p {
        PickDecl::Kind(k) => k,
        PickDecl::Long(l) => &l.from,
    }
}

pub fn build(
    src: &Source<'_>,
    file: &WorldFile,
    params: &IndexMap<String, Value>,
    infos: &[KindInfo],
    globals: &[(String, Ty)],
    pairs: &[PairInfo],
) -> R<Vec<EventModel>> {
    let names: Vec<&String> = file.events.keys().collect();
    if names.is_empty() {
        return Err(src.err(&["events"], "a world needs at least one event type"));
    }
    if names.len() > MAX_EVENT_TYPES {
        return Err(src.err(
            &["events"],
            format!(
                "{} event types; at most {MAX_EVENT_TYPES}: merge types that differ only in a \
                 field's value into one",
                names.len()
            ),
        ));
    }
    let n = names.len();
    let index = |name: &str| names.iter().position(|x| *x == name);
    let mut follows: Vec<Vec<u16>> = vec![vec![]; n];
    let mut causes: Vec<Vec<u16>> = vec![vec![]; n];
    for (i, (ename, e)) in file.events.iter().enumerate() {
        for f in &e.follow {
            let Some(t) = index(&f.event) else {
                let all: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
                return Err(src.err(
                    &["events", ename, "then"],
                    format!("unknown event `{}`; events: {}", f.event, all.join(", ")),
                ));
            };
            follows[i].push(t as u16);
            if !causes[t].contains(&(i as u16)) {
                causes[t].push(i as u16);
            }
        }
    }

    // What each event defines, and what it needs from its cause (to use, or to pass on).
    let own: Vec<Vec<String>> = file
        .events
        .values()
        .map(|e| e.pick.keys().chain(e.lets.keys()).cloned().collect())
        .collect();
    let mut req: Vec<BTreeSet<String>> = Vec::with_capacity(n);
    let mut occ: Vec<bool> = Vec::with_capacity(n);
    let mut uses: Vec<Uses> = Vec::with_capacity(n);
    for (i, (ename, e)) in file.events.iter().enumerate() {
        let mut r = reads(src, ename, e)?;
        r.retain(|x, _| {
            !own[i].contains(x) && !params.contains_key(x) && !SPECIAL.contains(&x.as_str())
        });
        occ.push(r.remove(OCCURRENCE).is_some());
        req.push(r.keys().cloned().collect());
        uses.push(r);
    }
    loop {
        let mut changed = false;
        for i in 0..n {
            for &t in &follows[i] {
                let needed: Vec<String> = req[t as usize]
                    .iter()
                    .filter(|x| !own[i].contains(x))
                    .cloned()
                    .collect();
                for x in needed {
                    changed |= req[i].insert(x);
                }
            }
        }
        if !changed {
            break;
        }
    }

    let weights: Vec<f64> = file
        .events
        .iter()
        .map(|(ename, e)| {
            let scope = Scope {
                params,
                kinds: infos,
                globals,
                pairs,
                locals: vec![],
                place: Place::Static,
            };
            let Some(weight) = &e.weight else {
                // A per-entity type ticks on its entities' clocks, not by draws.
                return Ok(if e.per.is_some() { 0.0 } else { 1.0 });
            };
            match expr(src, &scope, weight, &["events", ename, "weight"])? {
                (Expr::Lit(v), _) => match v.as_f64() {
                    Some(w) if w > 0.0 && e.per.is_some() => Err(src.err(
                        &["events", ename, "weight"],
                        format!(
                            "weight is {v}, but {ename} runs per entity on each entity's own                              clock (`per`), not by draws; remove its weight or set it to 0"
                        ),
                    )),
                    Some(w) if w.is_finite() && (0.0..=1e9).contains(&w) => Ok(w),
                    _ => Err(src.err(
                        &["events", ename, "weight"],
                        format!("weight is {v}; it must be a number in 0..1e9"),
                    )),
                },
                _ => Err(src.err(
                    &["events", ename, "weight"],
                    "the weight must be a constant (numbers and parameters)",
                )),
            }
        })
        .collect::<R<_>>()?;
    let clocked: Vec<bool> = file.events.values().map(|e| e.per.is_some()).collect();
    if weights.iter().all(|w| *w == 0.0) && !clocked.contains(&true) {
        return Err(src.err(
            &["events"],
            "every weight is 0 and no type runs per entity; give at least one event type a \
             weight > 0 or a clock (`per`, `every`)",
        ));
    }
    for (i, ename) in names.iter().enumerate() {
        if weights[i] > 0.0 || clocked[i] {
            if let Some(x) = req[i].iter().next() {
                let hint = if causes[i].is_empty() {
                    "pick it, `let` it, or make it a parameter".to_string()
                } else {
                    format!(
                        "or give it weight 0 so it only follows {}",
                        causes[i]
                            .iter()
                            .map(|c| names[*c as usize].as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                let chains = Chains {
                    names: &names,
                    follows: &follows,
                    needs: &req,
                    uses: &uses,
                };
                return Err(undefined(src, &chains, i, x, &hint));
            }
        } else if causes[i].is_empty() {
            return Err(src.err(
                &["events", ename, "weight"],
                "weight 0 and no event has it in `then`, so it never happens",
            ));
        }
    }

    // Slot tables, with the types of names taken from causes settled over a few passes.
    let mut tables: Vec<Vec<(String, Ty)>> = Vec::with_capacity(n);
    for (i, e) in file.events.values().enumerate() {
        let mut t = Vec::new();
        for (p, decl) in &e.pick {
            let kind = infos
                .iter()
                .position(|k| k.name == pick_kind(decl))
                .map_or(Ty::of(Base::Any), |k| Ty::of(Base::Ent(k as u16)));
            t.push((p.clone(), kind));
        }
        for l in e.lets.keys() {
            t.push((l.clone(), Ty::of(Base::Any)));
        }
        for r in &req[i] {
            t.push((r.clone(), Ty::of(Base::Any)));
        }
        if occ[i] {
            let most = Some(f64::from(MAX_REPEAT_TIMES));
            t.push((OCCURRENCE.into(), Ty::range(Base::Int, Some(1.0), most)));
        }
        tables.push(t);
    }
    for _ in 0..3 {
        for (i, (ename, e)) in file.events.iter().enumerate() {
            let picks = e.pick.len();
            let lets = e.lets.len();
            for slot in picks + lets..picks + lets + req[i].len() {
                let name = tables[i][slot].0.clone();
                let mut ty: Option<Ty> = None;
                for &c in &causes[i] {
                    if let Some((_, t)) = tables[c as usize].iter().find(|(x, _)| *x == name) {
                        // Not known yet (a cause later in a cycle): no information.
                        if t.base == Base::Any {
                            continue;
                        }
                        ty = Some(ty.map_or(t.clone(), |u| u.union(t)));
                    }
                }
                tables[i][slot].1 = ty.unwrap_or(Ty::of(Base::Any));
            }
            for (j, (lname, s)) in e.lets.iter().enumerate() {
                let scope = Scope {
                    params,
                    kinds: infos,
                    globals,
                    pairs,
                    locals: tables[i].clone(),
                    place: Place::Event,
                };
                if let Ok((_, ty)) = expr(src, &scope, s, &["events", ename, "let", lname]) {
                    tables[i][picks + j].1 = ty;
                }
            }
        }
    }

    let mut out = Vec::with_capacity(n);
    for (i, (ename, e)) in file.events.iter().enumerate() {
        let ctx = EventCtx {
            src,
            params,
            infos,
            globals,
            pairs,
            name: ename,
            table: &tables[i],
        };
        let mut model = ctx.compile(e, weights[i])?;
        let per = super::per::PerCtx {
            src,
            params,
            infos,
            globals,
            pairs,
        };
        model.per = per.compile(ename, e)?;
        model.causes = causes[i].clone();
        model.occurrence = occ[i].then(|| tables[i].len() as u16 - 1);
        for (fi, f) in e.follow.iter().enumerate() {
            let t = follows[i][fi] as usize;
            // A follow-up's own `let` is computed afresh and wins over a value of that name
            // from its cause (issue 28: a self-chaining reading repeated its first reading);
            // a pick of the same name is inherited (the follow-up is about the same entity).
            let target = &file.events[t];
            let own_lets = target.pick.len()..target.pick.len() + target.lets.len();
            let carry = tables[t]
                .iter()
                .enumerate()
                .filter(|(to, _)| !own_lets.contains(to))
                .filter(|(_, (name, _))| name != OCCURRENCE)
                .filter_map(|(to, (name, _))| {
                    tables[i]
                        .iter()
                        .position(|(x, _)| x == name)
                        .map(|from| (from as u16, to as u16))
                })
                .collect();
            model.follow.push(ctx.follow(fi, f, t as u16, carry)?);
        }
        model.topic = e
            .topic
            .clone()
            .unwrap_or_else(|| format!("{}.{ename}", file.world));
        model.code = super::compiled::EventCode::new(&model);
        out.push(model);
    }
    zero_delay_cycles(src, &names, &out)?;
    Ok(out)
}

/// A chain of follow-ups that loops back with no delay would never let time move on.
fn zero_delay_cycles(src: &Source<'_>, names: &[&String], events: &[EventModel]) -> R<()> {
    let instant = |f: &Follow| matches!(&f.after, Expr::Lit(v) if v.as_f64() == Some(0.0));
    // 0 = unvisited, 1 = on the stack, 2 = done.
    fn visit(
        i: usize,
        events: &[EventModel],
        instant: &dyn Fn(&Follow) -> bool,
        mark: &mut [u8],
        stack: &mut Vec<usize>,
    ) -> Option<Vec<usize>> {
        mark[i] = 1;
        stack.push(i);
        for f in events[i].follow.iter().filter(|f| instant(f)) {
            let t = f.target as usize;
            if mark[t] == 1 {
                let from = stack.iter().position(|&x| x == t).unwrap_or(0);
                let mut cycle = stack[from..].to_vec();
                cycle.push(t);
                return Some(cycle);
            }
            if mark[t] == 0 {
                if let Some(c) = visit(t, events, instant, mark, stack) {
                    return Some(c);
                }
            }
        }
        stack.pop();
        mark[i] = 2;
        None
    }
    let mut mark = vec![0u8; events.len()];
    for i in 0..events.len() {
        if mark[i] == 0 {
            if let Some(cycle) = visit(i, events, &instant, &mut mark, &mut vec![]) {
                let chain: Vec<&str> = cycle.iter().map(|&c| names[c].as_str()).collect();
                return Err(src.err(
                    &["events", names[cycle[0]], "then"],
                    format!(
                        "follow-ups loop with no delay: {}; give one of them `after` > 0",
                        chain.join(" -> ")
                    ),
                ));
            }
        }
    }
    Ok(())
}
