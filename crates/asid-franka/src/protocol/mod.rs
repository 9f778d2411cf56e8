//! The wire format of the Franka research interface, as bytes in and typed messages out.
//!
//! Everything is little-endian and packed (`#pragma pack(1)` in libfranka's `research_interface`
//! headers). Decoding never panics on peer bytes: short, oversized or garbled input becomes a
//! [`WireError`] that names the message, the length seen and the length needed.
//!
//! - [`robot`]: the TCP command channel of the arm (port 1337, protocol version 10);
//! - [`udp`]: the 1 kHz state datagram and the command datagram of the arm;
//! - [`gripper`]: the Franka Hand (port 1338, protocol version 3), TCP and UDP.

pub mod gripper;
pub mod robot;
pub mod udp;

/// Upper bound on a TCP message; the largest legitimate one is the robot model (a URDF string).
pub const MAX_MESSAGE_BYTES: u32 = 16 << 20;

/// Bytes from a peer that do not form a valid message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Fewer bytes than the message needs.
    #[error("{what}: {len} bytes, need {need}")]
    Short {
        /// Which message.
        what: &'static str,
        /// Bytes available.
        len: usize,
        /// Bytes needed.
        need: usize,
    },
    /// A header whose size field cannot be right.
    #[error("{what}: size field {size} outside [{min}, {max}]")]
    BadSize {
        /// Which message.
        what: &'static str,
        /// The size field (header included).
        size: u32,
        /// Smallest valid size (the header itself).
        min: u32,
        /// Largest accepted size.
        max: u32,
    },
    /// A field holds a value the protocol does not define.
    #[error("{what}: unknown {field} {value}")]
    Unknown {
        /// Which message.
        what: &'static str,
        /// Which field.
        field: &'static str,
        /// The value seen.
        value: u64,
    },
}

/// Which TCP command channel a header belongs to: the arm's header starts with a `u32` command,
/// the gripper's with a `u16`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// The arm, port 1337.
    Robot,
    /// The Franka Hand, port 1338.
    Gripper,
}

impl Channel {
    /// Header length in bytes.
    pub fn header_len(self) -> usize {
        match self {
            Self::Robot => 12,
            Self::Gripper => 10,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Robot => "robot header",
            Self::Gripper => "gripper header",
        }
    }
}

/// The header in front of every TCP message. `size` on the wire includes the header itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Command code.
    pub command: u32,
    /// Identifier chosen by the client; replies repeat it.
    pub command_id: u32,
    /// Payload length (the wire `size` minus the header).
    pub payload_len: usize,
}

impl Header {
    /// Decodes a header of `channel` from the first bytes of `buf`.
    pub fn decode(channel: Channel, buf: &[u8]) -> Result<Self, WireError> {
        let what = channel.name();
        let mut r = Reader::new(what, buf);
        r.need(channel.header_len())?;
        let command = match channel {
            Channel::Robot => r.u32()?,
            Channel::Gripper => u32::from(r.u16()?),
        };
        let command_id = r.u32()?;
        let size = r.u32()?;
        let min = channel.header_len() as u32;
        if size < min || size > MAX_MESSAGE_BYTES {
            return Err(WireError::BadSize {
                what,
                size,
                min,
                max: MAX_MESSAGE_BYTES,
            });
        }
        Ok(Self {
            command,
            command_id,
            payload_len: (size - min) as usize,
        })
    }
}

/// Encodes a whole TCP message (header and payload) of `channel`.
pub fn encode_message(channel: Channel, command: u32, command_id: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(channel.header_len() + payload.len());
    match channel {
        // Gripper command codes are 0..=4, so the narrowing cannot lose bits.
        Channel::Gripper => out.extend_from_slice(&(command as u16).to_le_bytes()),
        Channel::Robot => out.extend_from_slice(&command.to_le_bytes()),
    }
    out.extend_from_slice(&command_id.to_le_bytes());
    let size = (channel.header_len() + payload.len()) as u32;
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// A cursor over peer bytes; every read is bounds-checked.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    what: &'static str,
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(what: &'static str, buf: &'a [u8]) -> Self {
        Self { what, buf, pos: 0 }
    }

    /// Fails unless `n` more bytes are available, reporting the total length needed.
    pub(crate) fn need(&self, n: usize) -> Result<(), WireError> {
        if self.buf.len() - self.pos < n {
            return Err(WireError::Short {
                what: self.what,
                len: self.buf.len(),
                need: self.pos + n,
            });
        }
        Ok(())
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub(crate) fn bytes<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        self.need(N)?;
        let mut out = [0; N];
        out.copy_from_slice(&self.buf[self.pos..self.pos + N]);
        self.pos += N;
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.bytes::<1>()?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16, WireError> {
        Ok(u16::from_le_bytes(self.bytes()?))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, WireError> {
        Ok(u32::from_le_bytes(self.bytes()?))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, WireError> {
        Ok(u64::from_le_bytes(self.bytes()?))
    }

    pub(crate) fn f64(&mut self) -> Result<f64, WireError> {
        Ok(f64::from_le_bytes(self.bytes()?))
    }

    /// `N` single-precision floats widened to `f64` (the robot state is sent as `float`).
    pub(crate) fn f32s<const N: usize>(&mut self) -> Result<[f64; N], WireError> {
        let mut out = [0.0; N];
        for x in &mut out {
            *x = f64::from(f32::from_le_bytes(self.bytes()?));
        }
        Ok(out)
    }

    pub(crate) fn bools<const N: usize>(&mut self) -> Result<[bool; N], WireError> {
        Ok(self.bytes::<N>()?.map(|b| b != 0))
    }

    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let out = &self.buf[self.pos..];
        self.pos = self.buf.len();
        out
    }
}

/// Appends `f64` values little-endian.
pub(crate) fn put_f64s(out: &mut Vec<u8>, xs: &[f64]) {
    for x in xs {
        out.extend_from_slice(&x.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robot_header_round_trips_and_size_includes_header() {
        let msg = encode_message(Channel::Robot, 3, 77, &[1, 2, 3]);
        assert_eq!(msg.len(), 15);
        assert_eq!(&msg[8..12], &15u32.to_le_bytes());
        let h = Header::decode(Channel::Robot, &msg).expect("valid header");
        assert_eq!((h.command, h.command_id, h.payload_len), (3, 77, 3));
    }

    #[test]
    fn gripper_header_is_ten_bytes_with_u16_command() {
        let msg = encode_message(Channel::Gripper, 2, 5, &[0; 40]);
        assert_eq!(msg.len(), 50);
        assert_eq!(&msg[0..2], &2u16.to_le_bytes());
        let h = Header::decode(Channel::Gripper, &msg).expect("valid header");
        assert_eq!((h.command, h.command_id, h.payload_len), (2, 5, 40));
    }

    #[test]
    fn garbled_headers_are_errors_not_panics() {
        assert!(matches!(
            Header::decode(Channel::Robot, &[0; 5]),
            Err(WireError::Short { need: 12, .. })
        ));
        let mut msg = encode_message(Channel::Robot, 1, 1, &[]);
        msg[8..12].copy_from_slice(&4u32.to_le_bytes());
        assert!(matches!(
            Header::decode(Channel::Robot, &msg),
            Err(WireError::BadSize { size: 4, .. })
        ));
        msg[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(Header::decode(Channel::Robot, &msg).is_err());
    }
}
