//! Dead letters a tenant admin sees (docs/domain.md#event-delivery), on SQLite and
//! PostgreSQL: an event analytics cannot place on any customer's journey goes through the
//! real consumer, is parked, and `analyticsEventDeadLetters` shows it to the tenant's
//! admins only — newest first, bounded, and never to another tenant.

use std::sync::Arc;

use atrium_analytics::events::AnalyticsEvents;
use atrium_kit::{
    events::{DomainEvent, EventConsumer, Processed, Subject},
    testing::{self, TestDatabase, context_for},
};
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestAnalytics, spawn_with_database};

const DEAD_LETTERS_QUERY: &str = "query($first: Int) { analyticsEventDeadLetters(first: $first) { \
    consumer eventId eventType envelope error attempts parkedAt } }";

/// A `finance.contract.signed` without `refs.customer_account_id`: no journey to put it
/// on, so analytics refuses it as poison.
fn contract_signed_without_customer(slug: &str) -> DomainEvent {
    let subject = Subject { entity_type: "Contract".to_owned(), id: Uuid::now_v7(), version: 4 };
    DomainEvent::new(&context_for(slug, "finance"), "finance.contract.signed", subject)
        .with_data(json!({ "number": "C-2026-0099", "status": "signed", "lines": [] }))
}

async fn park(database: &DatabaseConnection, event: &DomainEvent) {
    let consumer = EventConsumer::new("analytics", database.clone(), Arc::new(AnalyticsEvents::new()));
    assert_eq!(consumer.process(event).await.expect("outcome recorded"), Processed::Parked);
}

async fn dead_letters_as(analytics: &TestAnalytics, slug: &str, role: &str, first: Option<i32>) -> Value {
    let (status, body) =
        analytics.query(Some(&context_for(slug, role)), DEAD_LETTERS_QUERY, json!({ "first": first })).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn assert_tenant_admins_see_their_dead_letters(analytics: &TestAnalytics, database: &DatabaseConnection) {
    let older = contract_signed_without_customer("ridgeline");
    park(database, &older).await;
    let newer = contract_signed_without_customer("ridgeline");
    park(database, &newer).await;

    let body = dead_letters_as(analytics, "ridgeline", "tenant_admin", None).await;
    assert!(body.get("errors").is_none(), "{body}");
    let letters = body["data"]["analyticsEventDeadLetters"].as_array().unwrap();
    let event_ids: Vec<&str> = letters.iter().map(|letter| letter["eventId"].as_str().unwrap()).collect();
    assert_eq!(event_ids, [newer.id.to_string(), older.id.to_string()], "newest first");
    let letter = &letters[0];
    assert_eq!(letter["consumer"], "analytics");
    assert_eq!(letter["eventType"], "finance.contract.signed");
    assert_eq!(letter["attempts"], 1, "poison is parked on the first attempt");
    let error = letter["error"].as_str().unwrap();
    assert!(error.contains("names no customer_account_id"), "{error}");
    let envelope: DomainEvent = serde_json::from_str(letter["envelope"].as_str().unwrap()).unwrap();
    assert_eq!(envelope, newer);

    let body = dead_letters_as(analytics, "ridgeline", "tenant_admin", Some(1)).await;
    assert_eq!(body["data"]["analyticsEventDeadLetters"][0]["eventId"], json!(newer.id), "{body}");
    assert_eq!(body["data"]["analyticsEventDeadLetters"].as_array().unwrap().len(), 1, "{body}");

    for out_of_bounds in [0, -3, 201] {
        let body = dead_letters_as(analytics, "ridgeline", "tenant_admin", Some(out_of_bounds)).await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
        assert_eq!(body["data"], Value::Null, "{body}");
    }

    let body = dead_letters_as(analytics, "ridgeline", "csm", None).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHORIZED_FIELD_OR_TYPE", "{body}");
    assert_eq!(body["data"], Value::Null, "{body}");

    let body = dead_letters_as(analytics, "helix", "tenant_admin", None).await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["analyticsEventDeadLetters"], json!([]), "{body}");
}

#[tokio::test]
async fn tenant_admins_see_their_dead_letters_on_sqlite() {
    let (analytics, database) = spawn_with_database(testing::sqlite_url("analytics_dead_letters"), None).await;
    assert_tenant_admins_see_their_dead_letters(&analytics, &database).await;
}

#[tokio::test]
async fn tenant_admins_see_their_dead_letters_on_postgres() {
    let Some(postgres) = TestDatabase::create("analytics_dead_letters").await else { return };
    let (analytics, database) =
        spawn_with_database(postgres.runtime_url.clone(), Some(postgres.owner_url.clone())).await;
    assert_tenant_admins_see_their_dead_letters(&analytics, &database).await;
}
