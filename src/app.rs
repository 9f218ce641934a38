//! What each subcommand does, and how outcomes map to exit codes (`exit`): 0 for a clean run,
//! 1 when a sink could not deliver everything it accepted or the run failed, 2 for bad input
//! (errors marked with `bad_input()`; the caller prints the error). `kafka-gen master` is in
//! `app/master.rs`, the `scenarios` listing in `app/listing.rs`.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::cli::{Cli, Command, IngestArgs, ReplayArgs, RunArgs, ServeArgs};
use crate::config::{self, Config};
use crate::exit::BadInputExt;
pub use crate::logging::init_tracing;
use crate::logging::LogFormat;
use crate::runner::{Runner, Stop};
use crate::signals::stop_on_signals;

mod listing;
mod master;

pub use listing::scenarios_listing;
use master::master;

/// Runs the parsed command line.
pub fn main(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Some(Command::Master(args)) => {
            init_tracing(LogFormat::Text);
            master(&args)
        }
        Some(Command::Serve(args)) => {
            init_tracing(LogFormat::Text);
            serve(&args)
        }
        Some(Command::Scenarios) => {
            print!("{}", scenarios_listing());
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Config(args)) => {
            let config = config::resolve(&args).bad_input()?;
            print!("{}", config.to_toml()?);
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Ingest(args)) => ingest(&args),
        Some(Command::Replay(args)) => replay(&args),
        Some(Command::Run(args)) => run(&args),
        Some(Command::Consume(args)) => consume(&args),
        Some(Command::Check(args)) => check(&args),
        Some(Command::Schema(args)) => schema(&args),
        Some(Command::Soak(args)) => crate::soak::main(&args),
        None => run(&cli.run),
    }
}

/// `--set NAME=VALUE` pairs as a map.
fn param_flags(set: &[String]) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
    set.iter()
        .map(|pair| crate::worldfile::param_pair(pair, "--set"))
        .collect()
}

fn check(args: &crate::cli::CheckArgs) -> anyhow::Result<ExitCode> {
    let params = param_flags(&args.set).bad_input()?;
    let model = crate::worldfile::load_named(&args.file, &params).bad_input()?;
    print!("{}", crate::worldfile::describe(&model));
    if args.trial == 0 {
        return Ok(ExitCode::SUCCESS);
    }
    let model = std::sync::Arc::new(model);
    let trial = crate::worldfile::trial::run(std::sync::Arc::clone(&model), args.trial)
        .context("the trial run could not start")
        .bad_input()?;
    let (report, never) = crate::worldfile::tally::report(&model, &trial.tally);
    if trial.draws < args.trial {
        println!(
            "trial run: stopped after {} of {} primary draws, at its bound of ten follow-ups a \
             draw",
            crate::worldfile::tally::thousands(trial.draws),
            crate::worldfile::tally::thousands(args.trial)
        );
    }
    println!(
        "trial run: {} primary draws on the simulated clock over {:.1} h of event time (seed \
         {}, master data from master_seed {}):",
        crate::worldfile::tally::thousands(trial.draws),
        trial.span_ms as f64 / 3.6e6,
        crate::worldfile::trial::SEED,
        model.master_seed
    );
    print!("{report}");
    if never.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    // Exit 1, not 2: the file is valid, and the verdict is the trial's, like consume's.
    eprintln!(
        "kafka-gen: check: {} never happened in the trial run although drawn; see what \
         refused them above",
        never.join(", ")
    );
    Ok(ExitCode::from(1))
}

fn schema(args: &crate::cli::SchemaArgs) -> anyhow::Result<ExitCode> {
    let schema = match &args.world {
        Some(path) if !args.format => {
            let params = param_flags(&args.set).bad_input()?;
            let model = crate::worldfile::load_named(path, &params).bad_input()?;
            crate::worldfile::schema::event_schemas(&model)
        }
        _ => crate::worldfile::schema::format_schema(),
    };
    println!("{}", serde_json::to_string_pretty(&schema)?);
    Ok(ExitCode::SUCCESS)
}

fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    let (config, notes) = config::resolve_noted(args, std::env::vars()).bad_input()?;
    init_tracing(config.log_format);
    notes.iter().for_each(config::Note::log);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run_config(config))
}

