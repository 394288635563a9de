//! `/v1/call-targets`: who calls back — name, handle (the From number), message text per
//! notification kind with dynamic text replacements, and metadata items.

use crate::api::extract::{parse, JsonBody, Scalar, TenantId};
use crate::api::openapi::Error;
use crate::app::App;
use crate::error::ApiError;
use crate::model::format_time;
use crate::ports::StoreError;
use crate::products::callbacks::model::{CallTarget, Messages, MetadataItem, ASAP_ENABLED_KEY, ASAP_TEXT_KEY};
use crate::products::callbacks::{render, store};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use utoipa::ToSchema;

const INVALID: &str = "invalid call target";
/// Twilio's limit on a message body.
pub const MAX_TEXT_CHARS: usize = 1600;

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::unprocessable(INVALID, detail)
}

/// An id chosen by the caller (the contact center's own call target id, e.g. "6281").
pub fn valid_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// E.164 (`+` and 2 to 15 digits), a short code (3 to 8 digits), or an alphanumeric sender id
/// (letters, digits and spaces, at most 11, at least one letter).
pub fn valid_handle(s: &str) -> bool {
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if let Some(rest) = s.strip_prefix('+') {
        return (2..=15).contains(&rest.len()) && digits(rest);
    }
    if digits(s) {
        return (3..=8).contains(&s.len());
    }
    (1..=11).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' ')
        && s.bytes().any(|b| b.is_ascii_alphabetic())
}

/// A create or replace body. Strict: an unknown field or a value of the wrong type is refused
/// (422 naming it); a read's own fields (`createdAt`, `updatedAt`, `asapReminderEnabled`) may be
/// sent back and are ignored, so a read can be edited and PUT back.
// Required fields are `Option`s (documented as required) so that a missing one gets a message
// saying what it should be rather than serde's.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CallTargetInput {
    /// Your own id (the contact center's call target id): 1 to 64 letters, digits, '-', '_' or
    /// '.'. Generated when left out; on a PUT, the path's (a different one is refused).
    #[schema(example = "6281")]
    pub id: Option<CallTargetId>,
    #[schema(value_type = String, min_length = 1, max_length = 200, example = "Sales")]
    pub name: Option<String>,
    /// The From number of SMS and the `fromAddress` of webhooks: E.164, a short code (3 to 8
    /// digits) or an alphanumeric sender id (at most 11 characters).
    #[schema(value_type = FromNumber, example = "+18505554321")]
    pub handle: Option<String>,
    pub messages: Option<MessagesInput>,
    /// Custom dynamic text replacements: `{name}` in a message becomes the value. A name is a
    /// letter then letters, digits or `_`, and not a built-in placeholder.
    #[schema(example = json!({"companyName": "ABC"}))]
    pub replacements: Option<BTreeMap<String, Scalar>>,
    /// Items such as `asap_reminder_notification_enabled` (`"true"`/`"false"`) and
    /// `asap_reminder_notification_text` (the ASAP reminder's message); keys are unique.
    pub metadata: Option<Vec<MetadataInput>>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub asap_reminder_enabled: Option<IgnoredAny>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub created_at: Option<IgnoredAny>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub updated_at: Option<IgnoredAny>,
}

/// A caller-chosen id: a string of 1 to 64 letters, digits, '-', '_' or '.', or a number (kept as
/// its text).
#[derive(Deserialize, ToSchema)]
#[serde(untagged, expecting = "a string or a number")]
pub enum CallTargetId {
    #[schema(value_type = IdText)]
    Text(String),
    #[schema(value_type = f64)]
    Number(serde_json::Number),
}

impl CallTargetId {
    fn into_text(self) -> String {
        match self {
            Self::Text(s) => s,
            Self::Number(n) => n.to_string(),
        }
    }
}

/// A caller-chosen id as text.
#[derive(ToSchema)]
#[schema(pattern = "^[A-Za-z0-9._-]{1,64}$")]
#[allow(dead_code)]
pub struct IdText(String);

/// The From number, for the document: E.164, a short code, or an alphanumeric sender id (at
/// least one letter, so it cannot be read as a number).
#[allow(dead_code)]
pub struct FromNumber(String);

