//! The engagement state machine (docs/domain.md#engagement-lifecycle): which status changes
//! are allowed at all.
//! Guards that need other data (signed contract, checklist done, go-live milestone
//! completed, hypercare over) are checked by the command that performs the change.

use super::EngagementStatus::{self, Cancelled, Closed, Delivering, Draft, Live, OnHold, Onboarding};

/// A status change the state machine forbids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an engagement cannot move from {} to {}", from.as_str(), to.as_str())]
pub struct TransitionNotAllowed {
    pub from: EngagementStatus,
    pub to: EngagementStatus,
}

/// Whether `from → to` is an allowed transition. `paused_from` is the status an on-hold
/// engagement was paused from: resuming may only return there.
pub fn transition_allowed(from: EngagementStatus, to: EngagementStatus, paused_from: Option<EngagementStatus>) -> bool {
    match (from, to) {
        (Draft, Onboarding) | (Onboarding, Delivering) | (Delivering, Live) | (Live, Closed) => true,
        // Engagements without a go-live milestone (managed services, retainers) close from delivering.
        (Delivering, Closed) => true,
        (Draft | Onboarding | Delivering | OnHold, Cancelled) => true,
        (Onboarding | Delivering, OnHold) => true,
        (OnHold, resumed @ (Onboarding | Delivering)) => paused_from == Some(resumed),
        _ => false,
    }
}

/// As [`transition_allowed`], as a `Result` for commands.
pub fn check_transition(
    from: EngagementStatus,
    to: EngagementStatus,
    paused_from: Option<EngagementStatus>,
) -> Result<(), TransitionNotAllowed> {
    if transition_allowed(from, to, paused_from) { Ok(()) } else { Err(TransitionNotAllowed { from, to }) }
}

/// Closed and cancelled engagements never change again.
pub fn is_terminal(status: EngagementStatus) -> bool {
    matches!(status, Closed | Cancelled)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [EngagementStatus; 7] = [Draft, Onboarding, Delivering, Live, OnHold, Closed, Cancelled];

    #[test]
    fn allows_the_happy_path_from_draft_to_closed() {
        for (from, to) in [(Draft, Onboarding), (Onboarding, Delivering), (Delivering, Live), (Live, Closed)] {
            assert!(transition_allowed(from, to, None), "{from:?} → {to:?}");
        }
    }

    #[test]
    fn allows_closing_an_engagement_without_go_live_from_delivering() {
        assert!(transition_allowed(Delivering, Closed, None));
    }

    #[test]
    fn forbids_skipping_onboarding_or_delivery() {
        assert!(!transition_allowed(Draft, Delivering, None));
        assert!(!transition_allowed(Draft, Live, None));
        assert!(!transition_allowed(Onboarding, Live, None));
        assert!(!transition_allowed(Onboarding, Closed, None));
        assert!(!transition_allowed(Draft, Closed, None));
    }

    #[test]
    fn allows_cancelling_only_before_go_live() {
        for from in [Draft, Onboarding, Delivering, OnHold] {
            assert!(transition_allowed(from, Cancelled, None), "{from:?}");
        }
        assert!(!transition_allowed(Live, Cancelled, None));
        assert!(!transition_allowed(Closed, Cancelled, None));
    }

    #[test]
    fn allows_holding_only_onboarding_and_delivering_engagements() {
        assert!(transition_allowed(Onboarding, OnHold, None));
        assert!(transition_allowed(Delivering, OnHold, None));
        for from in [Draft, Live, Closed, Cancelled, OnHold] {
            assert!(!transition_allowed(from, OnHold, None), "{from:?}");
        }
    }

    #[test]
    fn resumes_an_on_hold_engagement_only_to_the_state_it_was_paused_from() {
        assert!(transition_allowed(OnHold, Delivering, Some(Delivering)));
        assert!(transition_allowed(OnHold, Onboarding, Some(Onboarding)));
        assert!(!transition_allowed(OnHold, Onboarding, Some(Delivering)));
        assert!(!transition_allowed(OnHold, Delivering, None));
        assert!(!transition_allowed(OnHold, Live, Some(Delivering)));
    }

    #[test]
    fn terminal_states_allow_no_transition_at_all() {
        for from in [Closed, Cancelled] {
            assert!(is_terminal(from));
            for to in ALL {
                assert!(!transition_allowed(from, to, Some(Delivering)), "{from:?} → {to:?}");
            }
        }
    }

    #[test]
    fn forbids_staying_in_the_same_state() {
        for status in ALL {
            assert!(!transition_allowed(status, status, Some(status)), "{status:?}");
        }
    }

    #[test]
    fn reports_the_rejected_transition() {
        assert_eq!(check_transition(Draft, Live, None), Err(TransitionNotAllowed { from: Draft, to: Live }));
        assert_eq!(check_transition(Draft, Onboarding, None), Ok(()));
        assert_eq!(
            TransitionNotAllowed { from: Draft, to: Live }.to_string(),
            "an engagement cannot move from draft to live"
        );
    }
}
