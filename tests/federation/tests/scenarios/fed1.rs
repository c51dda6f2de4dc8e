//! Federation 1 style supergraphs (`extension: true` types, `external: true` fields),
//! loaded from a hand-written fixture because Atrium's composer accepts Federation 2
//! subgraphs only.

use serde_json::json;

use super::{services_in, subgraph};
use atrium_federation_tests::{Scenario, SupergraphSource};

mod products {
    use async_graphql::{Object, SimpleObject};

    #[derive(SimpleObject)]
    pub struct Product {
        pub upc: String,
        pub name: String,
        pub weight: i32,
    }

    pub struct Query;

    #[Object]
    impl Query {
        async fn top_products(&self) -> Vec<Product> {
            vec![
                Product { upc: "1".into(), name: "Table".into(), weight: 100 },
                Product { upc: "2".into(), name: "Couch".into(), weight: 1000 },
            ]
        }
    }
}

mod inventory {
    use async_graphql::{ComplexObject, Object, SimpleObject};

    #[derive(SimpleObject)]
    #[graphql(complex)]
    pub struct Product {
        pub upc: String,
        #[graphql(external)]
        pub weight: Option<i32>,
        pub in_stock: bool,
    }

    #[ComplexObject]
    impl Product {
        #[graphql(requires = "weight")]
        async fn shipping_estimate(&self) -> Option<i32> {
            self.weight.map(|weight| weight / 2)
        }
    }

    pub struct Query;

    #[Object]
    impl Query {
        #[graphql(entity)]
        async fn product_by_upc(&self, #[graphql(key)] upc: String, weight: Option<i32>) -> Product {
            Product { in_stock: upc == "1", upc, weight }
        }
    }
}

mod reviews {
    use async_graphql::{Object, SimpleObject};

    #[derive(SimpleObject)]
    pub struct Review {
        pub body: String,
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
            let reviews = vec![Review { body: format!("review of {upc}") }];
            Product { upc, reviews }
        }
    }
}

#[tokio::test]
async fn a_federation_1_supergraph_plans_extensions_and_external_requires() {
    let scenario = Scenario::start(
        SupergraphSource::File("fed1-supergraph.graphql"),
        vec![
            subgraph("products", products::Query),
            subgraph("inventory", inventory::Query),
            subgraph("reviews", reviews::Query),
        ],
    )
    .await
    .unwrap_or_else(|error| panic!("{error}"));

    let answer = scenario.query("{ topProducts { name inStock shippingEstimate reviews { body } } }").await;
    assert_eq!(
        answer.response,
        json!({ "data": { "topProducts": [
            { "name": "Table", "inStock": true, "shippingEstimate": 50, "reviews": [{ "body": "review of 1" }] },
            { "name": "Couch", "inStock": false, "shippingEstimate": 500, "reviews": [{ "body": "review of 2" }] },
        ] } })
    );
    let mut services = services_in(&answer.plan);
    services.sort();
    assert_eq!(services, ["inventory", "products", "reviews"]);
    insta::assert_json_snapshot!(answer.snapshot());

    // `weight` is external in `inventory`: asking for it alone stays in `products`.
    let answer = scenario.query("{ topProducts { weight } }").await;
    assert_eq!(services_in(&answer.plan), ["products"]);
}
