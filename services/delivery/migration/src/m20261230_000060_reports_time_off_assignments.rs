//! Status reports, time off and assignments (docs/domain.md#status-reports-time-off-and-assignments):
//! `status_reports` (the delivery manager's RAG view of a period, drafted then published),
//! `time_off` (hours a staff member is away; utilization subtracts them) and `assignments`
//! (who works on which engagement or task, at what share of their time, from when to when).

use atrium_kit::rls::{self, SecondLevelScope};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Status reports and assignments follow their engagement's visibility.
const ENGAGEMENT_CHILD: SecondLevelScope<'static> =
    SecondLevelScope::Parent { column: "engagement_id", parent_table: "engagements" };
/// Time off is the provider's own business: scoped users see none.
const PROVIDER_ONLY: SecondLevelScope<'static> = SecondLevelScope::Columns { partner: None, customer: None };

fn child_of_engagement(table: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("{table}_engagement"))
        .from(table, ("tenant_id", "engagement_id"))
        .to("engagements", ("tenant_id", "id"))
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn of_staff_member(table: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("{table}_staff_member"))
        .from(table, ("tenant_id", "staff_member_id"))
        .to("staff_members", ("tenant_id", "id"))
        .to_owned()
}

async fn index(
    manager: &SchemaManager<'_>,
    table: &'static str,
    name: &str,
    columns: &[&'static str],
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(table);
    for column in columns {
        index.col(*column);
    }
    manager.create_index(index.to_owned()).await
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("status_reports")
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("engagement_id").uuid().not_null())
                    .col(ColumnDef::new("period_start").date().not_null())
                    .col(ColumnDef::new("period_end").date().not_null())
                    .col(ColumnDef::new("rag").string().not_null())
                    .col(ColumnDef::new("summary").text().not_null())
                    .col(ColumnDef::new("status").string().not_null())
                    .col(ColumnDef::new("created_by").string().not_null())
                    .col(ColumnDef::new("created_at").timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new("published_at").timestamp_with_time_zone().null())
                    .col(ColumnDef::new("published_by").string().null())
                    .col(ColumnDef::new("version").big_integer().not_null().default(1))
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .foreign_key(&mut child_of_engagement("status_reports"))
                    .to_owned(),
            )
            .await?;
        index(manager, "status_reports", "status_reports_by_engagement", &["tenant_id", "engagement_id", "id"]).await?;
        manager
            .create_table(
                Table::create()
                    .table("time_off")
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("staff_member_id").uuid().not_null())
                    .col(ColumnDef::new("start_date").date().not_null())
                    .col(ColumnDef::new("end_date").date().not_null())
                    // Hours away over the whole range, spread evenly over its weekdays.
                    .col(ColumnDef::new("hours").decimal_len(7, 2).not_null())
                    .col(ColumnDef::new("reason").text().null())
                    .col(ColumnDef::new("created_by").string().not_null())
                    .col(ColumnDef::new("created_at").timestamp_with_time_zone().not_null())
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .foreign_key(&mut of_staff_member("time_off"))
                    .to_owned(),
            )
            .await?;
        index(manager, "time_off", "time_off_by_staff", &["tenant_id", "staff_member_id", "start_date"]).await?;
        manager
            .create_table(
                Table::create()
                    .table("assignments")
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("staff_member_id").uuid().not_null())
                    .col(ColumnDef::new("engagement_id").uuid().not_null())
                    .col(ColumnDef::new("task_id").uuid().null())
                    // Share of the person's capacity, in percent (1 to 100).
                    .col(ColumnDef::new("allocation_pct").decimal_len(5, 2).not_null())
                    .col(ColumnDef::new("from_date").date().not_null())
                    .col(ColumnDef::new("to_date").date().null())
                    .col(ColumnDef::new("created_by").string().not_null())
                    .col(ColumnDef::new("created_at").timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new("version").big_integer().not_null().default(1))
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .foreign_key(&mut child_of_engagement("assignments"))
                    .foreign_key(&mut of_staff_member("assignments"))
                    .to_owned(),
            )
            .await?;
        index(manager, "assignments", "assignments_by_engagement", &["tenant_id", "engagement_id", "id"]).await?;
        index(manager, "assignments", "assignments_by_staff", &["tenant_id", "staff_member_id", "id"]).await?;
        rls::enable_tenant_isolation(manager, "status_reports").await?;
        rls::enable_second_level_scopes(manager, "status_reports", ENGAGEMENT_CHILD).await?;
        rls::enable_tenant_isolation(manager, "time_off").await?;
        rls::enable_second_level_scopes(manager, "time_off", PROVIDER_ONLY).await?;
        rls::enable_tenant_isolation(manager, "assignments").await?;
        rls::enable_second_level_scopes(manager, "assignments", ENGAGEMENT_CHILD).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["assignments", "time_off", "status_reports"] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
