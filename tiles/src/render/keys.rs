//! Derived key accessors: `public_key_pem`, `public_key_openssh`, `public_key_fingerprint` and
//! `sha512_hashed_password`.
//!
//! Ops Manager stores only the private parts of some credentials (a certificate and its key, a
//! private key) and derives the public forms when a manifest asks. Deriving them needs no
//! cryptography beyond hashing — just reading DER — so it is done here without the RSA stack of
//! the `credentials` feature, and works in the browser build too.
//!
//! * `public_key_pem`: the SubjectPublicKeyInfo (`-----BEGIN PUBLIC KEY-----`) of a
//!   certificate, or built from an RSA private key (PKCS#1 `RSA PRIVATE KEY` or PKCS#8
//!   `PRIVATE KEY`);
//! * `public_key_openssh`: `ssh-rsa AAAA…` (RFC 4253 wire format of `e` and `n`);
//! * `public_key_fingerprint`: the MD5 fingerprint of that key as colon-separated hex, the
//!   format BOSH's own `ssh` variables use;
//! * `sha512_hashed_password`: crypt(3) SHA-512 (`$6$salt$hash`, 5000 rounds) of the password
//!   with the credential's salt, what `/etc/shadow` and UAA-style consumers expect.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use md5::{Digest, Md5};

/// One DER element: its tag, its content, and the whole element's bytes.
struct Tlv<'a> {
    tag: u8,
    content: &'a [u8],
    whole: &'a [u8],
}

/// Reads the element at the start of `data`; returns it and what follows.
fn read(data: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let tag = *data.first()?;
    let first = *data.get(1)?;
    let (len, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | usize::from(*data.get(2 + i)?);
        }
        (len, 2 + n)
    };
    let end = header.checked_add(len)?;
    let content = data.get(header..end)?;
    let whole = data.get(..end)?;
    let rest = data.get(end..)?;
    Some((
        Tlv {
            tag,
            content,
            whole,
        },
        rest,
    ))
}

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OCTET_STRING: u8 = 0x04;

/// Decodes the first PEM block of `pem` (any label).
pub fn pem_decode(pem: &str) -> Option<Vec<u8>> {
    let mut body = String::new();
    let mut inside = false;
    for line in pem.lines() {
        let line = line.trim();
        if line.starts_with("-----BEGIN") {
            inside = true;
            continue;
        }
        if line.starts_with("-----END") {
            break;
        }
        if inside {
            body.push_str(line);
        }
    }
    if body.is_empty() {
        return None;
    }
    STANDARD.decode(body.as_bytes()).ok()
}

/// PEM text with 64-character lines and a final newline.
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    let bytes = b64.as_bytes();
    for chunk in bytes.chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .iter()
            .copied()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// The RSA modulus and exponent (DER INTEGER contents) of a PKCS#1 private key.
fn rsa_from_pkcs1(data: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let (seq, _) = read(data)?;
    if seq.tag != SEQUENCE {
        return None;
    }
    let (version, rest) = read(seq.content)?;
    if version.tag != INTEGER {
        return None;
    }
    let (n, rest) = read(rest)?;
    let (e, _) = read(rest)?;
    (n.tag == INTEGER && e.tag == INTEGER).then(|| (n.content.to_vec(), e.content.to_vec()))
}

/// The RSA modulus and exponent of a private key in PKCS#1 or PKCS#8 form.
fn rsa_from_private(data: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    if let Some(ne) = rsa_from_pkcs1(data) {
        return Some(ne);
    }
    let (seq, _) = read(data)?;
    let (_version, rest) = read(seq.content)?;
    let (_alg, rest) = read(rest)?;
    let (key, _) = read(rest)?;
    if key.tag != OCTET_STRING {
        return None;
    }
    rsa_from_pkcs1(key.content)
}

/// The modulus and exponent inside a SubjectPublicKeyInfo.
fn rsa_from_spki(spki: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let (seq, _) = read(spki)?;
    let (_alg, rest) = read(seq.content)?;
    let (bits, _) = read(rest)?;
    if bits.tag != BIT_STRING {
        return None;
    }
    let (key, _) = read(bits.content.get(1..)?)?;
    let (n, rest) = read(key.content)?;
    let (e, _) = read(rest)?;
    (n.tag == INTEGER && e.tag == INTEGER).then(|| (n.content.to_vec(), e.content.to_vec()))
}

