//! Building the request of one attempt, in one place, from the delivery's destination (as it is
//! configured now) and its rendered body: JSON (or the webhook's template rendered from the
//! delivery's data) to an HTTP destination or an inline URL, signed with Standard Webhooks
//! headers; a Messages API call for an SMS sender.

use super::{sms_senders, templates, twilio};
use crate::app::App;
use crate::delivery::sender::OutgoingRequest;
use crate::delivery::{signing, ssrf};
use crate::model::webhook::DEFAULT_TIMEOUT_MS;
use crate::model::{Delivery, DeliveryTarget, HeaderSpec, SmsBody, WebhookAuth};
use crate::ports::StoreError;
use crate::repo::{signing_secrets, webhooks};
use base64::Engine;
use std::time::Duration;

/// The request one attempt sends, and the status codes that count as success.
pub struct Prepared {
    pub request: OutgoingRequest,
    pub success_codes: Vec<u16>,
}

/// Why an attempt was not sent at all; never retried.
#[derive(Debug)]
pub struct Refusal(pub String);

/// Why no request could be built for an attempt.
#[derive(Debug)]
pub enum PrepareError {
    /// Sending is refused (destination forbidden or deleted…): the attempt is logged and the
    /// delivery fails.
    Refused(Refusal),
    /// Storage could not be read: nothing is claimed, the queue message is retried later.
    Unavailable(StoreError),
}

impl From<Refusal> for PrepareError {
    fn from(r: Refusal) -> Self {
        PrepareError::Refused(r)
    }
}

impl From<StoreError> for PrepareError {
    fn from(e: StoreError) -> Self {
        PrepareError::Unavailable(e)
    }
}

/// Builds the request for the delivery's destination, as configured now.
pub async fn build(app: &App, d: &Delivery, now_ms: i64) -> Result<Prepared, PrepareError> {
    match &d.target {
        DeliveryTarget::Url { url } => {
            // Inline URLs have no webhook to hold a secret: they are signed with the tenant's.
            let secrets = signing_secrets::ensure(app.store.as_ref(), &d.tenant_id).await?;
            let body = serde_json::to_vec(&d.payload).expect("json serializes");
            let headers = standard_headers(d, now_ms, &body, &secrets.active(now_ms), "application/json");
            let request = OutgoingRequest {
                method: "POST".into(),
                url: checked_url(app, url).await?,
                headers,
                body,
                timeout: Duration::from_millis(DEFAULT_TIMEOUT_MS),
            };
            Ok(Prepared { request, success_codes: vec![] })
        }
        DeliveryTarget::Webhook { webhook_id } => {
            let w = webhooks::find(app.store.as_ref(), &d.tenant_id, webhook_id)
                .await?
                .ok_or_else(|| Refusal(format!("webhook {webhook_id} no longer exists")))?
                .value;
            let (body, content_type) = match &w.template_id {
                None => (serde_json::to_vec(&d.payload).expect("json serializes"), "application/json"),
                Some(t) => {
                    let t = templates::store::find(app.store.as_ref(), &d.tenant_id, t)
                        .await?
                        .ok_or_else(|| Refusal(format!("template {t} of webhook {webhook_id} no longer exists")))?
                        .value;
                    let empty = serde_json::Map::new();
                    let data = d.payload.as_object().unwrap_or(&empty);
                    let body = templates::render(&t, data)
                        .map_err(|e| Refusal(format!("template {}: {e}; not sent", t.id)))?;
                    (body.into_bytes(), t.kind.content_type())
                }
            };
            let mut headers = standard_headers(d, now_ms, &body, &w.active_secrets(now_ms), content_type);
            apply_custom_headers(&mut headers, &w.headers);
            if let WebhookAuth::Basic { username, password } = &w.auth {
                headers.retain(|(k, _)| !k.eq_ignore_ascii_case("authorization"));
                headers.push(("authorization".into(), basic_auth(username, password)));
            }
            let request = OutgoingRequest {
                method: w.method.as_str().into(),
                url: checked_url(app, &w.url).await?,
                headers,
                body,
                timeout: Duration::from_millis(w.timeout_ms),
            };
            Ok(Prepared { request, success_codes: w.success_codes.clone() })
        }
        DeliveryTarget::Sms { sender_id } => {
            let s = sms_senders::find(app.store.as_ref(), &d.tenant_id, sender_id)
                .await?
                .ok_or_else(|| Refusal(format!("SMS sender {sender_id} no longer exists")))?
                .value;
            let sms: SmsBody = serde_json::from_value(d.payload.clone())
                .map_err(|e| Refusal(format!("the SMS body is malformed: {e}")))?;
            let from = match (sms.from.is_empty(), &s.from) {
                (false, _) => sms.from,
                (true, Some(f)) => f.clone(),
                (true, None) => {
                    return Err(Refusal(format!(
                        "no From number: the SMS names none and sender {sender_id} has no default"
                    ))
                    .into())
                }
            };
            let status_callback =
                twilio::status_callback_url(&app.settings.public_url, &d.tenant_id, sender_id, &d.id, d.attempts + 1);
            let form = twilio::message_form(&sms.to, &from, &sms.body, &status_callback);
            let headers = vec![
                ("content-type".to_string(), "application/x-www-form-urlencoded".to_string()),
                ("accept".to_string(), "application/json".to_string()),
                ("authorization".to_string(), basic_auth(&s.account_sid, &s.auth_token)),
            ];
            let url = checked_url(app, &twilio::messages_url(&app.settings.twilio_base_url, &s.account_sid)).await?;
            let request = OutgoingRequest {
                method: "POST".into(),
                url,
                headers,
                body: form.into_bytes(),
                timeout: Duration::from_millis(DEFAULT_TIMEOUT_MS),
            };
            Ok(Prepared { request, success_codes: vec![] })
        }
    }
}

