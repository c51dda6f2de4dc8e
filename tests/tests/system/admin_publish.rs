//! Publishing persisted documents through the admin endpoint (`/admin/graphql`): a
//! tenant admin publishes for their own tenant and that tenant's BI clients run the
//! documents by id at once, other tenants cannot, platform-wide publications are listed as
//! such; other roles, manifests that do not validate or parse, anonymous callers, CSRF
//! and oversized bodies are refused and publish nothing.

use std::path::{Path, PathBuf};

use atrium_gateway::{
    auth::api_keys::ApiKeyStore,
    persisted::{DocumentPolicy, Manifest, ManifestOperation, PersistedDocuments, PersistedDocumentsConfig, Scope},
};
use atrium_kit::{ClientKind, demo};
use atrium_system_tests::{Backend, Stack};
use serde_json::{Value, json};

const REPORT: &str = "query CustomerReport($first: Int) { customerAccounts(first: $first) { nodes { name } } }";
const PUBLISH: &str = "mutation Publish($client: ClientKind!, $manifest: JSON!) {
  publishPersistedDocuments(client: $client, manifest: $manifest) {
    version client tenantId platformWide operationCount publishedAt operations { id name type }
  }
}";
const LIST: &str = "query List($client: ClientKind) {
  persistedDocuments(client: $client) { version client tenantId platformWide operationCount operations { id } }
}";

fn documents_config(directory: &Path) -> PersistedDocumentsConfig {
    PersistedDocumentsConfig {
        directory: directory.to_owned(),
        // Far longer than any test: what a request sees right after publishing came from
        // the publication itself, not from a background reload.
        reload_seconds: 3600,
        ..PersistedDocumentsConfig::default()
    }
}

fn temporary_directory(purpose: &str) -> PathBuf {
    std::env::temp_dir().join(format!("atrium-{purpose}-{}", uuid::Uuid::new_v4().simple()))
}

/// A gateway whose BI clients may only run published documents, by id.
async fn start_gateway(stack: &Stack, documents: &Path, keys: &Path) -> String {
    let (documents, keys) = (documents.to_owned(), keys.to_owned());
    stack
        .start_gateway(move |config| {
            config.persisted_documents = documents_config(&documents);
            config.persisted_documents.policies.bi = DocumentPolicy::RequireId;
            config.auth.api_keys_directory = keys;
            config.policy.max_body_bytes = 16 * 1024;
        })
        .await
}

fn admin_url(gateway: &str) -> String {
    let origin = gateway.strip_suffix("/graphql").expect("a gateway GraphQL URL");
    format!("{origin}/admin/graphql")
}

fn manifest(operations: &[(&str, &str, &str)]) -> Value {
    let operations: Vec<Value> = operations
        .iter()
        .map(|(id, name, body)| json!({ "id": id, "name": name, "type": "query", "body": body }))
        .collect();
    json!({ "format": "apollo-persisted-query-manifest", "version": 1, "operations": operations })
}

async fn publish(stack: &Stack, gateway: &str, token: &str, client: &str, manifest: Value) -> (u16, Value) {
    let request = json!({ "query": PUBLISH, "variables": { "client": client, "manifest": manifest } });
    let (status, _, body) = stack.post_json(&admin_url(gateway), token, request).await;
    (status, body)
}

async fn list(stack: &Stack, gateway: &str, token: &str, client: Option<&str>) -> (u16, Value) {
    let request = json!({ "query": LIST, "variables": { "client": client } });
    let (status, _, body) = stack.post_json(&admin_url(gateway), token, request).await;
    (status, body)
}

async fn stored_publications(directory: &Path) -> usize {
    let store = PersistedDocuments::new(documents_config(directory), None, "atrium").unwrap();
    store.store().load_all().await.unwrap().len()
}

fn error_code(body: &Value) -> &Value {
    &body["errors"][0]["extensions"]["code"]
}

