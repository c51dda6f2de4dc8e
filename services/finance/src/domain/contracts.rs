//! Contract rules (docs/domain.md#contract-lifecycle): the contract state machine, what a
//! new contract must satisfy, and how line amounts and the contract total are priced
//! (exact decimals, commercial rounding to cents).

use atrium_kit::command::StateMachine;
use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use uuid::Uuid;

use super::{BillingInterval, BillingModel, ContractStatus, EntitlementTerms, fx::is_currency_code};

/// `draft → pending_approval → approved → out_for_signature → signed → active → expired |
/// terminated`, and `pending_approval → draft` when approval is refused. Nothing skips
/// approval or signature (`draft → active` is not a step); expired and terminated are final.
impl StateMachine for ContractStatus {
    const ENTITY: &'static str = "Contract";

    fn allowed_next(self) -> &'static [Self] {
        use ContractStatus::{Active, Approved, Draft, Expired, OutForSignature, PendingApproval, Signed, Terminated};
        match self {
            Draft => &[PendingApproval],
            PendingApproval => &[Approved, Draft],
            Approved => &[OutForSignature],
            OutForSignature => &[Signed],
            Signed => &[Active],
            Active => &[Expired, Terminated],
            Expired | Terminated => &[],
        }
    }

    fn name(self) -> &'static str {
        match self {
            ContractStatus::Draft => "DRAFT",
            ContractStatus::PendingApproval => "PENDING_APPROVAL",
            ContractStatus::Approved => "APPROVED",
            ContractStatus::OutForSignature => "OUT_FOR_SIGNATURE",
            ContractStatus::Signed => "SIGNED",
            ContractStatus::Active => "ACTIVE",
            ContractStatus::Expired => "EXPIRED",
            ContractStatus::Terminated => "TERMINATED",
        }
    }
}

/// A line as a client proposes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ContractLineDraft {
    pub service_package_id: Option<Uuid>,
    pub description: String,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    /// A fraction: 0.1 is 10 % off.
    pub discount_pct: Decimal,
    pub terms: LineTermsDraft,
}

/// How a line is billed and what it entitles to, as a client proposes it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LineTermsDraft {
    /// Default `fixed`.
    pub billing_model: Option<BillingModel>,
    /// Required for `recurring` lines, refused on others.
    pub billing_interval: Option<BillingInterval>,
    /// Default the contract's start date.
    pub service_start: Option<NaiveDate>,
    /// Default the contract's end date.
    pub service_end: Option<NaiveDate>,
    /// Both or neither; only on recurring lines (the period is the billing interval).
    pub entitlement_kind: Option<String>,
    pub entitlement_hours_per_period: Option<Decimal>,
}

/// A line's terms after validation, service dates filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct LineTerms {
    pub billing_model: BillingModel,
    pub billing_interval: Option<BillingInterval>,
    pub service_start: NaiveDate,
    pub service_end: NaiveDate,
    pub entitlement: Option<EntitlementTerms>,
}

/// A line with its amount and checked terms, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct PricedLine {
    pub draft: ContractLineDraft,
    pub amount: Decimal,
    pub terms: LineTerms,
}

/// Checks a line's terms against its contract's dates; messages name the line's field.
fn line_terms(draft: &LineTermsDraft, start_date: NaiveDate, end_date: NaiveDate) -> Result<LineTerms, String> {
    let billing_model = draft.billing_model.unwrap_or(BillingModel::Fixed);
    let billing_interval = match (billing_model, draft.billing_interval) {
        (BillingModel::Recurring, None) => return Err("billingInterval is required for a recurring line".to_owned()),
        (BillingModel::Recurring, interval) => interval,
        (_, Some(_)) => return Err("billingInterval is only for recurring lines".to_owned()),
        (_, None) => None,
    };
    let service_start = draft.service_start.unwrap_or(start_date);
    let service_end = draft.service_end.unwrap_or(end_date);
    if service_start < start_date || service_end > end_date {
        return Err(format!(
            "serviceStart..serviceEnd ({service_start}..{service_end}) must lie within the contract              ({start_date}..{end_date})"
        ));
    }
    if service_end < service_start {
        return Err(format!("serviceEnd ({service_end}) must not be before serviceStart ({service_start})"));
    }
    let entitlement = match (&draft.entitlement_kind, draft.entitlement_hours_per_period) {
        (None, None) => None,
        (Some(kind), Some(hours)) => {
            if billing_interval.is_none() {
                return Err("entitlement terms need a recurring line (the period is its billing interval)".to_owned());
            }
            Some(EntitlementTerms::validated(kind, hours)?)
        }
        _ => return Err("entitlementKind and entitlementHoursPerPeriod go together".to_owned()),
    };
    Ok(LineTerms { billing_model, billing_interval, service_start, service_end, entitlement })
}

