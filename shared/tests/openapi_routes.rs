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

#[tokio::test]
async fn every_documented_route_exists() {
    let dir = std::env::temp_dir().join(format!("ringhook-openapi-{}", std::process::id()));
    let db = Db::open_dir(&dir).unwrap();
    let clock = Arc::new(SystemClock);
    let ports = Ports {
        store: Arc::new(SqliteStore::new(db.clone(), clock.clone())),
        queue: Arc::new(SqliteQueue::new(db.clone(), clock.clone(), 5)),
        bus: Arc::new(SqliteBus::new(db, clock.clone())),
        clock,
        manual_clock: None,
    };
    let products = ringhook::products::defaults();
    let app = App::new(ports, Settings::new(DestinationPolicy::strict()));
    let router = ringhook::api::router(Pipeline::new(app, products.clone()));
    let doc = ringhook::api::openapi::build(&products);
    let paths = doc["paths"].as_object().unwrap();
    let routes = ringhook::api::openapi::routes(&products);
    assert_eq!(
        paths.values().map(|p| p.as_object().unwrap().len()).sum::<usize>(),
        routes.len(),
        "every route appears once in the document"
    );
    for (method, path, _, _) in routes {
        let uri = path.replace("{id}", "x").replace("{proxy+}", "x");
        let req = Request::builder().method(method.to_uppercase().as_str()).uri(&uri).body(Body::empty()).unwrap();
        let resp = router.clone().oneshot(req).await.unwrap();
        let status = resp.status().as_u16();
        let body = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
        let text = String::from_utf8_lossy(&body);
        assert!(
            !(status == 404 && text.contains("no such route")) && status != 405,
            "{method} {path} is documented but the router has no such route ({status} {text})"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
