//! Named retry policies: when (and whether) a webhook delivery is attempted again.
//!
//! Every policy is a pure function of the attempt that just ended: [`RetryPolicy::decide`] takes
//! the outcome, how many attempts have been made, when the first one happened and the current time
//! (all in epoch milliseconds, so tests drive it with a simulated clock) and answers
//! [`RetryDecision::Done`], [`RetryDecision::RetryAt`] or [`RetryDecision::GiveUp`].
//!
//! | name            | schedule                                                                                     |
//! |-----------------|----------------------------------------------------------------------------------------------|
//! | `exponential`   | Standard Webhooks: immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h after the previous attempt, each ±10 % jitter; 10 attempts at most |
//! | `fixed-10m-48h` | every 10 min (exact, no jitter) while the retry falls within 48 h of the first attempt: attempts at 0, 10, …, 2880 min (289 attempts) |
//! | `single-retry`  | at most 2 attempts: a send error (connect/timeout/reset) is retried once immediately; a non-accepted status once after [`SINGLE_RETRY_DELAY_MS`] |
//!
//! Rules common to every policy:
//! * [`AttemptOutcome::Success`] → [`RetryDecision::Done`];
//! * [`AttemptOutcome::Refused`] (e.g. the destination failed the SSRF rules) → give up at once;
//! * status `410 Gone` → give up at once, except under `fixed-10m-48h`: the triggers seed retries
//!   every response outside the 2xx family for 48 hours, so there a 410 is retried like a 500;
//! * status `429` or `503` with a `Retry-After` → the retry waits at least that long
//!   (`max(policy delay, Retry-After)`, the Retry-After capped at [`MAX_RETRY_AFTER_SECS`]), but the
//!   policy's end (attempt count, 48 h window) still applies;
//! * any other status the caller reports (3xx included: redirects are not followed) is a failure.

use std::fmt;
use std::str::FromStr;

use rand::Rng;
use serde::{Deserialize, Serialize};

const SECOND_MS: i64 = 1_000;
const MINUTE_MS: i64 = 60 * SECOND_MS;
const HOUR_MS: i64 = 60 * MINUTE_MS;

/// Delay before the single retry of `single-retry` after a non-accepted status: 60 seconds.
///
/// The callback-notifications seed promises "a single retry … after a delay" without saying how
/// long; one minute lets a briefly overloaded receiver recover without delaying the notification
/// much. (A send error — nothing reached the receiver — is retried immediately instead.)
pub const SINGLE_RETRY_DELAY_MS: i64 = 60 * SECOND_MS;

/// Interval of `fixed-10m-48h`.
pub const FIXED_INTERVAL_MS: i64 = 10 * MINUTE_MS;

/// Window of `fixed-10m-48h`, measured from the first attempt: a retry is scheduled only if it
/// falls at or before `first_attempt_at + 48 h`.
pub const FIXED_WINDOW_MS: i64 = 48 * HOUR_MS;

/// Delays of `exponential` before attempts 2..=10, measured from the previous attempt, before
/// jitter (the Standard Webhooks schedule).
pub const EXPONENTIAL_DELAYS_MS: [i64; 9] = [
    5 * SECOND_MS,
    5 * MINUTE_MS,
    30 * MINUTE_MS,
    2 * HOUR_MS,
    5 * HOUR_MS,
    10 * HOUR_MS,
    14 * HOUR_MS,
    20 * HOUR_MS,
    24 * HOUR_MS,
];

/// Jitter of `exponential`: each delay is moved by up to ± delay / `EXPONENTIAL_JITTER_DIVISOR`
/// (±10 %), uniformly.
pub const EXPONENTIAL_JITTER_DIVISOR: i64 = 10;

/// Upper bound on a honoured `Retry-After`: 24 hours.
pub const MAX_RETRY_AFTER_SECS: u64 = 24 * 60 * 60;

