//! Engagement financials repositories (docs/domain.md#engagement-financials): one row per
//! engagement, read per engagement in one statement for the DataLoader and written with
//! a conditional update on the version read. Rows follow their customer's scope.

use atrium_kit::TenantTransaction;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait, sea_query::Expr};
use uuid::Uuid;

use super::{customer_account_scope, money};
use crate::{
    domain::engagement_financials::EngagementLedger,
    entities::{customer_account, engagement_financials},
    error::FinanceError,
};

fn from_row(row: engagement_financials::Model) -> EngagementLedger {
    EngagementLedger {
        engagement_id: row.engagement_id,
        customer_account_id: row.customer_account_id,
        currency: row.currency,
        contract_revenue: money(row.contract_revenue),
        budget_hours: money(row.budget_hours),
        planned_cost_rate: row.planned_cost_rate.map(money),
        change_hours: money(row.change_hours),
        change_price: money(row.change_price),
        actual_hours: money(row.actual_hours),
        actual_cost: money(row.actual_cost),
        closed: row.closed,
        version: row.version,
    }
}

/// The ledgers of the given engagements the caller may see.
pub async fn ledgers_of(
    tx: &TenantTransaction,
    engagement_ids: &[Uuid],
) -> Result<Vec<EngagementLedger>, FinanceError> {
    let mut query = engagement_financials::Entity::find()
        .filter(engagement_financials::Column::TenantId.eq(tx.tenant_id()))
        .filter(engagement_financials::Column::EngagementId.is_in(engagement_ids.iter().copied()));
    if tx.is_second_level_scoped() {
        let visible = customer_account::Entity::find()
            .select_only()
            .column(customer_account::Column::Id)
            .filter(customer_account::Column::TenantId.eq(tx.tenant_id()))
            .filter(customer_account_scope(tx))
            .into_query();
        query = query.filter(engagement_financials::Column::CustomerAccountId.in_subquery(visible));
    }
    Ok(query.all(tx.connection()).await?.into_iter().map(from_row).collect())
}

pub async fn insert_ledger(
    tx: &TenantTransaction,
    ledger: &EngagementLedger,
    at: DateTime<Utc>,
) -> Result<(), FinanceError> {
    let row = engagement_financials::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        engagement_id: Set(ledger.engagement_id),
        customer_account_id: Set(ledger.customer_account_id),
        currency: Set(ledger.currency.clone()),
        contract_revenue: Set(ledger.contract_revenue),
        budget_hours: Set(ledger.budget_hours),
        planned_cost_rate: Set(ledger.planned_cost_rate),
        change_hours: Set(ledger.change_hours),
        change_price: Set(ledger.change_price),
        actual_hours: Set(ledger.actual_hours),
        actual_cost: Set(ledger.actual_cost),
        closed: Set(ledger.closed),
        version: Set(ledger.version),
        updated_at: Set(at),
    };
    engagement_financials::Entity::insert(row).exec_without_returning(tx.connection()).await?;
    Ok(())
}

/// Writes `changed` over the ledger as `read` with the next version; `Stale` when it moved.
pub async fn update_ledger(
    tx: &TenantTransaction,
    read: &EngagementLedger,
    changed: &EngagementLedger,
    at: DateTime<Utc>,
) -> Result<EngagementLedger, FinanceError> {
    let result = engagement_financials::Entity::update_many()
        .col_expr(engagement_financials::Column::ChangeHours, Expr::value(changed.change_hours))
        .col_expr(engagement_financials::Column::ChangePrice, Expr::value(changed.change_price))
        .col_expr(engagement_financials::Column::ActualHours, Expr::value(changed.actual_hours))
        .col_expr(engagement_financials::Column::ActualCost, Expr::value(changed.actual_cost))
        .col_expr(engagement_financials::Column::Closed, Expr::value(changed.closed))
        .col_expr(engagement_financials::Column::Version, Expr::value(read.version + 1))
        .col_expr(engagement_financials::Column::UpdatedAt, Expr::value(at))
        .filter(engagement_financials::Column::TenantId.eq(tx.tenant_id()))
        .filter(engagement_financials::Column::EngagementId.eq(read.engagement_id))
        .filter(engagement_financials::Column::Version.eq(read.version))
        .exec(tx.connection())
        .await?;
    if result.rows_affected != 1 {
        return Err(FinanceError::Stale { entity: "EngagementFinancials", id: read.engagement_id });
    }
    Ok(EngagementLedger { version: read.version + 1, ..changed.clone() })
}
