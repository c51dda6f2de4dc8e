//! SLA policies and clocks (docs/domain.md#sla-clocks): the targets per priority and
//! metric, and one clock per ticket and metric that accrues business time while it runs,
//! pauses while the ticket waits on someone else, and ends fulfilled or breached. Pure
//! rules; the repository stores clocks, the commands and the evaluator move them.

use atrium_kit::{command::StateMachine, stored_enum};
use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use super::{TicketPriority, TicketStatus, business_hours::BusinessHoursSchedule};

stored_enum!(SlaMetric { FirstResponse => "first_response", NextResponse => "next_response", Resolution => "resolution" });
stored_enum!(SlaClockStatus { Running => "running", Paused => "paused", Fulfilled => "fulfilled", Breached => "breached" });

/// The metrics a clock starts for when a ticket is created. Next-response clocks start on
/// requester replies, which the API does not take yet.
pub const METRICS_STARTED_ON_CREATE: [SlaMetric; 2] = [SlaMetric::FirstResponse, SlaMetric::Resolution];

/// Share of the target (in percent) after which a running clock warns.
pub const WARN_AT_PERCENT: i64 = 80;

/// One target of a policy: how many minutes a metric may take at a priority, counted in
/// business hours or around the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlaTarget {
    pub priority: TicketPriority,
    pub metric: SlaMetric,
    pub target_minutes: i64,
    pub business_hours: bool,
}

/// A tenant's SLA policy: its targets, its business hours and the ticket statuses in which
/// clocks stand still.
#[derive(Debug, Clone)]
pub struct SlaPolicy {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub schedule: BusinessHoursSchedule,
    pub pause_on: Vec<TicketStatus>,
    pub targets: Vec<SlaTarget>,
}

impl SlaPolicy {
    pub fn target(&self, priority: TicketPriority, metric: SlaMetric) -> Option<SlaTarget> {
        self.targets.iter().copied().find(|target| target.priority == priority && target.metric == metric)
    }

    pub fn pauses_in(&self, status: TicketStatus) -> bool {
        self.pause_on.contains(&status)
    }
}

/// The standard target matrix (minutes): urgent around the clock, everything else in
/// business hours — first response / next response / resolution.
pub fn standard_targets() -> Vec<SlaTarget> {
    use SlaMetric::{FirstResponse, NextResponse, Resolution};
    use TicketPriority::{High, Low, Normal, Urgent};
    let matrix = [
        (Urgent, [60, 120, 480], false),
        (High, [240, 480, 1440], true),
        (Normal, [480, 960, 4800], true),
        (Low, [960, 1440, 9600], true),
    ];
    matrix
        .into_iter()
        .flat_map(|(priority, minutes, business_hours)| {
            [FirstResponse, NextResponse, Resolution]
                .into_iter()
                .zip(minutes)
                .map(move |(metric, target_minutes)| SlaTarget { priority, metric, target_minutes, business_hours })
        })
        .collect()
}

/// `running ↔ paused`, `running → breached` (the evaluator, once due), and every
/// unfinished clock `→ fulfilled`. A breached clock stays breached while the ticket waits
/// (the breach is history) and is still fulfilled later, keeping `breached_at`.
impl StateMachine for SlaClockStatus {
    const ENTITY: &'static str = "SlaClock";

    fn allowed_next(self) -> &'static [Self] {
        use SlaClockStatus::{Breached, Fulfilled, Paused, Running};
        match self {
            Running => &[Paused, Breached, Fulfilled],
            Paused => &[Running, Fulfilled],
            Breached => &[Fulfilled],
            Fulfilled => &[],
        }
    }

    fn name(self) -> &'static str {
        match self {
            SlaClockStatus::Running => "RUNNING",
            SlaClockStatus::Paused => "PAUSED",
            SlaClockStatus::Fulfilled => "FULFILLED",
            SlaClockStatus::Breached => "BREACHED",
        }
    }
}

/// Why a clock could not move.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    #[error("an SLA clock cannot move from {from} to {to}")]
    Transition { from: &'static str, to: &'static str },
    #[error("the clock is not due yet")]
    NotDue,
    #[error(transparent)]
    Schedule(#[from] super::business_hours::ScheduleError),
}

