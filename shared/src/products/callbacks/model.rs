//! The callback-notification domain: call targets, connections (notification kind → destination),
//! callbacks and their reminders.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// The kinds of notification, one per connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    Confirmation,
    /// The scheduled-callback reminder.
    Reminder,
    AsapReminder,
    FinalAttempt,
    Success,
    ChoseMessaging,
}

impl NotificationKind {
    pub const ALL: [NotificationKind; 6] = [
        NotificationKind::Confirmation,
        NotificationKind::Reminder,
        NotificationKind::AsapReminder,
        NotificationKind::FinalAttempt,
        NotificationKind::Success,
        NotificationKind::ChoseMessaging,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            NotificationKind::Confirmation => "confirmation",
            NotificationKind::Reminder => "reminder",
            NotificationKind::AsapReminder => "asap_reminder",
            NotificationKind::FinalAttempt => "final_attempt",
            NotificationKind::Success => "success",
            NotificationKind::ChoseMessaging => "chose_messaging",
        }
    }

    /// Accepts the canonical names and the seed's spellings ("final attempt", "Chose Messaging",
    /// "asap-reminder", ...).
    pub fn parse(s: &str) -> Option<Self> {
        let norm: String =
            s.trim().chars().map(|c| if c == ' ' || c == '-' { '_' } else { c.to_ascii_lowercase() }).collect();
        Self::ALL.into_iter().find(|k| k.as_str() == norm)
    }

    /// `data.notification.type` of the webhook envelope. The ASAP reminder is a reminder too.
    pub fn envelope_type(&self) -> &'static str {
        match self {
            NotificationKind::Confirmation => "confirmation",
            NotificationKind::Reminder | NotificationKind::AsapReminder => "reminder",
            NotificationKind::FinalAttempt => "final attempt",
            NotificationKind::Success => "success",
            NotificationKind::ChoseMessaging => "chose messaging",
        }
    }

    /// `data.event` of the webhook envelope.
    pub fn envelope_event(&self) -> &'static str {
        match self {
            NotificationKind::Confirmation => "Confirmation Notification",
            NotificationKind::Reminder | NotificationKind::AsapReminder => "Reminder Notification",
            NotificationKind::FinalAttempt => "Final Attempt Notification",
            NotificationKind::Success => "Success Notification",
            NotificationKind::ChoseMessaging => "Chose Messaging Notification",
        }
    }

    /// A connection's name when none is given (it becomes `data.webhookName`).
    pub fn default_name(&self) -> &'static str {
        match self {
            NotificationKind::Confirmation => "External Notification - Confirmation",
            NotificationKind::Reminder => "External Notification - Reminder",
            NotificationKind::AsapReminder => "External Notification - ASAP Reminder",
            NotificationKind::FinalAttempt => "External Notification - Final Attempt",
            NotificationKind::Success => "External Notification - Success",
            NotificationKind::ChoseMessaging => "External Notification - Chose Messaging",
        }
    }

    /// The seed: "before a confirmation or any reminder is sent, check the callback is still
    /// pending".
    pub fn needs_pending_callback(&self) -> bool {
        matches!(self, NotificationKind::Confirmation | NotificationKind::Reminder | NotificationKind::AsapReminder)
    }

    pub fn is_reminder(&self) -> bool {
        matches!(self, NotificationKind::Reminder | NotificationKind::AsapReminder)
    }
}

impl std::fmt::Display for NotificationKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A call target's message texts, one per kind (the ASAP reminder's text is the metadata item
/// `asap_reminder_notification_text`, as the seed says).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Messages {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminder: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_attempt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chose_messaging: Option<String>,
}

