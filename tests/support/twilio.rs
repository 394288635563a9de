//! A local Twilio-compatible Messages API: checks what real Twilio checks on
//! `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` (the path, Basic auth with the
//! account's SID and auth token, the form fields `To`, `From`, `Body`), answers like Twilio
//! (201 with a message resource, or Twilio's JSON error), and can then send the message's
//! status callbacks to its `StatusCallback` URL, signed with `X-Twilio-Signature` as Twilio
//! signs them. `GET …/Messages/{MessageSid}.json` answers the message resource with the status
//! its callbacks last reported, as Twilio's Message resource does.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A message Twilio accepted (201).
#[derive(Debug, Clone)]
pub struct SentMessage {
    pub sid: String,
    pub account_sid: String,
    pub to: String,
    pub from: String,
    pub body: String,
    pub status_callback: Option<String>,
    /// Every form field as sent.
    pub params: Vec<(String, String)>,
    pub at: Instant,
    /// The last status reported for it (`queued` until a callback is sent).
    pub status: String,
    pub error_code: Option<String>,
}

/// Any request, accepted or not, with Twilio's answer.
#[derive(Debug, Clone)]
pub struct TwilioRequest {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub body: String,
    pub status: u16,
    pub response: Value,
}

#[derive(Default)]
struct Shared {
    /// AccountSid → AuthToken.
    accounts: HashMap<String, String>,
    messages: Vec<SentMessage>,
    requests: Vec<TwilioRequest>,
    /// Status codes to answer the next valid requests with (e.g. 500), in order.
    failures: VecDeque<u16>,
    /// Recipients Twilio refuses: To → (HTTP status, Twilio error code, message).
    refused: HashMap<String, (u16, u32, String)>,
    counter: u64,
}

pub struct TwilioServer {
    pub url: String,
    shared: Arc<Mutex<Shared>>,
    task: tokio::task::JoinHandle<()>,
    http: reqwest::Client,
}

