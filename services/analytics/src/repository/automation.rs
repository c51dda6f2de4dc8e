//! Automation rules and runs. Both are tenant configuration and history for tenant
//! admins: partner and customer-portal callers see none of them (the PostgreSQL policies
//! hide every row from scoped users; the explicit check here does the same on SQLite).

use atrium_kit::{TenantTransaction, pagination::PageRequest};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr};
use serde_json::Value;
use uuid::Uuid;

use crate::{
    domain::{
        AutomationRunRecord,
        automation::{AutomationRule, RuleAction, RunOutcome},
    },
    entities::{automation_rule, automation_run, customer_lifecycle, customer_signal},
    error::AnalyticsError,
};

/// The tenant's rules, by code.
pub async fn all_rules(tx: &TenantTransaction) -> Result<Vec<AutomationRule>, AnalyticsError> {
    if tx.is_second_level_scoped() {
        return Ok(Vec::new());
    }
    let rows = automation_rule::Entity::find()
        .filter(automation_rule::Column::TenantId.eq(tx.tenant_id()))
        .order_by_asc(automation_rule::Column::Code)
        .all(tx.connection())
        .await?;
    rows.into_iter().map(rule_from_row).collect()
}

/// The enabled rules triggered by events of `event_type`.
pub async fn enabled_rules_triggered_by(
    tx: &TenantTransaction,
    event_type: &str,
) -> Result<Vec<AutomationRule>, AnalyticsError> {
    let rows = automation_rule::Entity::find()
        .filter(automation_rule::Column::TenantId.eq(tx.tenant_id()))
        .filter(automation_rule::Column::Enabled.eq(true))
        .order_by_asc(automation_rule::Column::Code)
        .all(tx.connection())
        .await?;
    let rules: Vec<AutomationRule> = rows.into_iter().map(rule_from_row).collect::<Result<_, _>>()?;
    Ok(rules.into_iter().filter(|rule| rule.trigger_events().contains(&event_type)).collect())
}

/// The enabled rules with a schedule trigger.
pub async fn enabled_scheduled_rules(tx: &TenantTransaction) -> Result<Vec<AutomationRule>, AnalyticsError> {
    let rows = automation_rule::Entity::find()
        .filter(automation_rule::Column::TenantId.eq(tx.tenant_id()))
        .filter(automation_rule::Column::Enabled.eq(true))
        .order_by_asc(automation_rule::Column::Code)
        .all(tx.connection())
        .await?;
    let rules: Vec<AutomationRule> = rows.into_iter().map(rule_from_row).collect::<Result<_, _>>()?;
    Ok(rules.into_iter().filter(|rule| rule.trigger_schedule().is_some()).collect())
}

pub async fn rule_by_id(tx: &TenantTransaction, id: Uuid) -> Result<Option<AutomationRule>, AnalyticsError> {
    let row = automation_rule::Entity::find()
        .filter(automation_rule::Column::TenantId.eq(tx.tenant_id()))
        .filter(automation_rule::Column::Id.eq(id))
        .one(tx.connection())
        .await?;
    row.map(rule_from_row).transpose()
}

pub async fn rule_by_code(tx: &TenantTransaction, code: &str) -> Result<Option<AutomationRule>, AnalyticsError> {
    if tx.is_second_level_scoped() {
        return Ok(None);
    }
    let row = automation_rule::Entity::find()
        .filter(automation_rule::Column::TenantId.eq(tx.tenant_id()))
        .filter(automation_rule::Column::Code.eq(code))
        .one(tx.connection())
        .await?;
    row.map(rule_from_row).transpose()
}

/// Saves `rule` as the version after `previous_version`; false when another edit got
/// there first.
pub async fn update_rule(
    tx: &TenantTransaction,
    rule: &AutomationRule,
    previous_version: i64,
) -> Result<bool, AnalyticsError> {
    let actions =
        serde_json::to_string(&rule.actions).map_err(|error| AnalyticsError::CorruptJson(error.to_string()))?;
    let result = automation_rule::Entity::update_many()
        .col_expr(automation_rule::Column::Condition, Expr::value(rule.condition.to_string()))
        .col_expr(automation_rule::Column::Actions, Expr::value(actions))
        .col_expr(automation_rule::Column::CooldownHours, Expr::value(rule.cooldown_hours))
        .col_expr(automation_rule::Column::Enabled, Expr::value(rule.enabled))
        .col_expr(automation_rule::Column::Version, Expr::value(rule.version))
        .filter(automation_rule::Column::TenantId.eq(tx.tenant_id()))
        .filter(automation_rule::Column::Id.eq(rule.id))
        .filter(automation_rule::Column::Version.eq(previous_version))
        .exec(tx.connection())
        .await?;
    Ok(result.rows_affected == 1)
}

