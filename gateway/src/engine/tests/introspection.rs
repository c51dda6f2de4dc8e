//! Introspection: `__schema`/`__type` from the API schema, and the option that
//! disables it.

use serde_json::json;

use super::*;
use crate::engine::{Outcome, codes};

fn introspecting_engine() -> Engine {
    engine_with(&shop_supergraph(), EngineOptions { allow_introspection: true, ..EngineOptions::default() })
}

#[tokio::test]
async fn rejects_introspection_when_disabled() {
    let engine = engine(&shop_supergraph());
    let response = run(&engine, &MockTransport::new(), "{ __schema { queryType { name } } }").await;
    assert_eq!(response.outcome, Outcome::RequestError);
    assert_eq!(response.body["errors"][0]["extensions"]["code"], codes::INTROSPECTION_DISABLED);
}

#[tokio::test]
async fn answers_type_introspection() {
    let engine = introspecting_engine();
    let response = run(
        &engine,
        &MockTransport::new(),
        r#"{
          __type(name: "Product") {
            kind name
            fields { name type { kind name ofType { kind name } } }
          }
          missing: __type(name: "Nope") { name }
        }"#,
    )
    .await;

    let fields = &response.body["data"]["__type"]["fields"];
    assert_eq!(response.body["data"]["__type"]["kind"], "OBJECT");
    assert_eq!(response.body["data"]["missing"], json!(null));
    assert_eq!(
        fields[0],
        json!({ "name": "upc", "type": { "kind": "NON_NULL", "name": null, "ofType": { "kind": "SCALAR", "name": "String" } } })
    );
    let names: Vec<&str> =
        fields.as_array().map(|f| f.iter().filter_map(|f| f["name"].as_str()).collect()).unwrap_or_default();
    assert_eq!(names, ["upc", "name", "price", "weight", "inStock", "shippingEstimate", "reviews"]);
}

#[tokio::test]
async fn answers_schema_introspection_alongside_subgraph_fields() {
    let engine = introspecting_engine();
    let transport = MockTransport::new().on("accounts", |_| json!({ "data": { "me": { "name": "Ada" } } }));
    let response = run(
        &engine,
        &transport,
        r#"{
          me { name }
          __schema {
            queryType { name }
            mutationType { name }
            subscriptionType { name }
            types { name kind possibleTypes { name } }
            directives { name locations args { name defaultValue } }
          }
        }"#,
    )
    .await;

    let schema = &response.body["data"]["__schema"];
    assert_eq!(response.body["data"]["me"], json!({ "name": "Ada" }));
    assert_eq!(schema["queryType"], json!({ "name": "Query" }));
    assert_eq!(schema["mutationType"], json!({ "name": "Mutation" }));
    assert_eq!(schema["subscriptionType"], json!({ "name": "Subscription" }));
    let types = schema["types"].as_array().cloned().unwrap_or_default();
    let media = types.iter().find(|t| t["name"] == "Media").cloned();
    assert_eq!(
        media,
        Some(
            json!({ "name": "Media", "kind": "INTERFACE", "possibleTypes": [{ "name": "Book" }, { "name": "Movie" }] })
        )
    );
    assert!(types.iter().all(|t| !t["name"].as_str().unwrap_or_default().starts_with("join__")));
    assert!(types.iter().any(|t| t["name"] == "__Schema"));
    let directives = schema["directives"].as_array().cloned().unwrap_or_default();
    assert!(directives.iter().any(|d| d["name"] == "include"));
    assert_eq!(transport.calls().len(), 1);
}

#[tokio::test]
async fn answers_the_graphiql_introspection_query() {
    let engine = introspecting_engine();
    let response = run(&engine, &MockTransport::new(), INTROSPECTION_QUERY).await;
    assert_eq!(response.outcome, Outcome::Success, "{}", response.body);
    let types = response.body["data"]["__schema"]["types"].as_array().map(Vec::len).unwrap_or_default();
    assert!(types > 10);
}

const INTROSPECTION_QUERY: &str = r#"
query IntrospectionQuery {
  __schema {
    queryType { name }
    mutationType { name }
    subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) {
    name description
    args { ...InputValue }
    type { ...TypeRef }
    isDeprecated deprecationReason
  }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}
"#;
