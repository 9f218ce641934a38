//! `scripts/test.sh` builds Tansu in the background beside the lints and the test build. Its
//! EXIT trap (`stop_broker_build`, run here as the script has it) must stop that build when an
//! earlier step fails, and must leave the run's exit status as it is: a first version exited 1
//! after a green run, because `pkill` found nothing under `set -e`.

use std::process::Command;
use std::time::{Duration, Instant};

/// The trap's function, as `scripts/test.sh` defines it.
fn stop_broker_build() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/test.sh");
    let text = std::fs::read_to_string(path).expect("scripts/test.sh");
    let start = text
        .find("stop_broker_build() {")
        .expect("scripts/test.sh defines stop_broker_build");
    let len = text[start..].find("\n}\n").expect("the function's end") + 3;
    text[start..start + len].to_string()
}

/// Runs `body` under `set -euo pipefail` with `job` in the background as `$broker` and the
/// trap set, as the script does. Returns the exit code and standard error.
fn run(job: &str, body: &str) -> (i32, String) {
    let script = format!(
        "set -euo pipefail\n{job} &\nbroker=$!\n{}trap stop_broker_build EXIT\n{body}\n",
        stop_broker_build()
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .output()
        .expect("bash runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Whether a process whose command line is exactly `args` is running.
fn running(args: &str) -> bool {
    let out = Command::new("ps")
        .args(["-eo", "args"])
        .output()
        .expect("ps runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l.trim() == args)
}

#[test]
fn a_green_run_exits_0_after_the_build_has_finished() {
    // The build finished long before the end, and its pid may be another process's by then.
    let (code, err) = run(
        "bash -c 'true; true'",
        "wait \"$broker\"\nbroker=\"\"\ntrue",
    );
    assert_eq!(code, 0, "{err}");
    // Even had the script not cleared `broker`, the trap must not touch a finished job.
    let (code, err) = run("bash -c 'true; true'", "wait \"$broker\"\ntrue");
    assert_eq!(code, 0, "{err}");
}

#[test]
fn an_early_failure_stops_the_build_and_its_children() {
    // A stand-in for dev-broker.sh: a shell whose child does the long work. The duration
    // names this test's child uniquely.
    let child = format!("sleep 1000.{}", std::process::id());
    // Its output goes elsewhere, as the real build's goes to a log: an orphaned child holding
    // this test's pipes would hang it rather than fail it.
    let (code, err) = run(
        &format!("bash -c '{child}; true' >/dev/null 2>&1"),
        "sleep 0.2\nfalse",
    );
    assert_eq!(code, 1, "{err}");
    // SIGTERM is delivered at once; allow the child a moment to go.
    let deadline = Instant::now() + Duration::from_secs(5);
    while running(&child) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let left = running(&child);
    if left {
        let _ = Command::new("pkill").args(["-f", &child]).status();
    }
    assert!(!left, "the build's child ran on after the script stopped");
}

#[test]
fn a_failed_step_keeps_its_own_exit_status() {
    // The build failed (3), and `wait` under `set -e` ends the script with its status: the
    // trap, which then has no running build to stop, must leave that status as it is.
    let (code, err) = run("bash -c 'exit 3'", "wait \"$broker\"\ntrue");
    assert_eq!(code, 3, "{err}");
}
