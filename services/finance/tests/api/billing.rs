//! Billing schedules from delivery's events (docs/domain.md#billing-schedules), on SQLite
//! and PostgreSQL: an engagement created for a contract line builds the line's milestone
//! schedule (exact cents, remainder on the last line, once however often it is
//! delivered); completing or accepting a milestone makes its line ready per the line's
//! trigger; the risk mutations follow the line state machine and write nothing when refused.

use atrium_finance::events::FinanceEvents;
use atrium_kit::{
    TenantContext, TenantTransaction,
    events::{DomainEvent, EventHandler, Subject as EventSubject},
    testing::{TestDatabase, context_for, sqlite_url},
};
use chrono::TimeDelta;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestFinance, spawn, test_today};

/// The finance subgraph, a connection as the service's runtime role (for handlers, under
/// RLS on PostgreSQL) and one that sees every tenant's rows (to count what was written).
pub struct Billing {
    pub finance: TestFinance,
    pub runtime: DatabaseConnection,
    pub owner: DatabaseConnection,
    _postgres: Option<TestDatabase>,
}

pub async fn on_sqlite(name: &str) -> Billing {
    let url = sqlite_url(name);
    let finance = spawn(url.clone(), None).await;
    let runtime = Database::connect(&url).await.expect("sqlite opens");
    let owner = Database::connect(&url).await.expect("sqlite opens");
    Billing { finance, runtime, owner, _postgres: None }
}

pub async fn on_postgres(name: &str) -> Option<Billing> {
    let postgres = TestDatabase::create(name).await?;
    let finance = spawn(postgres.runtime_url.clone(), Some(postgres.owner_url.clone())).await;
    let runtime = Database::connect(&postgres.runtime_url).await.expect("runtime connects");
    let owner = Database::connect(&postgres.owner_url).await.expect("owner connects");
    Some(Billing { finance, runtime, owner, _postgres: Some(postgres) })
}

pub fn finance_user() -> TenantContext {
    context_for("ridgeline", "finance")
}

pub fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or_else(|| panic!("no error code in {body}"))
}

/// A milestone of the engagement delivery announces.
pub struct TestMilestone {
    pub id: Uuid,
    pub name: &'static str,
    pub is_billing: bool,
    pub billing_pct: Option<&'static str>,
    pub requires_acceptance: bool,
}

/// A signed-off contract with one line of 10,000.01 (billed by milestones) and a second
/// line of 1,200.00, and the engagement delivery built for the first line.
pub struct BilledContract {
    pub customer_id: String,
    pub contract_id: String,
    pub line_id: Uuid,
    pub engagement_id: Uuid,
    pub milestones: Vec<TestMilestone>,
}

impl Billing {
    pub async fn call(&self, context: &TenantContext, query: &str, variables: Value) -> Value {
        self.finance.query(Some(context), query, variables).await.1
    }

    pub async fn ok(&self, field: &str, query: &str, variables: Value) -> Value {
        let body = self.call(&finance_user(), query, variables).await;
        assert!(body.get("errors").is_none(), "{field}: {body}");
        body["data"][field].clone()
    }

    pub async fn count(&self, table: &str) -> i64 {
        let backend = self.owner.get_database_backend();
        let sql = format!("SELECT COUNT(*) AS n FROM {table}");
        let row = self.owner.query_one_raw(Statement::from_string(backend, sql)).await.expect("count").expect("row");
        row.try_get::<i64>("", "n").expect("n")
    }

    /// Audit entries of `operation` with `outcome` (`succeeded`, `rejected`).
    pub async fn audited(&self, operation: &str, outcome: &str) -> i64 {
        self.count(&format!("audit_log WHERE operation = '{operation}' AND outcome = '{outcome}'")).await
    }

    /// Domain events of `event_type` in the outbox, oldest first.
    pub async fn events_of_type(&self, event_type: &str) -> Vec<Value> {
        let backend = self.owner.get_database_backend();
        let sql = "SELECT envelope FROM change_outbox WHERE envelope IS NOT NULL ORDER BY id".to_owned();
        let rows = self.owner.query_all_raw(Statement::from_string(backend, sql)).await.expect("outbox");
        rows.into_iter()
            .map(|row| serde_json::from_str::<Value>(&row.try_get::<String>("", "envelope").unwrap()).unwrap())
            .filter(|event| event["type"] == event_type)
            .collect()
    }

