//! The `[authorization]` section of the gateway configuration: what happens to an
//! operation that selects fields or types the caller's roles may not see, per client kind.

use atrium_contract::ClientKind;
use serde::Deserialize;

/// `filter` removes the unauthorized selections (they answer null, each with an
/// `UNAUTHORIZED_FIELD_OR_TYPE` error) and runs the rest; `reject` refuses the whole
/// request with 403 before any subgraph is called.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnauthorizedSelections {
    #[default]
    Filter,
    Reject,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorizationConfig {
    /// For every client kind unless `clients.<kind>` says otherwise. Default `filter`.
    #[serde(default)]
    pub on_unauthorized: UnauthorizedSelections,
    /// Per client kind overrides (`partner_portal`, `dashboard`, `bi`, `service`).
    #[serde(default)]
    pub clients: ClientAuthorizationOverrides,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientAuthorizationOverrides {
    #[serde(default)]
    pub partner_portal: Option<UnauthorizedSelections>,
    #[serde(default)]
    pub dashboard: Option<UnauthorizedSelections>,
    #[serde(default)]
    pub bi: Option<UnauthorizedSelections>,
    #[serde(default)]
    pub service: Option<UnauthorizedSelections>,
}

impl AuthorizationConfig {
    pub fn on_unauthorized_for(&self, kind: ClientKind) -> UnauthorizedSelections {
        let configured = match kind {
            ClientKind::PartnerPortal => self.clients.partner_portal,
            ClientKind::Dashboard => self.clients.dashboard,
            ClientKind::Bi => self.clients.bi,
            ClientKind::Service => self.clients.service,
        };
        configured.unwrap_or(self.on_unauthorized)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_kind_override_wins_over_the_default() {
        let config: AuthorizationConfig =
            toml::from_str("on_unauthorized = \"filter\"\nclients.bi = \"reject\"").unwrap();
        assert_eq!(config.on_unauthorized_for(ClientKind::Bi), UnauthorizedSelections::Reject);
        assert_eq!(config.on_unauthorized_for(ClientKind::Dashboard), UnauthorizedSelections::Filter);
        assert_eq!(
            AuthorizationConfig::default().on_unauthorized_for(ClientKind::Service),
            UnauthorizedSelections::Filter
        );
    }
}
