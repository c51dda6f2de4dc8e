//! Support enumerations, stored as lower snake case text (docs/domain.md#conventions, #support).

use atrium_kit::stored_enum;

stored_enum!(TicketChannel { Email => "email", Portal => "portal", Phone => "phone", Chat => "chat", Api => "api" });
stored_enum!(TicketCategory {
    HowTo => "how_to",
    Defect => "defect",
    DataFix => "data_fix",
    ConfigChange => "config_change",
    Outage => "outage",
    BillingQuestion => "billing_question",
    ComplianceRequest => "compliance_request",
    ChangeRequest => "change_request",
});
stored_enum!(TicketPriority { Urgent => "urgent", High => "high", Normal => "normal", Low => "low" });
stored_enum!(TicketStatus {
    New => "new",
    Open => "open",
    Pending => "pending",
    OnHold => "on_hold",
    Solved => "solved",
    Closed => "closed",
});
stored_enum!(SupportTierLevel { PartnerL1 => "partner_l1", ProviderL2 => "provider_l2", ProviderL3 => "provider_l3" });
