//! Standard Webhooks signatures (<https://www.standardwebhooks.com>).
//!
//! Every webhook carries three headers:
//! * `webhook-id` — the delivery id, stable across retries;
//! * `webhook-timestamp` — the attempt time, integer seconds since the epoch;
//! * `webhook-signature` — space-separated `v1,<base64 HMAC-SHA256>` signatures of
//!   `{webhook-id}.{webhook-timestamp}.{body}`, one per active secret (during a rotation's grace
//!   period both the old and the new secret sign, so receivers holding either verify).
//!
//! Secrets look like `whsec_<base64 of 24 random bytes>`; the HMAC key is the base64-decoded part
//! after `whsec_`. Secrets never appear in errors; show them with [`mask_secret`].

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Header carrying the delivery id.
pub const HEADER_ID: &str = "webhook-id";
/// Header carrying the attempt's timestamp (seconds).
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
/// Header carrying the signatures.
pub const HEADER_SIGNATURE: &str = "webhook-signature";
/// Prefix of Standard Webhooks secrets.
pub const SECRET_PREFIX: &str = "whsec_";
/// Random bytes in a generated secret.
pub const SECRET_BYTES: usize = 24;
/// The tolerance the reference libraries use when verifying a timestamp: 5 minutes.
pub const DEFAULT_TOLERANCE_SECS: i64 = 5 * 60;

