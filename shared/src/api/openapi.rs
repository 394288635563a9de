//! `GET /v1/openapi.json`, derived from the handlers' `#[utoipa::path]` annotations and the
//! request and response types they name: a field or a route cannot be in the code and not in
//! the document. Each product adds its own ([`crate::product::Product::openapi`]); the error
//! contract every route shares (the `{"error", "detail"}` answers, the API key) is added here
//! once rather than on every handler.

use crate::api::v1;
use crate::pipeline::Pipeline;
use crate::product::Products;
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use serde_json::{json, Map, Value};
use utoipa::{OpenApi, ToSchema};

/// Every error answer: a short stable name and a sentence that names the field or the reason.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"error": "invalid webhook", "detail": "method: unknown variant `PATCH`, expected `POST` or `PUT`"}))]
pub struct Error {
    pub error: String,
    pub detail: String,
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    pub status: String,
}

/// Liveness: answers without touching storage.
#[utoipa::path(get, path = "/health", tag = "meta", operation_id = "health",
    responses((status = 200, description = "The process is up", body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health { status: "ok".into() })
}

/// This document.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "meta", operation_id = "openapi",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn document(State(p): State<Pipeline>) -> Json<Value> {
    Json(build(&p.products))
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Ringhook",
        description = "Contact-center notifications and triggers: events in, webhooks and SMS out, \
            with a log of every attempt. Every error is `{\"error\", \"detail\"}` JSON.",
    ),
    paths(
        health,
        document,
        v1::events::post_events,
        v1::webhooks::list,
        v1::webhooks::create,
        v1::webhooks::get_one,
        v1::webhooks::replace,
        v1::webhooks::delete,
        v1::webhooks::rotate_secret,
        v1::webhooks::send_test,
        v1::deliveries::recover,
        v1::signing_secret::get_one,
        v1::signing_secret::rotate,
        v1::twilio::status,
        v1::deliveries::list,
        v1::deliveries::get_one,
        v1::deliveries::redeliver,
        v1::stats::get_stats,
        v1::admin::create_tenant,
        v1::admin::move_clock,
        v1::admin::scheduler_tick,
    ),
    components(schemas(Error))
)]
struct Core;

/// Routes not yet derived from their handlers.
const LEGACY: &[RouteDoc] = &[
    ("get", "/v1/sms-senders", "List SMS senders (Twilio accounts; auth tokens masked)", 200),
    ("post", "/v1/sms-senders", "Create an SMS sender: accountSid, authToken (write-only), from?", 201),
    ("get", "/v1/sms-senders/{id}", "Read an SMS sender (auth token masked)", 200),
    (
        "put",
        "/v1/sms-senders/{id}",
        "Replace an SMS sender (leave the token out or send the mask back to keep it)",
        200,
    ),
    ("delete", "/v1/sms-senders/{id}", "Delete an SMS sender", 204),
    ("get", "/v1/templates", "List body templates (JSON or XML, with their extracted fields and tokens)", 200),
    (
        "post",
        "/v1/templates",
        "Create a template: name, group, type (json/xml), format with %token%s, mapping field → token",
        201,
    ),
    ("get", "/v1/templates/tokens", "The token catalogue (data points), grouped by category", 200),
    ("get", "/v1/templates/{id}", "Read a template", 200),
    ("put", "/v1/templates/{id}", "Replace a template", 200),
    ("delete", "/v1/templates/{id}", "Delete a template (409 while a webhook uses it)", 204),
    (
        "post",
        "/v1/templates/{id}/preview",
        "Render a template with the catalogue's examples or {\"values\": {token: value}}",
        200,
    ),
];

/// Operations anyone may call (no API key).
const PUBLIC: &[&str] = &["/health", "/v1/openapi.json", "/v1/templates/tokens"];

/// The tags, in the order a reader meets them, with what each groups.
const TAGS: &[(&str, &str)] = &[
    ("events", "Events in: one per request or a batch; idempotent on id / Idempotency-Key"),
    ("webhooks", "HTTP destinations: URL, method, headers, auth, success codes, retry policy, signing secret"),
    ("deliveries", "The event log: every delivery with every attempt; redeliver and recover"),
    ("triggers", "Conditions on an event type and the actions to take"),
    ("callbacks", "Callback notifications: call targets, connections (notification kind → destination), callbacks"),
    ("call tracking", "Locations, campaigns, DNI campaigns and call treatments that send webhooks on calls"),
    ("templates", "Body templates (JSON or XML) with %token% placeholders from the token catalogue"),
    ("sms senders", "Twilio accounts SMS are sent through (auth tokens write-only)"),
    ("account", "The tenant's own settings and secrets"),
    ("twilio", "Callbacks from Twilio, authenticated by X-Twilio-Signature"),
    ("admin", "Deployment administration with the admin token"),
    ("meta", "Liveness and this document"),
];

/// The document for a process running these products.
pub fn build(products: &Products) -> Value {
    let mut doc = Core::openapi();
    doc.merge(from_routes(LEGACY));
    for p in products.iter() {
        doc.merge(p.openapi());
    }
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    let mut doc = serde_json::to_value(&doc).expect("the document serializes");
    add_contract(&mut doc);
    doc
}

