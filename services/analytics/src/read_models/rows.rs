//! Typed rows of the read models, loaded per tenant (optionally per channel partner) for
//! the KPIs and the customer facts. Loaders read whole tables of one tenant: the KPIs are
//! aggregates over all of them and a tenant's read models are small.

use atrium_kit::TenantTransaction;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, DbErr, QueryResult};
use uuid::Uuid;

use super::{parse_day, statement};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerRow {
    pub customer_account_id: Uuid,
    pub channel_partner_id: Option<Uuid>,
    pub subscription_status: Option<String>,
    pub non_renewing: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct MrrMovementRow {
    pub customer_account_id: Uuid,
    pub channel_partner_id: Option<Uuid>,
    pub movement_type: String,
    pub effective_date: Option<NaiveDate>,
    pub mrr_delta: Decimal,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct EngagementRow {
    pub engagement_id: Uuid,
    pub customer_account_id: Uuid,
    pub channel_partner_id: Option<Uuid>,
    pub status: String,
    pub contract_signed_on: Option<NaiveDate>,
    pub activated_on: Option<NaiveDate>,
    pub target_onboard_date: Option<NaiveDate>,
    pub blueprint_target_days: Option<i32>,
    pub onboarding_completed_on: Option<NaiveDate>,
    pub go_live_target_date: Option<NaiveDate>,
    pub go_live_forecast_date: Option<NaiveDate>,
    pub go_live_actual_date: Option<NaiveDate>,
    pub revenue_plan: Option<Decimal>,
    pub margin_variance_pp: Option<Decimal>,
    pub financial_status: Option<String>,
    pub financials_closed_on: Option<NaiveDate>,
}

impl EngagementRow {
    /// Days from contract signature to onboarding completion (docs/domain.md#kpis, TTO_e).
    pub fn time_to_onboard_days(&self) -> Option<i64> {
        Some((self.onboarding_completed_on? - self.contract_signed_on?).num_days())
    }

    /// The onboarding target in days: the blueprint's, else activation to target date.
    pub fn target_onboard_days(&self) -> Option<i64> {
        self.blueprint_target_days
            .map(i64::from)
            .or_else(|| Some((self.target_onboard_date? - self.activated_on?).num_days()))
    }

    /// `(actual ?? forecast) − target` in days; positive = late.
    pub fn go_live_variance_days(&self) -> Option<i64> {
        let reached = self.go_live_actual_date.or(self.go_live_forecast_date)?;
        Some((reached - self.go_live_target_date?).num_days())
    }

    pub fn is_open(&self) -> bool {
        !matches!(self.status.as_str(), "closed" | "cancelled")
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct MilestoneRow {
    pub milestone_id: Uuid,
    pub engagement_id: Uuid,
    pub customer_account_id: Uuid,
    pub channel_partner_id: Option<Uuid>,
    pub due_date: Option<NaiveDate>,
    pub requires_acceptance: bool,
    pub status: String,
    pub completed_on: Option<NaiveDate>,
    pub accepted_on: Option<NaiveDate>,
}

impl MilestoneRow {
    /// Accepted when acceptance is required, else completed.
    pub fn done_on(&self) -> Option<NaiveDate> {
        if self.requires_acceptance { self.accepted_on } else { self.completed_on }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct InvoiceRow {
    pub invoice_id: Uuid,
    pub customer_account_id: Uuid,
    pub channel_partner_id: Option<Uuid>,
    pub status: String,
    pub issue_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    pub total: Decimal,
    pub balance_due: Decimal,
    pub disputed_amount: Decimal,
}

impl InvoiceRow {
    /// Counts in AR: a positive balance on an issued, partially paid or disputed invoice.
    pub fn is_open(&self) -> bool {
        self.balance_due > Decimal::ZERO && matches!(self.status.as_str(), "issued" | "partially_paid" | "disputed")
    }

    pub fn days_past_due(&self, as_of: NaiveDate) -> Option<i64> {
        Some((as_of - self.due_date?).num_days())
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct TicketRow {
    pub ticket_id: Uuid,
    pub customer_account_id: Uuid,
    pub channel_partner_id: Option<Uuid>,
    pub priority: Option<String>,
    pub status: String,
    pub opened_at: Option<DateTime<Utc>>,
    pub first_response_outcome: Option<String>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub resolution_outcome: Option<String>,
    pub resolution_at: Option<DateTime<Utc>>,
    pub csat_score: Option<i32>,
    pub csat_at: Option<DateTime<Utc>>,
    pub escalations: i32,
    pub open_escalation_level: Option<i32>,
}

impl TicketRow {
    /// The clocks that ended (fulfilled or breached): `(ended at, breached)`.
    pub fn ended_clocks(&self) -> Vec<(DateTime<Utc>, bool)> {
        [(&self.first_response_outcome, self.first_response_at), (&self.resolution_outcome, self.resolution_at)]
            .into_iter()
            .filter_map(|(outcome, at)| Some((at?, outcome.as_deref()? == "breached")))
            .collect()
    }

    pub fn is_open(&self) -> bool {
        !matches!(self.status.as_str(), "solved" | "closed")
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct TimeEntryRow {
    pub customer_account_id: Uuid,
    pub channel_partner_id: Option<Uuid>,
    pub engagement_id: Uuid,
    pub work_date: Option<NaiveDate>,
    pub hours: Decimal,
    pub billable: bool,
    pub entitlement_grant_id: Option<Uuid>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskRow {
    pub customer_account_id: Uuid,
    pub channel_partner_id: Option<Uuid>,
    pub kind: Option<String>,
    pub customer_facing: bool,
    pub due_date: Option<NaiveDate>,
    pub completed_on: Option<NaiveDate>,
}

/// A renewal decided as renewed, downsized or churned (read from `renewals`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecidedRenewal {
    pub customer_account_id: Uuid,
    pub renewal_date: NaiveDate,
    /// Renewed or downsized (y = 1); churned is false (y = 0).
    pub renewed: bool,
}

/// A journaled event of the customer, as far as counting facts need it.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalEntry {
    pub event_type: String,
    pub occurred_at: DateTime<Utc>,
}

/// Everything the KPIs read, for one tenant (or one channel partner of it).
#[derive(Debug, Clone, Default)]
pub struct ReadModels {
    /// Whose rows: instants count on the tenant's business dates.
    pub tenant_id: Uuid,
    pub customers: Vec<CustomerRow>,
    pub mrr_movements: Vec<MrrMovementRow>,
    pub engagements: Vec<EngagementRow>,
    pub milestones: Vec<MilestoneRow>,
    pub invoices: Vec<InvoiceRow>,
    pub tickets: Vec<TicketRow>,
    pub time_entries: Vec<TimeEntryRow>,
    pub tasks: Vec<TaskRow>,
}

impl ReadModels {
    /// The rows of one channel partner's customers.
    pub fn of_partner(&self, partner: Uuid) -> ReadModels {
        let mine = |row_partner: Option<Uuid>| row_partner == Some(partner);
        ReadModels {
            tenant_id: self.tenant_id,
            customers: self.customers.iter().filter(|row| mine(row.channel_partner_id)).cloned().collect(),
            mrr_movements: self.mrr_movements.iter().filter(|row| mine(row.channel_partner_id)).cloned().collect(),
            engagements: self.engagements.iter().filter(|row| mine(row.channel_partner_id)).cloned().collect(),
            milestones: self.milestones.iter().filter(|row| mine(row.channel_partner_id)).cloned().collect(),
            invoices: self.invoices.iter().filter(|row| mine(row.channel_partner_id)).cloned().collect(),
            tickets: self.tickets.iter().filter(|row| mine(row.channel_partner_id)).cloned().collect(),
            time_entries: self.time_entries.iter().filter(|row| mine(row.channel_partner_id)).cloned().collect(),
            tasks: self.tasks.iter().filter(|row| mine(row.channel_partner_id)).cloned().collect(),
        }
    }

    /// The rows of one customer.
    pub fn of_customer(&self, customer: Uuid) -> ReadModels {
        let mine = |row_customer: Uuid| row_customer == customer;
        ReadModels {
            tenant_id: self.tenant_id,
            customers: self.customers.iter().filter(|row| mine(row.customer_account_id)).cloned().collect(),
            mrr_movements: self.mrr_movements.iter().filter(|row| mine(row.customer_account_id)).cloned().collect(),
            engagements: self.engagements.iter().filter(|row| mine(row.customer_account_id)).cloned().collect(),
            milestones: self.milestones.iter().filter(|row| mine(row.customer_account_id)).cloned().collect(),
            invoices: self.invoices.iter().filter(|row| mine(row.customer_account_id)).cloned().collect(),
            tickets: self.tickets.iter().filter(|row| mine(row.customer_account_id)).cloned().collect(),
            time_entries: self.time_entries.iter().filter(|row| mine(row.customer_account_id)).cloned().collect(),
            tasks: self.tasks.iter().filter(|row| mine(row.customer_account_id)).cloned().collect(),
        }
    }
}

fn day(row: &QueryResult, column: &str) -> Option<NaiveDate> {
    let text: Option<String> = row.try_get("", column).ok().flatten();
    parse_day(text.as_deref())
}

fn money(row: &QueryResult, column: &str) -> Option<Decimal> {
    let text: Option<String> = row.try_get("", column).ok().flatten();
    text.and_then(|text| text.trim().parse().ok())
}

/// The rows `sql` (which filters on `tenant_id = $1`) selects, narrowed to `customers`
/// through its table's `column` when given.
async fn rows_of(
    tx: &TenantTransaction,
    sql: &str,
    column: &str,
    customers: Option<&[Uuid]>,
) -> Result<Vec<QueryResult>, DbErr> {
    let mut values: Vec<sea_orm::Value> = vec![tx.tenant_id().into()];
    let sql = match customers {
        None => sql.to_owned(),
        Some(ids) => {
            let placeholders: Vec<String> = (0..ids.len()).map(|index| format!("${}", index + 2)).collect();
            values.extend(ids.iter().map(|&id| sea_orm::Value::from(id)));
            format!("{sql} AND {column} IN ({})", placeholders.join(", "))
        }
    };
    tx.connection().query_all_raw(statement(tx, &sql, values)).await
}

/// Loads the tenant's read models (every customer's: the KPIs need them all).
pub async fn load(tx: &TenantTransaction) -> Result<ReadModels, DbErr> {
    load_scoped(tx, None).await
}

/// Loads the read models of `customers` only: what their facts need, however large the
/// tenant.
pub async fn load_customers(tx: &TenantTransaction, customers: &[Uuid]) -> Result<ReadModels, DbErr> {
    if customers.is_empty() {
        return Ok(ReadModels { tenant_id: tx.tenant_id(), ..ReadModels::default() });
    }
    load_scoped(tx, Some(customers)).await
}

async fn load_scoped(tx: &TenantTransaction, customers: Option<&[Uuid]>) -> Result<ReadModels, DbErr> {
    let rows = |sql: &'static str| rows_of(tx, sql, "customer_account_id", customers);
    let mut models = ReadModels { tenant_id: tx.tenant_id(), ..ReadModels::default() };
    for row in rows("SELECT * FROM rm_customer WHERE tenant_id = $1").await? {
        models.customers.push(CustomerRow {
            customer_account_id: row.try_get("", "customer_account_id")?,
            channel_partner_id: row.try_get("", "channel_partner_id")?,
            subscription_status: row.try_get("", "subscription_status")?,
            non_renewing: row.try_get("", "non_renewing")?,
        });
    }
    for row in rows("SELECT * FROM rm_mrr_movement WHERE tenant_id = $1").await? {
        models.mrr_movements.push(MrrMovementRow {
            customer_account_id: row.try_get("", "customer_account_id")?,
            channel_partner_id: row.try_get("", "channel_partner_id")?,
            movement_type: row.try_get("", "movement_type")?,
            effective_date: day(&row, "effective_date"),
            mrr_delta: money(&row, "mrr_delta").unwrap_or_default(),
        });
    }
    let engagements = "SELECT e.*, c.signed_on AS contract_signed_on FROM rm_engagements e \
        LEFT JOIN rm_contract c ON c.tenant_id = e.tenant_id AND c.contract_id = e.contract_id WHERE e.tenant_id = $1";
    for row in rows_of(tx, engagements, "e.customer_account_id", customers).await? {
        models.engagements.push(EngagementRow {
            engagement_id: row.try_get("", "engagement_id")?,
            customer_account_id: row.try_get("", "customer_account_id")?,
            channel_partner_id: row.try_get("", "channel_partner_id")?,
            status: row.try_get("", "status")?,
            contract_signed_on: day(&row, "contract_signed_on"),
            activated_on: day(&row, "activated_on"),
            target_onboard_date: day(&row, "target_onboard_date"),
            blueprint_target_days: row.try_get("", "blueprint_target_days")?,
            onboarding_completed_on: day(&row, "onboarding_completed_on"),
            go_live_target_date: day(&row, "go_live_target_date"),
            go_live_forecast_date: day(&row, "go_live_forecast_date"),
            go_live_actual_date: day(&row, "go_live_actual_date"),
            revenue_plan: money(&row, "revenue_plan"),
            margin_variance_pp: money(&row, "margin_variance_pp"),
            financial_status: row.try_get("", "financial_status")?,
            financials_closed_on: day(&row, "financials_closed_on"),
        });
    }
    for row in rows("SELECT * FROM rm_milestone WHERE tenant_id = $1").await? {
        models.milestones.push(MilestoneRow {
            milestone_id: row.try_get("", "milestone_id")?,
            engagement_id: row.try_get("", "engagement_id")?,
            customer_account_id: row.try_get("", "customer_account_id")?,
            channel_partner_id: row.try_get("", "channel_partner_id")?,
            due_date: day(&row, "due_date"),
            requires_acceptance: row.try_get("", "requires_acceptance")?,
            status: row.try_get("", "status")?,
            completed_on: day(&row, "completed_on"),
            accepted_on: day(&row, "accepted_on"),
        });
    }
    for row in rows("SELECT * FROM rm_invoice WHERE tenant_id = $1").await? {
        models.invoices.push(InvoiceRow {
            invoice_id: row.try_get("", "invoice_id")?,
            customer_account_id: row.try_get("", "customer_account_id")?,
            channel_partner_id: row.try_get("", "channel_partner_id")?,
            status: row.try_get("", "status")?,
            issue_date: day(&row, "issue_date"),
            due_date: day(&row, "due_date"),
            total: money(&row, "total").unwrap_or_default(),
            balance_due: money(&row, "balance_due").unwrap_or_default(),
            disputed_amount: money(&row, "disputed_amount").unwrap_or_default(),
        });
    }
    for row in rows("SELECT * FROM rm_ticket_sla WHERE tenant_id = $1").await? {
        models.tickets.push(TicketRow {
            ticket_id: row.try_get("", "ticket_id")?,
            customer_account_id: row.try_get("", "customer_account_id")?,
            channel_partner_id: row.try_get("", "channel_partner_id")?,
            priority: row.try_get("", "priority")?,
            status: row.try_get("", "status")?,
            opened_at: row.try_get("", "opened_at")?,
            first_response_outcome: row.try_get("", "first_response_outcome")?,
            first_response_at: row.try_get("", "first_response_at")?,
            resolution_outcome: row.try_get("", "resolution_outcome")?,
            resolution_at: row.try_get("", "resolution_at")?,
            csat_score: row.try_get("", "csat_score")?,
            csat_at: row.try_get("", "csat_at")?,
            escalations: row.try_get("", "escalations")?,
            open_escalation_level: row.try_get("", "open_escalation_level")?,
        });
    }
    for row in rows("SELECT * FROM rm_time_entry_daily WHERE tenant_id = $1").await? {
        models.time_entries.push(TimeEntryRow {
            customer_account_id: row.try_get("", "customer_account_id")?,
            channel_partner_id: row.try_get("", "channel_partner_id")?,
            engagement_id: row.try_get("", "engagement_id")?,
            work_date: day(&row, "work_date"),
            hours: money(&row, "hours").unwrap_or_default(),
            billable: row.try_get("", "billable")?,
            entitlement_grant_id: row.try_get("", "entitlement_grant_id")?,
        });
    }
    for row in rows("SELECT * FROM rm_task WHERE tenant_id = $1").await? {
        models.tasks.push(TaskRow {
            customer_account_id: row.try_get("", "customer_account_id")?,
            channel_partner_id: row.try_get("", "channel_partner_id")?,
            kind: row.try_get("", "kind")?,
            customer_facing: row.try_get("", "customer_facing")?,
            due_date: day(&row, "due_date"),
            completed_on: day(&row, "completed_on"),
        });
    }
    Ok(models)
}

/// The latest health score per customer from `health_snapshots`, when that table exists
/// and has rows; an absent table means the component is not available.
pub async fn latest_health_scores(tx: &TenantTransaction) -> Result<Vec<(Uuid, i32)>, DbErr> {
    let sql = "SELECT customer_account_id, score FROM health_snapshots \
               WHERE tenant_id = $1 AND score IS NOT NULL ORDER BY customer_account_id, as_of DESC, computed_at DESC";
    let mut latest: Vec<(Uuid, i32)> = Vec::new();
    for row in rows_of_optional_table(tx, sql).await? {
        let customer: Uuid = row.try_get("", "customer_account_id")?;
        let score: i32 = row.try_get("", "score")?;
        if latest.last().is_none_or(|(last, _)| *last != customer) {
            latest.push((customer, score));
        }
    }
    Ok(latest)
}

/// Renewals decided as renewed, downsized or churned, from `renewals` when that table
/// exists; none otherwise.
pub async fn decided_renewals(tx: &TenantTransaction) -> Result<Vec<DecidedRenewal>, DbErr> {
    let sql = "SELECT customer_account_id, renewal_date, status FROM renewals \
               WHERE tenant_id = $1 AND status IN ('renewed', 'downsized', 'churned')";
    let mut renewals = Vec::new();
    for row in rows_of_optional_table(tx, sql).await? {
        let renewal_date = row
            .try_get::<NaiveDate>("", "renewal_date")
            .ok()
            .or_else(|| parse_day(row.try_get::<String>("", "renewal_date").ok().as_deref()));
        let Some(renewal_date) = renewal_date else { continue };
        let status: String = row.try_get("", "status")?;
        renewals.push(DecidedRenewal {
            customer_account_id: row.try_get("", "customer_account_id")?,
            renewal_date,
            renewed: status != "churned",
        });
    }
    Ok(renewals)
}

/// The rows of a tenant query on a table another part of analytics owns and may not have
/// created yet: a missing table answers no rows. A savepoint keeps the failed statement
/// from aborting the caller's transaction on PostgreSQL.
async fn rows_of_optional_table(tx: &TenantTransaction, sql: &str) -> Result<Vec<QueryResult>, DbErr> {
    use sea_orm::TransactionTrait;
    let savepoint = tx.connection().begin().await?;
    let statement =
        sea_orm::Statement::from_sql_and_values(savepoint.get_database_backend(), sql, vec![tx.tenant_id().into()]);
    match savepoint.query_all_raw(statement).await {
        Ok(rows) => {
            savepoint.commit().await?;
            Ok(rows)
        }
        Err(_) => {
            savepoint.rollback().await?;
            Ok(Vec::new())
        }
    }
}

/// The journaled events of `event_types` per customer, for the counted facts.
pub async fn journal_entries(tx: &TenantTransaction, event_types: &[&str]) -> Result<Vec<(Uuid, JournalEntry)>, DbErr> {
    let mut entries = Vec::new();
    for event_type in event_types {
        let found = tx
            .connection()
            .query_all_raw(statement(
                tx,
                "SELECT customer_account_id, occurred_at FROM event_journal \
                 WHERE tenant_id = $1 AND event_type = $2 AND customer_account_id IS NOT NULL",
                vec![tx.tenant_id().into(), (*event_type).into()],
            ))
            .await?;
        for row in found {
            entries.push((
                row.try_get("", "customer_account_id")?,
                JournalEntry { event_type: (*event_type).to_owned(), occurred_at: row.try_get("", "occurred_at")? },
            ));
        }
    }
    Ok(entries)
}
