//! The public HTTP API (v1): one axum `Router`, run on Lambda through `lambda::handle_http` and
//! locally by `axum::serve`.

pub mod extract;
pub mod openapi;
pub mod v1;

use crate::error::ApiError;
use crate::pipeline::Pipeline;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;

/// Requests larger than this are refused with 413 before they are read in full.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Every route — the pipeline's, the destinations' and every product's: the local runner
/// serves this one router.
pub fn router(pipeline: Pipeline) -> Router {
    let routes = ingest_routes(management_routes(&pipeline));
    finish(routes, pipeline)
}

/// The routes API Gateway sends to the `ingest` function (`POST /v1/events` and
/// `ANY /v1/twilio/{proxy+}` in infra/template.yaml), answered as [`router`] answers them; the
/// `ingest` bootstrap links only their handlers.
pub fn ingest_router(pipeline: Pipeline) -> Router {
    finish(ingest_routes(Router::new()), pipeline)
}

/// Everything else, for the `api` function (`ANY /v1/{proxy+}`, and the console's `GET /console`
/// and `GET /console/{proxy+}`): API Gateway never sends it
/// `POST /v1/events` or `/v1/twilio/*`, so it does not link their handlers. Another method on
/// `/v1/events` still gets [`router`]'s 405.
pub fn api_router(pipeline: Pipeline) -> Router {
    let routes = management_routes(&pipeline).route("/v1/events", post(method_not_allowed));
    finish(routes, pipeline)
}

fn ingest_routes(r: Router<Pipeline>) -> Router<Pipeline> {
    r.route("/v1/events", post(v1::events::post_events))
        .route("/v1/twilio/status", post(v1::twilio::status))
        .route("/v1/twilio/inbound", post(v1::twilio::inbound))
}

fn management_routes(pipeline: &Pipeline) -> Router<Pipeline> {
    let mut router = Router::new()
        .route("/health", get(openapi::health))
        .route("/v1/openapi.json", get(openapi::document))
        .route("/v1/webhooks", get(v1::webhooks::list).post(v1::webhooks::create))
        .route("/v1/webhooks/{id}", get(v1::webhooks::get_one).put(v1::webhooks::replace).delete(v1::webhooks::delete))
        .route("/v1/webhooks/{id}/rotate-secret", post(v1::webhooks::rotate_secret))
        .route("/v1/webhooks/{id}/recover", post(v1::deliveries::recover))
        .route("/v1/webhooks/{id}/test", post(v1::webhooks::send_test))
        .route("/v1/account/signing-secret", get(v1::signing_secret::get_one))
        .route("/v1/account/signing-secret/rotate", post(v1::signing_secret::rotate))
        .route("/v1/outcome-events", get(v1::outcome_events::get_one).put(v1::outcome_events::replace))
        .route("/v1/sms-senders", get(v1::sms_senders::list).post(v1::sms_senders::create))
        .route(
            "/v1/sms-senders/{id}",
            get(v1::sms_senders::get_one).put(v1::sms_senders::replace).delete(v1::sms_senders::delete),
        )
        .route("/v1/templates", get(v1::templates::list).post(v1::templates::create))
        .route("/v1/templates/tokens", get(v1::templates::token_catalogue))
        .route(
            "/v1/templates/{id}",
            get(v1::templates::get_one).put(v1::templates::replace).delete(v1::templates::delete),
        )
        .route("/v1/templates/{id}/preview", post(v1::templates::preview))
        .route("/v1/deliveries", get(v1::deliveries::list))
        .route("/v1/deliveries/{id}", get(v1::deliveries::get_one))
        .route("/v1/deliveries/{id}/redeliver", post(v1::deliveries::redeliver))
        .route("/v1/stats", get(v1::stats::get_stats))
        .route("/v1/admin/tenants", post(v1::admin::create_tenant))
        .route("/v1/admin/clock", post(v1::admin::move_clock))
        .route("/v1/admin/scheduler/tick", post(v1::admin::scheduler_tick))
        // The web UI (not part of the v1 API: static files; every call it makes is the API).
        .merge(crate::console::routes());
    for product in pipeline.products.iter() {
        router = router.merge(product.routes().with_state(pipeline.app.clone()));
    }
    router
}

fn finish(r: Router<Pipeline>, pipeline: Pipeline) -> Router {
    let r = r
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(pipeline);
    contract(r)
}

/// The error contract on top of any router: every 4xx/5xx is `{"error", "detail"}` JSON (the
/// framework's own rejections included), and a panic in a handler is logged and answered 500
/// rather than dropping the connection. Public so a test can put it on a router of its own.
pub fn contract(r: Router) -> Router {
    // Outermost, so a panic in the other layers is caught too. Only where panics unwind: the
    // root `[profile.release]` has `panic = "abort"`, under which a panic still ends the process.
    r.layer(axum::middleware::map_response(json_errors)).layer(CatchPanicLayer::custom(panic_response))
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("application/json"))
}

/// Longest framework text passed on as a detail (its rejections are one short sentence).
const MAX_FRAMEWORK_DETAIL: usize = 300;

/// Rewrites a non-JSON error answer (axum's rejections are `text/plain`) as our error shape;
/// what the framework said is kept as the detail of a 4xx, never of a 5xx.
async fn json_errors(resp: Response) -> Response {
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(resp.headers()) {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let text = match axum::body::to_bytes(body, 4 * MAX_FRAMEWORK_DETAIL).await {
        Ok(b) => String::from_utf8_lossy(&b).trim().chars().take(MAX_FRAMEWORK_DETAIL).collect(),
        Err(_) => String::new(),
    };
    let e = framework_error(status, text);
    let fresh = e.into_response();
    // Keep what the framework set besides the body (e.g. `Allow`), with the JSON body's own type
    // and length.
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_TYPE);
    let (fresh_parts, fresh_body) = fresh.into_parts();
    parts.headers.extend(fresh_parts.headers);
    Response::from_parts(parts, fresh_body)
}

