//! Demo data (docs/domain.md#demo-data) for analytics: the active `standard_v1` health
//! model and a signals row for every demo customer, chosen so the health stories hold with
//! realistic support/finance inputs (Prairie Foods and Rheinwerk red, Lakeshore yellow,
//! Summit Ag and Thames Mutual green; Blue Heron, brand new, has no pulse yet).
//! Every tenant also gets the automation rules A1–A12 and their playbooks, and each
//! customer a health snapshot of the seed day.
//! Deterministic and idempotent: a tenant with a health model keeps its model and signals,
//! a tenant with a rule or playbook of a code keeps it; one tenant transaction each.

use atrium_kit::{
    TenantTransaction,
    command::CommandError,
    demo::{self, DemoTenant, SeedRng, Story},
};
use chrono::{Duration, NaiveDate, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::{
    domain::{health::ModelStatus, health_model::ModelDefinition},
    entities::{customer_signal, health_model},
    error::AnalyticsError,
    repository::{automation, health_models},
};

/// The default model every tenant starts with (docs/domain.md#health-score).
pub const STANDARD_MODEL_NAME: &str = "standard_v1";

/// `(csm pulse, days since the last executive touch)` of a story account.
fn story_signals(story: Story) -> (Option<i32>, Option<i64>) {
    match story {
        Story::PrairieFoods => (Some(1), Some(110)),
        Story::LakeshoreDental => (Some(3), Some(40)),
        Story::CedarValley => (Some(3), Some(95)),
        Story::SummitAg => (Some(4), Some(60)),
        // Signed two days ago: no pulse or executive touch recorded yet.
        Story::BlueHeron => (None, None),
        Story::Rheinwerk => (Some(2), Some(75)),
        Story::Harborview => (Some(3), Some(50)),
        Story::LumenPay => (Some(4), Some(35)),
        Story::ThamesMutual => (Some(5), Some(20)),
    }
}

pub async fn seed_demo_tenants(database: &DatabaseConnection) -> Result<(), AnalyticsError> {
    for demo_tenant in demo::TENANTS {
        let tx = TenantTransaction::begin(database, &demo::seed_context(demo_tenant)).await?;
        // The tenant's business date, the one health counts days from.
        let today = atrium_kit::calendar::tenant_date(tx.tenant_id(), Utc::now());
        let seeded = health_model::Entity::find()
            .filter(health_model::Column::TenantId.eq(tx.tenant_id()))
            .one(tx.connection())
            .await?
            .is_some();
        if !seeded {
            seed_tenant(&tx, demo_tenant, today).await?;
            tracing::info!(tenant = demo_tenant.slug, "seeded analytics demo data");
        }
        // Databases seeded before rules existed get theirs on the next start.
        for rule in crate::automation::seed::default_rules(demo_tenant) {
            if automation::insert_rule_unless_present(&tx, &rule).await? {
                tracing::info!(tenant = demo_tenant.slug, rule = rule.code, "seeded automation rule");
            }
        }
        for playbook in crate::automation::seed::default_playbooks(demo_tenant) {
            crate::repository::cs_actions::insert_playbook_unless_present(&tx, &playbook).await?;
        }
        tx.commit().await?;
    }
    Ok(())
}

async fn seed_tenant(tx: &TenantTransaction, demo_tenant: &DemoTenant, today: NaiveDate) -> Result<(), AnalyticsError> {
    let connection = tx.connection();
    let now = Utc::now();
    health_model::Entity::insert(health_model::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(demo::id("health_model", 0, &format!("{}/{STANDARD_MODEL_NAME}/1", demo_tenant.slug))),
        name: Set(STANDARD_MODEL_NAME.to_owned()),
        version: Set(1),
        status: Set(ModelStatus::Active.as_str().to_owned()),
        created_at: Set(now),
        definition: Set(Some(health_models::definition_json(&ModelDefinition::standard_v1()))),
    })
    .exec(connection)
    .await?;

    let mut rng = SeedRng::new(&format!("analytics/{}", demo_tenant.slug));
    let signals: Vec<customer_signal::ActiveModel> = demo_tenant
        .customers
        .iter()
        .enumerate()
        .map(|(ordinal, customer)| {
            let (pulse, days) = match customer.story {
                Some(story) => story_signals(story),
                None => (Some(rng.between(3, 5) as i32), Some(rng.between(10, 90))),
            };
            customer_signal::ActiveModel {
                tenant_id: Set(tx.tenant_id()),
                id: Set(demo::id(
                    "customer_signal",
                    ordinal as u64,
                    &format!("{}/{}", demo_tenant.slug, customer.name),
                )),
                customer_account_id: Set(demo::customer_id(demo_tenant, ordinal)),
                channel_partner_id: Set(customer.partner.map(|partner| demo::partner_id(demo_tenant, partner))),
                csm_pulse: Set(pulse),
                last_exec_touch_on: Set(days.map(|days| today - Duration::days(days))),
                csm_pulse_comment: Set(None),
                updated_at: Set(now),
            }
        })
        .collect();
    customer_signal::Entity::insert_many(signals).exec(connection).await?;

    // The seed day's snapshots, so history and facts start with a computed health.
    let customers: Vec<_> =
        (0..demo_tenant.customers.len()).map(|ordinal| demo::customer_id(demo_tenant, ordinal)).collect();
    crate::health::recompute(tx, customers, today, now, crate::health::Cadence::Scheduled).await.map_err(|error| {
        match error {
            CommandError::Database(error) => AnalyticsError::Database(error),
            other => AnalyticsError::Database(sea_orm::DbErr::Custom(format!("seed snapshots: {other}"))),
        }
    })?;
    Ok(())
}