/// Standard base64 that accepts the key with or without its padding (as the reference libraries
/// do).
const LENIENT_B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Signing and verification failures. No variant ever carries secret material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigningError {
    #[error("invalid signing secret: {0}")]
    InvalidSecret(&'static str),
    #[error("no signing secret given")]
    NoSecret,
    #[error("webhook timestamp is too old")]
    TimestampTooOld,
    #[error("webhook timestamp is in the future")]
    TimestampTooNew,
    #[error("no matching v1 signature")]
    NoMatchingSignature,
}

/// Generates a new secret: `whsec_` + base64 of 24 bytes from the OS's CSPRNG.
pub fn generate_secret() -> String {
    let mut key = [0u8; SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut key);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

/// The HMAC key of a secret: the base64 after the (optional) `whsec_` prefix.
fn key_of(secret: &str) -> Result<Vec<u8>, SigningError> {
    let b64 = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    let key = LENIENT_B64
        .decode(b64.trim())
        .map_err(|_| SigningError::InvalidSecret("not base64 after the whsec_ prefix"))?;
    if key.is_empty() {
        return Err(SigningError::InvalidSecret("empty key"));
    }
    Ok(key)
}

fn mac_of(key: &[u8], msg_id: &str, timestamp_secs: i64, body: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp_secs.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// Checks that a secret can sign (well-formed `whsec_` base64, non-empty key).
pub fn validate_secret(secret: &str) -> Result<(), SigningError> {
    key_of(secret).map(|_| ())
}

/// Checks a secret a user supplies: `whsec_` and at least [`SECRET_BYTES`] bytes of key, as
/// strong as a generated one. (Secrets already stored keep signing whatever their length.) A
/// key of one repeated byte is refused too: whatever its length, it is not random.
pub fn validate_supplied_secret(secret: &str) -> Result<(), SigningError> {
    if !secret.starts_with(SECRET_PREFIX) {
        return Err(SigningError::InvalidSecret("no whsec_ prefix"));
    }
    let key = key_of(secret)?;
    if key.len() < SECRET_BYTES {
        return Err(SigningError::InvalidSecret("fewer than 24 bytes of key"));
    }
    if key.iter().all(|b| *b == key[0]) {
        return Err(SigningError::InvalidSecret("the key is one repeated byte"));
    }
    Ok(())
}

/// One signature: `v1,<base64 HMAC-SHA256 of "{msg_id}.{timestamp_secs}.{body}">`.
pub fn sign(secret: &str, msg_id: &str, timestamp_secs: i64, body: &[u8]) -> Result<String, SigningError> {
    let key = key_of(secret)?;
    let tag = mac_of(&key, msg_id, timestamp_secs, body).finalize().into_bytes();
    Ok(format!("v1,{}", STANDARD.encode(tag)))
}

/// The `webhook-signature` header value: one `v1,` signature per secret, space-separated, in the
/// order given (a secret listed twice signs once).
pub fn signature_header(
    secrets: &[&str],
    msg_id: &str,
    timestamp_secs: i64,
    body: &[u8],
) -> Result<String, SigningError> {
    if secrets.is_empty() {
        return Err(SigningError::NoSecret);
    }
    let mut sigs: Vec<String> = Vec::with_capacity(secrets.len());
    for secret in secrets {
        let sig = sign(secret, msg_id, timestamp_secs, body)?;
        if !sigs.contains(&sig) {
            sigs.push(sig);
        }
    }
    Ok(sigs.join(" "))
}

/// Verifies a `webhook-signature` header as a receiver would: the timestamp must be within
/// `tolerance_secs` of `now_secs`, and one of the space-separated `v1,` signatures must match
/// (compared in constant time). Other versions and malformed entries are ignored.
pub fn verify(
    secret: &str,
    msg_id: &str,
    timestamp_secs: i64,
    body: &[u8],
    header: &str,
    now_secs: i64,
    tolerance_secs: i64,
) -> Result<(), SigningError> {
    let key = key_of(secret)?;
    if timestamp_secs < now_secs.saturating_sub(tolerance_secs) {
        return Err(SigningError::TimestampTooOld);
    }
    if timestamp_secs > now_secs.saturating_add(tolerance_secs) {
        return Err(SigningError::TimestampTooNew);
    }
    let mac = mac_of(&key, msg_id, timestamp_secs, body);
    for entry in header.split_whitespace() {
        let Some(("v1", sig)) = entry.split_once(',') else {
            continue;
        };
        let Ok(sig) = LENIENT_B64.decode(sig) else {
            continue;
        };
        // `verify_slice` compares in constant time.
        if mac.clone().verify_slice(&sig).is_ok() {
            return Ok(());
        }
    }
    Err(SigningError::NoMatchingSignature)
}

/// A secret fit for display: the `whsec_` prefix and the first 4 characters of the key, then
/// `…`. Short or unusual secrets show no key characters at all.
pub fn mask_secret(secret: &str) -> String {
    let (prefix, rest) = match secret.strip_prefix(SECRET_PREFIX) {
        Some(rest) => (SECRET_PREFIX, rest),
        None => ("", secret),
    };
    // Reveal at most 4 of ≥ 16 characters (≤ 3 of ≥ 12 key bytes for base64).
    if rest.chars().count() >= 16 && rest.is_ascii() {
        format!("{prefix}{}…", &rest[..4])
    } else {
        format!("{prefix}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The Standard Webhooks test vector (the spec's reference libraries test it; e.g. the Svix PHP
    // library's `testSignFunctionWorks` and the spec's own examples).
    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const SPEC_TS: i64 = 1_614_265_330;
    const SPEC_BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SPEC_SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn reproduces_the_standard_webhooks_test_vector() {
        assert_eq!(sign(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY).unwrap(), SPEC_SIG);
        // The prefix is optional, as in the reference libraries.
        assert_eq!(sign(&SPEC_SECRET[6..], SPEC_ID, SPEC_TS, SPEC_BODY).unwrap(), SPEC_SIG);
        verify(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY, SPEC_SIG, SPEC_TS, DEFAULT_TOLERANCE_SECS).unwrap();
    }

    #[test]
    fn any_change_breaks_the_signature() {
        let ok = |id: &str, ts: i64, body: &[u8]| verify(SPEC_SECRET, id, ts, body, SPEC_SIG, SPEC_TS, 300).is_ok();
        assert!(ok(SPEC_ID, SPEC_TS, SPEC_BODY));
        assert!(!ok("msg_other", SPEC_TS, SPEC_BODY));
        assert!(!ok(SPEC_ID, SPEC_TS + 1, SPEC_BODY));
        assert!(!ok(SPEC_ID, SPEC_TS, br#"{"test": 2432232315}"#));
        let other = generate_secret();
        assert_eq!(
            verify(&other, SPEC_ID, SPEC_TS, SPEC_BODY, SPEC_SIG, SPEC_TS, 300),
            Err(SigningError::NoMatchingSignature)
        );
    }

    #[test]
    fn generated_secrets_are_whsec_24_random_bytes() {
        let a = generate_secret();
        let b = generate_secret();
        assert_ne!(a, b);
        assert!(a.starts_with("whsec_"));
        assert_eq!(STANDARD.decode(&a[6..]).unwrap().len(), 24);
        validate_secret(&a).unwrap();
        let sig = sign(&a, "msg_1", 10, b"x").unwrap();
        verify(&a, "msg_1", 10, b"x", &sig, 10, 0).unwrap();
    }

    #[test]
    fn rotation_header_carries_one_signature_per_secret_and_both_verify() {
        let old = generate_secret();
        let new = generate_secret();
        let header = signature_header(&[&old, &new], "msg_r", 1_000, b"{}").unwrap();
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], sign(&old, "msg_r", 1_000, b"{}").unwrap());
        assert_eq!(parts[1], sign(&new, "msg_r", 1_000, b"{}").unwrap());
        verify(&old, "msg_r", 1_000, b"{}", &header, 1_000, 300).unwrap();
        verify(&new, "msg_r", 1_000, b"{}", &header, 1_000, 300).unwrap();
        let third = generate_secret();
        assert_eq!(verify(&third, "msg_r", 1_000, b"{}", &header, 1_000, 300), Err(SigningError::NoMatchingSignature));
        // Duplicates sign once; none is an error.
        let single = signature_header(&[&old, &old], "msg_r", 1_000, b"{}").unwrap();
        assert!(!single.contains(' '));
        assert_eq!(signature_header(&[], "msg_r", 1_000, b"{}"), Err(SigningError::NoSecret));
    }

    #[test]
    fn verify_ignores_other_versions_and_garbage_entries() {
        let header = format!("v2,abc v1,!!notbase64!! nonsense v1,bm9wZQ== {SPEC_SIG}");
        verify(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY, &header, SPEC_TS, 300).unwrap();
        for bad in ["", "v1", "v1,", "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="] {
            assert_eq!(
                verify(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY, bad, SPEC_TS, 300),
                Err(SigningError::NoMatchingSignature),
                "{bad:?}"
            );
        }
        // A truncated signature never matches.
        let truncated = &SPEC_SIG[..SPEC_SIG.len() - 8];
        assert!(verify(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY, truncated, SPEC_TS, 300).is_err());
    }

    #[test]
    fn verify_enforces_the_timestamp_tolerance() {
        let v = |now| verify(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY, SPEC_SIG, now, 300);
        assert_eq!(v(SPEC_TS + 300), Ok(()));
        assert_eq!(v(SPEC_TS - 300), Ok(()));
        assert_eq!(v(SPEC_TS + 301), Err(SigningError::TimestampTooOld));
        assert_eq!(v(SPEC_TS - 301), Err(SigningError::TimestampTooNew));
    }

    #[test]
    fn invalid_secrets_are_rejected_without_echoing_them() {
        for bad in ["whsec_", "", "whsec_***not-base64***", "whsec_a"] {
            let err = sign(bad, "m", 1, b"").unwrap_err();
            assert!(matches!(err, SigningError::InvalidSecret(_)), "{bad:?}");
            if bad.len() > 12 {
                assert!(!err.to_string().contains(&bad[6..]));
            }
        }
        assert!(validate_secret("whsec_not base64").is_err());
        // Unpadded base64 is accepted (24 bytes never need padding; 16 bytes do).
        let padded = format!("whsec_{}", STANDARD.encode([7u8; 16]));
        assert!(padded.ends_with("=="));
        assert_eq!(sign(&padded, "m", 1, b"").unwrap(), sign(padded.trim_end_matches('='), "m", 1, b"").unwrap());
    }

    #[test]
    fn supplied_secrets_need_24_random_bytes() {
        validate_supplied_secret(&generate_secret()).unwrap();
        validate_supplied_secret(SPEC_SECRET).unwrap();
        let of = |key: &[u8]| format!("whsec_{}", STANDARD.encode(key));
        let short = of(&[7, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
        assert!(sign(&short, "m", 1, b"").is_ok(), "a stored short secret still signs");
        for bad in [short, of(&[0u8; 32]), SPEC_SECRET[6..].to_string(), "whsec_".into(), "whsec_!!".into()] {
            assert!(validate_supplied_secret(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn masked_secrets_never_reveal_the_key() {
        let s = generate_secret();
        let m = mask_secret(&s);
        assert!(m.starts_with("whsec_"));
        assert!(m.ends_with('…'));
        assert_eq!(m.chars().count(), "whsec_".len() + 4 + 1);
        assert!(!m.contains(&s[6..14]));
        assert_eq!(mask_secret(SPEC_SECRET), "whsec_MfKQ…");
        assert_eq!(mask_secret("whsec_short"), "whsec_…");
        assert_eq!(mask_secret("hunter2"), "…");
        assert_eq!(mask_secret(""), "…");
        assert_eq!(mask_secret("ééééééééééééééééééé"), "…");
    }
}
