//! Command-line arguments. Their `///` comments are the `--help` text. Nothing past
//! `config::resolve` sees these types.
//!
//! - this module: the top-level parser, the subcommands, and accepting a run's flags before a
//!   subcommand;
//! - `run`: the flags of a run (`kafka-gen`, `run`, `config`);
//! - `commands`: the flags of `master`, `serve`, `consume`, `ingest` and `replay`;
//! - `shared`: flags several commands take (config, brokers, logs...), declared once.
//! - `soak`: the flags of `soak`, which resolve through a run's configuration.
//! - [`aliases`]: a world file's own flag and config-key names, rewritten before parsing.

pub mod aliases;
mod commands;
mod run;
mod shared;
mod soak;

use std::ffi::OsString;

use clap::{CommandFactory, Parser, Subcommand};

pub use commands::{
    CheckArgs, ConsumeArgs, IngestArgs, MasterArgs, ReplayArgs, SchemaArgs, ServeArgs,
};
pub use run::RunArgs;
pub use shared::{
    AuthArgs, BrokerArgs, ConfigArgs, FlushArgs, LogArgs, MetricsArgs, ProduceArgs, StatsArgs,
    TlsArgs,
};
pub use soak::SoakArgs;

#[derive(Debug, Parser)]
#[command(
    name = "kafka-gen",
    version,
    about = "Simulates a business and streams its events.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub run: RunArgs,
}

impl Cli {
    /// Parses `args` (the program name first) as clap does, but also accepts a run's flags
    /// before a subcommand, as in `kafka-gen --config x.toml config` or
    /// `kafka-gen --scenario music master` (issue 10: they gave "cannot be used with"). Those
    /// flags are moved after the subcommand's name, where its own parser reads them, so a flag
    /// the subcommand does not take is still reported by name.
    ///
    /// A world file's option aliases are rewritten first ([`aliases`]); notes about ignored
    /// ones go to stderr.
    pub fn parse_args<T: Into<OsString>>(args: impl IntoIterator<Item = T>) -> Self {
        Self::try_parse_args(args).unwrap_or_else(|e| e.exit())
    }

    /// [`Cli::parse_args`] returning the error instead of exiting, for tests.
    pub fn try_parse_args<T: Into<OsString>>(
        args: impl IntoIterator<Item = T>,
    ) -> Result<Self, clap::Error> {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        let (args, notes) = aliases::expand(args, &|var| std::env::var(var).ok()).map_err(|e| {
            clap::Error::raw(clap::error::ErrorKind::ValueValidation, format!("{e:#}\n"))
        })?;
        for note in notes {
            eprintln!("kafka-gen: note: {note}");
        }
        Self::try_parse_from(subcommand_first(args))
    }
}

/// `args` with a subcommand that follows top-level flags moved to the front. The scan knows
/// which flags take a value from clap's own definitions, so a value such as
/// `--weights master=1` is never taken for a subcommand.
fn subcommand_first(args: Vec<OsString>) -> Vec<OsString> {
    let command = Cli::command();
    let mut i = 1;
    while let Some(token) = args.get(i).and_then(|t| t.to_str()) {
        if token == "--" {
            break;
        }
        if let Some(long) = token.strip_prefix("--") {
            let takes_value = !long.contains('=')
                && command.get_arguments().any(|a| {
                    let named = a.get_long() == Some(long)
                        || a.get_all_aliases()
                            .is_some_and(|names| names.contains(&long));
                    named && a.get_action().takes_values()
                });
            i += if takes_value { 2 } else { 1 };
            continue;
        }
        if token.starts_with('-') {
            i += 1;
            continue;
        }
        if i > 1 && command.find_subcommand(token).is_some() {
            let mut moved = vec![args[0].clone(), args[i].clone()];
            moved.extend(args[1..i].iter().cloned());
            moved.extend(args[i + 1..].iter().cloned());
            return moved;
        }
        break;
    }
    args
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate events (what `kafka-gen` with no command does).
    Run(RunArgs),
    /// Write master data (stores, products, customers) for a first run or a bigger world.
    Master(MasterArgs),
    /// List the scenarios with their master data, event types, default weights and topics.
    Scenarios,
    /// Serve events over HTTP: POST /stream/{scenario} answers NDJSON at the requested rate.
    Serve(ServeArgs),
    /// Print the effective configuration (defaults < file < environment < flags).
    Config(RunArgs),
    /// Consume the scenario's topics and check the data contract live
    Consume(ConsumeArgs),
    /// Serve the ingest API: POST /events validates events and produces them to Kafka.
    Ingest(IngestArgs),
    /// Send the Kafka events of a dead-letter file again (skips `unknown` ones by default)
    Replay(ReplayArgs),
    /// Check a world file and print what it defines (exit 2 with file:line:column if bad)
    Check(CheckArgs),
    /// Print a JSON Schema per event type of a world file (or, with --format, of the format)
    Schema(SchemaArgs),
    /// Run a world on the simulated clock as fast as it goes and say whether it stays steady:
    /// per period its type mix, refusals, state and payload fields, tested against the rest
    Soak(SoakArgs),
}
