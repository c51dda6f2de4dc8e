//! CS actions with their steps, playbooks and notifications
//! (docs/domain.md#cs-actions-and-playbooks). Actions are customer data: partner and
//! customer-portal callers see only their customers' (repository condition here, RLS on
//! PostgreSQL). Playbooks and notifications are tenant configuration and history that
//! scoped callers never see.

use atrium_kit::{TenantTransaction, pagination::PageRequest};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    domain::cs_action::{
        CsAction, CsActionPriority, CsActionStatus, CsActionStep, CsActionType, Notification, Playbook, PlaybookStep,
    },
    entities::{cs_action, cs_action_step, notification, playbook},
    error::AnalyticsError,
};

/// What a list of actions is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct CsActionFilter {
    pub status: Option<CsActionStatus>,
    pub action_type: Option<CsActionType>,
    pub customer_account_id: Option<Uuid>,
}

/// Stores `action` (and its steps) unless an action with `idempotency_key` exists; true
/// when stored.
pub async fn insert_cs_action(
    tx: &TenantTransaction,
    action: &CsAction,
    steps: &[CsActionStep],
    idempotency_key: &str,
) -> Result<bool, AnalyticsError> {
    let present = cs_action::Entity::find()
        .filter(cs_action::Column::TenantId.eq(tx.tenant_id()))
        .filter(cs_action::Column::IdempotencyKey.eq(idempotency_key))
        .count(tx.connection())
        .await?
        > 0;
    if present {
        return Ok(false);
    }
    cs_action::Entity::insert(cs_action::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(action.id),
        customer_account_id: Set(action.customer_account_id),
        channel_partner_id: Set(action.channel_partner_id),
        playbook_id: Set(action.playbook_id),
        action_type: Set(action.action_type.as_str().to_owned()),
        priority: Set(action.priority.as_str().to_owned()),
        owner_role: Set(action.owner_role.clone()),
        due_date: Set(action.due_date),
        status: Set(action.status.as_str().to_owned()),
        reason: Set(action.reason.clone()),
        source_rule_id: Set(action.source_rule_id),
        idempotency_key: Set(Some(idempotency_key.to_owned())),
        created_at: Set(action.created_at),
        closed_at: Set(action.closed_at),
        version: Set(action.version),
    })
    .exec_without_returning(tx.connection())
    .await?;
    if !steps.is_empty() {
        let rows = steps.iter().map(|step| cs_action_step::ActiveModel {
            tenant_id: Set(tx.tenant_id()),
            id: Set(step.id),
            cs_action_id: Set(step.cs_action_id),
            customer_account_id: Set(action.customer_account_id),
            channel_partner_id: Set(action.channel_partner_id),
            ordinal: Set(step.ordinal),
            title: Set(step.title.clone()),
            owner_role: Set(step.owner_role.clone()),
            due_date: Set(step.due_date),
            done: Set(step.done),
        });
        cs_action_step::Entity::insert_many(rows).exec_without_returning(tx.connection()).await?;
    }
    Ok(true)
}

/// `page.first + 1` actions after the cursor matching `filter`, oldest first.
pub async fn cs_actions_after(
    tx: &TenantTransaction,
    filter: &CsActionFilter,
    page: PageRequest,
) -> Result<Vec<CsAction>, AnalyticsError> {
    let mut query = cs_action::Entity::find()
        .filter(cs_action::Column::TenantId.eq(tx.tenant_id()))
        .filter(tx.second_level_scope(cs_action::Column::ChannelPartnerId, cs_action::Column::CustomerAccountId));
    if let Some(status) = filter.status {
        query = query.filter(cs_action::Column::Status.eq(status.as_str()));
    }
    if let Some(action_type) = filter.action_type {
        query = query.filter(cs_action::Column::ActionType.eq(action_type.as_str()));
    }
    if let Some(customer) = filter.customer_account_id {
        query = query.filter(cs_action::Column::CustomerAccountId.eq(customer));
    }
    if let Some(after) = page.after {
        query = query.filter(cs_action::Column::Id.gt(after));
    }
    let rows = query.order_by_asc(cs_action::Column::Id).limit(page.first + 1).all(tx.connection()).await?;
    rows.into_iter().map(action_from_row).collect()
}

