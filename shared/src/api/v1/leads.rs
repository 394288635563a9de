//! `GET /v1/leads/{id}`: where `lead.update.list` actions have moved a lead.

use crate::api::extract::TenantId;
use crate::app::App;
use crate::error::ApiError;
use crate::model::Lead;
use crate::repo::leads;
use axum::extract::{Path, State};
use axum::Json;
use std::sync::Arc;

pub async fn get_one(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<Json<Lead>, ApiError> {
    leads::find(app.store.as_ref(), &tenant, &id).await?.map(Json).ok_or_else(|| ApiError::not_found("lead", &id))
}
