//! Delivery operations (docs/domain.md#delivery-operations): `staff_members` (who works,
//! at which rates and capacity), `time_entries` (hours logged against engagements, with
//! the rates they were approved at), `change_requests` (scope changes with their impact),
//! the milestone columns the billing schedule and the late-milestone emitter need
//! (`billing_pct`, `late_emitted_at`) and the engagement's `currency` and `budget_hours`.

use atrium_kit::rls::{self, SecondLevelScope};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Time entries and change requests follow their engagement's visibility.
const ENGAGEMENT_CHILD: SecondLevelScope<'static> =
    SecondLevelScope::Parent { column: "engagement_id", parent_table: "engagements" };
/// Staff belong to the provider, not to a partner or customer: scoped users see none.
const PROVIDER_ONLY: SecondLevelScope<'static> = SecondLevelScope::Columns { partner: None, customer: None };

fn engagement_columns() -> Vec<ColumnDef> {
    vec![
        ColumnDef::new("currency").string_len(3).null().to_owned(),
        ColumnDef::new("budget_hours").decimal_len(10, 2).null().to_owned(),
    ]
}

fn milestone_columns() -> Vec<ColumnDef> {
    vec![
        // Share of the fixed fee billed at this milestone, a fraction (0.40 = 40 %).
        ColumnDef::new("billing_pct").decimal_len(5, 4).null().to_owned(),
        // Set in the transaction that emits `delivery.milestone.became_late`: once only.
        ColumnDef::new("late_emitted_at").timestamp_with_time_zone().null().to_owned(),
    ]
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in engagement_columns() {
            manager.alter_table(Table::alter().table("engagements").add_column(column).to_owned()).await?;
        }
        for column in milestone_columns() {
            manager.alter_table(Table::alter().table("milestones").add_column(column).to_owned()).await?;
        }
        create_staff_members(manager).await?;
        create_time_entries(manager).await?;
        create_change_requests(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["change_requests", "time_entries", "staff_members"] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        for column in milestone_columns() {
            let name = column.get_column_name();
            manager.alter_table(Table::alter().table("milestones").drop_column(name).to_owned()).await?;
        }
        for column in engagement_columns() {
            let name = column.get_column_name();
            manager.alter_table(Table::alter().table("engagements").drop_column(name).to_owned()).await?;
        }
        Ok(())
    }
}

async fn create_staff_members(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table("staff_members")
                .col(ColumnDef::new("tenant_id").uuid().not_null())
                .col(ColumnDef::new("id").uuid().not_null())
                .col(ColumnDef::new("user_id").string().null())
                .col(ColumnDef::new("name").string().not_null())
                .col(ColumnDef::new("role").string().not_null())
                .col(ColumnDef::new("cost_rate").decimal_len(12, 2).not_null())
                .col(ColumnDef::new("bill_rate").decimal_len(12, 2).not_null())
                .col(ColumnDef::new("rate_currency").string_len(3).not_null())
                .col(ColumnDef::new("weekly_capacity_hours").decimal_len(6, 2).not_null())
                .col(ColumnDef::new("time_zone").string().not_null())
                .col(ColumnDef::new("active").boolean().not_null())
                .col(ColumnDef::new("version").big_integer().not_null().default(1))
                .primary_key(Index::create().col("tenant_id").col("id"))
                .to_owned(),
        )
        .await?;
    // A signed-in user is at most one staff member of a tenant: their time resolves to it.
    manager
        .create_index(
            Index::create()
                .name("staff_members_by_user")
                .table("staff_members")
                .col("tenant_id")
                .col("user_id")
                .unique()
                .to_owned(),
        )
        .await?;
    rls::enable_tenant_isolation(manager, "staff_members").await?;
    rls::enable_second_level_scopes(manager, "staff_members", PROVIDER_ONLY).await
}