/// Runs a resolved configuration until it stops, with SIGINT/SIGTERM wired to a clean stop.
/// Everything that can be checked before the first event is (bad input, exit 2); what fails
/// after that fails the run (exit 1).
pub async fn run_config(config: Config) -> anyhow::Result<ExitCode> {
    let cancel = CancellationToken::new();
    let metrics_stop = CancellationToken::new();
    // Opened now, so an unwritable path is found before the run rather than after it.
    let summary_file = config
        .summary_json
        .as_deref()
        .map(crate::report::SummaryFile::create)
        .transpose()
        .bad_input()?;
    if let Some(addr) = config.metrics_listen {
        let health = std::sync::Arc::new(|| (true, serde_json::json!({ "status": "ok" })));
        let access = crate::guard::Access::load(&config.auth).bad_input()?;
        let limits = config.metrics.limits();
        let guard = crate::guard::Guard::new(crate::guard::Listener::Metrics, access, limits);
        let tls = crate::listen::start_tls(&config.tls, &metrics_stop)?;
        crate::metrics::serve(addr, health, guard, tls, metrics_stop.clone())
            .await
            .bad_input()?;
    }
    let _stop_metrics = metrics_stop.drop_guard();
    let runner = Runner::new(&config).bad_input()?;
    let types = runner.types();
    tokio::spawn(stop_on_signals(cancel.clone()));
    let summary = runner.run(cancel).await?;
    if let Some(file) = summary_file {
        file.write(types, &summary)?;
    }
    if let Stop::Halted(reason) = summary.stop {
        // What was made before is delivered and counted above; the cause is the input.
        return Err(anyhow::anyhow!(reason)).bad_input();
    }
    let undelivered = summary.undelivered();
    Ok(match summary.stop {
        Stop::SinkFailed(_) => ExitCode::from(1),
        _ if undelivered > 0 => {
            tracing::error!(undelivered, "Some events were not delivered.");
            ExitCode::from(1)
        }
        _ => ExitCode::SUCCESS,
    })
}

