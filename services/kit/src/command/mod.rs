//! The one write path of every service (docs/domain.md#command-pattern). A mutation
//! declares who may run it and supplies only its domain part; [`execute`] does the rest in
//! a fixed order:
//!
//! role check → idempotency lookup → tenant transaction → the domain part (load with a
//! conditional update, guarded transition, write) → audit entry → domain events into the
//! outbox → idempotency record → commit.
//!
//! Cache invalidation is not a step here: it is one consumer of the outbox the relay
//! drains after commit. A refused attempt (invalid transition, stale write, missing
//! entity, bad input) leaves nothing of itself behind and is audited as `REJECTED` in a
//! transaction of its own; an internal failure likewise as `FAILED`.

pub mod idempotency;
pub mod transition;

use async_graphql::ErrorExtensions;
use futures::future::BoxFuture;
use sea_orm::{DatabaseConnection, DbErr};
use serde::{Serialize, de::DeserializeOwned};
use uuid::Uuid;

pub use transition::{StateMachine, guard_transition};

use crate::{
    ErrorCode, TenantContext, TenantTransaction,
    audit::{self, AuditEvent, AuditOutcome},
    changes::outbox,
    events::DomainEvent,
};

/// What a mutation is, for the role check and the audit trail.
#[derive(Debug, Clone)]
pub struct Command {
    /// The mutation field, e.g. `signContract`.
    pub operation: &'static str,
    /// The GraphQL type it changes, e.g. `Contract`.
    pub entity_type: &'static str,
    /// Roles of which the caller must hold one.
    pub allowed_roles: &'static [&'static str],
    /// A client-chosen key: a retry with the same key answers the first result and
    /// writes nothing.
    pub idempotency_key: Option<String>,
}

/// What the domain part of a command produced.
#[derive(Debug)]
pub struct Outcome<T> {
    /// The mutation's answer; stored for idempotent retries, so it must round-trip JSON.
    pub value: T,
    /// The entities changed, for the audit entry.
    pub entity_ids: Vec<Uuid>,
    /// A short description of the change for the audit entry, e.g. `draft -> submitted`.
    pub detail: String,
    /// Events describing the change, written to the outbox in the same transaction.
    pub events: Vec<DomainEvent>,
}

