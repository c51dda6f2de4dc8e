//! Billing schedules (docs/domain.md#billing-schedules): the billing line state machine,
//! what makes a line due (its trigger) and how a contract line's amount is split across
//! its billing milestones to the exact cent.

use atrium_kit::{command::StateMachine, stored_enum};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::round_money;

stored_enum!(BillingScheduleKind {
    FixedDates => "fixed_dates",
    Milestone => "milestone",
    Recurring => "recurring",
    TimeAndMaterials => "t_and_m",
});
stored_enum!(BillingTrigger {
    Date => "date",
    MilestoneCompleted => "milestone_completed",
    MilestoneAccepted => "milestone_accepted",
    PeriodEnd => "period_end",
});
stored_enum!(BillingLineStatus {
    Planned => "planned",
    Ready => "ready",
    Invoiced => "invoiced",
    AtRisk => "at_risk",
    Deferred => "deferred",
    Cancelled => "cancelled",
});

/// `planned → ready` (trigger met) `→ invoiced`; `planned → at_risk → planned` (risk
/// cleared) `| deferred`; a line whose trigger is met while at risk or deferred becomes
/// ready all the same (the work it bills is done); anything not yet invoiced may be
/// cancelled. Invoiced and cancelled are final.
impl StateMachine for BillingLineStatus {
    const ENTITY: &'static str = "BillingScheduleLine";

    fn allowed_next(self) -> &'static [Self] {
        use BillingLineStatus::{AtRisk, Cancelled, Deferred, Invoiced, Planned, Ready};
        match self {
            Planned => &[Ready, AtRisk, Cancelled],
            AtRisk => &[Planned, Deferred, Ready, Cancelled],
            Deferred => &[Ready, Cancelled],
            Ready => &[Invoiced, Cancelled],
            Invoiced | Cancelled => &[],
        }
    }

    fn name(self) -> &'static str {
        match self {
            BillingLineStatus::Planned => "PLANNED",
            BillingLineStatus::Ready => "READY",
            BillingLineStatus::Invoiced => "INVOICED",
            BillingLineStatus::AtRisk => "AT_RISK",
            BillingLineStatus::Deferred => "DEFERRED",
            BillingLineStatus::Cancelled => "CANCELLED",
        }
    }
}

impl BillingLineStatus {
    /// Lines still waiting for their trigger: the trigger makes them ready.
    pub const AWAITING_TRIGGER: [BillingLineStatus; 3] =
        [BillingLineStatus::Planned, BillingLineStatus::AtRisk, BillingLineStatus::Deferred];
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BillingSchedule {
    pub id: Uuid,
    pub contract_id: Uuid,
    pub contract_line_id: Option<Uuid>,
    pub engagement_id: Option<Uuid>,
    #[serde(with = "stored_text::kind")]
    pub kind: BillingScheduleKind,
    pub currency: String,
}

/// One amount of a schedule, due when its trigger is met.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BillingScheduleLine {
    pub id: Uuid,
    pub billing_schedule_id: Uuid,
    pub contract_id: Uuid,
    pub seq: i32,
    pub description: String,
    pub planned_date: Option<NaiveDate>,
    pub amount: Decimal,
    pub currency: String,
    #[serde(with = "stored_text::trigger")]
    pub trigger: BillingTrigger,
    pub milestone_id: Option<Uuid>,
    #[serde(with = "stored_text::status")]
    pub status: BillingLineStatus,
    pub risk_reason: Option<String>,
    pub invoice_id: Option<Uuid>,
    pub version: i64,
}

/// A billing milestone of an engagement, as delivery announces it.
#[derive(Debug, Clone, PartialEq)]
pub struct BillingMilestone {
    pub milestone_id: Uuid,
    pub seq: i32,
    pub name: String,
    pub due_date: Option<NaiveDate>,
    /// Fraction of the contract line billed at this milestone; `None` when the blueprint
    /// leaves it open.
    pub billing_pct: Option<Decimal>,
    pub requires_acceptance: bool,
}

/// What a milestone line waits for: the customer's acceptance when the milestone needs
/// it, else its completion.
pub fn milestone_trigger(requires_acceptance: bool) -> BillingTrigger {
    if requires_acceptance { BillingTrigger::MilestoneAccepted } else { BillingTrigger::MilestoneCompleted }
}

/// The share of each billing milestone, in milestone order. Open shares (`None`) split
/// what the given ones leave of the whole line equally; given shares are used as they are.
pub fn billing_shares(given: &[Option<Decimal>]) -> Vec<Decimal> {
    let open = given.iter().filter(|share| share.is_none()).count();
    let assigned: Decimal = given.iter().flatten().copied().sum();
    let open_share = if open == 0 {
        Decimal::ZERO
    } else {
        (Decimal::ONE - assigned).max(Decimal::ZERO) / Decimal::from(open as u64)
    };
    given.iter().map(|share| share.unwrap_or(open_share)).collect()
}

/// Splits `amount` by `shares`: each line `amount × share` rounded to the cent half away
/// from zero, except the last, which takes what the others leave of the rounded total
/// `amount × Σ shares`, so the lines always add up exactly.
pub fn split_amount(amount: Decimal, shares: &[Decimal]) -> Vec<Decimal> {
    let Some((_, leading)) = shares.split_last() else { return Vec::new() };
    let total = round_money(amount * shares.iter().copied().sum::<Decimal>());
    let mut amounts: Vec<Decimal> = leading.iter().map(|share| round_money(amount * share)).collect();
    let allotted: Decimal = amounts.iter().copied().sum();
    amounts.push(total - allotted);
    amounts
}