pub fn basic_auth(username: &str, password: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}")))
}

/// Standard Webhooks headers: the delivery id is stable across attempts; signed with every
/// active secret (during a rotation, old and new).
pub fn standard_headers(
    d: &Delivery,
    now_ms: i64,
    body: &[u8],
    secrets: &[&str],
    content_type: &str,
) -> Vec<(String, String)> {
    let ts = now_ms.div_euclid(1000);
    let mut h = vec![
        ("content-type".to_string(), content_type.to_string()),
        ("webhook-id".to_string(), d.id.clone()),
        ("webhook-timestamp".to_string(), ts.to_string()),
    ];
    if !secrets.is_empty() {
        match signing::signature_header(secrets, &d.id, ts, body) {
            Ok(sig) => h.push(("webhook-signature".to_string(), sig)),
            Err(e) => tracing::error!(delivery = %d.id, error = %e, "could not sign; sending unsigned"),
        }
    }
    h
}

/// Why a webhook's own headers may not set `name`, if they may not: the Standard Webhooks trio
/// (Ringhook signs every request), and the headers that frame the message or the connection,
/// which the HTTP client sets (a user's value would break or smuggle the request).
pub fn forbidden_header(name: &str) -> Option<&'static str> {
    let n = name.trim().to_ascii_lowercase();
    if [signing::HEADER_ID, signing::HEADER_TIMESTAMP, signing::HEADER_SIGNATURE].contains(&n.as_str()) {
        return Some("is set by Ringhook on every request (Standard Webhooks) and cannot be replaced");
    }
    const FRAMING: [&str; 8] =
        ["host", "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer"];
    if FRAMING.contains(&n.as_str()) || n.starts_with("proxy-") {
        return Some("frames the request or the connection; the HTTP client sets it");
    }
    None
}

/// At most this many custom headers per webhook…
pub const MAX_CUSTOM_HEADERS: usize = 50;
/// …with names of at most this many bytes…
pub const MAX_HEADER_NAME_BYTES: usize = 128;
/// …and values of at most this many bytes.
pub const MAX_HEADER_VALUE_BYTES: usize = 4096;

