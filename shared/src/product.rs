//! The seam between the pipeline and the products (triggers, callback notifications, …).
//!
//! A product is a folder under `products/` with one value implementing [`Product`]: the event
//! types it handles, how it checks their payloads on arrival, what evaluating an event does
//! (state changes, deliveries to create, bus events), what it does with its due items on a
//! scheduler tick, whether a delivery it made is still wanted when its attempt comes, and the
//! API routes it adds. The pipeline (`ingest`, `evaluate`, `deliver`, `scheduler`) and the router
//! know only this trait and the [`Products`] registry; adding a product is a new folder and one
//! line in `products::registry`.

use crate::app::App;
use crate::destinations::sms_status::SmsStatus;
use crate::error::PipelineError;
use crate::model::{Attempt, Delivery, Event};
use crate::ports::{BusEvent, Item, StoreError};
use async_trait::async_trait;
use axum::Router;
use serde_json::Value;
use std::sync::Arc;

/// What evaluating one event does besides the product's own state changes: the deliveries to
/// create and queue, and the events to publish on the bus. Returned, not performed, so the
/// pipeline writes every product's deliveries for an event together.
#[derive(Debug, Default)]
pub struct Effects {
    pub deliveries: Vec<Delivery>,
    pub bus_events: Vec<BusEvent>,
}

impl Effects {
    pub fn extend(&mut self, other: Effects) {
        self.deliveries.extend(other.deliveries);
        self.bus_events.extend(other.bus_events);
    }
}

#[async_trait]
pub trait Product: Send + Sync + 'static {
    /// A short stable name, stored on the deliveries the product makes (`Delivery::product`).
    fn name(&self) -> &'static str;

    /// Whether [`Product::evaluate`] wants events of this type.
    fn handles(&self, event_type: &str) -> bool;

    /// Checks an event's payload when it is accepted (`POST /v1/events`); the error names the
    /// field relative to the payload (`callbackId: required …`).
    fn validate(&self, _event_type: &str, _payload: &Value) -> Result<(), String> {
        Ok(())
    }

    /// Evaluates a batch of events this product handles; one result per event, in order. Must
    /// be idempotent: an event evaluated twice (a redelivered queue message) acts once and
    /// returns the same deliveries (same ids). The default evaluates them one by one.
    async fn evaluate(&self, app: &App, events: &[&Event]) -> Vec<Result<Effects, PipelineError>> {
        futures::future::join_all(events.iter().map(|e| self.on_event(app, e))).await
    }

    /// Evaluates one event (used by the default [`Product::evaluate`]).
    async fn on_event(&self, _app: &App, _event: &Event) -> Result<Effects, PipelineError> {
        Ok(Effects::default())
    }

    /// The kinds of due item this product owns: the last `#` segment of their partition key
    /// (`{tenant}#REMINDER` → `REMINDER`). The scheduler hands them to [`Product::on_due`].
    fn due_kinds(&self) -> &'static [&'static str] {
        &[]
    }

    /// A due item's time came (claims are the product's: two overlapping ticks may both call
    /// this). Returns the deliveries it created, which the scheduler queues.
    async fn on_due(&self, _app: &App, _item: Item, _now_ms: i64) -> Result<Vec<Delivery>, PipelineError> {
        Ok(vec![])
    }

    /// Asked before each attempt of a delivery this product made: `Some(reason)` refuses the
    /// attempt (logged with the reason; the delivery fails). Storage errors leave the attempt
    /// unclaimed, to be tried again.
    async fn check_send(&self, _app: &App, _delivery: &Delivery) -> Result<Option<String>, StoreError> {
        Ok(None)
    }

    /// An attempt of a delivery this product made was made and logged (sent, refused or
    /// failed): e.g. an SMS product records Twilio's answer on its own record. Best effort: the
    /// attempt already happened, so an error here is logged, never a reason to send again.
    async fn on_attempt(&self, _app: &App, _delivery: &Delivery, _attempt: &Attempt) -> Result<Effects, PipelineError> {
        Ok(Effects::default())
    }

    /// A message came in to one of the tenant's Twilio numbers (Twilio's incoming-message
    /// webhook, signature already checked; `params` as Twilio posted them). Returns the
    /// deliveries it causes (e.g. an inbound-message webhook), which the caller creates and
    /// queues.
    async fn on_inbound_sms(
        &self,
        _app: &App,
        _tenant: &str,
        _params: &[(String, String)],
    ) -> Result<Effects, PipelineError> {
        Ok(Effects::default())
    }

    /// Twilio reported a status for an SMS of a delivery this product made (a signed status
    /// callback, already recorded on the attempt; `status` is the attempt's furthest status).
    /// Returns the deliveries and bus events it causes (e.g. a delivery-status webhook), which
    /// the caller creates and queues. Must be idempotent: Twilio repeats callbacks.
    async fn on_sms_status(
        &self,
        _app: &App,
        _delivery: &Delivery,
        _status: &SmsStatus,
    ) -> Result<Effects, PipelineError> {
        Ok(Effects::default())
    }

    /// The API routes the product adds (merged into the one router).
    fn routes(&self) -> Router<Arc<App>> {
        Router::new()
    }

    /// Those routes' part of the OpenAPI document (`api::openapi` merges every product's):
    /// derive it with `#[derive(utoipa::OpenApi)]` over the handlers' `#[utoipa::path]`s.
    fn openapi(&self) -> utoipa::openapi::OpenApi {
        utoipa::openapi::OpenApi::default()
    }
}

