//! Scheduled automation rules (docs/domain.md#automation-rules): the schedule language
//! and the job that runs due rules for every customer and retries failed runs.
//!
//! Schedules are `daily HH:MM`, `weekly <mon..sun> HH:MM` and `monthly <day 1–28> HH:MM`
//! in the tenant's time zone. A rule is due on a matching day from that local time on;
//! the job passes every few minutes under the kit's lease, and the run key
//! (`rule_id:customer_id:date`) makes every pass after the first a no-op for that day.

use std::time::Duration as StdDuration;

use atrium_kit::{
    TenantContext, TenantTransaction,
    command::CommandError,
    schedule::{ScheduledJob, TenantTick},
};
use chrono::{Datelike, NaiveDate, NaiveTime, Weekday};
use futures::future::BoxFuture;
use sea_orm::{DatabaseConnection, DbErr};

use crate::repository::automation as rules;

use super::Trigger;

/// When a scheduled rule runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    Daily { at: NaiveTime },
    Weekly { day: Weekday, at: NaiveTime },
    Monthly { day: u32, at: NaiveTime },
}

impl Schedule {
    pub fn parse(text: &str) -> Result<Self, String> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let time = |word: &str| {
            NaiveTime::parse_from_str(word, "%H:%M").map_err(|_| format!("`{word}` is not a time like 06:00"))
        };
        match words.as_slice() {
            ["daily", at] => Ok(Schedule::Daily { at: time(at)? }),
            ["weekly", day, at] => {
                let day = day.parse::<Weekday>().map_err(|_| format!("`{day}` is not a weekday like mon"))?;
                Ok(Schedule::Weekly { day, at: time(at)? })
            }
            ["monthly", day, at] => match day.parse::<u32>() {
                Ok(day) if (1..=28).contains(&day) => Ok(Schedule::Monthly { day, at: time(at)? }),
                _ => Err(format!("`{day}` is not a day of the month 1–28")),
            },
            _ => Err(format!("`{text}` is not `daily HH:MM`, `weekly <day> HH:MM` or `monthly <day> HH:MM`")),
        }
    }

    /// Whether the rule is due on `date` at local time `time`.
    pub fn is_due(&self, date: NaiveDate, time: NaiveTime) -> bool {
        match *self {
            Schedule::Daily { at } => time >= at,
            Schedule::Weekly { day, at } => date.weekday() == day && time >= at,
            Schedule::Monthly { day, at } => date.day() == day && time >= at,
        }
    }
}

/// The local wall-clock time of `tick` in the tenant's zone (UTC for an unknown zone).
fn local_time(tick: &TenantTick) -> NaiveTime {
    let local = jiff::tz::TimeZone::get(&tick.time_zone).and_then(|zone| {
        let timestamp = jiff::Timestamp::from_second(tick.now.timestamp())?;
        Ok(zone.to_datetime(timestamp).time())
    });
    match local {
        Ok(time) => NaiveTime::from_hms_opt(time.hour() as u32, time.minute() as u32, time.second() as u32)
            .unwrap_or_else(|| tick.now.time()),
        Err(_) => tick.now.time(),
    }
}

/// Runs the due scheduled rules for every customer analytics knows, and the due retries.
#[derive(Debug, Clone, Copy)]
pub struct AutomationSchedule {
    every: StdDuration,
}

impl AutomationSchedule {
    pub fn new() -> Self {
        AutomationSchedule { every: StdDuration::from_secs(300) }
    }
}

impl Default for AutomationSchedule {
    fn default() -> Self {
        Self::new()
    }
}

impl ScheduledJob for AutomationSchedule {
    fn name(&self) -> &'static str {
        "analytics.automation_rules"
    }

    fn every(&self) -> StdDuration {
        self.every
    }

    fn run_for_tenant<'a>(
        &'a self,
        database: &'a DatabaseConnection,
        tick: &'a TenantTick,
    ) -> BoxFuture<'a, Result<u64, DbErr>> {
        Box::pin(run_for_tenant(database, tick))
    }
}

async fn run_for_tenant(database: &DatabaseConnection, tick: &TenantTick) -> Result<u64, DbErr> {
    let context = TenantContext::automation(tick.tenant_id, "automation:schedule");
    let tx = TenantTransaction::begin_write(database, &context).await?;
    let items = run_due(&tx, tick).await.map_err(|error| match error {
        CommandError::Database(error) => error,
        other => DbErr::Custom(other.to_string()),
    })?;
    tx.commit().await?;
    Ok(items)
}

/// One pass in `tx`: the due scheduled rules per customer, then the due retries; returns
/// the runs made.
pub async fn run_due(tx: &TenantTransaction, tick: &TenantTick) -> Result<u64, CommandError> {
    let time = local_time(tick);
    let scheduled = rules::enabled_scheduled_rules(tx).await.map_err(super::command_error)?;
    let mut customers = None;
    let mut items = 0;
    for rule in scheduled {
        let due = match rule.trigger_schedule().map(Schedule::parse) {
            Some(Ok(schedule)) => schedule.is_due(tick.today, time),
            Some(Err(error)) => {
                tracing::warn!(rule = rule.code, %error, "unreadable schedule; rule skipped");
                false
            }
            None => false,
        };
        if !due {
            continue;
        }
        if customers.is_none() {
            customers = Some(rules::known_customers(tx).await.map_err(super::command_error)?);
        }
        for &customer_account_id in customers.iter().flatten() {
            let trigger = Trigger::Schedule { customer_account_id, date: tick.today };
            if super::run_once(tx, rule.clone(), trigger, tick.now).await? {
                items += 1;
            }
        }
    }
    items += super::retry_due_runs(tx, tick.now).await?;
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hour: u32, minute: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(hour, minute, 0).unwrap()
    }

    #[test]
    fn schedules_parse_and_fall_due_from_their_local_time_on_matching_days() {
        // 2026-12-07 is a Monday.
        let monday = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let first = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        let daily = Schedule::parse("daily 06:00").unwrap();
        assert!(!daily.is_due(monday, at(5, 59)));
        assert!(daily.is_due(monday, at(6, 0)));
        let weekly = Schedule::parse("weekly mon 06:00").unwrap();
        assert!(weekly.is_due(monday, at(7, 0)));
        assert!(!weekly.is_due(monday.succ_opt().unwrap(), at(7, 0)));
        let monthly = Schedule::parse("monthly 1 06:00").unwrap();
        assert!(monthly.is_due(first, at(6, 30)));
        assert!(!monthly.is_due(monday, at(6, 30)));
        for bad in ["hourly", "daily 6am", "weekly someday 06:00", "monthly 31 06:00", "0 6 * * *"] {
            assert!(Schedule::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn local_time_follows_the_tenant_zone() {
        // 05:30 UTC on 2026-12-07 is 06:30 in Berlin (CET, UTC+1).
        let now = "2026-12-07T05:30:00Z".parse().unwrap();
        let tick = TenantTick {
            tenant_id: uuid::Uuid::nil(),
            time_zone: "Europe/Berlin".to_owned(),
            now,
            today: NaiveDate::from_ymd_opt(2026, 12, 7).unwrap(),
        };
        assert_eq!(local_time(&tick), at(6, 30));
    }
}
