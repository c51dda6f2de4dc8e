//! Persisted documents through the gateway: a BI client runs a published report by id over
//! POST and GET, publication reaches a running gateway without a restart, require-id and
//! safelist clients are refused unknown documents, log-unknown clients are not, APQ
//! registers on retry — but only documents the operation policy and the rate limit let
//! through —, a store that cannot be read answers 503 rather than "not found", and a
//! tenant's publication stays the tenant's.

use std::time::{Duration, Instant};

use atrium_gateway::persisted::{Manifest, ManifestOperation, PersistedDocuments, PersistedDocumentsConfig, Scope};
use atrium_kit::{ClientKind, demo};
use atrium_system_tests::{Backend, Stack};
use serde_json::json;

const REPORT: &str = "query CustomerReport($first: Int) { customerAccounts(first: $first) { nodes { name } } }";

fn documents_config(directory: &std::path::Path) -> PersistedDocumentsConfig {
    PersistedDocumentsConfig {
        directory: directory.to_owned(),
        reload_seconds: 1,
        ..PersistedDocumentsConfig::default()
    }
}

/// A portal built with graphql-codegen's client preset publishes the document map the
/// preset writes (`persisted-documents.json`: id → text, no names); the portal client kind
/// (`require_id`) then runs those documents by id and nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graphql_codegen_document_map_publishes_and_runs_by_id_for_the_portal() {
    let stack = Stack::start(Backend::Sqlite).await.expect("sqlite stack");
    let directory = std::env::temp_dir().join(format!("atrium-pq-{}", uuid::Uuid::new_v4().simple()));
    let gateway = stack.start_gateway(|config| config.persisted_documents = documents_config(&directory)).await;
    let portal = stack.token_for_client("ridgeline", &["csm"], "partner_portal");

    let codegen_output = json!({ "5f1b9c": "query PortalTenant { tenant { name } }" }).to_string();
    let manifest = Manifest::parse(&codegen_output).expect("the client preset's document map");
    assert_eq!(manifest.operations[0].name, "PortalTenant", "named from the document");
    let publisher = PersistedDocuments::new(documents_config(&directory), None, "atrium").unwrap();
    let scope = Scope::Tenant(demo::tenant_id("ridgeline"));
    publisher.store().publish(scope, ClientKind::PartnerPortal, manifest).await.unwrap();

    let by_id = json!({ "documentId": "5f1b9c" });
    let deadline = Instant::now() + Duration::from_secs(15);
    let body = loop {
        let (status, _, body) = stack.post_json(&gateway, &portal, by_id.clone()).await;
        if status == 200 {
            break body;
        }
        assert!(Instant::now() < deadline, "the published map was not picked up: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(body["data"]["tenant"]["name"], "Ridgeline Business Systems");
    let (status, _, body) = stack.post_json(&gateway, &portal, json!({ "query": "{ tenant { name } }" })).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_ID_REQUIRED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_reports_run_by_id_and_policies_hold_per_client_kind() {
    let stack = Stack::start(Backend::Sqlite).await.expect("sqlite stack");
    let directory = std::env::temp_dir().join(format!("atrium-pq-{}", uuid::Uuid::new_v4().simple()));
    let gateway = stack.start_gateway(|config| config.persisted_documents = documents_config(&directory)).await;
    let bi = stack.token_for_client("ridgeline", &["exec"], "bi");
    let by_id = json!({ "documentId": "customer-report-v1", "variables": { "first": 2 } });

    let (status, _, body) = stack.post_json(&gateway, &bi, by_id.clone()).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_IN_LIST");

    // Publish for Ridgeline's BI clients, as `atrium-gateway pq publish` does, from outside
    // the running gateway: it must pick the manifest up without a restart.
    let publisher = PersistedDocuments::new(documents_config(&directory), None, "atrium").unwrap();
    let manifest = Manifest::new(vec![ManifestOperation {
        id: "customer-report-v1".into(),
        name: "CustomerReport".into(),
        kind: "query".into(),
        body: REPORT.into(),
    }]);
    let scope = Scope::Tenant(demo::tenant_id("ridgeline"));
    publisher.store().publish(scope, ClientKind::Bi, manifest).await.unwrap();

    let deadline = Instant::now() + Duration::from_secs(15);
    let body = loop {
        let (status, _, body) = stack.post_json(&gateway, &bi, by_id.clone()).await;
        if status == 200 {
            break body;
        }
        assert!(Instant::now() < deadline, "the published manifest was not picked up: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        body["data"]["customerAccounts"]["nodes"],
        json!([{ "name": "Prairie Foods Co." }, { "name": "Lakeshore Dental Group" }])
    );

    let (status, headers, body) =
        stack.get(&gateway, &bi, "documentId=customer-report-v1&variables=%7B%22first%22%3A1%7D").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["customerAccounts"]["nodes"], json!([{ "name": "Prairie Foods Co." }]));
    let cache_control = headers.get("cache-control").and_then(|value| value.to_str().ok());
    assert_eq!(cache_control, Some("private, max-age=60"), "HTTP caches may keep a report by id for its hint");

    // The exact published text is on the BI safelist; anything else is not.
    let (status, _, body) =
        stack.post_json(&gateway, &bi, json!({ "query": REPORT, "variables": { "first": 1 } })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["customerAccounts"]["nodes"], json!([{ "name": "Prairie Foods Co." }]));
    let (status, _, body) = stack.post_json(&gateway, &bi, json!({ "query": "{ tenant { name } }" })).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_IN_LIST");

    // Another tenant's BI client does not see Ridgeline's publication.
    let helix_bi = stack.token_for_client("helix", &["exec"], "bi");
    let (status, _, body) = stack.post_json(&gateway, &helix_bi, by_id).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_IN_LIST");

    // Partner portals may only send ids; dashboards may run unknown documents (logged).
    let portal = stack.token_for_client("ridgeline", &["tenant_admin"], "partner_portal");
    let (status, _, body) = stack.post_json(&gateway, &portal, json!({ "query": "{ tenant { name } }" })).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_ID_REQUIRED");
    let dashboard = stack.token("ridgeline", &["csm"]);
    let (status, _, body) = stack.post_json(&gateway, &dashboard, json!({ "query": "{ tenant { name } }" })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["tenant"]["name"], "Ridgeline Business Systems");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn automatic_persisted_queries_register_on_retry() {
    let stack = Stack::start(Backend::Sqlite).await.expect("sqlite stack");
    let query = "{ tenant { slug } }";
    let hash = atrium_gateway::persisted::sha256_hex(query);
    let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    let dashboard = stack.token("ridgeline", &["csm"]);

    let (status, _, body) = stack.post_json(&stack.gateway_url, &dashboard, json!({ "extensions": extensions })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_FOUND");

    let retry = json!({ "query": query, "extensions": extensions });
    let (status, _, body) = stack.post_json(&stack.gateway_url, &dashboard, retry).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["tenant"]["slug"], "ridgeline");

    let (status, _, body) = stack.post_json(&stack.gateway_url, &dashboard, json!({ "extensions": extensions })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["tenant"]["slug"], "ridgeline");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bi_api_key_runs_a_published_report_by_id_over_post_and_get_until_revoked() {
    use atrium_gateway::auth::api_keys::ApiKeyStore;

    let stack = Stack::start(Backend::Sqlite).await.expect("sqlite stack");
    let directory = std::env::temp_dir().join(format!("atrium-keys-{}", uuid::Uuid::new_v4().simple()));
    let keys = ApiKeyStore::new(None, "atrium", &directory).unwrap();
    let (key, record) =
        keys.create("Looker", demo::tenant_id("ridgeline"), ClientKind::Bi, vec!["exec".into()]).await.unwrap();
    // Published before the gateway starts: it loads both at startup.
    let publisher = PersistedDocuments::new(documents_config(&directory), None, "atrium").unwrap();
    let manifest = Manifest::new(vec![ManifestOperation {
        id: "customer-report-v1".into(),
        name: "CustomerReport".into(),
        kind: "query".into(),
        body: REPORT.into(),
    }]);
    publisher.store().publish(Scope::Platform, ClientKind::Bi, manifest).await.unwrap();
    let gateway = stack
        .start_gateway(|config| {
            config.persisted_documents = documents_config(&directory);
            config.auth.api_keys_directory = directory.clone();
            config.auth.api_keys_reload_seconds = 1;
        })
        .await;

    let (status, _, body) = stack
        .post_json(&gateway, &key, json!({ "documentId": "customer-report-v1", "variables": { "first": 1 } }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["customerAccounts"]["nodes"], json!([{ "name": "Prairie Foods Co." }]));
    let (status, _, body) =
        stack.get(&gateway, &key, "documentId=customer-report-v1&variables=%7B%22first%22%3A2%7D").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["customerAccounts"]["nodes"],
        json!([{ "name": "Prairie Foods Co." }, { "name": "Lakeshore Dental Group" }])
    );
    let (status, _, body) = stack.post_json(&gateway, &key, json!({ "query": "{ tenant { name } }" })).await;
    assert_eq!(status, 404, "a BI key runs published documents only: {body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_IN_LIST");

    let listed = keys.list().await.unwrap();
    assert!(listed.iter().any(|listed| listed.id == record.id && listed.last_used_at.is_some()), "{listed:?}");

    keys.revoke(&record.id).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, _, body) = stack.post_json(&gateway, &key, json!({ "documentId": "customer-report-v1" })).await;
        if status == 401 {
            assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
            break;
        }
        assert!(Instant::now() < deadline, "the revocation was not picked up: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn apq_extensions(query: &str) -> serde_json::Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": atrium_gateway::persisted::sha256_hex(query) } })
}

fn code(body: &serde_json::Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apq_document_refused_by_the_operation_policy_is_not_registered() {
    let stack = Stack::start(Backend::Sqlite).await.expect("sqlite stack");
    let gateway =
        stack.start_gateway(|config| config.policy.cost.mode = atrium_gateway::policy::CostMode::Enforce).await;
    let dashboard = stack.token("ridgeline", &["csm"]);
    // Sixteen levels against the dashboard's 15; 10,201 against the budget of 5,000.
    let too_deep = format!("{{ {}id{} }}", "a { ".repeat(15), " }".repeat(15));
    let too_expensive = "{ customerAccounts(first: 100) { nodes { invoices(first: 100) { nodes { number } } } } }";
    for (query, refusal) in [(too_deep.as_str(), "MAX_DEPTH_EXCEEDED"), (too_expensive, "COST_ESTIMATED_TOO_EXPENSIVE")]
    {
        let register = json!({ "query": query, "extensions": apq_extensions(query) });
        let (status, _, body) = stack.post_json(&gateway, &dashboard, register).await;
        assert_eq!((status, code(&body)), (400, refusal), "{body}");
        let (status, _, body) =
            stack.post_json(&gateway, &dashboard, json!({ "extensions": apq_extensions(query) })).await;
        assert_eq!((status, code(&body)), (200, "PERSISTED_QUERY_NOT_FOUND"), "nothing was registered: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apq_document_from_a_rate_limited_client_is_not_registered() {
    let stack = Stack::start(Backend::Sqlite).await.expect("sqlite stack");
    let gateway = stack
        .start_gateway(|config| {
            config.rate_limits.enabled = true;
            // Two requests at once, then one every hundred seconds: the test never sees a refill.
            config.rate_limits.tiers.dashboard =
                atrium_gateway::rate_limit::RateTier { requests_per_second: 0.01, burst: 2 };
        })
        .await;
    let dashboard = stack.token("ridgeline", &["csm"]);
    for _ in 0..2 {
        let (status, _, body) = stack.post_to(&gateway, &dashboard, "{ tenant { name } }").await;
        assert_eq!((status, &body["data"]["tenant"]["name"]), (200, &json!("Ridgeline Business Systems")), "{body}");
    }

    let query = "{ tenant { slug } }";
    let register = json!({ "query": query, "extensions": apq_extensions(query) });
    let (status, _, body) = stack.post_json(&gateway, &dashboard, register).await;
    assert_eq!((status, code(&body)), (429, "RATE_LIMITED"), "{body}");
    let (status, _, body) = stack.post_json(&gateway, &dashboard, json!({ "extensions": apq_extensions(query) })).await;
    assert_eq!((status, code(&body)), (200, "PERSISTED_QUERY_NOT_FOUND"), "nothing was registered: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persisted_lookups_answer_503_when_redis_refuses_connections() {
    let stack = Stack::start(Backend::Sqlite).await.expect("sqlite stack");
    let prefix = format!("atrium-test-{}", uuid::Uuid::new_v4().simple());
    // Nothing listens on port 1: Redis is configured but refuses every connection.
    let gateway = stack
        .start_gateway(|config| {
            config.redis.url = Some("redis://127.0.0.1:1/".into());
            config.redis.key_prefix = prefix;
        })
        .await;
    let dashboard = stack.token("ridgeline", &["csm"]);
    let (status, _, body) =
        stack.post_json(&gateway, &dashboard, json!({ "extensions": apq_extensions("{ tenant { slug } }") })).await;
    assert_eq!((status, code(&body)), (503, "PERSISTED_QUERY_STORE_UNAVAILABLE"), "{body}");
    let bi = stack.token_for_client("ridgeline", &["exec"], "bi");
    let (status, _, body) = stack.post_json(&gateway, &bi, json!({ "documentId": "customer-report-v1" })).await;
    assert_eq!((status, code(&body)), (503, "PERSISTED_QUERY_STORE_UNAVAILABLE"), "{body}");
    // What needs no store still runs.
    let (status, _, body) = stack.post_to(&gateway, &dashboard, "{ tenant { name } }").await;
    assert_eq!((status, &body["data"]["tenant"]["name"]), (200, &json!("Ridgeline Business Systems")), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apq_registrations_and_publications_are_shared_by_replicas_through_redis() {
    let Some(redis_url) = atrium_kit::testing::redis_url().await else { return };
    let stack = Stack::start(Backend::Sqlite).await.expect("sqlite stack");
    let prefix = format!("atrium-test-{}", uuid::Uuid::new_v4().simple());
    let replica = |config: &mut atrium_gateway::config::Config| {
        config.redis.url = Some(redis_url.clone());
        config.redis.key_prefix = prefix.clone();
        config.persisted_documents.reload_seconds = 1;
    };
    let (first, second) = (stack.start_gateway(replica).await, stack.start_gateway(replica).await);

    let dashboard = stack.token("ridgeline", &["csm"]);
    let query = "{ tenant { slug } }";
    let (status, _, body) = stack.post_json(&second, &dashboard, json!({ "extensions": apq_extensions(query) })).await;
    assert_eq!((status, code(&body)), (200, "PERSISTED_QUERY_NOT_FOUND"), "{body}");
    let register = json!({ "query": query, "extensions": apq_extensions(query) });
    let (status, _, body) = stack.post_json(&first, &dashboard, register).await;
    assert_eq!((status, &body["data"]["tenant"]["slug"]), (200, &json!("ridgeline")), "{body}");
    let (status, _, body) = stack.post_json(&second, &dashboard, json!({ "extensions": apq_extensions(query) })).await;
    assert_eq!((status, &body["data"]["tenant"]["slug"]), (200, &json!("ridgeline")), "{body}");

    let publisher =
        PersistedDocuments::new(documents_config(&std::env::temp_dir()), Some(&redis_url), &prefix).unwrap();
    let manifest = Manifest::new(vec![ManifestOperation {
        id: "customer-report-v1".into(),
        name: "CustomerReport".into(),
        kind: "query".into(),
        body: REPORT.into(),
    }]);
    publisher.store().publish(Scope::Platform, ClientKind::Bi, manifest).await.unwrap();
    let bi = stack.token_for_client("ridgeline", &["exec"], "bi");
    let by_id = json!({ "documentId": "customer-report-v1", "variables": { "first": 1 } });
    let deadline = Instant::now() + Duration::from_secs(15);
    let body = loop {
        let (status, _, body) = stack.post_json(&second, &bi, by_id.clone()).await;
        if status == 200 {
            break body;
        }
        assert_eq!((status, code(&body)), (404, "PERSISTED_QUERY_NOT_IN_LIST"), "{body}");
        assert!(Instant::now() < deadline, "the publication in Redis was not picked up: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(body["data"]["customerAccounts"]["nodes"], json!([{ "name": "Prairie Foods Co." }]));
}
