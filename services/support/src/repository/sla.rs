//! SLA policies, clocks, ticket comments, escalations and CSAT responses in the support
//! database. Every function takes
//! the [`TenantTransaction`] and filters by its tenant; clock writes are conditional on
//! the version they were read at, so two writers never both move one clock.

use std::collections::BTreeSet;

use atrium_kit::TenantTransaction;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, sea_query::Expr};
use uuid::Uuid;

use crate::{
    domain::{
        CsatResponse, Escalation, SlaClock, SlaClockStatus, SlaMetric, SlaPolicy, SlaTarget, TicketComment,
        TicketPriority, TicketStatus,
        business_hours::{BusinessHoursSchedule, WorkingHours},
    },
    entities::{business_hours_schedule, csat_response, escalation, sla_clock, sla_policy, sla_target, ticket_comment},
    error::SupportError,
};

fn corrupt(what: &str, error: impl std::fmt::Display) -> SupportError {
    SupportError::Database(sea_orm::DbErr::Custom(format!("stored {what} unreadable: {error}")))
}

/// The policy `id`, or the tenant's first policy (by code) when `id` is `None`, with its
/// schedule and targets: three statements.
pub async fn policy(tx: &TenantTransaction, id: Option<Uuid>) -> Result<Option<SlaPolicy>, SupportError> {
    let mut query = sla_policy::Entity::find().filter(sla_policy::Column::TenantId.eq(tx.tenant_id()));
    if let Some(id) = id {
        query = query.filter(sla_policy::Column::Id.eq(id));
    }
    let Some(row) = query.order_by_asc(sla_policy::Column::Code).one(tx.connection()).await? else {
        return Ok(None);
    };
    let schedule = business_hours_schedule::Entity::find()
        .filter(business_hours_schedule::Column::TenantId.eq(tx.tenant_id()))
        .filter(business_hours_schedule::Column::Id.eq(row.business_hours_schedule_id))
        .one(tx.connection())
        .await?
        .ok_or_else(|| corrupt("SLA policy", format!("schedule of policy {} missing", row.code)))?;
    let targets = sla_target::Entity::find()
        .filter(sla_target::Column::TenantId.eq(tx.tenant_id()))
        .filter(sla_target::Column::SlaPolicyId.eq(row.id))
        .all(tx.connection())
        .await?;
    let weekly: Vec<WorkingHours> =
        serde_json::from_str(&schedule.weekly_hours).map_err(|error| corrupt("weekly hours", error))?;
    let holidays: BTreeSet<NaiveDate> =
        serde_json::from_str(&schedule.holidays).map_err(|error| corrupt("holidays", error))?;
    let pause_on: Vec<String> =
        serde_json::from_str(&row.pause_on_statuses).map_err(|error| corrupt("pause statuses", error))?;
    Ok(Some(SlaPolicy {
        id: row.id,
        code: row.code,
        name: row.name,
        schedule: BusinessHoursSchedule { time_zone: schedule.time_zone, weekly, holidays },
        pause_on: pause_on.iter().map(|status| TicketStatus::parse(status)).collect::<Result<_, _>>()?,
        targets: targets
            .into_iter()
            .map(|target| {
                Ok(SlaTarget {
                    priority: TicketPriority::parse(&target.priority)?,
                    metric: SlaMetric::parse(&target.metric)?,
                    target_minutes: target.target_minutes,
                    business_hours: target.business_hours,
                })
            })
            .collect::<Result<_, SupportError>>()?,
    }))
}

/// Writes a schedule and a policy with its targets (the seed of every tenant).
pub async fn insert_policy(
    tx: &TenantTransaction,
    policy: &SlaPolicy,
    schedule_name: &str,
) -> Result<(), SupportError> {
    let schedule_id = Uuid::now_v7();
    let to_json = |value: serde_json::Result<String>| value.map_err(|error| corrupt("SLA policy", error));
    business_hours_schedule::Entity::insert(business_hours_schedule::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(schedule_id),
        name: Set(schedule_name.to_owned()),
        time_zone: Set(policy.schedule.time_zone.clone()),
        weekly_hours: Set(to_json(serde_json::to_string(&policy.schedule.weekly))?),
        holidays: Set(to_json(serde_json::to_string(&policy.schedule.holidays))?),
    })
    .exec(tx.connection())
    .await?;
    let pause_on: Vec<&str> = policy.pause_on.iter().map(|status| status.as_str()).collect();
    sla_policy::Entity::insert(sla_policy::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(policy.id),
        code: Set(policy.code.clone()),
        name: Set(policy.name.clone()),
        business_hours_schedule_id: Set(schedule_id),
        pause_on_statuses: Set(to_json(serde_json::to_string(&pause_on))?),
    })
    .exec(tx.connection())
    .await?;
    let targets = policy.targets.iter().map(|target| sla_target::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(Uuid::now_v7()),
        sla_policy_id: Set(policy.id),
        priority: Set(target.priority.as_str().to_owned()),
        metric: Set(target.metric.as_str().to_owned()),
        target_minutes: Set(target.target_minutes),
        business_hours: Set(target.business_hours),
    });
    sla_target::Entity::insert_many(targets).exec(tx.connection()).await?;
    Ok(())
}