/// A named retry policy, chosen per webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default, utoipa::ToSchema)]
pub enum RetryPolicy {
    /// The Standard Webhooks schedule (the default).
    #[default]
    #[serde(rename = "exponential")]
    Exponential,
    /// The triggers seed: every 10 minutes for 48 hours.
    #[serde(rename = "fixed-10m-48h")]
    Fixed10m48h,
    /// The callback-notifications seed: a single retry.
    #[serde(rename = "single-retry")]
    SingleRetry,
}

/// How the attempt that just ended went, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The receiver answered with one of the webhook's accepted status codes.
    Success,
    /// The receiver answered with a status that is *not* accepted (3xx included).
    /// `retry_after_secs` is the parsed `Retry-After` header, if any (see [`parse_retry_after`]);
    /// it is honoured for 429 and 503 only.
    Status { code: u16, retry_after_secs: Option<u64> },
    /// The request could not be sent or no response came back.
    SendError { kind: SendErrorKind },
    /// Ringhook refused to send (e.g. the destination resolves to a forbidden address): never
    /// retried.
    Refused,
}

/// Why a request could not be completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SendErrorKind {
    /// The per-request timeout elapsed.
    Timeout,
    /// The connection could not be established (refused, DNS failure, TLS handshake…).
    Connect,
    /// Anything else (connection reset, malformed response…).
    Other,
}

impl SendErrorKind {
    /// Classifies a reqwest error.
    pub fn classify(err: &reqwest::Error) -> Self {
        if err.is_timeout() {
            SendErrorKind::Timeout
        } else if err.is_connect() {
            SendErrorKind::Connect
        } else {
            SendErrorKind::Other
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            SendErrorKind::Timeout => "timeout",
            SendErrorKind::Connect => "connect",
            SendErrorKind::Other => "other",
        }
    }
}

/// What to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// The delivery succeeded.
    Done,
    /// Attempt again at this time (epoch milliseconds; may equal `now_ms`: retry immediately).
    RetryAt(i64),
    /// No more attempts: the delivery has failed.
    GiveUp,
}

/// An unknown retry policy name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown retry policy {0:?}; valid policies are \"exponential\", \"fixed-10m-48h\", \"single-retry\"")]
pub struct UnknownRetryPolicy(pub String);

impl RetryPolicy {
    /// Every policy, default first.
    pub const ALL: [RetryPolicy; 3] = [RetryPolicy::Exponential, RetryPolicy::Fixed10m48h, RetryPolicy::SingleRetry];

