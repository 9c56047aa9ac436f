//! An ICMP echo to a gateway, as Ops Manager's `NetworksPingableVerifier` pings it.
//!
//! Linux lets an unprivileged process ping through a datagram ICMP socket when
//! `net.ipv4.ping_group_range` includes its group; a process with `CAP_NET_RAW` may use a raw
//! socket instead. When neither is allowed the caller falls back to a TCP probe
//! ([`Unavailable`]). IPv4 only: an IPv6 gateway is probed over TCP.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};

/// Neither kind of ICMP socket may be opened here.
#[derive(Debug)]
pub(super) struct Unavailable;

fn checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Echo request: type 8, code 0, checksum, identifier, sequence, a short payload.
fn echo_request(id: u16) -> Vec<u8> {
    let mut packet = vec![8, 0, 0, 0];
    packet.extend(id.to_be_bytes());
    packet.extend(1u16.to_be_bytes());
    packet.extend(b"tileworks");
    let sum = checksum(&packet);
    packet[2..4].copy_from_slice(&sum.to_be_bytes());
    packet
}

/// Whether `target` answers an echo within `wait`; `Err` when this process may not ping.
pub(super) fn ping(target: Ipv4Addr, wait: Duration) -> Result<bool, Unavailable> {
    let (socket, raw) = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::ICMPV4))
        .map(|s| (s, false))
        .or_else(|_| {
            Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4)).map(|s| (s, true))
        })
        .map_err(|_| Unavailable)?;
    // std's datagram calls are plain sendto/recvfrom, whatever the socket's protocol.
    let socket = std::net::UdpSocket::from(socket);
    let id = rand::random::<u16>();
    let to = SocketAddr::V4(SocketAddrV4::new(target, 0));
    if socket.send_to(&echo_request(id), to).is_err() {
        return Ok(false);
    }
    let deadline = Instant::now() + wait;
    let mut buf = [0u8; 1500];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || socket.set_read_timeout(Some(left)).is_err() {
            return Ok(false);
        }
        let Ok((n, from)) = socket.recv_from(&mut buf) else {
            return Ok(false);
        };
        let bytes = &buf[..n];
        let from_target = from.ip() == std::net::IpAddr::V4(target);
        // A raw socket hands over the IP header too; a datagram socket only the ICMP message
        // (and rewrites the identifier to its own port, so only raw replies are matched on it).
        let icmp = if raw {
            let header = usize::from(bytes.first().map_or(0, |b| b & 0x0f)) * 4;
            bytes.get(header..).unwrap_or_default()
        } else {
            bytes
        };
        let is_reply =
            icmp.first() == Some(&0) && (!raw || icmp.get(4..6) == Some(&id.to_be_bytes()[..]));
        if from_target && is_reply {
            return Ok(true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_echo_request_carries_a_valid_checksum() {
        let packet = echo_request(0x1234);
        assert_eq!(&packet[..2], &[8, 0]);
        assert_eq!(&packet[4..6], &[0x12, 0x34]);
        // Summed with its checksum, a valid ICMP message sums to zero.
        assert_eq!(checksum(&packet), 0);
    }
}
