//! Finance's root types: each area contributes its part of the query and mutation roots.

use async_graphql::{EmptySubscription, MergedObject, Schema};

use super::{
    aging::AgingQuery,
    billing::{BillingMutation, InvoiceMutation, PaymentMutation},
    disputes::DisputeMutation,
    engagement_financials::EngagementQuery,
    ledger::{LedgerMutation, LedgerQuery},
    mutations::CoreMutation,
    schema::CoreQuery,
};

/// Finance's root query.
#[derive(MergedObject, Default)]
pub struct Query(CoreQuery, LedgerQuery, AgingQuery, EngagementQuery);

/// Finance's root mutation.
#[derive(MergedObject, Default)]
pub struct Mutation(CoreMutation, LedgerMutation, BillingMutation, InvoiceMutation, PaymentMutation, DisputeMutation);

pub type FinanceSchema = Schema<Query, Mutation, EmptySubscription>;

pub fn build_schema() -> FinanceSchema {
    atrium_kit::subgraph_schema::build(Query::default(), Mutation::default(), EmptySubscription)
}
