//! Business-hours arithmetic (docs/domain.md#sla-clocks): a tenant's weekly working hours
//! in its IANA time zone, minus holidays, and the two questions SLA clocks ask of them —
//! "when is this much business time used up?" and "how much business time lies between
//! these instants?". Local hours are turned into real instants per day, so a day on which
//! the clocks change counts the time that really passes (jiff's time-zone database).

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, Timelike, Utc};
use serde::{Deserialize, Serialize};

/// How far ahead the arithmetic looks for working time before giving up: a schedule with
/// no working hours at all (or only holidays) must not loop forever.
const HORIZON_DAYS: i64 = 3 * 366;

/// A stretch of working time as real instants, `(start, end)`.
type Period = (DateTime<Utc>, DateTime<Utc>);

/// Working hours on one weekday, local wall-clock time, `start < end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkingHours {
    /// ISO weekday number, 1 = Monday … 7 = Sunday.
    pub dow: u8,
    pub start: NaiveTime,
    pub end: NaiveTime,
}

/// When a support desk works: weekly hours in a time zone, and the dates it does not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessHoursSchedule {
    pub time_zone: String,
    pub weekly: Vec<WorkingHours>,
    pub holidays: BTreeSet<NaiveDate>,
}

/// Why a schedule cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("unknown time zone {0}")]
    UnknownTimeZone(String),
    #[error("working hours on day {dow} must start before they end")]
    EmptyHours { dow: u8 },
    #[error("weekday {0} is not 1 (Monday) to 7 (Sunday)")]
    BadWeekday(u8),
    #[error("no working time within {HORIZON_DAYS} days")]
    NoWorkingTime,
}

impl BusinessHoursSchedule {
    /// The same hours every weekday Monday to Friday.
    pub fn weekdays(time_zone: &str, start: NaiveTime, end: NaiveTime) -> Self {
        BusinessHoursSchedule {
            time_zone: time_zone.to_owned(),
            weekly: (1..=5).map(|dow| WorkingHours { dow, start, end }).collect(),
            holidays: BTreeSet::new(),
        }
    }

    pub fn with_holidays(mut self, holidays: impl IntoIterator<Item = NaiveDate>) -> Self {
        self.holidays.extend(holidays);
        self
    }

    /// Checks the zone and the hours once, so the arithmetic below cannot meet bad data.
    pub fn validate(&self) -> Result<(), ScheduleError> {
        self.zone()?;
        for hours in &self.weekly {
            if !(1..=7).contains(&hours.dow) {
                return Err(ScheduleError::BadWeekday(hours.dow));
            }
            if hours.start >= hours.end {
                return Err(ScheduleError::EmptyHours { dow: hours.dow });
            }
        }
        Ok(())
    }

    fn zone(&self) -> Result<jiff::tz::TimeZone, ScheduleError> {
        jiff::tz::TimeZone::get(&self.time_zone).map_err(|_| ScheduleError::UnknownTimeZone(self.time_zone.clone()))
    }

    /// The instant at which `amount` of business time, counted from `from`, is used up.
    /// Zero answers `from` itself. A target that ends exactly at closing time answers the
    /// closing instant, not the next opening.
    pub fn add_business_time(&self, from: DateTime<Utc>, amount: TimeDelta) -> Result<DateTime<Utc>, ScheduleError> {
        let mut remaining = amount.max(TimeDelta::zero());
        if remaining.is_zero() {
            return Ok(from);
        }
        let mut periods = self.periods_from(from)?;
        loop {
            let (start, end) = periods.next().ok_or(ScheduleError::NoWorkingTime)??;
            let available = end - start;
            if remaining <= available {
                return Ok(start + remaining);
            }
            remaining -= available;
        }
    }

