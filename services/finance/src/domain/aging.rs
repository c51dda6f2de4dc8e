//! Receivables aging and DSO (docs/domain.md#aging-and-dso): the age of an open invoice on
//! the due-date or invoice-date basis, the bucket codes the daily emitter announces and
//! when a move between buckets is a crossing worth announcing, the aging report per
//! currency, and days sales outstanding over a window. All derived as of a date passed in.

use chrono::{NaiveDate, TimeDelta};
use rust_decimal::Decimal;

use super::{AgingBucket, AgingEdges, Invoice, InvoiceStatus, aging_bucket};

/// What an invoice's age counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AgingBasis {
    /// Days past the due date (0 until it is overdue).
    #[default]
    DueDate,
    /// Days since the invoice date.
    InvoiceDate,
}

/// Whole days an open invoice with a balance has aged as of `as_of`; 0 for anything else.
pub fn age_days(invoice: &Invoice, basis: AgingBasis, as_of: NaiveDate) -> i64 {
    if !invoice.status.is_open() || invoice.balance_due <= Decimal::ZERO {
        return 0;
    }
    let from = match basis {
        AgingBasis::DueDate => invoice.due_date,
        AgingBasis::InvoiceDate => invoice.issue_date,
    };
    (as_of - from).num_days().max(0)
}

/// The bucket of `invoice` on `basis` as of `as_of`, default edges 30/60/90.
pub fn bucket_of(invoice: &Invoice, basis: AgingBasis, as_of: NaiveDate) -> AgingBucket {
    aging_bucket(age_days(invoice, basis, as_of), AgingEdges::default())
}

/// The code events carry: `not_due`, `1_30`, `31_60`, `61_90`, `90_plus`.
pub fn bucket_code(bucket: AgingBucket) -> &'static str {
    match bucket {
        AgingBucket::NotDue => "not_due",
        AgingBucket::Days1To30 => "1_30",
        AgingBucket::Days31To60 => "31_60",
        AgingBucket::Days61To90 => "61_90",
        AgingBucket::Days90Plus => "90_plus",
    }
}

/// The bucket of an event code.
pub fn bucket_of_code(code: &str) -> Option<AgingBucket> {
    ALL_BUCKETS.into_iter().find(|bucket| bucket_code(*bucket) == code)
}

/// Every bucket, youngest first.
pub const ALL_BUCKETS: [AgingBucket; 5] = [
    AgingBucket::NotDue,
    AgingBucket::Days1To30,
    AgingBucket::Days31To60,
    AgingBucket::Days61To90,
    AgingBucket::Days90Plus,
];

fn rank(bucket: AgingBucket) -> usize {
    ALL_BUCKETS.iter().position(|candidate| *candidate == bucket).unwrap_or(0)
}

/// Whether an invoice last announced in `last` (never announced: `not_due`) has crossed
/// into an older bucket `now`. Only moves to an older bucket are crossings: a younger
/// bucket can only follow a changed due date, which is no news for dunning. A pass that
/// finds an invoice several buckets on (the emitter did not run for days) announces one
/// crossing, into the bucket it is in now.
pub fn crossed(last: Option<AgingBucket>, now: AgingBucket) -> bool {
    rank(now) > rank(last.unwrap_or(AgingBucket::NotDue))
}

/// One bucket of the aging report: the balance due in it and how much of that is disputed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketBalance {
    pub bucket: AgingBucket,
    pub balance: Decimal,
    pub disputed: Decimal,
    pub invoice_count: u32,
}

/// The aging of one currency's open invoices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrencyAging {
    pub currency: String,
    /// Every bucket, youngest first (empty ones with zeros).
    pub buckets: Vec<BucketBalance>,
    pub total: Decimal,
    pub disputed: Decimal,
}

/// The open invoices with a balance by currency (sorted by code) and bucket.
pub fn aging_report<'a>(
    invoices: impl IntoIterator<Item = &'a Invoice>,
    basis: AgingBasis,
    as_of: NaiveDate,
) -> Vec<CurrencyAging> {
    let mut report: Vec<CurrencyAging> = Vec::new();
    for invoice in invoices {
        if !invoice.status.is_open() || invoice.balance_due <= Decimal::ZERO {
            continue;
        }
        let index = match report.iter().position(|aging| aging.currency == invoice.currency) {
            Some(index) => index,
            None => {
                report.push(CurrencyAging {
                    currency: invoice.currency.clone(),
                    buckets: ALL_BUCKETS
                        .iter()
                        .map(|bucket| BucketBalance {
                            bucket: *bucket,
                            balance: Decimal::ZERO,
                            disputed: Decimal::ZERO,
                            invoice_count: 0,
                        })
                        .collect(),
                    total: Decimal::ZERO,
                    disputed: Decimal::ZERO,
                });
                report.len() - 1
            }
        };
        let aging = &mut report[index];
        let disputed = invoice.disputed_amount.min(invoice.balance_due);
        let slot = &mut aging.buckets[rank(bucket_of(invoice, basis, as_of))];
        slot.balance += invoice.balance_due;
        slot.disputed += disputed;
        slot.invoice_count += 1;
        aging.total += invoice.balance_due;
        aging.disputed += disputed;
    }
    report.sort_by(|left, right| left.currency.cmp(&right.currency));
    report
}

