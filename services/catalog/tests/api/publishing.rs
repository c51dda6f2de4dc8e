//! Publishing through the command pattern: a new blueprint version becomes current with
//! its event while earlier versions stay as they were; invalid input, a role other than
//! tenant admin and another tenant's id are refused with nothing written; a draft package
//! is published once.

use atrium_kit::{demo, testing::context_for};
use serde_json::{Value, json};

use crate::helpers::Backend;

const PUBLISH_VERSION: &str = "mutation($id: ID!, $input: BlueprintVersionInput!, $key: String) { \
    publishBlueprintVersion(blueprintId: $id, input: $input, idempotencyKey: $key) { id blueprintId version \
      targetGoLiveDays budgetHours milestones { seq code isGoLive billingPct tasks { seq title kind ownerRole } } } }";

const PUBLISH_PACKAGE: &str = "mutation($id: ID!) { publishServicePackage(id: $id) { id code status } }";

const VERSIONS: &str = "query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Blueprint { \
    milestoneCount targetGoLiveDays status \
    currentVersion { id version } \
    versions { id version budgetHours milestones { id code offsetDays tasks { id title } } } } } }";

fn bc_blueprint() -> String {
    demo::blueprint_id(demo::tenant_by_slug("ridgeline").unwrap(), 0).to_string()
}

fn input() -> Value {
    json!({
        "targetOnboardDays": 10,
        "targetGoLiveDays": 75,
        "hypercareDays": 21,
        "budgetHours": "200.5",
        "milestones": [
            { "code": "KICKOFF", "name": "Kickoff & onboarding", "phase": "ONBOARDING", "offsetDays": 10,
              "tasks": [
                { "title": "Kickoff meeting scheduled", "kind": "CHECKLIST", "ownerRole": "DELIVERY_MANAGER",
                  "offsetDays": 1 },
                { "title": "Admin users provisioned", "kind": "CHECKLIST", "ownerRole": "SUPPORT", "offsetDays": 2,
                  "customerFacing": true },
                { "title": "Data migration template sent", "kind": "CHECKLIST", "ownerRole": "CONSULTANT",
                  "offsetDays": 3, "dependsOnSeq": [1] }
              ] },
            { "code": "DESIGN", "name": "Design sign-off", "phase": "DESIGN", "offsetDays": 30, "isBilling": true,
              "billingPct": "40", "requiresCustomerAcceptance": true,
              "tasks": [{ "title": "Design workshops", "kind": "WORK", "ownerRole": "CONSULTANT", "offsetDays": 20,
                          "estimateHours": "16" }] },
            { "code": "GO_LIVE", "name": "Go-live", "phase": "DEPLOY", "offsetDays": 75, "isGoLive": true,
              "isBilling": true, "billingPct": "60" }
        ]
    })
}