impl utoipa::PartialSchema for FromNumber {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AllOfBuilder, AnyOfBuilder, ObjectBuilder, Type};
        let pattern = |p: &str| ObjectBuilder::new().schema_type(Type::String).pattern(Some(p)).build();
        AnyOfBuilder::new()
            .item(pattern("^\\+[0-9]{2,15}$"))
            .item(pattern("^[0-9]{3,8}$"))
            .item(AllOfBuilder::new().item(pattern("^[A-Za-z0-9 ]{1,11}$")).item(pattern("[A-Za-z]")))
            .description(Some("E.164 (\"+18505554321\"), a short code (3 to 8 digits) or an alphanumeric sender id"))
            .into()
    }
}

impl ToSchema for FromNumber {}

/// Message text per notification kind, with `{placeholder}`s (built in, or the call target's
/// replacements); at most 1600 characters. The ASAP reminder's text is the metadata item
/// `asap_reminder_notification_text`, as the seed has it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MessagesInput {
    #[schema(example = "Hi from {callTargetName}: we will call you back at {callbackTime}.")]
    pub confirmation: Option<String>,
    pub reminder: Option<String>,
    pub final_attempt: Option<String>,
    pub success: Option<String>,
    pub chose_messaging: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MetadataInput {
    #[schema(value_type = String, min_length = 1, max_length = 200, example = "asap_reminder_notification_enabled")]
    pub key: Option<String>,
    #[schema(value_type = Scalar, example = "true")]
    pub value: Option<Scalar>,
    /// Defaults to "SIP Header".
    #[serde(rename = "type")]
    #[schema(value_type = Option<crate::api::openapi::NonBlank>)]
    pub item_type: Option<String>,
}

