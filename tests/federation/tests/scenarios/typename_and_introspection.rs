//! `__typename` at every level (aliased, on entities fetched from another subgraph, alone
//! at the root) and introspection answered by the gateway from the API schema.

use serde_json::{Value, json};

use super::{assert_cases, composed, subgraph};

mod products {
    use async_graphql::{Object, SimpleObject};

    #[derive(SimpleObject)]
    pub struct Product {
        pub upc: String,
        pub name: String,
    }

    pub struct Query;

    #[Object]
    impl Query {
        async fn products(&self) -> Vec<Product> {
            vec![Product { upc: "1".into(), name: "Table".into() }]
        }

        #[graphql(entity)]
        async fn product_by_upc(&self, upc: String) -> Product {
            Product { name: format!("product {upc}"), upc }
        }
    }
}

mod reviews {
    use async_graphql::{Object, SimpleObject};

    #[derive(SimpleObject)]
    pub struct Review {
        pub stars: i32,
    }

    #[derive(SimpleObject)]
    pub struct Product {
        pub upc: String,
        pub reviews: Vec<Review>,
    }

    pub struct Query;

    #[Object]
    impl Query {
        #[graphql(entity)]
        async fn product_by_upc(&self, upc: String) -> Product {
            Product { upc, reviews: vec![Review { stars: 5 }] }
        }
    }
}

async fn scenario() -> atrium_federation_tests::Scenario {
    composed(vec![subgraph("products", products::Query), subgraph("reviews", reviews::Query)]).await
}

#[tokio::test]
async fn typename_is_answered_at_every_level_and_under_aliases() {
    let scenario = scenario().await;
    assert_cases(
        &scenario,
        &[
            ("typename_alone_at_the_root", "{ __typename }"),
            ("typename_aliased_next_to_data", "{ kind: __typename products { __typename upc } }"),
            (
                "typename_on_objects_from_another_subgraph",
                "{ products { reviews { __typename stars } t: __typename } }",
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn introspection_is_answered_from_the_api_schema_without_calling_subgraphs() {
    let scenario = scenario().await;
    assert_cases(
        &scenario,
        &[
            ("introspection_of_the_root_types", "{ __schema { queryType { name } mutationType { name } } }"),
            (
                "introspection_of_an_entity_merged_from_two_subgraphs",
                r#"{ __type(name: "Product") { name kind fields { name type { kind name ofType { kind name } } } } }"#,
            ),
        ],
    )
    .await;
    let answer = scenario.query("{ __schema { queryType { name } } products { upc } }").await;
    assert_eq!(
        answer.response,
        json!({ "data": { "__schema": { "queryType": { "name": "Query" } }, "products": [{ "upc": "1" }] } })
    );
}

#[tokio::test]
async fn federation_internals_are_not_part_of_the_api() {
    let scenario = scenario().await;
    for query in [
        "{ _service { sdl } }",
        r#"{ _entities(representations: [{__typename: "Product", upc: "1"}]) { __typename } }"#,
    ] {
        let answer = scenario.query(query).await;
        assert_eq!(answer.status, 400, "{query}: {:#}", answer.response);
        assert_eq!(answer.response["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED", "{query}");
    }
    let answer = scenario.query(r#"{ __type(name: "_Entity") { name } }"#).await;
    assert_eq!(answer.response["data"]["__type"], Value::Null);
}
