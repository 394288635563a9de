//! The log filter every binary uses: `RUST_LOG` (default `info`), except that nothing from the
//! AWS SDK is ever logged at trace. At trace the SDK prints whole responses, and a DynamoDB
//! response is a stored webhook with its password, credential headers and signing secrets; the
//! promise that no log line holds a secret (docs/delivery.md) must hold at every level.

use tracing::Level;
use tracing_subscriber::filter::{filter_fn, EnvFilter, FilterExt};
use tracing_subscriber::layer::{Filter, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

/// Targets that log request or response bodies at trace (the SDK's crates and its runtime).
fn body_logging(target: &str) -> bool {
    target.starts_with("aws_")
}

pub fn filter<S: tracing::Subscriber + for<'a> LookupSpan<'a>>() -> impl Filter<S> {
    let env = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    env.and(filter_fn(|meta| !(*meta.level() == Level::TRACE && body_logging(meta.target()))))
}

/// Human-readable logs to stderr (the local runner).
pub fn init_text() {
    let layer = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_filter(filter());
    let _ = tracing_subscriber::registry().with(layer).try_init();
}

/// JSON logs to stdout without timestamps (Lambda: CloudWatch adds them).
pub fn init_json() {
    let layer = tracing_subscriber::fmt::layer().json().without_time().with_filter(filter());
    let _ = tracing_subscriber::registry().with(layer).try_init();
}

#[cfg(test)]
mod tests {
    use super::body_logging;

    #[test]
    fn the_sdk_and_its_runtime_are_kept_below_trace() {
        for t in ["aws_smithy_runtime::client::orchestrator", "aws_sdk_dynamodb::operation", "aws_config"] {
            assert!(body_logging(t), "{t}");
        }
        for t in ["ringhook::pipeline::deliver", "hyper::proto", "ringhook_local"] {
            assert!(!body_logging(t), "{t}");
        }
    }
}