fn parse_input(
    body: Value,
    path_id: Option<&str>,
    existing: Option<&CallTarget>,
    now_ms: i64,
) -> Result<CallTarget, ApiError> {
    if !body.is_object() {
        return Err(invalid("the call target must be a JSON object"));
    }
    let input: CallTargetInput = parse(body, INVALID).map_err(|mut e| {
        // The kind people look for there is elsewhere: say where.
        if e.detail.starts_with("messages.") && e.detail.contains("unknown field") {
            e.detail = format!("{}; the ASAP reminder's text is the metadata item {ASAP_TEXT_KEY}", e.detail);
        }
        e
    })?;
    let id = match (input.id, path_id) {
        (None, Some(p)) => p.to_string(),
        (None, None) => format!("ct_{}", ulid::Ulid::new().to_string().to_lowercase()),
        (Some(id), p) => {
            let id = id.into_text();
            if !valid_id(&id) {
                return Err(invalid("id: 1 to 64 letters, digits, '-', '_' or '.' (a string or a number)"));
            }
            if p.is_some_and(|p| p != id) {
                return Err(invalid(format!("id: {id:?} does not match the id in the path")));
            }
            id
        }
    };
    let name = match input.name {
        Some(n) if !n.trim().is_empty() && n.len() <= 200 => n.trim().to_string(),
        _ => return Err(invalid("name: required, a non-empty string (at most 200 characters)")),
    };
    let handle = match input.handle {
        // Not trimmed: the document's pattern is the rule, exactly.
        Some(h) if valid_handle(&h) => h,
        Some(h) => {
            return Err(invalid(format!(
                "handle: {h:?} is not a From number: use E.164 (\"+18505554321\"), a short code, or an alphanumeric sender id"
            )))
        }
        None => return Err(invalid("handle: required, the From number (E.164, e.g. \"+18505554321\")")),
    };
    let mut replacements = BTreeMap::new();
    for (k, Scalar(v)) in input.replacements.unwrap_or_default() {
        if !render::is_placeholder_name(&k) {
            return Err(invalid(format!(
                "replacements.{k}: a name is a letter then letters, digits or '_' (used as {{name}})"
            )));
        }
        if render::is_built_in(&k) {
            return Err(invalid(format!("replacements.{k}: {{{k}}} is built in and cannot be replaced")));
        }
        replacements.insert(k, v);
    }
    let check = |field: String, text: &str| -> Result<(), ApiError> {
        if text.chars().count() > MAX_TEXT_CHARS {
            return Err(invalid(format!("{field}: at most {MAX_TEXT_CHARS} characters")));
        }
        render::check_text(text, &replacements).map_err(|e| invalid(format!("{field}: {e}")))
    };
    let mut messages = Messages::default();
    if let Some(m) = input.messages {
        let given = [
            ("confirmation", m.confirmation),
            ("reminder", m.reminder),
            ("finalAttempt", m.final_attempt),
            ("success", m.success),
            ("choseMessaging", m.chose_messaging),
        ];
        for (k, text) in given {
            if let Some(t) = text {
                check(format!("messages.{k}"), &t)?;
                *messages.slot_mut(k).expect("a message kind") = Some(t);
            }
        }
    }
    let mut metadata: Vec<MetadataItem> = Vec::new();
    for (i, m) in input.metadata.unwrap_or_default().into_iter().enumerate() {
        let key = match m.key {
            Some(k) if !k.trim().is_empty() && k.len() <= 200 => k.trim().to_string(),
            _ => return Err(invalid(format!("metadata[{i}].key: required, a non-empty string"))),
        };
        if metadata.iter().any(|o| o.key == key) {
            return Err(invalid(format!("metadata[{i}].key: {key:?} appears twice")));
        }
        let value = m.value.ok_or_else(|| invalid(format!("metadata[{i}].value: required, a string")))?.0;
        let item_type = match m.item_type {
            None => "SIP Header".to_string(),
            Some(t) if crate::api::extract::has_text(&t) => t.trim().to_string(),
            Some(_) => return Err(invalid(format!("metadata[{i}].type: must be a non-empty string"))),
        };
        if key == ASAP_ENABLED_KEY && !["true", "false"].contains(&value.trim().to_ascii_lowercase().as_str()) {
            return Err(invalid(format!("metadata[{i}].value: {ASAP_ENABLED_KEY} must be \"true\" or \"false\"")));
        }
        if key == ASAP_TEXT_KEY {
            check(format!("metadata[{i}].value"), &value)?;
        }
        metadata.push(MetadataItem { key, value, item_type });
    }
    let now = format_time(now_ms);
    let ct = CallTarget {
        id,
        name,
        handle,
        messages,
        replacements,
        metadata,
        created_at: existing.map(|c| c.created_at.clone()).unwrap_or_else(|| now.clone()),
        updated_at: now,
    };
    if ct.asap_reminder_enabled()
        && ct.text_for(crate::products::callbacks::model::NotificationKind::AsapReminder).is_none()
    {
        return Err(invalid(format!(
            "metadata: {ASAP_ENABLED_KEY} is \"true\" but there is no {ASAP_TEXT_KEY} item with the message to send"
        )));
    }
    Ok(ct)
}

/// A call target as the API shows it (nothing in it is secret).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallTargetView {
    #[schema(example = "6281")]
    pub id: String,
    pub name: String,
    pub handle: String,
    pub messages: Messages,
    pub replacements: BTreeMap<String, String>,
    pub metadata: Vec<MetadataItem>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// Whether ASAP reminders are sent (the metadata item `asap_reminder_notification_enabled`).
    pub asap_reminder_enabled: bool,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallTargetList {
    pub call_targets: Vec<CallTargetView>,
    /// The built-in placeholders a message can use (`{callTargetName}` → what it becomes), for
    /// reference.
    pub placeholders: BTreeMap<String, String>,
}

pub fn view(ct: &CallTarget) -> CallTargetView {
    CallTargetView {
        id: ct.id.clone(),
        name: ct.name.clone(),
        handle: ct.handle.clone(),
        messages: ct.messages.clone(),
        replacements: ct.replacements.clone(),
        metadata: ct.metadata.clone(),
        created_at: ct.created_at.clone(),
        updated_at: ct.updated_at.clone(),
        asap_reminder_enabled: ct.asap_reminder_enabled(),
    }
}

