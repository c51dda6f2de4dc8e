//! Writing the manual health inputs (docs/domain.md#manual-measures): the CSM's pulse with
//! its comment and the last executive touch, one `customer_signals` row per customer
//! (created on the first entry).

use atrium_kit::TenantTransaction;
use chrono::{NaiveDate, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use uuid::Uuid;

use crate::{domain::CustomerSignals, entities::customer_signal, error::AnalyticsError};

/// The manual inputs as recorded, with the pulse's comment.
#[derive(Debug, Clone)]
pub struct RecordedSignals {
    pub signals: CustomerSignals,
    pub csm_pulse_comment: Option<String>,
}

async fn row_of(tx: &TenantTransaction, customer: Uuid) -> Result<Option<customer_signal::Model>, AnalyticsError> {
    Ok(customer_signal::Entity::find()
        .filter(customer_signal::Column::TenantId.eq(tx.tenant_id()))
        .filter(
            tx.second_level_scope(
                customer_signal::Column::ChannelPartnerId,
                customer_signal::Column::CustomerAccountId,
            ),
        )
        .filter(customer_signal::Column::CustomerAccountId.eq(customer))
        .one(tx.connection())
        .await?)
}

async fn ensure_row(
    tx: &TenantTransaction,
    customer: Uuid,
    channel_partner_id: Option<Uuid>,
) -> Result<customer_signal::Model, AnalyticsError> {
    if let Some(row) = row_of(tx, customer).await? {
        return Ok(row);
    }
    let row = customer_signal::Model {
        tenant_id: tx.tenant_id(),
        id: Uuid::now_v7(),
        customer_account_id: customer,
        channel_partner_id,
        csm_pulse: None,
        last_exec_touch_on: None,
        updated_at: Utc::now(),
        csm_pulse_comment: None,
    };
    customer_signal::Entity::insert(customer_signal::ActiveModel {
        tenant_id: Set(row.tenant_id),
        id: Set(row.id),
        customer_account_id: Set(row.customer_account_id),
        channel_partner_id: Set(row.channel_partner_id),
        csm_pulse: Set(None),
        last_exec_touch_on: Set(None),
        updated_at: Set(row.updated_at),
        csm_pulse_comment: Set(None),
    })
    .exec_without_returning(tx.connection())
    .await?;
    Ok(row)
}

fn recorded(row: customer_signal::Model) -> RecordedSignals {
    RecordedSignals {
        signals: CustomerSignals {
            customer_account_id: row.customer_account_id,
            csm_pulse: row.csm_pulse,
            last_exec_touch_on: row.last_exec_touch_on,
        },
        csm_pulse_comment: row.csm_pulse_comment,
    }
}

/// Replaces the customer's pulse and its comment.
pub async fn record_pulse(
    tx: &TenantTransaction,
    customer: Uuid,
    channel_partner_id: Option<Uuid>,
    pulse: i32,
    comment: Option<String>,
) -> Result<RecordedSignals, AnalyticsError> {
    let mut row = ensure_row(tx, customer, channel_partner_id).await?;
    let now = Utc::now();
    customer_signal::Entity::update_many()
        .col_expr(customer_signal::Column::CsmPulse, Expr::value(pulse))
        .col_expr(customer_signal::Column::CsmPulseComment, Expr::value(comment.clone()))
        .col_expr(customer_signal::Column::UpdatedAt, Expr::value(now))
        .filter(customer_signal::Column::TenantId.eq(tx.tenant_id()))
        .filter(customer_signal::Column::Id.eq(row.id))
        .exec(tx.connection())
        .await?;
    row.csm_pulse = Some(pulse);
    row.csm_pulse_comment = comment;
    Ok(recorded(row))
}

/// Moves the last executive touch to `on` unless a later one is recorded already (an
/// entry for an older meeting never makes the customer look less attended).
pub async fn record_exec_touch(
    tx: &TenantTransaction,
    customer: Uuid,
    channel_partner_id: Option<Uuid>,
    on: NaiveDate,
) -> Result<RecordedSignals, AnalyticsError> {
    let mut row = ensure_row(tx, customer, channel_partner_id).await?;
    let latest = row.last_exec_touch_on.map_or(on, |last| last.max(on));
    customer_signal::Entity::update_many()
        .col_expr(customer_signal::Column::LastExecTouchOn, Expr::value(latest))
        .col_expr(customer_signal::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(customer_signal::Column::TenantId.eq(tx.tenant_id()))
        .filter(customer_signal::Column::Id.eq(row.id))
        .exec(tx.connection())
        .await?;
    row.last_exec_touch_on = Some(latest);
    Ok(recorded(row))
}

/// The pulse comments of the given customers that have one.
pub async fn pulse_comments(tx: &TenantTransaction, customers: &[Uuid]) -> Result<Vec<(Uuid, String)>, AnalyticsError> {
    let rows = customer_signal::Entity::find()
        .filter(customer_signal::Column::TenantId.eq(tx.tenant_id()))
        .filter(customer_signal::Column::CustomerAccountId.is_in(customers.iter().copied()))
        .filter(customer_signal::Column::CsmPulseComment.is_not_null())
        .all(tx.connection())
        .await?;
    Ok(rows.into_iter().filter_map(|row| Some((row.customer_account_id, row.csm_pulse_comment?))).collect())
}
