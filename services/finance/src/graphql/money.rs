//! Money as the API serves it: an exact amount (a decimal string, two places) and its
//! ISO 4217 currency, never a float (docs/domain.md#finance).

use async_graphql::SimpleObject;
use rust_decimal::Decimal;

/// An exact amount of one currency.
#[derive(SimpleObject, Clone, Debug, PartialEq, Eq)]
pub struct Money {
    /// Rounded to the cent, half away from zero; serialised as a string.
    pub amount: Decimal,
    /// ISO 4217 code, e.g. `USD`.
    pub currency: String,
}

impl Money {
    pub fn new(amount: Decimal, currency: impl Into<String>) -> Self {
        let mut amount = amount.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
        amount.rescale(2);
        Money { amount, currency: currency.into() }
    }
}
