//! The tutoring world: open sessions (a student and a tutor each in at most one), student
//! histories behind their health, tutors free per subject, and the streams. Each primary draw
//! picks a stream and emits that stream's next event; a session's completion falls due later
//! and continues the stream that started it.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand::RngExt;
use uuid::Uuid;

use super::events::*;
use super::master::MasterData;
use super::*;
use crate::event::EventWriter;
use crate::scenario::util::{envelope, pick, uuid};
use crate::scenario::{EventTypeId, World};
use crate::SimRng;

/// A session waiting to complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Open {
    due_ms: i64,
    /// Tie-breaker that keeps the heap's order deterministic.
    seq: u64,
    session: Uuid,
    started: Uuid,
    student: u32,
    tutor: u32,
    subject: u8,
    minutes: u32,
    stream: u32,
}

pub struct TutoringWorld {
    data: MasterData,
    cfg: TutoringConfig,
    history: Vec<History>,
    student_busy: Vec<bool>,
    tutor_busy: Vec<bool>,
    /// Tutors teaching each subject, and how many of them are free.
    teaching: Vec<Vec<u32>>,
    free: Vec<u32>,
    active: Vec<u32>,
    tutor_subjects: Vec<Vec<u8>>,
    open: BinaryHeap<Reverse<Open>>,
    opened: u64,
    streams: Vec<u64>,
}

impl TutoringWorld {
    pub fn new(data: MasterData, cfg: TutoringConfig, streams: u32) -> Self {
        let subject = |s: &str| SUBJECTS.iter().position(|x| *x == s).unwrap_or(0) as u8;
        let tutor_subjects: Vec<Vec<u8>> = data
            .tutors
            .iter()
            .map(|t| t.teaches().map(subject).collect())
            .collect();
        let mut teaching = vec![Vec::new(); SUBJECTS.len()];
        for (t, subjects) in tutor_subjects.iter().enumerate() {
            for &s in subjects {
                teaching[s as usize].push(t as u32);
            }
        }
        Self {
            free: teaching.iter().map(|t| t.len() as u32).collect(),
            active: vec![0; SUBJECTS.len()],
            teaching,
            tutor_subjects,
            history: vec![History::default(); data.students.len()],
            student_busy: vec![false; data.students.len()],
            tutor_busy: vec![false; data.tutors.len()],
            open: BinaryHeap::new(),
            opened: 0,
            streams: vec![0; streams.max(1) as usize],
            data,
            cfg,
        }
    }

    fn next_in(&mut self, stream: u32) -> Stream {
        self.streams[stream as usize] += 1;
        Stream {
            stream_id: stream + 1,
            stream_seq: self.streams[stream as usize],
        }
    }

    fn any_stream(&mut self, rng: &mut SimRng) -> Stream {
        let s = rng.random_range(0..self.streams.len()) as u32;
        self.next_in(s)
    }

    fn set_busy(&mut self, tutor: u32, busy: bool) {
        self.tutor_busy[tutor as usize] = busy;
        for &s in &self.tutor_subjects[tutor as usize] {
            if busy {
                self.free[s as usize] -= 1;
            } else {
                self.free[s as usize] += 1;
            }
        }
    }

    fn start(&mut self, rng: &mut SimRng, now_ms: i64, out: &mut EventWriter<'_>) -> bool {
        let n = self.data.students.len();
        let Some(student) = (0..16)
            .map(|_| rng.random_range(0..n))
            .find(|&s| !self.student_busy[s])
        else {
            return false;
        };
        let offered: Vec<usize> = (0..SUBJECTS.len()).filter(|&s| self.free[s] > 0).collect();
        if offered.is_empty() {
            return false;
        }
        let subject = offered[rng.random_range(0..offered.len())];
        let teachers = &self.teaching[subject];
        let from = rng.random_range(0..teachers.len());
        let Some(tutor) = (0..teachers.len())
            .map(|i| teachers[(from + i) % teachers.len()])
            .find(|&t| !self.tutor_busy[t as usize])
        else {
            return false;
        };
        self.set_busy(tutor, true);
        self.student_busy[student] = true;
        self.active[subject] += 1;
        let minutes = rng.random_range(self.cfg.session_minutes_min..=self.cfg.session_minutes_max);
        let stream = self.any_stream(rng);
        let stream_index = stream.stream_id - 1;
        let session = uuid(rng);
        let s = &self.data.students[student];
        let event = SessionStarted {
            stream,
            session_id: session,
            student_id: &s.student_id,
            tutor_id: &self.data.tutors[tutor as usize].tutor_id,
            subject: SUBJECTS[subject],
            region: &s.region,
        };
        let env = envelope(TYPES, SESSION_STARTED, now_ms, None, event.student_id);
        let started = out.emit(rng, env, &event);
        self.opened += 1;
        self.open.push(Reverse(Open {
            due_ms: now_ms + i64::from(minutes) * 60_000,
            seq: self.opened,
            session,
            started,
            student: student as u32,
            tutor,
            subject: subject as u8,
            minutes,
            stream: stream_index,
        }));
        true
    }

