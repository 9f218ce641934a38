//! A config file (`--config FILE`, the format of `config/generator.toml`), resolved as a run
//! resolves it, with no environment and no flags, then printed as `kafka-gen config` prints
//! it; what is printed must read back as a config file. Never a panic, a hang or a blow-up.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use kafka_gen::cli::{ConfigArgs, RunArgs};
use kafka_gen::config::{resolve_with_env, Config};
use libfuzzer_sys::fuzz_target;

/// The file the input is written to: one per process, so parallel jobs do not share it.
fn path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        std::env::temp_dir().join(format!("kafka-gen-fuzz-{}.toml", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| {
    let path = path();
    if std::fs::write(path, data).is_err() {
        return;
    }
    let args = RunArgs {
        config: ConfigArgs {
            config: Some(path.clone()),
            ..Default::default()
        },
        ..Default::default()
    };
    let Ok(config) = resolve_with_env(&args, Vec::new()) else {
        return;
    };
    let printed = config.to_toml().expect("a resolved config prints as TOML");
    if let Err(e) = toml::from_str::<Config>(&printed) {
        panic!("`kafka-gen config` printed what does not read back: {e}\n{printed}");
    }
});
