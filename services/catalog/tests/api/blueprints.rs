//! The seeded catalog: every demo blueprint has a current version 1 with milestones and an
//! onboarding checklist, every implementation package points at one, and the outbox
//! announces the published packages and versions exactly once, with the data other
//! services build their copy of the catalog from.

use std::collections::BTreeSet;

use atrium_kit::{demo, events::DomainEvent};
use serde_json::{Value, json};

use crate::helpers::Backend;

const CATALOG: &str = "{ blueprints(first: 100) { nodes { id name engagementType status milestoneCount \
    targetOnboardDays targetGoLiveDays \
    currentVersion { id version targetOnboardDays targetGoLiveDays hypercareDays budgetHours \
      milestones { id seq code name phase offsetDays weight isGoLive isBilling billingPct \
        requiresCustomerAcceptance \
        tasks { id seq title kind required ownerRole customerFacing offsetDays estimateHours } } } \
    versions { id version } } } \
  servicePackages(first: 100) { nodes { id code name category billingModel status blueprint { id } } } }";

async fn catalog_of(backend: &Backend, slug: &str) -> Value {
    backend.catalog.data(slug, CATALOG, json!({})).await
}

fn nodes<'a>(data: &'a Value, field: &str) -> &'a Vec<Value> {
    data[field]["nodes"].as_array().expect("a connection")
}

fn checklist(version: &Value) -> Vec<&Value> {
    version["milestones"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|milestone| milestone["phase"] == "ONBOARDING")
        .flat_map(|milestone| milestone["tasks"].as_array().unwrap())
        .filter(|task| task["kind"] == "CHECKLIST")
        .collect()
}

async fn assert_seeded_blueprints_are_instantiable(backend: &Backend) {
    for tenant in demo::TENANTS {
        let data = catalog_of(backend, tenant.slug).await;
        let blueprints = nodes(&data, "blueprints");
        assert_eq!(blueprints.len(), tenant.blueprints.len(), "{}", tenant.slug);
        for blueprint in blueprints {
            let name = blueprint["name"].as_str().unwrap();
            let current = &blueprint["currentVersion"];
            assert_eq!(blueprint["status"], "PUBLISHED", "{name}");
            assert_eq!(current["version"], 1, "{name}");
            assert_eq!(blueprint["versions"], json!([{ "id": current["id"], "version": 1 }]), "{name}");
            let milestones = current["milestones"].as_array().unwrap();
            assert_eq!(blueprint["milestoneCount"], json!(milestones.len()), "{name}: count from the templates");
            assert_eq!(blueprint["targetGoLiveDays"], current["targetGoLiveDays"], "{name}");
            assert_eq!(blueprint["targetOnboardDays"], current["targetOnboardDays"], "{name}");
            let seqs: Vec<i64> = milestones.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
            assert_eq!(seqs, (1..=milestones.len() as i64).collect::<Vec<_>>(), "{name}");
            let codes: BTreeSet<&str> = milestones.iter().map(|m| m["code"].as_str().unwrap()).collect();
            assert_eq!(codes.len(), milestones.len(), "{name}: unique codes");
            assert!(milestones.iter().filter(|m| m["isGoLive"] == true).count() <= 1, "{name}");
            let billed: f64 =
                milestones.iter().map(|m| m["billingPct"].as_str().unwrap().parse::<f64>().unwrap()).sum();
            assert_eq!(billed, 100.0, "{name}: billing shares");
            assert_eq!(milestones[0]["phase"], "ONBOARDING", "{name}");
            let items = checklist(current);
            assert!((6..=10).contains(&items.len()), "{name}: {} checklist items", items.len());
            for item in &items {
                assert_eq!(item["required"], true, "{name}");
                assert!(item["ownerRole"].is_string(), "{name}");
                let offset = item["offsetDays"].as_i64().unwrap();
                assert!((0..=milestones[0]["offsetDays"].as_i64().unwrap()).contains(&offset), "{name}");
            }
            assert!(milestones.iter().skip(1).all(|m| !m["tasks"].as_array().unwrap().is_empty()), "{name}: work");
        }
        let blueprint_ids: BTreeSet<&str> = blueprints.iter().map(|b| b["id"].as_str().unwrap()).collect();
        for package in nodes(&data, "servicePackages") {
            let code = package["code"].as_str().unwrap();
            if package["category"] == "IMPLEMENTATION" {
                let blueprint = package["blueprint"]["id"].as_str();
                assert!(
                    blueprint.is_some_and(|id| blueprint_ids.contains(id)),
                    "{code} has no blueprint of its tenant"
                );
            }
        }
    }

    let ridgeline = catalog_of(backend, "ridgeline").await;
    let by_name = |name: &str| {
        nodes(&ridgeline, "blueprints").iter().find(|b| b["name"] == name).cloned().expect("seeded blueprint")
    };
    let bc = by_name("BC Essentials 90-day");
    let titles: Vec<&str> = checklist(&bc["currentVersion"]).iter().map(|t| t["title"].as_str().unwrap()).collect();
    assert_eq!(titles.len(), 10);
    assert!(titles.contains(&"Data migration template sent") && titles.contains(&"Welcome call held"));
    let go_live: Vec<&Value> =
        bc["currentVersion"]["milestones"].as_array().unwrap().iter().filter(|m| m["isGoLive"] == true).collect();
    assert_eq!((go_live.len(), &go_live[0]["offsetDays"]), (1, &json!(90)));
    // Delivery's demo engagements follow the same seven milestones.
    assert_eq!(by_name("NetSuite Standard 120-day")["milestoneCount"], 7);
    let packages = nodes(&ridgeline, "servicePackages");
    let blueprint_of = |code: &str| packages.iter().find(|p| p["code"] == code).unwrap()["blueprint"]["id"].clone();
    assert_eq!(blueprint_of("BC-IMPL-ESS"), bc["id"]);
    assert_eq!(blueprint_of("NS-IMPL-STD"), by_name("NetSuite Standard 120-day")["id"]);
    assert_eq!(blueprint_of("MST-TRANS"), by_name("Managed Services Transition 45-day")["id"]);
}

