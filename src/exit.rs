//! Exit codes: 0 for a clean run, 1 when the run failed (a sink could not deliver, a runtime
//! error), 2 for bad input. An error is bad input only when it is marked so with
//! [`BadInputExt::bad_input`]; anything else that reaches `main` is a failure of the run.
//!
//! Bad input is what the user wrote: a flag, a config value, master data, a scenario name, an
//! output path. What the surroundings do is a failure of the run, even at start-up: a broker
//! that does not answer, a port another process holds. Such an error is marked with
//! [`RunFailedExt::run_failed`] where it arises, and a later `bad_input()` around a whole
//! start-up step leaves it a failure.

use std::fmt;
use std::process::ExitCode;

/// The run failed.
pub const FAILED: u8 = 1;
/// What the user gave was wrong (a flag, a config value, a file, a scenario); nothing ran.
pub const BAD_INPUT: u8 = 2;

/// Marks an error as caused by the user's input.
#[derive(Debug)]
pub struct BadInput(pub anyhow::Error);

impl fmt::Display for BadInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl std::error::Error for BadInput {}

/// Marks an error as a failure of the run that no change to the input would fix (an
/// unreachable broker, a port in use); it exits 1 even inside a start-up step marked bad input.
#[derive(Debug)]
pub struct RunFailed(pub anyhow::Error);

impl fmt::Display for RunFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl std::error::Error for RunFailed {}

/// `.bad_input()` on a result marks its error as bad input, unless it is already marked as a
/// failure of the run.
pub trait BadInputExt<T> {
    fn bad_input(self) -> anyhow::Result<T>;
}

impl<T, E: Into<anyhow::Error>> BadInputExt<T> for Result<T, E> {
    fn bad_input(self) -> anyhow::Result<T> {
        self.map_err(|e| {
            let e = e.into();
            if is_run_failure(&e) {
                e
            } else {
                anyhow::Error::new(BadInput(e))
            }
        })
    }
}

/// `.run_failed()` on a result marks its error as a failure of the run.
pub trait RunFailedExt<T> {
    fn run_failed(self) -> anyhow::Result<T>;
}

impl<T, E: Into<anyhow::Error>> RunFailedExt<T> for Result<T, E> {
    fn run_failed(self) -> anyhow::Result<T> {
        self.map_err(|e| anyhow::Error::new(RunFailed(e.into())))
    }
}

fn is_run_failure(error: &anyhow::Error) -> bool {
    error.chain().any(|e| e.is::<RunFailed>())
}

/// The exit code for an error that reached `main`.
pub fn code_for(error: &anyhow::Error) -> ExitCode {
    if !is_run_failure(error) && error.chain().any(|e| e.is::<BadInput>()) {
        ExitCode::from(BAD_INPUT)
    } else {
        ExitCode::from(FAILED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn only_marked_errors_are_bad_input() {
        let bad: anyhow::Result<()> = Err(anyhow::anyhow!("--rate is -1")).bad_input();
        let bad = bad.unwrap_err().context("while starting");
        assert_eq!(code_for(&bad), ExitCode::from(BAD_INPUT));
        assert_eq!(format!("{bad:#}"), "while starting: --rate is -1");
        let failed = anyhow::anyhow!("the broker went away");
        assert_eq!(code_for(&failed), ExitCode::from(FAILED));
    }

    #[test]
    fn a_run_failure_stays_one_inside_a_bad_input_step() {
        let unreachable: anyhow::Result<()> =
            Err(anyhow::anyhow!("cannot reach Kafka")).run_failed();
        let step = unreachable.context("connecting").bad_input();
        let error = step.unwrap_err().context("while starting");
        assert_eq!(code_for(&error), ExitCode::from(FAILED));
        assert_eq!(
            format!("{error:#}"),
            "while starting: connecting: cannot reach Kafka"
        );
    }
}