/// Twilio's request signature: base64(HMAC-SHA1(auth token, URL + sorted name+value pairs)).
pub fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut data = url.to_string();
    for (k, v) in sorted {
        data.push_str(k);
        data.push_str(v);
    }
    let mut mac = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()).unwrap();
    mac.update(data.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn error(status: u16, code: u32, message: &str) -> (u16, Value) {
    (
        status,
        json!({"code": code, "message": message, "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status}),
    )
}

fn e164(s: &str) -> bool {
    s.strip_prefix('+').is_some_and(|d| (2..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()))
}

impl TwilioServer {
    /// `accounts`: (AccountSid, AuthToken) pairs that authenticate.
    pub async fn start(accounts: &[(&str, &str)]) -> Self {
        let shared = Arc::new(Mutex::new(Shared {
            accounts: accounts.iter().map(|(s, t)| (s.to_string(), t.to_string())).collect(),
            ..Shared::default()
        }));
        let app = axum::Router::new().fallback(handle).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { url, shared, task, http: reqwest::Client::new() }
    }

    /// The next valid requests are answered with these statuses (Twilio error bodies).
    pub fn fail_next(&self, statuses: impl IntoIterator<Item = u16>) {
        self.shared.lock().unwrap().failures.extend(statuses);
    }

    /// Every message to `to` is refused as Twilio refuses it: e.g. 400 with code 21610
    /// ("Attempt to send to unsubscribed recipient") or 21211 (invalid 'To' number).
    pub fn refuse_to(&self, to: &str, status: u16, code: u32, message: &str) {
        self.shared.lock().unwrap().refused.insert(to.to_string(), (status, code, message.to_string()));
    }

    /// Sets a message's status as its Message resource shows it, without a callback (a
    /// callback that was lost).
    pub fn set_status(&self, sid: &str, status: &str, error_code: Option<&str>) {
        let mut s = self.shared.lock().unwrap();
        if let Some(m) = s.messages.iter_mut().find(|m| m.sid == sid) {
            m.status = status.to_string();
            m.error_code = error_code.map(str::to_string);
        }
    }

    pub fn messages(&self) -> Vec<SentMessage> {
        self.shared.lock().unwrap().messages.clone()
    }

    pub fn requests(&self) -> Vec<TwilioRequest> {
        self.shared.lock().unwrap().requests.clone()
    }

    /// Polls until at least `n` messages were accepted.
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<SentMessage> {
        let deadline = Instant::now() + within;
        loop {
            let got = self.messages();
            if got.len() >= n {
                return got;
            }
            if Instant::now() > deadline {
                panic!("twilio expected {n} messages, got {}: {got:#?}; requests: {:#?}", got.len(), self.requests());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Polls until at least `n` requests (accepted or not) arrived.
    pub async fn wait_requests(&self, n: usize, within: Duration) -> Vec<TwilioRequest> {
        let deadline = Instant::now() + within;
        loop {
            let got = self.requests();
            if got.len() >= n {
                return got;
            }
            if Instant::now() > deadline {
                panic!("twilio expected {n} requests, got {}: {got:#?}", got.len());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The parameters of a status callback for `m`, as Twilio sends them.
    pub fn status_params(&self, m: &SentMessage, status: &str, error_code: Option<&str>) -> Vec<(String, String)> {
        let mut p = vec![
            ("AccountSid".to_string(), m.account_sid.clone()),
            ("ApiVersion".to_string(), "2010-04-01".to_string()),
            ("From".to_string(), m.from.clone()),
            ("MessageSid".to_string(), m.sid.clone()),
            ("MessageStatus".to_string(), status.to_string()),
            ("SmsSid".to_string(), m.sid.clone()),
            ("SmsStatus".to_string(), status.to_string()),
            ("To".to_string(), m.to.clone()),
        ];
        if let Some(c) = error_code {
            p.push(("ErrorCode".to_string(), c.to_string()));
        }
        p
    }

    /// Sends a status callback for `m` to its StatusCallback URL, signed like Twilio does.
    pub async fn send_status(&self, m: &SentMessage, status: &str, error_code: Option<&str>) -> (u16, String) {
        self.set_status(&m.sid, status, error_code);
        let url = m.status_callback.clone().expect("the message has a StatusCallback");
        let token = self.shared.lock().unwrap().accounts[&m.account_sid].clone();
        let params = self.status_params(m, status, error_code);
        let sig = signature(&token, &url, &params);
        self.post_signed(&url, &params, Some(&sig)).await
    }

    /// The parameters of an incoming message from `from` to `to`, as Twilio posts them to a
    /// number's "A message comes in" webhook (`opt_out_type`: Advanced Opt-Out's STOP/START/HELP).
    pub fn inbound_params(
        &self,
        from: &str,
        to: &str,
        body: &str,
        opt_out_type: Option<&str>,
    ) -> Vec<(String, String)> {
        let (account, n) = {
            let mut s = self.shared.lock().unwrap();
            s.counter += 1;
            (s.accounts.keys().next().cloned().unwrap_or_default(), s.counter)
        };
        let digest = Sha256::digest(format!("in:{n}:{from}:{body}").as_bytes());
        let sid = format!("SM{}", digest[..16].iter().map(|b| format!("{b:02x}")).collect::<String>());
        let mut p = vec![
            ("AccountSid".to_string(), account),
            ("ApiVersion".to_string(), "2010-04-01".to_string()),
            ("Body".to_string(), body.to_string()),
            ("From".to_string(), from.to_string()),
            ("FromCountry".to_string(), "US".to_string()),
            ("MessageSid".to_string(), sid.clone()),
            ("NumMedia".to_string(), "0".to_string()),
            ("NumSegments".to_string(), "1".to_string()),
            ("SmsMessageSid".to_string(), sid.clone()),
            ("SmsSid".to_string(), sid),
            ("SmsStatus".to_string(), "received".to_string()),
            ("To".to_string(), to.to_string()),
        ];
        if let Some(t) = opt_out_type {
            p.push(("OptOutType".to_string(), t.to_string()));
        }
        p
    }

    /// Posts an incoming message to `url` (a number's webhook), signed like Twilio does.
    pub async fn send_inbound(&self, url: &str, params: &[(String, String)]) -> (u16, String) {
        let account = params.iter().find(|(k, _)| k == "AccountSid").map(|(_, v)| v.clone()).unwrap_or_default();
        let token = self.shared.lock().unwrap().accounts[&account].clone();
        self.post_signed(url, params, Some(&signature(&token, url, params))).await
    }

    /// Posts form `params` to `url` with the given signature header (or none).
    pub async fn post_signed(&self, url: &str, params: &[(String, String)], sig: Option<&str>) -> (u16, String) {
        let mut req = self.http.post(url).form(params).header("user-agent", "TwilioProxy/1.1");
        if let Some(s) = sig {
            req = req.header("x-twilio-signature", s);
        }
        let resp = req.send().await.expect("status callback");
        let status = resp.status().as_u16();
        (status, resp.text().await.unwrap_or_default())
    }
}

impl Drop for TwilioServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn answer(shared: &mut Shared, method: &Method, uri: &Uri, headers: &HeaderMap, body: &Bytes) -> (u16, Value) {
    let path = uri.path();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (sid, message) = match parts.as_slice() {
        ["2010-04-01", "Accounts", sid, "Messages.json"] => (*sid, None),
        ["2010-04-01", "Accounts", sid, "Messages", m] if m.ends_with(".json") => (*sid, m.strip_suffix(".json")),
        _ => return error(404, 20404, &format!("The requested resource {path} was not found")),
    };
    let allowed = if message.is_some() { Method::GET } else { Method::POST };
    if method != allowed {
        return error(405, 20004, "Method not allowed");
    }
    // Basic auth: the AccountSid in the path, with its auth token.
    let creds = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let authenticated = match creds.as_deref().and_then(|c| c.split_once(':')) {
        Some((user, token)) => user == sid && shared.accounts.get(sid).is_some_and(|t| t == token),
        None => false,
    };
    if !authenticated {
        return error(401, 20003, "Authenticate");
    }
    if let Some(msg_sid) = message {
        return match shared.messages.iter().find(|m| m.sid == msg_sid && m.account_sid == sid) {
            Some(m) => (200, resource(m)),
            None => error(404, 20404, &format!("The requested resource {path} was not found")),
        };
    }
    let is_form = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
    let params: Vec<(String, String)> =
        if is_form { url::form_urlencoded::parse(body).into_owned().collect() } else { vec![] };
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).filter(|v| !v.is_empty());
    let Some(to) = get("To") else { return error(400, 21604, "A 'To' phone number is required.") };
    let Some(from) = get("From") else { return error(400, 21603, "A 'From' phone number is required.") };
    let Some(text) = get("Body") else { return error(400, 21602, "Message body is required.") };
    if !e164(&to) {
        return error(400, 21211, &format!("The 'To' number {to} is not a valid phone number."));
    }
    if text.chars().count() > 1600 {
        return error(400, 21617, "The concatenated message body exceeds the 1600 character limit.");
    }
    if let Some(status) = shared.failures.pop_front() {
        return error(status, 20500, "Internal Server Error");
    }
    if let Some((status, code, message)) = shared.refused.get(&to) {
        return error(*status, *code, message);
    }
    shared.counter += 1;
    let digest = Sha256::digest(format!("{sid}:{}:{to}:{text}", shared.counter).as_bytes());
    let msg_sid = format!("SM{}", digest[..16].iter().map(|b| format!("{b:02x}")).collect::<String>());
    let m = SentMessage {
        sid: msg_sid.clone(),
        account_sid: sid.to_string(),
        to: to.clone(),
        from: from.clone(),
        body: text.clone(),
        status_callback: get("StatusCallback"),
        params: params.clone(),
        at: Instant::now(),
        status: "queued".to_string(),
        error_code: None,
    };
    let answer = resource(&m);
    shared.messages.push(m);
    (201, answer)
}

/// A message resource as Twilio's API shows it.
fn resource(m: &SentMessage) -> Value {
    let now = "Wed, 16 Oct 2024 15:47:15 +0000";
    let (sid, msg_sid) = (&m.account_sid, &m.sid);
    let code: Option<u32> = m.error_code.as_deref().and_then(|c| c.parse().ok());
    json!({
        "account_sid": sid, "api_version": "2010-04-01", "body": m.body, "date_created": now, "date_sent": null,
        "date_updated": now, "direction": "outbound-api", "error_code": code, "error_message": null, "from": m.from,
        "messaging_service_sid": null, "num_media": "0", "num_segments": "1", "price": null, "price_unit": "USD",
        "sid": msg_sid, "status": m.status,
        "subresource_uris": {"media": format!("/2010-04-01/Accounts/{sid}/Messages/{msg_sid}/Media.json")},
        "to": m.to, "uri": format!("/2010-04-01/Accounts/{sid}/Messages/{msg_sid}.json")
    })
}

async fn handle(
    State(shared): State<Arc<Mutex<Shared>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut s = shared.lock().unwrap();
    let (status, response) = answer(&mut s, &method, &uri, &headers, &body);
    s.requests.push(TwilioRequest {
        method: method.to_string(),
        path: uri.path().to_string(),
        authorization: headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_string),
        content_type: headers.get("content-type").and_then(|v| v.to_str().ok()).map(str::to_string),
        body: String::from_utf8_lossy(&body).into_owned(),
        status,
        response: response.clone(),
    });
    (StatusCode::from_u16(status).unwrap(), axum::Json(response)).into_response()
}
