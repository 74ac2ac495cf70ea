//! A tokio-util codec over every framing the crate knows (feature `tokio`), for a switch's
//! sockets: `FramedRead::new(socket, FrameCodec::new(Framing::Len2))` yields each message as
//! owned `Bytes` (its framing removed), which [`crate::parse()`] reads in place; the encoder
//! writes the length prefix (or checks the CUPS header) before the message.
//!
//! A bad length prefix (over [`FrameCodec::max`], zero, not digits, a TPDU frame without
//! 0x60, a malformed CUPS header) is a [`CodecError::Frame`] naming the stream offset of the
//! frame. What happens next is the caller's choice ([`OnError`]): `Close` (the default) returns
//! the error (a tokio `FramedRead` then ends the stream, and the connection is closed: nothing
//! is read out of step); `Resync` returns no error but skips to the first offset where a whole
//! frame parses with the spec given ([`FrameCodec::resync_with`]),
//! counting what it skipped ([`FrameCodec::skipped`]) and keeping the last fault
//! ([`FrameCodec::last_error`]).
//!
//! ```
//! use bytes::BytesMut;
//! use iso8583_inspect::frame::Framing;
//! use iso8583_inspect::tokio_codec::FrameCodec;
//! use tokio_util::codec::{Decoder, Encoder};
//!
//! let mut codec = FrameCodec::new(Framing::Len2);
//! let mut wire = BytesMut::new();
//! codec.encode(&b"0800..."[..], &mut wire)?;
//! assert_eq!(&wire[..2], &[0, 7]);
//! let frame = codec.decode(&mut wire)?.unwrap();
//! assert_eq!(&frame[..], b"0800...");
//! assert!(codec.decode(&mut wire)?.is_none());
//! # Ok::<(), iso8583_inspect::tokio_codec::CodecError>(())
//! ```

use crate::frame::{DEFAULT_MAX_FRAME, FrameError, Framing, frame_at, write_frame};
use crate::spec::Spec;
use bytes::{Buf, Bytes, BytesMut};
use std::io;
use tokio_util::codec::{Decoder, Encoder};

/// What the decoder does after a bad length prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OnError {
    /// Return the error (and again on every later call): the caller closes the connection
    /// (the default).
    #[default]
    Close,
    /// Skip to the next place where a whole frame parses with the spec given to
    /// [`FrameCodec::resync_with`], counting the bytes skipped; no error is returned.
    Resync,
}

/// Why the codec stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The socket failed.
    #[error("i/o: {0}")]
    Io(#[from] io::Error),
    /// A length prefix the framing rejects, at this offset of the stream.
    #[error("frame at stream offset {offset}: {error}")]
    Frame {
        /// Stream offset of the frame's first byte (its prefix).
        offset: u64,
        /// What is wrong.
        error: FrameError,
    },
}

/// Cuts a byte stream into messages under one framing, and frames messages to write.
#[derive(Clone, Debug)]
pub struct FrameCodec {
    framing: Framing,
    max: usize,
    on_error: OnError,
    spec: Option<&'static Spec>,
    /// Stream offset of the first byte in the decoder's buffer.
    offset: u64,
    /// The error being reported (Close), or the resynchronisation under way (Resync).
    failed: Option<FrameError>,
    /// Bytes skipped while resynchronising, over the life of the stream.
    skipped: u64,
    /// The last bad prefix: its stream offset and what was wrong.
    last_error: Option<(u64, FrameError)>,
    /// Bytes the encoder has written.
    encoded: u64,
}

impl FrameCodec {
    /// A codec for `framing`, frames of at most [`DEFAULT_MAX_FRAME`] bytes, closing on a bad
    /// prefix.
    #[must_use]
    pub fn new(framing: Framing) -> FrameCodec {
        FrameCodec {
            framing,
            max: DEFAULT_MAX_FRAME,
            on_error: OnError::Close,
            spec: None,
            offset: 0,
            failed: None,
            skipped: 0,
            last_error: None,
            encoded: 0,
        }
    }

    /// Frames of at most `max` bytes (a longer stated length is an error, never an
    /// allocation).
    #[must_use]
    pub fn with_max(mut self, max: usize) -> FrameCodec {
        self.max = max;
        self
    }

