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
        outbox: None,
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
    let routes = ringhook::api::openapi::operations(&ringhook::api::openapi::build(&app.products));
    let full = ringhook::api::router(app);
    for (method, path) in routes {
        let to_ingest = (method == "post" && path == "/v1/events") || path.starts_with("/v1/twilio/");
        let (status, text) = call(if to_ingest { &ingest } else { &api }, &method, &path).await;
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
    let routes = ringhook::api::openapi::operations(&doc);
    let router = ringhook::api::router(app);
    for (method, path) in &routes {
        let (status, text) = call(&router, method, path).await;
        assert!(
            routed(status, &text),
            "{method} {path} is documented but the router has no such route ({status} {text})"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The other direction: every route the code registers (`.route("/…", get(…).post(…))` in the
/// sources) is in the document with each of its methods, and no documented path has a method
/// the router lacks.
#[tokio::test]
async fn every_route_is_documented() {
    let dir = std::env::temp_dir().join(format!("ringhook-openapi-rev-{}", std::process::id()));
    let app = app(&dir);
    let doc = ringhook::api::openapi::build(&app.products);
    let documented: std::collections::BTreeSet<(String, String)> =
        ringhook::api::openapi::operations(&doc).into_iter().collect();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut registered = std::collections::BTreeSet::new();
    let mut stack = vec![src];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap().split("#[cfg(test)]").next().unwrap().to_string();
                // The console (`/console`, `/console/…`) is the web UI's static files, not an
                // API operation: the document describes the v1 API only.
                registered.extend(routes_in(&text).into_iter().filter(|(_, path)| !path.starts_with("/console")));
            }
        }
    }
    assert!(registered.len() > 40, "the scan found the routes: {registered:?}");
    for r in &registered {
        assert!(documented.contains(r), "{} {} is routed but not in the document", r.0, r.1);
    }
    let router = ringhook::api::router(app);
    let paths: std::collections::BTreeSet<&String> = documented.iter().map(|(_, p)| p).collect();
    for path in paths {
        for method in ["get", "post", "put", "delete", "patch"] {
            if documented.contains(&(method.to_string(), path.clone())) {
                continue;
            }
            let (status, _) = call(&router, method, path).await;
            assert_eq!(status, 405, "{method} {path} answers but is not documented");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `(method, path)` of every `.route("<path>", <method>(…).<method>(…))` in a source text.
fn routes_in(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(".route(") {
        rest = &rest[i + 7..];
        let Some(q) = rest.trim_start().strip_prefix('"') else { continue };
        let Some(end) = q.find('"') else { break };
        let path = q[..end].to_string();
        // The handler expression runs to the call's closing parenthesis.
        let (mut depth, mut close) = (1, 0);
        for (j, c) in q[end..].char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        close = end + j;
                        break;
                    }
                }
                _ => {}
            }
        }
        let handlers = &q[end..close];
        for m in ["get", "post", "put", "delete", "patch"] {
            let called = handlers
                .match_indices(&format!("{m}("))
                .any(|(k, _)| k == 0 || !handlers[..k].ends_with(|c: char| c.is_alphanumeric() || c == '_'));
            if called {
                out.push((m.to_string(), path.clone()));
            }
        }
    }
    out
}
