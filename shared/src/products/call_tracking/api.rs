//! The product's API: `/v1/locations`, `/v1/campaigns`, `/v1/dni-campaigns` and
//! `/v1/call-treatments`, the same five routes for each (list, create, read, replace, delete).
//! The logic is generic over [`Resource`]; utoipa cannot annotate generic handlers, so
//! [`resource_api!`] stamps each resource's five annotated handlers around it.

use super::model::{number_key, CallTreatment, Campaign, DniCampaign, Location, SendAt, TreatmentOption, WebhookUse};
use super::store::{self, Stored};
use crate::api::extract::{parse_object, JsonBody, TenantId};
use crate::api::openapi::Error;
use crate::app::App;
use crate::destinations::templates::{self, GROUP_TENANT};
use crate::error::ApiError;
use crate::model::format_time;
use crate::repo::webhooks;
use async_trait::async_trait;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::sync::Arc;
use utoipa::{OpenApi, ToSchema};

/// A kind of configuration served by the generic handlers below.
#[async_trait]
pub trait Resource: Stored {
    /// The name in messages (`location`).
    const WHAT: &'static str;
    /// The prefix of new ids (`loc`).
    const ID_PREFIX: &'static str;
    /// The create and replace body.
    type Input: DeserializeOwned + Send;

    /// The item an input describes; the error names the field.
    async fn parse(app: &App, tenant: &str, input: Self::Input, base: Base) -> Result<Self, String>;

    /// Why the item cannot be deleted now, if it cannot.
    async fn in_use(_app: &App, _tenant: &str, _id: &str) -> Result<Option<String>, ApiError> {
        Ok(None)
    }
}

/// What a create or replace keeps (the id, the creation time) and the time now.
pub struct Base {
    pub id: String,
    pub created_at: String,
    pub now: String,
}

/// An optional text field: blank is absent; at most 500 characters, no control characters.
fn text(f: &str, v: Option<String>) -> Result<Option<String>, String> {
    match v {
        None => Ok(None),
        // Control characters first: a blank of newlines is refused like any other.
        Some(s) if s.chars().count() > 500 || s.contains(char::is_control) => {
            Err(format!("{f}: must be a string of at most 500 characters, without control characters"))
        }
        Some(s) if s.trim().is_empty() => Ok(None),
        Some(s) => Ok(Some(s.trim().to_string())),
    }
}

fn required(f: &str, v: Option<String>) -> Result<String, String> {
    text(f, v)?.ok_or_else(|| format!("{f}: required, a non-empty string"))
}

fn strings(f: &str, v: Option<Vec<String>>) -> Result<Vec<String>, String> {
    let v = v.unwrap_or_default();
    if v.len() > 1000 {
        return Err(format!("{f}: at most 1000"));
    }
    v.into_iter()
        .enumerate()
        .map(|(i, s)| match text(&format!("{f}[{i}]"), Some(s))? {
            Some(t) => Ok(t),
            None => Err(format!("{f}[{i}]: must be a non-empty string")),
        })
        .collect()
}

/// The location named by `locationId`, which must exist.
async fn location_of(app: &App, tenant: &str, v: Option<String>) -> Result<String, String> {
    let id = required("locationId", v)?;
    match store::find::<Location>(app.store.as_ref(), tenant, &id).await {
        Ok(Some(_)) => Ok(id),
        Ok(None) => Err(format!("locationId: no location {id:?} (see GET /v1/locations)")),
        Err(e) => Err(format!("locationId: could not be checked now ({e}); try again")),
    }
}

/// A webhook to send on calls, and when.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WebhookUseInput {
    /// A webhook of `/v1/webhooks`; its template (if any) must be one the location may use.
    #[schema(value_type = crate::api::openapi::RequiredText, required = true, example = "wh_01hx5v3k9a7m2n4p6q8r0s2t4v")]
    pub webhook_id: Option<String>,
    /// Required on campaigns and DNI campaigns; a call treatment option's default is `end`.
    pub send_at: Option<SendAt>,
}

