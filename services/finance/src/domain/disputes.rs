//! Dispute rules (docs/domain.md#invoices-payments-and-disputes): the dispute state
//! machine, the outcomes of a resolution and what each credits, and what a customer may
//! dispute.

use atrium_kit::command::StateMachine;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use super::enums::DisputeOutcome;
use super::{DisputeReason, DisputeStatus};

impl DisputeOutcome {
    /// The status a resolution with this outcome leaves: upheld in whole or in part is
    /// decided for the customer, rejected for the provider.
    pub fn resolved_status(self) -> DisputeStatus {
        match self {
            DisputeOutcome::Upheld | DisputeOutcome::PartiallyUpheld => DisputeStatus::ResolvedCustomer,
            DisputeOutcome::Rejected => DisputeStatus::ResolvedProvider,
        }
    }
}

/// `open → under_review → resolved_customer | resolved_provider`; `open` may be resolved
/// directly; `open | under_review → withdrawn`. Resolved and withdrawn are final.
impl StateMachine for DisputeStatus {
    const ENTITY: &'static str = "Dispute";

    fn allowed_next(self) -> &'static [Self] {
        use DisputeStatus::{Open, ResolvedCustomer, ResolvedProvider, UnderReview, Withdrawn};
        match self {
            Open => &[UnderReview, ResolvedCustomer, ResolvedProvider, Withdrawn],
            UnderReview => &[ResolvedCustomer, ResolvedProvider, Withdrawn],
            ResolvedCustomer | ResolvedProvider | Withdrawn => &[],
        }
    }

    fn name(self) -> &'static str {
        match self {
            DisputeStatus::Open => "OPEN",
            DisputeStatus::UnderReview => "UNDER_REVIEW",
            DisputeStatus::ResolvedCustomer => "RESOLVED_CUSTOMER",
            DisputeStatus::ResolvedProvider => "RESOLVED_PROVIDER",
            DisputeStatus::Withdrawn => "WITHDRAWN",
        }
    }
}

/// A customer's challenge of (part of) an invoice.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Dispute {
    pub id: Uuid,
    pub invoice_id: Uuid,
    pub opened_at: DateTime<Utc>,
    pub reason: DisputeReason,
    pub note: Option<String>,
    pub amount: Decimal,
    pub status: DisputeStatus,
    pub outcome: Option<DisputeOutcome>,
    pub credited_amount: Option<Decimal>,
    pub credit_note_id: Option<Uuid>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub version: i64,
}

fn has_cents_only(amount: Decimal) -> bool {
    amount.normalize().scale() <= 2
}

/// What a customer may dispute: a positive amount to the cent, at most the invoice's
/// balance due (what is paid is settled; a refund is a credit note).
pub fn check_dispute_amount(amount: Decimal, balance_due: Decimal) -> Result<(), String> {
    if amount <= Decimal::ZERO {
        return Err(format!("amount must be positive, got {amount}"));
    }
    if !has_cents_only(amount) {
        return Err(format!("amount {amount} has more than two decimals"));
    }
    if amount > balance_due {
        return Err(format!("amount {amount} is more than the balance due {balance_due}"));
    }
    Ok(())
}

