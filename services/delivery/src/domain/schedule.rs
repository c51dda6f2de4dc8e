//! Derived schedule values (docs/domain.md#schedule-signals): go-live variance and the
//! milestone flags `late` and `at_risk`. All take `today` so they are pure and testable.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::MilestoneStatus;

/// How close a due date must be for low progress to count as a risk.
pub const AT_RISK_HORIZON_DAYS: i64 = 14;

/// Completion below this share, with the due date near, puts a milestone at risk.
pub fn at_risk_progress_threshold() -> Decimal {
    Decimal::new(6, 1)
}

/// `(actual ?? forecast) − target` in days; `None` without a target or without any
/// forecast/actual date. Positive means late.
pub fn go_live_variance_days(
    target: Option<NaiveDate>,
    forecast: Option<NaiveDate>,
    actual: Option<NaiveDate>,
) -> Option<i64> {
    let target = target?;
    let expected = actual.or(forecast)?;
    Some((expected - target).num_days())
}

/// Past its due date and not done.
pub fn milestone_late(today: NaiveDate, due: Option<NaiveDate>, status: MilestoneStatus) -> bool {
    !status.is_done() && due.is_some_and(|due| today > due)
}

/// Not done and either forecast beyond its due date, or due within the next
/// [`AT_RISK_HORIZON_DAYS`] with less than 60 % complete. A milestone already past due
/// is `late`, the stronger flag, and counts here only through its forecast.
pub fn milestone_at_risk(
    today: NaiveDate,
    due: Option<NaiveDate>,
    forecast: Option<NaiveDate>,
    percent_complete: Decimal,
    status: MilestoneStatus,
) -> bool {
    let Some(due) = due else { return false };
    if status.is_done() {
        return false;
    }
    let forecast_slips = forecast.is_some_and(|forecast| forecast > due);
    let days_until_due = (due - today).num_days();
    let due_soon_with_little_progress =
        (0..=AT_RISK_HORIZON_DAYS).contains(&days_until_due) && percent_complete < at_risk_progress_threshold();
    forecast_slips || due_soon_with_little_progress
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(offset: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 6, 1).unwrap() + chrono::Duration::days(offset)
    }

    fn pct(value: &str) -> Decimal {
        value.parse().unwrap()
    }

    #[test]
    fn variance_is_forecast_minus_target_while_not_live() {
        assert_eq!(go_live_variance_days(Some(day(-10)), Some(day(25)), None), Some(35));
    }

    #[test]
    fn variance_prefers_the_actual_go_live_date() {
        assert_eq!(go_live_variance_days(Some(day(0)), Some(day(30)), Some(day(-3))), Some(-3));
    }

    #[test]
    fn variance_is_null_without_a_target_or_without_any_expected_date() {
        assert_eq!(go_live_variance_days(None, Some(day(5)), Some(day(6))), None);
        assert_eq!(go_live_variance_days(Some(day(5)), None, None), None);
    }

    #[test]
    fn a_milestone_is_late_only_after_its_due_date_and_while_not_done() {
        assert!(!milestone_late(day(0), Some(day(0)), MilestoneStatus::InProgress), "due today is not late");
        assert!(milestone_late(day(1), Some(day(0)), MilestoneStatus::InProgress));
        assert!(milestone_late(day(1), Some(day(0)), MilestoneStatus::NotStarted));
        for done in
            [MilestoneStatus::Completed, MilestoneStatus::Accepted, MilestoneStatus::Waived, MilestoneStatus::Cancelled]
        {
            assert!(!milestone_late(day(10), Some(day(0)), done), "{done:?}");
        }
        assert!(!milestone_late(day(10), None, MilestoneStatus::InProgress));
    }

    #[test]
    fn a_forecast_beyond_the_due_date_puts_a_milestone_at_risk() {
        assert!(milestone_at_risk(day(0), Some(day(60)), Some(day(61)), pct("0.9"), MilestoneStatus::InProgress));
        assert!(!milestone_at_risk(day(0), Some(day(60)), Some(day(60)), pct("0.9"), MilestoneStatus::InProgress));
    }

    #[test]
    fn low_progress_within_fourteen_days_of_the_due_date_puts_a_milestone_at_risk() {
        assert!(milestone_at_risk(day(0), Some(day(14)), None, pct("0.59"), MilestoneStatus::InProgress));
        assert!(milestone_at_risk(day(0), Some(day(0)), None, pct("0"), MilestoneStatus::NotStarted));
        assert!(
            !milestone_at_risk(day(0), Some(day(15)), None, pct("0"), MilestoneStatus::NotStarted),
            "outside horizon"
        );
        assert!(
            !milestone_at_risk(day(0), Some(day(14)), None, pct("0.6"), MilestoneStatus::InProgress),
            "60 % is enough"
        );
    }

    #[test]
    fn an_overdue_milestone_is_at_risk_only_through_its_forecast() {
        assert!(!milestone_at_risk(day(5), Some(day(0)), Some(day(0)), pct("0.1"), MilestoneStatus::InProgress));
        assert!(milestone_at_risk(day(5), Some(day(0)), Some(day(9)), pct("0.1"), MilestoneStatus::InProgress));
    }

    #[test]
    fn a_done_or_undated_milestone_is_never_at_risk() {
        assert!(!milestone_at_risk(day(0), Some(day(5)), Some(day(30)), pct("0"), MilestoneStatus::Completed));
        assert!(!milestone_at_risk(day(0), Some(day(5)), Some(day(30)), pct("0"), MilestoneStatus::Waived));
        assert!(!milestone_at_risk(day(0), None, Some(day(30)), pct("0"), MilestoneStatus::InProgress));
    }
}
