//! The customer journey (docs/domain.md#customer-lifecycle): the timeline's event types,
//! the engagement statuses analytics mirrors from delivery, and the stage rules. Pure
//! functions over plain values.

use atrium_kit::stored_enum;

stored_enum!(LifecycleEventType {
    ContractSigned => "contract_signed",
    OnboardingStarted => "onboarding_started",
    OnboardingCompleted => "onboarding_completed",
    WentLive => "went_live",
    TimeEntryApproved => "time_entry_approved",
});

stored_enum!(LifecycleStage {
    Onboarding => "onboarding",
    Implementing => "implementing",
    Hypercare => "hypercare",
    SteadyState => "steady_state",
    RenewalWindow => "renewal_window",
    Churned => "churned",
});

stored_enum!(EngagementStatus {
    Draft => "draft",
    Onboarding => "onboarding",
    Delivering => "delivering",
    Live => "live",
    OnHold => "on_hold",
    Closed => "closed",
    Cancelled => "cancelled",
});

impl EngagementStatus {
    /// Closed and cancelled engagements are over; every other status is open.
    pub fn is_open(self) -> bool {
        !matches!(self, EngagementStatus::Closed | EngagementStatus::Cancelled)
    }
}

/// Delivery's approved time entry (docs/domain.md#delivery-operations).
pub const TIME_ENTRY_APPROVED: &str = "delivery.time_entry.approved";

/// The timeline entry a source event adds, if any.
pub fn timeline_entry_for(event_type: &str) -> Option<LifecycleEventType> {
    match event_type {
        "finance.contract.signed" => Some(LifecycleEventType::ContractSigned),
        "delivery.engagement.activated" => Some(LifecycleEventType::OnboardingStarted),
        "delivery.engagement.onboarding_completed" => Some(LifecycleEventType::OnboardingCompleted),
        "delivery.engagement.went_live" => Some(LifecycleEventType::WentLive),
        // Approved time is delivered work the customer will see on an invoice.
        TIME_ENTRY_APPROVED => Some(LifecycleEventType::TimeEntryApproved),
        _ => None,
    }
}

/// The stage of a customer whose engagements have `statuses`. The first rule that holds
/// wins: an open engagement in onboarding, then one delivering, then one live; otherwise
/// steady state. The renewal window and churn need renewal and subscription data that
/// analytics does not receive yet, so those stages are never the answer today. A signed
/// contract alone is not an engagement and moves nothing: the engagement A1 creates does
/// once delivery activates it.
pub fn stage_of(statuses: impl IntoIterator<Item = EngagementStatus>) -> LifecycleStage {
    let statuses: Vec<EngagementStatus> = statuses.into_iter().filter(|status| status.is_open()).collect();
    let any = |wanted: EngagementStatus| statuses.contains(&wanted);
    if any(EngagementStatus::Onboarding) {
        LifecycleStage::Onboarding
    } else if any(EngagementStatus::Delivering) {
        LifecycleStage::Implementing
    } else if any(EngagementStatus::Live) {
        LifecycleStage::Hypercare
    } else {
        LifecycleStage::SteadyState
    }
}

#[cfg(test)]
mod tests {
    use super::{EngagementStatus::*, *};

    #[test]
    fn the_first_stage_rule_that_holds_decides() {
        let cases: &[(&[EngagementStatus], LifecycleStage)] = &[
            (&[], LifecycleStage::SteadyState),
            (&[Draft], LifecycleStage::SteadyState),
            (&[Onboarding], LifecycleStage::Onboarding),
            (&[Delivering], LifecycleStage::Implementing),
            (&[Live], LifecycleStage::Hypercare),
            (&[OnHold], LifecycleStage::SteadyState),
            (&[Closed, Cancelled], LifecycleStage::SteadyState),
            (&[Live, Delivering], LifecycleStage::Implementing),
            (&[Live, Delivering, Onboarding], LifecycleStage::Onboarding),
            (&[Closed, Live], LifecycleStage::Hypercare),
            (&[Draft, Onboarding, Closed], LifecycleStage::Onboarding),
        ];
        for (statuses, expected) in cases {
            assert_eq!(stage_of(statuses.iter().copied()), *expected, "{statuses:?}");
        }
    }

    #[test]
    fn only_closed_and_cancelled_engagements_are_over() {
        for status in [Draft, Onboarding, Delivering, Live, OnHold] {
            assert!(status.is_open(), "{status:?}");
        }
        assert!(!Closed.is_open());
        assert!(!Cancelled.is_open());
    }

    #[test]
    fn only_journey_milestones_reach_the_timeline() {
        let cases = [
            ("finance.contract.signed", Some(LifecycleEventType::ContractSigned)),
            ("delivery.engagement.activated", Some(LifecycleEventType::OnboardingStarted)),
            ("delivery.engagement.onboarding_completed", Some(LifecycleEventType::OnboardingCompleted)),
            ("delivery.engagement.went_live", Some(LifecycleEventType::WentLive)),
            ("delivery.time_entry.approved", Some(LifecycleEventType::TimeEntryApproved)),
            ("delivery.time_entry.submitted", None),
            ("delivery.engagement.created", None),
            ("delivery.engagement.status_changed", None),
            ("finance.customer.created", None),
        ];
        for (event_type, expected) in cases {
            assert_eq!(timeline_entry_for(event_type), expected, "{event_type}");
        }
    }
}
