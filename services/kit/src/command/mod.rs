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
    /// The entity the command acts on when it exists already, so the audit entry of a
    /// refused attempt names it; `None` for commands that create.
    pub target: Option<Uuid>,
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
            // Not this caller's business: a role without the right, or an id that is not
            // the tenant's (another tenant's id must leave no trace in this tenant's data).
            CommandError::Forbidden { .. } | CommandError::NotFound(_) => None,
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
    T: Send,
    F: for<'t> FnOnce(&'t TenantTransaction) -> DomainPart<'t, T>,
{
    let (database, context) = (ctx.data::<DatabaseConnection>()?, ctx.data::<TenantContext>()?);
    execute(database, context, command, domain_part).await.map_err(|error| error.extend())
}

/// [`execute_idempotent`] for a resolver (mutations that create things take an optional
/// `idempotencyKey` argument and pass it here).
pub async fn run_idempotent<T, F>(
    ctx: &async_graphql::Context<'_>,
    command: Command,
    idempotency_key: Option<String>,
    domain_part: F,
) -> async_graphql::Result<T>
where
    T: Serialize + DeserializeOwned + Send,
    F: for<'t> FnOnce(&'t TenantTransaction) -> DomainPart<'t, T>,
{
    let (database, context) = (ctx.data::<DatabaseConnection>()?, ctx.data::<TenantContext>()?);
    execute_idempotent(database, context, command, idempotency_key, domain_part).await.map_err(|error| error.extend())
}

/// Runs `command` for the caller of `context` (see the module docs for the order).
pub async fn execute<T, F>(
    database: &DatabaseConnection,
    context: &TenantContext,
    command: Command,
    domain_part: F,
) -> Result<T, CommandError>
where
    T: Send,
    F: for<'t> FnOnce(&'t TenantTransaction) -> DomainPart<'t, T>,
{
    execute_with(database, context, &command, None, domain_part).await
}

/// As [`execute`], with an optional client-chosen key: a retry with the same key answers
/// the first run's result (stored as JSON with the effect) and writes nothing.
pub async fn execute_idempotent<T, F>(
    database: &DatabaseConnection,
    context: &TenantContext,
    command: Command,
    idempotency_key: Option<String>,
    domain_part: F,
) -> Result<T, CommandError>
where
    T: Serialize + DeserializeOwned + Send,
    F: for<'t> FnOnce(&'t TenantTransaction) -> DomainPart<'t, T>,
{
    let replay = idempotency_key.map(|key| Replay { key, encode: encode::<T>, decode: decode::<T> });
    execute_with(database, context, &command, replay.as_ref(), domain_part).await
}

/// Runs `command` inside `tx`, a transaction someone else commits: an event consumer
/// applying a cross-service command (docs/domain.md#events) runs it in the transaction
/// that also records the event in its inbox, so the command's effect, audit entry and
/// events commit exactly when the event counts as processed. The role check, the domain
/// part, the audit entry and the outbox events are those of [`execute`]; a refusal is
/// returned without an audit entry of its own (the consumer records the outcome, e.g. as
/// an automation run, and rolls back on error).
pub async fn execute_within<T, F>(tx: &TenantTransaction, command: &Command, domain_part: F) -> Result<T, CommandError>
where
    T: Send,
    F: for<'t> FnOnce(&'t TenantTransaction) -> DomainPart<'t, T>,
{
    if !command.allowed_roles.iter().any(|role| tx.context().has_role(role)) {
        return Err(CommandError::Forbidden { allowed_roles: command.allowed_roles });
    }
    let outcome = domain_part(tx).await?;
    let audit_event = AuditEvent {
        operation: command.operation.to_owned(),
        entity_type: command.entity_type.to_owned(),
        entity_ids: outcome.entity_ids,
        detail: Some(outcome.detail),
    };
    audit::record(tx, &audit_event, AuditOutcome::Succeeded).await?;
    for event in &outcome.events {
        outbox::record_event(tx, event).await?;
    }
    Ok(outcome.value)
}

