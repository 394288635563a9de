//! The local runner: every Ringhook function in one process — the API on 127.0.0.1, the queue
//! consumers and the scheduler tick — on the embedded SQLite backend.

use clap::{Parser, ValueEnum};
use ringhook::app::{App, Ports, Settings};
use ringhook::delivery::ssrf::DestinationPolicy;
use ringhook::embedded::{Db, Durability, SqliteBus, SqliteQueue, SqliteStore, WriteOptions};
use ringhook::pipeline::{consumer, scheduler, Pipeline};
use ringhook::ports::{Clock, ManualClock, QueueName, SystemClock};
use ringhook::product::Products;
use ringhook::repo::tenants;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ClockKind {
    System,
    /// Time moves only through POST /v1/admin/clock (for tests).
    Manual,
}

/// Runs Ringhook locally: API, queue consumers and scheduler in one process.
#[derive(Debug, Parser)]
#[command(name = "ringhook-local", version, about)]
pub struct Opts {
    /// Where the SQLite database lives.
    #[arg(long, env = "RINGHOOK_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Address for the HTTP API (port 0 picks a free port; the chosen one is printed).
    #[arg(long, env = "RINGHOOK_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// API key for the default tenant (registered if new). Without it, a key is generated and
    /// printed on the first start.
    #[arg(long, env = "RINGHOOK_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Credential for /v1/admin/* (tenant creation). Admin routes are off without it.
    #[arg(long, env = "RINGHOOK_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Webhook destinations allowed despite the SSRF rules: comma-separated CIDRs.
    /// Locally, loopback is allowed by default; pass "" for the strict production rules.
    #[arg(long, env = "RINGHOOK_ALLOW_DESTINATIONS", default_value = "127.0.0.0/8,::1/128")]
    pub allow_destinations: String,
    /// Twilio API base URL.
    #[arg(long, env = "RINGHOOK_TWILIO_BASE_URL", default_value = "https://api.twilio.com")]
    pub twilio_base_url: String,
    /// This deployment's public URL (for Twilio status callbacks). Default: the API address.
    #[arg(long, env = "RINGHOOK_PUBLIC_URL")]
    pub public_url: Option<String>,
    #[arg(long, value_enum, env = "RINGHOOK_CLOCK", default_value = "system")]
    pub clock: ClockKind,
    /// Seconds between scheduler ticks.
    #[arg(long, env = "RINGHOOK_TICK_SECS", default_value_t = 1)]
    pub tick_secs: u64,
    /// Receives after which a message is dead-lettered.
    #[arg(long, env = "RINGHOOK_MAX_RECEIVES", default_value_t = 5)]
    pub max_receives: u32,
    /// Run on AWS (DynamoDB, SQS, EventBridge) instead of the embedded backend: resources from
    /// the RINGHOOK_TABLE / RINGHOOK_*_QUEUE_URL / RINGHOOK_EVENT_BUS variables, endpoints and
    /// credentials from the standard AWS ones (e.g. AWS_ENDPOINT_URL for an emulator).
    #[arg(long, env = "RINGHOOK_AWS")]
    pub aws: bool,
    /// Concurrent delivery workers (each sends up to 32 attempts at a time).
    #[arg(long, env = "RINGHOOK_DELIVERY_WORKERS", default_value_t = 8)]
    pub delivery_workers: usize,
    /// Concurrent trigger-evaluation workers (each evaluates up to 64 events at a time).
    #[arg(long, env = "RINGHOOK_EVENT_WORKERS", default_value_t = 2)]
    pub event_workers: usize,
    /// How far an accepted write is on disk before it is acknowledged: `full` (an fsync per
    /// group commit) survives a power loss; `normal` only a killed process, for lower latency
    /// at low rates (docs/performance.md).
    #[arg(long, value_enum, env = "RINGHOOK_DURABILITY", default_value = "full")]
    pub durability: DurabilityKind,
    /// Wait up to this many microseconds for more writes before each commit, so that more of
    /// them share its fsync: less CPU per event at low rates, for up to that much more latency
    /// per write (docs/performance.md: 1000 cut CPU per event by a third at 500 events/s).
    /// Unset: wait 200 µs only while writes arrive concurrently.
    #[arg(long, env = "RINGHOOK_COMMIT_WINDOW_US", value_parser = clap::value_parser!(u64).range(0..=100_000))]
    pub commit_window_us: Option<u64>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum DurabilityKind {
    Normal,
    Full,
}

/// Parses the command line and runs until SIGTERM / Ctrl-C.
pub fn main_entry() -> anyhow::Result<()> {
    ringhook::logging::init_text();
    let opts = Opts::parse();
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(run(opts))
}

/// Runs with every product until SIGTERM / Ctrl-C.
pub async fn run(opts: Opts) -> anyhow::Result<()> {
    start(opts, ringhook::products::defaults(), shutdown()).await?.wait().await
}

/// A runner that is serving.
pub struct Started {
    /// Where the API listens (the port chosen when `--listen` asked for port 0).
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Started {
    /// Until the shutdown signal given to [`start`] fires and the API has stopped.
    pub async fn wait(self) -> anyhow::Result<()> {
        self.task.await?
    }
}

/// Starts the API, the queue consumers and the scheduler with `products`; they run until
/// `stop` completes.
pub async fn start(
    opts: Opts,
    products: Products,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<Started> {
    let manual = matches!(opts.clock, ClockKind::Manual).then(|| Arc::new(ManualClock::new(SystemClock.now_ms())));
    let clock: Arc<dyn Clock> = match &manual {
        Some(m) => m.clone(),
        None => Arc::new(SystemClock),
    };
    let (ports, released) = if opts.aws {
        // DynamoDB, SQS and EventBridge named by the RINGHOOK_* variables, at the endpoints of
        // the standard AWS_* variables (a real account or a local emulator).
        (ringhook::lambda::aws_ports(clock, manual).await?, 0)
    } else {
        let durability = match opts.durability {
            DurabilityKind::Normal => Durability::Normal,
            DurabilityKind::Full => Durability::Full,
        };
        let commit_window = opts.commit_window_us.map(std::time::Duration::from_micros);
        let db = Db::open_dir_with(&opts.data_dir, WriteOptions { durability, commit_window })?;
        let queue = SqliteQueue::new(db.clone(), clock.clone(), opts.max_receives);
        // This process owns the file: whatever was in flight belonged to a process that is gone.
        let released = queue.release_in_flight().await?;
        let queue = Arc::new(queue);
        let ports = Ports {
            store: Arc::new(SqliteStore::new(db.clone(), clock.clone())),
            queue: queue.clone(),
            bus: Arc::new(SqliteBus::new(db.clone(), clock.clone())),
            clock,
            manual_clock: manual,
            outbox: Some(queue),
        };
        (ports, released)
    };

    let listener = tokio::net::TcpListener::bind(opts.listen).await?;
    let addr = listener.local_addr()?;
    let mut settings =
        Settings::new(DestinationPolicy::parse_allow_list(&opts.allow_destinations).map_err(anyhow::Error::msg)?);
    settings.admin_token = opts.admin_token.clone();
    settings.twilio_base_url = opts.twilio_base_url.clone();
    settings.public_url = opts.public_url.clone().unwrap_or_else(|| format!("http://{addr}"));
    let app = Pipeline::new(App::new(ports, settings), products);

    let (tenant, new_key) =
        tenants::bootstrap_default(app.store.as_ref(), opts.api_key.as_deref(), app.now_ms()).await?;
    if let Some(k) = new_key.filter(|_| opts.api_key.is_none()) {
        println!("created tenant {tenant}; its API key (shown once): {k}");
    }
    if released > 0 {
        tracing::info!(released, "messages left in flight by a previous run are queued again");
    }

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut tasks = Vec::new();
    for _ in 0..opts.event_workers.max(1) {
        tasks.push(tokio::spawn(consumer::run_loop(app.clone(), QueueName::Events, 64, stop_rx.clone())));
    }
    for _ in 0..opts.delivery_workers.max(1) {
        tasks.push(tokio::spawn(consumer::run_loop(app.clone(), QueueName::Deliveries, 32, stop_rx.clone())));
    }
    let tick_app = app.clone();
    let tick_every = Duration::from_secs(opts.tick_secs.max(1));
    tasks.push(tokio::spawn(async move {
        let mut interval = tokio::time::interval(tick_every);
        loop {
            interval.tick().await;
            if let Err(e) = scheduler::tick(&tick_app).await {
                tracing::error!(error = %e, "scheduler tick failed");
            }
        }
    }));

    println!("ringhook listening on http://{addr}");
    let router = ringhook::api::router(app);
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, router).with_graceful_shutdown(stop).await;
        let _ = stop_tx.send(true);
        for t in tasks {
            t.abort();
        }
        Ok(served?)
    });
    Ok(Started { addr, task })
}

async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {},
        _ = term.recv() => {},
    }
}
