//! `/v1/account`: the account's SMS settings — `notifyOnDelivery`, the default webhook, the time
//! zone times are shown in, SMS pricing, the account's number and the Twilio sender flows use.

use crate::api::extract::{parse_object, JsonBody, Obj, TenantId};
use crate::api::v1::sms_senders::{self as senders_api, SmsSenderView};
use crate::app::App;
use crate::destinations::sms_senders;
use crate::error::ApiError;
use crate::model::format_time;
use crate::products::sms::local_time::Zone;
use crate::products::sms::model::{Account, Pricing};
use crate::products::sms::store;
use crate::repo::webhooks;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use utoipa::ToSchema;

const INVALID: &str = "invalid account settings";

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::unprocessable(INVALID, detail)
}

/// A change of the settings: the fields given change, the others keep their value; `null`
/// clears `accountId`, `defaultWebhookId` and `smsSenderId`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AccountInput {
    /// The account's number in your own systems (the seed's `accountID`).
    #[schema(value_type = Option<u64>, nullable, minimum = 0, example = 28)]
    #[serde(default, deserialize_with = "crate::api::extract::present")]
    pub account_id: Option<Value>,
    /// An IANA time zone (`Asia/Kolkata`) or a fixed offset (`+05:30`, `UTC`).
    #[schema(example = "Asia/Kolkata", min_length = 1, max_length = 64)]
    pub time_zone: Option<String>,
    /// Webhook #2 (the SMS's delivery status) to the default webhook.
    pub notify_on_delivery: Option<bool>,
    /// The default webhook (a webhook of `/v1/webhooks`): where flow webhooks go.
    #[schema(value_type = Option<String>, nullable, example = "wh_01hx5v3k9a7m2n4p6q8r0s2t4v")]
    #[serde(default, deserialize_with = "crate::api::extract::present")]
    pub default_webhook_id: Option<Value>,
    /// The Twilio account flows send through (an SMS sender of `/v1/sms-senders`: Account SID
    /// and write-only auth token).
    #[schema(value_type = Option<String>, nullable, example = "sms_01hx5v3k9a7m2n4p6q8r0s2t4v")]
    #[serde(default, deserialize_with = "crate::api::extract::present")]
    pub sms_sender_id: Option<Value>,
    #[schema(value_type = Option<Pricing>)]
    pub sms_pricing: Option<Obj<Pricing>>,
    /// The Twilio account given inline (`accountSid`, write-only `authToken`, `from`): creates an
    /// SMS sender, or changes the one `smsSenderId` names (a masked or left-out token keeps the
    /// stored one for the same Account SID), and flows send through it.
    #[schema(value_type = Option<crate::api::v1::sms_senders::SmsSenderInput>)]
    pub twilio: Option<serde_json::Map<String, Value>>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub sms_sender: Option<serde::de::IgnoredAny>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub updated_at: Option<serde::de::IgnoredAny>,
}

/// The account's SMS settings as the API shows them.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountView {
    pub account_id: Option<u64>,
    #[schema(example = "Asia/Kolkata")]
    pub time_zone: String,
    pub notify_on_delivery: bool,
    pub default_webhook_id: Option<String>,
    pub sms_sender_id: Option<String>,
    /// The SMS sender named by `smsSenderId` (its auth token masked).
    pub sms_sender: Option<SmsSenderView>,
    pub sms_pricing: Pricing,
    /// Null until the settings were first changed.
    #[schema(format = DateTime)]
    pub updated_at: Option<String>,
}

async fn view(app: &App, tenant: &str, a: &Account) -> Result<AccountView, ApiError> {
    let sender = match &a.sms_sender_id {
        Some(id) => sms_senders::find(app.store.as_ref(), tenant, id).await?.map(|s| SmsSenderView::from(&s.value)),
        None => None,
    };
    Ok(AccountView {
        account_id: a.account_id,
        time_zone: a.time_zone.clone(),
        notify_on_delivery: a.notify_on_delivery,
        default_webhook_id: a.default_webhook_id.clone(),
        sms_sender_id: a.sms_sender_id.clone(),
        sms_sender: sender,
        sms_pricing: a.sms_pricing.clone(),
        updated_at: (!a.updated_at.is_empty()).then(|| a.updated_at.clone()),
    })
}

