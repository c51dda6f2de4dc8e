//! Root fetches: a single subgraph, parallel subgraphs, variables forwarding,
//! mutations in sequence and `@include`/`@skip` conditions.

use std::time::Duration;

use serde_json::json;
use tokio::sync::Barrier;

use super::*;
use crate::engine::Outcome;

#[tokio::test]
async fn fetches_root_fields_from_a_single_subgraph() {
    let engine = engine(&shop_supergraph());
    let transport = MockTransport::new().on("accounts", |request| {
        assert_eq!(query_of(request), "{me{name id}}");
        json!({ "data": { "me": { "id": "1", "name": "Ada" } } })
    });

    let response = run(&engine, &transport, "{ me { name id } }").await;

    assert_eq!(response.outcome, Outcome::Success);
    assert_eq!(response.body, json!({ "data": { "me": { "name": "Ada", "id": "1" } } }));
    // The client's order is kept, not the subgraph's.
    let keys: Vec<&String> = response.body["data"]["me"].as_object().map(|me| me.keys().collect()).unwrap_or_default();
    assert_eq!(keys, ["name", "id"]);
    assert_eq!(transport.calls().len(), 1);
}

#[tokio::test]
async fn fetches_independent_subgraphs_in_parallel() {
    let engine = engine(&shop_supergraph());
    // Each handler waits until both requests are in flight; sequential
    // execution would never get past the barrier.
    let barrier = Arc::new(Barrier::new(2));
    let accounts_barrier = Arc::clone(&barrier);
    let transport = MockTransport::new()
        .on_async("accounts", move |_| {
            let barrier = Arc::clone(&accounts_barrier);
            async move {
                barrier.wait().await;
                Ok(json!({ "data": { "me": { "name": "Ada" } } }))
            }
        })
        .on_async("products", move |_| {
            let barrier = Arc::clone(&barrier);
            async move {
                barrier.wait().await;
                Ok(json!({ "data": { "topProducts": [{ "name": "Table" }] } }))
            }
        });

    let response =
        tokio::time::timeout(Duration::from_secs(5), run(&engine, &transport, "{ me { name } topProducts { name } }"))
            .await
            .expect("both subgraph requests must be in flight at the same time");

    assert_eq!(response.body, json!({ "data": { "me": { "name": "Ada" }, "topProducts": [{ "name": "Table" }] } }));
}

#[tokio::test]
async fn forwards_only_the_variables_a_fetch_uses() {
    let engine = engine(&shop_supergraph());
    let transport = MockTransport::new()
        .on("products", |request| {
            assert_eq!(request["variables"], json!({ "upc": "p1" }));
            json!({ "data": { "product": { "name": "Table" } } })
        })
        .on("accounts", |request| {
            assert!(request.get("variables").is_none(), "{request}");
            json!({ "data": { "me": { "name": "Ada" } } })
        });

    let response = run_with(
        &engine,
        &transport,
        "query($upc: String!) { product(upc: $upc) { name } me { name } }",
        json!({ "upc": "p1", "notDeclared": true }),
    )
    .await;

    assert_eq!(response.body, json!({ "data": { "product": { "name": "Table" }, "me": { "name": "Ada" } } }));
}

#[tokio::test]
async fn runs_mutation_fields_in_order() {
    let engine = engine(&shop_supergraph());
    let transport = MockTransport::new()
        .on("accounts", |_| json!({ "data": { "rename": { "name": "Grace" } } }))
        .on("reviews", |_| json!({ "data": { "addReview": { "body": "Great" } } }));

    let response = run(
        &engine,
        &transport,
        r#"mutation { rename(name: "Grace") { name } addReview(upc: "p1", body: "Great") { body } }"#,
    )
    .await;

    assert_eq!(response.body, json!({ "data": { "rename": { "name": "Grace" }, "addReview": { "body": "Great" } } }));
    let order: Vec<String> = transport.calls().into_iter().map(|(name, _)| name).collect();
    assert_eq!(order, ["accounts", "reviews"]);
}

#[tokio::test]
async fn skips_fetches_and_fields_excluded_by_variables() {
    let engine = engine(&shop_supergraph());
    let transport = MockTransport::new()
        .on(
            "products",
            |_| json!({ "data": { "topProducts": [{ "__typename": "Product", "upc": "p1", "name": "Table" }] } }),
        )
        .on("reviews", |request| entities(request, |_| json!({ "reviews": [{ "body": "Sturdy" }] })));
    let query = "query($withReviews: Boolean!) { topProducts { name reviews @include(if: $withReviews) { body } } }";

    let without = run_with(&engine, &transport, query, json!({ "withReviews": false })).await;
    assert_eq!(without.body, json!({ "data": { "topProducts": [{ "name": "Table" }] } }));
    assert!(transport.calls_to("reviews").is_empty());

    let with = run_with(&engine, &transport, query, json!({ "withReviews": true })).await;
    assert_eq!(
        with.body,
        json!({ "data": { "topProducts": [{ "name": "Table", "reviews": [{ "body": "Sturdy" }] }] } })
    );
    assert_eq!(transport.calls_to("reviews").len(), 1);
}

#[tokio::test]
async fn runs_the_else_branch_of_a_skip_condition() {
    let engine = engine(&shop_supergraph());
    let transport = MockTransport::new()
        .on(
            "products",
            |_| json!({ "data": { "topProducts": [{ "__typename": "Product", "upc": "p1", "name": "Table" }] } }),
        )
        .on("reviews", |request| entities(request, |_| json!({ "reviews": [] })));
    let query = "query($brief: Boolean!) { topProducts { name reviews @skip(if: $brief) { body } } }";

    let brief = run_with(&engine, &transport, query, json!({ "brief": true })).await;
    assert_eq!(brief.body, json!({ "data": { "topProducts": [{ "name": "Table" }] } }));
    assert!(transport.calls_to("reviews").is_empty());

    let full = run_with(&engine, &transport, query, json!({ "brief": false })).await;
    assert_eq!(full.body, json!({ "data": { "topProducts": [{ "name": "Table", "reviews": [] }] } }));
    assert_eq!(transport.calls_to("reviews").len(), 1);
}

#[tokio::test]
async fn answers_root_typename_without_calling_subgraphs() {
    let engine = engine(&shop_supergraph());
    let transport = MockTransport::new();

    let response = run(&engine, &transport, "{ __typename t: __typename }").await;

    assert_eq!(response.body, json!({ "data": { "__typename": "Query", "t": "Query" } }));
    assert!(transport.calls().is_empty());
}
