//! GraphQL types of the customer journey and the automation rules: the timeline
//! connection and stage `CustomerAccount` gains, and the tenant admin's view of rules and
//! runs. JSON values (a timeline entry's payload, a rule's trigger, condition and actions,
//! a run's result) travel as JSON text in `String` fields: the supergraph needs no new
//! scalar and clients parse what they use.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Result, SimpleObject, dataloader::DataLoader};
use atrium_kit::{
    TenantTransaction,
    errors::ErrorCode,
    pagination::{PageInfo, PageRequest, encode_cursor},
};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::loaders::{LifecycleLoader, TimelineLoader};
use crate::{
    domain::{self, automation, lifecycle},
    error::AnalyticsError,
    repository,
};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "lifecycle::LifecycleStage")]
pub enum LifecycleStage {
    Onboarding,
    Implementing,
    Hypercare,
    SteadyState,
    RenewalWindow,
    Churned,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "lifecycle::LifecycleEventType")]
pub enum LifecycleEventType {
    ContractSigned,
    OnboardingStarted,
    OnboardingCompleted,
    WentLive,
    TimeEntryApproved,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "automation::RunOutcome")]
pub enum AutomationRunOutcome {
    SkippedCondition,
    SkippedCooldown,
    Succeeded,
    Failed,
}

/// One step of a customer's journey.
#[derive(SimpleObject, Clone)]
pub struct LifecycleEvent {
    pub id: ID,
    #[graphql(name = "type")]
    pub event_type: LifecycleEventType,
    pub occurred_at: DateTime<Utc>,
    /// The service whose event this step came from, e.g. `finance`.
    pub source_service: String,
    /// JSON text: the source event's data and the ids it refers to.
    pub payload: String,
}

impl From<domain::TimelineEntry> for LifecycleEvent {
    fn from(entry: domain::TimelineEntry) -> Self {
        LifecycleEvent {
            id: ID(entry.id.to_string()),
            event_type: entry.event_type.into(),
            occurred_at: entry.occurred_at,
            source_service: entry.source_service,
            payload: entry.payload,
        }
    }
}

#[derive(SimpleObject)]
pub struct LifecycleEventConnection {
    pub nodes: Vec<LifecycleEvent>,
    pub page_info: PageInfo,
}

/// An automation rule: trigger → condition → actions.
#[derive(SimpleObject)]
pub struct AutomationRule {
    pub id: ID,
    pub code: String,
    pub name: String,
    /// JSON text, e.g. `{"event":"finance.contract.signed"}`.
    pub trigger: String,
    /// JSON text in the condition language (docs/domain.md#automation-rules).
    pub condition: String,
    /// JSON text: a list of `{type, params}`.
    pub actions: String,
    pub cooldown_hours: i32,
    pub enabled: bool,
    pub version: i32,
}

impl From<automation::AutomationRule> for AutomationRule {
    fn from(rule: automation::AutomationRule) -> Self {
        AutomationRule {
            id: ID(rule.id.to_string()),
            code: rule.code,
            name: rule.name,
            trigger: rule.trigger.to_string(),
            condition: rule.condition.to_string(),
            actions: serde_json::to_string(&rule.actions).unwrap_or_default(),
            cooldown_hours: rule.cooldown_hours,
            enabled: rule.enabled,
            version: i32::try_from(rule.version).unwrap_or(i32::MAX),
        }
    }
}

/// One run of an automation rule.
#[derive(SimpleObject)]
pub struct AutomationRun {
    pub id: ID,
    pub rule_id: ID,
    pub rule_version: i32,
    pub subject_type: String,
    pub subject_id: ID,
    /// The event that triggered the run; null for scheduled runs.
    pub triggered_by_event_id: Option<ID>,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub outcome: AutomationRunOutcome,
    /// JSON text: per action, what became of it (the commands sent, with their keys).
    pub actions_result: String,
}

