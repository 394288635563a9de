//! What the Lambda functions do with their invocations, kept here so it is written once and
//! testable in-process: building the app from the environment (once, at init), SQS batches
//! with partial failures, and the scheduled tick. Each function's `main.rs` only wires these.

use crate::app::{App, Ports, Settings};
use crate::aws::{load_sdk_config_checked, AwsSettings, DynamoStore, SqsQueue};
use crate::delivery::ssrf::DestinationPolicy;
use crate::pipeline::{consumer, scheduler, Pipeline};
use crate::ports::bus::{BusError, BusEvent, EventBus};
use crate::ports::{Clock, ManualClock, QueueName, SystemClock};
use crate::product::stage::Stage;
use aws_lambda_events::event::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use std::sync::Arc;

/// Deployment settings from `RINGHOOK_*` variables (those the SAM template sets).
pub fn settings_from_env() -> anyhow::Result<Settings> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let policy = DestinationPolicy::parse_allow_list(&var("RINGHOOK_ALLOW_DESTINATIONS").unwrap_or_default())
        .map_err(|e| anyhow::anyhow!("RINGHOOK_ALLOW_DESTINATIONS: {e}"))?;
    let mut s = Settings::new(policy);
    s.admin_token = var("RINGHOOK_ADMIN_TOKEN");
    if let Some(t) = var("RINGHOOK_TWILIO_BASE_URL") {
        s.twilio_base_url = t;
    }
    if let Some(p) = var("RINGHOOK_PUBLIC_URL") {
        s.public_url = p;
    }
    Ok(s)
}

/// The AWS adapters for the resources named by `RINGHOOK_*` variables, from one `SdkConfig`.
pub async fn aws_ports(clock: Arc<dyn Clock>, manual_clock: Option<Arc<ManualClock>>) -> anyhow::Result<Ports> {
    let sdk = load_sdk_config_checked().await?;
    let adapters = AwsSettings::from_env()?.connect(&sdk, clock.clone());
    Ok(Ports { store: adapters.store, queue: adapters.queue, bus: adapters.bus, clock, manual_clock, outbox: None })
}

/// The app on the AWS adapters, with every product seen through stage `S` (the function's),
/// built once at init for the process's life (evaluate, deliver).
pub async fn aws_app_from_env<S: Stage>() -> anyhow::Result<Pipeline> {
    let ports = aws_ports(Arc::new(SystemClock), None).await?;
    Ok(Pipeline::new(App::new(ports, settings_from_env()?), crate::products::registry::<S>()))
}

/// [`aws_app_from_env`] for the functions that never publish: ingest, api and scheduler (the
/// SAM template grants `events:PutEvents` to evaluate and deliver only). Their bus refuses every
/// publish, as EventBridge would, so they neither build nor link an EventBridge client.
pub async fn aws_app_from_env_without_bus<S: Stage>() -> anyhow::Result<Pipeline> {
    let sdk = load_sdk_config_checked().await?;
    let aws = AwsSettings::from_env()?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let ports = Ports {
        store: Arc::new(DynamoStore::new(&sdk, aws.table.clone(), clock.clone()).with_due_shards(aws.due_shards)),
        queue: Arc::new(SqsQueue::new(&sdk, aws.queue_urls())),
        bus: Arc::new(NoBus),
        clock,
        manual_clock: None,
        outbox: None,
    };
    Ok(Pipeline::new(App::new(ports, settings_from_env()?), crate::products::registry::<S>()))
}

/// The bus of a function that does not publish.
struct NoBus;

#[async_trait::async_trait]
impl EventBus for NoBus {
    async fn publish(&self, events: Vec<BusEvent>) -> Result<(), BusError> {
        if events.is_empty() {
            return Ok(());
        }
        Err(BusError(format!(
            "this function does not publish events ({} refused); only evaluate and deliver may",
            events.len()
        )))
    }
}

