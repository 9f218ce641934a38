//! What a world's population can carry (`capacity:` in the file): per entity kind, how long
//! one primary event keeps an entity of it, so that by Little's law a pace of `rate` primary
//! events a second needs `rate x seconds` of them. Evaluated over params when the world loads;
//! a run whose master data has fewer says so once at start-up, with the numbers (issue 29), as
//! retail does for its stores (`scenario::retail::capacity`).

use indexmap::IndexMap;

use super::build::{static_number, Source};
use super::compile::{KindInfo, Place, Scope};
use super::error::WorldError;
use super::format::CapacityDecl;
use super::value::Value;

/// The longest an entity can be held per primary event: 100 years, in seconds.
const MOST_SECS: f64 = 100.0 * 365.0 * 86_400.0;

/// One kind's need, in numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Capacity {
    /// The entity kind, by index and name.
    pub kind: usize,
    pub name: String,
    /// Seconds of event time one primary event keeps an entity of the kind.
    pub seconds: f64,
    /// Why, in the file's words.
    pub doc: String,
}

impl Capacity {
    /// The warning for a run at `rate` primary events a second whose master data has `have`
    /// entities of the kind, or `None` when they are enough.
    pub fn warning(&self, world: &str, rate: f64, have: usize) -> Option<String> {
        let need = (rate * self.seconds).ceil();
        if !need.is_finite() || need <= have as f64 {
            return None;
        }
        let why = if self.doc.is_empty() {
            String::new()
        } else {
            format!(" ({})", self.doc)
        };
        Some(format!(
            "the {world} world's pace, {rate} primary events a second of event time, needs about \
             {need} {name}{why}: {rate} x {secs} s each; the master data has {have}. Generate \
             more (`kafka-gen master --world FILE --size {name}={need}`, or the parameter that \
             sets the count), or lower the pace to {most} a second",
            rate = short(rate),
            name = self.name,
            secs = short(self.seconds),
            most = short(have as f64 / self.seconds),
        ))
    }
}

/// A number with four significant digits at most, without trailing zeros: `0.002315`, `1`.
fn short(x: f64) -> String {
    if !x.is_finite() || x == 0.0 || x.abs() >= 1e4 {
        return format!("{}", x.round());
    }
    let places = (3 - x.abs().log10().floor() as i32).clamp(0, 15) as usize;
    let text = format!("{x:.places$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// Evaluates `capacity:` with the run's parameter values.
pub fn build(
    src: &Source<'_>,
    decls: &IndexMap<String, CapacityDecl>,
    params: &IndexMap<String, Value>,
    infos: &[KindInfo],
) -> Result<Vec<Capacity>, WorldError> {
    let scope = Scope {
        params,
        kinds: &[],
        globals: &[],
        pairs: &[],
        locals: vec![],
        place: Place::Static,
    };
    let mut out = Vec::with_capacity(decls.len());
    for (name, d) in decls {
        let Some(kind) = infos.iter().position(|k| k.name == *name) else {
            let known: Vec<&str> = infos.iter().map(|k| k.name.as_str()).collect();
            return Err(src.err(
                &["capacity", name],
                format!(
                    "`{name}` is not an entity kind; kinds: {}",
                    known.join(", ")
                ),
            ));
        };
        let path = ["capacity", name.as_str(), "seconds"];
        let seconds = static_number(src, &scope, &d.seconds, &path)?;
        if !(seconds > 0.0 && seconds <= MOST_SECS) {
            return Err(src.err(
                &path,
                format!(
                    "`{}` is {seconds} with these parameters; it must be above 0 and at most \
                     {MOST_SECS} seconds (100 years)",
                    d.seconds.text()
                ),
            ));
        }
        out.push(Capacity {
            kind,
            name: name.clone(),
            seconds,
            doc: d.doc.clone().unwrap_or_default(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users(seconds: f64) -> Capacity {
        Capacity {
            kind: 0,
            name: "users".into(),
            seconds,
            doc: "a user listens for 200 s".into(),
        }
    }

    #[test]
    fn enough_entities_say_nothing_and_too_few_say_how_many() {
        // Little's law: 2 a second x 200 s = 400 users in use at once.
        assert_eq!(users(200.0).warning("music", 2.0, 400), None);
        let w = users(200.0).warning("music", 2.0, 399).unwrap();
        for part in [
            "needs about 400 users (a user listens for 200 s)",
            "2 x 200 s each",
            "the master data has 399",
            "--size users=400",
            "lower the pace to 1.995 a second",
        ] {
            assert!(w.contains(part), "{part:?} not in {w}");
        }
        let w = users(864_000.0).warning("bnpl", 0.1 / 43.2, 200).unwrap();
        assert!(w.contains("pace, 0.002315 primary events"), "{w}");
        assert!(w.contains("0.002315 x 864000 s each"), "{w}");
        assert_eq!(short(1.0), "1");
        assert_eq!(short(12.5), "12.5");
    }
}
