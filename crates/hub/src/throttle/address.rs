//! The throttle's key for a client address. One IPv6 subscriber is usually given a whole /64 and can
//! rotate through it at will, so IPv6 addresses count per /64; IPv4 addresses (and IPv4 mapped into
//! IPv6) count one by one: they are scarce, a /24 is often one office or a carrier's NAT pool, and
//! guesses at one account are already capped by the username's key whatever the address.
use std::net::{IpAddr, Ipv6Addr};

pub fn address_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => format!("ip:{v4}"),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("ip:{v4}"),
            None => {
                let s = v6.segments();
                let net = Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("ip:{net}/64")
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_counts_per_64_and_ipv4_per_address() {
        let a = |s: &str| address_key(s.parse().unwrap());
        assert_eq!(a("2001:db8:1:2::1"), a("2001:db8:1:2:ffff:1:2:3"));
        assert_ne!(a("2001:db8:1:2::1"), a("2001:db8:1:3::1"));
        assert_eq!(a("2001:db8:1:2::1"), "ip:2001:db8:1:2::/64");
        assert_eq!(a("::ffff:10.0.0.1"), a("10.0.0.1"));
        assert_ne!(a("10.0.0.1"), a("10.0.0.2"));
    }
}
