//! Delivery enumerations, stored as lower snake case text (docs/domain.md#conventions, #delivery).

use atrium_kit::stored_enum;

stored_enum!(EngagementStatus {
    Draft => "draft",
    Onboarding => "onboarding",
    Delivering => "delivering",
    Live => "live",
    OnHold => "on_hold",
    Closed => "closed",
    Cancelled => "cancelled",
});

// Same values as catalog's `Blueprint.engagement_type`: the GraphQL enum is shared by name.
stored_enum!(EngagementType {
    Implementation => "implementation",
    Onboarding => "onboarding",
    ManagedServiceTransition => "managed_service_transition",
    ComplianceProgram => "compliance_program",
    Optimization => "optimization",
});

stored_enum!(Rag { Green => "green", Amber => "amber", Red => "red" });

stored_enum!(MilestonePhase {
    Onboarding => "onboarding",
    Design => "design",
    Build => "build",
    Test => "test",
    Deploy => "deploy",
    Hypercare => "hypercare",
    Run => "run",
});

stored_enum!(MilestoneStatus {
    NotStarted => "not_started",
    InProgress => "in_progress",
    Completed => "completed",
    Accepted => "accepted",
    Waived => "waived",
    Cancelled => "cancelled",
});

impl MilestoneStatus {
    /// Done means no further work is expected: finished, signed off, or taken out of scope.
    pub fn is_done(self) -> bool {
        matches!(
            self,
            MilestoneStatus::Completed
                | MilestoneStatus::Accepted
                | MilestoneStatus::Waived
                | MilestoneStatus::Cancelled
        )
    }
}

stored_enum!(TaskKind { Checklist => "checklist", Work => "work" });

stored_enum!(TaskStatus {
    Inactive => "inactive",
    Todo => "todo",
    InProgress => "in_progress",
    Blocked => "blocked",
    Done => "done",
    Cancelled => "cancelled",
});