/// `[{"webhookId", "sendAt"}]`: each webhook must exist, and its template (if any) must be one
/// the location may use.
async fn webhook_uses(
    app: &App,
    tenant: &str,
    items: Option<Vec<WebhookUseInput>>,
    field: &str,
    location: &str,
    default_send_at: Option<SendAt>,
) -> Result<Vec<WebhookUse>, String> {
    let items = items.unwrap_or_default();
    if items.len() > 50 {
        return Err(format!("{field}: at most 50 webhooks"));
    }
    let mut out: Vec<WebhookUse> = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let at = format!("{field}[{i}]");
        let webhook_id = required("webhookId", item.webhook_id).map_err(|e| format!("{at}.{e}"))?;
        let send_at = item
            .send_at
            .or(default_send_at)
            .ok_or_else(|| format!("{at}.sendAt: required, \"begin\" (the call begins) or \"end\" (it ends)"))?;
        let w = webhooks::find(app.store.as_ref(), tenant, &webhook_id)
            .await
            .map_err(|e| format!("{at}.webhookId: could not be checked now ({e}); try again"))?
            .ok_or_else(|| format!("{at}.webhookId: no webhook {webhook_id:?} (see GET /v1/webhooks)"))?
            .value;
        if let Some(t) = &w.template_id {
            let group = templates::store::find(app.store.as_ref(), tenant, t)
                .await
                .map_err(|e| format!("{at}.webhookId: could not be checked now ({e}); try again"))?
                .map(|t| t.value.group);
            if let Some(g) = group.filter(|g| g != GROUP_TENANT && g != location) {
                return Err(format!("{at}.webhookId: its template {t} belongs to location {g:?}, not to {location:?}"));
            }
        }
        let u = WebhookUse { webhook_id, send_at };
        if !out.contains(&u) {
            out.push(u);
        }
    }
    Ok(out)
}

/// A location: its data are the `location_info` tokens of the calls at it. Strict, as every
/// input here: an unknown field or a wrong type is a 422 naming it; a read's own fields (`id`,
/// `createdAt`, `updatedAt`) may be sent back and are ignored, so a read can be PUT back.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LocationInput {
    #[schema(value_type = crate::api::openapi::RequiredText, required = true, example = "Auto ID")]
    pub name: Option<String>,
    #[schema(value_type = Option<crate::api::openapi::Text>, example = "157 Main Street")]
    pub address_line1: Option<String>,
    #[schema(value_type = Option<crate::api::openapi::Text>)]
    pub address_line2: Option<String>,
    #[schema(value_type = Option<crate::api::openapi::Text>)]
    pub city: Option<String>,
    #[schema(value_type = Option<crate::api::openapi::Text>)]
    pub zip: Option<String>,
    #[schema(value_type = Option<crate::api::openapi::Text>)]
    pub state: Option<String>,
    /// The client's own account number (`%account_id%`).
    #[schema(value_type = Option<crate::api::openapi::Text>)]
    pub account_id: Option<String>,
    /// The client's own location id (`%location_id%`; `id` is Ringhook's).
    #[schema(value_type = Option<crate::api::openapi::Text>)]
    pub client_location_id: Option<String>,
    #[schema(value_type = Option<crate::api::openapi::Text>)]
    pub site_id: Option<String>,
    #[schema(value_type = Option<crate::api::openapi::Text>)]
    pub domain_id: Option<String>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub id: Option<IgnoredAny>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub created_at: Option<IgnoredAny>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub updated_at: Option<IgnoredAny>,
}

#[async_trait]
impl Resource for Location {
    const WHAT: &'static str = "location";
    const ID_PREFIX: &'static str = "loc";
    type Input = LocationInput;

    async fn parse(_app: &App, _tenant: &str, i: LocationInput, b: Base) -> Result<Self, String> {
        Ok(Location {
            id: b.id,
            name: required("name", i.name)?,
            address_line1: text("addressLine1", i.address_line1)?,
            address_line2: text("addressLine2", i.address_line2)?,
            city: text("city", i.city)?,
            zip: text("zip", i.zip)?,
            state: text("state", i.state)?,
            account_id: text("accountId", i.account_id)?,
            client_location_id: text("clientLocationId", i.client_location_id)?,
            site_id: text("siteId", i.site_id)?,
            domain_id: text("domainId", i.domain_id)?,
            created_at: b.created_at,
            updated_at: b.now,
        })
    }

