//! The gateway's GraphQL-over-HTTP endpoint, read in request order: [`front_door`]
//! (what is read and refused before anything runs), [`pipeline`] (rate limit, cache,
//! de-duplication, the engine) and [`answer`] (response shaping and rejections); this
//! file names them (the shared state is `crate::state`, the routes `crate::routes`).
//!
//! Order of checks, cheapest and least revealing first: header size (431), body size
//! (413), `Accept` negotiation (406), CSRF (400: a JSON content type or a preflight
//! header), authentication (401: nothing about the schema leaks to anonymous callers),
//! the caller's portal origin (403 `ORIGIN_NOT_ALLOWED` from another tenant's portal,
//! `crate::cors`), content type (415), body shape (400; JSON-array batches are refused),
//! persisted-document resolution, the caller's operation policy (`crate::policy`: tokens,
//! depth, aliases, root fields, cost), field authorization (`crate::authorization`:
//! unauthorized selections are left out of the plan, or 403 under `reject`), the rate limit
//! (429), only then the APQ registration the request proposed, then the engine (validate,
//! plan, execute) under the client kind's timeout (504). GET never runs a mutation (405 +
//! `Allow: POST`). Subgraph errors
//! leave masked to their code and path.

mod answer;
mod front_door;
mod get_parameters;
mod pipeline;

pub use answer::CACHE_STATUS_HEADER;
#[cfg(test)]
pub(crate) use answer::unauthenticated;
pub(crate) use front_door::{authenticate, authenticated_json_body, csrf_rejection, graphql_get, graphql_post};
pub(crate) use get_parameters::parse_get_parameters;
