//! The tenant admin's GraphQL view of the events a consuming service parked: the resolver
//! behind each consuming subgraph's `<service>EventDeadLetters` root field
//! (docs/domain.md#event-delivery). The field itself, with its `@requiresScopes`, lives in
//! the service's schema: two subgraphs cannot resolve one root field, so each names its own.

use async_graphql::Context;

use super::{DeadLetter, list_dead_letters};
use crate::{errors::ErrorCode, subgraph_http::request_transaction};

/// Dead letters answered when the caller does not say how many.
pub const DEFAULT_DEAD_LETTERS: i32 = 50;

/// The most dead letters one request may ask for.
pub const MAX_DEAD_LETTERS: i32 = 200;

/// The request tenant's newest `first` dead letters (of every consumer of this service's
/// database), read in the request's tenant transaction: RLS and the tenant filter keep
/// other tenants' rows out. `first` outside `1..=MAX_DEAD_LETTERS` is `BAD_USER_INPUT`;
/// an explicit null means the default.
pub async fn tenant_dead_letters(ctx: &Context<'_>, first: Option<i32>) -> async_graphql::Result<Vec<DeadLetter>> {
    let limit = checked_first(first.unwrap_or(DEFAULT_DEAD_LETTERS))?;
    let tx = request_transaction(ctx)?;
    list_dead_letters(&tx, None, limit).await.map_err(crate::errors::internal)
}

fn checked_first(first: i32) -> async_graphql::Result<u64> {
    if (1..=MAX_DEAD_LETTERS).contains(&first) {
        Ok(u64::try_from(first).unwrap_or_default())
    } else {
        Err(ErrorCode::BadUserInput.graphql_error(format!("`first` must be between 1 and {MAX_DEAD_LETTERS}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_is_bounded() {
        assert_eq!(checked_first(1).unwrap(), 1);
        assert_eq!(checked_first(MAX_DEAD_LETTERS).unwrap(), 200);
        for refused in [0, -1, MAX_DEAD_LETTERS + 1] {
            let error = checked_first(refused).unwrap_err();
            assert_eq!(
                error.extensions.and_then(|extensions| extensions.get("code").cloned()),
                Some(async_graphql::Value::from(ErrorCode::BadUserInput.as_str()))
            );
        }
    }
}
