//! `@key`: compound, nested, multiple and non-resolvable keys.

use serde_json::json;

use super::{composed, services_in, subgraph};

/// `Member @key(fields: "id organizationId")` owned by `directory`, extended by `billing`.
mod compound {
    use async_graphql::{ID, Object, SimpleObject};

    pub mod directory {
        use super::*;

        #[derive(SimpleObject)]
        pub struct Member {
            pub id: ID,
            pub organization_id: ID,
            pub name: String,
        }

        pub struct Query;

        #[Object]
        impl Query {
            async fn members(&self) -> Vec<Member> {
                ["a", "b"]
                    .into_iter()
                    .map(|org| Member { id: "m-1".into(), organization_id: org.into(), name: format!("Ada of {org}") })
                    .collect()
            }

            #[graphql(entity)]
            async fn member_by_key(&self, id: ID, organization_id: ID) -> Member {
                Member { name: format!("member {}", id.0), id, organization_id }
            }
        }
    }

    pub mod billing {
        use super::*;

        #[derive(SimpleObject)]
        pub struct Member {
            pub id: ID,
            pub organization_id: ID,
            pub seat_cost: i32,
        }

        pub struct Query;

        #[Object]
        impl Query {
            #[graphql(entity)]
            async fn member_by_key(&self, id: ID, organization_id: ID) -> Member {
                // The cost depends on both key parts, so the response proves both were sent.
                let seat_cost = if organization_id.0 == "a" { 10 } else { 20 };
                Member { id, organization_id, seat_cost }
            }
        }
    }
}

