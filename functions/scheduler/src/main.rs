//! The `scheduler` Lambda: the EventBridge `rate(1 minute)` rule sends due reminders and due
//! retries from the due-time index.

use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;

// One invocation at a time per instance: a current-thread runtime does all it needs, and the
// bootstrap does not link the multi-thread scheduler.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    ringhook::lambda::init_tracing();
    ringhook::metrics::enable_emf();
    let app = ringhook::lambda::aws_app_from_env_without_bus::<ringhook::product::stage::Schedule>().await?;
    lambda_runtime::run(service_fn(|_: LambdaEvent<Value>| {
        let app = app.clone();
        async move {
            let report = ringhook::lambda::handle_schedule(&app).await?;
            Ok::<Value, lambda_runtime::Error>(serde_json::to_value(report)?)
        }
    }))
    .await
}
