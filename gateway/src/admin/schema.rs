//! The admin GraphQL schema: tenant admins publish and list their tenant's persisted
//! documents. Publications are always for the caller's own tenant; platform-wide
//! publications are visible here but stay with operators (`atrium-gateway pq publish`).

use std::sync::Arc;

use async_graphql::{Context, EmptySubscription, Enum, ErrorExtensions, ID, Json, Object, Schema, SimpleObject};
use atrium_contract::{ClientKind, TenantContext, errors::ErrorCode};
use chrono::{DateTime, Utc};

use crate::{
    persisted::{InvalidOperation, Manifest, Publication, Scope, validate_manifest},
    state::GatewayState,
};

pub type AdminSchema = Schema<AdminQuery, AdminMutation, EmptySubscription>;

type JsonValue = Json<serde_json::Value>;

/// The one role that may publish or list persisted documents.
pub const PUBLISHER_ROLE: &str = "tenant_admin";

/// `extensions.code` of a manifest with operations the supergraph rejects.
pub const PERSISTED_DOCUMENT_INVALID: &str = ErrorCode::PersistedDocumentInvalid.as_str();

/// Every root field reads or writes the document store, so each costs far more than a
/// plain field: with the schema's complexity limit a request reaches the store a handful
/// of times at most, however many aliases it holds.
const STORE_FIELD_COMPLEXITY: usize = 100;
const MAX_COMPLEXITY: usize = 1_000;
const MAX_DEPTH: usize = 16;

pub fn build(introspection: bool) -> AdminSchema {
    let builder = Schema::build(AdminQuery, AdminMutation, EmptySubscription)
        .limit_complexity(MAX_COMPLEXITY)
        .limit_depth(MAX_DEPTH);
    if introspection { builder.finish() } else { builder.disable_introspection().finish() }
}

/// The client kinds documents are published for (the `client_kind` claim of a token or
/// the client of an API key).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "ClientKind")]
pub enum ClientKindValue {
    PartnerPortal,
    Dashboard,
    Bi,
    Service,
}

impl From<ClientKindValue> for ClientKind {
    fn from(value: ClientKindValue) -> Self {
        match value {
            ClientKindValue::PartnerPortal => ClientKind::PartnerPortal,
            ClientKindValue::Dashboard => ClientKind::Dashboard,
            ClientKindValue::Bi => ClientKind::Bi,
            ClientKindValue::Service => ClientKind::Service,
        }
    }
}

impl From<ClientKind> for ClientKindValue {
    fn from(value: ClientKind) -> Self {
        match value {
            ClientKind::PartnerPortal => ClientKindValue::PartnerPortal,
            ClientKind::Dashboard => ClientKindValue::Dashboard,
            ClientKind::Bi => ClientKindValue::Bi,
            ClientKind::Service => ClientKindValue::Service,
        }
    }
}

/// One published manifest: the documents a client kind of one tenant, or of every
/// tenant, may run by id.
pub struct PersistedDocumentPublication {
    scope: Scope,
    client: ClientKind,
    publication: Publication,
}

#[Object]
impl PersistedDocumentPublication {
    /// Grows by one with each publication for the same tenant (or platform) and client kind.
    async fn version(&self) -> u64 {
        self.publication.version
    }

    async fn client(&self) -> ClientKindValue {
        self.client.into()
    }

    /// The tenant the documents are published for; null for platform-wide documents.
    async fn tenant_id(&self) -> Option<ID> {
        match self.scope {
            Scope::Tenant(tenant) => Some(ID(tenant.to_string())),
            Scope::Platform => None,
        }
    }

    /// Published by operators for every tenant; tenant documents with the same id win.
    async fn platform_wide(&self) -> bool {
        self.scope == Scope::Platform
    }

    async fn operation_count(&self) -> usize {
        self.publication.manifest.operations.len()
    }

    async fn published_at(&self) -> async_graphql::Result<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(&self.publication.published_at)
            .map(|at| at.with_timezone(&Utc))
            .map_err(atrium_contract::errors::internal)
    }

    async fn operations(&self) -> Vec<PersistedOperation> {
        self.publication
            .manifest
            .operations
            .iter()
            .map(|operation| PersistedOperation {
                id: operation.id.clone(),
                name: operation.name.clone(),
                kind: operation.kind.clone(),
                body: operation.body.clone(),
            })
            .collect()
    }
}

/// One operation of a manifest, run by its `id` (`documentId`).
#[derive(SimpleObject)]
pub struct PersistedOperation {
    id: String,
    name: String,
    /// `query`, `mutation` or `subscription`, as the manifest states it.
    #[graphql(name = "type")]
    kind: String,
    body: String,
}

pub struct AdminQuery;

