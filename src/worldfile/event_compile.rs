//! One event type compiled, given the names its event table holds: picks, `let`s, guards,
//! effects, the payload and its record key, and follow-ups with what each carries.

use super::build::{expr, free_names, never_true, pick_how, Source};
use super::compile::{KindInfo, PairInfo, Place, Scope};
use super::expr::Expr;
use super::format::{EventDecl, PickDecl, Src};
use super::model::*;
use super::parse;
use super::template::{self, Node};
use super::value::{Base, Ty, Value};
use indexmap::IndexMap;
use std::collections::BTreeSet;

use super::events::{parse_at, pick_kind, R};

pub(super) struct EventCtx<'a> {
    pub(super) src: &'a Source<'a>,
    pub(super) params: &'a IndexMap<String, Value>,
    pub(super) infos: &'a [KindInfo],
    pub(super) globals: &'a [(String, Ty)],
    pub(super) pairs: &'a [PairInfo],
    pub(super) name: &'a str,
    pub(super) table: &'a [(String, Ty)],
}

impl EventCtx<'_> {
    fn scope(&self) -> Scope<'_> {
        Scope {
            params: self.params,
            kinds: self.infos,
            globals: self.globals,
            pairs: self.pairs,
            locals: self.table.to_vec(),
            place: Place::Event,
        }
    }

    pub(super) fn compile(&self, e: &EventDecl, weight: f64) -> R<EventModel> {
        let src = self.src;
        let scope = self.scope();
        let name = self.name;
        let mut picks = Vec::new();
        let line = |path: &[&str]| {
            let owned: Vec<String> = path.iter().map(|s| s.to_string()).collect();
            super::error::locate(src.text, &owned).map_or(0, |(l, _)| l)
        };
        let mut sites = super::model::Sites {
            when: line(&["events", name, "when"]),
            ..Default::default()
        };
        for (slot, (pname, decl)) in e.pick.iter().enumerate() {
            let path = ["events", name, "pick", pname.as_str()];
            sites
                .picks
                .push(line(&["events", name, "pick", pname, "where"]));
            let kind = scope.kind(pick_kind(decl)).map_err(|m| src.err(&path, m))?;
            let how = pick_how(src, &scope, kind, decl, &path)?;
            let cond = match decl {
                PickDecl::Long(l) => match &l.condition {
                    Some(c) => Some(self.guard(&scope, c, &path)?),
                    None => None,
                },
                PickDecl::Kind(_) => None,
            };
            picks.push(PickModel {
                slot: slot as u16,
                kind,
                how,
                cond,
            });
        }
        let mut lets = Vec::new();
        for (j, (lname, s)) in e.lets.iter().enumerate() {
            let path = ["events", name, "let", lname.as_str()];
            let mut used = BTreeSet::new();
            free_names(&parse_at(src, s, &path)?, &mut used);
            if let Some(later) = e.lets.keys().skip(j).find(|k| used.contains(*k)) {
                return Err(src.err(
                    &path,
                    format!(
                        "uses `{later}` before it is defined; `let` values are computed in order"
                    ),
                ));
            }
            let (x, _) = expr(src, &scope, s, &path)?;
            lets.push(((e.pick.len() + j) as u16, x));
        }
        let when = match &e.when {
            Some(w) => Some(self.guard(&scope, w, &["events", name, "when"])?),
            None => None,
        };
        let mut effects = Vec::new();
        for (k, eff) in e.effects.iter().enumerate() {
            let idx = format!("[{k}]");
            let path = ["events", name, "effects", idx.as_str()];
            let list: Vec<String> = ["events", name, "effects"].map(String::from).to_vec();
            let at = super::error::locate_item(src.text, &list, k).unwrap_or(0);
            for (target, _) in &eff.set {
                sites.effects.push((at, format!("set {target}")));
            }
            for (target, _) in &eff.add {
                sites.effects.push((at, format!("add {target}")));
            }
            for target in eff.count.items() {
                sites.effects.push((at, format!("count {target}")));
            }
            for (target, value) in &eff.set {
                let (t, ty) = self.target(&scope, target, &path)?;
                let (v, vt) = expr(src, &scope, value, &path)?;
                let fits = ty.base == vt.base
                    || (ty.is_number() && vt.is_number())
                    || vt.base == Base::Any
                    || vt.base == Base::Null;
                if !fits {
                    return Err(src.err(
                        &path,
                        format!(
                            "set {target}: the value is {}, the state is {}",
                            vt.describe(&[]),
                            ty.describe(&[])
                        ),
                    ));
                }
                effects.push(Effect::Set(t, v));
            }
            for (target, value) in &eff.add {
                let (t, ty) = self.target(&scope, target, &path)?;
                let (v, vt) = expr(src, &scope, value, &path)?;
                if !ty.is_number() || !(vt.is_number() || vt.base == Base::Any) {
                    return Err(src.err(
                        &path,
                        format!(
                            "add {target}: needs a number state and a number, not {}",
                            vt.describe(&[])
                        ),
                    ));
                }
                effects.push(Effect::Add(t, v));
            }
            for target in eff.count.items() {
                let ast = parse_at(src, &Src::Text(target.clone()), &path)?;
                let (x, _) = scope.compile(&ast).map_err(|m| src.err(&path, m))?;
                let Expr::Window(ent, k, w, _) = x else {
                    return Err(src.err(
                        &path,
                        format!(
                            "count {target}: not a window variable (declare it with `window:`)"
                        ),
                    ));
                };
                effects.push(Effect::Count(*ent, k, w));
            }
        }
        let mut payload = Vec::new();
        for (field, y) in &e.payload {
            let node = template::compile(&scope, y).map_err(|(p, m)| {
                let mut full = vec!["events", name, "payload", field.as_str()];
                full.extend(p.iter().map(String::as_str));
                src.err(&full, m)
            })?;
            payload.push((field.clone(), node));
        }
        let (key_path, key_field) = self.key(e, &payload)?;
        Ok(EventModel {
            name: name.to_string(),
            weight,
            topic: String::new(),
            key_path,
            key_field,
            locals: self.table.to_vec(),
            picks,
            lets,
            when,
            effects,
            payload,
            follow: vec![],
            causes: vec![],
            occurrence: None,
            code: Default::default(),
            sites,
            per: None,
        })
    }

    fn guard(&self, scope: &Scope<'_>, s: &Src, path: &[&str]) -> R<Expr> {
        let (x, ty) = expr(self.src, scope, s, path)?;
        if !matches!(ty.base, Base::Bool | Base::Any) {
            return Err(self.src.err(
                path,
                format!("`{}` is {}, not true or false", s.text(), ty.describe(&[])),
            ));
        }
        if never_true(&ty) {
            return Err(self.src.err(
                path,
                format!(
                    "`{}` can never be true, so the event never happens",
                    s.text()
                ),
            ));
        }
        Ok(x)
    }

    fn target(&self, scope: &Scope<'_>, target: &str, path: &[&str]) -> R<(Target, Ty)> {
        let ast =
            parse::parse(target).map_err(|m| self.src.err(path, format!("in `{target}`: {m}")))?;
        let (x, ty) = scope
            .compile(&ast)
            .map_err(|m| self.src.err(path, format!("in `{target}`: {m}")))?;
        let t = match x {
            Expr::State(ent, k, v) => Target::State(*ent, k, v),
            Expr::Global(v) => Target::Global(v),
            Expr::Pair(a, b, p, v) => Target::Pair(*a, *b, p, v),
            Expr::Window(..) => return Err(self.src.err(path, format!("`{target}` is a window; use `count: {target}`"))),
            _ => return Err(self.src.err(path, format!("`{target}` is not state; effects change `pick.var`, `global.var` or `pair(a, b).var`"))),
        };
        Ok((t, ty))
    }

    fn key(&self, e: &EventDecl, payload: &[(String, Node)]) -> R<(Vec<u16>, String)> {
        let Some(key) = &e.key else {
            // Default: the first top-level field that is an entity's id.
            let first = payload.iter().position(|(_, n)| {
                matches!(n, Node::Value(Expr::Id(_), ..)) || matches!(n.ty().base, Base::Ent(_))
            });
            return Ok(first.map_or((vec![], String::new()), |i| {
                (vec![i as u16], payload[i].0.clone())
            }));
        };
        let mut path = Vec::new();
        let mut fields = payload;
        let parts: Vec<&str> = key.split('.').collect();
        for (depth, part) in parts.iter().enumerate() {
            let Some(i) = fields.iter().position(|(n, _)| n == part) else {
                let known: Vec<&str> = fields.iter().map(|f| f.0.as_str()).collect();
                return Err(self.src.err(
                    &["events", self.name, "key"],
                    format!(
                        "`{key}` is not a payload field; fields: {}",
                        known.join(", ")
                    ),
                ));
            };
            path.push(i as u16);
            match &fields[i].1 {
                Node::Object(inner) if depth + 1 < parts.len() => fields = inner,
                Node::Object(_) | Node::Array(_) => {
                    return Err(self.src.err(
                        &["events", self.name, "key"],
                        format!("`{key}` is an object or a list, not a value"),
                    ))
                }
                _ if depth + 1 < parts.len() => {
                    return Err(self.src.err(
                        &["events", self.name, "key"],
                        format!("`{part}` is not an object"),
                    ))
                }
                _ => {}
            }
        }
        Ok((path, key.clone()))
    }

    pub(super) fn follow(
        &self,
        k: usize,
        f: &super::format::FollowDecl,
        target: u16,
        carry: Vec<(u16, u16)>,
    ) -> R<Follow> {
        let idx = format!("[{k}]");
        let path = ["events", self.name, "then", idx.as_str()];
        let scope = self.scope();
        let number = |s: &Src, what: &str| -> R<Expr> {
            let (x, ty) = expr(self.src, &scope, s, &path)?;
            if !(ty.is_number() || ty.base == Base::Any) {
                return Err(self.src.err(
                    &path,
                    format!(
                        "{what} `{}` is {}, not a number of seconds",
                        s.text(),
                        ty.describe(&[])
                    ),
                ));
            }
            if let Expr::Lit(v) = &x {
                if !v.as_f64().is_some_and(|x| (0.0..3.2e9).contains(&x)) {
                    return Err(self.src.err(
                        &path,
                        format!("{what} is {v}; it must be in 0..3.2e9 seconds"),
                    ));
                }
            }
            Ok(x)
        };
        let after = number(&f.after, "after")?;
        let probability = match &f.probability {
            None => None,
            Some(p) => {
                let (x, ty) = expr(self.src, &scope, p, &path)?;
                if let Expr::Lit(v) = &x {
                    if !v.as_f64().is_some_and(|p| (0.0..=1.0).contains(&p)) {
                        return Err(self
                            .src
                            .err(&path, format!("probability is {v}; it must be in 0..1")));
                    }
                } else if !ty.is_number() {
                    return Err(self.src.err(&path, "probability must be a number in 0..1"));
                }
                Some(x)
            }
        };
        let (times, every) = match &f.repeat {
            None => (None, None),
            Some(r) => {
                let (t, _) = expr(self.src, &scope, &r.times, &path)?;
                if let Expr::Lit(v) = &t {
                    if !v.as_f64().is_some_and(|n| {
                        (1.0..=f64::from(MAX_REPEAT_TIMES)).contains(&n) && n.fract() == 0.0
                    }) {
                        return Err(self.src.err(
                            &path,
                            format!(
                                "repeat.times is {v}; it must be a whole number in \
                                 1..{MAX_REPEAT_TIMES}"
                            ),
                        ));
                    }
                }
                let every = number(&r.every, "repeat.every")?;
                if matches!(&every, Expr::Lit(v) if v.as_f64() == Some(0.0)) {
                    return Err(self
                        .src
                        .err(&path, "repeat.every is 0; repeats need a gap > 0"));
                }
                (Some(t), Some(every))
            }
        };
        Ok(Follow {
            target,
            after,
            probability,
            times,
            every,
            carry,
        })
    }
}
