//! The one place that knows the cache is bincode (1.3, serde API). bincode is unmaintained
//! (RUSTSEC-2025-0141), so moving to another serde format is a change to this file only.

use std::io::{Read, Write};

use bincode::Options;
use serde::Serialize;
use serde::de::DeserializeOwned;

fn options(limit: u64) -> impl Options {
    // Fixed-width integers: the same layout as `bincode::serialize`, stable across versions.
    bincode::DefaultOptions::new()
        .with_fixint_encoding()
        .with_limit(limit)
}

/// Appends the encoding of `value` to `out`.
pub(crate) fn encode_into<T: Serialize, W: Write>(out: W, value: &T) -> Result<(), String> {
    options(u64::MAX)
        .serialize_into(out, value)
        .map_err(|e| e.to_string())
}

/// Decodes one value from the front of `input`, advancing it, reading at most `limit` bytes.
pub(crate) fn decode_from<T: DeserializeOwned, R: Read>(input: R, limit: u64) -> Result<T, String> {
    options(limit)
        .deserialize_from(input)
        .map_err(|e| e.to_string())
}

/// The number of bytes [`encode_into`] writes for `value`.
pub(crate) fn encoded_len<T: Serialize>(value: &T) -> Result<u64, String> {
    options(u64::MAX)
        .serialized_size(value)
        .map_err(|e| e.to_string())
}

/// `#[serde(with = "crate::codec::bytes")]` for `Cow<[u8]>` fields: one length and a block
/// copy instead of serde's element-by-element sequence (50 MB of pixels in milliseconds).
pub(crate) mod bytes {
    use std::borrow::Cow;
    use std::fmt;

    use serde::de::{Error, Visitor};
    use serde::{Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Cow<'static, [u8]>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Cow<'static, [u8]>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a byte array")
            }
            fn visit_bytes<E: Error>(self, v: &[u8]) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v.to_vec()))
            }
            fn visit_byte_buf<E: Error>(self, v: Vec<u8>) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v))
            }
        }
        d.deserialize_byte_buf(V)
    }
}
