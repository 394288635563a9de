//! The ports: the small traits that business logic is written against. Each has an embedded
//! (SQLite) adapter and an AWS adapter; both pass one conformance suite.

pub mod bus;
pub mod clock;
#[cfg(any(test, feature = "testing"))]
pub mod observed;
pub mod outbox;
pub mod queue;
pub mod store;

pub use bus::{BusEvent, EventBus};
pub use clock::{Clock, ManualClock, SystemClock};
pub use outbox::Outbox;
pub use queue::{Message, OutMessage, Queue, QueueName};
pub use store::{Condition, Doc, Item, ItemStore, QueryOpts, SkRange, StoreError};
