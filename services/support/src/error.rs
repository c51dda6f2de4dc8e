//! Support errors. Resolvers may `?` them: the subgraph's error-masking extension logs
//! the detail and sends clients only `INTERNAL_SERVER_ERROR`.

use atrium_kit::errors;

#[derive(Debug, thiserror::Error)]
pub enum SupportError {
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error(transparent)]
    CorruptValue(#[from] errors::UnknownStoredValue),
    /// A stored ticket whose timestamps contradict its status (a solved ticket without
    /// `solved_at`, say): a data defect reported rather than served.
    #[error("ticket {number}: status {status} contradicts its timestamps")]
    InconsistentTicket { number: String, status: &'static str },
    /// The ticket's status moved since it was read (a concurrent change won): the change
    /// was decided on a state that no longer exists and was not written.
    #[error("ticket {number} moved from {expected} before the change could be written")]
    StatusMoved { number: String, expected: &'static str },
}
