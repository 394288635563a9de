//! The baseline bootstrap that `ringhook-bootstrap-bench` compares the five functions with: a
//! `lambda_runtime` hello world that, at init, loads one `SdkConfig` and builds a DynamoDB and
//! an SQS client from it, then answers every invocation with a constant. It makes no AWS call.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    lambda_runtime::run(service_fn(move |_: LambdaEvent<Value>| {
        let region = [dynamodb.config().region(), sqs.config().region()].map(|r| r.map(|r| r.to_string()));
        async move { Ok::<Value, Error>(json!({ "hello": "world", "regions": region })) }
    }))
    .await
}
