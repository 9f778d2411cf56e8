//! Pose stream v1 on the wire: one UTF-8 JSON object per datagram, parsed strictly.
//!
//! `{"t": 12.5, "frame": "base", "poses": {"cube": {"p": [x, y, z], "q": [w, x, y, z]}}}`

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::rules::{DatagramError, WireLimits};

/// The only frame v1 accepts: the robot base frame.
pub const FRAME: &str = "base";

/// One object's pose as sent.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectPose {
    /// Object name as the scene names it.
    pub object: String,
    /// Position in the robot base frame.
    pub p_m: [f64; 3],
    /// Orientation `[w, x, y, z]` in the robot base frame.
    pub q_wxyz: [f64; 4],
}

impl ObjectPose {
    /// A pose of `object`.
    pub fn new(object: impl Into<String>, p_m: [f64; 3], q_wxyz: [f64; 4]) -> Self {
        Self {
            object: object.into(),
            p_m,
            q_wxyz,
        }
    }
}

/// One datagram: the poses of several objects at one sender instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Datagram {
    /// When the poses were true, on the sender's clock.
    pub t_s: f64,
    /// The poses, in the order sent; each object at most once.
    pub poses: Vec<ObjectPose>,
}

/// Parses and checks one datagram; quaternions come back normalised.
pub fn parse_datagram(bytes: &[u8], limits: &WireLimits) -> Result<Datagram, DatagramError> {
    if bytes.len() > limits.max_datagram_bytes {
        return Err(DatagramError::TooLarge {
            bytes: bytes.len(),
            limit: limits.max_datagram_bytes,
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| DatagramError::NotUtf8 {
        valid_up_to: e.valid_up_to(),
    })?;
    let raw: RawDatagram =
        serde_json::from_str(text).map_err(|e| DatagramError::Json(e.to_string()))?;
    if raw.frame != FRAME {
        return Err(DatagramError::WrongFrame { frame: raw.frame });
    }
    let mut datagram = Datagram {
        t_s: raw.t,
        poses: raw
            .poses
            .0
            .into_iter()
            .map(|(object, pose)| ObjectPose::new(object, pose.p, pose.q))
            .collect(),
    };
    datagram.normalise(limits)?;
    Ok(datagram)
}

/// Encodes a datagram as v1 JSON (no validation; see [`Datagram::validate`]).
pub fn encode_datagram(datagram: &Datagram) -> Vec<u8> {
    let out = RawOut {
        t: datagram.t_s,
        frame: FRAME,
        poses: PosesOut(&datagram.poses),
    };
    // Serialising plain numbers and strings into a Vec cannot fail; NaN would become `null`, which
    // the receiver rejects, and senders validate first.
    serde_json::to_vec(&out).unwrap_or_default()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatagram {
    t: f64,
    frame: String,
    poses: RawPoses,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPose {
    p: [f64; 3],
    q: [f64; 4],
}

/// The `poses` object in sent order, duplicates kept so that validation can name them (a map
/// would silently keep the last).
struct RawPoses(Vec<(String, RawPose)>);

impl<'de> Deserialize<'de> for RawPoses {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(PosesVisitor)
    }
}

struct PosesVisitor;

impl<'de> Visitor<'de> for PosesVisitor {
    type Value = RawPoses;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object mapping object names to {\"p\": [x, y, z], \"q\": [w, x, y, z]}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawPoses, A::Error> {
        let mut poses = Vec::new();
        while let Some(entry) = map.next_entry::<String, RawPose>()? {
            poses.push(entry);
        }
        Ok(RawPoses(poses))
    }
}

#[derive(Serialize)]
struct RawOut<'a> {
    t: f64,
    frame: &'static str,
    poses: PosesOut<'a>,
}

#[derive(Serialize)]
struct PoseOut<'a> {
    p: &'a [f64; 3],
    q: &'a [f64; 4],
}

struct PosesOut<'a>(&'a [ObjectPose]);

impl Serialize for PosesOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for pose in self.0 {
            let out = PoseOut {
                p: &pose.p_m,
                q: &pose.q_wxyz,
            };
            map.serialize_entry(&pose.object, &out)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Datagram, DatagramError> {
        parse_datagram(text.as_bytes(), &WireLimits::default())
    }

    #[test]
    fn round_trips_exactly_in_order() {
        let datagram = Datagram {
            t_s: 1_712_000_000.123_456_7,
            poses: vec![
                ObjectPose::new("rod", [0.1, -0.2, 0.3], [1.0, 0.0, 0.0, 0.0]),
                ObjectPose::new("cube", [0.5, 0.0, 0.02], [0.0, 0.6, 0.8, 0.0]),
            ],
        };
        let bytes = encode_datagram(&datagram);
        assert_eq!(parse_datagram(&bytes, &WireLimits::default()), Ok(datagram));
    }

    #[test]
    fn normalises_quaternions_within_tolerance() {
        let d = parse(r#"{"t":0,"frame":"base","poses":{"a":{"p":[0,0,0],"q":[1.005,0,0,0]}}}"#);
        assert_eq!(d.map(|d| d.poses[0].q_wxyz), Ok([1.0, 0.0, 0.0, 0.0]));
    }

    #[test]
    fn rejects_each_rule() {
        let cases = [
            (r#"{"t":0,"frame":"base"}"#, "missing field"),
            (
                r#"{"t":0,"frame":"base","poses":{},"x":1}"#,
                "unknown field",
            ),
            (r#"{"t":0,"frame":"world","poses":{}}"#, "not \"base\""),
            (
                r#"{"t":1e999,"frame":"base","poses":{}}"#,
                "number out of range",
            ),
            (
                r#"{"t":0,"frame":"base","poses":{"a":{"p":[0,0],"q":[1,0,0,0]}}}"#,
                "invalid length",
            ),
            (
                r#"{"t":0,"frame":"base","poses":{"a":{"p":[0,0,0],"q":[1,0,0,0,0]}}}"#,
                "trailing",
            ),
            (
                r#"{"t":0,"frame":"base","poses":{"a":{"p":[0,0,0],"q":[1,0,0,0]},"a":{"p":[0,0,0],"q":[1,0,0,0]}}}"#,
                "appears twice",
            ),
            (
                r#"{"t":0,"frame":"base","poses":{"":{"p":[0,0,0],"q":[1,0,0,0]}}}"#,
                "empty name",
            ),
            (
                r#"{"t":0,"frame":"base","poses":{"a":{"p":[0,0,500],"q":[1,0,0,0]}}}"#,
                "beyond",
            ),
            (
                r#"{"t":0,"frame":"base","poses":{"a":{"p":[0,0,0],"q":[0.9,0,0,0]}}}"#,
                "norm 0.9",
            ),
        ];
        for (text, expected) in cases {
            let message = parse(text).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(message.contains(expected), "{text}: {message}");
        }
    }
}
