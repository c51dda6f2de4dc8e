//! The signature of a change batch: `t=<unix seconds>,kid=<key id>,v1=<hex HMAC-SHA256>`
//! over `"<t>.<body>"`, keyed with a shared context key.
//!
//! The timestamp is inside the signed message so a captured batch cannot be replayed
//! outside the tolerance window; the key id lets receivers accept several keys during a
//! rotation. Comparison is constant-time.

use std::time::Duration;

use aws_lc_rs::{constant_time, hmac};
use chrono::{DateTime, Utc};

use crate::ContextKey;

/// Why a batch signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChangeSignatureError {
    #[error("the change signature header is malformed")]
    Malformed,
    #[error("the change batch is signed with an unknown key")]
    UnknownKey,
    #[error("the change batch signature does not match its body")]
    BadSignature,
    #[error("the change batch signature is outside the accepted time window")]
    Expired,
}

/// Header value for `body` signed with `key` at `now`.
pub fn sign_batch(key: &ContextKey, body: &[u8], now: DateTime<Utc>) -> String {
    let timestamp = now.timestamp();
    let tag = tag(key, timestamp, body);
    format!("t={timestamp},kid={},v1={}", key.id, to_hex(tag.as_ref()))
}

/// Checks `header` against the key it names among `keys` and refuses timestamps further
/// than `tolerance` from `now`, in either direction. The signature is checked before the
/// time, so `Expired` always describes an authentic but stale (or early) batch.
pub fn verify_batch(
    keys: &[ContextKey],
    header: &str,
    body: &[u8],
    now: DateTime<Utc>,
    tolerance: Duration,
) -> Result<(), ChangeSignatureError> {
    let parsed = ParsedHeader::parse(header)?;
    let mut candidates = keys.iter().filter(|key| key.id == parsed.key_id).peekable();
    if candidates.peek().is_none() {
        return Err(ChangeSignatureError::UnknownKey);
    }
    let authentic = candidates.any(|key| {
        constant_time::verify_slices_are_equal(tag(key, parsed.timestamp, body).as_ref(), &parsed.signature).is_ok()
    });
    if !authentic {
        return Err(ChangeSignatureError::BadSignature);
    }
    let skew = now.timestamp().abs_diff(parsed.timestamp);
    if skew > tolerance.as_secs() {
        return Err(ChangeSignatureError::Expired);
    }
    Ok(())
}

fn tag(key: &ContextKey, timestamp: i64, body: &[u8]) -> hmac::Tag {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key.secret.as_bytes());
    let mut context = hmac::Context::with_key(&key);
    context.update(format!("{timestamp}.").as_bytes());
    context.update(body);
    context.sign()
}

struct ParsedHeader {
    timestamp: i64,
    key_id: String,
    signature: Vec<u8>,
}

