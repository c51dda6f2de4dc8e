//! Cursor pagination of root and nested lists: `first`/`after` walk the whole list
//! without gaps or repeats, and out-of-range page sizes are client errors.

use atrium_kit::{demo, testing};
use serde_json::json;

use crate::helpers::{spawn_sqlite, strings};

#[tokio::test]
async fn walks_all_customer_accounts_page_by_page() {
    let finance = spawn_sqlite().await;
    let query = "query($after: String) { customerAccounts(first: 5, after: $after) { nodes { name } \
                 pageInfo { hasNextPage endCursor } } }";
    let mut names = Vec::new();
    let mut after = serde_json::Value::Null;
    let mut pages = 0;
    loop {
        let data = finance.data("ridgeline", query, json!({ "after": after })).await;
        let connection = &data["customerAccounts"];
        names.extend(strings(connection, "name"));
        pages += 1;
        if connection["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = connection["pageInfo"]["endCursor"].clone();
    }
    let roster: Vec<&str> = demo::tenant_by_slug("ridgeline").unwrap().customers.iter().map(|c| c.name).collect();
    assert_eq!(names, roster);
    assert_eq!(pages, 3);
}

#[tokio::test]
async fn pages_a_customers_invoices_and_filters_them_by_status() {
    let finance = spawn_sqlite().await;
    let lakeshore = demo::customer_id(demo::tenant_by_slug("ridgeline").unwrap(), 1);
    let query = "query($id: ID!, $after: String) { customerAccount(id: $id) { \
                 all: invoices(first: 100) { nodes { number } } \
                 page: invoices(first: 2, after: $after) { nodes { number } pageInfo { hasNextPage endCursor } } \
                 open: invoices(status: [ISSUED, DISPUTED]) { nodes { status } } } }";
    let first = finance.data("ridgeline", query, json!({ "id": lakeshore, "after": null })).await;
    let all = strings(&first["customerAccount"]["all"], "number");
    assert_eq!(strings(&first["customerAccount"]["page"], "number"), all[..2]);
    assert_eq!(first["customerAccount"]["page"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(first["customerAccount"]["open"]["nodes"].as_array().unwrap().len(), 3);

    let cursor = first["customerAccount"]["page"]["pageInfo"]["endCursor"].clone();
    let second = finance.data("ridgeline", query, json!({ "id": lakeshore, "after": cursor })).await;
    assert_eq!(strings(&second["customerAccount"]["page"], "number"), all[2..4]);
}

#[tokio::test]
async fn rejects_a_page_size_of_zero_with_bad_user_input() {
    let finance = spawn_sqlite().await;
    let context = testing::context_for("ridgeline", "finance");
    for query in [
        "{ customerAccounts(first: 0) { nodes { name } } }",
        "{ invoices(first: 0) { nodes { number } } }",
        "{ customerAccounts(first: 1) { nodes { invoices(first: 0) { nodes { number } } } } }",
        "{ customerAccounts(first: 1, after: \"garbage\") { nodes { name } } }",
    ] {
        // A valid request whose resolver rejects an argument is an execution result: 200.
        let (status, body) = finance.query(Some(&context), query, json!({})).await;
        assert_eq!(status, 200, "{query}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{query}: {body}");
    }
}
