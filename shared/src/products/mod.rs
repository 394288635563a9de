//! The products, each one folder behind the seam of `crate::product`. Adding a product is a new
//! folder and one line in [`registry`].

pub mod callbacks;
pub mod triggers;

use crate::product::stage::{All, Stage};
use crate::product::Products;

/// Every product Ringhook ships, in the order their effects on an event are applied, each seen
/// through stage `S` (a Lambda function links only its stage's hooks).
pub fn registry<S: Stage>() -> Products {
    Products::new(vec![S::wrap(triggers::Triggers::default()), S::wrap(callbacks::Callbacks)])
}

/// Every product with every hook: the local runner and tests.
pub fn defaults() -> Products {
    registry::<All>()
}