/// One ticket's clock for one metric.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaClock {
    pub id: Uuid,
    pub ticket_id: Uuid,
    pub metric: SlaMetric,
    pub status: SlaClockStatus,
    pub target_minutes: i64,
    pub business_hours: bool,
    pub started_at: DateTime<Utc>,
    /// Since when the clock accrues time; `None` while paused or finished.
    pub running_since: Option<DateTime<Utc>>,
    /// Business seconds accrued before `running_since`.
    pub elapsed_seconds: i64,
    /// When the target is used up if the clock keeps running; `None` while paused.
    pub due_at: Option<DateTime<Utc>>,
    pub fulfilled_at: Option<DateTime<Utc>>,
    pub breached_at: Option<DateTime<Utc>>,
    /// When `sla.warning` was announced: the evaluator's once-only flag.
    pub warned_at: Option<DateTime<Utc>>,
    pub version: i64,
}

impl SlaClock {
    /// A running clock from `now` for `target`.
    pub fn start(
        ticket_id: Uuid,
        target: SlaTarget,
        schedule: &BusinessHoursSchedule,
        now: DateTime<Utc>,
    ) -> Result<SlaClock, ClockError> {
        let mut clock = SlaClock {
            id: Uuid::now_v7(),
            ticket_id,
            metric: target.metric,
            status: SlaClockStatus::Running,
            target_minutes: target.target_minutes,
            business_hours: target.business_hours,
            started_at: now,
            running_since: Some(now),
            elapsed_seconds: 0,
            due_at: None,
            fulfilled_at: None,
            breached_at: None,
            warned_at: None,
            version: 1,
        };
        clock.due_at = Some(clock.due_from(schedule, now)?);
        Ok(clock)
    }

    fn target(&self) -> TimeDelta {
        TimeDelta::minutes(self.target_minutes)
    }

    fn add(
        &self,
        schedule: &BusinessHoursSchedule,
        from: DateTime<Utc>,
        amount: TimeDelta,
    ) -> Result<DateTime<Utc>, ClockError> {
        if self.business_hours {
            Ok(schedule.add_business_time(from, amount)?)
        } else {
            Ok(from + amount.max(TimeDelta::zero()))
        }
    }

