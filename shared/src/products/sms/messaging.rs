//! The account's message settings (the SMS-webhooks seed): one destination per webhook type —
//! inbound, unsubscribe, bounce, delivery report, contact status, rejection — the bounce
//! threshold, the "unknown messages only" switch and the account's own opt-in keywords; and the
//! webhooks themselves, in the seed's bodies, as ordinary deliveries.

use super::model::Contact;
use super::SendContext;
use crate::app::App;
use crate::delivery::retry::RetryPolicy;
use crate::error::PipelineError;
use crate::model::{delivery_id, format_time_ms, Delivery, DeliveryTarget, Event};
use crate::ports::{ItemStore, StoreError};
use crate::repo::{get, keys, put_next, webhooks, Versioned};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;

/// Where one webhook type goes: a webhook of `/v1/webhooks` (its method, headers, auth, retry
/// policy and secret), or a URL (POST JSON, signed with the account's signing secret, the
/// default retry policy).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged, deny_unknown_fields)]
pub enum Target {
    Webhook {
        #[serde(rename = "webhookId")]
        #[schema(value_type = crate::api::openapi::RequiredText)]
        webhook_id: String,
    },
    Url {
        #[schema(example = "https://crm.example.com/sms/inbound", min_length = 1, max_length = 2048)]
        url: String,
    },
}

/// One destination per webhook type; none: that webhook is not sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Webhooks {
    /// Every inbound message (or only actual replies: `unknownMessagesOnly`).
    #[serde(default)]
    pub inbound: Option<Target>,
    /// A contact unsubscribed (an opt-out keyword).
    #[serde(default)]
    pub unsubscribe: Option<Target>,
    /// A contact's bounces reached the threshold.
    #[serde(default)]
    pub bounce: Option<Target>,
    /// Every message of a send reached a final status (or 24 hours passed).
    #[serde(default)]
    pub delivery_report: Option<Target>,
    /// A carrier changed a contact's status.
    #[serde(default)]
    pub contact_status: Option<Target>,
    /// Twilio refused a message, or it ended `failed`.
    #[serde(default)]
    pub rejection: Option<Target>,
}

/// The webhook types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Inbound,
    Unsubscribe,
    Bounce,
    DeliveryReport,
    ContactStatus,
    Rejection,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Inbound => "inbound",
            Kind::Unsubscribe => "unsubscribe",
            Kind::Bounce => "bounce",
            Kind::DeliveryReport => "delivery_report",
            Kind::ContactStatus => "contact_status",
            Kind::Rejection => "rejection",
        }
    }
}

impl Webhooks {
    pub fn of(&self, kind: Kind) -> Option<&Target> {
        match kind {
            Kind::Inbound => self.inbound.as_ref(),
            Kind::Unsubscribe => self.unsubscribe.as_ref(),
            Kind::Bounce => self.bounce.as_ref(),
            Kind::DeliveryReport => self.delivery_report.as_ref(),
            Kind::ContactStatus => self.contact_status.as_ref(),
            Kind::Rejection => self.rejection.as_ref(),
        }
    }

    pub fn all(&self) -> impl Iterator<Item = (&'static str, &Target)> {
        [
            ("inbound", &self.inbound),
            ("unsubscribe", &self.unsubscribe),
            ("bounce", &self.bounce),
            ("deliveryReport", &self.delivery_report),
            ("contactStatus", &self.contact_status),
            ("rejection", &self.rejection),
        ]
        .into_iter()
        .filter_map(|(n, t)| t.as_ref().map(|t| (n, t)))
    }
}

/// Bounces a contact has before the bounce webhook fires, unless the account says otherwise.
pub const DEFAULT_BOUNCE_THRESHOLD: u32 = 3;

/// The account's message settings (`/v1/account/messaging`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Messaging {
    #[serde(default)]
    pub webhooks: Webhooks,
    pub bounce_threshold: u32,
    /// The inbound webhook fires only for actual replies, not for opt-out, opt-in or help.
    pub unknown_messages_only: bool,
    /// Keywords that opt a contact back in besides START, YES and UNSTOP.
    #[serde(default)]
    pub opt_in_keywords: Vec<String>,
    pub updated_at: String,
}

impl Default for Messaging {
    fn default() -> Self {
        Messaging {
            webhooks: Webhooks::default(),
            bounce_threshold: DEFAULT_BOUNCE_THRESHOLD,
            unknown_messages_only: false,
            opt_in_keywords: vec![],
            updated_at: String::new(),
        }
    }
}

pub async fn settings(store: &dyn ItemStore, tenant: &str) -> Result<Versioned<Messaging>, StoreError> {
    let (pk, _) = keys::sms_account(tenant);
    Ok(get(store, &pk, keys::MESSAGING_SK).await?.unwrap_or(Versioned {
        value: Messaging::default(),
        version: 0,
        due_at: None,
    }))
}

/// `read_version` 0: not stored yet.
pub async fn put_settings(
    store: &dyn ItemStore,
    tenant: &str,
    m: &Messaging,
    read_version: u64,
) -> Result<(), StoreError> {
    let (pk, _) = keys::sms_account(tenant);
    put_next(store, crate::repo::encode(pk, keys::MESSAGING_SK, m), (read_version > 0).then_some(read_version)).await
}