    /// Business time between `from` and `to` (zero when `to` is not after `from`).
    pub fn business_time_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<TimeDelta, ScheduleError> {
        let mut total = TimeDelta::zero();
        if to <= from {
            return Ok(total);
        }
        for period in self.periods_from(from)? {
            let (start, end) = period?;
            if start >= to {
                break;
            }
            total += end.min(to) - start;
        }
        Ok(total)
    }

    /// Working periods as real instants, in order, clipped to begin no earlier than
    /// `from`, for at most [`HORIZON_DAYS`] local days.
    fn periods_from(
        &self,
        from: DateTime<Utc>,
    ) -> Result<impl Iterator<Item = Result<Period, ScheduleError>> + '_, ScheduleError> {
        self.validate()?;
        let zone = self.zone()?;
        let first_day = local_date(&zone, from);
        let mut hours = self.weekly.clone();
        hours.sort_by_key(|hours| (hours.dow, hours.start));
        let periods = (0..HORIZON_DAYS)
            .filter_map(move |offset| first_day.checked_add_signed(TimeDelta::days(offset)))
            .filter(|day| !self.holidays.contains(day))
            .flat_map(move |day| {
                let dow = day.weekday().number_from_monday() as u8;
                let zone = zone.clone();
                hours
                    .iter()
                    .filter(move |hours| hours.dow == dow)
                    .map(move |hours| Ok((instant(&zone, day, hours.start)?, instant(&zone, day, hours.end)?)))
                    .collect::<Vec<_>>()
            })
            .filter_map(move |period: Result<Period, ScheduleError>| match period {
                Ok((start, end)) if end <= from || end <= start => None,
                Ok((start, end)) => Some(Ok((start.max(from), end))),
                Err(error) => Some(Err(error)),
            });
        Ok(periods)
    }
}

/// The instant local midnight of `day` begins in `time_zone` (reporting periods are
/// tenant dates).
pub fn start_of_day(time_zone: &str, day: NaiveDate) -> Result<DateTime<Utc>, ScheduleError> {
    let zone = jiff::tz::TimeZone::get(time_zone).map_err(|_| ScheduleError::UnknownTimeZone(time_zone.to_owned()))?;
    instant(&zone, day, NaiveTime::MIN)
}

fn local_date(zone: &jiff::tz::TimeZone, instant: DateTime<Utc>) -> NaiveDate {
    let timestamp = jiff::Timestamp::from_second(instant.timestamp()).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let date = zone.to_datetime(timestamp).date();
    NaiveDate::from_ymd_opt(date.year().into(), date.month() as u32, date.day() as u32).unwrap_or(instant.date_naive())
}

