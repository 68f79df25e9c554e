//! One status list's bits: W3C Bitstring Status List v1.0 §4 — one bit per credential
//! (status size 1), index 0 the most significant bit of the first byte, published
//! GZIP-compressed and multibase base64url-encoded (`u…`) as `encodedList`.

use rand::Rng;
use ssi::status::bitstring_status_list::EncodedList;

/// Entries per list: 131,072 (16 KiB), the specification's minimum, so that one index
/// reveals little about how many credentials a list holds.
pub const LIST_ENTRIES: usize = 131_072;

/// Why an `encodedList` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListError {
    /// Not multibase base64url (`u…`) GZIP data, or larger than a list may be.
    #[error("the encoded list does not decode: {0}")]
    Undecodable(String),
    /// Fewer entries than a list must have.
    #[error("the list has {0} entries; a status list has at least {LIST_ENTRIES}")]
    TooShort(usize),
}

/// The bits of one list, one per entry; bit `i` is bit `7 - i % 8` of byte `i / 8`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusBits(Vec<u8>);

impl Default for StatusBits {
    fn default() -> Self {
        Self(vec![0; LIST_ENTRIES / 8])
    }
}

impl StatusBits {
    /// The bit of entry `index`; `None` beyond the list.
    pub fn get(&self, index: usize) -> Option<bool> {
        let byte = self.0.get(index / 8)?;
        Some(byte & (0x80 >> (index % 8)) != 0)
    }

    /// Sets the bit of entry `index`; false when the index is beyond the list.
    pub fn set(&mut self, index: usize, value: bool) -> bool {
        let Some(byte) = self.0.get_mut(index / 8) else {
            return false;
        };
        let mask = 0x80 >> (index % 8);
        if value {
            *byte |= mask;
        } else {
            *byte &= !mask;
        }
        true
    }

    /// Wraps stored bits; `None` unless they hold at least [`LIST_ENTRIES`] entries.
    pub fn from_bytes(bytes: Vec<u8>) -> Option<Self> {
        (bytes.len() * 8 >= LIST_ENTRIES).then_some(Self(bytes))
    }

    /// The bits, for storage.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.0.len() * 8
    }

    /// Always false: a list has [`LIST_ENTRIES`] entries or more.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The `encodedList` form (ssi's GZIP and multibase encoding).
    pub fn encode(&self) -> String {
        // `EncodedList` is a transparent string with no accessor but serde.
        match serde_json::to_value(EncodedList::encode(&self.0)) {
            Ok(serde_json::Value::String(text)) => text,
            _ => unreachable!("EncodedList serialises as a string"),
        }
    }

    /// Parses an `encodedList`, refusing other multibase encodings, lists shorter than the
    /// minimum and (against decompression bombs) lists longer than 16 times it.
    pub fn decode(encoded: &str) -> Result<Self, ListError> {
        if !encoded.starts_with('u') {
            return Err(ListError::Undecodable(
                "not multibase base64url (`u`)".into(),
            ));
        }
        let limit = (LIST_ENTRIES / 8 * 16) as u64;
        let bytes = EncodedList::new(encoded.to_owned())
            .decode(Some(limit))
            .map_err(|e| ListError::Undecodable(e.to_string()))?;
        if bytes.len() * 8 < LIST_ENTRIES {
            return Err(ListError::TooShort(bytes.len() * 8));
        }
        Ok(Self(bytes))
    }
}

/// A random index in `0..LIST_ENTRIES` not yet `taken`, so an index reveals nothing about
/// issuance order; `None` when the list is (nearly) full.
pub fn random_free_index(rng: &mut impl Rng, taken: impl Fn(usize) -> bool) -> Option<usize> {
    // Random probes find a free index quickly while the list is less than about 90% full;
    // a list is closed long before (see the allocation policy).
    (0..64)
        .map(|_| rng.gen_range(0..LIST_ENTRIES))
        .find(|index| !taken(*index))
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn index_zero_is_the_most_significant_bit_of_the_first_byte() {
        let mut bits = StatusBits::default();
        assert!(bits.set(0, true));
        assert!(bits.set(9, true));
        assert_eq!(&bits.0[..2], &[0b1000_0000, 0b0100_0000]);
        assert_eq!(
            (bits.get(0), bits.get(1), bits.get(9)),
            (Some(true), Some(false), Some(true))
        );
        assert!(!bits.set(LIST_ENTRIES, true));
        assert_eq!(bits.get(LIST_ENTRIES), None);
    }

    #[test]
    fn lists_round_trip_through_their_encoding() {
        let mut bits = StatusBits::default();
        for index in [0, 7, 8, 4_242, LIST_ENTRIES - 1] {
            bits.set(index, true);
        }
        let encoded = bits.encode();
        assert!(encoded.starts_with('u'), "multibase base64url");
        assert_eq!(StatusBits::decode(&encoded), Ok(bits));
    }

    #[test]
    fn a_list_shorter_than_131072_entries_is_refused() {
        use std::io::Write;

        use base64::prelude::{Engine, BASE64_URL_SAFE_NO_PAD};
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gzip.write_all(&[0; 1024]).expect("compress");
        let short = format!(
            "u{}",
            BASE64_URL_SAFE_NO_PAD.encode(gzip.finish().expect("gzip"))
        );
        assert_eq!(
            StatusBits::decode(&short),
            Err(ListError::TooShort(8 * 1024))
        );
    }

    #[test]
    fn garbage_and_other_encodings_are_refused() {
        assert!(matches!(
            StatusBits::decode("uAAAA"),
            Err(ListError::Undecodable(_))
        ));
        let base58 = format!("z{}", &StatusBits::default().encode()[1..]);
        assert!(matches!(
            StatusBits::decode(&base58),
            Err(ListError::Undecodable(_))
        ));
    }

    #[test]
    fn the_specification_example_list_decodes_to_131072_clear_entries() {
        // W3C vc-bitstring-status-list, example BitstringStatusListCredential
        // (../shared/vectors/bitstring-status-list/spec-example-list.json).
        let bits = StatusBits::decode(
            "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA",
        )
        .expect("decodes");
        assert_eq!(bits.len(), LIST_ENTRIES);
        assert!((0..LIST_ENTRIES).all(|i| bits.get(i) == Some(false)));
    }

    #[test]
    fn random_indexes_avoid_taken_ones() {
        let mut rng = StdRng::seed_from_u64(42);
        let taken = |i: usize| i.is_multiple_of(2);
        for _ in 0..100 {
            let index = random_free_index(&mut rng, taken).expect("free");
            assert!(!index.is_multiple_of(2) && index < LIST_ENTRIES);
        }
        assert_eq!(random_free_index(&mut rng, |_| true), None);
    }
}
