//! SLA policies and clocks, ticket comments, and the ticket columns the ticket commands
//! need (docs/domain.md#sla-clocks): business-hours schedules, policies with their targets,
//! one clock per ticket and metric, comments; tickets gain their policy, assignee and the
//! instant of their last status change. Forced RLS on every new table; clocks and
//! comments are narrowed for partner and customer users through their ticket.

use atrium_kit::rls::{self, SecondLevelScope};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TENANT_TABLES: &[&str] =
    &["business_hours_schedules", "sla_policies", "sla_targets", "sla_clocks", "ticket_comments"];

const BELONGS_TO_TICKET: SecondLevelScope<'static> =
    SecondLevelScope::Parent { column: "ticket_id", parent_table: "tickets" };

fn tenant_table(name: &str) -> TableCreateStatement {
    Table::create()
        .table(Alias::new(name))
        .col(ColumnDef::new("tenant_id").uuid().not_null())
        .col(ColumnDef::new("id").uuid().not_null())
        .primary_key(Index::create().col("tenant_id").col("id"))
        .to_owned()
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                tenant_table("business_hours_schedules")
                    .col(ColumnDef::new("name").string().not_null())
                    .col(ColumnDef::new("time_zone").string().not_null())
                    // JSON: [{"dow": 1..7, "start": "09:00:00", "end": "17:00:00"}]
                    .col(ColumnDef::new("weekly_hours").text().not_null())
                    // JSON: ["2026-12-25", …]
                    .col(ColumnDef::new("holidays").text().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                tenant_table("sla_policies")
                    .col(ColumnDef::new("code").string().not_null())
                    .col(ColumnDef::new("name").string().not_null())
                    .col(ColumnDef::new("business_hours_schedule_id").uuid().not_null())
                    // JSON: ["pending", "on_hold"]
                    .col(ColumnDef::new("pause_on_statuses").text().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                tenant_table("sla_targets")
                    .col(ColumnDef::new("sla_policy_id").uuid().not_null())
                    .col(ColumnDef::new("priority").string().not_null())
                    .col(ColumnDef::new("metric").string().not_null())
                    .col(ColumnDef::new("target_minutes").big_integer().not_null())
                    .col(ColumnDef::new("business_hours").boolean().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                tenant_table("sla_clocks")
                    .col(ColumnDef::new("ticket_id").uuid().not_null())
                    .col(ColumnDef::new("metric").string().not_null())
                    .col(ColumnDef::new("status").string().not_null())
                    .col(ColumnDef::new("target_minutes").big_integer().not_null())
                    .col(ColumnDef::new("business_hours").boolean().not_null())
                    .col(ColumnDef::new("started_at").timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new("running_since").timestamp_with_time_zone().null())
                    .col(ColumnDef::new("elapsed_seconds").big_integer().not_null())
                    .col(ColumnDef::new("due_at").timestamp_with_time_zone().null())
                    .col(ColumnDef::new("fulfilled_at").timestamp_with_time_zone().null())
                    .col(ColumnDef::new("breached_at").timestamp_with_time_zone().null())
                    .col(ColumnDef::new("warned_at").timestamp_with_time_zone().null())
                    .col(ColumnDef::new("version").big_integer().not_null().default(1))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("sla_clocks_one_per_ticket_and_metric")
                    .table("sla_clocks")
                    .col("tenant_id")
                    .col("ticket_id")
                    .col("metric")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                tenant_table("ticket_comments")
                    .col(ColumnDef::new("ticket_id").uuid().not_null())
                    .col(ColumnDef::new("author_subject").string().not_null())
                    .col(ColumnDef::new("author_type").string().not_null())
                    .col(ColumnDef::new("public").boolean().not_null())
                    .col(ColumnDef::new("body").text().not_null())
                    .col(ColumnDef::new("created_at").timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ticket_comments_by_ticket")
                    .table("ticket_comments")
                    .col("tenant_id")
                    .col("ticket_id")
                    .to_owned(),
            )
            .await?;
        for column in [
            ColumnDef::new("sla_policy_id").uuid().null().to_owned(),
            ColumnDef::new("assignee_user_id").string().null().to_owned(),
            ColumnDef::new("status_changed_at").timestamp_with_time_zone().null().to_owned(),
        ] {
            manager.alter_table(Table::alter().table("tickets").add_column(column).to_owned()).await?;
        }
        for table in TENANT_TABLES {
            rls::enable_tenant_isolation(manager, table).await?;
        }
        for table in ["sla_clocks", "ticket_comments"] {
            rls::enable_second_level_scopes(manager, table, BELONGS_TO_TICKET).await?;
        }
        // The runtime role's DML on these tables comes from the default privileges of the
        // first migration; granting again would hand UPDATE/DELETE on the audit log back.
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["status_changed_at", "assignee_user_id", "sla_policy_id"] {
            manager.alter_table(Table::alter().table("tickets").drop_column(Alias::new(column)).to_owned()).await?;
        }
        for table in TENANT_TABLES.iter().rev() {
            manager.drop_table(Table::drop().table(Alias::new(*table)).to_owned()).await?;
        }
        Ok(())
    }
}
