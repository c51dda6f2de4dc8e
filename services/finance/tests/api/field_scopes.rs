//! Defence in depth for `@requiresScopes`: the finance subgraph enforces its own money
//! fields against the signed tenant context, so a caller that reaches it without the
//! gateway's field authorization (a direct call, a planning bug) never receives money
//! unless its roles carry the scope. Denied fields answer null with the gateway's
//! `UNAUTHORIZED_FIELD_OR_TYPE` error.

use atrium_kit::{demo, testing::context_for};
use serde_json::{Value, json};

use crate::helpers::{TestFinance, spawn_sqlite};

const MONEY: &str = "{ invoices(first: 3) { nodes { number total amountPaid balanceDue disputedAmount } } \
                     customerAccounts(first: 2) { nodes { name openBalance } } }";

const INVOICE_MONEY: [&str; 4] = ["total", "amountPaid", "balanceDue", "disputedAmount"];

async fn ask(finance: &TestFinance, role: &str, query: &str, variables: Value) -> Value {
    let (status, body) = finance.query(Some(&context_for("ridgeline", role)), query, variables).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn nodes<'a>(body: &'a Value, list: &str) -> &'a Vec<Value> {
    let nodes = body["data"][list]["nodes"].as_array().unwrap_or_else(|| panic!("{list} nodes in {body}"));
    assert!(!nodes.is_empty(), "{body}");
    nodes
}

fn unauthorized_paths(body: &Value) -> Vec<String> {
    let errors = body["errors"].as_array().cloned().unwrap_or_default();
    errors
        .iter()
        .map(|error| {
            assert_eq!(error["extensions"]["code"], "UNAUTHORIZED_FIELD_OR_TYPE", "{error}");
            let path: Vec<String> = error["path"]
                .as_array()
                .unwrap_or_else(|| panic!("a path in {error}"))
                .iter()
                .map(|segment| segment.as_str().map_or_else(|| segment.to_string(), str::to_owned))
                .collect();
            path.join(".")
        })
        .collect()
}

#[tokio::test]
async fn a_csm_context_calling_finance_directly_never_receives_money() {
    let finance = spawn_sqlite().await;
    let body = ask(&finance, "csm", MONEY, json!({})).await;
    let invoices = nodes(&body, "invoices");
    for invoice in invoices {
        assert!(invoice["number"].is_string(), "unscoped fields still resolve: {invoice}");
        for field in INVOICE_MONEY {
            assert!(invoice[field].is_null(), "{field} leaked to a csm: {invoice}");
        }
    }
    let accounts = nodes(&body, "customerAccounts");
    for account in accounts {
        assert!(account["name"].is_string());
        assert!(account["openBalance"].is_null(), "openBalance leaked to a csm: {account}");
    }

    let mut denied = unauthorized_paths(&body);
    denied.sort();
    let mut expected: Vec<String> = (0..invoices.len())
        .flat_map(|index| INVOICE_MONEY.map(|field| format!("invoices.nodes.{index}.{field}")))
        .chain((0..accounts.len()).map(|index| format!("customerAccounts.nodes.{index}.openBalance")))
        .collect();
    expected.sort();
    assert_eq!(denied, expected, "one error per denied field, at its path");
}

#[tokio::test]
async fn entity_references_from_a_csm_context_never_receive_money() {
    let finance = spawn_sqlite().await;
    let ridgeline = demo::tenant_by_slug("ridgeline").unwrap();
    let query = "query($representations: [_Any!]!) { _entities(representations: $representations) { \
                 ... on CustomerAccount { name openBalance invoices(first: 1) { nodes { balanceDue } } } } }";
    let variables = json!({ "representations": [
        { "__typename": "CustomerAccount", "id": demo::customer_id(ridgeline, 0) },
    ] });
    let body = ask(&finance, "csm", query, variables).await;
    let account = &body["data"]["_entities"][0];
    assert!(account["name"].is_string(), "{body}");
    assert!(account["openBalance"].is_null(), "{body}");
    assert!(account["invoices"]["nodes"][0]["balanceDue"].is_null(), "{body}");
    // async-graphql puts no list index under `_entities` in any error path.
    let mut denied = unauthorized_paths(&body);
    denied.sort();
    assert_eq!(denied, ["_entities.invoices.nodes.0.balanceDue", "_entities.openBalance"]);
}

#[tokio::test]
async fn finance_and_tenant_admin_contexts_receive_money() {
    let finance = spawn_sqlite().await;
    for role in ["finance", "tenant_admin"] {
        let body = ask(&finance, role, MONEY, json!({})).await;
        assert!(body.get("errors").is_none(), "{role}: {body}");
        for invoice in nodes(&body, "invoices") {
            for field in INVOICE_MONEY {
                assert!(invoice[field].is_string(), "{role}: {field} missing in {invoice}");
            }
        }
        for account in nodes(&body, "customerAccounts") {
            assert!(account["openBalance"].is_string(), "{role}: {account}");
        }
    }
}
