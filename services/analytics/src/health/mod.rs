//! Health snapshots (docs/domain.md#health-snapshots): computing a customer's health under
//! the active model, storing it with its measure scores, trend and the previous score,
//! and announcing `analytics.health.snapshot_computed` (and `analytics.health.band_changed`
//! when the band moved). Two cadences: the nightly job (02:00 tenant time, every customer
//! once per day) and event-driven recomputes on the events that can move a score, skipped
//! within 15 minutes of the customer's last snapshot unless the band changes.

use std::{sync::Arc, time::Duration};

use atrium_kit::{
    TenantContext, TenantTransaction, calendar,
    command::{self, Command, CommandError, Outcome},
    events::{DomainEvent, HandlerError, Subject},
    schedule::{ScheduledJob, TenantTick},
    tenant::AUTOMATION_ROLE,
};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use futures::future::BoxFuture;
use sea_orm::{DatabaseConnection, DbErr};
use serde_json::json;
use uuid::Uuid;

use crate::{
    domain::health_model::{self, HealthSnapshot},
    error::AnalyticsError,
    repository::{self, health_models, health_signals, health_snapshots},
};

/// Events after which the customer they name is recomputed.
pub const RECOMPUTE_TRIGGERS: &[&str] = &[
    "support.sla.breached",
    "support.csat.received",
    "finance.invoice.disputed",
    // Finance's name for a subscription turning non-renewing.
    "finance.subscription.cancellation_scheduled",
    "delivery.engagement.go_live_forecast_changed",
];

pub fn triggers_recompute(event_type: &str) -> bool {
    RECOMPUTE_TRIGGERS.contains(&event_type)
}

const SNAPSHOT_WRITERS: &[&str] = &[AUTOMATION_ROLE];

/// Lease key and audit actor of the nightly job.
pub const NIGHTLY_SNAPSHOTS: &str = "analytics.health_snapshots";

/// The local hour from which a day's nightly snapshots are due.
const NIGHTLY_HOUR: i64 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cadence {
    /// Event-driven: debounced (see [`health_model::recompute_is_due`]).
    Event,
    /// Nightly or on request: always stored.
    Scheduled,
}

/// The analytics consumer's health step for one event (docs/domain.md#health-snapshots).
pub async fn on_event(tx: &TenantTransaction, event: &DomainEvent) -> Result<(), HandlerError> {
    if !triggers_recompute(&event.event_type) {
        return Ok(());
    }
    let Some(&customer_account_id) = event.refs.get("customer_account_id") else { return Ok(()) };
    let command = Command {
        operation: "recomputeHealth",
        entity_type: "HealthSnapshot",
        allowed_roles: SNAPSHOT_WRITERS,
        target: Some(customer_account_id),
    };
    let now = Utc::now();
    let today = calendar::tenant_date(tx.tenant_id(), now);
    command::execute_within(tx, &command, move |tx| {
        Box::pin(recompute(tx, vec![customer_account_id], today, now, Cadence::Event))
    })
    .await
    .map(|_| ())
    .map_err(|error| match error {
        CommandError::Database(error) => HandlerError::Retryable(error.to_string()),
        other => HandlerError::Poison(other.to_string()),
    })
}

pub fn internal(error: AnalyticsError) -> CommandError {
    match error {
        AnalyticsError::Database(error) => CommandError::Database(error),
        other => CommandError::Database(DbErr::Custom(other.to_string())),
    }
}

/// Computes and stores the snapshots of `customers` dated `as_of`; answers those stored.
pub async fn recompute(
    tx: &TenantTransaction,
    customers: Vec<Uuid>,
    as_of: NaiveDate,
    now: DateTime<Utc>,
    cadence: Cadence,
) -> Result<Outcome<Vec<HealthSnapshot>>, CommandError> {
    let Some(model) = repository::active_health_model(tx).await.map_err(internal)? else {
        return Ok(Outcome {
            value: Vec::new(),
            entity_ids: Vec::new(),
            detail: "no active model".into(),
            events: Vec::new(),
        });
    };
    let definition = &model.definition;
    let facts = repository::facts::customer_facts(tx, &customers, as_of).await.map_err(internal)?;
    let latest = health_snapshots::latest_of_customers(tx, &customers).await.map_err(internal)?;
    let comments = health_signals::pulse_comments(tx, &customers).await.map_err(internal)?;
    let mut stored = Vec::new();
    let mut events = Vec::new();
    for facts in &facts {
        let customer = facts.customer_account_id;
        let result = health_model::score(definition, facts);
        let last = latest.iter().find(|snapshot| snapshot.customer_account_id == customer);
        if cadence == Cadence::Event && !health_model::recompute_is_due(last, now, result.band) {
            continue;
        }
        let lookback = as_of - TimeDelta::days(i64::from(definition.trend_lookback_days));
        let earlier = health_snapshots::latest_on_or_before(tx, customer, lookback).await.map_err(internal)?;
        let trend = health_model::trend(result.score, earlier.and_then(|s| s.score), definition.trend_threshold);
        let mut weekly = vec![result.score];
        for point in &health_model::weekly_points(as_of)[1..] {
            let snapshot = health_snapshots::latest_on_or_before(tx, customer, *point).await.map_err(internal)?;
            weekly.push(snapshot.filter(|s| (*point - s.as_of).num_days() < 7).and_then(|s| s.score));
        }
        let sustained_decline = health_model::sustained_decline(&weekly);
        let channel_partner_id = match facts.channel_partner_id {
            Some(partner) => Some(partner),
            None => repository::lifecycle::channel_partner_of(tx, customer).await.map_err(internal)?,
        };
        let snapshot = HealthSnapshot {
            id: Uuid::now_v7(),
            customer_account_id: customer,
            channel_partner_id,
            model_version: model.label(),
            profile: result.profile.as_str().to_owned(),
            as_of,
            score: result.score,
            band: result.band,
            trend,
            previous_score: last.and_then(|last| last.score),
            override_reason: result.override_reason.clone(),
            coverage: result.coverage,
            computed_at: now,
        };
        let pulse_comment: Vec<(&str, String)> = comments
            .iter()
            .filter(|(commented, _)| *commented == customer)
            .map(|(_, comment)| ("csm_pulse", comment.clone()))
            .collect();
        health_snapshots::insert(tx, &snapshot, &result.measures, &pulse_comment).await.map_err(internal)?;
        events.extend(snapshot_events(tx.context(), &snapshot, last, sustained_decline));
        stored.push(snapshot);
    }
    Ok(Outcome {
        entity_ids: stored.iter().map(|snapshot| snapshot.id).collect(),
        detail: format!("{} health snapshot(s) as of {as_of}", stored.len()),
        events,
        value: stored,
    })
}

