//! The sealed stream inside an export: the plaintext cut into chunks of [`CHUNK`] bytes, each
//! sealed with ChaCha20-Poly1305 under the archive key, so memory stays flat whatever the size
//! and every chunk is authenticated before a byte of it is used (the STREAM construction, as
//! `age` and Tink use it).
//!
//! - Chunk `i`'s nonce is `i` (8 bytes, big-endian), three zero bytes, then `1` for the last
//!   chunk and `0` for every other: chunks cannot be reordered, dropped or repeated, and a
//!   stream cut at a chunk boundary fails because its last chunk was not sealed as the last.
//! - Every chunk carries the same associated data (the SHA-256 of the archive's header), so
//!   the header cannot be changed either.
//! - Every chunk but the last seals exactly [`CHUNK`] bytes; the last seals 0 to [`CHUNK`].

use std::io::{self, BufRead, Read, Write};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

/// Plaintext bytes per chunk.
pub const CHUNK: usize = 64 * 1024;
/// The Poly1305 tag each sealed chunk carries.
const TAG: usize = 16;

fn nonce(counter: u64, last: bool) -> Nonce {
    let mut bytes = [0u8; 12];
    bytes[..8].copy_from_slice(&counter.to_be_bytes());
    bytes[11] = u8::from(last);
    *Nonce::from_slice(&bytes)
}

/// Seals what is written to it into `inner`; [`finish`](SealingWriter::finish) seals the
/// last chunk (a stream never finished cannot be opened).
pub struct SealingWriter<W: Write> {
    inner: W,
    cipher: ChaCha20Poly1305,
    aad: [u8; 32],
    buffer: Vec<u8>,
    counter: u64,
}

impl<W: Write> SealingWriter<W> {
    pub fn new(inner: W, key: &[u8; 32], aad: [u8; 32]) -> Self {
        SealingWriter {
            inner,
            cipher: ChaCha20Poly1305::new(Key::from_slice(key)),
            aad,
            buffer: Vec::with_capacity(CHUNK),
            counter: 0,
        }
    }

    fn seal(&mut self, last: bool) -> io::Result<()> {
        let sealed = self
            .cipher
            .encrypt(
                &nonce(self.counter, last),
                Payload {
                    msg: &self.buffer,
                    aad: &self.aad,
                },
            )
            .map_err(|_| io::Error::other("sealing a chunk failed"))?;
        self.counter = self
            .counter
            .checked_add(1)
            .ok_or_else(|| io::Error::other("too many chunks"))?;
        self.buffer.clear();
        self.inner.write_all(&sealed)
    }

    /// Seals the last chunk and hands back the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.seal(true)?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for SealingWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        // A full buffer is sealed only once more data comes, so the last chunk is never
        // sealed as an ordinary one.
        if self.buffer.len() == CHUNK && !data.is_empty() {
            self.seal(false)?;
        }
        let take = data.len().min(CHUNK - self.buffer.len());
        self.buffer.extend_from_slice(&data[..take]);
        Ok(take)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Why a sealed stream does not open: a damaged, truncated or foreign stream, or a wrong key.
pub const DAMAGED: &str = "the file is damaged or truncated (a sealed chunk does not authenticate)";

/// Opens a sealed stream read from `inner`, chunk by chunk; every byte it hands out was
/// authenticated, and the end is reported only after the last chunk authenticated as the last.
/// Any failure is an [`io::ErrorKind::InvalidData`] error saying [`DAMAGED`].
pub struct OpeningReader<R: BufRead> {
    inner: R,
    cipher: ChaCha20Poly1305,
    aad: [u8; 32],
    plain: Vec<u8>,
    position: usize,
    counter: u64,
    done: bool,
}

impl<R: BufRead> OpeningReader<R> {
    pub fn new(inner: R, key: &[u8; 32], aad: [u8; 32]) -> Self {
        OpeningReader {
            inner,
            cipher: ChaCha20Poly1305::new(Key::from_slice(key)),
            aad,
            plain: Vec::new(),
            position: 0,
            counter: 0,
            done: false,
        }
    }

