//! How an item's JSON document is stored in DynamoDB: as text, or deflated when that saves
//! write units.
//!
//! DynamoDB bills a write by each started KB of the whole item (the larger of the old and the
//! new one), and a read by each started 4 KB. A delivery and its attempt record carry the body
//! they send: with a dialer's 600-byte event that passes 1 KB, and each of a delivery's four
//! writes costs two units instead of one. JSON deflates to about half, so a document is stored
//! as zlib-compressed bytes (`B`) when that puts the item in fewer units, and as text (`S`)
//! otherwise: small items cost no CPU and stay readable in the console. Reads accept both, so
//! items written before this (all text) read as they did.

use std::io::{Read, Write};

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use flate2::Compression;

/// DynamoDB's write unit: one per started KB of item.
const WRITE_UNIT: usize = 1024;

/// Write units for an item of `size` bytes (as DynamoDB counts it).
fn write_units(size: usize) -> usize {
    size.div_ceil(WRITE_UNIT).max(1)
}

/// The size DynamoDB counts for one attribute: its name plus its value (numbers about one byte
/// per two digits, plus one).
pub(super) fn attribute_size(name: &str, value: &AttributeValue) -> usize {
    name.len()
        + match value {
            AttributeValue::S(s) => s.len(),
            AttributeValue::N(n) => n.trim_start_matches('-').len().div_ceil(2) + 1,
            AttributeValue::B(b) => b.as_ref().len(),
            _ => 1,
        }
}

/// The attribute that stores `text` in an item whose other attributes (`name` excluded) come to
/// `rest` bytes: deflated when that takes fewer write units.
pub fn encode(name: &str, text: &str, rest: usize) -> AttributeValue {
    let plain = rest + name.len() + text.len();
    if plain <= WRITE_UNIT {
        return AttributeValue::S(text.to_string());
    }
    let mut z = ZlibEncoder::new(Vec::with_capacity(text.len() / 2), Compression::default());
    // Writing into a Vec cannot fail.
    let packed = z.write_all(text.as_bytes()).and_then(|_| z.finish()).expect("deflate into memory");
    if write_units(rest + name.len() + packed.len()) < write_units(plain) {
        AttributeValue::B(Blob::new(packed))
    } else {
        AttributeValue::S(text.to_string())
    }
}

/// The text an attribute written by [`encode`] holds; `None` if it is neither text nor valid
/// deflated UTF-8.
pub fn decode(value: &AttributeValue) -> Option<String> {
    match value {
        AttributeValue::S(s) => Some(s.clone()),
        AttributeValue::B(b) => {
            let mut text = String::with_capacity(b.as_ref().len() * 3);
            ZlibDecoder::new(b.as_ref()).read_to_string(&mut text).ok()?;
            Some(text)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery_like(body_bytes: usize) -> String {
        let body: String = (0..body_bytes / 20).map(|i| format!("\"field{i:03}\":\"v{i:06}\",")).collect();
        format!(
            "{{\"id\":\"dlv_01m984daxkzvys6j1kq5yvwrzy\",\"payload\":{{{body}\"end\":true}},\"status\":\"pending\"}}"
        )
    }

    #[test]
    fn small_documents_stay_text() {
        let text = delivery_like(300);
        assert_eq!(encode("data", &text, 120), AttributeValue::S(text.clone()));
    }

    #[test]
    fn documents_past_a_write_unit_are_deflated_into_fewer_units_and_read_back_exactly() {
        for size in [1_000, 1_500, 3_000, 20_000] {
            let text = delivery_like(size);
            let rest = 120;
            let stored = encode("data", &text, rest);
            assert!(matches!(stored, AttributeValue::B(_)), "{size} bytes: {stored:?}");
            assert!(
                write_units(rest + attribute_size("data", &stored)) < write_units(rest + 4 + text.len()),
                "{size} bytes"
            );
            assert_eq!(decode(&stored).as_deref(), Some(text.as_str()));
        }
    }

    #[test]
    fn text_that_does_not_shrink_enough_is_kept_as_text() {
        // Random-looking text does not deflate: no unit to save, so it stays readable.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let noise: String = (0..1_300)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                char::from(b'!' + (x % 90) as u8)
            })
            .collect();
        assert_eq!(encode("data", &noise, 100), AttributeValue::S(noise.clone()));
        assert_eq!(decode(&AttributeValue::S(noise.clone())), Some(noise));
    }

    #[test]
    fn bytes_that_are_not_a_deflated_document_are_refused() {
        assert_eq!(decode(&AttributeValue::B(Blob::new(b"not zlib".to_vec()))), None);
        assert_eq!(decode(&AttributeValue::N("1".into())), None);
    }
}
