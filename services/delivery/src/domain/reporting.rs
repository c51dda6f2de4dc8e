//! Status reports, time off and assignments as plain values
//! (docs/domain.md#status-reports-time-off-and-assignments): the status report's lifecycle,
//! the input rules of each, and how much of a time-off range falls into a period (no ORM,
//! no GraphQL).

use atrium_kit::{
    command::{CommandError, StateMachine},
    stored_enum,
};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{Rag, metrics::working_days};

stored_enum!(StatusReportStatus { Draft => "draft", Published => "published" });

/// `draft → published`; a published report is final (a later period gets a new report).
impl StateMachine for StatusReportStatus {
    const ENTITY: &'static str = "StatusReport";

    fn allowed_next(self) -> &'static [Self] {
        match self {
            StatusReportStatus::Draft => &[StatusReportStatus::Published],
            StatusReportStatus::Published => &[],
        }
    }

    fn name(self) -> &'static str {
        match self {
            StatusReportStatus::Draft => "DRAFT",
            StatusReportStatus::Published => "PUBLISHED",
        }
    }
}

/// The delivery manager's view of an engagement over a period.
#[derive(Debug, Clone)]
pub struct StatusReport {
    pub id: Uuid,
    pub engagement_id: Uuid,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub rag: Rag,
    pub summary: String,
    pub status: StatusReportStatus,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub published_by: Option<String>,
    pub version: i64,
}