    /// Applies `event` as the event runtime does: in the tenant's transaction as the
    /// runtime role, with the consumer's automation context, committed on success.
    pub async fn deliver(&self, event: &DomainEvent) {
        let handler = FinanceEvents::with_clock(atrium_finance::domain::Clock::Fixed(test_today()));
        assert!(handler.wants(&event.event_type), "{}", event.event_type);
        let context = TenantContext::automation(event.tenant_id, "consumer:finance");
        let tx = TenantTransaction::begin(&self.runtime, &context).await.expect("begin");
        handler.handle(&tx, event).await.expect("handled");
        tx.commit().await.expect("commit");
    }

    /// Opens a customer, drafts a contract with a milestone-billed line and announces
    /// the engagement delivery creates for it: milestones 1 (40 %, accepted by the
    /// customer), 2 (not billing) and 3 (open share, completion bills).
    pub async fn billed_contract(&self, customer_name: &str) -> BilledContract {
        let customer = self
            .ok(
                "createCustomerAccount",
                "mutation($input: CreateCustomerAccountInput!) { createCustomerAccount(input: $input) { id } }",
                json!({ "input": { "name": customer_name, "segment": "MID_MARKET", "erpPlatform": "netsuite",
                    "dataRegion": "us_east", "billingCurrency": "USD", "paymentTermsDays": 30 } }),
            )
            .await;
        let start = test_today();
        let contract = self
            .ok(
                "createContract",
                "mutation($input: CreateContractInput!) { createContract(input: $input) { id lines { id } } }",
                json!({ "input": { "customerAccountId": customer["id"], "type": "SOW", "currency": "USD",
                    "startDate": start.to_string(), "endDate": (start + TimeDelta::days(365)).to_string(),
                    "lines": [
                        { "description": "Implementation", "quantity": "1", "unitPrice": "10000.01" },
                        { "description": "Training", "quantity": "2", "unitPrice": "600" },
                    ] } }),
            )
            .await;
        let line_id: Uuid = contract["lines"][0]["id"].as_str().unwrap().parse().unwrap();
        let milestones = vec![
            TestMilestone {
                id: Uuid::now_v7(),
                name: "Design signed off",
                is_billing: true,
                billing_pct: Some("0.40"),
                requires_acceptance: true,
            },
            TestMilestone {
                id: Uuid::now_v7(),
                name: "Data migrated",
                is_billing: false,
                billing_pct: None,
                requires_acceptance: false,
            },
            TestMilestone {
                id: Uuid::now_v7(),
                name: "Go-live",
                is_billing: true,
                billing_pct: None,
                requires_acceptance: false,
            },
        ];
        let billed = BilledContract {
            customer_id: customer["id"].as_str().unwrap().to_owned(),
            contract_id: contract["id"].as_str().unwrap().to_owned(),
            line_id,
            engagement_id: Uuid::now_v7(),
            milestones,
        };
        self.deliver(&engagement_created(&billed)).await;
        billed
    }

    /// The contract's schedules with their lines, as a finance user reads them.
    pub async fn schedules(&self, billed: &BilledContract) -> Value {
        let query = "query($id: ID!) { customerAccount(id: $id) { contracts { nodes { id billingSchedules { \
                     kind currency contractLineId engagementId lines { id seq description plannedDate \
                     amount { amount currency } trigger milestoneId status riskReason version } } } } } }";
        let data = self.finance.data("ridgeline", query, json!({ "id": billed.customer_id })).await;
        let contract = data["customerAccount"]["contracts"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|contract| contract["id"] == billed.contract_id.as_str())
            .cloned()
            .unwrap();
        contract["billingSchedules"].clone()
    }
}

fn delivery() -> TenantContext {
    TenantContext::automation(context_for("ridgeline", "finance").tenant_id, "automation:A1")
}

pub fn engagement_created(billed: &BilledContract) -> DomainEvent {
    let subject = EventSubject { entity_type: "Engagement".to_owned(), id: billed.engagement_id, version: 1 };
    let milestones: Vec<Value> = billed
        .milestones
        .iter()
        .enumerate()
        .map(|(index, milestone)| {
            json!({
                "milestone_id": milestone.id, "seq": index + 1, "name": milestone.name,
                "due_date": (test_today() + TimeDelta::days(30 * (index as i64 + 1))).to_string(),
                "is_go_live": index == 2, "is_billing": milestone.is_billing,
                "billing_pct": milestone.billing_pct, "requires_acceptance": milestone.requires_acceptance,
            })
        })
        .collect();
    DomainEvent::new(&delivery(), "delivery.engagement.created", subject)
        .with_ref("customer_account_id", billed.customer_id.parse().unwrap())
        .with_ref("engagement_id", billed.engagement_id)
        .with_ref("contract_id", billed.contract_id.parse().unwrap())
        .with_ref("contract_line_id", billed.line_id)
        .with_data(json!({ "status": "draft", "name": "Implementation", "currency": "USD", "milestones": milestones }))
}