/// User headers override ours by name (except the forbidden ones, which the API refuses and a
/// webhook stored before that rule still must not send); a value of exactly `{id}` becomes a
/// fresh unique id.
pub fn apply_custom_headers(headers: &mut Vec<(String, String)>, custom: &[HeaderSpec]) {
    for c in custom {
        if forbidden_header(&c.name).is_some() {
            continue;
        }
        let value = if c.value.trim() == "{id}" { uuid::Uuid::new_v4().to_string() } else { c.value.clone() };
        headers.retain(|(k, _)| !k.eq_ignore_ascii_case(&c.name));
        headers.push((c.name.clone(), value));
    }
}

/// What a secret is shown as (and, sent back in a replace, means "keep the stored one").
pub const MASK: &str = "****";

/// Headers shown as they are in reads and in the delivery log: a short list of plain ones, and
/// Ringhook's own `webhook-id` and `webhook-timestamp`. Any other header may carry a credential
/// under a name no list of "secret-looking" names foresees (`X-Auth`,
/// `Ocp-Apim-Subscription-Key`…), so it is masked.
const PLAIN_HEADERS: [&str; 11] = [
    "accept",
    "accept-charset",
    "accept-language",
    "cache-control",
    "content-language",
    "content-type",
    "user-agent",
    "x-request-id",
    "x-correlation-id",
    signing::HEADER_ID,
    signing::HEADER_TIMESTAMP,
];

/// A header's value as reads and the delivery log show it: plain for [`PLAIN_HEADERS`] and
/// for the `{id}` placeholder, else [`MASK`] (`Authorization` keeps its scheme: `Bearer ****`).
pub fn mask_header(name: &str, value: &str) -> String {
    let n = name.trim().to_ascii_lowercase();
    if PLAIN_HEADERS.contains(&n.as_str()) || value.trim() == "{id}" {
        return value.to_string();
    }
    match value.trim().split_once(' ') {
        Some((scheme, _)) if n == "authorization" && is_auth_scheme(scheme) => format!("{scheme} {MASK}"),
        _ => MASK.to_string(),
    }
}

