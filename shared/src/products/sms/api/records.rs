//! `/v1/sms`: every SMS Ringhook sent for a flow — text, length, segments, cost, Twilio's
//! MessageSid and statuses, and the status webhook receiver's answer — newest first, with times in
//! the account's time zone.

use crate::api::extract::{Params, TenantId};
use crate::app::App;
use crate::error::ApiError;
use crate::products::sms::body::{self, SmsRecordView};
use crate::products::sms::store;
use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

/// Most records read to fill one filtered page: a filter that matches little answers with a
/// shorter page and a cursor, rather than reading the whole log.
const MAX_SCANNED: usize = 5_000;

/// The filters; any other parameter is refused.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only SMS of this flow.
    #[param(minimum = 1, maximum = 9_999_999_999_u64)]
    flow_id: Option<u64>,
    /// Only SMS with this delivery status (`delivered`, `DELIVERED`, `not_sent`…; any case).
    #[param(example = "delivered")]
    status: Option<String>,
    /// Only SMS to this number.
    to: Option<String>,
    /// Created at or after this time.
    #[param(value_type = Option<crate::api::openapi::TimeOrMillis>)]
    since: Option<String>,
    /// Created before this time.
    #[param(value_type = Option<crate::api::openapi::TimeOrMillis>)]
    until: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// `nextCursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SmsPage {
    pub sms: Vec<SmsRecordView>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/v1/sms", tag = "sms", operation_id = "list_sms",
    params(ListQuery),
    responses((status = 200, description = "SMS records, newest first", body = SmsPage)))]
pub async fn list(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Params(q): Params<ListQuery>,
) -> Result<Json<SmsPage>, ApiError> {
    let limit = crate::api::extract::page_limit(q.limit, 50)?;
    if q.flow_id.is_some_and(|f| !(1..=super::flows::MAX_FLOW_ID).contains(&f)) {
        return Err(ApiError::unprocessable("invalid query", "flowId: a flow id, 1 to 9999999999"));
    }
    let since = crate::api::v1::deliveries::time_param("since", &q.since)?;
    let until = crate::api::v1::deliveries::time_param("until", &q.until)?;
    let status = q.status.map(|s| s.to_ascii_lowercase());
    let st = app.store.as_ref();
    let zone = body::zone(&store::account(st, &tenant).await?.value);
    let mut out = Vec::new();
    let mut cursor = q.cursor;
    let mut scanned = 0;
    loop {
        let page = store::records_page(st, &tenant, 200, cursor.clone()).await?;
        let n = page.len();
        for r in page {
            scanned += 1;
            cursor = Some(r.id.clone());
            if since.is_some_and(|s| r.created_at_ms < s) {
                // Newest first: everything after this is older still.
                return Ok(Json(SmsPage { sms: out, next_cursor: None }));
            }
            let keep = q.flow_id.is_none_or(|f| r.flow_id == Some(f))
                && status.as_deref().is_none_or(|s| r.status == s)
                && q.to.as_deref().is_none_or(|t| r.to == t)
                && until.is_none_or(|u| r.created_at_ms < u);
            if keep {
                out.push(body::view(&r, &zone));
                if out.len() == limit {
                    return Ok(Json(SmsPage { sms: out, next_cursor: cursor }));
                }
            }
            if scanned >= MAX_SCANNED {
                return Ok(Json(SmsPage { sms: out, next_cursor: cursor }));
            }
        }
        if n < 200 {
            return Ok(Json(SmsPage { sms: out, next_cursor: None }));
        }
    }
}

#[utoipa::path(get, path = "/v1/sms/{id}", tag = "sms", operation_id = "get_sms",
    params(("id" = String, Path, description = "The SMS record's id (a UUID)")),
    responses((status = 200, description = "The SMS record", body = SmsRecordView)))]
pub async fn get_one(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<Json<SmsRecordView>, ApiError> {
    let st = app.store.as_ref();
    let r = store::record(st, &tenant, &id).await?.ok_or_else(|| ApiError::not_found("SMS", &id))?;
    let zone = body::zone(&store::account(st, &tenant).await?.value);
    Ok(Json(body::view(&r.value, &zone)))
}
