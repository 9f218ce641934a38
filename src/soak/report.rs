//! The soak's report: aligned text tables, one line per period, then the verdict; and the
//! same as JSON (`--summary-json`).

use std::fmt::Write;

use serde_json::json;

use super::drive::{SoakData, VarStats};
use super::verdict::{self, Analysis};
use super::Options;
use crate::worldfile::tally::thousands;

/// State variables per table, so a table stays under about 110 columns.
const VARS_PER_TABLE: usize = 3;

fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(
        || ms.to_string(),
        |t| t.format("%Y-%m-%d %H:%M").to_string(),
    )
}

/// Four significant digits, without a trailing `.0`.
fn num(x: f64) -> String {
    if !x.is_finite() {
        return "-".into();
    }
    let a = x.abs();
    if a == 0.0 || a >= 1000.0 {
        format!("{x:.0}")
    } else if a >= 100.0 {
        format!("{x:.1}")
    } else if a >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

fn pval(p: f64) -> String {
    if p < 1e-300 {
        "<1e-300".into()
    } else if p >= 0.001 {
        format!("{p:.3}")
    } else {
        format!("{p:.0e}")
    }
}

/// The pace the soak ran at, in words.
pub fn pace(o: &Options) -> String {
    let s = &o.config.schedule;
    let base = match (s.events_per_day, s.rate_per_sec) {
        (Some(d), _) => format!(
            "{} primary events a day, times from the time profile",
            num(d)
        ),
        (None, Some(r)) => format!("{r} primary events a second"),
        (None, None) => format!("gaps of {}-{} s", s.min_delta_secs, s.max_delta_secs),
    };
    if s.follow_profile && s.events_per_day.is_none() {
        format!("{base}, following the time profile")
    } else {
        base
    }
}

fn period_label(p: usize, warmup: usize) -> String {
    if p < warmup {
        format!("{}w", p + 1)
    } else {
        (p + 1).to_string()
    }
}

pub fn text(o: &Options, d: &SoakData, a: &Analysis, types: &[&str]) -> String {
    let mut s = String::new();
    let w = o.warmup;
    let rate = d.events as f64 / d.elapsed_secs.max(1e-9);
    let _ = writeln!(
        s,
        "soak: {} from {}, {} periods of {}, seed {}; pace: {}",
        o.config.scenario,
        time(o.start_ms),
        d.periods.len(),
        super::days(o.period_ms as f64 / 1000.0),
        o.seed,
        pace(o)
    );
    let _ = writeln!(
        s,
        "{} events in {:.1} s ({} events/s); periods marked w are warm-up, left out of the tests",
        thousands(d.events),
        d.elapsed_secs,
        thousands(rate as u64)
    );
    let _ = writeln!(
        s,
        "drift: each period's shares against {}, its state against the rest of the run, p < {:e} \
         and type mix or text field TV > {}, numeric field KS D > {}, state mean off by > {} of \
         its p5..p95 spread, > {}% at a bound (and {} points over its start), refused share \
         moved > {}, pending follow-ups of the later half off the earlier by > {}% (and > {}, \
         the halves apart)",
        a.compared_with,
        verdict::P_MAX,
        verdict::MIX_TV,
        verdict::KS_D,
        verdict::STATE_SHIFT,
        verdict::AT_BOUND_SHARE * 100.0,
        verdict::AT_BOUND_RISE * 100.0,
        verdict::REFUSED_SHIFT,
        verdict::PENDING_SHIFT * 100.0,
        verdict::PENDING_MIN_MOVE
    );
    mix_table(&mut s, d, a, types, w);
    refusals(&mut s, d, w);
    state_tables(&mut s, d, a, w);
    fields(&mut s, d, a, w);
    verdict_text(&mut s, d, a);
    s
}

fn mix_table(s: &mut String, d: &SoakData, a: &Analysis, types: &[&str], w: usize) {
    let _ = writeln!(s, "\nEvents by type, % of the period's events (* drifts):");
    let mut head = format!(
        "{:>4}  {:<16} {:>11} {:>9}",
        "per", "start", "events", "pending"
    );
    for i in 0..types.len() {
        let _ = write!(head, " {:>6}", format!("[{}]", i + 1));
    }
    let _ = writeln!(s, "{head} {:>7} {:>8}", "TV", "p");
    for (p, per) in d.periods.iter().enumerate() {
        let total: u64 = per.counts.iter().sum();
        let mut line = format!(
            "{:>4}  {:<16} {:>11} {:>9}",
            period_label(p, w),
            time(per.start_ms),
            thousands(total),
            thousands(per.pending)
        );
        for c in &per.counts {
            let share = 100.0 * *c as f64 / total.max(1) as f64;
            let _ = write!(line, " {share:>6.1}");
        }
        match a
            .test("type mix", p + 1)
            .and_then(|t| t.outcome.map(|o| (o, t.drift)))
        {
            Some((o, drift)) => {
                let mark = if drift { "*" } else { "" };
                let _ = write!(line, " {:>7} {:>8}{mark}", num(o.effect), pval(o.p));
            }
            None => line.push_str(&format!(" {:>7} {:>8}", "-", "-")),
        }
        let _ = writeln!(s, "{}", line.trim_end());
    }
    let legend: Vec<String> = (types.iter().enumerate())
        .map(|(i, t)| format!("[{}] {t}", i + 1))
        .collect();
    let _ = writeln!(s, "      {}", legend.join("  "));
}

fn refusals(s: &mut String, d: &SoakData, w: usize) {
    let mut details: Vec<String> = Vec::new();
    let mut lines = Vec::new();
    for (p, per) in d.periods.iter().enumerate() {
        let parts: Vec<String> = (per.refusals.iter())
            .map(|r| {
                let k = match details.iter().position(|x| *x == r.detail) {
                    Some(k) => k,
                    None => {
                        details.push(r.detail.clone());
                        details.len() - 1
                    }
                };
                let side = if r.primary { "" } else { " (follow-up)" };
                format!(
                    "{}{side} {} {} [{}]",
                    r.event_type,
                    r.reason.label(),
                    thousands(r.count),
                    k + 1
                )
            })
            .collect();
        if !parts.is_empty() {
            lines.push(format!("{:>4}  {}", period_label(p, w), parts.join("; ")));
        }
    }
    if d.periods.iter().all(|p| p.vars.is_none()) {
        let _ = writeln!(s, "\nRefused draws: this world does not report them.");
        return;
    }
    if lines.is_empty() {
        let _ = writeln!(s, "\nRefused draws: none.");
        return;
    }
    let _ = writeln!(
        s,
        "\nRefused draws by type and cause (periods with none left out):"
    );
    for l in lines {
        let _ = writeln!(s, "{l}");
    }
    for (k, detail) in details.iter().enumerate() {
        let _ = writeln!(s, "      [{}] {detail}", k + 1);
    }
}

fn cell(v: &VarStats, drift: bool) -> String {
    let bound = v
        .at_bound
        .map_or(String::new(), |b| format!(" {:.0}%", b * 100.0));
    let mark = if drift { "*" } else { "" };
    format!(
        "{} [{}..{}]{bound}{mark}",
        num(v.mean),
        num(v.p5),
        num(v.p95)
    )
}

fn state_tables(s: &mut String, d: &SoakData, a: &Analysis, w: usize) {
    let Some(names): Option<Vec<&VarStats>> = d
        .periods
        .first()
        .and_then(|p| p.vars.as_ref())
        .map(|v| v.iter().collect())
    else {
        let _ = writeln!(
            s,
            "\nState: this world shows none (its state is not declared)."
        );
        return;
    };
    if names.is_empty() {
        let _ = writeln!(s, "\nState: none declared.");
        return;
    }
    let _ = writeln!(
        s,
        "\nState at each period's end: mean [p5..p95] and % at a declared bound (* drifts):"
    );
    for (g, group) in names.chunks(VARS_PER_TABLE).enumerate() {
        let first = g * VARS_PER_TABLE;
        let width = 30;
        let mut head = format!("{:>5}", "per");
        for v in group {
            let label = match v.window_days {
                Some(days) => format!("{} ({}d window)", v.name, num(days)),
                None => v.name.clone(),
            };
            let _ = write!(head, "  {label:<width$}");
        }
        let _ = writeln!(s, "{}", head.trim_end());
        let mut rows: Vec<(String, Vec<String>)> = Vec::new();
        if let Some(init) = &d.init {
            let cells = (first..first + group.len())
                .filter_map(|i| init.get(i).map(|v| cell(v, false)))
                .collect();
            rows.push(("start".into(), cells));
        }
        for (p, per) in d.periods.iter().enumerate() {
            let Some(vars) = &per.vars else { continue };
            let cells = (first..first + group.len())
                .filter_map(|i| {
                    let v = vars.get(i)?;
                    let drift = a.drifting_in(p + 1).any(|t| {
                        t.what == format!("state {} mean", v.name)
                            || t.what == format!("state {} at a bound", v.name)
                    });
                    Some(cell(v, drift))
                })
                .collect();
            rows.push((period_label(p, w), cells));
        }
        for (label, cells) in rows {
            let mut line = format!("{label:>5}");
            for c in cells {
                let _ = write!(line, "  {c:<width$}");
            }
            let _ = writeln!(s, "{}", line.trim_end());
        }
    }
}

fn fields(s: &mut String, d: &SoakData, a: &Analysis, w: usize) {
    let _ = writeln!(
        s,
        "\nPayload fields: {} tested (numbers by KS, text by chi-square, on up to {} records \
         of each type a period)",
        a.fields_tested,
        super::fields::SAMPLE_PER_TYPE
    );
    if !a.skipped_fields.is_empty() {
        let skipped: Vec<String> = (a.skipped_fields.iter())
            .map(|k| format!("{} ({})", k.field, k.why))
            .collect();
        let _ = writeln!(s, "  not tested: {}", skipped.join(", "));
    }
    for p in 0..d.periods.len() {
        let drifting: Vec<String> = a
            .drifting_in(p + 1)
            .filter(|t| t.what.starts_with("field "))
            .map(|t| {
                let p = t
                    .outcome
                    .map_or(String::new(), |o| format!(" p={}", pval(o.p)));
                let stat = if t.threshold == verdict::KS_D {
                    "D"
                } else {
                    "TV"
                };
                format!("{} {stat}={}{p}", &t.what[6..], num(t.effect))
            })
            .collect();
        if !drifting.is_empty() {
            let _ = writeln!(
                s,
                "{:>4}  drifts: {}",
                period_label(p, w),
                drifting.join(", ")
            );
        }
    }
}

fn verdict_text(s: &mut String, d: &SoakData, a: &Analysis) {
    if let Some(why) = &d.stopped {
        let _ = writeln!(s, "\nThe world stopped early: {why}");
    }
    if a.drifts.is_empty() && d.stopped.is_none() {
        let _ = writeln!(
            s,
            "\nVerdict: steady ({} tests, none past its thresholds)",
            thousands(a.tests.len() as u64)
        );
        return;
    }
    let _ = writeln!(s, "\nVerdict: drifting");
    if d.stopped.is_some() {
        let _ = writeln!(s, "  - the world stopped before the end (above)");
    }
    for x in &a.drifts {
        let _ = write!(
            s,
            "  - {} from period {} ({} periods; worst effect {} against {})",
            x.what,
            x.from_period,
            x.periods,
            num(x.worst_effect),
            threshold_of(a, &x.what)
        );
        if let Some(h) = &x.hint {
            let _ = write!(s, "; {h}");
        }
        let _ = writeln!(s);
    }
}

fn threshold_of(a: &Analysis, what: &str) -> String {
    a.tests
        .iter()
        .find(|t| t.what == what)
        .map_or("-".into(), |t| num(t.threshold))
}

/// Everything as JSON: the run, the thresholds, each period, every test, the verdict.
pub fn json(o: &Options, d: &SoakData, a: &Analysis, types: &[&str]) -> serde_json::Value {
    let iso = |ms: i64| chrono::DateTime::from_timestamp_millis(ms).map(|t| t.to_rfc3339());
    let periods: Vec<serde_json::Value> = (d.periods.iter().enumerate())
        .map(|(p, per)| {
            let total: u64 = per.counts.iter().sum();
            let by_type: serde_json::Map<String, serde_json::Value> = (types.iter())
                .zip(&per.counts)
                .zip(&per.primaries)
                .map(|((t, c), pr)| {
                    let share = *c as f64 / total.max(1) as f64;
                    (
                        t.to_string(),
                        json!({"events": c, "share": share, "primary": pr}),
                    )
                })
                .collect();
            json!({
                "period": p + 1,
                "warmup": p < o.warmup,
                "start": iso(per.start_ms),
                "end": iso(per.end_ms),
                "events": total,
                "by_type": by_type,
                "pending_follow_ups": per.pending,
                "refusals": per.refusals,
                "state": per.vars,
            })
        })
        .collect();
    json!({
        "world": o.config.scenario,
        "start": iso(o.start_ms),
        "duration_secs": o.duration_ms / 1000,
        "period_secs": o.period_ms / 1000,
        "warmup_periods": o.warmup,
        "seed": o.seed,
        "pace": pace(o),
        "events": d.events,
        "elapsed_secs": d.elapsed_secs,
        "events_per_sec": d.events as f64 / d.elapsed_secs.max(1e-9),
        "stopped": d.stopped,
        "thresholds": verdict::thresholds(),
        "types": types,
        "start_state": d.init,
        "periods": periods,
        "fields_tested": a.fields_tested,
        "skipped_fields": a.skipped_fields,
        "tests": a.tests,
        "drifts": a.drifts,
        "verdict": if a.drifts.is_empty() && d.stopped.is_none() { "steady" } else { "drifting" },
    })
}
