//! Finance enumerations, stored as lower snake case text (docs/domain.md#conventions, #finance).

use atrium_kit::stored_enum;

stored_enum!(Segment { Smb => "smb", MidMarket => "mid_market", Enterprise => "enterprise" });
stored_enum!(CustomerStatus { Prospect => "prospect", Active => "active", Former => "former" });
stored_enum!(ContractType {
    Msa => "msa",
    Sow => "sow",
    OrderForm => "order_form",
    Renewal => "renewal",
    Amendment => "amendment",
});
stored_enum!(ContractStatus {
    Draft => "draft",
    PendingApproval => "pending_approval",
    Approved => "approved",
    OutForSignature => "out_for_signature",
    Signed => "signed",
    Active => "active",
    Expired => "expired",
    Terminated => "terminated",
});
stored_enum!(SubscriptionStatus {
    Pending => "pending",
    Active => "active",
    PastDue => "past_due",
    NonRenewing => "non_renewing",
    Cancelled => "cancelled",
    Expired => "expired",
});
stored_enum!(BillingInterval { Month => "month", Quarter => "quarter", Year => "year" });
stored_enum!(BillingModel { Fixed => "fixed", Milestone => "milestone", Recurring => "recurring", TimeAndMaterials => "t_and_m" });
stored_enum!(CancelReason {
    Price => "price",
    Value => "value",
    ServiceQuality => "service_quality",
    Acquired => "acquired",
    Budget => "budget",
    MovedToCompetitor => "moved_to_competitor",
    Other => "other",
});
stored_enum!(MrrMovementType {
    New => "new",
    Expansion => "expansion",
    Contraction => "contraction",
    Churn => "churn",
    Reactivation => "reactivation",
});
stored_enum!(InvoiceStatus {
    Draft => "draft",
    Issued => "issued",
    PartiallyPaid => "partially_paid",
    Paid => "paid",
    Disputed => "disputed",
    Void => "void",
    Uncollectible => "uncollectible",
});
stored_enum!(DisputeReason {
    Scope => "scope",
    Quality => "quality",
    Pricing => "pricing",
    Duplicate => "duplicate",
    NotReceived => "not_received",
    Other => "other",
});
stored_enum!(DisputeStatus {
    Open => "open",
    UnderReview => "under_review",
    ResolvedCustomer => "resolved_customer",
    ResolvedProvider => "resolved_provider",
    Withdrawn => "withdrawn",
});
stored_enum!(DisputeOutcome { Upheld => "upheld", Rejected => "rejected", PartiallyUpheld => "partially_upheld" });

impl InvoiceStatus {
    /// Statuses whose balance is still receivable and ages (docs/domain.md#receivables): issued,
    /// partially paid and disputed. Drafts were never sent; paid, void and written-off
    /// invoices are settled one way or another.
    pub const OPEN: [InvoiceStatus; 3] = [InvoiceStatus::Issued, InvoiceStatus::PartiallyPaid, InvoiceStatus::Disputed];

    pub fn is_open(self) -> bool {
        Self::OPEN.contains(&self)
    }
}

impl DisputeStatus {
    /// A dispute still awaiting a decision holds its amount as disputed on the invoice.
    pub fn is_open(self) -> bool {
        matches!(self, DisputeStatus::Open | DisputeStatus::UnderReview)
    }
}

/// Serde as the stored text, so command answers (kept for idempotent retries) round-trip.
macro_rules! serde_as_stored_text {
    ($($name:ident),+ $(,)?) => {$(
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                $name::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    )+};
}

serde_as_stored_text!(
    Segment,
    CustomerStatus,
    ContractType,
    ContractStatus,
    BillingInterval,
    BillingModel,
    SubscriptionStatus,
    CancelReason,
    MrrMovementType,
    InvoiceStatus,
    DisputeReason,
    DisputeStatus,
    DisputeOutcome,
);
