//! The event journal, the read models it is projected into and the KPI snapshots
//! (docs/domain.md#analytics-read-models, docs/domain.md#kpis). The journal keeps every
//! envelope the analytics consumer accepted, once per event id, so the read models can be
//! truncated and replayed. Read-model rows carry the subject version of the newest event
//! applied so out-of-order delivery never undoes newer state. Dates are `YYYY-MM-DD` text
//! and amounts decimal text, as in the events. Every table is under tenant RLS; customer
//! rows carry the customer and its channel partner for the second-level scopes.

use atrium_kit::rls::{self, SecondLevelScope};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const EVENT_JOURNAL: &str = "event_journal";
const RM_CUSTOMER: &str = "rm_customer";
const RM_CONTRACT: &str = "rm_contract";
const RM_MRR_MOVEMENT: &str = "rm_mrr_movement";
const RM_MILESTONE: &str = "rm_milestone";
const RM_INVOICE: &str = "rm_invoice";
const RM_TICKET_SLA: &str = "rm_ticket_sla";
const RM_TIME_ENTRY_DAILY: &str = "rm_time_entry_daily";
const RM_ENTITLEMENT_USAGE: &str = "rm_entitlement_usage";
const RM_TASK: &str = "rm_task";
const KPI_SNAPSHOTS: &str = "kpi_snapshots";
const RM_ENGAGEMENTS: &str = "rm_engagements";

const CUSTOMER_SCOPE: SecondLevelScope<'static> =
    SecondLevelScope::Columns { partner: Some("channel_partner_id"), customer: Some("customer_account_id") };
const PARTNER_SCOPE: SecondLevelScope<'static> =
    SecondLevelScope::Columns { partner: Some("channel_partner_id"), customer: None };

fn uuid(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).uuid().not_null().to_owned()
}
fn uuid_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).uuid().null().to_owned()
}
fn text(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).string().not_null().to_owned()
}
fn text_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).string().null().to_owned()
}
fn version(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).big_integer().not_null().default(0).to_owned()
}

