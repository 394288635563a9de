//! `GET /v1/stats`: the delivery log summed up for a time window — deliveries by state, the
//! success rate, attempt latency (p50/p95) per destination with the failing ones first, and a
//! time series for a chart. The console's overview page and its webhook list read it.
//!
//! Computed on request from the delivery log through the same repository functions as
//! `GET /v1/deliveries`, so it is **bounded**: at most [`MAX_SCANNED`] deliveries of the
//! window are read (the newest; `truncated` says when the window held more), and latency is
//! taken from the attempts of at most [`LATENCY_PER_DESTINATION`] deliveries per destination
//! and [`MAX_LATENCY_READS`] in all (one attempt-log query each). There is no counter table to
//! keep in step with the pipeline; the price is that a window with more deliveries than the
//! bound is summed up from its newest part only.

use super::deliveries::time_param;
use crate::api::extract::{Params, TenantId};
use crate::app::App;
use crate::error::ApiError;
use crate::model::{format_time, Delivery, DeliveryStatus, DeliveryTarget};
use crate::repo::deliveries::{self, DeliveryFilter};
use axum::extract::State;
use axum::Json;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

/// Most deliveries one answer reads.
pub const MAX_SCANNED: usize = 5_000;
/// Most deliveries per destination whose attempts are read for its latency.
pub const LATENCY_PER_DESTINATION: usize = 50;
/// Most attempt logs one answer reads in all.
pub const MAX_LATENCY_READS: usize = 500;
/// Attempt logs read at the same time.
const CONCURRENT_READS: usize = 16;
const DAY_MS: i64 = 24 * 3600 * 1000;
/// 9999-12-31T23:59:59.999Z.
const MAX_TIME_MS: i64 = 253_402_300_799_999;

/// The window; any other parameter is refused.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// Deliveries created at or after: an RFC 3339 time or milliseconds since 1970 (default:
    /// 24 hours ago).
    #[param(value_type = Option<crate::api::openapi::TimeOrMillis>, example = "2024-10-16T15:47:15Z")]
    since: Option<String>,
    /// … and before (default: now).
    #[param(value_type = Option<crate::api::openapi::TimeOrMillis>)]
    until: Option<String>,
    /// How many equal time buckets `series` has, 1 to 96 (default 24).
    #[param(minimum = 1, maximum = 96)]
    buckets: Option<u32>,
}

/// Deliveries by state.
#[derive(Debug, Default, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub pending: u64,
    pub succeeded: u64,
    pub failed: u64,
    /// Succeeded over finished (succeeded + failed); null when none has finished.
    pub success_rate: Option<f64>,
}

impl Counts {
    fn add(&mut self, status: DeliveryStatus) {
        match status {
            DeliveryStatus::Pending => self.pending += 1,
            DeliveryStatus::Succeeded => self.succeeded += 1,
            DeliveryStatus::Failed => self.failed += 1,
        }
    }

    fn finish(&mut self) {
        let done = self.succeeded + self.failed;
        self.success_rate = (done > 0).then(|| self.succeeded as f64 / done as f64);
    }
}

/// One destination's deliveries in the window.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DestinationStats {
    /// `webhook` (a webhook of /v1/webhooks), `url` (a trigger's inline URL) or `sms`.
    pub kind: String,
    /// The webhook id, the URL, or the SMS sender id.
    pub id: String,
    pub counts: Counts,
    /// Attempt latency, median and 95th percentile, in ms (attempts that were sent).
    pub p50_ms: Option<u64>,
    pub p95_ms: Option<u64>,
    /// How many attempts the percentiles are taken from.
    pub latency_samples: usize,
    /// The newest delivery's last response status.
    pub last_status: Option<u16>,
    /// The newest delivery's last error.
    pub last_error: Option<String>,
    /// When the newest delivery was created.
    #[schema(format = DateTime)]
    pub last_at: String,
}

