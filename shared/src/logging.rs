//! The log filter every binary uses: `RUST_LOG` (default `info`), except that nothing from the
//! AWS SDK is ever logged at trace. At trace the SDK prints whole responses, and a DynamoDB
//! response is a stored webhook with its password, credential headers and signing secrets; the
//! promise that no log line holds a secret (docs/delivery.md) must hold at every level.
//!
//! The Lambda functions read `RUST_LOG` as plain `target=level` directives ([`Targets`]), which
//! needs no regular-expression engine in the bootstraps; the local runner keeps the full
//! `EnvFilter` syntax (span and field filters too).

use tracing::Level;
use tracing_subscriber::filter::{filter_fn, EnvFilter, FilterExt, Targets};
use tracing_subscriber::layer::{Filter, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

/// Targets that log request or response bodies at trace (the SDK's crates and its runtime).
fn body_logging(target: &str) -> bool {
    target.starts_with("aws_")
}

/// Drops what [`body_logging`] names at trace, whatever the level filter lets through.
fn no_bodies<S>() -> impl Filter<S> {
    filter_fn(|meta| !(*meta.level() == Level::TRACE && body_logging(meta.target())))
}

pub fn filter<S: tracing::Subscriber + for<'a> LookupSpan<'a>>() -> impl Filter<S> {
    let env = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    env.and(no_bodies())
}

/// `RUST_LOG` as comma-separated `level`, `target` or `target=level` directives; unset, empty or
/// not of that form, `info` (as [`filter`] falls back).
fn lambda_targets(rust_log: Option<&str>) -> Targets {
    let info = || Targets::new().with_default(Level::INFO);
    // Empty directives are skipped (`Targets` would read one as "every target, at trace").
    let directives: Vec<&str> =
        rust_log.unwrap_or_default().split(',').map(str::trim).filter(|d| !d.is_empty()).collect();
    if directives.is_empty() {
        return info();
    }
    directives.join(",").parse().unwrap_or_else(|_| info())
}

/// [`filter`] for the Lambda functions: the same levels and targets, no span or field filters.
pub fn lambda_filter<S: tracing::Subscriber + for<'a> LookupSpan<'a>>() -> impl Filter<S> {
    lambda_targets(std::env::var("RUST_LOG").ok().as_deref()).and(no_bodies())
}

/// Human-readable logs to stderr (the local runner).
pub fn init_text() {
    let layer = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_filter(filter());
    let _ = tracing_subscriber::registry().with(layer).try_init();
}

/// JSON logs to stdout without timestamps (Lambda: CloudWatch adds them).
pub fn init_json() {
    let layer = tracing_subscriber::fmt::layer().json().without_time().with_filter(lambda_filter());
    let _ = tracing_subscriber::registry().with(layer).try_init();
}

#[cfg(test)]
mod tests {
    use super::{body_logging, lambda_targets};
    use tracing::level_filters::LevelFilter;

    #[test]
    fn lambda_log_levels_from_rust_log() {
        for unset in [None, Some(""), Some(" , "), Some("info"), Some("x=debug=warn")] {
            let t = lambda_targets(unset);
            assert_eq!(t.default_level(), Some(LevelFilter::INFO), "{unset:?}");
        }
        let t = lambda_targets(Some("warn,ringhook=debug,aws_config=error"));
        assert_eq!(t.default_level(), Some(LevelFilter::WARN));
        assert!(t.would_enable("ringhook::pipeline", &tracing::Level::DEBUG));
        assert!(!t.would_enable("aws_config::x", &tracing::Level::WARN));
        assert!(!t.would_enable("hyper", &tracing::Level::INFO));
        assert_eq!(lambda_targets(Some("debug")).default_level(), Some(LevelFilter::DEBUG));
        let t = lambda_targets(Some(",ringhook=debug,, info ,"));
        assert_eq!(t.default_level(), Some(LevelFilter::INFO));
        assert!(!t.would_enable("hyper", &tracing::Level::DEBUG));
    }

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
