//! Atrium's subgraphs as Federation v2 SDL text, written the way
//! async-graphql exports it (federation `@link` last).

use crate::composition::SubgraphDefinition;

const LINK: &str = r#"extend schema @link(
    url: "https://specs.apollo.dev/federation/v2.5",
    import: ["@key", "@tag", "@shareable", "@inaccessible", "@override", "@external", "@provides", "@requires", "@composeDirective", "@interfaceObject", "@requiresScopes"]
)
"#;

pub(super) const CATALOG: &str = r#"
type Query {
    tenant(id: ID!): Tenant
}

"""
A customer organisation using Atrium.
"""
type Tenant @key(fields: "id") {
    id: ID!
    name: String!
    plan: Plan!
}

enum Plan {
    STARTER
    GROWTH
    ENTERPRISE
}
"#;

pub(super) const FINANCE: &str = r#"
type CustomerAccount @key(fields: "id") {
    id: ID!
    name: String!
    tenant: Tenant!
    invoices(status: InvoiceStatus): [Invoice!]!
}

type Invoice @key(fields: "id") {
    id: ID!
    number: String!
    status: InvoiceStatus!
    total: Money!
    internalNotes: String @inaccessible
}

enum InvoiceStatus {
    DRAFT
    ISSUED
    PAID
}

type Money {
    amountCents: Int! @shareable
    currency: String! @shareable
}

input IssueInvoiceInput {
    customerAccountId: ID!
    amountCents: Int!
}

type Mutation {
    issueInvoice(input: IssueInvoiceInput!): Invoice!
}

type Query {
    customerAccount(id: ID!): CustomerAccount
    invoice(id: ID!): Invoice
}

type Tenant @key(fields: "id", resolvable: false) {
    id: ID!
}
"#;

pub(super) const DELIVERY: &str = r#"
type CustomerAccount @key(fields: "id") {
    id: ID!
    engagements: [Engagement!]!
}

type Engagement @key(fields: "id") {
    id: ID!
    title: String!
    customerAccount: CustomerAccount!
}

type Query {
    engagement(id: ID!): Engagement
}
"#;

pub(super) const SUPPORT: &str = r#"
type CustomerAccount @key(fields: "id") {
    id: ID!
    tickets: [Ticket!]!
    openUrgentHighTicketCount: Int!
}

type Money {
    amountCents: Int! @shareable
    currency: String! @shareable
}

type Ticket @key(fields: "id") {
    id: ID!
    subject: String!
    priority: TicketPriority!
    credit: Money
}

enum TicketPriority {
    LOW
    HIGH
    URGENT
}
"#;

pub(super) const ANALYTICS: &str = r#"
type AccountHealth {
    score: Int!
    label: String!
}

type CustomerAccount @key(fields: "id") {
    id: ID!
    openUrgentHighTicketCount: Int! @external
    health: AccountHealth! @requires(fields: "openUrgentHighTicketCount")
}
"#;

/// Adds the federation `@link` the way async-graphql prints it.
pub(super) fn with_link(sdl: &str) -> String {
    format!("{sdl}\n{LINK}")
}

pub(super) fn subgraph(name: &str, sdl: &str) -> SubgraphDefinition {
    SubgraphDefinition { name: name.to_string(), url: format!("http://{name}:8080/graphql"), sdl: with_link(sdl) }
}

pub(super) fn atrium_subgraphs() -> Vec<SubgraphDefinition> {
    vec![
        subgraph("analytics", ANALYTICS),
        subgraph("catalog", CATALOG),
        subgraph("delivery", DELIVERY),
        subgraph("finance", FINANCE),
        subgraph("support", SUPPORT),
    ]
}
