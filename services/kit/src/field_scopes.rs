//! `@requiresScopes` enforced inside every subgraph, as defence in depth behind the
//! gateway's field authorization.
//!
//! The gateway removes fields the caller's roles may not see before it plans, but a
//! subgraph must not rely on that: a request that reaches it without passing the gateway's
//! authorization (a direct call with a signed context, a planning defect) would otherwise
//! be answered in full. This extension reads the scopes each field and type declares
//! (`#[graphql(requires_scopes = "...")]`, exported as `@requiresScopes`) from the schema
//! itself and checks them against the roles of the verified [`TenantContext`], with the
//! same rule as the gateway: the scopes of one entry must all be held, any one entry
//! suffices. A denied nullable field answers null with one `UNAUTHORIZED_FIELD_OR_TYPE`
//! error at its path (the gateway's code for the same refusal); its resolver never runs.

use std::sync::{Arc, Mutex};

use async_graphql::{
    ErrorExtensionValues, PathSegment, Response, ServerError, ServerResult, Value,
    context::QueryPathSegment,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute, NextResolve, ResolveInfo},
    registry::MetaType,
};

use crate::tenant::TenantContext;

/// `extensions.code` of a field or type the caller's roles may not see (as the gateway's).
pub const UNAUTHORIZED_FIELD_OR_TYPE: &str = crate::errors::ErrorCode::UnauthorizedFieldOrType.as_str();

/// The extension every subgraph schema carries (see [`crate::subgraph_schema`]).
pub struct EnforceRequiresScopes;

impl ExtensionFactory for EnforceRequiresScopes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RequestScopes::default())
    }
}

/// One request's refusals: recorded while fields resolve, added to the response at the end
/// (a resolve hook cannot add an error and still answer null).
#[derive(Default)]
struct RequestScopes {
    denied: Mutex<Vec<ServerError>>,
}

#[async_graphql::async_trait::async_trait]
impl Extension for RequestScopes {
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        if let Ok(mut denied) = self.denied.lock() {
            response.errors.append(&mut denied);
        }
        response
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let registry = &ctx.schema_env.registry;
        let field_scopes = registry
            .types
            .get(info.parent_type)
            .and_then(|parent| parent.field_by_name(info.name))
            .map(|field| field.requires_scopes.as_slice())
            .unwrap_or_default();
        let type_scopes = registry.types.get(named_type(info.return_type)).map(type_scopes).unwrap_or_default();
        if field_scopes.is_empty() && type_scopes.is_empty() {
            return next.run(ctx, info).await;
        }
        // No verified context means no roles: fail closed.
        let roles = ctx.data_opt::<TenantContext>().map(|context| context.roles.as_slice()).unwrap_or_default();
        if is_met(field_scopes, roles) && is_met(type_scopes, roles) {
            return next.run(ctx, info).await;
        }
        let error = unauthorized(&info);
        if info.return_type.ends_with('!') {
            // Null is not a value of a non-null field: the error travels up instead.
            return Err(error);
        }
        if let Ok(mut denied) = self.denied.lock() {
            denied.push(error);
        }
        Ok(Some(Value::Null))
    }
}

/// Whether `roles` satisfy `requirement`: any entry whose space-separated scopes are all
/// held (an empty requirement is always met).
pub fn is_met(requirement: &[String], roles: &[String]) -> bool {
    requirement.is_empty()
        || requirement.iter().any(|entry| entry.split_whitespace().all(|scope| roles.iter().any(|role| role == scope)))
}

/// `[Invoice!]!` → `Invoice`.
fn named_type(type_reference: &str) -> &str {
    type_reference.trim_matches(|character| matches!(character, '[' | ']' | '!'))
}

fn type_scopes(meta_type: &MetaType) -> &[String] {
    match meta_type {
        MetaType::Object { requires_scopes, .. }
        | MetaType::Interface { requires_scopes, .. }
        | MetaType::Scalar { requires_scopes, .. }
        | MetaType::Enum { requires_scopes, .. } => requires_scopes,
        MetaType::Union { .. } | MetaType::InputObject { .. } => &[],
    }
}

fn unauthorized(info: &ResolveInfo<'_>) -> ServerError {
    let mut path: Vec<PathSegment> = std::iter::once(info.path_node)
        .chain(info.path_node.parents())
        .map(|node| match node.segment {
            QueryPathSegment::Name(name) => PathSegment::Field(name.to_owned()),
            QueryPathSegment::Index(index) => PathSegment::Index(index),
        })
        .collect();
    path.reverse();
    let mut error = ServerError::new(
        format!("the caller's roles may not see {}.{}", info.parent_type, info.name),
        Some(info.field.name.pos),
    );
    error.path = path;
    let mut extensions = ErrorExtensionValues::default();
    extensions.set("code", UNAUTHORIZED_FIELD_OR_TYPE);
    error.extensions = Some(extensions);
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|value| (*value).to_owned()).collect()
    }

    #[test]
    fn any_entry_whose_scopes_are_all_held_meets_the_requirement() {
        let requirement = strings(&["finance", "tenant_admin"]);
        assert!(is_met(&requirement, &strings(&["csm", "finance"])));
        assert!(is_met(&requirement, &strings(&["tenant_admin"])));
        assert!(!is_met(&requirement, &strings(&["csm"])));
        assert!(!is_met(&requirement, &[]));
        let both = strings(&["finance exec"]);
        assert!(!is_met(&both, &strings(&["finance"])));
        assert!(is_met(&both, &strings(&["exec", "finance"])));
        assert!(is_met(&[], &[]));
    }

    #[test]
    fn named_types_lose_list_and_non_null_wrappers() {
        assert_eq!(named_type("[Invoice!]!"), "Invoice");
        assert_eq!(named_type("Decimal"), "Decimal");
    }
}
