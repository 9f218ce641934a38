//! `kafka-gen soak`: runs a world on the simulated clock as fast as it goes, with no sink,
//! and says whether it stays steady (issue 29). Per period (a day by default) it reports the
//! type mix, refused draws by cause, each state variable's mean, p5, p95 and share at a bound,
//! follow-ups pending, and the payload fields whose distribution drifts; each period is tested
//! against the rest of the run, and the verdict names what drifts and from when.
//!
//! - `drive`: the run and what each period saw;
//! - `fields`: payload samples (reservoirs) and their flattened fields;
//! - `stats`: chi-square and KS tests with their p-values;
//! - `verdict`, `field_tests`: the drift tests, their thresholds, and the verdict;
//! - `report`: the text report and the JSON summary.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;

use crate::cli::SoakArgs;
use crate::config::{Config, Note};
use crate::exit::BadInputExt;
use crate::schedule::TimeArg;

pub mod drive;
mod field_tests;
pub mod fields;
pub mod report;
pub mod stats;
pub mod verdict;

/// The longest soak: ten years of simulated time.
pub const MAX_DURATION_DAYS: f64 = 3660.0;
/// The shortest period, and the most periods a soak reports.
pub const MIN_PERIOD_SECS: f64 = 60.0;
pub const MAX_PERIODS: u64 = 10_000;
/// Where the simulated clock starts unless `--start` says: a Monday at midnight UTC, so daily
/// periods are calendar days and weeks start on their first.
pub const DEFAULT_START: &str = "2025-01-06T00:00:00Z";
/// The seed unless `--seed` says: fixed, so the same soak gives the same report.
pub const DEFAULT_SEED: u64 = 1;

/// A soak, resolved and checked.
pub struct Options {
    /// The run's configuration the soak's flags resolve to (world, parameters, pace).
    pub config: Config,
    pub seed: u64,
    pub start_ms: i64,
    pub duration_ms: i64,
    pub period_ms: i64,
    pub warmup: usize,
    pub fail_on_drift: bool,
    pub summary_json: Option<PathBuf>,
}

impl Options {
    /// Resolves `args` through the run's configuration (so the pace is a run's: the flags,
    /// else the config file and environment, else the world's own `pace:`) and checks the
    /// soak's own numbers.
    pub fn from_args(args: &SoakArgs) -> anyhow::Result<(Self, Vec<Note>)> {
        let duration_secs = args.duration.0.as_secs_f64();
        let period_secs = args.period.0.as_secs_f64();
        if duration_secs > MAX_DURATION_DAYS * 86_400.0 {
            bail!(
                "duration {} is longer than {MAX_DURATION_DAYS} days; give a --duration up to \
                 {MAX_DURATION_DAYS}d",
                days(duration_secs)
            );
        }
        if period_secs < MIN_PERIOD_SECS {
            bail!("period {period_secs}s is shorter than a minute; give a --period of 1m or more");
        }
        if period_secs > duration_secs {
            bail!(
                "period {} is longer than the duration {}; give a --period up to --duration",
                days(period_secs),
                days(duration_secs)
            );
        }
        let periods = (duration_secs / period_secs).ceil() as u64;
        if periods > MAX_PERIODS {
            bail!(
                "{periods} periods of {} in {}: at most {MAX_PERIODS}; give a longer --period",
                days(period_secs),
                days(duration_secs)
            );
        }
        let warmup = u64::from(args.warmup);
        if warmup + 2 > periods {
            bail!(
                "warmup {warmup} leaves {} of {periods} periods to test; it must be at most {} \
                 so that two periods are compared (--warmup), or soak longer (--duration)",
                periods.saturating_sub(warmup),
                periods.saturating_sub(2)
            );
        }
        let start: TimeArg = match args.start {
            Some(t) => t,
            None => DEFAULT_START.parse().map_err(anyhow::Error::msg)?,
        };
        let (config, notes) = crate::config::resolve_noted(&args.as_run(start), std::env::vars())?;
        let scenario = crate::scenario::find(&config.scenario)?;
        let start_ms = config.time_range(scenario)?.0.unwrap_or_default();
        Ok((
            Self {
                seed: config.seed.unwrap_or(DEFAULT_SEED),
                config,
                start_ms,
                duration_ms: (duration_secs * 1000.0).round() as i64,
                period_ms: (period_secs * 1000.0).round() as i64,
                warmup: args.warmup as usize,
                fail_on_drift: args.fail_on_drift,
                summary_json: args.summary_json.clone(),
            },
            notes,
        ))
    }
}

/// `90s`, `12h`, `30d`: a length as people read it.
pub(crate) fn days(secs: f64) -> String {
    let n = crate::bounds::Num;
    if secs >= 86_400.0 && secs % 86_400.0 == 0.0 {
        format!("{}d", n(secs / 86_400.0))
    } else if secs >= 3600.0 && secs % 3600.0 == 0.0 {
        format!("{}h", n(secs / 3600.0))
    } else {
        format!("{}s", n(secs))
    }
}

/// `kafka-gen soak`: 0 when steady (or drifting without `--fail-on-drift`), 1 when drifting
/// with it, 2 for bad input.
pub fn main(args: &SoakArgs) -> anyhow::Result<ExitCode> {
    let (o, notes) = Options::from_args(args).bad_input()?;
    crate::app::init_tracing(o.config.log_format);
    notes.iter().for_each(Note::log);
    let summary_file = (o.summary_json.as_deref())
        .map(crate::report::SummaryFile::create)
        .transpose()
        .bad_input()?;
    let data = drive::run(&o).bad_input()?;
    let scenario = crate::scenario::find(&o.config.scenario)?;
    let types: Vec<&str> = scenario.event_types().iter().map(|t| t.name).collect();
    let analysis = verdict::analyse(&data, &types, o.warmup);
    print!("{}", report::text(&o, &data, &analysis, &types));
    if let Some(file) = summary_file {
        file.write_value(&report::json(&o, &data, &analysis, &types))?;
    }
    let drifting = !analysis.drifts.is_empty() || data.stopped.is_some();
    Ok(if drifting && o.fail_on_drift {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