pub fn milestone_event(billed: &BilledContract, index: usize, verb: &str) -> DomainEvent {
    let milestone = &billed.milestones[index];
    let subject = EventSubject { entity_type: "Milestone".to_owned(), id: milestone.id, version: 2 };
    DomainEvent::new(&delivery(), &format!("delivery.milestone.{verb}"), subject)
        .with_ref("customer_account_id", billed.customer_id.parse().unwrap())
        .with_ref("engagement_id", billed.engagement_id)
        .with_data(json!({ "name": milestone.name, "seq": index + 1, "is_go_live": false,
            "is_billing": milestone.is_billing }))
}

fn statuses(schedules: &Value) -> Vec<String> {
    schedules[0]["lines"].as_array().unwrap().iter().map(|line| line["status"].as_str().unwrap().to_owned()).collect()
}

const FLAG: &str = "mutation($id: ID!, $reason: String!) { flagBillingLineAtRisk(id: $id, reason: $reason) { \
                    status riskReason version } }";
const CLEAR: &str = "mutation($id: ID!) { clearBillingLineRisk(id: $id) { status riskReason version } }";

async fn assert_schedules_follow_the_engagement_and_its_milestones(billing: &Billing) {
    let billed = billing.billed_contract("Bramble Foods").await;
    let schedules = billing.schedules(&billed).await;
    assert_eq!(schedules.as_array().unwrap().len(), 1, "{schedules}");
    assert_eq!(schedules[0]["kind"], "MILESTONE");
    assert_eq!(schedules[0]["contractLineId"], billed.line_id.to_string());
    assert_eq!(schedules[0]["engagementId"], billed.engagement_id.to_string());
    // 10,000.01 × 0.40 = 4,000.004 → 4,000.00; the open share of the go-live is the 0.60
    // left, and as the last line it takes 10,000.01 − 4,000.00 = 6,000.01.
    let lines = schedules[0]["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2, "the non-billing milestone has no line: {schedules}");
    assert_eq!(lines[0]["amount"], json!({ "amount": "4000.00", "currency": "USD" }));
    assert_eq!(lines[1]["amount"], json!({ "amount": "6000.01", "currency": "USD" }));
    assert_eq!(lines[0]["trigger"], "MILESTONE_ACCEPTED");
    assert_eq!(lines[1]["trigger"], "MILESTONE_COMPLETED");
    assert_eq!(lines[0]["description"], "Implementation: Design signed off");
    assert_eq!(lines[0]["plannedDate"], (test_today() + TimeDelta::days(30)).to_string());
    assert_eq!(lines[1]["milestoneId"], billed.milestones[2].id.to_string());
    assert_eq!(statuses(&schedules), ["PLANNED", "PLANNED"]);

    // A redelivered engagement builds nothing more.
    let (schedule_rows, line_rows) =
        (billing.count("billing_schedules").await, billing.count("billing_schedule_lines").await);
    billing.deliver(&engagement_created(&billed)).await;
    assert_eq!(billing.count("billing_schedules").await, schedule_rows);
    assert_eq!(billing.count("billing_schedule_lines").await, line_rows);

    // Completing a milestone that needs acceptance is not yet its trigger.
    billing.deliver(&milestone_event(&billed, 0, "completed")).await;
    assert_eq!(statuses(&billing.schedules(&billed).await), ["PLANNED", "PLANNED"]);
    let ready_before = billing.events_of_type("finance.billing_line.ready").await.len();
    billing.deliver(&milestone_event(&billed, 0, "accepted")).await;
    assert_eq!(statuses(&billing.schedules(&billed).await), ["READY", "PLANNED"]);
    let ready = billing.events_of_type("finance.billing_line.ready").await;
    assert_eq!(ready.len(), ready_before + 1);
    let event = ready.last().unwrap();
    assert_eq!(event["subject"]["id"], lines[0]["id"]);
    assert_eq!(event["subject"]["version"], 2);
    assert_eq!(event["refs"]["customer_account_id"], billed.customer_id.as_str());
    assert_eq!(event["refs"]["contract_id"], billed.contract_id.as_str());
    assert_eq!(event["refs"]["milestone_id"], billed.milestones[0].id.to_string());
    assert_eq!(event["data"]["amount"], "4000.00");
    assert_eq!(event["data"]["currency"], "USD");
    // A redelivered acceptance changes nothing and announces nothing.
    billing.deliver(&milestone_event(&billed, 0, "accepted")).await;
    assert_eq!(billing.events_of_type("finance.billing_line.ready").await.len(), ready_before + 1);
    // A milestone without a line is nothing to do.
    billing.deliver(&milestone_event(&billed, 1, "completed")).await;
    assert_eq!(statuses(&billing.schedules(&billed).await), ["READY", "PLANNED"]);

    // Risk: the planned go-live line may be flagged, the ready line may not.
    let go_live_line = lines[1]["id"].clone();
    let refused = billing.call(&finance_user(), FLAG, json!({ "id": lines[0]["id"], "reason": "late" })).await;
    assert_eq!(code(&refused), "INVALID_TRANSITION", "{refused}");
    assert_eq!(refused["errors"][0]["extensions"]["current"], "READY");
    assert_eq!(refused["errors"][0]["extensions"]["allowed"], json!(["INVOICED", "CANCELLED"]));
    let blank = billing.call(&finance_user(), FLAG, json!({ "id": go_live_line, "reason": "  " })).await;
    assert_eq!(code(&blank), "BAD_USER_INPUT");
    let csm = billing.call(&context_for("ridgeline", "csm"), FLAG, json!({ "id": go_live_line, "reason": "x" })).await;
    assert_eq!(code(&csm), "FORBIDDEN");
    let other_tenant =
        billing.call(&context_for("helix", "finance"), FLAG, json!({ "id": go_live_line, "reason": "x" })).await;
    assert_eq!(code(&other_tenant), "NOT_FOUND");
    assert_eq!(statuses(&billing.schedules(&billed).await), ["READY", "PLANNED"], "refusals change nothing");

    let flagged = billing
        .ok("flagBillingLineAtRisk", FLAG, json!({ "id": go_live_line, "reason": "UAT slipping two weeks" }))
        .await;
    assert_eq!(flagged, json!({ "status": "AT_RISK", "riskReason": "UAT slipping two weeks", "version": 2 }));
    let at_risk = billing.events_of_type("finance.billing_line.at_risk").await;
    assert_eq!(at_risk.last().unwrap()["data"]["risk_reason"], "UAT slipping two weeks");
    let cleared = billing.ok("clearBillingLineRisk", CLEAR, json!({ "id": go_live_line })).await;
    assert_eq!(cleared, json!({ "status": "PLANNED", "riskReason": null, "version": 3 }));
    let again = billing.call(&finance_user(), CLEAR, json!({ "id": go_live_line })).await;
    assert_eq!(code(&again), "INVALID_TRANSITION");
    assert_eq!(again["errors"][0]["extensions"]["allowed"], json!(["READY", "AT_RISK", "CANCELLED"]));

    // Completion is the go-live line's trigger, also for a line flagged at risk.
    billing.ok("flagBillingLineAtRisk", FLAG, json!({ "id": go_live_line, "reason": "again" })).await;
    billing.deliver(&milestone_event(&billed, 2, "completed")).await;
    let schedules = billing.schedules(&billed).await;
    assert_eq!(statuses(&schedules), ["READY", "READY"]);
    assert_eq!(schedules[0]["lines"][1]["riskReason"], Value::Null);

    // The audit trail: the schedule built, then the redelivery's no-op ("already has a
    // schedule"); each milestone event's readiness pass,
    // two flags and one clearing; the refusals of this tenant's callers are `rejected`
    // (the forbidden role and the other tenant's id leave no trace).
    assert_eq!(billing.audited("buildBillingSchedule", "succeeded").await, 2);
    assert_eq!(billing.audited("markBillingLinesReady", "succeeded").await, 5, "accepted twice, completed thrice");
    assert_eq!(billing.audited("flagBillingLineAtRisk", "succeeded").await, 2);
    assert_eq!(billing.audited("flagBillingLineAtRisk", "rejected").await, 2, "the ready line, the blank reason");
    assert_eq!(billing.audited("clearBillingLineRisk", "succeeded").await, 1);
    assert_eq!(billing.audited("clearBillingLineRisk", "rejected").await, 1);
}

async fn assert_engagements_without_a_line_or_billing_milestones_bill_nothing(billing: &Billing) {
    let billed = billing.billed_contract("Quarry Lane Dental").await;
    let before = billing.count("billing_schedules").await;
    let mut unlinked = engagement_created(&billed);
    unlinked.refs.remove("contract_line_id");
    billing.deliver(&unlinked).await;
    let mut no_billing = engagement_created(&billed);
    no_billing.data["milestones"] = json!([]);
    billing.deliver(&no_billing).await;
    let mut unknown_line = engagement_created(&billed);
    unknown_line.refs.insert("contract_line_id".to_owned(), Uuid::now_v7());
    billing.deliver(&unknown_line).await;
    assert_eq!(billing.count("billing_schedules").await, before);
}

const INVOICE_FIELDS: &str = "id number status issueDate dueDate currency total amountPaid amountCredited \
     balanceDue version lines { description quantity amount { amount currency } sourceType billingScheduleLineId }";

fn generate() -> String {
    format!("mutation($customer: ID) {{ generateInvoices(customerAccountId: $customer) {{ {INVOICE_FIELDS} }} }}")
}

fn invoice_step(field: &str, extra: &str) -> String {
    let (declared, passed) = match extra {
        "reason" => (", $reason: String!", ", reason: $reason"),
        _ => ("", ""),
    };
    format!("mutation($id: ID!{declared}) {{ {field}(id: $id{passed}) {{ {INVOICE_FIELDS} }} }}")
}

const CREDIT: &str = "mutation($id: ID!, $amount: Decimal!, $reason: String!) { \
     issueCreditNote(invoiceId: $id, amount: $amount, reason: $reason) { number amount { amount currency } reason \
     invoice { status amountCredited balanceDue version } } }";

/// Rows of every table an invoice command writes to.
async fn invoice_rows(billing: &Billing) -> [i64; 5] {
    [
        billing.count("invoices").await,
        billing.count("invoice_lines").await,
        billing.count("credit_notes").await,
        billing.count("billing_schedule_lines WHERE status = 'invoiced'").await,
        billing.count("change_outbox").await,
    ]
}

async fn assert_ready_lines_are_invoiced_issued_and_credited(billing: &Billing) {
    let billed = billing.billed_contract("Larkspur Vineyards").await;
    billing.deliver(&milestone_event(&billed, 0, "accepted")).await;
    let customer = json!({ "customer": billed.customer_id });

    let drafts = billing.ok("generateInvoices", &generate(), customer.clone()).await;
    let drafts = drafts.as_array().unwrap();
    assert_eq!(drafts.len(), 1, "{drafts:?}");
    let draft = &drafts[0];
    assert_eq!(draft["status"], "DRAFT");
    assert!(draft["number"].as_str().unwrap().starts_with("DRAFT-"));
    assert_eq!(draft["total"], "4000.00");
    assert_eq!(draft["balanceDue"], "4000.00");
    assert_eq!(draft["lines"][0]["amount"], json!({ "amount": "4000.00", "currency": "USD" }));
    assert_eq!(draft["lines"][0]["sourceType"], "milestone");
    let schedules = billing.schedules(&billed).await;
    assert_eq!(statuses(&schedules), ["INVOICED", "PLANNED"]);
    assert_eq!(draft["lines"][0]["billingScheduleLineId"], schedules[0]["lines"][0]["id"]);
    // Nothing ready any more: nothing generated.
    assert_eq!(billing.ok("generateInvoices", &generate(), customer.clone()).await, json!([]));
    let other_tenant =
        billing.call(&context_for("helix", "finance"), &generate(), json!({ "customer": billed.customer_id })).await;
    assert_eq!(code(&other_tenant), "NOT_FOUND");

    let issued = billing.ok("issueInvoice", &invoice_step("issueInvoice", ""), json!({ "id": draft["id"] })).await;
    assert_eq!(issued["status"], "ISSUED");
    assert!(issued["number"].as_str().unwrap().starts_with(&format!("INV-{}-", test_today().format("%Y"))));
    assert_eq!(issued["issueDate"], test_today().to_string());
    assert_eq!(issued["dueDate"], (test_today() + TimeDelta::days(30)).to_string(), "30 days' terms");
    assert_eq!(issued["version"], 2);
    let event = billing.events_of_type("finance.invoice.issued").await.pop().unwrap();
    assert_eq!(event["subject"]["id"], draft["id"]);
    assert_eq!(event["data"]["number"], issued["number"]);
    assert_eq!(event["data"]["total"], "4000.00");
    assert_eq!(event["refs"]["engagement_id"], billed.engagement_id.to_string());
    let again = billing.call(&finance_user(), &invoice_step("issueInvoice", ""), json!({ "id": draft["id"] })).await;
    assert_eq!(code(&again), "INVALID_TRANSITION");
    assert_eq!(again["errors"][0]["extensions"]["current"], "ISSUED");

    // Credit notes: never above what is open, never negative; nothing written on refusal.
    let before = invoice_rows(billing).await;
    for amount in ["4000.01", "-10", "0", "1.001"] {
        let refused = billing
            .call(&finance_user(), CREDIT, json!({ "id": draft["id"], "amount": amount, "reason": "goodwill" }))
            .await;
        assert_eq!(code(&refused), "BAD_USER_INPUT", "{amount}: {refused}");
    }
    let blank = billing.call(&finance_user(), CREDIT, json!({ "id": draft["id"], "amount": "1", "reason": " " })).await;
    assert_eq!(code(&blank), "BAD_USER_INPUT");
    assert_eq!(invoice_rows(billing).await, before);

    // 4,000.00 − 1,000.00 credited = 3,000.00 open, still issued; crediting the 3,000.00
    // left settles it: paid.
    let first = billing
        .ok("issueCreditNote", CREDIT, json!({ "id": draft["id"], "amount": "1000", "reason": "late delivery" }))
        .await;
    assert!(first["number"].as_str().unwrap().starts_with("CN-"));
    assert_eq!(first["amount"], json!({ "amount": "1000.00", "currency": "USD" }));
    assert_eq!(
        first["invoice"],
        json!({ "status": "ISSUED", "amountCredited": "1000.00", "balanceDue": "3000.00", "version": 3 })
    );
    let rest = billing
        .ok("issueCreditNote", CREDIT, json!({ "id": draft["id"], "amount": "3000.00", "reason": "waived" }))
        .await;
    assert_eq!(rest["invoice"]["status"], "PAID");
    assert_eq!(rest["invoice"]["balanceDue"], "0.00");
    let notes = billing.events_of_type("finance.credit_note.issued").await;
    assert_eq!(notes.len(), 2);
    assert_eq!(notes[1]["data"]["balance_due"], "0.00");
    let paid = billing.events_of_type("finance.invoice.paid").await;
    assert_eq!(paid.last().unwrap()["subject"]["id"], draft["id"]);
    let settled =
        billing.call(&finance_user(), CREDIT, json!({ "id": draft["id"], "amount": "1", "reason": "x" })).await;
    assert_eq!(code(&settled), "BAD_USER_INPUT", "a paid invoice takes no credit note");
    let write_off = invoice_step("writeOffInvoice", "reason");
    let refused = billing.call(&finance_user(), &write_off, json!({ "id": draft["id"], "reason": "gone" })).await;
    assert_eq!(code(&refused), "INVALID_TRANSITION");
    assert_eq!(refused["errors"][0]["extensions"]["allowed"], json!([]));

    // The go-live line: issued, then voided while nothing is paid.
    billing.deliver(&milestone_event(&billed, 2, "completed")).await;
    let second = billing.ok("generateInvoices", &generate(), customer.clone()).await[0].clone();
    assert_eq!(second["total"], "6000.01");
    billing.ok("issueInvoice", &invoice_step("issueInvoice", ""), json!({ "id": second["id"] })).await;
    let void = invoice_step("voidInvoice", "reason");
    let voided = billing.ok("voidInvoice", &void, json!({ "id": second["id"], "reason": "wrong entity" })).await;
    assert_eq!(voided["status"], "VOID");
    assert_eq!(voided["version"], 3);
    assert_eq!(billing.events_of_type("finance.invoice.voided").await.last().unwrap()["subject"]["id"], second["id"]);
}

async fn assert_demo_invoices_are_written_off_once(billing: &Billing) {
    let query = "{ invoices(first: 100, status: [ISSUED]) { nodes { id number } } }";
    let open = billing.finance.data("ridgeline", query, json!({})).await;
    let invoice = open["invoices"]["nodes"][0].clone();
    let write_off = invoice_step("writeOffInvoice", "reason");
    let blank = billing.call(&finance_user(), &write_off, json!({ "id": invoice["id"], "reason": "" })).await;
    assert_eq!(code(&blank), "BAD_USER_INPUT");
    let written_off =
        billing.ok("writeOffInvoice", &write_off, json!({ "id": invoice["id"], "reason": "customer insolvent" })).await;
    assert_eq!(written_off["status"], "UNCOLLECTIBLE");
    assert_eq!(written_off["version"], 2);
    let event = billing.events_of_type("finance.invoice.written_off").await.pop().unwrap();
    assert_eq!(event["data"]["number"], invoice["number"]);
    let void = invoice_step("voidInvoice", "reason");
    let refused = billing.call(&finance_user(), &void, json!({ "id": invoice["id"], "reason": "x" })).await;
    assert_eq!(code(&refused), "INVALID_TRANSITION");
    assert_eq!(refused["errors"][0]["extensions"]["current"], "UNCOLLECTIBLE");
    let csm =
        billing.call(&context_for("ridgeline", "csm"), &void, json!({ "id": invoice["id"], "reason": "x" })).await;
    assert_eq!(code(&csm), "FORBIDDEN");
}

pub const PAY: &str = "mutation($input: RecordPaymentInput!, $key: String) { recordPayment(input: $input, idempotencyKey: $key) { \
     id method reference amount { amount currency } unallocated { amount currency } \
     allocations { amount { amount } invoice { id status amountPaid balanceDue version } } } }";

/// Two issued invoices of one customer: 4,000.00 (design) and 6,000.01 (go-live).
pub async fn two_issued_invoices(billing: &Billing, customer: &str) -> (BilledContract, Value, Value) {
    let billed = billing.billed_contract(customer).await;
    let mut issued = Vec::new();
    for (index, verb) in [(0, "accepted"), (2, "completed")] {
        billing.deliver(&milestone_event(&billed, index, verb)).await;
        let draft =
            billing.ok("generateInvoices", &generate(), json!({ "customer": billed.customer_id })).await[0].clone();
        issued.push(billing.ok("issueInvoice", &invoice_step("issueInvoice", ""), json!({ "id": draft["id"] })).await);
    }
    let second = issued.pop().unwrap();
    (billed, issued.pop().unwrap(), second)
}

pub fn payment(billed: &BilledContract, amount: &str, currency: &str, allocations: Value) -> Value {
    json!({ "input": { "customerAccountId": billed.customer_id, "amount": amount, "currency": currency,
        "method": "WIRE", "reference": "BANK-REF-1", "allocations": allocations } })
}

async fn payment_rows(billing: &Billing) -> [i64; 4] {
    [
        billing.count("payments").await,
        billing.count("payment_allocations").await,
        billing.count("invoices WHERE amount_paid > 0").await,
        billing.count("change_outbox").await,
    ]
}

async fn assert_payments_are_allocated_partially_and_the_rest_kept_on_account(billing: &Billing) {
    let (billed, design, go_live) = two_issued_invoices(billing, "Osprey Logistics").await;
    let (a, b) = (design["id"].clone(), go_live["id"].clone());

    // Refusals name the field and write nothing.
    let other = billing.billed_contract("Falcon Freight").await;
    let before = payment_rows(billing).await;
    let refusals = [
        (payment(&billed, "5000", "USD", json!([{ "invoiceId": a, "amount": "4000.01" }])), "open balance"),
        (payment(&billed, "-5", "USD", json!([])), "amount must be positive"),
        (payment(&billed, "5000", "USD", json!([{ "invoiceId": a, "amount": "-1" }])), "allocations[0].amount"),
        (payment(&billed, "5000", "EUR", json!([{ "invoiceId": a, "amount": "10" }])), "in USD, the payment in EUR"),
        (payment(&billed, "5000", "XYZ", json!([])), "currency `XYZ`"),
        (
            payment(
                &billed,
                "100",
                "USD",
                json!([{ "invoiceId": a, "amount": "60" }, { "invoiceId": b, "amount": "60" }]),
            ),
            "more than the payment",
        ),
        (
            payment(&billed, "100", "USD", json!([{ "invoiceId": "not-an-id", "amount": "1" }])),
            "allocations[0].invoiceId",
        ),
    ];
    for (variables, message) in refusals {
        let body = billing.call(&finance_user(), PAY, variables.clone()).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{variables}: {body}");
        let text = body["errors"][0]["message"].as_str().unwrap();
        assert!(text.contains(message), "{text} should mention {message}");
    }
    // Another customer's invoice is not this customer's.
    let foreign = payment(&other, "10", "USD", json!([{ "invoiceId": a, "amount": "1" }]));
    assert_eq!(code(&billing.call(&finance_user(), PAY, foreign).await), "BAD_USER_INPUT");
    assert_eq!(payment_rows(billing).await, before, "refusals write nothing");

    // 5,000.00 received: 1,500.00 to the design invoice (4,000.00 → 2,500.00 open),
    // 2,000.00 to the go-live invoice (6,000.01 → 4,000.01 open), 1,500.00 on account.
    let variables = payment(
        &billed,
        "5000",
        "USD",
        json!([
        { "invoiceId": a, "amount": "1500" }, { "invoiceId": b, "amount": "2000.00" }]),
    );
    let paid = billing.ok("recordPayment", PAY, json!({ "input": variables["input"], "key": "wire-1" })).await;
    assert_eq!(paid["amount"], json!({ "amount": "5000.00", "currency": "USD" }));
    assert_eq!(paid["unallocated"], json!({ "amount": "1500.00", "currency": "USD" }));
    assert_eq!(paid["method"], "WIRE");
    assert_eq!(
        paid["allocations"][0]["invoice"],
        json!({ "id": a, "status": "PARTIALLY_PAID", "amountPaid": "1500.00", "balanceDue": "2500.00", "version": 3 })
    );
    assert_eq!(paid["allocations"][1]["invoice"]["balanceDue"], "4000.01");
    let received = billing.events_of_type("finance.payment.received").await.pop().unwrap();
    assert_eq!(received["data"]["unallocated_amount"], "1500.00");
    assert_eq!(received["data"]["allocations"][0]["balance_due"], "2500.00");
    // The same key again answers the first payment and writes nothing.
    let rows = payment_rows(billing).await;
    let replay = billing.ok("recordPayment", PAY, json!({ "input": variables["input"], "key": "wire-1" })).await;
    assert_eq!(replay["id"], paid["id"]);
    assert_eq!(payment_rows(billing).await, rows);

    // The rest of the design invoice settles it.
    let rest = payment(&billed, "2500.00", "USD", json!([{ "invoiceId": a, "amount": "2500" }]));
    let settled = billing.ok("recordPayment", PAY, rest).await;
    assert_eq!(settled["allocations"][0]["invoice"]["status"], "PAID");
    assert_eq!(settled["allocations"][0]["invoice"]["balanceDue"], "0.00");
    assert_eq!(billing.events_of_type("finance.invoice.paid").await.pop().unwrap()["subject"]["id"], a);
    let after = billing
        .call(&finance_user(), PAY, payment(&billed, "1", "USD", json!([{ "invoiceId": a, "amount": "1" }])))
        .await;
    assert_eq!(code(&after), "BAD_USER_INPUT", "a paid invoice is not open: {after}");
}

/// Two payments of the whole open balance race on one invoice: exactly one applies.
#[tokio::test]
async fn two_payments_racing_on_one_invoice_never_over_allocate_on_postgres() {
    let Some(billing) = on_postgres("finance_payment_race").await else { return };
    let (billed, _, go_live) = two_issued_invoices(&billing, "Heron Bay Clinics").await;
    let both = payment(&billed, "6000.01", "USD", json!([{ "invoiceId": go_live["id"], "amount": "6000.01" }]));
    let user = finance_user();
    let (first, second) = tokio::join!(billing.call(&user, PAY, both.clone()), billing.call(&user, PAY, both.clone()));
    let outcomes: Vec<Option<&str>> =
        [&first, &second].iter().map(|body| body["errors"][0]["extensions"]["code"].as_str()).collect();
    let succeeded = outcomes.iter().filter(|outcome| outcome.is_none()).count();
    assert_eq!(succeeded, 1, "{first} / {second}");
    assert!(
        outcomes.iter().flatten().all(|code| ["CONFLICT", "BAD_USER_INPUT"].contains(code)),
        "the loser is refused as stale or over the (now zero) balance: {outcomes:?}"
    );
    assert_eq!(billing.count("payments").await, 1);
    assert_eq!(billing.count("payment_allocations").await, 1);
    let query = "{ invoices(first: 100, status: [PAID]) { nodes { id amountPaid balanceDue } } }";
    let paid = billing.finance.data("ridgeline", query, json!({})).await;
    let invoice =
        paid["invoices"]["nodes"].as_array().unwrap().iter().find(|node| node["id"] == go_live["id"]).cloned();
    assert_eq!(invoice, Some(json!({ "id": go_live["id"], "amountPaid": "6000.01", "balanceDue": "0.00" })));
}

#[tokio::test]
async fn payments_on_sqlite() {
    assert_payments_are_allocated_partially_and_the_rest_kept_on_account(&on_sqlite("finance_payments").await).await;
}

#[tokio::test]
async fn payments_on_postgres_under_row_level_security() {
    let Some(billing) = on_postgres("finance_payments").await else { return };
    assert_payments_are_allocated_partially_and_the_rest_kept_on_account(&billing).await;
}

#[tokio::test]
async fn invoices_from_ready_lines_on_sqlite() {
    let billing = on_sqlite("finance_invoices").await;
    assert_ready_lines_are_invoiced_issued_and_credited(&billing).await;
    assert_demo_invoices_are_written_off_once(&billing).await;
}

#[tokio::test]
async fn invoices_from_ready_lines_on_postgres_under_row_level_security() {
    let Some(billing) = on_postgres("finance_invoices").await else { return };
    assert_ready_lines_are_invoiced_issued_and_credited(&billing).await;
    assert_demo_invoices_are_written_off_once(&billing).await;
}

#[tokio::test]
async fn milestone_billing_schedules_on_sqlite() {
    let billing = on_sqlite("finance_billing_schedules").await;
    assert_schedules_follow_the_engagement_and_its_milestones(&billing).await;
    assert_engagements_without_a_line_or_billing_milestones_bill_nothing(&billing).await;
}

#[tokio::test]
async fn milestone_billing_schedules_on_postgres_under_row_level_security() {
    let Some(billing) = on_postgres("finance_billing_schedules").await else { return };
    assert_schedules_follow_the_engagement_and_its_milestones(&billing).await;
    assert_engagements_without_a_line_or_billing_milestones_bill_nothing(&billing).await;
}