/// Serde as the stored text, so command answers round-trip.
mod stored_text {
    macro_rules! as_text {
        ($module:ident, $type:ty) => {
            pub mod $module {
                use serde::{Deserialize, Deserializer, Serializer};

                pub fn serialize<S: Serializer>(value: &$type, serializer: S) -> Result<S::Ok, S::Error> {
                    serializer.serialize_str(value.as_str())
                }

                pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<$type, D::Error> {
                    let text = String::deserialize(deserializer)?;
                    <$type>::parse(&text).map_err(serde::de::Error::custom)
                }
            }
        };
    }
    as_text!(kind, super::super::BillingScheduleKind);
    as_text!(trigger, super::super::BillingTrigger);
    as_text!(status, super::super::BillingLineStatus);
}

#[cfg(test)]
mod tests {
    use super::*;
    use atrium_kit::command::{CommandError, guard_transition};
    use std::str::FromStr;

    use BillingLineStatus::{AtRisk, Cancelled, Deferred, Invoiced, Planned, Ready};

    const ALL: [BillingLineStatus; 6] = [Planned, Ready, Invoiced, AtRisk, Deferred, Cancelled];

    /// Every step the line lifecycle permits, and nothing else.
    const ALLOWED: [(BillingLineStatus, BillingLineStatus); 11] = [
        (Planned, Ready),
        (Planned, AtRisk),
        (Planned, Cancelled),
        (AtRisk, Planned),
        (AtRisk, Deferred),
        (AtRisk, Ready),
        (AtRisk, Cancelled),
        (Deferred, Ready),
        (Deferred, Cancelled),
        (Ready, Invoiced),
        (Ready, Cancelled),
    ];

    #[test]
    fn every_step_of_the_table_passes_and_every_other_is_an_invalid_transition() {
        for from in ALL {
            for to in ALL {
                let outcome = guard_transition(from, to);
                if ALLOWED.contains(&(from, to)) {
                    assert!(outcome.is_ok(), "{from:?} -> {to:?}");
                } else {
                    match outcome {
                        Err(CommandError::InvalidTransition { current, allowed, .. }) => {
                            assert_eq!(current, from.name());
                            let expected: Vec<&str> = ALLOWED
                                .iter()
                                .filter(|(source, _)| *source == from)
                                .map(|(_, target)| target.name())
                                .collect();
                            assert_eq!(allowed, expected, "{from:?}");
                        }
                        other => panic!("{from:?} -> {to:?}: {other:?}"),
                    }
                }
            }
        }
    }

    #[test]
    fn invoiced_and_cancelled_lines_are_final() {
        assert!(Invoiced.allowed_next().is_empty());
        assert!(Cancelled.allowed_next().is_empty());
    }

    fn decimal(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    #[test]
    fn a_line_split_40_40_20_adds_up_to_the_cent_with_the_remainder_on_the_last_line() {
        // 10,000.01 × 0.40 = 4,000.004 → 4,000.00 (twice); total 10,000.01 × 1 = 10,000.01,
        // so the last line is 10,000.01 − 8,000.00 = 2,000.01 (not 2,000.002 → 2,000.00).
        let shares = [decimal("0.40"), decimal("0.40"), decimal("0.20")];
        let amounts = split_amount(decimal("10000.01"), &shares);
        assert_eq!(amounts, [decimal("4000.00"), decimal("4000.00"), decimal("2000.01")]);
        assert_eq!(amounts.iter().copied().sum::<Decimal>(), decimal("10000.01"));
    }

    #[test]
    fn thirds_round_half_away_from_zero_and_the_last_takes_the_rest() {
        // 100.00 / 3 = 33.333… → 33.33, 33.33, and 100.00 − 66.66 = 33.34.
        let third = Decimal::ONE / Decimal::from(3);
        let amounts = split_amount(decimal("100.00"), &[third, third, third]);
        assert_eq!(amounts, [decimal("33.33"), decimal("33.33"), decimal("33.34")]);
        // 0.05 × 0.5 = 0.025 → 0.03 (half away from zero); the last gets 0.05 − 0.03 = 0.02.
        let halves = split_amount(decimal("0.05"), &[decimal("0.5"), decimal("0.5")]);
        assert_eq!(halves, [decimal("0.03"), decimal("0.02")]);
    }

    #[test]
    fn shares_below_one_bill_only_their_part_of_the_line() {
        // 0.30 + 0.30 of 9,999.99: 2,999.997 → 3,000.00; total 5,999.994 → 5,999.99; last
        // = 5,999.99 − 3,000.00 = 2,999.99.
        let amounts = split_amount(decimal("9999.99"), &[decimal("0.30"), decimal("0.30")]);
        assert_eq!(amounts, [decimal("3000.00"), decimal("2999.99")]);
        assert!(split_amount(decimal("1.00"), &[]).is_empty());
    }

    #[test]
    fn open_shares_split_what_the_given_ones_leave() {
        // Given 0.40; two open shares split the remaining 0.60: 0.30 each.
        let shares = billing_shares(&[Some(decimal("0.40")), None, None]);
        assert_eq!(shares, [decimal("0.40"), decimal("0.30"), decimal("0.30")]);
        // All open: equal quarters.
        assert_eq!(billing_shares(&[None, None, None, None]), vec![decimal("0.25"); 4]);
        // Over-assigned: nothing is left for the open one.
        assert_eq!(billing_shares(&[Some(decimal("1.10")), None]), [decimal("1.10"), Decimal::ZERO]);
    }

    #[test]
    fn acceptance_decides_the_trigger() {
        assert_eq!(milestone_trigger(true), BillingTrigger::MilestoneAccepted);
        assert_eq!(milestone_trigger(false), BillingTrigger::MilestoneCompleted);
    }
}