async fn publish(backend: &Backend, slug: &str, role: &str, blueprint: &str, input: Value) -> Value {
    let context = context_for(slug, role);
    let variables = json!({ "id": blueprint, "input": input });
    let (status, body) = backend.catalog.query(Some(&context), PUBLISH_VERSION, variables).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn blueprint_state(backend: &Backend, slug: &str, blueprint: &str) -> Value {
    let reps = json!([{ "__typename": "Blueprint", "id": blueprint }]);
    let data = backend.catalog.data(slug, VERSIONS, json!({ "reps": reps })).await;
    data["_entities"][0].clone()
}

/// What a refused command must leave untouched: versions, templates and events.
async fn footprint(backend: &Backend, slug: &str) -> (i64, i64, i64, usize) {
    (
        backend.count(slug, "blueprint_versions").await,
        backend.count(slug, "milestone_templates").await,
        backend.count(slug, "task_templates").await,
        backend.events(slug).await.len(),
    )
}

/// Makes a valid input break one rule.
type BreakRule = fn(&mut Value);

fn error_code(body: &Value) -> &Value {
    &body["errors"][0]["extensions"]["code"]
}

async fn assert_a_new_version_becomes_current_and_the_old_one_stays(backend: &Backend) {
    let blueprint = bc_blueprint();
    let before = blueprint_state(backend, "ridgeline", &blueprint).await;
    let events_before = backend.events("ridgeline").await.len();
    assert_eq!(before["currentVersion"]["version"], 1);

    let body = publish(backend, "ridgeline", "tenant_admin", &blueprint, input()).await;
    assert!(body.get("errors").is_none(), "{body}");
    let published = &body["data"]["publishBlueprintVersion"];
    assert_eq!(published["version"], 2);
    assert_eq!(published["blueprintId"], json!(blueprint));
    assert_eq!(published["budgetHours"], "200.50");
    assert_eq!(published["milestones"][1]["billingPct"], "40.00");
    let seqs: Vec<&Value> = published["milestones"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["tasks"].as_array().unwrap().iter().map(|t| &t["seq"]))
        .collect();
    assert_eq!(seqs, [1, 2, 3, 4]);

    let after = blueprint_state(backend, "ridgeline", &blueprint).await;
    assert_eq!(after["currentVersion"], json!({ "id": published["id"], "version": 2 }));
    assert_eq!(after["milestoneCount"], 3);
    assert_eq!(after["targetGoLiveDays"], 75);
    assert_eq!(after["status"], "PUBLISHED");
    let versions = after["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0], before["versions"][0], "version 1 is unchanged");

    let events = backend.events("ridgeline").await;
    assert_eq!(events.len(), events_before + 1);
    let event = events.last().unwrap();
    assert_eq!(event.event_type, "catalog.blueprint.version_published");
    assert_eq!((json!(event.subject.id), event.subject.version), (json!(blueprint), 2));
    assert_eq!(event.data["blueprint_version_id"], published["id"]);
    assert_eq!(event.data["version"], 2);
    assert_eq!(event.data["budget_hours"], "200.50");
    assert_eq!(event.data["milestones"][2]["is_go_live"], true);
    assert_eq!(event.data["milestones"][0]["tasks"][2]["title"], "Data migration template sent");
    assert_eq!(event.actor, "user:test-tenant_admin@ridgeline");

    // A retry with the same key answers the same version and writes nothing.
    let context = context_for("ridgeline", "tenant_admin");
    let variables = json!({ "id": blueprint, "input": input(), "key": "publish-bc-v3" });
    let (_, first) = backend.catalog.query(Some(&context), PUBLISH_VERSION, variables.clone()).await;
    let (_, retry) = backend.catalog.query(Some(&context), PUBLISH_VERSION, variables).await;
    assert_eq!(first["data"]["publishBlueprintVersion"]["version"], 3, "{first}");
    assert_eq!(retry["data"]["publishBlueprintVersion"], first["data"]["publishBlueprintVersion"], "{retry}");
    assert_eq!(backend.events("ridgeline").await.len(), events_before + 2);
    assert_eq!(backend.count("ridgeline", "blueprint_versions").await, 5);
}

async fn assert_invalid_versions_are_refused_with_nothing_written(backend: &Backend) {
    let blueprint = bc_blueprint();
    let before = footprint(backend, "ridgeline").await;
    let state_before = blueprint_state(backend, "ridgeline", &blueprint).await;
    let rejected = "SELECT COUNT(*) AS n FROM audit_log WHERE outcome = 'rejected' AND tenant_id = ?";
    let rejected_before = backend.tenant_rows("ridgeline", rejected).await[0].try_get::<i64>("", "n").unwrap();
    let cases: [(&str, BreakRule); 6] = [
        ("at least one milestone", |input| input["milestones"] = json!([])),
        ("duplicate milestone code", |input| input["milestones"][1]["code"] = json!("KICKOFF")),
        ("must not be negative", |input| input["milestones"][0]["offsetDays"] = json!(-5)),
        ("offsetDays must be between", |input| input["milestones"][0]["tasks"][0]["offsetDays"] = json!(-1)),
        ("at most one go-live milestone", |input| input["milestones"][1]["isGoLive"] = json!(true)),
        ("add up to 100", |input| input["milestones"][2]["billingPct"] = json!("50")),
    ];
    for (message, break_rule) in cases {
        let mut broken = input();
        break_rule(&mut broken);
        let body = publish(backend, "ridgeline", "tenant_admin", &blueprint, broken).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        let text = body["errors"][0]["message"].as_str().unwrap();
        assert!(text.contains(message), "expected \"{message}\" in \"{text}\"");
        assert!(body["data"].is_null(), "{body}");
    }
    assert_eq!(footprint(backend, "ridgeline").await, before);
    assert_eq!(blueprint_state(backend, "ridgeline", &blueprint).await, state_before);
    // Each refusal is audited, and only that.
    let rejected_after = backend.tenant_rows("ridgeline", rejected).await[0].try_get::<i64>("", "n").unwrap();
    assert_eq!(rejected_after, rejected_before + 6);
}

async fn assert_only_tenant_admins_of_the_owning_tenant_publish(backend: &Backend) {
    let blueprint = bc_blueprint();
    let before = footprint(backend, "ridgeline").await;
    let audit_before = backend.count("ridgeline", "audit_log").await;
    for role in ["csm", "delivery_manager", "exec"] {
        let body = publish(backend, "ridgeline", role, &blueprint, input()).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{role}: {body}");
    }
    let package = demo::package_id(demo::tenant_by_slug("ridgeline").unwrap(), "YE-CLOSE").unwrap();
    let (_, body) =
        backend.catalog.query(Some(&context_for("ridgeline", "csm")), PUBLISH_PACKAGE, json!({ "id": package })).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    assert_eq!(footprint(backend, "ridgeline").await, before);

    // Helix's blueprint, asked for by Ridgeline's admin: not found, neither tenant changed.
    let helix_blueprint = demo::blueprint_id(demo::tenant_by_slug("helix").unwrap(), 0).to_string();
    let helix_before = footprint(backend, "helix").await;
    let body = publish(backend, "ridgeline", "tenant_admin", &helix_blueprint, input()).await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    let helix_package = demo::package_id(demo::tenant_by_slug("helix").unwrap(), "HLX-ONB").unwrap();
    let (_, body) = backend
        .catalog
        .query(Some(&context_for("ridgeline", "tenant_admin")), PUBLISH_PACKAGE, json!({ "id": helix_package }))
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    assert_eq!(footprint(backend, "helix").await, helix_before);
    assert_eq!(footprint(backend, "ridgeline").await, before);
    let helix = blueprint_state(backend, "helix", &helix_blueprint).await;
    assert_eq!(helix["currentVersion"]["version"], 1);
    // Neither refusal is audited: a missing right and another tenant's id are no business
    // of the tenant's trail.
    assert_eq!(backend.count("ridgeline", "audit_log").await, audit_before);
}

async fn assert_a_draft_package_is_published_once(backend: &Backend) {
    let ridgeline = demo::tenant_by_slug("ridgeline").unwrap();
    let package = demo::package_id(ridgeline, "YE-CLOSE").unwrap();
    let admin = context_for("ridgeline", "tenant_admin");

    let (_, body) = backend.catalog.query(Some(&admin), PUBLISH_PACKAGE, json!({ "id": package })).await;
    assert_eq!(error_code(&body), "INVALID_TRANSITION", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["current"], "PUBLISHED");

    backend
        .execute_as_tenant(
            "ridgeline",
            "UPDATE service_packages SET status = 'draft' WHERE tenant_id = ? AND id = ?",
            vec![demo::tenant_id("ridgeline").into(), package.into()],
        )
        .await;
    let events_before = backend.events("ridgeline").await.len();
    let (_, body) = backend.catalog.query(Some(&admin), PUBLISH_PACKAGE, json!({ "id": package })).await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(
        body["data"]["publishServicePackage"],
        json!({ "id": package, "code": "YE-CLOSE", "status": "PUBLISHED" })
    );
    let events = backend.events("ridgeline").await;
    assert_eq!(events.len(), events_before + 1);
    let event = events.last().unwrap();
    assert_eq!(event.event_type, "catalog.package.published");
    assert_eq!((event.subject.id, event.subject.version), (package, 2));
    assert_eq!(
        event.data,
        json!({ "code": "YE-CLOSE", "name": "Year-end Close Assist", "blueprint_id": null, "category": "advisory",
                "billing_model": "fixed_fee" })
    );
}

/// A retired blueprint takes no new version; a package cannot be published while its
/// blueprint has none.
async fn assert_what_cannot_be_published(backend: &Backend) {
    let ridgeline = demo::tenant_by_slug("ridgeline").unwrap();
    let transition = demo::blueprint_id(ridgeline, 2);
    backend
        .execute_as_tenant(
            "ridgeline",
            "UPDATE blueprints SET status = 'retired' WHERE tenant_id = ? AND id = ?",
            vec![demo::tenant_id("ridgeline").into(), transition.into()],
        )
        .await;
    let before = footprint(backend, "ridgeline").await;
    let body = publish(backend, "ridgeline", "tenant_admin", &transition.to_string(), input()).await;
    assert_eq!(error_code(&body), "INVALID_TRANSITION", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["current"], "RETIRED");
    assert_eq!(body["errors"][0]["extensions"]["allowed"], json!([]));
    assert_eq!(footprint(backend, "ridgeline").await, before);

    let helix = demo::tenant_by_slug("helix").unwrap();
    let (onboarding, package) = (demo::blueprint_id(helix, 0), demo::package_id(helix, "HLX-ONB").unwrap());
    let helix_id = demo::tenant_id("helix");
    backend
        .execute_as_tenant(
            "helix",
            "UPDATE blueprints SET current_version_id = NULL WHERE tenant_id = ? AND id = ?",
            vec![helix_id.into(), onboarding.into()],
        )
        .await;
    backend
        .execute_as_tenant(
            "helix",
            "UPDATE service_packages SET status = 'draft' WHERE tenant_id = ? AND id = ?",
            vec![helix_id.into(), package.into()],
        )
        .await;
    let helix_before = footprint(backend, "helix").await;
    let admin = context_for("helix", "tenant_admin");
    let (_, body) = backend.catalog.query(Some(&admin), PUBLISH_PACKAGE, json!({ "id": package })).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("no published version"), "{body}");
    assert_eq!(footprint(backend, "helix").await, helix_before);
}

async fn assert_publishing(backend: &Backend) {
    assert_invalid_versions_are_refused_with_nothing_written(backend).await;
    assert_only_tenant_admins_of_the_owning_tenant_publish(backend).await;
    assert_a_new_version_becomes_current_and_the_old_one_stays(backend).await;
    assert_a_draft_package_is_published_once(backend).await;
    assert_what_cannot_be_published(backend).await;
}

#[tokio::test]
async fn publishing_versions_and_packages_on_sqlite() {
    assert_publishing(&Backend::sqlite("catalog_publishing").await).await;
}

#[tokio::test]
async fn publishing_versions_and_packages_on_postgres() {
    let Some(backend) = Backend::postgres("catalog_publishing").await else { return };
    assert_publishing(&backend).await;
}

#[tokio::test]
async fn the_schema_lists_the_publishing_mutations() {
    let sdl = atrium_catalog::sdl();
    for field in ["publishBlueprintVersion(", "publishServicePackage(", "currentVersion: BlueprintVersion"] {
        assert!(sdl.contains(field), "{field} missing from the SDL");
    }
}

/// Concurrent publications of one blueprint never number two versions alike: each
/// either succeeds with its own number or loses with `CONFLICT`, and only successes leave
/// a version and an event.
#[tokio::test]
async fn concurrent_publications_get_distinct_versions_or_conflict_on_postgres() {
    let Some(backend) = Backend::postgres("catalog_concurrent").await else { return };
    let blueprint = bc_blueprint();
    let (versions_before, _, _, events_before) = footprint(&backend, "ridgeline").await;
    let attempts =
        futures::future::join_all((0..4).map(|_| publish(&backend, "ridgeline", "tenant_admin", &blueprint, input())))
            .await;
    let mut numbers = Vec::new();
    for body in &attempts {
        match body["data"]["publishBlueprintVersion"]["version"].as_i64() {
            Some(number) => numbers.push(number),
            None => assert_eq!(error_code(body), "CONFLICT", "{body}"),
        }
    }
    numbers.sort_unstable();
    assert!(!numbers.is_empty());
    assert_eq!(numbers, (2..2 + numbers.len() as i64).collect::<Vec<_>>());
    let (versions_after, _, _, events_after) = footprint(&backend, "ridgeline").await;
    assert_eq!(versions_after, versions_before + numbers.len() as i64);
    assert_eq!(events_after, events_before + numbers.len());
}
