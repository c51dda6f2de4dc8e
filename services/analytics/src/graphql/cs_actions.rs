//! GraphQL of the automation engine (docs/domain.md#cs-actions-and-playbooks,
//! docs/domain.md#automation-rules): CS actions with their steps (the root list and
//! `CustomerAccount.csActions`, narrowed to the caller's customers for partner users),
//! playbooks and notifications for tenant admins, and the mutations that close or dismiss
//! an action and edit a rule, each through the command path.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    Context, Enum, ID, InputObject, Object, Result, SimpleObject,
    dataloader::{DataLoader, Loader},
};
use atrium_kit::{
    TenantTransaction,
    changes::{ChangeKind, outbox},
    command::{self, Command, CommandError, Outcome, guard_transition},
    errors::ErrorCode,
    pagination::{PageInfo, PageRequest},
};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::journey::AutomationRule;
use crate::{
    automation::actions::cs_action_event,
    domain::{
        automation::{self, RuleAction},
        cs_action::{self as domain, CsActionStatus},
    },
    error::AnalyticsError,
    repository::{
        automation as rules,
        cs_actions::{self as store, CsActionFilter},
    },
};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::CsActionType")]
pub enum CsActionType {
    Risk,
    Renewal,
    Expansion,
    Onboarding,
    Lifecycle,
    Finance,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::CsActionPriority")]
pub enum CsActionPriority {
    Low,
    Medium,
    High,
    Urgent,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::CsActionStatus")]
pub enum CsActionStatusValue {
    Open,
    InProgress,
    ClosedSuccess,
    ClosedNoAction,
    Dismissed,
}

/// How a closed action ended.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum CsActionOutcome {
    Success,
    NoAction,
}

/// A customer-success action: work for an owner role about one customer, opened by an
/// automation rule (or a playbook it started).
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct CsAction {
    pub id: ID,
    pub customer_account_id: ID,
    #[graphql(name = "type")]
    pub action_type: CsActionType,
    pub priority: CsActionPriority,
    pub owner_role: String,
    pub due_date: NaiveDate,
    pub status: CsActionStatusValue,
    pub reason: String,
    pub playbook_id: Option<ID>,
    /// The automation rule that opened the action.
    pub source_rule_id: Option<ID>,
    pub created_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub version: i32,
}

impl From<domain::CsAction> for CsAction {
    fn from(action: domain::CsAction) -> Self {
        CsAction {
            id: ID(action.id.to_string()),
            customer_account_id: ID(action.customer_account_id.to_string()),
            action_type: action.action_type.into(),
            priority: action.priority.into(),
            owner_role: action.owner_role,
            due_date: action.due_date,
            status: action.status.into(),
            reason: action.reason,
            playbook_id: action.playbook_id.map(|id| ID(id.to_string())),
            source_rule_id: action.source_rule_id.map(|id| ID(id.to_string())),
            created_at: action.created_at,
            closed_at: action.closed_at,
            version: i32::try_from(action.version).unwrap_or(i32::MAX),
        }
    }
}

#[async_graphql::ComplexObject]
impl CsAction {
    /// The playbook's steps, in order; empty for an action without a playbook.
    async fn steps(&self, ctx: &Context<'_>) -> Result<Vec<CsActionStep>> {
        let Ok(id) = Uuid::parse_str(self.id.as_str()) else { return Ok(Vec::new()) };
        let loader = ctx.data::<DataLoader<CsActionStepsLoader>>()?;
        let steps = loader.load_one(id).await.map_err(loader_error)?.unwrap_or_default();
        Ok(steps.into_iter().map(Into::into).collect())
    }
}

#[derive(SimpleObject, Clone)]
pub struct CsActionStep {
    pub ordinal: i32,
    pub title: String,
    pub owner_role: String,
    pub due_date: NaiveDate,
    pub done: bool,
}

impl From<domain::CsActionStep> for CsActionStep {
    fn from(step: domain::CsActionStep) -> Self {
        CsActionStep {
            ordinal: step.ordinal,
            title: step.title,
            owner_role: step.owner_role,
            due_date: step.due_date,
            done: step.done,
        }
    }
}

#[derive(SimpleObject)]
pub struct CsActionConnection {
    pub nodes: Vec<CsAction>,
    pub page_info: PageInfo,
}

/// Which actions a list shows.
#[derive(InputObject, Default)]
pub struct CsActionFilterInput {
    pub status: Option<CsActionStatusValue>,
    #[graphql(name = "type")]
    pub action_type: Option<CsActionType>,
    pub customer_account_id: Option<ID>,
}

#[derive(SimpleObject)]
pub struct PlaybookStep {
    pub title: String,
    pub owner_role: String,
    pub due_offset_days: i32,
}

/// A named list of steps a CS action can be started from.
#[derive(SimpleObject)]
pub struct Playbook {
    pub id: ID,
    pub code: String,
    pub name: String,
    pub trigger_kind: String,
    pub cs_action_type: CsActionType,
    pub steps: Vec<PlaybookStep>,
}

impl From<domain::Playbook> for Playbook {
    fn from(playbook: domain::Playbook) -> Self {
        Playbook {
            id: ID(playbook.id.to_string()),
            code: playbook.code,
            name: playbook.name,
            trigger_kind: playbook.trigger_kind,
            cs_action_type: playbook.action_type.into(),
            steps: playbook
                .steps
                .into_iter()
                .map(|step| PlaybookStep {
                    title: step.title,
                    owner_role: step.owner_role,
                    due_offset_days: i32::try_from(step.due_offset_days).unwrap_or(i32::MAX),
                })
                .collect(),
        }
    }
}

/// An in-app notification for the holders of a role.
#[derive(SimpleObject)]
pub struct Notification {
    pub id: ID,
    pub customer_account_id: Option<ID>,
    pub recipient_role: String,
    /// The branded template, e.g. `dunning_61_90`.
    pub template: String,
    /// JSON text: the values the template is rendered with.
    pub message: String,
    pub source_rule_id: Option<ID>,
    pub created_at: DateTime<Utc>,
}

impl From<domain::Notification> for Notification {
    fn from(notification: domain::Notification) -> Self {
        Notification {
            id: ID(notification.id.to_string()),
            customer_account_id: notification.customer_account_id.map(|id| ID(id.to_string())),
            recipient_role: notification.recipient_role,
            template: notification.template,
            message: notification.message,
            source_rule_id: notification.source_rule_id.map(|id| ID(id.to_string())),
            created_at: notification.created_at,
        }
    }
}

#[derive(SimpleObject)]
pub struct NotificationConnection {
    pub nodes: Vec<Notification>,
    pub page_info: PageInfo,
}

pub async fn cs_actions(
    ctx: &Context<'_>,
    filter: Option<CsActionFilterInput>,
    first: Option<i32>,
    after: Option<String>,
) -> Result<CsActionConnection> {
    let page = PageRequest::parse(first, after.as_deref())?;
    let filter = filter.unwrap_or_default();
    let customer_account_id = match filter.customer_account_id {
        Some(id) => match Uuid::parse_str(id.as_str()) {
            Ok(id) => Some(id),
            Err(_) => {
                return Ok(CsActionConnection {
                    nodes: Vec::new(),
                    page_info: PageInfo { has_next_page: false, end_cursor: None },
                });
            }
        },
        None => None,
    };
    let filter = CsActionFilter {
        status: filter.status.map(Into::into),
        action_type: filter.action_type.map(Into::into),
        customer_account_id,
    };
    let tx = ctx.data::<Arc<TenantTransaction>>()?;
    let rows = store::cs_actions_after(tx, &filter, page).await?;
    let (rows, page_info) = page.finish(rows, |action| action.id);
    Ok(CsActionConnection { nodes: rows.into_iter().map(Into::into).collect(), page_info })
}

/// A page of one customer's actions (loaded for all customers of the request at once).
pub async fn cs_actions_of(
    ctx: &Context<'_>,
    customer: &ID,
    first: Option<i32>,
    after: Option<String>,
) -> Result<CsActionConnection> {
    let page = PageRequest::parse(first, after.as_deref())?;
    let actions = match Uuid::parse_str(customer.as_str()) {
        Ok(customer_id) => {
            let loader = ctx.data::<DataLoader<CustomerCsActionsLoader>>()?;
            loader.load_one(customer_id).await.map_err(loader_error)?.unwrap_or_default()
        }
        Err(_) => Vec::new(),
    };
    let (nodes, page_info) = page.slice(&actions, |action| action.id);
    Ok(CsActionConnection { nodes: nodes.into_iter().map(Into::into).collect(), page_info })
}

pub async fn playbooks(ctx: &Context<'_>) -> Result<Vec<Playbook>> {
    let tx = ctx.data::<Arc<TenantTransaction>>()?;
    Ok(store::all_playbooks(tx).await?.into_iter().map(Into::into).collect())
}

pub async fn notifications(
    ctx: &Context<'_>,
    recipient_role: Option<String>,
    first: Option<i32>,
    after: Option<String>,
) -> Result<NotificationConnection> {
    let page = PageRequest::parse(first, after.as_deref())?;
    let tx = ctx.data::<Arc<TenantTransaction>>()?;
    let rows = store::notifications_after(tx, recipient_role.as_deref(), page).await?;
    let (rows, page_info) = page.finish(rows, |notification| notification.id);
    Ok(NotificationConnection { nodes: rows.into_iter().map(Into::into).collect(), page_info })
}

/// Roles that work CS actions; partner users only on their customers'.
const CS_ROLES: &[&str] =
    &["tenant_admin", "exec", "csm", "delivery_manager", "finance", "support_lead", "partner_admin", "partner_user"];

const CLOSE_CS_ACTION: Command =
    Command { operation: "closeCsAction", entity_type: "CsAction", allowed_roles: CS_ROLES, target: None };
const DISMISS_CS_ACTION: Command =
    Command { operation: "dismissCsAction", entity_type: "CsAction", allowed_roles: CS_ROLES, target: None };
const UPDATE_AUTOMATION_RULE: Command = Command {
    operation: "updateAutomationRule",
    entity_type: "AutomationRule",
    allowed_roles: &["tenant_admin"],
    target: None,
};

#[derive(Default)]
pub struct AutomationMutation;

#[Object]
impl AutomationMutation {
    /// Closes an open CS action with its outcome; emits `analytics.cs_action.closed`.
    #[graphql(
        requires_scopes = "tenant_admin",
        requires_scopes = "exec",
        requires_scopes = "csm",
        requires_scopes = "delivery_manager",
        requires_scopes = "finance",
        requires_scopes = "support_lead",
        requires_scopes = "partner_admin",
        requires_scopes = "partner_user"
    )]
    async fn close_cs_action(&self, ctx: &Context<'_>, id: ID, outcome: CsActionOutcome) -> Result<CsAction> {
        let status = match outcome {
            CsActionOutcome::Success => CsActionStatus::ClosedSuccess,
            CsActionOutcome::NoAction => CsActionStatus::ClosedNoAction,
        };
        move_cs_action(ctx, CLOSE_CS_ACTION, id, status).await
    }

    /// Dismisses a CS action that needs no work; emits `analytics.cs_action.closed`.
    #[graphql(
        requires_scopes = "tenant_admin",
        requires_scopes = "exec",
        requires_scopes = "csm",
        requires_scopes = "delivery_manager",
        requires_scopes = "finance",
        requires_scopes = "support_lead",
        requires_scopes = "partner_admin",
        requires_scopes = "partner_user"
    )]
    async fn dismiss_cs_action(&self, ctx: &Context<'_>, id: ID) -> Result<CsAction> {
        move_cs_action(ctx, DISMISS_CS_ACTION, id, CsActionStatus::Dismissed).await
    }

    /// Edits a rule (tenant admins only): switches it on or off, sets its cooldown, its
    /// condition (JSON text in the rule language) or its actions (JSON text, a list of
    /// `{type, params}`); every edit is a new version.
    #[graphql(requires_scopes = "tenant_admin")]
    async fn update_automation_rule(
        &self,
        ctx: &Context<'_>,
        code: String,
        enabled: Option<bool>,
        cooldown_hours: Option<i32>,
        condition: Option<String>,
        actions: Option<String>,
    ) -> Result<AutomationRule> {
        let condition = condition
            .map(|text| serde_json::from_str::<Value>(&text))
            .transpose()
            .map_err(|error| ErrorCode::BadUserInput.graphql_error(format!("`condition` is not JSON: {error}")))?;
        if let Some(condition) = &condition {
            automation::validate_condition(condition)
                .map_err(|error| ErrorCode::BadUserInput.graphql_error(error.to_string()))?;
        }
        let actions =
            actions.map(|text| serde_json::from_str::<Vec<RuleAction>>(&text)).transpose().map_err(|error| {
                ErrorCode::BadUserInput.graphql_error(format!("`actions` is not a list of actions: {error}"))
            })?;
        if cooldown_hours.is_some_and(|hours| hours < 0) {
            return Err(ErrorCode::BadUserInput.graphql_error("`cooldownHours` must not be negative"));
        }
        command::run(ctx, UPDATE_AUTOMATION_RULE, move |tx| {
            Box::pin(async move {
                let mut rule = rules::rule_by_code(tx, &code)
                    .await
                    .map_err(database)?
                    .ok_or(CommandError::NotFound("AutomationRule"))?;
                let previous_version = rule.version;
                let before = format!("v{} enabled={} cooldown={}h", rule.version, rule.enabled, rule.cooldown_hours);
                if let Some(enabled) = enabled {
                    rule.enabled = enabled;
                }
                if let Some(hours) = cooldown_hours {
                    rule.cooldown_hours = hours;
                }
                if let Some(condition) = condition {
                    rule.condition = condition;
                }
                if let Some(actions) = actions {
                    rule.actions = actions;
                }
                rule.version += 1;
                if !rules::update_rule(tx, &rule, previous_version).await.map_err(database)? {
                    return Err(CommandError::stale("AutomationRule"));
                }
                Ok(Outcome {
                    detail: format!(
                        "{}: {before} -> v{} enabled={} cooldown={}h",
                        rule.code, rule.version, rule.enabled, rule.cooldown_hours
                    ),
                    entity_ids: vec![rule.id],
                    events: Vec::new(),
                    value: AutomationRule::from(rule),
                })
            })
        })
        .await
    }
}

