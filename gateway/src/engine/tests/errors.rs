//! Subgraph errors: path rewriting, `serviceName`, and failed requests.

use serde_json::json;

use super::*;
use crate::engine::Outcome;

fn two_products() -> serde_json::Value {
    json!({ "data": { "topProducts": [
        { "__typename": "Product", "upc": "p1", "name": "Table" },
        { "__typename": "Product", "upc": "p2", "name": "Chair" }
    ] } })
}

#[tokio::test]
async fn rewrites_entity_error_paths_to_response_positions() {
    let engine = engine(&shop_supergraph());
    let transport = MockTransport::new().on("products", |_| two_products()).on("inventory", |_| {
        json!({
            "data": { "_entities": [{ "inStock": true }, { "inStock": null }] },
            "errors": [{
                "message": "warehouse offline",
                "path": ["_entities", 1, "inStock"],
                "locations": [{ "line": 1, "column": 70 }],
                "extensions": { "code": "WAREHOUSE_DOWN" }
            }]
        })
    });

    let response = run(&engine, &transport, "{ topProducts { name inStock } }").await;

    assert_eq!(response.outcome, Outcome::PartialSuccess);
    assert_eq!(
        response.body,
        json!({
            "data": { "topProducts": [
                { "name": "Table", "inStock": true },
                { "name": "Chair", "inStock": null }
            ] },
            "errors": [{
                "message": "warehouse offline",
                "path": ["topProducts", 1, "inStock"],
                "extensions": { "code": "WAREHOUSE_DOWN", "serviceName": "inventory" }
            }]
        })
    );
}

#[tokio::test]
async fn reports_a_failed_subgraph_request_and_keeps_partial_data() {
    let engine = engine(&shop_supergraph());
    let transport = MockTransport::new()
        .on("products", |_| two_products())
        .on_async("inventory", |_| async { Err(TransportError::new("connection refused")) });

    let response = run(&engine, &transport, "{ topProducts { name inStock } }").await;

    assert_eq!(response.outcome, Outcome::PartialSuccess);
    assert_eq!(
        response.body,
        json!({
            "data": { "topProducts": [
                { "name": "Table", "inStock": null },
                { "name": "Chair", "inStock": null }
            ] },
            "errors": [{
                "message": "Request to subgraph \"inventory\" failed",
                "extensions": { "code": "SUBGRAPH_REQUEST_FAILED", "serviceName": "inventory" }
            }]
        })
    );
}

#[tokio::test]
async fn treats_a_non_json_reply_as_a_failed_request() {
    let engine = engine(&shop_supergraph());

    struct Garbage;
    impl SubgraphTransport for Garbage {
        fn fetch<'a>(&'a self, _subgraph: &'a str, _body: Bytes) -> BoxFuture<'a, Result<Bytes, TransportError>> {
            async { Ok(Bytes::from_static(b"<html>502</html>")) }.boxed()
        }
    }

    let response = engine.execute(&GraphQLRequest::new("{ me { name } }"), &Garbage).await;

    assert_eq!(
        response.body,
        json!({
            "data": { "me": null },
            "errors": [{
                "message": "Subgraph \"accounts\" returned an invalid response",
                "extensions": { "code": "SUBGRAPH_REQUEST_FAILED", "serviceName": "accounts" }
            }]
        })
    );
}

#[tokio::test]
async fn a_failed_fetch_of_non_null_fields_nulls_their_parents() {
    let engine = engine(&shop_supergraph());
    let transport = MockTransport::new()
        .on("products", |_| two_products())
        .on_async("reviews", |_| async { Err(TransportError::new("timeout")) });

    let response =
        run(&engine, &transport, "{ product(upc: \"p1\") { name } topProducts { name reviews { body } } }").await;

    // `reviews: [Review!]!` inside `[Product!]!`: the null reaches `data`.
    assert_eq!(response.body["data"], json!(null));
    let errors = response.body["errors"].as_array().cloned().unwrap_or_default();
    assert_eq!(errors[0]["extensions"]["code"], "SUBGRAPH_REQUEST_FAILED");
    assert_eq!(errors[1]["path"], json!(["topProducts", 0, "reviews"]));
    assert_eq!(errors.len(), 2);
}

#[tokio::test]
async fn keeps_root_fetch_errors_with_their_paths() {
    let engine = engine(&shop_supergraph());
    let transport = MockTransport::new().on("accounts", |_| {
        json!({
            "data": { "me": null },
            "errors": [{ "message": "not signed in", "path": ["me"], "extensions": { "code": "UNAUTHENTICATED" } }]
        })
    });

    let response = run(&engine, &transport, "{ me { name } }").await;

    assert_eq!(
        response.body,
        json!({
            "data": { "me": null },
            "errors": [{
                "message": "not signed in",
                "path": ["me"],
                "extensions": { "code": "UNAUTHENTICATED", "serviceName": "accounts" }
            }]
        })
    );
}
