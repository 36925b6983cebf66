//! Streaming encode/decode of serde values in the workspace's binary encoding (bincode 1.3,
//! fixed-width little-endian integers: the layout of [`frame`](crate::frame)'s values), for files
//! that are too large to hold twice in memory and carry their own integrity check, such as the
//! MNIST cache. Like [`frame`](crate::frame), this is the only place outside this crate's
//! `frame.rs` that names bincode, so moving to another format stays a change to this crate.
//!
//! Every decode takes a byte limit: a length field in the input can never make it allocate or
//! read more than that.
//!
//! ```
//! use scratchnet_fileio::codec;
//! let mut bytes = Vec::new();
//! codec::encode_into(&mut bytes, &(7u32, "seven".to_string())).unwrap();
//! assert_eq!(codec::encoded_len(&(7u32, "seven".to_string())).unwrap(), bytes.len() as u64);
//! let back: (u32, String) = codec::decode_from(&bytes[..], bytes.len() as u64).unwrap();
//! assert_eq!(back, (7, "seven".to_string()));
//! // a limit below the encoded size is an error, not a partial value
//! assert!(codec::decode_from::<(u32, String), _>(&bytes[..], 8).is_err());
//! ```

use std::io::{Read, Write};

use bincode::Options;
use serde::Serialize;
use serde::de::DeserializeOwned;

fn options(limit: u64) -> impl Options {
    // Fixed-width integers: the layout of `bincode::serialize`, stable across versions.
    bincode::DefaultOptions::new()
        .with_fixint_encoding()
        .with_limit(limit)
}

/// Why a value could not be encoded or decoded, in words (the caller names the file).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CodecError(String);

/// Writes the encoding of `value` to `out`.
///
/// ```
/// let mut out = Vec::new();
/// scratchnet_fileio::codec::encode_into(&mut out, &1u16).unwrap();
/// assert_eq!(out, [1, 0]);
/// ```
pub fn encode_into<T: Serialize + ?Sized, W: Write>(out: W, value: &T) -> Result<(), CodecError> {
    options(u64::MAX)
        .serialize_into(out, value)
        .map_err(|e| CodecError(e.to_string()))
}

/// Decodes one value from the front of `input`, reading at most `limit` bytes (a value whose
/// encoding would be longer fails before the memory is reserved).
///
/// ```
/// let v: u32 = scratchnet_fileio::codec::decode_from(&[5u8, 0, 0, 0][..], 4).unwrap();
/// assert_eq!(v, 5);
/// ```
pub fn decode_from<T: DeserializeOwned, R: Read>(input: R, limit: u64) -> Result<T, CodecError> {
    options(limit)
        .deserialize_from(input)
        .map_err(|e| CodecError(e.to_string()))
}

/// The number of bytes [`encode_into`] writes for `value`.
///
/// ```
/// assert_eq!(scratchnet_fileio::codec::encoded_len(&vec![1u8, 2, 3]).unwrap(), 8 + 3);
/// ```
pub fn encoded_len<T: Serialize + ?Sized>(value: &T) -> Result<u64, CodecError> {
    options(u64::MAX)
        .serialized_size(value)
        .map_err(|e| CodecError(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_length_prefix_is_refused_without_allocating() {
        // A Vec<u8> whose length field claims 2^40 bytes, followed by nothing.
        let mut bytes = (1u64 << 40).to_le_bytes().to_vec();
        bytes.extend_from_slice(&[0; 16]);
        let err = decode_from::<Vec<u8>, _>(&bytes[..], bytes.len() as u64).unwrap_err();
        assert!(err.to_string().contains("limit"), "{err}");
    }

    #[test]
    fn round_trip_matches_the_frame_layout() {
        let value = (3u32, vec![1.5f64, -2.0]);
        let mut w = Vec::new();
        encode_into(&mut w, &value).unwrap();
        assert_eq!(w.len() as u64, encoded_len(&value).unwrap());
        assert_eq!(&w[..4], &3u32.to_le_bytes());
        let back: (u32, Vec<f64>) = decode_from(&w[..], w.len() as u64).unwrap();
        assert_eq!(back, value);
    }
}
