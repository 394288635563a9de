//! Which outcome events the deliver stage publishes on the event bus for a tenant. None until
//! the tenant subscribes: each one is an EventBridge entry ($1.00 per million), the largest
//! cost per delivery after DynamoDB, and most tenants never read them.

use super::{get, keys, put_next, Versioned};
use crate::model::DeliveryStatus;
use crate::ports::{ItemStore, StoreError};
use serde::{Deserialize, Serialize};

/// An outcome event's type: its bus `detail-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum OutcomeType {
    /// A delivery ended `succeeded`.
    #[serde(rename = "delivery.succeeded")]
    DeliverySucceeded,
    /// A delivery ended `failed`.
    #[serde(rename = "delivery.failed")]
    DeliveryFailed,
}

impl OutcomeType {
    /// The event of a delivery that ended in `status` (`None` while it is pending).
    pub fn of(status: DeliveryStatus) -> Option<Self> {
        match status {
            DeliveryStatus::Pending => None,
            DeliveryStatus::Succeeded => Some(Self::DeliverySucceeded),
            DeliveryStatus::Failed => Some(Self::DeliveryFailed),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::DeliverySucceeded => "delivery.succeeded",
            Self::DeliveryFailed => "delivery.failed",
        }
    }
}

/// The tenant's subscription: the types it wants published, in [`OutcomeType`]'s order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutcomeEvents {
    pub types: Vec<OutcomeType>,
    /// `None` until the subscription was first set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

impl OutcomeEvents {
    pub fn wants(&self, t: OutcomeType) -> bool {
        self.types.contains(&t)
    }
}

async fn read(store: &dyn ItemStore, tenant: &str) -> Result<Option<Versioned<OutcomeEvents>>, StoreError> {
    let (pk, sk) = keys::outcome_events(tenant);
    get(store, &pk, sk).await
}

/// The tenant's subscription; nothing subscribed when it never set one.
pub async fn find(store: &dyn ItemStore, tenant: &str) -> Result<OutcomeEvents, StoreError> {
    Ok(read(store, tenant).await?.map(|v| v.value).unwrap_or_default())
}

/// Replaces the subscription (types kept in [`OutcomeType`]'s order, once each). A whole
/// replace, so a concurrent one is not a conflict: the last write wins.
pub async fn set(store: &dyn ItemStore, tenant: &str, mut value: OutcomeEvents) -> Result<OutcomeEvents, StoreError> {
    value.types.sort();
    value.types.dedup();
    let (pk, sk) = keys::outcome_events(tenant);
    for _ in 0..3 {
        let version = read(store, tenant).await?.map(|v| v.version);
        match put_next(store, super::encode(pk.clone(), sk, &value), version).await {
            Ok(()) => return Ok(value),
            Err(StoreError::ConditionFailed) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::ConditionFailed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn nothing_until_set_then_what_was_set() {
        let (app, dir) = crate::embedded::test_app("outcome-events-repo", 1_700_000_000_000, |_| {});
        let st = app.store.as_ref();
        assert_eq!(find(st, "t1").await.unwrap(), OutcomeEvents::default());
        let given = OutcomeEvents {
            types: vec![OutcomeType::DeliveryFailed, OutcomeType::DeliverySucceeded, OutcomeType::DeliveryFailed],
            updated_at: Some("2023-11-14T22:13:20Z".into()),
        };
        let stored = set(st, "t1", given).await.unwrap();
        assert_eq!(stored.types, vec![OutcomeType::DeliverySucceeded, OutcomeType::DeliveryFailed]);
        assert_eq!(find(st, "t1").await.unwrap(), stored);
        // Another tenant's is its own.
        assert!(find(st, "t2").await.unwrap().types.is_empty());
        let none = set(st, "t1", OutcomeEvents { types: vec![], updated_at: None }).await.unwrap();
        assert_eq!(find(st, "t1").await.unwrap(), none);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_final_status_names_its_type() {
        assert_eq!(OutcomeType::of(DeliveryStatus::Pending), None);
        for (s, name) in
            [(DeliveryStatus::Succeeded, "delivery.succeeded"), (DeliveryStatus::Failed, "delivery.failed")]
        {
            let t = OutcomeType::of(s).unwrap();
            assert_eq!((t.name(), serde_json::to_value(t).unwrap()), (name, serde_json::json!(name)));
        }
    }
}