/// One bucket of the chart: deliveries created in `[start, start + bucketMs)` by state.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Bucket {
    #[schema(format = DateTime)]
    pub start: String,
    pub start_ms: i64,
    pub pending: u64,
    pub succeeded: u64,
    pub failed: u64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    #[schema(format = DateTime)]
    pub since: String,
    #[schema(format = DateTime)]
    pub until: String,
    /// Deliveries read.
    pub scanned: usize,
    /// The window has more than 5,000 deliveries: the figures are of its newest 5,000.
    pub truncated: bool,
    pub totals: Counts,
    /// Per destination, the ones that fail most first.
    pub destinations: Vec<DestinationStats>,
    pub bucket_ms: i64,
    /// Oldest first.
    pub series: Vec<Bucket>,
}

fn destination(d: &Delivery) -> (&'static str, String) {
    match (&d.webhook_id, &d.target) {
        (Some(w), _) => ("webhook", w.clone()),
        (None, DeliveryTarget::Webhook { webhook_id }) => ("webhook", webhook_id.clone()),
        (None, DeliveryTarget::Url { url }) => ("url", url.clone()),
        (None, DeliveryTarget::Sms { sender_id }) => ("sms", sender_id.clone()),
    }
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::unprocessable("invalid query", detail)
}

#[utoipa::path(get, path = "/v1/stats", tag = "deliveries", operation_id = "get_stats",
    params(StatsQuery),
    responses((status = 200, description = "The delivery log of the window summed up (bounded: see `truncated`)", body = Stats)))]
