//! `@provides`: a subgraph that can resolve an otherwise external field along one path
//! saves the jump to the owner on that path only.

use serde_json::json;

use super::{composed, services_in, subgraph};

mod accounts {
    use async_graphql::{ID, Object, SimpleObject};

    #[derive(SimpleObject)]
    pub struct User {
        pub id: ID,
        /// Provided by `reviews` on `Review.author`, so resolvable there too.
        #[graphql(shareable)]
        pub username: String,
        pub name: String,
    }

    pub fn user(id: &str) -> User {
        let username = if id == "u-1" { "ada" } else { "grace" };
        User { id: id.into(), username: username.into(), name: format!("{username} (accounts)") }
    }

    pub struct Query;

    #[Object]
    impl Query {
        async fn users(&self) -> Vec<User> {
            vec![user("u-1"), user("u-2")]
        }

        #[graphql(entity)]
        async fn user_by_id(&self, id: ID) -> User {
            user(&id)
        }
    }
}

mod reviews {
    use async_graphql::{ID, Object, SimpleObject};

    #[derive(SimpleObject)]
    pub struct User {
        pub id: ID,
        #[graphql(external)]
        pub username: String,
    }

    #[derive(SimpleObject)]
    pub struct Review {
        pub body: String,
        #[graphql(provides = "username")]
        pub author: User,
    }

    pub struct Query;

    #[Object]
    impl Query {
        async fn reviews(&self) -> Vec<Review> {
            vec![
                Review { body: "Sturdy".into(), author: User { id: "u-1".into(), username: "ada".into() } },
                Review { body: "Wobbly".into(), author: User { id: "u-2".into(), username: "grace".into() } },
            ]
        }

        #[graphql(entity)]
        async fn user_by_id(&self, id: ID) -> User {
            User { id, username: String::new() }
        }
    }
}

#[tokio::test]
async fn a_provided_field_is_read_from_the_providing_subgraph_without_an_entity_fetch() {
    let scenario = composed(vec![subgraph("accounts", accounts::Query), subgraph("reviews", reviews::Query)]).await;
    assert!(scenario.supergraph_sdl().contains(r#"provides: "username""#), "{}", scenario.supergraph_sdl());

    let answer = scenario.query("{ reviews { body author { username } } }").await;
    assert_eq!(
        answer.response,
        json!({ "data": { "reviews": [
            { "body": "Sturdy", "author": { "username": "ada" } },
            { "body": "Wobbly", "author": { "username": "grace" } },
        ] } })
    );
    assert_eq!(services_in(&answer.plan), ["reviews"]);
    insta::assert_json_snapshot!("provided_path", answer.snapshot());

    // A field outside the provided set still needs the owner.
    let answer = scenario.query("{ reviews { author { username name } } }").await;
    assert_eq!(services_in(&answer.plan), ["reviews", "accounts"]);
    assert_eq!(answer.response["data"]["reviews"][1]["author"]["name"], "grace (accounts)");
    insta::assert_json_snapshot!("beyond_the_provided_set", answer.snapshot());
}