/// Money rounded to cents, half away from zero (invoice arithmetic, not banker's rounding),
/// at scale 2 so it serves as `12000.00`.
pub fn round_money(value: Decimal) -> Decimal {
    let mut value = value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    value.rescale(2);
    value
}

/// `quantity × unit price × (1 − discount)`, rounded to cents.
pub fn line_amount(quantity: Decimal, unit_price: Decimal, discount_pct: Decimal) -> Decimal {
    round_money(quantity * unit_price * (Decimal::ONE - discount_pct))
}

/// Checks a proposed contract and prices its lines; the total is the sum of the rounded
/// line amounts, so it always equals what the lines show. Errors are messages for the
/// client (`BAD_USER_INPUT`).
pub fn price_contract(
    start_date: NaiveDate,
    end_date: NaiveDate,
    currency: &str,
    lines: Vec<ContractLineDraft>,
) -> Result<(Vec<PricedLine>, Decimal), String> {
    if end_date <= start_date {
        return Err(format!("endDate ({end_date}) must be after startDate ({start_date})"));
    }
    if !is_currency_code(currency) {
        return Err(format!("currency `{currency}` is not an ISO 4217 code such as USD"));
    }
    if lines.is_empty() {
        return Err("a contract needs at least one line".to_owned());
    }
    let mut priced = Vec::with_capacity(lines.len());
    for (index, line) in lines.into_iter().enumerate() {
        let position = index + 1;
        if line.description.trim().is_empty() {
            return Err(format!("line {position}: description is empty"));
        }
        if line.quantity <= Decimal::ZERO {
            return Err(format!("line {position}: quantity must be positive, got {}", line.quantity));
        }
        if line.unit_price < Decimal::ZERO {
            return Err(format!("line {position}: unitPrice must not be negative, got {}", line.unit_price));
        }
        if line.discount_pct < Decimal::ZERO || line.discount_pct > Decimal::ONE {
            return Err(format!("line {position}: discountPct is a fraction from 0 to 1, got {}", line.discount_pct));
        }
        let terms =
            line_terms(&line.terms, start_date, end_date).map_err(|error| format!("line {position}: {error}"))?;
        let amount = line_amount(line.quantity, line.unit_price, line.discount_pct);
        priced.push(PricedLine { draft: line, amount, terms });
    }
    let total = round_money(priced.iter().map(|line| line.amount).sum());
    Ok((priced, total))
}

/// Whether a signed contract may become active on `today`: from its start date on
/// (the same day when the start date has already passed).
pub fn may_activate(start_date: NaiveDate, today: NaiveDate) -> bool {
    start_date <= today
}

#[cfg(test)]
mod tests {
    use super::*;
    use atrium_kit::command::{CommandError, guard_transition};
    use std::str::FromStr;

    use ContractStatus::{Active, Approved, Draft, Expired, OutForSignature, PendingApproval, Signed, Terminated};

    const ALL: [ContractStatus; 8] =
        [Draft, PendingApproval, Approved, OutForSignature, Signed, Active, Expired, Terminated];

    /// Every step the lifecycle permits, and nothing else.
    const ALLOWED: [(ContractStatus, ContractStatus); 8] = [
        (Draft, PendingApproval),
        (PendingApproval, Approved),
        (PendingApproval, Draft),
        (Approved, OutForSignature),
        (OutForSignature, Signed),
        (Signed, Active),
        (Active, Expired),
        (Active, Terminated),
    ];

