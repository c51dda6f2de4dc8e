//! Change events of `changeTicketStatus`: a successful solve records exactly its `Ticket`
//! events (status changed, solved), one `SlaClock` update per clock it fulfils and a
//! `CustomerAccount` update in the outbox with the change itself; refused or
//! foreign attempts record nothing; with a gateway configured the relay delivers them,
//! signed, to its `/internal/changes`.

use std::{sync::Arc, time::Duration};

use atrium_kit::{
    ContextKey,
    changes::{self, CHANGES_PATH, ChangeBatch, ChangeEvent, ChangeKind, SIGNATURE_HEADER, verify_batch},
    demo,
    testing::{self, TestDatabase, context_for},
};
use atrium_support::config::Config;
use axum::{Router, body::Bytes, extract::State, http::HeaderMap, routing::post};
use sea_orm::{Database, DatabaseConnection};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::helpers::{TestSupport, spawn, spawn_configured};

const CHANGE_STATUS: &str = "mutation($id: ID!, $status: TicketStatus!) { \
    changeTicketStatus(id: $id, status: $status) { id status } }";

/// `(ticket id, its customer account id)` of one of `slug`'s tickets in `status`.
async fn ticket_in_status(support: &TestSupport, slug: &str, status: &str) -> (String, String) {
    let query = "query($status: [TicketStatus!]) { tickets(first: 1, status: $status) { \
                 nodes { id customerAccount { id } } } }";
    let data = support.data(slug, query, json!({ "status": [status] })).await;
    let ticket = &data["tickets"]["nodes"][0];
    let id = ticket["id"].as_str().expect("a ticket in that status").to_owned();
    (id, ticket["customerAccount"]["id"].as_str().expect("customer account").to_owned())
}

async fn change_status(support: &TestSupport, slug: &str, id: &str, status: &str) -> Value {
    let context = context_for(slug, "support_agent");
    let (code, body) = support.query(Some(&context), CHANGE_STATUS, json!({ "id": id, "status": status })).await;
    assert_eq!(code, 200, "{body}");
    body
}

async fn outbox(database: &DatabaseConnection) -> Vec<ChangeEvent> {
    let pending = changes::pending_changes(database, 100).await.expect("outbox readable");
    pending.into_iter().map(|pending| pending.event).collect()
}

/// `(tenant, service, type, id, change)` of events, for comparisons.
fn summary(events: &[ChangeEvent]) -> Vec<(uuid::Uuid, String, String, String, ChangeKind)> {
    events
        .iter()
        .map(|event| {
            (event.tenant_id, event.service.clone(), event.entity_type.clone(), event.entity_id.clone(), event.change)
        })
        .collect()
}

/// Solving: the status change and the solve on the ticket, the fulfilment of each clock
/// still open, then the customer account.
fn expected(
    slug: &str,
    ticket: &str,
    open_clocks: &[String],
    account: &str,
) -> Vec<(uuid::Uuid, String, String, String, ChangeKind)> {
    let tenant = demo::tenant_id(slug);
    let mut events = vec![
        (tenant, "support".into(), "Ticket".into(), ticket.to_owned(), ChangeKind::Updated),
        (tenant, "support".into(), "Ticket".into(), ticket.to_owned(), ChangeKind::Updated),
    ];
    for clock in open_clocks {
        events.push((tenant, "support".into(), "SlaClock".into(), clock.clone(), ChangeKind::Updated));
    }
    events.push((tenant, "support".into(), "CustomerAccount".into(), account.to_owned(), ChangeKind::Updated));
    events
}