/// The products a process runs, in the order their effects are applied.
#[derive(Clone, Default)]
pub struct Products(Arc<Vec<Arc<dyn Product>>>);

impl Products {
    pub fn new(products: Vec<Arc<dyn Product>>) -> Self {
        Self(Arc::new(products))
    }

    /// These products and one more.
    pub fn with(&self, product: Arc<dyn Product>) -> Self {
        let mut v = self.0.as_ref().clone();
        v.push(product);
        Self::new(v)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Product>> {
        self.0.iter()
    }

    pub fn named(&self, name: &str) -> Option<&Arc<dyn Product>> {
        self.0.iter().find(|p| p.name() == name)
    }

    /// Every product's check of an arriving event's payload.
    pub fn validate(&self, event_type: &str, payload: &Value) -> Result<(), String> {
        self.0.iter().filter(|p| p.handles(event_type)).try_for_each(|p| p.validate(event_type, payload))
    }

    /// The product that owns due items of `kind`.
    pub fn owner_of_due(&self, kind: &str) -> Option<&Arc<dyn Product>> {
        self.0.iter().find(|p| p.due_kinds().contains(&kind))
    }
}

/// Which of a product's hooks a process runs. A Lambda function runs one stage of the pipeline,
/// so its registry wraps each product in that stage's view, which forwards only the stage's
/// hooks: a trait object links every method it has, and this way the `deliver` bootstrap links
/// no trigger engine and no API handler. The local runner runs every stage ([`All`]).
pub mod stage {
    use super::*;

    pub trait Stage {
        fn wrap<P: Product>(p: P) -> Arc<dyn Product>;
    }

    /// Every hook (the local runner, tests).
    pub struct All;
    /// Accepting events: the payload checks (`ingest`).
    pub struct Ingest;
    /// Evaluating events (`evaluate`).
    pub struct Evaluate;
    /// Sending deliveries: the send-time checks (`deliver`).
    pub struct Deliver;
    /// The scheduler tick: due items (`scheduler`).
    pub struct Schedule;
    /// The management API: routes, and due items for the admin tick (`api`).
    pub struct Serve;

    impl Stage for All {
        fn wrap<P: Product>(p: P) -> Arc<dyn Product> {
            Arc::new(p)
        }
    }

    macro_rules! view {
        ($stage:ident, $view:ident, { $($hooks:tt)* }) => {
            struct $view<P>(P);

            #[async_trait]
            impl<P: Product> Product for $view<P> {
                fn name(&self) -> &'static str {
                    self.0.name()
                }
                $($hooks)*
            }

            impl Stage for $stage {
                fn wrap<P: Product>(p: P) -> Arc<dyn Product> {
                    Arc::new($view(p))
                }
            }
        };
    }

    // Twilio's status callbacks arrive at the ingest function (`/v1/twilio/*`).
    view!(Ingest, Ingesting, {
        fn handles(&self, event_type: &str) -> bool {
            self.0.handles(event_type)
        }
        fn validate(&self, event_type: &str, payload: &Value) -> Result<(), String> {
            self.0.validate(event_type, payload)
        }
        async fn on_sms_status(
            &self,
            app: &App,
            delivery: &Delivery,
            status: &SmsStatus,
        ) -> Result<Effects, PipelineError> {
            self.0.on_sms_status(app, delivery, status).await
        }
        async fn on_inbound_sms(
            &self,
            app: &App,
            tenant: &str,
            params: &[(String, String)],
        ) -> Result<Effects, PipelineError> {
            self.0.on_inbound_sms(app, tenant, params).await
        }
    });

    view!(Evaluate, Evaluating, {
        fn handles(&self, event_type: &str) -> bool {
            self.0.handles(event_type)
        }
        async fn evaluate(&self, app: &App, events: &[&Event]) -> Vec<Result<Effects, PipelineError>> {
            self.0.evaluate(app, events).await
        }
    });

    view!(Deliver, Delivering, {
        fn handles(&self, _event_type: &str) -> bool {
            false
        }
        async fn check_send(&self, app: &App, delivery: &Delivery) -> Result<Option<String>, StoreError> {
            self.0.check_send(app, delivery).await
        }
        async fn on_attempt(
            &self,
            app: &App,
            delivery: &Delivery,
            attempt: &Attempt,
        ) -> Result<Effects, PipelineError> {
            self.0.on_attempt(app, delivery, attempt).await
        }
    });

    view!(Schedule, Scheduling, {
        fn handles(&self, _event_type: &str) -> bool {
            false
        }
        fn due_kinds(&self) -> &'static [&'static str] {
            self.0.due_kinds()
        }
        async fn on_due(&self, app: &App, item: Item, now_ms: i64) -> Result<Vec<Delivery>, PipelineError> {
            self.0.on_due(app, item, now_ms).await
        }
    });

    view!(Serve, Serving, {
        fn handles(&self, _event_type: &str) -> bool {
            false
        }
        fn due_kinds(&self) -> &'static [&'static str] {
            self.0.due_kinds()
        }
        async fn on_due(&self, app: &App, item: Item, now_ms: i64) -> Result<Vec<Delivery>, PipelineError> {
            self.0.on_due(app, item, now_ms).await
        }
        fn routes(&self) -> Router<Arc<App>> {
            self.0.routes()
        }
        // Only the api function serves the OpenAPI document: forwarded here alone, the other
        // functions link none of the request and response types' schema code.
        fn openapi(&self) -> utoipa::openapi::OpenApi {
            self.0.openapi()
        }
    });
}
