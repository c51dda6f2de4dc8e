//! The consuming side of domain events, the same for both transports: an
//! [`EventConsumer`] applies one event through the service's [`EventHandler`] exactly once.
//!
//! Each event is applied in one transaction of its tenant (context
//! [`TenantContext::automation`], actor `consumer:<name>`) that also records it in the
//! inbox (`event_inbox`), so a redelivered event finds itself there and does nothing.
//! Events about a subject older than the newest version this consumer applied for it
//! (`event_subject_versions`) are recorded and skipped, so out-of-order delivery cannot
//! undo a newer state; cross-service commands are exempt (they are idempotent on their
//! key, and several may share their trigger's subject version). A failing event is retried
//! with backoff; a poison one, or one still failing after `max_attempts`, is parked in
//! `event_dead_letters` and acknowledged, so the events after it flow on. Only a database
//! that cannot even record the outcome leaves the event unacknowledged, for the transport
//! to deliver again.
//!
//! [`EventConsumer::process_batch`] applies a delivered batch with one transaction per
//! tenant (each tenant's events in their delivery order; tenants are independent, so
//! their relative order does not matter) and a handful of statements for the whole group.
//! If anything in a group fails, the group is rolled back and its events go one by one
//! through [`EventConsumer::process`], so retries, dead letters and ordering are exactly
//! those of single events.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use chrono::{DateTime, Utc};
use opentelemetry::{
    KeyValue,
    metrics::{Counter, ObservableGauge},
};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, Statement};
use sea_orm_migration::{
    SchemaManager,
    sea_query::{ColumnDef, Index, Table},
};
use tracing::Instrument as _;
use uuid::Uuid;

use super::{DomainEvent, EventHandler, HandlerError, trace, transport::jittered};
use crate::{TenantContext, TenantTransaction, rls, telemetry::Metrics};

const INBOX_TABLE: &str = "event_inbox";
const VERSIONS_TABLE: &str = "event_subject_versions";
const DEAD_LETTERS_TABLE: &str = "event_dead_letters";

/// The tables [`create_consumer_tables`] creates.
pub const CONSUMER_TABLES: [&str; 3] = [INBOX_TABLE, VERSIONS_TABLE, DEAD_LETTERS_TABLE];

/// The PostgreSQL function counting every tenant's dead letters for `/metrics`.
const DEAD_LETTER_COUNT_FUNCTION: &str = "event_dead_letters_count";

/// First pause before retrying a failing event; doubles with every attempt.
const DEFAULT_RETRY_DELAY: Duration = Duration::from_millis(100);

/// Longest pause between two attempts at one event.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(5);

/// Most events of one tenant applied in one transaction: bounds how long it holds its
/// locks and how many parameters its statements carry (six per inbox row).
const MAX_GROUP: usize = 500;

/// What became of one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Processed {
    /// The handler's effect committed with the inbox entry.
    Applied,
    /// Already in the inbox: nothing done.
    Duplicate,
    /// Older than the subject version already applied: recorded, not applied.
    Stale,
    /// A type this consumer does not want: acknowledged without a transaction.
    Ignored,
    /// Parked as a dead letter.
    Parked,
}

impl Processed {
    pub fn as_str(self) -> &'static str {
        match self {
            Processed::Applied => "applied",
            Processed::Duplicate => "duplicate",
            Processed::Stale => "stale",
            Processed::Ignored => "ignored",
            Processed::Parked => "parked",
        }
    }
}

/// A parked event, as a tenant admin sees it.
#[derive(Debug, Clone, PartialEq, async_graphql::SimpleObject)]
#[graphql(name = "EventDeadLetter", shareable)]
pub struct DeadLetter {
    /// The consuming service that parked it.
    pub consumer: String,
    pub event_id: Uuid,
    pub event_type: String,
    /// The full envelope (JSON).
    pub envelope: String,
    /// The last error.
    pub error: String,
    pub attempts: i32,
    pub parked_at: DateTime<Utc>,
}

/// Why applying failed: the handler refused, or the inbox machinery's database did.
enum ApplyError {
    Handler(HandlerError),
    Database(DbErr),
}

