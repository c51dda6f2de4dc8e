//! Delivery errors. Resolvers may `?` them: the subgraph's error-masking extension logs
//! the detail and sends clients only `INTERNAL_SERVER_ERROR`.

use atrium_kit::errors;

use crate::domain::lifecycle::TransitionNotAllowed;

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error(transparent)]
    CorruptValue(#[from] errors::UnknownStoredValue),
    #[error(transparent)]
    TransitionNotAllowed(#[from] TransitionNotAllowed),
}
