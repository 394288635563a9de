//! `/v1/contacts`: the people SMS go to, by phone number (E.164), in the SMS-webhooks seed's
//! shape. A contact who is `unsubscribed` is never sent an SMS; Twilio's error 21610 marks one
//! unsubscribed too.

use crate::api::extract::{parse_object, JsonBody, Params, TenantId};
use crate::api::openapi::Error;
use crate::app::App;
use crate::error::ApiError;
use crate::model::format_time_ms;
use crate::ports::StoreError;
use crate::products::sms::model::{Contact, ContactStatus};
use crate::products::sms::store;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

const INVALID: &str = "invalid contact";

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::unprocessable(INVALID, detail)
}

/// An E.164 number: `+` and 2 to 15 digits.
pub fn is_e164(s: &str) -> bool {
    s.strip_prefix('+').is_some_and(|d| (2..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()))
}

/// A create or replace body (snake_case, as the seed's webhooks show a contact). On a replace
/// the fields left out keep their value; `null` clears a name or the email.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    /// E.164. Required on a create; on a replace, the path's (or left out).
    #[schema(pattern = "^\\+[0-9]{2,15}$", example = "+19999999999")]
    pub phone_number: Option<String>,
    #[schema(value_type = Option<crate::api::openapi::Name>, nullable)]
    #[serde(default, deserialize_with = "crate::api::extract::present")]
    pub first_name: Option<Value>,
    #[schema(value_type = Option<crate::api::openapi::Name>, nullable)]
    #[serde(default, deserialize_with = "crate::api::extract::present")]
    pub last_name: Option<Value>,
    #[schema(value_type = Option<crate::api::openapi::Name>, nullable)]
    #[serde(default, deserialize_with = "crate::api::extract::present")]
    pub email: Option<Value>,
    /// Default `active`. `unsubscribed` stops every SMS to the number.
    pub status: Option<ContactStatus>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub id: Option<serde::de::IgnoredAny>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub unsubscribed_at: Option<serde::de::IgnoredAny>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub bounces: Option<serde::de::IgnoredAny>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub created_at: Option<serde::de::IgnoredAny>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub updated_at: Option<serde::de::IgnoredAny>,
}

fn text_field(name: &str, v: Option<Value>, cur: Option<String>) -> Result<Option<String>, ApiError> {
    match v {
        None => Ok(cur),
        Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if crate::api::extract::is_line(&s, 200) => Ok(Some(s.trim().to_string())),
        Some(_) => Err(invalid(format!("{name}: 1 to 200 characters, not blank, or null"))),
    }
}

fn apply(input: ContactInput, mut c: Contact, now: &str) -> Result<Contact, ApiError> {
    c.first_name = text_field("first_name", input.first_name, c.first_name)?;
    c.last_name = text_field("last_name", input.last_name, c.last_name)?;
    c.email = text_field("email", input.email, c.email)?;
    if let Some(s) = input.status.filter(|s| *s != c.status) {
        c.status = s;
        c.unsubscribed_at = (s == ContactStatus::Unsubscribed).then(|| now.to_string());
    }
    c.updated_at = now.to_string();
    Ok(c)
}

/// A create's body, for the document: [`ContactInput`] with `phone_number` required (a replace
/// takes it from the path).
#[allow(dead_code)]
pub struct ContactCreate;

impl utoipa::PartialSchema for ContactCreate {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let mut schema = <ContactInput as utoipa::PartialSchema>::schema();
        if let utoipa::openapi::RefOr::T(utoipa::openapi::schema::Schema::Object(o)) = &mut schema {
            o.required.push("phone_number".to_string());
            if let Some(utoipa::openapi::RefOr::T(utoipa::openapi::schema::Schema::Object(p))) =
                o.properties.get_mut("phone_number")
            {
                p.schema_type = utoipa::openapi::schema::Type::String.into();
            }
        }
        schema
    }
}

