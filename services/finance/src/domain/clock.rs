//! The business date finance evaluates at (docs/domain.md#conventions): "today" in the
//! tenant's time zone, read from a [`Clock`] the service is built with rather than from
//! the wall clock wherever a date is needed, so a request, the demo seed and a command
//! agree on one date, and tests can pin it.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

use atrium_kit::demo;

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
            Clock::System => Utc::now().with_timezone(&tenant_time_zone(tenant_id)).date_naive(),
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

/// The tenant's IANA time zone. The tenant registry (catalog) owns it and the signed
/// tenant context does not carry it, so finance knows the zones of the registered demo
/// tenants (docs/domain.md#demo-data) and uses UTC for any other tenant.
pub fn tenant_time_zone(tenant_id: Uuid) -> Tz {
    demo::TENANTS
        .iter()
        .find(|tenant| demo::tenant_id(tenant.slug) == tenant_id)
        .and_then(|tenant| tenant.timezone.parse::<Tz>().ok())
        .unwrap_or(Tz::UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn demo_tenants_have_their_registered_zones_and_others_utc() {
        assert_eq!(tenant_time_zone(demo::tenant_id("ridgeline")), Tz::America__Chicago);
        assert_eq!(tenant_time_zone(demo::tenant_id("helix")), Tz::Europe__Dublin);
        assert_eq!(tenant_time_zone(demo::tenant_id("veritas")), Tz::Europe__Berlin);
        assert_eq!(tenant_time_zone(Uuid::nil()), Tz::UTC);
    }

    #[test]
    fn the_system_date_of_a_tenant_is_its_local_date() {
        let ridgeline = demo::tenant_id("ridgeline");
        let before = Utc::now().with_timezone(&Tz::America__Chicago).date_naive();
        let today = Clock::System.today(ridgeline);
        let after = Utc::now().with_timezone(&Tz::America__Chicago).date_naive();
        assert!(today == before || today == after);
    }
}
