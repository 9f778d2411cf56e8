//! The Franka Hand: TCP commands on port 1338 (header with a `u16` command, replies with a `u16`
//! status) and a UDP state stream. Layouts follow `research_interface/gripper/types.h`.

use super::{Reader, WireError, put_f64s};

/// Protocol version this client speaks.
pub const VERSION: u16 = 3;
/// TCP port of the hand.
pub const PORT: u16 = 1338;

/// Command codes of the hand (`Command : uint16_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Command {
    /// Handshake.
    Connect = 0,
    /// Calibrates the fingers.
    Homing = 1,
    /// Closes on an object with a force.
    Grasp = 2,
    /// Moves the fingers to a width.
    Move = 3,
    /// Stops the fingers.
    Stop = 4,
}

impl Command {
    /// Name as in libfranka.
    pub fn name(self) -> &'static str {
        match self {
            Self::Connect => "Connect",
            Self::Homing => "Homing",
            Self::Grasp => "Grasp",
            Self::Move => "Move",
            Self::Stop => "Stop",
        }
    }
}

/// Reply status of a hand command (`uint16_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Done as asked.
    Success,
    /// The command failed (franky-sim also reports a grasp that missed its tolerances so).
    Fail,
    /// Done, but the goal was not reached (a grasp that closed on nothing).
    Unsuccessful,
    /// Interrupted, e.g. by Stop.
    Aborted,
}

impl Status {
    /// Decodes the status at the start of a reply payload.
    pub fn decode(payload: &[u8]) -> Result<Self, WireError> {
        let v = Reader::new("gripper reply", payload).u16()?;
        Ok(match v {
            0 => Self::Success,
            1 => Self::Fail,
            2 => Self::Unsuccessful,
            3 => Self::Aborted,
            _ => {
                return Err(WireError::Unknown {
                    what: "gripper reply",
                    field: "status",
                    value: u64::from(v),
                });
            }
        })
    }
}

/// Connect request: version and UDP port.
pub fn connect_request(udp_port: u16) -> Vec<u8> {
    let mut out = VERSION.to_le_bytes().to_vec();
    out.extend_from_slice(&udp_port.to_le_bytes());
    out
}

/// Connect reply: status `u16` (0 success, 1 incompatible version) and the hand's version;
/// franky-sim appends 4 pad bytes, which are ignored.
pub fn decode_connect_reply(payload: &[u8]) -> Result<(u16, u16), WireError> {
    let mut r = Reader::new("gripper Connect reply", payload);
    Ok((r.u16()?, r.u16()?))
}

/// Move request: width (m) and speed (m/s).
pub fn move_request(width_m: f64, speed_m_s: f64) -> Vec<u8> {
    let mut out = Vec::with_capacity(16);
    put_f64s(&mut out, &[width_m, speed_m_s]);
    out
}

/// Grasp request: width, epsilon inner, epsilon outer (m), speed (m/s), force (N).
pub fn grasp_request(
    width_m: f64,
    epsilon_inner_m: f64,
    epsilon_outer_m: f64,
    speed_m_s: f64,
    force_n: f64,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(40);
    put_f64s(
        &mut out,
        &[
            width_m,
            epsilon_inner_m,
            epsilon_outer_m,
            speed_m_s,
            force_n,
        ],
    );
    out
}

/// One hand state datagram.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HandState {
    /// Counter of the hand's state stream.
    pub message_id: u32,
    /// Current opening.
    pub width_m: f64,
    /// Opening measured by the last homing.
    pub max_width_m: f64,
    /// An object is held.
    pub is_grasped: bool,
    /// Temperature in °C, if the datagram carries it.
    pub temperature_c: Option<u16>,
}

/// Full length of a hand state datagram (id, width, max width, grasped, temperature).
pub const STATE_LEN: usize = 4 + 8 + 8 + 1 + 2;

impl HandState {
    /// Decodes a hand state; the trailing temperature is optional because peers differ in
    /// whether they send it.
    pub fn decode(buf: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new("gripper state", buf);
        r.need(STATE_LEN - 2)?;
        let message_id = r.u32()?;
        let width_m = r.f64()?;
        let max_width_m = r.f64()?;
        let is_grasped = r.u8()? != 0;
        let temperature_c = if r.remaining() >= 2 {
            Some(r.u16()?)
        } else {
            None
        };
        Ok(Self {
            message_id,
            width_m,
            max_width_m,
            is_grasped,
            temperature_c,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_layouts() {
        assert_eq!(connect_request(0x0102), vec![3, 0, 2, 1]);
        let g = grasp_request(0.01, 0.002, 0.003, 0.05, 40.0);
        assert_eq!(g.len(), 40);
        assert_eq!(&g[8..16], &0.002f64.to_le_bytes());
        assert_eq!(&g[32..40], &40.0f64.to_le_bytes());
        assert_eq!(move_request(0.08, 0.1).len(), 16);
    }

    #[test]
    fn replies_and_state() {
        assert_eq!(decode_connect_reply(&[0, 0, 3, 0, 0, 0, 0, 0]), Ok((0, 3)));
        assert_eq!(Status::decode(&[2, 0]), Ok(Status::Unsuccessful));
        assert!(Status::decode(&[9, 0]).is_err());
        assert!(Status::decode(&[0]).is_err());
        let mut b = 5u32.to_le_bytes().to_vec();
        b.extend_from_slice(&0.04f64.to_le_bytes());
        b.extend_from_slice(&0.08f64.to_le_bytes());
        b.push(1);
        let short = HandState::decode(&b).expect("temperature is optional");
        assert_eq!(short.temperature_c, None);
        b.extend_from_slice(&20u16.to_le_bytes());
        let s = HandState::decode(&b).expect("full state");
        assert_eq!((s.message_id, s.width_m, s.is_grasped), (5, 0.04, true));
        assert_eq!(s.temperature_c, Some(20));
        assert!(HandState::decode(&b[..10]).is_err());
    }
}
