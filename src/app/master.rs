//! `kafka-gen master`: how many records of each kind (`--size`, `--stores`...), where they go
//! (`--out`, or the scenario's own data with `--force`), and writing them.

use std::process::ExitCode;

use anyhow::Context;
use rand::SeedableRng;

use super::param_flags;
use crate::cli::MasterArgs;
use crate::exit::BadInputExt;
use crate::SimRng;

pub(super) fn master(args: &MasterArgs) -> anyhow::Result<ExitCode> {
    crate::worldfile::set_params(param_flags(&args.set).bad_input()?);
    let scenario =
        crate::scenario::find(args.scenario.as_deref().unwrap_or("retail")).bad_input()?;
    let sizes = master_sizes(scenario, args).bad_input()?;
    scenario.check_sizes(&sizes).bad_input()?;
    // Issue 10: with no --out this overwrote the shipped data without asking.
    let out = match (&args.out, args.force) {
        (Some(out), _) => out.clone(),
        (None, true) => scenario.default_data_dir(),
        (None, false) => {
            return Err(anyhow::anyhow!(
                "master would overwrite the {} master data in {}; pass --out DIR to write \
                 elsewhere, or --force to replace it",
                scenario.name(),
                scenario.default_data_dir().display()
            ))
            .bad_input()
        }
    };
    std::fs::create_dir_all(&out)
        .with_context(|| format!("cannot create {}; check --out", out.display()))
        .bad_input()?;
    let mut rng = SimRng::seed_from_u64(args.seed.unwrap_or_else(|| scenario.master_seed()));
    for path in scenario.write_master(&mut rng, &sizes, &out, args.format)? {
        tracing::info!(path = %path.display(), "Wrote master data.");
    }
    Ok(ExitCode::SUCCESS)
}

/// Record counts per master kind: the scenario's defaults, then `--stores`-style flags, then
/// `--size KIND=N,...`.
fn master_sizes(
    scenario: &dyn crate::scenario::Scenario,
    args: &MasterArgs,
) -> anyhow::Result<Vec<usize>> {
    let kinds = scenario.master_kinds();
    let mut sizes: Vec<usize> = kinds.iter().map(|k| k.default_count).collect();
    let known = || {
        let names: Vec<_> = kinds.iter().map(|k| k.name).collect();
        names.join(", ")
    };
    let mut set = |kind: &str, n: u64, flag: &str| -> anyhow::Result<()> {
        let Some(i) = kinds.iter().position(|k| k.name == kind) else {
            anyhow::bail!(
                "{flag}: scenario {} has no master data kind {kind:?}; it has: {}",
                scenario.name(),
                known()
            );
        };
        if n == 0 || n > kinds[i].max_count as u64 {
            anyhow::bail!(
                "{flag}: {n} {kind} is out of range; give 1 to {}",
                kinds[i].max_count
            );
        }
        sizes[i] = n as usize;
        Ok(())
    };
    for (kind, n) in [
        ("stores", args.stores),
        ("products", args.products),
        ("customers", args.customers),
    ] {
        if let Some(n) = n {
            set(kind, u64::from(n), &format!("--{kind}"))?;
        }
    }
    for part in args.size.iter().flat_map(|s| s.split(',')) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let parsed = part
            .split_once('=')
            .and_then(|(k, v)| Some((k.trim(), v.trim().parse::<u64>().ok()?)));
        let Some((kind, n)) = parsed else {
            anyhow::bail!("--size: {part:?} is not KIND=N; write e.g. songs=1000,users=5000");
        };
        set(kind, n, "--size")?;
    }
    Ok(sizes)
}
