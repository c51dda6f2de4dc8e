//! Keys and invalidation of the response cache on the in-process store.

use std::sync::Arc;

use atrium_contract::{ClientKind, TenantContext, changes::ChangeEvent};
use uuid::Uuid;

use super::*;

const SUPERGRAPH: &str = r#"
    directive @cacheControl(maxAge: Int!) on OBJECT | INTERFACE | FIELD_DEFINITION
    type Query { tickets(status: String): [Ticket!]! @cacheControl(maxAge: 30) tenant: Tenant }
    type Ticket { id: ID! subject: String! }
    type Tenant { name: String! }
    type Account @cacheControl(maxAge: 60) { id: ID! name: String! }
"#;

fn cache() -> ResponseCache {
    let metrics = atrium_contract::telemetry::Metrics::local("atrium-gateway-test");
    ResponseCache::new(SUPERGRAPH, ResponseCacheConfig::default(), None, "atrium", &metrics).unwrap()
}

fn caller(tenant: u128, role: &str) -> TenantContext {
    TenantContext {
        tenant_id: Uuid::from_u128(tenant),
        subject: "user-1".into(),
        roles: vec![role.into()],
        client_kind: ClientKind::Dashboard,
        channel_partner_id: None,
        customer_account_id: None,
    }
}

fn tickets(variables: serde_json::Value) -> GraphQLRequest {
    let serde_json::Value::Object(variables) = variables else { panic!("variables must be an object") };
    GraphQLRequest::new("query T($s: String, $t: String) { tickets(status: $s) { id subject } }")
        .with_variables(variables)
}

/// A change event for some entity of `entity_type` in `tenant`.
fn changed(tenant: Uuid, entity_type: &str) -> ChangeEvent {
    ChangeEvent {
        id: Uuid::now_v7(),
        tenant_id: tenant,
        service: "support".into(),
        entity_type: entity_type.into(),
        entity_id: Uuid::now_v7().to_string(),
        change: atrium_contract::changes::ChangeKind::Updated,
        occurred_at: chrono::Utc::now(),
    }
}

fn none_removed() -> Arc<RemovedSelections> {
    Arc::default()
}

async fn fill(cache: &ResponseCache, context: &TenantContext, request: &GraphQLRequest, marker: &str) {
    match cache.lookup(context, request, &none_removed()).await {
        Lookup::Miss(pending) => cache.store(pending, &serde_json::json!({ "data": { "marker": marker } })).await,
        other => panic!("expected a miss, got {}", other.label()),
    }
}

async fn cached_marker(cache: &ResponseCache, context: &TenantContext, request: &GraphQLRequest) -> Option<String> {
    match cache.lookup(context, request, &none_removed()).await {
        Lookup::Hit { body, .. } => Some(body["data"]["marker"].as_str().unwrap().to_owned()),
        _ => None,
    }
}

#[tokio::test]
async fn answers_are_reused_only_for_the_same_tenant_scope_and_variables() {
    let cache = cache();
    let request = tickets(serde_json::json!({ "s": "OPEN", "t": "x" }));
    let ridgeline_csm = caller(1, "csm");
    fill(&cache, &ridgeline_csm, &request, "ridgeline-csm").await;

    assert_eq!(cached_marker(&cache, &ridgeline_csm, &request).await.as_deref(), Some("ridgeline-csm"));
    let reordered = tickets(serde_json::json!({ "t": "x", "s": "OPEN" }));
    assert_eq!(cached_marker(&cache, &ridgeline_csm, &reordered).await.as_deref(), Some("ridgeline-csm"));
    let another_user = TenantContext { subject: "user-2".into(), ..ridgeline_csm.clone() };
    assert_eq!(cached_marker(&cache, &another_user, &request).await.as_deref(), Some("ridgeline-csm"));

    let helix_csm = caller(2, "csm");
    let ridgeline_finance = caller(1, "finance");
    let partner_scoped = TenantContext { channel_partner_id: Some(Uuid::from_u128(9)), ..ridgeline_csm.clone() };
    let customer_scoped = TenantContext { customer_account_id: Some(Uuid::from_u128(8)), ..ridgeline_csm.clone() };
    for other in [&helix_csm, &ridgeline_finance, &partner_scoped, &customer_scoped] {
        assert_eq!(cached_marker(&cache, other, &request).await, None, "{other:?} must not share the entry");
    }
    let other_variables = tickets(serde_json::json!({ "s": "CLOSED", "t": "x" }));
    assert_eq!(cached_marker(&cache, &ridgeline_csm, &other_variables).await, None);
}

