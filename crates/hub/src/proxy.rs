//! Who a request comes from. Behind a load balancer every socket's peer is the proxy; its
//! `X-Forwarded-For` names the client, but only a proxy named by `--trusted-proxy` may say so: from
//! anywhere else the header is ignored (a client could write any address into it). The header is read
//! right to left, skipping trusted hops, so a client cannot prepend a forged address either.
use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::IpAddr;

pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(&canonical(*ip)));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) => {
                client = canonical(ip);
                if !is_trusted(&client) {
                    return client;
                }
            }
            // Garbage in the chain: the last address we could trust is the answer.
            Err(_) => return client,
        }
    }
    client
}

/// IPv4-mapped IPv6 (`::ffff:10.0.0.1`, what a dual-stack socket reports) as the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }
    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_taken_at_its_address_whatever_it_claims() {
        let trusted = vec!["10.0.0.0/8".parse().unwrap()];
        assert_eq!(client_ip(ip("203.0.113.9"), &headers(&["1.2.3.4"]), &trusted), ip("203.0.113.9"));
        assert_eq!(client_ip(ip("203.0.113.9"), &headers(&[]), &[]), ip("203.0.113.9"));
    }

    #[test]
    fn a_trusted_proxy_names_the_client_and_forged_prefixes_are_skipped() {
        let trusted = vec!["10.0.0.0/8".parse().unwrap(), "127.0.0.1/32".parse().unwrap()];
        // The client wrote "6.6.6.6" itself; the proxy appended the address it saw.
        let h = headers(&["6.6.6.6, 198.51.100.7"]);
        assert_eq!(client_ip(ip("10.1.2.3"), &h, &trusted), ip("198.51.100.7"));
        // Two trusted hops in a row.
        let h = headers(&["198.51.100.7", "10.9.9.9"]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &trusted), ip("198.51.100.7"));
        // No header: the proxy itself.
        assert_eq!(client_ip(ip("10.1.2.3"), &headers(&[]), &trusted), ip("10.1.2.3"));
        // Garbage: stop at the last trusted hop.
        assert_eq!(client_ip(ip("10.1.2.3"), &headers(&["nonsense"]), &trusted), ip("10.1.2.3"));
        // A dual-stack socket's mapped address counts as its IPv4 address.
        assert_eq!(client_ip(ip("::ffff:10.1.2.3"), &headers(&["198.51.100.7"]), &trusted), ip("198.51.100.7"));
    }
}