async fn move_cs_action(ctx: &Context<'_>, command: Command, id: ID, status: CsActionStatus) -> Result<CsAction> {
    let Ok(id) = Uuid::parse_str(id.as_str()) else {
        return Err(ErrorCode::NotFound.graphql_error("no CsAction with this id"));
    };
    let command = Command { target: Some(id), ..command };
    command::run(ctx, command, move |tx| {
        Box::pin(async move {
            let action =
                store::find_cs_action(tx, id).await.map_err(database)?.ok_or(CommandError::NotFound("CsAction"))?;
            guard_transition(action.status, status)?;
            let closed_at = Utc::now();
            if !store::set_cs_action_status(tx, &action, status, Some(closed_at)).await.map_err(database)? {
                return Err(CommandError::stale("CsAction"));
            }
            outbox::record_change(
                tx,
                "analytics",
                "CustomerAccount",
                &action.customer_account_id.to_string(),
                ChangeKind::Updated,
            )
            .await?;
            let detail = format!("{} -> {}", action.status.as_str(), status.as_str());
            let closed = domain::CsAction { status, closed_at: Some(closed_at), version: action.version + 1, ..action };
            let mut event = cs_action_event(tx.context(), "analytics.cs_action.closed", &closed, None);
            event.data["status"] = serde_json::json!(status.as_str());
            Ok(Outcome { detail, entity_ids: vec![closed.id], events: vec![event], value: CsAction::from(closed) })
        })
    })
    .await
}

