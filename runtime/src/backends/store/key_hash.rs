//! [`KeyHashing`]: the hasher of the maps keyed by idempotency keys and subjects.
//!
//! The standard library's SipHash was about a fifth of a memory-store claim for keys of
//! this length (a function and handler prefix and an event id), hashed two or three times a
//! record. This one mixes eight bytes at a time with a folded 64×64→128-bit multiply, as
//! foldhash and ahash do without AES, from a seed drawn at random per map: not a
//! cryptographic hash, but not one whose collisions a producer can plan either.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

/// An odd constant with well-spread bits (the fractional part of π).
const MULTIPLIER: u64 = 0x243f_6a88_85a3_08d3;

/// Builds [`KeyHasher`]s from one random seed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyHashing {
    seed: u64,
}

impl Default for KeyHashing {
    fn default() -> Self {
        // RandomState draws its keys from the operating system once per thread, then
        // varies them per instance.
        Self {
            seed: RandomState::new().hash_one(MULTIPLIER),
        }
    }
}

impl BuildHasher for KeyHashing {
    type Hasher = KeyHasher;

    fn build_hasher(&self) -> KeyHasher {
        KeyHasher { hash: self.seed }
    }
}

/// Hashes keys eight bytes at a time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyHasher {
    hash: u64,
}

impl KeyHasher {
    fn mix(&mut self, word: u64) {
        let product = u128::from(self.hash ^ word) * u128::from(MULTIPLIER);
        self.hash = (product as u64) ^ ((product >> 64) as u64);
    }
}

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        // The length first: the zero padding of the last word must not make `ab` and
        // `ab\0` equal.
        self.mix(bytes.len() as u64);
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            self.mix(u64::from_le_bytes(word.try_into().expect("eight bytes")));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut last = [0; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.mix(u64::from_le_bytes(last));
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.mix(u64::from(byte));
    }

    fn write_usize(&mut self, value: usize) {
        self.mix(value as u64);
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_differ_anywhere_hash_apart() {
        let hashing = KeyHashing::default();
        let keys = [
            "",
            "a",
            "ab",
            "ab\0",
            "abcdefgh",
            "abcdefgh\0",
            "abcdefghi",
            "abcdefgi",
            "fn#handler#0193a5b2-7c1d-7e3f-8a9b-0c1d2e3f4a5b",
            "fn#handler#0193a5b2-7c1d-7e3f-8a9b-0c1d2e3f4a5c",
            "fn#handler#1193a5b2-7c1d-7e3f-8a9b-0c1d2e3f4a5b",
        ];
        let mut hashes: Vec<u64> = keys.iter().map(|key| hashing.hash_one(key)).collect();
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), keys.len());
        assert_eq!(hashing.hash_one("a key"), hashing.hash_one("a key"));
        // Each map draws its own seed.
        assert_ne!(
            KeyHashing::default().hash_one("a key"),
            KeyHashing::default().hash_one("a key")
        );
    }
}