impl From<DbErr> for ApplyError {
    fn from(error: DbErr) -> Self {
        ApplyError::Database(error)
    }
}

/// Counters and the dead-letter gauge on the service's registry.
struct ConsumerMetrics {
    consumed: Counter<u64>,
    dead_letters: Arc<AtomicI64>,
    _dead_letter_gauge: ObservableGauge<i64>,
}

impl ConsumerMetrics {
    fn new(metrics: &Metrics, consumer: &str) -> Self {
        let dead_letters = Arc::new(AtomicI64::new(0));
        let observed = Arc::clone(&dead_letters);
        let label = KeyValue::new("consumer", consumer.to_owned());
        let gauge = metrics
            .meter()
            .i64_observable_gauge("atrium.events.dead_letters")
            .with_description("Events parked as dead letters, of every tenant")
            .with_callback(move |observer| {
                observer.observe(observed.load(Ordering::Relaxed), std::slice::from_ref(&label))
            })
            .build();
        ConsumerMetrics {
            consumed: metrics
                .meter()
                .u64_counter("atrium.events.consumed")
                .with_description("Events received by this service's consumer, by type and outcome")
                .build(),
            dead_letters,
            _dead_letter_gauge: gauge,
        }
    }
}

/// Applies events through one service's handler (see the module docs).
pub struct EventConsumer {
    name: String,
    database: DatabaseConnection,
    handler: Arc<dyn EventHandler>,
    max_attempts: u32,
    retry_delay: Duration,
    metrics: Option<ConsumerMetrics>,
}

impl EventConsumer {
    /// A consumer named `name` (the service name: inbox rows, dead letters and the Redis
    /// consumer group carry it) applying events to `database` through `handler`.
    pub fn new(name: &str, database: DatabaseConnection, handler: Arc<dyn EventHandler>) -> Self {
        EventConsumer {
            name: name.to_owned(),
            database,
            handler,
            max_attempts: 5,
            retry_delay: DEFAULT_RETRY_DELAY,
            metrics: None,
        }
    }

