//! `/v1/account/messaging`: the account's message settings — where each SMS webhook goes
//! (inbound, unsubscribe, bounce, delivery report, contact status, rejection), the bounce
//! threshold, "unknown messages only" and the account's opt-in keywords — and the URL to give
//! Twilio for incoming messages.

use crate::api::extract::{is_line, parse_object, JsonBody, Obj, TenantId};
use crate::app::App;
use crate::delivery::ssrf;
use crate::destinations::sms_senders;
use crate::error::ApiError;
use crate::model::format_time;
use crate::products::sms::messaging::{self, Messaging, Target, Webhooks};
use crate::repo::webhooks;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

const INVALID: &str = "invalid message settings";

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::unprocessable(INVALID, detail)
}

/// A change of the settings: the fields given change, the others keep their value.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MessagingInput {
    /// Where each webhook goes (`{"webhookId"}` or `{"url"}`); a type left out or null is not
    /// sent. Replaces all six when given.
    #[schema(value_type = Option<Webhooks>)]
    pub webhooks: Option<Obj<Webhooks>>,
    /// Bounces a contact has when the bounce webhook fires (1 to 100; default 3).
    #[schema(minimum = 1, maximum = 100, example = 3)]
    pub bounce_threshold: Option<u32>,
    /// The inbound webhook fires only for actual replies (not opt-out, opt-in or help).
    pub unknown_messages_only: Option<bool>,
    /// Words that opt a contact back in, besides START, YES and UNSTOP.
    #[schema(max_items = 20, value_type = Option<Vec<crate::api::openapi::Name>>, example = json!(["JOIN"]))]
    pub opt_in_keywords: Option<Vec<String>>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub inbound_urls: Option<serde::de::IgnoredAny>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub updated_at: Option<serde::de::IgnoredAny>,
}

/// What to give Twilio as the "A message comes in" webhook of a number of this SMS sender.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InboundUrl {
    pub sms_sender_id: String,
    #[schema(example = "https://ringhook.example.com/v1/twilio/inbound?tenant=ten_1&sender=sms_1")]
    pub url: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessagingView {
    pub webhooks: Webhooks,
    pub bounce_threshold: u32,
    pub unknown_messages_only: bool,
    pub opt_in_keywords: Vec<String>,
    /// One per SMS sender: the URL Twilio posts incoming messages to (signed with that
    /// account's auth token).
    pub inbound_urls: Vec<InboundUrl>,
    /// Null until the settings were first changed.
    #[schema(format = DateTime)]
    pub updated_at: Option<String>,
}

/// The inbound URL of one sender.
pub fn inbound_url(public_url: &str, tenant: &str, sender: &str) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("tenant", tenant)
        .append_pair("sender", sender)
        .finish();
    format!("{}/v1/twilio/inbound?{query}", public_url.trim_end_matches('/'))
}

async fn view(app: &App, tenant: &str, m: Messaging) -> Result<MessagingView, ApiError> {
    let senders = sms_senders::list(app.store.as_ref(), tenant).await?;
    Ok(MessagingView {
        webhooks: m.webhooks,
        bounce_threshold: m.bounce_threshold,
        unknown_messages_only: m.unknown_messages_only,
        opt_in_keywords: m.opt_in_keywords,
        inbound_urls: senders
            .iter()
            .map(|s| InboundUrl {
                sms_sender_id: s.id.clone(),
                url: inbound_url(&app.settings.public_url, tenant, &s.id),
            })
            .collect(),
        updated_at: (!m.updated_at.is_empty()).then_some(m.updated_at),
    })
}

#[utoipa::path(get, path = "/v1/account/messaging", tag = "sms", operation_id = "get_messaging",
    responses((status = 200, description = "The message settings (defaults until changed)", body = MessagingView)))]
pub async fn get_one(State(app): State<Arc<App>>, TenantId(tenant): TenantId) -> Result<Json<MessagingView>, ApiError> {
    let m = messaging::settings(app.store.as_ref(), &tenant).await?.value;
    Ok(Json(view(&app, &tenant, m).await?))
}

#[utoipa::path(put, path = "/v1/account/messaging", tag = "sms", operation_id = "replace_messaging",
    request_body = MessagingInput,
    responses((status = 200, description = "The settings after the change", body = MessagingView),
        (status = 409, description = "Changed concurrently; read it again", body = crate::api::openapi::Error)))]
pub async fn replace(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    JsonBody(body): JsonBody,
) -> Result<Json<MessagingView>, ApiError> {
    let input: MessagingInput = parse_object(body, INVALID, "the message settings")?;
    let st = app.store.as_ref();
    let cur = messaging::settings(st, &tenant).await?;
    let mut m = cur.value;
    if let Some(Obj(w)) = input.webhooks {
        for (name, target) in w.all() {
            match target {
                Target::Webhook { webhook_id } => {
                    if webhooks::find(st, &tenant, webhook_id).await?.is_none() {
                        return Err(invalid(format!("webhooks.{name}.webhookId: no webhook with id {webhook_id:?}")));
                    }
                }
                Target::Url { url } => {
                    ssrf::check_url_at_creation(url, &app.settings.destinations)
                        .map_err(|e| invalid(format!("webhooks.{name}.url: {e}")))?;
                }
            }
        }
        m.webhooks = w;
    }
    if let Some(t) = input.bounce_threshold {
        if !(1..=100).contains(&t) {
            return Err(invalid("bounceThreshold: 1 to 100"));
        }
        m.bounce_threshold = t;
    }
    if let Some(u) = input.unknown_messages_only {
        m.unknown_messages_only = u;
    }
    if let Some(k) = input.opt_in_keywords {
        if k.len() > 20 || !k.iter().all(|w| is_line(w, 200)) {
            return Err(invalid("optInKeywords: at most 20 words of 1 to 200 characters"));
        }
        m.opt_in_keywords = k.iter().map(|w| w.trim().to_string()).collect();
    }
    m.updated_at = format_time(app.now_ms());
    messaging::put_settings(st, &tenant, &m, cur.version).await?;
    Ok(Json(view(&app, &tenant, m).await?))
}
