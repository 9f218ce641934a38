//! Exit codes: 0 for a clean run, 1 when the run failed (a sink could not deliver, a runtime
//! error), 2 for bad input. An error is bad input only when it is marked so with
//! [`BadInputExt::bad_input`]; anything else that reaches `main` is a failure of the run.

use std::fmt;
use std::process::ExitCode;

/// The run failed.
pub const FAILED: u8 = 1;
/// What the user gave was wrong (a flag, a config value, a file, an unreachable broker at
/// start-up); nothing ran.
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

/// `.bad_input()` on a result marks its error as bad input.
pub trait BadInputExt<T> {
    fn bad_input(self) -> anyhow::Result<T>;
}

impl<T, E: Into<anyhow::Error>> BadInputExt<T> for Result<T, E> {
    fn bad_input(self) -> anyhow::Result<T> {
        self.map_err(|e| anyhow::Error::new(BadInput(e.into())))
    }
}

/// The exit code for an error that reached `main`.
pub fn code_for(error: &anyhow::Error) -> ExitCode {
    if error.chain().any(|e| e.is::<BadInput>()) {
        ExitCode::from(BAD_INPUT)
    } else {
        ExitCode::from(FAILED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_marked_errors_are_bad_input() {
        let bad: anyhow::Result<()> = Err(anyhow::anyhow!("--rate is -1")).bad_input();
        let bad = bad.unwrap_err().context("while starting");
        assert_eq!(code_for(&bad), ExitCode::from(BAD_INPUT));
        assert_eq!(format!("{bad:#}"), "while starting: --rate is -1");
        let failed = anyhow::anyhow!("the broker went away");
        assert_eq!(code_for(&failed), ExitCode::from(FAILED));
    }
}
