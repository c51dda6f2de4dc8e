//! Entitlements (docs/domain.md#entitlements): hours a contract line grants per period,
//! the grant created at signature, its drawdown by approved time entries, and what is
//! left or forfeited in a period. Periods follow the line's billing interval from the
//! grant's start date; unused hours do not roll over, so what is left when a period has
//! ended is forfeited (a computed figure, nothing is written at period end).

use atrium_kit::stored_enum;
use chrono::{Months, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::BillingInterval;

stored_enum!(EntitlementStatus { Active => "active", Expired => "expired", Cancelled => "cancelled" });

/// Entitlement terms of a contract line: `hours_per_period` hours of `kind` work (e.g.
/// `advisory`) each billing interval of the line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntitlementTerms {
    pub kind: String,
    pub hours_per_period: Decimal,
}

/// Longest entitlement kind a client may name.
const MAX_KIND_LENGTH: usize = 40;

impl EntitlementTerms {
    /// Checks terms as a client proposes them (`BAD_USER_INPUT` messages); the kind is
    /// kept trimmed and lower case, as delivery's time entry categories are.
    pub fn validated(kind: &str, hours_per_period: Decimal) -> Result<Self, String> {
        let kind = kind.trim().to_lowercase();
        if kind.is_empty() || kind.len() > MAX_KIND_LENGTH {
            return Err(format!("entitlementKind must have 1 to {MAX_KIND_LENGTH} characters"));
        }
        if hours_per_period <= Decimal::ZERO {
            return Err(format!("entitlementHoursPerPeriod must be positive, got {hours_per_period}"));
        }
        if hours_per_period.scale() > 2 {
            return Err(format!("entitlementHoursPerPeriod has at most two decimals, got {hours_per_period}"));
        }
        Ok(EntitlementTerms { kind, hours_per_period })
    }
}

/// Months in one period of `interval`.
pub fn months_in(interval: BillingInterval) -> u32 {
    match interval {
        BillingInterval::Month => 1,
        BillingInterval::Quarter => 3,
        BillingInterval::Year => 12,
    }
}

/// The `index`-th period start counted from `anchor` (always from the anchor, so a grant
/// starting on the 31st has periods starting on the 28th/30th/31st, never drifting).
fn period_start(anchor: NaiveDate, interval: BillingInterval, index: u32) -> NaiveDate {
    anchor.checked_add_months(Months::new(months_in(interval) * index)).unwrap_or(NaiveDate::MAX)
}

/// The period `[start, end)` of a schedule anchored at `anchor` that contains `date`
/// (the first period for dates before the anchor).
pub fn period_containing(anchor: NaiveDate, interval: BillingInterval, date: NaiveDate) -> (NaiveDate, NaiveDate) {
    let mut index = 0;
    while period_start(anchor, interval, index + 1) <= date {
        index += 1;
    }
    (period_start(anchor, interval, index), period_start(anchor, interval, index + 1))
}

/// A grant of hours per period to a customer, from a signed contract's line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntitlementGrant {
    pub id: Uuid,
    pub customer_account_id: Uuid,
    pub contract_id: Uuid,
    pub contract_line_id: Uuid,
    pub kind: String,
    pub hours_per_period: Decimal,
    pub period: BillingInterval,
    /// First day covered.
    pub start_date: NaiveDate,
    /// Last day covered (inclusive).
    pub end_date: NaiveDate,
    pub status: EntitlementStatus,
}

/// Hours drawn from a grant by one approved time entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntitlementUsage {
    pub id: Uuid,
    pub grant_id: Uuid,
    pub time_entry_id: Uuid,
    pub work_date: NaiveDate,
    pub hours: Decimal,
}

/// A grant's figures for one period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntitlementBalance {
    pub period_start: NaiveDate,
    /// Last day of the period (inclusive; the grant's end date caps the last period).
    pub period_end: NaiveDate,
    pub hours_per_period: Decimal,
    pub used_hours: Decimal,
    /// Hours still available in the period, never below 0.
    pub remaining_hours: Decimal,
    /// Hours used beyond the period's allowance (billable as overage, not drawn).
    pub overage_hours: Decimal,
    /// Unused hours of a period that has ended (no rollover); 0 while it runs.
    pub forfeited_hours: Decimal,
    /// `expired` once `today` is past the end date, else the stored status.
    pub status: EntitlementStatus,
}

