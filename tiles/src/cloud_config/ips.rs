//! IP arithmetic: addresses as numbers, inclusive `a-b` ranges and CIDRs, IPv4 and IPv6. Subnet
//! ranges, reserved and static IPs, and IP allocation all reduce to containment and overlap of
//! ranges, which numbers make trivial.

use std::net::IpAddr;

/// An address as a number: `Ip(is_v6, value)`. Numbers make ranges and containment trivial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ip(pub bool, pub u128);

impl Ip {
    pub fn parse(text: &str) -> std::result::Result<Ip, String> {
        match text.trim().parse::<IpAddr>() {
            Ok(IpAddr::V4(a)) => Ok(Ip(false, u128::from(u32::from(a)))),
            Ok(IpAddr::V6(a)) => Ok(Ip(true, u128::from(a))),
            Err(_) => Err(format!("'{}' is not an IP address", text.trim())),
        }
    }
}

/// Formats an [`Ip`] the usual way (`10.0.0.1`, `fd00::1`).
pub fn format_ip(ip: Ip) -> String {
    ip.to_string()
}

impl std::fmt::Display for Ip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0 {
            write!(f, "{}", std::net::Ipv6Addr::from(self.1))
        } else {
            let v4 = u32::try_from(self.1).unwrap_or(u32::MAX);
            write!(f, "{}", std::net::Ipv4Addr::from(v4))
        }
    }
}

/// An inclusive range of addresses of one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    pub first: Ip,
    pub last: Ip,
}

impl IpRange {
    /// Reads `10.0.0.5`, `10.0.0.5-10.0.0.9` (spaces allowed around `-`) or a CIDR `10.0.0.0/28`.
    pub fn parse(text: &str) -> std::result::Result<IpRange, String> {
        let t = text.trim();
        if t.contains('/') {
            return Cidr::parse(t).map(|c| c.range());
        }
        // IPv6 addresses contain no '-', so splitting on it is safe for both families.
        let (a, b) = match t.split_once('-') {
            Some((a, b)) => (Ip::parse(a)?, Ip::parse(b)?),
            None => {
                let ip = Ip::parse(t)?;
                (ip, ip)
            }
        };
        if a.0 != b.0 {
            return Err(format!("'{t}' mixes IPv4 and IPv6"));
        }
        if a.1 > b.1 {
            return Err(format!("'{t}': the first address is after the last"));
        }
        Ok(IpRange { first: a, last: b })
    }

    pub fn contains(&self, ip: Ip) -> bool {
        ip.0 == self.first.0 && self.first.1 <= ip.1 && ip.1 <= self.last.1
    }

    pub fn contains_range(&self, other: &IpRange) -> bool {
        self.contains(other.first) && self.contains(other.last)
    }

    pub fn overlaps(&self, other: &IpRange) -> bool {
        self.first.0 == other.first.0
            && self.first.1 <= other.last.1
            && other.first.1 <= self.last.1
    }

    /// Number of addresses (saturating).
    pub fn len(&self) -> u128 {
        (self.last.1 - self.first.1).saturating_add(1)
    }

    /// Never true: a range holds at least one address.
    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn iter(&self) -> impl Iterator<Item = Ip> + '_ {
        let v6 = self.first.0;
        (self.first.1..=self.last.1).map(move |n| Ip(v6, n))
    }
}

/// A network in CIDR notation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub network: Ip,
    pub prefix: u8,
}

impl Cidr {
    /// Reads `10.0.0.0/24`. The address must be the network address (host bits zero), as the
    /// Director requires for a subnet range.
    pub fn parse(text: &str) -> std::result::Result<Cidr, String> {
        let t = text.trim();
        let (addr, prefix) = t
            .split_once('/')
            .ok_or_else(|| format!("'{t}' is not in CIDR notation (like 10.0.0.0/24)"))?;
        let ip = Ip::parse(addr)?;
        let bits: u8 = if ip.0 { 128 } else { 32 };
        let prefix: u8 = prefix
            .trim()
            .parse()
            .ok()
            .filter(|p| *p <= bits)
            .ok_or_else(|| format!("'{t}': prefix length must be 0–{bits}"))?;
        let host_bits = u32::from(bits - prefix);
        let mask = if host_bits >= 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        };
        if ip.1 & mask != 0 {
            return Err(format!(
                "'{t}' has host bits set; the network address is {}",
                Ip(ip.0, ip.1 & !mask)
            ));
        }
        Ok(Cidr {
            network: ip,
            prefix,
        })
    }

    pub fn range(&self) -> IpRange {
        let bits: u32 = if self.network.0 { 128 } else { 32 };
        let host_bits = bits - u32::from(self.prefix);
        let span = if host_bits >= 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        };
        IpRange {
            first: self.network,
            last: Ip(self.network.0, self.network.1.saturating_add(span)),
        }
    }
}
