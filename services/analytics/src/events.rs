//! Analytics' event consumer (docs/domain.md#customer-lifecycle,
//! docs/domain.md#analytics-read-models, docs/domain.md#automation-rules): from finance's
//! and delivery's events it keeps the customer timeline, the engagement read model and the
//! lifecycle stage; every domain event it receives is journaled and projected into the read
//! models; and it runs the automation rules the event triggers, sending their cross-service
//! commands through analytics' outbox. Every write runs through `command::execute_within` inside the
//! transaction the event runtime opened, so the effects, their audit entries, the outbox
//! rows and the runtime's inbox record commit together.

use atrium_kit::{
    TenantTransaction,
    changes::{ChangeKind, outbox},
    command::{self, Command, CommandError, Outcome},
    events::{DomainEvent, EventHandler, HandlerError, Subject},
    tenant::AUTOMATION_ROLE,
};
use futures::future::BoxFuture;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::{
    domain::lifecycle::{self, EngagementStatus},
    error::AnalyticsError,
    repository::lifecycle::{self as journey, EngagementUpdate, NewTimelineEntry},
};

const CONTRACT_SIGNED: &str = "finance.contract.signed";
const CUSTOMER_CREATED: &str = "finance.customer.created";
const ENGAGEMENT_EVENTS: &str = "delivery.engagement.";
/// Streams whose domain events feed the journal and the read models
/// (docs/domain.md#analytics-read-models); commands on them are other services' business.
const READ_MODEL_STREAMS: &[&str] = &["finance.", "delivery.", "support.", "catalog.", "analytics."];

/// Only the platform runs these: no user role may.
const CONSUMER_ROLES: &[&str] = &[AUTOMATION_ROLE];

const APPLY_LIFECYCLE_EVENT: Command = Command {
    operation: "applyLifecycleEvent",
    entity_type: "CustomerLifecycle",
    allowed_roles: CONSUMER_ROLES,
    target: None,
};

/// The analytics consumer; the event runtime calls it for the types it [`wants`](EventHandler::wants).
#[derive(Debug, Clone, Copy, Default)]
pub struct AnalyticsEvents;

impl AnalyticsEvents {
    pub fn new() -> Self {
        AnalyticsEvents
    }
}

impl EventHandler for AnalyticsEvents {
    fn wants(&self, event_type: &str) -> bool {
        journey_wants(event_type)
            || (READ_MODEL_STREAMS.iter().any(|stream| event_type.starts_with(stream))
                && !event_type.contains(".command."))
            || crate::health::triggers_recompute(event_type)
            || crate::automation::wants(event_type)
    }

    fn handle<'t>(
        &'t self,
        tx: &'t TenantTransaction,
        event: &'t DomainEvent,
    ) -> BoxFuture<'t, Result<(), HandlerError>> {
        Box::pin(handle(tx, event))
    }
}

/// The events that move the customer journey (timeline, engagement status, stage).
fn journey_wants(event_type: &str) -> bool {
    event_type == CONTRACT_SIGNED
        || event_type == CUSTOMER_CREATED
        || event_type == lifecycle::TIME_ENTRY_APPROVED
        || event_type.starts_with(ENGAGEMENT_EVENTS)
}

async fn handle(tx: &TenantTransaction, event: &DomainEvent) -> Result<(), HandlerError> {
    if journey_wants(&event.event_type) {
        let customer_account_id = *event.refs.get("customer_account_id").ok_or_else(|| {
            HandlerError::Poison(format!("{} {} names no customer_account_id", event.event_type, event.id))
        })?;
        let command = Command { target: Some(customer_account_id), ..APPLY_LIFECYCLE_EVENT };
        // The domain part may outlive any borrow of the caller's (the kit's signature), so it
        // owns its copy of the event.
        let owned = event.clone();
        command::execute_within(tx, &command, move |tx| {
            Box::pin(async move { apply_to_journey(tx, &owned, customer_account_id).await })
        })
        .await
        .map_err(handler_error)?;
    }
    crate::read_models::project(tx, event).await?;
    crate::health::on_event(tx, event).await?;
    crate::automation::on_event(tx, event).await?;
    Ok(())
}

