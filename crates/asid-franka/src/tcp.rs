//! A TCP command channel (arm or hand): requests go out with fresh command ids; a reader thread
//! routes each reply to whoever waits for that id. Waiting works from plain threads (a std
//! channel with a timeout) and from async code (a `tokio::sync` channel, no runtime needed).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::mpsc as tmpsc;

use crate::error::FrankaError;
use crate::protocol::{Channel, Header, encode_message};

/// One reply: its command code and payload (status first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    pub(crate) command: u32,
    pub(crate) payload: Vec<u8>,
}

/// Why a reply will not come.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NoReply {
    /// The connection closed (reason).
    Closed(String),
    /// The deadline passed.
    Timeout,
}

type Delivery = Result<Reply, NoReply>;

enum Waiter {
    Sync(mpsc::Sender<Delivery>),
    Async(tmpsc::UnboundedSender<Delivery>, Option<Instant>),
}

impl Waiter {
    /// Delivers; false if nobody listens any more.
    fn deliver(&self, d: Delivery) -> bool {
        match self {
            Self::Sync(tx) => tx.send(d).is_ok(),
            Self::Async(tx, _) => tx.send(d).is_ok(),
        }
    }
}

#[derive(Default)]
struct Routing {
    waiters: HashMap<u32, Waiter>,
    closed: Option<String>,
}

/// A connected command channel. Dropping it closes the socket and joins the reader thread.
pub(crate) struct CommandChannel {
    channel: Channel,
    writer: Mutex<TcpStream>,
    next_id: AtomicU32,
    routing: Arc<Mutex<Routing>>,
    reader: Option<JoinHandle<()>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic elsewhere while holding the lock leaves plain data; keep going.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl CommandChannel {
    /// Connects to `host:port` within `timeout`.
    pub(crate) fn connect(
        channel: Channel,
        host: &str,
        port: u16,
        timeout: Duration,
    ) -> Result<(Self, SocketAddr), FrankaError> {
        let target = format!("{host}:{port}");
        let io = |source| FrankaError::Io {
            what: "TCP connect",
            addr: target.clone(),
            os_error: source,
        };
        let addr = target
            .to_socket_addrs()
            .map_err(io)?
            .next()
            .ok_or_else(|| FrankaError::Resolve(target.clone()))?;
        let stream = TcpStream::connect_timeout(&addr, timeout).map_err(io)?;
        stream.set_nodelay(true).map_err(io)?;
        let read_half = stream.try_clone().map_err(io)?;
        let routing = Arc::new(Mutex::new(Routing::default()));
        let r = Arc::clone(&routing);
        let reader = std::thread::Builder::new()
            .name(format!("franka-tcp-{port}"))
            .spawn(move || read_loop(channel, read_half, &r))
            .map_err(io)?;
        Ok((
            Self {
                channel,
                writer: Mutex::new(stream),
                next_id: AtomicU32::new(1),
                routing,
                reader: Some(reader),
            },
            addr,
        ))
    }

    /// Why the connection closed, if it did.
    pub(crate) fn closed(&self) -> Option<String> {
        lock(&self.routing).closed.clone()
    }

    fn send(&self, command: u32, payload: &[u8], waiter: Waiter) -> Result<u32, FrankaError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        {
            let mut r = lock(&self.routing);
            if let Some(reason) = &r.closed {
                return Err(FrankaError::Closed(reason.clone()));
            }
            // Registered before writing, so a fast reply cannot arrive unrouted.
            r.waiters.insert(id, waiter);
        }
        let msg = encode_message(self.channel, command, id, payload);
        let written = lock(&self.writer).write_all(&msg);
        if let Err(e) = written {
            lock(&self.routing).waiters.remove(&id);
            return Err(FrankaError::Closed(format!("write failed: {e}")));
        }
        Ok(id)
    }

    /// Sends a request and blocks for its first reply.
    pub(crate) fn request(
        &self,
        command: u32,
        payload: &[u8],
        timeout: Duration,
    ) -> Result<Reply, FrankaError> {
        let (tx, rx) = mpsc::channel();
        let id = self.send(command, payload, Waiter::Sync(tx))?;
        let got = rx.recv_timeout(timeout);
        lock(&self.routing).waiters.remove(&id);
        match got {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(NoReply::Closed(reason))) => Err(FrankaError::Closed(reason)),
            Ok(Err(NoReply::Timeout)) | Err(_) => Err(FrankaError::Timeout {
                what: "reply",
                limit_ms: timeout.as_millis() as u64,
            }),
        }
    }

    /// Sends a request whose replies (possibly several, as for Move) arrive on the returned
    /// receiver; with a deadline, [`Self::expire`] fails it once the deadline passes.
    pub(crate) fn request_async(
        &self,
        command: u32,
        payload: &[u8],
        deadline: Option<Instant>,
    ) -> Result<(u32, tmpsc::UnboundedReceiver<Delivery>), FrankaError> {
        let (tx, rx) = tmpsc::unbounded_channel();
        let id = self.send(command, payload, Waiter::Async(tx, deadline))?;
        Ok((id, rx))
    }

    /// Fails waiters whose deadline passed and forgets waiters nobody listens to.
    pub(crate) fn expire(&self, now: Instant) {
        let mut r = lock(&self.routing);
        r.waiters.retain(|_, w| match w {
            Waiter::Async(tx, Some(deadline)) if *deadline <= now => {
                let _ = tx.send(Err(NoReply::Timeout));
                false
            }
            Waiter::Async(tx, _) => !tx.is_closed(),
            Waiter::Sync(_) => true,
        });
    }
}

impl Drop for CommandChannel {
    fn drop(&mut self) {
        let _ = lock(&self.writer).shutdown(Shutdown::Both);
        if let Some(h) = self.reader.take() {
            let _ = h.join();
        }
    }
}

fn read_loop(channel: Channel, mut stream: TcpStream, routing: &Mutex<Routing>) {
    let reason = loop {
        let mut head = vec![0u8; channel.header_len()];
        if let Err(e) = stream.read_exact(&mut head) {
            break format!("connection closed ({e})");
        }
        let header = match Header::decode(channel, &head) {
            Ok(h) => h,
            // Framing is lost after a bad header: nothing later can be trusted.
            Err(e) => break format!("garbled reply: {e}"),
        };
        let mut payload = vec![0u8; header.payload_len];
        if let Err(e) = stream.read_exact(&mut payload) {
            break format!("connection closed mid-reply ({e})");
        }
        let reply = Reply {
            command: header.command,
            payload,
        };
        let mut r = lock(routing);
        let delivered = r
            .waiters
            .get(&header.command_id)
            .is_some_and(|w| w.deliver(Ok(reply)));
        if !delivered {
            // Nobody waits (e.g. a late reply after a timeout): nothing to do with it.
            r.waiters.remove(&header.command_id);
        }
    };
    let mut r = lock(routing);
    r.closed = Some(reason.clone());
    for (_, w) in r.waiters.drain() {
        w.deliver(Err(NoReply::Closed(reason.clone())));
    }
}
