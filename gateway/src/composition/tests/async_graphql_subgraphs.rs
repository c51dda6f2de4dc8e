//! The same Atrium subgraphs built as real async-graphql schemas, so the
//! composer is exercised on exactly what subgraphs export over `_service`.
//! Resolvers are never run; only the exported SDL matters.

use async_graphql::{
    EmptyMutation, EmptySubscription, Enum, ID, Object, ObjectType, SDLExportOptions, Schema, SimpleObject,
};

use super::planning::{plan, planner_for};
use crate::composition::{SubgraphDefinition, compose};

fn export<Q: ObjectType + 'static>(name: &str, query: Q) -> SubgraphDefinition {
    let schema = Schema::build(query, EmptyMutation, EmptySubscription).enable_federation().finish();
    SubgraphDefinition {
        name: name.to_string(),
        url: format!("http://{name}:8080/graphql"),
        sdl: schema.sdl_with_options(SDLExportOptions::new().federation()),
    }
}

mod catalog {
    use super::*;

    #[derive(Enum, Clone, Copy, PartialEq, Eq)]
    pub enum Plan {
        Starter,
        Enterprise,
    }

    #[derive(SimpleObject)]
    pub struct Tenant {
        pub id: ID,
        pub name: String,
        pub plan: Plan,
    }

    pub struct Query;

    #[Object]
    impl Query {
        async fn tenant(&self, id: ID) -> Option<Tenant> {
            let _ = id;
            None
        }

        #[graphql(entity)]
        async fn tenant_by_id(&self, id: ID) -> Tenant {
            Tenant { id, name: String::new(), plan: Plan::Starter }
        }
    }
}

mod finance {
    use super::*;

    #[derive(SimpleObject)]
    #[graphql(unresolvable = "id")]
    pub struct Tenant {
        pub id: ID,
    }

    #[derive(SimpleObject)]
    pub struct CustomerAccount {
        pub id: ID,
        pub name: String,
        pub tenant: Tenant,
    }

    pub struct Query;

    #[Object]
    impl Query {
        async fn customer_account(&self, id: ID) -> Option<CustomerAccount> {
            let _ = id;
            None
        }

        #[graphql(entity)]
        async fn customer_account_by_id(&self, id: ID) -> CustomerAccount {
            CustomerAccount { tenant: Tenant { id: id.clone() }, id, name: String::new() }
        }
    }
}

mod delivery {
    use super::*;

    #[derive(SimpleObject)]
    pub struct CustomerAccount {
        pub id: ID,
        pub engagements: Vec<Engagement>,
    }

    #[derive(SimpleObject)]
    pub struct Engagement {
        pub id: ID,
        pub title: String,
        #[graphql(shareable)]
        pub status_label: String,
    }

    pub struct Query;

    #[Object]
    impl Query {
        #[graphql(entity)]
        async fn customer_account_by_id(&self, id: ID) -> CustomerAccount {
            CustomerAccount { id, engagements: Vec::new() }
        }

        #[graphql(entity)]
        async fn engagement_by_id(&self, id: ID) -> Engagement {
            Engagement { id, title: String::new(), status_label: String::new() }
        }
    }
}

mod support {
    use super::*;

    #[derive(SimpleObject)]
    pub struct CustomerAccount {
        pub id: ID,
        pub open_urgent_high_ticket_count: i32,
    }

    pub struct Query;

    #[Object]
    impl Query {
        #[graphql(entity)]
        async fn customer_account_by_id(&self, id: ID) -> CustomerAccount {
            CustomerAccount { id, open_urgent_high_ticket_count: 0 }
        }
    }
}

mod analytics {
    use super::*;

    #[derive(SimpleObject)]
    pub struct CustomerAccount {
        pub id: ID,
        #[graphql(external)]
        pub open_urgent_high_ticket_count: i32,
        #[graphql(requires = "openUrgentHighTicketCount")]
        pub health_score: i32,
    }

    pub struct Query;

    #[Object]
    impl Query {
        #[graphql(entity)]
        async fn customer_account_by_id(&self, id: ID) -> CustomerAccount {
            CustomerAccount { id, open_urgent_high_ticket_count: 0, health_score: 0 }
        }
    }
}

fn async_graphql_subgraphs() -> Vec<SubgraphDefinition> {
    vec![
        export("analytics", analytics::Query),
        export("catalog", catalog::Query),
        export("delivery", delivery::Query),
        export("finance", finance::Query),
        export("support", support::Query),
    ]
}

#[test]
fn subgraphs_exported_by_async_graphql_compose_and_plan_across_all_subgraphs() {
    let supergraph = compose(&async_graphql_subgraphs()).expect("async-graphql subgraphs compose");
    insta::assert_snapshot!(supergraph);

    let planner = planner_for(&supergraph);
    let planned = plan(
        &planner,
        r#"query {
            customerAccount(id: "ca-1") {
                name
                tenant { name plan }
                engagements { title statusLabel }
                healthScore
            }
        }"#,
    );
    let services = planned.services();
    assert_eq!(services.first().map(String::as_str), Some("finance"), "{}", planned.text);
    for service in ["analytics", "catalog", "delivery", "support"] {
        assert!(services.iter().any(|s| s == service), "no fetch to {service}:\n{}", planned.text);
    }
    let support = services.iter().position(|s| s == "support");
    let analytics = services.iter().position(|s| s == "analytics");
    assert!(support < analytics, "support must be fetched before analytics:\n{}", planned.text);
}

#[test]
fn a_subgraph_with_only_entity_resolvers_still_joins_the_query_type() {
    // async-graphql prints no `type Query` when it only has `_entities`, yet
    // the router may still enter that subgraph through `_entities`.
    let supergraph = compose(&async_graphql_subgraphs()).expect("compose");
    assert!(supergraph.contains("  @join__type(graph: SUPPORT)\n{\n  tenant"), "{supergraph}");
}