    /// Whether the whole stream was read and its last chunk authenticated.
    pub fn is_complete(&self) -> bool {
        self.done && self.position == self.plain.len()
    }

    fn next_chunk(&mut self) -> io::Result<()> {
        let mut sealed = vec![0u8; CHUNK + TAG];
        let mut filled = 0;
        while filled < sealed.len() {
            let n = self.inner.read(&mut sealed[filled..])?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        sealed.truncate(filled);
        // The last chunk is the one nothing follows.
        let last = filled < CHUNK + TAG || self.inner.fill_buf()?.is_empty();
        if filled < TAG {
            return Err(damaged());
        }
        self.plain = self
            .cipher
            .decrypt(
                &nonce(self.counter, last),
                Payload {
                    msg: &sealed,
                    aad: &self.aad,
                },
            )
            .map_err(|_| damaged())?;
        self.position = 0;
        self.counter += 1;
        self.done = last;
        Ok(())
    }
}

fn damaged() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, DAMAGED)
}

impl<R: BufRead> Read for OpeningReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.position == self.plain.len() {
            if self.done || out.is_empty() {
                return Ok(0);
            }
            self.next_chunk()?;
        }
        let n = out.len().min(self.plain.len() - self.position);
        out[..n].copy_from_slice(&self.plain[self.position..self.position + n]);
        self.position += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];
    const AAD: [u8; 32] = [9; 32];

    fn seal(plain: &[u8]) -> Vec<u8> {
        let mut writer = SealingWriter::new(Vec::new(), &KEY, AAD);
        // Odd write sizes, as tar writes.
        for piece in plain.chunks(1000) {
            writer.write_all(piece).unwrap();
        }
        writer.finish().unwrap()
    }

    fn open(sealed: &[u8], key: &[u8; 32], aad: [u8; 32]) -> io::Result<Vec<u8>> {
        let mut reader = OpeningReader::new(io::BufReader::new(sealed), key, aad);
        let mut out = Vec::new();
        reader.read_to_end(&mut out)?;
        assert!(reader.is_complete());
        Ok(out)
    }

    #[test]
    fn round_trips_at_every_boundary() {
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 17] {
            let plain: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let sealed = seal(&plain);
            assert_eq!(
                sealed.len(),
                len + TAG * (len.div_ceil(CHUNK).max(1)),
                "{len}"
            );
            assert_eq!(open(&sealed, &KEY, AAD).unwrap(), plain, "{len}");
        }
    }

    #[test]
    fn refuses_a_flipped_byte_a_cut_a_wrong_key_or_header() {
        let plain: Vec<u8> = (0..(2 * CHUNK + 5)).map(|i| i as u8).collect();
        let sealed = seal(&plain);
        let kind = |r: io::Result<Vec<u8>>| r.unwrap_err().kind();

        let mut flipped = sealed.clone();
        flipped[CHUNK + 40] ^= 1;
        assert_eq!(kind(open(&flipped, &KEY, AAD)), io::ErrorKind::InvalidData);
        // Cut inside a chunk, and exactly at a chunk boundary (the last chunk is missing).
        for cut in [sealed.len() - 3, 2 * (CHUNK + TAG), CHUNK + TAG] {
            assert_eq!(
                kind(open(&sealed[..cut], &KEY, AAD)),
                io::ErrorKind::InvalidData,
                "{cut}"
            );
        }
        let mut longer = sealed.clone();
        longer.extend_from_slice(&sealed[..CHUNK + TAG]);
        assert!(open(&longer, &KEY, AAD).is_err());
        assert!(open(&sealed, &[8; 32], AAD).is_err());
        assert!(open(&sealed, &KEY, [0; 32]).is_err());
        assert!(open(&[], &KEY, AAD).is_err());
    }
}