    fn call(&mut self, rng: &mut SimRng, now_ms: i64, out: &mut EventWriter<'_>) -> bool {
        let student = rng.random_range(0..self.data.students.len());
        let resolved = rng.random_bool(self.cfg.call_resolved_share);
        let h = &mut self.history[student];
        if resolved {
            h.calls_resolved += 1;
        } else {
            h.calls_unresolved += 1;
        }
        let event = CallLogged {
            stream: self.any_stream(rng),
            call_id: uuid(rng),
            student_id: &self.data.students[student].student_id,
            reason: pick(rng, CALL_REASONS),
            duration_seconds: rng.random_range(60..=1800),
            resolved,
        };
        let env = envelope(TYPES, CALL_LOGGED, now_ms, None, event.student_id);
        out.emit(rng, env, &event);
        true
    }

    fn availability(&mut self, rng: &mut SimRng, now_ms: i64, out: &mut EventWriter<'_>) -> bool {
        let tutor = rng.random_range(0..self.data.tutors.len());
        let status = match self.tutor_busy[tutor] {
            true => "in_session",
            false => pick(rng, &[("available", 80), ("offline", 20)]),
        };
        let stream = self.any_stream(rng);
        let t = &self.data.tutors[tutor];
        let event = AvailabilityUpdated {
            stream,
            tutor_id: &t.tutor_id,
            status,
            weekly_hours: rng.random_range(5..=40),
            timezone: &t.timezone,
        };
        let env = envelope(TYPES, AVAILABILITY_UPDATED, now_ms, None, event.tutor_id);
        out.emit(rng, env, &event);
        true
    }

    fn health(&mut self, rng: &mut SimRng, now_ms: i64, out: &mut EventWriter<'_>) -> bool {
        let student = rng.random_range(0..self.data.students.len());
        let h = self.history[student];
        let score = h.health_score();
        let event = HealthUpdate {
            stream: self.any_stream(rng),
            student_id: &self.data.students[student].student_id,
            health_score: score,
            churn_risk: churn_risk(score),
            sessions_succeeded: h.sessions_succeeded,
            sessions_failed: h.sessions_failed,
            calls_unresolved: h.calls_unresolved,
        };
        let env = envelope(TYPES, HEALTH_UPDATE, now_ms, None, event.student_id);
        out.emit(rng, env, &event);
        true
    }

    fn supply_demand(&mut self, rng: &mut SimRng, now_ms: i64, out: &mut EventWriter<'_>) -> bool {
        let taught: Vec<usize> = (0..SUBJECTS.len())
            .filter(|&s| !self.teaching[s].is_empty())
            .collect();
        if taught.is_empty() {
            return false;
        }
        let subject = taught[rng.random_range(0..taught.len())];
        let teaching = self.teaching[subject].len() as u32;
        let busy = 100 * self.active[subject] / teaching;
        let event = SupplyDemand {
            stream: self.any_stream(rng),
            region: REGIONS[rng.random_range(0..REGIONS.len())],
            subject: SUBJECTS[subject],
            available_tutors: self.free[subject],
            supply_score: 100 * self.free[subject] / teaching,
            demand_score: (busy + rng.random_range(0..=30)).min(100),
        };
        let env = envelope(TYPES, SUPPLY_DEMAND, now_ms, None, event.region);
        out.emit(rng, env, &event);
        true
    }
}

impl World for TutoringWorld {
    fn primary(
        &mut self,
        rng: &mut SimRng,
        event_type: EventTypeId,
        now_ms: i64,
        out: &mut EventWriter<'_>,
    ) -> bool {
        match event_type {
            SESSION_STARTED => self.start(rng, now_ms, out),
            CALL_LOGGED => self.call(rng, now_ms, out),
            AVAILABILITY_UPDATED => self.availability(rng, now_ms, out),
            HEALTH_UPDATE => self.health(rng, now_ms, out),
            SUPPLY_DEMAND => self.supply_demand(rng, now_ms, out),
            _ => false,
        }
    }

    fn has_scheduled(&self) -> bool {
        !self.open.is_empty()
    }

    fn due(&mut self, rng: &mut SimRng, now_ms: i64, out: &mut EventWriter<'_>) {
        while let Some(Reverse(open)) = self.open.peek().copied() {
            if open.due_ms > now_ms {
                break;
            }
            self.open.pop();
            let success = rng.random_bool(self.cfg.success_share);
            let h = &mut self.history[open.student as usize];
            if success {
                h.sessions_succeeded += 1;
            } else {
                h.sessions_failed += 1;
            }
            self.student_busy[open.student as usize] = false;
            self.set_busy(open.tutor, false);
            self.active[open.subject as usize] -= 1;
            let rating = match success {
                true => pick(rng, &[(5, 55), (4, 35), (3, 10)]),
                false => pick(rng, &[(4, 30), (3, 70)]),
            };
            let event = SessionCompleted {
                stream: self.next_in(open.stream),
                session_id: open.session,
                student_id: &self.data.students[open.student as usize].student_id,
                tutor_id: &self.data.tutors[open.tutor as usize].tutor_id,
                subject: SUBJECTS[open.subject as usize],
                duration_minutes: open.minutes,
                completed_successfully: success,
                rating,
            };
            let env = envelope(
                TYPES,
                SESSION_COMPLETED,
                open.due_ms,
                Some(open.started),
                event.student_id,
            );
            out.emit(rng, env, &event);
        }
    }
}
