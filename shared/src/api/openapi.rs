//! `GET /v1/openapi.json`. The route list here is checked against the router by a test, so
//! the document cannot fall behind the code.

use axum::Json;
use serde_json::{json, Map, Value};

/// (method, path, summary, success status)
pub const ROUTES: &[(&str, &str, &str, u16)] = &[
    ("get", "/health", "Liveness", 200),
    ("get", "/v1/openapi.json", "This document", 200),
    ("post", "/v1/events", "Accept one event or {\"events\": [...]} (idempotent on id / Idempotency-Key)", 202),
    ("get", "/v1/triggers", "List triggers", 200),
    ("post", "/v1/triggers", "Create a trigger", 201),
    ("get", "/v1/triggers/{id}", "Read a trigger", 200),
    ("put", "/v1/triggers/{id}", "Replace a trigger", 200),
    ("delete", "/v1/triggers/{id}", "Delete a trigger", 204),
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
    ("get", "/v1/call-targets", "List call targets (and the message placeholders)", 200),
    ("post", "/v1/call-targets", "Create a call target: name, handle, messages, replacements, metadata", 201),
    ("get", "/v1/call-targets/{id}", "Read a call target", 200),
    ("put", "/v1/call-targets/{id}", "Replace (or create) a call target", 200),
    ("delete", "/v1/call-targets/{id}", "Delete a call target", 204),
    ("get", "/v1/connections", "List notification connections (secrets masked)", 200),
    ("post", "/v1/connections", "Create a connection: one notification kind over Twilio SMS or a webhook", 201),
    ("get", "/v1/connections/{id}", "Read a connection (auth token / password masked)", 200),
    ("put", "/v1/connections/{id}", "Replace a connection (send the mask back to keep a secret)", 200),
    ("delete", "/v1/connections/{id}", "Delete a connection", 204),
    ("get", "/v1/callbacks/{id}", "A callback's state and reminders, from its callback.* events", 200),
    ("post", "/v1/twilio/status", "Twilio message status callback (form-encoded, X-Twilio-Signature)", 204),
    ("get", "/v1/deliveries", "The event log: filter by webhookId, triggerId, eventId, status, since, until", 200),
    ("get", "/v1/deliveries/{id}", "One delivery with every attempt", 200),
    ("post", "/v1/deliveries/{id}/redeliver", "Send a delivery again", 202),
    ("get", "/v1/leads/{id}", "Where lead.update.list moved a lead", 200),
    ("post", "/v1/admin/tenants", "Create a tenant and its first API key (admin token)", 201),
    ("post", "/v1/admin/clock", "Move the manual clock (only with --clock manual)", 200),
    ("post", "/v1/admin/scheduler/tick", "Run the scheduler now", 200),
];

pub fn build() -> Value {
    let mut paths = Map::new();
    for (method, path, summary, status) in ROUTES {
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
        if !path.starts_with("/health") && *path != "/v1/openapi.json" && !path.starts_with("/v1/twilio/") {
            op["security"] = json!([{"bearer": []}]);
        }
        entry[*method] = op;
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

pub async fn document() -> Json<Value> {
    Json(build())
}
