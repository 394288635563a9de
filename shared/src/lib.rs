//! Ringhook's common crate: domain types, the pipeline stages written once against the ports,
//! the destinations, the products behind one seam (`product`), and the two sets of adapters
//! (embedded SQLite and AWS).

pub mod api;
pub mod app;
pub mod aws;
#[cfg(feature = "testing")]
pub mod conformance;
pub mod console;
pub mod delivery;
pub mod destinations;
pub mod embedded;
pub mod error;
#[cfg(feature = "testing")]
pub mod fuzzing;
pub mod lambda;
pub mod logging;
pub mod metrics;
pub mod model;
pub mod pipeline;
pub mod ports;
pub mod product;
pub mod products;
pub mod repo;
