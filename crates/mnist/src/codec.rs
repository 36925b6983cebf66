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

/// Decodes `input`, which must hold exactly one value.
pub(crate) fn decode<T: DeserializeOwned>(input: &[u8]) -> Result<T, String> {
    options(input.len() as u64)
        .deserialize(input)
        .map_err(|e| e.to_string())
}

/// `#[serde(with = "crate::codec::bytes")]` for `Vec<u8>` fields: one length and a block copy
/// instead of serde's element-by-element sequence (50 MB of pixels in milliseconds).
pub(crate) mod bytes {
    use serde::de::{Error, Visitor};
    use serde::{Deserializer, Serializer};
    use std::fmt;

    pub(crate) fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a byte array")
            }
            fn visit_bytes<E: Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
            fn visit_byte_buf<E: Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(v)
            }
        }
        d.deserialize_byte_buf(V)
    }
}
