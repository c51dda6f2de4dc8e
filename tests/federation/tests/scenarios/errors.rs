//! Subgraph errors keep paths that point into the client's response, and GraphQL null
//! propagation applies to what the subgraphs left null.

use async_graphql::{EmptyMutation, EmptySubscription, Schema};
use atrium_federation_tests::FixtureSubgraph;
use serde_json::{Value, json};

use super::{composed, subgraph};

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
        /// Nullable items, so a failed non-null field below nulls only its item.
        async fn products(&self) -> Vec<Option<Product>> {
            ["1", "2", "3"]
                .into_iter()
                .map(|upc| Some(Product { upc: upc.into(), name: format!("product {upc}") }))
                .collect()
        }

        /// Non-null all the way up: one failure nulls `data`.
        async fn required_product(&self) -> Product {
            Product { upc: "2".into(), name: "product 2".into() }
        }

        #[graphql(entity)]
        async fn product_by_upc(&self, upc: String) -> Product {
            Product { name: format!("product {upc}"), upc }
        }
    }
}

mod inventory {
    use async_graphql::{ComplexObject, ErrorExtensions, Object, Result, SimpleObject};

    #[derive(SimpleObject)]
    #[graphql(complex)]
    pub struct Product {
        pub upc: String,
    }

    fn out_of_service(upc: &str) -> async_graphql::Error {
        async_graphql::Error::new(format!("warehouse for {upc} is offline"))
            .extend_with(|_, extensions| extensions.set("code", "WAREHOUSE_OFFLINE"))
    }

    #[ComplexObject]
    impl Product {
        /// Fails for product 2.
        async fn stock_note(&self) -> Result<Option<String>> {
            if self.upc == "2" { Err(out_of_service(&self.upc)) } else { Ok(Some(format!("{} left", self.upc))) }
        }

        /// Non-null, fails for product 2.
        async fn in_stock(&self) -> Result<bool> {
            if self.upc == "2" { Err(out_of_service(&self.upc)) } else { Ok(true) }
        }
    }

    pub struct Query;

    #[Object]
    impl Query {
        #[graphql(entity)]
        async fn product_by_upc(&self, upc: String) -> Product {
            Product { upc }
        }
    }
}

async fn scenario() -> atrium_federation_tests::Scenario {
    let inventory = Schema::build(inventory::Query, EmptyMutation, EmptySubscription).enable_federation().finish();
    composed(vec![
        subgraph("products", products::Query),
        FixtureSubgraph::with_indexed_entity_errors("inventory", inventory),
    ])
    .await
}

fn error_paths(response: &Value) -> Vec<Value> {
    response["errors"].as_array().into_iter().flatten().map(|error| error["path"].clone()).collect()
}

#[tokio::test]
async fn an_entity_fetch_error_points_at_the_failing_field_in_the_client_response() {
    let scenario = scenario().await;
    let answer = scenario.query("{ products { upc stockNote } }").await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.response["data"],
        json!({ "products": [
            { "upc": "1", "stockNote": "1 left" },
            { "upc": "2", "stockNote": null },
            { "upc": "3", "stockNote": "3 left" },
        ] })
    );
    assert_eq!(error_paths(&answer.response), [json!(["products", 1, "stockNote"])], "{:#}", answer.response);
    assert_eq!(answer.response["errors"][0]["extensions"]["code"], "WAREHOUSE_OFFLINE");
    insta::assert_json_snapshot!(answer.snapshot());
}

#[tokio::test]
async fn a_failed_non_null_field_nulls_its_nearest_nullable_ancestor() {
    let scenario = scenario().await;
    let answer = scenario.query("{ products { upc inStock } }").await;
    assert_eq!(
        answer.response["data"],
        json!({ "products": [{ "upc": "1", "inStock": true }, null, { "upc": "3", "inStock": true }] })
    );
    assert_eq!(error_paths(&answer.response), [json!(["products", 1, "inStock"])], "{:#}", answer.response);
    insta::assert_json_snapshot!(answer.snapshot());
}

#[tokio::test]
async fn a_failed_non_null_field_under_a_non_null_root_field_nulls_data() {
    let scenario = scenario().await;
    let answer = scenario.query("{ requiredProduct { upc inStock } }").await;
    assert_eq!(answer.response["data"], Value::Null);
    assert_eq!(error_paths(&answer.response), [json!(["requiredProduct", "inStock"])]);
    insta::assert_json_snapshot!(answer.snapshot());
}

#[tokio::test]
async fn an_entity_error_without_a_usable_path_is_kept_without_a_path() {
    // async-graphql as is reports `["_entities", "stockNote"]`: no index, so no position in
    // the client response can be named. The error stays (masked), the entity stays null.
    let scenario = composed(vec![subgraph("products", products::Query), subgraph("inventory", inventory::Query)]).await;
    let answer = scenario.query("{ products { upc stockNote } }").await;
    assert_eq!(answer.response["data"]["products"][1], json!({ "upc": "2", "stockNote": null }));
    assert_eq!(error_paths(&answer.response), [Value::Null], "{:#}", answer.response);
    assert_eq!(answer.response["errors"][0]["extensions"]["code"], "WAREHOUSE_OFFLINE");
}
