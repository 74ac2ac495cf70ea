//! The tokio-util codec (feature `tokio`): every framing round-trips through chunks of any
//! size, bad prefixes are errors naming their stream offset, and `Resync` finds the next frame.
#![cfg(feature = "tokio")]

use bytes::{Bytes, BytesMut};
use iso8583_inspect::frame::{FrameError, Framing};
use iso8583_inspect::spec::{CUPS, ISO87_ASCII};
use iso8583_inspect::tokio_codec::{CodecError, FrameCodec};
use iso8583_inspect::{MessageBuilder, Mti, parse};
use proptest::prelude::*;
use tokio_util::codec::{Decoder, Encoder};

mod common;
use common::cups_echo;

fn echo(stan: u32) -> Vec<u8> {
    let mut b = MessageBuilder::new(&ISO87_ASCII, Mti::NETWORK_REQUEST);
    b.set_text(11, &format!("{stan:06}"))
        .unwrap()
        .set_text(70, "301")
        .unwrap();
    b.to_vec().unwrap()
}

/// A TPDU message: the UnionPay form starts with 0x60.
fn tpdu_echo(stan: u32) -> Vec<u8> {
    let mut m = vec![0x60, 0, 6, 0, 0];
    m.extend(echo(stan));
    m
}

fn message(framing: Framing, stan: u32) -> Vec<u8> {
    match framing {
        Framing::Cups => cups_echo(stan),
        Framing::Tpdu => tpdu_echo(stan),
        _ => echo(stan),
    }
}

/// Feeds `wire` in chunks of the given sizes (cycled), decoding as it goes.
fn decode_in_chunks(codec: &mut FrameCodec, wire: &[u8], sizes: &[usize]) -> Vec<Bytes> {
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut at = 0;
    let mut i = 0;
    while at < wire.len() {
        let n = sizes[i % sizes.len()].max(1).min(wire.len() - at);
        buf.extend_from_slice(&wire[at..at + n]);
        at += n;
        i += 1;
        while let Some(frame) = codec.decode(&mut buf).unwrap() {
            out.push(frame);
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_framing_round_trips_through_chunks_of_any_size(
        framing in prop::sample::select(
            Framing::ALL.iter().copied().filter(|f| *f != Framing::None).collect::<Vec<_>>()
        ),
        stans in prop::collection::vec(0u32..999_999, 1..12),
        sizes in prop::collection::vec(1usize..300, 1..8),
    ) {
        let mut codec = FrameCodec::new(framing);
        let mut wire = BytesMut::new();
        let msgs: Vec<Vec<u8>> = stans.iter().map(|&s| message(framing, s)).collect();
        for m in &msgs {
            codec.encode(&m[..], &mut wire).unwrap();
        }
        let frames = decode_in_chunks(&mut FrameCodec::new(framing), &wire, &sizes);
        prop_assert_eq!(frames.len(), msgs.len());
        for (f, m) in frames.iter().zip(&msgs) {
            prop_assert_eq!(&f[..], &m[..]);
        }
        // The frames parse in place.
        let spec = if framing == Framing::Cups { &CUPS } else { &ISO87_ASCII };
        if framing != Framing::Tpdu {
            prop_assert!(frames.iter().all(|f| parse(spec, f).is_ok()));
        }
    }
}

#[test]
fn a_bad_prefix_is_an_error_at_its_stream_offset_and_closing_stays_closed() {
    let first = echo(1);
    let mut wire = BytesMut::new();
    FrameCodec::new(Framing::Len4Ascii)
        .encode(&first[..], &mut wire)
        .unwrap();
    let at = wire.len() as u64;
    wire.extend_from_slice(b"00A1");
    wire.extend_from_slice(&first);
    let mut codec = FrameCodec::new(Framing::Len4Ascii);
    assert_eq!(&codec.decode(&mut wire).unwrap().unwrap()[..], &first[..]);
    for _ in 0..2 {
        match codec.decode(&mut wire) {
            Err(CodecError::Frame {
                offset,
                error: FrameError::BadPrefix { found: b'A' },
            }) => assert_eq!(offset, at),
            other => panic!("{other:?}"),
        }
    }
    let e = codec.decode(&mut wire).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("frame at stream offset {at}:")),
        "{e}"
    );

    // Over the maximum: an error before anything is allocated for it.
    let mut codec = FrameCodec::new(Framing::Len2).with_max(100);
    let mut wire = BytesMut::from(&[0xFF, 0xFF, b'0'][..]);
    match codec.decode(&mut wire) {
        Err(CodecError::Frame {
            offset: 0,
            error:
                FrameError::TooLong {
                    length: 65535,
                    max: 100,
                },
        }) => {}
        other => panic!("{other:?}"),
    }
    assert!(wire.capacity() < 1000);
}

#[test]
fn resync_skips_to_the_next_frame_that_parses() {
    let mut wire = BytesMut::new();
    let mut enc = FrameCodec::new(Framing::Len2);
    enc.encode(&echo(1)[..], &mut wire).unwrap();
    let garbage_at = wire.len() as u64;
    wire.extend_from_slice(&[0x00, 0x00, 0x13, 0x37, 0xFF]);
    enc.encode(&echo(2)[..], &mut wire).unwrap();
    enc.encode(&echo(3)[..], &mut wire).unwrap();
    let mut codec = FrameCodec::new(Framing::Len2).resync_with(&ISO87_ASCII);
    let frames = decode_in_chunks(&mut codec, &wire, &[7, 3, 50]);
    let stans: Vec<u32> = frames
        .iter()
        .map(|f| parse(&ISO87_ASCII, f).unwrap().stan().unwrap().unwrap())
        .collect();
    assert_eq!(stans, [1, 2, 3]);
    assert_eq!(codec.skipped(), 5);
    assert_eq!(codec.last_error(), Some((garbage_at, FrameError::Empty)));
}

#[test]
fn the_encoder_refuses_what_the_framing_cannot_carry_and_writes_nothing() {
    let mut codec = FrameCodec::new(Framing::Len2).with_max(50);
    let mut dst = BytesMut::new();
    codec.encode(&echo(1)[..40], &mut dst).unwrap();
    let written = dst.len() as u64;
    match codec.encode(&[b'0'; 51][..], &mut dst) {
        Err(CodecError::Frame {
            offset,
            error:
                FrameError::TooLong {
                    length: 51,
                    max: 50,
                },
        }) => assert_eq!(offset, written),
        other => panic!("{other:?}"),
    }
    assert_eq!(dst.len() as u64, written);
    // A CUPS message must carry its own header.
    let mut cups = FrameCodec::new(Framing::Cups);
    assert!(cups.encode(Bytes::from_static(b"0800"), &mut dst).is_err());
    assert_eq!(dst.len() as u64, written);
}
