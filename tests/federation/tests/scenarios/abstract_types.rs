//! Interfaces and unions across subgraphs: abstract fields owned by one subgraph whose
//! members are entities extended by another.

use super::{assert_cases, composed, subgraph};

mod library {
    use async_graphql::{ID, Interface, Object, SimpleObject, Union};

    #[derive(SimpleObject)]
    pub struct Book {
        pub id: ID,
        pub title: String,
    }

    #[derive(SimpleObject)]
    pub struct Magazine {
        pub id: ID,
        pub title: String,
        pub issue: i32,
    }

    #[derive(SimpleObject)]
    pub struct Author {
        pub name: String,
    }

    #[derive(Interface)]
    #[graphql(field(name = "id", ty = "&ID"), field(name = "title", ty = "&String"))]
    pub enum Item {
        Book(Book),
        Magazine(Magazine),
    }

    #[derive(Union)]
    pub enum SearchResult {
        Book(Book),
        Author(Author),
    }

    fn book() -> Book {
        Book { id: "b-1".into(), title: "Dune".into() }
    }

    pub struct Query;

    #[Object]
    impl Query {
        async fn items(&self) -> Vec<Item> {
            vec![Item::Book(book()), Item::Magazine(Magazine { id: "mag-1".into(), title: "Wired".into(), issue: 7 })]
        }

        async fn search(&self) -> Vec<SearchResult> {
            vec![SearchResult::Author(Author { name: "Herbert".into() }), SearchResult::Book(book())]
        }

        #[graphql(entity)]
        async fn book_by_id(&self, id: ID) -> Book {
            Book { id, title: "Dune".into() }
        }

        #[graphql(entity)]
        async fn magazine_by_id(&self, id: ID) -> Magazine {
            Magazine { id, title: "Wired".into(), issue: 7 }
        }
    }
}

mod pricing {
    use async_graphql::{ID, Object, SimpleObject};

    #[derive(SimpleObject)]
    pub struct Book {
        pub id: ID,
        pub price: i32,
    }

    #[derive(SimpleObject)]
    pub struct Magazine {
        pub id: ID,
        pub price: i32,
    }

    pub struct Query;

    #[Object]
    impl Query {
        #[graphql(entity)]
        async fn book_by_id(&self, id: ID) -> Book {
            Book { id, price: 20 }
        }

        #[graphql(entity)]
        async fn magazine_by_id(&self, id: ID) -> Magazine {
            Magazine { id, price: 5 }
        }
    }
}

#[tokio::test]
async fn abstract_fields_reach_entity_fields_of_each_member_in_other_subgraphs() {
    let scenario = composed(vec![subgraph("library", library::Query), subgraph("pricing", pricing::Query)]).await;
    assert_cases(
        &scenario,
        &[
            ("interface_fields_only", "{ items { __typename id title } }"),
            (
                "interface_with_fragments_per_member",
                "{ items { title ... on Book { price } ... on Magazine { issue price } } }",
            ),
            (
                "union_with_a_member_extended_elsewhere",
                "{ search { __typename ... on Book { title price } ... on Author { name } } }",
            ),
            ("union_without_the_extended_member", "{ search { ... on Author { name } } }"),
        ],
    )
    .await;
}