    /// The policy's name, as in the API and serde.
    pub fn as_str(&self) -> &'static str {
        match self {
            RetryPolicy::Exponential => "exponential",
            RetryPolicy::Fixed10m48h => "fixed-10m-48h",
            RetryPolicy::SingleRetry => "single-retry",
        }
    }

    /// Parses a policy name (surrounding whitespace and ASCII case are ignored).
    pub fn parse(s: &str) -> Result<Self, UnknownRetryPolicy> {
        let t = s.trim();
        Self::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| UnknownRetryPolicy(s.to_string()))
    }

    /// The most attempts this policy can make (first attempt included), retries on time.
    pub fn max_attempts(&self) -> u32 {
        match self {
            RetryPolicy::Exponential => EXPONENTIAL_DELAYS_MS.len() as u32 + 1,
            RetryPolicy::Fixed10m48h => (FIXED_WINDOW_MS / FIXED_INTERVAL_MS) as u32 + 1,
            RetryPolicy::SingleRetry => 2,
        }
    }

    /// A human description of the schedule, for docs and the API.
    pub fn schedule_description(&self) -> &'static str {
        match self {
            RetryPolicy::Exponential => {
                "Standard Webhooks schedule: first attempt immediately, then retries 5 seconds, \
                 5 minutes, 30 minutes, 2 hours, 5 hours, 10 hours, 14 hours, 20 hours and 24 hours \
                 after the previous attempt, each delay with +/-10% random jitter; at most 10 \
                 attempts, then the delivery fails."
            }
            RetryPolicy::Fixed10m48h => {
                "If the response is not a success, a retry is dispatched 10 minutes after each \
                 failed attempt, for 48 hours from the first attempt or until the response is a \
                 success: attempts at 0, 10, 20, ..., 2880 minutes (at most 289 attempts), no \
                 jitter."
            }
            RetryPolicy::SingleRetry => {
                "A single retry: if the request could not be sent (connection error, timeout, \
                 reset) it is retried once immediately; if the response is not a success it is \
                 retried once after 60 seconds. At most 2 attempts."
            }
        }
    }

    /// Decides what follows the attempt that just ended.
    ///
    /// `attempts_made` counts that attempt (1 after the first attempt; 0 is treated as 1).
    /// `first_attempt_at_ms` and `now_ms` are epoch milliseconds; `jitter` is only drawn from by
    /// `exponential`.
    pub fn decide(
        &self,
        outcome: &AttemptOutcome,
        attempts_made: u32,
        first_attempt_at_ms: i64,
        now_ms: i64,
        jitter: &mut impl Rng,
    ) -> RetryDecision {
        let attempts_made = attempts_made.max(1);
        let (retry_after_ms, send_error) = match *outcome {
            AttemptOutcome::Success => return RetryDecision::Done,
            AttemptOutcome::Refused => return RetryDecision::GiveUp,
            // The triggers seed: "if the response code is not in the 2xx family, a retry will be
            // dispatched after 10 minutes" — a 410 included.
            AttemptOutcome::Status { code: 410, .. } if *self != RetryPolicy::Fixed10m48h => {
                return RetryDecision::GiveUp
            }
            AttemptOutcome::Status { code: 429 | 503, retry_after_secs: Some(secs) } => {
                (secs.min(MAX_RETRY_AFTER_SECS) as i64 * SECOND_MS, false)
            }
            AttemptOutcome::Status { .. } => (0, false),
            AttemptOutcome::SendError { .. } => (0, true),
        };
        match self {
            RetryPolicy::Exponential => {
                let Some(&base) = EXPONENTIAL_DELAYS_MS.get(attempts_made as usize - 1) else {
                    return RetryDecision::GiveUp;
                };
                let spread = base / EXPONENTIAL_JITTER_DIVISOR;
                let delay = (base + jitter.gen_range(-spread..=spread)).max(0);
                RetryDecision::RetryAt(now_ms.saturating_add(delay.max(retry_after_ms)))
            }
            RetryPolicy::Fixed10m48h => {
                let at = now_ms.saturating_add(FIXED_INTERVAL_MS.max(retry_after_ms));
                if at <= first_attempt_at_ms.saturating_add(FIXED_WINDOW_MS) {
                    RetryDecision::RetryAt(at)
                } else {
                    RetryDecision::GiveUp
                }
            }
            RetryPolicy::SingleRetry => {
                if attempts_made >= 2 {
                    RetryDecision::GiveUp
                } else if send_error {
                    RetryDecision::RetryAt(now_ms)
                } else {
                    RetryDecision::RetryAt(now_ms.saturating_add(SINGLE_RETRY_DELAY_MS.max(retry_after_ms)))
                }
            }
        }
    }
}

impl fmt::Display for RetryPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RetryPolicy {
    type Err = UnknownRetryPolicy;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Parses a `Retry-After` header value: delta-seconds (`"120"`) or an HTTP-date
/// (`"Wed, 21 Oct 2015 07:28:00 GMT"`, also the obsolete RFC 850 and asctime forms).
///
/// Returns the number of seconds to wait from `now_ms` (a date in the past gives 0; a partial
/// second rounds up), capped at [`MAX_RETRY_AFTER_SECS`]; `None` if the value is neither form.
pub fn parse_retry_after(header: &str, now_ms: i64) -> Option<u64> {
    let v = header.trim();
    if v.is_empty() {
        return None;
    }
    if v.bytes().all(|b| b.is_ascii_digit()) {
        // All digits: an overflowing value is simply "very long".
        return Some(v.parse::<u64>().map_or(MAX_RETRY_AFTER_SECS, |s| s.min(MAX_RETRY_AFTER_SECS)));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    let when_ms = match when.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).ok()?,
        Err(_) => return Some(0),
    };
    let wait_ms = when_ms.saturating_sub(now_ms);
    if wait_ms <= 0 {
        return Some(0);
    }
    let secs = (wait_ms as u64).div_ceil(1_000);
    Some(secs.min(MAX_RETRY_AFTER_SECS))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    const T0: i64 = 1_700_000_000_000;

