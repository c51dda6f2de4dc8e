//! Invoice rules (docs/domain.md#invoices-payments-and-disputes): the invoice state
//! machine, the due date, the status an invoice settles into after money arrives or is
//! credited, and what a credit note may credit.

use atrium_kit::command::StateMachine;
use chrono::{NaiveDate, TimeDelta};
use rust_decimal::Decimal;

use super::{InvoiceStatus, balance_due};

/// `draft → issued → partially_paid → paid`, `issued → paid`; `issued | partially_paid →
/// disputed → issued | partially_paid | paid` (the dispute resolved); `draft → void`,
/// `issued → void` (nothing paid; checked by the command); `issued | partially_paid →
/// uncollectible` (written off). Paid, void and uncollectible are final.
impl StateMachine for InvoiceStatus {
    const ENTITY: &'static str = "Invoice";

    fn allowed_next(self) -> &'static [Self] {
        use InvoiceStatus::{Disputed, Draft, Issued, Paid, PartiallyPaid, Uncollectible, Void};
        match self {
            Draft => &[Issued, Void],
            Issued => &[PartiallyPaid, Paid, Disputed, Void, Uncollectible],
            PartiallyPaid => &[Paid, Disputed, Uncollectible],
            Disputed => &[Issued, PartiallyPaid, Paid],
            Paid | Void | Uncollectible => &[],
        }
    }

    fn name(self) -> &'static str {
        match self {
            InvoiceStatus::Draft => "DRAFT",
            InvoiceStatus::Issued => "ISSUED",
            InvoiceStatus::PartiallyPaid => "PARTIALLY_PAID",
            InvoiceStatus::Paid => "PAID",
            InvoiceStatus::Disputed => "DISPUTED",
            InvoiceStatus::Void => "VOID",
            InvoiceStatus::Uncollectible => "UNCOLLECTIBLE",
        }
    }
}

/// Due = issue + the customer's payment terms.
pub fn due_date(issue_date: NaiveDate, payment_terms_days: i32) -> NaiveDate {
    issue_date + TimeDelta::days(i64::from(payment_terms_days))
}

/// Where an issued invoice (not disputed) stands given what was paid and credited:
/// nothing left is `paid`, something paid is `partially_paid`, else `issued`.
pub fn settled_status(total: Decimal, amount_paid: Decimal, amount_credited: Decimal) -> InvoiceStatus {
    if balance_due(total, amount_paid, amount_credited) <= Decimal::ZERO {
        InvoiceStatus::Paid
    } else if amount_paid > Decimal::ZERO {
        InvoiceStatus::PartiallyPaid
    } else {
        InvoiceStatus::Issued
    }
}

/// A credit note's amount: positive, at most two decimals, never above what is open.
pub fn check_credit(amount: Decimal, open_balance: Decimal) -> Result<(), String> {
    if amount <= Decimal::ZERO {
        return Err(format!("amount must be positive, got {amount}"));
    }
    if amount.scale() > 2 && amount.normalize().scale() > 2 {
        return Err(format!("amount {amount} has more than two decimals"));
    }
    if amount > open_balance {
        return Err(format!("amount {amount} is more than the open balance {open_balance}"));
    }
    Ok(())
}

/// The `n`-th invoice number of a year: `INV-2026-00042`.
pub fn invoice_number(year: i32, n: u64) -> String {
    format!("INV-{year}-{n:05}")
}

/// The sequence part of an invoice number, for the next free one.
pub fn invoice_sequence(number: &str) -> Option<u64> {
    number.strip_prefix("INV-")?.rsplit('-').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use atrium_kit::command::{CommandError, guard_transition};
    use std::str::FromStr;

    use InvoiceStatus::{Disputed, Draft, Issued, Paid, PartiallyPaid, Uncollectible, Void};

    const ALL: [InvoiceStatus; 7] = [Draft, Issued, PartiallyPaid, Paid, Disputed, Void, Uncollectible];

    const ALLOWED: [(InvoiceStatus, InvoiceStatus); 13] = [
        (Draft, Issued),
        (Draft, Void),
        (Issued, PartiallyPaid),
        (Issued, Paid),
        (Issued, Disputed),
        (Issued, Void),
        (Issued, Uncollectible),
        (PartiallyPaid, Paid),
        (PartiallyPaid, Disputed),
        (PartiallyPaid, Uncollectible),
        (Disputed, Issued),
        (Disputed, PartiallyPaid),
        (Disputed, Paid),
    ];

    #[test]
    fn every_step_of_the_table_passes_and_every_other_is_an_invalid_transition() {
        for from in ALL {
            for to in ALL {
                match guard_transition(from, to) {
                    Ok(()) => assert!(ALLOWED.contains(&(from, to)), "{from:?} -> {to:?} passed"),
                    Err(CommandError::InvalidTransition { current, allowed, .. }) => {
                        assert!(!ALLOWED.contains(&(from, to)), "{from:?} -> {to:?} refused");
                        assert_eq!(current, from.name());
                        let expected: Vec<&str> =
                            ALLOWED.iter().filter(|(source, _)| *source == from).map(|(_, to)| to.name()).collect();
                        assert_eq!(allowed, expected);
                    }
                    Err(other) => panic!("{other:?}"),
                }
            }
        }
        for settled in [Paid, Void, Uncollectible] {
            assert!(settled.allowed_next().is_empty(), "{settled:?} is final");
        }
    }

    fn decimal(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    #[test]
    fn due_dates_add_the_payment_terms_in_calendar_days() {
        let issue = NaiveDate::from_ymd_opt(2026, 1, 31).unwrap();
        assert_eq!(due_date(issue, 30), NaiveDate::from_ymd_opt(2026, 3, 2).unwrap());
        assert_eq!(due_date(issue, 0), issue);
    }

    #[test]
    fn an_invoice_settles_by_what_was_paid_and_credited() {
        // 4,000.00 total: 1,500.00 paid leaves 2,500.00 → partially paid; 1,500.00 paid and
        // 2,500.00 credited leaves 0 → paid; only 500.00 credited → still issued.
        assert_eq!(settled_status(decimal("4000.00"), decimal("1500.00"), Decimal::ZERO), PartiallyPaid);
        assert_eq!(settled_status(decimal("4000.00"), decimal("1500.00"), decimal("2500.00")), Paid);
        assert_eq!(settled_status(decimal("4000.00"), Decimal::ZERO, decimal("500.00")), Issued);
        assert_eq!(settled_status(decimal("4000.00"), decimal("4000.00"), Decimal::ZERO), Paid);
    }

    #[test]
    fn a_credit_note_is_positive_exact_to_the_cent_and_within_the_open_balance() {
        let open = decimal("2500.00");
        assert!(check_credit(decimal("2500.00"), open).is_ok());
        assert!(check_credit(decimal("0.01"), open).is_ok());
        assert!(check_credit(decimal("2500.01"), open).unwrap_err().contains("open balance"));
        assert!(check_credit(Decimal::ZERO, open).unwrap_err().contains("positive"));
        assert!(check_credit(decimal("-5"), open).unwrap_err().contains("positive"));
        assert!(check_credit(decimal("1.005"), open).unwrap_err().contains("two decimals"));
        assert!(check_credit(decimal("1.500"), open).is_ok(), "trailing zeros are still cents");
    }

    #[test]
    fn invoice_numbers_count_per_tenant_across_years() {
        assert_eq!(invoice_number(2026, 42), "INV-2026-00042");
        assert_eq!(invoice_sequence("INV-2025-00117"), Some(117));
        assert_eq!(invoice_sequence("DRAFT-0197"), None);
    }
}
