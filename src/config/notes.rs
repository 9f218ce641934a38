//! What resolving the configuration tells the user once logging is up.

use std::path::PathBuf;

use super::DEFAULT_CONFIG_PATH;

/// Something resolving found that the user should hear about once logging is up: which file
/// was read, which alias was used, which pace was chosen. Issue 10 found each of them silent.
#[derive(Debug, Clone, PartialEq)]
pub enum Note {
    /// This config file was read.
    Loaded(PathBuf),
    /// No config file was named and the default one is missing: built-in defaults.
    NoFile,
    /// `KAFKA_BOOTSTRAP_SERVERS` (the name other Kafka tools use) was taken as
    /// `KAFKA_GEN_BOOTSTRAP_SERVERS`; `used` is false when the latter was set too and won.
    BootstrapAlias { used: bool },
    /// A `count` with no pacing: posted as fast as the sinks take events, on a simulated clock
    /// whose event times keep the drawn gaps and end now.
    FastCount,
    /// The world file's own pace was used, as described.
    WorldPace(String),
    /// A world file's environment alias was read (or lost to the variable it stands for).
    WorldAlias(String),
}

impl Note {
    /// Logs the note at info level (a warning for an alias that lost).
    pub fn log(&self) {
        match self {
            Note::Loaded(path) => tracing::info!(path = %path.display(), "Loaded config file."),
            Note::NoFile => tracing::info!(
                default = DEFAULT_CONFIG_PATH,
                "No config file found; using the built-in defaults (--config PATH names one)."
            ),
            Note::BootstrapAlias { used: true } => {
                tracing::info!("Using KAFKA_BOOTSTRAP_SERVERS as KAFKA_GEN_BOOTSTRAP_SERVERS.")
            }
            Note::BootstrapAlias { used: false } => tracing::warn!(
                "Ignoring KAFKA_BOOTSTRAP_SERVERS: KAFKA_GEN_BOOTSTRAP_SERVERS is set and wins."
            ),
            Note::WorldAlias(what) => tracing::info!("{what}"),
            Note::WorldPace(what) => {
                tracing::info!("Pace of the world file (give a pacing flag to change it): {what}.")
            }
            Note::FastCount => tracing::info!(
                "A count with no pacing: posting as fast as the sinks take events, with event \
                 times spaced by the drawn gaps and ending now. Pass --min-delta/--max-delta, \
                 --rate or --duration for a live pace."
            ),
        }
    }
}
