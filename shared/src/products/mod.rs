//! The products, each one folder behind the seam of `crate::product`. Adding a product is a new
//! folder and one line in [`registry`].

pub mod call_tracking;
pub mod callbacks;
pub mod sms;
pub mod triggers;

use crate::product::stage::{All, Stage};
use crate::product::Products;

/// Every product Ringhook ships, in the order their effects on an event are applied, each seen
/// through stage `S` (a Lambda function links only its stage's hooks).
pub fn registry<S: Stage>() -> Products {
    Products::new(vec![
        S::wrap(triggers::Triggers::default()),
        S::wrap(callbacks::Callbacks),
        S::wrap(call_tracking::CallTracking),
        S::wrap(sms::Sms),
    ])
}

/// Every product with every hook: the local runner and tests.
pub fn defaults() -> Products {
    registry::<All>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::product::stage::{Deliver, Evaluate, Ingest, Schedule, Serve};
    use serde_json::json;

    /// Each stage's view keeps exactly its stage's hooks.
    #[test]
    fn a_stage_sees_only_its_hooks() {
        let bad = json!({"outcome": "Success"}); // callback.finalized without callbackId
        assert!(defaults().validate("callback.finalized", &bad).is_err());
        assert!(registry::<Ingest>().validate("callback.finalized", &bad).is_err());
        for p in [registry::<Evaluate>(), registry::<Ingest>()] {
            assert!(p.iter().any(|p| p.handles("callback.finalized")) && p.owner_of_due("REMINDER").is_none());
        }
        for p in [registry::<Deliver>(), registry::<Schedule>(), registry::<Serve>()] {
            assert!(!p.iter().any(|p| p.handles("agent.wrap")), "only ingest and evaluate take events");
        }
        assert!(registry::<Schedule>().owner_of_due("REMINDER").is_some());
        assert!(registry::<Serve>().owner_of_due("REMINDER").is_some(), "the admin tick runs the scheduler");
        assert!(registry::<Deliver>().named("callbacks").is_some(), "send checks find their product by name");
        let docs = |p: &crate::product::Products| crate::api::openapi::operations(&crate::api::openapi::build(p));
        assert_eq!(docs(&registry::<Serve>()), docs(&defaults()), "the api function documents every route");
    }
}