impl EntitlementGrant {
    /// Whether time of `category` worked on `work_date` draws from this grant.
    pub fn covers(&self, category: &str, work_date: NaiveDate) -> bool {
        self.status == EntitlementStatus::Active
            && self.kind == category.trim().to_lowercase()
            && self.start_date <= work_date
            && work_date <= self.end_date
    }

    /// The grant's figures for the period containing `on` (clamped to the grant's
    /// term), as seen on `today`.
    pub fn balance(&self, usages: &[EntitlementUsage], on: NaiveDate, today: NaiveDate) -> EntitlementBalance {
        let on = on.clamp(self.start_date, self.end_date);
        let (start, next) = period_containing(self.start_date, self.period, on);
        let period_end = next.pred_opt().unwrap_or(next).min(self.end_date);
        let used_hours: Decimal = usages
            .iter()
            .filter(|usage| usage.grant_id == self.id && start <= usage.work_date && usage.work_date <= period_end)
            .map(|usage| usage.hours)
            .sum();
        let remaining_hours = (self.hours_per_period - used_hours).max(Decimal::ZERO);
        let overage_hours = (used_hours - self.hours_per_period).max(Decimal::ZERO);
        let ended = period_end < today;
        let status = if self.status == EntitlementStatus::Active && self.end_date < today {
            EntitlementStatus::Expired
        } else {
            self.status
        };
        EntitlementBalance {
            period_start: start,
            period_end,
            hours_per_period: self.hours_per_period,
            used_hours,
            remaining_hours,
            overage_hours,
            forfeited_hours: if ended { remaining_hours } else { Decimal::ZERO },
            status,
        }
    }
}

