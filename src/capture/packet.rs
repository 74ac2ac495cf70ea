//! From a captured frame to a TCP segment: link layer (Ethernet with 802.1Q/802.1ad tags, Linux
//! cooked SLL and SLL2, raw IP, BSD loopback), IPv4 or IPv6, TCP. Zero-copy: the segment's
//! payload borrows the frame.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Link types this reader understands (pcap LINKTYPE_* values).
pub(crate) mod linktype {
    pub(crate) const NULL: i32 = 0;
    pub(crate) const ETHERNET: i32 = 1;
    pub(crate) const RAW: i32 = 101;
    pub(crate) const LOOP: i32 = 108;
    pub(crate) const LINUX_SLL: i32 = 113;
    pub(crate) const IPV4: i32 = 228;
    pub(crate) const IPV6: i32 = 229;
    pub(crate) const LINUX_SLL2: i32 = 276;
}

/// TCP flag bits.
pub(crate) mod flags {
    pub(crate) const FIN: u8 = 0x01;
    pub(crate) const SYN: u8 = 0x02;
    pub(crate) const RST: u8 = 0x04;
    pub(crate) const ACK: u8 = 0x10;
}

/// One TCP segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Segment<'a> {
    pub(crate) src: SocketAddr,
    pub(crate) dst: SocketAddr,
    pub(crate) seq: u32,
    pub(crate) flags: u8,
    pub(crate) payload: &'a [u8],
}

/// Why a frame yields no TCP segment (most are simply other traffic).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Skip {
    /// Not IP, not TCP, or an IP fragment: not ours.
    NotTcp,
    /// A link type this reader does not decode.
    Linktype(i32),
    /// Cut short or inconsistent headers.
    Malformed,
}

fn u16_at(d: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*d.get(i)?, *d.get(i + 1)?]))
}

fn u32_at(d: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_be_bytes([
        *d.get(i)?,
        *d.get(i + 1)?,
        *d.get(i + 2)?,
        *d.get(i + 3)?,
    ]))
}

/// The TCP segment in a frame of link type `linktype`.
pub(crate) fn segment(linktype: i32, frame: &[u8]) -> Result<Segment<'_>, Skip> {
    let (ethertype, ip) = match linktype {
        linktype::ETHERNET => ethernet(frame)?,
        linktype::LINUX_SLL => (
            u16_at(frame, 14).ok_or(Skip::Malformed)?,
            frame.get(16..).ok_or(Skip::Malformed)?,
        ),
        linktype::LINUX_SLL2 => (
            u16_at(frame, 0).ok_or(Skip::Malformed)?,
            frame.get(20..).ok_or(Skip::Malformed)?,
        ),
        linktype::RAW | linktype::IPV4 | linktype::IPV6 => match frame.first().map(|b| b >> 4) {
            Some(4) => (0x0800, frame),
            Some(6) => (0x86DD, frame),
            _ => return Err(Skip::NotTcp),
        },
        linktype::NULL | linktype::LOOP => {
            // A 4-byte address family in the capturing host's byte order: 2 is IPv4; IPv6 is
            // 24, 28 or 30 depending on the BSD.
            let family: [u8; 4] = frame
                .get(..4)
                .and_then(|f| f.try_into().ok())
                .ok_or(Skip::Malformed)?;
            let af = if family[0] == 0 {
                u32::from_be_bytes(family)
            } else {
                u32::from_le_bytes(family)
            };
            let ethertype = match af {
                2 => 0x0800,
                24 | 28 | 30 => 0x86DD,
                _ => return Err(Skip::NotTcp),
            };
            (ethertype, frame.get(4..).ok_or(Skip::Malformed)?)
        }
        other => return Err(Skip::Linktype(other)),
    };
    match ethertype {
        0x0800 => ipv4(ip),
        0x86DD => ipv6(ip),
        _ => Err(Skip::NotTcp),
    }
}

/// Ethernet II with any number of 802.1Q / 802.1ad tags.
fn ethernet(frame: &[u8]) -> Result<(u16, &[u8]), Skip> {
    let mut at = 12;
    loop {
        let ethertype = u16_at(frame, at).ok_or(Skip::Malformed)?;
        match ethertype {
            0x8100 | 0x88A8 | 0x9100 => at += 4,
            _ => return Ok((ethertype, frame.get(at + 2..).ok_or(Skip::Malformed)?)),
        }
    }
}

fn ipv4(ip: &[u8]) -> Result<Segment<'_>, Skip> {
    let h: [u8; 20] = ip
        .get(..20)
        .and_then(|h| h.try_into().ok())
        .ok_or(Skip::Malformed)?;
    let ihl = usize::from(h[0] & 0x0F) * 4;
    let total = usize::from(u16::from_be_bytes([h[2], h[3]]));
    if u16::from_be_bytes([h[6], h[7]]) & 0x3FFF != 0 {
        return Err(Skip::NotTcp); // a fragment: ISO 8583 over TCP is not fragmented in practice
    }
    if h[9] != 6 || ihl < 20 {
        return Err(Skip::NotTcp);
    }
    let src = Ipv4Addr::new(h[12], h[13], h[14], h[15]);
    let dst = Ipv4Addr::new(h[16], h[17], h[18], h[19]);
    // Ethernet pads short frames: the IP total length says where the packet ends.
    let end = if total >= ihl && total <= ip.len() {
        total
    } else {
        ip.len()
    };
    tcp(
        IpAddr::V4(src),
        IpAddr::V4(dst),
        ip.get(ihl..end).ok_or(Skip::Malformed)?,
    )
}