/// The webhook of type `kind` about `cause` (its id is fixed by the tenant, the kind and the
/// cause, so the same cause twice is one delivery), if the account has a destination for it.
/// `at_ms` files it in the delivery log (the cause's time, so the id is stable).
pub async fn webhook(
    app: &App,
    tenant: &str,
    settings: &Messaging,
    kind: Kind,
    cause: &str,
    at_ms: i64,
    body: Value,
) -> Result<Option<Delivery>, PipelineError> {
    let Some(target) = settings.webhooks.of(kind) else { return Ok(None) };
    let event = Event {
        id: format!("{}:{cause}", kind.as_str()),
        tenant_id: tenant.to_string(),
        event_type: format!("sms.{}", kind.as_str()),
        payload: Value::Null.into(),
        time: format_time_ms(at_ms),
        received_at_ms: at_ms,
        arrival: String::new(),
    };
    let id = delivery_id(&event, "messaging", 0);
    let now = app.now_ms();
    let (target, policy, webhook_id) = match target {
        Target::Url { url } => (DeliveryTarget::Url { url: url.clone() }, RetryPolicy::default(), None),
        Target::Webhook { webhook_id } => {
            let policy = webhooks::find(app.store.as_ref(), tenant, webhook_id)
                .await?
                .map_or(RetryPolicy::default(), |w| w.value.retry_policy);
            (DeliveryTarget::Webhook { webhook_id: webhook_id.clone() }, policy, Some(webhook_id.clone()))
        }
    };
    let mut d = Delivery::new(&event, id, target, body, policy, now);
    d.webhook_id = webhook_id;
    d.product = Some(super::NAME.to_string());
    d.context = Some(json!(SendContext::Messaging { webhook: kind.as_str().to_string() }));
    Ok(Some(d))
}

// --- the seed's bodies ---

fn contact_head(c: &Contact) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("id".into(), json!(c.id));
    m.insert("first_name".into(), json!(c.first_name));
    m.insert("last_name".into(), json!(c.last_name));
    m.insert("email".into(), json!(c.email));
    m
}

/// Inbound Messages: the contact, our number (`short_code`), the message and when it came.
pub fn inbound_body(c: &Contact, our_number: &str, message: &str, received_ms: i64) -> Value {
    let mut m = contact_head(c);
    m.insert("short_code".into(), json!(our_number));
    m.insert("phone_number".into(), json!(c.phone_number));
    m.insert("message".into(), json!(message));
    m.insert("unsubscribed_at".into(), json!(c.unsubscribed_at));
    m.insert("created_at".into(), json!(c.created_at));
    m.insert("updated_at".into(), json!(c.updated_at));
    m.insert("received_at".into(), json!(format_time_ms(received_ms)));
    Value::Object(m)
}

/// Unsubscribe Messages: the contact and the number it unsubscribed from (`to`).
pub fn unsubscribe_body(c: &Contact, our_number: &str) -> Value {
    let mut m = contact_head(c);
    m.insert("phone_number".into(), json!(c.phone_number));
    m.insert("to".into(), json!(our_number));
    m.insert("unsubscribed_at".into(), json!(c.unsubscribed_at));
    m.insert("created_at".into(), json!(c.created_at));
    m.insert("updated_at".into(), json!(c.updated_at));
    Value::Object(m)
}

/// Contact Status: the contact with its new status.
pub fn contact_status_body(c: &Contact) -> Value {
    let mut m = contact_head(c);
    m.insert("phone_number".into(), json!(c.phone_number));
    m.insert("status".into(), json!(c.status));
    m.insert("created_at".into(), json!(c.created_at));
    m.insert("updated_at".into(), json!(c.updated_at));
    Value::Object(m)
}

/// Bounced Message: the contact and its bounce count.
pub fn bounce_body(c: &Contact) -> Value {
    let mut m = contact_head(c);
    m.insert("phone_number".into(), json!(c.phone_number));
    m.insert("unsubscribed_at".into(), json!(c.unsubscribed_at));
    m.insert("bounces".into(), json!(c.bounces));
    m.insert("created_at".into(), json!(c.created_at));
    m.insert("updated_at".into(), json!(c.updated_at));
    Value::Object(m)
}

/// Rejection Message: Twilio's error code, its short message, and what it means.
pub fn rejection_body(code: &str, message: &str) -> Value {
    json!({"code": code, "message": message, "description": describe(code)})
}

/// What a Twilio error code means, for the rejection webhook's `description`.
pub fn describe(code: &str) -> &'static str {
    match code {
        "21211" => "The 'To' number is not a valid phone number. Check it is in E.164 format (+ and the country code).",
        "21408" => "Your Twilio account is not permitted to send to this region. Enable it in the Geo Permissions.",
        "21610" => "The recipient replied STOP and is unsubscribed. They must reply START to receive messages again.",
        "21612" => "Twilio cannot route a message from this From number to this To number.",
        "21614" => "The 'To' number is not a mobile number and cannot receive SMS.",
        "21617" => "The message body exceeds the 1600 character limit.",
        "30001" => "Twilio's queue for this number overflowed. Send fewer messages at a time.",
        "30002" => "The Twilio account is suspended.",
        "30003" => "The handset is unreachable (switched off or out of coverage); it counts as a bounce.",
        "30004" => "The message was blocked by the carrier or the recipient.",
        "30005" => "The number is unknown or no longer in service; it counts as a bounce.",
        "30006" => "The number is a landline or its carrier is unreachable; it counts as a bounce.",
        "30007" => "The carrier filtered the message as spam or against its rules.",
        "30008" => "The carrier reported an unknown error delivering the message.",
        _ => "Twilio refused or could not deliver the message; see Twilio's error reference for this code.",
    }
}

/// Carrier errors that mean the handset or number is unreachable: each counts as a bounce.
pub const BOUNCE_CODES: [&str; 3] = ["30003", "30005", "30006"];
