//! `/v1/messages`: send one text to one or many recipients through the account's Twilio sender
//! (a send); its delivery report webhook fires once every recipient's SMS has a final status, or
//! after 24 hours.

use super::contacts::is_e164;
use crate::api::extract::{has_text, is_line, parse_object, JsonBody, TenantId};
use crate::app::App;
use crate::error::ApiError;
use crate::products::sms::body::{self, SmsRecordView};
use crate::products::sms::{sends, store};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

const INVALID: &str = "invalid message";
/// Most recipients of one send.
pub const MAX_RECIPIENTS: usize = 500;

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::unprocessable(INVALID, detail)
}

/// A phone number in E.164 (for the document).
#[derive(ToSchema)]
#[schema(pattern = "^\\+[0-9]{2,15}$", example = "+15551230001")]
#[allow(dead_code)]
pub struct E164(String);

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendInput {
    /// The recipients (E.164, 1 to 500), each sent the text once.
    #[schema(min_items = 1, max_items = 500, value_type = Vec<E164>, example = json!(["+15551230001", "+15551230002"]))]
    pub to: Vec<String>,
    /// The text (1 to 1600 characters).
    #[schema(min_length = 1, max_length = 1600, pattern = "[^\\s\\u0000-\\u001f\\u007f-\\u009f]")]
    pub text: String,
    /// The From number or sender id; none: the account's SMS sender's default.
    #[schema(value_type = Option<crate::api::openapi::SenderFrom>)]
    pub from: Option<String>,
}

/// A send: its SMS records (as they stand) and whether the report went out.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SendView {
    #[schema(example = "snd_01hx5v3k9a7m2n4p6q8r0s2t4v")]
    pub id: String,
    pub total_messages: usize,
    pub text: String,
    pub created_at: String,
    /// When the delivery report was made (every SMS final, or 24 hours); null until then.
    pub reported_at: Option<String>,
    /// The report's delivery in the delivery log; null when no delivery-report destination was
    /// set when it was made.
    pub report_delivery_id: Option<String>,
    pub messages: Vec<SmsRecordView>,
}

async fn view(app: &App, tenant: &str, s: &sends::Send) -> Result<SendView, ApiError> {
    let st = app.store.as_ref();
    let zone = body::zone(&store::account(st, tenant).await?.value);
    let mut messages = Vec::with_capacity(s.sms_ids.len());
    for id in &s.sms_ids {
        if let Some(r) = store::record(st, tenant, id).await? {
            messages.push(body::view(&r.value, &zone));
        }
    }
    Ok(SendView {
        id: s.id.clone(),
        total_messages: s.sms_ids.len(),
        text: s.text.clone(),
        created_at: body::time(s.created_at_ms, &zone),
        reported_at: s.reported_at_ms.map(|t| body::time(t, &zone)),
        report_delivery_id: s.report_delivery_id.clone(),
        messages,
    })
}

#[utoipa::path(post, path = "/v1/messages", tag = "sms", operation_id = "send_messages",
    request_body = SendInput,
    responses((status = 202, description = "Accepted: each SMS is queued", body = SendView)))]
pub async fn create(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<SendView>), ApiError> {
    let input: SendInput = parse_object(body, INVALID, "a message")?;
    if input.to.is_empty() || input.to.len() > MAX_RECIPIENTS {
        return Err(invalid(format!("to: 1 to {MAX_RECIPIENTS} numbers")));
    }
    if let Some((i, bad)) = input.to.iter().enumerate().find(|(_, n)| !is_e164(n)) {
        return Err(invalid(format!("to[{i}]: {bad:?} is not E.164 (+ and 2 to 15 digits)")));
    }
    if input.text.chars().count() > 1600 || !has_text(&input.text) {
        return Err(invalid("text: 1 to 1600 characters, not blank"));
    }
    if input.from.as_deref().is_some_and(|f| !is_line(f, 64)) {
        return Err(invalid("from: a number (E.164) or a sender id"));
    }
    let account = store::account(app.store.as_ref(), &tenant).await?.value;
    let pipeline_error = |e: crate::error::PipelineError| {
        tracing::error!(error = %e, "creating a send");
        ApiError::unavailable("the messages could not be queued; retry later")
    };
    let (send, deliveries) =
        sends::create(&app, &tenant, &account, &input.to, &input.text, input.from).await.map_err(pipeline_error)?;
    let effects = crate::product::Effects { deliveries, bus_events: vec![] };
    crate::pipeline::apply(&app, effects).await.map_err(pipeline_error)?;
    Ok((StatusCode::ACCEPTED, Json(view(&app, &tenant, &send).await?)))
}

#[utoipa::path(get, path = "/v1/messages/{id}", tag = "sms", operation_id = "get_send",
    params(("id" = String, Path, description = "The send's id")),
    responses((status = 200, description = "The send and its SMS", body = SendView)))]
pub async fn get_one(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<Json<SendView>, ApiError> {
    let s = sends::find(app.store.as_ref(), &tenant, &id).await?.ok_or_else(|| ApiError::not_found("send", &id))?;
    Ok(Json(view(&app, &tenant, &s.value).await?))
}
