//! The engagement, milestone and task state machines (docs/domain.md#delivery-commands) in
//! the kit's `StateMachine` form, so commands refuse anything else with
//! `INVALID_TRANSITION` naming the current and the allowed states. Guards that need other
//! data (checklist done, go-live completed, acceptance required) belong to the commands.

use atrium_kit::command::{CommandError, StateMachine, guard_transition};

use super::{EngagementStatus, MilestoneStatus, TaskStatus, lifecycle};

/// The engagement table of `lifecycle`. Resuming from hold is listed to both states it may
/// return to; [`guard_engagement_transition`] narrows it to the one it was paused from.
impl StateMachine for EngagementStatus {
    const ENTITY: &'static str = "Engagement";

    fn allowed_next(self) -> &'static [Self] {
        use EngagementStatus::{Cancelled, Closed, Delivering, Draft, Live, OnHold, Onboarding};
        match self {
            Draft => &[Onboarding, Cancelled],
            Onboarding => &[Delivering, OnHold, Cancelled],
            Delivering => &[Live, Closed, OnHold, Cancelled],
            Live => &[Closed],
            OnHold => &[Onboarding, Delivering, Cancelled],
            Closed | Cancelled => &[],
        }
    }

    fn name(self) -> &'static str {
        match self {
            EngagementStatus::Draft => "DRAFT",
            EngagementStatus::Onboarding => "ONBOARDING",
            EngagementStatus::Delivering => "DELIVERING",
            EngagementStatus::Live => "LIVE",
            EngagementStatus::OnHold => "ON_HOLD",
            EngagementStatus::Closed => "CLOSED",
            EngagementStatus::Cancelled => "CANCELLED",
        }
    }
}

/// `guard_transition` for engagements, knowing where an on-hold engagement was paused
/// from: it may resume only there (or be cancelled).
pub fn guard_engagement_transition(
    current: EngagementStatus,
    next: EngagementStatus,
    paused_from: Option<EngagementStatus>,
) -> Result<(), CommandError> {
    guard_transition(current, next)?;
    if lifecycle::transition_allowed(current, next, paused_from) {
        return Ok(());
    }
    let allowed = paused_from.into_iter().chain([EngagementStatus::Cancelled]);
    Err(CommandError::InvalidTransition {
        entity: EngagementStatus::ENTITY,
        current: current.name().to_owned(),
        requested: next.name().to_owned(),
        allowed: allowed.map(|state| state.name().to_owned()).collect(),
    })
}

/// `not_started → in_progress → completed → accepted`; `not_started | in_progress →
/// waived | cancelled`. Acceptance applies only to milestones that require it (the
/// command's guard).
impl StateMachine for MilestoneStatus {
    const ENTITY: &'static str = "Milestone";

    fn allowed_next(self) -> &'static [Self] {
        use MilestoneStatus::{Accepted, Cancelled, Completed, InProgress, NotStarted, Waived};
        match self {
            NotStarted => &[InProgress, Waived, Cancelled],
            InProgress => &[Completed, Waived, Cancelled],
            Completed => &[Accepted],
            Accepted | Waived | Cancelled => &[],
        }
    }

    fn name(self) -> &'static str {
        match self {
            MilestoneStatus::NotStarted => "NOT_STARTED",
            MilestoneStatus::InProgress => "IN_PROGRESS",
            MilestoneStatus::Completed => "COMPLETED",
            MilestoneStatus::Accepted => "ACCEPTED",
            MilestoneStatus::Waived => "WAIVED",
            MilestoneStatus::Cancelled => "CANCELLED",
        }
    }
}

/// `inactive → todo → in_progress → done`, `in_progress ↔ blocked`, any open task →
/// `cancelled`. A task to do may also be ticked off directly (`todo → done`): checklist
/// items are rarely "started".
impl StateMachine for TaskStatus {
    const ENTITY: &'static str = "Task";