/// The real instant of a local wall-clock time. A time the clocks skip (spring forward)
/// maps to the instant after the gap and a repeated one (fall back) to its first
/// occurrence, so a period spanning the change holds exactly the time that passes.
fn instant(zone: &jiff::tz::TimeZone, day: NaiveDate, time: NaiveTime) -> Result<DateTime<Utc>, ScheduleError> {
    let bad = || ScheduleError::UnknownTimeZone(format!("{day} {time} in {zone:?}"));
    let date = jiff::civil::Date::new(day.year() as i16, day.month() as i8, day.day() as i8).map_err(|_| bad())?;
    let wall =
        jiff::civil::Time::new(time.hour() as i8, time.minute() as i8, time.second() as i8, 0).map_err(|_| bad())?;
    let timestamp = zone.to_ambiguous_timestamp(date.to_datetime(wall)).compatible().map_err(|_| bad())?;
    DateTime::from_timestamp(timestamp.as_second(), 0).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn time(text: &str) -> NaiveTime {
        NaiveTime::parse_from_str(text, "%H:%M").unwrap()
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn berlin_nine_to_five() -> BusinessHoursSchedule {
        BusinessHoursSchedule::weekdays("Europe/Berlin", time("09:00"), time("17:00"))
    }

    fn hours(count: i64) -> TimeDelta {
        TimeDelta::hours(count)
    }

    #[test]
    fn friday_afternoon_target_runs_over_the_weekend_into_monday() {
        // Friday 2026-12-04 16:30 CET (15:30Z). Friday leaves 16:30–17:00 = 0.5 h; the
        // weekend has none; Monday 09:00 + 3.5 h = 12:30 CET = 11:30Z.
        let due = berlin_nine_to_five().add_business_time(at("2026-12-04T16:30:00+01:00"), hours(4)).unwrap();
        assert_eq!(due, at("2026-12-07T12:30:00+01:00"));
        assert_eq!(due, at("2026-12-07T11:30:00Z"));
        // With 08:00–17:00 hours Monday's 3.5 h start at 08:00: 11:30 local.
        let early = BusinessHoursSchedule::weekdays("Europe/Berlin", time("08:00"), time("17:00"));
        assert_eq!(
            early.add_business_time(at("2026-12-04T16:30:00+01:00"), hours(4)).unwrap(),
            at("2026-12-07T11:30:00+01:00")
        );
    }

    #[test]
    fn a_holiday_on_monday_moves_the_due_time_to_tuesday() {
        // Monday 2026-12-07 off: Friday 0.5 h, then Tuesday 09:00 + 3.5 h = 12:30 CET.
        let schedule = berlin_nine_to_five().with_holidays([day("2026-12-07")]);
        assert_eq!(
            schedule.add_business_time(at("2026-12-04T16:30:00+01:00"), hours(4)).unwrap(),
            at("2026-12-08T12:30:00+01:00")
        );
        let early = BusinessHoursSchedule::weekdays("Europe/Berlin", time("08:00"), time("17:00"))
            .with_holidays([day("2026-12-07")]);
        assert_eq!(
            early.add_business_time(at("2026-12-04T16:30:00+01:00"), hours(4)).unwrap(),
            at("2026-12-08T11:30:00+01:00")
        );
    }

    #[test]
    fn the_spring_dst_weekend_keeps_local_hours_but_shifts_the_instant() {
        // Clocks go forward on Sunday 2026-03-29 (CET +01 → CEST +02). Friday 2026-03-27
        // 16:00 CET (15:00Z) leaves 1 h; Monday 09:00 CEST + 3 h = 12:00 CEST = 10:00Z:
        // 67 calendar hours later, not 68.
        let opened = at("2026-03-27T16:00:00+01:00");
        let due = berlin_nine_to_five().add_business_time(opened, hours(4)).unwrap();
        assert_eq!(due, at("2026-03-30T10:00:00Z"));
        assert_eq!(due - opened, hours(67));
        assert_eq!(berlin_nine_to_five().business_time_between(opened, due).unwrap(), hours(4));
    }

    #[test]
    fn the_autumn_dst_weekend_keeps_local_hours_but_shifts_the_instant() {
        // Clocks go back on Sunday 2026-10-25 (CEST +02 → CET +01). Friday 2026-10-23
        // 16:00 CEST (14:00Z) leaves 1 h; Monday 09:00 CET + 3 h = 12:00 CET = 11:00Z:
        // 69 calendar hours later, not 68.
        let opened = at("2026-10-23T16:00:00+02:00");
        let due = berlin_nine_to_five().add_business_time(opened, hours(4)).unwrap();
        assert_eq!(due, at("2026-10-26T11:00:00Z"));
        assert_eq!(due - opened, hours(69));
    }

    #[test]
    fn working_hours_across_a_clock_change_count_the_time_that_really_passes() {
        // A Sunday night shift 01:00–05:00 local: on 2026-03-29 02:00–03:00 does not
        // exist (3 real hours), on 2026-10-25 02:00–03:00 happens twice (5 real hours).
        let night = BusinessHoursSchedule {
            time_zone: "Europe/Berlin".into(),
            weekly: vec![WorkingHours { dow: 7, start: time("01:00"), end: time("05:00") }],
            holidays: BTreeSet::new(),
        };
        assert_eq!(
            night.business_time_between(at("2026-03-28T12:00:00Z"), at("2026-03-29T12:00:00Z")).unwrap(),
            hours(3)
        );
        assert_eq!(
            night.business_time_between(at("2026-10-24T12:00:00Z"), at("2026-10-25T12:00:00Z")).unwrap(),
            hours(5)
        );
        assert_eq!(
            night.business_time_between(at("2026-03-21T12:00:00Z"), at("2026-03-22T12:00:00Z")).unwrap(),
            hours(4)
        );
    }

    #[test]
    fn business_time_between_counts_only_working_hours() {
        let schedule = berlin_nine_to_five().with_holidays([day("2026-12-08")]);
        // Fri 16:30 → Mon 10:00: 0.5 h + 1 h.
        assert_eq!(
            schedule.business_time_between(at("2026-12-04T16:30:00+01:00"), at("2026-12-07T10:00:00+01:00")).unwrap(),
            TimeDelta::minutes(90)
        );
        // Mon 10:00 → Wed 10:00 with Tuesday a holiday: 7 h Monday + 1 h Wednesday.
        assert_eq!(
            schedule.business_time_between(at("2026-12-07T10:00:00+01:00"), at("2026-12-09T10:00:00+01:00")).unwrap(),
            hours(8)
        );
        // Entirely outside working hours, and backwards.
        assert_eq!(
            schedule.business_time_between(at("2026-12-05T10:00:00+01:00"), at("2026-12-06T18:00:00+01:00")).unwrap(),
            TimeDelta::zero()
        );
        assert_eq!(
            schedule.business_time_between(at("2026-12-07T12:00:00+01:00"), at("2026-12-07T10:00:00+01:00")).unwrap(),
            TimeDelta::zero()
        );
    }

    #[test]
    fn a_target_ending_at_closing_time_is_due_at_closing_time() {
        // Monday 09:00 + 8 h = Monday 17:00, not Tuesday 09:00; + 0 is the start itself.
        let monday = at("2026-12-07T09:00:00+01:00");
        assert_eq!(berlin_nine_to_five().add_business_time(monday, hours(8)).unwrap(), at("2026-12-07T17:00:00+01:00"));
        assert_eq!(berlin_nine_to_five().add_business_time(monday, TimeDelta::zero()).unwrap(), monday);
        // Starting before opening counts from opening: Monday 07:00 + 1 h = 10:00.
        assert_eq!(
            berlin_nine_to_five().add_business_time(at("2026-12-07T07:00:00+01:00"), hours(1)).unwrap(),
            at("2026-12-07T10:00:00+01:00")
        );
    }

    #[test]
    fn a_tenant_day_starts_at_local_midnight() {
        assert_eq!(start_of_day("Europe/Berlin", day("2026-12-01")).unwrap(), at("2026-11-30T23:00:00Z"));
        assert_eq!(start_of_day("America/Chicago", day("2026-07-01")).unwrap(), at("2026-07-01T05:00:00Z"));
    }

    #[test]
    fn a_schedule_without_hours_or_with_a_bad_zone_is_refused() {
        let empty = BusinessHoursSchedule { time_zone: "UTC".into(), weekly: vec![], holidays: BTreeSet::new() };
        assert_eq!(empty.add_business_time(at("2026-12-07T09:00:00Z"), hours(1)), Err(ScheduleError::NoWorkingTime));
        let nowhere = BusinessHoursSchedule::weekdays("Mars/Olympus_Mons", time("09:00"), time("17:00"));
        assert!(matches!(nowhere.validate(), Err(ScheduleError::UnknownTimeZone(_))));
        let backwards = BusinessHoursSchedule::weekdays("UTC", time("17:00"), time("09:00"));
        assert_eq!(backwards.validate(), Err(ScheduleError::EmptyHours { dow: 1 }));
    }
}
