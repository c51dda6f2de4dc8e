//! `@inaccessible`: elements the supergraph keeps for planning but hides from clients —
//! absent from the API schema, from introspection and from what validation accepts.

use serde_json::{Value, json};

use super::{composed, services_in, subgraph};

mod products {
    use async_graphql::{ID, Object, SimpleObject};

    #[derive(SimpleObject)]
    pub struct Product {
        pub id: ID,
        pub name: String,
        #[graphql(inaccessible)]
        pub internal_code: String,
    }

    /// Only reachable through an inaccessible field, so the whole type is hidden.
    #[derive(SimpleObject)]
    #[graphql(inaccessible)]
    pub struct AuditTrail {
        pub entries: i32,
    }

    pub struct Query;

    #[Object]
    impl Query {
        async fn products(&self) -> Vec<Product> {
            vec![Product { id: "p-1".into(), name: "Desk".into(), internal_code: "X-9".into() }]
        }

        #[graphql(inaccessible)]
        async fn audit_trail(&self) -> AuditTrail {
            AuditTrail { entries: 3 }
        }

        #[graphql(entity)]
        async fn product_by_id(&self, id: ID) -> Product {
            Product { id, name: "Desk".into(), internal_code: "X-9".into() }
        }
    }
}

mod reviews {
    use async_graphql::{ID, Object, SimpleObject};

    #[derive(SimpleObject)]
    pub struct Product {
        pub id: ID,
        pub rating: i32,
    }

    pub struct Query;

    #[Object]
    impl Query {
        #[graphql(entity)]
        async fn product_by_id(&self, id: ID) -> Product {
            Product { id, rating: 4 }
        }
    }
}

#[tokio::test]
async fn inaccessible_fields_and_types_are_hidden_from_clients_but_not_from_planning() {
    let scenario = composed(vec![subgraph("products", products::Query), subgraph("reviews", reviews::Query)]).await;

    let answer = scenario.query("{ products { name rating } }").await;
    assert_eq!(answer.response, json!({ "data": { "products": [{ "name": "Desk", "rating": 4 }] } }));
    assert_eq!(services_in(&answer.plan), ["products", "reviews"]);

    for query in ["{ products { internalCode } }", "{ auditTrail { entries } }"] {
        let answer = scenario.query(query).await;
        assert_eq!(answer.status, 400, "{query}: {:#}", answer.response);
        assert_eq!(answer.response["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED", "{query}");
        assert!(answer.response.get("data").is_none(), "{query}");
    }
    let rejected = scenario.query("{ products { internalCode } }").await;
    insta::assert_json_snapshot!("selecting_an_inaccessible_field", rejected.response);
}

#[tokio::test]
async fn introspection_does_not_reveal_inaccessible_elements() {
    let scenario = composed(vec![subgraph("products", products::Query), subgraph("reviews", reviews::Query)]).await;
    let answer = scenario
        .query(
            r#"{
                product: __type(name: "Product") { fields { name } }
                audit: __type(name: "AuditTrail") { name }
                query: __type(name: "Query") { fields { name } }
                __schema { types { name } }
            }"#,
        )
        .await;
    assert_eq!(answer.status, 200, "{:#}", answer.response);
    let data = &answer.response["data"];
    let names = |fields: &Value| -> Vec<String> {
        fields.as_array().into_iter().flatten().filter_map(|field| field["name"].as_str().map(str::to_owned)).collect()
    };
    assert_eq!(names(&data["product"]["fields"]), ["id", "name", "rating"]);
    assert_eq!(names(&data["query"]["fields"]), ["products"]);
    assert_eq!(data["audit"], Value::Null);
    let types = names(&data["__schema"]["types"]);
    assert!(types.iter().any(|name| name == "Product"), "{types:?}");
    for hidden in ["AuditTrail", "_Entity", "_Any", "_Service", "join__Graph", "link__Purpose"] {
        assert!(!types.iter().any(|name| name == hidden), "{hidden} is visible: {types:?}");
    }
    assert_eq!(answer.plan, Value::Null, "introspection is answered by the gateway alone");
}