    /// Attempts at a failing event before it is parked (at least 1).
    pub fn with_max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts.max(1);
        self
    }

    /// The first pause between attempts (doubling, jittered).
    pub fn with_retry_delay(mut self, retry_delay: Duration) -> Self {
        self.retry_delay = retry_delay;
        self
    }

    /// Reports consumed events and dead letters to `metrics`.
    pub fn with_metrics(mut self, metrics: &Metrics) -> Self {
        self.metrics = Some(ConsumerMetrics::new(metrics, &self.name));
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn database(&self) -> &DatabaseConnection {
        &self.database
    }

    /// Applies `event` at most once (see the module docs). `Ok` means the event may be
    /// acknowledged: applied, known, stale, unwanted or parked. `Err` means not even its
    /// outcome could be recorded: deliver it again later.
    pub async fn process(&self, event: &DomainEvent) -> Result<Processed, DbErr> {
        if !self.handler.wants(&event.event_type) {
            self.count(event, Processed::Ignored);
            return Ok(Processed::Ignored);
        }
        let processed = self.process_with_retries(event).instrument(self.span(event)).await?;
        self.count(event, processed);
        Ok(processed)
    }

    /// The consumer's span for `event`, continuing the producer's trace.
    fn span(&self, event: &DomainEvent) -> tracing::Span {
        let span = tracing::info_span!(
            "event.consume",
            otel.name = %format!("consume {}", event.event_type),
            event.id = %event.id,
            event.r#type = %event.event_type,
            tenant.id = %event.tenant_id,
            consumer = %self.name,
        );
        trace::continue_trace(&span, event.traceparent.as_deref());
        span
    }

    /// Applies `events` as [`EventConsumer::process`] would one after the other, with one
    /// transaction per tenant (see the module docs). The outcomes are in the order of
    /// `events`. `Err` means some event's outcome could not be recorded: deliver the whole
    /// batch again (what did commit is then found in the inbox).
    pub async fn process_batch(&self, events: &[DomainEvent]) -> Result<Vec<Processed>, DbErr> {
        let mut outcomes = vec![Processed::Ignored; events.len()];
        // Tenants in the order they first appear, each with its events' positions in order.
        let mut groups: Vec<(Uuid, Vec<usize>)> = Vec::new();
        for (position, event) in events.iter().enumerate() {
            if !self.handler.wants(&event.event_type) {
                self.count(event, Processed::Ignored);
                continue;
            }
            match groups.iter_mut().find(|(tenant_id, _)| *tenant_id == event.tenant_id) {
                Some((_, positions)) => positions.push(position),
                None => groups.push((event.tenant_id, vec![position])),
            }
        }
        for (_, positions) in groups {
            for chunk in positions.chunks(MAX_GROUP) {
                let group: Vec<&DomainEvent> = chunk.iter().map(|&position| &events[position]).collect();
                for (&position, processed) in chunk.iter().zip(self.process_group(&group).await?) {
                    outcomes[position] = processed;
                }
            }
        }
        Ok(outcomes)
    }

    /// One tenant's events: together in one transaction, or one by one if that fails.
    async fn process_group(&self, group: &[&DomainEvent]) -> Result<Vec<Processed>, DbErr> {
        if let [event] = group {
            return Ok(vec![self.process(event).await?]);
        }
        match self.apply_group(group).await {
            Ok(outcomes) => {
                for (event, &processed) in group.iter().zip(&outcomes) {
                    self.count(event, processed);
                }
                Ok(outcomes)
            }
            Err(failure) => {
                let reason = match failure {
                    ApplyError::Handler(error) => error.to_string(),
                    ApplyError::Database(error) => error.to_string(),
                };
                tracing::debug!(events = group.len(), error = %reason, "a group of events failed; applying them one by one");
                let mut outcomes = Vec::with_capacity(group.len());
                for event in group {
                    outcomes.push(self.process(event).await?);
                }
                Ok(outcomes)
            }
        }
    }

    /// [`EventConsumer::apply`] for a group of one tenant's events in one transaction: the
    /// inbox and the applied versions are read once for the group and written once at the
    /// end; the first failure abandons the whole group (rolled back when `tx` drops).
    async fn apply_group(&self, group: &[&DomainEvent]) -> Result<Vec<Processed>, ApplyError> {
        let Some(first) = group.first() else { return Ok(Vec::new()) };
        let context = TenantContext::automation(first.tenant_id, &format!("consumer:{}", self.name));
        let tx = TenantTransaction::begin_write(&self.database, &context).await?;
        let ids: Vec<Uuid> = group.iter().map(|event| event.id).collect();
        let mut seen = self.inbox_entries(&tx, &ids).await?;
        let ordered_subjects: Vec<Uuid> =
            group.iter().filter(|event| !is_command(&event.event_type)).map(|event| event.subject.id).collect();
        let mut versions = self.applied_versions(&tx, &ordered_subjects).await?;
        let mut changed_versions: HashSet<(String, Uuid)> = HashSet::new();
        let mut recorded: Vec<(&DomainEvent, Processed)> = Vec::with_capacity(group.len());
        let mut outcomes = Vec::with_capacity(group.len());
        for &event in group {
            // Also catches an event delivered twice within the batch.
            if !seen.insert(event.id) {
                outcomes.push(Processed::Duplicate);
                continue;
            }
            let ordered = !is_command(&event.event_type);
            let subject = (event.subject.entity_type.clone(), event.subject.id);
            if ordered && versions.get(&subject).is_some_and(|&applied| event.subject.version < applied) {
                recorded.push((event, Processed::Stale));
                outcomes.push(Processed::Stale);
                continue;
            }
            self.handler.handle(&tx, event).instrument(self.span(event)).await.map_err(ApplyError::Handler)?;
            if ordered {
                let applied = versions.entry(subject.clone()).or_insert(event.subject.version);
                *applied = (*applied).max(event.subject.version);
                changed_versions.insert(subject);
            }
            recorded.push((event, Processed::Applied));
            outcomes.push(Processed::Applied);
        }
        self.record_all_in_inbox(&tx, &recorded).await?;
        let changed: Vec<(&str, Uuid, i64)> = versions
            .iter()
            .filter(|(subject, _)| changed_versions.contains(*subject))
            .map(|((entity_type, id), &version)| (entity_type.as_str(), *id, version))
            .collect();
        self.record_versions(&tx, &changed).await?;
        let applied: Vec<Uuid> = recorded
            .iter()
            .filter(|(_, processed)| *processed == Processed::Applied)
            .map(|(event, _)| event.id)
            .collect();
        if !applied.is_empty() {
            // Events that were parked once and now succeeded (a replay) are no dead letters.
            let mut values = vec![tx.tenant_id().into(), self.name.as_str().into()];
            values.extend(applied.iter().map(|&id| sea_orm::Value::from(id)));
            execute(
                &tx,
                &format!(
                    "DELETE FROM {DEAD_LETTERS_TABLE} WHERE tenant_id = $1 AND consumer = $2 AND event_id IN ({})",
                    placeholders(3, applied.len())
                ),
                values,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(outcomes)
    }

    /// Which of `ids` this consumer's inbox already holds (for the transaction's tenant).
    async fn inbox_entries(&self, tx: &TenantTransaction, ids: &[Uuid]) -> Result<HashSet<Uuid>, DbErr> {
        if ids.is_empty() {
            return Ok(HashSet::new());
        }
        let sql = format!(
            "SELECT event_id FROM {INBOX_TABLE} WHERE tenant_id = $1 AND consumer = $2 AND event_id IN ({})",
            placeholders(3, ids.len())
        );
        let mut values = vec![tx.tenant_id().into(), self.name.as_str().into()];
        values.extend(ids.iter().map(|&id| sea_orm::Value::from(id)));
        let statement = Statement::from_sql_and_values(tx.connection().get_database_backend(), sql, values);
        let rows = tx.connection().query_all_raw(statement).await?;
        rows.into_iter().map(|row| row.try_get::<Uuid>("", "event_id")).collect()
    }

    /// The newest applied version of each of `subject_ids` (by subject type and id).
    async fn applied_versions(
        &self,
        tx: &TenantTransaction,
        subject_ids: &[Uuid],
    ) -> Result<HashMap<(String, Uuid), i64>, DbErr> {
        let subject_ids: Vec<Uuid> = subject_ids.iter().copied().collect::<HashSet<_>>().into_iter().collect();
        if subject_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT subject_type, subject_id, version FROM {VERSIONS_TABLE} \
             WHERE tenant_id = $1 AND consumer = $2 AND subject_id IN ({})",
            placeholders(3, subject_ids.len())
        );
        let mut values = vec![tx.tenant_id().into(), self.name.as_str().into()];
        values.extend(subject_ids.iter().map(|&id| sea_orm::Value::from(id)));
        let statement = Statement::from_sql_and_values(tx.connection().get_database_backend(), sql, values);
        let rows = tx.connection().query_all_raw(statement).await?;
        rows.into_iter()
            .map(|row| {
                let subject = (row.try_get::<String>("", "subject_type")?, row.try_get::<Uuid>("", "subject_id")?);
                Ok((subject, row.try_get::<i64>("", "version")?))
            })
            .collect()
    }

    async fn record_all_in_inbox(
        &self,
        tx: &TenantTransaction,
        recorded: &[(&DomainEvent, Processed)],
    ) -> Result<(), DbErr> {
        if recorded.is_empty() {
            return Ok(());
        }
        let now = Utc::now();
        let mut values: Vec<sea_orm::Value> = Vec::with_capacity(recorded.len() * 6);
        for (event, outcome) in recorded {
            values.extend([
                tx.tenant_id().into(),
                self.name.as_str().into(),
                event.id.into(),
                event.event_type.as_str().into(),
                outcome.as_str().into(),
                now.into(),
            ]);
        }
        execute(
            tx,
            &format!(
                "INSERT INTO {INBOX_TABLE} (tenant_id, consumer, event_id, event_type, outcome, processed_at) \
                 VALUES {}",
                rows_of_placeholders(recorded.len(), 6)
            ),
            values,
        )
        .await
    }

    /// Raises each subject's applied version to the given one (never lowers it).
    async fn record_versions(&self, tx: &TenantTransaction, versions: &[(&str, Uuid, i64)]) -> Result<(), DbErr> {
        if versions.is_empty() {
            return Ok(());
        }
        let mut values: Vec<sea_orm::Value> = Vec::with_capacity(versions.len() * 5);
        for &(entity_type, id, version) in versions {
            values.extend([
                tx.tenant_id().into(),
                self.name.as_str().into(),
                entity_type.into(),
                id.into(),
                version.into(),
            ]);
        }
        execute(
            tx,
            &format!(
                "INSERT INTO {VERSIONS_TABLE} (tenant_id, consumer, subject_type, subject_id, version) \
                 VALUES {} \
                 ON CONFLICT (tenant_id, consumer, subject_type, subject_id) \
                 DO UPDATE SET version = excluded.version WHERE {VERSIONS_TABLE}.version < excluded.version",
                rows_of_placeholders(versions.len(), 5)
            ),
            values,
        )
        .await
    }

    async fn process_with_retries(&self, event: &DomainEvent) -> Result<Processed, DbErr> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let failure = match self.apply(event).await {
                Ok(processed) => return Ok(processed),
                Err(ApplyError::Handler(HandlerError::Poison(reason))) => {
                    self.park(event, &reason, attempt).await?;
                    return Ok(Processed::Parked);
                }
                Err(ApplyError::Handler(HandlerError::Retryable(reason))) => {
                    if attempt >= self.max_attempts {
                        self.park(event, &reason, attempt).await?;
                        return Ok(Processed::Parked);
                    }
                    reason
                }
                Err(ApplyError::Database(error)) => {
                    if attempt >= self.max_attempts {
                        return Err(error);
                    }
                    error.to_string()
                }
            };
            tracing::debug!(event.id = %event.id, attempt, error = %failure, "event failed; retrying");
            let pause = self.retry_delay.saturating_mul(1u32 << (attempt - 1).min(16)).min(MAX_RETRY_DELAY);
            tokio::time::sleep(jittered(pause)).await;
        }
    }

    /// One attempt: inbox check, version check, the handler, the inbox entry, commit.
    async fn apply(&self, event: &DomainEvent) -> Result<Processed, ApplyError> {
        let context = TenantContext::automation(event.tenant_id, &format!("consumer:{}", self.name));
        let tx = TenantTransaction::begin_write(&self.database, &context).await?;
        if self.in_inbox(&tx, event.id).await? {
            return Ok(Processed::Duplicate);
        }
        let ordered = !is_command(&event.event_type);
        if ordered
            && let Some(applied) = self.applied_version(&tx, event).await?
            && event.subject.version < applied
        {
            self.record_in_inbox(&tx, event, Processed::Stale).await?;
            tx.commit().await?;
            return Ok(Processed::Stale);
        }
        self.handler.handle(&tx, event).await.map_err(ApplyError::Handler)?;
        self.record_in_inbox(&tx, event, Processed::Applied).await?;
        if ordered {
            self.record_version(&tx, event).await?;
        }
        // An event that was parked once and now succeeded (a replay) is no dead letter.
        execute(
            &tx,
            &format!("DELETE FROM {DEAD_LETTERS_TABLE} WHERE tenant_id = $1 AND consumer = $2 AND event_id = $3"),
            vec![event.tenant_id.into(), self.name.as_str().into(), event.id.into()],
        )
        .await?;
        tx.commit().await?;
        Ok(Processed::Applied)
    }

    async fn in_inbox(&self, tx: &TenantTransaction, event_id: Uuid) -> Result<bool, DbErr> {
        let sql =
            format!("SELECT 1 AS found FROM {INBOX_TABLE} WHERE tenant_id = $1 AND consumer = $2 AND event_id = $3");
        let values = vec![tx.tenant_id().into(), self.name.as_str().into(), event_id.into()];
        let statement = Statement::from_sql_and_values(tx.connection().get_database_backend(), sql, values);
        Ok(tx.connection().query_one_raw(statement).await?.is_some())
    }

    async fn applied_version(&self, tx: &TenantTransaction, event: &DomainEvent) -> Result<Option<i64>, DbErr> {
        let sql = format!(
            "SELECT version FROM {VERSIONS_TABLE} \
             WHERE tenant_id = $1 AND consumer = $2 AND subject_type = $3 AND subject_id = $4"
        );
        let values = vec![
            tx.tenant_id().into(),
            self.name.as_str().into(),
            event.subject.entity_type.as_str().into(),
            event.subject.id.into(),
        ];
        let statement = Statement::from_sql_and_values(tx.connection().get_database_backend(), sql, values);
        match tx.connection().query_one_raw(statement).await? {
            Some(row) => Ok(Some(row.try_get::<i64>("", "version")?)),
            None => Ok(None),
        }
    }

    async fn record_in_inbox(
        &self,
        tx: &TenantTransaction,
        event: &DomainEvent,
        outcome: Processed,
    ) -> Result<(), DbErr> {
        execute(
            tx,
            &format!(
                "INSERT INTO {INBOX_TABLE} (tenant_id, consumer, event_id, event_type, outcome, processed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)"
            ),
            vec![
                tx.tenant_id().into(),
                self.name.as_str().into(),
                event.id.into(),
                event.event_type.as_str().into(),
                outcome.as_str().into(),
                Utc::now().into(),
            ],
        )
        .await
    }

    async fn record_version(&self, tx: &TenantTransaction, event: &DomainEvent) -> Result<(), DbErr> {
        execute(
            tx,
            &format!(
                "INSERT INTO {VERSIONS_TABLE} (tenant_id, consumer, subject_type, subject_id, version) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (tenant_id, consumer, subject_type, subject_id) \
                 DO UPDATE SET version = excluded.version WHERE {VERSIONS_TABLE}.version < excluded.version"
            ),
            vec![
                tx.tenant_id().into(),
                self.name.as_str().into(),
                event.subject.entity_type.as_str().into(),
                event.subject.id.into(),
                event.subject.version.into(),
            ],
        )
        .await
    }

    /// Parks `event` with its last error, in a transaction of its own.
    async fn park(&self, event: &DomainEvent, error: &str, attempts: u32) -> Result<(), DbErr> {
        tracing::warn!(
            event.id = %event.id, event.r#type = %event.event_type, tenant.id = %event.tenant_id,
            consumer = %self.name, attempts, %error,
            "parking an event as a dead letter"
        );
        let envelope = serde_json::to_string(event).map_err(|error| DbErr::Custom(error.to_string()))?;
        let context = TenantContext::automation(event.tenant_id, &format!("consumer:{}", self.name));
        let tx = TenantTransaction::begin_write(&self.database, &context).await?;
        execute(
            &tx,
            &format!(
                "INSERT INTO {DEAD_LETTERS_TABLE} \
                 (tenant_id, consumer, event_id, event_type, envelope, error, attempts, parked_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (tenant_id, consumer, event_id) DO UPDATE SET \
                 error = excluded.error, attempts = {DEAD_LETTERS_TABLE}.attempts + excluded.attempts, \
                 parked_at = excluded.parked_at"
            ),
            vec![
                event.tenant_id.into(),
                self.name.as_str().into(),
                event.id.into(),
                event.event_type.as_str().into(),
                envelope.into(),
                error.into(),
                i32::try_from(attempts).unwrap_or(i32::MAX).into(),
                Utc::now().into(),
            ],
        )
        .await?;
        tx.commit().await?;
        if let Err(error) = self.refresh_dead_letter_count().await {
            tracing::debug!(%error, "cannot count dead letters");
        }
        Ok(())
    }

    /// Reads the number of parked events (every tenant's) into the dead-letter gauge.
    pub async fn refresh_dead_letter_count(&self) -> Result<i64, DbErr> {
        let count = count_dead_letters(&self.database).await?;
        if let Some(metrics) = &self.metrics {
            metrics.dead_letters.store(count, Ordering::Relaxed);
        }
        Ok(count)
    }

    fn count(&self, event: &DomainEvent, processed: Processed) {
        if let Some(metrics) = &self.metrics {
            metrics.consumed.add(
                1,
                &[KeyValue::new("type", event.event_type.clone()), KeyValue::new("outcome", processed.as_str())],
            );
        }
    }
}

