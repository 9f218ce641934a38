//! Issue 30: the listeners' limits and tokens are checked at start-up like every other input:
//! a limit out of its range, an empty or malformed token file or variable, each exits 2 naming
//! the value and the range, or the file and line; never quoting a token.

use std::process::Command;

use super::common::{kafka_gen_bin, stderr};
use super::{expect_bad, write};

#[test]
fn serve_limits_out_of_range_exit_2_naming_value_and_range() {
    let cases: [(&[&str], &[&str]); 7] = [
        (
            &["--max-streams", "0"],
            &["max streams is 0; it must be 1 to 10000", "--max-streams"],
        ),
        (
            &["--max-streams-per-client", "20000"],
            &["max streams per client is 20000"],
        ),
        (
            &["--max-rate", "5000"],
            &["max rate is 5e3; it must be 0.1 to 1e3", "--max-rate"],
        ),
        (
            &["--max-total", "0"],
            &["max total is 0; it must be 1 to 1000000"],
        ),
        (
            &["--max-body-bytes", "10"],
            &["max body bytes is 10; it must be 1024 to 16777216"],
        ),
        (
            &["--client-requests-per-sec", "-1"],
            &[
                "--client-requests-per-sec is -1",
                "0.01 to 1e6",
                "or 0 for no limit",
            ],
        ),
        (
            &["--max-concurrent-requests", "0"],
            &["--max-concurrent-requests is 0; it must be 1 to 10000"],
        ),
    ];
    for (args, needles) in cases {
        expect_bad(&[&["serve"][..], args].concat(), needles);
    }
}

#[test]
fn listener_sections_of_the_config_file_are_range_checked() {
    let dir = tempfile::tempdir().unwrap();
    let ingest = write(
        dir.path(),
        "i.toml",
        "[ingest]\nclient_requests_per_sec = 2e6\n",
    );
    expect_bad(
        &["--config", &ingest],
        &[
            "ingest.client_requests_per_sec is 2e6",
            "config file [ingest]",
        ],
    );
    let metrics = write(dir.path(), "m.toml", "[metrics]\nclient_burst = 0\n");
    expect_bad(
        &["--config", &metrics],
        &["metrics.client_burst is 0; it must be 1 to 1000000"],
    );
    let typo = write(dir.path(), "a.toml", "[auth]\ntokens = [\"x\"]\n");
    expect_bad(&["--config", &typo], &["unknown field `tokens`"]);
}

#[test]
fn bad_tokens_exit_2_naming_where_they_are_never_what() {
    let dir = tempfile::tempdir().unwrap();
    let empty = write(dir.path(), "empty", "# nothing yet\n\n");
    let secret = "hunter2hunter2hunter2 oops";
    let bad = write(
        dir.path(),
        "bad",
        &format!("0123456789abcdef0123\n{secret}\n"),
    );
    let missing = dir.path().join("missing").display().to_string();
    // Each listener reads the file as it starts: serve, ingest, and a run's metrics listener.
    let metrics = [
        "--sink",
        "null",
        "--count",
        "1",
        "--metrics-listen",
        "127.0.0.1:0",
    ];
    expect_bad(
        &["serve", "--auth-token-file", &empty],
        &[&empty, "holds no token"],
    );
    let ingest = ["ingest", "--listen", "127.0.0.1:0", "--auth-token-file"];
    expect_bad(
        &[&ingest[..], &[&bad]].concat(),
        &[&format!("{bad}, line 2: not a token")],
    );
    expect_bad(
        &[&ingest[..], &[&missing]].concat(),
        &["cannot read auth token file", &missing],
    );
    expect_bad(
        &[&metrics[..], &["--auth-token-file", &bad]].concat(),
        &["line 2"],
    );
    let out = super::common::kafka_gen(&["serve", "--auth-token-file", &bad]);
    assert!(!stderr(&out).contains("hunter2"), "{}", stderr(&out));

    for (value, needle) in [
        (" , ", "holds no token"),
        (secret, "KAFKA_GEN_AUTH_TOKENS, token 1: not a token"),
    ] {
        for command in [&["serve"][..], &metrics[..]] {
            let out = Command::new(kafka_gen_bin())
                .args(command)
                .env("KAFKA_GEN_AUTH_TOKENS", value)
                .env_remove("RUST_LOG")
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .output()
                .unwrap();
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{command:?}: {err}");
            assert!(
                err.contains(needle) && !err.contains("hunter2"),
                "{command:?}: {err}"
            );
        }
    }
}