#[tokio::test]
async fn seeded_blueprints_have_a_current_first_version_with_an_onboarding_checklist_on_sqlite() {
    assert_seeded_blueprints_are_instantiable(&Backend::sqlite("catalog_blueprints").await).await;
}

#[tokio::test]
async fn seeded_blueprints_have_a_current_first_version_with_an_onboarding_checklist_on_postgres() {
    let Some(backend) = Backend::postgres("catalog_blueprints").await else { return };
    assert_seeded_blueprints_are_instantiable(&backend).await;
}

fn keys(value: &Value) -> BTreeSet<&str> {
    value.as_object().expect("an object").keys().map(String::as_str).collect()
}

fn set(keys: &[&'static str]) -> BTreeSet<&'static str> {
    keys.iter().copied().collect()
}

/// The interface's data of a `catalog.blueprint.version_published` event against what the
/// API serves for that version.
fn assert_version_event_matches(event: &DomainEvent, blueprint: &Value) {
    let version = &blueprint["currentVersion"];
    let data = &event.data;
    assert_eq!(event.producer, "catalog");
    assert_eq!(event.subject.entity_type, "Blueprint");
    assert_eq!(json!(event.subject.id), blueprint["id"]);
    assert_eq!(json!(event.subject.version), version["version"]);
    assert!(event.refs.is_empty());
    assert_eq!(
        keys(data),
        set(&[
            "blueprint_id",
            "blueprint_version_id",
            "name",
            "engagement_type",
            "version",
            "target_onboard_days",
            "target_go_live_days",
            "hypercare_days",
            "budget_hours",
            "milestones",
        ])
    );
    assert_eq!(data["blueprint_id"], blueprint["id"]);
    assert_eq!(data["blueprint_version_id"], version["id"]);
    assert_eq!(data["name"], blueprint["name"]);
    assert_eq!(data["engagement_type"], blueprint["engagementType"].as_str().unwrap().to_lowercase());
    for (field, graphql) in [
        ("version", "version"),
        ("target_onboard_days", "targetOnboardDays"),
        ("target_go_live_days", "targetGoLiveDays"),
        ("hypercare_days", "hypercareDays"),
        ("budget_hours", "budgetHours"),
    ] {
        assert_eq!(data[field], version[graphql], "{field}");
    }
    let served = version["milestones"].as_array().unwrap();
    let announced = data["milestones"].as_array().unwrap();
    assert_eq!(announced.len(), served.len());
    for (milestone, served) in announced.iter().zip(served) {
        assert_eq!(
            keys(milestone),
            set(&[
                "milestone_template_id",
                "seq",
                "code",
                "name",
                "phase",
                "offset_days",
                "weight",
                "is_go_live",
                "is_billing",
                "billing_pct",
                "requires_customer_acceptance",
                "tasks",
            ])
        );
        assert_eq!(milestone["milestone_template_id"], served["id"]);
        assert_eq!(milestone["phase"], served["phase"].as_str().unwrap().to_lowercase());
        for (field, graphql) in [
            ("seq", "seq"),
            ("code", "code"),
            ("name", "name"),
            ("offset_days", "offsetDays"),
            ("weight", "weight"),
            ("is_go_live", "isGoLive"),
            ("is_billing", "isBilling"),
            ("billing_pct", "billingPct"),
            ("requires_customer_acceptance", "requiresCustomerAcceptance"),
        ] {
            assert_eq!(milestone[field], served[graphql], "{field}");
        }
        let tasks = milestone["tasks"].as_array().unwrap();
        let served_tasks = served["tasks"].as_array().unwrap();
        assert_eq!(tasks.len(), served_tasks.len());
        for (task, served) in tasks.iter().zip(served_tasks) {
            assert_eq!(
                keys(task),
                set(&[
                    "task_template_id",
                    "seq",
                    "title",
                    "kind",
                    "required",
                    "owner_role",
                    "customer_facing",
                    "offset_days",
                    "estimate_hours",
                ])
            );
            assert_eq!(task["task_template_id"], served["id"]);
            assert_eq!(task["kind"], served["kind"].as_str().unwrap().to_lowercase());
            assert_eq!(task["owner_role"], served["ownerRole"].as_str().unwrap().to_lowercase());
            for (field, graphql) in [
                ("seq", "seq"),
                ("title", "title"),
                ("required", "required"),
                ("customer_facing", "customerFacing"),
                ("offset_days", "offsetDays"),
                ("estimate_hours", "estimateHours"),
            ] {
                assert_eq!(task[field], served[graphql], "{field}");
            }
        }
    }
}

async fn assert_the_outbox_announces_the_seeded_catalog_once(backend: &Backend) {
    for tenant in demo::TENANTS {
        let data = catalog_of(backend, tenant.slug).await;
        let versions = backend.events_of_type(tenant.slug, "catalog.blueprint.version_published").await;
        let blueprints = nodes(&data, "blueprints");
        assert_eq!(versions.len(), blueprints.len(), "{}", tenant.slug);
        for blueprint in blueprints {
            let event = versions.iter().find(|e| json!(e.subject.id) == blueprint["id"]).expect("announced");
            assert_eq!(event.tenant_id, demo::tenant_id(tenant.slug));
            assert_eq!(event.actor, "automation:demo-seed");
            assert_version_event_matches(event, blueprint);
        }

        let packages = backend.events_of_type(tenant.slug, "catalog.package.published").await;
        let served = nodes(&data, "servicePackages");
        assert_eq!(packages.len(), served.len(), "{}: one event per published package", tenant.slug);
        for package in served {
            let event = packages.iter().find(|e| json!(e.subject.id) == package["id"]).expect("announced");
            assert_eq!((event.subject.entity_type.as_str(), event.subject.version), ("ServicePackage", 1));
            assert_eq!(keys(&event.data), set(&["code", "name", "blueprint_id", "category", "billing_model"]));
            assert_eq!(event.data["code"], package["code"]);
            assert_eq!(event.data["name"], package["name"]);
            let blueprint_id = package["blueprint"]["id"].clone();
            assert_eq!(event.data["blueprint_id"], blueprint_id);
            assert_eq!(event.data["category"], package["category"].as_str().unwrap().to_lowercase());
            assert_eq!(event.data["billing_model"], package["billingModel"].as_str().unwrap().to_lowercase());
        }
        let all = backend.events(tenant.slug).await;
        assert_eq!(all.len(), versions.len() + packages.len(), "{}: nothing else", tenant.slug);
    }

    // Starting again on the same database seeds nothing and announces nothing new.
    let before: Vec<usize> = outbox_sizes(backend).await;
    let versions_before = backend.count("ridgeline", "blueprint_versions").await;
    let restarted = backend.restart().await;
    let data = restarted.data("ridgeline", "{ blueprints(first: 100) { nodes { versions { id } } } }", json!({})).await;
    assert!(nodes(&data, "blueprints").iter().all(|b| b["versions"].as_array().unwrap().len() == 1));
    assert_eq!(outbox_sizes(backend).await, before);
    assert_eq!(backend.count("ridgeline", "blueprint_versions").await, versions_before);

    // A database seeded before blueprints had versions (Ridgeline's rows, as the earlier
    // seed left them) gets them, and their announcement, on its next start.
    let ridgeline = demo::tenant_id("ridgeline");
    for sql in [
        "DELETE FROM task_templates WHERE tenant_id = ?",
        "DELETE FROM milestone_templates WHERE tenant_id = ?",
        "UPDATE blueprints SET current_version_id = NULL, milestone_count = 8, version = 1 WHERE tenant_id = ?",
        "DELETE FROM blueprint_versions WHERE tenant_id = ?",
        "DELETE FROM change_outbox WHERE tenant_id = ?",
    ] {
        backend.execute_as_tenant("ridgeline", sql, vec![ridgeline.into()]).await;
    }
    let restarted = backend.restart().await;
    let data = restarted.data("ridgeline", CATALOG, json!({})).await;
    let blueprints = nodes(&data, "blueprints");
    assert!(
        blueprints.iter().all(|b| b["currentVersion"]["version"] == 1 && b["versions"].as_array().unwrap().len() == 1)
    );
    let netsuite = blueprints.iter().find(|b| b["name"] == "NetSuite Standard 120-day").unwrap();
    assert_eq!(netsuite["milestoneCount"], 7);
    let events = backend.events("ridgeline").await;
    assert_eq!(events.len(), before[0], "the catalog is announced again, once");
    let helix_and_veritas: Vec<usize> = outbox_sizes(backend).await[1..].to_vec();
    assert_eq!(helix_and_veritas, before[1..].to_vec(), "other tenants are left alone");
}

/// Outbox events per demo tenant.
async fn outbox_sizes(backend: &Backend) -> Vec<usize> {
    let mut counts = Vec::new();
    for tenant in demo::TENANTS {
        counts.push(backend.events(tenant.slug).await.len());
    }
    counts
}

#[tokio::test]
async fn the_outbox_announces_the_seeded_packages_and_versions_once_on_sqlite() {
    assert_the_outbox_announces_the_seeded_catalog_once(&Backend::sqlite("catalog_seed_events").await).await;
}

#[tokio::test]
async fn the_outbox_announces_the_seeded_packages_and_versions_once_on_postgres() {
    let Some(backend) = Backend::postgres("catalog_seed_events").await else { return };
    assert_the_outbox_announces_the_seeded_catalog_once(&backend).await;
}
