//! Tutoring event payloads, and the health score both the world and the checker derive from a
//! student's history.

use serde::Serialize;

/// A student's history as the health score sees it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct History {
    pub sessions_succeeded: u32,
    pub sessions_failed: u32,
    pub calls_resolved: u32,
    pub calls_unresolved: u32,
}

impl History {
    /// 75, plus 3 per successful session (up to 8), less 4 per failed session and 5 per
    /// unresolved call, within 60..=100.
    pub fn health_score(&self) -> u32 {
        let score = 75 + 3 * i64::from(self.sessions_succeeded.min(8))
            - 4 * i64::from(self.sessions_failed)
            - 5 * i64::from(self.calls_unresolved);
        score.clamp(60, 100) as u32
    }
}

/// Churn risk from the health score: high below 70, medium below 85, low otherwise.
pub fn churn_risk(score: u32) -> &'static str {
    match score {
        0..70 => "high",
        70..85 => "medium",
        _ => "low",
    }
}

/// Every event carries the stream it came from and its place in that stream's sequence.
#[derive(Serialize)]
pub struct Stream {
    pub stream_id: u32,
    pub stream_seq: u64,
}

#[derive(Serialize)]
pub struct SessionStarted<'a> {
    #[serde(flatten)]
    pub stream: Stream,
    pub session_id: uuid::Uuid,
    pub student_id: &'a str,
    pub tutor_id: &'a str,
    pub subject: &'static str,
    pub region: &'a str,
}

#[derive(Serialize)]
pub struct SessionCompleted<'a> {
    #[serde(flatten)]
    pub stream: Stream,
    pub session_id: uuid::Uuid,
    pub student_id: &'a str,
    pub tutor_id: &'a str,
    pub subject: &'static str,
    pub duration_minutes: u32,
    pub completed_successfully: bool,
    /// The student's rating of the session, 3 to 5.
    pub rating: u8,
}

#[derive(Serialize)]
pub struct CallLogged<'a> {
    #[serde(flatten)]
    pub stream: Stream,
    pub call_id: uuid::Uuid,
    pub student_id: &'a str,
    pub reason: &'static str,
    pub duration_seconds: u32,
    pub resolved: bool,
}

#[derive(Serialize)]
pub struct AvailabilityUpdated<'a> {
    #[serde(flatten)]
    pub stream: Stream,
    pub tutor_id: &'a str,
    /// `in_session` exactly while the tutor has a session open.
    pub status: &'static str,
    pub weekly_hours: u32,
    pub timezone: &'a str,
}

#[derive(Serialize)]
pub struct HealthUpdate<'a> {
    #[serde(flatten)]
    pub stream: Stream,
    pub student_id: &'a str,
    pub health_score: u32,
    pub churn_risk: &'static str,
    pub sessions_succeeded: u32,
    pub sessions_failed: u32,
    pub calls_unresolved: u32,
}

#[derive(Serialize)]
pub struct SupplyDemand<'a> {
    #[serde(flatten)]
    pub stream: Stream,
    pub region: &'a str,
    pub subject: &'static str,
    /// Tutors teaching the subject with no open session.
    pub available_tutors: u32,
    /// 100 * available / teaching.
    pub supply_score: u32,
    pub demand_score: u32,
}