    /// After a bad prefix, report it once and resynchronise where a whole frame parses with
    /// `spec` ([`OnError::Resync`]).
    #[must_use]
    pub fn resync_with(mut self, spec: &'static Spec) -> FrameCodec {
        self.on_error = OnError::Resync;
        self.spec = Some(spec);
        self
    }

    /// The largest frame accepted.
    #[must_use]
    pub fn max(&self) -> usize {
        self.max
    }

    /// The framing.
    #[must_use]
    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// Bytes skipped to resynchronise so far.
    #[must_use]
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// The last bad prefix seen: its stream offset and the fault.
    #[must_use]
    pub fn last_error(&self) -> Option<(u64, FrameError)> {
        self.last_error
    }

    /// Whether a whole frame that parses with the resync spec starts at `src`'s first byte;
    /// `None` if `src` does not hold it all yet.
    fn frame_parses(&self, src: &[u8]) -> Option<bool> {
        match frame_at(self.framing, src, self.max) {
            Err(_) => Some(false),
            Ok(None) => None,
            Ok(Some((prefix, len))) => {
                let frame = src.get(prefix..prefix + len).unwrap_or_default();
                Some(self.spec.is_some_and(|s| crate::parse(s, frame).is_ok()))
            }
        }
    }
}

impl Decoder for FrameCodec {
    type Item = Bytes;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, CodecError> {
        loop {
            if let Some(error) = self.failed {
                if self.on_error == OnError::Close {
                    return Err(CodecError::Frame {
                        offset: self.offset,
                        error,
                    });
                }
                // The first offset where a whole frame parses; failing that, the first where
                // a frame might still be arriving (a garbage length can claim a long one, so
                // a whole frame further on wins over it).
                let mut waiting = None;
                let mut found = None;
                for i in 0..src.len() {
                    match self.frame_parses(src.get(i..).unwrap_or_default()) {
                        Some(true) => {
                            found = Some(i);
                            break;
                        }
                        Some(false) => {}
                        None => {
                            waiting.get_or_insert(i);
                        }
                    }
                }
                let skip = found.or(waiting).unwrap_or(src.len());
                src.advance(skip);
                self.offset += skip as u64;
                self.skipped += skip as u64;
                if found.is_none() {
                    return Ok(None);
                }
                self.failed = None;
            }
            return match frame_at(self.framing, src, self.max) {
                Ok(None) => {
                    // Room for the frame under way, within the maximum.
                    let want = self.framing.prefix_len() + self.max;
                    src.reserve(want.saturating_sub(src.len()).min(self.max));
                    Ok(None)
                }
                Ok(Some((prefix, len))) => {
                    src.advance(prefix);
                    let frame = src.split_to(len).freeze();
                    self.offset += (prefix + len) as u64;
                    Ok(Some(frame))
                }
                Err(error) => {
                    self.failed = Some(error);
                    self.last_error = Some((self.offset, error));
                    continue;
                }
            };
        }
    }
}

impl Encoder<&[u8]> for FrameCodec {
    type Error = CodecError;

    /// Writes `msg` with its prefix; a message over the maximum, or one the framing cannot
    /// carry, is an error naming the stream offset where it would have started, and nothing is
    /// written.
    fn encode(&mut self, msg: &[u8], dst: &mut BytesMut) -> Result<(), CodecError> {
        let offset = self.encoded;
        if msg.len() > self.max {
            let error = FrameError::TooLong {
                length: msg.len(),
                max: self.max,
            };
            return Err(CodecError::Frame { offset, error });
        }
        let before = dst.len();
        dst.reserve(msg.len() + self.framing.prefix_len());
        if let Err(error) = write_frame(self.framing, msg, dst) {
            dst.truncate(before);
            return Err(CodecError::Frame { offset, error });
        }
        self.encoded += (dst.len() - before) as u64;
        Ok(())
    }
}

impl Encoder<Bytes> for FrameCodec {
    type Error = CodecError;

    fn encode(&mut self, msg: Bytes, dst: &mut BytesMut) -> Result<(), CodecError> {
        self.encode(&msg[..], dst)
    }
}