fn report_names(body: &Value) -> Value {
    body["data"]["customerAccounts"]["nodes"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_admin_publishes_for_their_tenant_and_its_bi_clients_run_the_documents_at_once() {
    let stack = Stack::start(Backend::Sqlite).await.expect("sqlite stack");
    let (documents, keys) = (temporary_directory("admin-pq"), temporary_directory("admin-keys"));
    // A platform-wide publication by an operator (the CLI), there before the gateway starts.
    let operator = PersistedDocuments::new(documents_config(&documents), None, "atrium").unwrap();
    let platform_manifest = Manifest::new(vec![ManifestOperation {
        id: "tenant-name-v1".into(),
        name: "TenantName".into(),
        kind: "query".into(),
        body: "query TenantName { tenant { name } }".into(),
    }]);
    operator.store().publish(Scope::Platform, ClientKind::Bi, platform_manifest).await.unwrap();
    let api_keys = ApiKeyStore::new(None, "atrium", &keys).unwrap();
    let (looker, _) =
        api_keys.create("Looker", demo::tenant_id("ridgeline"), ClientKind::Bi, vec!["exec".into()]).await.unwrap();
    let gateway = start_gateway(&stack, &documents, &keys).await;

    let admin = stack.token("ridgeline", &["tenant_admin"]);
    let bi = stack.token_for_client("ridgeline", &["exec"], "bi");
    let helix_bi = stack.token_for_client("helix", &["exec"], "bi");
    let report_by_id = json!({ "documentId": "customer-report-v1", "variables": { "first": 2 } });

    let (status, _, body) = stack.post_json(&gateway, &bi, report_by_id.clone()).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(error_code(&body), "PERSISTED_QUERY_NOT_IN_LIST");

    let (status, body) =
        publish(&stack, &gateway, &admin, "BI", manifest(&[("customer-report-v1", "CustomerReport", REPORT)])).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    let publication = &body["data"]["publishPersistedDocuments"];
    assert_eq!(publication["version"], 1, "{body}");
    assert_eq!(publication["client"], "BI");
    assert_eq!(publication["tenantId"], demo::tenant_id("ridgeline").to_string());
    assert_eq!(publication["platformWide"], false);
    assert_eq!(publication["operationCount"], 1);
    assert_eq!(
        publication["operations"],
        json!([{ "id": "customer-report-v1", "name": "CustomerReport", "type": "query" }])
    );
    assert!(publication["publishedAt"].as_str().is_some_and(|at| !at.is_empty()), "{body}");

    // Ridgeline's BI clients run it by id at once, over POST (token) and GET (API key).
    let (status, _, body) = stack.post_json(&gateway, &bi, report_by_id.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(report_names(&body), json!([{ "name": "Prairie Foods Co." }, { "name": "Lakeshore Dental Group" }]));
    let (status, _, body) =
        stack.get(&gateway, &looker, "documentId=customer-report-v1&variables=%7B%22first%22%3A1%7D").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(report_names(&body), json!([{ "name": "Prairie Foods Co." }]));
    // Still by id only: the published text itself is refused under `require_id`.
    let (status, _, body) = stack.post_json(&gateway, &bi, json!({ "query": REPORT })).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(error_code(&body), "PERSISTED_QUERY_ID_REQUIRED");

    // Helix's BI clients do not get Ridgeline's documents; both get the platform's.
    let (status, _, body) = stack.post_json(&gateway, &helix_bi, report_by_id.clone()).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(error_code(&body), "PERSISTED_QUERY_NOT_IN_LIST");
    let (status, _, body) = stack.post_json(&gateway, &helix_bi, json!({ "documentId": "tenant-name-v1" })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["tenant"]["name"], "Helix Ledger");

    // Each tenant admin lists their own publications and the platform's, marked as such.
    let (status, body) = list(&stack, &gateway, &admin, Some("BI")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["persistedDocuments"],
        json!([
            { "version": 1, "client": "BI", "tenantId": demo::tenant_id("ridgeline").to_string(), "platformWide": false,
              "operationCount": 1, "operations": [{ "id": "customer-report-v1" }] },
            { "version": 1, "client": "BI", "tenantId": null, "platformWide": true,
              "operationCount": 1, "operations": [{ "id": "tenant-name-v1" }] },
        ])
    );
    let (status, body) = list(&stack, &gateway, &admin, Some("DASHBOARD")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["persistedDocuments"], json!([]));
    let helix_admin = stack.token("helix", &["tenant_admin"]);
    let (status, body) = list(&stack, &gateway, &helix_admin, None).await;
    assert_eq!(status, 200, "{body}");
    let helix_sees: Vec<&Value> = body["data"]["persistedDocuments"]
        .as_array()
        .expect("publications")
        .iter()
        .map(|p| &p["platformWide"])
        .collect();
    assert_eq!(helix_sees, [&json!(true)], "{body}");

    // A new publication replaces the client's manifest as the next version.
    let replacement = manifest(&[("customer-report-v2", "CustomerReport", REPORT)]);
    let (status, body) = publish(&stack, &gateway, &admin, "BI", replacement).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["publishPersistedDocuments"]["version"], 2, "{body}");
    let (status, _, body) = stack.post_json(&gateway, &bi, report_by_id).await;
    assert_eq!(status, 404, "the replaced manifest's id no longer runs: {body}");
    let (status, _, body) = stack.post_json(&gateway, &bi, json!({ "documentId": "customer-report-v2" })).await;
    assert_eq!(status, 200, "{body}");

    // Queries may use GET; mutations may not.
    let (status, _, body) =
        stack.get(&admin_url(&gateway), &admin, "query=%7B+persistedDocuments+%7B+version+%7D+%7D").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["persistedDocuments"].as_array().map(Vec::len), Some(2), "{body}");
    let mutation = "mutation+%7B+publishPersistedDocuments%28client%3A+BI%2C+manifest%3A+%7B%7D%29+%7B+version+%7D+%7D";
    let (status, headers, body) = stack.get(&admin_url(&gateway), &admin, &format!("query={mutation}")).await;
    assert_eq!(status, 405, "{body}");
    assert_eq!(headers.get("allow").and_then(|allow| allow.to_str().ok()), Some("POST"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_tenant_admins_publish_and_a_refused_manifest_publishes_nothing() {
    let stack = Stack::start(Backend::Sqlite).await.expect("sqlite stack");
    let (documents, keys) = (temporary_directory("admin-pq"), temporary_directory("admin-keys"));
    let gateway = start_gateway(&stack, &documents, &keys).await;
    let admin = stack.token("ridgeline", &["tenant_admin"]);
    let bi = stack.token_for_client("ridgeline", &["exec"], "bi");
    let report = manifest(&[("customer-report-v1", "CustomerReport", REPORT)]);
    let report_not_published = || async {
        let (status, _, body) = stack.post_json(&gateway, &bi, json!({ "documentId": "customer-report-v1" })).await;
        assert_eq!(status, 404, "{body}");
        assert_eq!(error_code(&body), "PERSISTED_QUERY_NOT_IN_LIST");
    };

    // A csm is refused, reading and writing.
    let csm = stack.token("ridgeline", &["csm"]);
    let (status, body) = publish(&stack, &gateway, &csm, "BI", report.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    assert_eq!(body["data"], Value::Null);
    let (status, body) = list(&stack, &gateway, &csm, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    report_not_published().await;

    // One operation that does not validate, and nothing is published, not even the valid one.
    let broken = "query BrokenReport { customerAccounts(first: 1) { nodes { noSuchField } } }";
    let (status, body) = publish(
        &stack,
        &gateway,
        &admin,
        "BI",
        manifest(&[("customer-report-v1", "CustomerReport", REPORT), ("broken-v1", "BrokenReport", broken)]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(error_code(&body), "PERSISTED_DOCUMENT_INVALID", "{body}");
    assert!(body["errors"][0]["message"].as_str().is_some_and(|message| message.contains("BrokenReport")), "{body}");
    let invalid = body["errors"][0]["extensions"]["invalidOperations"].as_array().expect("invalid operations");
    assert_eq!(invalid.len(), 1, "{body}");
    assert_eq!(invalid[0]["id"], "broken-v1");
    assert_eq!(invalid[0]["name"], "BrokenReport");
    assert!(invalid[0]["reason"].as_str().is_some_and(|reason| reason.contains("noSuchField")), "{body}");
    report_not_published().await;

    // Manifests that do not parse are the caller's input errors.
    for malformed in [
        json!({ "format": "apollo-persisted-query-manifest", "version": 2, "operations": [] }),
        json!({ "format": "apollo-persisted-query-manifest", "version": 1, "operations": [{ "id": "x" }] }),
        json!("not a manifest"),
    ] {
        let (status, body) = publish(&stack, &gateway, &admin, "BI", malformed).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    }

    // The same front door as /graphql: authentication, CSRF and the body-size limit.
    let request = json!({ "query": PUBLISH, "variables": { "client": "BI", "manifest": report } });
    let response = stack.client().post(admin_url(&gateway)).json(&request).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers().get("www-authenticate").and_then(|value| value.to_str().ok()), Some("Bearer"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    let response = stack
        .client()
        .post(admin_url(&gateway))
        .header("content-type", "text/plain")
        .body(request.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "CSRF_PREVENTED");
    let padding = "x".repeat(32 * 1024);
    let oversized = manifest(&[("customer-report-v1", "CustomerReport", &format!("{REPORT} # {padding}"))]);
    let (status, body) = publish(&stack, &gateway, &admin, "BI", oversized).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(error_code(&body), "PAYLOAD_TOO_LARGE");
    report_not_published().await;

    let (status, body) = list(&stack, &gateway, &admin, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["persistedDocuments"], json!([]));
    assert_eq!(stored_publications(&documents).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_calls_draw_on_the_callers_rate_limit() {
    let Some(stack) = Stack::start(Backend::Sqlite).await else { return };
    let gateway = stack
        .start_gateway(|config| {
            config.rate_limits.enabled = true;
            // Two requests at once, then one every hundred seconds: no refill during the test.
            config.rate_limits.tiers.dashboard =
                atrium_gateway::rate_limit::RateTier { requests_per_second: 0.01, burst: 2 };
        })
        .await;
    let admin = stack.token("ridgeline", &["tenant_admin"]);
    for _ in 0..2 {
        let (status, body) = list(&stack, &gateway, &admin, None).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "{body}");
    }
    let request = json!({ "query": LIST, "variables": { "client": null } });
    let (status, headers, body) = stack.post_json(&admin_url(&gateway), &admin, request).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(error_code(&body), "RATE_LIMITED");
    assert!(headers.get("retry-after").is_some());

    let (status, body) = list(&stack, &gateway, &stack.token("helix", &["tenant_admin"]), None).await;
    assert_eq!(status, 200, "another tenant's budget is its own: {body}");
}