fn clock_row(tenant_id: Uuid, clock: &SlaClock) -> sla_clock::ActiveModel {
    sla_clock::ActiveModel {
        tenant_id: Set(tenant_id),
        id: Set(clock.id),
        ticket_id: Set(clock.ticket_id),
        metric: Set(clock.metric.as_str().to_owned()),
        status: Set(clock.status.as_str().to_owned()),
        target_minutes: Set(clock.target_minutes),
        business_hours: Set(clock.business_hours),
        started_at: Set(clock.started_at),
        running_since: Set(clock.running_since),
        elapsed_seconds: Set(clock.elapsed_seconds),
        due_at: Set(clock.due_at),
        fulfilled_at: Set(clock.fulfilled_at),
        breached_at: Set(clock.breached_at),
        warned_at: Set(clock.warned_at),
        version: Set(clock.version),
    }
}

pub async fn insert_clocks(tx: &TenantTransaction, clocks: &[SlaClock]) -> Result<(), SupportError> {
    if clocks.is_empty() {
        return Ok(());
    }
    let rows = clocks.iter().map(|clock| clock_row(tx.tenant_id(), clock));
    sla_clock::Entity::insert_many(rows).exec(tx.connection()).await?;
    Ok(())
}

/// Stores `clock` over the row still at `read_version`. `false` when another writer moved
/// the clock first (nothing written).
pub async fn update_clock(tx: &TenantTransaction, read_version: i64, clock: &SlaClock) -> Result<bool, SupportError> {
    let updated = sla_clock::Entity::update_many()
        .col_expr(sla_clock::Column::Status, Expr::value(clock.status.as_str()))
        .col_expr(sla_clock::Column::TargetMinutes, Expr::value(clock.target_minutes))
        .col_expr(sla_clock::Column::BusinessHours, Expr::value(clock.business_hours))
        .col_expr(sla_clock::Column::RunningSince, Expr::value(clock.running_since))
        .col_expr(sla_clock::Column::ElapsedSeconds, Expr::value(clock.elapsed_seconds))
        .col_expr(sla_clock::Column::DueAt, Expr::value(clock.due_at))
        .col_expr(sla_clock::Column::FulfilledAt, Expr::value(clock.fulfilled_at))
        .col_expr(sla_clock::Column::BreachedAt, Expr::value(clock.breached_at))
        .col_expr(sla_clock::Column::WarnedAt, Expr::value(clock.warned_at))
        .col_expr(sla_clock::Column::Version, Expr::value(clock.version))
        .filter(sla_clock::Column::TenantId.eq(tx.tenant_id()))
        .filter(sla_clock::Column::Id.eq(clock.id))
        .filter(sla_clock::Column::Version.eq(read_version))
        .exec(tx.connection())
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Every clock of the given tickets in one statement, by ticket then metric.
pub async fn clocks_of_tickets(tx: &TenantTransaction, ticket_ids: &[Uuid]) -> Result<Vec<SlaClock>, SupportError> {
    let rows = sla_clock::Entity::find()
        .filter(sla_clock::Column::TenantId.eq(tx.tenant_id()))
        .filter(sla_clock::Column::TicketId.is_in(ticket_ids.iter().copied()))
        .order_by_asc(sla_clock::Column::TicketId)
        .order_by_asc(sla_clock::Column::Metric)
        .all(tx.connection())
        .await?;
    rows.into_iter().map(clock_from_row).collect()
}

/// The tenant's running clocks (the evaluator's work list), by id.
pub async fn running_clocks(tx: &TenantTransaction) -> Result<Vec<SlaClock>, SupportError> {
    let rows = sla_clock::Entity::find()
        .filter(sla_clock::Column::TenantId.eq(tx.tenant_id()))
        .filter(sla_clock::Column::Status.eq(SlaClockStatus::Running.as_str()))
        .order_by_asc(sla_clock::Column::Id)
        .all(tx.connection())
        .await?;
    rows.into_iter().map(clock_from_row).collect()
}

fn clock_from_row(row: sla_clock::Model) -> Result<SlaClock, SupportError> {
    Ok(SlaClock {
        id: row.id,
        ticket_id: row.ticket_id,
        metric: SlaMetric::parse(&row.metric)?,
        status: SlaClockStatus::parse(&row.status)?,
        target_minutes: row.target_minutes,
        business_hours: row.business_hours,
        started_at: row.started_at,
        running_since: row.running_since,
        elapsed_seconds: row.elapsed_seconds,
        due_at: row.due_at,
        fulfilled_at: row.fulfilled_at,
        breached_at: row.breached_at,
        warned_at: row.warned_at,
        version: row.version,
    })
}

pub async fn insert_comment(tx: &TenantTransaction, comment: &TicketComment) -> Result<(), SupportError> {
    ticket_comment::Entity::insert(ticket_comment::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(comment.id),
        ticket_id: Set(comment.ticket_id),
        author_subject: Set(comment.author_subject.clone()),
        author_type: Set("agent".to_owned()),
        public: Set(comment.public),
        body: Set(comment.body.clone()),
        created_at: Set(comment.created_at),
    })
    .exec(tx.connection())
    .await?;
    Ok(())
}

