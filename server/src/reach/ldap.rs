//! `LDAPBindVerifier`'s exchange: one simple bind (RFC 4511 §4.2) over LDAP or LDAPS, its
//! result code read from the BindResponse. Written by hand in BER's definite form: a bind is
//! three fields, not worth a client library.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{connect, tls, Failure, Io};

/// BER's definite length.
fn length(n: usize) -> Vec<u8> {
    match n {
        0..=127 => vec![n as u8],
        128..=255 => vec![0x81, n as u8],
        _ => vec![0x82, (n >> 8) as u8, n as u8],
    }
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend(length(content.len()));
    out.extend_from_slice(content);
    out
}

/// `LDAPMessage { messageID 1, BindRequest { version 3, name, simple password } }`.
fn bind_request(dn: &str, password: &str) -> Vec<u8> {
    let mut bind = tlv(0x02, &[3]);
    bind.extend(tlv(0x04, dn.as_bytes()));
    bind.extend(tlv(0x80, password.as_bytes()));
    let mut message = tlv(0x02, &[1]);
    message.extend(tlv(0x60, &bind));
    tlv(0x30, &message)
}

/// Reads one TLV's tag and content length at `at`; returns (tag, content start, content end).
fn header(buf: &[u8], at: usize) -> Option<(u8, usize, usize)> {
    let tag = *buf.get(at)?;
    let first = *buf.get(at + 1)?;
    let (len, start) = if first < 0x80 {
        (first as usize, at + 2)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 3 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *buf.get(at + 2 + i)? as usize;
        }
        (len, at + 2 + n)
    };
    Some((tag, start, start + len))
}

/// The resultCode of a BindResponse message.
fn result_code(message: &[u8]) -> Option<u8> {
    let (tag, start, _) = header(message, 0)?;
    if tag != 0x30 {
        return None;
    }
    let (id_tag, _, id_end) = header(message, start)?;
    if id_tag != 0x02 {
        return None;
    }
    let (op, op_start, _) = header(message, id_end)?;
    if op != 0x61 {
        return None;
    }
    let (code_tag, code_start, code_end) = header(message, op_start)?;
    (code_tag == 0x0a && code_end == code_start + 1).then(|| message[code_start])
}

async fn read_message(io: &mut Box<dyn Io>) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0u8; 2];
    io.read_exact(&mut buf).await?;
    if buf[1] & 0x80 != 0 {
        let n = (buf[1] & 0x7f) as usize;
        if n == 0 || n > 3 {
            return Err(std::io::Error::other("not an LDAP message"));
        }
        let mut more = vec![0u8; n];
        io.read_exact(&mut more).await?;
        buf.extend(more);
    }
    let (_, start, end) =
        header(&buf, 0).ok_or_else(|| std::io::Error::other("not an LDAP message"))?;
    if end > 1 << 16 {
        return Err(std::io::Error::other("an LDAP answer too long for a bind"));
    }
    let mut content = vec![0u8; end - start];
    io.read_exact(&mut content).await?;
    buf.extend(content);
    Ok(buf)
}

pub(super) async fn bind(
    host: &str,
    port: u16,
    use_tls: bool,
    dn: &str,
    password: &str,
) -> Result<(), Failure> {
    let at = super::authority(host, port);
    let mut io: Box<dyn Io> = Box::new(connect(host, port).await?);
    if use_tls {
        io = tls(io, host).await?;
    }
    let failed = |e: std::io::Error| Failure::Unreachable(format!("{at}: {e}"));
    io.write_all(&bind_request(dn, password))
        .await
        .map_err(failed)?;
    io.flush().await.map_err(failed)?;
    let answer = read_message(&mut io).await.map_err(failed)?;
    match result_code(&answer) {
        Some(0) => Ok(()),
        // invalidCredentials, inappropriateAuthentication, insufficientAccessRights.
        Some(code @ 48..=50) => Err(Failure::Refused(format!(
            "{at} answered the bind with result code {code}"
        ))),
        Some(code) => Err(Failure::Unreachable(format!(
            "{at} answered the bind with result code {code}"
        ))),
        None => Err(Failure::Unreachable(format!(
            "{at} did not answer with an LDAP BindResponse"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bind_request_in_ber_and_a_response_read_back() {
        let req = bind_request("cn=admin", "pw");
        assert_eq!(
            req,
            [
                0x30, 0x16, 0x02, 0x01, 0x01, 0x60, 0x11, 0x02, 0x01, 0x03, 0x04, 0x08, b'c', b'n',
                b'=', b'a', b'd', b'm', b'i', b'n', 0x80, 0x02, b'p', b'w'
            ]
        );
        let long = bind_request(&"x".repeat(200), "pw");
        assert_eq!(&long[..2], &[0x30, 0x81]);
        // { id 1, BindResponse { resultCode 49, matchedDN "", diagnosticMessage "" } }
        let response = [
            0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07, 0x0a, 0x01, 49, 0x04, 0x00, 0x04, 0x00,
        ];
        assert_eq!(result_code(&response), Some(49));
        assert_eq!(result_code(&[0x30, 0x00]), None);
    }
}