/// Cross-service commands (`<owner>.command.<name>`) are idempotent on their key and are
/// not ordered by their subject's version.
fn is_command(event_type: &str) -> bool {
    event_type.split('.').nth(1) == Some("command")
}

/// `$start, $start+1, …` (`count` of them).
fn placeholders(start: usize, count: usize) -> String {
    (start..start + count).map(|index| format!("${index}")).collect::<Vec<_>>().join(", ")
}

/// `($1, …, $width), ($width+1, …)`: `rows` rows of `width` parameters each.
fn rows_of_placeholders(rows: usize, width: usize) -> String {
    (0..rows).map(|row| format!("({})", placeholders(1 + row * width, width))).collect::<Vec<_>>().join(", ")
}

async fn execute(tx: &TenantTransaction, sql: &str, values: Vec<sea_orm::Value>) -> Result<(), DbErr> {
    let statement = Statement::from_sql_and_values(tx.connection().get_database_backend(), sql, values);
    tx.connection().execute_raw(statement).await.map(|_| ())
}

/// The tenant's dead letters, newest first (all consumers of this service, or `consumer`'s).
pub async fn list_dead_letters(
    tx: &TenantTransaction,
    consumer: Option<&str>,
    limit: u64,
) -> Result<Vec<DeadLetter>, DbErr> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut sql = format!(
        "SELECT consumer, event_id, event_type, envelope, error, attempts, parked_at FROM {DEAD_LETTERS_TABLE} \
         WHERE tenant_id = $1"
    );
    let mut values: Vec<sea_orm::Value> = vec![tx.tenant_id().into(), limit.into()];
    if let Some(consumer) = consumer {
        sql.push_str(" AND consumer = $3");
        values.push(consumer.into());
    }
    sql.push_str(" ORDER BY parked_at DESC, event_id LIMIT $2");
    let statement = Statement::from_sql_and_values(tx.connection().get_database_backend(), sql, values);
    let rows = tx.connection().query_all_raw(statement).await?;
    rows.into_iter()
        .map(|row| {
            Ok(DeadLetter {
                consumer: row.try_get("", "consumer")?,
                event_id: row.try_get("", "event_id")?,
                event_type: row.try_get("", "event_type")?,
                envelope: row.try_get("", "envelope")?,
                error: row.try_get("", "error")?,
                attempts: row.try_get("", "attempts")?,
                parked_at: row.try_get("", "parked_at")?,
            })
        })
        .collect()
}

