//! The application context: the ports and settings, built once per process (Lambda init or
//! the local runner) and shared by every handler and product.

use crate::delivery::ssrf::{self, DestinationPolicy};
use crate::ports::{Clock, EventBus, ItemStore, ManualClock, Outbox, Queue};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

#[derive(Clone)]
pub struct Settings {
    /// Destinations allowed despite the SSRF rules (e.g. loopback for local runs and tests).
    pub destinations: Arc<DestinationPolicy>,
    /// Credential for `/v1/admin/*` (tenant and key creation); admin routes are off without it.
    pub admin_token: Option<String>,
    /// Twilio's API base URL (tests point it at a local Twilio-compatible receiver).
    pub twilio_base_url: String,
    /// Where Twilio should send status callbacks: this deployment's public base URL.
    pub public_url: String,
}

impl Settings {
    pub fn new(destinations: DestinationPolicy) -> Self {
        Self {
            destinations: Arc::new(destinations),
            admin_token: None,
            twilio_base_url: "https://api.twilio.com".to_string(),
            public_url: "http://127.0.0.1:8080".to_string(),
        }
    }
}

/// The adapters a process runs on (embedded or AWS).
#[derive(Clone)]
pub struct Ports {
    pub store: Arc<dyn ItemStore>,
    pub queue: Arc<dyn Queue>,
    pub bus: Arc<dyn EventBus>,
    pub clock: Arc<dyn Clock>,
    /// Set when time is moved by hand (`--clock manual`): enables the clock admin route.
    pub manual_clock: Option<Arc<ManualClock>>,
    /// Set by a backend that queues and writes items in one commit (the embedded one).
    pub outbox: Option<Arc<dyn Outbox>>,
}

pub struct App {
    pub store: Arc<dyn ItemStore>,
    pub queue: Arc<dyn Queue>,
    pub bus: Arc<dyn EventBus>,
    pub clock: Arc<dyn Clock>,
    pub manual_clock: Option<Arc<ManualClock>>,
    pub outbox: Option<Arc<dyn Outbox>>,
    /// One client for every outgoing request: pooled connections, no redirects, SSRF-checked DNS.
    /// Built on first use ([`App::http`]): of the Lambda functions only `deliver` sends, and the
    /// others neither pay for it at init nor link it. Shared by every view of the app
    /// ([`App::with_store`]), so connections stay pooled.
    http: Arc<OnceLock<reqwest::Client>>,
    pub settings: Settings,
    /// Which tenant each API key seen so far belongs to.
    pub api_keys: Arc<crate::repo::tenants::KeyCache>,
}

impl App {
    pub fn new(ports: Ports, settings: Settings) -> Arc<Self> {
        Arc::new(Self {
            store: ports.store,
            queue: ports.queue,
            bus: ports.bus,
            clock: ports.clock,
            manual_clock: ports.manual_clock,
            outbox: ports.outbox,
            http: Default::default(),
            settings,
            api_keys: Default::default(),
        })
    }

    /// The same app over another store (e.g. one batch's memo of reads); everything else shared.
    pub fn with_store(&self, store: Arc<dyn ItemStore>) -> Arc<Self> {
        Arc::new(Self {
            store,
            queue: self.queue.clone(),
            bus: self.bus.clone(),
            clock: self.clock.clone(),
            manual_clock: self.manual_clock.clone(),
            outbox: self.outbox.clone(),
            http: self.http.clone(),
            settings: self.settings.clone(),
            api_keys: self.api_keys.clone(),
        })
    }

    /// The outgoing HTTP client (built on the first call).
    pub fn http(&self) -> &reqwest::Client {
        self.http.get_or_init(|| {
            ssrf::client_builder(self.settings.destinations.clone())
                .connect_timeout(Duration::from_secs(10))
                .pool_max_idle_per_host(256)
                .user_agent(concat!("Ringhook/", env!("CARGO_PKG_VERSION")))
                .build()
                .expect("the HTTP client builds")
        })
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
}