/// Why a command did not change anything. Each maps to one client-visible code.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("requires one of the roles: {}", .allowed_roles.join(", "))]
    Forbidden { allowed_roles: &'static [&'static str] },
    #[error("no {0} with this id")]
    NotFound(&'static str),
    #[error("{entity} cannot move from {current} to {requested}")]
    InvalidTransition { entity: &'static str, current: String, requested: String, allowed: Vec<String> },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error("database: {0}")]
    Database(#[from] DbErr),
}

impl CommandError {
    pub fn code(&self) -> ErrorCode {
        match self {
            CommandError::Forbidden { .. } => ErrorCode::Forbidden,
            CommandError::NotFound(_) => ErrorCode::NotFound,
            CommandError::InvalidTransition { .. } => ErrorCode::InvalidTransition,
            CommandError::Conflict(_) => ErrorCode::Conflict,
            CommandError::Invalid(_) => ErrorCode::BadUserInput,
            CommandError::Database(_) => ErrorCode::InternalServerError,
        }
    }

    /// A stale write: the row moved on since it was read (a conditional update matched
    /// nothing).
    pub fn stale(entity: &str) -> Self {
        CommandError::Conflict(format!("the {entity} was changed concurrently; read it again and retry"))
    }

    fn audit_outcome(&self) -> Option<AuditOutcome> {
        match self {
            // Never reached the transaction: nothing to record about this tenant's data.
            CommandError::Forbidden { .. } => None,
            CommandError::Database(_) => Some(AuditOutcome::Failed),
            _ => Some(AuditOutcome::Rejected),
        }
    }
}

// Not `From<CommandError> for async_graphql::Error`: async-graphql's blanket conversion
// from any `Display` would win and drop the code. Resolvers go through [`run`].
impl ErrorExtensions for CommandError {
    fn extend(&self) -> async_graphql::Error {
        match self {
            CommandError::Database(error) => crate::errors::internal(error),
            CommandError::InvalidTransition { current, allowed, .. } => {
                self.code().graphql_error(self.to_string()).extend_with(|_, extensions| {
                    extensions.set("current", current.as_str());
                    extensions.set("allowed", allowed.clone());
                })
            }
            other => other.code().graphql_error(other.to_string()),
        }
    }
}

/// The domain part of a command: runs inside the tenant transaction and either produces
/// an [`Outcome`] or refuses. It must change rows only through `tx`.
pub type DomainPart<'t, T> = BoxFuture<'t, Result<Outcome<T>, CommandError>>;

/// [`execute`] for a resolver: the database and the caller come from the request, errors
/// leave with their code (and `current`/`allowed` for invalid transitions).
pub async fn run<T, F>(ctx: &async_graphql::Context<'_>, command: Command, domain_part: F) -> async_graphql::Result<T>
where
    T: Serialize + DeserializeOwned + Send,
    F: for<'t> FnOnce(&'t TenantTransaction) -> DomainPart<'t, T>,
{
    let database = ctx.data::<DatabaseConnection>()?;
    let context = ctx.data::<TenantContext>()?;
    execute(database, context, command, domain_part).await.map_err(|error| error.extend())
}

/// Runs `command` for the caller of `context` (see the module docs for the order).
pub async fn execute<T, F>(
    database: &DatabaseConnection,
    context: &TenantContext,
    command: Command,
    domain_part: F,
) -> Result<T, CommandError>
where
    T: Serialize + DeserializeOwned + Send,
    F: for<'t> FnOnce(&'t TenantTransaction) -> DomainPart<'t, T>,
{
    if !command.allowed_roles.iter().any(|role| context.has_role(role)) {
        return Err(CommandError::Forbidden { allowed_roles: command.allowed_roles });
    }
    let tx = TenantTransaction::begin(database, context).await?;
    if let Some(key) = &command.idempotency_key {
        if let Some(first) = idempotency::first_result::<T>(&tx, command.operation, key).await? {
            return Ok(first);
        }
        // Claiming the key first makes a concurrent run with the same key wait on it and
        // then answer this run's result instead of racing it to the domain part.
        match idempotency::claim(&tx, command.operation, key).await {
            Ok(()) => {}
            Err(error) if idempotency::is_duplicate_key(&error) => {
                drop(tx);
                return replay(database, context, &command, key).await;
            }
            Err(error) => return Err(error.into()),
        }
    }
    let outcome = match domain_part(&tx).await {
        Ok(outcome) => outcome,
        Err(error) => {
            // Dropping the transaction rolls back whatever the domain part wrote.
            drop(tx);
            return Err(record_refusal(database, context, &command, error).await);
        }
    };
    match finish(tx, &command, outcome).await {
        Ok(value) => Ok(value),
        Err(error) => Err(record_refusal(database, context, &command, error.into()).await),
    }
}

/// The answer of the run that claimed `key` first and committed.
async fn replay<T: DeserializeOwned>(
    database: &DatabaseConnection,
    context: &TenantContext,
    command: &Command,
    key: &str,
) -> Result<T, CommandError> {
    let tx = TenantTransaction::begin(database, context).await?;
    idempotency::first_result::<T>(&tx, command.operation, key)
        .await?
        .ok_or_else(|| CommandError::stale(command.entity_type))
}

async fn finish<T: Serialize>(tx: TenantTransaction, command: &Command, outcome: Outcome<T>) -> Result<T, DbErr> {
    let audit_event = AuditEvent {
        operation: command.operation.to_owned(),
        entity_type: command.entity_type.to_owned(),
        entity_ids: outcome.entity_ids,
        detail: Some(outcome.detail),
    };
    audit::record(&tx, &audit_event, AuditOutcome::Succeeded).await?;
    for event in &outcome.events {
        outbox::record_event(&tx, event).await?;
    }
    if let Some(key) = &command.idempotency_key {
        idempotency::store_result(&tx, key, &outcome.value).await?;
    }
    tx.commit().await?;
    Ok(outcome.value)
}

/// Audits a refused or failed attempt in a transaction of its own and returns the error.
async fn record_refusal(
    database: &DatabaseConnection,
    context: &TenantContext,
    command: &Command,
    error: CommandError,
) -> CommandError {
    let Some(outcome) = error.audit_outcome() else { return error };
    let event = AuditEvent {
        operation: command.operation.to_owned(),
        entity_type: command.entity_type.to_owned(),
        entity_ids: Vec::new(),
        detail: Some(error.to_string()),
    };
    let recorded = match outcome {
        AuditOutcome::Failed => audit::record_failure(database, context, &event).await,
        _ => audit::record_rejection(database, context, &event).await,
    };
    if let Err(audit_error) = recorded {
        tracing::error!(error = %audit_error, operation = command.operation, "cannot audit a refused command");
    }
    error
}

/// Migration step giving a service everything [`execute`] writes to: the audit log, the
/// outbox with domain-event columns and the idempotency table. Parts that exist already
/// (support had the audit log and a plain outbox before commands) are left as they are.
pub async fn create_command_tables(manager: &sea_orm_migration::SchemaManager<'_>) -> Result<(), DbErr> {
    if !manager.has_table(audit::AUDIT_TABLE).await? {
        audit::create_audit_table(manager).await?;
    }
    if !manager.has_table(outbox::OUTBOX_TABLE).await? {
        outbox::create_outbox_table(manager).await?;
    }
    if !manager.has_column(outbox::OUTBOX_TABLE, "envelope").await? {
        outbox::add_domain_event_columns(manager).await?;
    }
    idempotency::create_idempotency_table(manager).await
}