/// The answers every route shares, added to each operation that can give them: the error
/// shape, the API key where no other scheme is named, and the security schemes.
fn add_contract(doc: &mut Value) {
    let error = |description: &str| {
        json!({"description": description,
               "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
    };
    let paths = doc["paths"].as_object_mut().expect("paths");
    for (path, item) in paths.iter_mut() {
        let public = PUBLIC.contains(&path.as_str());
        for (_method, op) in item.as_object_mut().expect("path item").iter_mut() {
            let Some(op) = op.as_object_mut() else { continue };
            let has_body = op.contains_key("requestBody");
            let params = op.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
            let in_path = params.iter().any(|p| p["in"] == "path");
            let has_params = !params.is_empty();
            if !public && !op.contains_key("security") {
                op.insert("security".into(), json!([{"apiKey": []}]));
            }
            let responses = op.entry("responses").or_insert_with(|| json!({})).as_object_mut().expect("responses");
            let mut add = |status: &str, description: &str| {
                responses.entry(status.to_string()).or_insert_with(|| error(description));
            };
            if has_body || has_params {
                add("400", "Malformed request: a body that is not JSON, a path or header that cannot be read");
            }
            if !public {
                add("401", "No valid credential in Authorization");
            }
            if in_path {
                add("404", "No such resource");
            }
            if has_body {
                add("413", "The body is larger than the limit (256 KiB)");
                add("415", "The Content-Type is not one this route takes");
                add("422", "The body is well-formed but not valid: the detail names the field");
            } else if has_params {
                add("422", "A parameter is not valid: the detail names it");
            }
            if !public {
                add("503", "Storage or the queue is unavailable; retry later");
            }
        }
    }
    let components = doc["components"].as_object_mut().expect("components");
    components.insert(
        "securitySchemes".into(),
        json!({
            "apiKey": {"type": "http", "scheme": "bearer",
                       "description": "The tenant's API key (POST /v1/admin/tenants gives the first one)"},
            "adminToken": {"type": "http", "scheme": "bearer",
                           "description": "The deployment's admin token (RINGHOOK_ADMIN_TOKEN)"},
            "twilioSignature": {"type": "apiKey", "in": "header", "name": "X-Twilio-Signature",
                                "description": "HMAC-SHA1 of the callback URL and its POST parameters with the SMS sender's auth token"}
        }),
    );
    doc["tags"] = Value::Array(
        TAGS.iter().map(|(name, description)| json!({"name": name, "description": description})).collect(),
    );
}

/// The (method, path) of every operation in a document, for tests and tools.
pub fn operations(doc: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap_or(&Map::new()) {
        for method in item.as_object().into_iter().flat_map(|m| m.keys()) {
            if ["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                out.push((method.clone(), path.clone()));
            }
        }
    }
    out
}

/// One route as a product listed it before its handlers were annotated: (method, path,
/// summary, success status). Only until every product derives its document.
pub type RouteDoc = (&'static str, &'static str, &'static str, u16);

/// A document of routes listed by hand (no schemas): the interim form of [`RouteDoc`]s.
pub fn from_routes(routes: &[RouteDoc]) -> utoipa::openapi::OpenApi {
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, Paths};
    use utoipa::openapi::{Object, Required, ResponseBuilder, Type};
    let mut paths = Paths::new();
    for (method, path, summary, status) in routes {
        let method = match *method {
            "get" => HttpMethod::Get,
            "post" => HttpMethod::Post,
            "put" => HttpMethod::Put,
            "delete" => HttpMethod::Delete,
            _ => HttpMethod::Patch,
        };
        let mut op = OperationBuilder::new()
            .summary(Some(*summary))
            .response(status.to_string(), ResponseBuilder::new().description("success").build());
        if path.contains("{id}") {
            op = op.parameter(
                ParameterBuilder::new()
                    .name("id")
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .schema(Some(Object::with_type(Type::String))),
            );
        }
        paths.add_path_operation(path, vec![method], op.build());
    }
    let mut doc = utoipa::openapi::OpenApi::default();
    doc.paths = paths;
    doc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::v1::webhooks::{view, WebhookView};
    use crate::model::webhook::SigningSecret;
    use crate::model::{HeaderSpec, HttpMethod, Webhook, WebhookAuth};
    use std::collections::BTreeSet;

    fn sample() -> Webhook {
        Webhook {
            id: "wh_1".into(),
            name: "CRM".into(),
            url: "https://hooks.example.com/".into(),
            method: HttpMethod::Put,
            headers: vec![HeaderSpec { name: "X-Api-Key".into(), value: "k".into() }],
            auth: WebhookAuth::Basic { username: "u".into(), password: "p".into() },
            success_codes: vec![200],
            retry_policy: Default::default(),
            timeout_ms: 1000,
            secrets: vec![SigningSecret { secret: crate::delivery::signing::generate_secret(), expires_at_ms: None }],
            template_id: Some("tpl_1".into()),
            created_at: "2024-10-16T15:47:15Z".into(),
            updated_at: "2024-10-16T15:47:15Z".into(),
        }
    }

    /// The document's schema of a response is the type the handler returns: the fields a read
    /// of a webhook carries are exactly the documented properties (so removing a field from
    /// `WebhookView` removes it from both).
    #[test]
    fn a_response_schema_is_the_fields_the_handler_returns() {
        let doc = build(&crate::products::defaults());
        let schema = &doc["components"]["schemas"]["WebhookView"];
        let documented: BTreeSet<String> = schema["properties"].as_object().unwrap().keys().cloned().collect();
        let mut v: WebhookView = view(&sample());
        v.previous_secret_expires_at = Some("2024-10-17T15:47:15Z".into());
        let returned: BTreeSet<String> =
            serde_json::to_value(&v).unwrap().as_object().unwrap().keys().cloned().collect();
        assert_eq!(documented, returned);
        assert!(documented.contains("signingSecret") && !documented.contains("secrets"), "{documented:?}");
        // And it is the schema the operations name.
        let ok = &doc["paths"]["/v1/webhooks/{id}"]["get"]["responses"]["200"];
        assert_eq!(ok["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/WebhookView");
    }
}