fn snapshot_events(
    context: &TenantContext,
    snapshot: &HealthSnapshot,
    last: Option<&HealthSnapshot>,
    sustained_decline: bool,
) -> Vec<DomainEvent> {
    let with_refs = |event: DomainEvent| {
        let event = event.with_ref("customer_account_id", snapshot.customer_account_id);
        match snapshot.channel_partner_id {
            Some(partner) => event.with_ref("channel_partner_id", partner),
            None => event,
        }
    };
    let band = health_model::band_as_str(snapshot.band);
    let computed = DomainEvent::new(
        context,
        "analytics.health.snapshot_computed",
        Subject { entity_type: "HealthSnapshot".to_owned(), id: snapshot.id, version: 1 },
    )
    .with_data(json!({
        "score": snapshot.score,
        "band": band,
        "profile": snapshot.profile,
        "model_version": snapshot.model_version,
        "as_of": snapshot.as_of.to_string(),
        "trend": snapshot.trend.as_str(),
        "previous_score": snapshot.previous_score,
        "override_reason": snapshot.override_reason,
        "sustained_decline": sustained_decline,
    }));
    let mut events = vec![with_refs(computed)];
    if let Some(last) = last.filter(|last| last.band != snapshot.band) {
        // The customer's health is the subject: its version grows with each computation,
        // so consumers order band changes of one customer.
        let subject = Subject {
            entity_type: "CustomerHealth".to_owned(),
            id: snapshot.customer_account_id,
            version: snapshot.computed_at.timestamp_millis(),
        };
        let changed = DomainEvent::new(context, "analytics.health.band_changed", subject).with_data(json!({
            "from": health_model::band_as_str(last.band),
            "to": band,
            "score": snapshot.score,
        }));
        events.push(with_refs(changed));
    }
    events
}

/// The nightly snapshots: once the tenant's clock has passed 02:00, every customer
/// analytics knows without a snapshot dated that day gets one.
pub struct NightlySnapshotsJob;

impl ScheduledJob for NightlySnapshotsJob {
    fn name(&self) -> &'static str {
        NIGHTLY_SNAPSHOTS
    }

    /// A pass every 15 minutes: the day's snapshots land at most that long after 02:00.
    fn every(&self) -> Duration {
        Duration::from_secs(15 * 60)
    }

    fn run_for_tenant<'a>(
        &'a self,
        database: &'a DatabaseConnection,
        tick: &'a TenantTick,
    ) -> BoxFuture<'a, Result<u64, DbErr>> {
        Box::pin(nightly_snapshots(database, tick))
    }
}

pub fn jobs() -> Vec<Arc<dyn ScheduledJob>> {
    vec![Arc::new(NightlySnapshotsJob)]
}

/// The business day whose nightly snapshots are due at the tick: the tenant's date two
/// hours ago (before 02:00 that is yesterday, whose snapshots exist already).
pub fn nightly_day(tick: &TenantTick) -> NaiveDate {
    calendar::date_in_time_zone(&tick.time_zone, tick.now - TimeDelta::hours(NIGHTLY_HOUR))
}

/// One nightly pass for one tenant: the number of snapshots stored.
pub async fn nightly_snapshots(database: &DatabaseConnection, tick: &TenantTick) -> Result<u64, DbErr> {
    let context = TenantContext::automation(tick.tenant_id, &format!("schedule:{NIGHTLY_SNAPSHOTS}"));
    let tx = TenantTransaction::begin_write(database, &context).await?;
    let day = nightly_day(tick);
    let as_database_error = |error: AnalyticsError| match error {
        AnalyticsError::Database(error) => error,
        other => DbErr::Custom(other.to_string()),
    };
    let done = health_snapshots::customers_snapshotted_on(&tx, day).await.map_err(as_database_error)?;
    let due: Vec<Uuid> = health_models::known_customers(&tx)
        .await
        .map_err(as_database_error)?
        .into_iter()
        .filter(|customer| !done.contains(customer))
        .collect();
    if due.is_empty() {
        return Ok(0);
    }
    let command = Command {
        operation: "computeNightlyHealthSnapshots",
        entity_type: "HealthSnapshot",
        allowed_roles: SNAPSHOT_WRITERS,
        target: None,
    };
    let now = tick.now;
    let stored =
        command::execute_within(&tx, &command, move |tx| Box::pin(recompute(tx, due, day, now, Cadence::Scheduled)))
            .await
            .map_err(|error| match error {
                CommandError::Database(error) => error,
                other => DbErr::Custom(other.to_string()),
            })?;
    tx.commit().await?;
    Ok(stored.len() as u64)
}
