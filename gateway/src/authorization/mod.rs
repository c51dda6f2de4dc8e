//! Field- and type-level authorization, enforced before planning. The supergraph's
//! `@requiresScopes` applications (`requirements`) are checked against the caller's roles
//! for every field the operation selects, through aliases, fragments and abstract types
//! (`operation`). What the caller may not see is either removed from the plan (it answers
//! null, with one `UNAUTHORIZED_FIELD_OR_TYPE` error per removed selection and its path)
//! or the request is refused with 403, per client kind (`config`). Unauthorized data is
//! never fetched from a subgraph: the engine plans without the removed selections, and
//! the removal is part of the plan cache key.

mod config;
mod operation;
mod requirements;

use std::collections::HashSet;
use std::sync::Arc;

use atrium_contract::TenantContext;
use graphql_tools::static_graphql::schema;
use serde_json::Value;

pub use config::{AuthorizationConfig, ClientAuthorizationOverrides, UnauthorizedSelections};
pub use operation::UNAUTHORIZED_FIELD_OR_TYPE;

use crate::engine::{GraphQLRequest, RemovedSelections};
use requirements::{AuthorizationRules, all_met};

#[derive(Debug, thiserror::Error)]
#[error("cannot read the supergraph's authorization requirements: {0}")]
pub struct RequirementsError(String);

/// What an operation may run as for one caller.
#[derive(Debug, Default)]
pub struct AuthorizedOperation {
    /// Left out of the plan; empty when the caller may see everything selected.
    pub removed: Arc<RemovedSelections>,
    /// One `UNAUTHORIZED_FIELD_OR_TYPE` error per removed selection, added to the response.
    pub errors: Vec<Value>,
}

/// The request selects what the caller may not see and its client kind's policy is `reject`.
#[derive(Debug)]
pub struct Rejection {
    pub errors: Vec<Value>,
}

pub struct Authorizer {
    rules: AuthorizationRules,
    config: AuthorizationConfig,
}

impl Authorizer {
    pub fn new(supergraph_sdl: &str, config: AuthorizationConfig) -> Result<Self, RequirementsError> {
        let document: schema::Document = graphql_tools::parser::parse_schema::<String>(supergraph_sdl)
            .map_err(|error| RequirementsError(error.to_string()))?
            .into_static();
        Ok(Self { rules: AuthorizationRules::from_supergraph(&document), config })
    }

    pub fn config(&self) -> &AuthorizationConfig {
        &self.config
    }

    /// Decides what of `request` the caller may run. A document that does not parse
    /// or names no runnable operation passes unchanged: the engine rejects it.
    pub fn authorize(
        &self,
        context: &TenantContext,
        request: &GraphQLRequest,
    ) -> Result<AuthorizedOperation, Rejection> {
        let denied = self.denied_for(&context.roles, &request.query);
        if denied.is_empty() {
            return Ok(AuthorizedOperation::default());
        }
        let errors = operation::unauthorized_selections(&self.rules, &denied, request);
        if !errors.is_empty() && self.config.on_unauthorized_for(context.client_kind) == UnauthorizedSelections::Reject
        {
            return Err(Rejection { errors });
        }
        if !errors.is_empty() {
            tracing::info!(removed = ?denied.coordinates(), "removed selections the caller may not see");
        }
        Ok(AuthorizedOperation { removed: Arc::new(denied), errors })
    }

    /// The selections `roles` may not see whose names occur in the document. Every one
    /// of them is left out of the plan, whether or not the walk reports it, so a
    /// selection the walk could not place is never fetched either; and callers whose
    /// rights differ only on what the document does not mention share one plan.
    fn denied_for(&self, roles: &[String], query: &str) -> RemovedSelections {
        let mut denied = RemovedSelections::default();
        if self.rules.is_empty() {
            return denied;
        }
        let names: HashSet<&str> =
            query.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|word| !word.is_empty()).collect();
        for ((parent, field), requirements) in &self.rules.protected_fields {
            if names.contains(field.as_str()) && !all_met(requirements, roles) {
                denied.remove_field(parent, field);
            }
        }
        for (type_name, requirements) in &self.rules.protected_types {
            if names.contains(type_name.as_str()) && !all_met(requirements, roles) {
                denied.remove_type_condition(type_name);
            }
        }
        denied
    }
}

#[cfg(test)]
mod tests;
