//! A compiled world file served as a [`Scenario`]: its names leaked for the process, its
//! profile and pace defaults, and its master data, contract checker and running world.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::model::Model;
use super::{contract, expr, master, pace, runtime};
use crate::exit::BadInputExt;
use crate::scenario::{
    ContractChecker, EventTypeId, EventTypeSpec, Master as AnyMaster, MasterKind, Scenario, World,
};
use crate::SimRng;

/// A world file as a [`Scenario`]. Lives for the process (its names are `&'static`).
pub struct FileScenario {
    pub model: Arc<Model>,
    pub(super) name: &'static str,
    description: &'static str,
    specs: &'static [EventTypeSpec],
    kinds: &'static [MasterKind],
    profile: crate::profile::ProfileDefaults,
    /// The directory of its default data directory `<data_root>/<name>`: `data/worlds` for a
    /// file given by path, `data` for a shipped one.
    pub(super) data_root: PathBuf,
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

impl FileScenario {
    pub fn new(model: Model) -> Self {
        let specs: Vec<EventTypeSpec> = model
            .events
            .iter()
            .map(|e| EventTypeSpec {
                name: leak(&e.name),
                default_weight: e.weight,
                default_topic: leak(&e.topic),
                key_field: leak(&e.key_field),
            })
            .collect();
        let kinds: Vec<MasterKind> = model
            .kinds
            .iter()
            .map(|k| MasterKind {
                name: leak(&k.name),
                default_count: k.count,
                max_count: 10_000_000,
            })
            .collect();
        let base = crate::profile::RETAIL_PROFILE;
        let holidays: Vec<(&'static str, f64)> =
            model.holidays.iter().map(|(h, m)| (leak(h), *m)).collect();
        let profile = crate::profile::ProfileDefaults {
            hourly: model.hourly.unwrap_or(base.hourly),
            weekend_multiplier: model.weekend_multiplier.unwrap_or(base.weekend_multiplier),
            holiday_multipliers: Box::leak(holidays.into_boxed_slice()),
        };
        Self {
            name: leak(&model.name),
            description: leak(&model.description),
            specs: Box::leak(specs.into_boxed_slice()),
            kinds: Box::leak(kinds.into_boxed_slice()),
            profile,
            data_root: Path::new("data").join("worlds"),
            model: Arc::new(model),
        }
    }

    /// The master data of `dir`, or made in memory when `dir` does not exist.
    pub fn master_data(&self, dir: &Path) -> anyhow::Result<Arc<expr::Master>> {
        let (m, made) = master::load_or_generate(&self.model, dir).bad_input()?;
        if made {
            tracing::info!(
                world = self.name,
                "no master data in {}; made it in memory from master_seed {} (write it with `kafka-gen master --world FILE`)",
                dir.display(),
                self.model.master_seed
            );
        }
        Ok(Arc::new(m))
    }
}

impl Scenario for FileScenario {
    fn name(&self) -> &'static str {
        self.name
    }

    fn description(&self) -> &'static str {
        self.description
    }

