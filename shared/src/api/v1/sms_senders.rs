//! `/v1/sms-senders`: the tenant's Twilio accounts — Account SID, write-only auth token, an
//! optional default From number. Reads show the token masked; a replace may leave it out or
//! send the mask back to keep it (for the same Account SID).

use crate::api::extract::{is_line, parse, parse_object, JsonBody, TenantId};
use crate::api::openapi::Error;
use crate::app::App;
use crate::destinations::request::MASK;
use crate::destinations::sms_senders::{self, SmsSender};
use crate::destinations::twilio;
use crate::error::ApiError;
use crate::model::format_time;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::sync::Arc;
use utoipa::ToSchema;

const INVALID: &str = "invalid SMS sender";
/// Longest auth token accepted (Twilio's are 32 characters).
const MAX_TOKEN_BYTES: usize = 256;

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::unprocessable(INVALID, detail)
}

/// Shows the last 4 characters of a secret at most, and only of a long one.
pub fn masked(secret: &str) -> String {
    let n = secret.chars().count();
    if n >= 16 {
        format!("{MASK}{}", secret.chars().skip(n - 4).collect::<String>())
    } else {
        MASK.to_string()
    }
}

/// A create or replace body. Strict: an unknown field or a wrong type is a 422 naming it; a
/// read's own fields (`id`, `createdAt`, `updatedAt`) may be sent back and are ignored, so a
/// read can be edited and PUT back.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SmsSenderInput {
    /// Defaults to `Twilio` (on a replace, to the current name).
    #[schema(example = "main", value_type = Option<crate::api::openapi::Name>)]
    pub name: Option<String>,
    /// The Twilio Account SID.
    #[schema(value_type = String, required = true, pattern = "^AC[0-9a-fA-F]{32}$",
        example = "AC0123456789abcdef0123456789abcdef")]
    pub account_sid: Option<String>,
    /// The account's auth token. Write-only: reads show it masked. Required on a create; on a
    /// replace of the same Account SID, leave it out or send the mask back to keep it.
    #[schema(write_only, min_length = 1, max_length = 256, pattern = "^[!-~]+$")]
    pub auth_token: Option<String>,
    /// The From number (E.164) or sender id when a message names none.
    #[schema(example = "+15550001111", value_type = Option<crate::api::openapi::SenderFrom>)]
    pub from: Option<String>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub id: Option<serde::de::IgnoredAny>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub created_at: Option<serde::de::IgnoredAny>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub updated_at: Option<serde::de::IgnoredAny>,
}

/// A create's body, for the document: [`SmsSenderInput`] with `authToken` required and not a
/// mask (a replace may leave it out, or send the mask back, to keep the stored one).
#[allow(dead_code)]
pub struct SmsSenderCreate;

impl utoipa::PartialSchema for SmsSenderCreate {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{Schema, Type};
        use utoipa::openapi::RefOr;
        let mut schema = <SmsSenderInput as utoipa::PartialSchema>::schema();
        if let RefOr::T(Schema::Object(o)) = &mut schema {
            o.required.push("authToken".to_string());
            if let Some(RefOr::T(Schema::Object(token))) = o.properties.get_mut("authToken") {
                token.schema_type = Type::String.into();
                // Not a read's mask (`****` first): there is no stored token to keep.
                token.pattern = Some("^\\*{0,3}([!-)+-~][!-~]*)?$".to_string());
            }
        }
        schema
    }
}

impl ToSchema for SmsSenderCreate {}

/// An SMS sender from fields of a body that names other things too (a callback connection's
/// inline `accountSid`, `authToken`, `from`), checked as [`SmsSenderInput`].
pub fn from_fields(
    app: &App,
    o: &Map<String, Value>,
    default_name: &str,
    existing: Option<&SmsSender>,
) -> Result<SmsSender, ApiError> {
    build(app, parse(Value::Object(o.clone()), INVALID)?, default_name, existing)
}

