//! Where an event type reads the names it does not define, so that a name defined nowhere
//! is reported at its use, not at the event that starts its follow-up chain (issue 28: a typo
//! on line 163 was reported at line 67).

use std::collections::{BTreeMap, BTreeSet};

use super::build::{free_names, template_names, Source};
use super::error::WorldError;
use super::events::parse_at;
use super::format::{EventDecl, Src};

type R<T> = Result<T, WorldError>;

/// The names an event reads, each with the path of the item that first reads it.
pub(super) type Uses = BTreeMap<String, Vec<String>>;

/// Adds each name of `names` not yet in `out`, used at `path`.
fn add(out: &mut Uses, names: BTreeSet<String>, path: &[&str]) {
    for n in names {
        out.entry(n)
            .or_insert_with(|| path.iter().map(|s| s.to_string()).collect());
    }
}

/// Names an event reads without defining them, and where.
pub(super) fn reads(src: &Source<'_>, name: &str, e: &EventDecl) -> R<Uses> {
    let mut out = Uses::new();
    let expr = |s: &Src, path: &[&str], out: &mut Uses| -> R<()> {
        let mut names = BTreeSet::new();
        free_names(&parse_at(src, s, path)?, &mut names);
        add(out, names, path);
        Ok(())
    };
    for (p, decl) in &e.pick {
        if let super::format::PickDecl::Long(l) = decl {
            if let Some(c) = &l.condition {
                expr(c, &["events", name, "pick", p], &mut out)?;
            }
        }
    }
    for (l, s) in &e.lets {
        expr(s, &["events", name, "let", l], &mut out)?;
    }
    if let Some(w) = &e.when {
        expr(w, &["events", name, "when"], &mut out)?;
    }
    for (k, eff) in e.effects.iter().enumerate() {
        let idx = format!("[{k}]");
        let path = ["events", name, "effects", idx.as_str()];
        for (target, value) in eff.set.iter().chain(&eff.add) {
            expr(&Src::Text(target.clone()), &path, &mut out)?;
            expr(value, &path, &mut out)?;
        }
        for target in eff.count.items() {
            expr(&Src::Text(target), &path, &mut out)?;
        }
    }
    for (field, y) in &e.payload {
        let mut names = BTreeSet::new();
        template_names(y, &mut names);
        add(&mut out, names, &["events", name, "payload", field]);
    }
    for f in &e.follow {
        let path = ["events", name, "then"];
        expr(&f.after, &path, &mut out)?;
        if let Some(p) = &f.probability {
            expr(p, &path, &mut out)?;
        }
        if let Some(r) = &f.repeat {
            expr(&r.every, &path, &mut out)?;
        }
    }
    Ok(out)
}

/// The events of a file as the check for undefined names sees them.
pub(super) struct Chains<'a> {
    pub names: &'a [&'a String],
    /// The follow-ups of each event.
    pub follows: &'a [Vec<u16>],
    /// What each event needs from its cause: its own reads and what it passes on.
    pub needs: &'a [BTreeSet<String>],
    /// What each event reads itself, and where.
    pub uses: &'a [Uses],
}

/// The error for `name`, needed by the primary event `root` and defined nowhere on the way:
/// located at the first event along its follow-ups that reads it itself, at the name.
pub(super) fn undefined(
    src: &Source<'_>,
    c: &Chains<'_>,
    root: usize,
    name: &str,
    hint: &str,
) -> WorldError {
    let (names, follows, needs, uses) = (c.names, c.follows, c.needs, c.uses);
    // Breadth first, so the chain named is a shortest one.
    let mut from: Vec<Option<usize>> = vec![None; names.len()];
    let mut queue = std::collections::VecDeque::from([root]);
    let mut seen = vec![false; names.len()];
    seen[root] = true;
    while let Some(i) = queue.pop_front() {
        if let Some(path) = uses[i].get(name) {
            let mut chain = vec![names[i].as_str()];
            let mut at = i;
            while let Some(c) = from[at] {
                chain.push(names[c].as_str());
                at = c;
            }
            chain.reverse();
            let path: Vec<&str> = path.iter().map(String::as_str).collect();
            let message = if i == root {
                format!("uses `{name}`, which is not defined here; {hint}")
            } else {
                format!(
                    "uses `{name}`, which is not defined here nor inherited along {}; define \
                     it in one of them (a pick, a `let`) or make it a parameter",
                    chain.join(" -> ")
                )
            };
            return src.err_at(&path, name, message);
        }
        for &t in &follows[i] {
            let t = t as usize;
            if !seen[t] && needs[t].contains(name) {
                seen[t] = true;
                from[t] = Some(i);
                queue.push_back(t);
            }
        }
    }
    src.err(
        &["events", names[root]],
        format!("uses `{name}`, which is not defined here; {hint}"),
    )
}
