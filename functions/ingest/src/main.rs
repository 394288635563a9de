//! The `ingest` Lambda: API Gateway HTTP API requests, answered by the same axum router the local
//! runner serves.

use aws_lambda_events::event::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use lambda_runtime::{service_fn, LambdaEvent};

// One invocation at a time per instance: a current-thread runtime does all it needs, and the
// bootstrap does not link the multi-thread scheduler.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    ringhook::lambda::init_tracing();
    let app = ringhook::lambda::aws_app_from_env_without_bus::<ringhook::product::stage::Ingest>().await?;
    let router = ringhook::api::ingest_router(app);
    lambda_runtime::run(service_fn(|event: LambdaEvent<ApiGatewayV2httpRequest>| {
        let router = router.clone();
        async move {
            Ok::<ApiGatewayV2httpResponse, lambda_runtime::Error>(
                ringhook::lambda::handle_http(&router, event.payload).await,
            )
        }
    }))
    .await
}
