//! The products, each one folder behind the seam of `crate::product`. Adding a product is a new
//! folder and one line in [`defaults`].

pub mod callbacks;
pub mod triggers;

use crate::product::Products;
use std::sync::Arc;

/// Every product Ringhook ships, in the order their effects on an event are applied.
pub fn defaults() -> Products {
    Products::new(vec![Arc::new(triggers::Triggers::default()), Arc::new(callbacks::Callbacks)])
}