/// Ids of the ticket's clocks that have not been fulfilled, in metric order.
async fn open_clocks(support: &TestSupport, slug: &str, ticket: &str) -> Vec<String> {
    let query = "query($id: ID!) { ticket(id: $id) { slaClocks { id status } } }";
    let data = support.data(slug, query, json!({ "id": ticket })).await;
    let clocks = data["ticket"]["slaClocks"].as_array().expect("clocks").clone();
    assert_eq!(clocks.len(), 2, "seeded tickets have two clocks: {data}");
    clocks
        .iter()
        .filter(|clock| clock["status"] != "FULFILLED")
        .map(|clock| clock["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn assert_only_committed_changes_leave_events(support: &TestSupport, database: &DatabaseConnection) {
    assert!(outbox(database).await.is_empty(), "seeding recorded change events");

    let (open_ticket, _) = ticket_in_status(support, "helix", "OPEN").await;
    let refused = change_status(support, "helix", &open_ticket, "NEW").await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "INVALID_TRANSITION", "{refused}");
    assert!(outbox(database).await.is_empty(), "a refused transition recorded events");

    let (foreign_ticket, _) = ticket_in_status(support, "veritas", "OPEN").await;
    let not_found = change_status(support, "ridgeline", &foreign_ticket, "PENDING").await;
    assert_eq!(not_found["errors"][0]["extensions"]["code"], "NOT_FOUND", "{not_found}");
    assert!(outbox(database).await.is_empty(), "another tenant's ticket recorded events");

    let (ticket, account) = ticket_in_status(support, "ridgeline", "OPEN").await;
    let open_clocks = open_clocks(support, "ridgeline", &ticket).await;
    assert!(!open_clocks.is_empty(), "an open ticket's resolution clock is still open");
    let body = change_status(support, "ridgeline", &ticket, "SOLVED").await;
    assert!(body.get("errors").is_none(), "{body}");
    let events = outbox(database).await;
    assert_eq!(summary(&events), expected("ridgeline", &ticket, &open_clocks, &account));
    assert_ne!(events[0].id, events[1].id);
}

#[tokio::test]
async fn a_status_change_records_ticket_and_account_events_and_a_refusal_none_on_sqlite() {
    let url = testing::sqlite_url("support_changes");
    let support = spawn(url.clone(), None).await;
    let database = Database::connect(&url).await.expect("sqlite connects");
    assert_only_committed_changes_leave_events(&support, &database).await;
}

#[tokio::test]
async fn a_status_change_records_ticket_and_account_events_and_a_refusal_none_on_postgres() {
    let Some(database) = TestDatabase::create("support_changes").await else { return };
    let support = spawn(database.runtime_url.clone(), Some(database.owner_url.clone())).await;
    // The runtime role, like the relay: the outbox is read through the relay policies.
    let runtime = Database::connect(&database.runtime_url).await.expect("runtime role connects");
    assert_only_committed_changes_leave_events(&support, &runtime).await;
}

type Deliveries = mpsc::UnboundedSender<(String, Bytes)>;

async fn receive(State(deliveries): State<Arc<Deliveries>>, headers: HeaderMap, body: Bytes) {
    let signature = headers.get(SIGNATURE_HEADER).and_then(|value| value.to_str().ok()).unwrap_or_default();
    let _ = deliveries.send((signature.to_owned(), body));
}

#[tokio::test]
async fn the_relay_delivers_the_events_of_a_change_to_the_configured_gateway() {
    let (deliveries, mut delivered) = mpsc::unbounded_channel();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gateway_url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let router = Router::new().route(CHANGES_PATH, post(receive)).with_state(Arc::new(deliveries));
    tokio::spawn(async move { axum::serve(listener, router).await });

    let mut config = Config::for_tests(testing::sqlite_url("support_relay"), None);
    config.changes.gateway_url = Some(gateway_url);
    let support = spawn_configured(&config, None).await;
    let (ticket, account) = ticket_in_status(&support, "ridgeline", "OPEN").await;
    let body = change_status(&support, "ridgeline", &ticket, "PENDING").await;
    assert!(body.get("errors").is_none(), "{body}");

    // The bound only keeps a broken relay from hanging the suite.
    let (signature, body) = tokio::time::timeout(Duration::from_secs(30), delivered.recv())
        .await
        .expect("delivered within 30 s")
        .expect("receiver running");
    verify_batch(&[ContextKey::development()], &signature, &body, chrono::Utc::now(), Duration::from_secs(300))
        .expect("signed with the configured context key");
    let batch: ChangeBatch = serde_json::from_slice(&body).expect("a change batch");
    // Waiting pauses the clocks without an event of their own: the status change and the
    // account.
    let tenant = demo::tenant_id("ridgeline");
    let pending = vec![
        (tenant, "support".into(), "Ticket".into(), ticket.clone(), ChangeKind::Updated),
        (tenant, "support".into(), "CustomerAccount".into(), account.clone(), ChangeKind::Updated),
    ];
    assert_eq!(summary(&batch.events), pending);
}
