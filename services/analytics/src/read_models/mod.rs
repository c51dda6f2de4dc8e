//! Analytics' read models (docs/domain.md#analytics-read-models): every event the consumer
//! accepts is kept in `event_journal` (once per event id) and projected into denormalised
//! tables the KPIs and the customer facts read: `rm_customer`, `rm_contract`,
//! `rm_mrr_movement`, `rm_milestone`, `rm_invoice`, `rm_ticket_sla`,
//! `rm_time_entry_daily`, `rm_entitlement_usage`, `rm_task` and the extended `rm_engagements`.
//! Each row keeps the subject version of the newest event applied, so a late older event
//! never undoes newer state; `rebuild` truncates a tenant's read models and replays its
//! journal through the same projection.

pub mod facts;
pub mod rebuild;
pub mod rows;

use atrium_kit::{
    TenantTransaction, calendar,
    changes::{ChangeKind, outbox},
    events::DomainEvent,
};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DbErr, Statement, Value as SqlValue};
use serde_json::Value;
use uuid::Uuid;

use crate::{
    domain::lifecycle::EngagementStatus,
    repository::lifecycle::{self as journey, EngagementUpdate},
};

/// Journals `event` and projects it; a re-delivered event (already journaled) changes nothing.
pub async fn project(tx: &TenantTransaction, event: &DomainEvent) -> Result<(), DbErr> {
    if !journal(tx, event).await? {
        return Ok(());
    }
    apply(tx, event).await?;
    if event.refs.contains_key("customer_account_id") {
        announce_kpi_change(tx).await?;
    }
    Ok(())
}

/// The live KPIs read the read models: cached answers holding them go.
pub(crate) async fn announce_kpi_change(tx: &TenantTransaction) -> Result<(), DbErr> {
    outbox::record_change(tx, "analytics", "Kpi", &tx.tenant_id().to_string(), ChangeKind::Updated)
        .await
        .map_err(|error| DbErr::Custom(error.to_string()))
}

/// Appends `event` to the journal; false when it is there already.
async fn journal(tx: &TenantTransaction, event: &DomainEvent) -> Result<bool, DbErr> {
    let known = tx
        .connection()
        .query_one_raw(statement(
            tx,
            "SELECT event_id FROM event_journal WHERE tenant_id = $1 AND event_id = $2",
            vec![tx.tenant_id().into(), event.id.into()],
        ))
        .await?;
    if known.is_some() {
        return Ok(false);
    }
    let customer = event.refs.get("customer_account_id").copied();
    let partner = partner_of(tx, event).await?;
    let envelope = serde_json::to_string(event).map_err(|error| DbErr::Custom(error.to_string()))?;
    execute(
        tx,
        "INSERT INTO event_journal (tenant_id, event_id, event_type, occurred_at, subject_type, subject_id, \
         subject_version, customer_account_id, channel_partner_id, envelope, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        vec![
            tx.tenant_id().into(),
            event.id.into(),
            event.event_type.clone().into(),
            event.occurred_at.into(),
            event.subject.entity_type.clone().into(),
            event.subject.id.into(),
            event.subject.version.into(),
            customer.into(),
            partner.into(),
            envelope.into(),
            Utc::now().into(),
        ],
    )
    .await?;
    Ok(true)
}

