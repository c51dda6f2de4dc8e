//! The business date ("today") of a tenant. Derived schedule flags (`late`, `atRisk`),
//! the demo seed and onboarding due dates are relative to it. A running service reads the
//! current date in the tenant's time zone; tests pin a date, so assertions about seeded
//! dates hold at any wall-clock time (docs/domain.md#business-date).

use chrono::{DateTime, NaiveDate, Utc};
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
            BusinessCalendar::TenantClock => date_in_time_zone(time_zone_of(tenant_id), Utc::now()),
        }
    }
}

/// The IANA time zone of a tenant. The tenant registry (and its zone) belongs to catalog
/// and is not part of the signed context; delivery knows the demo tenants' zones, and
/// counts other tenants in UTC until the registry's zone reaches it.
pub fn time_zone_of(tenant_id: Uuid) -> &'static str {
    atrium_kit::demo::TENANTS
        .iter()
        .find(|tenant| atrium_kit::demo::tenant_id(tenant.slug) == tenant_id)
        .map_or("UTC", |tenant| tenant.timezone)
}

/// The calendar date `instant` falls on in `zone`. A zone the system's time zone database
/// does not know yields the UTC date (logged): a date off by one beats no answer.
pub fn date_in_time_zone(zone: &str, instant: DateTime<Utc>) -> NaiveDate {
    let local = jiff::tz::TimeZone::get(zone).and_then(|time_zone| {
        let timestamp = jiff::Timestamp::new(instant.timestamp(), instant.timestamp_subsec_nanos() as i32)?;
        Ok(time_zone.to_datetime(timestamp).date())
    });
    match local {
        Ok(date) => NaiveDate::from_ymd_opt(date.year().into(), date.month() as u32, date.day() as u32)
            .unwrap_or_else(|| instant.date_naive()),
        Err(error) => {
            tracing::warn!(zone, %error, "unknown time zone; using the UTC date");
            instant.date_naive()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn the_date_follows_the_tenants_time_zone_across_midnight_utc() {
        // 03:00 UTC is still the previous evening in Chicago, already morning in Berlin.
        assert_eq!(date_in_time_zone("America/Chicago", at("2026-12-05T03:00:00Z")), day("2026-12-04"));
        assert_eq!(date_in_time_zone("Europe/Berlin", at("2026-12-05T03:00:00Z")), day("2026-12-05"));
        // 23:30 UTC is already tomorrow in Berlin (UTC+1 in winter, +2 in summer).
        assert_eq!(date_in_time_zone("Europe/Berlin", at("2026-12-04T23:30:00Z")), day("2026-12-05"));
        assert_eq!(date_in_time_zone("Europe/Berlin", at("2026-07-04T22:30:00Z")), day("2026-07-05"));
        assert_eq!(date_in_time_zone("Europe/Dublin", at("2026-12-04T23:30:00Z")), day("2026-12-04"));
    }

    #[test]
    fn an_unknown_zone_counts_in_utc() {
        assert_eq!(date_in_time_zone("Mars/Olympus_Mons", at("2026-12-04T23:30:00Z")), day("2026-12-04"));
    }

    #[test]
    fn demo_tenants_have_their_zone_and_others_utc() {
        assert_eq!(time_zone_of(atrium_kit::demo::tenant_id("ridgeline")), "America/Chicago");
        assert_eq!(time_zone_of(Uuid::nil()), "UTC");
    }

    #[test]
    fn a_fixed_calendar_answers_its_date_for_every_tenant() {
        let calendar = BusinessCalendar::Fixed(day("2026-06-01"));
        assert_eq!(calendar.today(Uuid::nil()), day("2026-06-01"));
        assert_eq!(calendar.today(atrium_kit::demo::tenant_id("veritas")), day("2026-06-01"));
    }
}
