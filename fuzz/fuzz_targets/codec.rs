//! The tokio codec fed arbitrary bytes in arbitrary chunks (the first byte chooses the framing
//! and the mode, the second the chunk size): never panics; in `Close` mode the frames it yields,
//! framed again, are exactly the bytes it consumed, and an error names an offset inside what was
//! fed; in `Resync` mode no frame error is returned, and the frame it yields where it has just
//! resynchronised parses.
#![no_main]

use bytes::BytesMut;
use iso8583_inspect::frame::Framing;
use iso8583_inspect::spec::ISO87_ASCII;
use iso8583_inspect::tokio_codec::{CodecError, FrameCodec};
use libfuzzer_sys::fuzz_target;
use tokio_util::codec::{Decoder, Encoder};

fuzz_target!(|data: &[u8]| {
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    let Some((&chunk, input)) = rest.split_first() else {
        return;
    };
    let framing = Framing::ALL[usize::from(choice) % Framing::ALL.len()];
    let resync = choice & 0x80 != 0;
    let mut codec = FrameCodec::new(framing).with_max(2048);
    if resync {
        codec = codec.resync_with(&ISO87_ASCII);
    }
    let chunk = usize::from(chunk).max(1);
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    let mut fed = 0u64;
    'feed: for piece in input.chunks(chunk) {
        buf.extend_from_slice(piece);
        fed += piece.len() as u64;
        loop {
            let skipped = codec.skipped();
            match codec.decode(&mut buf) {
                Ok(Some(frame)) => {
                    if codec.skipped() > skipped {
                        assert!(iso8583_inspect::parse(&ISO87_ASCII, &frame).is_ok());
                    }
                    frames.push(frame);
                }
                Ok(None) => break,
                Err(CodecError::Frame { offset, .. }) => {
                    assert!(!resync, "resync mode returns no frame error");
                    assert!(offset < fed, "offset {offset} of {fed} fed");
                    break 'feed;
                }
                Err(e) => panic!("{e}"),
            }
        }
    }
    if resync {
        return;
    }
    if framing == Framing::None {
        return;
    }
    // Framed again, the frames are the bytes consumed from the start.
    let mut again = BytesMut::new();
    let mut enc = FrameCodec::new(framing).with_max(2048);
    for f in &frames {
        enc.encode(&f[..], &mut again)
            .expect("a decoded frame encodes");
    }
    assert_eq!(&again[..], &input[..again.len()]);
});