/// The placeholder catalogue (`GET /v1/call-targets` carries it for reference).
pub fn placeholder_catalogue() -> BTreeMap<String, String> {
    render::BUILT_IN.iter().map(|(name, what)| (format!("{{{name}}}"), what.to_string())).collect()
}

#[utoipa::path(post, path = "/v1/call-targets", tag = "callbacks", operation_id = "create_call_target",
    request_body = CallTargetInput,
    responses((status = 201, description = "Created", body = CallTargetView),
        (status = 409, description = "A call target with this id exists; PUT replaces it", body = Error)))]
pub async fn create(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<CallTargetView>), ApiError> {
    let ct = parse_input(body, None, None, app.now_ms())?;
    match store::put_call_target(app.store.as_ref(), &tenant, &ct, None).await {
        Ok(()) => Ok((StatusCode::CREATED, Json(view(&ct)))),
        Err(StoreError::ConditionFailed) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!("a call target with id {:?} exists; use PUT /v1/call-targets/{} to replace it", ct.id, ct.id),
        )),
        Err(e) => Err(e.into()),
    }
}

#[utoipa::path(get, path = "/v1/call-targets", tag = "callbacks", operation_id = "list_call_targets",
    responses((status = 200, description = "Every call target of the tenant, and the placeholders", body = CallTargetList)))]
pub async fn list(State(app): State<Arc<App>>, TenantId(tenant): TenantId) -> Result<Json<CallTargetList>, ApiError> {
    let cts = store::call_targets(app.store.as_ref(), &tenant).await?;
    Ok(Json(CallTargetList { call_targets: cts.iter().map(view).collect(), placeholders: placeholder_catalogue() }))
}

#[utoipa::path(get, path = "/v1/call-targets/{id}", tag = "callbacks", operation_id = "get_call_target",
    params(("id" = String, Path, description = "The call target's id")),
    responses((status = 200, description = "The call target", body = CallTargetView)))]
pub async fn get_one(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<Json<CallTargetView>, ApiError> {
    let ct = store::call_target(app.store.as_ref(), &tenant, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("call target", &id))?;
    Ok(Json(view(&ct.value)))
}

/// Replaces the call target, or creates it under this id.
#[utoipa::path(put, path = "/v1/call-targets/{id}", tag = "callbacks", operation_id = "replace_call_target",
    params(("id" = String, Path, description = "The call target's id: 1 to 64 letters, digits, '-', '_' or '.'")),
    request_body = CallTargetInput,
    responses((status = 200, description = "Replaced, or created under this id", body = CallTargetView),
        (status = 409, description = "Changed concurrently; read it again", body = Error)))]
