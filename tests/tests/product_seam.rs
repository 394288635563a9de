//! A product needs no pipeline change: a toy product defined here, in the test crate, plugs into
//! the runner through the product seam alone (one event type, one delivery, one route) and its
//! webhook arrives end to end — over real HTTP, from the embedded (SQLite) backend.

use async_trait::async_trait;
use clap::Parser;
use reqwest::StatusCode;
use ringhook::api::extract::TenantId;
use ringhook::app::App;
use ringhook::delivery::retry::RetryPolicy;
use ringhook::error::PipelineError;
use ringhook::model::{delivery_id, Delivery, DeliveryTarget, Event};
use ringhook::product::{Effects, Product};
use ringhook_e2e::receiver::Receiver;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// `toy.ping` with `{"url", "n"}`: sends `{"pong": n}` to the url.
struct Pings;

#[async_trait]
impl Product for Pings {
    fn name(&self) -> &'static str {
        "pings"
    }

    fn handles(&self, event_type: &str) -> bool {
        event_type == "toy.ping"
    }

    fn validate(&self, _event_type: &str, payload: &Value) -> Result<(), String> {
        match payload.get("url") {
            Some(Value::String(_)) => Ok(()),
            _ => Err("url: required, where to send the pong".into()),
        }
    }

    async fn on_event(&self, app: &App, event: &Event) -> Result<Effects, PipelineError> {
        let url = event.payload["url"].as_str().unwrap_or_default().to_string();
        let d = Delivery::new(
            event,
            delivery_id(event, "pong", 0),
            DeliveryTarget::Url { url },
            json!({"pong": event.payload["n"]}),
            RetryPolicy::SingleRetry,
            app.now_ms(),
        );
        Ok(Effects { deliveries: vec![d], bus_events: vec![] })
    }

    fn routes(&self) -> axum::Router<Arc<App>> {
        axum::Router::new().route("/v1/pings", axum::routing::get(pong))
    }

    fn openapi(&self) -> utoipa::openapi::OpenApi {
        <ToyDoc as utoipa::OpenApi>::openapi()
    }
}

/// The toy product's route
#[utoipa::path(get, path = "/v1/pings", tag = "pings", responses((status = 200, description = "pong")))]
async fn pong(_: TenantId) -> axum::Json<Value> {
    axum::Json(json!({"pings": "pong"}))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(pong))]
struct ToyDoc;

const KEY: &str = "rk_seam_test_key";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_toy_product_plugs_in_through_the_seam_alone() {
    let dir = std::env::temp_dir().join(format!("ringhook-seam-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let opts = ringhook_local::Opts::parse_from([
        "ringhook-local",
        "--data-dir",
        dir.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--api-key",
        KEY,
    ]);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let products = ringhook::products::defaults().with(Arc::new(Pings));
    let running = ringhook_local::start(opts, products, async {
        let _ = stop_rx.await;
    })
    .await
    .expect("the runner starts");
    let base = format!("http://{}", running.addr);
    let http = reqwest::Client::new();
    let call = |method: reqwest::Method, path: &str, body: Option<Value>| {
        let mut req = http.request(method, format!("{base}{path}")).bearer_auth(KEY);
        if let Some(b) = body {
            req = req.json(&b);
        }
        async move {
            let resp = req.send().await.expect("the API answers");
            let status = resp.status();
            (status, resp.json::<Value>().await.unwrap_or(Value::Null))
        }
    };

    let rx = Receiver::start().await;
    // The product's check on arrival: a bad payload is a 422 naming the field.
    let (s, v) =
        call(reqwest::Method::POST, "/v1/events", Some(json!({"type": "toy.ping", "payload": {"n": 1}}))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["detail"].as_str().unwrap().starts_with("event.payload.url: required"), "{v}");

    // Its event becomes its delivery, sent by the pipeline's delivery stage.
    let ping = json!({"id": "evt-ping-1", "type": "toy.ping", "payload": {"url": format!("{}/pong", rx.url), "n": 7}});
    let (s, v) = call(reqwest::Method::POST, "/v1/events", Some(ping)).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let got = rx.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(got[0].path, "/pong");
    assert_eq!(got[0].json(), json!({"pong": 7}));
    assert!(got[0].header("webhook-signature").is_some_and(|s| s.starts_with("v1,")), "signed like every delivery");
    let delivery = loop {
        let (_, v) = call(reqwest::Method::GET, "/v1/deliveries?eventId=evt-ping-1&status=succeeded", None).await;
        if let Some(d) = v["deliveries"].as_array().and_then(|ds| ds.first()) {
            break d.clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(delivery["product"], "pings");
    assert_eq!(delivery["retryPolicy"], "single-retry");
    rx.expect_no_more_than(1, Duration::from_millis(500)).await;

    // Its route is served by the one router, behind the API key, and documented.
    let (s, v) = call(reqwest::Method::GET, "/v1/pings", None).await;
    assert_eq!((s, v), (StatusCode::OK, json!({"pings": "pong"})));
    let anonymous = http.get(format!("{base}/v1/pings")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let (_, doc) = call(reqwest::Method::GET, "/v1/openapi.json", None).await;
    assert_eq!(doc["paths"]["/v1/pings"]["get"]["summary"], "The toy product's route");
    // The shipped products are still there beside it.
    assert!(doc["paths"]["/v1/triggers"].is_object() && doc["paths"]["/v1/connections"].is_object());

    let _ = stop_tx.send(());
    running.wait().await.expect("the runner stops cleanly");
    let _ = std::fs::remove_dir_all(&dir);
}
