//! The `deliver` Lambda: SQS batches from the deliveries queue: send, log the attempt, retry or finish. Failed messages
//! are reported individually (`ReportBatchItemFailures`).

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{service_fn, LambdaEvent};

// One invocation at a time per instance: a current-thread runtime does all it needs, and the
// bootstrap does not link the multi-thread scheduler.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    ringhook::lambda::init_tracing();
    ringhook::metrics::enable_emf();
    let app = ringhook::lambda::aws_app_from_env::<ringhook::product::stage::Deliver>().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let app = app.clone();
        async move {
            Ok::<SqsBatchResponse, lambda_runtime::Error>(
                ringhook::lambda::handle_deliveries_sqs(&app, event.payload).await,
            )
        }
    }))
    .await
}
