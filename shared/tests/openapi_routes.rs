//! `GET /v1/openapi.json` lists only routes that exist: each documented (method, path) must
//! reach a handler, not the router's fallbacks.

use axum::body::Body;
use axum::http::Request;
use ringhook::app::{App, Ports, Settings};
use ringhook::delivery::ssrf::DestinationPolicy;
use ringhook::embedded::{Db, SqliteBus, SqliteQueue, SqliteStore};
use ringhook::pipeline::Pipeline;
use ringhook::ports::SystemClock;
use std::sync::Arc;
use tower::ServiceExt;

fn app(dir: &std::path::Path) -> Pipeline {
    let db = Db::open_dir(dir).unwrap();
    let clock = Arc::new(SystemClock);
    let ports = Ports {
        store: Arc::new(SqliteStore::new(db.clone(), clock.clone())),
        queue: Arc::new(SqliteQueue::new(db.clone(), clock.clone(), 5)),
        bus: Arc::new(SqliteBus::new(db, clock.clone())),
        clock,
        manual_clock: None,
    };
    Pipeline::new(App::new(ports, Settings::new(DestinationPolicy::strict())), ringhook::products::defaults())
}

/// `(status, body)` of an empty request.
async fn call(router: &axum::Router, method: &str, path: &str) -> (u16, String) {
    let uri = path.replace("{id}", "x").replace("{proxy+}", "x");
    let req = Request::builder().method(method.to_uppercase().as_str()).uri(&uri).body(Body::empty()).unwrap();
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
    (status, String::from_utf8_lossy(&body).to_string())
}

fn routed(status: u16, text: &str) -> bool {
    !(status == 404 && text.contains("no such route")) && status != 405
}

/// The Lambda functions' routers split the documented routes as infra/template.yaml routes
/// them: `POST /v1/events` and `/v1/twilio/*` to ingest, everything else to api.
#[tokio::test]
async fn the_ingest_and_api_routers_split_the_routes_as_api_gateway_does() {
    let dir = std::env::temp_dir().join(format!("ringhook-openapi-split-{}", std::process::id()));
    let app = app(&dir);
    let ingest = ringhook::api::ingest_router(app.clone());
    let api = ringhook::api::api_router(app.clone());
    let routes = ringhook::api::openapi::routes(&app.products);
    let full = ringhook::api::router(app);
    for (method, path, _, _) in routes {
        let to_ingest = (method == "post" && path == "/v1/events") || path.starts_with("/v1/twilio/");
        let (status, text) = call(if to_ingest { &ingest } else { &api }, method, path).await;
        assert!(routed(status, &text), "{method} {path}: {status} {text}");
    }
    assert_eq!(call(&api, "get", "/v1/events").await, call(&full, "get", "/v1/events").await);
    assert_eq!(call(&ingest, "get", "/v1/triggers").await.0, 404);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn every_documented_route_exists() {
    let dir = std::env::temp_dir().join(format!("ringhook-openapi-{}", std::process::id()));
    let app = app(&dir);
    let doc = ringhook::api::openapi::build(&app.products);
    let routes = ringhook::api::openapi::routes(&app.products);
    let router = ringhook::api::router(app);
    let paths = doc["paths"].as_object().unwrap();
    assert_eq!(
        paths.values().map(|p| p.as_object().unwrap().len()).sum::<usize>(),
        routes.len(),
        "every route appears once in the document"
    );
    for (method, path, _, _) in routes {
        let (status, text) = call(&router, method, path).await;
        assert!(
            routed(status, &text),
            "{method} {path} is documented but the router has no such route ({status} {text})"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