/// An auth-scheme-shaped token (`Bearer`, `Basic`, `AWS4-HMAC-SHA256`…): showing it tells the
/// kind of credential; anything else before a space could be part of the secret.
fn is_auth_scheme(s: &str) -> bool {
    s.len() <= 32
        && s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// The SSRF rules at send time: literal addresses are checked here, names after resolving
/// (and again by the client's resolver at connect, against DNS rebinding).
async fn checked_url(app: &App, url: &str) -> Result<String, Refusal> {
    let parsed = ssrf::check_url_at_creation(url, &app.settings.destinations).map_err(|e| Refusal(e.to_string()))?;
    if let Some(url::Host::Domain(host)) = parsed.host() {
        let port = parsed.port_or_known_default().unwrap_or(80);
        // Only a refusal stops here; a name that does not resolve (now) is a failed attempt,
        // retried by the policy, when the client tries to connect.
        if let Err(e @ ssrf::DestinationError::Refused { .. }) =
            ssrf::resolve_checked(host, port, &app.settings.destinations).await
        {
            return Err(Refusal(e.to_string()));
        }
    }
    Ok(parsed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::retry::RetryPolicy;
    use crate::model::Event;
    use serde_json::Value;
    use sms_senders::SmsSender;
    use std::sync::Arc;

    const T0: i64 = 1_729_093_635_000;

    fn app(name: &str) -> (Arc<App>, std::path::PathBuf) {
        crate::embedded::test_app(&format!("request-{name}"), T0, |s| s.twilio_base_url = "http://127.0.0.1:9".into())
    }

    fn sms(to: &str, from: &str) -> Delivery {
        let event = Event {
            id: "evt".into(),
            tenant_id: "ten".into(),
            event_type: "t.t".into(),
            payload: Value::Null.into(),
            time: String::new(),
            received_at_ms: T0,
            arrival: String::new(),
        };
        let body = SmsBody { to: to.into(), from: from.into(), body: "hi".into() };
        let target = DeliveryTarget::Sms { sender_id: "sms_1".into() };
        Delivery::new(&event, "dlv_1".into(), target, serde_json::json!(body), RetryPolicy::SingleRetry, T0)
    }

    fn form(p: &Prepared) -> Vec<(String, String)> {
        url::form_urlencoded::parse(&p.request.body).into_owned().collect()
    }

    #[test]
    fn only_plain_headers_are_shown_unmasked() {
        for (name, value) in
            [("Content-Type", "text/plain"), ("accept", "*/*"), ("User-Agent", "ua/1"), ("webhook-id", "d")]
        {
            assert_eq!(mask_header(name, value), value, "{name}");
        }
        for name in ["X-Auth", "X-Access-Key", "Ocp-Apim-Subscription-Key", "X-Plain", "Cookie", "webhook-signature"] {
            assert_eq!(mask_header(name, "abc def"), MASK, "{name}");
        }
        assert_eq!(mask_header("Authorization", "Bearer abc.def"), "Bearer ****");
        assert_eq!(mask_header("authorization", "Basic dXNlcjpwdw=="), "Basic ****");
        assert_eq!(mask_header("Authorization", "s3cr3t"), MASK);
        assert_eq!(mask_header("Authorization", "s3cr3t! rest"), MASK, "not a scheme: part of the secret");
        assert_eq!(mask_header("X-Request-Id", "{id}"), "{id}");
        assert_eq!(mask_header("X-Other", "{id}"), "{id}", "a placeholder, not a credential");
    }

    #[test]
    fn forbidden_headers_are_never_sent() {
        for name in [
            "Host",
            "content-length",
            "Transfer-Encoding",
            "Connection",
            "Upgrade",
            "TE",
            "Trailer",
            "Proxy-Authorization",
            "proxy-connection",
            "Webhook-Signature",
            "webhook-id",
            "Webhook-Timestamp",
        ] {
            assert!(forbidden_header(name).is_some(), "{name}");
        }
        for name in ["Authorization", "X-Host", "Content-Type", "X-Proxy"] {
            assert!(forbidden_header(name).is_none(), "{name}");
        }
        let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
        let custom = [("Host", "evil.example"), ("X-Auth", "abc"), ("Content-Type", "text/plain")]
            .map(|(n, v)| HeaderSpec { name: n.into(), value: v.into() });
        apply_custom_headers(&mut headers, &custom);
        let pairs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(pairs, [("X-Auth", "abc"), ("Content-Type", "text/plain")]);
    }

    #[tokio::test]
    async fn an_sms_uses_the_senders_default_from_only_when_it_names_none() {
        let (app, dir) = app("from");
        let mut sender = SmsSender {
            id: "sms_1".into(),
            name: "n".into(),
            account_sid: "AC0123456789abcdef0123456789abcdef".into(),
            auth_token: "tok".into(),
            from: Some("+15550001111".into()),
            created_at: String::new(),
            updated_at: String::new(),
        };
        sms_senders::put(app.store.as_ref(), "ten", &sender, None).await.unwrap();
        let p = build(&app, &sms("+1333", ""), T0).await.unwrap();
        let f = form(&p);
        assert!(f.contains(&("From".into(), "+15550001111".into())), "{f:?}");
        assert!(f.iter().any(|(k, v)| k == "StatusCallback" && v.contains("sender=sms_1")), "{f:?}");
        assert_eq!(
            p.request.url,
            "http://127.0.0.1:9/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json"
        );
        let p = build(&app, &sms("+1333", "+1444"), T0).await.unwrap();
        assert!(form(&p).contains(&("From".into(), "+1444".into())));

        sender.from = None;
        sms_senders::put(app.store.as_ref(), "ten", &sender, Some(1)).await.unwrap();
        match build(&app, &sms("+1333", ""), T0).await {
            Err(PrepareError::Refused(Refusal(r))) => assert!(r.contains("no From number"), "{r}"),
            _ => panic!("an SMS with no From anywhere is refused"),
        }
        sms_senders::delete(app.store.as_ref(), "ten", "sms_1").await.unwrap();
        match build(&app, &sms("+1333", "+1444"), T0).await {
            Err(PrepareError::Refused(Refusal(r))) => assert!(r.contains("no longer exists"), "{r}"),
            _ => panic!("a deleted sender is refused"),
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