/// Every comment of the given tickets in one statement, oldest first.
pub async fn comments_of_tickets(
    tx: &TenantTransaction,
    ticket_ids: &[Uuid],
) -> Result<Vec<TicketComment>, SupportError> {
    let rows = ticket_comment::Entity::find()
        .filter(ticket_comment::Column::TenantId.eq(tx.tenant_id()))
        .filter(ticket_comment::Column::TicketId.is_in(ticket_ids.iter().copied()))
        .order_by_asc(ticket_comment::Column::Id)
        .all(tx.connection())
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| TicketComment {
            id: row.id,
            ticket_id: row.ticket_id,
            author_subject: row.author_subject,
            public: row.public,
            body: row.body,
            created_at: row.created_at,
        })
        .collect())
}

/// Every escalation of the given tickets in one statement, by level.
pub async fn escalations_of_tickets(
    tx: &TenantTransaction,
    ticket_ids: &[Uuid],
) -> Result<Vec<Escalation>, SupportError> {
    let rows = escalation::Entity::find()
        .filter(escalation::Column::TenantId.eq(tx.tenant_id()))
        .filter(escalation::Column::TicketId.is_in(ticket_ids.iter().copied()))
        .order_by_asc(escalation::Column::TicketId)
        .order_by_asc(escalation::Column::Level)
        .all(tx.connection())
        .await?;
    Ok(rows.into_iter().map(escalation_from_row).collect())
}

fn escalation_from_row(row: escalation::Model) -> Escalation {
    Escalation {
        id: row.id,
        ticket_id: row.ticket_id,
        level: row.level,
        reason: row.reason,
        status: row.status,
        created_by: row.created_by,
        created_at: row.created_at,
        version: row.version,
        acknowledged_at: row.acknowledged_at,
        acknowledged_by: row.acknowledged_by,
        resolved_at: row.resolved_at,
        resolved_by: row.resolved_by,
        resolution_note: row.resolution_note,
        command_key: row.command_key,
    }
}

/// The escalation `id` of the caller's tenant.
pub async fn escalation(tx: &TenantTransaction, id: Uuid) -> Result<Option<Escalation>, SupportError> {
    let row = escalation::Entity::find()
        .filter(escalation::Column::TenantId.eq(tx.tenant_id()))
        .filter(escalation::Column::Id.eq(id))
        .one(tx.connection())
        .await?;
    Ok(row.map(escalation_from_row))
}

/// The escalation a cross-service command with `key` raised, if one did.
pub async fn escalation_with_command_key(
    tx: &TenantTransaction,
    key: &str,
) -> Result<Option<Escalation>, SupportError> {
    let row = escalation::Entity::find()
        .filter(escalation::Column::TenantId.eq(tx.tenant_id()))
        .filter(escalation::Column::CommandKey.eq(key))
        .one(tx.connection())
        .await?;
    Ok(row.map(escalation_from_row))
}

