//! Analytics repositories. Every function takes a [`TenantTransaction`] and filters by its
//! tenant explicitly, so isolation holds on SQLite too; PostgreSQL RLS is the backstop.
//! Functions that serve DataLoaders take many customer ids and run ONE statement.
//! Partner and customer-portal callers see only their customers' signals
//! (`atrium_kit::scopes`), and likewise their customers' timelines and stages; the health
//! model is tenant configuration and is not narrowed.

use atrium_kit::TenantTransaction;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::{
    domain::{CustomerSignals, HealthModelVersion, health::ModelStatus},
    entities::{customer_signal, health_model},
    error::AnalyticsError,
};

pub mod automation;
pub mod cs_actions;
pub mod facts;
pub mod health_models;
pub mod health_signals;
pub mod health_snapshots;
pub mod lifecycle;
pub mod seed;

/// The tenant's active health model version (the newest, should two ever be active).
pub async fn active_health_model(tx: &TenantTransaction) -> Result<Option<HealthModelVersion>, AnalyticsError> {
    let row = health_model::Entity::find()
        .filter(health_model::Column::TenantId.eq(tx.tenant_id()))
        .filter(health_model::Column::Status.eq(ModelStatus::Active.as_str()))
        .order_by_desc(health_model::Column::Version)
        .one(tx.connection())
        .await?;
    row.map(health_models::version_of_row).transpose()
}

/// The signals of the given customers (at most one row each).
pub async fn signals_of_customers(
    tx: &TenantTransaction,
    customer_account_ids: &[Uuid],
) -> Result<Vec<CustomerSignals>, AnalyticsError> {
    let rows =
        customer_signal::Entity::find()
            .filter(customer_signal::Column::TenantId.eq(tx.tenant_id()))
            .filter(tx.second_level_scope(
                customer_signal::Column::ChannelPartnerId,
                customer_signal::Column::CustomerAccountId,
            ))
            .filter(customer_signal::Column::CustomerAccountId.is_in(customer_account_ids.iter().copied()))
            .all(tx.connection())
            .await?;
    Ok(rows
        .into_iter()
        .map(|row| CustomerSignals {
            customer_account_id: row.customer_account_id,
            csm_pulse: row.csm_pulse,
            last_exec_touch_on: row.last_exec_touch_on,
        })
        .collect())
}
