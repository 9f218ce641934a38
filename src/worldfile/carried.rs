//! The contract's cross-event rule, derived from the file: a value a follow-up carries from
//! its cause is the same in both payloads. Where the cause writes `${session_id}` (or
//! `${s.id}`) and its follow-up, carrying that value, writes it too, the two fields must be
//! equal: a session_completed names its session_started's session, student and tutor.

use std::hash::{DefaultHasher, Hash, Hasher};

use serde_json::Value as Json;

use super::expr::Expr;
use super::model::Model;
use super::parse::Format;
use super::template::Node;

/// One carried value shown by both payloads: the follow-up type and each side's field path.
#[derive(Debug, Clone)]
struct Link {
    target: u16,
    cause: Vec<String>,
    follow: Vec<String>,
}

/// Per cause type, the fields its follow-ups must repeat.
#[derive(Debug, Default)]
pub struct Links {
    by_cause: Vec<Vec<Link>>,
}

/// What a payload place writes of a local: the value, its id, or a master-data field of it
/// (fixed for the run, so carried with the entity).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Shows {
    Value,
    Id,
    Field(u16),
}

/// A payload place that writes a local: `(path, slot, what of it)`.
type Leaf = (Vec<String>, u16, Shows);

impl Links {
    pub fn of(model: &Model) -> Self {
        let mut by_cause = vec![Vec::new(); model.events.len()];
        for (c, ev) in model.events.iter().enumerate() {
            let shown = leaves(&ev.payload);
            for f in &ev.follow {
                // Two follow-ups of one type from one cause may carry differently: no rule.
                if ev.follow.iter().filter(|g| g.target == f.target).count() > 1 {
                    continue;
                }
                let Some(target) = model.events.get(f.target as usize) else {
                    continue;
                };
                let repeated = leaves(&target.payload);
                for &(from, to) in &f.carry {
                    for (cp, _, what) in shown.iter().filter(|l| l.1 == from) {
                        for (fp, _, _) in repeated.iter().filter(|l| l.1 == to && l.2 == *what) {
                            by_cause[c].push(Link {
                                target: f.target,
                                cause: cp.clone(),
                                follow: fp.clone(),
                            });
                        }
                    }
                }
            }
        }
        Links { by_cause }
    }

    /// What a cause of type `ty` must be remembered by: a digest of each linked field.
    pub fn digests(&self, ty: u16, event: &Json) -> Box<[u64]> {
        self.by_cause
            .get(ty as usize)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .map(|l| digest(at(event, &l.cause)))
            .collect()
    }

    /// The fields of a follow-up of type `ty` that differ from what its cause (of type
    /// `cause`, remembered by `digests`) carried, as `(path, value)`.
    pub fn differing(
        &self,
        cause: u16,
        digests: &[u64],
        ty: u16,
        event: &Json,
    ) -> Vec<(String, String)> {
        let links = self
            .by_cause
            .get(cause as usize)
            .map_or(&[][..], Vec::as_slice);
        links
            .iter()
            .zip(digests)
            .filter(|(l, _)| l.target == ty)
            .filter_map(|(l, d)| {
                let v = at(event, &l.follow);
                (digest(v) != *d).then(|| (l.follow.join("."), v.to_string()))
            })
            .collect()
    }
}

/// The places of a payload that write a local (or a local entity's id or field) unformatted.
fn leaves(fields: &[(String, Node)]) -> Vec<Leaf> {
    fn walk(fields: &[(String, Node)], path: &mut Vec<String>, out: &mut Vec<Leaf>) {
        for (name, node) in fields {
            path.push(name.clone());
            match node {
                Node::Value(Expr::Local(s), _, f) if *f == Format::default() => {
                    out.push((path.clone(), *s, Shows::Value));
                }
                Node::Value(Expr::Id(x), _, f) if *f == Format::default() => {
                    if let Expr::Local(s) = **x {
                        out.push((path.clone(), s, Shows::Id));
                    }
                }
                Node::Value(Expr::Field(x, _, field), _, f) if *f == Format::default() => {
                    if let Expr::Local(s) = **x {
                        out.push((path.clone(), s, Shows::Field(*field)));
                    }
                }
                Node::Object(inner) => walk(inner, path, out),
                _ => {}
            }
            path.pop();
        }
    }
    let mut out = Vec::new();
    walk(fields, &mut Vec::new(), &mut out);
    out
}

fn at<'a>(event: &'a Json, path: &[String]) -> &'a Json {
    path.iter().fold(event, |v, name| &v[name.as_str()])
}

fn digest(v: &Json) -> u64 {
    let mut h = DefaultHasher::new();
    v.to_string().hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// tutoring's completion repeats its start's session, student, tutor and subject, and the
    /// stream it runs on (a master-data field of the carried stream), and nothing it draws
    /// itself (its stream_seq is state, written anew).
    #[test]
    fn links_are_the_carried_values_both_payloads_show() {
        let b = crate::worldfile::builtin::get("tutoring").unwrap();
        let model = crate::worldfile::compile_text(b.file, b.text, &Default::default()).unwrap();
        let links = Links::of(&model);
        let start = model
            .events
            .iter()
            .position(|e| e.name == "session_started")
            .unwrap();
        let mut linked: Vec<String> = links.by_cause[start]
            .iter()
            .map(|l| {
                assert_eq!(l.cause, l.follow, "the same field on both sides here");
                l.follow.join(".")
            })
            .collect();
        linked.sort();
        assert_eq!(
            linked,
            [
                "payload.session_id",
                "payload.student_id",
                "payload.subject",
                "payload.tutor_id",
                "stream_id",
            ]
        );
        // Types that cause nothing have no links.
        let call = model
            .events
            .iter()
            .position(|e| e.name == "ib_call_logged")
            .unwrap();
        assert!(links.by_cause[call].is_empty());
    }
}