fn framework_error(status: StatusCode, text: String) -> ApiError {
    let or = |fallback: &str| if text.is_empty() { fallback.to_string() } else { text.clone() };
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            status,
            "payload too large",
            format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ApiError::new(status, "unsupported media type", or("this route does not take this Content-Type"))
        }
        StatusCode::METHOD_NOT_ALLOWED => {
            ApiError::new(status, "method not allowed", "see GET /v1/openapi.json for the methods of this route")
        }
        StatusCode::NOT_FOUND => ApiError::new(status, "not found", or("no such route; see GET /v1/openapi.json")),
        s if s.is_server_error() => internal_error(s),
        s => {
            let name = s.canonical_reason().unwrap_or("bad request").to_ascii_lowercase();
            ApiError::new(s, name, or("the request was refused"))
        }
    }
}

fn internal_error(status: StatusCode) -> ApiError {
    ApiError::new(status, "internal error", "the request could not be handled; it has been logged")
}

/// A handler panicked: log it (the message only; no request data) and answer 500 JSON.
fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> Response<Body> {
    let message = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = %message, "a request handler panicked; answered 500");
    internal_error(StatusCode::INTERNAL_SERVER_ERROR).into_response()
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not found", "no such route; see GET /v1/openapi.json")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed",
        "see GET /v1/openapi.json for the methods of this route",
    )
}

/// The whole router on a fresh embedded app with one tenant, called as a client would: for the
/// handlers' unit tests.
#[cfg(test)]
pub(crate) mod test_client {
    use crate::app::App;
    use axum::body::Body;
    use axum::http::Request;
    use serde_json::Value;
    use std::sync::Arc;
    use tower::ServiceExt;

    const KEY: &str = "rk_unit_test_client";

    pub struct Client {
        pub app: Arc<App>,
        pub tenant: String,
        router: axum::Router,
        dir: std::path::PathBuf,
    }

    impl Client {
        pub async fn start(name: &str) -> Self {
            let (app, dir) = crate::embedded::test_app(&format!("api-{name}"), 1_729_093_635_000, |_| {});
            let (tenant, _) =
                crate::repo::tenants::bootstrap_default(app.store.as_ref(), Some(KEY), app.now_ms()).await.unwrap();
            let pipeline = crate::pipeline::Pipeline::new(app.clone(), crate::products::defaults());
            Client { app, tenant, router: super::router(pipeline), dir }
        }

        /// `(status, body)`; an empty answer is `null`.
        pub async fn call(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
            let req = Request::builder()
                .method(method)
                .uri(path)
                .header("authorization", format!("Bearer {KEY}"))
                .header("content-type", "application/json")
                .body(body.map(|b| Body::from(b.to_string())).unwrap_or_default())
                .unwrap();
            let resp = self.router.clone().oneshot(req).await.unwrap();
            let status = resp.status().as_u16();
            let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
            (status, if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap() })
        }
    }

    impl Drop for Client {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Json;
    use serde_json::json;
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

    async fn boom() -> &'static str {
        panic!("a handler bug")
    }

    /// A router of this test's own (no product route may panic on purpose), under the contract.
    fn test_router() -> Router {
        let r = Router::new()
            .route("/boom", get(boom))
            .route("/text", get(|| async { (StatusCode::BAD_REQUEST, "plain words") }))
            .route("/ok", get(|| async { Json(json!({"ok": true})) }));
        contract(r)
    }

    /// One HTTP/1.1 response off a kept-alive connection: status, content type, body.
    async fn read_response(r: &mut BufReader<tokio::net::TcpStream>) -> (u16, String, serde_json::Value) {
        let (mut status, mut content_type, mut length) = (0, String::new(), 0usize);
        let mut line = String::new();
        loop {
            line.clear();
            assert!(r.read_line(&mut line).await.unwrap() > 0, "the connection was closed");
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some(rest) = l.strip_prefix("HTTP/1.1 ") {
                status = rest[..3].parse().unwrap();
            } else if let Some((k, v)) = l.split_once(':') {
                match k.to_ascii_lowercase().as_str() {
                    "content-type" => content_type = v.trim().to_string(),
                    "content-length" => length = v.trim().parse().unwrap(),
                    _ => {}
                }
            }
        }
        let mut body = vec![0; length];
        r.read_exact(&mut body).await.unwrap();
        (status, content_type, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_500_json_and_the_connection_lives_on() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, test_router()).await });
        let mut conn = BufReader::new(tokio::net::TcpStream::connect(addr).await.unwrap());
        for path in ["/boom", "/text", "/boom", "/ok"] {
            let req = format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n");
            conn.get_mut().write_all(req.as_bytes()).await.unwrap();
            let (status, content_type, body) = read_response(&mut conn).await;
            assert_eq!(content_type, "application/json", "{path}");
            match path {
                "/boom" => {
                    assert_eq!(status, 500);
                    assert_eq!(body["error"], "internal error");
                    assert!(!body.to_string().contains("a handler bug"), "the panic message stays in the log: {body}");
                }
                "/text" => {
                    assert_eq!((status, &body), (400, &json!({"error": "bad request", "detail": "plain words"})))
                }
                _ => assert_eq!((status, &body), (200, &json!({"ok": true}))),
            }
        }
    }
}