#[Object(name = "Query")]
impl AdminQuery {
    /// The caller's tenant's publications and the platform-wide ones, per client kind.
    #[graphql(complexity = "STORE_FIELD_COMPLEXITY + child_complexity")]
    async fn persisted_documents(
        &self,
        ctx: &Context<'_>,
        client: Option<ClientKindValue>,
    ) -> async_graphql::Result<Vec<PersistedDocumentPublication>> {
        let caller = publisher(ctx)?;
        let state = ctx.data::<Arc<GatewayState>>()?;
        let client = client.map(ClientKind::from);
        let mut publications: Vec<PersistedDocumentPublication> = state
            .documents
            .store()
            .load_all()
            .await
            .map_err(atrium_contract::errors::internal)?
            .into_iter()
            .filter(|(scope, _, _)| *scope == Scope::Platform || *scope == Scope::Tenant(caller.tenant_id))
            .filter(|(_, kind, _)| client.is_none_or(|wanted| wanted == *kind))
            .map(|(scope, client, publication)| PersistedDocumentPublication { scope, client, publication })
            .collect();
        // The tenant's own publications first, then by client kind: a stable order.
        publications.sort_by_key(|publication| (publication.scope == Scope::Platform, publication.client.as_str()));
        Ok(publications)
    }
}

pub struct AdminMutation;

#[Object(name = "Mutation")]
impl AdminMutation {
    /// Validates an Apollo persisted-query manifest (v1) against the running supergraph
    /// and publishes it for the caller's tenant and `client`, replacing that client's
    /// previous manifest. Nothing is published when any operation does not validate.
    #[graphql(complexity = "STORE_FIELD_COMPLEXITY + child_complexity")]
    async fn publish_persisted_documents(
        &self,
        ctx: &Context<'_>,
        client: ClientKindValue,
        #[graphql(desc = "The manifest as a JSON object (or its text as a JSON string).")] manifest: JsonValue,
    ) -> async_graphql::Result<PersistedDocumentPublication> {
        let caller = publisher(ctx)?;
        let state = ctx.data::<Arc<GatewayState>>()?;
        let client = ClientKind::from(client);
        let manifest = parse_manifest(manifest.0)?;
        let invalid = validate_manifest(&state.engine, &manifest).await;
        if !invalid.is_empty() {
            return Err(invalid_manifest_error(&invalid, manifest.operations.len()));
        }
        let scope = Scope::Tenant(caller.tenant_id);
        let publication = state
            .documents
            .store()
            .publish_publication(scope, client, manifest)
            .await
            .map_err(atrium_contract::errors::internal)?;
        tracing::info!(
            subject = %caller.subject,
            tenant.id = %caller.tenant_id,
            client.kind = client.as_str(),
            version = publication.version,
            operations = publication.manifest.operations.len(),
            "published persisted documents"
        );
        Ok(PersistedDocumentPublication { scope, client, publication })
    }
}

/// The caller, when they may publish; FORBIDDEN otherwise.
fn publisher<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a TenantContext> {
    let caller = ctx.data::<TenantContext>()?;
    if caller.has_role(PUBLISHER_ROLE) {
        Ok(caller)
    } else {
        Err(ErrorCode::Forbidden.graphql_error("only a tenant_admin may manage persisted documents"))
    }
}

fn parse_manifest(value: serde_json::Value) -> async_graphql::Result<Manifest> {
    let parsed = match value {
        serde_json::Value::String(text) => Manifest::parse(&text),
        value => Manifest::parse(&value.to_string()),
    };
    parsed.map_err(|error| ErrorCode::BadUserInput.graphql_error(format!("the manifest cannot be published: {error}")))
}

fn invalid_manifest_error(invalid: &[InvalidOperation], total: usize) -> async_graphql::Error {
    let operations: Vec<async_graphql::Value> = invalid
        .iter()
        .map(|operation| {
            async_graphql::value!({
                "id": operation.id.clone(),
                "name": operation.name.clone(),
                "reason": operation.reason.clone(),
            })
        })
        .collect();
    let names: Vec<&str> = invalid.iter().map(|operation| operation.name.as_str()).collect();
    async_graphql::Error::new(format!(
        "{} of {total} operations do not validate against the supergraph ({}); nothing was published",
        invalid.len(),
        names.join(", ")
    ))
    .extend_with(|_, extensions| {
        extensions.set("code", PERSISTED_DOCUMENT_INVALID);
        extensions.set("invalidOperations", async_graphql::Value::List(operations.clone()));
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The admin API's contract: a change here is a change for every tenant's tooling.
    #[test]
    fn the_schema_offers_publishing_and_listing_only() {
        insta::assert_snapshot!(build(false).sdl());
    }

    #[test]
    fn manifests_arrive_as_objects_or_text_and_malformed_ones_are_bad_user_input() {
        let manifest = serde_json::json!({
            "format": "apollo-persisted-query-manifest",
            "version": 1,
            "operations": [{ "id": "a1", "name": "Report", "type": "query", "body": "{ tenant { name } }" }],
        });
        assert_eq!(parse_manifest(manifest.clone()).unwrap().operations[0].id, "a1");
        assert_eq!(parse_manifest(serde_json::Value::String(manifest.to_string())).unwrap().operations.len(), 1);
        let wrong = serde_json::json!({ "format": "other", "version": 1, "operations": [] });
        let error = parse_manifest(wrong).unwrap_err();
        assert_eq!(
            error.extensions.as_ref().and_then(|extensions| extensions.get("code")),
            Some(&async_graphql::Value::from("BAD_USER_INPUT"))
        );
    }
}
