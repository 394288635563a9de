//! The seed's timing and sending rules, as pure functions of times in epoch milliseconds.
//!
//! | notification     | when                                                                                                   | sent only if |
//! |------------------|--------------------------------------------------------------------------------------------------------|--------------|
//! | confirmation     | on registration (ASAP and scheduled)                                                                   | the callback is still pending |
//! | reminder         | 15 min before the scheduled time, when scheduled **more than** 15 min after registration               | still pending, and the scheduled time has not passed |
//! | ASAP reminder    | 10 min before the expected callback time, when the expected wait is **more than 20 and less than 60** min | the call target enables it; still pending, and the expected time has not passed |
//! | final attempt    | finalized with Abandoned, Failure, Unavailable or Unknown                                              | — |
//! | success          | finalized with Success                                                                                 | — |
//! | chose messaging  | the customer chooses messaging                                                                         | — |

use super::model::{CallbackState, CallbackType, NotificationKind, Outcome};

pub const MINUTE_MS: i64 = 60_000;
/// The scheduled reminder goes this long before the scheduled time...
pub const SCHEDULED_REMINDER_LEAD_MS: i64 = 15 * MINUTE_MS;
/// ...and only when the callback was scheduled more than this long after registration.
pub const SCHEDULED_REMINDER_MIN_AHEAD_MS: i64 = 15 * MINUTE_MS;
/// The ASAP reminder: expected wait strictly greater than this...
pub const ASAP_MIN_WAIT_MS: i64 = 20 * MINUTE_MS;
/// ...and strictly less than this...
pub const ASAP_MAX_WAIT_MS: i64 = 60 * MINUTE_MS;
/// ...sent this long before the expected callback time.
pub const ASAP_REMINDER_LEAD_MS: i64 = 10 * MINUTE_MS;

/// When the scheduled reminder is due, if the callback gets one.
pub fn scheduled_reminder_at(registered_at_ms: i64, scheduled_at_ms: i64) -> Option<i64> {
    (scheduled_at_ms - registered_at_ms > SCHEDULED_REMINDER_MIN_AHEAD_MS)
        .then_some(scheduled_at_ms - SCHEDULED_REMINDER_LEAD_MS)
}

/// When the ASAP reminder is due, if the callback gets one.
pub fn asap_reminder_at(registered_at_ms: i64, expected_at_ms: i64, enabled_by_call_target: bool) -> Option<i64> {
    let wait = expected_at_ms - registered_at_ms;
    (enabled_by_call_target && wait > ASAP_MIN_WAIT_MS && wait < ASAP_MAX_WAIT_MS)
        .then_some(expected_at_ms - ASAP_REMINDER_LEAD_MS)
}

/// The reminder a newly registered callback gets: its kind and due time.
pub fn reminder_for(
    callback_type: CallbackType,
    registered_at_ms: i64,
    callback_at_ms: i64,
    asap_enabled: bool,
) -> Option<(NotificationKind, i64)> {
    match callback_type {
        CallbackType::Scheduled => {
            scheduled_reminder_at(registered_at_ms, callback_at_ms).map(|at| (NotificationKind::Reminder, at))
        }
        CallbackType::Asap => asap_reminder_at(registered_at_ms, callback_at_ms, asap_enabled)
            .map(|at| (NotificationKind::AsapReminder, at)),
    }
}

/// A reminder that comes due (or is processed) only at or after the callback time itself would
/// say "we will call you shortly" about a call that should already have happened: it is dropped.
pub fn reminder_still_useful(now_ms: i64, callback_at_ms: i64) -> bool {
    now_ms < callback_at_ms
}

/// The notification a finalization sends.
pub fn finalization_kind(outcome: Outcome) -> NotificationKind {
    match outcome {
        Outcome::Success => NotificationKind::Success,
        Outcome::Abandoned | Outcome::Failure | Outcome::Unavailable | Outcome::Unknown => {
            NotificationKind::FinalAttempt
        }
    }
}

/// The seed's check before a confirmation or any reminder: the callback must still be pending.
/// The other kinds do not depend on the state.
pub fn may_send(kind: NotificationKind, state: CallbackState) -> bool {
    !kind.needs_pending_callback() || state == CallbackState::Pending
}

