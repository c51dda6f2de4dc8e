//! The business date ("today") of a tenant. Derived schedule flags (`late`, `atRisk`),
//! the demo seed and onboarding due dates are relative to it. A running service reads the
//! current date in the tenant's time zone; tests pin a date, so assertions about seeded
//! dates hold at any wall-clock time (docs/domain.md#business-date).

use chrono::{NaiveDate, Utc};
use uuid::Uuid;

/// Where "today" comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusinessCalendar {
    /// The current date in the tenant's time zone.
    TenantClock,
    /// The same fixed date for every tenant (tests, reproducible demos).
    Fixed(NaiveDate),
}

impl BusinessCalendar {
    pub fn today(self, tenant_id: Uuid) -> NaiveDate {
        match self {
            BusinessCalendar::Fixed(date) => date,
            BusinessCalendar::TenantClock => atrium_kit::calendar::tenant_date(tenant_id, Utc::now()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_calendar_answers_its_date_for_every_tenant() {
        let day = |text: &str| -> NaiveDate { text.parse().unwrap() };
        let calendar = BusinessCalendar::Fixed(day("2026-06-01"));
        assert_eq!(calendar.today(Uuid::nil()), day("2026-06-01"));
        assert_eq!(calendar.today(atrium_kit::demo::tenant_id("veritas")), day("2026-06-01"));
    }
}
