//! The product's API: `/v1/locations`, `/v1/campaigns`, `/v1/dni-campaigns` and
//! `/v1/call-treatments`, the same five routes for each (list, create, read, replace, delete).

use super::model::{number_key, CallTreatment, Campaign, DniCampaign, Location, SendAt, TreatmentOption, WebhookUse};
use super::store::{self, Stored};
use crate::api::extract::{JsonBody, TenantId};
use crate::api::openapi::RouteDoc;
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
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// A kind of configuration served by the generic handlers below.
#[async_trait]
pub trait Resource: Stored {
    /// The name in messages (`location`).
    const WHAT: &'static str;
    /// The key of the list answer (`locations`).
    const LIST: &'static str;
    /// The prefix of new ids (`loc`).
    const ID_PREFIX: &'static str;
    const FIELDS: &'static [&'static str];

    /// The item from a request body's fields (already checked to be among `FIELDS`); the error
    /// names the field.
    async fn parse(app: &App, tenant: &str, o: &Map<String, Value>, base: Base) -> Result<Self, String>;

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

fn text(o: &Map<String, Value>, f: &str) -> Result<Option<String>, String> {
    match o.get(f) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) if s.chars().count() <= 500 && !s.contains(char::is_control) => {
            Ok(Some(s.trim().to_string()))
        }
        _ => Err(format!("{f}: must be a string of at most 500 characters")),
    }
}

fn required(o: &Map<String, Value>, f: &str) -> Result<String, String> {
    text(o, f)?.ok_or_else(|| format!("{f}: required, a non-empty string"))
}

fn strings(o: &Map<String, Value>, f: &str) -> Result<Vec<String>, String> {
    match o.get(f) {
        None | Some(Value::Null) => Ok(vec![]),
        Some(Value::Array(a)) if a.len() <= 1000 => a
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) if !s.trim().is_empty() && s.len() <= 500 => Ok(s.trim().to_string()),
                _ => Err(format!("{f}[{i}]: must be a non-empty string")),
            })
            .collect(),
        _ => Err(format!("{f}: must be a list of strings")),
    }
}

/// The location named by `locationId`, which must exist.
async fn location_of(app: &App, tenant: &str, o: &Map<String, Value>) -> Result<String, String> {
    let id = required(o, "locationId")?;
    match store::find::<Location>(app.store.as_ref(), tenant, &id).await {
        Ok(Some(_)) => Ok(id),
        Ok(None) => Err(format!("locationId: no location {id:?} (see GET /v1/locations)")),
        Err(e) => Err(format!("locationId: could not be checked now ({e}); try again")),
    }
}