/// Projects one event into the read models (also the rebuild's replay step).
pub async fn apply(tx: &TenantTransaction, event: &DomainEvent) -> Result<(), DbErr> {
    let Some(customer) = event.refs.get("customer_account_id").copied() else {
        // Events about no customer (catalog's, the tenant's) only need the journal.
        return Ok(());
    };
    let partner = partner_of(tx, event).await?;
    let on = Projection { tx, event, customer, partner };
    on.customer_row().await?;
    let kind = event.event_type.as_str();
    match kind {
        "finance.customer.created" | "finance.customer.updated" => on.customer_name().await?,
        "finance.contract.signed" => on.contract_signed().await?,
        "finance.mrr.changed" | "finance.mrr.movement_recorded" => on.mrr_movement().await?,
        "finance.invoice.aging_bucket_changed" => on.invoice_aging().await?,
        "finance.invoice.disputed" => on.invoice_disputed().await?,
        "finance.dispute.resolved" => on.dispute_resolved().await?,
        "finance.engagement_financials.updated" => on.engagement_financials().await?,
        "delivery.time_entry.approved" => on.time_entry().await?,
        "delivery.task.completed" => on.task_completed().await?,
        "delivery.onboarding_task.activated" => on.tasks_activated().await?,
        "support.ticket.created" => on.ticket_opened().await?,
        "support.ticket.priority_changed" => on.ticket_priority().await?,
        "support.sla.breached" | "support.sla.fulfilled" => on.sla_clock().await?,
        "support.csat.received" => on.csat().await?,
        "support.escalation.created" => on.escalation_created().await?,
        "support.escalation.resolved" => on.escalation_resolved().await?,
        _ if kind.starts_with("finance.subscription.") => on.subscription().await?,
        _ if kind.starts_with("finance.invoice.") => on.invoice().await?,
        _ if kind.starts_with("delivery.engagement.") => on.engagement().await?,
        _ if kind.starts_with("delivery.milestone.") => on.milestone().await?,
        _ if kind.starts_with("support.ticket.") => on.ticket_status().await?,
        _ => {}
    }
    Ok(())
}

/// The customer's channel partner: the event's ref, else what analytics knows already.
async fn partner_of(tx: &TenantTransaction, event: &DomainEvent) -> Result<Option<Uuid>, DbErr> {
    if let Some(partner) = event.refs.get("channel_partner_id") {
        return Ok(Some(*partner));
    }
    let Some(customer) = event.refs.get("customer_account_id") else { return Ok(None) };
    let known = tx
        .connection()
        .query_one_raw(statement(
            tx,
            "SELECT channel_partner_id FROM rm_customer WHERE tenant_id = $1 AND customer_account_id = $2",
            vec![tx.tenant_id().into(), (*customer).into()],
        ))
        .await?;
    if let Some(partner) = known.and_then(|row| row.try_get::<Option<Uuid>>("", "channel_partner_id").ok().flatten()) {
        return Ok(Some(partner));
    }
    journey::channel_partner_of(tx, *customer).await.map_err(|error| DbErr::Custom(error.to_string()))
}

struct Projection<'a> {
    tx: &'a TenantTransaction,
    event: &'a DomainEvent,
    customer: Uuid,
    partner: Option<Uuid>,
}

