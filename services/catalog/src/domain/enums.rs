//! Catalog enumerations, stored as lower snake case text (docs/domain.md#conventions).

use atrium_kit::stored_enum;

stored_enum!(TenantKind { Reseller => "reseller", OemVendor => "oem_vendor", DirectProvider => "direct_provider" });
stored_enum!(TenantStatus { Provisioning => "provisioning", Active => "active", Suspended => "suspended", Offboarded => "offboarded" });
stored_enum!(PublicationStatus { Draft => "draft", Published => "published", Retired => "retired" });
stored_enum!(PackageCategory {
    Implementation => "implementation",
    ManagedSupport => "managed_support",
    ComplianceService => "compliance_service",
    OptimizationRetainer => "optimization_retainer",
    Advisory => "advisory",
    Training => "training",
    Hosting => "hosting",
});
stored_enum!(BillingModel {
    FixedFee => "fixed_fee",
    Milestone => "milestone",
    TimeAndMaterials => "time_and_materials",
    Subscription => "subscription",
    Retainer => "retainer",
});
stored_enum!(SupportTier { None => "none", Bronze => "bronze", Silver => "silver", Gold => "gold", Platinum => "platinum" });
stored_enum!(EngagementType {
    Implementation => "implementation",
    Onboarding => "onboarding",
    ManagedServiceTransition => "managed_service_transition",
    ComplianceProgram => "compliance_program",
    Optimization => "optimization",
});
stored_enum!(MilestonePhase {
    Onboarding => "onboarding",
    Design => "design",
    Build => "build",
    Test => "test",
    Deploy => "deploy",
    Hypercare => "hypercare",
    Run => "run",
});
stored_enum!(TaskKind { Checklist => "checklist", Work => "work" });
stored_enum!(OwnerRole {
    Csm => "csm",
    DeliveryManager => "delivery_manager",
    Consultant => "consultant",
    Customer => "customer",
    Finance => "finance",
    Support => "support",
});
stored_enum!(ApprovalStatus { Pending => "pending", Approved => "approved", Rejected => "rejected" });