impl From<domain::AutomationRunRecord> for AutomationRun {
    fn from(run: domain::AutomationRunRecord) -> Self {
        AutomationRun {
            id: ID(run.id.to_string()),
            rule_id: ID(run.rule_id.to_string()),
            rule_version: i32::try_from(run.rule_version).unwrap_or(i32::MAX),
            subject_type: run.subject_type,
            subject_id: ID(run.subject_id.to_string()),
            triggered_by_event_id: run.triggered_by_event_id.map(|id| ID(id.to_string())),
            started_at: run.started_at,
            finished_at: run.finished_at,
            outcome: run.outcome.into(),
            actions_result: run.actions_result,
        }
    }
}

#[derive(SimpleObject)]
pub struct AutomationRunConnection {
    pub nodes: Vec<AutomationRun>,
    pub page_info: PageInfo,
}

/// A page of the customer's timeline; an id that is not a customer's has an empty one.
pub async fn timeline_of(
    ctx: &Context<'_>,
    customer: &ID,
    first: Option<i32>,
    after: Option<String>,
) -> Result<LifecycleEventConnection> {
    let page = PageRequest::parse(first, after.as_deref())?;
    let entries = match Uuid::parse_str(customer.as_str()) {
        Ok(customer_id) => {
            let loader = ctx.data::<DataLoader<TimelineLoader>>()?;
            loader.load_one(customer_id).await.map_err(loader_error)?.unwrap_or_default()
        }
        Err(_) => Vec::new(),
    };
    let (page_entries, page_info) = page_in_journey_order(&page, &entries)?;
    Ok(LifecycleEventConnection { nodes: page_entries.into_iter().map(Into::into).collect(), page_info })
}

/// Pages a timeline in its own order (`occurred_at`, then id), not id order: events
/// arrive out of order, so the cursor is the position after the entry it names.
fn page_in_journey_order(
    page: &PageRequest,
    entries: &[domain::TimelineEntry],
) -> Result<(Vec<domain::TimelineEntry>, PageInfo)> {
    let start = match page.after {
        None => 0,
        Some(after) => entries
            .iter()
            .position(|entry| entry.id == after)
            .map(|position| position + 1)
            .ok_or_else(|| ErrorCode::BadUserInput.graphql_error("`after` is not a cursor of this timeline"))?,
    };
    let rest = &entries[start..];
    let take = (page.first as usize).min(rest.len());
    let nodes = rest[..take].to_vec();
    let page_info =
        PageInfo { has_next_page: rest.len() > take, end_cursor: nodes.last().map(|entry| encode_cursor(entry.id)) };
    Ok((nodes, page_info))
}

/// The customer's stage; null while analytics has heard nothing of the customer.
pub async fn stage_of(ctx: &Context<'_>, customer: &ID) -> Result<Option<LifecycleStage>> {
    let Ok(customer_id) = Uuid::parse_str(customer.as_str()) else { return Ok(None) };
    let loader = ctx.data::<DataLoader<LifecycleLoader>>()?;
    let lifecycle = loader.load_one(customer_id).await.map_err(loader_error)?;
    Ok(lifecycle.map(|lifecycle| lifecycle.stage.into()))
}

pub async fn automation_rules(ctx: &Context<'_>) -> Result<Vec<AutomationRule>> {
    let tx = ctx.data::<Arc<TenantTransaction>>()?;
    let rules = repository::automation::all_rules(tx).await?;
    Ok(rules.into_iter().map(Into::into).collect())
}

pub async fn automation_runs(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
) -> Result<AutomationRunConnection> {
    let page = PageRequest::parse(first, after.as_deref())?;
    let tx = ctx.data::<Arc<TenantTransaction>>()?;
    let rows = repository::automation::runs_after(tx, page).await?;
    let (rows, page_info) = page.finish(rows, |run| run.id);
    Ok(AutomationRunConnection { nodes: rows.into_iter().map(Into::into).collect(), page_info })
}

fn loader_error(error: Arc<AnalyticsError>) -> async_graphql::Error {
    async_graphql::Error::new(error.to_string())
}