impl Projection<'_> {
    fn text(&self, field: &str) -> Option<String> {
        match self.event.data.get(field)? {
            Value::String(text) => Some(text.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    /// The event's business date in the tenant's time zone.
    fn day(&self) -> String {
        tenant_day(self.tx.tenant_id(), self.event.occurred_at).to_string()
    }

    fn version(&self) -> i64 {
        self.event.subject.version
    }

    fn key(&self, role: &str) -> Uuid {
        self.event.refs.get(role).copied().unwrap_or(self.event.subject.id)
    }

    async fn run(&self, sql: &str, values: Vec<SqlValue>) -> Result<u64, DbErr> {
        execute(self.tx, sql, values).await
    }

    fn ids(&self) -> Vec<SqlValue> {
        vec![self.tx.tenant_id().into(), self.customer.into(), self.partner.into()]
    }

    /// Every customer analytics hears of has a row; a partner learnt later is filled in.
    async fn customer_row(&self) -> Result<(), DbErr> {
        self.run(
            "INSERT INTO rm_customer (tenant_id, customer_account_id, channel_partner_id) VALUES ($1, $2, $3) \
             ON CONFLICT (tenant_id, customer_account_id) DO UPDATE SET channel_partner_id = \
             COALESCE(rm_customer.channel_partner_id, excluded.channel_partner_id)",
            self.ids(),
        )
        .await?;
        Ok(())
    }

    async fn customer_name(&self) -> Result<(), DbErr> {
        let mut values = self.ids();
        values.truncate(2);
        values.push(self.text("name").into());
        values.push(self.text("region").into());
        self.run(
            "UPDATE rm_customer SET name = COALESCE($3, name), region = COALESCE($4, region) \
             WHERE tenant_id = $1 AND customer_account_id = $2",
            values,
        )
        .await?;
        Ok(())
    }

    async fn subscription(&self) -> Result<(), DbErr> {
        let status = self.text("status");
        let non_renewing =
            status.as_deref() == Some("non_renewing") || self.event.event_type.ends_with(".non_renewing");
        self.run(
            "UPDATE rm_customer SET subscription_status = $3, non_renewing = $4, subscription_version = $5 \
             WHERE tenant_id = $1 AND customer_account_id = $2 AND subscription_version < $5",
            vec![
                self.tx.tenant_id().into(),
                self.customer.into(),
                status.into(),
                non_renewing.into(),
                self.version().into(),
            ],
        )
        .await?;
        Ok(())
    }

    async fn contract_signed(&self) -> Result<(), DbErr> {
        let mut values = self.ids();
        values.push(self.key("contract_id").into());
        values.push(self.text("signed_date").unwrap_or_else(|| self.day()).into());
        values.push(self.version().into());
        self.run(
            "INSERT INTO rm_contract (tenant_id, customer_account_id, channel_partner_id, contract_id, signed_on, \
             subject_version) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, contract_id) DO UPDATE SET \
             signed_on = excluded.signed_on, subject_version = excluded.subject_version \
             WHERE rm_contract.subject_version < excluded.subject_version",
            values,
        )
        .await?;
        Ok(())
    }

    async fn mrr_movement(&self) -> Result<(), DbErr> {
        let mut values = self.ids();
        let movement = self.event.data.get("movement_id").and_then(Value::as_str).and_then(|id| id.parse().ok());
        values.push(movement.unwrap_or(self.event.subject.id).into());
        values.push(self.event.refs.get("subscription_id").copied().into());
        values.push(self.text("movement_type").or_else(|| self.text("type")).unwrap_or_default().into());
        values.push(self.text("effective_date").unwrap_or_else(|| self.day()).into());
        values.push(self.text("mrr_delta").unwrap_or_else(|| "0".to_owned()).into());
        values.push(self.text("currency").unwrap_or_default().into());
        self.run(
            "INSERT INTO rm_mrr_movement (tenant_id, customer_account_id, channel_partner_id, movement_id, \
             subscription_id, movement_type, effective_date, mrr_delta, currency) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (tenant_id, movement_id) DO NOTHING",
            values,
        )
        .await?;
        Ok(())
    }

    /// An invoice event carrying the invoice's state (issued, paid, voided, …).
    async fn invoice(&self) -> Result<(), DbErr> {
        if self.event.data.get("balance_due").is_none() {
            return Ok(());
        }
        let mut values = self.ids();
        values.push(self.key("invoice_id").into());
        for field in ["status", "issue_date", "due_date", "currency", "total", "balance_due", "disputed_amount"] {
            values.push(
                self.text(field)
                    .unwrap_or_else(|| if field == "disputed_amount" { "0".into() } else { String::new() })
                    .into(),
            );
        }
        values.push(self.version().into());
        self.run(
            "INSERT INTO rm_invoice (tenant_id, customer_account_id, channel_partner_id, invoice_id, status, \
             issue_date, due_date, currency, total, balance_due, disputed_amount, subject_version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (tenant_id, invoice_id) DO UPDATE SET \
             status = excluded.status, issue_date = excluded.issue_date, due_date = excluded.due_date, \
             currency = excluded.currency, total = excluded.total, balance_due = excluded.balance_due, \
             disputed_amount = excluded.disputed_amount, subject_version = excluded.subject_version \
             WHERE rm_invoice.subject_version < excluded.subject_version",
            values,
        )
        .await?;
        Ok(())
    }

    /// The bucket only moves forward in a day's run; balance and due date refresh with it.
    async fn invoice_aging(&self) -> Result<(), DbErr> {
        let invoice = self.key("invoice_id");
        self.invoice_placeholder(invoice).await?;
        self.run(
            "UPDATE rm_invoice SET aging_bucket = $3, balance_due = COALESCE($4, balance_due), \
             due_date = COALESCE($5, due_date), currency = COALESCE($6, currency) \
             WHERE tenant_id = $1 AND invoice_id = $2",
            vec![
                self.tx.tenant_id().into(),
                invoice.into(),
                self.text("bucket").into(),
                self.text("balance").into(),
                self.text("due_date").into(),
                self.text("currency").into(),
            ],
        )
        .await?;
        Ok(())
    }

    async fn invoice_disputed(&self) -> Result<(), DbErr> {
        let invoice = self.key("invoice_id");
        self.invoice_placeholder(invoice).await?;
        self.run(
            "UPDATE rm_invoice SET disputed_amount = $3, status = 'disputed' WHERE tenant_id = $1 AND invoice_id = $2",
            vec![self.tx.tenant_id().into(), invoice.into(), self.text("amount").unwrap_or_else(|| "0".into()).into()],
        )
        .await?;
        Ok(())
    }

    async fn dispute_resolved(&self) -> Result<(), DbErr> {
        let invoice = self.key("invoice_id");
        self.run(
            "UPDATE rm_invoice SET disputed_amount = '0' WHERE tenant_id = $1 AND invoice_id = $2",
            vec![self.tx.tenant_id().into(), invoice.into()],
        )
        .await?;
        Ok(())
    }

    async fn invoice_placeholder(&self, invoice: Uuid) -> Result<(), DbErr> {
        let mut values = self.ids();
        values.push(invoice.into());
        self.run(
            "INSERT INTO rm_invoice (tenant_id, customer_account_id, channel_partner_id, invoice_id, status, currency, \
             total, balance_due, disputed_amount) VALUES ($1, $2, $3, $4, 'issued', '', '0', '0', '0') \
             ON CONFLICT (tenant_id, invoice_id) DO NOTHING",
            values,
        )
        .await?;
        Ok(())
    }

    /// An engagement row before its first status event (financials may arrive first):
    /// version 0 so any status event replaces it.
    async fn engagement_placeholder(&self, engagement: Uuid) -> Result<(), DbErr> {
        let mut values = self.ids();
        values.push(engagement.into());
        values.push(self.event.occurred_at.into());
        self.run(
            "INSERT INTO rm_engagements (tenant_id, customer_account_id, channel_partner_id, engagement_id, status, \
             updated_at, subject_version) VALUES ($1, $2, $3, $4, 'draft', $5, 0) \
             ON CONFLICT (tenant_id, engagement_id) DO NOTHING",
            values,
        )
        .await?;
        Ok(())
    }

    async fn set_engagement(&self, engagement: Uuid, assignments: &[(&str, SqlValue)]) -> Result<(), DbErr> {
        if assignments.is_empty() {
            return Ok(());
        }
        let mut values: Vec<SqlValue> = vec![self.tx.tenant_id().into(), engagement.into()];
        let mut sets = Vec::new();
        for (column, value) in assignments {
            values.push(value.clone());
            sets.push(format!("{column} = ${}", values.len()));
        }
        let sql = format!("UPDATE rm_engagements SET {} WHERE tenant_id = $1 AND engagement_id = $2", sets.join(", "));
        self.run(&sql, values).await?;
        Ok(())
    }

    async fn engagement(&self) -> Result<(), DbErr> {
        let engagement = self.key("engagement_id");
        // The status part is the journey's (it also runs during a rebuild's replay).
        let reported = self.event.data.get("to").or_else(|| self.event.data.get("status")).and_then(Value::as_str);
        if let Some(status) = reported.and_then(|status| EngagementStatus::parse(status).ok()) {
            let update = EngagementUpdate {
                engagement_id: engagement,
                customer_account_id: self.customer,
                channel_partner_id: self.partner,
                status,
                subject_version: self.version(),
                occurred_at: self.event.occurred_at,
            };
            journey::apply_engagement_update(self.tx, update)
                .await
                .map_err(|error| DbErr::Custom(error.to_string()))?;
        }
        self.engagement_placeholder(engagement).await?;
        let mut sets: Vec<(&str, SqlValue)> = Vec::new();
        if let Some(contract) = self.event.refs.get("contract_id") {
            sets.push(("contract_id", (*contract).into()));
        }
        for field in ["engagement_type", "type"] {
            if let Some(kind) = self.text(field) {
                sets.push(("engagement_type", kind.into()));
                break;
            }
        }
        match self.event.event_type.as_str() {
            "delivery.engagement.activated" => {
                sets.push(("activated_on", self.text("start_date").unwrap_or_else(|| self.day()).into()));
                if let Some(target) = self.text("target_onboard_date") {
                    sets.push(("target_onboard_date", target.into()));
                }
                if let Some(target) = self.text("go_live_target_date") {
                    sets.push(("go_live_target_date", target.into()));
                }
            }
            "delivery.engagement.onboarding_completed" => sets.push(("onboarding_completed_on", self.day().into())),
            "delivery.engagement.went_live" => sets.push(("go_live_actual_date", self.day().into())),
            "delivery.engagement.created" => self.planned_milestones(engagement).await?,
            "delivery.engagement.go_live_forecast_changed" => {
                // Only a newer forecast replaces the one held.
                self.run(
                    "UPDATE rm_engagements SET go_live_forecast_date = $3, \
                     go_live_target_date = COALESCE($4, go_live_target_date), forecast_version = $5 \
                     WHERE tenant_id = $1 AND engagement_id = $2 AND forecast_version < $5",
                    vec![
                        self.tx.tenant_id().into(),
                        engagement.into(),
                        self.text("new").into(),
                        self.text("target").into(),
                        self.version().into(),
                    ],
                )
                .await?;
            }
            _ => {}
        }
        if let Some(days) = self.event.data.get("blueprint_target_days").and_then(Value::as_i64) {
            sets.push(("blueprint_target_days", (days as i32).into()));
        }
        self.set_engagement(engagement, &sets).await
    }

    /// The milestones an engagement is created with: their due dates and acceptance rule.
    async fn planned_milestones(&self, engagement: Uuid) -> Result<(), DbErr> {
        let Some(milestones) = self.event.data.get("milestones").and_then(Value::as_array) else { return Ok(()) };
        for milestone in milestones {
            let Some(id) = milestone.get("milestone_id").and_then(Value::as_str).and_then(|id| id.parse::<Uuid>().ok())
            else {
                continue;
            };
            let mut values = self.ids();
            values.push(id.into());
            values.push(engagement.into());
            values.push(milestone.get("due_date").and_then(Value::as_str).map(str::to_owned).into());
            values.push(milestone.get("requires_acceptance").and_then(Value::as_bool).unwrap_or(false).into());
            self.run(
                "INSERT INTO rm_milestone (tenant_id, customer_account_id, channel_partner_id, milestone_id, \
                 engagement_id, due_date, requires_acceptance, status, subject_version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'planned', 0) ON CONFLICT (tenant_id, milestone_id) DO UPDATE \
                 SET due_date = COALESCE(rm_milestone.due_date, excluded.due_date), \
                 requires_acceptance = excluded.requires_acceptance",
                values,
            )
            .await?;
        }
        Ok(())
    }

    async fn milestone(&self) -> Result<(), DbErr> {
        let milestone = self.event.subject.id;
        let engagement = self.key("engagement_id");
        let mut values = self.ids();
        values.push(milestone.into());
        values.push(engagement.into());
        values.push(self.text("due_date").into());
        values.push(self.event.data.get("requires_acceptance").and_then(Value::as_bool).unwrap_or(false).into());
        self.run(
            "INSERT INTO rm_milestone (tenant_id, customer_account_id, channel_partner_id, milestone_id, engagement_id, \
             due_date, requires_acceptance, status, subject_version) VALUES ($1, $2, $3, $4, $5, $6, $7, 'planned', 0) \
             ON CONFLICT (tenant_id, milestone_id) DO UPDATE SET due_date = COALESCE(excluded.due_date, rm_milestone.due_date)",
            values,
        )
        .await?;
        let (status, column) = match self.event.event_type.as_str() {
            "delivery.milestone.completed" => ("completed", Some("completed_on")),
            "delivery.milestone.accepted" => ("accepted", Some("accepted_on")),
            "delivery.milestone.started" => ("in_progress", None),
            "delivery.milestone.waived" => ("waived", None),
            "delivery.milestone.cancelled" => ("cancelled", None),
            _ => return Ok(()),
        };
        let mut values: Vec<SqlValue> =
            vec![self.tx.tenant_id().into(), milestone.into(), status.into(), self.version().into()];
        let mut sql = "UPDATE rm_milestone SET status = $3, subject_version = $4".to_owned();
        if let Some(column) = column {
            values.push(self.day().into());
            sql.push_str(&format!(", {column} = COALESCE({column}, $5)"));
        }
        sql.push_str(" WHERE tenant_id = $1 AND milestone_id = $2 AND subject_version < $4");
        self.run(&sql, values).await?;
        // An acceptance also completes; keep the completion day when the completion was missed.
        if status == "accepted" {
            self.run(
                "UPDATE rm_milestone SET completed_on = COALESCE(completed_on, $3) WHERE tenant_id = $1 AND milestone_id = $2",
                vec![self.tx.tenant_id().into(), milestone.into(), self.day().into()],
            )
            .await?;
        }
        Ok(())
    }

    async fn engagement_financials(&self) -> Result<(), DbErr> {
        let engagement = self.key("engagement_id");
        self.engagement_placeholder(engagement).await?;
        let closed = self.event.data.get("closed").and_then(Value::as_bool).unwrap_or(false);
        self.run(
            "UPDATE rm_engagements SET revenue_plan = $3, margin_variance_pp = $4, financial_status = $5, \
             financials_closed_on = $6, financials_version = $7 \
             WHERE tenant_id = $1 AND engagement_id = $2 AND financials_version < $7",
            vec![
                self.tx.tenant_id().into(),
                engagement.into(),
                self.text("revenue_plan").into(),
                self.text("margin_variance_pp").into(),
                self.text("status").into(),
                closed.then(|| self.day()).into(),
                self.version().into(),
            ],
        )
        .await?;
        Ok(())
    }

    async fn time_entry(&self) -> Result<(), DbErr> {
        let entry = self.event.subject.id;
        let grant = self.text("entitlement_grant_id").and_then(|id| id.parse::<Uuid>().ok());
        let work_date = self.text("work_date").unwrap_or_else(|| self.day());
        let hours = self.text("hours").unwrap_or_else(|| "0".into());
        let mut values = self.ids();
        values.extend([
            entry.into(),
            self.key("engagement_id").into(),
            self.event.refs.get("staff_member_id").copied().into(),
            work_date.clone().into(),
            hours.clone().into(),
            self.event.data.get("billable").and_then(Value::as_bool).unwrap_or(false).into(),
            self.text("cost_amount").unwrap_or_else(|| "0".into()).into(),
            self.text("bill_amount").unwrap_or_else(|| "0".into()).into(),
            self.text("currency").into(),
            grant.into(),
        ]);
        self.run(
            "INSERT INTO rm_time_entry_daily (tenant_id, customer_account_id, channel_partner_id, time_entry_id, \
             engagement_id, staff_member_id, work_date, hours, billable, cost_amount, bill_amount, currency, \
             entitlement_grant_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
             ON CONFLICT (tenant_id, time_entry_id) DO NOTHING",
            values,
        )
        .await?;
        if let Some(grant) = grant {
            let mut values = self.ids();
            values.extend([entry.into(), grant.into(), work_date.into(), hours.into()]);
            self.run(
                "INSERT INTO rm_entitlement_usage (tenant_id, customer_account_id, channel_partner_id, time_entry_id, \
                 entitlement_grant_id, work_date, hours) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (tenant_id, time_entry_id) DO NOTHING",
                values,
            )
            .await?;
        }
        Ok(())
    }

    /// A task's due date, audience and kind, as a task event carries them.
    async fn task_row(&self, task: Uuid, fields: &Value) -> Result<(), DbErr> {
        let text = |field: &str| fields.get(field).and_then(Value::as_str).map(str::to_owned);
        let mut values = self.ids();
        values.extend([
            task.into(),
            self.event.refs.get("engagement_id").copied().into(),
            text("kind").into(),
            fields.get("customer_facing").and_then(Value::as_bool).unwrap_or(false).into(),
            text("due_date").into(),
        ]);
        self.run(
            "INSERT INTO rm_task (tenant_id, customer_account_id, channel_partner_id, task_id, engagement_id, kind, \
             customer_facing, due_date) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tenant_id, task_id) \
             DO UPDATE SET kind = COALESCE(excluded.kind, rm_task.kind), customer_facing = excluded.customer_facing, \
             due_date = COALESCE(excluded.due_date, rm_task.due_date)",
            values,
        )
        .await?;
        Ok(())
    }

    /// The activated onboarding tasks, listed in `data.tasks` (`task_id`, `due_date`,
    /// `customer_facing`, `kind`).
    async fn tasks_activated(&self) -> Result<(), DbErr> {
        let Some(tasks) = self.event.data.get("tasks").and_then(Value::as_array) else { return Ok(()) };
        for task in tasks {
            let id = task.get("task_id").or_else(|| task.get("id")).and_then(Value::as_str);
            if let Some(id) = id.and_then(|id| id.parse::<Uuid>().ok()) {
                self.task_row(id, task).await?;
            }
        }
        Ok(())
    }

    async fn task_completed(&self) -> Result<(), DbErr> {
        let task = self.event.subject.id;
        self.task_row(task, &self.event.data).await?;
        self.run(
            "UPDATE rm_task SET completed_on = COALESCE(completed_on, $3) WHERE tenant_id = $1 AND task_id = $2",
            vec![self.tx.tenant_id().into(), task.into(), self.day().into()],
        )
        .await?;
        Ok(())
    }

    fn ticket(&self) -> Uuid {
        if self.event.subject.entity_type == "Ticket" { self.event.subject.id } else { self.key("ticket_id") }
    }

    /// A ticket row before its creation event arrived (clocks, CSAT or escalations first).
    async fn ticket_placeholder(&self, ticket: Uuid) -> Result<(), DbErr> {
        let mut values = self.ids();
        values.push(ticket.into());
        values.push(self.text("priority").into());
        self.run(
            "INSERT INTO rm_ticket_sla (tenant_id, customer_account_id, channel_partner_id, ticket_id, priority, status, \
             ticket_version) VALUES ($1, $2, $3, $4, $5, 'open', 0) ON CONFLICT (tenant_id, ticket_id) DO UPDATE \
             SET priority = COALESCE(rm_ticket_sla.priority, excluded.priority)",
            values,
        )
        .await?;
        Ok(())
    }

    async fn ticket_opened(&self) -> Result<(), DbErr> {
        let ticket = self.ticket();
        self.ticket_placeholder(ticket).await?;
        self.run(
            "UPDATE rm_ticket_sla SET opened_at = $3, priority = CASE WHEN ticket_version < $4 THEN $5 ELSE priority END, \
             ticket_version = CASE WHEN ticket_version < $4 THEN $4 ELSE ticket_version END \
             WHERE tenant_id = $1 AND ticket_id = $2",
            vec![
                self.tx.tenant_id().into(),
                ticket.into(),
                self.event.occurred_at.into(),
                self.version().into(),
                self.text("priority").into(),
            ],
        )
        .await?;
        Ok(())
    }

    async fn ticket_priority(&self) -> Result<(), DbErr> {
        let ticket = self.ticket();
        self.ticket_placeholder(ticket).await?;
        self.run(
            "UPDATE rm_ticket_sla SET priority = $3, ticket_version = $4 \
             WHERE tenant_id = $1 AND ticket_id = $2 AND ticket_version < $4",
            vec![self.tx.tenant_id().into(), ticket.into(), self.text("to").into(), self.version().into()],
        )
        .await?;
        Ok(())
    }

    async fn ticket_status(&self) -> Result<(), DbErr> {
        let Some(status) = self.text("to") else { return Ok(()) };
        let ticket = self.ticket();
        self.ticket_placeholder(ticket).await?;
        self.run(
            "UPDATE rm_ticket_sla SET status = $3, ticket_version = $4 \
             WHERE tenant_id = $1 AND ticket_id = $2 AND ticket_version < $4",
            vec![self.tx.tenant_id().into(), ticket.into(), status.into(), self.version().into()],
        )
        .await?;
        Ok(())
    }

    /// A clock's outcome: a breach is final; a fulfilment counts as met only when the
    /// clock never breached. Next-response clocks are not part of the attainment.
    async fn sla_clock(&self) -> Result<(), DbErr> {
        let prefix = match self.text("metric").as_deref() {
            Some("first_response") => "first_response",
            Some("resolution") => "resolution",
            _ => return Ok(()),
        };
        let ticket = self.ticket();
        self.ticket_placeholder(ticket).await?;
        let breached = self.event.event_type == "support.sla.breached"
            || self.event.data.get("breached").and_then(Value::as_bool).unwrap_or(false);
        let outcome = if breached { "breached" } else { "fulfilled" };
        let sql = format!(
            "UPDATE rm_ticket_sla SET {prefix}_outcome = CASE WHEN {prefix}_outcome = 'breached' THEN 'breached' ELSE $3 END, \
             {prefix}_at = CASE WHEN {prefix}_outcome = 'breached' THEN {prefix}_at ELSE $4 END \
             WHERE tenant_id = $1 AND ticket_id = $2"
        );
        self.run(&sql, vec![self.tx.tenant_id().into(), ticket.into(), outcome.into(), self.event.occurred_at.into()])
            .await?;
        Ok(())
    }

    async fn csat(&self) -> Result<(), DbErr> {
        let ticket = self.ticket();
        self.ticket_placeholder(ticket).await?;
        let score = self.event.data.get("score").and_then(Value::as_i64).map(|score| score as i32);
        self.run(
            "UPDATE rm_ticket_sla SET csat_score = $3, csat_at = $4 WHERE tenant_id = $1 AND ticket_id = $2",
            vec![self.tx.tenant_id().into(), ticket.into(), score.into(), self.event.occurred_at.into()],
        )
        .await?;
        Ok(())
    }

    async fn escalation_created(&self) -> Result<(), DbErr> {
        let ticket = self.ticket();
        self.ticket_placeholder(ticket).await?;
        let level = self.event.data.get("level").and_then(Value::as_i64).unwrap_or(1) as i32;
        self.run(
            "UPDATE rm_ticket_sla SET escalations = escalations + 1, open_escalation_level = \
             CASE WHEN open_escalation_level IS NULL OR open_escalation_level < $3 THEN $3 ELSE open_escalation_level END \
             WHERE tenant_id = $1 AND ticket_id = $2",
            vec![self.tx.tenant_id().into(), ticket.into(), level.into()],
        )
        .await?;
        Ok(())
    }

    async fn escalation_resolved(&self) -> Result<(), DbErr> {
        self.run(
            "UPDATE rm_ticket_sla SET open_escalation_level = NULL WHERE tenant_id = $1 AND ticket_id = $2",
            vec![self.tx.tenant_id().into(), self.ticket().into()],
        )
        .await?;
        Ok(())
    }
}

pub(crate) fn statement(tx: &TenantTransaction, sql: &str, values: Vec<SqlValue>) -> Statement {
    Statement::from_sql_and_values(tx.connection().get_database_backend(), sql, values)
}

pub(crate) async fn execute(tx: &TenantTransaction, sql: &str, values: Vec<SqlValue>) -> Result<u64, DbErr> {
    Ok(tx.connection().execute_raw(statement(tx, sql, values)).await?.rows_affected())
}

/// A `YYYY-MM-DD` text column as a date.
pub(crate) fn parse_day(text: Option<&str>) -> Option<NaiveDate> {
    text.and_then(|text| NaiveDate::parse_from_str(text.get(..10)?, "%Y-%m-%d").ok())
}

/// The instant's business date in the tenant's time zone.
pub fn tenant_day(tenant_id: Uuid, at: DateTime<Utc>) -> NaiveDate {
    calendar::tenant_date(tenant_id, at)
}