#[tokio::test]
async fn a_compound_key_sends_every_key_field_in_the_representation() {
    let scenario = composed(vec![
        subgraph("directory", compound::directory::Query),
        subgraph("billing", compound::billing::Query),
    ])
    .await;
    assert!(scenario.supergraph_sdl().contains(r#"key: "id organizationId""#), "{}", scenario.supergraph_sdl());

    let answer = scenario.query("{ members { name seatCost } }").await;
    assert_eq!(
        answer.response,
        json!({ "data": { "members": [
            { "name": "Ada of a", "seatCost": 10 },
            { "name": "Ada of b", "seatCost": 20 },
        ] } })
    );
    assert_eq!(services_in(&answer.plan), ["directory", "billing"]);
    insta::assert_json_snapshot!(answer.snapshot());
}

/// `Account @key(fields: "id owner { id }")`: the key reaches into a nested object.
mod nested {
    use async_graphql::{ID, InputObject, Object, SimpleObject};

    pub mod ledger {
        use super::*;

        #[derive(SimpleObject, Clone)]
        #[graphql(shareable)]
        pub struct Owner {
            pub id: ID,
            pub display_name: String,
        }

        #[derive(InputObject)]
        pub struct OwnerKey {
            pub id: ID,
        }

        #[derive(SimpleObject)]
        pub struct Account {
            pub id: ID,
            pub owner: Owner,
        }

        pub struct Query;

        #[Object]
        impl Query {
            async fn accounts(&self) -> Vec<Account> {
                vec![
                    Account { id: "acc-1".into(), owner: Owner { id: "o-1".into(), display_name: "Ada".into() } },
                    Account { id: "acc-1".into(), owner: Owner { id: "o-2".into(), display_name: "Grace".into() } },
                ]
            }

            #[graphql(entity)]
            async fn account_by_key(&self, id: ID, owner: OwnerKey) -> Account {
                Account { id, owner: Owner { display_name: format!("owner {}", owner.id.0), id: owner.id } }
            }
        }
    }

    pub mod risk {
        use super::*;

        #[derive(SimpleObject)]
        #[graphql(shareable)]
        pub struct Owner {
            pub id: ID,
        }

        #[derive(InputObject)]
        pub struct OwnerKey {
            pub id: ID,
        }

        #[derive(SimpleObject)]
        pub struct Account {
            pub id: ID,
            pub owner: Owner,
            pub risk_band: String,
        }

        pub struct Query;

        #[Object]
        impl Query {
            #[graphql(entity)]
            async fn account_by_key(&self, id: ID, owner: OwnerKey) -> Account {
                let risk_band = format!("{}/{}", id.0, owner.id.0);
                Account { id, owner: Owner { id: owner.id }, risk_band }
            }
        }
    }
}

#[tokio::test]
async fn a_nested_key_sends_the_nested_selection_in_the_representation() {
    let scenario =
        composed(vec![subgraph("ledger", nested::ledger::Query), subgraph("risk", nested::risk::Query)]).await;
    let answer = scenario.query("{ accounts { owner { displayName } riskBand } }").await;
    assert_eq!(
        answer.response,
        json!({ "data": { "accounts": [
            { "owner": { "displayName": "Ada" }, "riskBand": "acc-1/o-1" },
            { "owner": { "displayName": "Grace" }, "riskBand": "acc-1/o-2" },
        ] } })
    );
    insta::assert_json_snapshot!(answer.snapshot());
}

/// `Product @key(fields: "id") @key(fields: "sku")`: `catalog` knows products by sku only,
/// `pricing` by id only, and `inventory` resolves both keys, so a query from `catalog` to
/// `pricing` has to go through `inventory` to learn the id.
mod multiple {
    use async_graphql::{ID, Object, SimpleObject};

    pub mod catalog {
        use super::*;

        #[derive(SimpleObject)]
        pub struct Product {
            pub sku: String,
            pub title: String,
        }

        pub struct Query;

        #[Object]
        impl Query {
            async fn featured(&self) -> Vec<Product> {
                vec![
                    Product { sku: "SKU-1".into(), title: "Desk".into() },
                    Product { sku: "SKU-2".into(), title: "Lamp".into() },
                ]
            }

            #[graphql(entity)]
            async fn product_by_sku(&self, sku: String) -> Product {
                Product { title: format!("title of {sku}"), sku }
            }
        }
    }

    pub mod inventory {
        use super::*;

        #[derive(SimpleObject)]
        pub struct Product {
            pub id: ID,
            pub sku: String,
            pub stock: i32,
        }

        fn product(sku: &str) -> Product {
            let number: i32 = sku.trim_start_matches("SKU-").parse().unwrap_or(0);
            Product { id: format!("p-{number}").into(), sku: sku.to_owned(), stock: number * 3 }
        }

        pub struct Query;

        #[Object]
        impl Query {
            #[graphql(entity)]
            async fn product_by_id(&self, id: ID) -> Product {
                product(&id.0.replace("p-", "SKU-"))
            }

            #[graphql(entity)]
            async fn product_by_sku(&self, sku: String) -> Product {
                product(&sku)
            }
        }
    }

    pub mod pricing {
        use super::*;

        #[derive(SimpleObject)]
        pub struct Product {
            pub id: ID,
            pub price_cents: i32,
        }

        pub struct Query;

        #[Object]
        impl Query {
            #[graphql(entity)]
            async fn product_by_id(&self, id: ID) -> Product {
                let price_cents = if id.0 == "p-1" { 19_900 } else { 4_500 };
                Product { id, price_cents }
            }
        }
    }
}

#[tokio::test]
async fn multiple_keys_let_the_plan_hop_through_the_subgraph_that_knows_both() {
    let scenario = composed(vec![
        subgraph("catalog", multiple::catalog::Query),
        subgraph("inventory", multiple::inventory::Query),
        subgraph("pricing", multiple::pricing::Query),
    ])
    .await;
    let answer = scenario.query("{ featured { title stock priceCents } }").await;
    assert_eq!(
        answer.response,
        json!({ "data": { "featured": [
            { "title": "Desk", "stock": 3, "priceCents": 19_900 },
            { "title": "Lamp", "stock": 6, "priceCents": 4_500 },
        ] } })
    );
    assert_eq!(services_in(&answer.plan), ["catalog", "inventory", "pricing"]);
    insta::assert_json_snapshot!(answer.snapshot());
}

/// `Author @key(fields: "id", resolvable: false)` in `posts`: a reference only.
mod non_resolvable {
    use async_graphql::{ID, Object, SimpleObject};

    pub mod posts {
        use super::*;

        #[derive(SimpleObject)]
        #[graphql(unresolvable = "id")]
        pub struct Author {
            pub id: ID,
        }

        #[derive(SimpleObject)]
        pub struct Post {
            pub title: String,
            pub author: Author,
        }

        pub struct Query;

        #[Object]
        impl Query {
            async fn posts(&self) -> Vec<Post> {
                vec![Post { title: "Hello".into(), author: Author { id: "au-7".into() } }]
            }
        }
    }

    pub mod people {
        use super::*;

        #[derive(SimpleObject)]
        pub struct Author {
            pub id: ID,
            pub name: String,
        }

        pub struct Query;

        #[Object]
        impl Query {
            async fn authors(&self) -> Vec<Author> {
                vec![Author { id: "au-7".into(), name: "Ada".into() }]
            }

            #[graphql(entity)]
            async fn author_by_id(&self, id: ID) -> Author {
                Author { name: format!("author {}", id.0), id }
            }
        }
    }
}

#[tokio::test]
async fn a_non_resolvable_key_is_only_a_reference_the_owner_resolves() {
    let scenario = composed(vec![
        subgraph("posts", non_resolvable::posts::Query),
        subgraph("people", non_resolvable::people::Query),
    ])
    .await;
    assert!(scenario.supergraph_sdl().contains("resolvable: false"), "{}", scenario.supergraph_sdl());
    let answer = scenario.query("{ posts { title author { id name } } }").await;
    assert_eq!(
        answer.response,
        json!({ "data": { "posts": [{ "title": "Hello", "author": { "id": "au-7", "name": "author au-7" } }] } })
    );
    assert_eq!(services_in(&answer.plan), ["posts", "people"]);
    insta::assert_json_snapshot!(answer.snapshot());

    // Nothing can jump *into* `posts` for an author: `authors` stays in `people` alone.
    let answer = scenario.query("{ authors { name } }").await;
    assert_eq!(services_in(&answer.plan), ["people"]);
}
