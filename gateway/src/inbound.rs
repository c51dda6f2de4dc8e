//! De-duplication of identical client queries in flight: what makes two of them
//! interchangeable, and the answer a shared execution gives when its task fails.

use crate::{
    engine::{ExecutionResponse, GraphQLRequest, Outcome},
    in_flight::TaskFailure,
};

/// What makes two client queries interchangeable: the same caller (tenant, subject, roles,
/// client kind, scopes) sending the same document, operation and variables. Anything less
/// could hand one caller another's data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InboundKey {
    caller: String,
    query: String,
    operation_name: Option<String>,
    variables: String,
    extensions: String,
}

impl InboundKey {
    /// The key for `caller` (the tenant context) sending `request`. A part that cannot be
    /// serialised is an error, and the request then executes alone: a stand-in such as an
    /// empty string would make unrelated callers' keys equal.
    pub(crate) fn new(caller: &impl serde::Serialize, request: &GraphQLRequest) -> Result<Self, serde_json::Error> {
        Ok(InboundKey {
            caller: serde_json::to_string(caller)?,
            query: request.query.clone(),
            operation_name: request.operation_name.clone(),
            variables: serde_json::to_string(&request.variables)?,
            extensions: serde_json::to_string(&request.extensions)?,
        })
    }
}

impl TaskFailure for ExecutionResponse {
    fn task_failed(message: String) -> Self {
        tracing::error!(%message, "a shared execution failed");
        ExecutionResponse {
            body: atrium_contract::ErrorCode::InternalServerError.response_body("internal error"),
            outcome: Outcome::InternalError,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbound_keys_match_only_for_the_same_caller_document_and_variables() {
        let context = atrium_contract::TenantContext {
            tenant_id: uuid::Uuid::nil(),
            subject: "user-1".into(),
            roles: vec!["csm".into()],
            client_kind: atrium_contract::ClientKind::Dashboard,
            channel_partner_id: None,
            customer_account_id: None,
        };
        let request = GraphQLRequest {
            query: "{ tenant { name } }".into(),
            operation_name: None,
            variables: Default::default(),
            extensions: Default::default(),
        };
        let key = InboundKey::new(&context, &request).unwrap();
        assert_eq!(key, InboundKey::new(&context.clone(), &request.clone()).unwrap());
        let other_tenant = atrium_contract::TenantContext { tenant_id: uuid::Uuid::from_u128(1), ..context.clone() };
        let other_role = atrium_contract::TenantContext { roles: vec!["finance".into()], ..context.clone() };
        let other_user = atrium_contract::TenantContext { subject: "user-2".into(), ..context.clone() };
        let mut other_variables = request.clone();
        other_variables.variables.insert("first".into(), 1.into());
        for different in [
            InboundKey::new(&other_tenant, &request).unwrap(),
            InboundKey::new(&other_role, &request).unwrap(),
            InboundKey::new(&other_user, &request).unwrap(),
            InboundKey::new(&context, &other_variables).unwrap(),
        ] {
            assert_ne!(key, different);
        }
    }

    #[test]
    fn no_inbound_key_is_built_for_a_caller_that_cannot_be_serialised() {
        // JSON object keys must be strings: a caller described by a map with other keys
        // cannot be written as JSON. An empty stand-in would give every such caller the
        // same key, and so one caller's answer to another.
        let caller_with_tuple_keys = |subject: &str| std::collections::BTreeMap::from([((subject.to_owned(), 1), 1)]);
        let request = GraphQLRequest { query: "{ tenant { name } }".into(), ..GraphQLRequest::default() };
        assert!(InboundKey::new(&caller_with_tuple_keys("user-1"), &request).is_err());
        assert!(InboundKey::new(&caller_with_tuple_keys("user-2"), &request).is_err());
    }
}
