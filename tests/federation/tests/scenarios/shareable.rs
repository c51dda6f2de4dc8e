//! `@shareable`: fields several subgraphs resolve; the planner reads them from the
//! subgraph already on the path instead of jumping.

use super::{assert_cases, composed};

mod catalog {
    use async_graphql::{ID, Object, SimpleObject};

    #[derive(SimpleObject)]
    #[graphql(shareable)]
    pub struct Money {
        pub amount: i32,
        pub currency: String,
    }

    #[derive(SimpleObject)]
    pub struct Product {
        pub id: ID,
        #[graphql(shareable)]
        pub name: String,
        pub price: Money,
    }

    pub fn product(id: &str) -> Product {
        Product { id: id.into(), name: format!("product {id}"), price: Money { amount: 100, currency: "EUR".into() } }
    }

    pub struct Query;

    #[Object]
    impl Query {
        async fn products(&self) -> Vec<Product> {
            vec![product("p-1")]
        }

        #[graphql(entity)]
        async fn product_by_id(&self, id: ID) -> Product {
            product(&id)
        }
    }
}

mod deals {
    use async_graphql::{ID, Object, SimpleObject};

    #[derive(SimpleObject)]
    #[graphql(shareable)]
    pub struct Money {
        pub amount: i32,
        pub currency: String,
    }

    #[derive(SimpleObject)]
    pub struct Product {
        pub id: ID,
        #[graphql(shareable)]
        pub name: String,
    }

    #[derive(SimpleObject)]
    pub struct Deal {
        pub product: Product,
        pub discount: Money,
    }

    pub struct Query;

    #[Object]
    impl Query {
        async fn deals(&self) -> Vec<Deal> {
            vec![Deal {
                product: Product { id: "p-1".into(), name: "product p-1".into() },
                discount: Money { amount: 15, currency: "EUR".into() },
            }]
        }

        #[graphql(entity)]
        async fn product_by_id(&self, id: ID) -> Product {
            Product { name: format!("product {}", id.0), id }
        }
    }
}

#[tokio::test]
async fn shareable_fields_are_resolved_by_the_subgraph_already_on_the_path() {
    let scenario =
        composed(vec![super::subgraph("catalog", catalog::Query), super::subgraph("deals", deals::Query)]).await;
    assert_cases(
        &scenario,
        &[
            ("shareable_entity_field_from_deals", "{ deals { product { name } } }"),
            ("shareable_entity_field_from_catalog", "{ products { name } }"),
            (
                "shareable_value_type_in_both",
                "{ deals { discount { amount currency } } products { price { amount } } }",
            ),
            ("jump_for_a_field_only_catalog_has", "{ deals { product { name price { currency } } } }"),
        ],
    )
    .await;
}