/// Hours a staff member is away from `start_date` to `end_date` (both included).
#[derive(Debug, Clone)]
pub struct TimeOff {
    pub id: Uuid,
    pub staff_member_id: Uuid,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub hours: Decimal,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A staff member's share of time on an engagement, or on one of its tasks.
#[derive(Debug, Clone)]
pub struct Assignment {
    pub id: Uuid,
    pub staff_member_id: Uuid,
    pub engagement_id: Uuid,
    pub task_id: Option<Uuid>,
    /// Percent of the person's capacity, 1 to 100.
    pub allocation_pct: Decimal,
    pub from_date: NaiveDate,
    /// Open-ended when `None`.
    pub to_date: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

fn invalid(message: String) -> CommandError {
    CommandError::Invalid(message)
}

/// A report's period must not end before it starts, nor end after the business date
/// (a report looks back), and its summary must say something.
pub fn check_status_report(
    period_start: NaiveDate,
    period_end: NaiveDate,
    summary: &str,
    today: NaiveDate,
) -> Result<String, CommandError> {
    if period_end < period_start {
        return Err(invalid("periodEnd: must not be before periodStart".to_owned()));
    }
    if period_end > today {
        return Err(invalid(format!("periodEnd: must not be after today ({today})")));
    }
    let summary = summary.trim();
    if summary.is_empty() {
        return Err(invalid("summary: must not be empty".to_owned()));
    }
    Ok(summary.to_owned())
}

/// Time off needs a range in order and hours above 0 (two decimals at most) that fit the
/// range: no more than 24 per calendar day of it.
pub fn check_time_off(start: NaiveDate, end: NaiveDate, hours: Decimal) -> Result<(), CommandError> {
    if end < start {
        return Err(invalid("endDate: must not be before startDate".to_owned()));
    }
    if hours <= Decimal::ZERO || hours.normalize().scale() > 2 {
        return Err(invalid("hours: must be above 0 with at most two decimals".to_owned()));
    }
    let days = (end - start).num_days() + 1;
    if hours > Decimal::from(24 * days) {
        return Err(invalid(format!("hours: {hours} do not fit in {days} day(s)")));
    }
    Ok(())
}

/// An allocation is 1 to 100 percent over a range in order.
pub fn check_assignment(allocation_pct: Decimal, from: NaiveDate, to: Option<NaiveDate>) -> Result<(), CommandError> {
    if allocation_pct <= Decimal::ZERO || allocation_pct > Decimal::ONE_HUNDRED {
        return Err(invalid("allocationPct: must be above 0 and at most 100".to_owned()));
    }
    if to.is_some_and(|to| to < from) {
        return Err(invalid("toDate: must not be before fromDate".to_owned()));
    }
    Ok(())
}

/// The hours of `off` that fall from `from` to `to` (both included): its hours spread
/// evenly over its weekdays, times the weekdays it shares with the period. A range
/// without weekdays (a weekend) takes nothing from a working week.
pub fn time_off_hours_in(off: &TimeOff, from: NaiveDate, to: NaiveDate) -> Decimal {
    let own_days = working_days(off.start_date, off.end_date);
    let (start, end) = (off.start_date.max(from), off.end_date.min(to));
    if own_days == 0 || end < start {
        return Decimal::ZERO;
    }
    off.hours * Decimal::from(working_days(start, end)) / Decimal::from(own_days)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn off(start: &str, end: &str, hours: &str) -> TimeOff {
        TimeOff {
            id: Uuid::now_v7(),
            staff_member_id: Uuid::nil(),
            start_date: day(start),
            end_date: day(end),
            hours: hours.parse().unwrap(),
            reason: None,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn a_status_report_is_drafted_then_published_once() {
        use StatusReportStatus::{Draft, Published};
        assert!(Draft.can_become(Published));
        assert!(!Published.can_become(Draft));
        assert!(!Published.can_become(Published));
        assert!(!Draft.can_become(Draft));
    }

    #[test]
    fn time_off_counts_its_share_of_weekdays_in_the_period() {
        // Mon 2026-06-08 .. Fri 06-12: 40 h over 5 weekdays = 8 h a weekday.
        let week = off("2026-06-08", "2026-06-12", "40");
        // Period Wed 06-10 .. Sun 06-14 shares Wed, Thu, Fri: 3 × 8 = 24 h.
        assert_eq!(time_off_hours_in(&week, day("2026-06-10"), day("2026-06-14")), Decimal::from(24));
        // The whole range inside the period: all 40 h.
        assert_eq!(time_off_hours_in(&week, day("2026-06-01"), day("2026-06-30")), Decimal::from(40));
        // No overlap: nothing.
        assert_eq!(time_off_hours_in(&week, day("2026-06-15"), day("2026-06-19")), Decimal::ZERO);
        // Fri 06-12 .. Mon 06-15, 12 h over 2 weekdays (Fri, Mon) = 6 h each; the period
        // Sat 06-13 .. Mon 06-15 holds Monday only: 6 h.
        let long_weekend = off("2026-06-12", "2026-06-15", "12");
        assert_eq!(time_off_hours_in(&long_weekend, day("2026-06-13"), day("2026-06-15")), Decimal::from(6));
        // A weekend has no weekdays: it takes nothing from a working period.
        let weekend = off("2026-06-13", "2026-06-14", "16");
        assert_eq!(time_off_hours_in(&weekend, day("2026-06-08"), day("2026-06-14")), Decimal::ZERO);
    }

    #[test]
    fn bad_ranges_hours_and_allocations_are_refused_naming_the_field() {
        let message = |result: Result<(), CommandError>| result.unwrap_err().to_string();
        assert!(message(check_time_off(day("2026-06-10"), day("2026-06-09"), Decimal::ONE)).contains("endDate"));
        assert!(message(check_time_off(day("2026-06-10"), day("2026-06-10"), Decimal::ZERO)).contains("hours"));
        assert!(message(check_time_off(day("2026-06-10"), day("2026-06-10"), Decimal::from(25))).contains("hours"));
        assert!(check_time_off(day("2026-06-10"), day("2026-06-11"), Decimal::from(48)).is_ok());
        assert!(message(check_assignment(Decimal::from(101), day("2026-06-10"), None)).contains("allocationPct"));
        assert!(message(check_assignment(Decimal::ZERO, day("2026-06-10"), None)).contains("allocationPct"));
        assert!(
            message(check_assignment(Decimal::from(50), day("2026-06-10"), Some(day("2026-06-01")))).contains("toDate")
        );
        assert!(check_assignment(Decimal::ONE_HUNDRED, day("2026-06-10"), Some(day("2026-06-10"))).is_ok());
        let today = day("2026-06-30");
        assert!(check_status_report(day("2026-06-01"), day("2026-07-01"), "ok", today).is_err());
        assert!(check_status_report(day("2026-06-10"), day("2026-06-01"), "ok", today).is_err());
        assert!(check_status_report(day("2026-06-01"), day("2026-06-30"), "  ", today).is_err());
        assert_eq!(check_status_report(day("2026-06-01"), day("2026-06-30"), " On track ", today).unwrap(), "On track");
    }
}
