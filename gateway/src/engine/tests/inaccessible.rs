//! Subgraph answers the API schema cannot represent: enum values and runtime
//! object types that are `@inaccessible` become field errors (null, propagating
//! like any other), while `@requires` still sees the subgraph's full answer.

use serde_json::json;

use super::*;
use crate::engine::{Outcome, codes};

/// accounts lists users whose kind may be an `@inaccessible` enum value;
/// content resolves `Entity.data` (a `Foo`, possibly an `@inaccessible` `Baz`)
/// and compute requires `data` through nested fragments to derive `requirer`.
fn hidden_supergraph() -> String {
    format!(
        "{JOIN_HEADER}{}",
        r#"
schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)
  @link(url: "https://specs.apollo.dev/inaccessible/v0.2", for: SECURITY) {
  query: Query
}

directive @inaccessible on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION

enum join__Graph {
  ACCOUNTS @join__graph(name: "accounts", url: "http://accounts")
  COMPUTE @join__graph(name: "compute", url: "http://compute")
  CONTENT @join__graph(name: "content", url: "http://content")
}

type Query @join__type(graph: ACCOUNTS) @join__type(graph: COMPUTE) @join__type(graph: CONTENT) {
  users: [User] @join__field(graph: ACCOUNTS)
  entities: [Entity!]! @join__field(graph: COMPUTE)
}

type User @join__type(graph: ACCOUNTS, key: "id") {
  id: ID!
  kind: UserKind
  kinds: [UserKind!]
}

enum UserKind @join__type(graph: ACCOUNTS) {
  REGULAR @join__enumValue(graph: ACCOUNTS)
  ANONYMOUS @inaccessible @join__enumValue(graph: ACCOUNTS)
}

type Entity @join__type(graph: COMPUTE, key: "id") @join__type(graph: CONTENT, key: "id") {
  id: ID!
  data: Foo @join__field(graph: COMPUTE, external: true) @join__field(graph: CONTENT)
  requirer: String! @join__field(graph: COMPUTE, requires: "data { foo ... on Bar { bar ... on Baz { baz } ... on Qux { qux } } }")
}

interface Foo @join__type(graph: COMPUTE) @join__type(graph: CONTENT) {
  foo: String!
}

interface Bar implements Foo
  @join__implements(graph: COMPUTE, interface: "Foo")
  @join__implements(graph: CONTENT, interface: "Foo")
  @join__type(graph: COMPUTE)
  @join__type(graph: CONTENT)
{
  foo: String!
  bar: String!
}

type Baz implements Foo & Bar
  @join__implements(graph: COMPUTE, interface: "Foo")
  @join__implements(graph: COMPUTE, interface: "Bar")
  @join__implements(graph: CONTENT, interface: "Foo")
  @join__implements(graph: CONTENT, interface: "Bar")
  @join__type(graph: COMPUTE)
  @join__type(graph: CONTENT)
  @inaccessible
{
  foo: String!
  bar: String!
  baz: String!
}

type Qux implements Foo & Bar
  @join__implements(graph: COMPUTE, interface: "Foo")
  @join__implements(graph: COMPUTE, interface: "Bar")
  @join__implements(graph: CONTENT, interface: "Foo")
  @join__implements(graph: CONTENT, interface: "Bar")
  @join__type(graph: COMPUTE)
  @join__type(graph: CONTENT)
{
  foo: String!
  bar: String!
  qux: String!
}
"#
    )
}

#[tokio::test]
async fn answers_null_and_an_error_for_enum_values_the_api_schema_does_not_have() {
    let engine = engine(&hidden_supergraph());
    let transport = MockTransport::new().on("accounts", |_| {
        json!({ "data": { "users": [
            { "id": "u1", "kind": "REGULAR", "kinds": ["REGULAR"] },
            { "id": "u2", "kind": "ANONYMOUS", "kinds": ["REGULAR", "ANONYMOUS"] }
        ] } })
    });

    let response = run(&engine, &transport, "{ users { id kind kinds } }").await;

    assert_eq!(response.outcome, Outcome::PartialSuccess);
    assert_eq!(
        response.body,
        json!({
            "data": { "users": [
                { "id": "u1", "kind": "REGULAR", "kinds": ["REGULAR"] },
                // A bad item of `[UserKind!]` nulls the whole (nullable) list.
                { "id": "u2", "kind": null, "kinds": null }
            ] },
            "errors": [
                {
                    "message": "Enum \"UserKind\" cannot represent value: \"ANONYMOUS\"",
                    "path": ["users", 1, "kind"],
                    "extensions": { "code": codes::UNREPRESENTABLE_VALUE }
                },
                {
                    "message": "Enum \"UserKind\" cannot represent value: \"ANONYMOUS\"",
                    "path": ["users", 1, "kinds", 1],
                    "extensions": { "code": codes::UNREPRESENTABLE_VALUE }
                }
            ]
        })
    );
}

