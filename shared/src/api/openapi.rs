//! `GET /v1/openapi.json`. The route list here (and each product's) is checked against the
//! router by a test, so the document cannot fall behind the code.

use crate::pipeline::Pipeline;
use crate::product::{Products, RouteDoc};
use axum::extract::State;
use axum::Json;
use serde_json::{json, Map, Value};

/// The pipeline's and the destinations' routes: (method, path, summary, success status).
pub const ROUTES: &[RouteDoc] = &[
    ("get", "/health", "Liveness", 200),
    ("get", "/v1/openapi.json", "This document", 200),
    ("post", "/v1/events", "Accept one event or {\"events\": [...]} (idempotent on id / Idempotency-Key)", 202),
    ("get", "/v1/webhooks", "List webhooks", 200),
    ("post", "/v1/webhooks", "Create a webhook (the signing secret is shown once)", 201),
    ("get", "/v1/webhooks/{id}", "Read a webhook (secrets masked)", 200),
    ("put", "/v1/webhooks/{id}", "Replace a webhook", 200),
    ("delete", "/v1/webhooks/{id}", "Delete a webhook", 204),
    ("post", "/v1/webhooks/{id}/rotate-secret", "Rotate the signing secret (old one signs for 24 h more)", 200),
    (
        "post",
        "/v1/webhooks/{id}/recover",
        "Send again the webhook's failed deliveries since a time: {\"since\": RFC 3339}",
        202,
    ),
    ("get", "/v1/account/signing-secret", "The tenant's signing secret for inline trigger URLs (masked)", 200),
    (
        "post",
        "/v1/account/signing-secret/rotate",
        "Rotate the tenant's signing secret (shown once; old one signs for 24 h more)",
        200,
    ),
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
    ("post", "/v1/twilio/status", "Twilio message status callback (form-encoded, X-Twilio-Signature)", 204),
    ("get", "/v1/deliveries", "The event log: filter by webhookId, triggerId, eventId, status, since, until", 200),
    ("get", "/v1/deliveries/{id}", "One delivery with every attempt", 200),
    ("post", "/v1/deliveries/{id}/redeliver", "Send a delivery again", 202),
    ("post", "/v1/admin/tenants", "Create a tenant and its first API key (admin token)", 201),
    ("post", "/v1/admin/clock", "Move the manual clock (only with --clock manual)", 200),
    ("post", "/v1/admin/scheduler/tick", "Run the scheduler now", 200),
];

/// Every route the router serves with these products.
pub fn routes(products: &Products) -> Vec<RouteDoc> {
    let mut all = ROUTES.to_vec();
    for p in products.iter() {
        all.extend_from_slice(p.route_docs());
    }
    all
}

pub fn build(products: &Products) -> Value {
    let mut paths = Map::new();
    for (method, path, summary, status) in routes(products) {
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        let mut op = json!({
            "summary": summary,
            "responses": {
                status.to_string(): {"description": "success"},
                "4XX": {"description": "bad request", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            }
        });
        if path.contains("{id}") {
            op["parameters"] = json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}]);
        }
        // Twilio's callbacks are authenticated by X-Twilio-Signature, not an API key.
        if !path.starts_with("/health") && path != "/v1/openapi.json" && !path.starts_with("/v1/twilio/") {
            op["security"] = json!([{"bearer": []}]);
        }
        entry[method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Ringhook", "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": {"type": "object", "required": ["error", "detail"],
                "properties": {"error": {"type": "string"}, "detail": {"type": "string"}}}}
        }
    })
}

pub async fn document(State(p): State<Pipeline>) -> Json<Value> {
    Json(build(&p.products))
}