    async fn in_use(app: &App, tenant: &str, id: &str) -> Result<Option<String>, ApiError> {
        let s = app.store.as_ref();
        let mut users: Vec<String> = store::list::<Campaign>(s, tenant)
            .await?
            .into_iter()
            .filter(|c| c.location_id == id)
            .map(|c| c.id)
            .collect();
        users.extend(
            store::list::<DniCampaign>(s, tenant).await?.into_iter().filter(|c| c.location_id == id).map(|c| c.id),
        );
        users.extend(
            store::list::<CallTreatment>(s, tenant).await?.into_iter().filter(|c| c.location_id == id).map(|c| c.id),
        );
        Ok((!users.is_empty()).then(|| format!("{} are at this location; move or delete them first", users.join(", "))))
    }
}

/// An offline campaign: calls to its tracking numbers send its webhooks.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CampaignInput {
    #[schema(value_type = crate::api::openapi::RequiredText, required = true, example = "Sales Campaign")]
    pub name: Option<String>,
    #[schema(value_type = crate::api::openapi::RequiredText, required = true)]
    pub location_id: Option<String>,
    /// Each names this campaign only; compared by their digits.
    #[schema(value_type = Option<Vec<crate::api::openapi::RequiredText>>, example = json!(["(777) 483-9229"]))]
    pub tracking_numbers: Option<Vec<String>>,
    /// Names to strings or numbers (`%tags%` when the call carries none).
    #[schema(value_type = Option<HashMap<String, TagValue>>, example = json!({"Region": "south"}))]
    pub tags: Option<Map<String, Value>>,
    pub webhooks: Option<Vec<WebhookUseInput>>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub id: Option<IgnoredAny>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub created_at: Option<IgnoredAny>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub updated_at: Option<IgnoredAny>,
}

#[async_trait]
impl Resource for Campaign {
    const WHAT: &'static str = "campaign";
    const ID_PREFIX: &'static str = "cmp";
    type Input = CampaignInput;

    async fn parse(app: &App, tenant: &str, i: CampaignInput, b: Base) -> Result<Self, String> {
        let name = required("name", i.name)?;
        let location_id = location_of(app, tenant, i.location_id).await?;
        let tracking_numbers = strings("trackingNumbers", i.tracking_numbers)?;
        for (i, n) in tracking_numbers.iter().enumerate() {
            if !(3..=15).contains(&number_key(n).len()) {
                return Err(format!("trackingNumbers[{i}]: {n:?} is not a phone number"));
            }
        }
        // A tracking number names one campaign: calls to it must find their campaign.
        let others = store::list::<Campaign>(app.store.as_ref(), tenant)
            .await
            .map_err(|e| format!("trackingNumbers: could not be checked now ({e}); try again"))?;
        for n in &tracking_numbers {
            if let Some(c) = others
                .iter()
                .find(|c| c.id != b.id && c.tracking_numbers.iter().any(|m| number_key(m) == number_key(n)))
            {
                return Err(format!("trackingNumbers: {n:?} already tracks campaign {}", c.id));
            }
        }
        let tags = i.tags.unwrap_or_default();
        if !tags.values().all(|v| v.is_string() || v.is_number()) {
            return Err("tags: an object of names to values, e.g. {\"Region\": \"south\"}".into());
        }
        let webhooks = webhook_uses(app, tenant, i.webhooks, "webhooks", &location_id, None).await?;
        Ok(Campaign {
            id: b.id,
            name,
            location_id,
            tracking_numbers,
            tags,
            webhooks,
            created_at: b.created_at,
            updated_at: b.now,
        })
    }
}

/// A digital (DNI) campaign: calls from visitors of its domains send its webhooks.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DniCampaignInput {
    #[schema(value_type = crate::api::openapi::RequiredText, required = true, example = "Website")]
    pub name: Option<String>,
    #[schema(value_type = crate::api::openapi::RequiredText, required = true)]
    pub location_id: Option<String>,
    /// Compared without scheme, `www.`, path and case.
    #[schema(value_type = Option<Vec<crate::api::openapi::RequiredText>>, example = json!(["example.com"]))]
    pub domains: Option<Vec<String>>,
    pub webhooks: Option<Vec<WebhookUseInput>>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub id: Option<IgnoredAny>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub created_at: Option<IgnoredAny>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub updated_at: Option<IgnoredAny>,
}

#[async_trait]
impl Resource for DniCampaign {
    const WHAT: &'static str = "DNI campaign";
    const ID_PREFIX: &'static str = "dni";
    type Input = DniCampaignInput;

