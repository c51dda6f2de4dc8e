//! Finance errors. Resolvers may `?` them: the subgraph's error-masking extension logs
//! the detail and sends clients only `INTERNAL_SERVER_ERROR`.

use atrium_kit::errors;
use rust_decimal::Decimal;

#[derive(Debug, thiserror::Error)]
pub enum FinanceError {
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error(transparent)]
    CorruptValue(#[from] errors::UnknownStoredValue),
    /// A stored invoice whose balance disagrees with total − paid − credited: a data
    /// defect reported rather than served, since every AR figure derives from it.
    #[error("invoice {number}: stored balance {stored} differs from the derived balance {derived}")]
    InconsistentBalance { number: String, stored: Decimal, derived: Decimal },
    /// A conditional update matched no row: the entity changed since it was read.
    #[error("{entity} {id} changed concurrently")]
    Stale { entity: &'static str, id: uuid::Uuid },
}
