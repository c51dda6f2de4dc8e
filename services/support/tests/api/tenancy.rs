//! Tenant isolation at the support subgraph: each tenant sees only its own tickets,
//! requests without a signed context are refused, another tenant's `Ticket` resolves to
//! null and another tenant's `CustomerAccount` gets no tickets, on SQLite and PostgreSQL.

use atrium_kit::{demo, testing::TestDatabase};
use serde_json::json;

use crate::helpers::{TestSupport, spawn, spawn_sqlite};

fn customer_ids(slug: &str) -> Vec<String> {
    let tenant = demo::tenant_by_slug(slug).unwrap();
    (0..tenant.customers.len()).map(|ordinal| demo::customer_id(tenant, ordinal).to_string()).collect()
}

async fn assert_each_tenant_sees_only_its_tickets(support: &TestSupport) {
    for slug in ["ridgeline", "helix", "veritas"] {
        let data =
            support.data(slug, "{ tickets(first: 100) { nodes { number customerAccount { id } } } }", json!({})).await;
        let tickets = data["tickets"]["nodes"].as_array().unwrap();
        assert!(tickets.len() >= 2 * customer_ids(slug).len(), "{slug}: {} tickets", tickets.len());
        for ticket in tickets {
            let customer = ticket["customerAccount"]["id"].as_str().unwrap().to_owned();
            assert!(customer_ids(slug).contains(&customer), "{slug}: ticket of foreign customer {customer}");
        }
    }
}

#[tokio::test]
async fn serves_each_tenant_only_its_own_tickets() {
    let support = spawn_sqlite().await;
    assert_each_tenant_sees_only_its_tickets(&support).await;
}

#[tokio::test]
async fn rejects_a_request_without_a_signed_context_with_401() {
    let support = spawn_sqlite().await;
    let (status, body) = support.query(None, "{ tickets { nodes { number } } }", json!({})).await;
    assert_eq!(status, 401);
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    assert!(body.get("data").is_none());
}

/// Asked by ridgeline: helix's ticket resolves to null, helix's customer resolves to a
/// stub without tickets, ridgeline's own customer keeps its tickets.
async fn assert_foreign_references_yield_nothing(support: &TestSupport) {
    let helix = demo::tenant_by_slug("helix").unwrap();
    let ridgeline = demo::tenant_by_slug("ridgeline").unwrap();
    let helix_tickets = support.data("helix", "{ tickets(first: 1) { nodes { id } } }", json!({})).await;
    let helix_ticket = helix_tickets["tickets"]["nodes"][0]["id"].clone();
    assert!(helix_ticket.is_string());
    let query = "query($representations: [_Any!]!) { _entities(representations: $representations) { \
                 ... on Ticket { number } \
                 ... on CustomerAccount { id tickets { nodes { number } } openUrgentHighTicketCount } } }";
    let helix_customer = demo::customer_id(helix, 0).to_string();
    let representations = json!([
        { "__typename": "Ticket", "id": helix_ticket },
        { "__typename": "CustomerAccount", "id": helix_customer },
        { "__typename": "CustomerAccount", "id": demo::customer_id(ridgeline, 0) },
    ]);
    let data = support.data("ridgeline", query, json!({ "representations": representations })).await;
    let entities = data["_entities"].as_array().unwrap();
    assert_eq!(entities[0], json!(null));
    assert_eq!(
        entities[1],
        json!({ "id": helix_customer, "tickets": { "nodes": [] }, "openUrgentHighTicketCount": 0 })
    );
    assert!(!entities[2]["tickets"]["nodes"].as_array().unwrap().is_empty());
    assert_eq!(entities[2]["openUrgentHighTicketCount"], 2);

    let ticket = format!("{{ ticket(id: {helix_ticket}) {{ number }} }}");
    assert_eq!(support.data("ridgeline", &ticket, json!({})).await["ticket"], json!(null));
}

#[tokio::test]
async fn references_to_another_tenants_rows_yield_null_or_nothing() {
    let support = spawn_sqlite().await;
    assert_foreign_references_yield_nothing(&support).await;
}

#[tokio::test]
async fn isolates_tenants_on_postgres_under_row_level_security() {
    let Some(database) = TestDatabase::create("support").await else { return };
    let support = spawn(database.runtime_url.clone(), Some(database.owner_url.clone())).await;
    assert_each_tenant_sees_only_its_tickets(&support).await;
    assert_foreign_references_yield_nothing(&support).await;
}
