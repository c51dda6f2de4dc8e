//! Delivery's metrics (docs/domain.md#delivery-metrics): billable utilization of a staff
//! member over a period, milestone attainment of an engagement and the change-request
//! trend flag. Pure functions over loaded values; the golden tests spell the arithmetic out.

use chrono::{Datelike, NaiveDate, Weekday};
use rust_decimal::Decimal;

use super::{
    Milestone, MilestoneStatus,
    operations::{TimeEntry, TimeEntryStatus},
};

/// Days a milestone may finish after its due date and still count as attained.
pub const MILESTONE_GRACE_DAYS: i64 = 0;
/// How much faster than before change requests must arrive to raise the flag.
pub const CR_INCREASE_FACTOR: Decimal = Decimal::from_parts(15, 0, 0, false, 1);

/// Billable approved hours against the hours available in a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Utilization {
    pub billable_hours: Decimal,
    /// Weekly capacity ÷ 5 for every weekday of the period.
    pub available_hours: Decimal,
    /// `billable_hours ÷ available_hours` to four places; `None` when nothing was available.
    pub ratio: Option<Decimal>,
}

/// Weekdays (Monday to Friday) from `from` to `to`, both included.
pub fn working_days(from: NaiveDate, to: NaiveDate) -> i64 {
    from.iter_days()
        .take_while(|day| *day <= to)
        .filter(|day| !matches!(day.weekday(), Weekday::Sat | Weekday::Sun))
        .count() as i64
}

/// Billable utilization of one person from `from` to `to` (both included): the billable
/// hours of their approved entries dated in the period ÷ their available hours, the
/// capacity of the period's weekdays less `time_off_hours` (never below 0).
pub fn utilization(
    weekly_capacity_hours: Decimal,
    entries: &[TimeEntry],
    time_off_hours: Decimal,
    from: NaiveDate,
    to: NaiveDate,
) -> Utilization {
    let billable_hours: Decimal = entries
        .iter()
        .filter(|entry| entry.status == TimeEntryStatus::Approved && entry.billable)
        .filter(|entry| (from..=to).contains(&entry.work_date))
        .map(|entry| entry.hours)
        .sum();
    let capacity = weekly_capacity_hours / Decimal::from(5) * Decimal::from(working_days(from, to));
    let available_hours = (capacity - time_off_hours).max(Decimal::ZERO);
    let ratio = (!available_hours.is_zero()).then(|| (billable_hours / available_hours).round_dp(4));
    Utilization { billable_hours, available_hours: available_hours.round_dp(2), ratio }
}

/// Milestones due so far and how many of them were done in time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MilestoneAttainment {
    pub due: u32,
    pub attained: u32,
    /// `attained ÷ due` to four places; `None` when nothing is due yet.
    pub rate: Option<Decimal>,
}

/// Attainment of an engagement's milestones due up to `today`: waived and cancelled ones
/// do not count; one is attained when done (accepted when it requires acceptance, else
/// completed) no later than its due date plus the grace days. Open ones count against.
pub fn milestone_attainment(milestones: &[Milestone], today: NaiveDate) -> MilestoneAttainment {
    let counted: Vec<&Milestone> = milestones
        .iter()
        .filter(|milestone| !matches!(milestone.status, MilestoneStatus::Waived | MilestoneStatus::Cancelled))
        .filter(|milestone| milestone.due_date.is_some_and(|due| due <= today))
        .collect();
    let attained = counted
        .iter()
        .filter(|milestone| {
            let done_at = if milestone.requires_acceptance { milestone.accepted_at } else { milestone.completed_at };
            match (done_at, milestone.due_date) {
                (Some(done_at), Some(due)) => {
                    done_at.date_naive() <= due + chrono::Duration::days(MILESTONE_GRACE_DAYS)
                }
                _ => false,
            }
        })
        .count() as u32;
    let due = counted.len() as u32;
    let rate = (due > 0).then(|| (Decimal::from(attained) / Decimal::from(due)).round_dp(4));
    MilestoneAttainment { due, attained, rate }
}

/// Whether change requests are arriving faster than they used to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRequestTrend {
    /// Submitted in the last 30 days (today and the 29 days before).
    pub last_30_days: u32,
    /// Submitted in the 90 days before those, per 30 days.
    pub prior_per_30_days: Decimal,
    /// `last_30_days ≥ 2` and `last_30_days > 1.5 × prior_per_30_days`.
    pub increasing: bool,
}

