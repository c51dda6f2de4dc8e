//! The business date finance evaluates at (docs/domain.md#conventions): "today" in the
//! tenant's time zone, read from a [`Clock`] the service is built with rather than from
//! the wall clock wherever a date is needed, so a request, the demo seed and a command
//! agree on one date, and tests can pin it.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use uuid::Uuid;

/// Where finance takes the current date and instant from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Clock {
    /// The real clock, dates in the tenant's time zone.
    #[default]
    System,
    /// A pinned business date for every tenant (tests, demos replayed on a given day).
    Fixed(NaiveDate),
}

impl Clock {
    /// Today for `tenant_id`: the date of the current instant in the tenant's time zone.
    pub fn today(self, tenant_id: Uuid) -> NaiveDate {
        match self {
            Clock::System => atrium_kit::calendar::tenant_date(tenant_id, Utc::now()),
            Clock::Fixed(date) => date,
        }
    }

    /// The current instant; with a pinned date, noon UTC of that date, so an instant
    /// recorded by a command (e.g. `signed_at`) falls on the pinned day in every zone the
    /// demo tenants use.
    pub fn now(self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Fixed(date) => date.and_time(NaiveTime::MIN).and_utc() + TimeDelta::hours(12),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use atrium_kit::demo;

    #[test]
    fn a_fixed_clock_answers_its_date_for_every_tenant() {
        let date = NaiveDate::from_ymd_opt(2031, 2, 28).unwrap();
        let clock = Clock::Fixed(date);
        for tenant in demo::TENANTS {
            assert_eq!(clock.today(demo::tenant_id(tenant.slug)), date);
        }
        assert_eq!(clock.today(Uuid::nil()), date);
        assert_eq!(clock.now().date_naive(), date);
    }

    #[test]
    fn the_system_date_of_a_tenant_is_its_local_date() {
        let ridgeline = demo::tenant_id("ridgeline");
        let before = atrium_kit::calendar::date_in_time_zone("America/Chicago", Utc::now());
        let today = Clock::System.today(ridgeline);
        let after = atrium_kit::calendar::date_in_time_zone("America/Chicago", Utc::now());
        assert!(today == before || today == after);
    }
}