/// An SQS batch for `queue`: every message handled; the ones that failed are reported so
/// only they return to the queue (`ReportBatchItemFailures`) and, after the queue's
/// `maxReceiveCount`, go to its dead-letter queue.
pub async fn handle_sqs(app: &Pipeline, queue: QueueName, event: SqsEvent) -> SqsBatchResponse {
    match queue {
        QueueName::Events => handle_events_sqs(app, event).await,
        QueueName::Deliveries => handle_deliveries_sqs(app, event).await,
    }
}

/// [`handle_sqs`] for the events queue (the `evaluate` function).
pub async fn handle_events_sqs(app: &Pipeline, event: SqsEvent) -> SqsBatchResponse {
    let (mut response, pairs) = split_batch(event);
    for id in consumer::handle_events(app, &pairs).await {
        response.add_failure(id);
    }
    response
}

/// [`handle_sqs`] for the deliveries queue (the `deliver` function).
pub async fn handle_deliveries_sqs(app: &Pipeline, event: SqsEvent) -> SqsBatchResponse {
    let (mut response, pairs) = split_batch(event);
    for id in consumer::handle_deliveries(app, &pairs).await {
        response.add_failure(id);
    }
    crate::metrics::flush("deliver", app.now_ms());
    response
}

/// `(id, body)` per record; a record without a body is a failure already.
fn split_batch(event: SqsEvent) -> (SqsBatchResponse, Vec<(String, String)>) {
    let mut response = SqsBatchResponse::default();
    let mut pairs = Vec::with_capacity(event.records.len());
    for (i, m) in event.records.into_iter().enumerate() {
        let id = m.message_id.unwrap_or_else(|| format!("record-{i}"));
        match m.body {
            Some(body) => pairs.push((id, body)),
            None => response.add_failure(id),
        }
    }
    (response, pairs)
}

