//! `@requires`: a field computed from fields another subgraph owns, including a requiring
//! field that takes arguments.

use serde_json::json;

use super::services_in;

/// `products` owns `Product { upc name price weight }`; `inventory` declares `price` and
/// `weight` `@external` and computes `shippingEstimate(zone:)` from them.
pub(super) mod fixtures {
    use async_graphql::{ComplexObject, Object, SimpleObject};

    pub mod products {
        use super::*;

        #[derive(SimpleObject)]
        pub struct Product {
            pub upc: String,
            pub name: String,
            pub price: Option<i32>,
            pub weight: Option<i32>,
        }

        fn product(upc: &str) -> Product {
            match upc {
                "1" => Product { upc: "1".into(), name: "Table".into(), price: Some(899), weight: Some(100) },
                _ => Product { upc: upc.to_owned(), name: "Couch".into(), price: Some(1299), weight: Some(1000) },
            }
        }

        pub struct Query;

        #[Object]
        impl Query {
            async fn products(&self) -> Vec<Product> {
                vec![product("1"), product("2")]
            }

            #[graphql(entity)]
            async fn product_by_upc(&self, upc: String) -> Product {
                product(&upc)
            }
        }
    }

    pub mod inventory {
        use super::*;

        #[derive(SimpleObject)]
        #[graphql(complex)]
        pub struct Product {
            pub upc: String,
            #[graphql(external)]
            pub price: Option<i32>,
            #[graphql(external)]
            pub weight: Option<i32>,
            pub in_stock: bool,
        }

        #[ComplexObject]
        impl Product {
            /// Free above 1000 cents, else half the weight, doubled for the `far` zone.
            #[graphql(requires = "price weight")]
            async fn shipping_estimate(&self, zone: String) -> Option<i32> {
                let (price, weight) = (self.price?, self.weight?);
                let base = if price > 1000 { 0 } else { weight / 2 };
                Some(if zone == "far" { base * 2 } else { base })
            }
        }

        pub struct Query;

        #[Object]
        impl Query {
            #[graphql(entity)]
            async fn product_by_upc(
                &self,
                #[graphql(key)] upc: String,
                price: Option<i32>,
                weight: Option<i32>,
            ) -> Product {
                Product { in_stock: upc == "1", upc, price, weight }
            }
        }
    }

    pub async fn scenario() -> atrium_federation_tests::Scenario {
        use crate::{composed, subgraph};
        composed(vec![subgraph("products", products::Query), subgraph("inventory", inventory::Query)]).await
    }
}

#[tokio::test]
async fn a_required_field_is_fetched_first_and_sent_in_the_representation() {
    let scenario = fixtures::scenario().await;
    let answer = scenario.query(r#"{ products { name shippingEstimate(zone: "near") } }"#).await;
    assert_eq!(
        answer.response,
        json!({ "data": { "products": [
            { "name": "Table", "shippingEstimate": 50 },
            { "name": "Couch", "shippingEstimate": 0 },
        ] } })
    );
    assert_eq!(services_in(&answer.plan), ["products", "inventory"]);
    insta::assert_json_snapshot!(answer.snapshot());
}

#[tokio::test]
async fn a_requiring_field_with_arguments_passes_the_client_variables_through() {
    let scenario = fixtures::scenario().await;
    let answer = scenario
        .request(json!({
            "query": "query Estimate($zone: String!) { products { upc inStock shippingEstimate(zone: $zone) } }",
            "variables": { "zone": "far" },
        }))
        .await;
    assert_eq!(
        answer.response,
        json!({ "data": { "products": [
            { "upc": "1", "inStock": true, "shippingEstimate": 100 },
            { "upc": "2", "inStock": false, "shippingEstimate": 0 },
        ] } })
    );
    insta::assert_json_snapshot!(answer.snapshot());
}