/// Which states an event may move a callback from.
pub fn may_move(from: CallbackState, to: CallbackState) -> bool {
    use CallbackState::*;
    match to {
        Pending => false,
        InProgress => from == Pending,
        Cancelled | ChoseMessaging => matches!(from, Pending | InProgress),
        // The first finalization wins; a cancelled callback can still be finalized (and its
        // final-attempt notification is then sent).
        Finalized => from != Finalized,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_729_093_635_000; // 2024-10-16T15:47:15Z
    const S: i64 = 1_000;
    const M: i64 = MINUTE_MS;

    #[test]
    fn scheduled_reminder_needs_more_than_15_minutes_ahead() {
        assert_eq!(scheduled_reminder_at(T0, T0 + 15 * M), None, "exactly 15 min: no reminder");
        assert_eq!(scheduled_reminder_at(T0, T0 + 15 * M + S), Some(T0 + S), "15 min + 1 s: 15 min before");
        assert_eq!(scheduled_reminder_at(T0, T0 + 15 * M + 1), Some(T0 + 1));
        assert_eq!(scheduled_reminder_at(T0, T0 + 15 * M - S), None);
        assert_eq!(scheduled_reminder_at(T0, T0 + 28 * M), Some(T0 + 13 * M));
        assert_eq!(scheduled_reminder_at(T0, T0 + 24 * 60 * M), Some(T0 + 24 * 60 * M - 15 * M));
        assert_eq!(scheduled_reminder_at(T0, T0), None);
        assert_eq!(scheduled_reminder_at(T0, T0 - 60 * M), None, "scheduled in the past");
    }

    #[test]
    fn asap_reminder_needs_a_wait_strictly_between_20_and_60_minutes() {
        assert_eq!(asap_reminder_at(T0, T0 + 20 * M, true), None, "20 min: no");
        assert_eq!(asap_reminder_at(T0, T0 + 20 * M + S, true), Some(T0 + 10 * M + S), "20 min + 1 s: yes");
        assert_eq!(asap_reminder_at(T0, T0 + 20 * M + 1, true), Some(T0 + 10 * M + 1));
        assert_eq!(asap_reminder_at(T0, T0 + 30 * M, true), Some(T0 + 20 * M));
        assert_eq!(asap_reminder_at(T0, T0 + 59 * M, true), Some(T0 + 49 * M), "59 min: yes");
        assert_eq!(asap_reminder_at(T0, T0 + 60 * M - 1, true), Some(T0 + 50 * M - 1));
        assert_eq!(asap_reminder_at(T0, T0 + 60 * M, true), None, "60 min: no");
        assert_eq!(asap_reminder_at(T0, T0 + 5 * M, true), None);
        assert_eq!(asap_reminder_at(T0, T0 + 2 * 60 * M, true), None);
    }

    #[test]
    fn asap_reminder_only_when_the_call_target_enables_it() {
        for wait in [20 * M + S, 30 * M, 59 * M] {
            assert_eq!(asap_reminder_at(T0, T0 + wait, false), None);
        }
    }

    #[test]
    fn reminder_for_picks_the_kind_by_callback_type() {
        assert_eq!(
            reminder_for(CallbackType::Scheduled, T0, T0 + 30 * M, false),
            Some((NotificationKind::Reminder, T0 + 15 * M))
        );
        // The ASAP switch does not matter for scheduled callbacks.
        assert_eq!(
            reminder_for(CallbackType::Scheduled, T0, T0 + 30 * M, true),
            Some((NotificationKind::Reminder, T0 + 15 * M))
        );
        assert_eq!(
            reminder_for(CallbackType::Asap, T0, T0 + 30 * M, true),
            Some((NotificationKind::AsapReminder, T0 + 20 * M))
        );
        assert_eq!(reminder_for(CallbackType::Asap, T0, T0 + 30 * M, false), None);
        // A 40 min scheduled callback gets the 15 min reminder, not the ASAP rule.
        assert_eq!(
            reminder_for(CallbackType::Scheduled, T0, T0 + 40 * M, true),
            Some((NotificationKind::Reminder, T0 + 25 * M))
        );
        assert_eq!(reminder_for(CallbackType::Scheduled, T0, T0 + 15 * M, true), None);
        assert_eq!(reminder_for(CallbackType::Asap, T0, T0 + 60 * M, true), None);
    }

    #[test]
    fn late_reminders_are_useless_at_and_after_the_callback_time() {
        assert!(reminder_still_useful(T0 - 1, T0));
        assert!(!reminder_still_useful(T0, T0));
        assert!(!reminder_still_useful(T0 + S, T0));
    }

    #[test]
    fn finalization_outcomes_map_to_the_seed_kinds() {
        assert_eq!(finalization_kind(Outcome::Success), NotificationKind::Success);
        for o in [Outcome::Abandoned, Outcome::Failure, Outcome::Unavailable, Outcome::Unknown] {
            assert_eq!(finalization_kind(o), NotificationKind::FinalAttempt, "{o:?}");
        }
    }

    #[test]
    fn only_confirmations_and_reminders_need_a_pending_callback() {
        use CallbackState::*;
        for state in [Pending, InProgress, Cancelled, ChoseMessaging, Finalized] {
            for kind in NotificationKind::ALL {
                let expected = match kind {
                    NotificationKind::Confirmation | NotificationKind::Reminder | NotificationKind::AsapReminder => {
                        state == Pending
                    }
                    _ => true,
                };
                assert_eq!(may_send(kind, state), expected, "{kind:?} in {state:?}");
            }
        }
    }

    #[test]
    fn state_moves() {
        use CallbackState::*;
        assert!(may_move(Pending, InProgress));
        assert!(!may_move(InProgress, InProgress));
        assert!(may_move(Pending, Cancelled));
        assert!(may_move(InProgress, Cancelled));
        assert!(!may_move(Finalized, Cancelled));
        assert!(!may_move(Cancelled, ChoseMessaging));
        assert!(may_move(Cancelled, Finalized));
        assert!(may_move(ChoseMessaging, Finalized));
        assert!(!may_move(Finalized, Finalized));
        for from in [Pending, InProgress, Cancelled, ChoseMessaging, Finalized] {
            assert!(!may_move(from, Pending), "nothing goes back to pending");
        }
    }
}
