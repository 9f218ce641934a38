//! kafka-gen: simulates a business and streams its events to Kafka, HTTP, files or stdout.
//!
//! # Layout
//! Data flows one way: config -> master data -> world state + schedule -> events -> sinks.
//!
//! - [`cli`]: command-line arguments (clap); nothing past `config::resolve` sees them.
//! - [`config`]: the thin root `Config` that assembles the components' own sections, merged
//!   from defaults, file, environment and flags, and set-by-path (`--conf a.b=v`).
//! - [`bounds`]: the ranges user numbers must fall in, and how errors print them.
//! - [`logging`]: the log format on stderr, and starting tracing.
//! - [`master`]: reading and writing master-data files (JSON or CSV) with precise errors.
//! - [`profile`]: the time-of-day and calendar intensity, and event times drawn from it.
//! - [`scenario`]: the scenario interface and lookup; `scenario::retail`, the default world,
//!   is the one in Rust; `music`, `tutoring`, `web` and `bnpl` are built-in world files.
//! - [`event`]: the encoded `Batch` sinks consume and the `EventWriter` that fills it.
//! - [`generator`]: weighted draws of primary event types, served by the scenario's world.
//! - [`schedule`]: `[schedule]`, and pacing (random gaps, or a rate limiter) on tokio's clock.
//! - [`progress`]: the progress bar of historical runs on a terminal.
//! - [`runner`]: the run loop on a live or simulated clock, shutdown and flushing.
//! - [`sinks`]: the `Sink` trait and one module per sink.
//! - [`stats`]: live stats lines and the final summary.
//! - [`metrics`]: Prometheus metrics and `/health` (`--metrics-listen`).
//! - [`ingest`]: the ingest API service (`kafka-gen ingest`): HTTP in, Kafka out.
//! - [`report`]: the run summary as JSON (`--summary-json`).
//! - [`replay`]: `kafka-gen replay`, sending a dead-letter file's events again.
//! - [`consume`]: `kafka-gen consume`, the consumer that checks the data contract live.
//! - [`serve`]: the streaming HTTP API (`kafka-gen serve`).
//! - [`soak`]: `kafka-gen soak`, a long run on the simulated clock tested for drift.
//! - [`app`]: what each subcommand does.
//! - [`signals`]: SIGINT/SIGTERM as a clean stop, shared by every long-running command.
//! - [`exit`]: exit codes, and the `BadInput` mark that makes an error exit 2.
//! - [`guard`]: who may use an HTTP listener and how much: bearer tokens, per-client rates and
//!   concurrent requests, one middleware for the ingest API, `serve` and the metrics listener.
//! - [`listen`]: the HTTP listeners' side: binding a port (a busy port fails the run, a bad one
//!   is bad input), TLS with its reload, and the one accept loop that serves them all.
//! - [`timefmt`]: fast RFC 3339 formatting for event times.
//! - [`worldfile`]: worlds described in a YAML file (`--world FILE`, or a shipped one by name),
//!   compiled and run through the same scenario interface.

pub mod app;
pub mod bounds;
pub mod cli;
pub mod config;
pub mod consume;
pub mod event;
pub mod exit;
pub mod generator;
pub mod guard;
pub mod ingest;
pub mod listen;
pub mod logging;
pub mod master;
pub mod metrics;
pub mod profile;
pub mod progress;
pub mod replay;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod schedule;
pub mod serve;
pub mod signals;
pub mod sinks;
pub mod soak;
pub mod stats;
pub mod timefmt;
pub mod worldfile;

/// The random number generator behind every draw: small, fast, and the same on every platform
/// for a given seed, which the golden-file tests rely on.
pub type SimRng = rand_xoshiro::Xoshiro256PlusPlus;