    async fn parse(app: &App, tenant: &str, i: DniCampaignInput, b: Base) -> Result<Self, String> {
        let name = required("name", i.name)?;
        let location_id = location_of(app, tenant, i.location_id).await?;
        let domains = strings("domains", i.domains)?;
        let webhooks = webhook_uses(app, tenant, i.webhooks, "webhooks", &location_id, None).await?;
        Ok(DniCampaign { id: b.id, name, location_id, domains, webhooks, created_at: b.created_at, updated_at: b.now })
    }
}

/// A call treatment (an IVR): only the callers who chose an option send its webhooks.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CallTreatmentInput {
    #[schema(value_type = crate::api::openapi::RequiredText, required = true, example = "IVR")]
    pub name: Option<String>,
    #[schema(value_type = crate::api::openapi::RequiredText, required = true)]
    pub location_id: Option<String>,
    /// 1 to 20 options, keys and names distinct.
    #[schema(value_type = Vec<TreatmentOptionInput>, required = true, min_items = 1, max_items = 20)]
    pub options: Option<Vec<TreatmentOptionInput>>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub id: Option<IgnoredAny>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub created_at: Option<IgnoredAny>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub updated_at: Option<IgnoredAny>,
}

/// An IVR choice, such as 1 = Sales.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TreatmentOptionInput {
    #[schema(value_type = OptionKey, required = true)]
    pub key: Option<OptionKey>,
    #[schema(value_type = crate::api::openapi::RequiredText, required = true, example = "Sales")]
    pub name: Option<String>,
    /// Sent at the call's end unless `sendAt` says otherwise (the caller chooses during it).
    pub webhooks: Option<Vec<WebhookUseInput>>,
}

/// A tag's value, for the document: a string or a number.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum TagValue {
    Text(String),
    Number(f64),
}

/// What the caller presses: a string or a number (kept as its text).
#[derive(Deserialize, ToSchema)]
#[serde(untagged, expecting = "a string or a number")]
pub enum OptionKey {
    #[schema(value_type = crate::api::openapi::RequiredText, example = "1")]
    Text(String),
    #[schema(value_type = f64)]
    Number(serde_json::Number),
}

#[async_trait]
impl Resource for CallTreatment {
    const WHAT: &'static str = "call treatment";
    const ID_PREFIX: &'static str = "trt";
    type Input = CallTreatmentInput;

    async fn parse(app: &App, tenant: &str, i: CallTreatmentInput, b: Base) -> Result<Self, String> {
        let name = required("name", i.name)?;
        let location_id = location_of(app, tenant, i.location_id).await?;
        let items = match i.options {
            Some(a) if !a.is_empty() && a.len() <= 20 => a,
            _ => return Err("options: required, a list of {\"key\", \"name\", \"webhooks\"} (e.g. 1 = Sales)".into()),
        };
        let mut options: Vec<TreatmentOption> = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            let at = format!("options[{i}]");
            let key = match item.key {
                Some(OptionKey::Number(n)) => n.to_string(),
                Some(OptionKey::Text(k)) => required("key", Some(k)).map_err(|e| format!("{at}.{e}"))?,
                None => required("key", None).map_err(|e| format!("{at}.{e}"))?,
            };
            let name = required("name", item.name).map_err(|e| format!("{at}.{e}"))?;
            if options.iter().any(|p| p.key == key || p.name.eq_ignore_ascii_case(&name)) {
                return Err(format!("{at}: key {key:?} or name {name:?} is already an option"));
            }
            // The caller chooses during the call: an option's webhooks go at its end unless told.
            let field = format!("{at}.webhooks");
            let webhooks = webhook_uses(app, tenant, item.webhooks, &field, &location_id, Some(SendAt::End)).await?;
            options.push(TreatmentOption { key, name, webhooks });
        }
        Ok(CallTreatment { id: b.id, name, location_id, options, created_at: b.created_at, updated_at: b.now })
    }
}

fn invalid<R: Resource>(detail: impl Into<String>) -> ApiError {
    ApiError::unprocessable(format!("invalid {}", R::WHAT), detail)
}

async fn from_body<R: Resource>(app: &App, tenant: &str, body: Value, existing: Option<&R>) -> Result<R, ApiError> {
    let input: R::Input = parse_object(body, &format!("invalid {}", R::WHAT), &format!("a {}", R::WHAT))?;
    let now = format_time(app.now_ms());
    let base = Base {
        id: existing
            .map(|e| e.id().to_string())
            .unwrap_or_else(|| format!("{}_{}", R::ID_PREFIX, ulid::Ulid::new().to_string().to_lowercase())),
        created_at: existing.map(|e| e.created_at().to_string()).unwrap_or_else(|| now.clone()),
        now,
    };
    R::parse(app, tenant, input, base).await.map_err(invalid::<R>)
}

