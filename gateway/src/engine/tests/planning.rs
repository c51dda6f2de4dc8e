//! Plans for representative operations (snapshots) and the plan cache.

use super::*;
use crate::engine::{OperationKind, codes};

async fn plan(query: &str) -> serde_json::Value {
    let engine = engine(&shop_supergraph());
    engine.prepare(&GraphQLRequest::new(query)).await.expect("operation plans").plan_json()
}

#[tokio::test]
async fn plans_an_entity_jump_with_requires() {
    insta::assert_json_snapshot!(plan("{ topProducts { name shippingEstimate } }").await);
}

#[tokio::test]
async fn plans_nested_entity_jumps_and_conditions() {
    insta::assert_json_snapshot!(
        plan(
            "query($withAuthors: Boolean!) { users { name reviews { body product { name } author @include(if: $withAuthors) { username } } } }"
        )
        .await
    );
}

#[tokio::test]
async fn plans_independent_root_fields_in_parallel() {
    let plan = plan("{ me { name } topProducts { name } }").await;
    assert_eq!(plan["kind"], "Parallel");
    assert_eq!(plan["nodes"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn prepares_an_operation_once_and_serves_it_from_the_cache() {
    let engine = engine(&shop_supergraph());
    let request = GraphQLRequest::new("{ me { name } }");

    let first = engine.prepare(&request).await.expect("operation plans");
    let second = engine.prepare(&request).await.expect("operation plans");

    assert!(Arc::ptr_eq(&first, &second));
    assert_eq!(first.kind(), OperationKind::Query);

    let other_name = engine.prepare(&request.clone().with_operation_name("Other")).await;
    assert_eq!(other_name.map(|_| ()).map_err(|e| e.code), Err(codes::OPERATION_NAME_INVALID));
}

#[tokio::test]
async fn does_not_plan_introspection_only_operations() {
    let engine =
        engine_with(&shop_supergraph(), EngineOptions { allow_introspection: true, ..EngineOptions::default() });
    let prepared = engine
        .prepare(&GraphQLRequest::new("{ __typename __type(name: \"User\") { name } }"))
        .await
        .expect("operation prepares");
    assert_eq!(prepared.plan_json(), serde_json::Value::Null);
}

#[tokio::test]
async fn prepares_subscriptions_but_does_not_execute_them() {
    let engine = engine(&shop_supergraph());
    let query = "subscription { reviewAdded { body } }";
    let prepared = engine.prepare(&GraphQLRequest::new(query)).await.expect("subscription validates");
    assert_eq!(prepared.kind(), OperationKind::Subscription);

    let transport = MockTransport::new();
    let response = run(&engine, &transport, query).await;
    assert_eq!(response.outcome, crate::engine::Outcome::RequestError);
    assert_eq!(response.body["errors"][0]["extensions"]["code"], codes::SUBSCRIPTIONS_NOT_SUPPORTED);
    assert!(transport.calls().is_empty());
}

#[test]
fn lists_subgraphs_and_prints_the_api_schema() {
    let supergraph = Supergraph::from_sdl(&shop_supergraph()).expect("valid supergraph");
    let subgraphs: Vec<(&str, &str)> = supergraph.subgraphs().collect();
    assert_eq!(
        subgraphs,
        [
            ("accounts", "http://accounts"),
            ("inventory", "http://inventory"),
            ("products", "http://products"),
            ("reviews", "http://reviews"),
        ]
    );
    let sdl = supergraph.api_schema_sdl();
    assert!(sdl.contains("type User"), "{sdl}");
    assert!(!sdl.contains("join__"), "{sdl}");
    assert!(!sdl.contains("__Schema"), "{sdl}");
    assert!(!sdl.contains("__schema"), "{sdl}");
    let again = Supergraph::from_sdl(&shop_supergraph()).expect("valid supergraph");
    assert_eq!(supergraph.hash(), again.hash());
}

#[test]
fn rejects_a_supergraph_that_does_not_parse() {
    assert!(matches!(Supergraph::from_sdl("type Query {"), Err(crate::engine::EngineError::SupergraphParse(_))));
    assert!(matches!(
        Supergraph::from_sdl("type Query { a: String }"),
        Err(crate::engine::EngineError::InvalidSupergraph(_))
    ));
}

#[tokio::test]
async fn plans_differently_required_entity_fields_as_a_batch_fetch() {
    let engine = engine(&pricing_supergraph());
    let plan = engine
        .prepare(&GraphQLRequest::new("{ items { isExpensive isBargain } }"))
        .await
        .expect("operation plans")
        .plan_json();
    insta::assert_json_snapshot!(plan);
}

#[test]
fn prints_only_the_root_types_that_exist() {
    let supergraph = Supergraph::from_sdl(&directory_supergraph()).expect("valid supergraph");
    let sdl = supergraph.api_schema_sdl();
    assert!(sdl.contains("interface Member"), "{sdl}");
    assert!(!sdl.contains("Mutation"), "{sdl}");
}