fn account_fetch() -> crate::engine::EntityFetch<'static> {
    crate::engine::EntityFetch {
        service: "finance",
        operation: "query($r:[_Any!]!){_entities(representations:$r){...on Account{name}}}",
        response_key: "_entities",
        variables: Vec::new(),
    }
}

async fn cached_accounts(cache: &Arc<ResponseCache>, context: &TenantContext, reps: &[&[u8]]) -> Vec<bool> {
    let entities = cache.entity_cache_for(context).expect("entity caching is on");
    let lookup = entities.lookup(account_fetch(), reps.to_vec()).await.expect("the fetch is bounded by Account");
    lookup.found.iter().map(Option::is_some).collect()
}

#[tokio::test]
async fn entities_are_reused_per_scope_until_their_type_changes() {
    let cache = Arc::new(cache());
    let (ridgeline, helix) = (caller(1, "csm"), caller(2, "csm"));
    let (a1, a2): (&[u8], &[u8]) = (br#"{"__typename":"Account","id":"a1"}"#, br#"{"__typename":"Account","id":"a2"}"#);
    let entities = cache.entity_cache_for(&ridgeline).unwrap();
    let lookup = entities.lookup(account_fetch(), vec![a1, a2]).await.unwrap();
    assert_eq!(lookup.max_age, 60);
    let entity = serde_json::json!({ "name": "Acme" });
    entities.store(&lookup, vec![(0, &entity)]).await;

    assert_eq!(cached_accounts(&cache, &ridgeline, &[a1, a2]).await, [true, false]);
    assert_eq!(cached_accounts(&cache, &helix, &[a1]).await, [false], "another tenant");
    assert_eq!(cached_accounts(&cache, &caller(1, "finance"), &[a1]).await, [false], "another role");

    cache.invalidate(&[changed(ridgeline.tenant_id, "Account")]).await.unwrap();
    assert_eq!(cached_accounts(&cache, &ridgeline, &[a1]).await, [false], "the change drops it");
}

#[tokio::test]
async fn a_change_event_drops_the_tenants_answers_for_that_type_only() {
    let cache = cache();
    let request = tickets(serde_json::json!({}));
    let (ridgeline, helix) = (caller(1, "csm"), caller(2, "csm"));
    fill(&cache, &ridgeline, &request, "r").await;
    fill(&cache, &helix, &request, "h").await;

    cache.invalidate(&[changed(Uuid::from_u128(1), "Tenant")]).await.unwrap();
    assert_eq!(cached_marker(&cache, &ridgeline, &request).await.as_deref(), Some("r"), "other type");
    cache.invalidate(&[changed(Uuid::from_u128(1), "Ticket")]).await.unwrap();
    assert_eq!(cached_marker(&cache, &ridgeline, &request).await, None);
    assert_eq!(cached_marker(&cache, &helix, &request).await.as_deref(), Some("h"), "other tenant");
}

#[tokio::test]
async fn unhinted_and_disabled_operations_are_not_stored() {
    let cache = cache();
    let context = caller(1, "csm");
    let tenant = GraphQLRequest::new("{ tenant { name } }");
    assert!(matches!(cache.lookup(&context, &tenant, &none_removed()).await, Lookup::NotCacheable));

    let metrics = atrium_contract::telemetry::Metrics::local("atrium-gateway-test");
    let config = ResponseCacheConfig { enabled: false, ..ResponseCacheConfig::default() };
    let disabled = ResponseCache::new(SUPERGRAPH, config, None, "atrium", &metrics).unwrap();
    let lookup = disabled.lookup(&context, &tickets(serde_json::json!({})), &none_removed()).await;
    assert!(matches!(lookup, Lookup::Uncached { max_age: 30 }));
}
