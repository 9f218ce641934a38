//! Why a world's events did not happen: per event type, how often it was tried and, for each
//! refusal, what refused it (a pick's `where`, the `when` guard, an effect's bound), with the
//! line where that is written. `kafka-gen check` prints it after a trial run, and a run that
//! cannot draw anything names the world's own blocked types from it.
//!
//! The engine counts refusals only, on the refusal path, so a run pays nothing for the counts
//! while its events happen (a counter per event tried cost bank 0.9% more instructions); what
//! happened is counted from the events written, by whoever reads them (the trial run).

use std::fmt::Write;

use super::model::Model;

/// What refused an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// Pick `i` found no entity (its `where` held for none, or the kind is empty).
    Pick(u16),
    /// The `when` guard was false.
    When,
    /// Effect `i` would have broken a state bound (or had no entity to write to).
    Effect(u16),
}

/// One event type's counts, as a primary or as a follow-up.
#[derive(Debug, Default, Clone)]
pub struct Counts {
    /// Times it happened (counted by the reader of the events, not the engine).
    pub made: u64,
    /// Refusals by cause, in the order first seen.
    pub refused: Vec<(Cause, u64)>,
}

impl Counts {
    pub fn refusals(&self) -> u64 {
        self.refused.iter().map(|(_, n)| n).sum()
    }

    /// Times it was tried (drawn, or fallen due).
    pub fn tried(&self) -> u64 {
        self.made + self.refusals()
    }

    fn refuse(&mut self, cause: Cause) {
        match self.refused.iter_mut().find(|(c, _)| *c == cause) {
            Some((_, n)) => *n += 1,
            None => self.refused.push((cause, 1)),
        }
    }
}

/// Counts per event type, primaries and follow-ups apart.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub primary: Vec<Counts>,
    pub follow: Vec<Counts>,
}

impl Tally {
    pub fn new(types: usize) -> Self {
        Self {
            primary: vec![Counts::default(); types],
            follow: vec![Counts::default(); types],
        }
    }

    /// These counts of what happened with `refusals`' refusals.
    pub fn merged(&self, refusals: &Tally) -> Tally {
        let merge = |mine: &[Counts], theirs: &[Counts]| {
            mine.iter()
                .zip(theirs)
                .map(|(m, t)| Counts {
                    made: m.made,
                    refused: t.refused.clone(),
                })
                .collect()
        };
        Tally {
            primary: merge(&self.primary, &refusals.primary),
            follow: merge(&self.follow, &refusals.follow),
        }
    }

    /// Counts an event of type `e` that happened.
    pub fn made(&mut self, e: u16, primary: bool) {
        let side = if primary {
            &mut self.primary
        } else {
            &mut self.follow
        };
        if let Some(c) = side.get_mut(e as usize) {
            c.made += 1;
        }
    }

    #[cold]
    pub fn refuse(&mut self, e: u16, primary: bool, cause: Cause) {
        let side = if primary {
            &mut self.primary
        } else {
            &mut self.follow
        };
        if let Some(c) = side.get_mut(e as usize) {
            c.refuse(cause);
        }
    }
}

/// `12,345`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// What `cause` is, where it is written: "`when` at bank.yaml:88".
pub fn describe(model: &Model, e: u16, cause: Cause) -> String {
    let ev = &model.events[e as usize];
    let at = |line: usize| {
        if line == 0 {
            model.file.clone()
        } else {
            format!("{}:{line}", model.file)
        }
    };
    match cause {
        Cause::When => format!("`when` at {} was false", at(ev.sites.when)),
        Cause::Pick(i) => {
            let name = ev.locals.get(i as usize).map_or("?", |(n, _)| n.as_str());
            let line = ev.sites.picks.get(i as usize).copied().unwrap_or(0);
            let kind = ev
                .picks
                .get(i as usize)
                .and_then(|p| model.kinds.get(p.kind as usize))
                .map_or("?", |k| k.name.as_str());
            format!("pick `{name}` at {} found no {kind}", at(line))
        }
        Cause::Effect(i) => {
            let (line, what) = ev
                .sites
                .effects
                .get(i as usize)
                .map_or((0, "?"), |(l, w)| (*l, w.as_str()));
            format!("effect `{what}` at {} would break a bound", at(line))
        }
    }
}

/// "`when` at w.yaml:88 was false in 9,990; pick `u` at w.yaml:70 found no user in 10".
pub fn reasons(model: &Model, e: u16, counts: &Counts) -> String {
    counts
        .refused
        .iter()
        .map(|(c, n)| format!("{} in {}", describe(model, e, *c), thousands(*n)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The trial-run report: one line per event type that was tried, and the weighted types that
/// never happened (`never`), by name.
pub fn report(model: &Model, tally: &Tally) -> (String, Vec<String>) {
    let mut s = String::new();
    let mut never = Vec::new();
    for (e, ev) in model.events.iter().enumerate() {
        let p = &tally.primary[e];
        let f = &tally.follow[e];
        if ev.weight > 0.0 || ev.per.is_some() {
            let what = if ev.per.is_some() { "ticks" } else { "draws" };
            let mut line = format!(
                "  {}: {} of {} {what}",
                ev.name,
                thousands(p.made),
                thousands(p.tried())
            );
            if p.tried() == 0 && ev.per.is_some() {
                line.push_str(" (no clock ticked in the trial's time)");
            } else if p.tried() == 0 {
                line.push_str(" (its weight is too small to be drawn in this many draws)");
            } else if p.made == 0 {
                never.push(ev.name.clone());
                line.push_str(" NEVER HAPPENS");
            }
            if p.refusals() > 0 {
                let _ = write!(line, "; {}", reasons(model, e as u16, p));
            }
            let _ = writeln!(s, "{line}");
        }
        if f.tried() > 0 || (ev.weight == 0.0 && ev.per.is_none()) {
            let mut line = format!(
                "  {} (follow-up): {} of {} due",
                ev.name,
                thousands(f.made),
                thousands(f.tried())
            );
            if f.tried() == 0 {
                line.push_str(" (none fell due)");
            }
            if f.refusals() > 0 {
                let _ = write!(line, "; dropped: {}", reasons(model, e as u16, f));
            }
            let _ = writeln!(s, "{line}");
        }
    }
    (s, never)
}

/// The weighted types refused so far and what refused them, for the error of a run that
/// cannot draw: "since the start: ride_requested refused 65,536 times (`when` at w.yaml:88
/// was false in 65,536)".
pub fn blocked(model: &Model, tally: &Tally, weighted: &[bool]) -> String {
    let parts: Vec<String> = model
        .events
        .iter()
        .enumerate()
        .filter(|(e, _)| weighted.get(*e) == Some(&true))
        .map(|(e, ev)| {
            let c = &tally.primary[e];
            let mut s = format!("{} refused {} times", ev.name, thousands(c.refusals()));
            if c.refusals() > 0 {
                let _ = write!(s, " ({})", reasons(model, e as u16, c));
            }
            s
        })
        .collect();
    format!("since the start: {}", parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_refusals_by_cause_and_writes_thousands() {
        let mut t = Tally::new(2);
        for _ in 0..2 {
            t.made(1, true);
        }
        t.refuse(1, true, Cause::When);
        t.refuse(1, true, Cause::Pick(0));
        t.refuse(1, true, Cause::When);
        let c = &t.primary[1];
        assert_eq!((c.tried(), c.refusals(), c.made), (5, 3, 2));
        assert_eq!(c.refused, vec![(Cause::When, 2), (Cause::Pick(0), 1)]);
        assert_eq!(t.follow[1].tried(), 0);
        assert_eq!(thousands(10_000), "10,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
