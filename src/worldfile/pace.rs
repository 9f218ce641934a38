//! A world's default pace (`pace:` in the file): its expressions over params evaluated at
//! load, each checked against the range the run's own option has, with a located error.
//! `config` applies the result when the user gives no pacing of their own.

use indexmap::IndexMap;

use super::build::{static_number, Source};
use super::compile::{Place, Scope};
use super::error::WorldError;
use super::format::{PaceDecl, Src};
use super::value::Value;

/// A year, in seconds: the longest gap (as `--max-delta`).
const YEAR_SECS: f64 = 365.0 * 86_400.0;

/// The world's pace, in numbers; `None` where the file says nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Pace {
    /// Primary events per second of event time.
    pub rate: Option<f64>,
    /// Realistic mode's gaps, in seconds (both set, or neither).
    pub deltas: Option<(f64, f64)>,
    /// Event time per second of real time in a live run.
    pub speed: Option<f64>,
    /// Default run length in seconds of real time; 0 means until stopped.
    pub duration_secs: Option<f64>,
    /// Primary events of a historical range given no count.
    pub historical_count: Option<u64>,
    /// Live runs follow the time profile.
    pub follow_profile: Option<bool>,
}

impl Pace {
    /// Whether the file states any pace at all.
    pub fn is_empty(&self) -> bool {
        *self == Pace::default()
    }
}

/// Evaluates `pace:` with the run's parameter values.
pub fn build(
    src: &Source<'_>,
    decl: &PaceDecl,
    params: &IndexMap<String, Value>,
) -> Result<Pace, WorldError> {
    let scope = Scope {
        params,
        kinds: &[],
        globals: &[],
        pairs: &[],
        locals: vec![],
        place: Place::Static,
    };
    // Each value, checked against `lo..=hi` with `what` saying what the range means.
    let number = |item: &str, s: &Option<Src>, (lo, hi): (f64, f64), what: &str| {
        let Some(s) = s else { return Ok(None) };
        let path = ["pace", item];
        let x = static_number(src, &scope, s, &path)?;
        if !(lo..=hi).contains(&x) {
            return Err(src.err(
                &path,
                format!(
                    "`{}` is {x} with these parameters; {item} must be {lo}..{hi} {what}",
                    s.text()
                ),
            ));
        }
        Ok(Some(x))
    };
    let rate = number("rate", &decl.rate, (1e-6, 1e9), "events per second")?;
    let min = number("min_delta", &decl.min_delta, (0.0, YEAR_SECS), "seconds")?;
    let max = number("max_delta", &decl.max_delta, (1e-3, YEAR_SECS), "seconds")?;
    let deltas = match (min, max) {
        (None, None) => None,
        (Some(lo), Some(hi)) if lo <= hi => Some((lo, hi)),
        (Some(lo), Some(hi)) => {
            return Err(src.err(
                &["pace", "min_delta"],
                format!("min_delta {lo} s is greater than max_delta {hi} s; it must be <="),
            ))
        }
        _ => {
            return Err(src.err(
                &["pace"],
                "give min_delta and max_delta together (the gaps of realistic mode)",
            ))
        }
    };
    if rate.is_some() && deltas.is_some() {
        return Err(src.err(
            &["pace", "rate"],
            "give either rate (batch mode) or min_delta/max_delta (realistic mode), not both",
        ));
    }
    let speed = number("speed", &decl.speed, (1.0, 1e6), "times real time")?;
    let duration_secs = number(
        "duration",
        &decl.duration,
        (0.0, 10.0 * YEAR_SECS),
        "seconds (0 runs until stopped)",
    )?;
    let count = number(
        "historical_count",
        &decl.historical_count,
        (1.0, 1e12),
        "events",
    )?;
    if let (Some(n), Some(s)) = (count, &decl.historical_count) {
        if n.fract() != 0.0 {
            return Err(src.err(
                &["pace", "historical_count"],
                format!("`{}` is {n}; it must be a whole number", s.text()),
            ));
        }
    }
    let follow_profile = match &decl.follow_profile {
        None => None,
        Some(s) => match super::build::expr(src, &scope, s, &["pace", "follow_profile"])?.0 {
            super::expr::Expr::Lit(Value::Bool(b)) => Some(b.get()),
            _ => {
                return Err(src.err(
                    &["pace", "follow_profile"],
                    format!(
                        "`{}` must be true or false (from parameters only)",
                        s.text()
                    ),
                ))
            }
        },
    };
    Ok(Pace {
        follow_profile,
        rate,
        deltas,
        speed,
        duration_secs,
        historical_count: count.map(|n| n as u64),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    fn world(pace: &str, params: &[(&str, &str)]) -> Result<super::Pace, String> {
        let text = format!(
            "world: w\nparams:\n  users: {{default: 10, min: 1, max: 1000}}\n  slow: {{default: false}}\n\
             events:\n  e: {{payload: {{a: 1}}}}\npace:\n{pace}"
        );
        let overrides: BTreeMap<String, String> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        super::super::compile_text("w.yaml", &text, &overrides)
            .map(|m| m.pace)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn pace_is_evaluated_with_the_runs_parameters() {
        let p = world(
            "  rate: \"users * (slow ? 0.5 : 2)\"\n  duration: 300\n",
            &[],
        )
        .unwrap();
        assert_eq!((p.rate, p.duration_secs), (Some(20.0), Some(300.0)));
        let p = world(
            "  rate: \"users * (slow ? 0.5 : 2)\"\n",
            &[("users", "50"), ("slow", "true")],
        );
        assert_eq!(p.unwrap().rate, Some(25.0));
        let p = world("  min_delta: users / 10\n  max_delta: users\n", &[]).unwrap();
        assert_eq!(p.deltas, Some((1.0, 10.0)));
        assert!(world("", &[]).unwrap().is_empty());
        let p = world("  follow_profile: not slow\n", &[]).unwrap();
        assert_eq!(p.follow_profile, Some(true));
        let e = world("  follow_profile: users\n", &[]).unwrap_err();
        assert!(e.contains("must be true or false"), "{e}");
    }

    #[test]
    fn a_pace_out_of_range_is_a_located_error() {
        let e = world("  rate: users - 10\n", &[]).unwrap_err();
        assert!(e.contains("w.yaml:8:") && e.contains("pace.rate"), "{e}");
        assert!(
            e.contains("is 0 with these parameters; rate must be 0.000001..1000000000"),
            "{e}"
        );
        let e = world("  speed: 0.5\n", &[]).unwrap_err();
        assert!(e.contains("speed must be 1..1000000"), "{e}");
        let e = world("  min_delta: 5\n", &[]).unwrap_err();
        assert!(e.contains("together"), "{e}");
        let e = world("  min_delta: 5\n  max_delta: 2\n", &[]).unwrap_err();
        assert!(e.contains("greater than max_delta"), "{e}");
        let e = world("  rate: 1\n  min_delta: 1\n  max_delta: 2\n", &[]).unwrap_err();
        assert!(e.contains("not both"), "{e}");
        let e = world("  historical_count: users / 3\n", &[]).unwrap_err();
        assert!(e.contains("whole number"), "{e}");
        let e = world("  rate: now\n", &[]).unwrap_err();
        assert!(e.contains("pace.rate"), "{e}");
    }
}
