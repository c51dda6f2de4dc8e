//! Delivery operations as plain values (docs/domain.md#delivery-operations): staff members,
//! time entries and change requests, their state machines and the input rules of logging
//! time (no ORM, no GraphQL).

use atrium_kit::{
    command::{CommandError, StateMachine},
    stored_enum,
};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use uuid::Uuid;

use super::EngagementStatus;

stored_enum!(StaffRole {
    Consultant => "consultant",
    SeniorConsultant => "senior_consultant",
    SolutionArchitect => "solution_architect",
    ProjectManager => "project_manager",
    Csm => "csm",
    SupportEngineer => "support_engineer",
});

/// A person of the provider who delivers engagements.
#[derive(Debug, Clone)]
pub struct StaffMember {
    pub id: Uuid,
    /// The identity-provider subject this person signs in as, if they do.
    pub user_id: Option<String>,
    pub name: String,
    pub role: StaffRole,
    /// Loaded cost per hour.
    pub cost_rate: Decimal,
    /// Price per billable hour.
    pub bill_rate: Decimal,
    pub rate_currency: String,
    pub weekly_capacity_hours: Decimal,
    pub time_zone: String,
    pub active: bool,
}

stored_enum!(TimeCategory {
    Implementation => "implementation",
    Advisory => "advisory",
    Support => "support",
    ProjectManagement => "project_management",
    Training => "training",
    Internal => "internal",
    Presales => "presales",
});

stored_enum!(TimeEntryStatus {
    Draft => "draft",
    Submitted => "submitted",
    Approved => "approved",
    Rejected => "rejected",
});

/// `draft → submitted → approved | rejected`, `rejected → submitted` (resubmitted after
/// correction). Approved entries are final: finance has priced them.
impl StateMachine for TimeEntryStatus {
    const ENTITY: &'static str = "TimeEntry";

    fn allowed_next(self) -> &'static [Self] {
        use TimeEntryStatus::{Approved, Draft, Rejected, Submitted};
        match self {
            Draft => &[Submitted],
            Submitted => &[Approved, Rejected],
            Rejected => &[Submitted],
            Approved => &[],
        }
    }

    fn name(self) -> &'static str {
        match self {
            TimeEntryStatus::Draft => "DRAFT",
            TimeEntryStatus::Submitted => "SUBMITTED",
            TimeEntryStatus::Approved => "APPROVED",
            TimeEntryStatus::Rejected => "REJECTED",
        }
    }
}

/// Hours a staff member logged against an engagement on one day, with the rates of the
/// day it was logged.
#[derive(Debug, Clone)]
pub struct TimeEntry {
    pub id: Uuid,
    pub staff_member_id: Uuid,
    pub engagement_id: Uuid,
    pub work_date: NaiveDate,
    pub hours: Decimal,
    pub billable: bool,
    pub category: TimeCategory,
    pub note: Option<String>,
    pub status: TimeEntryStatus,
    pub cost_rate: Decimal,
    pub bill_rate: Decimal,
    pub currency: String,
    pub rejection_reason: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub version: i64,
}

/// Cent rounding, half away from zero, always two places.
pub fn cents(amount: Decimal) -> Decimal {
    let mut rounded = amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(2);
    rounded
}

impl TimeEntry {
    /// `hours × cost rate`, to the cent.
    pub fn cost_amount(&self) -> Decimal {
        cents(self.hours * self.cost_rate)
    }

    /// `hours × bill rate` for billable time, else zero.
    pub fn bill_amount(&self) -> Decimal {
        if self.billable { cents(self.hours * self.bill_rate) } else { cents(Decimal::ZERO) }
    }
}

/// Most hours one person can work on one day.
pub const MAX_HOURS_PER_DAY: Decimal = Decimal::from_parts(24, 0, 0, false, 0);