/// `kafka-gen consume`: 0 when every record kept the contract, 1 when any violation was seen.
fn consume(args: &crate::cli::ConsumeArgs) -> anyhow::Result<ExitCode> {
    let run = RunArgs {
        config: args.config.clone(),
        scenario: args.scenario.clone(),
        set: args.set.clone(),
        data_dir: args.data_dir.clone(),
        brokers: args.brokers.clone(),
        stats: args.stats.clone(),
        log: args.log.clone(),
        ..RunArgs::default()
    };
    let config = config::resolve(&run).bad_input()?;
    let log_format = config.log_format;
    let options = crate::consume::ConsumeOptions::new(
        args,
        config.kafka,
        config.scenario,
        config.data_dir,
        config.stats_interval_secs,
    )
    .bad_input()?;
    init_tracing(log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    // `consume` marks its start-up errors that are bad input itself; the rest fail the run.
    let outcome = runtime.block_on(async {
        let cancel = CancellationToken::new();
        tokio::spawn(stop_on_signals(cancel.clone()));
        crate::consume::consume(&options, cancel).await
    })?;
    Ok(if outcome.violations > 0 || outcome.failure.is_some() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `kafka-gen ingest`: the Kafka settings come from the config file and environment, as for a
/// run; `--listen` says where to serve.
fn ingest(args: &IngestArgs) -> anyhow::Result<ExitCode> {
    let run_args = RunArgs {
        config: args.config.clone(),
        scenario: args.scenario.clone(),
        set: args.set.clone(),
        brokers: args.brokers.clone(),
        produce: args.produce.clone(),
        log: args.log.clone(),
        metrics: args.metrics.clone(),
        auth: args.auth.clone(),
        tls: args.tls.clone(),
        ..RunArgs::default()
    };
    let (mut config, notes) = config::resolve_noted(&run_args, std::env::vars()).bad_input()?;
    config.ingest.listen = args.listen.unwrap_or(config.ingest.listen);
    init_tracing(config.log_format);
    notes.iter().for_each(config::Note::log);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    // The world and the token file are read before the port is taken.
    let service = config.ingest_service().bad_input()?;
    runtime.block_on(async {
        crate::metrics::install()?;
        let listener = crate::listen::bind(config.ingest.listen, "--listen").await?;
        let cancel = CancellationToken::new();
        tokio::spawn(stop_on_signals(cancel.clone()));
        // `serve` marks its start-up errors that are bad input itself; the rest fail the run.
        crate::ingest::serve(&service, listener, cancel).await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// `kafka-gen replay`: the Kafka settings come from the config file and environment, as for
/// a run.
fn replay(args: &ReplayArgs) -> anyhow::Result<ExitCode> {
    let run_args = RunArgs {
        config: args.config.clone(),
        brokers: args.brokers.clone(),
        flush: args.flush.clone(),
        log: args.log.clone(),
        ..RunArgs::default()
    };
    let config = config::resolve(&run_args).bad_input()?;
    // `resolve` checks `[kafka]` only when a run's sinks include Kafka; replay always uses it.
    let types = crate::scenario::find(&config.scenario).bad_input()?;
    config.kafka.validate(types.event_types()).bad_input()?;
    init_tracing(config.log_format);
    let flush_timeout = Duration::from_secs_f64(config.schedule.flush_timeout_secs);
    // The replay itself is blocking; the runtime only watches for signals meanwhile.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let file = args.file.clone();
    let options = crate::replay::ReplayOptions {
        include_unknown: args.include_unknown,
        restart: args.restart,
        flush_timeout,
    };
    runtime.block_on(async move {
        let cancel = CancellationToken::new();
        tokio::spawn(stop_on_signals(cancel.clone()));
        tokio::task::spawn_blocking(move || {
            crate::replay::run(&file, &config.kafka, &options, &cancel)
        })
        .await
        .context("the replay thread panicked")?
    })
}

/// What `kafka-gen serve` is set to: its checked limits, address, guard and TLS.
struct ServeSettings {
    limits: crate::serve::Limits,
    addr: std::net::SocketAddr,
    guard: std::sync::Arc<crate::guard::Guard>,
    tls: crate::listen::TlsConfig,
}

/// `kafka-gen serve`'s settings from its flags and the environment (`SIMTOM_HOST`,
/// `SIMTOM_PORT`, `KAFKA_GEN_AUTH_*`, `KAFKA_GEN_TLS_*`); it reads no config file.
fn serve_settings(args: &ServeArgs) -> anyhow::Result<ServeSettings> {
    use crate::guard::{Access, AuthConfig, Guard, Limits, Listener};
    let limits = crate::serve::Limits {
        max_rate: args.max_rate,
        max_total: args.max_total,
        max_streams: args.max_streams,
        max_streams_per_client: args.max_streams_per_client,
        max_body_bytes: args.max_body_bytes,
    };
    limits.validate()?;
    let guard_limits = Limits {
        client_requests_per_sec: args.client_requests_per_sec,
        client_burst: args.client_burst,
        max_concurrent_requests: Some(args.max_concurrent_requests),
    };
    guard_limits.validate(|f| Listener::Serve.setting(f), "kafka-gen serve")?;
    let env = |name: &str| std::env::var(name).ok();
    let addr = crate::serve::listen_address(args.listen.as_deref(), env)?;
    let mut auth = AuthConfig::from_env(env)?;
    if let Some(file) = &args.auth.auth_token_file {
        auth.token_file = Some(file.clone());
    }
    auth.health_open |= args.auth.auth_health_open;
    let guard = Guard::new(Listener::Serve, Access::load(&auth)?, guard_limits);
    let tls = config::resolve_tls(&args.tls, std::env::vars())?;
    Ok(ServeSettings {
        limits,
        addr,
        guard,
        tls,
    })
}

fn serve(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let ServeSettings {
        limits,
        addr,
        guard,
        tls,
    } = serve_settings(args).bad_input()?;
    // Before the worlds load (seconds): a bad certificate is told at once.
    let tls = crate::listen::Tls::load(&tls).bad_input()?;
    crate::worldfile::set_params(param_flags(&args.set).bad_input()?);
    let mut worlds: Vec<&'static dyn crate::scenario::Scenario> = Vec::new();
    for world in &args.world {
        worlds.push(crate::scenario::find(&world.display().to_string()).bad_input()?);
    }
    let state = crate::serve::AppState::with_worlds(limits, args.data_root.clone(), worlds);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let cancel = CancellationToken::new();
        let stop = CancellationToken::new();
        if let Some(tls) = &tls {
            crate::listen::keep_current(tls, &stop);
        }
        let listener = crate::listen::bind(addr, "--listen").await?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        tracing::info!(%addr, scheme, "Serving.");
        let client_certs = tls.as_ref().is_some_and(crate::listen::Tls::mutual);
        guard.announce(listener.local_addr()?, client_certs);
        tokio::spawn(stop_on_signals(cancel.clone()));
        let streams = state.shutdown();
        tokio::spawn({
            let stop = stop.clone();
            async move {
                cancel.cancelled().await;
                // Open streams end first, so that the shutdown does not wait for them.
                streams.cancel();
                stop.cancel();
            }
        });
        let router = guard.wrap(crate::serve::router(state));
        let header_timeout = crate::listen::DEFAULT_HEADER_READ_TIMEOUT;
        crate::listen::serve(listener, router, tls, header_timeout, stop).await;
        Ok(ExitCode::SUCCESS)
    })
}
