//! Persisted documents: trusted documents published per client kind (platform-wide or
//! per tenant) as Apollo persisted-query manifests, automatic persisted queries (APQ) for
//! the clients allowed to register, and the per-client policy deciding what may run.
//!
//! Resolution happens after authentication and before parsing: a request carries a
//! `documentId` (GraphQL-over-HTTP persisted documents) or
//! `extensions.persistedQuery.sha256Hash` (APQ / Apollo clients), a full `query`, or both.
//! An APQ registration is only proposed by resolution ([`ResolvedDocument::registration`]);
//! the gateway makes it once the operation has passed the operation policy, field
//! authorization and the rate limit, so a refused client cannot fill the store.

mod config;
mod manifest;
mod publish;
mod store;

use std::{sync::Arc, time::Duration};

use atrium_contract::{ErrorCode, TenantContext};
use axum::http::StatusCode;
pub use config::{ClientPolicies, DocumentPolicy, PersistedDocumentsConfig};
pub use manifest::{Manifest, ManifestError, ManifestOperation};
pub use publish::{InvalidOperation, validate_manifest};
pub use store::{ApqLimits, DocumentStore, Publication, Scope, StoreError, sha256_hex};
use uuid::Uuid;

use crate::engine::GraphQLRequest;

/// A request as it arrives, before its document is known.
#[derive(Debug, Clone, Default)]
pub struct IncomingRequest {
    pub query: Option<String>,
    pub document_id: Option<String>,
    pub operation_name: Option<String>,
    pub variables: serde_json::Map<String, serde_json::Value>,
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

/// Why a request's document may not run. Codes follow Apollo's persisted-query codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// No `query` and no id.
    MissingDocument,
    /// A full document from a client that may only send ids.
    IdRequired,
    /// An id or document that is not published for this client.
    NotInList,
    /// APQ: the hash is not registered; the client retries with the full query.
    NotFound,
    /// APQ: the full query does not hash to the announced hash.
    HashMismatch,
    /// The store that would hold the document cannot be read (Redis unreachable, or the
    /// published documents never loaded); the client may retry later.
    StoreUnavailable,
}

impl Rejection {
    pub fn status(&self) -> StatusCode {
        match self {
            Rejection::MissingDocument | Rejection::HashMismatch => StatusCode::BAD_REQUEST,
            Rejection::IdRequired => StatusCode::FORBIDDEN,
            Rejection::NotInList => StatusCode::NOT_FOUND,
            // APQ clients expect the not-found signal in a normal GraphQL response.
            Rejection::NotFound => StatusCode::OK,
            Rejection::StoreUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Rejection::MissingDocument => ErrorCode::BadRequest,
            Rejection::IdRequired => ErrorCode::PersistedQueryIdRequired,
            Rejection::NotInList => ErrorCode::PersistedQueryNotInList,
            Rejection::NotFound => ErrorCode::PersistedQueryNotFound,
            Rejection::HashMismatch => ErrorCode::PersistedQueryHashMismatch,
            Rejection::StoreUnavailable => ErrorCode::PersistedQueryStoreUnavailable,
        }
    }

    pub fn message(&self) -> &'static str {
        match self {
            Rejection::MissingDocument => "the request must hold a `query` or a document id",
            Rejection::IdRequired => "this client may only run published documents, by id",
            Rejection::NotInList => "the document is not published for this client",
            Rejection::NotFound => "PersistedQueryNotFound",
            Rejection::HashMismatch => "the query does not match the persisted query hash",
            Rejection::StoreUnavailable => "persisted documents are unavailable; retry later",
        }
    }

    /// The rejection for a store that could not answer; the detail stays in the log.
    fn store_unavailable(error: &StoreError) -> Self {
        tracing::warn!(%error, "persisted-document store unavailable; refusing the lookup");
        Rejection::StoreUnavailable
    }
}

/// What resolution decided: the request to run, and the APQ registration it proposes.
#[derive(Debug)]
pub struct ResolvedDocument {
    pub request: GraphQLRequest,
    /// Set when an APQ client sent a full query with its hash. Registered through
    /// [`PersistedDocuments::register`] only once the operation is admitted.
    pub registration: Option<ApqRegistration>,
}

/// An APQ document waiting for the gateway's admission of its operation. The hash was
/// checked against the body; the fields stay private so no other pair can be registered.
#[derive(Debug)]
pub struct ApqRegistration {
    tenant: Uuid,
    hash: String,
    body: String,
}

pub struct PersistedDocuments {
    config: PersistedDocumentsConfig,
    store: DocumentStore,
    /// Unknown documents already logged, so a dashboard polling one query logs it once.
    logged_unknown: moka::sync::Cache<[u8; 32], ()>,
}