#[utoipa::path(get, path = "/v1/account", tag = "sms", operation_id = "get_account",
    responses((status = 200, description = "The account's SMS settings (defaults until changed)", body = AccountView)))]
pub async fn get_one(State(app): State<Arc<App>>, TenantId(tenant): TenantId) -> Result<Json<AccountView>, ApiError> {
    let a = store::account(app.store.as_ref(), &tenant).await?.value;
    Ok(Json(view(&app, &tenant, &a).await?))
}

/// An id field: absent keeps, null clears, a non-empty string sets.
fn id_field(name: &str, v: Option<Value>, cur: Option<String>) -> Result<Option<String>, ApiError> {
    match v {
        None => Ok(cur),
        Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if crate::api::extract::is_line(&s, 200) => Ok(Some(s.trim().to_string())),
        Some(_) => Err(invalid(format!("{name}: must be an id (a non-empty string) or null"))),
    }
}

#[utoipa::path(put, path = "/v1/account", tag = "sms", operation_id = "replace_account",
    request_body = AccountInput,
    responses((status = 200, description = "The settings after the change", body = AccountView),
        (status = 409, description = "Changed concurrently; read it again", body = crate::api::openapi::Error)))]
pub async fn replace(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    JsonBody(body): JsonBody,
) -> Result<Json<AccountView>, ApiError> {
    let input: AccountInput = parse_object(body, INVALID, "the account settings")?;
    let st = app.store.as_ref();
    let cur = store::account(st, &tenant).await?;
    let mut a = cur.value;
    a.account_id = match input.account_id {
        None => a.account_id,
        Some(Value::Null) => None,
        Some(v) => Some(v.as_u64().ok_or_else(|| invalid("accountId: must be a whole number (0 or more) or null"))?),
    };
    if let Some(tz) = input.time_zone {
        a.time_zone = Zone::parse(tz.trim()).map_err(|e| invalid(format!("timeZone: {e}")))?.name().to_string();
    }
    if let Some(n) = input.notify_on_delivery {
        a.notify_on_delivery = n;
    }
    a.default_webhook_id = id_field("defaultWebhookId", input.default_webhook_id, a.default_webhook_id)?;
    if let Some(id) = &a.default_webhook_id {
        if webhooks::find(st, &tenant, id).await?.is_none() {
            return Err(invalid(format!("defaultWebhookId: no webhook with id {id:?}")));
        }
    }
    let input_names_sender = input.sms_sender_id.is_some();
    a.sms_sender_id = id_field("smsSenderId", input.sms_sender_id, a.sms_sender_id)?;
    if let Some(id) = &a.sms_sender_id {
        if sms_senders::find(st, &tenant, id).await?.is_none() {
            return Err(invalid(format!("smsSenderId: no SMS sender with id {id:?}")));
        }
    }
    if let Some(fields) = input.twilio {
        if input_names_sender {
            return Err(invalid("twilio: give smsSenderId or twilio, not both"));
        }
        let current = match &a.sms_sender_id {
            Some(id) => sms_senders::find(st, &tenant, id).await?,
            None => None,
        };
        let sender = senders_api::from_fields(&app, &fields, "Account", current.as_ref().map(|c| &c.value))
            .map_err(|e| invalid(format!("twilio.{}", e.detail)))?;
        sms_senders::put(st, &tenant, &sender, current.map(|c| c.version)).await?;
        a.sms_sender_id = Some(sender.id);
    }
    if let Some(Obj(p)) = input.sms_pricing {
        check_pricing(&p)?;
        a.sms_pricing = p;
    }
    a.updated_at = format_time(app.now_ms());
    store::put_account(st, &tenant, &a, cur.version).await?;
    Ok(Json(view(&app, &tenant, &a).await?))
}

fn check_pricing(p: &Pricing) -> Result<(), ApiError> {
    if !p.amount_per_unit.is_finite() || p.amount_per_unit < 0.0 || p.amount_per_unit > 1e9 {
        return Err(invalid("smsPricing.amountPerUnit: must be a price, 0 or more"));
    }
    for (name, v, max) in [
        ("currencyName", &p.currency_name, 200),
        ("serviceCategory", &p.service_category, 200),
        ("serviceChargeType", &p.service_charge_type, 200),
    ] {
        if !crate::api::extract::is_line(v, max) {
            return Err(invalid(format!("smsPricing.{name}: 1 to {max} characters, not blank")));
        }
    }
    Ok(())
}
