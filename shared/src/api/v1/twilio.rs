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

/// A request from Twilio: its query (the URL Ringhook gave Twilio) and its form parameters.
struct Form {
    query: Vec<(String, String)>,
    params: Vec<(String, String)>,
    /// The full URL Twilio called, as this deployment's public URL says it.
    url: String,
    /// What the URL is called in Twilio's words (`StatusCallback`, the number's webhook).
    what: &'static str,
}

impl Form {
    fn read(uri: &Uri, headers: &HeaderMap, body: &[u8], what: &'static str) -> Result<Form, ApiError> {
        let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
        if !content_type.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded") {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported media type",
                "Content-Type: Twilio's requests are application/x-www-form-urlencoded",
            ));
        }
        let query = url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()).into_owned().collect();
        let params = url::form_urlencoded::parse(body).into_owned().collect();
        let path_and_query = uri.path_and_query().map(|p| p.as_str()).unwrap_or(uri.path());
        Ok(Form { query, params, url: path_and_query.to_string(), what })
    }

    fn query(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }

    fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }

    fn missing(&self, name: &str) -> ApiError {
        ApiError::bad_request(
            "invalid query",
            format!("{name}: required; use the {} URL Ringhook gave, unchanged", self.what),
        )
    }

    /// Checks `X-Twilio-Signature` with the auth token of the SMS sender the query names: over
    /// the exact URL Twilio called and every parameter it posted. Returns the tenant and sender.
    /// Nothing else is looked at, or revealed, before this passes.
    async fn verify(&self, app: &Pipeline, headers: &HeaderMap) -> Result<(&str, &str), ApiError> {
        let tenant = self.query("tenant").ok_or_else(|| self.missing("tenant"))?;
        let sender_id = self.query("sender").ok_or_else(|| self.missing("sender"))?;
        let signature = headers
            .get("x-twilio-signature")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| forbidden("X-Twilio-Signature: required"))?;
        let Some(sender) = sms_senders::find(app.store.as_ref(), tenant, sender_id).await?.map(|s| s.value) else {
            return Err(forbidden("X-Twilio-Signature does not match"));
        };
        let full_url = format!("{}{}", app.settings.public_url.trim_end_matches('/'), self.url);
        if !twilio::verify(&sender.auth_token, &full_url, &self.params, signature) {
            return Err(forbidden("X-Twilio-Signature does not match"));
        }
        if self.param("AccountSid").is_some_and(|a| a != sender.account_sid) {
            return Err(forbidden("AccountSid: not the account of this SMS sender"));
        }
        Ok((tenant, sender_id))
    }
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
    let form = Form::read(&uri, &headers, &body, "StatusCallback")?;
    let missing = |name: &str| form.missing(name);
    let delivery_id = form.query("delivery").ok_or_else(|| missing("delivery"))?;
    let attempt: u32 = form.query("attempt").and_then(|a| a.parse().ok()).ok_or_else(|| missing("attempt"))?;
    let (tenant, sender_id) = form.verify(&app, &headers).await?;
    let p = |name: &str| form.param(name);
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

/// The form Twilio posts when a message comes in to a number (the fields Ringhook reads; every
/// field it sends is part of the signature).
#[derive(ToSchema)]
#[allow(non_snake_case, dead_code)]
pub struct InboundMessage {
    #[schema(example = "SM5ac8a2b6f0b74c4a9f0d1e2c3b4a5968")]
    MessageSid: String,
    AccountSid: Option<String>,
    /// The sender (the contact), E.164.
    #[schema(example = "+19999999999")]
    From: String,
    /// Your number it was sent to.
    #[schema(example = "64600")]
    To: Option<String>,
    Body: Option<String>,
    /// Set by Twilio's Advanced Opt-Out: STOP, START or HELP; wins over the text.
    OptOutType: Option<String>,
}

/// The "A message comes in" URL of a number (GET /v1/account/messaging lists one per sender).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct InboundQuery {
    #[param(min_length = 1)]
    tenant: String,
    /// The SMS sender (Twilio account) the number belongs to: its auth token signs the request.
    #[param(min_length = 1)]
    sender: String,
}

/// An empty TwiML answer: no reply is sent from here.
pub const EMPTY_TWIML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>";

#[utoipa::path(post, path = "/v1/twilio/inbound", tag = "twilio", operation_id = "twilio_inbound_message",
    params(InboundQuery),
    request_body(content = InboundMessage, content_type = "application/x-www-form-urlencoded"),
    security(("twilioSignature" = [])),
    responses((status = 200, description = "Received: an empty TwiML `<Response/>`", content_type = "text/xml", body = String),
        (status = 400, description = "No From or MessageSid", body = Error),
        (status = 403, description = "The signature does not match (or names no SMS sender)", body = Error)))]
pub async fn inbound(
    State(app): State<Pipeline>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let body = body.map_err(body_rejection)?;
    let form = Form::read(&uri, &headers, &body, "inbound message")?;
    let (tenant, _) = form.verify(&app, &headers).await?;
    for name in ["From", "MessageSid"] {
        if form.param(name).is_none() && !(name == "MessageSid" && form.param("SmsSid").is_some()) {
            return Err(ApiError::bad_request("invalid inbound message", format!("{name}: required")));
        }
    }
    for product in app.products.iter() {
        let effects = product.on_inbound_sms(&app.app, tenant, &form.params).await;
        // Not applied: 503, so Twilio may try again (the webhooks' ids are fixed by MessageSid).
        if let Err(e) = async { pipeline::apply(&app.app, effects?).await }.await {
            tracing::error!(tenant, error = %e, "applying an inbound message");
            return Err(ApiError::unavailable("the message could not be applied; retry later"));
        }
    }
    Ok(([(axum::http::header::CONTENT_TYPE, "text/xml")], EMPTY_TWIML).into_response())
}