pub async fn get_stats(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Params(q): Params<StatsQuery>,
) -> Result<Json<Stats>, ApiError> {
    let now = app.now_ms();
    // 1970 to the year 9999: the arithmetic below and the times shown stay in range.
    let in_range = |name: &str, t: Option<i64>| match t {
        Some(ms) if !(0..=MAX_TIME_MS).contains(&ms) => {
            Err(invalid(format!("{name}: must be between 1970 and the year 9999")))
        }
        t => Ok(t),
    };
    let until = in_range("until", time_param("until", &q.until)?)?.unwrap_or(now);
    let since = in_range("since", time_param("since", &q.since)?)?.unwrap_or(until.saturating_sub(DAY_MS).max(0));
    if since >= until {
        return Err(invalid("since: must be before until"));
    }
    let buckets = match q.buckets {
        None => 24,
        Some(b) if (1..=96).contains(&b) => b as i64,
        Some(_) => return Err(invalid("buckets: 1 to 96")),
    };
    let filter = DeliveryFilter { since_ms: Some(since), until_ms: Some(until), ..DeliveryFilter::default() };
    let (mut ds, _) = deliveries::list(app.store.as_ref(), &tenant, &filter, MAX_SCANNED + 1, None).await?;
    let truncated = ds.len() > MAX_SCANNED;
    ds.truncate(MAX_SCANNED);

    let span = until - since;
    let bucket_ms = (span + buckets - 1) / buckets;
    let mut series: Vec<Bucket> = (0..buckets)
        .map(|i| {
            let start_ms = since + i * bucket_ms;
            Bucket { start: format_time(start_ms), start_ms, pending: 0, succeeded: 0, failed: 0 }
        })
        .collect();
    let mut totals = Counts::default();
    // Newest first, so the first delivery seen of a destination is its newest.
    let mut order: Vec<(&'static str, String)> = Vec::new();
    let mut per: HashMap<(&'static str, String), (Counts, &Delivery, Vec<&Delivery>)> = HashMap::new();
    for d in &ds {
        totals.add(d.status);
        let i = ((d.created_at_ms - since) / bucket_ms.max(1)).clamp(0, buckets - 1) as usize;
        match d.status {
            DeliveryStatus::Pending => series[i].pending += 1,
            DeliveryStatus::Succeeded => series[i].succeeded += 1,
            DeliveryStatus::Failed => series[i].failed += 1,
        }
        let key = destination(d);
        let entry = per.entry(key.clone()).or_insert_with(|| {
            order.push(key);
            (Counts::default(), d, Vec::new())
        });
        entry.0.add(d.status);
        if d.attempts > 0 && entry.2.len() < LATENCY_PER_DESTINATION {
            entry.2.push(d);
        }
    }
    totals.finish();

    // The attempt logs to read, round-robin over the destinations so each gets its share of
    // the overall bound.
    let mut reads: Vec<(usize, String)> = Vec::new();
    let lists: Vec<&Vec<&Delivery>> = order.iter().map(|k| &per[k].2).collect();
    let mut round = 0;
    while reads.len() < MAX_LATENCY_READS && lists.iter().any(|l| l.len() > round) {
        for (k, l) in lists.iter().enumerate() {
            if let Some(d) = l.get(round) {
                if reads.len() < MAX_LATENCY_READS {
                    reads.push((k, d.id.clone()));
                }
            }
        }
        round += 1;
    }
    // Owned ids and store handle, so the stream's futures borrow nothing from this function.
    let results: Vec<(usize, Result<Vec<crate::model::Attempt>, crate::ports::StoreError>)> =
        futures::stream::iter(reads.into_iter().map(|(k, id)| {
            let (store, tenant) = (app.store.clone(), tenant.clone());
            async move { (k, deliveries::attempts(store.as_ref(), &tenant, &id).await) }
        }))
        .buffer_unordered(CONCURRENT_READS)
        .collect()
        .await;
    let mut latencies: Vec<Vec<u64>> = vec![Vec::new(); order.len()];
    for (k, r) in results {
        // Refused attempts (never sent) have no latency to count.
        latencies[k].extend(r?.into_iter().filter(|a| !a.request.method.is_empty()).map(|a| a.latency_ms));
    }

    let mut destinations: Vec<DestinationStats> = order
        .iter()
        .zip(latencies)
        .map(|(key, mut lat)| {
            let (counts, newest, _) = &per[key];
            let mut counts = counts.clone();
            counts.finish();
            lat.sort_unstable();
            DestinationStats {
                kind: key.0.to_string(),
                id: key.1.clone(),
                counts,
                p50_ms: percentile(&lat, 0.50),
                p95_ms: percentile(&lat, 0.95),
                latency_samples: lat.len(),
                last_status: newest.last_status,
                last_error: newest.last_error.clone(),
                last_at: format_time(newest.created_at_ms),
            }
        })
        .collect();
    // Failing first: most failures, then the lowest success rate, then the busiest.
    destinations.sort_by(|a, b| {
        b.counts
            .failed
            .cmp(&a.counts.failed)
            .then(a.counts.success_rate.unwrap_or(1.0).total_cmp(&b.counts.success_rate.unwrap_or(1.0)))
            .then((b.counts.succeeded + b.counts.pending).cmp(&(a.counts.succeeded + a.counts.pending)))
    });
    Ok(Json(Stats {
        since: format_time(since),
        until: format_time(until),
        scanned: ds.len(),
        truncated,
        totals,
        destinations,
        bucket_ms,
        series,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[7], 0.95), Some(7));
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 0.50), Some(50));
        assert_eq!(percentile(&v, 0.95), Some(95));
        assert_eq!(percentile(&[1, 2, 3], 0.5), Some(2));
    }

    #[test]
    fn success_rate_counts_finished_deliveries_only() {
        let mut c = Counts::default();
        c.add(DeliveryStatus::Pending);
        c.finish();
        assert_eq!(c.success_rate, None);
        c.add(DeliveryStatus::Succeeded);
        c.add(DeliveryStatus::Succeeded);
        c.add(DeliveryStatus::Failed);
        c.finish();
        assert_eq!(c.success_rate, Some(2.0 / 3.0));
    }
}