async fn create<R: Resource>(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<R>), ApiError> {
    let item: R = from_body(&app, &tenant, body, None).await?;
    store::put(app.store.as_ref(), &tenant, &item, None).await?;
    Ok((StatusCode::CREATED, Json(item)))
}

async fn list<R: Resource>(State(app): State<Arc<App>>, TenantId(tenant): TenantId) -> Result<Vec<R>, ApiError> {
    Ok(store::list::<R>(app.store.as_ref(), &tenant).await?)
}

async fn get_one<R: Resource>(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<Json<R>, ApiError> {
    let item =
        store::find::<R>(app.store.as_ref(), &tenant, &id).await?.ok_or_else(|| ApiError::not_found(R::WHAT, &id))?;
    Ok(Json(item.value))
}

async fn replace<R: Resource>(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<R>, ApiError> {
    let cur =
        store::find::<R>(app.store.as_ref(), &tenant, &id).await?.ok_or_else(|| ApiError::not_found(R::WHAT, &id))?;
    let item: R = from_body(&app, &tenant, body, Some(&cur.value)).await?;
    store::put(app.store.as_ref(), &tenant, &item, Some(cur.version)).await?;
    Ok(Json(item))
}

async fn delete<R: Resource>(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if store::find::<R>(app.store.as_ref(), &tenant, &id).await?.is_none() {
        return Err(ApiError::not_found(R::WHAT, &id));
    }
    if let Some(why) = R::in_use(&app, &tenant, &id).await? {
        return Err(ApiError::new(StatusCode::CONFLICT, format!("{} in use", R::WHAT), why));
    }
    store::delete::<R>(app.store.as_ref(), &tenant, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One resource's annotated handlers, list type and routes, in a module named for it. The
/// handlers only name the types and call the generic ones above. Literals are passed as `tt`
/// so utoipa sees them as plain literals.
macro_rules! resource_api {
    (
        $module:ident: $model:ident, $input:ident, $list:ident { $field:ident },
        paths: $path:tt, $item_path:tt;
        ids: $list_id:tt, $create_id:tt, $get_id:tt, $replace_id:tt, $delete_id:tt;
        docs: $list_doc:tt, $create_doc:tt, $get_doc:tt, $replace_doc:tt, $delete_doc:tt;
        $(in_use: $in_use:tt;)?
    ) => {
        pub mod $module {
            use super::*;

            #[derive(Serialize, ToSchema)]
            #[serde(rename_all = "camelCase")]
            pub struct $list {
                pub $field: Vec<$model>,
            }

            #[doc = $list_doc]
            #[utoipa::path(get, path = $path, tag = "call tracking", operation_id = $list_id,
                responses((status = 200, description = "Every one the tenant has", body = $list)))]
            pub async fn list(state: State<Arc<App>>, tenant: TenantId) -> Result<Json<$list>, ApiError> {
                Ok(Json($list { $field: super::list::<$model>(state, tenant).await? }))
            }

            #[doc = $create_doc]
            #[utoipa::path(post, path = $path, tag = "call tracking", operation_id = $create_id,
                request_body = $input,
                responses((status = 201, description = "Created", body = $model)))]
            pub async fn create(
                state: State<Arc<App>>,
                tenant: TenantId,
                body: JsonBody,
            ) -> Result<(StatusCode, Json<$model>), ApiError> {
                super::create::<$model>(state, tenant, body).await
            }

            #[doc = $get_doc]
            #[utoipa::path(get, path = $item_path, tag = "call tracking", operation_id = $get_id,
                params(("id" = String, Path, description = "Its id")),
                responses((status = 200, description = "Found", body = $model)))]
            pub async fn get_one(
                state: State<Arc<App>>,
                tenant: TenantId,
                id: Path<String>,
            ) -> Result<Json<$model>, ApiError> {
                super::get_one::<$model>(state, tenant, id).await
            }

            #[doc = $replace_doc]
            #[utoipa::path(put, path = $item_path, tag = "call tracking", operation_id = $replace_id,
                params(("id" = String, Path, description = "Its id")),
                request_body = $input,
                responses((status = 200, description = "Replaced", body = $model),
                    (status = 409, description = "Changed concurrently; read it again", body = Error)))]
            pub async fn replace(
                state: State<Arc<App>>,
                tenant: TenantId,
                id: Path<String>,
                body: JsonBody,
            ) -> Result<Json<$model>, ApiError> {
                super::replace::<$model>(state, tenant, id, body).await
            }

            #[doc = $delete_doc]
            #[utoipa::path(delete, path = $item_path, tag = "call tracking", operation_id = $delete_id,
                params(("id" = String, Path, description = "Its id")),
                responses((status = 204, description = "Deleted")
                    $(, (status = 409, description = $in_use, body = Error))?))]
            pub async fn delete(state: State<Arc<App>>, tenant: TenantId, id: Path<String>) -> Result<StatusCode, ApiError> {
                super::delete::<$model>(state, tenant, id).await
            }

            pub fn routes(r: Router<Arc<App>>) -> Router<Arc<App>> {
                r.route($path, get(list).post(create)).route($item_path, get(get_one).put(replace).delete(delete))
            }
        }
    };
}