pub async fn replace(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<CallTargetView>, ApiError> {
    if !valid_id(&id) {
        return Err(invalid("id: 1 to 64 letters, digits, '-', '_' or '.'"));
    }
    let cur = store::call_target(app.store.as_ref(), &tenant, &id).await?;
    let ct = parse_input(body, Some(&id), cur.as_ref().map(|c| &c.value), app.now_ms())?;
    store::put_call_target(app.store.as_ref(), &tenant, &ct, cur.map(|c| c.version)).await?;
    Ok(Json(view(&ct)))
}

#[utoipa::path(delete, path = "/v1/call-targets/{id}", tag = "callbacks", operation_id = "delete_call_target",
    params(("id" = String, Path, description = "The call target's id")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if store::delete_call_target(app.store.as_ref(), &tenant, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("call target", &id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use serde_json::json;

    fn ok(body: Value) -> CallTarget {
        parse_input(body, None, None, 0).unwrap()
    }
    fn err(body: Value) -> String {
        parse_input(body, None, None, 0).unwrap_err().detail
    }

    #[test]
    fn call_targets_validate() {
        let ct = ok(json!({"id": 6281, "name": "Sales", "handle": "+18505554321",
            "messages": {"confirmation": "Hi from {callTargetName} at {companyName}"},
            "replacements": {"companyName": "ABC"},
            "metadata": [{"key": "asap_reminder_notification_enabled", "value": true, "type": "SIP Header"},
                         {"key": "asap_reminder_notification_text", "value": "Soon: {callbackTime}"}]}));
        assert_eq!(ct.id, "6281");
        assert!(ct.asap_reminder_enabled());
        assert_eq!(ct.metadata[1].item_type, "SIP Header");
        let base = json!({"name": "Sales", "handle": "+18505554321"});
        let with = |k: &str, v: Value| {
            let mut b = base.clone();
            b[k] = v;
            b
        };
        assert!(err(with("handle", json!("555-1234"))).starts_with("handle:"));
        assert!(err(with("messages", json!({"confirmation": "Hi {nme}"}))).contains("{nme}"));
        assert!(err(with("messages", json!({"asapReminder": "x"}))).contains(ASAP_TEXT_KEY));
        assert!(err(with("replacements", json!({"handle": "x"}))).contains("built in"));
        assert!(err(with("metadata", json!([{"key": ASAP_ENABLED_KEY, "value": "yes"}]))).contains("\"true\""));
        assert!(err(with("metadata", json!([{"key": ASAP_ENABLED_KEY, "value": "true"}]))).contains(ASAP_TEXT_KEY));
        assert!(
            err(with("metadata", json!([{"key": "a", "value": "1"}, {"key": "a", "value": "2"}]))).contains("twice")
        );
        assert!(err(with("colour", json!("red"))).starts_with("colour: unknown field"));
        assert!(err(with("id", json!("a/b"))).starts_with("id:"));
        assert!(err(json!({"handle": "+18505554321"})).starts_with("name:"));
        assert!(valid_handle("ACME") && valid_handle("12345") && !valid_handle("12") && !valid_handle("+1"));
    }

    /// The documented response is the view: every field a read carries, and nothing else; a
    /// read sent back as it is (its own fields included) replaces to the same call target.
    #[test]
    fn the_view_is_the_document_and_a_read_goes_back() {
        use crate::products::callbacks::api::contract::{doc, documented, named, returned};
        let ct = ok(json!({"id": "6281", "name": "Sales", "handle": "+18505554321",
            "messages": {"confirmation": "c", "reminder": "r", "finalAttempt": "f", "success": "s", "choseMessaging": "m"},
            "replacements": {"companyName": "ABC"},
            "metadata": [{"key": "asap_reminder_notification_enabled", "value": "true"},
                         {"key": "asap_reminder_notification_text", "value": "Soon"}]}));
        let doc = doc();
        let v = view(&ct);
        assert_eq!(documented(&doc, "CallTargetView"), returned(&v));
        assert_eq!(documented(&doc, "Messages"), returned(&v.messages));
        assert_eq!(documented(&doc, "MetadataItem"), returned(&v.metadata[0]));
        assert_eq!(
            documented(&doc, "CallTargetList"),
            returned(CallTargetList { call_targets: vec![], placeholders: placeholder_catalogue() })
        );
        assert_eq!(named(&doc, "get", "/v1/call-targets/{id}", "200"), "#/components/schemas/CallTargetView");
        assert_eq!(named(&doc, "put", "/v1/call-targets/{id}", "body"), "#/components/schemas/CallTargetInput");
        let read = serde_json::to_value(&v).unwrap();
        assert_eq!(documented(&doc, "CallTargetInput"), returned(&read), "every field of a read is accepted");
        let back = parse_input(read, Some("6281"), Some(&ct), 0).unwrap();
        assert_eq!((back.messages, back.metadata, back.created_at), (ct.messages, ct.metadata, ct.created_at));
        // Unknown fields, wherever they are, are refused naming them.
        for (body, field) in [
            (
                json!({"name": "n", "handle": "+18505554321", "messages": {"welcome": "x"}}),
                "messages.welcome: unknown field",
            ),
            (
                json!({"name": "n", "handle": "+18505554321", "metadata": [{"key": "k", "value": "v", "kind": "x"}]}),
                "metadata[0].kind: unknown field",
            ),
            (
                json!({"name": "n", "handle": "+18505554321", "replacements": {"a": {"b": 1}}}),
                "replacements.a: invalid type",
            ),
        ] {
            let e = err(body);
            assert!(e.starts_with(field), "{e}");
        }
    }
}