    fn rng() -> StdRng {
        StdRng::seed_from_u64(7)
    }

    fn status(code: u16) -> AttemptOutcome {
        AttemptOutcome::Status { code, retry_after_secs: None }
    }

    /// Runs a delivery that fails every attempt with `outcome`, retrying exactly when told.
    /// Returns the attempt times, relative to the first attempt.
    fn simulate(policy: RetryPolicy, outcome: AttemptOutcome, rng: &mut StdRng) -> Vec<i64> {
        let mut times = vec![T0];
        let mut now = T0;
        loop {
            match policy.decide(&outcome, times.len() as u32, T0, now, rng) {
                RetryDecision::RetryAt(at) => {
                    assert!(at >= now, "retry scheduled in the past");
                    now = at;
                    times.push(at);
                    assert!(times.len() < 10_000, "runaway policy");
                }
                RetryDecision::GiveUp => break,
                RetryDecision::Done => panic!("a failure is never Done"),
            }
        }
        times.into_iter().map(|t| t - T0).collect()
    }

    fn gaps(times: &[i64]) -> Vec<i64> {
        times.windows(2).map(|w| w[1] - w[0]).collect()
    }

    #[test]
    fn names_round_trip_through_parse_display_and_serde() {
        for p in RetryPolicy::ALL {
            assert_eq!(RetryPolicy::parse(p.as_str()), Ok(p));
            assert_eq!(p.to_string().parse::<RetryPolicy>(), Ok(p));
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(json, format!("\"{}\"", p.as_str()));
            assert_eq!(serde_json::from_str::<RetryPolicy>(&json).unwrap(), p);
        }
        assert_eq!(RetryPolicy::parse(" Fixed-10M-48h "), Ok(RetryPolicy::Fixed10m48h));
        assert_eq!(RetryPolicy::default(), RetryPolicy::Exponential);
        assert_eq!(serde_json::to_string(&SendErrorKind::Timeout).unwrap(), "\"timeout\"");
    }

    #[test]
    fn parse_errors_list_the_valid_names() {
        let err = RetryPolicy::parse("hourly").unwrap_err().to_string();
        for p in RetryPolicy::ALL {
            assert!(err.contains(p.as_str()), "{err}");
        }
        assert!(err.contains("hourly"));
        let serde_err = serde_json::from_str::<RetryPolicy>("\"hourly\"").unwrap_err().to_string();
        assert!(serde_err.contains("fixed-10m-48h"), "{serde_err}");
    }

    #[test]
    fn success_is_done_for_every_policy_and_attempt() {
        for p in RetryPolicy::ALL {
            for n in [1, 2, 10, 500] {
                assert_eq!(
                    p.decide(&AttemptOutcome::Success, n, T0, T0 + 99 * HOUR_MS, &mut rng()),
                    RetryDecision::Done
                );
            }
        }
    }