/// Timeline, engagement read model and stage for one event.
async fn apply_to_journey(
    tx: &TenantTransaction,
    event: &DomainEvent,
    customer_account_id: Uuid,
) -> Result<Outcome<()>, CommandError> {
    let channel_partner_id = match event.refs.get("channel_partner_id") {
        Some(partner) => Some(*partner),
        None => journey::channel_partner_of(tx, customer_account_id).await.map_err(command_error)?,
    };
    let mut changes = Vec::new();
    if let Some(entry_type) = lifecycle::timeline_entry_for(&event.event_type) {
        let entry = NewTimelineEntry {
            customer_account_id,
            channel_partner_id,
            event_type: entry_type,
            occurred_at: event.occurred_at,
            source_service: event.producer.clone(),
            source_event_id: event.id,
            payload: timeline_payload(event).to_string(),
        };
        if journey::append_timeline_entry(tx, entry).await.map_err(command_error)? {
            changes.push(format!("timeline +{}", entry_type.as_str()));
        }
    }
    if event.event_type.starts_with(ENGAGEMENT_EVENTS)
        && let Some(status) = engagement_status(event)?
    {
        let update = EngagementUpdate {
            engagement_id: event.refs.get("engagement_id").copied().unwrap_or(event.subject.id),
            customer_account_id,
            channel_partner_id,
            status,
            subject_version: event.subject.version,
            occurred_at: event.occurred_at,
        };
        if journey::apply_engagement_update(tx, update).await.map_err(command_error)? {
            changes.push(format!("engagement {}", status.as_str()));
        }
    }
    let statuses = journey::engagement_statuses_of(tx, customer_account_id).await.map_err(command_error)?;
    let stage = lifecycle::stage_of(statuses);
    let stage_change = journey::save_stage(tx, customer_account_id, channel_partner_id, stage, event.occurred_at)
        .await
        .map_err(command_error)?;
    let mut events = Vec::new();
    if let Some(change) = &stage_change {
        changes.push(format!("stage {} -> {}", change.from.map_or("none", |from| from.as_str()), change.to.as_str()));
        let subject =
            Subject { entity_type: "CustomerLifecycle".to_owned(), id: customer_account_id, version: change.version };
        events.push(
            DomainEvent::new(tx.context(), "analytics.lifecycle.stage_changed", subject)
                .with_ref("customer_account_id", customer_account_id)
                .with_data(json!({
                    "from": change.from.map(|from| from.as_str()),
                    "to": change.to.as_str(),
                    "stage_entered_at": event.occurred_at,
                })),
        );
    }
    if !changes.is_empty() {
        // The timeline and the stage are fields of `CustomerAccount`: cached answers go.
        outbox::record_change(
            tx,
            "analytics",
            "CustomerAccount",
            &customer_account_id.to_string(),
            ChangeKind::Updated,
        )
        .await?;
    }
    Ok(Outcome {
        value: (),
        entity_ids: vec![customer_account_id],
        detail: if changes.is_empty() { format!("{} already applied", event.event_type) } else { changes.join(", ") },
        events,
    })
}

/// The engagement status an engagement event reports: `data.status` on creation and
/// activation, `data.to` on the other transitions; `None` for events that change no
/// status (e.g. a go-live forecast).
fn engagement_status(event: &DomainEvent) -> Result<Option<EngagementStatus>, CommandError> {
    let reported = event.data.get("to").or_else(|| event.data.get("status")).and_then(Value::as_str);
    reported
        .map(|status| {
            EngagementStatus::parse(status)
                .map_err(|_| CommandError::Invalid(format!("{} reports unknown status `{status}`", event.event_type)))
        })
        .transpose()
}

/// What the timeline keeps of an event: its data and the ids it refers to.
fn timeline_payload(event: &DomainEvent) -> Value {
    let mut payload = match &event.data {
        Value::Object(data) => data.clone(),
        Value::Null => Map::new(),
        other => Map::from_iter([("data".to_owned(), other.clone())]),
    };
    for (role, id) in &event.refs {
        payload.entry(role.clone()).or_insert_with(|| json!(id));
    }
    Value::Object(payload)
}

fn command_error(error: AnalyticsError) -> CommandError {
    match error {
        AnalyticsError::Database(error) => CommandError::Database(error),
        other => CommandError::Invalid(other.to_string()),
    }
}

/// A database hiccup may pass; anything else this event caused will not.
fn handler_error(error: CommandError) -> HandlerError {
    match error {
        CommandError::Database(error) => error.into(),
        other => HandlerError::Poison(other.to_string()),
    }
}
