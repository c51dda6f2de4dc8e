//! Receivables arithmetic (docs/domain.md#receivables): balance due, days past due, aging
//! buckets and the share of open AR more than 60 days past due. Everything here is
//! derived "as of" a date the caller passes in, never stored, so it cannot go stale.

use chrono::NaiveDate;
use rust_decimal::{Decimal, prelude::ToPrimitive};

use super::{Invoice, InvoiceStatus};

/// `total − paid − credited`, never negative: an overpayment is on-account credit of the
/// customer, not a negative balance on this invoice.
pub fn balance_due(total: Decimal, amount_paid: Decimal, amount_credited: Decimal) -> Decimal {
    (total - amount_paid - amount_credited).max(Decimal::ZERO)
}

/// Overdue is derived, not a state: an open invoice with a balance whose due date has
/// passed.
pub fn is_overdue(status: InvoiceStatus, balance_due: Decimal, due_date: NaiveDate, today: NaiveDate) -> bool {
    status.is_open() && balance_due > Decimal::ZERO && due_date < today
}

/// Whole calendar days the invoice is past due as of `today`; 0 when it is not overdue.
pub fn days_past_due(status: InvoiceStatus, balance_due: Decimal, due_date: NaiveDate, today: NaiveDate) -> i64 {
    if is_overdue(status, balance_due, due_date, today) { (today - due_date).num_days() } else { 0 }
}

/// Due-date-basis aging buckets with the default edges 30/60/90 (docs/domain.md#receivables).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AgingBucket {
    NotDue,
    Days1To30,
    Days31To60,
    Days61To90,
    Days90Plus,
}

/// Bucket edges in days past due; a tenant setting (`aging_bucket_edges`), default 30/60/90.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgingEdges(pub [i64; 3]);

impl Default for AgingEdges {
    fn default() -> Self {
        AgingEdges([30, 60, 90])
    }
}

/// The bucket of an invoice `days_past_due` days overdue. Each edge is the inclusive upper
/// bound of its bucket: 30 is still `1–30`, 31 is `31–60`, 91 is `90+`.
pub fn aging_bucket(days_past_due: i64, edges: AgingEdges) -> AgingBucket {
    let AgingEdges([first, second, third]) = edges;
    match days_past_due {
        days if days <= 0 => AgingBucket::NotDue,
        days if days <= first => AgingBucket::Days1To30,
        days if days <= second => AgingBucket::Days31To60,
        days if days <= third => AgingBucket::Days61To90,
        _ => AgingBucket::Days90Plus,
    }
}

/// Σ balance due of the open invoices.
pub fn open_balance<'a>(invoices: impl IntoIterator<Item = &'a Invoice>) -> Decimal {
    invoices.into_iter().filter(|invoice| invoice.status.is_open()).map(|invoice| invoice.balance_due).sum()
}

