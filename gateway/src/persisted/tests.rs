//! Persisted-document resolution: policies per client kind, APQ register-and-retry (and
//! nothing registered before the gateway admits the operation), the local APQ store's
//! byte bound, tenant and platform scopes, publication shared through Redis, and lookups
//! that fail closed when the store cannot be read. Every success names the document that
//! resolved.

use std::sync::Arc;

use atrium_contract::{ClientKind, TenantContext};
use uuid::Uuid;

use super::*;

const REPORT: &str = "query Report { tenant { name } }";

fn context(tenant: Uuid, client_kind: ClientKind) -> TenantContext {
    TenantContext {
        tenant_id: tenant,
        subject: "user".into(),
        roles: vec!["csm".into()],
        client_kind,
        channel_partner_id: None,
        customer_account_id: None,
    }
}

fn manifest() -> Manifest {
    Manifest::new(vec![ManifestOperation {
        id: "report-v1".into(),
        name: "Report".into(),
        kind: "query".into(),
        body: REPORT.into(),
    }])
}

/// Documents after their first load, as the gateway starts them: before it, a miss could
/// be a document that is published but not yet read.
async fn loaded(documents: PersistedDocuments) -> PersistedDocuments {
    documents.store().reload().await.expect("published documents load");
    documents
}

async fn documents_in_temp_dir() -> PersistedDocuments {
    let config = PersistedDocumentsConfig {
        directory: std::env::temp_dir().join(format!("atrium-pq-{}", Uuid::new_v4().simple())),
        ..PersistedDocumentsConfig::default()
    };
    loaded(PersistedDocuments::new(config, None, "atrium").unwrap()).await
}

fn by_id(id: &str) -> IncomingRequest {
    IncomingRequest { document_id: Some(id.into()), ..IncomingRequest::default() }
}

fn freeform(query: &str) -> IncomingRequest {
    IncomingRequest { query: Some(query.into()), ..IncomingRequest::default() }
}

fn apq(hash: &str, query: Option<&str>) -> IncomingRequest {
    let mut extensions = serde_json::Map::new();
    extensions.insert("persistedQuery".into(), serde_json::json!({ "version": 1, "sha256Hash": hash }));
    IncomingRequest { query: query.map(str::to_owned), extensions, ..IncomingRequest::default() }
}

/// Resolves, then registers what APQ proposed, as the gateway does once it has admitted
/// the operation.
async fn resolve_and_admit(
    documents: &PersistedDocuments,
    context: &TenantContext,
    incoming: IncomingRequest,
) -> Result<GraphQLRequest, Rejection> {
    let resolved = documents.resolve(context, incoming).await?;
    if let Some(registration) = resolved.registration {
        documents.register(registration).await;
    }
    Ok(resolved.request)
}

#[tokio::test]
async fn a_require_id_client_runs_published_ids_only() {
    let documents = documents_in_temp_dir().await;
    documents.store().publish(Scope::Platform, ClientKind::PartnerPortal, manifest()).await.unwrap();
    let portal = context(Uuid::new_v4(), ClientKind::PartnerPortal);
    assert_eq!(documents.resolve(&portal, by_id("report-v1")).await.unwrap().request.query, REPORT);
    assert_eq!(documents.resolve(&portal, by_id("sha256:unknown")).await.unwrap_err(), Rejection::NotInList);
    assert_eq!(documents.resolve(&portal, freeform(REPORT)).await.unwrap_err(), Rejection::IdRequired);
}

#[tokio::test]
async fn a_safelist_client_runs_published_text_and_a_log_unknown_client_runs_anything_valid() {
    let documents = documents_in_temp_dir().await;
    documents.store().publish(Scope::Platform, ClientKind::Bi, manifest()).await.unwrap();
    let bi = context(Uuid::new_v4(), ClientKind::Bi);
    assert_eq!(documents.resolve(&bi, freeform(REPORT)).await.unwrap().request.query, REPORT);
    assert_eq!(documents.resolve(&bi, freeform("{ tenant { slug } }")).await.unwrap_err(), Rejection::NotInList);
    let dashboard = context(Uuid::new_v4(), ClientKind::Dashboard);
    assert_eq!(
        documents.resolve(&dashboard, freeform("{ tenant { slug } }")).await.unwrap().request.query,
        "{ tenant { slug } }"
    );
}

#[tokio::test]
async fn a_tenant_publication_is_invisible_to_other_tenants() {
    let documents = documents_in_temp_dir().await;
    let (owner, other) = (Uuid::new_v4(), Uuid::new_v4());
    documents.store().publish(Scope::Tenant(owner), ClientKind::Bi, manifest()).await.unwrap();
    assert_eq!(
        documents.resolve(&context(owner, ClientKind::Bi), by_id("report-v1")).await.unwrap().request.query,
        REPORT
    );
    let rejection = documents.resolve(&context(other, ClientKind::Bi), by_id("report-v1")).await.unwrap_err();
    assert_eq!(rejection, Rejection::NotInList);
}

