//! Sending one HTTP request: per-request timeout, no redirects (a 3xx is an answer, not a
//! hop), at most 10 KB of the response read, and errors classified for the retry policies.

use super::retry::SendErrorKind;
use std::time::{Duration, Instant};

/// The triggers seed: responses larger than 10 KB are not processed.
pub const MAX_RESPONSE_BYTES: usize = 10 * 1024;

#[derive(Debug, Clone)]
pub struct OutgoingRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct Received {
    pub status: u16,
    pub body: String,
    pub truncated: bool,
    pub retry_after: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SendFailure {
    pub kind: SendErrorKind,
    /// The destination was refused by the SSRF rules when resolved: never retried.
    pub refused: bool,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct Sent {
    pub result: Result<Received, SendFailure>,
    pub latency: Duration,
}

pub async fn send(client: &reqwest::Client, req: &OutgoingRequest) -> Sent {
    let started = Instant::now();
    let result = tokio::time::timeout(req.timeout, send_inner(client, req)).await.unwrap_or_else(|_| {
        Err(SendFailure {
            kind: SendErrorKind::Timeout,
            refused: false,
            message: format!("no complete answer within {:?}", req.timeout),
        })
    });
    Sent { result, latency: started.elapsed() }
}

async fn send_inner(client: &reqwest::Client, req: &OutgoingRequest) -> Result<Received, SendFailure> {
    let method = reqwest::Method::from_bytes(req.method.as_bytes()).map_err(|_| SendFailure {
        kind: SendErrorKind::Other,
        refused: false,
        message: format!("bad method {}", req.method),
    })?;
    let mut builder = client.request(method, &req.url).body(req.body.clone());
    for (k, v) in &req.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    let mut resp = builder.send().await.map_err(classify)?;
    let status = resp.status().as_u16();
    let retry_after =
        resp.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_string);
    let mut body = Vec::new();
    let mut truncated = false;
    // Read chunk by chunk and stop at the cap: a 10 MB answer costs us 10 KB.
    while let Some(chunk) = resp.chunk().await.map_err(classify)? {
        let room = MAX_RESPONSE_BYTES - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            truncated = true;
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Received { status, body: String::from_utf8_lossy(&body).into_owned(), truncated, retry_after })
}

fn classify(e: reqwest::Error) -> SendFailure {
    let kind = SendErrorKind::classify(&e);
    let refused = matches!(super::ssrf::destination_error_of(&e), Some(super::ssrf::DestinationError::Refused { .. }));
    // reqwest's Display omits the cause chain, which is where "connection refused" lives.
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    SendFailure { kind, refused, message }
}
