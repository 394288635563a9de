//! The `api` Lambda: API Gateway HTTP API requests, answered by the same axum router the local
//! runner serves.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ringhook::lambda::init_tracing();
    let app = ringhook::lambda::aws_app_from_env_without_bus().await?;
    lambda_http::run(ringhook::api::api_router(app)).await
}