/// The sender an input describes. `existing` keeps its id, creation time and, for the same
/// Account SID, its token when none is given or the token is sent back as a read showed it.
fn build(
    app: &App,
    input: SmsSenderInput,
    default_name: &str,
    existing: Option<&SmsSender>,
) -> Result<SmsSender, ApiError> {
    let account_sid = match input.account_sid {
        Some(s) if twilio::is_account_sid(&s) => s,
        Some(s) => {
            return Err(invalid(format!("accountSid: {s:?} is not a Twilio Account SID (AC and 32 hex digits)")))
        }
        None => return Err(invalid("accountSid: required, the Twilio Account SID (AC and 32 hex digits)")),
    };
    let kept = existing.filter(|s| s.account_sid == account_sid).map(|s| s.auth_token.as_str());
    let auth_token = match (input.auth_token, kept) {
        // A read shows `****` and the last 4: sent back, it means "keep the token".
        (None, Some(k)) => k.to_string(),
        (Some(t), Some(k)) if t == MASK || t == masked(k) => k.to_string(),
        (Some(t), _) if t.starts_with(MASK) => {
            return Err(invalid(
                "authToken: a masked token keeps the stored one only for the same accountSid; send the auth token",
            ))
        }
        (Some(t), _) if !t.is_empty() && t.len() <= MAX_TOKEN_BYTES => t,
        _ => return Err(invalid("authToken: required, the Twilio auth token of the account")),
    };
    // It goes into an HTTP Basic header: printable ASCII, no spaces (Twilio's are 32 hex digits).
    if !auth_token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(invalid("authToken: must be printable ASCII without spaces"));
    }
    let name = match input.name {
        None => existing.map(|s| s.name.clone()).unwrap_or_else(|| default_name.to_string()),
        Some(n) if is_line(&n, 200) => n.trim().to_string(),
        Some(_) => return Err(invalid("name: must be a non-empty string")),
    };
    let from = match input.from {
        None => None,
        Some(f) if is_line(&f, 64) => Some(f.trim().to_string()),
        Some(_) => return Err(invalid("from: must be a phone number (E.164) or a sender id")),
    };
    let now = format_time(app.now_ms());
    Ok(SmsSender {
        id: existing.map(|s| s.id.clone()).unwrap_or_else(sms_senders::new_id),
        name,
        account_sid,
        auth_token,
        from,
        created_at: existing.map(|s| s.created_at.clone()).unwrap_or_else(|| now.clone()),
        updated_at: now,
    })
}

fn parse_input(app: &App, body: Value, existing: Option<&SmsSender>) -> Result<SmsSender, ApiError> {
    build(app, parse_object(body, INVALID, "an SMS sender")?, "Twilio", existing)
}

/// An SMS sender as the API shows it: the auth token masked.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SmsSenderView {
    #[schema(example = "sms_01hx5v3k9a7m2n4p6q8r0s2t4v")]
    pub id: String,
    pub name: String,
    pub account_sid: String,
    /// `****` and the last 4 characters; send it back unchanged to keep the token.
    #[schema(example = "****cdef")]
    pub auth_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<&SmsSender> for SmsSenderView {
    fn from(s: &SmsSender) -> Self {
        SmsSenderView {
            id: s.id.clone(),
            name: s.name.clone(),
            account_sid: s.account_sid.clone(),
            auth_token: masked(&s.auth_token),
            from: s.from.clone(),
            created_at: s.created_at.clone(),
            updated_at: s.updated_at.clone(),
        }
    }
}

/// The view as JSON, for a read that merges its fields into its own (callback connections).
pub fn view(s: &SmsSender) -> Value {
    serde_json::to_value(SmsSenderView::from(s)).expect("views serialize")
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SmsSenderList {
    pub sms_senders: Vec<SmsSenderView>,
}

#[utoipa::path(post, path = "/v1/sms-senders", tag = "sms senders", operation_id = "create_sms_sender",
    request_body = SmsSenderCreate,
    responses((status = 201, description = "Created; the token is masked from now on", body = SmsSenderView)))]
pub async fn create(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<SmsSenderView>), ApiError> {
    let s = parse_input(&app, body, None)?;
    sms_senders::put(app.store.as_ref(), &tenant, &s, None).await?;
    Ok((StatusCode::CREATED, Json(SmsSenderView::from(&s))))
}

#[utoipa::path(get, path = "/v1/sms-senders", tag = "sms senders", operation_id = "list_sms_senders",
    responses((status = 200, description = "Every SMS sender of the tenant, tokens masked", body = SmsSenderList)))]
pub async fn list(State(app): State<Arc<App>>, TenantId(tenant): TenantId) -> Result<Json<SmsSenderList>, ApiError> {
    let ss = sms_senders::list(app.store.as_ref(), &tenant).await?;
    Ok(Json(SmsSenderList { sms_senders: ss.iter().map(SmsSenderView::from).collect() }))
}

#[utoipa::path(get, path = "/v1/sms-senders/{id}", tag = "sms senders", operation_id = "get_sms_sender",
    params(("id" = String, Path, description = "The SMS sender's id")),
    responses((status = 200, description = "The SMS sender, its token masked", body = SmsSenderView)))]
pub async fn get_one(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<Json<SmsSenderView>, ApiError> {
    let s = sms_senders::find(app.store.as_ref(), &tenant, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("SMS sender", &id))?;
    Ok(Json(SmsSenderView::from(&s.value)))
}

#[utoipa::path(put, path = "/v1/sms-senders/{id}", tag = "sms senders", operation_id = "replace_sms_sender",
    params(("id" = String, Path, description = "The SMS sender's id")),
    request_body = SmsSenderInput,
    responses((status = 200, description = "Replaced; a token left out or sent back masked is kept (same accountSid)", body = SmsSenderView),
        (status = 409, description = "Changed concurrently; read it again", body = Error)))]
