//! Payment rules (docs/domain.md#invoices-payments-and-disputes): what a payment and its
//! allocations must satisfy before anything is written, and what stays on account.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use atrium_kit::stored_enum;

stored_enum!(PaymentMethod {
    Ach => "ach",
    Wire => "wire",
    Card => "card",
    Check => "check",
    DirectDebit => "direct_debit",
});

/// ISO 4217 codes finance accepts; anything else is an unknown currency.
pub const KNOWN_CURRENCIES: &[&str] = &[
    "AUD", "BRL", "CAD", "CHF", "CNY", "CZK", "DKK", "EUR", "GBP", "HKD", "INR", "JPY", "MXN", "NOK", "NZD", "PLN",
    "SEK", "SGD", "USD", "ZAR",
];

/// A payment as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    pub id: Uuid,
    pub customer_account_id: Uuid,
    pub received_at: chrono::DateTime<chrono::Utc>,
    pub amount: Decimal,
    /// On-account credit: the part no invoice took.
    pub unallocated_amount: Decimal,
    pub currency: String,
    pub method: String,
    pub reference: String,
}

/// The part of a payment applied to one invoice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Allocation {
    pub invoice_id: Uuid,
    pub amount: Decimal,
}

/// An invoice as an allocation sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Allocatable {
    pub invoice_id: Uuid,
    pub number: String,
    pub currency: String,
    pub balance_due: Decimal,
    pub open: bool,
}

fn is_cents(amount: Decimal) -> bool {
    amount.normalize().scale() <= 2
}

/// Checks a payment of `amount` in `currency` allocated as `allocations` to `invoices`
/// (the customer's invoices the allocations name, as read) and answers the unallocated
/// remainder. Every refusal names the field at fault.
pub fn check_payment(
    amount: Decimal,
    currency: &str,
    allocations: &[Allocation],
    invoices: &[Allocatable],
) -> Result<Decimal, String> {
    if !KNOWN_CURRENCIES.contains(&currency) {
        return Err(format!("currency `{currency}` is not a known ISO 4217 code"));
    }
    if amount <= Decimal::ZERO || !is_cents(amount) {
        return Err(format!("amount must be positive with at most two decimals, got {amount}"));
    }
    let mut allocated = Decimal::ZERO;
    for (index, allocation) in allocations.iter().enumerate() {
        let field = format!("allocations[{index}]");
        if allocation.amount <= Decimal::ZERO || !is_cents(allocation.amount) {
            return Err(format!(
                "{field}.amount must be positive with at most two decimals, got {}",
                allocation.amount
            ));
        }
        if allocations[..index].iter().any(|earlier| earlier.invoice_id == allocation.invoice_id) {
            return Err(format!("{field}.invoiceId names an invoice already allocated to"));
        }
        let Some(invoice) = invoices.iter().find(|invoice| invoice.invoice_id == allocation.invoice_id) else {
            return Err(format!("{field}.invoiceId is not an invoice of this customer"));
        };
        if !invoice.open {
            return Err(format!("{field}: invoice {} is not open", invoice.number));
        }
        if invoice.currency != currency {
            return Err(format!(
                "{field}: invoice {} is in {}, the payment in {currency}",
                invoice.number, invoice.currency
            ));
        }
        if allocation.amount > invoice.balance_due {
            return Err(format!(
                "{field}.amount {} is more than the open balance {} of invoice {}",
                allocation.amount, invoice.balance_due, invoice.number
            ));
        }
        allocated += allocation.amount;
    }
    if allocated > amount {
        return Err(format!("allocations add up to {allocated}, more than the payment's {amount}"));
    }
    Ok(amount - allocated)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn decimal(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn invoice(id: u128, currency: &str, balance: &str, open: bool) -> Allocatable {
        Allocatable {
            invoice_id: Uuid::from_u128(id),
            number: format!("INV-{id}"),
            currency: currency.to_owned(),
            balance_due: decimal(balance),
            open,
        }
    }

    fn allocation(id: u128, amount: &str) -> Allocation {
        Allocation { invoice_id: Uuid::from_u128(id), amount: decimal(amount) }
    }

    #[test]
    fn the_remainder_after_allocations_stays_on_account() {
        // 5,000.00 received: 1,500.00 to invoice 1 (owing 4,000.00) and 2,000.00 to
        // invoice 2 (owing exactly 2,000.00) leave 5,000.00 − 3,500.00 = 1,500.00 on account.
        let invoices = [invoice(1, "USD", "4000.00", true), invoice(2, "USD", "2000.00", true)];
        let allocations = [allocation(1, "1500.00"), allocation(2, "2000.00")];
        assert_eq!(check_payment(decimal("5000"), "USD", &allocations, &invoices), Ok(decimal("1500.00")));
        assert_eq!(check_payment(decimal("10.50"), "USD", &[], &invoices), Ok(decimal("10.50")));
    }

    #[test]
    fn bad_payments_are_refused_naming_the_field() {
        let invoices =
            [invoice(1, "USD", "4000.00", true), invoice(2, "EUR", "100.00", true), invoice(3, "USD", "9", false)];
        let refused = |amount: &str, currency: &str, allocations: &[Allocation]| {
            check_payment(decimal(amount), currency, allocations, &invoices).unwrap_err()
        };
        assert!(refused("-1", "USD", &[]).contains("amount must be positive"));
        assert!(refused("0", "USD", &[]).contains("amount must be positive"));
        assert!(refused("1.001", "USD", &[]).contains("two decimals"));
        assert!(refused("10", "XYZ", &[]).contains("currency `XYZ`"));
        assert!(refused("10", "usd", &[]).contains("currency"));
        assert!(
            refused("5000", "USD", &[allocation(1, "4000.01")])
                .contains("allocations[0].amount 4000.01 is more than the open balance 4000.00")
        );
        assert!(refused("5000", "USD", &[allocation(2, "10")]).contains("allocations[0]: invoice INV-2 is in EUR"));
        assert!(refused("5000", "USD", &[allocation(3, "1")]).contains("not open"));
        assert!(refused("5000", "USD", &[allocation(9, "1")]).contains("not an invoice of this customer"));
        assert!(refused("5000", "USD", &[allocation(1, "-5")]).contains("allocations[0].amount must be positive"));
        assert!(refused("5000", "USD", &[allocation(1, "1"), allocation(1, "2")]).contains("allocations[1].invoiceId"));
        assert!(refused("100", "USD", &[allocation(1, "100.01")]).contains("more than the payment's 100"));
    }
}
