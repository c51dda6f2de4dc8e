//! Request errors: rejected before execution, without a `data` key.

use serde_json::json;

use super::*;
use crate::engine::{Outcome, codes};

async fn rejected(
    query: &str,
    operation_name: Option<&str>,
    variables: serde_json::Value,
) -> (String, serde_json::Value) {
    let engine = engine(&shop_supergraph());
    let transport = MockTransport::new();
    let mut request = GraphQLRequest::new(query);
    request.operation_name = operation_name.map(str::to_owned);
    if let serde_json::Value::Object(variables) = variables {
        request.variables = variables;
    }
    let response = engine.execute(&request, &transport).await;
    assert_eq!(response.outcome, Outcome::RequestError, "{}", response.body);
    assert!(response.body.get("data").is_none(), "{}", response.body);
    assert!(transport.calls().is_empty());
    let error = response.body["errors"][0].clone();
    (error["extensions"]["code"].as_str().unwrap_or_default().to_owned(), error)
}

#[tokio::test]
async fn rejects_a_document_that_does_not_parse() {
    let (code, error) = rejected("{ me { name }", None, json!({})).await;
    assert_eq!(code, codes::GRAPHQL_PARSE_FAILED);
    assert_eq!(error["locations"][0]["line"], 1);
}

#[tokio::test]
async fn rejects_fields_the_api_schema_does_not_have() {
    let (code, error) = rejected("{ me { password } }", None, json!({})).await;
    assert_eq!(code, codes::GRAPHQL_VALIDATION_FAILED);
    assert!(error["message"].as_str().unwrap_or_default().contains("password"), "{error}");
}

#[tokio::test]
async fn rejects_selections_missing_on_composite_fields() {
    let (code, _) = rejected("{ me }", None, json!({})).await;
    assert_eq!(code, codes::GRAPHQL_VALIDATION_FAILED);
}

#[tokio::test]
async fn rejects_an_unknown_operation_name() {
    let (code, error) = rejected("query A { me { name } }", Some("B"), json!({})).await;
    assert_eq!(code, codes::OPERATION_NAME_INVALID);
    assert_eq!(error["message"], "Unknown operation named \"B\".");
}

#[tokio::test]
async fn requires_an_operation_name_for_documents_with_several_operations() {
    let (code, _) = rejected("query A { me { name } } query B { users { id } }", None, json!({})).await;
    assert_eq!(code, codes::OPERATION_NAME_INVALID);
}

#[tokio::test]
async fn rejects_missing_required_variables() {
    let (code, error) = rejected("query($upc: String!) { product(upc: $upc) { name } }", None, json!({})).await;
    assert_eq!(code, codes::BAD_USER_INPUT);
    assert_eq!(error["message"], "Variable \"$upc\" of required type \"String!\" was not provided.");
}

#[tokio::test]
async fn rejects_variables_of_the_wrong_type() {
    let (code, _) =
        rejected("query($first: Int) { topProducts(first: $first) { name } }", None, json!({ "first": "ten" })).await;
    assert_eq!(code, codes::BAD_USER_INPUT);
}

#[tokio::test]
async fn selects_the_named_operation_of_a_document() {
    let engine = engine(&shop_supergraph());
    let transport = MockTransport::new().on("accounts", |_| json!({ "data": { "me": { "name": "Ada" } } }));
    let request = GraphQLRequest::new("query A { users { id } } query B { me { name } }").with_operation_name("B");

    let response = engine.execute(&request, &transport).await;

    assert_eq!(response.body, json!({ "data": { "me": { "name": "Ada" } } }));
    let prepared = engine.prepare(&request).await.expect("valid operation");
    assert_eq!(prepared.operation_name(), Some("B"));
}

#[tokio::test]
async fn applies_variable_defaults() {
    let engine = engine(&shop_supergraph());
    let transport = MockTransport::new().on("products", |request| {
        assert_eq!(request["variables"], json!({ "first": 2 }));
        json!({ "data": { "topProducts": [] } })
    });

    let response = run(&engine, &transport, "query($first: Int = 2) { topProducts(first: $first) { name } }").await;

    assert_eq!(response.body, json!({ "data": { "topProducts": [] } }));
}

#[tokio::test]
async fn rejects_documents_nested_too_deeply_before_parsing() {
    let query = format!("{}{}", "{ me ".repeat(5000), "}".repeat(5000));
    let (code, _) = rejected(&query, None, json!({})).await;
    assert_eq!(code, codes::MAX_DEPTH_EXCEEDED);
}

#[tokio::test]
async fn does_not_count_brackets_inside_strings_and_comments() {
    let engine = engine(&shop_supergraph());
    let transport = MockTransport::new().on("products", |_| json!({ "data": { "product": null } }));
    let brackets = "{[(".repeat(200);
    let query = format!("# {brackets}\n{{ product(upc: \"{brackets}\") {{ name }} }}");

    let response = run(&engine, &transport, &query).await;

    assert_eq!(response.body, json!({ "data": { "product": null } }));
}