    fn event_types(&self) -> &'static [EventTypeSpec] {
        self.specs
    }

    fn default_profile(&self) -> crate::profile::ProfileDefaults {
        self.profile
    }

    fn default_pace(&self) -> pace::Pace {
        self.model.pace
    }

    fn checker(
        &self,
        data_dir: &Path,
        from_start: bool,
    ) -> anyhow::Result<Box<dyn ContractChecker>> {
        let master = self.master_data(data_dir)?;
        Ok(Box::new(contract::Checker::new(
            Arc::clone(&self.model),
            master,
            self.name,
            from_start,
        )))
    }

    fn clocked(&self, t: EventTypeId) -> Option<String> {
        let ev = self.model.events.get(t as usize)?;
        let per = ev.per.as_ref()?;
        let kind = &self.model.kinds[per.kind as usize].name;
        Some(format!(
            "{} runs on each of the {kind}' own clocks",
            ev.name
        ))
    }

    fn follow_only(&self, t: EventTypeId) -> Option<String> {
        let ev = self.model.events.get(t as usize)?;
        let own = ev.picks.len() + ev.lets.len();
        let given: Vec<&str> = ev.locals[own..]
            .iter()
            .enumerate()
            .filter(|(i, _)| ev.occurrence != Some((own + i) as u16))
            .map(|(_, (n, _))| n.as_str())
            .collect();
        let first = given.first()?;
        let causes: Vec<&str> = ev
            .causes
            .iter()
            .map(|&c| self.model.events[c as usize].name.as_str())
            .collect();
        Some(format!(
            "{} uses `{first}`, which only its cause ({}) gives",
            ev.name,
            causes.join(", ")
        ))
    }

    fn validate_event(&self, event: &serde_json::Value) -> Result<EventTypeId, String> {
        contract::validate(&self.model, self.name, None, event)
    }

    fn master_kinds(&self) -> &'static [MasterKind] {
        self.kinds
    }

    /// `data/<name>` for a shipped world (`data/music`); `data/worlds/<name>` for a file given
    /// by path, so that a copy of a shipped world edited elsewhere does not read its data.
    fn default_data_dir(&self) -> PathBuf {
        self.data_root.join(self.name)
    }

    fn master_seed(&self) -> u64 {
        self.model.master_seed
    }

    fn check_sizes(&self, sizes: &[usize]) -> anyhow::Result<()> {
        for (kind, &n) in self.model.kinds.iter().zip(sizes) {
            let Some((param, lo, hi)) = &kind.count_param else {
                continue;
            };
            let n = n as f64;
            if lo.is_some_and(|lo| n < lo) || hi.is_some_and(|hi| n > hi) {
                let range = match (lo, hi) {
                    (Some(lo), Some(hi)) => format!("{lo} to {hi}"),
                    (Some(lo), None) => format!("at least {lo}"),
                    (None, Some(hi)) => format!("at most {hi}"),
                    (None, None) => unreachable!("the test above holds only when lo or hi is set"),
                };
                anyhow::bail!(
                    "--size: {n} {} is out of range: {} counts them by the parameter {param}, \
                     which allows {range}; give a count in that range",
                    kind.name,
                    self.name
                );
            }
        }
        Ok(())
    }

    fn write_master(
        &self,
        rng: &mut SimRng,
        sizes: &[usize],
        dir: &Path,
        format: crate::master::Format,
    ) -> anyhow::Result<Vec<PathBuf>> {
        let sizes: Vec<Option<usize>> = sizes.iter().map(|s| Some(*s)).collect();
        let m = master::generate(&self.model, rng, &sizes)?;
        master::write(&self.model, &m, dir, format)
    }

    fn load_master(&self, data_dir: &Path) -> anyhow::Result<AnyMaster> {
        Ok(AnyMaster::new(self.master_data(data_dir)?))
    }

    fn world_from(
        &self,
        master: &AnyMaster,
        section: &crate::scenario::WorldSection,
    ) -> anyhow::Result<Box<dyn World>> {
        use rand::SeedableRng;
        let m: &Arc<expr::Master> = master.get()?;
        for c in &self.model.capacity {
            let have = m.kinds.get(c.kind).map_or(0, |k| k.ids.len());
            if let Some(w) = c.warning(self.name, section.requested_rate, have) {
                tracing::warn!("World pace: {w}.");
            }
        }
        // State starts from its own seed, so the same --seed gives the same world.
        let seed = section.seed.unwrap_or(self.model.master_seed) ^ 0x5eed_57a7e;
        let mut rng = SimRng::seed_from_u64(seed);
        let names: Vec<&'static str> = self.specs.iter().map(|s| s.name).collect();
        Ok(Box::new(
            runtime::FileWorld::new(Arc::clone(&self.model), Arc::clone(m), names, &mut rng)?
                .with_weights(&section.weights),
        ))
    }
}