    #[test]
    fn every_permitted_step_passes_the_guard() {
        for (from, to) in ALLOWED {
            assert!(guard_transition(from, to).is_ok(), "{from:?} -> {to:?}");
        }
    }

    #[test]
    fn every_step_outside_the_table_is_refused() {
        for from in ALL {
            for to in ALL {
                let permitted = ALLOWED.contains(&(from, to));
                assert_eq!(from.can_become(to), permitted, "{from:?} -> {to:?}");
            }
        }
    }

    #[test]
    fn shortcuts_and_reversals_are_invalid_transitions_naming_current_and_allowed() {
        let rejected: [(ContractStatus, ContractStatus, &[&str]); 8] = [
            (Draft, Active, &["PENDING_APPROVAL"]),
            (Draft, Signed, &["PENDING_APPROVAL"]),
            (Draft, Approved, &["PENDING_APPROVAL"]),
            (PendingApproval, Signed, &["APPROVED", "DRAFT"]),
            (Approved, Signed, &["OUT_FOR_SIGNATURE"]),
            (Signed, Signed, &["ACTIVE"]),
            (Active, Draft, &["EXPIRED", "TERMINATED"]),
            (Terminated, Active, &[]),
        ];
        for (from, to, allowed) in rejected {
            match guard_transition(from, to) {
                Err(CommandError::InvalidTransition { entity, current, requested, allowed: listed }) => {
                    assert_eq!(entity, "Contract");
                    assert_eq!(current, from.name());
                    assert_eq!(requested, to.name());
                    assert_eq!(listed, allowed, "{from:?} -> {to:?}");
                }
                other => panic!("{from:?} -> {to:?}: expected INVALID_TRANSITION, got {other:?}"),
            }
        }
    }

    #[test]
    fn expired_and_terminated_contracts_are_final() {
        for to in ALL {
            assert!(!Expired.can_become(to) && !Terminated.can_become(to), "{to:?}");
        }
    }