/// Parked events of every tenant (`/metrics`). On PostgreSQL through a `SECURITY DEFINER`
/// function that refuses to run inside a tenant transaction and returns only the count.
pub async fn count_dead_letters(database: &DatabaseConnection) -> Result<i64, DbErr> {
    let backend = database.get_database_backend();
    let sql = if backend == DatabaseBackend::Postgres {
        format!("SELECT {DEAD_LETTER_COUNT_FUNCTION}() AS parked")
    } else {
        format!("SELECT COUNT(*) AS parked FROM {DEAD_LETTERS_TABLE}")
    };
    let row = database
        .query_one_raw(Statement::from_string(backend, sql))
        .await?
        .ok_or_else(|| DbErr::Custom("dead letter count returned no row".to_owned()))?;
    row.try_get::<i64>("", "parked")
}

/// Migration step giving a consuming service its inbox, applied subject versions and dead
/// letters, each with tenant RLS. Idempotent: parts that exist are left as they are.
pub async fn create_consumer_tables(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    if !manager.has_table(INBOX_TABLE).await? {
        manager
            .create_table(
                Table::create()
                    .table(INBOX_TABLE)
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("consumer").string().not_null())
                    .col(ColumnDef::new("event_id").uuid().not_null())
                    .col(ColumnDef::new("event_type").string().not_null())
                    .col(ColumnDef::new("outcome").string().not_null())
                    .col(ColumnDef::new("processed_at").timestamp_with_time_zone().not_null())
                    .primary_key(Index::create().col("tenant_id").col("consumer").col("event_id"))
                    .to_owned(),
            )
            .await?;
    }
    if !manager.has_table(VERSIONS_TABLE).await? {
        manager
            .create_table(
                Table::create()
                    .table(VERSIONS_TABLE)
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("consumer").string().not_null())
                    .col(ColumnDef::new("subject_type").string().not_null())
                    .col(ColumnDef::new("subject_id").uuid().not_null())
                    .col(ColumnDef::new("version").big_integer().not_null())
                    .primary_key(Index::create().col("tenant_id").col("consumer").col("subject_type").col("subject_id"))
                    .to_owned(),
            )
            .await?;
    }
    if !manager.has_table(DEAD_LETTERS_TABLE).await? {
        manager
            .create_table(
                Table::create()
                    .table(DEAD_LETTERS_TABLE)
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("consumer").string().not_null())
                    .col(ColumnDef::new("event_id").uuid().not_null())
                    .col(ColumnDef::new("event_type").string().not_null())
                    .col(ColumnDef::new("envelope").text().not_null())
                    .col(ColumnDef::new("error").text().not_null())
                    .col(ColumnDef::new("attempts").integer().not_null())
                    .col(ColumnDef::new("parked_at").timestamp_with_time_zone().not_null())
                    .primary_key(Index::create().col("tenant_id").col("consumer").col("event_id"))
                    .to_owned(),
            )
            .await?;
    }
    for table in CONSUMER_TABLES {
        rls::enable_tenant_isolation(manager, table).await?;
    }
    if manager.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    let runtime = rls::RUNTIME_ROLE;
    let mut statements: Vec<String> = CONSUMER_TABLES
        .iter()
        .map(|table| format!("GRANT SELECT, INSERT, UPDATE, DELETE ON \"{table}\" TO {runtime}"))
        .collect();
    statements.extend([
        // The owner counts across tenants inside the function below (forced RLS binds a
        // non-superuser owner too); the runtime role is not subject to this policy.
        format!("DROP POLICY IF EXISTS dead_letters_count ON \"{DEAD_LETTERS_TABLE}\""),
        format!("CREATE POLICY dead_letters_count ON \"{DEAD_LETTERS_TABLE}\" FOR SELECT TO CURRENT_USER USING (true)"),
        format!(
            "CREATE OR REPLACE FUNCTION public.{DEAD_LETTER_COUNT_FUNCTION}() RETURNS bigint \
             LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$ BEGIN \
               IF NULLIF(current_setting('app.tenant_id', true), '') IS NOT NULL THEN \
                 RAISE EXCEPTION 'dead letters are counted outside tenant transactions only' \
                   USING ERRCODE = 'insufficient_privilege'; \
               END IF; \
               RETURN (SELECT COUNT(*) FROM public.\"{DEAD_LETTERS_TABLE}\"); \
             END $$"
        ),
        format!("REVOKE ALL ON FUNCTION public.{DEAD_LETTER_COUNT_FUNCTION}() FROM PUBLIC"),
        format!("GRANT EXECUTE ON FUNCTION public.{DEAD_LETTER_COUNT_FUNCTION}() TO {runtime}"),
    ]);
    for statement in statements {
        manager.get_connection().execute_unprepared(&statement).await?;
    }
    Ok(())
}

/// Migration step undoing [`create_consumer_tables`].
pub async fn drop_consumer_tables(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    if manager.get_database_backend() == DatabaseBackend::Postgres {
        manager
            .get_connection()
            .execute_unprepared(&format!("DROP FUNCTION IF EXISTS public.{DEAD_LETTER_COUNT_FUNCTION}()"))
            .await?;
    }
    for table in CONSUMER_TABLES {
        manager.drop_table(Table::drop().table(table).if_exists().to_owned()).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_recognised_by_their_type() {
        assert!(is_command("delivery.command.create_engagement_from_blueprint"));
        assert!(!is_command("finance.contract.signed"));
        assert!(!is_command("command"));
    }

    #[test]
    fn placeholders_number_rows_one_after_the_other() {
        assert_eq!(placeholders(3, 2), "$3, $4");
        assert_eq!(rows_of_placeholders(2, 3), "($1, $2, $3), ($4, $5, $6)");
    }
}
