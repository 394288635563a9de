use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Tenant {
    pub id: String,
    pub name: String,
    pub created_at: String,
    /// Bumped on every trigger change so evaluators know their cached triggers are stale.
    #[serde(default)]
    pub config_rev: u64,
}