impl ToSchema for ContactCreate {}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Page size, 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ContactList {
    pub contacts: Vec<Contact>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/v1/contacts", tag = "sms", operation_id = "list_contacts",
    params(ListQuery),
    responses((status = 200, description = "Contacts, by phone number", body = ContactList)))]
pub async fn list(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Params(q): Params<ListQuery>,
) -> Result<Json<ContactList>, ApiError> {
    let limit = crate::api::extract::page_limit(q.limit, 100)?;
    let contacts = store::contacts(app.store.as_ref(), &tenant, limit, q.cursor).await?;
    let next_cursor = (contacts.len() == limit).then(|| contacts.last().map(|c| c.phone_number.clone())).flatten();
    Ok(Json(ContactList { contacts, next_cursor }))
}

#[utoipa::path(post, path = "/v1/contacts", tag = "sms", operation_id = "create_contact",
    request_body = ContactCreate,
    responses((status = 201, description = "Created", body = Contact),
        (status = 409, description = "A contact with this number exists; PUT changes it", body = Error)))]
pub async fn create(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Contact>), ApiError> {
    let input: ContactInput = parse_object(body, INVALID, "a contact")?;
    let phone = match &input.phone_number {
        Some(p) if is_e164(p) => p.clone(),
        _ => return Err(invalid("phone_number: required, E.164 (+ and 2 to 15 digits)")),
    };
    let now = format_time_ms(app.now_ms());
    let c = apply(input, Contact::new(&phone, &now), &now)?;
    match store::put_contact(app.store.as_ref(), &tenant, &c, None).await {
        Ok(()) => Ok((StatusCode::CREATED, Json(c))),
        Err(StoreError::ConditionFailed) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!("a contact with number {phone} exists; PUT /v1/contacts/{phone} changes it"),
        )),
        Err(e) => Err(e.into()),
    }
}

#[utoipa::path(get, path = "/v1/contacts/{phone}", tag = "sms", operation_id = "get_contact",
    params(("phone" = String, Path, description = "The contact's number (E.164)")),
    responses((status = 200, description = "The contact", body = Contact)))]
pub async fn get_one(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(phone): Path<String>,
) -> Result<Json<Contact>, ApiError> {
    let c = store::contact(app.store.as_ref(), &tenant, &phone)
        .await?
        .ok_or_else(|| ApiError::not_found("contact", &phone))?;
    Ok(Json(c.value))
}

#[utoipa::path(put, path = "/v1/contacts/{phone}", tag = "sms", operation_id = "replace_contact",
    params(("phone" = String, Path, description = "The contact's number (E.164)", pattern = "^\\+[0-9]{2,15}$")),
    request_body = ContactInput,
    responses((status = 200, description = "Changed, or created with this number", body = Contact),
        (status = 409, description = "Changed concurrently; read it again", body = Error)))]
pub async fn replace(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(phone): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Contact>, ApiError> {
    if !is_e164(&phone) {
        return Err(invalid("phone: the path must be an E.164 number (+ and 2 to 15 digits)"));
    }
    let input: ContactInput = parse_object(body, INVALID, "a contact")?;
    if input.phone_number.as_ref().is_some_and(|p| *p != phone) {
        return Err(invalid(format!("phone_number: must be the path's number ({phone}) or left out")));
    }
    let st = app.store.as_ref();
    let now = format_time_ms(app.now_ms());
    let cur = store::contact(st, &tenant, &phone).await?;
    let version = cur.as_ref().map(|c| c.version);
    let c = apply(input, cur.map_or_else(|| Contact::new(&phone, &now), |c| c.value), &now)?;
    store::put_contact(st, &tenant, &c, version).await?;
    Ok(Json(c))
}

#[utoipa::path(delete, path = "/v1/contacts/{phone}", tag = "sms", operation_id = "delete_contact",
    params(("phone" = String, Path, description = "The contact's number (E.164)")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(phone): Path<String>,
) -> Result<StatusCode, ApiError> {
    if store::delete_contact(app.store.as_ref(), &tenant, &phone).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("contact", &phone))
    }
}
