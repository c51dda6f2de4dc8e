//! The schema every subgraph builds: Federation v2, error masking, GraphQL spans and
//! `@requiresScopes` enforcement ([`crate::field_scopes`]), assembled in one place so no
//! service can leave one out.

use async_graphql::{ObjectType, Schema, SubscriptionType};

use crate::{field_scopes::EnforceRequiresScopes, masking::MaskInternalErrors, telemetry::GraphQLSpans};

/// A subgraph schema over these root types, with the extensions every subgraph carries.
pub fn build<Query, Mutation, Subscription>(
    query: Query,
    mutation: Mutation,
    subscription: Subscription,
) -> Schema<Query, Mutation, Subscription>
where
    Query: ObjectType + 'static,
    Mutation: ObjectType + 'static,
    Subscription: SubscriptionType + 'static,
{
    Schema::build(query, mutation, subscription)
        .enable_federation()
        .extension(MaskInternalErrors)
        .extension(GraphQLSpans)
        .extension(EnforceRequiresScopes)
        .finish()
}