/// Writes `changed` over the escalation read at `read_version`; `false` when another
/// writer moved it first.
pub async fn update_escalation(
    tx: &TenantTransaction,
    read_version: i64,
    changed: &Escalation,
) -> Result<bool, SupportError> {
    let result = escalation::Entity::update_many()
        .col_expr(escalation::Column::Status, Expr::value(changed.status.clone()))
        .col_expr(escalation::Column::Version, Expr::value(changed.version))
        .col_expr(escalation::Column::AcknowledgedAt, Expr::value(changed.acknowledged_at))
        .col_expr(escalation::Column::AcknowledgedBy, Expr::value(changed.acknowledged_by.clone()))
        .col_expr(escalation::Column::ResolvedAt, Expr::value(changed.resolved_at))
        .col_expr(escalation::Column::ResolvedBy, Expr::value(changed.resolved_by.clone()))
        .col_expr(escalation::Column::ResolutionNote, Expr::value(changed.resolution_note.clone()))
        .filter(escalation::Column::TenantId.eq(tx.tenant_id()))
        .filter(escalation::Column::Id.eq(changed.id))
        .filter(escalation::Column::Version.eq(read_version))
        .exec(tx.connection())
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn insert_escalation(tx: &TenantTransaction, escalation: &Escalation) -> Result<(), SupportError> {
    escalation::Entity::insert(escalation::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(escalation.id),
        ticket_id: Set(escalation.ticket_id),
        level: Set(escalation.level),
        reason: Set(escalation.reason.clone()),
        status: Set(escalation.status.clone()),
        created_by: Set(escalation.created_by.clone()),
        created_at: Set(escalation.created_at),
        version: Set(escalation.version),
        acknowledged_at: Set(escalation.acknowledged_at),
        acknowledged_by: Set(escalation.acknowledged_by.clone()),
        resolved_at: Set(escalation.resolved_at),
        resolved_by: Set(escalation.resolved_by.clone()),
        resolution_note: Set(escalation.resolution_note.clone()),
        command_key: Set(escalation.command_key.clone()),
    })
    .exec(tx.connection())
    .await?;
    Ok(())
}

/// The ticket's CSAT response, if it has one.
pub async fn csat_of_ticket(tx: &TenantTransaction, ticket_id: Uuid) -> Result<Option<CsatResponse>, SupportError> {
    let row = csat_response::Entity::find()
        .filter(csat_response::Column::TenantId.eq(tx.tenant_id()))
        .filter(csat_response::Column::TicketId.eq(ticket_id))
        .one(tx.connection())
        .await?;
    Ok(row.map(|row| CsatResponse {
        id: row.id,
        ticket_id: row.ticket_id,
        score: row.score,
        comment: row.comment,
        received_at: row.received_at,
    }))
}

pub async fn insert_csat(tx: &TenantTransaction, response: &CsatResponse) -> Result<(), SupportError> {
    csat_response::Entity::insert(csat_response::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(response.id),
        ticket_id: Set(response.ticket_id),
        score: Set(response.score),
        comment: Set(response.comment.clone()),
        received_at: Set(response.received_at),
    })
    .exec(tx.connection())
    .await?;
    Ok(())
}

/// Clocks decided (breached, or fulfilled without breach) in `[from, to)`, with their
/// tickets' priorities: two statements.
pub async fn clocks_decided_between(
    tx: &TenantTransaction,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<(TicketPriority, SlaClock)>, SupportError> {
    let breached =
        Condition::all().add(sla_clock::Column::BreachedAt.gte(from)).add(sla_clock::Column::BreachedAt.lt(to));
    let met = Condition::all()
        .add(sla_clock::Column::BreachedAt.is_null())
        .add(sla_clock::Column::FulfilledAt.gte(from))
        .add(sla_clock::Column::FulfilledAt.lt(to));
    let rows = sla_clock::Entity::find()
        .filter(sla_clock::Column::TenantId.eq(tx.tenant_id()))
        .filter(Condition::any().add(breached).add(met))
        .order_by_asc(sla_clock::Column::Id)
        .all(tx.connection())
        .await?;
    let clocks: Vec<SlaClock> = rows.into_iter().map(clock_from_row).collect::<Result<_, _>>()?;
    let mut ticket_ids: Vec<Uuid> = clocks.iter().map(|clock| clock.ticket_id).collect();
    ticket_ids.sort();
    ticket_ids.dedup();
    let priorities: std::collections::HashMap<Uuid, TicketPriority> =
        super::tickets_by_ids(tx, &ticket_ids).await?.into_iter().map(|ticket| (ticket.id, ticket.priority)).collect();
    Ok(clocks
        .into_iter()
        .filter_map(|clock| priorities.get(&clock.ticket_id).map(|priority| (*priority, clock)))
        .collect())
}