/// An API Gateway HTTP API (payload format 2.0) request, answered by `router` (the `ingest` and
/// `api` functions). Written here rather than taken from `lambda_http`, whose response
/// conversion links a whole charset library to decode text bodies: Ringhook answers UTF-8 JSON
/// (anything else goes back base64-encoded, as API Gateway expects).
pub async fn handle_http(router: &axum::Router, event: ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse {
    use axum::body::Body;
    use base64::Engine;
    use tower::ServiceExt;
    let b64 = base64::engine::general_purpose::STANDARD;
    let method = event.request_context.http.method.clone();
    let mut uri = event.raw_path.clone().filter(|p| p.starts_with('/')).unwrap_or_else(|| "/".to_string());
    if let Some(q) = event.raw_query_string.as_deref().filter(|q| !q.is_empty()) {
        uri.push('?');
        uri.push_str(q);
    }
    let body = match (event.body, event.is_base64_encoded) {
        (None, _) => Vec::new(),
        (Some(b), false) => b.into_bytes(),
        (Some(b), true) => match b64.decode(b.as_bytes()) {
            Ok(bytes) => bytes,
            Err(_) => return http_error(400, "invalid body", "the request body is not valid base64"),
        },
    };
    let mut req = match axum::http::Request::builder().method(method).uri(&uri).body(Body::from(body)) {
        Ok(r) => r,
        Err(e) => return http_error(400, "invalid request", &format!("{uri}: {e}")),
    };
    *req.headers_mut() = event.headers;
    if let Some(cookies) = event.cookies.filter(|c| !c.is_empty()) {
        if let Ok(v) = axum::http::HeaderValue::from_str(&cookies.join("; ")) {
            req.headers_mut().insert(axum::http::header::COOKIE, v);
        }
    }
    let resp = match router.clone().oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    let mut out = ApiGatewayV2httpResponse::default();
    out.status_code = i64::from(parts.status.as_u16());
    out.headers = parts.headers;
    out.body = if bytes.is_empty() {
        None
    } else {
        match String::from_utf8(bytes.to_vec()) {
            Ok(text) => Some(aws_lambda_events::encodings::Body::Text(text)),
            Err(_) => {
                out.is_base64_encoded = true;
                Some(aws_lambda_events::encodings::Body::Text(b64.encode(&bytes)))
            }
        }
    };
    out
}

fn http_error(status: i64, error: &str, detail: &str) -> ApiGatewayV2httpResponse {
    let mut out = ApiGatewayV2httpResponse::default();
    out.status_code = status;
    out.headers.insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/json"));
    out.body = Some(aws_lambda_events::encodings::Body::Text(
        serde_json::json!({"error": error, "detail": detail}).to_string(),
    ));
    out
}

/// The EventBridge `rate(1 minute)` tick.
pub async fn handle_schedule(app: &Pipeline) -> anyhow::Result<scheduler::TickReport> {
    let report = scheduler::tick(app).await.map_err(|e| anyhow::anyhow!("scheduler tick: {e}"));
    crate::metrics::flush("scheduler", app.now_ms());
    report
}

/// JSON logs to stdout (CloudWatch), level from `RUST_LOG` (default info).
pub fn init_tracing() {
    crate::logging::init_json();
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use serde_json::{json, Value};

    async fn request(router: &axum::Router, event: Value) -> ApiGatewayV2httpResponse {
        handle_http(router, serde_json::from_value(event).expect("an API Gateway v2 request")).await
    }

    fn body(r: &ApiGatewayV2httpResponse) -> Value {
        match &r.body {
            Some(aws_lambda_events::encodings::Body::Text(t)) => serde_json::from_str(t).unwrap(),
            other => panic!("a JSON text body, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn api_gateway_requests_reach_the_router_and_come_back_as_api_gateway_responses() {
        let (app, dir) = crate::embedded::test_app("lambda-http", 1_729_093_635_000, |_| {});
        let key = "rk_lambda_http_test";
        let (tenant, _) =
            crate::repo::tenants::bootstrap_default(app.store.as_ref(), Some(key), app.now_ms()).await.unwrap();
        assert!(!tenant.is_empty());
        let router = crate::api::router(Pipeline::new(app, crate::products::defaults()));
        let event = |method: &str, path: &str, query: &str, body: Option<String>, b64: bool| {
            json!({"version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query,
                   "headers": {"authorization": format!("Bearer {key}"), "content-type": "application/json"},
                   "requestContext": {"http": {"method": method, "path": path}}, "body": body, "isBase64Encoded": b64})
        };
        // A base64-encoded body (API Gateway encodes non-text bodies) is decoded.
        let raw = r#"{"type": "agent.wrap", "payload": {"campaignId": "215"}}"#;
        let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
        let r = request(&router, event("POST", "/v1/events", "", Some(b64), true)).await;
        assert_eq!(r.status_code, 202, "{r:?}");
        assert_eq!(body(&r)["events"][0]["duplicate"], false);
        // The query string is passed on (a bad filter is the router's 422 naming it).
        let r = request(&router, event("GET", "/v1/deliveries", "status=nope", None, false)).await;
        assert_eq!((r.status_code, body(&r)["error"].as_str()), (422, Some("invalid query")));
        // Bad base64 and unknown routes are clear 4xx, never a panic.
        let r = request(&router, event("POST", "/v1/events", "", Some("%%%".into()), true)).await;
        assert_eq!((r.status_code, body(&r)["error"].as_str()), (400, Some("invalid body")));
        let r = request(&router, event("GET", "/v1/nope", "", None, false)).await;
        assert_eq!(r.status_code, 404);
        assert!(!r.is_base64_encoded);
        let _ = std::fs::remove_dir_all(dir);
    }

    async fn boom() -> &'static str {
        panic!("a handler bug")
    }

    #[tokio::test]
    async fn a_panic_behind_api_gateway_is_a_500_json_answer() {
        // A route of the test's own under the router's contract: the products have none that panic.
        let router = crate::api::contract(axum::Router::new().route("/v1/boom", axum::routing::get(boom)));
        let event = json!({"version": "2.0", "routeKey": "$default", "rawPath": "/v1/boom", "rawQueryString": "",
                           "headers": {}, "requestContext": {"http": {"method": "GET", "path": "/v1/boom"}},
                           "isBase64Encoded": false});
        let r = request(&router, event).await;
        assert_eq!((r.status_code, body(&r)["error"].as_str()), (500, Some("internal error")), "{r:?}");
        assert_eq!(r.headers.get("content-type").and_then(|v| v.to_str().ok()), Some("application/json"));
    }
}
