//! The tenant context: who is calling, for which tenant, with which roles, through which
//! kind of client. The gateway derives it from verified credentials only; services receive
//! it signed (see `context_token`) and never from any other header.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The kind of client behind a request; policies (limits, persisted documents) key on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientKind {
    PartnerPortal,
    Dashboard,
    Bi,
    Service,
}

impl ClientKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientKind::PartnerPortal => "partner_portal",
            ClientKind::Dashboard => "dashboard",
            ClientKind::Bi => "bi",
            ClientKind::Service => "service",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "partner_portal" => Some(ClientKind::PartnerPortal),
            "dashboard" => Some(ClientKind::Dashboard),
            "bi" => Some(ClientKind::Bi),
            "service" => Some(ClientKind::Service),
            _ => None,
        }
    }
}

/// The roles of docs/domain.md#roles; anything else in a token is rejected by the gateway.
pub const KNOWN_ROLES: &[&str] = &[
    "tenant_admin",
    "exec",
    "csm",
    "delivery_manager",
    "consultant",
    "finance",
    "support_agent",
    "support_lead",
    "partner_admin",
    "partner_user",
    "customer_user",
];

/// Everything a service may know about the caller. Built by the gateway from a verified
/// credential; carried to subgraphs inside a gateway-signed token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantContext {
    pub tenant_id: Uuid,
    /// Identity-provider subject of the caller (user id or API key id).
    pub subject: String,
    pub roles: Vec<String>,
    pub client_kind: ClientKind,
    /// Set for partner users: second-level scope to one channel partner's rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_partner_id: Option<Uuid>,
    /// Set for customer-portal users: second-level scope to one customer account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_account_id: Option<Uuid>,
}

/// The role of the platform itself acting on a tenant's behalf (an event consumer or an
/// automation rule). Never accepted in a token: the gateway only admits [`KNOWN_ROLES`];
/// commands that automations may run list it among their allowed roles.
pub const AUTOMATION_ROLE: &str = "automation";

impl TenantContext {
    /// The context an event consumer acts in for `tenant_id`: `actor` is the event's cause
    /// as it should appear in audit entries and the events it produces, e.g.
    /// `automation:A1` or `consumer:delivery`.
    pub fn automation(tenant_id: Uuid, actor: &str) -> Self {
        TenantContext {
            tenant_id,
            subject: actor.to_owned(),
            roles: vec![AUTOMATION_ROLE.to_owned()],
            client_kind: ClientKind::Service,
            channel_partner_id: None,
            customer_account_id: None,
        }
    }

    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|held| held == role)
    }
}
