//! Domain events: the envelope every service publishes when its state changes
//! (docs/domain.md#events). The envelope is CloudEvents-compatible JSON: an id for
//! idempotent consumers, a dotted type (`finance.contract.signed`), the tenant, the
//! producing service, the subject with its version (consumers order by it), references to
//! related entities, the actor and the event's own data. Events are written to the
//! service's outbox in the transaction of the change they describe (see [`crate::command`]).
//!
//! Delivery (docs/domain.md#event-delivery): the outbox relay publishes envelopes through an
//! [`EventTransport`] — Redis Streams ([`redis_streams`]) when `[events] redis_url` is set,
//! signed HTTP batches to each subscriber otherwise ([`transport::HttpTransport`]) — and a
//! consuming service applies them through its [`EventConsumer`] (inbox, ordering by subject
//! version, retries, dead letters), fed by [`redis_streams::RedisEventSource`] or the
//! [`http::EVENTS_PATH`] route. A tenant admin reads the parked events through the
//! consuming subgraph ([`dead_letter_field`]).

pub mod config;
pub mod consumer;
pub mod dead_letter_field;
pub mod http;
pub mod redis_streams;
pub mod trace;
pub mod transport;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{TenantContext, TenantTransaction};

pub use config::{EventSubscriber, EventsConfig, EventsConfigError, LOCAL_CONSUMERS, LOCAL_SERVICES};
pub use consumer::{
    CONSUMER_TABLES, DeadLetter, EventConsumer, Processed, count_dead_letters, create_consumer_tables,
    drop_consumer_tables, list_dead_letters,
};
pub use dead_letter_field::{DEFAULT_DEAD_LETTERS, MAX_DEAD_LETTERS, tenant_dead_letters};
pub use transport::{EventBatch, EventTransport, HttpTransport, TransportError};

/// The envelope version consumers check before reading `data`.
pub const SPEC_VERSION: &str = "1";

/// The entity an event is about, at the version the change produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// The entity's GraphQL type name, e.g. `Contract`.
    #[serde(rename = "type")]
    pub entity_type: String,
    pub id: Uuid,
    /// Incremented by every change of the entity; consumers skip versions older than what
    /// they have applied, so out-of-order delivery cannot undo a newer state.
    pub version: i64,
}

/// One domain event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainEvent {
    /// UUIDv7: unique and time-ordered.
    pub id: Uuid,
    /// `<service>.<entity>.<past verb>`, e.g. `finance.contract.signed`.
    #[serde(rename = "type")]
    pub event_type: String,
    pub spec_version: String,
    pub tenant_id: Uuid,
    pub occurred_at: DateTime<Utc>,
    /// The service that owns the subject, e.g. `finance`.
    pub producer: String,
    pub subject: Subject,
    /// Related entities by role, e.g. `customer_account_id`.
    #[serde(default)]
    pub refs: BTreeMap<String, Uuid>,
    /// Who caused it: `user:<subject>`, `apikey:<id>` or `automation:<rule>`.
    pub actor: String,
    #[serde(default)]
    pub data: serde_json::Value,
    /// W3C trace context of the change, so a consumer's effect joins the producer's trace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
}

impl DomainEvent {
    /// An event of `event_type` about `subject`, caused by the caller of `context`, now.
    pub fn new(context: &TenantContext, event_type: &str, subject: Subject) -> Self {
        let producer = event_type.split('.').next().unwrap_or_default().to_owned();
        DomainEvent {
            id: Uuid::now_v7(),
            event_type: event_type.to_owned(),
            spec_version: SPEC_VERSION.to_owned(),
            tenant_id: context.tenant_id,
            occurred_at: Utc::now(),
            producer,
            subject,
            refs: BTreeMap::new(),
            actor: actor_of(context),
            data: serde_json::Value::Null,
            traceparent: None,
        }
    }

    /// A cross-service command from `sender` to `owner` (see [`command_type`]): `subject`
    /// is what the command is about on the sender's side (e.g. the signed contract), `data`
    /// its parameters; `idempotency_key` is added to `data`.
    pub fn command(
        context: &TenantContext,
        sender: &str,
        owner: &str,
        name: &str,
        subject: Subject,
        idempotency_key: &str,
        mut data: serde_json::Value,
    ) -> Self {
        if let Some(fields) = data.as_object_mut() {
            fields.insert("idempotency_key".to_owned(), serde_json::Value::String(idempotency_key.to_owned()));
        }
        let mut event = DomainEvent::new(context, &command_type(owner, name), subject).with_data(data);
        event.producer = sender.to_owned();
        event
    }

