//! `@override`: a field migrated from one subgraph to another is only fetched from the
//! new owner.

use serde_json::json;

use super::{composed, services_in, subgraph};

mod legacy {
    use async_graphql::{ID, Object, SimpleObject};

    #[derive(SimpleObject)]
    pub struct Product {
        pub id: ID,
        pub name: String,
        /// Still implemented here; a response with -1 means the override was ignored.
        pub price: i32,
    }

    pub struct Query;

    #[Object]
    impl Query {
        async fn products(&self) -> Vec<Product> {
            vec![Product { id: "p-1".into(), name: "Desk".into(), price: -1 }]
        }

        #[graphql(entity)]
        async fn product_by_id(&self, id: ID) -> Product {
            Product { id, name: "Desk".into(), price: -1 }
        }
    }
}

mod billing {
    use async_graphql::{ID, Object, SimpleObject};

    #[derive(SimpleObject)]
    pub struct Product {
        pub id: ID,
        #[graphql(override_from = "legacy")]
        pub price: i32,
    }

    pub struct Query;

    #[Object]
    impl Query {
        #[graphql(entity)]
        async fn product_by_id(&self, id: ID) -> Product {
            Product { id, price: 42 }
        }
    }
}

#[tokio::test]
async fn an_overridden_field_is_fetched_from_the_subgraph_that_took_it_over() {
    let scenario = composed(vec![subgraph("legacy", legacy::Query), subgraph("billing", billing::Query)]).await;
    assert!(scenario.supergraph_sdl().contains(r#"override: "legacy""#), "{}", scenario.supergraph_sdl());
    let answer = scenario.query("{ products { name price } }").await;
    assert_eq!(answer.response, json!({ "data": { "products": [{ "name": "Desk", "price": 42 }] } }));
    assert_eq!(services_in(&answer.plan), ["legacy", "billing"]);
    insta::assert_json_snapshot!(answer.snapshot());
}
