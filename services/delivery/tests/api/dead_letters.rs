//! Dead letters a tenant admin sees (docs/domain.md#event-delivery), on SQLite and
//! PostgreSQL: a command delivery cannot read goes through the real consumer, is parked,
//! and `deliveryEventDeadLetters` shows it to the tenant's admins only — newest first,
//! bounded, and never to another tenant.

use std::sync::Arc;

use atrium_delivery::{calendar::BusinessCalendar, events::DeliveryEvents};
use atrium_kit::{
    TenantContext, demo,
    events::{DomainEvent, EventConsumer, Processed, Subject},
    testing::{self, TestDatabase, context_for},
};
use sea_orm::{Database, DatabaseConnection};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestDelivery, spawn, test_today};

const DEAD_LETTERS_QUERY: &str = "query($first: Int) { deliveryEventDeadLetters(first: $first) { \
    consumer eventId eventType envelope error attempts parkedAt } }";

/// A `create_engagement_from_blueprint` command whose data names no customer, contract or
/// package: delivery refuses it as poison.
fn unreadable_command(slug: &str) -> DomainEvent {
    let analytics = TenantContext::automation(demo::tenant_id(slug), "automation:A1");
    let subject = Subject { entity_type: "Contract".to_owned(), id: Uuid::now_v7(), version: 3 };
    let key = format!("A1:{}", Uuid::now_v7());
    DomainEvent::command(
        &analytics,
        "analytics",
        "delivery",
        "create_engagement_from_blueprint",
        subject,
        &key,
        json!({ "start_date": "not a date" }),
    )
}

async fn park(database: &DatabaseConnection, event: &DomainEvent) {
    let handler = DeliveryEvents::with_calendar(BusinessCalendar::Fixed(test_today()));
    let consumer = EventConsumer::new("delivery", database.clone(), Arc::new(handler));
    assert_eq!(consumer.process(event).await.expect("outcome recorded"), Processed::Parked);
}

async fn dead_letters_as(delivery: &TestDelivery, slug: &str, role: &str, first: Option<i32>) -> Value {
    let (status, body) =
        delivery.query(Some(&context_for(slug, role)), DEAD_LETTERS_QUERY, json!({ "first": first })).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn assert_tenant_admins_see_their_dead_letters(delivery: &TestDelivery, database: &DatabaseConnection) {
    let older = unreadable_command("ridgeline");
    park(database, &older).await;
    let newer = unreadable_command("ridgeline");
    park(database, &newer).await;

    let body = dead_letters_as(delivery, "ridgeline", "tenant_admin", None).await;
    assert!(body.get("errors").is_none(), "{body}");
    let letters = body["data"]["deliveryEventDeadLetters"].as_array().unwrap();
    let event_ids: Vec<&str> = letters.iter().map(|letter| letter["eventId"].as_str().unwrap()).collect();
    assert_eq!(event_ids, [newer.id.to_string(), older.id.to_string()], "newest first");
    let letter = &letters[0];
    assert_eq!(letter["consumer"], "delivery");
    assert_eq!(letter["eventType"], "delivery.command.create_engagement_from_blueprint");
    assert_eq!(letter["attempts"], 1, "poison is parked on the first attempt");
    let error = letter["error"].as_str().unwrap();
    assert!(error.contains("unreadable data"), "{error}");
    let envelope: DomainEvent = serde_json::from_str(letter["envelope"].as_str().unwrap()).unwrap();
    assert_eq!(envelope, newer);

    let body = dead_letters_as(delivery, "ridgeline", "tenant_admin", Some(1)).await;
    assert_eq!(body["data"]["deliveryEventDeadLetters"][0]["eventId"], json!(newer.id), "{body}");
    assert_eq!(body["data"]["deliveryEventDeadLetters"].as_array().unwrap().len(), 1, "{body}");

    for out_of_bounds in [0, -3, 201] {
        let body = dead_letters_as(delivery, "ridgeline", "tenant_admin", Some(out_of_bounds)).await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
        assert_eq!(body["data"], Value::Null, "{body}");
    }

    let body = dead_letters_as(delivery, "ridgeline", "csm", None).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHORIZED_FIELD_OR_TYPE", "{body}");
    assert_eq!(body["data"], Value::Null, "{body}");

    let body = dead_letters_as(delivery, "helix", "tenant_admin", None).await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["deliveryEventDeadLetters"], json!([]), "{body}");
}

#[tokio::test]
async fn tenant_admins_see_their_dead_letters_on_sqlite() {
    let url = testing::sqlite_url("delivery_dead_letters");
    let delivery = spawn(url.clone(), None).await;
    let database = Database::connect(&url).await.expect("sqlite connects");
    assert_tenant_admins_see_their_dead_letters(&delivery, &database).await;
}

#[tokio::test]
async fn tenant_admins_see_their_dead_letters_on_postgres() {
    let Some(postgres) = TestDatabase::create("delivery_dead_letters").await else { return };
    let delivery = spawn(postgres.runtime_url.clone(), Some(postgres.owner_url.clone())).await;
    let database = Database::connect(&postgres.runtime_url).await.expect("runtime role connects");
    assert_tenant_admins_see_their_dead_letters(&delivery, &database).await;
}
