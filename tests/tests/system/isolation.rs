//! Tenant isolation end to end: ids, cursors and aliases naming another tenant's rows,
//! and subgraphs refusing anything but a gateway-signed context.

use atrium_kit::{demo, pagination::encode_cursor};
use atrium_system_tests::{Backend, Stack};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tenants_ids_cursors_and_aliases_reveal_nothing() {
    let stack = Stack::start(Backend::Sqlite).await.expect("sqlite stack");
    let helix = demo::tenant_by_slug("helix").unwrap();
    let helix_customer = demo::customer_id(helix, 0);
    let ridgeline_token = stack.token("ridgeline", &["tenant_admin"]);

    let query = format!(
        "{{ mine: customerAccount(id: \"{helix_customer}\") {{ name }} \
           theirs: customerAccounts(first: 100, after: \"{cursor}\") {{ nodes {{ name }} }} }}",
        cursor = encode_cursor(helix_customer),
    );
    let body = stack.query(&ridgeline_token, &query).await;
    assert_eq!(body["data"]["mine"], json!(null), "{body:#}");
    let helix_names: Vec<&str> = helix.customers.iter().map(|customer| customer.name).collect();
    for node in body["data"]["theirs"]["nodes"].as_array().expect("nodes") {
        assert!(!helix_names.contains(&node["name"].as_str().unwrap()), "{body:#}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_subgraph_refuses_requests_without_a_signed_context() {
    let stack = Stack::start(Backend::Sqlite).await.expect("sqlite stack");
    for (name, url) in &stack.subgraph_urls {
        let response = stack
            .client()
            .post(url)
            .header("content-type", "application/json")
            .header("x-tenant-id", demo::tenant_id("ridgeline").to_string())
            .body(r#"{"query":"{ __typename }"}"#)
            .send()
            .await
            .expect("subgraph answers");
        assert_eq!(response.status().as_u16(), 401, "subgraph {name}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "subgraph {name}");
    }
}
