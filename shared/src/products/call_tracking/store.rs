//! Storage of locations, campaigns, DNI campaigns and call treatments: one partition per kind
//! and tenant (`repo::keys`), the same four operations for each.

use super::model::{CallTreatment, Campaign, DniCampaign, Location};
use crate::ports::{Condition, ItemStore, QueryOpts, SkRange, StoreError};
use crate::repo::{decode, encode, get, keys, put_next, Versioned};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A stored kind of configuration.
pub trait Stored: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    /// The partition of the tenant's items of this kind.
    fn pk(tenant: &str) -> String;
    fn id(&self) -> &str;
    fn created_at(&self) -> &str;
}

macro_rules! stored {
    ($t:ty, $key:path) => {
        impl Stored for $t {
            fn pk(tenant: &str) -> String {
                $key(tenant)
            }
            fn id(&self) -> &str {
                &self.id
            }
            fn created_at(&self) -> &str {
                &self.created_at
            }
        }
    };
}

stored!(Location, keys::locations);
stored!(Campaign, keys::campaigns);
stored!(DniCampaign, keys::dni_campaigns);
stored!(CallTreatment, keys::call_treatments);

pub async fn list<T: Stored>(store: &dyn ItemStore, tenant: &str) -> Result<Vec<T>, StoreError> {
    store
        .query(&T::pk(tenant), SkRange::All, QueryOpts::default())
        .await?
        .into_iter()
        .map(|i| decode(i).map(|v| v.value))
        .collect()
}

pub async fn find<T: Stored>(
    store: &dyn ItemStore,
    tenant: &str,
    id: &str,
) -> Result<Option<Versioned<T>>, StoreError> {
    get(store, &T::pk(tenant), id).await
}

/// `read_version` `None`: must not exist yet.
pub async fn put<T: Stored>(
    store: &dyn ItemStore,
    tenant: &str,
    v: &T,
    read_version: Option<u64>,
) -> Result<(), StoreError> {
    put_next(store, encode(T::pk(tenant), v.id(), v), read_version).await
}

pub async fn delete<T: Stored>(store: &dyn ItemStore, tenant: &str, id: &str) -> Result<bool, StoreError> {
    if find::<T>(store, tenant, id).await?.is_none() {
        return Ok(false);
    }
    store.delete(&T::pk(tenant), id, Condition::None).await?;
    Ok(true)
}
