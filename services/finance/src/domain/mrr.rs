//! The MRR ledger (docs/domain.md#subscriptions-and-mrr): append-only movements written
//! whenever a subscription's monthly recurring revenue changes, how a change is
//! classified, and the retention figures of a window computed from the ledger alone.
//!
//! A customer's MRR at the start of a window `[from, to]` is the sum of its movements
//! dated before `from`; at its end, of those dated on or before `to`. The cohort is the
//! customers with MRR at the start. Amounts are converted into the reporting currency at
//! the rates of `from` for both ends (constant currency).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{MrrMovementType, fx::AppliedRate, round_money};

/// One entry of the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MrrMovement {
    pub id: Uuid,
    pub customer_account_id: Uuid,
    pub subscription_id: Uuid,
    pub effective_date: NaiveDate,
    pub movement_type: MrrMovementType,
    /// Signed: positive for new, expansion and reactivation, negative for contraction and churn.
    pub mrr_delta: Decimal,
    pub currency: String,
    /// What caused it: the contract activated, the item changed, the cancellation.
    pub cause_ref: Option<String>,
}

/// The type of a movement adding MRR to a customer that had `customer_mrr_before`:
/// expansion for a customer already paying, reactivation for one that had churned
/// (paid before, nothing now), else new.
pub fn classify_addition(customer_mrr_before: Decimal, paid_before: bool) -> MrrMovementType {
    if customer_mrr_before > Decimal::ZERO {
        MrrMovementType::Expansion
    } else if paid_before {
        MrrMovementType::Reactivation
    } else {
        MrrMovementType::New
    }
}

/// The type of a change of an item's monthly amount by `delta`; none for no change.
pub fn classify_change(delta: Decimal) -> Option<MrrMovementType> {
    if delta > Decimal::ZERO {
        Some(MrrMovementType::Expansion)
    } else if delta < Decimal::ZERO {
        Some(MrrMovementType::Contraction)
    } else {
        None
    }
}

/// Retention of a window, in the reporting currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retention {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub currency: String,
    /// Σ MRR of the cohort at the start.
    pub starting_mrr: Decimal,
    /// Σ MRR of the same cohort at the end (new logos excluded).
    pub ending_mrr: Decimal,
    /// Σ growth of cohort customers that grew.
    pub expansion: Decimal,
    /// Σ shrinkage of cohort customers that shrank but still pay.
    pub contraction: Decimal,
    /// Σ starting MRR of cohort customers at 0 at the end.
    pub churn: Decimal,
    /// (start − churn − contraction) ÷ start, 4 decimals; `None` without a cohort.
    pub grr: Option<Decimal>,
    /// end ÷ start, 4 decimals; `None` without a cohort.
    pub nrr: Option<Decimal>,
    /// Churned cohort customers ÷ cohort customers, 4 decimals; `None` without a cohort.
    pub logo_churn: Option<Decimal>,
    pub cohort_customers: u32,
    pub churned_customers: u32,
    /// The rates used, one per currency converted (at `from`).
    pub rates: Vec<AppliedRate>,
}

/// A ratio served with four decimals, half away from zero.
fn ratio(numerator: Decimal, denominator: Decimal) -> Option<Decimal> {
    if denominator.is_zero() {
        return None;
    }
    let mut value = (numerator / denominator).round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero);
    value.rescale(4);
    Some(value)
}