pub fn change_request_trend(submitted_on: &[NaiveDate], today: NaiveDate) -> ChangeRequestTrend {
    let age = |day: &NaiveDate| (today - *day).num_days();
    let last_30_days = submitted_on.iter().filter(|day| (0..30).contains(&age(day))).count() as u32;
    let prior = submitted_on.iter().filter(|day| (30..120).contains(&age(day))).count();
    let prior_per_30_days = (Decimal::from(prior) / Decimal::from(3)).round_dp(4);
    let increasing = last_30_days >= 2 && Decimal::from(last_30_days) > CR_INCREASE_FACTOR * prior_per_30_days;
    ChangeRequestTrend { last_30_days, prior_per_30_days, increasing }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use uuid::Uuid;

    use super::*;
    use crate::domain::{
        MilestonePhase,
        operations::{TimeCategory, TimeEntry},
    };

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn at(text: &str) -> Option<DateTime<Utc>> {
        Some(day(text).and_hms_opt(17, 0, 0).unwrap().and_utc())
    }

    fn entry(work_date: &str, hours: &str, billable: bool, status: TimeEntryStatus) -> TimeEntry {
        TimeEntry {
            id: Uuid::nil(),
            staff_member_id: Uuid::nil(),
            engagement_id: Uuid::nil(),
            work_date: day(work_date),
            hours: hours.parse().unwrap(),
            billable,
            category: TimeCategory::Implementation,
            note: None,
            status,
            cost_rate: Decimal::ZERO,
            bill_rate: Decimal::ZERO,
            currency: "USD".to_owned(),
            rejection_reason: None,
            submitted_at: None,
            decided_at: None,
            version: 1,
        }
    }

    #[test]
    fn utilization_is_billable_approved_hours_over_weekday_capacity() {
        use TimeEntryStatus::{Approved, Rejected, Submitted};
        // 2026-06-01 is a Monday; 06-01..06-14 has 10 weekdays. Capacity 40 h/week ⇒
        // 8 h/day × 10 = 80 available hours.
        let entries = [
            entry("2026-06-01", "8", true, Approved),
            entry("2026-06-02", "7.5", true, Approved),
            entry("2026-06-03", "6", false, Approved), // not billable
            entry("2026-06-04", "8", true, Submitted), // not approved yet
            entry("2026-06-05", "8", true, Rejected),  // rejected
            entry("2026-06-06", "4", true, Approved),  // a Saturday: counts as hours worked
            entry("2026-06-15", "8", true, Approved),  // after the period
        ];
        // Billable approved in the period: 8 + 7.5 + 4 = 19.5; 19.5 ÷ 80 = 0.24375 → 0.2438.
        let result = utilization(Decimal::from(40), &entries, Decimal::ZERO, day("2026-06-01"), day("2026-06-14"));
        assert_eq!(result.billable_hours, "19.5".parse().unwrap());
        assert_eq!(result.available_hours, Decimal::from(80));
        assert_eq!(result.ratio, Some("0.2438".parse().unwrap()));
        // A 32-hour week: 6.4 h/day × 10 = 64 hours; 19.5 ÷ 64 = 0.3046875 → 0.3047.
        let part_time = utilization(Decimal::from(32), &entries, Decimal::ZERO, day("2026-06-01"), day("2026-06-14"));
        assert_eq!(part_time.available_hours, Decimal::from(64));
        assert_eq!(part_time.ratio, Some("0.3047".parse().unwrap()));
        // A weekend only: nothing available, no ratio.
        let weekend = utilization(Decimal::from(40), &entries, Decimal::ZERO, day("2026-06-06"), day("2026-06-07"));
        assert_eq!((weekend.available_hours, weekend.ratio), (Decimal::ZERO, None));
        // 16 hours off in the period: 80 − 16 = 64 available; 19.5 ÷ 64 → 0.3047.
        let with_leave =
            utilization(Decimal::from(40), &entries, Decimal::from(16), day("2026-06-01"), day("2026-06-14"));
        assert_eq!(
            (with_leave.available_hours, with_leave.ratio),
            (Decimal::from(64), Some("0.3047".parse().unwrap()))
        );
        // Off the whole period: nothing available, no ratio.
        let away = utilization(Decimal::from(40), &entries, Decimal::from(80), day("2026-06-01"), day("2026-06-14"));
        assert_eq!((away.available_hours, away.ratio), (Decimal::ZERO, None));
    }

    fn milestone(
        due: &str,
        status: MilestoneStatus,
        completed: Option<&str>,
        acceptance: Option<Option<&str>>,
    ) -> Milestone {
        Milestone {
            id: Uuid::nil(),
            engagement_id: Uuid::nil(),
            seq: 1,
            name: "m".to_owned(),
            phase: MilestonePhase::Build,
            status,
            due_date: Some(day(due)),
            forecast_date: None,
            completed_at: completed.and_then(at),
            is_go_live: false,
            is_billing: false,
            percent_complete: Decimal::ZERO,
            version: 1,
            requires_acceptance: acceptance.is_some(),
            accepted_at: acceptance.flatten().and_then(at),
            billing_pct: None,
        }
    }

    #[test]
    fn attainment_counts_milestones_due_so_far_done_by_their_due_date() {
        use MilestoneStatus::*;
        let today = day("2026-06-01");
        let milestones = [
            milestone("2026-05-01", Completed, Some("2026-04-30"), None), // early: attained
            milestone("2026-05-10", Completed, Some("2026-05-10"), None), // on the day: attained
            milestone("2026-05-15", Completed, Some("2026-05-16"), None), // a day late: not
            // Completed in time but accepted late: acceptance is what counts.
            milestone("2026-05-20", Accepted, Some("2026-05-19"), Some(Some("2026-05-22"))),
            // Accepted in time.
            milestone("2026-05-25", Accepted, Some("2026-05-24"), Some(Some("2026-05-25"))),
            milestone("2026-05-28", InProgress, None, None), // due and open: not attained
            milestone("2026-05-29", Waived, None, None),     // out of scope: not counted
            milestone("2026-06-10", NotStarted, None, None), // not due yet: not counted
        ];
        // Due so far and counted: 6 (05-01, 05-10, 05-15, 05-20, 05-25, 05-28);
        // attained: 05-01, 05-10, 05-25 = 3; 3 ÷ 6 = 0.5.
        let result = milestone_attainment(&milestones, today);
        assert_eq!((result.due, result.attained), (6, 3));
        assert_eq!(result.rate, Some("0.5".parse().unwrap()));
        // Nothing due yet: no rate.
        assert_eq!(milestone_attainment(&milestones[7..], today).rate, None);
    }

    #[test]
    fn the_change_request_flag_rises_when_the_last_30_days_outpace_the_prior_90() {
        let today = day("2026-06-01");
        let days_ago = |days: i64| today - chrono::Duration::days(days);
        // Prairie Foods: 4 in the last 30 days (0, 6, 13, 29 days ago), 1 in days 30–119
        // (45 days ago), 1 older (130 days ago, ignored). cr_prior = 1 ÷ 3 = 0.3333;
        // 4 ≥ 2 and 4 > 1.5 × 0.3333 = 0.5 ⇒ increasing.
        let prairie = [days_ago(0), days_ago(6), days_ago(13), days_ago(29), days_ago(45), days_ago(130)];
        let trend = change_request_trend(&prairie, today);
        assert_eq!(trend.last_30_days, 4);
        assert_eq!(trend.prior_per_30_days, "0.3333".parse().unwrap());
        assert!(trend.increasing);
        // Steady: 2 in the last 30 days, 6 in the prior 90 (2 per 30): 2 > 1.5 × 2 = 3 is false.
        let steady = [0, 10, 30, 40, 60, 70, 100, 119].map(days_ago);
        let trend = change_request_trend(&steady, today);
        assert_eq!((trend.last_30_days, trend.prior_per_30_days), (2, Decimal::from(2)));
        assert!(!trend.increasing);
        // One new request after a quiet quarter is not a trend: cr_30 must be at least 2.
        assert!(!change_request_trend(&[days_ago(1)], today).increasing);
        // Exactly 30 days ago belongs to the prior window.
        let boundary = change_request_trend(&[days_ago(29), days_ago(30)], today);
        assert_eq!(boundary.last_30_days, 1);
        assert_eq!(boundary.prior_per_30_days, "0.3333".parse().unwrap());
    }
}
