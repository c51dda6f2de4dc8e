//! Catalog errors. Resolvers may `?` them: the subgraph's error-masking extension logs
//! the detail and sends clients only `INTERNAL_SERVER_ERROR`.

use atrium_kit::errors;

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error(transparent)]
    CorruptValue(#[from] errors::UnknownStoredValue),
    /// A conditional update matched nothing: the row changed since it was read.
    #[error("the {entity} {id} changed concurrently")]
    Moved { entity: &'static str, id: uuid::Uuid },
    #[error("stored depends_on_seq is not a list of numbers: {0}")]
    CorruptDependencies(#[from] serde_json::Error),
}