resource_api! {
    locations: Location, LocationInput, LocationList { locations },
    paths: "/v1/locations", "/v1/locations/{id}";
    ids: "list_locations", "create_location", "get_location", "replace_location", "delete_location";
    docs: "List locations (their address data are the location_info tokens)",
        "Create a location: name, address, accountId, clientLocationId, siteId, domainId",
        "Read a location", "Replace a location",
        "Delete a location (not while campaigns or treatments are at it)";
    in_use: "Campaigns, DNI campaigns or call treatments are at the location (the detail names them)";
}

resource_api! {
    campaigns: Campaign, CampaignInput, CampaignList { campaigns },
    paths: "/v1/campaigns", "/v1/campaigns/{id}";
    ids: "list_campaigns", "create_campaign", "get_campaign", "replace_campaign", "delete_campaign";
    docs: "List campaigns (tracking numbers)",
        "Create a campaign: name, locationId, trackingNumbers, tags, webhooks sent at call begin or end",
        "Read a campaign", "Replace a campaign", "Delete a campaign";
}

resource_api! {
    dni_campaigns: DniCampaign, DniCampaignInput, DniCampaignList { dni_campaigns },
    paths: "/v1/dni-campaigns", "/v1/dni-campaigns/{id}";
    ids: "list_dni_campaigns", "create_dni_campaign", "get_dni_campaign", "replace_dni_campaign", "delete_dni_campaign";
    docs: "List DNI (digital) campaigns",
        "Create a DNI campaign: name, locationId, domains, webhooks sent at call begin or end",
        "Read a DNI campaign", "Replace a DNI campaign", "Delete a DNI campaign";
}

resource_api! {
    call_treatments: CallTreatment, CallTreatmentInput, CallTreatmentList { call_treatments },
    paths: "/v1/call-treatments", "/v1/call-treatments/{id}";
    ids: "list_call_treatments", "create_call_treatment", "get_call_treatment", "replace_call_treatment",
        "delete_call_treatment";
    docs: "List call treatments (IVR options)",
        "Create a call treatment: name, locationId, options (only the callers who chose an option send its webhooks)",
        "Read a call treatment", "Replace a call treatment", "Delete a call treatment";
}

pub fn routes() -> Router<Arc<App>> {
    let r = locations::routes(Router::new());
    let r = campaigns::routes(r);
    let r = dni_campaigns::routes(r);
    call_treatments::routes(r)
}