    #[test]
    fn refused_gives_up_immediately_for_every_policy_and_410_for_all_but_fixed() {
        for p in RetryPolicy::ALL {
            assert_eq!(p.decide(&AttemptOutcome::Refused, 1, T0, T0, &mut rng()), RetryDecision::GiveUp);
            // Through the simulator: exactly one attempt.
            assert_eq!(simulate(p, AttemptOutcome::Refused, &mut rng()), vec![0]);
            if p != RetryPolicy::Fixed10m48h {
                assert_eq!(p.decide(&status(410), 1, T0, T0, &mut rng()), RetryDecision::GiveUp);
                assert_eq!(simulate(p, status(410), &mut rng()), vec![0]);
            }
        }
        // The triggers seed retries any non-2xx every 10 minutes for 48 hours: 410 too.
        let times = simulate(RetryPolicy::Fixed10m48h, status(410), &mut rng());
        assert_eq!(times.len(), 289);
        assert!(gaps(&times).iter().all(|&g| g == 10 * MINUTE_MS));
    }

    #[test]
    fn exponential_makes_ten_attempts_on_the_standard_schedule_within_jitter() {
        for seed in 0..200 {
            let mut r = StdRng::seed_from_u64(seed);
            let times = simulate(RetryPolicy::Exponential, status(500), &mut r);
            assert_eq!(times.len(), 10);
            assert_eq!(times.len() as u32, RetryPolicy::Exponential.max_attempts());
            for (gap, base) in gaps(&times).into_iter().zip(EXPONENTIAL_DELAYS_MS) {
                let spread = base / 10;
                assert!((base - spread..=base + spread).contains(&gap), "gap {gap} outside {base}±10%");
            }
        }
    }

    #[test]
    fn exponential_jitter_actually_varies_and_spans_both_sides() {
        let mut r = rng();
        let delays: Vec<i64> = (0..2_000)
            .map(|_| match RetryPolicy::Exponential.decide(&status(500), 1, T0, T0, &mut r) {
                RetryDecision::RetryAt(at) => at - T0,
                d => panic!("{d:?}"),
            })
            .collect();
        let (min, max) = (*delays.iter().min().unwrap(), *delays.iter().max().unwrap());
        assert!((4_500..=5_500).contains(&min) && (4_500..=5_500).contains(&max));
        assert!(min < 4_600, "the 5 s delay jitters down too (min {min})");
        assert!(max > 5_400, "and up (max {max})");
    }

    #[test]
    fn exponential_send_errors_follow_the_same_schedule() {
        let times =
            simulate(RetryPolicy::Exponential, AttemptOutcome::SendError { kind: SendErrorKind::Timeout }, &mut rng());
        assert_eq!(times.len(), 10);
        assert!((4_500..=5_500).contains(&times[1]));
    }

    #[test]
    fn exponential_gives_up_after_the_tenth_attempt_and_on_nonsense_counts() {
        assert_eq!(RetryPolicy::Exponential.decide(&status(500), 10, T0, T0, &mut rng()), RetryDecision::GiveUp);
        assert_eq!(RetryPolicy::Exponential.decide(&status(500), u32::MAX, T0, T0, &mut rng()), RetryDecision::GiveUp);
        // 0 is treated like 1: the first retry, 5 s ± 10 %.
        match RetryPolicy::Exponential.decide(&status(500), 0, T0, T0, &mut rng()) {
            RetryDecision::RetryAt(at) => assert!((4_500..=5_500).contains(&(at - T0))),
            d => panic!("{d:?}"),
        }
    }

    #[test]
    fn fixed_retries_every_ten_minutes_for_exactly_48_hours() {
        for outcome in
            [status(500), status(302), status(404), AttemptOutcome::SendError { kind: SendErrorKind::Connect }]
        {
            let times = simulate(RetryPolicy::Fixed10m48h, outcome, &mut rng());
            assert_eq!(times.len(), 289, "{outcome:?}");
            assert_eq!(times.len() as u32, RetryPolicy::Fixed10m48h.max_attempts());
            assert!(gaps(&times).iter().all(|&g| g == 10 * MINUTE_MS));
            assert_eq!(*times.last().unwrap(), 2_880 * MINUTE_MS);
        }
    }

