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
    /// The engagement's status moved since it was read (a concurrent change won): the
    /// transition was decided on a state that no longer exists and was not written.
    #[error("engagement {number} moved from {expected} before the transition could be written")]
    StatusMoved { number: String, expected: &'static str },
}