    fn between(
        &self,
        schedule: &BusinessHoursSchedule,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<TimeDelta, ClockError> {
        if self.business_hours {
            Ok(schedule.business_time_between(from, to)?)
        } else {
            Ok((to - from).max(TimeDelta::zero()))
        }
    }

    /// The due instant when the clock runs on from `from` with what is left of the target.
    fn due_from(&self, schedule: &BusinessHoursSchedule, from: DateTime<Utc>) -> Result<DateTime<Utc>, ClockError> {
        let left = self.target() - TimeDelta::seconds(self.elapsed_seconds);
        self.add(schedule, from, left)
    }

    /// Business time accrued up to `now` (the stored part plus the running stretch).
    pub fn elapsed_at(&self, schedule: &BusinessHoursSchedule, now: DateTime<Utc>) -> Result<TimeDelta, ClockError> {
        let running = match self.running_since {
            Some(since) => self.between(schedule, since, now)?,
            None => TimeDelta::zero(),
        };
        Ok(TimeDelta::seconds(self.elapsed_seconds) + running)
    }

    fn move_to(&mut self, next: SlaClockStatus) -> Result<(), ClockError> {
        if !self.status.can_become(next) {
            return Err(ClockError::Transition { from: self.status.name(), to: next.name() });
        }
        self.status = next;
        self.version += 1;
        Ok(())
    }

    /// The ticket started waiting: bank the running stretch and stop the due time.
    pub fn pause(&mut self, schedule: &BusinessHoursSchedule, now: DateTime<Utc>) -> Result<(), ClockError> {
        let elapsed = self.elapsed_at(schedule, now)?;
        self.move_to(SlaClockStatus::Paused)?;
        self.elapsed_seconds = elapsed.num_seconds();
        self.running_since = None;
        self.due_at = None;
        Ok(())
    }

    /// The ticket is worked again: run on with what is left of the target.
    pub fn resume(&mut self, schedule: &BusinessHoursSchedule, now: DateTime<Utc>) -> Result<(), ClockError> {
        self.move_to(SlaClockStatus::Running)?;
        self.running_since = Some(now);
        self.due_at = Some(self.due_from(schedule, now)?);
        Ok(())
    }

    /// The metric was met (first public agent reply, solve): late or not, the clock ends.
    pub fn fulfil(&mut self, schedule: &BusinessHoursSchedule, now: DateTime<Utc>) -> Result<(), ClockError> {
        let elapsed = self.elapsed_at(schedule, now)?;
        self.move_to(SlaClockStatus::Fulfilled)?;
        self.elapsed_seconds = elapsed.num_seconds();
        self.running_since = None;
        self.fulfilled_at = Some(now);
        Ok(())
    }

    /// A running clock past its due time breaches, stamped with the due instant (when the
    /// target was really missed, not when someone noticed).
    pub fn breach(&mut self, now: DateTime<Utc>) -> Result<(), ClockError> {
        match self.due_at {
            Some(due) if self.status == SlaClockStatus::Running && now >= due => {
                self.move_to(SlaClockStatus::Breached)?;
                self.breached_at = Some(due);
                Ok(())
            }
            Some(_) if self.status == SlaClockStatus::Running => Err(ClockError::NotDue),
            _ => Err(ClockError::Transition { from: self.status.name(), to: SlaClockStatus::Breached.name() }),
        }
    }

    /// Whether a running clock has used `WARN_AT_PERCENT` of its target and not warned yet.
    pub fn should_warn(&self, schedule: &BusinessHoursSchedule, now: DateTime<Utc>) -> Result<bool, ClockError> {
        if self.status != SlaClockStatus::Running || self.warned_at.is_some() {
            return Ok(false);
        }
        let elapsed = self.elapsed_at(schedule, now)?;
        Ok(elapsed.num_seconds() * 100 >= self.target_minutes * 60 * WARN_AT_PERCENT)
    }

    /// A new target (the ticket's priority changed): an unfinished, unbreached clock keeps
    /// its accrued time and gets a due time for the new target.
    pub fn retarget(
        &mut self,
        target: SlaTarget,
        schedule: &BusinessHoursSchedule,
        now: DateTime<Utc>,
    ) -> Result<bool, ClockError> {
        if !matches!(self.status, SlaClockStatus::Running | SlaClockStatus::Paused) {
            return Ok(false);
        }
        if self.status == SlaClockStatus::Running {
            self.elapsed_seconds = self.elapsed_at(schedule, now)?.num_seconds();
            self.running_since = Some(now);
        }
        self.target_minutes = target.target_minutes;
        self.business_hours = target.business_hours;
        self.warned_at = None;
        if self.status == SlaClockStatus::Running {
            self.due_at = Some(self.due_from(schedule, now)?);
        }
        self.version += 1;
        Ok(true)
    }
}

/// What a ticket's status change does to its clocks: entering a waiting status pauses the
/// running clocks, leaving it resumes the paused ones, solving fulfils every clock that has
/// not ended. Returns the clocks that changed.
pub fn clocks_after_status_change(
    policy: &SlaPolicy,
    clocks: &mut [SlaClock],
    from: TicketStatus,
    to: TicketStatus,
    now: DateTime<Utc>,
) -> Result<Vec<usize>, ClockError> {
    let mut changed = Vec::new();
    for (index, clock) in clocks.iter_mut().enumerate() {
        let moved = if to == TicketStatus::Solved {
            if clock.status == SlaClockStatus::Fulfilled {
                false
            } else {
                clock.fulfil(&policy.schedule, now)?;
                true
            }
        } else if policy.pauses_in(to) && !policy.pauses_in(from) && clock.status == SlaClockStatus::Running {
            clock.pause(&policy.schedule, now)?;
            true
        } else if policy.pauses_in(from) && !policy.pauses_in(to) && clock.status == SlaClockStatus::Paused {
            clock.resume(&policy.schedule, now)?;
            true
        } else {
            false
        };
        if moved {
            changed.push(index);
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use chrono::NaiveTime;

    use super::*;

    const ALL: [SlaClockStatus; 4] =
        [SlaClockStatus::Running, SlaClockStatus::Paused, SlaClockStatus::Fulfilled, SlaClockStatus::Breached];

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn berlin() -> BusinessHoursSchedule {
        BusinessHoursSchedule::weekdays(
            "Europe/Berlin",
            NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
        )
    }

    fn policy() -> SlaPolicy {
        SlaPolicy {
            id: Uuid::nil(),
            code: "standard".into(),
            name: "Standard".into(),
            schedule: berlin(),
            pause_on: vec![TicketStatus::Pending, TicketStatus::OnHold],
            targets: standard_targets(),
        }
    }

    fn four_hours() -> SlaTarget {
        SlaTarget {
            priority: TicketPriority::High,
            metric: SlaMetric::FirstResponse,
            target_minutes: 240,
            business_hours: true,
        }
    }

    fn clock_in(status: SlaClockStatus) -> SlaClock {
        let mut clock = SlaClock::start(Uuid::nil(), four_hours(), &berlin(), at("2026-12-07T09:00:00+01:00")).unwrap();
        let later = at("2026-12-07T10:00:00+01:00");
        match status {
            SlaClockStatus::Running => {}
            SlaClockStatus::Paused => clock.pause(&berlin(), later).unwrap(),
            SlaClockStatus::Fulfilled => clock.fulfil(&berlin(), later).unwrap(),
            SlaClockStatus::Breached => clock.breach(at("2026-12-07T13:00:00+01:00")).unwrap(),
        }
        clock
    }

    #[test]
    fn every_clock_transition_is_allowed_or_refused_as_the_table_says() {
        use SlaClockStatus::{Breached, Fulfilled, Paused, Running};
        let allowed = [
            (Running, Paused),
            (Running, Breached),
            (Running, Fulfilled),
            (Paused, Running),
            (Paused, Fulfilled),
            (Breached, Fulfilled),
        ];
        for from in ALL {
            for to in ALL {
                assert_eq!(from.can_become(to), allowed.contains(&(from, to)), "{from:?} -> {to:?}");
                // And the clock's own operations agree with the table.
                let mut clock = clock_in(from);
                let now = at("2026-12-07T16:00:00+01:00");
                let result = match to {
                    Running => clock.resume(&berlin(), now),
                    Paused => clock.pause(&berlin(), now),
                    Fulfilled => clock.fulfil(&berlin(), now),
                    Breached => clock.breach(now),
                };
                assert_eq!(result.is_ok(), allowed.contains(&(from, to)), "{from:?} -> {to:?}: {result:?}");
                if result.is_ok() {
                    assert_eq!(clock.status, to);
                }
            }
        }
    }

    #[test]
    fn a_paused_clock_keeps_its_business_time_and_moves_its_due_time() {
        // Opened Fri 2026-12-04 16:30 CET, 4 h target: due Mon 12:30. Paused Mon 10:00
        // after 0.5 h (Fri) + 1 h (Mon) = 1.5 h; resumed Mon 14:00 with 2.5 h left: due
        // Mon 16:30 CET.
        let mut clock = SlaClock::start(Uuid::nil(), four_hours(), &berlin(), at("2026-12-04T16:30:00+01:00")).unwrap();
        assert_eq!(clock.due_at, Some(at("2026-12-07T12:30:00+01:00")));
        clock.pause(&berlin(), at("2026-12-07T10:00:00+01:00")).unwrap();
        assert_eq!((clock.elapsed_seconds, clock.due_at), (90 * 60, None));
        clock.resume(&berlin(), at("2026-12-07T14:00:00+01:00")).unwrap();
        assert_eq!(clock.due_at, Some(at("2026-12-07T16:30:00+01:00")));
        // Fulfilled Tue 09:15: 1.5 h + 3 h Mon (14–17) + 0.25 h Tue = 4.75 h, late.
        clock.fulfil(&berlin(), at("2026-12-08T09:15:00+01:00")).unwrap();
        assert_eq!(clock.elapsed_seconds, 285 * 60);
    }

    #[test]
    fn breaches_only_once_due_and_stamps_the_due_instant() {
        let mut clock = SlaClock::start(Uuid::nil(), four_hours(), &berlin(), at("2026-12-07T09:00:00+01:00")).unwrap();
        assert_eq!(clock.breach(at("2026-12-07T12:59:00+01:00")), Err(ClockError::NotDue));
        clock.breach(at("2026-12-07T15:00:00+01:00")).unwrap();
        assert_eq!(clock.breached_at, Some(at("2026-12-07T13:00:00+01:00")));
        clock.fulfil(&berlin(), at("2026-12-07T16:00:00+01:00")).unwrap();
        assert_eq!((clock.status, clock.breached_at.is_some()), (SlaClockStatus::Fulfilled, true));
    }

    #[test]
    fn warns_at_eighty_percent_of_the_target() {
        // 4 h target from Mon 09:00: 80 % = 3 h 12 min, reached at 12:12.
        let clock = SlaClock::start(Uuid::nil(), four_hours(), &berlin(), at("2026-12-07T09:00:00+01:00")).unwrap();
        assert!(!clock.should_warn(&berlin(), at("2026-12-07T12:11:00+01:00")).unwrap());
        assert!(clock.should_warn(&berlin(), at("2026-12-07T12:12:00+01:00")).unwrap());
        let warned = SlaClock { warned_at: Some(at("2026-12-07T12:12:00+01:00")), ..clock };
        assert!(!warned.should_warn(&berlin(), at("2026-12-07T12:30:00+01:00")).unwrap());
    }

    #[test]
    fn an_urgent_clock_counts_around_the_clock() {
        // Urgent first response: 60 calendar minutes, Saturday or not.
        let target = policy().target(TicketPriority::Urgent, SlaMetric::FirstResponse).unwrap();
        let clock = SlaClock::start(Uuid::nil(), target, &berlin(), at("2026-12-05T22:30:00Z")).unwrap();
        assert_eq!(clock.due_at, Some(at("2026-12-05T23:30:00Z")));
    }

    #[test]
    fn a_priority_change_keeps_accrued_time_and_recomputes_the_due_time() {
        // High resolution (1440 BH min = 3 days of 8 h) from Mon 09:00; after 2 h it becomes
        // normal (4800 min = 80 h): 78 h left from Mon 11:00 = 6 h Mon + 9 × 8 h (Tue–Fri,
        // Mon–Fri) = 78 h ⇒ due Fri 2026-12-18 17:00 CET.
        let target = policy().target(TicketPriority::High, SlaMetric::Resolution).unwrap();
        let mut clock = SlaClock::start(Uuid::nil(), target, &berlin(), at("2026-12-07T09:00:00+01:00")).unwrap();
        assert_eq!(clock.due_at, Some(at("2026-12-09T17:00:00+01:00")));
        let normal = policy().target(TicketPriority::Normal, SlaMetric::Resolution).unwrap();
        assert!(clock.retarget(normal, &berlin(), at("2026-12-07T11:00:00+01:00")).unwrap());
        assert_eq!(clock.elapsed_seconds, 2 * 3600);
        assert_eq!(clock.due_at, Some(at("2026-12-18T17:00:00+01:00")));
    }

    #[test]
    fn status_changes_pause_resume_and_fulfil_the_tickets_clocks() {
        let policy = policy();
        let start = at("2026-12-07T09:00:00+01:00");
        let target = |metric| policy.target(TicketPriority::High, metric).unwrap();
        let mut clocks = vec![
            SlaClock::start(Uuid::nil(), target(SlaMetric::FirstResponse), &policy.schedule, start).unwrap(),
            SlaClock::start(Uuid::nil(), target(SlaMetric::Resolution), &policy.schedule, start).unwrap(),
        ];
        clocks[0].fulfil(&policy.schedule, at("2026-12-07T09:30:00+01:00")).unwrap();
        let statuses = |clocks: &[SlaClock]| clocks.iter().map(|clock| clock.status).collect::<Vec<_>>();
        let cases = [
            (TicketStatus::Open, TicketStatus::Pending, vec![1], SlaClockStatus::Paused),
            (TicketStatus::Pending, TicketStatus::OnHold, vec![], SlaClockStatus::Paused),
            (TicketStatus::OnHold, TicketStatus::Open, vec![1], SlaClockStatus::Running),
            (TicketStatus::Open, TicketStatus::Solved, vec![1], SlaClockStatus::Fulfilled),
        ];
        for (from, to, changed, resolution) in cases {
            let moved =
                clocks_after_status_change(&policy, &mut clocks, from, to, at("2026-12-07T11:00:00+01:00")).unwrap();
            assert_eq!(moved, changed, "{from:?} -> {to:?}");
            assert_eq!(statuses(&clocks), [SlaClockStatus::Fulfilled, resolution], "{from:?} -> {to:?}");
        }
    }
}