/// Retention over `[from, to]` from `movements`; `rate_of(currency)` answers the rate
/// into the reporting currency at `from`, or `None` (then the currency is named in the
/// error).
pub fn retention(
    movements: &[MrrMovement],
    from: NaiveDate,
    to: NaiveDate,
    reporting_currency: &str,
    rate_of: impl Fn(&str) -> Option<AppliedRate>,
) -> Result<Retention, String> {
    if to < from {
        return Err(format!("to ({to}) must not be before from ({from})"));
    }
    let mut rates: BTreeMap<String, AppliedRate> = BTreeMap::new();
    // Per customer: (MRR at the start, MRR at the end), in the reporting currency.
    let mut customers: BTreeMap<Uuid, (Decimal, Decimal)> = BTreeMap::new();
    for movement in movements.iter().filter(|movement| movement.effective_date <= to) {
        let rate = match rates.get(&movement.currency) {
            Some(rate) => rate.rate,
            None => {
                let applied = rate_of(&movement.currency)
                    .ok_or_else(|| format!("no {}→{reporting_currency} rate on or before {from}", movement.currency))?;
                let rate = applied.rate;
                rates.insert(movement.currency.clone(), applied);
                rate
            }
        };
        let converted = movement.mrr_delta * rate;
        let (start, end) = customers.entry(movement.customer_account_id).or_default();
        if movement.effective_date < from {
            *start += converted;
        }
        *end += converted;
    }
    let mut figures = Retention {
        from,
        to,
        currency: reporting_currency.to_owned(),
        starting_mrr: Decimal::ZERO,
        ending_mrr: Decimal::ZERO,
        expansion: Decimal::ZERO,
        contraction: Decimal::ZERO,
        churn: Decimal::ZERO,
        grr: None,
        nrr: None,
        logo_churn: None,
        cohort_customers: 0,
        churned_customers: 0,
        rates: rates.into_values().filter(|rate| rate.rate_date.is_some()).collect(),
    };
    for (start, end) in customers.into_values().filter(|(start, _)| *start > Decimal::ZERO) {
        let end = end.max(Decimal::ZERO);
        figures.cohort_customers += 1;
        figures.starting_mrr += start;
        figures.ending_mrr += end;
        if end.is_zero() {
            figures.churned_customers += 1;
            figures.churn += start;
        } else if end > start {
            figures.expansion += end - start;
        } else {
            figures.contraction += start - end;
        }
    }
    figures.grr = ratio(figures.starting_mrr - figures.churn - figures.contraction, figures.starting_mrr);
    figures.nrr = ratio(figures.ending_mrr, figures.starting_mrr);
    figures.logo_churn = ratio(Decimal::from(figures.churned_customers), Decimal::from(figures.cohort_customers));
    for amount in [
        &mut figures.starting_mrr,
        &mut figures.ending_mrr,
        &mut figures.expansion,
        &mut figures.contraction,
        &mut figures.churn,
    ] {
        *amount = round_money(*amount);
    }
    Ok(figures)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fx::{FxRate, rate_on};
    use std::str::FromStr;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn decimal(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn movement(customer: u128, date: &str, movement_type: MrrMovementType, delta: &str) -> MrrMovement {
        movement_in(customer, date, movement_type, delta, "USD")
    }

    fn movement_in(
        customer: u128,
        date: &str,
        movement_type: MrrMovementType,
        delta: &str,
        currency: &str,
    ) -> MrrMovement {
        MrrMovement {
            id: Uuid::now_v7(),
            customer_account_id: Uuid::from_u128(customer),
            subscription_id: Uuid::from_u128(1000 + customer),
            effective_date: day(date),
            movement_type,
            mrr_delta: decimal(delta),
            currency: currency.to_owned(),
            cause_ref: None,
        }
    }

    fn usd_only(currency: &str) -> Option<AppliedRate> {
        rate_on(&[], currency, "USD", day("2026-01-01"))
    }

    use MrrMovementType::{Churn, Contraction, Expansion, New, Reactivation};

    /// Window 2026-01-01 .. 2026-03-31, USD.
    /// - A (1): new 1000 (2025-11-01), upgraded mid-window +500 (2026-01-15): 1000 → 1500.
    /// - B (2): new 2000 (2025-12-01), contraction −500 (2026-02-01): 2000 → 1500.
    /// - C (3): new 1500 (2025-10-01), churn −1500 on the last day (2026-03-31): 1500 → 0.
    /// - D (4): churned before the window (800 in 2025-06, gone 2025-09), reactivated 900
    ///   on 2026-02-10: MRR 0 at the start, so not in the cohort.
    /// - E (5): new 3000 on the first day (2026-01-01): not in the cohort (new logo).
    /// - F (6): 700 since 2025-12-15, churned 2026-01-10, reactivated 700 on 2026-03-01:
    ///   700 → 700, in the cohort and not churned.
    ///
    /// Cohort {A, B, C, F}: start = 1000 + 2000 + 1500 + 700 = 5200; end = 1500 + 1500 +
    /// 0 + 700 = 3700; expansion 500 (A), contraction 500 (B), churn 1500 (C).
    /// GRR = (5200 − 1500 − 500) / 5200 = 3200 / 5200 = 0.615384… → 0.6154.
    /// NRR = 3700 / 5200 = 0.711538… → 0.7115. Logo churn = 1 / 4 = 0.2500.
    #[test]
    fn golden_retention_with_a_mid_period_upgrade_and_reactivations() {
        let movements = [
            movement(1, "2025-11-01", New, "1000.00"),
            movement(1, "2026-01-15", Expansion, "500.00"),
            movement(2, "2025-12-01", New, "2000.00"),
            movement(2, "2026-02-01", Contraction, "-500.00"),
            movement(3, "2025-10-01", New, "1500.00"),
            movement(3, "2026-03-31", Churn, "-1500.00"),
            movement(4, "2025-06-01", New, "800.00"),
            movement(4, "2025-09-01", Churn, "-800.00"),
            movement(4, "2026-02-10", Reactivation, "900.00"),
            movement(5, "2026-01-01", New, "3000.00"),
            movement(6, "2025-12-15", New, "700.00"),
            movement(6, "2026-01-10", Churn, "-700.00"),
            movement(6, "2026-03-01", Reactivation, "700.00"),
            // After the window: ignored.
            movement(1, "2026-04-01", Churn, "-1500.00"),
        ];
        let figures = retention(&movements, day("2026-01-01"), day("2026-03-31"), "USD", usd_only).unwrap();
        assert_eq!(figures.starting_mrr.to_string(), "5200.00");
        assert_eq!(figures.ending_mrr.to_string(), "3700.00");
        assert_eq!(figures.expansion.to_string(), "500.00");
        assert_eq!(figures.contraction.to_string(), "500.00");
        assert_eq!(figures.churn.to_string(), "1500.00");
        assert_eq!(figures.grr.unwrap().to_string(), "0.6154");
        assert_eq!(figures.nrr.unwrap().to_string(), "0.7115");
        assert_eq!(figures.logo_churn.unwrap().to_string(), "0.2500");
        assert_eq!((figures.cohort_customers, figures.churned_customers), (4, 1));
        assert!(figures.rates.is_empty(), "nothing converted");
    }

    /// Reporting in USD. G (7) pays in EUR: new € 1000 (2025-12-01), expansion € 200
    /// (2026-02-01). H (8) pays $ 1000 throughout. EUR→USD: 1.0850 (2025-12-31), 1.0900
    /// (2026-01-01), 1.2000 (2026-02-15). Constant currency at the rate of `from`
    /// (2026-01-01 → 1.0900) for both ends: G 1090.00 → 1308.00 (1200 × 1.09),
    /// expansion 218.00. Start = 1090 + 1000 = 2090.00, end = 1308 + 1000 = 2308.00.
    /// GRR = 2090 / 2090 = 1.0000; NRR = 2308 / 2090 = 1.104306… → 1.1043.
    #[test]
    fn golden_retention_in_constant_currency() {
        let rates = [
            FxRate {
                from_currency: "EUR".into(),
                to_currency: "USD".into(),
                rate_date: day("2025-12-31"),
                rate: decimal("1.0850"),
            },
            FxRate {
                from_currency: "EUR".into(),
                to_currency: "USD".into(),
                rate_date: day("2026-01-01"),
                rate: decimal("1.0900"),
            },
            FxRate {
                from_currency: "EUR".into(),
                to_currency: "USD".into(),
                rate_date: day("2026-02-15"),
                rate: decimal("1.2000"),
            },
        ];
        let movements = [
            movement_in(7, "2025-12-01", New, "1000.00", "EUR"),
            movement_in(7, "2026-02-01", Expansion, "200.00", "EUR"),
            movement(8, "2025-12-01", New, "1000.00"),
        ];
        let from = day("2026-01-01");
        let figures =
            retention(&movements, from, day("2026-03-31"), "USD", |currency| rate_on(&rates, currency, "USD", from))
                .unwrap();
        assert_eq!(figures.starting_mrr.to_string(), "2090.00");
        assert_eq!(figures.ending_mrr.to_string(), "2308.00");
        assert_eq!(figures.expansion.to_string(), "218.00");
        assert_eq!(figures.grr.unwrap().to_string(), "1.0000");
        assert_eq!(figures.nrr.unwrap().to_string(), "1.1043");
        assert_eq!(figures.rates.len(), 1);
        assert_eq!(figures.rates[0].rate.to_string(), "1.0900");
        assert_eq!(figures.rates[0].rate_date, Some(from));

        let missing = retention(&movements, from, day("2026-03-31"), "USD", usd_only).unwrap_err();
        assert!(missing.contains("EUR→USD"), "{missing}");
    }

    #[test]
    fn an_empty_window_has_no_ratios_and_a_reversed_one_is_refused() {
        let figures = retention(&[], day("2026-01-01"), day("2026-01-31"), "USD", usd_only).unwrap();
        assert_eq!((figures.grr, figures.nrr, figures.logo_churn), (None, None, None));
        assert!(retention(&[], day("2026-02-01"), day("2026-01-31"), "USD", usd_only).is_err());
    }

    #[test]
    fn additions_and_changes_are_classified() {
        assert_eq!(classify_addition(Decimal::ZERO, false), New);
        assert_eq!(classify_addition(Decimal::ZERO, true), Reactivation);
        assert_eq!(classify_addition(decimal("10"), true), Expansion);
        assert_eq!(classify_change(decimal("0.01")), Some(Expansion));
        assert_eq!(classify_change(decimal("-0.01")), Some(Contraction));
        assert_eq!(classify_change(Decimal::ZERO), None);
    }
}