/// How an idempotent command stores its answer and reads it back.
struct Replay<T> {
    key: String,
    encode: fn(&T) -> serde_json::Result<String>,
    decode: fn(&str) -> serde_json::Result<T>,
}

fn encode<T: Serialize>(value: &T) -> serde_json::Result<String> {
    serde_json::to_string(value)
}

fn decode<T: DeserializeOwned>(text: &str) -> serde_json::Result<T> {
    serde_json::from_str(text)
}

async fn execute_with<T, F>(
    database: &DatabaseConnection,
    context: &TenantContext,
    command: &Command,
    replay: Option<&Replay<T>>,
    domain_part: F,
) -> Result<T, CommandError>
where
    T: Send,
    F: for<'t> FnOnce(&'t TenantTransaction) -> DomainPart<'t, T>,
{
    if !command.allowed_roles.iter().any(|role| context.has_role(role)) {
        return Err(CommandError::Forbidden { allowed_roles: command.allowed_roles });
    }
    let tx = TenantTransaction::begin_write(database, context).await?;
    if let Some(replay) = replay {
        if let Some(first) = first_result(&tx, command, replay).await? {
            return Ok(first);
        }
        // Claiming the key first makes a concurrent run with the same key wait on it and
        // then answer this run's result instead of racing it to the domain part.
        match idempotency::claim(&tx, command.operation, &replay.key).await {
            Ok(()) => {}
            Err(error) if idempotency::is_duplicate_key(&error) => {
                drop(tx);
                let tx = TenantTransaction::begin_write(database, context).await?;
                return first_result(&tx, command, replay)
                    .await?
                    .ok_or_else(|| CommandError::stale(command.entity_type));
            }
            Err(error) => return Err(error.into()),
        }
    }
    let outcome = match domain_part(&tx).await {
        Ok(outcome) => outcome,
        Err(error) => {
            // Dropping the transaction rolls back whatever the domain part wrote.
            drop(tx);
            return Err(record_refusal(database, context, command, error).await);
        }
    };
    match finish(tx, command, replay, outcome).await {
        Ok(value) => Ok(value),
        Err(error) => Err(record_refusal(database, context, command, error.into()).await),
    }
}

/// The stored answer of an earlier run with the replay's key, decoded.
async fn first_result<T>(
    tx: &TenantTransaction,
    command: &Command,
    replay: &Replay<T>,
) -> Result<Option<T>, CommandError> {
    let Some(text) = idempotency::first_result(tx, command.operation, &replay.key).await? else { return Ok(None) };
    let value = (replay.decode)(&text)
        .map_err(|error| DbErr::Custom(format!("stored result of an idempotency key is unreadable: {error}")))?;
    Ok(Some(value))
}

async fn finish<T>(
    tx: TenantTransaction,
    command: &Command,
    replay: Option<&Replay<T>>,
    outcome: Outcome<T>,
) -> Result<T, DbErr> {
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
    if let Some(replay) = replay {
        let text = (replay.encode)(&outcome.value).map_err(|error| DbErr::Custom(error.to_string()))?;
        idempotency::store_result(&tx, &replay.key, text).await?;
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
        entity_ids: command.target.into_iter().collect(),
        // The tenant admin reads the trail: internal detail stays in the logs.
        detail: Some(match outcome {
            AuditOutcome::Failed => "internal error".to_owned(),
            _ => error.to_string(),
        }),
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
/// outbox with domain-event columns and per-destination delivery progress, and the
/// idempotency table. Parts that exist already (support had the audit log and a plain
/// outbox before commands) are left as they are, so running it twice changes nothing.
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
    outbox::create_outbox_delivery_table(manager).await?;
    if manager.has_table(idempotency::IDEMPOTENCY_TABLE).await? {
        return Ok(());
    }
    idempotency::create_idempotency_table(manager).await
}