    fn decimal(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn line(quantity: &str, unit_price: &str, discount: &str) -> ContractLineDraft {
        ContractLineDraft {
            service_package_id: None,
            description: "Implementation".to_owned(),
            quantity: decimal(quantity),
            unit_price: decimal(unit_price),
            discount_pct: decimal(discount),
            terms: LineTermsDraft::default(),
        }
    }

    fn price(lines: Vec<ContractLineDraft>) -> Result<(Vec<PricedLine>, Decimal), String> {
        let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        price_contract(start, NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(), "USD", lines)
    }

    #[test]
    fn line_amounts_and_the_total_are_exact_to_the_cent() {
        let (lines, total) =
            price(vec![line("1", "45000", "0.1"), line("12", "1200", "0"), line("3", "0.10", "0.3333")]).unwrap();
        let amounts: Vec<String> = lines.iter().map(|line| line.amount.to_string()).collect();
        // 3 × 0.10 × 0.6667 = 0.20001 → 0.20.
        assert_eq!(amounts, ["40500.00", "14400.00", "0.20"]);
        assert_eq!(total.to_string(), "54900.20");
    }

    #[test]
    fn half_cents_round_away_from_zero() {
        assert_eq!(line_amount(decimal("1"), decimal("0.125"), Decimal::ZERO).to_string(), "0.13");
        assert_eq!(line_amount(decimal("1"), decimal("0.135"), Decimal::ZERO).to_string(), "0.14");
    }

    #[test]
    fn a_contract_without_lines_or_with_bad_lines_or_dates_is_refused() {
        assert!(price(vec![]).unwrap_err().contains("at least one line"));
        assert!(price(vec![line("0", "10", "0")]).unwrap_err().contains("quantity must be positive"));
        assert!(price(vec![line("-1", "10", "0")]).unwrap_err().contains("quantity must be positive"));
        assert!(price(vec![line("1", "-10", "0")]).unwrap_err().contains("unitPrice"));
        assert!(price(vec![line("1", "10", "1.5")]).unwrap_err().contains("discountPct"));
        let day = NaiveDate::from_ymd_opt(2026, 5, 1).unwrap();
        assert!(price_contract(day, day, "USD", vec![line("1", "1", "0")]).unwrap_err().contains("after startDate"));
        assert!(price_contract(day, day.succ_opt().unwrap(), "usd", vec![line("1", "1", "0")]).is_err());
    }

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn with_terms(terms: LineTermsDraft) -> Result<LineTerms, String> {
        let draft = ContractLineDraft { terms, ..line("12", "5000", "0") };
        price(vec![draft]).map(|(lines, _)| lines[0].terms.clone())
    }

    #[test]
    fn line_terms_default_to_fixed_over_the_contract_dates() {
        let terms = with_terms(LineTermsDraft::default()).unwrap();
        assert_eq!(terms.billing_model, BillingModel::Fixed);
        assert_eq!((terms.service_start, terms.service_end), (day("2026-01-01"), day("2026-12-31")));
        assert_eq!((terms.billing_interval, terms.entitlement), (None, None));
    }

    #[test]
    fn a_recurring_line_with_entitlement_terms_is_accepted() {
        let terms = with_terms(LineTermsDraft {
            billing_model: Some(BillingModel::Recurring),
            billing_interval: Some(BillingInterval::Month),
            service_start: Some(day("2026-02-01")),
            entitlement_kind: Some("Advisory".to_owned()),
            entitlement_hours_per_period: Some(decimal("20")),
            ..LineTermsDraft::default()
        })
        .unwrap();
        assert_eq!(terms.service_start, day("2026-02-01"));
        assert_eq!(
            terms.entitlement,
            Some(EntitlementTerms { kind: "advisory".to_owned(), hours_per_period: decimal("20") })
        );
    }

    #[test]
    fn inconsistent_line_terms_are_refused_naming_the_field() {
        let recurring = || LineTermsDraft {
            billing_model: Some(BillingModel::Recurring),
            billing_interval: Some(BillingInterval::Month),
            ..LineTermsDraft::default()
        };
        let refusals = [
            (LineTermsDraft { billing_interval: None, ..recurring() }, "billingInterval is required"),
            (
                LineTermsDraft { billing_model: Some(BillingModel::Milestone), ..recurring() },
                "billingInterval is only for recurring",
            ),
            (LineTermsDraft { service_start: Some(day("2025-12-31")), ..recurring() }, "within the contract"),
            (LineTermsDraft { service_end: Some(day("2027-01-01")), ..recurring() }, "within the contract"),
            (
                LineTermsDraft {
                    service_start: Some(day("2026-06-01")),
                    service_end: Some(day("2026-05-01")),
                    ..recurring()
                },
                "serviceEnd",
            ),
            (LineTermsDraft { entitlement_kind: Some("advisory".to_owned()), ..recurring() }, "go together"),
            (
                LineTermsDraft {
                    entitlement_kind: Some("advisory".to_owned()),
                    entitlement_hours_per_period: Some(decimal("20")),
                    ..LineTermsDraft::default()
                },
                "need a recurring line",
            ),
            (
                LineTermsDraft {
                    entitlement_kind: Some("advisory".to_owned()),
                    entitlement_hours_per_period: Some(decimal("-5")),
                    ..recurring()
                },
                "entitlementHoursPerPeriod",
            ),
        ];
        for (terms, expected) in refusals {
            let error = with_terms(terms.clone()).unwrap_err();
            assert!(error.starts_with("line 1: ") && error.contains(expected), "{terms:?}: {error}");
        }
    }

    #[test]
    fn an_unknown_currency_is_refused() {
        let start = day("2026-01-01");
        let end = day("2026-12-31");
        for currency in ["XYZ", "usd", "DOLLAR"] {
            let error = price_contract(start, end, currency, vec![line("1", "1", "0")]).unwrap_err();
            assert!(error.contains("ISO 4217"), "{currency}: {error}");
        }
    }

    #[test]
    fn activation_waits_for_the_start_date() {
        let start = NaiveDate::from_ymd_opt(2026, 5, 1).unwrap();
        assert!(!may_activate(start, start.pred_opt().unwrap()));
        assert!(may_activate(start, start));
        assert!(may_activate(start, start.succ_opt().unwrap()));
    }
}