/// Whether `rule_id` already has a run with `run_key`.
pub async fn has_run_with_key(tx: &TenantTransaction, rule_id: Uuid, run_key: &str) -> Result<bool, AnalyticsError> {
    Ok(automation_run::Entity::find()
        .filter(automation_run::Column::TenantId.eq(tx.tenant_id()))
        .filter(automation_run::Column::RuleId.eq(rule_id))
        .filter(automation_run::Column::RunKey.eq(run_key))
        .one(tx.connection())
        .await?
        .is_some())
}

/// Failed runs whose next retry is due at `now`, oldest first.
pub async fn due_retries(
    tx: &TenantTransaction,
    now: DateTime<Utc>,
) -> Result<Vec<AutomationRunRecord>, AnalyticsError> {
    let rows = automation_run::Entity::find()
        .filter(automation_run::Column::TenantId.eq(tx.tenant_id()))
        .filter(automation_run::Column::NextRetryAt.lte(now))
        .order_by_asc(automation_run::Column::Id)
        .all(tx.connection())
        .await?;
    rows.into_iter().map(run_from_row).collect()
}

/// Records the result of retrying `run` (its attempts, outcome, next retry and result).
pub async fn save_retry(tx: &TenantTransaction, run: &AutomationRunRecord) -> Result<(), AnalyticsError> {
    automation_run::Entity::update_many()
        .col_expr(automation_run::Column::Attempts, Expr::value(run.attempts))
        .col_expr(automation_run::Column::Outcome, Expr::value(run.outcome.as_str()))
        .col_expr(automation_run::Column::NextRetryAt, Expr::value(run.next_retry_at))
        .col_expr(automation_run::Column::FinishedAt, Expr::value(run.finished_at))
        .col_expr(automation_run::Column::ActionsResult, Expr::value(run.actions_result.clone()))
        .filter(automation_run::Column::TenantId.eq(tx.tenant_id()))
        .filter(automation_run::Column::Id.eq(run.id))
        .exec(tx.connection())
        .await?;
    Ok(())
}

/// Stores `rule` unless the tenant has a rule with its code already; true when stored.
pub async fn insert_rule_unless_present(tx: &TenantTransaction, rule: &AutomationRule) -> Result<bool, AnalyticsError> {
    let present = automation_rule::Entity::find()
        .filter(automation_rule::Column::TenantId.eq(tx.tenant_id()))
        .filter(automation_rule::Column::Code.eq(rule.code.as_str()))
        .one(tx.connection())
        .await?
        .is_some();
    if present {
        return Ok(false);
    }
    let actions =
        serde_json::to_string(&rule.actions).map_err(|error| AnalyticsError::CorruptJson(error.to_string()))?;
    automation_rule::Entity::insert(automation_rule::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(rule.id),
        code: Set(rule.code.clone()),
        name: Set(rule.name.clone()),
        trigger: Set(rule.trigger.to_string()),
        condition: Set(rule.condition.to_string()),
        actions: Set(actions),
        cooldown_hours: Set(rule.cooldown_hours),
        enabled: Set(rule.enabled),
        version: Set(rule.version),
    })
    .exec_without_returning(tx.connection())
    .await?;
    Ok(true)
}

/// Whether `rule_id` already ran for the trigger event `event_id`.
pub async fn has_run_for_trigger(
    tx: &TenantTransaction,
    rule_id: Uuid,
    event_id: Uuid,
) -> Result<bool, AnalyticsError> {
    Ok(automation_run::Entity::find()
        .filter(automation_run::Column::TenantId.eq(tx.tenant_id()))
        .filter(automation_run::Column::RuleId.eq(rule_id))
        .filter(automation_run::Column::TriggeredByEventId.eq(event_id))
        .one(tx.connection())
        .await?
        .is_some())
}

/// When `rule_id` last acted (succeeded) on `subject_id`, for its cooldown.
pub async fn last_success_for_subject(
    tx: &TenantTransaction,
    rule_id: Uuid,
    subject_id: Uuid,
) -> Result<Option<DateTime<Utc>>, AnalyticsError> {
    let row = automation_run::Entity::find()
        .filter(automation_run::Column::TenantId.eq(tx.tenant_id()))
        .filter(automation_run::Column::RuleId.eq(rule_id))
        .filter(automation_run::Column::SubjectId.eq(subject_id))
        .filter(automation_run::Column::Outcome.eq(RunOutcome::Succeeded.as_str()))
        .order_by_desc(automation_run::Column::StartedAt)
        .one(tx.connection())
        .await?;
    Ok(row.map(|row| row.started_at))
}

