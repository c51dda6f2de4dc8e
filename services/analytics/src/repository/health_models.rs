//! Health model versions as stored (docs/domain.md#health-score): reading a version with
//! its definition, creating a draft from another version, saving a draft's definition,
//! activating a draft (the active version retires), and the customers a preview scores.
//! Versions are tenant configuration: every statement filters by the transaction's tenant.

use atrium_kit::TenantTransaction;
use chrono::Utc;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    domain::{HealthModelVersion, health::ModelStatus, health_model::ModelDefinition},
    entities::{customer_lifecycle, customer_signal, health_model},
    error::AnalyticsError,
};

/// A stored row as a version; a row without a definition predates models as data and is
/// `standard_v1`.
pub fn version_of_row(row: health_model::Model) -> Result<HealthModelVersion, AnalyticsError> {
    let definition = match &row.definition {
        Some(text) => serde_json::from_str(text).map_err(|error| AnalyticsError::CorruptJson(error.to_string()))?,
        None => ModelDefinition::standard_v1(),
    };
    Ok(HealthModelVersion {
        id: row.id,
        name: row.name,
        version: row.version,
        status: ModelStatus::parse(&row.status)?,
        definition,
    })
}

pub fn definition_json(definition: &ModelDefinition) -> String {
    serde_json::to_string(definition).expect("a model definition always serializes")
}

pub async fn model_by_id(tx: &TenantTransaction, id: Uuid) -> Result<Option<HealthModelVersion>, AnalyticsError> {
    let row = health_model::Entity::find()
        .filter(health_model::Column::TenantId.eq(tx.tenant_id()))
        .filter(health_model::Column::Id.eq(id))
        .one(tx.connection())
        .await?;
    row.map(version_of_row).transpose()
}

/// The version `version` of the tenant's model named `name`.
pub async fn model_by_version(
    tx: &TenantTransaction,
    name: &str,
    version: i32,
) -> Result<Option<HealthModelVersion>, AnalyticsError> {
    let row = health_model::Entity::find()
        .filter(health_model::Column::TenantId.eq(tx.tenant_id()))
        .filter(health_model::Column::Name.eq(name))
        .filter(health_model::Column::Version.eq(version))
        .one(tx.connection())
        .await?;
    row.map(version_of_row).transpose()
}

/// A new draft of `source`'s model with `source`'s definition, numbered after the newest
/// version of that model.
pub async fn insert_draft(
    tx: &TenantTransaction,
    source: &HealthModelVersion,
) -> Result<HealthModelVersion, AnalyticsError> {
    let newest: Option<i32> = health_model::Entity::find()
        .select_only()
        .column_as(health_model::Column::Version.max(), "newest")
        .filter(health_model::Column::TenantId.eq(tx.tenant_id()))
        .filter(health_model::Column::Name.eq(source.name.as_str()))
        .into_tuple::<Option<i32>>()
        .one(tx.connection())
        .await?
        .flatten();
    let draft = HealthModelVersion {
        id: Uuid::now_v7(),
        name: source.name.clone(),
        version: newest.unwrap_or(source.version) + 1,
        status: ModelStatus::Draft,
        definition: source.definition.clone(),
    };
    health_model::Entity::insert(health_model::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(draft.id),
        name: Set(draft.name.clone()),
        version: Set(draft.version),
        status: Set(ModelStatus::Draft.as_str().to_owned()),
        created_at: Set(Utc::now()),
        definition: Set(Some(definition_json(&draft.definition))),
    })
    .exec_without_returning(tx.connection())
    .await?;
    Ok(draft)
}

/// Replaces a draft's definition; `false` when `id` is not (or no longer) a draft.
pub async fn save_draft_definition(
    tx: &TenantTransaction,
    id: Uuid,
    definition: &ModelDefinition,
) -> Result<bool, AnalyticsError> {
    let result = health_model::Entity::update_many()
        .col_expr(health_model::Column::Definition, Expr::value(definition_json(definition)))
        .filter(health_model::Column::TenantId.eq(tx.tenant_id()))
        .filter(health_model::Column::Id.eq(id))
        .filter(health_model::Column::Status.eq(ModelStatus::Draft.as_str()))
        .exec(tx.connection())
        .await?;
    Ok(result.rows_affected == 1)
}

/// Retires the tenant's active versions and makes draft `id` active; `false` when `id` is
/// not (or no longer) a draft, and then nothing changed.
pub async fn activate_draft(tx: &TenantTransaction, id: Uuid) -> Result<bool, AnalyticsError> {
    health_model::Entity::update_many()
        .col_expr(health_model::Column::Status, Expr::value(ModelStatus::Retired.as_str()))
        .filter(health_model::Column::TenantId.eq(tx.tenant_id()))
        .filter(health_model::Column::Status.eq(ModelStatus::Active.as_str()))
        .exec(tx.connection())
        .await?;
    let result = health_model::Entity::update_many()
        .col_expr(health_model::Column::Status, Expr::value(ModelStatus::Active.as_str()))
        .filter(health_model::Column::TenantId.eq(tx.tenant_id()))
        .filter(health_model::Column::Id.eq(id))
        .filter(health_model::Column::Status.eq(ModelStatus::Draft.as_str()))
        .exec(tx.connection())
        .await?;
    Ok(result.rows_affected == 1)
}

/// Every customer analytics keeps signals or a lifecycle for, in id order: the population
/// a preview scores.
pub async fn known_customers(tx: &TenantTransaction) -> Result<Vec<Uuid>, AnalyticsError> {
    let mut ids: Vec<Uuid> = customer_signal::Entity::find()
        .select_only()
        .column(customer_signal::Column::CustomerAccountId)
        .filter(customer_signal::Column::TenantId.eq(tx.tenant_id()))
        .order_by_asc(customer_signal::Column::CustomerAccountId)
        .into_tuple::<Uuid>()
        .all(tx.connection())
        .await?;
    let staged: Vec<Uuid> = customer_lifecycle::Entity::find()
        .select_only()
        .column(customer_lifecycle::Column::CustomerAccountId)
        .filter(customer_lifecycle::Column::TenantId.eq(tx.tenant_id()))
        .into_tuple::<Uuid>()
        .all(tx.connection())
        .await?;
    ids.extend(staged);
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// Whether analytics keeps signals or a lifecycle for `customer` that the caller's scopes
/// reach.
pub async fn is_known_customer(tx: &TenantTransaction, customer: Uuid) -> Result<bool, AnalyticsError> {
    let signals =
        customer_signal::Entity::find()
            .filter(customer_signal::Column::TenantId.eq(tx.tenant_id()))
            .filter(tx.second_level_scope(
                customer_signal::Column::ChannelPartnerId,
                customer_signal::Column::CustomerAccountId,
            ))
            .filter(customer_signal::Column::CustomerAccountId.eq(customer))
            .count(tx.connection())
            .await?;
    if signals > 0 {
        return Ok(true);
    }
    let lifecycles = customer_lifecycle::Entity::find()
        .filter(customer_lifecycle::Column::TenantId.eq(tx.tenant_id()))
        .filter(tx.second_level_scope(
            customer_lifecycle::Column::ChannelPartnerId,
            customer_lifecycle::Column::CustomerAccountId,
        ))
        .filter(customer_lifecycle::Column::CustomerAccountId.eq(customer))
        .count(tx.connection())
        .await?;
    Ok(lifecycles > 0)
}