/// Every action of the given customers the caller may see, by id (one statement).
pub async fn cs_actions_of_customers(
    tx: &TenantTransaction,
    customer_account_ids: &[Uuid],
) -> Result<Vec<CsAction>, AnalyticsError> {
    let rows = cs_action::Entity::find()
        .filter(cs_action::Column::TenantId.eq(tx.tenant_id()))
        .filter(tx.second_level_scope(cs_action::Column::ChannelPartnerId, cs_action::Column::CustomerAccountId))
        .filter(cs_action::Column::CustomerAccountId.is_in(customer_account_ids.iter().copied()))
        .order_by_asc(cs_action::Column::Id)
        .all(tx.connection())
        .await?;
    rows.into_iter().map(action_from_row).collect()
}

/// The action with `id`, if the caller may see it.
pub async fn find_cs_action(tx: &TenantTransaction, id: Uuid) -> Result<Option<CsAction>, AnalyticsError> {
    let row = cs_action::Entity::find()
        .filter(cs_action::Column::TenantId.eq(tx.tenant_id()))
        .filter(tx.second_level_scope(cs_action::Column::ChannelPartnerId, cs_action::Column::CustomerAccountId))
        .filter(cs_action::Column::Id.eq(id))
        .one(tx.connection())
        .await?;
    row.map(action_from_row).transpose()
}

/// Moves the action at `version` to `status`; false when it moved on meanwhile.
pub async fn set_cs_action_status(
    tx: &TenantTransaction,
    action: &CsAction,
    status: CsActionStatus,
    closed_at: Option<DateTime<Utc>>,
) -> Result<bool, AnalyticsError> {
    let result = cs_action::Entity::update_many()
        .col_expr(cs_action::Column::Status, Expr::value(status.as_str()))
        .col_expr(cs_action::Column::ClosedAt, Expr::value(closed_at))
        .col_expr(cs_action::Column::Version, Expr::value(action.version + 1))
        .filter(cs_action::Column::TenantId.eq(tx.tenant_id()))
        .filter(cs_action::Column::Id.eq(action.id))
        .filter(cs_action::Column::Version.eq(action.version))
        .exec(tx.connection())
        .await?;
    Ok(result.rows_affected == 1)
}

/// The types of the customer's open actions.
pub async fn open_cs_action_types(
    tx: &TenantTransaction,
    customer_account_id: Uuid,
) -> Result<Vec<CsActionType>, AnalyticsError> {
    let rows = cs_action::Entity::find()
        .filter(cs_action::Column::TenantId.eq(tx.tenant_id()))
        .filter(cs_action::Column::CustomerAccountId.eq(customer_account_id))
        .filter(cs_action::Column::Status.is_in([CsActionStatus::Open.as_str(), CsActionStatus::InProgress.as_str()]))
        .all(tx.connection())
        .await?;
    rows.iter().map(|row| Ok(CsActionType::parse(&row.action_type)?)).collect()
}

/// The steps of the given actions, by action then ordinal.
pub async fn steps_of_actions(
    tx: &TenantTransaction,
    cs_action_ids: &[Uuid],
) -> Result<Vec<CsActionStep>, AnalyticsError> {
    let rows = cs_action_step::Entity::find()
        .filter(cs_action_step::Column::TenantId.eq(tx.tenant_id()))
        .filter(
            tx.second_level_scope(cs_action_step::Column::ChannelPartnerId, cs_action_step::Column::CustomerAccountId),
        )
        .filter(cs_action_step::Column::CsActionId.is_in(cs_action_ids.iter().copied()))
        .order_by_asc(cs_action_step::Column::CsActionId)
        .order_by_asc(cs_action_step::Column::Ordinal)
        .all(tx.connection())
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| CsActionStep {
            id: row.id,
            cs_action_id: row.cs_action_id,
            ordinal: row.ordinal,
            title: row.title,
            owner_role: row.owner_role,
            due_date: row.due_date,
            done: row.done,
        })
        .collect())
}

fn action_from_row(row: cs_action::Model) -> Result<CsAction, AnalyticsError> {
    Ok(CsAction {
        id: row.id,
        customer_account_id: row.customer_account_id,
        channel_partner_id: row.channel_partner_id,
        playbook_id: row.playbook_id,
        action_type: CsActionType::parse(&row.action_type)?,
        priority: CsActionPriority::parse(&row.priority)?,
        owner_role: row.owner_role,
        due_date: row.due_date,
        status: CsActionStatus::parse(&row.status)?,
        reason: row.reason,
        source_rule_id: row.source_rule_id,
        created_at: row.created_at,
        closed_at: row.closed_at,
        version: row.version,
    })
}

