//! The JWT claims Atrium accepts and their mapping to a [`TenantContext`]: `tid` (tenant
//! id), `roles`, `client_kind`, and the optional second-level scopes `partner_id` /
//! `customer_id`. Unknown roles or client kinds reject the token rather than being ignored,
//! so a typo in the identity provider cannot silently widen or narrow access.

use atrium_contract::{ClientKind, TenantContext, tenant::KNOWN_ROLES};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    /// Tenant id.
    pub tid: Uuid,
    #[serde(default)]
    pub roles: Vec<String>,
    /// Defaults to `dashboard` when absent.
    #[serde(default)]
    pub client_kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<Uuid>,
}

#[derive(Debug, thiserror::Error)]
pub enum ClaimsError {
    #[error("unknown role `{0}`")]
    UnknownRole(String),
    #[error("unknown client kind `{0}`")]
    UnknownClientKind(String),
    #[error("the token carries no role")]
    NoRole,
    #[error("role `{role}` requires the `{claim}` claim")]
    MissingScope { role: &'static str, claim: &'static str },
}

impl Claims {
    pub fn into_context(self) -> Result<TenantContext, ClaimsError> {
        if self.roles.is_empty() {
            return Err(ClaimsError::NoRole);
        }
        if let Some(unknown) = self.roles.iter().find(|role| !KNOWN_ROLES.contains(&role.as_str())) {
            return Err(ClaimsError::UnknownRole(unknown.clone()));
        }
        let client_kind = match self.client_kind.as_deref() {
            None => ClientKind::Dashboard,
            Some(kind) => ClientKind::parse(kind).ok_or_else(|| ClaimsError::UnknownClientKind(kind.to_owned()))?,
        };
        // Scoped roles without their scope would see the whole tenant: refuse them.
        let has = |role: &str| self.roles.iter().any(|held| held == role);
        if (has("partner_user") || has("partner_admin")) && self.partner_id.is_none() {
            return Err(ClaimsError::MissingScope { role: "partner_user", claim: "partner_id" });
        }
        if has("customer_user") && self.customer_id.is_none() {
            return Err(ClaimsError::MissingScope { role: "customer_user", claim: "customer_id" });
        }
        Ok(TenantContext {
            tenant_id: self.tid,
            subject: self.sub,
            roles: self.roles,
            client_kind,
            channel_partner_id: self.partner_id,
            customer_account_id: self.customer_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(roles: &[&str]) -> Claims {
        Claims {
            iss: "atrium-dev".into(),
            aud: "atrium".into(),
            sub: "user-1".into(),
            exp: 0,
            iat: 0,
            tid: Uuid::now_v7(),
            roles: roles.iter().map(|role| (*role).to_owned()).collect(),
            client_kind: None,
            partner_id: None,
            customer_id: None,
        }
    }

    #[test]
    fn maps_claims_to_a_tenant_context_with_dashboard_as_default_client() {
        let context = claims(&["csm"]).into_context().unwrap();
        assert_eq!(context.roles, vec!["csm"]);
        assert_eq!(context.client_kind, ClientKind::Dashboard);
    }

    #[test]
    fn rejects_unknown_roles_and_client_kinds_and_empty_roles() {
        assert!(matches!(claims(&["root"]).into_context(), Err(ClaimsError::UnknownRole(_))));
        assert!(matches!(claims(&[]).into_context(), Err(ClaimsError::NoRole)));
        let mut odd_client = claims(&["csm"]);
        odd_client.client_kind = Some("mainframe".into());
        assert!(matches!(odd_client.into_context(), Err(ClaimsError::UnknownClientKind(_))));
    }

    #[test]
    fn rejects_scoped_roles_without_their_scope() {
        assert!(matches!(claims(&["partner_user"]).into_context(), Err(ClaimsError::MissingScope { .. })));
        assert!(matches!(claims(&["customer_user"]).into_context(), Err(ClaimsError::MissingScope { .. })));
    }
}
