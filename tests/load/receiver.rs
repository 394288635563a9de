//! The webhook receiver of the load test: an axum server on 127.0.0.1 that answers 200 at once
//! and records, per event sequence number, when the webhook arrived and how often.
//!
//! The sequence number and the send time travel inside the event's payload (`loadSeq`,
//! `loadSentNs`), and Ringhook delivers `{"type", "payload"}`, so the receiver needs no lookup.

use crate::clock::now_ns;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::serve::ListenerExt;
use axum::Router;
use serde::Deserialize;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

/// Per-sequence-number records, preallocated for the run's bound on events (no locks on the
/// hot path).
pub struct Board {
    /// When the webhook arrived (ns since the tool started; 0 = not yet).
    pub received_ns: Vec<AtomicU64>,
    /// The send time the event carried (ns since the tool started).
    pub sent_ns: Vec<AtomicU64>,
    /// How many times the webhook arrived.
    pub count: Vec<AtomicU32>,
    /// Bodies that were not a load-test webhook.
    pub malformed: AtomicU64,
}

impl Board {
    pub fn new(capacity: usize) -> Self {
        Self {
            received_ns: (0..capacity).map(|_| AtomicU64::new(0)).collect(),
            sent_ns: (0..capacity).map(|_| AtomicU64::new(0)).collect(),
            count: (0..capacity).map(|_| AtomicU32::new(0)).collect(),
            malformed: AtomicU64::new(0),
        }
    }

    pub fn capacity(&self) -> usize {
        self.count.len()
    }
}

#[derive(Deserialize)]
struct Hook {
    payload: HookPayload,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HookPayload {
    load_seq: u64,
    load_sent_ns: u64,
}

async fn hook(State(board): State<Arc<Board>>, body: Bytes) -> StatusCode {
    let at = now_ns();
    match serde_json::from_slice::<Hook>(&body) {
        Ok(h) if (h.payload.load_seq as usize) < board.capacity() => {
            let i = h.payload.load_seq as usize;
            if board.count[i].fetch_add(1, Ordering::Relaxed) == 0 {
                board.sent_ns[i].store(h.payload.load_sent_ns, Ordering::Relaxed);
                board.received_ns[i].store(at, Ordering::Release);
            }
        }
        _ => {
            board.malformed.fetch_add(1, Ordering::Relaxed);
        }
    }
    StatusCode::OK
}

/// Starts the receiver; returns the URL to deliver to.
pub async fn start(board: Arc<Board>) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let addr = listener.local_addr()?;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let app = Router::new().route("/hook", post(hook)).with_state(board);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("receiver stopped: {e}");
        }
    });
    Ok(format!("http://{addr}/hook"))
}