#[tokio::test]
async fn a_tenant_publication_takes_precedence_over_the_platform_one_for_that_tenant_only() {
    const TENANT_REPORT: &str = "query Report { tenant { name slug } }";
    let documents = documents_in_temp_dir().await;
    let (owner, other) = (Uuid::new_v4(), Uuid::new_v4());
    documents.store().publish(Scope::Platform, ClientKind::Bi, manifest()).await.unwrap();
    let tenant_manifest = Manifest::new(vec![ManifestOperation {
        id: "report-v1".into(),
        name: "Report".into(),
        kind: "query".into(),
        body: TENANT_REPORT.into(),
    }]);
    documents.store().publish(Scope::Tenant(owner), ClientKind::Bi, tenant_manifest).await.unwrap();
    let resolved = documents.resolve(&context(owner, ClientKind::Bi), by_id("report-v1")).await.unwrap();
    assert_eq!(resolved.request.query, TENANT_REPORT);
    let resolved = documents.resolve(&context(other, ClientKind::Bi), by_id("report-v1")).await.unwrap();
    assert_eq!(resolved.request.query, REPORT);
}

#[tokio::test]
async fn apq_registers_on_retry_per_tenant_and_refuses_a_wrong_hash() {
    let documents = documents_in_temp_dir().await;
    let hash = sha256_hex(REPORT);
    let tenant = context(Uuid::new_v4(), ClientKind::Dashboard);
    assert_eq!(documents.resolve(&tenant, apq(&hash, None)).await.unwrap_err(), Rejection::NotFound);
    assert_eq!(resolve_and_admit(&documents, &tenant, apq(&hash, Some(REPORT))).await.unwrap().query, REPORT);
    assert_eq!(documents.resolve(&tenant, apq(&hash, None)).await.unwrap().request.query, REPORT);
    let other = context(Uuid::new_v4(), ClientKind::Dashboard);
    assert_eq!(documents.resolve(&other, apq(&hash, None)).await.unwrap_err(), Rejection::NotFound);
    let wrong = documents.resolve(&tenant, apq(&"0".repeat(64), Some(REPORT))).await.unwrap_err();
    assert_eq!(wrong, Rejection::HashMismatch);
}

#[tokio::test]
async fn apq_cannot_register_documents_for_a_require_id_client() {
    let documents = documents_in_temp_dir().await;
    let hash = sha256_hex(REPORT);
    let portal = context(Uuid::new_v4(), ClientKind::PartnerPortal);
    assert_eq!(documents.resolve(&portal, apq(&hash, Some(REPORT))).await.unwrap_err(), Rejection::IdRequired);
    assert_eq!(documents.resolve(&portal, apq(&hash, None)).await.unwrap_err(), Rejection::NotInList);
}

#[tokio::test]
async fn a_publication_in_redis_reaches_another_replica_on_reload_and_bumps_the_version() {
    let Some(url) = atrium_contract::testing::redis_url().await else { return };
    let prefix = format!("atrium-test-{}", Uuid::new_v4().simple());
    let publisher =
        loaded(PersistedDocuments::new(PersistedDocumentsConfig::default(), Some(&url), &prefix).unwrap()).await;
    let replica = Arc::new(
        loaded(PersistedDocuments::new(PersistedDocumentsConfig::default(), Some(&url), &prefix).unwrap()).await,
    );
    let bi = context(Uuid::new_v4(), ClientKind::Bi);
    assert_eq!(replica.resolve(&bi, by_id("report-v1")).await.unwrap_err(), Rejection::NotInList);
    assert_eq!(publisher.store().publish(Scope::Platform, ClientKind::Bi, manifest()).await.unwrap(), 1);
    assert_eq!(publisher.store().publish(Scope::Platform, ClientKind::Bi, manifest()).await.unwrap(), 2);
    replica.store().reload().await.unwrap();
    assert_eq!(replica.resolve(&bi, by_id("report-v1")).await.unwrap().request.query, REPORT);
}

#[tokio::test]
async fn apq_resolution_registers_nothing_before_the_gateway_admits_the_operation() {
    let documents = documents_in_temp_dir().await;
    let hash = sha256_hex(REPORT);
    let tenant = context(Uuid::new_v4(), ClientKind::Dashboard);
    let resolved = documents.resolve(&tenant, apq(&hash, Some(REPORT))).await.unwrap();
    assert_eq!(resolved.request.query, REPORT);
    assert_eq!(documents.resolve(&tenant, apq(&hash, None)).await.unwrap_err(), Rejection::NotFound);
    documents.register(resolved.registration.expect("a full query with its hash proposes a registration")).await;
    assert_eq!(documents.resolve(&tenant, apq(&hash, None)).await.unwrap().request.query, REPORT);
}

