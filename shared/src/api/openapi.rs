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

/// A time as events and the recover window take it: RFC 3339 with an offset.
#[derive(ToSchema)]
#[schema(
    format = DateTime,
    pattern = "^([0-9]{4}-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8]))|([0-9]{2}(0[48]|[2468][048]|[13579][26])|([02468][048]|[13579][26])00)-02-29)T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$",
    example = "2023-10-19T11:55:20.408+05:30"
)]
#[allow(dead_code)]
pub struct Rfc3339(String);

/// A time as the event log's filters take it: RFC 3339 with an offset, or milliseconds since
/// 1970.
#[derive(ToSchema)]
#[schema(
    pattern = "^([0-9]{1,15}|([0-9]{4}-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8]))|([0-9]{2}(0[48]|[2468][048]|[13579][26])|([02468][048]|[13579][26])00)-02-29)T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))$",
    example = "2024-10-16T15:47:15Z"
)]
#[allow(dead_code)]
pub struct TimeOrMillis(String);

/// A string schema with bounds (derived schemas of newtypes take a pattern only).
fn bounded_string(
    description: &str,
    min: Option<usize>,
    max: usize,
    pattern: &str,
) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .min_length(min)
        .max_length(Some(max))
        .pattern(Some(pattern))
        .into()
}

/// Not blank, and no control characters anywhere.
const REQUIRED_TEXT: &str =
    "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$";

/// Document-only string types: each says what the routes that name it accept.
macro_rules! text_schema {
    ($(#[$doc:meta])* $name:ident, $description:expr, $min:expr, $max:expr, $pattern:expr) => {
        $(#[$doc])*
        #[allow(dead_code)]
        pub struct $name(String);
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                bounded_string($description, $min, $max, $pattern)
            }
        }
        impl ToSchema for $name {}
    };
}

text_schema!(
    /// Free text (a location's address, ids of the client's own systems).
    Text,
    "At most 500 characters, no control characters; blank is the same as absent",
    None,
    500,
    "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"
);
text_schema!(
    /// A name of at most 200 characters ([`crate::api::extract::is_line`]).
    Name,
    "1 to 200 characters, not blank, no control characters",
    Some(1),
    200,
    REQUIRED_TEXT
);
text_schema!(
    /// A From number or sender id as an SMS sender keeps it ([`crate::api::extract::is_line`]).
    SenderFrom,
    "1 to 64 characters, not blank, no control characters",
    Some(1),
    64,
    REQUIRED_TEXT
);
text_schema!(
    /// A required text (a name, the id of another resource): as [`Text`], and not blank.
    RequiredText,
    "1 to 500 characters, not blank, no control characters",
    Some(1),
    500,
    REQUIRED_TEXT
);

/// A read's own field (`id`, `createdAt`, …) in a create or replace body: any value, ignored,
/// so that a read can be edited and sent back.
#[allow(dead_code)]
pub struct SentBack;

impl utoipa::PartialSchema for SentBack {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::SchemaType::AnyValue)
            .description(Some("A read's own field: may be sent back, and is ignored"))
            .into()
    }
}

impl ToSchema for SentBack {}

/// Text with something in it besides blanks and control characters
/// ([`crate::api::extract::has_text`]).
#[derive(ToSchema)]
#[schema(pattern = "[^\\s\\u0000-\\u001f\\u007f-\\u009f]")]
#[allow(dead_code)]
pub struct NonBlank(String);

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
        v1::outcome_events::get_one,
        v1::outcome_events::replace,
        v1::sms_senders::list,
        v1::sms_senders::create,
        v1::sms_senders::get_one,
        v1::sms_senders::replace,
        v1::sms_senders::delete,
        v1::templates::list,
        v1::templates::create,
        v1::templates::token_catalogue,
        v1::templates::get_one,
        v1::templates::replace,
        v1::templates::delete,
        v1::templates::preview,
        v1::twilio::status,
        v1::twilio::inbound,
        v1::deliveries::list,
        v1::deliveries::get_one,
        v1::deliveries::redeliver,
        v1::stats::get_stats,
        v1::admin::create_tenant,
        v1::admin::move_clock,
        v1::admin::scheduler_tick,
    ),
    // Named only by parameters, which do not register what they name.
    components(schemas(Error, TimeOrMillis))
)]
struct Core;

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