/// Days sales outstanding over the `window_days` ending `as_of`: AR balance at the end ÷
/// the amount invoiced in the window × the window's days. `None` when nothing was invoiced
/// (no sales: DSO is undefined, not 0). Rounded to one decimal, half away from zero.
pub fn dso(ar_balance: Decimal, invoiced: Decimal, window_days: i64) -> Option<Decimal> {
    if invoiced <= Decimal::ZERO || window_days <= 0 {
        return None;
    }
    let days = ar_balance / invoiced * Decimal::from(window_days);
    Some(days.round_dp_with_strategy(1, rust_decimal::RoundingStrategy::MidpointAwayFromZero))
}

/// Whether `invoice` counts as invoiced in the window of `window_days` ending `as_of`
/// (issue date after `as_of − window_days`, on or before `as_of`): issued once, not a draft
/// and not voided (a void invoice was never a sale).
pub fn invoiced_in_window(invoice: &Invoice, as_of: NaiveDate, window_days: i64) -> bool {
    let start = as_of - TimeDelta::days(window_days);
    !matches!(invoice.status, InvoiceStatus::Draft | InvoiceStatus::Void)
        && invoice.issue_date > start
        && invoice.issue_date <= as_of
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;
    use uuid::Uuid;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn invoice(issue: &str, due: &str, total: &str, paid: &str, status: InvoiceStatus, currency: &str) -> Invoice {
        let (total, paid) = (d(total), d(paid));
        Invoice {
            id: Uuid::now_v7(),
            number: "INV".to_owned(),
            customer_account_id: Uuid::nil(),
            channel_partner_id: None,
            contract_id: None,
            engagement_id: None,
            status,
            issue_date: date(issue),
            due_date: date(due),
            currency: currency.to_owned(),
            total,
            amount_paid: paid,
            amount_credited: Decimal::ZERO,
            balance_due: total - paid,
            disputed_amount: Decimal::ZERO,
            subtotal: total,
            tax_total: Decimal::ZERO,
            paid_at: None,
            issued_at: None,
            version: 1,
        }
    }

    #[test]
    fn ages_count_from_the_due_date_or_the_invoice_date() {
        // Issued 2026-01-10, due 2026-02-09 (30 days' terms); as of 2026-03-14:
        // due-date basis 2026-03-14 − 2026-02-09 = 33 days (31–60);
        // invoice-date basis 2026-03-14 − 2026-01-10 = 63 days (61–90).
        let open = invoice("2026-01-10", "2026-02-09", "1000", "0", InvoiceStatus::Issued, "USD");
        let as_of = date("2026-03-14");
        assert_eq!(age_days(&open, AgingBasis::DueDate, as_of), 33);
        assert_eq!(bucket_of(&open, AgingBasis::DueDate, as_of), AgingBucket::Days31To60);
        assert_eq!(age_days(&open, AgingBasis::InvoiceDate, as_of), 63);
        assert_eq!(bucket_of(&open, AgingBasis::InvoiceDate, as_of), AgingBucket::Days61To90);
        // Not yet due: 0 on the due-date basis, its age on the invoice-date basis.
        let fresh = invoice("2026-03-04", "2026-04-03", "1000", "0", InvoiceStatus::Issued, "USD");
        assert_eq!(bucket_of(&fresh, AgingBasis::DueDate, as_of), AgingBucket::NotDue);
        assert_eq!(age_days(&fresh, AgingBasis::InvoiceDate, as_of), 10);
        // Settled invoices do not age.
        let paid = invoice("2026-01-10", "2026-02-09", "1000", "1000", InvoiceStatus::Paid, "USD");
        assert_eq!(age_days(&paid, AgingBasis::InvoiceDate, as_of), 0);
    }

    #[test]
    fn crossings_are_moves_into_an_older_bucket() {
        use AgingBucket::*;
        assert!(!crossed(None, NotDue));
        assert!(crossed(None, Days1To30));
        assert!(!crossed(Some(Days1To30), Days1To30));
        assert!(crossed(Some(Days1To30), Days31To60));
        assert!(crossed(Some(NotDue), Days61To90), "days missed: one crossing into where it is");
        assert!(!crossed(Some(Days61To90), Days31To60));
        for bucket in ALL_BUCKETS {
            assert_eq!(bucket_of_code(bucket_code(bucket)), Some(bucket));
        }
    }

    #[test]
    fn the_report_sums_balances_and_disputes_per_currency_and_bucket() {
        // As of 2026-03-14, due-date basis:
        //   A USD 1,000.00 due 2026-02-09: 33 days → 31–60, 250.00 of it disputed
        //   B USD 400.00 − 100.00 paid = 300.00 due 2026-03-13: 1 day → 1–30
        //   C USD 500.00 due 2026-04-01: not due
        //   D EUR 800.00 due 2025-12-01: 103 days → 90+
        //   E USD paid, F USD void: not open, left out.
        let as_of = date("2026-03-14");
        let mut a = invoice("2026-01-10", "2026-02-09", "1000", "0", InvoiceStatus::Disputed, "USD");
        a.disputed_amount = d("250");
        let invoices = [
            a,
            invoice("2026-02-11", "2026-03-13", "400", "100", InvoiceStatus::PartiallyPaid, "USD"),
            invoice("2026-03-02", "2026-04-01", "500", "0", InvoiceStatus::Issued, "USD"),
            invoice("2025-11-01", "2025-12-01", "800", "0", InvoiceStatus::Issued, "EUR"),
            invoice("2026-01-01", "2026-01-31", "900", "900", InvoiceStatus::Paid, "USD"),
            invoice("2026-01-01", "2026-01-31", "700", "0", InvoiceStatus::Void, "USD"),
        ];
        let report = aging_report(invoices.iter(), AgingBasis::DueDate, as_of);
        assert_eq!(report.len(), 2);
        let (eur, usd) = (&report[0], &report[1]);
        assert_eq!(eur.currency, "EUR");
        assert_eq!(eur.buckets[4].balance, d("800"));
        assert_eq!(eur.total, d("800"));
        assert_eq!(usd.currency, "USD");
        let balances: Vec<Decimal> = usd.buckets.iter().map(|bucket| bucket.balance).collect();
        assert_eq!(balances, [d("500"), d("300"), d("1000"), d("0"), d("0")]);
        assert_eq!(usd.buckets[2].disputed, d("250"));
        // 500 + 300 + 1,000 = 1,800.00 open, 250.00 of it disputed.
        assert_eq!((usd.total, usd.disputed), (d("1800"), d("250")));
    }

    #[test]
    fn dso_is_ar_over_sales_times_the_window() {
        // AR 52,000.00 at the end of a 90-day window with 90,000.00 invoiced:
        // 52,000 / 90,000 × 90 = 52.0 days.
        assert_eq!(dso(d("52000"), d("90000"), 90), Some(d("52.0")));
        // 10,000.00 / 30,000.00 × 30 = 10.0; 1,000.00 / 3,000.00 × 90 = 30.0;
        // 100.00 / 300.00 × 7 = 2.333… → 2.3.
        assert_eq!(dso(d("10000"), d("30000"), 30), Some(d("10.0")));
        assert_eq!(dso(d("100"), d("300"), 7), Some(d("2.3")));
        // Nothing invoiced: undefined.
        assert_eq!(dso(d("100"), d("0"), 90), None);
    }

    #[test]
    fn the_window_holds_issued_invoices_dated_inside_it() {
        // Window of 90 days ending 2026-03-14 starts after 2026-03-14 − 90 days = 2025-12-14
        // (17 days of December + 31 of January + 28 of February + 14 of March = 90), so
        // issue dates 2025-12-15 to 2026-03-14 count.
        let as_of = date("2026-03-14");
        let inside = invoice("2025-12-15", "2026-01-14", "1", "0", InvoiceStatus::Issued, "USD");
        let edge = invoice("2025-12-14", "2026-01-13", "1", "0", InvoiceStatus::Paid, "USD");
        let today = invoice("2026-03-14", "2026-04-13", "1", "0", InvoiceStatus::Paid, "USD");
        let void = invoice("2026-03-01", "2026-03-31", "1", "0", InvoiceStatus::Void, "USD");
        assert!(invoiced_in_window(&inside, as_of, 90));
        assert!(!invoiced_in_window(&edge, as_of, 90));
        assert!(invoiced_in_window(&today, as_of, 90));
        assert!(!invoiced_in_window(&void, as_of, 90));
    }
}