fn ipv6(ip: &[u8]) -> Result<Segment<'_>, Skip> {
    let header: [u8; 40] = ip
        .get(..40)
        .and_then(|h| h.try_into().ok())
        .ok_or(Skip::Malformed)?;
    let payload_len = usize::from(u16::from_be_bytes([header[4], header[5]]));
    let mut next = header[6];
    let mut at = 40;
    // Skip hop-by-hop, routing and destination-options headers.
    while matches!(next, 0 | 43 | 60) {
        next = *ip.get(at).ok_or(Skip::Malformed)?;
        at += (usize::from(*ip.get(at + 1).ok_or(Skip::Malformed)?) + 1) * 8;
    }
    if next != 6 {
        return Err(Skip::NotTcp);
    }
    let addr = |r: std::ops::Range<usize>| -> Result<[u8; 16], Skip> {
        header
            .get(r)
            .and_then(|a| a.try_into().ok())
            .ok_or(Skip::Malformed)
    };
    let (s, d) = (addr(8..24)?, addr(24..40)?);
    let end = (40 + payload_len).min(ip.len());
    tcp(
        IpAddr::V6(Ipv6Addr::from(s)),
        IpAddr::V6(Ipv6Addr::from(d)),
        ip.get(at..end).ok_or(Skip::Malformed)?,
    )
}

fn tcp(src: IpAddr, dst: IpAddr, t: &[u8]) -> Result<Segment<'_>, Skip> {
    let sport = u16_at(t, 0).ok_or(Skip::Malformed)?;
    let dport = u16_at(t, 2).ok_or(Skip::Malformed)?;
    let seq = u32_at(t, 4).ok_or(Skip::Malformed)?;
    let offset = usize::from(t.get(12).ok_or(Skip::Malformed)? >> 4) * 4;
    let flags = *t.get(13).ok_or(Skip::Malformed)?;
    if offset < 20 {
        return Err(Skip::Malformed);
    }
    let payload = t.get(offset..).ok_or(Skip::Malformed)?;
    Ok(Segment {
        src: SocketAddr::new(src, sport),
        dst: SocketAddr::new(dst, dport),
        seq,
        flags,
        payload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::write::{tcp_flags, tcp_frame};

    fn ethernet_frame() -> Vec<u8> {
        tcp_frame(
            "10.0.0.1:40000".parse().unwrap(),
            "10.0.0.2:8583".parse().unwrap(),
            7,
            1,
            tcp_flags::ACK,
            b"hello",
        )
    }

    fn check(linktype: i32, frame: &[u8]) {
        let seg = segment(linktype, frame).unwrap_or_else(|e| panic!("linktype {linktype}: {e:?}"));
        assert_eq!(seg.src.to_string(), "10.0.0.1:40000");
        assert_eq!(seg.dst.to_string(), "10.0.0.2:8583");
        assert_eq!((seg.seq, seg.payload), (7, &b"hello"[..]));
    }

    #[test]
    fn decodes_every_link_type() {
        let eth = ethernet_frame();
        let ip = &eth[14..];
        check(linktype::ETHERNET, &eth);
        check(linktype::RAW, ip);
        check(linktype::IPV4, ip);
        // Linux cooked v1: 16-byte header, protocol at 14.
        let mut sll = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00];
        sll.extend_from_slice(ip);
        check(linktype::LINUX_SLL, &sll);
        // Linux cooked v2: 20-byte header, protocol first.
        let mut sll2 = vec![
            0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 0, 0, 0,
        ];
        sll2.extend_from_slice(ip);
        check(linktype::LINUX_SLL2, &sll2);
        // BSD loopback, family 2 in host (little-endian) order.
        let mut null = vec![2, 0, 0, 0];
        null.extend_from_slice(ip);
        check(linktype::NULL, &null);
        // 802.1ad outer tag and 802.1Q inner tag.
        let mut qinq = eth.clone();
        qinq.splice(12..12, [0x88, 0xA8, 0x00, 0x0A, 0x81, 0x00, 0x00, 0x14]);
        check(linktype::ETHERNET, &qinq);
    }

    #[test]
    fn other_traffic_and_short_frames_are_skipped() {
        let eth = ethernet_frame();
        for cut in 0..54 {
            assert!(
                segment(linktype::ETHERNET, &eth[..cut]).is_err(),
                "cut {cut}"
            );
        }
        let mut udp = eth.clone();
        udp[14 + 9] = 17;
        assert_eq!(segment(linktype::ETHERNET, &udp), Err(Skip::NotTcp));
        let mut arp = eth.clone();
        arp[12..14].copy_from_slice(&[0x08, 0x06]);
        assert_eq!(segment(linktype::ETHERNET, &arp), Err(Skip::NotTcp));
        assert_eq!(segment(147, &eth), Err(Skip::Linktype(147)));
    }
}