    /// `data.idempotency_key` of a cross-service command.
    pub fn idempotency_key(&self) -> Option<&str> {
        self.data.get("idempotency_key").and_then(serde_json::Value::as_str)
    }

    /// Adds a reference to a related entity, e.g. `("customer_account_id", id)`.
    pub fn with_ref(mut self, role: &str, id: Uuid) -> Self {
        self.refs.insert(role.to_owned(), id);
        self
    }

    pub fn with_data(mut self, data: serde_json::Value) -> Self {
        self.data = data;
        self
    }
}

/// What a consuming service does with the events it subscribes to. The event runtime
/// (inbox, ordering, retries, dead letters, both transports) calls it; a service writes only
/// the effect.
pub trait EventHandler: Send + Sync + 'static {
    /// Event types this consumer applies; others are acknowledged without effect.
    fn wants(&self, event_type: &str) -> bool;

    /// Applies `event` inside `tx`: the transaction of the event's tenant (context
    /// [`TenantContext::automation`]) that also records the event in the consumer's inbox,
    /// so the effect happens exactly once. Rows written through `tx` — including outbox
    /// events of commands run with `command::execute_within` — commit with it; an error
    /// rolls all of it back.
    fn handle<'t>(
        &'t self,
        tx: &'t TenantTransaction,
        event: &'t DomainEvent,
    ) -> BoxFuture<'t, Result<(), HandlerError>>;
}

/// Why a consumer could not apply an event.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Might succeed later (a database hiccup, a referenced entity not arrived yet):
    /// retried with backoff, then parked as a dead letter.
    #[error("retryable: {0}")]
    Retryable(String),
    /// Can never succeed (unreadable data, a refused command): parked as a dead letter at
    /// once, and the events after it flow on.
    #[error("poison: {0}")]
    Poison(String),
}

impl From<sea_orm::DbErr> for HandlerError {
    fn from(error: sea_orm::DbErr) -> Self {
        HandlerError::Retryable(error.to_string())
    }
}

/// Type prefix of cross-service commands: `<owner>.command.<name>`, e.g.
/// `delivery.command.create_engagement_from_blueprint`. A command travels as an event of
/// the sending service addressed to the owner, whose consumer validates and runs it like a
/// mutation and emits its normal events; `data.idempotency_key` is
/// `<rule>:<subject id>:<trigger event id>`.
pub fn command_type(owner: &str, name: &str) -> String {
    format!("{owner}.command.{name}")
}

/// The actor text for a caller: API keys and automations already carry their kind in the
/// subject; people are `user:<subject>`.
fn actor_of(context: &TenantContext) -> String {
    if context.subject.contains(':') { context.subject.clone() } else { format!("user:{}", context.subject) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ClientKind;

    fn context(subject: &str) -> TenantContext {
        TenantContext {
            tenant_id: Uuid::nil(),
            subject: subject.to_owned(),
            roles: vec!["finance".to_owned()],
            client_kind: ClientKind::Dashboard,
            channel_partner_id: None,
            customer_account_id: None,
        }
    }

    #[test]
    fn the_envelope_serialises_with_the_cloud_events_style_field_names() {
        let subject = Subject { entity_type: "Contract".to_owned(), id: Uuid::nil(), version: 3 };
        let event = DomainEvent::new(&context("alice"), "finance.contract.signed", subject)
            .with_ref("customer_account_id", Uuid::nil())
            .with_data(serde_json::json!({ "lines": [] }));
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], "finance.contract.signed");
        assert_eq!(json["spec_version"], "1");
        assert_eq!(json["producer"], "finance");
        assert_eq!(json["subject"], serde_json::json!({ "type": "Contract", "id": Uuid::nil(), "version": 3 }));
        assert_eq!(json["refs"]["customer_account_id"], serde_json::json!(Uuid::nil()));
        assert_eq!(json["actor"], "user:alice");
        assert!(json.get("traceparent").is_none());
        let back: DomainEvent = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
    }

    #[test]
    fn api_keys_and_automations_keep_their_own_actor_kind() {
        let subject = Subject { entity_type: "Task".to_owned(), id: Uuid::nil(), version: 1 };
        let event = DomainEvent::new(&context("automation:A1"), "delivery.task.completed", subject);
        assert_eq!(event.actor, "automation:A1");
    }
}
