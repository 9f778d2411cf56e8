//! franky-sim as a test peer (a MuJoCo FR3 speaking the Franka research interface on loopback),
//! free loopback addresses and ports, and a pose stream v1 sender thread.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long a peer may take to come up (it is slow and CPU-bound on a loaded machine).
pub const PEER_START_LIMIT: Duration = Duration::from_secs(180);

/// A running franky-sim, killed (and reaped) on drop.
pub struct Peer {
    /// The process.
    pub child: Child,
    /// Its loopback address.
    pub host: String,
}

impl Peer {
    /// Starts franky-sim (MuJoCo) on `host` and waits for its readiness line.
    pub fn start(bin: &Path, host: String) -> Self {
        let mut command = Command::new(bin);
        command.args(["--simulator", "mujoco", "--hostname", &host]);
        Self::spawn(command, host, "franky-sim")
    }

    /// Starts `command` (a franky-sim or a lab built on it, serving on `host`) and waits for its
    /// readiness line; `what` names it in messages.
    pub fn spawn(mut command: Command, host: String, what: &str) -> Self {
        let t0 = Instant::now();
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = mpsc::channel();
        // Keeps draining the peer's output after readiness so that it never blocks on a pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains("Connect to the server") {
                    let _ = tx.send(());
                }
            }
        });
        let mut peer = Self { child, host };
        if rx.recv_timeout(PEER_START_LIMIT).is_err() {
            let status = peer.child.try_wait();
            panic!(
                "{what} on {} did not report readiness within {} s (status {status:?})",
                peer.host,
                PEER_START_LIMIT.as_secs()
            );
        }
        println!(
            "{what} up on {} in {:.1} s",
            peer.host,
            t0.elapsed().as_secs_f64()
        );
        peer
    }

    /// SIGKILL, then reap.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Loopback addresses 127.0.0.21, .22, ... whose ports 1337 and 1338 are free.
pub struct Hosts(pub u8);

impl Hosts {
    /// The next free one.
    pub fn next(&mut self) -> String {
        while self.0 < 255 {
            let host = format!("127.0.0.{}", self.0);
            self.0 += 1;
            if TcpListener::bind((host.as_str(), 1337)).is_ok()
                && TcpListener::bind((host.as_str(), 1338)).is_ok()
            {
                return host;
            }
        }
        panic!("no free loopback address for franky-sim in 127.0.0.21-254");
    }
}

/// A free UDP port on 127.0.0.1 (bound, read and released).
pub fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("bind a UDP socket on loopback")
        .port()
}

/// A pose stream v1 sender thread: one object (the puck by default) at rest at ~50 Hz, `t` = wall-clock seconds + 1000
/// (an offset the receiver must estimate). Stops on `stop` or drop.
pub struct PoseSender {
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl PoseSender {
    /// The puck at rest at (0.5, 0, 0.01), to 127.0.0.1:`port`.
    pub fn start(port: u16) -> Self {
        Self::object(port, "puck", [0.5, 0.0, 0.01])
    }

    /// `object` at rest at `p_m`, to 127.0.0.1:`port`.
    pub fn object(port: u16, object: &str, p_m: [f64; 3]) -> Self {
        let object = object.to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind the sender socket");
        let (stop2, sent2) = (stop.clone(), sent.clone());
        let thread = std::thread::spawn(move || {
            // Wall time at the start plus a monotonic clock: never jumps back.
            let wall0 = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .expect("clock after 1970")
                .as_secs_f64();
            let t0 = Instant::now();
            while !stop2.load(Ordering::Relaxed) {
                let t = wall0 + t0.elapsed().as_secs_f64() + 1000.0;
                let [x, y, z] = p_m;
                let msg = format!(
                    r#"{{"t": {t:.6}, "frame": "base", "poses": {{"{object}": {{"p": [{x}, {y}, {z}], "q": [1.0, 0.0, 0.0, 0.0]}}}}}}"#
                );
                // Before the receiver binds, loopback may answer "connection refused": ignored.
                if socket.send_to(msg.as_bytes(), ("127.0.0.1", port)).is_ok() {
                    sent2.fetch_add(1, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        Self {
            stop,
            sent,
            thread: Some(thread),
        }
    }

    /// Stops the thread; returns the datagrams sent.
    pub fn stop(&mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().expect("the pose sender thread does not panic");
        }
        self.sent.load(Ordering::Relaxed)
    }
}

impl Drop for PoseSender {
    fn drop(&mut self) {
        self.stop();
    }
}
