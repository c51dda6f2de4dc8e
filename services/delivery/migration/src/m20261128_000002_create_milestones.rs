//! Creates `milestones` (docs/domain.md#delivery) with forced row-level security (PostgreSQL). The
//! engagement reference includes `tenant_id`, so a milestone can never point at another
//! tenant's engagement.

use atrium_kit::rls;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "milestones";

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TABLE)
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("engagement_id").uuid().not_null())
                    .col(ColumnDef::new("seq").integer().not_null())
                    .col(ColumnDef::new("name").string().not_null())
                    .col(ColumnDef::new("phase").string().not_null())
                    .col(ColumnDef::new("status").string().not_null())
                    .col(ColumnDef::new("due_date").date().null())
                    .col(ColumnDef::new("forecast_date").date().null())
                    .col(ColumnDef::new("completed_at").timestamp_with_time_zone().null())
                    .col(ColumnDef::new("is_go_live").boolean().not_null())
                    .col(ColumnDef::new("is_billing").boolean().not_null())
                    .col(ColumnDef::new("percent_complete").decimal_len(7, 4).not_null())
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("milestones_engagement")
                            .from(TABLE, ("tenant_id", "engagement_id"))
                            .to("engagements", ("tenant_id", "id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Milestones load for many engagements at once, ordered by `seq`.
        manager
            .create_index(
                Index::create()
                    .name("milestones_by_engagement")
                    .table(TABLE)
                    .col("tenant_id")
                    .col("engagement_id")
                    .col("seq")
                    .unique()
                    .to_owned(),
            )
            .await?;
        rls::enable_tenant_isolation(manager, TABLE).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(TABLE).to_owned()).await
    }
}