/// The grant an approved time entry draws from: the customer's active grant of the
/// entry's category covering its work date, the earliest granted first.
pub fn grant_for<'a>(
    grants: &'a [EntitlementGrant],
    category: &str,
    work_date: NaiveDate,
) -> Option<&'a EntitlementGrant> {
    grants.iter().filter(|grant| grant.covers(category, work_date)).min_by_key(|grant| grant.id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn hours(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn grant(start: &str, end: &str, period: BillingInterval, per_period: &str) -> EntitlementGrant {
        EntitlementGrant {
            id: Uuid::from_u128(1),
            customer_account_id: Uuid::from_u128(2),
            contract_id: Uuid::from_u128(3),
            contract_line_id: Uuid::from_u128(4),
            kind: "advisory".to_owned(),
            hours_per_period: hours(per_period),
            period,
            start_date: day(start),
            end_date: day(end),
            status: EntitlementStatus::Active,
        }
    }

    fn usage(entry: u128, work_date: &str, worked: &str) -> EntitlementUsage {
        EntitlementUsage {
            id: Uuid::from_u128(100 + entry),
            grant_id: Uuid::from_u128(1),
            time_entry_id: Uuid::from_u128(200 + entry),
            work_date: day(work_date),
            hours: hours(worked),
        }
    }

    #[test]
    fn periods_count_from_the_anchor_without_drifting() {
        let anchor = day("2026-01-31");
        assert_eq!(period_containing(anchor, BillingInterval::Month, day("2026-02-27")), (anchor, day("2026-02-28")));
        assert_eq!(
            period_containing(anchor, BillingInterval::Month, day("2026-03-30")),
            (day("2026-02-28"), day("2026-03-31"))
        );
        assert_eq!(
            period_containing(anchor, BillingInterval::Quarter, day("2026-05-01")),
            (day("2026-04-30"), day("2026-07-31"))
        );
        assert_eq!(
            period_containing(anchor, BillingInterval::Year, day("2025-12-01")),
            (anchor, day("2027-01-31")),
            "before the anchor: the first period"
        );
    }

    /// Golden drawdown and forfeit: 20 advisory hours a month from 2026-01-15.
    /// Period 1 = 2026-01-15 .. 2026-02-14: 6.50 + 8.00 + 2.25 = 16.75 used,
    /// 20 − 16.75 = 3.25 remaining; forfeited 0 while the period runs (today 2026-02-14),
    /// 3.25 once it has ended (today 2026-02-15).
    /// Period 2 = 2026-02-15 .. 2026-03-14: 3.00 + 19.00 = 22.00 used, remaining 0,
    /// overage 2.00, forfeited 0 after the end (nothing left to forfeit).
    #[test]
    fn drawdown_and_forfeit_per_period() {
        let grant = grant("2026-01-15", "2026-12-31", BillingInterval::Month, "20");
        let usages = [
            usage(1, "2026-01-20", "6.50"),
            usage(2, "2026-02-10", "8.00"),
            usage(3, "2026-02-14", "2.25"),
            usage(4, "2026-02-15", "3.00"),
            usage(5, "2026-03-01", "19.00"),
        ];
        let running = grant.balance(&usages, day("2026-02-01"), day("2026-02-14"));
        assert_eq!((running.period_start, running.period_end), (day("2026-01-15"), day("2026-02-14")));
        assert_eq!(running.used_hours, hours("16.75"));
        assert_eq!(running.remaining_hours, hours("3.25"));
        assert_eq!(running.forfeited_hours, Decimal::ZERO);

        let ended = grant.balance(&usages, day("2026-02-01"), day("2026-02-15"));
        assert_eq!(ended.forfeited_hours, hours("3.25"));
        assert_eq!(ended.remaining_hours, hours("3.25"));

        let second = grant.balance(&usages, day("2026-03-14"), day("2026-04-01"));
        assert_eq!((second.period_start, second.period_end), (day("2026-02-15"), day("2026-03-14")));
        assert_eq!(second.used_hours, hours("22.00"));
        assert_eq!(second.remaining_hours, Decimal::ZERO);
        assert_eq!(second.overage_hours, hours("2.00"));
        assert_eq!(second.forfeited_hours, Decimal::ZERO);
    }

    /// The last period ends with the grant: a grant to 2026-03-31 from 2026-01-15, 10 h a
    /// month, has a last period 2026-03-15 .. 2026-03-31; with 4 h used, 6 h are forfeited
    /// from 2026-04-01 on, and the grant shows as expired.
    #[test]
    fn the_last_period_is_capped_by_the_grant_end_and_the_grant_expires() {
        let grant = grant("2026-01-15", "2026-03-31", BillingInterval::Month, "10");
        let usages = [usage(1, "2026-03-20", "4")];
        let last = grant.balance(&usages, day("2026-06-01"), day("2026-04-01"));
        assert_eq!((last.period_start, last.period_end), (day("2026-03-15"), day("2026-03-31")));
        assert_eq!(last.forfeited_hours, hours("6"));
        assert_eq!(last.status, EntitlementStatus::Expired);
        assert_eq!(grant.balance(&usages, day("2026-03-20"), day("2026-03-31")).status, EntitlementStatus::Active);
    }

    #[test]
    fn a_time_entry_draws_from_the_grant_of_its_category_covering_its_date() {
        let advisory = grant("2026-01-15", "2026-12-31", BillingInterval::Month, "20");
        let support = EntitlementGrant { id: Uuid::from_u128(9), kind: "support".to_owned(), ..advisory.clone() };
        let grants = [support, advisory];
        assert_eq!(grant_for(&grants, "Advisory", day("2026-02-01")).map(|grant| grant.id), Some(Uuid::from_u128(1)));
        assert_eq!(grant_for(&grants, "support", day("2026-02-01")).map(|grant| grant.id), Some(Uuid::from_u128(9)));
        assert!(grant_for(&grants, "advisory", day("2026-01-14")).is_none(), "before the grant");
        assert!(grant_for(&grants, "advisory", day("2027-01-01")).is_none(), "after the grant");
        assert!(grant_for(&grants, "implementation", day("2026-02-01")).is_none());
    }

    #[test]
    fn terms_are_validated() {
        assert_eq!(
            EntitlementTerms::validated(" Advisory ", hours("20")).unwrap(),
            EntitlementTerms { kind: "advisory".to_owned(), hours_per_period: hours("20") }
        );
        assert!(EntitlementTerms::validated("", hours("20")).is_err());
        assert!(EntitlementTerms::validated("advisory", hours("0")).is_err());
        assert!(EntitlementTerms::validated("advisory", hours("-1")).is_err());
        assert!(EntitlementTerms::validated("advisory", hours("1.255")).is_err());
    }
}
