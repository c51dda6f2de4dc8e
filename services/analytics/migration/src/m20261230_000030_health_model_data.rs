//! The health model as data (docs/domain.md#health-score): `health_models.definition`
//! holds a version's measures per profile, bands, trend settings, minimum coverage and
//! overrides as JSON (null on versions stored before: those are `standard_v1`);
//! `health_snapshots` and `health_measure_scores` keep computed scores per customer and
//! day (`customer_signals.csm_pulse_comment` keeps the comment of the CSM's pulse).
//! Customer tables
//! carry the customer and its channel partner for the second-level scopes. The scheduler's
//! lease table serves the nightly snapshot job.

use atrium_kit::{
    rls::{self, SecondLevelScope},
    schedule,
};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const HEALTH_MODELS: &str = "health_models";
const CUSTOMER_SIGNALS: &str = "customer_signals";
const HEALTH_SNAPSHOTS: &str = "health_snapshots";
const HEALTH_MEASURE_SCORES: &str = "health_measure_scores";

const CUSTOMER_SCOPE: SecondLevelScope<'static> =
    SecondLevelScope::Columns { partner: Some("channel_partner_id"), customer: Some("customer_account_id") };

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The nightly snapshot job's lease (created once, whoever asks first).
        schedule::create_schedule_tables(manager).await?;
        manager
            .alter_table(
                Table::alter().table(HEALTH_MODELS).add_column(ColumnDef::new("definition").text().null()).to_owned(),
            )
            .await?;

        // The comment of the CSM's latest pulse, copied onto the pulse's measure score.
        manager
            .alter_table(
                Table::alter()
                    .table(CUSTOMER_SIGNALS)
                    .add_column(ColumnDef::new("csm_pulse_comment").text().null())
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(HEALTH_SNAPSHOTS)
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("customer_account_id").uuid().not_null())
                    .col(ColumnDef::new("channel_partner_id").uuid().null())
                    .col(ColumnDef::new("model_version").string().not_null())
                    .col(ColumnDef::new("profile").string().not_null())
                    .col(ColumnDef::new("as_of").date().not_null())
                    .col(ColumnDef::new("score").integer().null())
                    .col(ColumnDef::new("band").string().not_null())
                    .col(ColumnDef::new("trend").string().not_null())
                    .col(ColumnDef::new("previous_score").integer().null())
                    .col(ColumnDef::new("override_reason").text().null())
                    .col(ColumnDef::new("coverage").double().not_null())
                    .col(ColumnDef::new("computed_at").timestamp_with_time_zone().not_null())
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .to_owned(),
            )
            .await?;
        // The latest snapshot per customer, and the one a trend compares with.
        manager
            .create_index(
                Index::create()
                    .name("health_snapshots_per_customer_day")
                    .table(HEALTH_SNAPSHOTS)
                    .col("tenant_id")
                    .col("customer_account_id")
                    .col("as_of")
                    .col("computed_at")
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(HEALTH_MEASURE_SCORES)
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("snapshot_id").uuid().not_null())
                    .col(ColumnDef::new("customer_account_id").uuid().not_null())
                    .col(ColumnDef::new("channel_partner_id").uuid().null())
                    .col(ColumnDef::new("measure_code").string().not_null())
                    .col(ColumnDef::new("measure_group").string().not_null())
                    .col(ColumnDef::new("raw_value").double().null())
                    .col(ColumnDef::new("score").integer().null())
                    .col(ColumnDef::new("weight").double().not_null())
                    .col(ColumnDef::new("comment").text().null())
                    .primary_key(Index::create().col("tenant_id").col("snapshot_id").col("measure_code"))
                    .to_owned(),
            )
            .await?;

        for table in [HEALTH_SNAPSHOTS, HEALTH_MEASURE_SCORES] {
            rls::enable_tenant_isolation(manager, table).await?;
            rls::enable_second_level_scopes(manager, table, CUSTOMER_SCOPE).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [HEALTH_MEASURE_SCORES, HEALTH_SNAPSHOTS] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        manager.alter_table(Table::alter().table(CUSTOMER_SIGNALS).drop_column("csm_pulse_comment").to_owned()).await?;
        manager.alter_table(Table::alter().table(HEALTH_MODELS).drop_column("definition").to_owned()).await
    }
}
