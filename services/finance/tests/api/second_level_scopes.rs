//! Second-level scopes at the finance subgraph: a partner user sees only its channel
//! partner's customers with their contracts, subscriptions and invoices; a customer-portal
//! user only its own account; other rows are null or absent, on SQLite and PostgreSQL.

use atrium_kit::{TenantContext, demo, testing::TestDatabase};
use serde_json::{Value, json};

use crate::helpers::{TestFinance, spawn, spawn_sqlite, strings};

fn helix() -> &'static demo::DemoTenant {
    demo::tenant_by_slug("helix").unwrap()
}

/// A Helix `partner_user` of Fjord Systems (partner 0: Nordlys Shipping and Bergen Fisk).
fn fjord_partner_user() -> TenantContext {
    let mut context = atrium_kit::testing::context_for("helix", "partner_user");
    context.channel_partner_id = Some(demo::partner_id(helix(), 0));
    context
}

/// A Helix `customer_user` of Bodegas Castilla (customer 2, sold by Castellan IT).
fn bodegas_customer_user() -> TenantContext {
    let mut context = atrium_kit::testing::context_for("helix", "customer_user");
    context.customer_account_id = Some(demo::customer_id(helix(), 2));
    context
}

async fn data_as(finance: &TestFinance, context: &TenantContext, query: &str, variables: Value) -> Value {
    let (status, body) = finance.query(Some(context), query, variables).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    body["data"].clone()
}

const PORTAL: &str = "{ customerAccounts(first: 100) { nodes { id name \
                      contracts { nodes { id } } subscriptions { nodes { id } } invoices { nodes { id } } } } \
                      invoices(first: 100) { nodes { id customerAccount { name } } } }";

/// Invoice ids of every helix customer, as an unscoped finance user sees them.
async fn helix_invoices_by_customer(finance: &TestFinance) -> Vec<(String, String)> {
    let data =
        finance.data("helix", "{ invoices(first: 100) { nodes { id customerAccount { name } } } }", json!({})).await;
    data["invoices"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|node| {
            (node["id"].as_str().unwrap().to_owned(), node["customerAccount"]["name"].as_str().unwrap().to_owned())
        })
        .collect()
}

async fn assert_a_partner_user_sees_only_its_partners_customers(finance: &TestFinance) {
    let all_invoices = helix_invoices_by_customer(finance).await;
    let data = data_as(finance, &fjord_partner_user(), PORTAL, json!({})).await;
    assert_eq!(strings(&data["customerAccounts"], "name"), ["Nordlys Shipping AS", "Bergen Fisk Eksport"]);
    for customer in data["customerAccounts"]["nodes"].as_array().unwrap() {
        for list in ["contracts", "subscriptions", "invoices"] {
            assert!(!customer[list]["nodes"].as_array().unwrap().is_empty(), "{list} of {}", customer["name"]);
        }
    }
    let fjord_invoices: Vec<String> = all_invoices
        .iter()
        .filter(|(_, customer)| ["Nordlys Shipping AS", "Bergen Fisk Eksport"].contains(&customer.as_str()))
        .map(|(id, _)| id.clone())
        .collect();
    assert!(fjord_invoices.len() < all_invoices.len());
    assert_eq!(strings(&data["invoices"], "id"), fjord_invoices);

    // Another partner's customer, contract and invoice resolve to null, by id and by reference.
    let bodegas = demo::customer_id(helix(), 2);
    let other_invoice = all_invoices.iter().find(|(_, customer)| customer == "Bodegas Castilla SL").unwrap().0.clone();
    let query = format!("{{ customerAccount(id: \"{bodegas}\") {{ name }} }}");
    assert_eq!(data_as(finance, &fjord_partner_user(), &query, json!({})).await["customerAccount"], json!(null));
    let entities = "query($representations: [_Any!]!) { _entities(representations: $representations) { \
                    ... on CustomerAccount { name } ... on Invoice { number } ... on Contract { number } } }";
    let representations = json!([
        { "__typename": "CustomerAccount", "id": bodegas },
        { "__typename": "Invoice", "id": other_invoice },
        { "__typename": "Contract", "id": atrium_finance::repository::seed::contract_id(helix(), 2) },
        { "__typename": "CustomerAccount", "id": demo::customer_id(helix(), 1) },
    ]);
    let data = data_as(finance, &fjord_partner_user(), entities, json!({ "representations": representations })).await;
    assert_eq!(data["_entities"], json!([null, null, null, { "name": "Bergen Fisk Eksport" }]));
}

async fn assert_a_customer_user_sees_only_its_own_account(finance: &TestFinance) {
    let data = data_as(finance, &bodegas_customer_user(), PORTAL, json!({})).await;
    assert_eq!(strings(&data["customerAccounts"], "name"), ["Bodegas Castilla SL"]);
    let invoice_customers: Vec<&str> = data["invoices"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|node| node["customerAccount"]["name"].as_str().unwrap())
        .collect();
    assert!(!invoice_customers.is_empty());
    assert!(invoice_customers.iter().all(|name| *name == "Bodegas Castilla SL"), "{invoice_customers:?}");
    let nordlys = format!("{{ customerAccount(id: \"{}\") {{ name }} }}", demo::customer_id(helix(), 0));
    assert_eq!(data_as(finance, &bodegas_customer_user(), &nordlys, json!({})).await["customerAccount"], json!(null));
}

/// A partner user of a tenant whose customers all buy direct sees no customers at all.
async fn assert_direct_customers_are_hidden_from_partner_users(finance: &TestFinance) {
    let mut context = atrium_kit::testing::context_for("ridgeline", "partner_user");
    context.channel_partner_id = Some(demo::partner_id(helix(), 0));
    let data = data_as(finance, &context, PORTAL, json!({})).await;
    assert_eq!(data["customerAccounts"]["nodes"], json!([]));
    assert_eq!(data["invoices"]["nodes"], json!([]));
}

#[tokio::test]
async fn narrows_partner_and_customer_users_to_their_own_rows() {
    let finance = spawn_sqlite().await;
    assert_a_partner_user_sees_only_its_partners_customers(&finance).await;
    assert_a_customer_user_sees_only_its_own_account(&finance).await;
    assert_direct_customers_are_hidden_from_partner_users(&finance).await;
}

#[tokio::test]
async fn narrows_partner_and_customer_users_on_postgres_under_row_level_security() {
    let Some(database) = TestDatabase::create("finance").await else { return };
    let finance = spawn(database.runtime_url.clone(), Some(database.owner_url.clone())).await;
    assert_a_partner_user_sees_only_its_partners_customers(&finance).await;
    assert_a_customer_user_sees_only_its_own_account(&finance).await;
    assert_direct_customers_are_hidden_from_partner_users(&finance).await;
}