#[tokio::test]
async fn answers_null_for_an_abstract_value_of_an_inaccessible_type_but_requires_it_in_full() {
    let engine = engine(&hidden_supergraph());
    let transport = MockTransport::new()
        .on("compute", |request| {
            if query_of(request).contains("_entities") {
                entities(request, |rep| {
                    json!({ "requirer": format!("{}_requirer", rep["data"]["foo"].as_str().unwrap_or_default()) })
                })
            } else {
                json!({ "data": { "entities": [
                    { "__typename": "Entity", "id": "e1" },
                    { "__typename": "Entity", "id": "e2" }
                ] } })
            }
        })
        .on("content", |request| {
            entities(request, |rep| match rep["id"].as_str() {
                Some("e1") => json!({ "data": { "__typename": "Baz", "foo": "b1-foo", "bar": "b1-bar", "baz": "b1-baz" } }),
                _ => json!({ "data": { "__typename": "Qux", "foo": "q1-foo", "bar": "q1-bar", "qux": "q1-qux" } }),
            })
        });

    let query = "{ entities { id data { __typename foo } requirer } }";
    let plan = engine.prepare(&GraphQLRequest::new(query)).await.expect("operation plans").plan_json();
    assert_eq!(
        plan["nodes"][2]["node"]["requires"],
        "{... on Entity {__typename data {foo ... on Baz {bar baz} ... on Qux {bar qux}} id}}",
        "the requires selection keeps the fragment on the inaccessible type: {plan}"
    );

    let response = run(&engine, &transport, query).await;

    assert_eq!(
        response.body,
        json!({
            "data": { "entities": [
                { "id": "e1", "data": null, "requirer": "b1-foo_requirer" },
                { "id": "e2", "data": { "__typename": "Qux", "foo": "q1-foo" }, "requirer": "q1-foo_requirer" }
            ] },
            "errors": [{
                "message": "Abstract type \"Foo\" was resolved to a type \"Baz\" that does not exist inside the schema.",
                "path": ["entities", 0, "data"],
                "extensions": { "code": codes::UNREPRESENTABLE_VALUE }
            }]
        })
    );
    let requires_call =
        transport.calls_to("compute").into_iter().find(|call| query_of(call).contains("_entities")).expect("requires");
    assert_eq!(
        representations(&requires_call),
        [
            json!({ "__typename": "Entity", "data": { "foo": "b1-foo", "bar": "b1-bar", "baz": "b1-baz" }, "id": "e1" }),
            json!({ "__typename": "Entity", "data": { "foo": "q1-foo", "bar": "q1-bar", "qux": "q1-qux" }, "id": "e2" })
        ],
        "the inaccessible type's fields still reach the subgraph that requires them"
    );
}

#[tokio::test]
async fn answers_an_interface_object_value_without_a_concrete_typename_from_the_interface() {
    let engine = engine(&directory_supergraph());
    let transport = MockTransport::new()
        .on("billing", |_| {
            json!({ "data": { "debtors": [
                { "__typename": "Member", "id": "1", "balance": -5 },
                { "__typename": "Member", "id": "2", "balance": -1 }
            ] } })
        })
        .on("people", |request| {
            entities(request, |rep| json!({ "name": format!("member {}", rep["id"].as_str().unwrap_or_default()) }))
        });

    let response = run(&engine, &transport, "{ debtors { id name balance } }").await;

    // Nothing asked for the concrete type, so the plan never learns it: the
    // interface's name is not a type the client cannot see.
    assert_eq!(
        response.body,
        json!({ "data": { "debtors": [
            { "id": "1", "name": "member 1", "balance": -5 },
            { "id": "2", "name": "member 2", "balance": -1 }
        ] } })
    );
    assert_eq!(
        representations(&transport.calls_to("people")[0]),
        [json!({ "__typename": "Member", "id": "1" }), json!({ "__typename": "Member", "id": "2" })]
    );
}
