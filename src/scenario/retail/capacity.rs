//! What the chain's stores could plausibly sell, against the pace a run asks for (issue 12).
//! Above it, shelves empty faster than restocks arrive (lead times are event time), so the run
//! says so once at start-up and names the number of stores that would carry the pace.

use super::master::MasterData;
use super::RetailConfig;
use crate::schedule::ScheduleConfig;

/// Sales a square metre of floor rings up in an open hour: a 2,000 m² store makes 100.
pub const SALES_PER_SQM_HOUR: f64 = 0.05;
/// Share of sales made in store while every store is open (`clock.rs`).
const IN_STORE_SHARE: f64 = 0.7;
/// Mean units of one sale line (quantities 1-4 weighted 45/30/15/10).
const UNITS_PER_LINE: f64 = 1.9;

/// Primary events per second of event time the stores could carry with the sale weight
/// `sale_weight`: the smaller of what their tills ring up in opening hours and what their
/// shelves hold per restock lead time. `None` without stores or without sales.
pub fn plausible_rate(data: &MasterData, cfg: &RetailConfig, sale_weight: f64) -> Option<f64> {
    if sale_weight <= 0.0 || data.stores.is_empty() {
        return None;
    }
    let week_secs = 7.0 * 86_400.0;
    let tills: f64 = data
        .stores
        .iter()
        .filter_map(|s| {
            s.calendar()
                .ok()
                .map(|c| (s.size_sqm, c.week.open_minutes()))
        })
        .map(|(sqm, minutes)| f64::from(sqm) * SALES_PER_SQM_HOUR * f64::from(minutes) / 60.0)
        .sum::<f64>()
        / week_secs
        / IN_STORE_SHARE;
    let n = f64::from(cfg.max_line_items);
    // Lines per sale are weighted n, n-1, .., 1: their mean is (n + 2) / 3.
    let units_per_sale = (n + 2.0) / 3.0 * UNITS_PER_LINE;
    let shelf_units: f64 = data.products.iter().map(|p| f64::from(p.max_stock)).sum();
    let lead_secs = ((cfg.restock_lead_min_secs + cfg.restock_lead_max_secs) / 2.0).max(1.0);
    let shelves = shelf_units * data.stores.len() as f64 / lead_secs / units_per_sale;
    Some(tills.min(shelves) / sale_weight)
}

/// Primary events per second of event time the run's schedule asks for, on average.
pub fn requested_rate(s: &ScheduleConfig, range: (Option<i64>, Option<i64>)) -> f64 {
    if let Some(per_day) = s.events_per_day {
        return per_day / 86_400.0;
    }
    if let ((Some(start), Some(end)), Some(count)) = (range, s.count) {
        return count as f64 / ((end - start) as f64 / 1000.0).max(1e-3);
    }
    match s.rate_per_sec {
        Some(rate) => rate,
        None => 2.0 / (s.min_delta_secs + s.max_delta_secs).max(1e-9),
    }
}

/// The warning for a pace above the plausible one, with the stores that would carry it.
pub fn warning(data: &MasterData, requested: f64, plausible: f64) -> Option<String> {
    if requested <= plausible {
        return None;
    }
    let stores = data.stores.len();
    let needed = (stores as f64 * requested / plausible).ceil().min(1e12) as u64;
    Some(format!(
        "the requested pace, {requested:.3} primary events a second of event time, is more than \
         {stores} stores can plausibly sell (about {plausible:.3} a second, from their floor \
         area, opening hours and shelf stock): shelves will empty faster than restocks arrive. \
         For this pace generate {needed} stores (kafka-gen master --stores {needed} --out DIR, \
         then --data-dir DIR; at most 100000), or lower the pace"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SimRng;
    use rand::SeedableRng;

    #[test]
    fn the_default_pace_is_plausible_and_a_high_rate_is_not() {
        let data = MasterData::generate(&mut SimRng::seed_from_u64(1), 50, 500, 10);
        let plausible = plausible_rate(&data, &RetailConfig::default(), 0.5).unwrap();
        // 50 stores of ~3,200 m² open ~93 hours a week: roughly 3 primary events a second.
        assert!((1.0..10.0).contains(&plausible), "{plausible}");
        let mut schedule = ScheduleConfig::default();
        let default = requested_rate(&schedule, (None, None));
        assert!((default - 1.0 / 35.0).abs() < 1e-9);
        assert!(warning(&data, default, plausible).is_none());
        schedule.rate_per_sec = Some(500.0);
        let w = warning(&data, requested_rate(&schedule, (None, None)), plausible).unwrap();
        assert!(
            w.contains("more than 50 stores") && w.contains("kafka-gen master --stores"),
            "{w}"
        );
        schedule.rate_per_sec = None;
        schedule.count = Some(86_400);
        assert!((requested_rate(&schedule, (Some(0), Some(86_400_000))) - 1.0).abs() < 1e-9);
    }
}