    #[test]
    fn fixed_window_is_measured_from_the_first_attempt() {
        // A late attempt (the scheduler ran behind) still ends the series at 48 h.
        let now = T0 + 47 * HOUR_MS + 55 * MINUTE_MS;
        assert_eq!(RetryPolicy::Fixed10m48h.decide(&status(500), 50, T0, now, &mut rng()), RetryDecision::GiveUp);
        let now = T0 + 47 * HOUR_MS + 50 * MINUTE_MS;
        assert_eq!(
            RetryPolicy::Fixed10m48h.decide(&status(500), 50, T0, now, &mut rng()),
            RetryDecision::RetryAt(T0 + 48 * HOUR_MS)
        );
    }

    #[test]
    fn single_retry_send_error_retries_once_immediately() {
        for kind in [SendErrorKind::Timeout, SendErrorKind::Connect, SendErrorKind::Other] {
            let times = simulate(RetryPolicy::SingleRetry, AttemptOutcome::SendError { kind }, &mut rng());
            assert_eq!(times, vec![0, 0]);
        }
    }

    #[test]
    fn single_retry_bad_status_retries_once_after_the_delay() {
        for code in [500, 502, 301, 400, 429, 503] {
            let times = simulate(RetryPolicy::SingleRetry, status(code), &mut rng());
            assert_eq!(times, vec![0, SINGLE_RETRY_DELAY_MS], "status {code}");
        }
        assert_eq!(RetryPolicy::SingleRetry.max_attempts(), 2);
    }

    #[test]
    fn single_retry_mixed_outcomes_still_stop_at_two_attempts() {
        let mut r = rng();
        let p = RetryPolicy::SingleRetry;
        let send_err = AttemptOutcome::SendError { kind: SendErrorKind::Other };
        assert_eq!(p.decide(&send_err, 1, T0, T0, &mut r), RetryDecision::RetryAt(T0));
        assert_eq!(p.decide(&status(500), 2, T0, T0, &mut r), RetryDecision::GiveUp);
        assert_eq!(p.decide(&send_err, 2, T0, T0, &mut r), RetryDecision::GiveUp);
    }

    #[test]
    fn retry_after_on_429_and_503_extends_the_wait() {
        let ra = |code, secs| AttemptOutcome::Status { code, retry_after_secs: Some(secs) };
        let mut r = rng();
        for code in [429, 503] {
            // Longer than the policy delay: wins.
            assert_eq!(
                RetryPolicy::Fixed10m48h.decide(&ra(code, 3_600), 1, T0, T0, &mut r),
                RetryDecision::RetryAt(T0 + HOUR_MS)
            );
            assert_eq!(
                RetryPolicy::SingleRetry.decide(&ra(code, 120), 1, T0, T0, &mut r),
                RetryDecision::RetryAt(T0 + 120 * SECOND_MS)
            );
            assert_eq!(
                RetryPolicy::Exponential.decide(&ra(code, 30), 1, T0, T0, &mut r),
                RetryDecision::RetryAt(T0 + 30 * SECOND_MS)
            );
            // Shorter than the policy delay: the policy wins.
            assert_eq!(
                RetryPolicy::Fixed10m48h.decide(&ra(code, 5), 1, T0, T0, &mut r),
                RetryDecision::RetryAt(T0 + 10 * MINUTE_MS)
            );
            assert_eq!(
                RetryPolicy::SingleRetry.decide(&ra(code, 1), 1, T0, T0, &mut r),
                RetryDecision::RetryAt(T0 + SINGLE_RETRY_DELAY_MS)
            );
            match RetryPolicy::Exponential.decide(&ra(code, 1), 3, T0, T0, &mut r) {
                RetryDecision::RetryAt(at) => {
                    assert!((27 * MINUTE_MS..=33 * MINUTE_MS).contains(&(at - T0)))
                }
                d => panic!("{d:?}"),
            }
            // Capped at 24 h even if the caller passes more.
            assert_eq!(
                RetryPolicy::SingleRetry.decide(&ra(code, u64::MAX), 1, T0, T0, &mut r),
                RetryDecision::RetryAt(T0 + 24 * HOUR_MS)
            );
        }
        // Ignored on other statuses.
        assert_eq!(
            RetryPolicy::Fixed10m48h.decide(&ra(500, 3_600), 1, T0, T0, &mut r),
            RetryDecision::RetryAt(T0 + 10 * MINUTE_MS)
        );
    }

