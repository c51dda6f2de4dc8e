//! Error masking for subgraph schemas: any execution error without an `extensions.code`
//! is an internal failure (a database error bubbled up with `?`, say). Its message is
//! logged and replaced, so no SQL or driver text can ever reach a client.

use std::sync::Arc;

use async_graphql::{
    Response, ServerError, Value,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute},
};

use crate::errors::ErrorCode;

pub struct MaskInternalErrors;

impl ExtensionFactory for MaskInternalErrors {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(MaskInternalErrorsExtension)
    }
}

struct MaskInternalErrorsExtension;

#[async_graphql::async_trait::async_trait]
impl Extension for MaskInternalErrorsExtension {
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        for error in &mut response.errors {
            mask(error);
        }
        response
    }
}

fn mask(error: &mut ServerError) {
    let has_code = error.extensions.as_ref().is_some_and(|extensions| extensions.get("code").is_some());
    if has_code {
        return;
    }
    tracing::error!(message = %error.message, path = ?error.path, "internal error while resolving");
    error.message = "internal error".to_owned();
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", Value::from(ErrorCode::InternalServerError.as_str()));
    error.extensions = Some(extensions);
    error.source = None;
}
