//! The pose stream v1 UDP receiver.
//!
//! A receive thread blocks on the socket and stamps each datagram with the local monotonic clock
//! the moment it arrives; `poll` drains what the thread queued and maps those instants to the arm
//! clock. A thread rather than a non-blocking drain at each poll because the arrival instant is
//! the clock-offset measurement: draining at polls would add up to one poll interval of queueing
//! to every observation (and couple the estimate to how often the caller polls), and the kernel
//! buffer could overflow between slow polls. The thread is blocking std I/O with a short read
//! timeout so that dropping the receiver stops and joins it promptly.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError, TrySendError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use asid_arm::{PoseError, PoseSample, PoseSource, PoseStats};

use crate::arrival::ArrivalClock;
use crate::config::{ConfigError, PoseStreamConfig};
use crate::rules::DatagramError;
use crate::tracker::PoseTracker;

/// Datagrams queued between polls; at 1 kHz this is 4 s without a poll.
const QUEUE_CAPACITY: usize = 4_096;

/// How often the receive thread checks whether it should stop.
const STOP_CHECK: Duration = Duration::from_millis(20);

/// The receiver could not start.
#[derive(Debug, thiserror::Error)]
pub enum PoseStreamError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The address cannot be bound (in use, not local, no permission).
    // The OS error is part of the message, not a `source`: anyhow would print it twice.
    #[error("cannot bind pose stream receiver to {addr}: {os_error}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        os_error: io::Error,
    },
    /// The socket or the receive thread cannot be set up.
    #[error("pose stream receiver setup: {0}")]
    Setup(#[from] io::Error),
}

/// What the receive thread hands to `poll`.
#[derive(Debug)]
enum Event {
    Datagram {
        at: Instant,
        from: SocketAddr,
        bytes: Vec<u8>,
    },
    /// Larger than the limit; only the first `limit + 1` bytes were read, so not copied.
    Oversized { from: SocketAddr, bytes: usize },
}

/// Receives pose stream v1 datagrams on a UDP socket; a [`PoseSource`].
#[derive(Debug)]
pub struct UdpPoseReceiver {
    local_addr: SocketAddr,
    max_datagram_bytes: usize,
    events: Receiver<Event>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<String>>,
    overflows: Arc<AtomicU64>,
    reported_overflows: u64,
    failure: Option<String>,
    clock: ArrivalClock,
    tracker: PoseTracker,
}

impl UdpPoseReceiver {
    /// Validates `config`, binds `config.bind` and starts receiving.
    pub fn bind(config: &PoseStreamConfig) -> Result<Self, PoseStreamError> {
        config.validate()?;
        let socket = UdpSocket::bind(config.bind).map_err(|os_error| PoseStreamError::Bind {
            addr: config.bind,
            os_error,
        })?;
        let local_addr = socket.local_addr()?;
        socket.set_read_timeout(Some(STOP_CHECK))?;
        let (tx, events) = mpsc::sync_channel(QUEUE_CAPACITY);
        let stop = Arc::new(AtomicBool::new(false));
        let overflows = Arc::new(AtomicU64::new(0));
        let thread = {
            let (stop, overflows) = (Arc::clone(&stop), Arc::clone(&overflows));
            let max = config.max_datagram_bytes;
            std::thread::Builder::new()
                .name("asid-pose-rx".into())
                .spawn(move || receive_loop(&socket, max, &tx, &stop, &overflows))?
        };
        Ok(Self {
            local_addr,
            max_datagram_bytes: config.max_datagram_bytes,
            events,
            stop,
            thread: Some(thread),
            overflows,
            reported_overflows: 0,
            failure: None,
            clock: ArrivalClock::default(),
            tracker: PoseTracker::new(config),
        })
    }

    /// The bound address (the actual port when `bind` asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The most recent warnings (malformed datagrams, queue overflows), oldest first; at most
    /// [`KEPT_WARNINGS`](crate::KEPT_WARNINGS).
    pub fn last_warnings(&self) -> Vec<String> {
        self.tracker.last_warnings()
    }

    /// Datagrams dropped because `poll` was not called for too long.
    pub fn queue_overflows(&self) -> u64 {
        self.overflows.load(Ordering::Relaxed)
    }

    /// Stops the receive thread and returns why it ended.
    fn join_thread(&mut self) -> String {
        self.stop.store(true, Ordering::Relaxed);
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(reason)) => reason,
            Some(Err(_)) => "pose stream receive thread panicked".into(),
            None => "pose stream receiver stopped".into(),
        }
    }
}

impl PoseSource for UdpPoseReceiver {
    fn poll(&mut self, now_ns: u64) -> Result<Vec<PoseSample>, PoseError> {
        let now = (Instant::now(), now_ns);
        let mut out = Vec::new();
        // Bounded so that a flood cannot hold the control loop here.
        for _ in 0..QUEUE_CAPACITY {
            match self.events.try_recv() {
                Ok(Event::Datagram { at, from, bytes }) => {
                    let arrival_ns = self.clock.arm_ns(at, now);
                    self.tracker
                        .on_bytes(arrival_ns, &bytes, Some(from), &mut out);
                }
                Ok(Event::Oversized { from, bytes }) => {
                    let error = DatagramError::TooLarge {
                        bytes,
                        limit: self.max_datagram_bytes,
                    };
                    self.tracker.on_rejected(Some(from), &error);
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    if self.failure.is_none() {
                        self.failure = Some(self.join_thread());
                    }
                    break;
                }
            }
        }
        self.clock.set(now);
        let overflows = self.overflows.load(Ordering::Relaxed);
        if overflows > self.reported_overflows {
            let lost = overflows - self.reported_overflows;
            self.reported_overflows = overflows;
            self.tracker.warn(format!(
                "{lost} datagrams dropped: receive queue of {QUEUE_CAPACITY} full (poll more often)"
            ));
        }
        if let Some(reason) = &self.failure {
            return Err(PoseError::Source(reason.clone()));
        }
        self.tracker.check_stale(now_ns)?;
        Ok(out)
    }

    fn stats(&self) -> PoseStats {
        self.tracker.stats()
    }
}

impl Drop for UdpPoseReceiver {
    fn drop(&mut self) {
        // Joined (not detached) so that the port is free again when `drop` returns.
        self.join_thread();
    }
}

/// Receives until told to stop or the socket fails; returns why it ended.
fn receive_loop(
    socket: &UdpSocket,
    max_datagram_bytes: usize,
    events: &SyncSender<Event>,
    stop: &AtomicBool,
    overflows: &AtomicU64,
) -> String {
    // One byte more than the limit: a datagram that fills it is too large (the rest is discarded
    // by the kernel).
    let mut buf = vec![0_u8; max_datagram_bytes + 1];
    while !stop.load(Ordering::Relaxed) {
        let event = match socket.recv_from(&mut buf) {
            Ok((n, from)) if n > max_datagram_bytes => Event::Oversized { from, bytes: n },
            Ok((n, from)) => Event::Datagram {
                at: Instant::now(),
                from,
                bytes: buf[..n].to_vec(),
            },
            // Timeouts let us check `stop`; resets are ICMP noise some platforms report on UDP.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                        | io::ErrorKind::ConnectionReset
                        | io::ErrorKind::ConnectionRefused
                ) =>
            {
                continue;
            }
            Err(e) => return format!("pose stream socket failed: {e}"),
        };
        match events.try_send(event) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                overflows.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Disconnected(_)) => break,
        }
    }
    "pose stream receiver stopped".into()
}
