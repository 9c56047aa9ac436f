//! An NTP server asked for the time: one SNTP request (RFC 4330) over UDP, as a VM's NTP client
//! would send it, and the answer checked for being a server's reply with a time in it.

use std::time::Duration;

use tokio::net::UdpSocket;

use super::{authority, Failure};

/// How long to wait for the answer (UDP: a lost packet is only noticed by waiting).
const ANSWER: Duration = Duration::from_secs(3);

/// Asks `host:port` for the time.
pub async fn asks(host: &str, port: u16) -> Result<(), Failure> {
    let server = authority(host, port);
    let address = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| Failure::Unreachable(format!("{host} does not resolve: {e}")))?
        .next()
        .ok_or_else(|| Failure::Unreachable(format!("{host} has no address")))?;
    let local = if address.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    };
    let socket = UdpSocket::bind(local)
        .await
        .map_err(|e| Failure::Unreachable(format!("no UDP socket: {e}")))?;
    socket
        .connect(address)
        .await
        .map_err(|e| Failure::Unreachable(format!("cannot send to {server}: {e}")))?;
    socket
        .send(&request())
        .await
        .map_err(|e| Failure::Unreachable(format!("cannot send to {server}: {e}")))?;
    let mut answer = [0u8; 512];
    let got = match tokio::time::timeout(ANSWER, socket.recv(&mut answer)).await {
        Ok(Ok(n)) => n,
        Ok(Err(e)) => return Err(Failure::Unreachable(format!("{server}: {e}"))),
        Err(_) => {
            return Err(Failure::Unreachable(format!(
                "no answer from {server} within {} seconds",
                ANSWER.as_secs()
            )))
        }
    };
    judge(&answer[..got]).map_err(|why| Failure::Unreachable(format!("{server}: {why}")))
}

/// A client request: leap indicator 0, version 4, mode 3 (client); every other field zero.
fn request() -> [u8; 48] {
    let mut packet = [0u8; 48];
    packet[0] = (4 << 3) | 3;
    packet
}

/// Whether `answer` is a server's time: mode 4 (server), a stratum of 1–15 (0 is a
/// "kiss-o'-death", the server refusing to serve), a set transmit timestamp, and not the
/// "unsynchronised" leap indicator (3).
fn judge(answer: &[u8]) -> Result<(), String> {
    if answer.len() < 48 {
        return Err(format!(
            "an answer of {} bytes is no NTP packet",
            answer.len()
        ));
    }
    let leap = answer[0] >> 6;
    let mode = answer[0] & 0b111;
    let stratum = answer[1];
    if mode != 4 {
        return Err(format!("answered in mode {mode}, not as a server (4)"));
    }
    if stratum == 0 {
        let code = String::from_utf8_lossy(&answer[12..16]).into_owned();
        return Err(format!("refused to serve the time (kiss code {code:?})"));
    }
    if stratum > 15 || leap == 3 {
        return Err("is not synchronised".into());
    }
    if answer[40..48].iter().all(|b| *b == 0) {
        return Err("answered without a time".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(first: u8, stratum: u8, time: bool) -> Vec<u8> {
        let mut a = vec![0u8; 48];
        a[0] = first;
        a[1] = stratum;
        if time {
            a[40] = 0xe9;
        }
        a
    }

    #[test]
    fn a_request_is_a_version_4_client_packet() {
        assert_eq!(request()[0], 0x23);
        assert_eq!(request().len(), 48);
    }

    #[test]
    fn only_a_synchronised_servers_time_passes() {
        assert_eq!(judge(&answer(0x24, 2, true)), Ok(()));
        assert!(judge(&answer(0x24, 2, true)[..20])
            .unwrap_err()
            .contains("no NTP packet"));
        assert!(judge(&answer(0x23, 2, true))
            .unwrap_err()
            .contains("mode 3"));
        let mut kiss = answer(0x24, 0, true);
        kiss[12..16].copy_from_slice(b"RATE");
        assert!(judge(&kiss).unwrap_err().contains("\"RATE\""));
        assert!(judge(&answer(0xe4, 2, true))
            .unwrap_err()
            .contains("not synchronised"));
        assert!(judge(&answer(0x24, 2, false))
            .unwrap_err()
            .contains("without a time"));
    }
}