/// Health measure `ar_over_60_share` (docs/domain.md#health-score): open AR more than 60 days past due
/// divided by all open AR; `None` when the customer owes nothing (no data, not "perfect").
pub fn ar_over_60_share<'a>(invoices: impl IntoIterator<Item = &'a Invoice> + Clone, today: NaiveDate) -> Option<f64> {
    let open_ar = open_balance(invoices.clone());
    if open_ar <= Decimal::ZERO {
        return None;
    }
    let over_60: Decimal = invoices
        .into_iter()
        .filter(|invoice| invoice.status.is_open() && invoice.days_past_due(today) > 60)
        .map(|invoice| invoice.balance_due)
        .sum();
    (over_60 / open_ar).to_f64()
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn invoice(status: InvoiceStatus, balance: i64, due_date: NaiveDate) -> Invoice {
        Invoice {
            id: Uuid::now_v7(),
            number: "INV-TEST".into(),
            customer_account_id: Uuid::nil(),
            channel_partner_id: None,
            contract_id: None,
            engagement_id: None,
            status,
            issue_date: due_date - chrono::Days::new(30),
            due_date,
            currency: "USD".into(),
            total: Decimal::from(balance),
            amount_paid: Decimal::ZERO,
            amount_credited: Decimal::ZERO,
            balance_due: Decimal::from(balance),
            disputed_amount: Decimal::ZERO,
            subtotal: Decimal::from(balance),
            tax_total: Decimal::ZERO,
            paid_at: None,
            issued_at: None,
            version: 1,
        }
    }

    #[test]
    fn balance_due_is_total_minus_paid_minus_credited() {
        let balance = balance_due(Decimal::new(1_000_000, 2), Decimal::new(250_000, 2), Decimal::new(100_050, 2));
        assert_eq!(balance, Decimal::new(649_950, 2));
    }

    #[test]
    fn balance_due_never_goes_negative_on_overpayment() {
        assert_eq!(balance_due(Decimal::from(100), Decimal::from(120), Decimal::ZERO), Decimal::ZERO);
    }

    #[test]
    fn days_past_due_counts_calendar_days_after_the_due_date() {
        let today = date("2026-03-10");
        assert_eq!(days_past_due(InvoiceStatus::Issued, Decimal::ONE, date("2026-01-02"), today), 67);
        assert_eq!(days_past_due(InvoiceStatus::Disputed, Decimal::ONE, date("2026-03-09"), today), 1);
    }

    #[test]
    fn days_past_due_is_zero_on_the_due_date_and_before_it() {
        let today = date("2026-03-10");
        assert_eq!(days_past_due(InvoiceStatus::Issued, Decimal::ONE, today, today), 0);
        assert_eq!(days_past_due(InvoiceStatus::Issued, Decimal::ONE, date("2026-04-01"), today), 0);
    }

    #[test]
    fn days_past_due_is_zero_for_settled_or_unsent_invoices() {
        let today = date("2026-03-10");
        let long_ago = date("2025-01-01");
        for status in [InvoiceStatus::Paid, InvoiceStatus::Void, InvoiceStatus::Draft, InvoiceStatus::Uncollectible] {
            assert_eq!(days_past_due(status, Decimal::ONE, long_ago, today), 0, "{status:?}");
        }
        assert_eq!(days_past_due(InvoiceStatus::PartiallyPaid, Decimal::ZERO, long_ago, today), 0);
    }

    #[test]
    fn aging_buckets_split_at_the_edges_30_60_90() {
        let edges = AgingEdges::default();
        let expected = [
            (0, AgingBucket::NotDue),
            (1, AgingBucket::Days1To30),
            (30, AgingBucket::Days1To30),
            (31, AgingBucket::Days31To60),
            (60, AgingBucket::Days31To60),
            (61, AgingBucket::Days61To90),
            (90, AgingBucket::Days61To90),
            (91, AgingBucket::Days90Plus),
        ];
        for (days, bucket) in expected {
            assert_eq!(aging_bucket(days, edges), bucket, "{days} days past due");
        }
    }

    #[test]
    fn aging_buckets_follow_tenant_configured_edges() {
        let edges = AgingEdges([15, 45, 75]);
        assert_eq!(aging_bucket(16, edges), AgingBucket::Days31To60);
        assert_eq!(aging_bucket(76, edges), AgingBucket::Days90Plus);
    }

    #[test]
    fn ar_over_60_share_divides_open_ar_over_60_days_past_due_by_all_open_ar() {
        let today = date("2026-03-10");
        let invoices = [
            invoice(InvoiceStatus::Issued, 14_400, today - chrono::Days::new(67)),
            invoice(InvoiceStatus::Disputed, 12_000, today - chrono::Days::new(20)),
            invoice(InvoiceStatus::Issued, 12_000, today + chrono::Days::new(10)),
            invoice(InvoiceStatus::Paid, 0, today - chrono::Days::new(200)),
        ];
        assert_eq!(open_balance(&invoices), Decimal::from(38_400));
        assert_eq!(ar_over_60_share(&invoices, today), Some(0.375));
    }

    #[test]
    fn ar_over_60_share_excludes_invoices_exactly_60_days_past_due() {
        let today = date("2026-03-10");
        let invoices = [invoice(InvoiceStatus::Issued, 1_000, today - chrono::Days::new(60))];
        assert_eq!(ar_over_60_share(&invoices, today), Some(0.0));
    }

    #[test]
    fn ar_over_60_share_is_none_without_open_ar() {
        let today = date("2026-03-10");
        let settled = [invoice(InvoiceStatus::Paid, 0, today - chrono::Days::new(90))];
        assert_eq!(ar_over_60_share(&settled, today), None);
        assert_eq!(ar_over_60_share(&[], today), None);
    }
}
