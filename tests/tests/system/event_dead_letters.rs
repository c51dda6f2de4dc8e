//! Dead letters end to end (docs/domain.md#event-delivery), on SQLite where the services
//! exchange events as signed HTTP batches: a batch signed as a producer's relay signs it
//! reaches the running delivery and analytics services on their event route, each
//! consumer parks the event it cannot apply (and acknowledges the batch), and through the
//! gateway only that tenant's admin sees the dead letters; each service's `/metrics`
//! counts them.
//!
//! The batch is made by hand because no producer emits a malformed event: every path that
//! parks one starts outside the well-behaved services.

use atrium_kit::{
    ContextKey, TenantContext,
    changes::{SIGNATURE_HEADER, sign_batch},
    demo,
    events::{DomainEvent, EventBatch, Subject, http::EVENTS_PATH},
};
use atrium_system_tests::{Backend, Stack};
use serde_json::{Value, json};
use uuid::Uuid;

const QUERY: &str = "{ deliveryEventDeadLetters { consumer eventId eventType error attempts } \
    analyticsEventDeadLetters { consumer eventId eventType error attempts } }";

/// A cross-service command delivery cannot read (no customer, contract or package).
fn unreadable_delivery_command(slug: &str) -> DomainEvent {
    let analytics = TenantContext::automation(demo::tenant_id(slug), "automation:A1");
    let subject = Subject { entity_type: "Contract".to_owned(), id: Uuid::now_v7(), version: 1 };
    DomainEvent::command(
        &analytics,
        "analytics",
        "delivery",
        "create_engagement_from_blueprint",
        subject,
        &format!("A1:{}", Uuid::now_v7()),
        json!({}),
    )
}

/// A signed contract that names no customer: analytics has no journey to put it on.
fn contract_signed_without_customer(slug: &str) -> DomainEvent {
    let finance = TenantContext::automation(demo::tenant_id(slug), "user:finance");
    let subject = Subject { entity_type: "Contract".to_owned(), id: Uuid::now_v7(), version: 1 };
    DomainEvent::new(&finance, "finance.contract.signed", subject).with_data(json!({ "lines": [] }))
}

fn service_url(stack: &Stack, service: &str, path: &str) -> String {
    let (_, graphql) = stack.subgraph_urls.iter().find(|(name, _)| *name == service).expect("a service");
    graphql.replace("/graphql", path)
}

/// POSTs `events` to `service`'s event route as the producers' relays do (signed with the
/// development context key the stack's services accept).
async fn deliver(stack: &Stack, service: &str, events: Vec<DomainEvent>) {
    let body = serde_json::to_vec(&EventBatch { events }).unwrap();
    let signature = sign_batch(&ContextKey::development(), &body, chrono::Utc::now());
    let response = stack
        .client()
        .post(service_url(stack, service, EVENTS_PATH))
        .header("content-type", "application/json")
        .header(SIGNATURE_HEADER, signature)
        .body(body)
        .send()
        .await
        .expect("the service answers");
    let status = response.status().as_u16();
    assert_eq!(status, 200, "{service}: {}", response.text().await.unwrap_or_default());
}

fn event_ids(letters: &Value) -> Vec<&str> {
    letters.as_array().expect("a list").iter().map(|letter| letter["eventId"].as_str().expect("an id")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parked_events_are_listed_to_their_tenant_admin_through_the_gateway() {
    let Some(stack) = Stack::start(Backend::Sqlite).await else { return };
    let for_delivery = unreadable_delivery_command("ridgeline");
    let for_analytics = contract_signed_without_customer("ridgeline");
    deliver(&stack, "delivery", vec![for_delivery.clone()]).await;
    deliver(&stack, "analytics", vec![for_analytics.clone()]).await;

    let body = stack.query(&stack.token("ridgeline", &["tenant_admin"]), QUERY).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let delivery = &body["data"]["deliveryEventDeadLetters"];
    assert_eq!(event_ids(delivery), [for_delivery.id.to_string()], "{body:#}");
    assert_eq!(delivery[0]["consumer"], "delivery");
    assert_eq!(delivery[0]["eventType"], "delivery.command.create_engagement_from_blueprint");
    assert!(delivery[0]["error"].as_str().unwrap().contains("unreadable data"), "{body:#}");
    let analytics = &body["data"]["analyticsEventDeadLetters"];
    assert_eq!(event_ids(analytics), [for_analytics.id.to_string()], "{body:#}");
    assert_eq!(analytics[0]["consumer"], "analytics");
    assert_eq!(analytics[0]["eventType"], "finance.contract.signed");
    assert!(analytics[0]["error"].as_str().unwrap().contains("names no customer_account_id"), "{body:#}");

    let body = stack.query(&stack.token("helix", &["tenant_admin"]), QUERY).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    assert_eq!(body["data"], json!({ "deliveryEventDeadLetters": [], "analyticsEventDeadLetters": [] }), "{body:#}");

    let (status, body) = stack.post(Some(&stack.token("ridgeline", &["csm"])), json!({ "query": QUERY }), &[]).await;
    assert_eq!(status, 200, "{body:#}");
    // Both lists are non-null, so the refusal nulls the whole answer.
    assert!(body["data"].is_null(), "{body:#}");
    let errors = body["errors"].as_array().expect("errors");
    for field in ["deliveryEventDeadLetters", "analyticsEventDeadLetters"] {
        let refused = errors.iter().any(|error| {
            error["path"] == json!([field]) && error["extensions"]["code"] == "UNAUTHORIZED_FIELD_OR_TYPE"
        });
        assert!(refused, "{field}: {body:#}");
    }

    for service in ["delivery", "analytics"] {
        let metrics = stack.client().get(service_url(&stack, service, "/metrics")).send().await.unwrap();
        let metrics = metrics.text().await.unwrap();
        let gauge = format!("atrium_events_dead_letters{{consumer=\"{service}\"}} 1");
        assert!(metrics.contains(&gauge), "{service}: {metrics}");
    }
}
