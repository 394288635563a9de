//! The pipeline, written once against the ports: ingest → events queue → evaluate →
//! deliveries queue → deliver, with the scheduler sweeping the due-time index.
//! Lambda handlers and the local runner only move messages in and out of these functions.

pub mod batch_reads;
pub mod consumer;
pub mod deliver;
pub mod evaluate;
pub mod ingest;
pub mod scheduler;

pub use crate::error::PipelineError;

use crate::app::App;
use crate::product::{Effects, Products};
use crate::repo::deliveries;
use std::sync::Arc;

/// The application context with the products plugged in: what the pipeline stages and the
/// router run on. Cheap to clone (two `Arc`s); derefs to the [`App`] (ports and settings).
#[derive(Clone)]
pub struct Pipeline {
    pub app: Arc<App>,
    pub products: Products,
}

impl Pipeline {
    pub fn new(app: Arc<App>, products: Products) -> Self {
        Self { app, products }
    }

    /// The view one queue batch runs on: its reads remembered for the batch
    /// ([`batch_reads::BatchReads`]).
    pub fn for_batch(&self) -> Self {
        let store = Arc::new(batch_reads::BatchReads::new(self.app.store.clone()));
        Self { app: self.app.with_store(store), products: self.products.clone() }
    }
}

impl std::ops::Deref for Pipeline {
    type Target = App;
    fn deref(&self) -> &App {
        &self.app
    }
}

/// Handlers that need only the ports and settings take `State<Arc<App>>`.
impl axum::extract::FromRef<Pipeline> for Arc<App> {
    fn from_ref(p: &Pipeline) -> Arc<App> {
        p.app.clone()
    }
}

/// Creates and queues a product's deliveries and publishes its bus events, outside evaluation
/// (e.g. what a Twilio status callback causes). Deliveries have deterministic ids, so doing this
/// again for the same cause creates nothing new; a copy queued twice is sent once.
pub async fn apply(app: &App, effects: Effects) -> Result<(), PipelineError> {
    if effects.deliveries.is_empty() && effects.bus_events.is_empty() {
        return Ok(());
    }
    let created = deliveries::create_many(app.store.as_ref(), effects.deliveries).await?;
    deliver::enqueue_now(app, &created).await?;
    app.bus.publish(effects.bus_events).await?;
    Ok(())
}
