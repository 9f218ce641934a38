//! simtom's request fields that shape a stream beyond its rate (issue 29): the time profile's
//! `include_holiday_patterns` and `weekend_multiplier`, and `default_rate`, which sets the
//! world's parameter of that name (bnpl's BNPLConfig.default_rate) for this stream only.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::request::{in_range, invalid, number, Invalid, WEEKEND_MULTIPLIER};
use crate::profile::holidays::HOLIDAYS;
use crate::profile::{Profile, ProfileConfig};
use crate::scenario::Scenario;
use crate::worldfile::model::Model;
use crate::worldfile::FileScenario;

/// The stream's time profile: the scenario's own (a world file's `time:`), with the request's
/// weekend multiplier, and every holiday an ordinary day when `include_holiday_patterns` is
/// false. A world whose pace says `follow_profile: false` (bnpl's `seasonal_factor: false`)
/// streams flat, unless the request sets a weekend multiplier.
pub fn profile(scenario: &dyn Scenario, o: &Map<String, Value>) -> Result<Profile, Invalid> {
    let holidays = match o.get("include_holiday_patterns") {
        None | Some(Value::Null) | Some(Value::Bool(true)) => true,
        Some(Value::Bool(false)) => false,
        Some(v) => {
            return Err(invalid(
                "include_holiday_patterns",
                format!("include_holiday_patterns is {v}; it must be true or false"),
            ))
        }
    };
    let weekend = number(o, "weekend_multiplier")?;
    if let Some(w) = weekend {
        in_range(
            w,
            WEEKEND_MULTIPLIER,
            "weekend_multiplier",
            "times a weekday's pace",
        )?;
    }
    let flat = scenario.default_pace().follow_profile == Some(false);
    let mut config = ProfileConfig {
        weekend_multiplier: weekend.or(flat.then_some(1.0)),
        hourly: flat.then(|| vec![1.0; 24]),
        ..ProfileConfig::default()
    };
    if !holidays || flat {
        config.holidays = HOLIDAYS.iter().map(|h| (h.0.to_string(), 1.0)).collect();
    }
    Profile::new(&scenario.default_profile(), &config)
        .map_err(|e| invalid("weekend_multiplier", format!("{e:#}")))
}

/// The shipped or `--world` file behind `scenario`, if it is one.
fn file_scenario(scenario: &dyn Scenario) -> Option<&'static FileScenario> {
    let found = crate::worldfile::by_name(scenario.name())?;
    // The same object, not merely the same name (a `--world` file may share a shipped name).
    std::ptr::addr_eq(
        found as *const FileScenario,
        scenario as *const dyn Scenario,
    )
    .then_some(found)
}

/// The current value of the world's parameter `name`, if the world has it and it is a number.
pub fn param_default(scenario: &dyn Scenario, name: &str) -> Option<f64> {
    let fs = file_scenario(scenario)?;
    match fs.model.params.get(name)? {
        crate::worldfile::value::Value::Float(x) => Some(x.get()),
        crate::worldfile::value::Value::Int(i) => Some(*i as f64),
        _ => None,
    }
}

/// The world recompiled with the request's `default_rate`, or `None` when the request sets no
/// parameter. Every other parameter keeps the value the server started with, so the master
/// data loaded at start-up still fits. Out of the parameter's range is a 422 naming it.
pub fn params(
    scenario: &dyn Scenario,
    o: &Map<String, Value>,
) -> Result<Option<Arc<Model>>, Invalid> {
    const FIELD: &str = "default_rate";
    let Some(rate) = number(o, FIELD)? else {
        return Ok(None);
    };
    let name = scenario.name();
    let no_param = || {
        invalid(
            FIELD,
            format!("default_rate is {rate}, but the {name} world has no default_rate parameter (bnpl has); leave it out"),
        )
    };
    let fs = file_scenario(scenario).ok_or_else(no_param)?;
    if !fs.model.params.contains_key(FIELD) {
        return Err(no_param());
    }
    let mut overrides: BTreeMap<String, String> = (fs.model.params.iter())
        .map(|(k, v)| {
            let text = match v {
                crate::worldfile::value::Value::Str(s) => s.to_string(),
                v => v.to_string(),
            };
            (k.clone(), text)
        })
        .collect();
    overrides.insert(FIELD.into(), rate.to_string());
    let file = &fs.model.file;
    let text = match crate::worldfile::builtin::BUILTINS
        .iter()
        .find(|b| b.file == file.as_str())
    {
        Some(b) => std::borrow::Cow::Borrowed(b.text),
        None => std::fs::read_to_string(file)
            .map(std::borrow::Cow::Owned)
            .map_err(|e| {
                invalid(
                    FIELD,
                    format!("cannot read {file} again to set default_rate: {e}"),
                )
            })?,
    };
    let model = crate::worldfile::compile_text(file, &text, &overrides)
        .map_err(|e| invalid(FIELD, format!("default_rate is {rate}: {e}")))?;
    Ok(Some(Arc::new(model)))
}

/// The running world of `model` (the world recompiled with the request's parameters) over the
/// master data loaded at start-up, seeded as [`Scenario::world_from`] seeds a world file's.
pub fn world_from(
    model: &Arc<Model>,
    scenario: &dyn Scenario,
    master: &crate::scenario::Master,
    section: &crate::scenario::WorldSection,
) -> anyhow::Result<Box<dyn crate::scenario::World>> {
    use rand::SeedableRng;
    let m: &Arc<crate::worldfile::expr::Master> = master.get()?;
    let seed = section.seed.unwrap_or(model.master_seed) ^ 0x5eed_57a7e;
    let mut rng = crate::SimRng::seed_from_u64(seed);
    let names: Vec<&'static str> = scenario.event_types().iter().map(|s| s.name).collect();
    let world = crate::worldfile::runtime::FileWorld::new(
        Arc::clone(model),
        Arc::clone(m),
        names,
        &mut rng,
    )?;
    Ok(Box::new(world.with_weights(&section.weights)))
}
