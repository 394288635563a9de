//! Triggers: an event type, conditions that filter the event's payload, and actions to run.
//! Semantics follow the triggers seed exactly; see `engine` and `validate`.

pub mod engine;
pub mod model;
pub mod validate;

pub use engine::{CompiledTrigger, TriggerSet};
pub use model::{Action, Condition, Operator, Trigger, TriggerInput};
pub use validate::{parse_trigger, TriggerError};
