//! A tenant's business date: the calendar date an instant falls on in the tenant's IANA
//! time zone (docs/domain.md#business-date). Services keep their own injectable "today"
//! (tests pin it) and ask this module for the real one.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

/// The IANA time zone of a tenant. The tenant registry (and its zone) belongs to catalog
/// and is not part of the signed context; services know the demo tenants' zones and count
/// other tenants in UTC until the registry's zone reaches them.
pub fn tenant_time_zone(tenant_id: Uuid) -> &'static str {
    crate::demo::TENANTS
        .iter()
        .find(|tenant| crate::demo::tenant_id(tenant.slug) == tenant_id)
        .map_or("UTC", |tenant| tenant.timezone)
}

/// Today for `tenant_id`, at `instant`.
pub fn tenant_date(tenant_id: Uuid, instant: DateTime<Utc>) -> NaiveDate {
    date_in_time_zone(tenant_time_zone(tenant_id), instant)
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
    fn demo_tenants_have_their_registered_zones_and_others_utc() {
        assert_eq!(tenant_time_zone(crate::demo::tenant_id("ridgeline")), "America/Chicago");
        assert_eq!(tenant_time_zone(crate::demo::tenant_id("helix")), "Europe/Dublin");
        assert_eq!(tenant_time_zone(crate::demo::tenant_id("veritas")), "Europe/Berlin");
        assert_eq!(tenant_time_zone(Uuid::nil()), "UTC");
    }
}