#[tokio::test]
async fn the_local_apq_store_evicts_when_its_byte_bound_is_exceeded() {
    const BOUND: u64 = 4_096;
    let config = PersistedDocumentsConfig {
        directory: std::env::temp_dir().join(format!("atrium-pq-{}", Uuid::new_v4().simple())),
        apq_local_capacity_bytes: BOUND,
        ..PersistedDocumentsConfig::default()
    };
    let documents = loaded(PersistedDocuments::new(config, None, "atrium").unwrap()).await;
    let tenant = context(Uuid::new_v4(), ClientKind::Dashboard);
    // Eight documents of about 1.1 KB each (text and hash): twice the bound.
    let bodies: Vec<String> =
        (0..8).map(|index| format!("query Padded{index} {{ tenant {{ name }} }} # {}", "x".repeat(1_000))).collect();
    for body in &bodies {
        let resolved = resolve_and_admit(&documents, &tenant, apq(&sha256_hex(body), Some(body))).await.unwrap();
        assert_eq!(&resolved.query, body);
    }
    // The cache evicts in its maintenance pass, which this runs now rather than on a later
    // request.
    assert!(documents.store().apq_local_weighted_bytes() <= BOUND);
    let mut still_registered = 0;
    for body in &bodies {
        match documents.resolve(&tenant, apq(&sha256_hex(body), None)).await {
            Ok(resolved) => {
                assert_eq!(&resolved.request.query, body);
                still_registered += 1;
            }
            Err(rejection) => assert_eq!(rejection, Rejection::NotFound),
        }
    }
    assert!((1..=3).contains(&still_registered), "{still_registered} of 8 documents of 1.1 KB kept under a 4 KB bound");
}

/// A Redis URL nothing listens on: connections are refused at once.
const REFUSING_REDIS: &str = "redis://127.0.0.1:1/";

#[tokio::test]
async fn a_redis_error_on_apq_lookup_is_store_unavailable_not_not_found() {
    let prefix = format!("atrium-test-{}", Uuid::new_v4().simple());
    let documents =
        PersistedDocuments::new(PersistedDocumentsConfig::default(), Some(REFUSING_REDIS), &prefix).unwrap();
    let tenant = context(Uuid::new_v4(), ClientKind::Dashboard);
    let rejection = documents.resolve(&tenant, apq(&sha256_hex(REPORT), None)).await.unwrap_err();
    assert_eq!(
        (rejection.status(), rejection.code()),
        (axum::http::StatusCode::SERVICE_UNAVAILABLE, atrium_contract::ErrorCode::PersistedQueryStoreUnavailable)
    );
}

#[tokio::test]
async fn a_published_document_lookup_before_any_successful_load_is_store_unavailable() {
    let prefix = format!("atrium-test-{}", Uuid::new_v4().simple());
    let documents =
        PersistedDocuments::new(PersistedDocumentsConfig::default(), Some(REFUSING_REDIS), &prefix).unwrap();
    assert!(documents.store().reload().await.is_err());
    let bi = context(Uuid::new_v4(), ClientKind::Bi);
    for incoming in [by_id("report-v1"), freeform(REPORT)] {
        let rejection = documents.resolve(&bi, incoming).await.unwrap_err();
        assert_eq!(
            (rejection.status(), rejection.code()),
            (axum::http::StatusCode::SERVICE_UNAVAILABLE, atrium_contract::ErrorCode::PersistedQueryStoreUnavailable)
        );
    }
}

#[tokio::test]
async fn an_apq_registration_reaches_another_replica_through_redis() {
    let Some(url) = atrium_contract::testing::redis_url().await else { return };
    let prefix = format!("atrium-test-{}", Uuid::new_v4().simple());
    let first =
        loaded(PersistedDocuments::new(PersistedDocumentsConfig::default(), Some(&url), &prefix).unwrap()).await;
    let second =
        loaded(PersistedDocuments::new(PersistedDocumentsConfig::default(), Some(&url), &prefix).unwrap()).await;
    let hash = sha256_hex(REPORT);
    let tenant = context(Uuid::new_v4(), ClientKind::Dashboard);
    assert_eq!(second.resolve(&tenant, apq(&hash, None)).await.unwrap_err(), Rejection::NotFound);
    assert_eq!(resolve_and_admit(&first, &tenant, apq(&hash, Some(REPORT))).await.unwrap().query, REPORT);
    assert_eq!(second.resolve(&tenant, apq(&hash, None)).await.unwrap().request.query, REPORT);
}
