//! Twilio's Messages API (the request an SMS delivery sends) and its webhook signature
//! (`X-Twilio-Signature`, checked on status callbacks).

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// `POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json`.
pub fn messages_url(base: &str, account_sid: &str) -> String {
    format!("{}/2010-04-01/Accounts/{account_sid}/Messages.json", base.trim_end_matches('/'))
}

/// `GET {base}/2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}.json`: one message.
pub fn message_url(base: &str, account_sid: &str, message_sid: &str) -> String {
    format!("{}/2010-04-01/Accounts/{account_sid}/Messages/{message_sid}.json", base.trim_end_matches('/'))
}

/// A Twilio Account SID: `AC` and 32 hex digits.
pub fn is_account_sid(s: &str) -> bool {
    s.len() == 34 && s.starts_with("AC") && s[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// Where Twilio reports the message's status: back to this deployment, naming the delivery
/// attempt it belongs to and the SMS sender whose auth token signs it.
pub fn status_callback_url(public_url: &str, tenant: &str, sender: &str, delivery: &str, attempt: u32) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("tenant", tenant)
        .append_pair("sender", sender)
        .append_pair("delivery", delivery)
        .append_pair("attempt", &attempt.to_string())
        .finish();
    format!("{}/v1/twilio/status?{query}", public_url.trim_end_matches('/'))
}

/// The form body of a Messages API request.
pub fn message_form(to: &str, from: &str, body: &str, status_callback: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("To", to)
        .append_pair("From", from)
        .append_pair("Body", body)
        .append_pair("StatusCallback", status_callback)
        .finish()
}

/// Twilio's request signature: base64(HMAC-SHA1(auth token, full URL + every POST parameter,
/// sorted by name, as name immediately followed by value)).
pub fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut data = url.to_string();
    for (k, v) in sorted {
        data.push_str(k);
        data.push_str(v);
    }
    let mut mac = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()).expect("HMAC takes any key length");
    mac.update(data.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Checks an `X-Twilio-Signature` in constant time.
pub fn verify(auth_token: &str, url: &str, params: &[(String, String)], given: &str) -> bool {
    let expected = signature(auth_token, url, params);
    let (a, b) = (expected.as_bytes(), given.trim().as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// How far along a message status is; callbacks can arrive out of order, and the furthest one
/// is the message's status.
pub fn status_rank(status: &str) -> u8 {
    match status {
        "accepted" | "scheduled" => 1,
        "queued" => 2,
        "sending" => 3,
        "sent" => 4,
        "delivered" | "undelivered" | "failed" | "canceled" => 5,
        "read" => 6,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn signature_matches_twilios_documented_example() {
        // The example from Twilio's "Webhooks security" documentation.
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let params = vec![
            p("CallSid", "CA1234567890ABCDE"),
            p("Caller", "+12349013030"),
            p("Digits", "1234"),
            p("From", "+12349013030"),
            p("To", "+18005551212"),
        ];
        let token = "12345";
        assert_eq!(signature(token, url, &params), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
        assert!(verify(token, url, &params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
        assert!(!verify(token, url, &params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ"));
        assert!(!verify("54321", url, &params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
        // Order of the parameters as sent does not matter.
        let mut shuffled = params.clone();
        shuffled.reverse();
        assert_eq!(signature(token, url, &shuffled), signature(token, url, &params));
    }

    #[test]
    fn urls_and_forms() {
        assert_eq!(
            messages_url("http://127.0.0.1:9/", "AC0123456789abcdef0123456789abcdef"),
            "http://127.0.0.1:9/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json"
        );
        assert!(is_account_sid("AC0123456789abcdef0123456789abcdef"));
        assert!(!is_account_sid("AC0123456789abcdef0123456789abcde"));
        assert!(!is_account_sid("SK0123456789abcdef0123456789abcdef"));
        assert_eq!(
            status_callback_url("http://h:1/", "ten_1", "sms_2", "dlv_3", 2),
            "http://h:1/v1/twilio/status?tenant=ten_1&sender=sms_2&delivery=dlv_3&attempt=2"
        );
        assert_eq!(
            message_form("+1 3", "+2", "Hi & bye", "http://x/?a=1"),
            "To=%2B1+3&From=%2B2&Body=Hi+%26+bye&StatusCallback=http%3A%2F%2Fx%2F%3Fa%3D1"
        );
    }

    #[test]
    fn statuses_rank_in_their_lifecycle_order() {
        assert!(status_rank("queued") < status_rank("sent"));
        assert!(status_rank("sent") < status_rank("delivered"));
        assert!(status_rank("sent") < status_rank("undelivered"));
        assert_eq!(status_rank("whatever"), 0);
    }
}