fn database(error: AnalyticsError) -> CommandError {
    match error {
        AnalyticsError::Database(error) => CommandError::Database(error),
        other => CommandError::Invalid(other.to_string()),
    }
}

fn loader_error(error: Arc<AnalyticsError>) -> async_graphql::Error {
    async_graphql::Error::new(error.to_string())
}

/// Customers' CS actions, by id, in one statement for all customers of a request.
pub struct CustomerCsActionsLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for CustomerCsActionsLoader {
    type Value = Vec<domain::CsAction>;
    type Error = Arc<AnalyticsError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = store::cs_actions_of_customers(&self.0, keys).await.map_err(Arc::new)?;
        let mut actions: HashMap<Uuid, Vec<domain::CsAction>> = HashMap::new();
        for row in rows {
            actions.entry(row.customer_account_id).or_default().push(row);
        }
        Ok(actions)
    }
}

/// Actions' steps, in one statement for all actions of a request.
pub struct CsActionStepsLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for CsActionStepsLoader {
    type Value = Vec<domain::CsActionStep>;
    type Error = Arc<AnalyticsError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = store::steps_of_actions(&self.0, keys).await.map_err(Arc::new)?;
        let mut steps: HashMap<Uuid, Vec<domain::CsActionStep>> = HashMap::new();
        for row in rows {
            steps.entry(row.cs_action_id).or_default().push(row);
        }
        Ok(steps)
    }
}
