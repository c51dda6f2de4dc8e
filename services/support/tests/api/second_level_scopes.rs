//! Second-level scopes at the support subgraph: a partner user sees only tickets of its
//! channel partner's customers, a customer-portal user only its own account's tickets,
//! whether asked through the root list, a ticket id or a `CustomerAccount` reference, on
//! SQLite and PostgreSQL.

use atrium_kit::{TenantContext, demo, testing::TestDatabase};
use serde_json::{Value, json};

use crate::helpers::{TestSupport, spawn, spawn_sqlite};

fn helix() -> &'static demo::DemoTenant {
    demo::tenant_by_slug("helix").unwrap()
}

fn scoped(role: &str, partner: Option<usize>, customer: Option<usize>) -> TenantContext {
    let mut context = atrium_kit::testing::context_for("helix", role);
    context.channel_partner_id = partner.map(|ordinal| demo::partner_id(helix(), ordinal));
    context.customer_account_id = customer.map(|ordinal| demo::customer_id(helix(), ordinal));
    context
}

async fn data_as(support: &TestSupport, context: &TenantContext, query: &str, variables: Value) -> Value {
    let (status, body) = support.query(Some(context), query, variables).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    body["data"].clone()
}

/// The customer id of every ticket in a root `tickets` answer.
fn ticket_customers(data: &Value) -> Vec<String> {
    data["tickets"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|node| node["customerAccount"]["id"].as_str().unwrap().to_owned())
        .collect()
}

const TICKETS: &str = "{ tickets(first: 100) { nodes { id customerAccount { id } } } }";

async fn assert_scoped_users_see_only_their_tickets(support: &TestSupport) {
    let fjord_customers = [demo::customer_id(helix(), 0).to_string(), demo::customer_id(helix(), 1).to_string()];
    let bodegas = demo::customer_id(helix(), 2).to_string();

    let everything = support.data("helix", TICKETS, json!({})).await;
    let all_customers = ticket_customers(&everything);
    let foreign_ticket = everything["tickets"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|node| node["customerAccount"]["id"] == bodegas.as_str())
        .map(|node| node["id"].clone())
        .expect("a Bodegas ticket");

    let partner = scoped("partner_user", Some(0), None);
    let customers = ticket_customers(&data_as(support, &partner, TICKETS, json!({})).await);
    let expected = all_customers.iter().filter(|customer| fjord_customers.contains(customer)).count();
    assert!(expected > 0 && expected < all_customers.len());
    assert_eq!(customers.len(), expected);
    assert!(customers.iter().all(|customer| fjord_customers.contains(customer)), "{customers:?}");

    let customer_user = scoped("customer_user", None, Some(2));
    let customers = ticket_customers(&data_as(support, &customer_user, TICKETS, json!({})).await);
    assert!(!customers.is_empty());
    assert!(customers.iter().all(|customer| *customer == bodegas), "{customers:?}");

    // Another partner's ticket and customer, asked directly or by reference, yield nothing.
    let query = "query($id: ID!, $representations: [_Any!]!) { ticket(id: $id) { id } \
                 _entities(representations: $representations) { \
                 ... on Ticket { id } ... on CustomerAccount { tickets { nodes { id } } } } }";
    let variables = json!({ "id": foreign_ticket, "representations": [
        { "__typename": "Ticket", "id": foreign_ticket },
        { "__typename": "CustomerAccount", "id": bodegas },
        { "__typename": "CustomerAccount", "id": fjord_customers[0] },
    ] });
    let data = data_as(support, &partner, query, variables).await;
    assert_eq!(data["ticket"], json!(null));
    assert_eq!(data["_entities"][0], json!(null));
    assert_eq!(data["_entities"][1]["tickets"]["nodes"], json!([]));
    assert!(!data["_entities"][2]["tickets"]["nodes"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn narrows_partner_and_customer_users_to_their_own_tickets() {
    let support = spawn_sqlite().await;
    assert_scoped_users_see_only_their_tickets(&support).await;
}

#[tokio::test]
async fn narrows_partner_and_customer_users_on_postgres_under_row_level_security() {
    let Some(database) = TestDatabase::create("support").await else { return };
    let support = spawn(database.runtime_url.clone(), Some(database.owner_url.clone())).await;
    assert_scoped_users_see_only_their_tickets(&support).await;
}