/// The tenant's playbooks, by code.
pub async fn all_playbooks(tx: &TenantTransaction) -> Result<Vec<Playbook>, AnalyticsError> {
    if tx.is_second_level_scoped() {
        return Ok(Vec::new());
    }
    let rows = playbook::Entity::find()
        .filter(playbook::Column::TenantId.eq(tx.tenant_id()))
        .order_by_asc(playbook::Column::Code)
        .all(tx.connection())
        .await?;
    rows.into_iter().map(playbook_from_row).collect()
}

pub async fn playbook_by_code(tx: &TenantTransaction, code: &str) -> Result<Option<Playbook>, AnalyticsError> {
    let row = playbook::Entity::find()
        .filter(playbook::Column::TenantId.eq(tx.tenant_id()))
        .filter(playbook::Column::Code.eq(code))
        .one(tx.connection())
        .await?;
    row.map(playbook_from_row).transpose()
}

/// Stores `playbook` unless the tenant has one with its code; true when stored.
pub async fn insert_playbook_unless_present(
    tx: &TenantTransaction,
    playbook: &Playbook,
) -> Result<bool, AnalyticsError> {
    if playbook_by_code(tx, &playbook.code).await?.is_some() {
        return Ok(false);
    }
    let steps =
        serde_json::to_string(&playbook.steps).map_err(|error| AnalyticsError::CorruptJson(error.to_string()))?;
    playbook::Entity::insert(playbook::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(playbook.id),
        code: Set(playbook.code.clone()),
        name: Set(playbook.name.clone()),
        trigger_kind: Set(playbook.trigger_kind.clone()),
        cs_action_type: Set(playbook.action_type.as_str().to_owned()),
        steps: Set(steps),
    })
    .exec_without_returning(tx.connection())
    .await?;
    Ok(true)
}

fn playbook_from_row(row: playbook::Model) -> Result<Playbook, AnalyticsError> {
    let steps: Vec<PlaybookStep> = serde_json::from_str(&row.steps)
        .map_err(|error| AnalyticsError::CorruptJson(format!("playbook {} steps: {error}", row.id)))?;
    Ok(Playbook {
        id: row.id,
        code: row.code,
        name: row.name,
        trigger_kind: row.trigger_kind,
        action_type: CsActionType::parse(&row.cs_action_type)?,
        steps,
    })
}

/// Stores `notification` unless one with `idempotency_key` exists; true when stored.
pub async fn insert_notification(
    tx: &TenantTransaction,
    notification: &Notification,
    idempotency_key: &str,
) -> Result<bool, AnalyticsError> {
    let present = notification::Entity::find()
        .filter(notification::Column::TenantId.eq(tx.tenant_id()))
        .filter(notification::Column::IdempotencyKey.eq(idempotency_key))
        .count(tx.connection())
        .await?
        > 0;
    if present {
        return Ok(false);
    }
    notification::Entity::insert(notification::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(notification.id),
        customer_account_id: Set(notification.customer_account_id),
        recipient_role: Set(notification.recipient_role.clone()),
        template: Set(notification.template.clone()),
        message: Set(notification.message.clone()),
        source_rule_id: Set(notification.source_rule_id),
        idempotency_key: Set(Some(idempotency_key.to_owned())),
        created_at: Set(notification.created_at),
    })
    .exec_without_returning(tx.connection())
    .await?;
    Ok(true)
}

/// `page.first + 1` notifications after the cursor, oldest first; none for scoped callers.
pub async fn notifications_after(
    tx: &TenantTransaction,
    recipient_role: Option<&str>,
    page: PageRequest,
) -> Result<Vec<Notification>, AnalyticsError> {
    if tx.is_second_level_scoped() {
        return Ok(Vec::new());
    }
    let mut query = notification::Entity::find().filter(notification::Column::TenantId.eq(tx.tenant_id()));
    if let Some(role) = recipient_role {
        query = query.filter(notification::Column::RecipientRole.eq(role));
    }
    if let Some(after) = page.after {
        query = query.filter(notification::Column::Id.gt(after));
    }
    let rows = query.order_by_asc(notification::Column::Id).limit(page.first + 1).all(tx.connection()).await?;
    Ok(rows
        .into_iter()
        .map(|row| Notification {
            id: row.id,
            customer_account_id: row.customer_account_id,
            recipient_role: row.recipient_role,
            template: row.template,
            message: row.message,
            source_rule_id: row.source_rule_id,
            created_at: row.created_at,
        })
        .collect())
}
