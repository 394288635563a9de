//! `POST /v1/twilio/status`: Twilio's message status callbacks for the SMS Ringhook sent.
//!
//! Twilio does not send our API key: the request is authenticated by `X-Twilio-Signature`,
//! computed with the auth token of the SMS sender named in the callback URL (which Ringhook
//! wrote, together with the tenant, delivery and attempt, when it sent the message). The status
//! is recorded on that attempt and shown in the delivery log, and the product that made the
//! delivery hears of it (`Product::on_sms_status`: e.g. a delivery-status webhook).

use crate::api::extract::body_rejection;
use crate::api::openapi::Error;
use crate::destinations::{sms_senders, sms_status, twilio};
use crate::error::ApiError;
use crate::pipeline::{self, Pipeline};
use crate::repo::deliveries;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use utoipa::{IntoParams, ToSchema};

fn forbidden(detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "forbidden", detail)
}

/// The form Twilio posts (the fields Ringhook reads; Twilio sends more, and every field it
/// sends is part of the signature).
#[derive(ToSchema)]
#[allow(non_snake_case, dead_code)]
pub struct StatusCallback {
    #[schema(example = "SM5ac8a2b6f0b74c4a9f0d1e2c3b4a5968")]
    MessageSid: String,
    /// queued, sending, sent, delivered, undelivered, failed, …
    #[schema(example = "delivered")]
    MessageStatus: String,
    AccountSid: Option<String>,
    /// Set when the message failed or was undelivered.
    ErrorCode: Option<String>,
}

/// The StatusCallback URL Ringhook gave Twilio when it sent the message, unchanged.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct CallbackQuery {
    #[param(min_length = 1)]
    tenant: String,
    /// The SMS sender whose auth token signs the callback.
    #[param(min_length = 1)]
    sender: String,
    #[param(min_length = 1)]
    delivery: String,
    #[param(minimum = 1)]
    attempt: u32,
}

#[utoipa::path(post, path = "/v1/twilio/status", tag = "twilio", operation_id = "twilio_status_callback",
    params(CallbackQuery),
    request_body(content = StatusCallback, content_type = "application/x-www-form-urlencoded"),
    security(("twilioSignature" = [])),
    responses((status = 204, description = "Recorded on the delivery's attempt"),
        (status = 403, description = "The signature does not match (or names no SMS sender)", body = Error),
        (status = 404, description = "No such delivery attempt, or not the message it sent", body = Error)))]
pub async fn status(
    State(app): State<Pipeline>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let body = body.map_err(body_rejection)?;
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !content_type.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported media type",
            "Content-Type: Twilio status callbacks are application/x-www-form-urlencoded",
        ));
    }
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()).into_owned().collect();
    let q = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty());
    let missing = |name: &str| {
        ApiError::bad_request(
            "invalid query",
            format!("{name}: required; use the StatusCallback URL Ringhook gave Twilio, unchanged"),
        )
    };
    let tenant = q("tenant").ok_or_else(|| missing("tenant"))?;
    let sender_id = q("sender").ok_or_else(|| missing("sender"))?;
    let delivery_id = q("delivery").ok_or_else(|| missing("delivery"))?;
    let attempt: u32 = q("attempt").and_then(|a| a.parse().ok()).ok_or_else(|| missing("attempt"))?;
    let params: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();

    // Verify before anything else is revealed about what exists.
    let signature = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| forbidden("X-Twilio-Signature: required"))?;
    let Some(sender) = sms_senders::find(app.store.as_ref(), tenant, sender_id).await?.map(|s| s.value) else {
        return Err(forbidden("X-Twilio-Signature does not match"));
    };
    let (account_sid, auth_token) = (sender.account_sid, sender.auth_token);
    let path_and_query = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/v1/twilio/status");
    let full_url = format!("{}{path_and_query}", app.settings.public_url.trim_end_matches('/'));
    if !twilio::verify(&auth_token, &full_url, &params, signature) {
        return Err(forbidden("X-Twilio-Signature does not match"));
    }

    let p = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty());
    if p("AccountSid").is_some_and(|a| a != account_sid) {
        return Err(forbidden("AccountSid: not the account of this SMS sender"));
    }
    let message_sid = p("MessageSid")
        .or_else(|| p("SmsSid"))
        .ok_or_else(|| ApiError::bad_request("invalid status callback", "MessageSid: required"))?;
    let status = p("MessageStatus")
        .or_else(|| p("SmsStatus"))
        .ok_or_else(|| ApiError::bad_request("invalid status callback", "MessageStatus: required"))?;
    let Some(delivery) = deliveries::find(app.store.as_ref(), tenant, delivery_id).await?.map(|d| d.value) else {
        return Err(ApiError::not_found("delivery", delivery_id));
    };
    // The attempt must have been made, and Twilio's answer to it must name this message.
    let attempts = deliveries::attempts(app.store.as_ref(), tenant, delivery_id).await?;
    let Some(made) = attempts.iter().find(|a| a.number == attempt) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not found",
            format!("delivery {delivery_id:?} has no attempt {attempt}"),
        ));
    };
    let sent_sid = made.response.as_ref().and_then(|r| serde_json::from_str::<serde_json::Value>(&r.body).ok());
    if let Some(sid) = sent_sid.as_ref().and_then(|v| v["sid"].as_str()) {
        if sid != message_sid {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "not found",
                format!("MessageSid: {message_sid:?} is not the message this attempt sent"),
            ));
        }
    }
    let recorded = sms_status::record(
        app.store.as_ref(),
        tenant,
        delivery_id,
        attempt,
        sender_id,
        message_sid,
        status,
        p("ErrorCode").map(str::to_string),
        app.now_ms(),
    )
    .await?;
    if let Some(product) = delivery.product.as_deref().and_then(|name| app.products.named(name)) {
        let effects = product.on_sms_status(&app.app, &delivery, &recorded).await;
        // Not applied: 503, so Twilio calls again (recording is idempotent).
        if let Err(e) = async { pipeline::apply(&app.app, effects?).await }.await {
            tracing::error!(delivery = %delivery_id, error = %e, "applying an SMS status");
            return Err(ApiError::unavailable("the status could not be applied; retry later"));
        }
    }
    Ok(StatusCode::NO_CONTENT)
}
