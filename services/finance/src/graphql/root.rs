//! Finance's root types: each area contributes its part of the query and mutation roots.

use async_graphql::MergedObject;

use super::{
    ledger::{LedgerMutation, LedgerQuery},
    mutations::CoreMutation,
    schema::CoreQuery,
};

/// Finance's root query.
#[derive(MergedObject, Default)]
pub struct Query(CoreQuery, LedgerQuery);

/// Finance's root mutation.
#[derive(MergedObject, Default)]
pub struct Mutation(CoreMutation, LedgerMutation);