/// The rules of logging `hours` on `work_date` against an engagement in `engagement_status`
/// when the person already has `already_logged` hours (not rejected) that day. Refusals
/// name the field (`BAD_USER_INPUT`) or the state that forbids it (`CONFLICT`).
pub fn check_time_entry(
    hours: Decimal,
    work_date: NaiveDate,
    today: NaiveDate,
    already_logged: Decimal,
    engagement_status: EngagementStatus,
) -> Result<(), CommandError> {
    if hours <= Decimal::ZERO {
        return Err(CommandError::Invalid(format!("hours must be above 0, got {hours}")));
    }
    if hours.scale() > 2 && hours.normalize().scale() > 2 {
        return Err(CommandError::Invalid(format!("hours take at most two decimals, got {hours}")));
    }
    if work_date > today {
        return Err(CommandError::Invalid(format!("workDate {work_date} is in the future (today is {today})")));
    }
    if already_logged + hours > MAX_HOURS_PER_DAY {
        return Err(CommandError::Invalid(format!(
            "hours: {already_logged} already logged on {work_date}; {hours} more would exceed 24 in one day"
        )));
    }
    if matches!(engagement_status, EngagementStatus::Closed | EngagementStatus::Cancelled) {
        return Err(CommandError::Conflict(format!(
            "time cannot be logged on a {} engagement",
            engagement_status.as_str()
        )));
    }
    Ok(())
}

stored_enum!(ChangeRequestStatus {
    Submitted => "submitted",
    Approved => "approved",
    Rejected => "rejected",
    Withdrawn => "withdrawn",
});

/// `submitted → approved | rejected | withdrawn`; all three are final.
impl StateMachine for ChangeRequestStatus {
    const ENTITY: &'static str = "ChangeRequest";

    fn allowed_next(self) -> &'static [Self] {
        use ChangeRequestStatus::{Approved, Rejected, Submitted, Withdrawn};
        match self {
            Submitted => &[Approved, Rejected, Withdrawn],
            Approved | Rejected | Withdrawn => &[],
        }
    }

    fn name(self) -> &'static str {
        match self {
            ChangeRequestStatus::Submitted => "SUBMITTED",
            ChangeRequestStatus::Approved => "APPROVED",
            ChangeRequestStatus::Rejected => "REJECTED",
            ChangeRequestStatus::Withdrawn => "WITHDRAWN",
        }
    }
}

/// A proposed change of an engagement's scope and what it would cost in hours, money
/// and go-live days.
#[derive(Debug, Clone)]
pub struct ChangeRequest {
    pub id: Uuid,
    pub engagement_id: Uuid,
    pub number: String,
    pub title: String,
    pub reason: Option<String>,
    pub impact_hours: Decimal,
    pub impact_price: Decimal,
    pub impact_days: i32,
    pub status: ChangeRequestStatus,
    pub submitted_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_reason: Option<String>,
    pub version: i64,
}

#[cfg(test)]
mod tests {
    use atrium_kit::command::guard_transition;

    use super::*;

    fn assert_table<S: StateMachine + std::fmt::Debug>(all: &[S], expected: &[(S, S)]) {
        for &from in all {
            for &to in all {
                let allowed = expected.contains(&(from, to));
                assert_eq!(from.can_become(to), allowed, "{from:?} → {to:?}");
                match guard_transition(from, to) {
                    Ok(()) => assert!(allowed, "{from:?} → {to:?} passed the guard"),
                    Err(CommandError::InvalidTransition { current, allowed: next, .. }) => {
                        assert!(!allowed, "{from:?} → {to:?} refused");
                        assert_eq!(current, from.name());
                        let listed: Vec<String> = from.allowed_next().iter().map(|s| s.name().to_owned()).collect();
                        assert_eq!(next, listed);
                    }
                    Err(other) => panic!("{other:?}"),
                }
            }
        }
    }

    #[test]
    fn time_entry_transitions_are_exactly_the_table() {
        use TimeEntryStatus::*;
        assert_table(
            &[Draft, Submitted, Approved, Rejected],
            &[(Draft, Submitted), (Submitted, Approved), (Submitted, Rejected), (Rejected, Submitted)],
        );
    }