/// The SubjectPublicKeyInfo of an RSA key.
fn spki_from_rsa(n: &[u8], e: &[u8]) -> Vec<u8> {
    const RSA_ALGORITHM: &[u8] = &[
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let mut key = der(INTEGER, n);
    key.extend(der(INTEGER, e));
    let key = der(SEQUENCE, &key);
    let mut bits = vec![0u8];
    bits.extend(key);
    let mut body = RSA_ALGORITHM.to_vec();
    body.extend(der(BIT_STRING, &bits));
    der(SEQUENCE, &body)
}

/// The SubjectPublicKeyInfo of a certificate.
fn spki_from_certificate(data: &[u8]) -> Option<Vec<u8>> {
    let (cert, _) = read(data)?;
    let (tbs, _) = read(cert.content)?;
    let mut rest = tbs.content;
    let (first, after) = read(rest)?;
    if first.tag == 0xa0 {
        rest = after; // explicit version
    }
    // serial, signature algorithm, issuer, validity, subject
    for _ in 0..5 {
        rest = read(rest)?.1;
    }
    let (spki, _) = read(rest)?;
    (spki.tag == SEQUENCE).then(|| spki.whole.to_vec())
}

/// `public_key_pem` of a certificate PEM, or of an RSA private key PEM.
pub fn public_key_pem(cert_or_key_pem: &str) -> Option<String> {
    let data = pem_decode(cert_or_key_pem)?;
    if cert_or_key_pem.contains("CERTIFICATE") {
        return spki_from_certificate(&data).map(|s| pem_encode("PUBLIC KEY", &s));
    }
    if cert_or_key_pem.contains("PUBLIC KEY") {
        return Some(pem_encode("PUBLIC KEY", &data));
    }
    let (n, e) = rsa_from_private(&data)?;
    Some(pem_encode("PUBLIC KEY", &spki_from_rsa(&n, &e)))
}

fn ssh_blob(pem: &str) -> Option<Vec<u8>> {
    let data = pem_decode(pem)?;
    let (n, e) = if pem.contains("PUBLIC KEY") {
        rsa_from_spki(&data)?
    } else {
        rsa_from_private(&data)?
    };
    let mut blob = Vec::new();
    for part in [b"ssh-rsa".as_slice(), &e, &n] {
        let len = u32::try_from(part.len()).ok()?;
        blob.extend(len.to_be_bytes());
        blob.extend_from_slice(part);
    }
    Some(blob)
}

/// `public_key_openssh` of an RSA private (or public) key PEM.
pub fn public_key_openssh(pem: &str) -> Option<String> {
    ssh_blob(pem).map(|b| format!("ssh-rsa {}", STANDARD.encode(b)))
}

/// `public_key_fingerprint`: MD5 of the OpenSSH key blob, colon-separated hex.
pub fn public_key_fingerprint(pem: &str) -> Option<String> {
    let digest = Md5::digest(ssh_blob(pem)?);
    Some(
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":"),
    )
}

/// crypt(3) SHA-512 with the given salt (at most 16 characters are used) and 5000 rounds.
pub fn sha512_crypt(password: &str, salt: &str) -> Option<String> {
    let salt: String = salt.chars().take(16).collect();
    let params = sha_crypt::Sha512Params::new(sha_crypt::ROUNDS_DEFAULT).ok()?;
    let hash = sha_crypt::sha512_crypt_b64(password.as_bytes(), salt.as_bytes(), &params).ok()?;
    Some(format!("$6${salt}${hash}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    // An RSA key and a self-signed certificate for it, made with openssl; the expected public
    // forms are what `openssl rsa -pubout`, `ssh-keygen -y` and `ssh-keygen -l -E md5` print.
    const KEY: &str = include_str!("testdata/key.pem");
    const KEY_PKCS8: &str = include_str!("testdata/key.pkcs8.pem");
    const CERT: &str = include_str!("testdata/cert.pem");
    const PUBLIC: &str = include_str!("testdata/key.pub.pem");
    const OPENSSH: &str = include_str!("testdata/key.openssh");

    #[test]
    fn public_forms_match_openssl_and_ssh_keygen() {
        for source in [KEY, KEY_PKCS8, CERT] {
            assert_eq!(public_key_pem(source).as_deref(), Some(PUBLIC));
        }
        for source in [KEY, KEY_PKCS8, PUBLIC] {
            assert_eq!(public_key_openssh(source).as_deref(), Some(OPENSSH.trim()));
            assert_eq!(
                public_key_fingerprint(source).as_deref(),
                Some("50:27:b1:b3:8c:8b:0b:ca:49:e9:ca:2a:5e:43:96:bf")
            );
        }
    }

    #[test]
    fn garbage_is_none_not_a_panic() {
        for text in [
            "",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            "-----BEGIN RSA PRIVATE KEY-----\n!!!\n-----END RSA PRIVATE KEY-----\n",
            "-----BEGIN PRIVATE KEY-----\nMIIBAAAA\n-----END PRIVATE KEY-----\n",
        ] {
            assert_eq!(public_key_pem(text), None);
            assert_eq!(public_key_openssh(text), None);
            assert_eq!(public_key_fingerprint(text), None);
        }
    }

    #[test]
    fn sha512_crypt_matches_the_glibc_reference() {
        // Test vector from Ulrich Drepper's SHA-crypt specification.
        assert_eq!(
            sha512_crypt("Hello world!", "saltstring").unwrap(),
            "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"
        );
    }
}
