//! Delivery repositories. Every function takes a [`TenantTransaction`] and filters by its
//! tenant explicitly, so isolation holds on SQLite too; PostgreSQL RLS is the backstop.
//! Functions that serve DataLoaders take many parent ids and run ONE statement.
//! Partner and customer-portal callers are narrowed the same way (`atrium_kit::scopes`).

use atrium_kit::TenantTransaction;
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::{
    domain::{
        Engagement, EngagementStatus, EngagementType, Milestone, MilestonePhase, MilestoneStatus, Rag, Task, TaskKind,
        TaskStatus,
    },
    entities::{engagement, milestone, task},
    error::DeliveryError,
};

pub mod operations;
mod operations_seed;
pub mod reporting;
mod reporting_seed;
pub mod seed;

/// One page of the tenant's engagements ordered by id (`limit` = `first + 1`, so the
/// caller knows whether more exist), optionally restricted to some statuses.
pub async fn engagements_page(
    tx: &TenantTransaction,
    statuses: Option<&[EngagementStatus]>,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Engagement>, DeliveryError> {
    let mut query =
        engagement::Entity::find().filter(engagement::Column::TenantId.eq(tx.tenant_id())).filter(engagement_scope(tx));
    if let Some(statuses) = statuses {
        query = query.filter(engagement::Column::Status.is_in(statuses.iter().map(|status| status.as_str())));
    }
    if let Some(after) = after {
        query = query.filter(engagement::Column::Id.gt(after));
    }
    let rows = query.order_by_asc(engagement::Column::Id).limit(limit).all(tx.connection()).await?;
    rows.into_iter().map(engagement_from_row).collect()
}

pub async fn engagements_by_ids(tx: &TenantTransaction, ids: &[Uuid]) -> Result<Vec<Engagement>, DeliveryError> {
    let rows = engagement::Entity::find()
        .filter(engagement::Column::TenantId.eq(tx.tenant_id()))
        .filter(engagement_scope(tx))
        .filter(engagement::Column::Id.is_in(ids.iter().copied()))
        .all(tx.connection())
        .await?;
    rows.into_iter().map(engagement_from_row).collect()
}

/// Every engagement of the given customers, ordered by id. Status filters and paging are
/// applied per customer by the caller: a customer has tens of engagements at most, and
/// one statement then serves every mix of arguments in a request.
pub async fn engagements_of_customers(
    tx: &TenantTransaction,
    customer_account_ids: &[Uuid],
) -> Result<Vec<Engagement>, DeliveryError> {
    let rows = engagement::Entity::find()
        .filter(engagement::Column::TenantId.eq(tx.tenant_id()))
        .filter(engagement_scope(tx))
        .filter(engagement::Column::CustomerAccountId.is_in(customer_account_ids.iter().copied()))
        .order_by_asc(engagement::Column::Id)
        .all(tx.connection())
        .await?;
    rows.into_iter().map(engagement_from_row).collect()
}

/// Every milestone of the given engagements, ordered by engagement then `seq`.
pub async fn milestones_of_engagements(
    tx: &TenantTransaction,
    engagement_ids: &[Uuid],
) -> Result<Vec<Milestone>, DeliveryError> {
    let rows = milestone::Entity::find()
        .filter(milestone::Column::TenantId.eq(tx.tenant_id()))
        .filter(milestone_scope(tx))
        .filter(milestone::Column::EngagementId.is_in(engagement_ids.iter().copied()))
        .order_by_asc(milestone::Column::EngagementId)
        .order_by_asc(milestone::Column::Seq)
        .all(tx.connection())
        .await?;
    rows.into_iter().map(milestone_from_row).collect()
}

pub async fn milestones_by_ids(tx: &TenantTransaction, ids: &[Uuid]) -> Result<Vec<Milestone>, DeliveryError> {
    let rows = milestone::Entity::find()
        .filter(milestone::Column::TenantId.eq(tx.tenant_id()))
        .filter(milestone_scope(tx))
        .filter(milestone::Column::Id.is_in(ids.iter().copied()))
        .all(tx.connection())
        .await?;
    rows.into_iter().map(milestone_from_row).collect()
}

/// Every task of the given engagements, ordered by engagement then id (creation order).
pub async fn tasks_of_engagements(tx: &TenantTransaction, engagement_ids: &[Uuid]) -> Result<Vec<Task>, DeliveryError> {
    let rows = task::Entity::find()
        .filter(task::Column::TenantId.eq(tx.tenant_id()))
        .filter(child_scope(tx, task::Column::EngagementId))
        .filter(task::Column::EngagementId.is_in(engagement_ids.iter().copied()))
        .order_by_asc(task::Column::EngagementId)
        .order_by_asc(task::Column::Id)
        .all(tx.connection())
        .await?;
    rows.into_iter().map(task_from_row).collect()
}

pub async fn tasks_by_ids(tx: &TenantTransaction, ids: &[Uuid]) -> Result<Vec<Task>, DeliveryError> {
    let rows = task::Entity::find()
        .filter(task::Column::TenantId.eq(tx.tenant_id()))
        .filter(child_scope(tx, task::Column::EngagementId))
        .filter(task::Column::Id.is_in(ids.iter().copied()))
        .all(tx.connection())
        .await?;
    rows.into_iter().map(task_from_row).collect()
}

/// Partner and customer-portal callers see only their engagements (`atrium_kit::scopes`).
fn engagement_scope(tx: &TenantTransaction) -> Condition {
    tx.second_level_scope(engagement::Column::ChannelPartnerId, engagement::Column::CustomerAccountId)
}

/// Milestones store neither id: a scoped caller sees those of the engagements it sees
/// (the `parent_scope` policy on PostgreSQL is the same rule).
fn milestone_scope(tx: &TenantTransaction) -> Condition {
    child_scope(tx, milestone::Column::EngagementId)
}

/// Rows of a table keyed by `engagement_column` follow their engagement's visibility.
pub(crate) fn child_scope(tx: &TenantTransaction, engagement_column: impl ColumnTrait) -> Condition {
    if !tx.is_second_level_scoped() {
        return Condition::all();
    }
    let visible_engagements = engagement::Entity::find()
        .select_only()
        .column(engagement::Column::Id)
        .filter(engagement::Column::TenantId.eq(tx.tenant_id()))
        .filter(engagement_scope(tx))
        .into_query();
    Condition::all().add(engagement_column.in_subquery(visible_engagements))
}

/// Moves `engagement` to `next` along the state machine (`domain::lifecycle`), as read:
/// the update is conditional on the status it was decided on still being stored, so a
/// concurrent transition that committed in between is never overwritten
/// ([`DeliveryError::StatusMoved`] instead). Holding remembers where the engagement was
/// paused from; resuming or cancelling from hold forgets it. Guards that need other data
/// (signed contract, checklist, go-live) are the calling command's.
pub async fn transition_engagement(
    tx: &TenantTransaction,
    engagement: &Engagement,
    next: EngagementStatus,
) -> Result<Engagement, DeliveryError> {
    crate::domain::lifecycle::check_transition(engagement.status, next, engagement.paused_from_status)?;
    let paused_from = match next {
        EngagementStatus::OnHold => Some(engagement.status),
        _ if engagement.status == EngagementStatus::OnHold => None,
        _ => engagement.paused_from_status,
    };
    let updated = engagement::Entity::update_many()
        .col_expr(engagement::Column::Status, Expr::value(next.as_str()))
        .col_expr(engagement::Column::PausedFromStatus, Expr::value(paused_from.map(EngagementStatus::as_str)))
        .col_expr(engagement::Column::Version, Expr::col(engagement::Column::Version).add(1))
        .filter(engagement::Column::TenantId.eq(tx.tenant_id()))
        .filter(engagement::Column::Id.eq(engagement.id))
        .filter(engagement::Column::Status.eq(engagement.status.as_str()))
        .exec(tx.connection())
        .await?;
    // On PostgreSQL a concurrent writer's row lock makes this wait for its commit, then the
    // condition is re-checked against the committed row: zero rows means we lost.
    if updated.rows_affected != 1 {
        return Err(DeliveryError::StatusMoved {
            number: engagement.number.clone(),
            expected: engagement.status.as_str(),
        });
    }
    Ok(Engagement {
        status: next,
        paused_from_status: paused_from,
        version: engagement.version + 1,
        ..engagement.clone()
    })
}

pub(crate) fn engagement_from_row(row: engagement::Model) -> Result<Engagement, DeliveryError> {
    Ok(Engagement {
        id: row.id,
        number: row.number,
        name: row.name,
        customer_account_id: row.customer_account_id,
        blueprint_id: row.blueprint_id,
        engagement_type: EngagementType::parse(&row.engagement_type)?,
        status: EngagementStatus::parse(&row.status)?,
        paused_from_status: row.paused_from_status.as_deref().map(EngagementStatus::parse).transpose()?,
        rag: Rag::parse(&row.rag)?,
        start_date: row.start_date,
        go_live_target_date: row.go_live_target_date,
        go_live_forecast_date: row.go_live_forecast_date,
        go_live_actual_date: row.go_live_actual_date,
        percent_complete: row.percent_complete,
        version: row.version,
        contract_id: row.contract_id,
        contract_line_id: row.contract_line_id,
        currency: row.currency,
        budget_hours: row.budget_hours,
        blueprint_version_id: row.blueprint_version_id,
        target_onboard_date: row.target_onboard_date,
        delivery_manager_user_id: row.delivery_manager_user_id,
        csm_user_id: row.csm_user_id,
    })
}

pub(crate) fn milestone_from_row(row: milestone::Model) -> Result<Milestone, DeliveryError> {
    Ok(Milestone {
        id: row.id,
        engagement_id: row.engagement_id,
        seq: row.seq,
        name: row.name,
        phase: MilestonePhase::parse(&row.phase)?,
        status: MilestoneStatus::parse(&row.status)?,
        due_date: row.due_date,
        forecast_date: row.forecast_date,
        completed_at: row.completed_at,
        is_go_live: row.is_go_live,
        is_billing: row.is_billing,
        percent_complete: row.percent_complete,
        version: row.version,
        requires_acceptance: row.requires_acceptance,
        accepted_at: row.accepted_at,
        billing_pct: row.billing_pct,
    })
}

pub(crate) fn task_from_row(row: task::Model) -> Result<Task, DeliveryError> {
    Ok(Task {
        id: row.id,
        engagement_id: row.engagement_id,
        milestone_id: row.milestone_id,
        seq: row.seq,
        title: row.title,
        kind: TaskKind::parse(&row.kind)?,
        required: row.required,
        owner_role: row.owner_role,
        assignee_user_id: row.assignee_user_id,
        customer_facing: row.customer_facing,
        status: TaskStatus::parse(&row.status)?,
        offset_days: row.offset_days,
        due_date: row.due_date,
        completed_at: row.completed_at,
        version: row.version,
    })
}
