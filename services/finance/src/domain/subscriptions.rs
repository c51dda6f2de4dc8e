//! Subscriptions (docs/domain.md#subscriptions-and-mrr): the subscription state machine,
//! versioned items, and the normalisation of an item's price to one month.

use atrium_kit::command::StateMachine;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{BillingInterval, SubscriptionStatus, entitlements::months_in, round_money};

/// `pending → active`; `active ↔ past_due`; `active → non_renewing → active` (a scheduled
/// cancellation revoked); `active → expired` at term end; any open state → `cancelled`.
/// Cancelled and expired are final.
impl StateMachine for SubscriptionStatus {
    const ENTITY: &'static str = "Subscription";

    fn allowed_next(self) -> &'static [Self] {
        use SubscriptionStatus::{Active, Cancelled, Expired, NonRenewing, PastDue, Pending};
        match self {
            Pending => &[Active, Cancelled],
            Active => &[PastDue, NonRenewing, Expired, Cancelled],
            PastDue => &[Active, Cancelled],
            NonRenewing => &[Active, Cancelled],
            Cancelled | Expired => &[],
        }
    }

    fn name(self) -> &'static str {
        match self {
            SubscriptionStatus::Pending => "PENDING",
            SubscriptionStatus::Active => "ACTIVE",
            SubscriptionStatus::PastDue => "PAST_DUE",
            SubscriptionStatus::NonRenewing => "NON_RENEWING",
            SubscriptionStatus::Cancelled => "CANCELLED",
            SubscriptionStatus::Expired => "EXPIRED",
        }
    }
}

impl SubscriptionStatus {
    /// Statuses whose items count as recurring revenue.
    pub fn earns_mrr(self) -> bool {
        matches!(self, SubscriptionStatus::Active | SubscriptionStatus::PastDue | SubscriptionStatus::NonRenewing)
    }
}

/// An item's price for one month: `quantity × unit price × (1 − discount)` is the price
/// of one billing interval, divided by the interval's months (quarter ÷ 3, year ÷ 12) in
/// exact decimal arithmetic, then rounded once to the cent, half away from zero.
pub fn monthly_amount(
    quantity: Decimal,
    unit_price: Decimal,
    discount_pct: Decimal,
    interval: BillingInterval,
) -> Decimal {
    round_money(quantity * unit_price * (Decimal::ONE - discount_pct) / Decimal::from(months_in(interval)))
}

/// One version of a subscription item: valid from `effective_from` up to, not including,
/// `effective_to` (open while `None`). A change closes the version and opens another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionItem {
    pub id: Uuid,
    pub subscription_id: Uuid,
    pub contract_line_id: Option<Uuid>,
    pub service_package_id: Option<Uuid>,
    pub description: String,
    pub billing_interval: BillingInterval,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub discount_pct: Decimal,
    pub monthly_amount: Decimal,
    pub effective_from: NaiveDate,
    pub effective_to: Option<NaiveDate>,
}

impl SubscriptionItem {
    /// Whether this version is in effect on `date`.
    pub fn effective_on(&self, date: NaiveDate) -> bool {
        self.effective_from <= date && self.effective_to.is_none_or(|to| date < to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use atrium_kit::command::{CommandError, guard_transition};
    use std::str::FromStr;

    use SubscriptionStatus::{Active, Cancelled, Expired, NonRenewing, PastDue, Pending};

    const ALL: [SubscriptionStatus; 6] = [Pending, Active, PastDue, NonRenewing, Cancelled, Expired];

    /// Every step the lifecycle permits, and nothing else.
    const ALLOWED: [(SubscriptionStatus, SubscriptionStatus); 10] = [
        (Pending, Active),
        (Pending, Cancelled),
        (Active, PastDue),
        (Active, NonRenewing),
        (Active, Expired),
        (Active, Cancelled),
        (PastDue, Active),
        (PastDue, Cancelled),
        (NonRenewing, Active),
        (NonRenewing, Cancelled),
    ];

    #[test]
    fn exactly_the_permitted_steps_pass_the_guard() {
        for from in ALL {
            for to in ALL {
                let permitted = ALLOWED.contains(&(from, to));
                assert_eq!(guard_transition(from, to).is_ok(), permitted, "{from:?} -> {to:?}");
            }
        }
    }

    #[test]
    fn refused_steps_name_the_current_and_allowed_states() {
        let rejected: [(SubscriptionStatus, SubscriptionStatus, &[&str]); 5] = [
            (Cancelled, Active, &[]),
            (Expired, Cancelled, &[]),
            (NonRenewing, NonRenewing, &["ACTIVE", "CANCELLED"]),
            (Pending, NonRenewing, &["ACTIVE", "CANCELLED"]),
            (PastDue, NonRenewing, &["ACTIVE", "CANCELLED"]),
        ];
        for (from, to, allowed) in rejected {
            match guard_transition(from, to) {
                Err(CommandError::InvalidTransition { entity, current, allowed: listed, .. }) => {
                    assert_eq!(entity, "Subscription");
                    assert_eq!(current, from.name());
                    assert_eq!(listed, allowed, "{from:?} -> {to:?}");
                }
                other => panic!("{from:?} -> {to:?}: expected INVALID_TRANSITION, got {other:?}"),
            }
        }
    }

    #[test]
    fn only_running_subscriptions_earn_mrr() {
        let earning: Vec<SubscriptionStatus> = ALL.into_iter().filter(|status| status.earns_mrr()).collect();
        assert_eq!(earning, [Active, PastDue, NonRenewing]);
    }

    fn decimal(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    /// Month: 2 × 1500.00 = 3000.00. Quarter: 1000.00 / 3 = 333.333… → 333.33.
    /// Year: 12 × 1000.00 × (1 − 0.1) / 12 = 900.00; 1000.00 / 12 = 83.333… → 83.33;
    /// 250.06 / 12 = 20.838… → 20.84; 0.30 / 12 = 0.025 → 0.03 (half away from zero).
    #[test]
    fn monthly_amounts_are_normalised_and_rounded_once() {
        let cases = [
            ("2", "1500", "0", BillingInterval::Month, "3000.00"),
            ("1", "1000", "0", BillingInterval::Quarter, "333.33"),
            ("12", "1000", "0.1", BillingInterval::Year, "900.00"),
            ("1", "1000", "0", BillingInterval::Year, "83.33"),
            ("1", "250.06", "0", BillingInterval::Year, "20.84"),
            ("1", "0.30", "0", BillingInterval::Year, "0.03"),
        ];
        for (quantity, price, discount, interval, expected) in cases {
            let monthly = monthly_amount(decimal(quantity), decimal(price), decimal(discount), interval);
            assert_eq!(monthly.to_string(), expected, "{quantity} × {price} per {interval:?}");
        }
    }

    #[test]
    fn an_item_version_is_in_effect_from_its_start_up_to_its_end() {
        let day = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
        let item = SubscriptionItem {
            id: Uuid::nil(),
            subscription_id: Uuid::nil(),
            contract_line_id: None,
            service_package_id: None,
            description: "Retainer".to_owned(),
            billing_interval: BillingInterval::Month,
            quantity: Decimal::ONE,
            unit_price: decimal("100"),
            discount_pct: Decimal::ZERO,
            monthly_amount: decimal("100"),
            effective_from: day("2026-02-01"),
            effective_to: Some(day("2026-03-01")),
        };
        assert!(!item.effective_on(day("2026-01-31")));
        assert!(item.effective_on(day("2026-02-01")));
        assert!(item.effective_on(day("2026-02-28")));
        assert!(!item.effective_on(day("2026-03-01")));
    }
}
