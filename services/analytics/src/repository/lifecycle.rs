//! The customer journey's tables: the timeline, the engagement read model and the current
//! stage. Writers run inside the event consumer's transaction; readers serve DataLoaders
//! (many customers, one statement) under the caller's second-level scopes.

use atrium_kit::TenantTransaction;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, sea_query::Expr};
use uuid::Uuid;

use crate::{
    domain::{
        CustomerLifecycle, TimelineEntry,
        lifecycle::{EngagementStatus, LifecycleEventType, LifecycleStage},
    },
    entities::{customer_lifecycle, customer_signal, lifecycle_event, rm_engagement},
    error::AnalyticsError,
};

/// A timeline entry about to be appended.
pub struct NewTimelineEntry {
    pub customer_account_id: Uuid,
    pub channel_partner_id: Option<Uuid>,
    pub event_type: LifecycleEventType,
    pub occurred_at: DateTime<Utc>,
    pub source_service: String,
    pub source_event_id: Uuid,
    pub payload: String,
}

/// The customer's channel partner as analytics knows it (its signals or its lifecycle);
/// `None` for direct customers and customers analytics has not met.
pub async fn channel_partner_of(
    tx: &TenantTransaction,
    customer_account_id: Uuid,
) -> Result<Option<Uuid>, AnalyticsError> {
    let signals = customer_signal::Entity::find()
        .filter(customer_signal::Column::TenantId.eq(tx.tenant_id()))
        .filter(customer_signal::Column::CustomerAccountId.eq(customer_account_id))
        .one(tx.connection())
        .await?;
    if let Some(partner) = signals.and_then(|row| row.channel_partner_id) {
        return Ok(Some(partner));
    }
    let lifecycle =
        customer_lifecycle::Entity::find_by_id((tx.tenant_id(), customer_account_id)).one(tx.connection()).await?;
    Ok(lifecycle.and_then(|row| row.channel_partner_id))
}

/// Appends `entry` unless its source event is on the timeline already; true when appended.
pub async fn append_timeline_entry(tx: &TenantTransaction, entry: NewTimelineEntry) -> Result<bool, AnalyticsError> {
    let known = lifecycle_event::Entity::find()
        .filter(lifecycle_event::Column::TenantId.eq(tx.tenant_id()))
        .filter(lifecycle_event::Column::SourceEventId.eq(entry.source_event_id))
        .one(tx.connection())
        .await?
        .is_some();
    if known {
        return Ok(false);
    }
    lifecycle_event::Entity::insert(lifecycle_event::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(Uuid::now_v7()),
        customer_account_id: Set(entry.customer_account_id),
        channel_partner_id: Set(entry.channel_partner_id),
        event_type: Set(entry.event_type.as_str().to_owned()),
        occurred_at: Set(entry.occurred_at),
        source_service: Set(entry.source_service),
        source_event_id: Set(entry.source_event_id),
        payload: Set(entry.payload),
    })
    .exec_without_returning(tx.connection())
    .await?;
    Ok(true)
}

/// An engagement's status as one event reported it.
pub struct EngagementUpdate {
    pub engagement_id: Uuid,
    pub customer_account_id: Uuid,
    pub channel_partner_id: Option<Uuid>,
    pub status: EngagementStatus,
    pub subject_version: i64,
    pub occurred_at: DateTime<Utc>,
}

/// Applies `update` to the read model unless a newer (or the same) version of the
/// engagement is there already; true when applied.
pub async fn apply_engagement_update(tx: &TenantTransaction, update: EngagementUpdate) -> Result<bool, AnalyticsError> {
    let current =
        rm_engagement::Entity::find_by_id((tx.tenant_id(), update.engagement_id)).one(tx.connection()).await?;
    match current {
        None => {
            rm_engagement::Entity::insert(rm_engagement::ActiveModel {
                tenant_id: Set(tx.tenant_id()),
                engagement_id: Set(update.engagement_id),
                customer_account_id: Set(update.customer_account_id),
                channel_partner_id: Set(update.channel_partner_id),
                status: Set(update.status.as_str().to_owned()),
                updated_at: Set(update.occurred_at),
                subject_version: Set(update.subject_version),
            })
            .exec_without_returning(tx.connection())
            .await?;
            Ok(true)
        }
        Some(row) if row.subject_version >= update.subject_version => Ok(false),
        Some(row) => {
            // Conditional on the version read: a concurrent newer update wins.
            let updated = rm_engagement::Entity::update_many()
                .col_expr(rm_engagement::Column::Status, Expr::value(update.status.as_str()))
                .col_expr(rm_engagement::Column::UpdatedAt, Expr::value(update.occurred_at))
                .col_expr(rm_engagement::Column::SubjectVersion, Expr::value(update.subject_version))
                .filter(rm_engagement::Column::TenantId.eq(tx.tenant_id()))
                .filter(rm_engagement::Column::EngagementId.eq(update.engagement_id))
                .filter(rm_engagement::Column::SubjectVersion.eq(row.subject_version))
                .exec(tx.connection())
                .await?;
            Ok(updated.rows_affected == 1)
        }
    }
}

