//! Response projection: aliases, fragments on abstract types, `__typename`
//! and null propagation.

use serde_json::json;

use super::*;
use crate::engine::Outcome;

#[tokio::test]
async fn applies_aliases_and_fragments_on_interfaces_and_unions() {
    let engine = engine(&shop_supergraph());
    let transport = MockTransport::new().on("products", |_| {
        json!({ "data": {
            "search": [
                { "__typename": "Book", "t": "Dune", "pages": 412 },
                { "__typename": "Movie", "title": "Alien" }
            ],
            "media": [
                { "id": "b1", "__typename": "Book" },
                { "id": "m1", "__typename": "Movie", "minutes": 117 }
            ]
        } })
    });

    let response = run(
        &engine,
        &transport,
        r#"
        query Shelf {
          search(term: "x") { __typename ... on Book { t: title pages } ... on Movie { title } }
          media { ...MediaFields kind: __typename }
        }
        fragment MediaFields on Media { id ... on Movie { minutes } }
        "#,
    )
    .await;

    assert_eq!(
        response.body,
        json!({ "data": {
            "search": [
                { "__typename": "Book", "t": "Dune", "pages": 412 },
                { "__typename": "Movie", "title": "Alien" }
            ],
            "media": [
                { "id": "b1", "kind": "Book" },
                { "id": "m1", "minutes": 117, "kind": "Movie" }
            ]
        } })
    );
}

#[tokio::test]
async fn nulls_the_nullable_parent_of_a_null_non_null_field() {
    let engine = engine(&shop_supergraph());
    let transport = MockTransport::new().on("accounts", |_| json!({ "data": { "me": { "id": "1", "name": null } } }));

    let response = run(&engine, &transport, "{ me { id name } }").await;

    assert_eq!(response.outcome, Outcome::PartialSuccess);
    assert_eq!(
        response.body,
        json!({
            "data": { "me": null },
            "errors": [{
                "message": "Cannot return null for non-nullable field User.name.",
                "path": ["me", "name"],
                "extensions": { "code": "NON_NULL_VIOLATION" }
            }]
        })
    );
}

#[tokio::test]
async fn propagates_null_up_to_data_when_every_parent_is_non_null() {
    let engine = engine(&shop_supergraph());
    let transport =
        MockTransport::new().on("accounts", |_| json!({ "data": { "users": [{ "name": "Ada" }, { "name": null }] } }));

    let response = run(&engine, &transport, "{ users { name } }").await;

    assert_eq!(
        response.body,
        json!({
            "data": null,
            "errors": [{
                "message": "Cannot return null for non-nullable field User.name.",
                "path": ["users", 1, "name"],
                "extensions": { "code": "NON_NULL_VIOLATION" }
            }]
        })
    );
}

#[tokio::test]
async fn does_not_duplicate_an_error_the_subgraph_already_reported() {
    let engine = engine(&shop_supergraph());
    let transport = MockTransport::new().on("accounts", |_| {
        json!({
            "data": { "me": { "id": "1", "name": null } },
            "errors": [{ "message": "name is private", "path": ["me", "name"] }]
        })
    });

    let response = run(&engine, &transport, "{ me { id name } }").await;

    assert_eq!(
        response.body,
        json!({
            "data": { "me": null },
            "errors": [{
                "message": "name is private",
                "path": ["me", "name"],
                "extensions": { "code": "DOWNSTREAM_SERVICE_ERROR", "serviceName": "accounts" }
            }]
        })
    );
}

#[tokio::test]
async fn answers_typename_on_nested_objects_from_the_schema() {
    let engine = engine(&shop_supergraph());
    let transport = MockTransport::new().on("accounts", |_| json!({ "data": { "me": { "name": "Ada" } } }));

    let response = run(&engine, &transport, "{ me { __typename name } }").await;

    assert_eq!(response.body, json!({ "data": { "me": { "__typename": "User", "name": "Ada" } } }));
}

#[tokio::test]
async fn excludes_fragments_skipped_by_variables() {
    let engine = engine(&shop_supergraph());
    let transport = MockTransport::new()
        .on("accounts", |_| json!({ "data": { "me": { "id": "1", "name": "Ada", "username": "ada" } } }));
    let query = r#"
        query($brief: Boolean!) {
          me { id ... @skip(if: $brief) { name username } ...Names @include(if: $brief) }
        }
        fragment Names on User { name }
    "#;

    let brief = run_with(&engine, &transport, query, json!({ "brief": true })).await;
    assert_eq!(brief.body, json!({ "data": { "me": { "id": "1", "name": "Ada" } } }));

    let full = run_with(&engine, &transport, query, json!({ "brief": false })).await;
    assert_eq!(full.body, json!({ "data": { "me": { "id": "1", "name": "Ada", "username": "ada" } } }));
}