/// `[{"webhookId", "sendAt": "begin"|"end"}]`: each webhook must exist, and its template (if
/// any) must be one the location may use.
async fn webhook_uses(
    app: &App,
    tenant: &str,
    v: Option<&Value>,
    field: &str,
    location: &str,
    default_send_at: Option<SendAt>,
) -> Result<Vec<WebhookUse>, String> {
    let items = match v {
        None | Some(Value::Null) => return Ok(vec![]),
        Some(Value::Array(a)) if a.len() <= 50 => a,
        _ => return Err(format!("{field}: must be a list of {{\"webhookId\", \"sendAt\": \"begin\" or \"end\"}}")),
    };
    let mut out: Vec<WebhookUse> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("{field}[{i}]");
        let o = item.as_object().ok_or_else(|| format!("{at}: must be an object {{\"webhookId\", \"sendAt\"}}"))?;
        if let Some(k) = o.keys().find(|k| !["webhookId", "sendAt"].contains(&k.as_str())) {
            return Err(format!("{at}.{k}: not a field; use webhookId and sendAt"));
        }
        let webhook_id = required(o, "webhookId").map_err(|e| format!("{at}.{e}"))?;
        let send_at = match (o.get("sendAt").and_then(Value::as_str), default_send_at) {
            (Some("begin"), _) => SendAt::Begin,
            (Some("end"), _) => SendAt::End,
            (None, Some(d)) if o.get("sendAt").is_none_or(Value::is_null) => d,
            _ => return Err(format!("{at}.sendAt: required, \"begin\" (the call begins) or \"end\" (it ends)")),
        };
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

#[async_trait]
impl Resource for Location {
    const WHAT: &'static str = "location";
    const LIST: &'static str = "locations";
    const ID_PREFIX: &'static str = "loc";
    const FIELDS: &'static [&'static str] = &[
        "name",
        "addressLine1",
        "addressLine2",
        "city",
        "zip",
        "state",
        "accountId",
        "clientLocationId",
        "siteId",
        "domainId",
    ];

    async fn parse(_app: &App, _tenant: &str, o: &Map<String, Value>, b: Base) -> Result<Self, String> {
        Ok(Location {
            id: b.id,
            name: required(o, "name")?,
            address_line1: text(o, "addressLine1")?,
            address_line2: text(o, "addressLine2")?,
            city: text(o, "city")?,
            zip: text(o, "zip")?,
            state: text(o, "state")?,
            account_id: text(o, "accountId")?,
            client_location_id: text(o, "clientLocationId")?,
            site_id: text(o, "siteId")?,
            domain_id: text(o, "domainId")?,
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

#[async_trait]
impl Resource for Campaign {
    const WHAT: &'static str = "campaign";
    const LIST: &'static str = "campaigns";
    const ID_PREFIX: &'static str = "cmp";
    const FIELDS: &'static [&'static str] = &["name", "locationId", "trackingNumbers", "tags", "webhooks"];

    async fn parse(app: &App, tenant: &str, o: &Map<String, Value>, b: Base) -> Result<Self, String> {
        let name = required(o, "name")?;
        let location_id = location_of(app, tenant, o).await?;
        let tracking_numbers = strings(o, "trackingNumbers")?;
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
        let tags = match o.get("tags") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) if m.values().all(|v| v.is_string() || v.is_number()) => m.clone(),
            _ => return Err("tags: an object of names to values, e.g. {\"Region\": \"south\"}".into()),
        };
        let webhooks = webhook_uses(app, tenant, o.get("webhooks"), "webhooks", &location_id, None).await?;
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

#[async_trait]
impl Resource for DniCampaign {
    const WHAT: &'static str = "DNI campaign";
    const LIST: &'static str = "dniCampaigns";
    const ID_PREFIX: &'static str = "dni";
    const FIELDS: &'static [&'static str] = &["name", "locationId", "domains", "webhooks"];

    async fn parse(app: &App, tenant: &str, o: &Map<String, Value>, b: Base) -> Result<Self, String> {
        let name = required(o, "name")?;
        let location_id = location_of(app, tenant, o).await?;
        let domains = strings(o, "domains")?;
        let webhooks = webhook_uses(app, tenant, o.get("webhooks"), "webhooks", &location_id, None).await?;
        Ok(DniCampaign { id: b.id, name, location_id, domains, webhooks, created_at: b.created_at, updated_at: b.now })
    }
}

#[async_trait]
impl Resource for CallTreatment {
    const WHAT: &'static str = "call treatment";
    const LIST: &'static str = "callTreatments";
    const ID_PREFIX: &'static str = "trt";
    const FIELDS: &'static [&'static str] = &["name", "locationId", "options"];

    async fn parse(app: &App, tenant: &str, o: &Map<String, Value>, b: Base) -> Result<Self, String> {
        let name = required(o, "name")?;
        let location_id = location_of(app, tenant, o).await?;
        let items = match o.get("options") {
            Some(Value::Array(a)) if !a.is_empty() && a.len() <= 20 => a,
            _ => return Err("options: required, a list of {\"key\", \"name\", \"webhooks\"} (e.g. 1 = Sales)".into()),
        };
        let mut options: Vec<TreatmentOption> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let at = format!("options[{i}]");
            let o = item
                .as_object()
                .ok_or_else(|| format!("{at}: must be an object {{\"key\", \"name\", \"webhooks\"}}"))?;
            if let Some(k) = o.keys().find(|k| !["key", "name", "webhooks"].contains(&k.as_str())) {
                return Err(format!("{at}.{k}: not a field; use key, name and webhooks"));
            }
            let key = match o.get("key") {
                Some(Value::Number(n)) => n.to_string(),
                _ => required(o, "key").map_err(|e| format!("{at}.{e}"))?,
            };
            let name = required(o, "name").map_err(|e| format!("{at}.{e}"))?;
            if options.iter().any(|p| p.key == key || p.name.eq_ignore_ascii_case(&name)) {
                return Err(format!("{at}: key {key:?} or name {name:?} is already an option"));
            }
            // The caller chooses during the call: an option's webhooks go at its end unless told.
            let webhooks = webhook_uses(
                app,
                tenant,
                o.get("webhooks"),
                &format!("{at}.webhooks"),
                &location_id,
                Some(SendAt::End),
            )
            .await?;
            options.push(TreatmentOption { key, name, webhooks });
        }
        Ok(CallTreatment { id: b.id, name, location_id, options, created_at: b.created_at, updated_at: b.now })
    }
}