/// The statuses of the customer's engagements analytics knows.
pub async fn engagement_statuses_of(
    tx: &TenantTransaction,
    customer_account_id: Uuid,
) -> Result<Vec<EngagementStatus>, AnalyticsError> {
    let rows = rm_engagement::Entity::find()
        .filter(rm_engagement::Column::TenantId.eq(tx.tenant_id()))
        .filter(rm_engagement::Column::CustomerAccountId.eq(customer_account_id))
        .all(tx.connection())
        .await?;
    rows.iter().map(|row| Ok(EngagementStatus::parse(&row.status)?)).collect()
}

/// A stage change [`save_stage`] made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageChange {
    pub from: Option<LifecycleStage>,
    pub to: LifecycleStage,
    /// The lifecycle row's version after the change.
    pub version: i64,
}

/// Stores `stage` as the customer's stage; `None` when it already was (the entry time
/// then stays).
pub async fn save_stage(
    tx: &TenantTransaction,
    customer_account_id: Uuid,
    channel_partner_id: Option<Uuid>,
    stage: LifecycleStage,
    at: DateTime<Utc>,
) -> Result<Option<StageChange>, AnalyticsError> {
    let current =
        customer_lifecycle::Entity::find_by_id((tx.tenant_id(), customer_account_id)).one(tx.connection()).await?;
    let Some(current) = current else {
        customer_lifecycle::Entity::insert(customer_lifecycle::ActiveModel {
            tenant_id: Set(tx.tenant_id()),
            customer_account_id: Set(customer_account_id),
            channel_partner_id: Set(channel_partner_id),
            stage: Set(stage.as_str().to_owned()),
            stage_entered_at: Set(at),
            version: Set(1),
        })
        .exec_without_returning(tx.connection())
        .await?;
        return Ok(Some(StageChange { from: None, to: stage, version: 1 }));
    };
    let from = LifecycleStage::parse(&current.stage)?;
    if from == stage {
        return Ok(None);
    }
    let updated = customer_lifecycle::Entity::update_many()
        .col_expr(customer_lifecycle::Column::Stage, Expr::value(stage.as_str()))
        .col_expr(customer_lifecycle::Column::StageEnteredAt, Expr::value(at))
        .col_expr(customer_lifecycle::Column::Version, Expr::value(current.version + 1))
        .filter(customer_lifecycle::Column::TenantId.eq(tx.tenant_id()))
        .filter(customer_lifecycle::Column::CustomerAccountId.eq(customer_account_id))
        .filter(customer_lifecycle::Column::Version.eq(current.version))
        .exec(tx.connection())
        .await?;
    if updated.rows_affected != 1 {
        return Err(sea_orm::DbErr::Custom(format!("lifecycle of {customer_account_id} changed concurrently")).into());
    }
    Ok(Some(StageChange { from: Some(from), to: stage, version: current.version + 1 }))
}

/// The timelines of the given customers, each in journey order (`occurred_at`, then id).
pub async fn timelines_of_customers(
    tx: &TenantTransaction,
    customer_account_ids: &[Uuid],
) -> Result<Vec<TimelineEntry>, AnalyticsError> {
    let rows =
        lifecycle_event::Entity::find()
            .filter(lifecycle_event::Column::TenantId.eq(tx.tenant_id()))
            .filter(tx.second_level_scope(
                lifecycle_event::Column::ChannelPartnerId,
                lifecycle_event::Column::CustomerAccountId,
            ))
            .filter(lifecycle_event::Column::CustomerAccountId.is_in(customer_account_ids.iter().copied()))
            .order_by_asc(lifecycle_event::Column::CustomerAccountId)
            .order_by_asc(lifecycle_event::Column::OccurredAt)
            .order_by_asc(lifecycle_event::Column::Id)
            .all(tx.connection())
            .await?;
    rows.into_iter()
        .map(|row| {
            Ok(TimelineEntry {
                id: row.id,
                customer_account_id: row.customer_account_id,
                event_type: LifecycleEventType::parse(&row.event_type)?,
                occurred_at: row.occurred_at,
                source_service: row.source_service,
                payload: row.payload,
            })
        })
        .collect()
}

/// The current lifecycles of the given customers (customers without one are missing).
pub async fn lifecycles_of_customers(
    tx: &TenantTransaction,
    customer_account_ids: &[Uuid],
) -> Result<Vec<CustomerLifecycle>, AnalyticsError> {
    let rows = customer_lifecycle::Entity::find()
        .filter(customer_lifecycle::Column::TenantId.eq(tx.tenant_id()))
        .filter(tx.second_level_scope(
            customer_lifecycle::Column::ChannelPartnerId,
            customer_lifecycle::Column::CustomerAccountId,
        ))
        .filter(customer_lifecycle::Column::CustomerAccountId.is_in(customer_account_ids.iter().copied()))
        .all(tx.connection())
        .await?;
    rows.into_iter()
        .map(|row| {
            Ok(CustomerLifecycle {
                customer_account_id: row.customer_account_id,
                stage: LifecycleStage::parse(&row.stage)?,
                stage_entered_at: row.stage_entered_at,
            })
        })
        .collect()
}