    #[test]
    fn retry_after_still_respects_the_policy_end() {
        let ra = AttemptOutcome::Status { code: 429, retry_after_secs: Some(7_200) };
        // 47 h in, a 2 h Retry-After would land past the 48 h window.
        assert_eq!(RetryPolicy::Fixed10m48h.decide(&ra, 100, T0, T0 + 47 * HOUR_MS, &mut rng()), RetryDecision::GiveUp);
        assert_eq!(RetryPolicy::SingleRetry.decide(&ra, 2, T0, T0, &mut rng()), RetryDecision::GiveUp);
        assert_eq!(RetryPolicy::Exponential.decide(&ra, 10, T0, T0, &mut rng()), RetryDecision::GiveUp);
        // A whole series of 429s with a 1 h Retry-After under fixed-10m-48h: hourly, 49 attempts.
        let times = simulate(RetryPolicy::Fixed10m48h, ra_secs(3_600), &mut rng());
        assert_eq!(times.len(), 49);
        assert!(gaps(&times).iter().all(|&g| g == HOUR_MS));
        // And under exponential the 5 s first retry becomes 1 h, later ones keep their delays.
        let times = simulate(RetryPolicy::Exponential, ra_secs(3_600), &mut rng());
        assert_eq!(times.len(), 10);
        let g = gaps(&times);
        assert_eq!(g[0], HOUR_MS);
        assert_eq!(g[1], HOUR_MS);
        assert_eq!(g[2], HOUR_MS);
        assert!((108 * MINUTE_MS..=132 * MINUTE_MS).contains(&g[3]));
    }

    fn ra_secs(secs: u64) -> AttemptOutcome {
        AttemptOutcome::Status { code: 503, retry_after_secs: Some(secs) }
    }

    #[test]
    fn parse_retry_after_accepts_seconds_and_http_dates() {
        // 2015-10-21T07:28:00Z
        let now = 1_445_412_480_000;
        assert_eq!(parse_retry_after("120", now), Some(120));
        assert_eq!(parse_retry_after(" 0 ", now), Some(0));
        assert_eq!(parse_retry_after("86400", now), Some(86_400));
        assert_eq!(parse_retry_after("86401", now), Some(MAX_RETRY_AFTER_SECS));
        assert_eq!(parse_retry_after("99999999999999999999999", now), Some(MAX_RETRY_AFTER_SECS));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:30:00 GMT", now), Some(120));
        // Obsolete forms.
        assert_eq!(parse_retry_after("Wednesday, 21-Oct-15 07:30:00 GMT", now), Some(120));
        assert_eq!(parse_retry_after("Wed Oct 21 07:30:00 2015", now), Some(120));
        // Partial seconds round up; the past is 0; far future is capped.
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:30:00 GMT", now + 500), Some(120));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now), Some(0));
        assert_eq!(parse_retry_after("Fri, 30 Oct 2015 07:28:00 GMT", now), Some(MAX_RETRY_AFTER_SECS));
        for bad in ["", "  ", "-5", "1.5", "soon", "120s", "Wed, 21 Oct 2015"] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
    }

    #[test]
    fn descriptions_exist_and_mention_their_shape() {
        assert!(RetryPolicy::Exponential.schedule_description().contains("24 hours"));
        assert!(RetryPolicy::Fixed10m48h.schedule_description().contains("48 hours"));
        assert!(RetryPolicy::SingleRetry.schedule_description().contains("60 seconds"));
        assert_eq!(SINGLE_RETRY_DELAY_MS, 60_000);
    }
}
