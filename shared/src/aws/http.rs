//! The HTTPS client the AWS SDK clients use: the SDK's own default (hyper 1 and rustls with the
//! system's root certificates, proxies from the environment) with rustls on `ring` instead of
//! `aws-lc-rs`. `ring` is the provider reqwest already brings for the webhook client, so a
//! bootstrap links one TLS crypto provider, not two.

use aws_sdk_dynamodb::config::SharedHttpClient;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use aws_smithy_http_client::{Builder, ConnectorBuilder};

/// What `aws-smithy-runtime`'s `default_https_client` builds for the latest behavior version,
/// on `ring`: one connector per connector settings (timeouts), created on first use, with the
/// client's sleep implementation and `HTTP(S)_PROXY` / `NO_PROXY` from the environment.
pub fn https_client() -> SharedHttpClient {
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector = ConnectorBuilder::default().tls_provider(Provider::Rustls(CryptoMode::Ring));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_config::BehaviorVersion;
    use aws_sdk_dynamodb::config::{Credentials, Region};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// The SDK's configuration carries this client, and a request goes through it (to a local
    /// DynamoDB stand-in over plain HTTP; the TLS connector is built all the same).
    #[tokio::test]
    async fn sdk_requests_go_through_the_ring_client() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut seen = Vec::new();
            let mut buf = [0u8; 4096];
            while !(seen.windows(4).any(|w| w == b"\r\n\r\n") && seen.ends_with(b"}")) {
                let n = sock.read(&mut buf).await.unwrap();
                assert!(n > 0, "the request ended early: {}", String::from_utf8_lossy(&seen));
                seen.extend_from_slice(&buf[..n]);
            }
            let body = r#"{"TableNames":["from-the-stand-in"]}"#;
            let reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            sock.write_all(reply.as_bytes()).await.unwrap();
            String::from_utf8_lossy(&seen).to_string()
        });

        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .http_client(https_client())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
            .endpoint_url(format!("http://127.0.0.1:{port}"))
            .load()
            .await;
        assert!(sdk.http_client().is_some());
        let tables = aws_sdk_dynamodb::Client::new(&sdk).list_tables().send().await.unwrap();
        assert_eq!(tables.table_names(), ["from-the-stand-in"]);
        let request = server.await.unwrap();
        assert!(request.to_ascii_lowercase().contains("x-amz-target: dynamodb_20120810.listtables"), "{request}");
    }

    #[tokio::test]
    async fn the_process_wide_config_uses_it() {
        assert!(crate::aws::load_sdk_config().await.http_client().is_some());
    }
}