pub async fn record_run(tx: &TenantTransaction, run: &AutomationRunRecord) -> Result<(), AnalyticsError> {
    automation_run::Entity::insert(automation_run::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(run.id),
        rule_id: Set(run.rule_id),
        rule_version: Set(run.rule_version),
        subject_type: Set(run.subject_type.clone()),
        subject_id: Set(run.subject_id),
        triggered_by_event_id: Set(run.triggered_by_event_id),
        started_at: Set(run.started_at),
        finished_at: Set(run.finished_at),
        outcome: Set(run.outcome.as_str().to_owned()),
        actions_result: Set(run.actions_result.clone()),
        run_key: Set(run.run_key.clone()),
        attempts: Set(run.attempts),
        next_retry_at: Set(run.next_retry_at),
        trigger_payload: Set(run.trigger_payload.clone()),
    })
    .exec_without_returning(tx.connection())
    .await?;
    Ok(())
}

/// `page.first + 1` runs after the cursor, oldest first (ids are UUIDv7, so id order is
/// start order); [`PageRequest::finish`] cuts the page.
pub async fn runs_after(tx: &TenantTransaction, page: PageRequest) -> Result<Vec<AutomationRunRecord>, AnalyticsError> {
    if tx.is_second_level_scoped() {
        return Ok(Vec::new());
    }
    let mut query = automation_run::Entity::find().filter(automation_run::Column::TenantId.eq(tx.tenant_id()));
    if let Some(after) = page.after {
        query = query.filter(automation_run::Column::Id.gt(after));
    }
    let rows = query.order_by_asc(automation_run::Column::Id).limit(page.first + 1).all(tx.connection()).await?;
    rows.into_iter().map(run_from_row).collect()
}

fn run_from_row(row: automation_run::Model) -> Result<AutomationRunRecord, AnalyticsError> {
    Ok(AutomationRunRecord {
        id: row.id,
        rule_id: row.rule_id,
        rule_version: row.rule_version,
        subject_type: row.subject_type,
        subject_id: row.subject_id,
        triggered_by_event_id: row.triggered_by_event_id,
        started_at: row.started_at,
        finished_at: row.finished_at,
        outcome: RunOutcome::parse(&row.outcome)?,
        actions_result: row.actions_result,
        run_key: row.run_key,
        attempts: row.attempts,
        next_retry_at: row.next_retry_at,
        trigger_payload: row.trigger_payload,
    })
}

fn rule_from_row(row: automation_rule::Model) -> Result<AutomationRule, AnalyticsError> {
    let json = |text: &str, column: &str| -> Result<Value, AnalyticsError> {
        serde_json::from_str(text)
            .map_err(|error| AnalyticsError::CorruptJson(format!("automation rule {} {column}: {error}", row.id)))
    };
    let actions: Vec<RuleAction> = serde_json::from_value(json(&row.actions, "actions")?)
        .map_err(|error| AnalyticsError::CorruptJson(format!("automation rule {} actions: {error}", row.id)))?;
    Ok(AutomationRule {
        id: row.id,
        code: row.code.clone(),
        name: row.name.clone(),
        trigger: json(&row.trigger, "trigger")?,
        condition: json(&row.condition, "condition")?,
        actions,
        cooldown_hours: row.cooldown_hours,
        enabled: row.enabled,
        version: row.version,
    })
}

/// Every customer analytics has signals or a lifecycle for: the subjects of scheduled
/// rules.
pub async fn known_customers(tx: &TenantTransaction) -> Result<Vec<Uuid>, AnalyticsError> {
    let signals = customer_signal::Entity::find()
        .select_only()
        .column(customer_signal::Column::CustomerAccountId)
        .filter(customer_signal::Column::TenantId.eq(tx.tenant_id()))
        .into_tuple::<Uuid>()
        .all(tx.connection())
        .await?;
    let lifecycles = customer_lifecycle::Entity::find()
        .select_only()
        .column(customer_lifecycle::Column::CustomerAccountId)
        .filter(customer_lifecycle::Column::TenantId.eq(tx.tenant_id()))
        .into_tuple::<Uuid>()
        .all(tx.connection())
        .await?;
    let mut customers: Vec<Uuid> = signals.into_iter().chain(lifecycles).collect();
    customers.sort();
    customers.dedup();
    Ok(customers)
}