async fn create_time_entries(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table("time_entries")
                .col(ColumnDef::new("tenant_id").uuid().not_null())
                .col(ColumnDef::new("id").uuid().not_null())
                .col(ColumnDef::new("staff_member_id").uuid().not_null())
                .col(ColumnDef::new("engagement_id").uuid().not_null())
                .col(ColumnDef::new("work_date").date().not_null())
                .col(ColumnDef::new("hours").decimal_len(5, 2).not_null())
                .col(ColumnDef::new("billable").boolean().not_null())
                .col(ColumnDef::new("category").string().not_null())
                .col(ColumnDef::new("note").text().null())
                .col(ColumnDef::new("status").string().not_null())
                // The staff member's rates when the entry was logged: approval prices it
                // with these, whatever the rates are later.
                .col(ColumnDef::new("cost_rate").decimal_len(12, 2).not_null())
                .col(ColumnDef::new("bill_rate").decimal_len(12, 2).not_null())
                .col(ColumnDef::new("currency").string_len(3).not_null())
                .col(ColumnDef::new("rejection_reason").text().null())
                .col(ColumnDef::new("submitted_at").timestamp_with_time_zone().null())
                .col(ColumnDef::new("decided_at").timestamp_with_time_zone().null())
                .col(ColumnDef::new("decided_by").string().null())
                .col(ColumnDef::new("version").big_integer().not_null().default(1))
                .primary_key(Index::create().col("tenant_id").col("id"))
                .foreign_key(
                    ForeignKey::create()
                        .name("time_entries_engagement")
                        .from("time_entries", ("tenant_id", "engagement_id"))
                        .to("engagements", ("tenant_id", "id"))
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("time_entries_staff_member")
                        .from("time_entries", ("tenant_id", "staff_member_id"))
                        .to("staff_members", ("tenant_id", "id")),
                )
                .to_owned(),
        )
        .await?;
    // `Engagement.timeEntries` loads for many engagements at once, in creation (id) order.
    manager
        .create_index(
            Index::create()
                .name("time_entries_by_engagement")
                .table("time_entries")
                .col("tenant_id")
                .col("engagement_id")
                .col("id")
                .to_owned(),
        )
        .await?;
    // The 24-hours-a-day check and utilization read one person's days.
    manager
        .create_index(
            Index::create()
                .name("time_entries_by_staff_day")
                .table("time_entries")
                .col("tenant_id")
                .col("staff_member_id")
                .col("work_date")
                .to_owned(),
        )
        .await?;
    rls::enable_tenant_isolation(manager, "time_entries").await?;
    rls::enable_second_level_scopes(manager, "time_entries", ENGAGEMENT_CHILD).await
}

async fn create_change_requests(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table("change_requests")
                .col(ColumnDef::new("tenant_id").uuid().not_null())
                .col(ColumnDef::new("id").uuid().not_null())
                .col(ColumnDef::new("engagement_id").uuid().not_null())
                .col(ColumnDef::new("number").string().not_null())
                .col(ColumnDef::new("title").string().not_null())
                .col(ColumnDef::new("reason").text().null())
                .col(ColumnDef::new("impact_hours").decimal_len(10, 2).not_null())
                .col(ColumnDef::new("impact_price").decimal_len(14, 2).not_null())
                .col(ColumnDef::new("impact_days").integer().not_null())
                .col(ColumnDef::new("status").string().not_null())
                .col(ColumnDef::new("submitted_at").timestamp_with_time_zone().not_null())
                .col(ColumnDef::new("decided_at").timestamp_with_time_zone().null())
                .col(ColumnDef::new("decided_by").string().null())
                .col(ColumnDef::new("decision_reason").text().null())
                .col(ColumnDef::new("version").big_integer().not_null().default(1))
                .primary_key(Index::create().col("tenant_id").col("id"))
                .foreign_key(
                    ForeignKey::create()
                        .name("change_requests_engagement")
                        .from("change_requests", ("tenant_id", "engagement_id"))
                        .to("engagements", ("tenant_id", "id"))
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
    manager
        .create_index(
            Index::create()
                .name("change_requests_by_engagement")
                .table("change_requests")
                .col("tenant_id")
                .col("engagement_id")
                .col("id")
                .to_owned(),
        )
        .await?;
    rls::enable_tenant_isolation(manager, "change_requests").await?;
    rls::enable_second_level_scopes(manager, "change_requests", ENGAGEMENT_CHILD).await
}