/// The product's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(
    locations::list,
    locations::create,
    locations::get_one,
    locations::replace,
    locations::delete,
    campaigns::list,
    campaigns::create,
    campaigns::get_one,
    campaigns::replace,
    campaigns::delete,
    dni_campaigns::list,
    dni_campaigns::create,
    dni_campaigns::get_one,
    dni_campaigns::replace,
    dni_campaigns::delete,
    call_treatments::list,
    call_treatments::create,
    call_treatments::get_one,
    call_treatments::replace,
    call_treatments::delete,
))]
pub struct Doc;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::openapi::tests::{documented, returned};
    use crate::api::test_client::Client;
    use serde_json::json;

    fn location() -> Value {
        json!({"name": "Auto ID", "addressLine1": "157 Main Street", "addressLine2": "Apt 4", "city": "Los Angeles",
            "zip": "91741", "state": "CA", "accountId": "26627332", "clientLocationId": "3242243", "siteId": "4567",
            "domainId": "1234"})
    }

    /// The documented schemas are what the handlers return: a location with every field, a
    /// campaign, and a call treatment's option.
    #[tokio::test]
    async fn the_views_are_their_documented_schemas() {
        let doc = crate::api::openapi::build(&crate::products::defaults());
        let c = Client::start("ct-views").await;
        let (s, loc) = c.call("POST", "/v1/locations", Some(&location())).await;
        assert_eq!(s, 201, "{loc}");
        let loc: Location = serde_json::from_value(loc).unwrap();
        assert_eq!(documented(&doc, "Location"), returned(&loc));
        let body =
            json!({"name": "c", "locationId": loc.id, "trackingNumbers": ["7774839229"], "tags": {"Region": "south"}});
        let (s, cmp) = c.call("POST", "/v1/campaigns", Some(&body)).await;
        assert_eq!(s, 201, "{cmp}");
        assert_eq!(documented(&doc, "Campaign"), returned(&cmp));
        let body = json!({"name": "IVR", "locationId": loc.id, "options": [{"key": 1, "name": "Sales"}]});
        let (s, trt) = c.call("POST", "/v1/call-treatments", Some(&body)).await;
        assert_eq!((s, &trt["options"][0]["key"]), (201, &json!("1")), "{trt}");
        assert_eq!(documented(&doc, "TreatmentOption"), returned(&trt["options"][0]));
        let (_, list) = c.call("GET", "/v1/call-treatments", None).await;
        assert_eq!(documented(&doc, "CallTreatmentList"), returned(&list));
        let op = &doc["paths"]["/v1/locations/{id}"]["delete"];
        assert_eq!(op["operationId"], "delete_location");
        assert!(op["responses"]["409"].is_object(), "a location in use is not deleted: {op}");
        let op = &doc["paths"]["/v1/campaigns/{id}"]["delete"];
        assert!(op["responses"]["409"].is_null(), "nothing keeps a campaign: {op}");
    }

    /// Unknown fields are refused, at the top (in the words the routes always used) and
    /// nested (by serde, naming the path); a read sent back is accepted.
    #[tokio::test]
    async fn bodies_are_strict_and_a_read_can_be_put_back() {
        let c = Client::start("ct-strict").await;
        let mut bad = location();
        bad["colour"] = json!("red");
        let (s, v) = c.call("POST", "/v1/locations", Some(&bad)).await;
        assert_eq!((s, v["error"].as_str()), (422, Some("invalid location")), "{v}");
        assert!(v["detail"].as_str().unwrap().starts_with("colour: not a field of a location; its fields are name,"));
        let (_, loc) = c.call("POST", "/v1/locations", Some(&location())).await;
        let id = loc["id"].as_str().unwrap();
        let body = json!({"name": "IVR", "locationId": id, "options": [{"key": "1", "name": "Sales", "prio": 1}]});
        let (s, v) = c.call("POST", "/v1/call-treatments", Some(&body)).await;
        assert_eq!((s, v["error"].as_str()), (422, Some("invalid call treatment")), "{v}");
        assert!(v["detail"].as_str().unwrap().starts_with("options[0].prio: unknown field"), "{v}");
        let body = json!({"name": "IVR", "locationId": id, "options": [{"key": true, "name": "Sales"}]});
        let (s, v) = c.call("POST", "/v1/call-treatments", Some(&body)).await;
        assert_eq!((s, v["detail"].as_str()), (422, Some("options[0].key: a string or a number")), "{v}");
        let body = json!({"name": "c", "locationId": id, "webhooks": [{"webhookId": "wh_1", "sendAt": "later"}]});
        let (s, v) = c.call("POST", "/v1/campaigns", Some(&body)).await;
        assert_eq!(s, 422, "{v}");
        assert!(v["detail"].as_str().unwrap().starts_with("webhooks[0].sendAt: unknown variant `later`"), "{v}");

        let mut read = loc.clone();
        read["city"] = json!("Pasadena");
        let (s, v) = c.call("PUT", &format!("/v1/locations/{id}"), Some(&read)).await;
        assert_eq!((s, v["city"].as_str(), &v["createdAt"]), (200, Some("Pasadena"), &loc["createdAt"]), "{v}");
    }
}