    #[test]
    fn change_request_transitions_are_exactly_the_table() {
        use ChangeRequestStatus::*;
        assert_table(
            &[Submitted, Approved, Rejected, Withdrawn],
            &[(Submitted, Approved), (Submitted, Rejected), (Submitted, Withdrawn)],
        );
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn code(result: Result<(), CommandError>) -> &'static str {
        match result {
            Ok(()) => "ok",
            Err(CommandError::Invalid(_)) => "BAD_USER_INPUT",
            Err(CommandError::Conflict(_)) => "CONFLICT",
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn logging_time_refuses_bad_hours_future_days_overfull_days_and_finished_engagements() {
        let today = day("2026-06-01");
        let hours = |text: &str| -> Decimal { text.parse().unwrap() };
        let delivering = EngagementStatus::Delivering;
        assert_eq!(code(check_time_entry(hours("7.5"), today, today, Decimal::ZERO, delivering)), "ok");
        assert_eq!(code(check_time_entry(hours("0"), today, today, Decimal::ZERO, delivering)), "BAD_USER_INPUT");
        assert_eq!(code(check_time_entry(hours("-2"), today, today, Decimal::ZERO, delivering)), "BAD_USER_INPUT");
        assert_eq!(code(check_time_entry(hours("30"), today, today, Decimal::ZERO, delivering)), "BAD_USER_INPUT");
        assert_eq!(code(check_time_entry(hours("1.125"), today, today, Decimal::ZERO, delivering)), "BAD_USER_INPUT");
        // 16 logged + 8 = 24 exactly is a (long) day; 16 + 8.25 is not.
        assert_eq!(code(check_time_entry(hours("8"), today, today, hours("16"), delivering)), "ok");
        assert_eq!(code(check_time_entry(hours("8.25"), today, today, hours("16"), delivering)), "BAD_USER_INPUT");
        assert_eq!(
            code(check_time_entry(hours("1"), day("2026-06-02"), today, Decimal::ZERO, delivering)),
            "BAD_USER_INPUT"
        );
        for finished in [EngagementStatus::Closed, EngagementStatus::Cancelled] {
            assert_eq!(code(check_time_entry(hours("1"), today, today, Decimal::ZERO, finished)), "CONFLICT");
        }
        assert_eq!(code(check_time_entry(hours("1"), today, today, Decimal::ZERO, EngagementStatus::OnHold)), "ok");
    }

    #[test]
    fn an_entry_is_priced_at_its_rates_to_the_cent() {
        let entry = |hours: &str, billable: bool| TimeEntry {
            id: Uuid::nil(),
            staff_member_id: Uuid::nil(),
            engagement_id: Uuid::nil(),
            work_date: day("2026-06-01"),
            hours: hours.parse().unwrap(),
            billable,
            category: TimeCategory::Implementation,
            note: None,
            status: TimeEntryStatus::Approved,
            cost_rate: "62.35".parse().unwrap(),
            bill_rate: "172.50".parse().unwrap(),
            currency: "USD".to_owned(),
            rejection_reason: None,
            submitted_at: None,
            decided_at: None,
            version: 1,
        };
        // 7.25 h × 62.35 = 452.0375 → 452.04; 7.25 h × 172.50 = 1,250.625 → 1,250.63 (half away from zero).
        assert_eq!(entry("7.25", true).cost_amount().to_string(), "452.04");
        assert_eq!(entry("7.25", true).bill_amount().to_string(), "1250.63");
        // Non-billable time costs the same and bills nothing.
        assert_eq!(entry("7.25", false).cost_amount().to_string(), "452.04");
        assert_eq!(entry("7.25", false).bill_amount().to_string(), "0.00");
        // 2 h × 62.35 = 124.70, two places kept.
        assert_eq!(entry("2", true).cost_amount().to_string(), "124.70");
    }
}
