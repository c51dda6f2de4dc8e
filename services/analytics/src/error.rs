//! Analytics errors. Resolvers may `?` them: the subgraph's error-masking extension logs
//! the detail and sends clients only `INTERNAL_SERVER_ERROR`.

use atrium_kit::errors;

#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error(transparent)]
    CorruptValue(#[from] errors::UnknownStoredValue),
    /// A stored JSON column (an automation rule's trigger, condition or actions) that does
    /// not parse.
    #[error("stored JSON is unreadable: {0}")]
    CorruptJson(String),
}
