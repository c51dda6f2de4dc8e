//! Stored health snapshots (docs/domain.md#health-snapshots): writing one with its measure
//! scores, the latest per customer, the one a trend compares with, a customer's history,
//! and the customers already snapshotted on a day. Reads are narrowed to the caller's
//! second-level scope like every customer table.

use atrium_kit::TenantTransaction;
use chrono::NaiveDate;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr};
use uuid::Uuid;

use crate::{
    domain::{
        facts::CustomerFacts,
        health_model::{self, HealthSnapshot, ScoredMeasure, Trend},
    },
    entities::{health_measure_score, health_snapshot},
    error::AnalyticsError,
};

fn snapshot_of_row(row: health_snapshot::Model) -> HealthSnapshot {
    HealthSnapshot {
        id: row.id,
        customer_account_id: row.customer_account_id,
        channel_partner_id: row.channel_partner_id,
        model_version: row.model_version,
        profile: row.profile,
        as_of: row.as_of,
        score: row.score,
        band: health_model::parse_band(&row.band),
        trend: Trend::parse(&row.trend),
        previous_score: row.previous_score,
        override_reason: row.override_reason,
        coverage: row.coverage,
        computed_at: row.computed_at,
    }
}

fn of_customers(tx: &TenantTransaction, customer_account_ids: &[Uuid]) -> sea_orm::Select<health_snapshot::Entity> {
    health_snapshot::Entity::find()
        .filter(health_snapshot::Column::TenantId.eq(tx.tenant_id()))
        .filter(
            tx.second_level_scope(
                health_snapshot::Column::ChannelPartnerId,
                health_snapshot::Column::CustomerAccountId,
            ),
        )
        .filter(health_snapshot::Column::CustomerAccountId.is_in(customer_account_ids.iter().copied()))
}

/// A snapshot and its measures (`comment`s by measure code for manual entries).
pub async fn insert(
    tx: &TenantTransaction,
    snapshot: &HealthSnapshot,
    measures: &[ScoredMeasure],
    comments: &[(&str, String)],
) -> Result<(), AnalyticsError> {
    health_snapshot::Entity::insert(health_snapshot::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(snapshot.id),
        customer_account_id: Set(snapshot.customer_account_id),
        channel_partner_id: Set(snapshot.channel_partner_id),
        model_version: Set(snapshot.model_version.clone()),
        profile: Set(snapshot.profile.clone()),
        as_of: Set(snapshot.as_of),
        score: Set(snapshot.score),
        band: Set(health_model::band_as_str(snapshot.band).to_owned()),
        trend: Set(snapshot.trend.as_str().to_owned()),
        previous_score: Set(snapshot.previous_score),
        override_reason: Set(snapshot.override_reason.clone()),
        coverage: Set(snapshot.coverage),
        computed_at: Set(snapshot.computed_at),
    })
    .exec_without_returning(tx.connection())
    .await?;
    if measures.is_empty() {
        return Ok(());
    }
    let rows = measures.iter().map(|measure| health_measure_score::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        snapshot_id: Set(snapshot.id),
        measure_code: Set(measure.code.clone()),
        customer_account_id: Set(snapshot.customer_account_id),
        channel_partner_id: Set(snapshot.channel_partner_id),
        measure_group: Set(measure.group.as_str().to_owned()),
        raw_value: Set(measure.raw_value),
        score: Set(measure.score),
        weight: Set(measure.weight),
        comment: Set(comments.iter().find(|(code, _)| *code == measure.code).map(|(_, comment)| comment.clone())),
    });
    health_measure_score::Entity::insert_many(rows).exec_without_returning(tx.connection()).await?;
    Ok(())
}

/// The newest snapshot of each given customer that has one (one statement: each row is
/// compared with its customer's newest id, ids being time-ordered).
pub async fn latest_of_customers(
    tx: &TenantTransaction,
    customer_account_ids: &[Uuid],
) -> Result<Vec<HealthSnapshot>, AnalyticsError> {
    let newest_of_its_customer = Expr::cust(
        "\"health_snapshots\".\"id\" = (SELECT newer.\"id\" FROM \"health_snapshots\" AS newer \
         WHERE newer.\"tenant_id\" = \"health_snapshots\".\"tenant_id\" \
         AND newer.\"customer_account_id\" = \"health_snapshots\".\"customer_account_id\" \
         ORDER BY newer.\"id\" DESC LIMIT 1)",
    );
    let rows = of_customers(tx, customer_account_ids).filter(newest_of_its_customer).all(tx.connection()).await?;
    Ok(rows.into_iter().map(snapshot_of_row).collect())
}

/// The customer's newest snapshot dated `on_or_before` (what a trend compares with).
pub async fn latest_on_or_before(
    tx: &TenantTransaction,
    customer_account_id: Uuid,
    on_or_before: NaiveDate,
) -> Result<Option<HealthSnapshot>, AnalyticsError> {
    let row = of_customers(tx, &[customer_account_id])
        .filter(health_snapshot::Column::AsOf.lte(on_or_before))
        .order_by_desc(health_snapshot::Column::AsOf)
        .order_by_desc(health_snapshot::Column::ComputedAt)
        .one(tx.connection())
        .await?;
    Ok(row.map(snapshot_of_row))
}

/// The customer's snapshots, newest first (ids are time-ordered), computed before the
/// snapshot `before` when given; at most `limit`.
pub async fn history(
    tx: &TenantTransaction,
    customer_account_id: Uuid,
    before: Option<Uuid>,
    limit: u64,
) -> Result<Vec<HealthSnapshot>, AnalyticsError> {
    let mut query = of_customers(tx, &[customer_account_id]);
    if let Some(before) = before {
        query = query.filter(health_snapshot::Column::Id.lt(before));
    }
    let rows = query.order_by_desc(health_snapshot::Column::Id).limit(limit).all(tx.connection()).await?;
    Ok(rows.into_iter().map(snapshot_of_row).collect())
}

/// Customers with a snapshot dated `as_of` (the nightly job's done list).
pub async fn customers_snapshotted_on(tx: &TenantTransaction, as_of: NaiveDate) -> Result<Vec<Uuid>, AnalyticsError> {
    let ids = health_snapshot::Entity::find()
        .select_only()
        .column(health_snapshot::Column::CustomerAccountId)
        .filter(health_snapshot::Column::TenantId.eq(tx.tenant_id()))
        .filter(health_snapshot::Column::AsOf.eq(as_of))
        .into_tuple::<Uuid>()
        .all(tx.connection())
        .await?;
    Ok(ids)
}

/// Fills `health_score` and `health_band` of each customer's facts from its latest
/// snapshot (customers without one keep `None`).
pub async fn fill_facts(tx: &TenantTransaction, facts: &mut [CustomerFacts]) -> Result<(), AnalyticsError> {
    let ids: Vec<Uuid> = facts.iter().map(|facts| facts.customer_account_id).collect();
    let latest = latest_of_customers(tx, &ids).await?;
    for customer in facts.iter_mut() {
        if let Some(snapshot) = latest.iter().find(|s| s.customer_account_id == customer.customer_account_id) {
            customer.health_score = snapshot.score;
            customer.health_band = Some(health_model::band_as_str(snapshot.band).to_owned());
        }
    }
    Ok(())
}