impl PersistedDocuments {
    pub fn new(
        config: PersistedDocumentsConfig,
        redis_url: Option<&str>,
        key_prefix: &str,
    ) -> Result<Self, StoreError> {
        let apq = ApqLimits {
            ttl: Duration::from_secs(config.apq_ttl_seconds),
            local_capacity_bytes: config.apq_local_capacity_bytes,
        };
        let store = DocumentStore::new(redis_url, key_prefix, &config.directory, apq)?;
        Ok(PersistedDocuments {
            config,
            store,
            logged_unknown: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(3600))
                .build(),
        })
    }

    pub fn store(&self) -> &DocumentStore {
        &self.store
    }

    /// Loads the published manifests now, then keeps reloading them in the background.
    pub async fn start_reloading(self: &Arc<Self>) {
        if let Err(error) = self.store.reload().await {
            tracing::warn!(%error, "could not load published documents; retrying in the background");
        }
        let documents = Arc::downgrade(self);
        let period = Duration::from_secs(self.config.reload_seconds.max(1));
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(period);
            ticker.tick().await;
            loop {
                ticker.tick().await;
                let Some(documents) = documents.upgrade() else { break };
                if let Err(error) = documents.store.reload().await {
                    tracing::warn!(%error, "reloading published documents failed; keeping the previous set");
                }
            }
        });
    }

    /// Decides which document runs for this caller, or why none may. Stores nothing: an
    /// APQ registration is returned for [`PersistedDocuments::register`].
    pub async fn resolve(
        &self,
        context: &TenantContext,
        incoming: IncomingRequest,
    ) -> Result<ResolvedDocument, Rejection> {
        let policy = self.config.policy_for(context.client_kind);
        let apq_allowed = self.config.apq_clients.contains(&context.client_kind);
        let id = incoming
            .document_id
            .as_deref()
            .map(|id| id.strip_prefix("sha256:").unwrap_or(id).to_owned())
            .or_else(|| incoming.extensions.get("persistedQuery")?.get("sha256Hash")?.as_str().map(str::to_owned));
        let request = |query: String| GraphQLRequest {
            query,
            operation_name: incoming.operation_name.clone(),
            variables: incoming.variables.clone(),
            extensions: incoming.extensions.clone(),
        };

        let mut registration = None;
        let query = match (id, incoming.query.clone()) {
            (None, None) => return Err(Rejection::MissingDocument),
            (Some(id), None) => {
                let published = self.store.published_body(context.tenant_id, context.client_kind, &id);
                if let Ok(Some(body)) = &published {
                    return Ok(ResolvedDocument { request: request(body.to_string()), registration: None });
                }
                if !apq_allowed {
                    return Err(match published {
                        Err(error) => Rejection::store_unavailable(&error),
                        Ok(_) => Rejection::NotInList,
                    });
                }
                match (self.store.apq_body(context.tenant_id, &id.to_ascii_lowercase()).await, published) {
                    (Ok(Some(body)), _) => body.to_string(),
                    (Ok(None), Ok(_)) => return Err(Rejection::NotFound),
                    // Not registered, but perhaps published in what could not be read.
                    (Ok(None), Err(error)) | (Err(error), _) => return Err(Rejection::store_unavailable(&error)),
                }
            }
            (Some(id), Some(query)) => {
                if apq_allowed && incoming.extensions.contains_key("persistedQuery") {
                    let hash = id.to_ascii_lowercase();
                    if sha256_hex(&query) != hash {
                        return Err(Rejection::HashMismatch);
                    }
                    registration = Some(ApqRegistration { tenant: context.tenant_id, hash, body: query.clone() });
                }
                query
            }
            (None, Some(query)) => query,
        };

        // A full document (sent, or registered through APQ): the client's policy decides.
        let run = |query| Ok(ResolvedDocument { request: request(query), registration });
        match policy {
            DocumentPolicy::Allow => run(query),
            DocumentPolicy::RequireId => Err(Rejection::IdRequired),
            DocumentPolicy::Safelist => match self.store.is_published(context.tenant_id, context.client_kind, &query) {
                Ok(true) => run(query),
                Ok(false) => Err(Rejection::NotInList),
                Err(error) => Err(Rejection::store_unavailable(&error)),
            },
            DocumentPolicy::LogUnknown => {
                // Unknown documents run either way: an unreadable store only costs a log line.
                let published = self.store.is_published(context.tenant_id, context.client_kind, &query);
                if !matches!(published, Ok(true)) {
                    self.log_unknown(context, &query, incoming.operation_name.as_deref());
                }
                run(query)
            }
        }
    }

    /// Registers an APQ document whose operation the gateway has admitted.
    pub async fn register(&self, registration: ApqRegistration) {
        let ApqRegistration { tenant, hash, body } = registration;
        self.store.register_apq(tenant, &hash, &body).await;
    }

    /// Logs a document not published for this client, once per document.
    fn log_unknown(&self, context: &TenantContext, query: &str, operation_name: Option<&str>) {
        let hash = store::sha256(query);
        if self.logged_unknown.contains_key(&hash) {
            return;
        }
        self.logged_unknown.insert(hash, ());
        tracing::warn!(
            tenant.id = %context.tenant_id,
            client.kind = context.client_kind.as_str(),
            document.sha256 = %sha256_hex(query),
            operation.name = operation_name.unwrap_or(""),
            "running a document that is not published for this client"
        );
    }
}

#[cfg(test)]
mod tests;