/// The credit a resolution grants: `upheld` credits the disputed amount (a given
/// `credit_amount` must equal it), `partially_upheld` a given amount strictly between 0
/// and the disputed amount, `rejected` nothing (a given amount must be 0).
pub fn resolution_credit(
    outcome: DisputeOutcome,
    disputed: Decimal,
    credit_amount: Option<Decimal>,
) -> Result<Decimal, String> {
    if let Some(amount) = credit_amount
        && !has_cents_only(amount)
    {
        return Err(format!("creditAmount {amount} has more than two decimals"));
    }
    match (outcome, credit_amount) {
        (DisputeOutcome::Upheld, None) => Ok(disputed),
        (DisputeOutcome::Upheld, Some(amount)) if amount == disputed => Ok(disputed),
        (DisputeOutcome::Upheld, Some(amount)) => {
            Err(format!("creditAmount {amount} of an upheld dispute must be the disputed {disputed}"))
        }
        (DisputeOutcome::PartiallyUpheld, Some(amount)) if amount > Decimal::ZERO && amount < disputed => Ok(amount),
        (DisputeOutcome::PartiallyUpheld, Some(amount)) => Err(format!(
            "creditAmount {amount} of a partially upheld dispute must be above 0 and below the disputed {disputed}"
        )),
        (DisputeOutcome::PartiallyUpheld, None) => {
            Err("creditAmount is required when a dispute is partially upheld".to_owned())
        }
        (DisputeOutcome::Rejected, None) => Ok(Decimal::ZERO),
        (DisputeOutcome::Rejected, Some(amount)) if amount.is_zero() => Ok(Decimal::ZERO),
        (DisputeOutcome::Rejected, Some(amount)) => {
            Err(format!("creditAmount {amount} must be 0 when a dispute is rejected"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DisputeStatus::{Open, ResolvedCustomer, ResolvedProvider, UnderReview, Withdrawn};
    use std::str::FromStr;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    #[test]
    fn the_dispute_state_machine_allows_exactly_its_table() {
        let all = [Open, UnderReview, ResolvedCustomer, ResolvedProvider, Withdrawn];
        let allowed = [
            (Open, UnderReview),
            (Open, ResolvedCustomer),
            (Open, ResolvedProvider),
            (Open, Withdrawn),
            (UnderReview, ResolvedCustomer),
            (UnderReview, ResolvedProvider),
            (UnderReview, Withdrawn),
        ];
        for from in all {
            for to in all {
                assert_eq!(from.can_become(to), allowed.contains(&(from, to)), "{from:?} -> {to:?}");
            }
        }
    }

    #[test]
    fn an_invalid_dispute_transition_names_what_is_allowed() {
        let error = atrium_kit::command::guard_transition(ResolvedCustomer, UnderReview).unwrap_err();
        let text = format!("{error:?}");
        assert!(text.contains("RESOLVED_CUSTOMER") && text.contains("UNDER_REVIEW"), "{text}");
        let error = atrium_kit::command::guard_transition(UnderReview, Open).unwrap_err();
        assert!(format!("{error:?}").contains("RESOLVED_PROVIDER"));
    }

    #[test]
    fn outcomes_resolve_for_the_customer_or_the_provider() {
        assert_eq!(DisputeOutcome::Upheld.resolved_status(), ResolvedCustomer);
        assert_eq!(DisputeOutcome::PartiallyUpheld.resolved_status(), ResolvedCustomer);
        assert_eq!(DisputeOutcome::Rejected.resolved_status(), ResolvedProvider);
    }

    #[test]
    fn each_outcome_credits_its_amount() {
        let disputed = d("1200.00");
        assert_eq!(resolution_credit(DisputeOutcome::Upheld, disputed, None), Ok(d("1200.00")));
        assert_eq!(resolution_credit(DisputeOutcome::Upheld, disputed, Some(d("1200"))), Ok(d("1200.00")));
        assert!(resolution_credit(DisputeOutcome::Upheld, disputed, Some(d("1000"))).is_err());
        assert_eq!(resolution_credit(DisputeOutcome::PartiallyUpheld, disputed, Some(d("450.50"))), Ok(d("450.50")));
        assert!(resolution_credit(DisputeOutcome::PartiallyUpheld, disputed, None).is_err());
        assert!(resolution_credit(DisputeOutcome::PartiallyUpheld, disputed, Some(d("0"))).is_err());
        assert!(resolution_credit(DisputeOutcome::PartiallyUpheld, disputed, Some(d("1200"))).is_err());
        assert!(resolution_credit(DisputeOutcome::PartiallyUpheld, disputed, Some(d("10.001"))).is_err());
        assert_eq!(resolution_credit(DisputeOutcome::Rejected, disputed, None), Ok(d("0")));
        assert_eq!(resolution_credit(DisputeOutcome::Rejected, disputed, Some(d("0.00"))), Ok(d("0")));
        assert!(resolution_credit(DisputeOutcome::Rejected, disputed, Some(d("5"))).is_err());
    }

    #[test]
    fn a_dispute_is_positive_to_the_cent_and_within_the_balance() {
        assert!(check_dispute_amount(d("500.00"), d("500.00")).is_ok());
        assert!(check_dispute_amount(d("0"), d("500")).is_err());
        assert!(check_dispute_amount(d("-1"), d("500")).is_err());
        assert!(check_dispute_amount(d("500.01"), d("500")).is_err());
        assert!(check_dispute_amount(d("1.005"), d("500")).is_err());
    }
}
