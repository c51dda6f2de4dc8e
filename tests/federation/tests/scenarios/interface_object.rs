//! `@interfaceObject`: a subgraph adds fields to every implementation of an entity
//! interface it only knows as an object type.

use serde_json::json;

use super::{composed, services_in, subgraph};

/// Owns `interface Media @key(fields: "id")` and its implementations.
mod library {
    use async_graphql::{ID, Interface, Object, SimpleObject};

    #[derive(SimpleObject)]
    pub struct Book {
        pub id: ID,
        pub title: String,
        pub author: String,
    }

    #[derive(SimpleObject)]
    pub struct Movie {
        pub id: ID,
        pub title: String,
        pub minutes: i32,
    }

    #[derive(Interface)]
    #[graphql(field(name = "id", ty = "&ID"), field(name = "title", ty = "&String"))]
    pub enum Media {
        Book(Book),
        Movie(Movie),
    }

    pub fn media(id: &str) -> Media {
        if id.starts_with('b') {
            Media::Book(Book { id: id.into(), title: "Dune".into(), author: "Herbert".into() })
        } else {
            Media::Movie(Movie { id: id.into(), title: "Alien".into(), minutes: 117 })
        }
    }

    pub struct Query;

    #[Object]
    impl Query {
        async fn catalogue(&self) -> Vec<Media> {
            vec![media("b-1"), media("m-1")]
        }

        #[graphql(entity)]
        async fn media_by_id(&self, id: ID) -> Media {
            media(&id)
        }
    }
}

/// Knows `Media` only as `type Media @key(fields: "id") @interfaceObject`.
mod ratings {
    use async_graphql::{ID, Object, SimpleObject};

    #[derive(SimpleObject)]
    #[graphql(interface_object)]
    pub struct Media {
        pub id: ID,
        pub stars: i32,
    }

    fn media(id: ID) -> Media {
        let stars = if id.0.starts_with('b') { 5 } else { 4 };
        Media { id, stars }
    }

    pub struct Query;

    #[Object]
    impl Query {
        async fn top_rated(&self) -> Vec<Media> {
            vec![media("m-1".into())]
        }

        #[graphql(entity)]
        async fn media_by_id(&self, id: ID) -> Media {
            media(id)
        }
    }
}

#[tokio::test]
async fn an_interface_object_adds_its_fields_to_every_implementation() {
    let scenario = composed(vec![subgraph("library", library::Query), subgraph("ratings", ratings::Query)]).await;
    assert!(scenario.supergraph_sdl().contains("isInterfaceObject: true"), "{}", scenario.supergraph_sdl());

    let answer = scenario.query("{ catalogue { title stars ... on Book { author } ... on Movie { minutes } } }").await;
    assert_eq!(
        answer.response,
        json!({ "data": { "catalogue": [
            { "title": "Dune", "stars": 5, "author": "Herbert" },
            { "title": "Alien", "stars": 4, "minutes": 117 },
        ] } })
    );
    assert_eq!(services_in(&answer.plan), ["library", "ratings"]);
    insta::assert_json_snapshot!("from_the_interface_owner", answer.snapshot());
}

#[tokio::test]
async fn starting_at_an_interface_object_asks_the_owner_for_the_concrete_type() {
    // Planned only: the owner is asked for `_entities { ... on Media }` with `__typename`
    // rewritten to the interface, which async-graphql cannot answer (its `_Entity` union
    // holds object types only), so executing it would test the fixture, not the gateway.
    let scenario = composed(vec![subgraph("library", library::Query), subgraph("ratings", ratings::Query)]).await;
    let plan = scenario.plan("{ topRated { __typename stars title ... on Movie { minutes } } }").await;
    assert_eq!(services_in(&plan), ["ratings", "library"]);
    let plan_text = plan.to_string();
    assert!(plan_text.contains(r#""setValueTo":"Media""#), "{plan:#}");
    insta::assert_json_snapshot!("from_the_interface_object", plan);
}
