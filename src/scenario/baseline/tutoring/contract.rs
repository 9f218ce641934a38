//! The tutoring data contract as checks over the stream:
//!
//! 1. Every `student_id` and `tutor_id` is in the master data; subjects and regions are known,
//!    a session's subject is one its tutor teaches and its region the student's; no
//!    `event_id` repeats.
//! 2. A `session_completed` follows a `session_started` of the same session, student, tutor and
//!    subject (`caused_by` is its event id), exactly `duration_minutes` later (1 to 1440), with
//!    a rating of 3 to 5. A student and a tutor are each in at most one open session.
//! 3. A `customer_health_update` reflects the student's history so far: its counts of
//!    successful and failed sessions and unresolved calls, `health_score` derived from them
//!    (see `events::History`, always 60 to 100) and `churn_risk` from the score.
//! 4. A tutor's status is `in_session` exactly while the tutor has an open session;
//!    `available_tutors` counts the free tutors of the subject and `supply_score` is
//!    100 * free / teaching.
//! 5. Each stream's `stream_seq` counts 1, 2, 3, ...; event times never decrease per key.
//!
//! Rules 2-5 that need the history apply when the stream is replayed from its start.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::events::{churn_risk, History};
use super::master::MasterData;
use super::{REGIONS, SUBJECTS};
use crate::scenario::util::{ids, time_ms, Ledger};
use crate::scenario::{ContractChecker, Violation};

struct Open {
    student: String,
    tutor: String,
    subject: String,
    started_ms: i64,
    started_event: String,
}

pub struct Checker {
    ledger: Ledger,
    from_start: bool,
    students: HashMap<String, String>,
    tutors: HashMap<String, HashSet<String>>,
    teaching: HashMap<String, u64>,
    tutor_ids: HashSet<String>,
    history: HashMap<String, History>,
    open: HashMap<String, Open>,
    student_busy: HashSet<String>,
    tutor_busy: HashSet<String>,
    streams: HashMap<u64, u64>,
}

impl Checker {
    pub fn new(data: &MasterData, from_start: bool) -> Self {
        let tutors: HashMap<String, HashSet<String>> = data
            .tutors
            .iter()
            .map(|t| (t.tutor_id.clone(), t.teaches().map(String::from).collect()))
            .collect();
        let mut teaching = HashMap::new();
        for subjects in tutors.values() {
            for s in subjects {
                *teaching.entry(s.clone()).or_default() += 1;
            }
        }
        Self {
            ledger: Ledger::default(),
            from_start,
            students: data
                .students
                .iter()
                .map(|s| (s.student_id.clone(), s.region.clone()))
                .collect(),
            tutor_ids: ids(&data.tutors, |t| &t.tutor_id),
            tutors,
            teaching,
            history: HashMap::new(),
            open: HashMap::new(),
            student_busy: HashSet::new(),
            tutor_busy: HashSet::new(),
            streams: HashMap::new(),
        }
    }

