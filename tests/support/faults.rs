//! Receivers that misbehave below HTTP: a raw TCP server that reads the request and then resets
//! the connection, closes it without a word, or holds it open and never answers. Each counts the
//! requests it read, so a test can compare them with the attempts Ringhook logged.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};

/// What the server does once it has read a request's head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Close with `SO_LINGER` 0: the client sees a TCP reset (ECONNRESET).
    Reset,
    /// Close normally without writing anything (an empty reply).
    Close,
    /// Keep the connection open and never answer (closed after `HANG_FOR`).
    Hang,
}

/// How long a `Hang` connection is held before it is dropped (bounded, so nothing lingers).
pub const HANG_FOR: Duration = Duration::from_secs(30);

pub struct FaultServer {
    pub url: String,
    pub fault: Fault,
    requests: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultServer {
    pub async fn start(fault: Fault) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind fault server");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = requests.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else { return };
                let counter = counter.clone();
                tokio::spawn(async move { serve(sock, fault, counter).await });
            }
        });
        Self { url, fault, requests, task }
    }

    /// Requests whose head was read in full.
    pub fn count(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(mut sock: TcpStream, fault: Fault, counter: Arc<AtomicUsize>) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 8192];
    // Read at least the request head (a keep-alive client may send several requests; each
    // connection here ends after the first).
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        match tokio::time::timeout(Duration::from_secs(10), sock.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return,
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
        }
    }
    counter.fetch_add(1, Ordering::SeqCst);
    match fault {
        Fault::Reset => {
            let _ = sock.set_zero_linger();
            drop(sock);
        }
        Fault::Close => drop(sock),
        Fault::Hang => {
            tokio::time::sleep(HANG_FOR).await;
            drop(sock);
        }
    }
}
