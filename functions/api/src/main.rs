//! The `api` Lambda: API Gateway HTTP API requests, answered by the same axum router the local
//! runner serves.

// One invocation at a time per instance: a current-thread runtime does all it needs, and the
// bootstrap does not link the multi-thread scheduler.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    ringhook::lambda::init_tracing();
    let app = ringhook::lambda::aws_app_from_env_without_bus::<ringhook::product::stage::Serve>().await?;
    lambda_http::run(ringhook::api::api_router(app)).await
}