impl ParsedHeader {
    /// Exactly one each of `t`, `kid` and `v1`, in any order; other names are ignored.
    fn parse(header: &str) -> Result<Self, ChangeSignatureError> {
        let (mut timestamp, mut key_id, mut signature) = (None, None, None);
        for part in header.split(',') {
            let (name, value) = part.trim().split_once('=').ok_or(ChangeSignatureError::Malformed)?;
            let slot_was_empty = match name {
                "t" => timestamp.replace(value.parse::<i64>().map_err(|_| ChangeSignatureError::Malformed)?).is_none(),
                "kid" => key_id.replace(value.to_owned()).is_none(),
                "v1" => signature.replace(from_hex(value).ok_or(ChangeSignatureError::Malformed)?).is_none(),
                // Later schemes (`v2=`…) may be sent alongside `v1` during an upgrade.
                _ => true,
            };
            if !slot_was_empty {
                return Err(ChangeSignatureError::Malformed);
            }
        }
        match (timestamp, key_id, signature) {
            (Some(timestamp), Some(key_id), Some(signature)) if !key_id.is_empty() => {
                Ok(ParsedHeader { timestamp, key_id, signature })
            }
            _ => Err(ChangeSignatureError::Malformed),
        }
    }
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if text.is_empty() || !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|start| u8::from_str_radix(text.get(start..start + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOLERANCE: Duration = Duration::from_secs(300);

    fn key(id: &str, secret: &str) -> ContextKey {
        ContextKey { id: id.to_owned(), secret: secret.to_owned() }
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z").unwrap().with_timezone(&Utc)
    }

    const BODY: &[u8] = br#"{"events":[]}"#;

    #[test]
    fn a_signed_batch_verifies_with_the_same_key() {
        let signing = key("k1", "first-secret");
        let header = sign_batch(&signing, BODY, now());
        assert!(header.starts_with(&format!("t={},kid=k1,v1=", now().timestamp())), "{header}");
        assert_eq!(verify_batch(&[signing], &header, BODY, now(), TOLERANCE), Ok(()));
    }

    #[test]
    fn any_accepted_key_verifies_during_a_rotation() {
        let old = key("k1", "first-secret");
        let new = key("k2", "second-secret");
        let header = sign_batch(&old, BODY, now());
        assert_eq!(verify_batch(&[new, old], &header, BODY, now(), TOLERANCE), Ok(()));
    }

    #[test]
    fn a_tampered_body_is_refused() {
        let signing = key("k1", "first-secret");
        let header = sign_batch(&signing, BODY, now());
        let tampered = br#"{"events":[{}]}"#;
        assert_eq!(
            verify_batch(&[signing], &header, tampered, now(), TOLERANCE),
            Err(ChangeSignatureError::BadSignature)
        );
    }

    #[test]
    fn a_tampered_timestamp_is_refused() {
        let signing = key("k1", "first-secret");
        let header = sign_batch(&signing, BODY, now());
        let shifted = header.replace(&format!("t={}", now().timestamp()), &format!("t={}", now().timestamp() + 1));
        assert_eq!(verify_batch(&[signing], &shifted, BODY, now(), TOLERANCE), Err(ChangeSignatureError::BadSignature));
    }

    #[test]
    fn an_unknown_key_id_is_refused() {
        let header = sign_batch(&key("k9", "first-secret"), BODY, now());
        assert_eq!(
            verify_batch(&[key("k1", "first-secret")], &header, BODY, now(), TOLERANCE),
            Err(ChangeSignatureError::UnknownKey)
        );
    }

    #[test]
    fn another_secret_under_a_known_key_id_is_refused() {
        let header = sign_batch(&key("k1", "forged-secret"), BODY, now());
        assert_eq!(
            verify_batch(&[key("k1", "first-secret")], &header, BODY, now(), TOLERANCE),
            Err(ChangeSignatureError::BadSignature)
        );
    }

    #[test]
    fn timestamps_outside_the_tolerance_are_refused_in_both_directions() {
        let signing = key("k1", "first-secret");
        let stale = sign_batch(&signing, BODY, now() - chrono::Duration::seconds(301));
        let early = sign_batch(&signing, BODY, now() + chrono::Duration::seconds(301));
        let edge = sign_batch(&signing, BODY, now() - chrono::Duration::seconds(300));
        let keys = [signing];
        assert_eq!(verify_batch(&keys, &stale, BODY, now(), TOLERANCE), Err(ChangeSignatureError::Expired));
        assert_eq!(verify_batch(&keys, &early, BODY, now(), TOLERANCE), Err(ChangeSignatureError::Expired));
        assert_eq!(verify_batch(&keys, &edge, BODY, now(), TOLERANCE), Ok(()));
    }

    #[test]
    fn malformed_headers_are_refused() {
        let keys = [key("k1", "first-secret")];
        let valid = sign_batch(&keys[0], BODY, now());
        let signature = valid.rsplit_once("v1=").unwrap().1.to_owned();
        let t = now().timestamp();
        for header in [
            String::new(),
            "garbage".to_owned(),
            format!("t={t},kid=k1"),
            format!("t=soon,kid=k1,v1={signature}"),
            format!("t={t},kid=k1,v1=zz"),
            format!("t={t},kid=k1,v1=abc"),
            format!("t={t},kid=,v1={signature}"),
            format!("t={t},t={t},kid=k1,v1={signature}"),
        ] {
            assert_eq!(
                verify_batch(&keys, &header, BODY, now(), TOLERANCE),
                Err(ChangeSignatureError::Malformed),
                "{header}"
            );
        }
    }

    #[test]
    fn unknown_parts_are_ignored() {
        let keys = [key("k1", "first-secret")];
        let header = format!("{},v2=00ff", sign_batch(&keys[0], BODY, now()));
        assert_eq!(verify_batch(&keys, &header, BODY, now(), TOLERANCE), Ok(()));
    }

    #[test]
    fn hex_round_trips() {
        let bytes = [0u8, 1, 0x7f, 0x80, 0xff];
        assert_eq!(from_hex(&to_hex(&bytes)).unwrap(), bytes);
    }
}