impl Messages {
    /// The JSON keys, in the order the API documents them.
    pub const KEYS: [&'static str; 5] = ["confirmation", "reminder", "finalAttempt", "success", "choseMessaging"];

    pub fn slot_mut(&mut self, key: &str) -> Option<&mut Option<String>> {
        Some(match key {
            "confirmation" => &mut self.confirmation,
            "reminder" => &mut self.reminder,
            "finalAttempt" => &mut self.final_attempt,
            "success" => &mut self.success,
            "choseMessaging" => &mut self.chose_messaging,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MetadataItem {
    pub key: String,
    pub value: String,
    #[serde(rename = "type")]
    pub item_type: String,
}

pub const ASAP_ENABLED_KEY: &str = "asap_reminder_notification_enabled";
pub const ASAP_TEXT_KEY: &str = "asap_reminder_notification_text";

/// Who is calling back: name, the From number (`handle`), the message texts and metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallTarget {
    pub id: String,
    pub name: String,
    /// The From number of SMS and the `fromAddress` of webhooks.
    pub handle: String,
    pub messages: Messages,
    /// Custom dynamic text replacements: `{name}` in a message becomes the value.
    pub replacements: BTreeMap<String, String>,
    pub metadata: Vec<MetadataItem>,
    pub created_at: String,
    pub updated_at: String,
}

impl CallTarget {
    pub fn metadata_value(&self, key: &str) -> Option<&str> {
        self.metadata.iter().find(|m| m.key == key).map(|m| m.value.as_str())
    }

    /// The seed: metadata `asap_reminder_notification_enabled` = `true`.
    pub fn asap_reminder_enabled(&self) -> bool {
        self.metadata_value(ASAP_ENABLED_KEY).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    }

    /// The message text for `kind`, if the call target has one.
    pub fn text_for(&self, kind: NotificationKind) -> Option<&str> {
        let t = match kind {
            NotificationKind::Confirmation => self.messages.confirmation.as_deref(),
            NotificationKind::Reminder => self.messages.reminder.as_deref(),
            NotificationKind::AsapReminder => self.metadata_value(ASAP_TEXT_KEY),
            NotificationKind::FinalAttempt => self.messages.final_attempt.as_deref(),
            NotificationKind::Success => self.messages.success.as_deref(),
            NotificationKind::ChoseMessaging => self.messages.chose_messaging.as_deref(),
        };
        t.filter(|t| !t.trim().is_empty())
    }
}

/// Where a connection sends: one of the tenant's destinations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "channel", rename_all = "lowercase")]
pub enum Channel {
    /// An HTTP destination (`/v1/webhooks`): the seed's webhook variants, no auth or Basic.
    Webhook {
        #[serde(rename = "webhookId")]
        webhook_id: String,
    },
    /// An SMS sender (`/v1/sms-senders`): the tenant's own Twilio account.
    Twilio {
        #[serde(rename = "smsSenderId")]
        sender_id: String,
    },
}

/// One notification kind sent to one destination.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    pub id: String,
    /// `data.webhookName` of the envelope.
    pub name: String,
    pub kind: NotificationKind,
    pub enabled: bool,
    #[serde(flatten)]
    pub channel: Channel,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallbackType {
    Asap,
    Scheduled,
}

impl CallbackType {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "asap" => Some(CallbackType::Asap),
            "scheduled" => Some(CallbackType::Scheduled),
            _ => None,
        }
    }
}

/// A callback's outcome when it is finalized (the seed's five).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum Outcome {
    Success,
    Abandoned,
    Failure,
    Unavailable,
    Unknown,
}

impl Outcome {
    pub const ALL: [Outcome; 5] =
        [Outcome::Success, Outcome::Abandoned, Outcome::Failure, Outcome::Unavailable, Outcome::Unknown];

    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Success => "Success",
            Outcome::Abandoned => "Abandoned",
            Outcome::Failure => "Failure",
            Outcome::Unavailable => "Unavailable",
            Outcome::Unknown => "Unknown",
        }
    }

    /// Case-insensitive.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallbackState {
    /// Registered and waiting to be made: the only state in which confirmations and reminders
    /// are sent.
    Pending,
    /// The callback call is being made.
    InProgress,
    Cancelled,
    /// The customer chose a message instead of the callback.
    ChoseMessaging,
    Finalized,
}

impl CallbackState {
    pub fn as_str(&self) -> &'static str {
        match self {
            CallbackState::Pending => "pending",
            CallbackState::InProgress => "in_progress",
            CallbackState::Cancelled => "cancelled",
            CallbackState::ChoseMessaging => "chose_messaging",
            CallbackState::Finalized => "finalized",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StateChange {
    pub state: CallbackState,
    #[schema(format = DateTime)]
    pub at: String,
    pub event_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What Ringhook knows about one callback, built from its events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Callback {
    pub callback_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_target_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_number: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub callback_type: Option<CallbackType>,
    /// The scheduled time (scheduled) or the expected callback time (ASAP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_at_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_at_ms: Option<i64>,
    #[serde(default)]
    pub metadata: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    pub state: CallbackState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// The `callback.registered` event this callback came from (none when an event about it
    /// arrived before its registration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_event_id: Option<String>,
    pub history: Vec<StateChange>,
    pub created_at: String,
    pub updated_at: String,
}

impl Callback {
    pub fn new(callback_id: &str, state: CallbackState, now: &str) -> Self {
        Self {
            callback_id: callback_id.to_string(),
            call_target_id: None,
            customer_number: None,
            callback_type: None,
            callback_at_ms: None,
            registered_at_ms: None,
            metadata: Map::new(),
            client_name: None,
            state,
            outcome: None,
            registered_event_id: None,
            history: Vec::new(),
            created_at: now.to_string(),
            updated_at: now.to_string(),
        }
    }

    /// Whether `event_id` already changed this callback's state.
    pub fn applied(&self, event_id: &str) -> bool {
        self.history.iter().any(|h| h.event_id == event_id)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReminderStatus {
    /// In the due-time index at its due time.
    Scheduled,
    /// Claimed by a scheduler run (in the index again at the end of the claim's lease, in case
    /// that run dies before it finishes).
    Firing,
    Sent,
    /// Not sent: the callback left the pending state (or the reminder came too late).
    Dropped,
}

/// A reminder waiting for its time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reminder {
    pub tenant_id: String,
    pub callback_id: String,
    pub kind: NotificationKind,
    pub due_at_ms: i64,
    /// The scheduled / expected callback time the reminder is about.
    pub callback_at_ms: i64,
    /// The registration event (deliveries are filed under it).
    pub event_id: String,
    pub status: ReminderStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Deliveries created when it fired.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delivery_ids: Vec<String>,
    pub updated_at: String,
}