/// A tenant table keyed by `(tenant_id, key)` with the customer and partner columns.
fn customer_table(name: &'static str, key: &'static str, columns: Vec<ColumnDef>) -> TableCreateStatement {
    let mut table = Table::create().table(name).to_owned();
    table.col(uuid("tenant_id")).col(uuid(key));
    if key != "customer_account_id" {
        table.col(uuid("customer_account_id"));
    }
    table.col(uuid_null("channel_partner_id"));
    for mut column in columns {
        table.col(&mut column);
    }
    table.primary_key(Index::create().col("tenant_id").col(key)).to_owned()
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(EVENT_JOURNAL)
                    .col(uuid("tenant_id"))
                    .col(uuid("event_id"))
                    .col(text("event_type"))
                    .col(ColumnDef::new("occurred_at").timestamp_with_time_zone().not_null())
                    .col(text("subject_type"))
                    .col(uuid("subject_id"))
                    .col(version("subject_version"))
                    .col(uuid_null("customer_account_id"))
                    .col(uuid_null("channel_partner_id"))
                    .col(ColumnDef::new("envelope").text().not_null())
                    .col(ColumnDef::new("recorded_at").timestamp_with_time_zone().not_null())
                    .primary_key(Index::create().col("tenant_id").col("event_id"))
                    .to_owned(),
            )
            .await?;
        // The rebuild replays in occurrence order.
        manager
            .create_index(
                Index::create()
                    .name("event_journal_in_order")
                    .table(EVENT_JOURNAL)
                    .col("tenant_id")
                    .col("occurred_at")
                    .col("event_id")
                    .to_owned(),
            )
            .await?;

        let tables = [
            customer_table(
                RM_CUSTOMER,
                "customer_account_id",
                vec![
                    text_null("name"),
                    text_null("region"),
                    text_null("subscription_status"),
                    ColumnDef::new("non_renewing").boolean().not_null().default(false).to_owned(),
                    version("subscription_version"),
                ],
            ),
            customer_table(RM_CONTRACT, "contract_id", vec![text_null("signed_on"), version("subject_version")]),
            customer_table(
                RM_MRR_MOVEMENT,
                "movement_id",
                vec![
                    uuid_null("subscription_id"),
                    text("movement_type"),
                    text("effective_date"),
                    text("mrr_delta"),
                    text("currency"),
                ],
            ),
            customer_table(
                RM_MILESTONE,
                "milestone_id",
                vec![
                    uuid("engagement_id"),
                    text_null("due_date"),
                    ColumnDef::new("requires_acceptance").boolean().not_null().default(false).to_owned(),
                    text("status"),
                    text_null("completed_on"),
                    text_null("accepted_on"),
                    version("subject_version"),
                ],
            ),
            customer_table(
                RM_INVOICE,
                "invoice_id",
                vec![
                    text("status"),
                    text_null("issue_date"),
                    text_null("due_date"),
                    text("currency"),
                    text("total"),
                    text("balance_due"),
                    text("disputed_amount"),
                    text_null("aging_bucket"),
                    version("subject_version"),
                ],
            ),
            customer_table(
                RM_TICKET_SLA,
                "ticket_id",
                vec![
                    text_null("priority"),
                    text("status"),
                    ColumnDef::new("opened_at").timestamp_with_time_zone().null().to_owned(),
                    version("ticket_version"),
                    text_null("first_response_outcome"),
                    ColumnDef::new("first_response_at").timestamp_with_time_zone().null().to_owned(),
                    text_null("resolution_outcome"),
                    ColumnDef::new("resolution_at").timestamp_with_time_zone().null().to_owned(),
                    ColumnDef::new("csat_score").integer().null().to_owned(),
                    ColumnDef::new("csat_at").timestamp_with_time_zone().null().to_owned(),
                    ColumnDef::new("escalations").integer().not_null().default(0).to_owned(),
                    ColumnDef::new("open_escalation_level").integer().null().to_owned(),
                ],
            ),
            customer_table(
                RM_TIME_ENTRY_DAILY,
                "time_entry_id",
                vec![
                    uuid("engagement_id"),
                    uuid_null("staff_member_id"),
                    text("work_date"),
                    text("hours"),
                    ColumnDef::new("billable").boolean().not_null().default(false).to_owned(),
                    text("cost_amount"),
                    text("bill_amount"),
                    text_null("currency"),
                    uuid_null("entitlement_grant_id"),
                ],
            ),
            customer_table(
                RM_TASK,
                "task_id",
                vec![
                    uuid_null("engagement_id"),
                    text_null("kind"),
                    ColumnDef::new("customer_facing").boolean().not_null().default(false).to_owned(),
                    text_null("due_date"),
                    text_null("completed_on"),
                ],
            ),
            customer_table(
                RM_ENTITLEMENT_USAGE,
                "time_entry_id",
                vec![uuid("entitlement_grant_id"), text("work_date"), text("hours")],
            ),
        ];
        for table in tables {
            manager.create_table(table).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(KPI_SNAPSHOTS)
                    .col(uuid("tenant_id"))
                    .col(uuid("id"))
                    .col(uuid_null("channel_partner_id"))
                    .col(text_null("region"))
                    .col(text("kpi_code"))
                    .col(text("kpi_window"))
                    .col(text("period_end"))
                    .col(text_null("value"))
                    .col(text_null("numerator"))
                    .col(text_null("denominator"))
                    .col(ColumnDef::new("n").integer().not_null())
                    .col(text_null("reason"))
                    .col(ColumnDef::new("computed_at").timestamp_with_time_zone().not_null())
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("kpi_snapshots_per_period")
                    .table(KPI_SNAPSHOTS)
                    .col("tenant_id")
                    .col("kpi_code")
                    .col("kpi_window")
                    .col("period_end")
                    .to_owned(),
            )
            .await?;

        // SQLite takes one column per ALTER TABLE.
        for column in [
            text_null("engagement_type"),
            uuid_null("contract_id"),
            text_null("activated_on"),
            text_null("target_onboard_date"),
            ColumnDef::new("blueprint_target_days").integer().null().to_owned(),
            text_null("onboarding_completed_on"),
            text_null("go_live_target_date"),
            text_null("go_live_forecast_date"),
            text_null("go_live_actual_date"),
            text_null("revenue_plan"),
            text_null("margin_variance_pp"),
            text_null("financial_status"),
            text_null("financials_closed_on"),
            version("financials_version"),
            version("forecast_version"),
        ] {
            let mut column = column;
            manager.alter_table(Table::alter().table(RM_ENGAGEMENTS).add_column(&mut column).to_owned()).await?;
        }

        for table in [
            EVENT_JOURNAL,
            RM_CUSTOMER,
            RM_CONTRACT,
            RM_MRR_MOVEMENT,
            RM_MILESTONE,
            RM_INVOICE,
            RM_TICKET_SLA,
            RM_TIME_ENTRY_DAILY,
            RM_ENTITLEMENT_USAGE,
            RM_TASK,
        ] {
            rls::enable_tenant_isolation(manager, table).await?;
            rls::enable_second_level_scopes(manager, table, CUSTOMER_SCOPE).await?;
        }
        rls::enable_tenant_isolation(manager, KPI_SNAPSHOTS).await?;
        rls::enable_second_level_scopes(manager, KPI_SNAPSHOTS, PARTNER_SCOPE).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            KPI_SNAPSHOTS,
            RM_TASK,
            RM_ENTITLEMENT_USAGE,
            RM_TIME_ENTRY_DAILY,
            RM_TICKET_SLA,
            RM_INVOICE,
            RM_MILESTONE,
            RM_MRR_MOVEMENT,
            RM_CONTRACT,
            RM_CUSTOMER,
            EVENT_JOURNAL,
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
