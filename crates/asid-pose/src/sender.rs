//! A reference pose stream v1 sender: for tests, the simulated lab, and labs that want one.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};

use crate::rules::{DatagramError, WireLimits};
use crate::wire::{Datagram, encode_datagram};

/// A datagram was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The datagram breaks a v1 rule (the receiver would reject it).
    #[error("refusing to send: {0}")]
    Invalid(#[from] DatagramError),
    /// The socket refused.
    #[error("sending pose datagram: {0}")]
    Io(#[from] io::Error),
}

/// Sends pose stream v1 datagrams to one address.
#[derive(Debug)]
pub struct UdpPoseSender {
    socket: UdpSocket,
    target: SocketAddr,
    limits: WireLimits,
}

impl UdpPoseSender {
    /// A sender to `target` from an ephemeral local port, checking datagrams against the default
    /// receiver limits.
    pub fn new(target: SocketAddr) -> io::Result<Self> {
        let local: SocketAddr = match target {
            SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
            SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
        };
        Ok(Self {
            // Not `connect`ed: a connected UDP socket reports the ICMP "port unreachable" of a
            // receiver that is not up yet as an error on a later send.
            socket: UdpSocket::bind(local)?,
            target,
            limits: WireLimits::default(),
        })
    }

    /// Checks datagrams against `limits` instead (match the receiver's configuration).
    pub fn with_limits(mut self, limits: WireLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Where datagrams go.
    pub fn target(&self) -> SocketAddr {
        self.target
    }

    /// Validates, encodes and sends one datagram; returns its size in bytes.
    pub fn send(&self, datagram: &Datagram) -> Result<usize, SendError> {
        datagram.validate(&self.limits)?;
        let bytes = encode_datagram(datagram);
        if bytes.len() > self.limits.max_datagram_bytes {
            return Err(DatagramError::TooLarge {
                bytes: bytes.len(),
                limit: self.limits.max_datagram_bytes,
            }
            .into());
        }
        Ok(self.socket.send_to(&bytes, self.target)?)
    }

    /// Sends arbitrary bytes, unchecked (to test how receivers treat malformed input).
    pub fn send_raw(&self, bytes: &[u8]) -> io::Result<usize> {
        self.socket.send_to(bytes, self.target)
    }
}
