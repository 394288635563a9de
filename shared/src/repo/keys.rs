//! Every partition and sort key in one place, so the layout can be read at a glance.
//!
//! | item            | pk                              | sk              |
//! |-----------------|---------------------------------|-----------------|
//! | tenant          | `TENANT#{tenant}`               | `TENANT`        |
//! | api key         | `APIKEY#{sha256(key)}`          | `APIKEY`        |
//! | trigger         | `{tenant}#TRIGGER`              | `{id}`          |
//! | webhook         | `{tenant}#WEBHOOK`              | `{id}`          |
//! | event (dedup)   | `{tenant}#EVENT#{id}`           | `EVENT`         |
//! | delivery        | `{tenant}#DELIVERY`             | `{ulid}`        |
//! | attempt         | `{tenant}#ATTEMPT#{delivery}`   | `{number:05}`   |
//! | lead            | `{tenant}#LEAD`                 | `{leadId}`      |
//! | call target     | `{tenant}#CALLTARGET`           | `{id}`          |
//! | connection      | `{tenant}#CONNECTION`           | `{id}`          |
//! | callback        | `{tenant}#CALLBACK`             | `{callbackId}`  |
//! | reminder        | `{tenant}#REMINDER`             | `{callbackId}#{kind}` |
//! | sms sender      | `{tenant}#SMSSENDER`            | `{id}`          |
//! | sms status      | `{tenant}#SMS`                  | `{delivery}#{attempt:05}` |
//! | signing secret  | `{tenant}#SECRET`               | `SIGNING`       |
//! | account (SMS)   | `{tenant}#ACCOUNT`              | `SMS`           |
//! | flow            | `{tenant}#FLOW`                 | `{id:010}`      |
//! | SMS record      | `{tenant}#SMSRECORD`            | `{uuid v7}` (due-indexed until final, for the 12 h lookup) |
//! | contact         | `{tenant}#CONTACT`              | `{phone number}`|
//! | message settings| `{tenant}#ACCOUNT`              | `MESSAGING`     |
//! | outcome events  | `{tenant}#ACCOUNT`              | `OUTCOMEEVENTS` |
//! | send            | `{tenant}#SEND`                 | `{id}` (due-indexed until reported, for the 24 h report) |

pub fn tenant(t: &str) -> (String, &'static str) {
    (format!("TENANT#{t}"), "TENANT")
}
pub fn api_key(hash: &str) -> (String, &'static str) {
    (format!("APIKEY#{hash}"), "APIKEY")
}
pub fn triggers(t: &str) -> String {
    format!("{t}#TRIGGER")
}
pub fn webhooks(t: &str) -> String {
    format!("{t}#WEBHOOK")
}
pub fn event(t: &str, id: &str) -> (String, &'static str) {
    (format!("{t}#EVENT#{id}"), "EVENT")
}
pub fn deliveries(t: &str) -> String {
    format!("{t}#DELIVERY")
}
pub fn attempts(t: &str, delivery: &str) -> String {
    format!("{t}#ATTEMPT#{delivery}")
}
pub fn attempt_sk(n: u32) -> String {
    format!("{n:05}")
}
pub fn leads(t: &str) -> String {
    format!("{t}#LEAD")
}
pub fn signing_secrets(t: &str) -> (String, &'static str) {
    (format!("{t}#SECRET"), "SIGNING")
}
pub fn call_targets(t: &str) -> String {
    format!("{t}#CALLTARGET")
}
pub fn connections(t: &str) -> String {
    format!("{t}#CONNECTION")
}
pub fn callbacks(t: &str) -> String {
    format!("{t}#CALLBACK")
}
/// Due reminders are found by the scheduler through the due-time index (pk suffix `#REMINDER`).
pub fn reminders(t: &str) -> String {
    format!("{t}#REMINDER")
}
pub fn reminder_sk(callback: &str, kind: &str) -> String {
    format!("{callback}#{kind}")
}
pub fn sms_senders(t: &str) -> String {
    format!("{t}#SMSSENDER")
}
pub fn sms_statuses(t: &str) -> String {
    format!("{t}#SMS")
}
pub fn sms_status_sk(delivery: &str, attempt: u32) -> String {
    format!("{delivery}#{attempt:05}")
}
pub fn templates(t: &str) -> String {
    format!("{t}#TEMPLATE")
}
pub fn locations(t: &str) -> String {
    format!("{t}#LOCATION")
}
pub fn campaigns(t: &str) -> String {
    format!("{t}#CAMPAIGN")
}
pub fn dni_campaigns(t: &str) -> String {
    format!("{t}#DNICAMPAIGN")
}
pub fn call_treatments(t: &str) -> String {
    format!("{t}#TREATMENT")
}
/// The account's SMS settings (one item per tenant).
pub fn sms_account(t: &str) -> (String, &'static str) {
    (format!("{t}#ACCOUNT"), "SMS")
}
pub fn flows(t: &str) -> String {
    format!("{t}#FLOW")
}
/// Flow ids are numbers; zero-padded so the sort key orders them.
pub fn flow_sk(id: u64) -> String {
    format!("{id:010}")
}
/// SMS records are due-indexed (pk suffix `#SMSRECORD`) until their status is final.
pub fn sms_records(t: &str) -> String {
    format!("{t}#SMSRECORD")
}
/// The account's message settings (the SMS webhooks) beside its SMS settings.
pub const MESSAGING_SK: &str = "MESSAGING";
/// The outcome events the tenant subscribes to, beside the account's other settings.
pub fn outcome_events(t: &str) -> (String, &'static str) {
    (format!("{t}#ACCOUNT"), "OUTCOMEEVENTS")
}
/// Sends are due-indexed (pk suffix `#SEND`) until their delivery report went out.
pub fn sends(t: &str) -> String {
    format!("{t}#SEND")
}
pub fn contacts(t: &str) -> String {
    format!("{t}#CONTACT")
}