    fn student<'e>(&mut self, id: &str, e: &'e Value) -> Option<&'e str> {
        let s = e["student_id"].as_str();
        match s {
            Some(s) if self.students.contains_key(s) => Some(s),
            other => {
                self.ledger.fail(
                    id,
                    "unknown_reference",
                    format!("student_id {other:?} is not in the master data"),
                );
                None
            }
        }
    }

    fn stream(&mut self, id: &str, e: &Value) {
        let (Some(stream), Some(seq)) = (e["stream_id"].as_u64(), e["stream_seq"].as_u64()) else {
            return self
                .ledger
                .fail(id, "schema", "stream_id or stream_seq missing".into());
        };
        let last = self.streams.insert(stream, seq);
        let want = last.map(|l| l + 1).or(self.from_start.then_some(1));
        if want.is_some_and(|w| w != seq) {
            self.ledger.fail(
                id,
                "stream_seq",
                format!("stream {stream} seq {seq} follows {last:?}"),
            );
        }
    }

    fn started(&mut self, id: &str, e: &Value) {
        let Some(student) = self.student(id, e) else {
            return;
        };
        let Some(tutor) = self.ledger.reference(id, e, "tutor_id", &self.tutor_ids) else {
            return;
        };
        let subject = e["subject"].as_str().unwrap_or("");
        if !self.tutors[tutor].contains(subject) {
            self.ledger
                .fail(id, "subject", format!("{tutor} does not teach {subject:?}"));
        }
        if e["region"].as_str() != Some(self.students[student].as_str()) {
            self.ledger
                .fail(id, "region", format!("region is not {student}'s"));
        }
        if !self.student_busy.insert(student.into()) || !self.tutor_busy.insert(tutor.into()) {
            self.ledger.fail(
                id,
                "double_booked",
                format!("{student} or {tutor} is already in a session"),
            );
        }
        self.open.insert(
            e["session_id"].as_str().unwrap_or("").into(),
            Open {
                student: student.into(),
                tutor: tutor.into(),
                subject: subject.into(),
                started_ms: time_ms(&e["event_time"]).unwrap_or(0),
                started_event: id.into(),
            },
        );
    }

    fn completed(&mut self, id: &str, e: &Value) {
        let session = e["session_id"].as_str().unwrap_or("");
        let Some(open) = self.open.remove(session) else {
            if self.from_start {
                self.ledger.fail(
                    id,
                    "completion_without_start",
                    format!("session {session} never started"),
                );
            }
            return;
        };
        let l = &mut self.ledger;
        if e["student_id"] != open.student.as_str()
            || e["tutor_id"] != open.tutor.as_str()
            || e["subject"] != open.subject.as_str()
        {
            l.fail(
                id,
                "completion_mismatch",
                format!("session {session} completed with another student, tutor or subject"),
            );
        }
        if e["caused_by"] != open.started_event.as_str() {
            l.fail(
                id,
                "completion_mismatch",
                "caused_by is not the session_started event".into(),
            );
        }
        let minutes = e["duration_minutes"].as_i64().unwrap_or(-1);
        let elapsed = time_ms(&e["event_time"]).unwrap_or(0) - open.started_ms;
        if !(1..=1440).contains(&minutes) || elapsed != minutes * 60_000 {
            l.fail(
                id,
                "duration",
                format!("duration_minutes {minutes} but {elapsed} ms passed"),
            );
        }
        if !(3..=5).contains(&e["rating"].as_u64().unwrap_or(0)) {
            l.fail(id, "schema", "rating is not 3 to 5".into());
        }
        self.student_busy.remove(&open.student);
        self.tutor_busy.remove(&open.tutor);
        let h = self.history.entry(open.student).or_default();
        match e["completed_successfully"].as_bool() {
            Some(true) => h.sessions_succeeded += 1,
            Some(false) => h.sessions_failed += 1,
            None => l.fail(
                id,
                "schema",
                "completed_successfully is not a boolean".into(),
            ),
        }
    }

    fn call(&mut self, id: &str, e: &Value) {
        let Some(student) = self.student(id, e) else {
            return;
        };
        let h = self.history.entry(student.into()).or_default();
        match e["resolved"].as_bool() {
            Some(true) => h.calls_resolved += 1,
            Some(false) => h.calls_unresolved += 1,
            None => self
                .ledger
                .fail(id, "schema", "resolved is not a boolean".into()),
        }
    }

    fn health(&mut self, id: &str, e: &Value) {
        let Some(student) = self.student(id, e) else {
            return;
        };
        let score = e["health_score"].as_u64().unwrap_or(0) as u32;
        if !(60..=100).contains(&score) || e["churn_risk"] != churn_risk(score) {
            self.ledger.fail(
                id,
                "health",
                format!("health_score {score} or its churn_risk is off"),
            );
        }
        if !self.from_start {
            return;
        }
        let h = self.history.get(student).copied().unwrap_or_default();
        let n = |f: &str| e[f].as_u64().unwrap_or(u64::MAX);
        let counts = (
            n("sessions_succeeded"),
            n("sessions_failed"),
            n("calls_unresolved"),
        );
        let want = (
            h.sessions_succeeded.into(),
            h.sessions_failed.into(),
            h.calls_unresolved.into(),
        );
        if counts != want || score != h.health_score() {
            self.ledger.fail(
                id,
                "health",
                format!(
                    "{student}: {counts:?} score {score}, history says {want:?} score {}",
                    h.health_score()
                ),
            );
        }
    }

    fn availability(&mut self, id: &str, e: &Value) {
        let Some(tutor) = self.ledger.reference(id, e, "tutor_id", &self.tutor_ids) else {
            return;
        };
        let status = e["status"].as_str().unwrap_or("");
        let busy = self.tutor_busy.contains(tutor);
        let ok = match status {
            "in_session" => busy || !self.from_start,
            "available" | "offline" => !busy,
            _ => false,
        };
        if !ok {
            self.ledger.fail(
                id,
                "availability",
                format!("{tutor} is {status:?} while busy = {busy}"),
            );
        }
    }

    fn supply(&mut self, id: &str, e: &Value) {
        let subject = e["subject"].as_str().unwrap_or("");
        if !REGIONS.contains(&e["region"].as_str().unwrap_or("")) || !SUBJECTS.contains(&subject) {
            return self
                .ledger
                .fail(id, "schema", "unknown region or subject".into());
        }
        if !(0..=100).contains(&e["demand_score"].as_u64().unwrap_or(999)) {
            self.ledger
                .fail(id, "schema", "demand_score is not 0 to 100".into());
        }
        if !self.from_start {
            return;
        }
        let teaching = self.teaching.get(subject).copied().unwrap_or(0);
        let busy = self
            .tutor_busy
            .iter()
            .filter(|t| self.tutors[*t].contains(subject))
            .count() as u64;
        let free = teaching - busy;
        let supply = (100 * free).checked_div(teaching).unwrap_or(0);
        if e["available_tutors"] != free || e["supply_score"] != supply {
            self.ledger.fail(
                id,
                "supply",
                format!(
                    "{subject}: {free} free tutors, supply {supply}; event says {} / {}",
                    e["available_tutors"], e["supply_score"]
                ),
            );
        }
    }
}

impl ContractChecker for Checker {
    fn check(&mut self, event: &Value) -> usize {
        let before = self.ledger.violations.len();
        let (id, ty) = self.ledger.begin("tutoring", event);
        self.stream(&id, event);
        let key = ["student_id", "tutor_id", "region"]
            .into_iter()
            .find_map(|k| event[k].as_str());
        if let Some(key) = key {
            self.ledger.in_order(&id, key, event);
        }
        match ty {
            "session_started" => self.started(&id, event),
            "session_completed" => self.completed(&id, event),
            "ib_call_logged" => self.call(&id, event),
            "customer_health_update" => self.health(&id, event),
            "tutor_availability_updated" => self.availability(&id, event),
            "supply_demand_update" => self.supply(&id, event),
            other => self
                .ledger
                .fail(&id, "schema", format!("unknown event_type {other:?}")),
        }
        self.ledger.violations.len() - before
    }

    fn finish(&mut self) {}

    fn violations(&self) -> &[Violation] {
        &self.ledger.violations
    }

    fn take_violations(&mut self) -> Vec<Violation> {
        std::mem::take(&mut self.ledger.violations)
    }
}