#[cfg(test)]
pub(crate) mod tests {
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

    /// Every `$ref` names a schema the document has (a parameter's `value_type` does not
    /// register its schema by itself).
    #[test]
    fn every_reference_resolves() {
        let doc = build(&crate::products::defaults());
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for part in text.split("\"#/components/schemas/").skip(1) {
            let name = &part[..part.find('"').unwrap()];
            assert!(schemas.contains_key(name), "{name} is referenced but not in components.schemas");
        }
    }

    /// The properties of a schema of the document.
    pub(crate) fn documented(doc: &Value, schema: &str) -> BTreeSet<String> {
        let props = doc["components"]["schemas"][schema]["properties"].as_object();
        props.unwrap_or_else(|| panic!("no schema {schema} with properties")).keys().cloned().collect()
    }

    /// The fields a value serializes to.
    pub(crate) fn returned(v: &impl Serialize) -> BTreeSet<String> {
        serde_json::to_value(v).unwrap().as_object().unwrap().keys().cloned().collect()
    }

    #[test]
    fn an_sms_sender_read_is_its_documented_schema() {
        use crate::api::v1::sms_senders::SmsSenderView;
        let doc = build(&crate::products::defaults());
        let s = crate::destinations::sms_senders::SmsSender {
            id: "sms_1".into(),
            name: "main".into(),
            account_sid: "AC0123456789abcdef0123456789abcdef".into(),
            auth_token: "0123456789abcdef0123456789abcdef".into(),
            from: Some("+15550001111".into()),
            created_at: "2024-10-16T15:47:15Z".into(),
            updated_at: "2024-10-16T15:47:15Z".into(),
        };
        assert_eq!(documented(&doc, "SmsSenderView"), returned(&SmsSenderView::from(&s)));
        let input = &doc["components"]["schemas"]["SmsSenderInput"];
        assert_eq!(input["properties"]["authToken"]["writeOnly"], true, "{input}");
        assert_eq!(input["required"], json!(["accountSid"]), "{input}");
        assert_eq!(input["additionalProperties"], false, "unknown fields are refused: {input}");
        let ok = &doc["paths"]["/v1/sms-senders"]["get"]["responses"]["200"];
        assert_eq!(ok["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/SmsSenderList");
    }

    /// The routes typed on this branch (the core's sms senders and templates, call tracking):
    /// each operation has its id, its tag, and a schema for every body it takes or returns.
    #[test]
    fn typed_routes_name_their_types() {
        let doc = build(&crate::products::defaults());
        let typed = [
            "/v1/sms-senders",
            "/v1/templates",
            "/v1/locations",
            "/v1/campaigns",
            "/v1/dni-campaigns",
            "/v1/call-treatments",
        ];
        let mut seen = 0;
        for (method, path) in operations(&doc) {
            if !typed.iter().any(|p| path.starts_with(p)) {
                continue;
            }
            seen += 1;
            let op = &doc["paths"][&path][&method];
            assert!(op["operationId"].is_string() && op["tags"][0].is_string(), "{method} {path}: {op}");
            if let Some(body) = op.get("requestBody") {
                // An optional body (a preview's) is `null` or its type.
                let schema = &body["content"]["application/json"]["schema"];
                let named = schema["$ref"].is_string() || schema["oneOf"][1]["$ref"].is_string();
                assert!(named, "{method} {path}: {body}");
            }
            let ok = op["responses"].as_object().unwrap().iter().find(|(s, _)| s.starts_with('2')).unwrap();
            if ok.0 != "204" {
                let schema = &ok.1["content"]["application/json"]["schema"];
                assert!(schema["$ref"].is_string(), "{method} {path}: {}", ok.1);
            }
        }
        assert_eq!(seen, 5 + 7 + 4 * 5, "sms senders, templates, call tracking");
        let delete = &doc["paths"]["/v1/templates/{id}"]["delete"]["responses"];
        assert!(delete["409"]["description"].as_str().unwrap().contains("Webhooks use"), "{delete}");
        assert!(doc["paths"]["/v1/templates/tokens"]["get"].get("security").is_none(), "public");
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
