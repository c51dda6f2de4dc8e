//! CS actions and playbooks (docs/domain.md#cs-actions-and-playbooks): the customer-success
//! work automation rules (and people) open for a customer, its life cycle, and the
//! playbooks whose steps become an action's step rows with due dates from their offsets.

use atrium_kit::{command::StateMachine, stored_enum};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

stored_enum!(CsActionType {
    Risk => "risk",
    Renewal => "renewal",
    Expansion => "expansion",
    Onboarding => "onboarding",
    Lifecycle => "lifecycle",
    Finance => "finance",
});

stored_enum!(CsActionPriority {
    Low => "low",
    Medium => "medium",
    High => "high",
    Urgent => "urgent",
});

stored_enum!(CsActionStatus {
    Open => "open",
    InProgress => "in_progress",
    ClosedSuccess => "closed_success",
    ClosedNoAction => "closed_no_action",
    Dismissed => "dismissed",
});

impl CsActionStatus {
    pub fn is_open(self) -> bool {
        matches!(self, CsActionStatus::Open | CsActionStatus::InProgress)
    }
}

impl StateMachine for CsActionStatus {
    const ENTITY: &'static str = "CsAction";

    fn allowed_next(self) -> &'static [Self] {
        use CsActionStatus::*;
        match self {
            Open => &[InProgress, ClosedSuccess, ClosedNoAction, Dismissed],
            InProgress => &[ClosedSuccess, ClosedNoAction, Dismissed],
            ClosedSuccess | ClosedNoAction | Dismissed => &[],
        }
    }

    fn name(self) -> &'static str {
        match self {
            CsActionStatus::Open => "OPEN",
            CsActionStatus::InProgress => "IN_PROGRESS",
            CsActionStatus::ClosedSuccess => "CLOSED_SUCCESS",
            CsActionStatus::ClosedNoAction => "CLOSED_NO_ACTION",
            CsActionStatus::Dismissed => "DISMISSED",
        }
    }
}

/// A CS action as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct CsAction {
    pub id: Uuid,
    pub customer_account_id: Uuid,
    pub channel_partner_id: Option<Uuid>,
    pub playbook_id: Option<Uuid>,
    pub action_type: CsActionType,
    pub priority: CsActionPriority,
    pub owner_role: String,
    pub due_date: NaiveDate,
    pub status: CsActionStatus,
    pub reason: String,
    pub source_rule_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub version: i64,
}

/// One step of an action started from a playbook.
#[derive(Debug, Clone, PartialEq)]
pub struct CsActionStep {
    pub id: Uuid,
    pub cs_action_id: Uuid,
    pub ordinal: i32,
    pub title: String,
    pub owner_role: String,
    pub due_date: NaiveDate,
    pub done: bool,
}

/// One step of a playbook as configured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlaybookStep {
    pub title: String,
    pub owner_role: String,
    pub due_offset_days: i64,
}

impl PlaybookStep {
    /// The step's due date for an action started on `started_on`.
    pub fn due_on(&self, started_on: NaiveDate) -> NaiveDate {
        started_on + Duration::days(self.due_offset_days)
    }
}

/// A playbook: a named list of steps and the type of action it opens.
#[derive(Debug, Clone, PartialEq)]
pub struct Playbook {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub trigger_kind: String,
    pub action_type: CsActionType,
    pub steps: Vec<PlaybookStep>,
}

impl Playbook {
    /// The action's due date: its last step's.
    pub fn due_on(&self, started_on: NaiveDate) -> NaiveDate {
        self.steps.iter().map(|step| step.due_on(started_on)).max().unwrap_or(started_on)
    }
}

/// An in-app notification for the holders of a role.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub id: Uuid,
    pub customer_account_id: Option<Uuid>,
    pub recipient_role: String,
    /// The branded template's name, e.g. `dunning_31_60`.
    pub template: String,
    /// JSON text: the values the template is rendered with.
    pub message: String,
    pub source_rule_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use atrium_kit::command::guard_transition;

    #[test]
    fn open_actions_close_or_are_dismissed_and_closed_ones_stay_closed() {
        use CsActionStatus::*;
        let cases = [
            (Open, ClosedSuccess, true),
            (Open, Dismissed, true),
            (InProgress, ClosedNoAction, true),
            (ClosedSuccess, Open, false),
            (Dismissed, ClosedSuccess, false),
            (InProgress, Open, false),
        ];
        for (from, to, allowed) in cases {
            assert_eq!(guard_transition(from, to).is_ok(), allowed, "{from:?} -> {to:?}");
        }
    }

    #[test]
    fn step_due_dates_follow_their_offsets_and_the_action_is_due_with_its_last_step() {
        let started = NaiveDate::from_ymd_opt(2026, 12, 28).unwrap();
        let step =
            |offset| PlaybookStep { title: "x".to_owned(), owner_role: "csm".to_owned(), due_offset_days: offset };
        let playbook = Playbook {
            id: Uuid::nil(),
            code: "risk_recovery".to_owned(),
            name: "Risk recovery".to_owned(),
            trigger_kind: "automation".to_owned(),
            action_type: CsActionType::Risk,
            steps: vec![step(5), step(2)],
        };
        // 2026-12-28 + 5 days crosses the year: 2027-01-02.
        assert_eq!(playbook.steps[0].due_on(started), NaiveDate::from_ymd_opt(2027, 1, 2).unwrap());
        assert_eq!(playbook.due_on(started), NaiveDate::from_ymd_opt(2027, 1, 2).unwrap());
    }
}