pub async fn replace(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<SmsSenderView>, ApiError> {
    let cur = sms_senders::find(app.store.as_ref(), &tenant, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("SMS sender", &id))?;
    let s = parse_input(&app, body, Some(&cur.value))?;
    sms_senders::put(app.store.as_ref(), &tenant, &s, Some(cur.version)).await?;
    Ok(Json(SmsSenderView::from(&s)))
}

#[utoipa::path(delete, path = "/v1/sms-senders/{id}", tag = "sms senders", operation_id = "delete_sms_sender",
    params(("id" = String, Path, description = "The SMS sender's id")),
    responses((status = 204, description = "Deleted; deliveries through it are refused from now on")))]
pub async fn delete(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if sms_senders::delete(app.store.as_ref(), &tenant, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("SMS sender", &id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::test_client::Client;
    use serde_json::json;

    const SID: &str = "AC0123456789abcdef0123456789abcdef";
    const TOKEN: &str = "tok-0123456789-secret";

    #[test]
    fn tokens_are_masked() {
        assert_eq!(masked("0123456789abcdef0123456789abcdef"), "****cdef");
        assert_eq!(masked("short"), "****");
        let s = SmsSender {
            id: "sms_1".into(),
            name: "n".into(),
            account_sid: SID.into(),
            auth_token: TOKEN.into(),
            from: None,
            created_at: String::new(),
            updated_at: String::new(),
        };
        assert!(!view(&s).to_string().contains(TOKEN));
    }

    async fn stored_token(c: &Client, id: &str) -> String {
        sms_senders::find(c.app.store.as_ref(), &c.tenant, id).await.unwrap().unwrap().value.auth_token
    }

    /// A read shows the token as `****` and its last 4; that read sent back as it is (or
    /// edited) keeps the stored token rather than storing the mask.
    #[tokio::test]
    async fn a_read_put_back_keeps_the_stored_token() {
        let c = Client::start("sms-put-back").await;
        let (s, created) =
            c.call("POST", "/v1/sms-senders", Some(&json!({"accountSid": SID, "authToken": TOKEN}))).await;
        assert_eq!(s, 201, "{created}");
        let id = created["id"].as_str().unwrap().to_string();
        let (_, mut read) = c.call("GET", &format!("/v1/sms-senders/{id}"), None).await;
        assert_eq!(read["authToken"], "****cret");
        read["from"] = json!("+15550001111");
        let (s, v) = c.call("PUT", &format!("/v1/sms-senders/{id}"), Some(&read)).await;
        assert_eq!((s, v["from"].as_str()), (200, Some("+15550001111")), "{v}");
        assert_eq!(stored_token(&c, &id).await, TOKEN);
        // The bare mask and a token left out keep it too; a new token replaces it.
        for body in [json!({"accountSid": SID, "authToken": "****"}), json!({"accountSid": SID})] {
            assert_eq!(c.call("PUT", &format!("/v1/sms-senders/{id}"), Some(&body)).await.0, 200, "{body}");
            assert_eq!(stored_token(&c, &id).await, TOKEN, "{body}");
        }
        let body = json!({"accountSid": SID, "authToken": "fresh-token-0123456789"});
        assert_eq!(c.call("PUT", &format!("/v1/sms-senders/{id}"), Some(&body)).await.0, 200);
        assert_eq!(stored_token(&c, &id).await, "fresh-token-0123456789");
        // A mask is never stored as a token: for another account it keeps nothing.
        let other = json!({"accountSid": format!("AC{}", "f".repeat(32)), "authToken": "****cret"});
        let (s, v) = c.call("PUT", &format!("/v1/sms-senders/{id}"), Some(&other)).await;
        assert_eq!((s, v["error"].as_str()), (422, Some(INVALID)), "{v}");
        assert!(v["detail"].as_str().unwrap().starts_with("authToken:"), "{v}");
        let (s, v) =
            c.call("POST", "/v1/sms-senders", Some(&json!({"accountSid": SID, "authToken": "****cret"}))).await;
        assert_eq!(s, 422, "{v}");
    }

    /// Bodies are strict: an unknown field or a wrong type is a 422 naming the field.
    #[tokio::test]
    async fn unknown_fields_and_wrong_types_are_refused() {
        let c = Client::start("sms-strict").await;
        let (s, v) = c
            .call("POST", "/v1/sms-senders", Some(&json!({"accountSid": SID, "authToken": TOKEN, "region": "eu"})))
            .await;
        assert_eq!((s, v["error"].as_str()), (422, Some(INVALID)), "{v}");
        assert!(v["detail"].as_str().unwrap().starts_with("region: not a field of an SMS sender"), "{v}");
        let (s, v) = c.call("POST", "/v1/sms-senders", Some(&json!({"accountSid": SID, "authToken": 5}))).await;
        assert_eq!(s, 422, "{v}");
        assert!(v["detail"].as_str().unwrap().starts_with("authToken: invalid type"), "{v}");
    }
}