    fn allowed_next(self) -> &'static [Self] {
        use TaskStatus::{Blocked, Cancelled, Done, InProgress, Inactive, Todo};
        match self {
            Inactive => &[Todo, Cancelled],
            Todo => &[InProgress, Done, Cancelled],
            InProgress => &[Done, Blocked, Cancelled],
            Blocked => &[InProgress, Cancelled],
            Done | Cancelled => &[],
        }
    }

    fn name(self) -> &'static str {
        match self {
            TaskStatus::Inactive => "INACTIVE",
            TaskStatus::Todo => "TODO",
            TaskStatus::InProgress => "IN_PROGRESS",
            TaskStatus::Blocked => "BLOCKED",
            TaskStatus::Done => "DONE",
            TaskStatus::Cancelled => "CANCELLED",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every (from, to) pair over `all`, split into the allowed ones and the rest, must
    /// match `expected` exactly: a table, so a new state cannot slip through unlisted.
    fn assert_table<S: StateMachine + std::fmt::Debug>(all: &[S], expected: &[(S, S)]) {
        for &from in all {
            for &to in all {
                let allowed = expected.contains(&(from, to));
                assert_eq!(from.can_become(to), allowed, "{from:?} → {to:?}");
                match guard_transition(from, to) {
                    Ok(()) => assert!(allowed, "{from:?} → {to:?} passed the guard"),
                    Err(CommandError::InvalidTransition { current, requested, allowed: next, .. }) => {
                        assert!(!allowed, "{from:?} → {to:?} refused");
                        assert_eq!((current.as_str(), requested.as_str()), (from.name(), to.name()));
                        let listed: Vec<String> = from.allowed_next().iter().map(|s| s.name().to_owned()).collect();
                        assert_eq!(next, listed);
                    }
                    Err(other) => panic!("{other:?}"),
                }
            }
        }
    }

    #[test]
    fn engagement_transitions_are_exactly_the_lifecycle_table() {
        use EngagementStatus::*;
        let all = [Draft, Onboarding, Delivering, Live, OnHold, Closed, Cancelled];
        let expected = [
            (Draft, Onboarding),
            (Draft, Cancelled),
            (Onboarding, Delivering),
            (Onboarding, OnHold),
            (Onboarding, Cancelled),
            (Delivering, Live),
            (Delivering, Closed),
            (Delivering, OnHold),
            (Delivering, Cancelled),
            (Live, Closed),
            (OnHold, Onboarding),
            (OnHold, Delivering),
            (OnHold, Cancelled),
        ];
        assert_table(&all, &expected);
        // The same table as `lifecycle`, resuming aside.
        for from in all {
            for to in all {
                let paused_from = (from == OnHold).then_some(to);
                assert_eq!(
                    from.can_become(to),
                    lifecycle::transition_allowed(from, to, paused_from),
                    "{from:?} → {to:?}"
                );
            }
        }
    }

    #[test]
    fn an_on_hold_engagement_resumes_only_where_it_was_paused() {
        use EngagementStatus::*;
        assert!(guard_engagement_transition(OnHold, Delivering, Some(Delivering)).is_ok());
        assert!(guard_engagement_transition(OnHold, Cancelled, Some(Delivering)).is_ok());
        match guard_engagement_transition(OnHold, Onboarding, Some(Delivering)) {
            Err(CommandError::InvalidTransition { current, allowed, .. }) => {
                assert_eq!(current, "ON_HOLD");
                assert_eq!(allowed, ["DELIVERING", "CANCELLED"]);
            }
            other => panic!("{other:?}"),
        }
        assert!(guard_engagement_transition(Draft, Live, None).is_err());
    }

    #[test]
    fn milestone_transitions_are_exactly_the_spec_table() {
        use MilestoneStatus::*;
        let all = [NotStarted, InProgress, Completed, Accepted, Waived, Cancelled];
        let expected = [
            (NotStarted, InProgress),
            (NotStarted, Waived),
            (NotStarted, Cancelled),
            (InProgress, Completed),
            (InProgress, Waived),
            (InProgress, Cancelled),
            (Completed, Accepted),
        ];
        assert_table(&all, &expected);
    }

    #[test]
    fn task_transitions_are_exactly_the_spec_table() {
        use TaskStatus::*;
        let all = [Inactive, Todo, InProgress, Blocked, Done, Cancelled];
        let expected = [
            (Inactive, Todo),
            (Inactive, Cancelled),
            (Todo, InProgress),
            (Todo, Done),
            (Todo, Cancelled),
            (InProgress, Done),
            (InProgress, Blocked),
            (InProgress, Cancelled),
            (Blocked, InProgress),
            (Blocked, Cancelled),
        ];
        assert_table(&all, &expected);
    }

    #[test]
    fn an_inactive_task_cannot_be_completed_before_activation() {
        match guard_transition(TaskStatus::Inactive, TaskStatus::Done) {
            Err(CommandError::InvalidTransition { current, allowed, .. }) => {
                assert_eq!(current, "INACTIVE");
                assert_eq!(allowed, ["TODO", "CANCELLED"]);
            }
            other => panic!("{other:?}"),
        }
    }
}
