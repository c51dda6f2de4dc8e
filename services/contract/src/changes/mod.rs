//! Change events on the wire: what a service tells the gateway when one of its entities
//! changed, so cached responses containing the entity can be invalidated. The types, the
//! path and the batch signature are shared by both ends; the outbox that records changes and
//! the relay that delivers them belong to the service runtime (`atrium_kit::changes`).
//!
//! Batches are signed with HMAC-SHA256 under the shared context keys (the same keys the
//! gateway signs tenant contexts with), see [`sign_batch`] and [`verify_batch`].

mod signature;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use signature::{ChangeSignatureError, sign_batch, verify_batch};

/// Path on the gateway the relay POSTs batches to.
pub const CHANGES_PATH: &str = "/internal/changes";

/// Header carrying the batch signature (`t=<unix seconds>,kid=<key id>,v1=<hex HMAC>`).
pub const SIGNATURE_HEADER: &str = "x-atrium-signature";

/// What happened to the entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Created,
    Updated,
    Deleted,
}

impl ChangeKind {
    /// The stored and serialised text.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Created => "created",
            ChangeKind::Updated => "updated",
            ChangeKind::Deleted => "deleted",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "created" => Some(ChangeKind::Created),
            "updated" => Some(ChangeKind::Updated),
            "deleted" => Some(ChangeKind::Deleted),
            _ => None,
        }
    }
}

/// One committed change of one entity of one tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeEvent {
    /// UUIDv7 of the event, for idempotence and logs.
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// The emitting service, e.g. `support`.
    pub service: String,
    /// The entity's GraphQL type name in the supergraph, e.g. `Ticket`.
    pub entity_type: String,
    /// The entity's key value (a uuid as text).
    pub entity_id: String,
    pub change: ChangeKind,
    pub occurred_at: DateTime<Utc>,
}

/// The body of one delivery to [`CHANGES_PATH`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChangeBatch {
    pub events: Vec<ChangeEvent>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_kinds_round_trip_through_their_stored_text() {
        for kind in [ChangeKind::Created, ChangeKind::Updated, ChangeKind::Deleted] {
            assert_eq!(ChangeKind::parse(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), serde_json::json!(kind.as_str()));
        }
        assert_eq!(ChangeKind::parse("renamed"), None);
    }

    #[test]
    fn events_serialise_with_camel_case_fields() {
        let event = ChangeEvent {
            id: Uuid::now_v7(),
            tenant_id: Uuid::now_v7(),
            service: "support".into(),
            entity_type: "Ticket".into(),
            entity_id: Uuid::now_v7().to_string(),
            change: ChangeKind::Updated,
            occurred_at: Utc::now(),
        };
        let json = serde_json::to_value(ChangeBatch { events: vec![event.clone()] }).unwrap();
        let fields: Vec<&str> = json["events"][0].as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(fields.len(), 7, "{json}");
        for field in ["id", "tenantId", "service", "entityType", "entityId", "change", "occurredAt"] {
            assert!(fields.contains(&field), "{field} missing in {json}");
        }
        assert_eq!(json["events"][0]["change"], "updated");
        let back: ChangeBatch = serde_json::from_value(json).unwrap();
        assert_eq!(back.events, vec![event]);
    }
}