fn invalid<R: Resource>(detail: impl Into<String>) -> ApiError {
    ApiError::unprocessable(format!("invalid {}", R::WHAT), detail)
}

async fn from_body<R: Resource>(app: &App, tenant: &str, body: &Value, existing: Option<&R>) -> Result<R, ApiError> {
    let o = body.as_object().ok_or_else(|| invalid::<R>(format!("the {} must be a JSON object", R::WHAT)))?;
    if let Some(k) = o.keys().find(|k| !R::FIELDS.contains(&k.as_str())) {
        return Err(invalid::<R>(format!(
            "{k}: not a field of a {}; its fields are {}",
            R::WHAT,
            R::FIELDS.join(", ")
        )));
    }
    let now = format_time(app.now_ms());
    let base = Base {
        id: existing
            .map(|e| e.id().to_string())
            .unwrap_or_else(|| format!("{}_{}", R::ID_PREFIX, ulid::Ulid::new().to_string().to_lowercase())),
        created_at: existing.map(|e| e.created_at().to_string()).unwrap_or_else(|| now.clone()),
        now,
    };
    R::parse(app, tenant, o, base).await.map_err(invalid::<R>)
}

async fn create<R: Resource>(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<R>), ApiError> {
    let item: R = from_body(&app, &tenant, &body, None).await?;
    store::put(app.store.as_ref(), &tenant, &item, None).await?;
    Ok((StatusCode::CREATED, Json(item)))
}

async fn list<R: Resource>(State(app): State<Arc<App>>, TenantId(tenant): TenantId) -> Result<Json<Value>, ApiError> {
    let items = store::list::<R>(app.store.as_ref(), &tenant).await?;
    Ok(Json(json!({ R::LIST: items })))
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
    let item: R = from_body(&app, &tenant, &body, Some(&cur.value)).await?;
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

fn resource<R: Resource>(router: Router<Arc<App>>, path: &str) -> Router<Arc<App>> {
    router
        .route(path, get(list::<R>).post(create::<R>))
        .route(&format!("{path}/{{id}}"), get(get_one::<R>).put(replace::<R>).delete(delete::<R>))
}

pub fn routes() -> Router<Arc<App>> {
    let r = resource::<Location>(Router::new(), "/v1/locations");
    let r = resource::<Campaign>(r, "/v1/campaigns");
    let r = resource::<DniCampaign>(r, "/v1/dni-campaigns");
    resource::<CallTreatment>(r, "/v1/call-treatments")
}

pub const ROUTES: &[RouteDoc] = &[
    ("get", "/v1/locations", "List locations (their address data are the location_info tokens)", 200),
    ("post", "/v1/locations", "Create a location: name, address, accountId, clientLocationId, siteId, domainId", 201),
    ("get", "/v1/locations/{id}", "Read a location", 200),
    ("put", "/v1/locations/{id}", "Replace a location", 200),
    ("delete", "/v1/locations/{id}", "Delete a location (409 while campaigns or treatments are at it)", 204),
    ("get", "/v1/campaigns", "List campaigns (tracking numbers)", 200),
    (
        "post",
        "/v1/campaigns",
        "Create a campaign: name, locationId, trackingNumbers, tags, webhooks [{webhookId, sendAt: begin|end}]",
        201,
    ),
    ("get", "/v1/campaigns/{id}", "Read a campaign", 200),
    ("put", "/v1/campaigns/{id}", "Replace a campaign", 200),
    ("delete", "/v1/campaigns/{id}", "Delete a campaign", 204),
    ("get", "/v1/dni-campaigns", "List DNI (digital) campaigns", 200),
    (
        "post",
        "/v1/dni-campaigns",
        "Create a DNI campaign: name, locationId, domains, webhooks [{webhookId, sendAt: begin|end}]",
        201,
    ),
    ("get", "/v1/dni-campaigns/{id}", "Read a DNI campaign", 200),
    ("put", "/v1/dni-campaigns/{id}", "Replace a DNI campaign", 200),
    ("delete", "/v1/dni-campaigns/{id}", "Delete a DNI campaign", 204),
    ("get", "/v1/call-treatments", "List call treatments (IVR options)", 200),
    (
        "post",
        "/v1/call-treatments",
        "Create a call treatment: name, locationId, options [{key, name, webhooks}] (only that option's callers are sent)",
        201,
    ),
    ("get", "/v1/call-treatments/{id}", "Read a call treatment", 200),
    ("put", "/v1/call-treatments/{id}", "Replace a call treatment", 200),
    ("delete", "/v1/call-treatments/{id}", "Delete a call treatment", 204),
];
