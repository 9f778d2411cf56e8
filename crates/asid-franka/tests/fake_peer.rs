//! Failure paths franky-sim cannot produce, against a minimal scripted peer: a version mismatch
//! at connect, garbled datagrams, and a reflex in mid-motion (with the commands the client sent
//! up to then checked against the FR3 limits). The peer answers Connect in libfranka's own
//! 3-byte layout, the other layout franky-sim does not use.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use asid_arm::{Arm, ArmCommand, ArmError};
use asid_franka::protocol::udp::{COMMAND_LEN, STATE_LEN};
use asid_franka::{FrankaArm, FrankaError, RobotConfig};

const HOME: [f32; 7] = [0.0, -0.785, 0.0, -2.356, 0.0, 1.571, 0.785];

/// What the scripted peer does and saw.
#[derive(Default)]
struct Script {
    /// Version in the Connect reply.
    version: u16,
    /// Raise a reflex after this many commands (0: never).
    reflex_after: usize,
    /// Joint commands received.
    commands: Mutex<Vec<[f64; 7]>>,
    moving: AtomicBool,
    robot_mode: AtomicU8,
    done: AtomicBool,
}

fn state_bytes(id: u64, s: &Script) -> Vec<u8> {
    let mut floats = [0f32; 320];
    floats[147..154].copy_from_slice(&HOME); // q
    floats[154..161].copy_from_slice(&HOME); // q_d
    let mut b = id.to_le_bytes().to_vec();
    for f in floats {
        b.extend_from_slice(&f.to_le_bytes());
    }
    let moving = s.moving.load(Ordering::Relaxed);
    b.push(if moving { 1 } else { 0 }); // motion generator: joint position / idle
    b.push(if moving { 0 } else { 3 }); // controller: joint impedance / other
    let reflex = s.robot_mode.load(Ordering::Relaxed) == 4;
    let mut errors = [0u8; 41];
    errors[6] = u8::from(reflex); // joint_reflex
    b.extend_from_slice(&errors);
    b.extend_from_slice(&errors);
    b.push(s.robot_mode.load(Ordering::Relaxed));
    b.extend_from_slice(&1f32.to_le_bytes());
    assert_eq!(b.len(), STATE_LEN);
    b
}

fn reply(tcp: &mut TcpStream, command: u32, id: u32, payload: &[u8]) {
    let mut m = command.to_le_bytes().to_vec();
    m.extend_from_slice(&id.to_le_bytes());
    m.extend_from_slice(&(12 + payload.len() as u32).to_le_bytes());
    m.extend_from_slice(payload);
    let _ = tcp.write_all(&m);
}

/// Serves one client on `host`: TCP commands in this thread, states and commands on UDP in
/// another.
fn serve(host: String, listener: TcpListener, script: Arc<Script>) {
    let (mut tcp, peer) = listener.accept().expect("client connects");
    let mut head = [0u8; 12];
    tcp.read_exact(&mut head).expect("Connect header");
    let mut payload =
        vec![0u8; u32::from_le_bytes([head[8], head[9], head[10], head[11]]) as usize - 12];
    tcp.read_exact(&mut payload).expect("Connect payload");
    let udp_port = u16::from_le_bytes([payload[2], payload[3]]);
    let id = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
    let status = u8::from(script.version != 10);
    let v = script.version.to_le_bytes();
    reply(&mut tcp, 0, id, &[status, v[0], v[1]]);
    let udp = UdpSocket::bind((host.as_str(), 0)).expect("peer UDP");
    udp.set_read_timeout(Some(Duration::from_micros(500)))
        .expect("timeout");
    let move_id = Arc::new(Mutex::new(None));
    let tcp_w = Arc::new(Mutex::new(tcp.try_clone().expect("clone")));
    let (s, mid, w) = (
        Arc::clone(&script),
        Arc::clone(&move_id),
        Arc::clone(&tcp_w),
    );
    let udp_thread = std::thread::spawn(move || {
        let client = (peer.ip(), udp_port);
        let mut buf = [0u8; 1024];
        for id in 1u64.. {
            if s.done.load(Ordering::Relaxed) {
                break;
            }
            if id == 5 {
                let _ = udp.send_to(&[1, 2, 3], client); // garbled
            }
            let _ = udp.send_to(&state_bytes(id, &s), client);
            while let Ok(n) = udp.recv(&mut buf) {
                assert_eq!(n, COMMAND_LEN);
                let mut q = [0.0; 7];
                for (j, x) in q.iter_mut().enumerate() {
                    let o = 8 + 8 * j;
                    *x = f64::from_le_bytes(buf[o..o + 8].try_into().expect("8 bytes"));
                }
                let mut cmds = s.commands.lock().expect("lock");
                cmds.push(q);
                if s.reflex_after > 0 && cmds.len() == s.reflex_after {
                    s.robot_mode.store(4, Ordering::Relaxed);
                    s.moving.store(false, Ordering::Relaxed);
                    if let Some(m) = *mid.lock().expect("lock") {
                        reply(&mut w.lock().expect("lock"), 1, m, &[8]); // ReflexAborted
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    });
    loop {
        let mut head = [0u8; 12];
        if tcp.read_exact(&mut head).is_err() {
            break;
        }
        let cmd = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        let id = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        let len = u32::from_le_bytes([head[8], head[9], head[10], head[11]]) as usize - 12;
        let mut payload = vec![0u8; len];
        if tcp.read_exact(&mut payload).is_err() {
            break;
        }
        if cmd == 1 {
            assert_eq!(len, 113, "Move request of protocol 10");
            *move_id.lock().expect("lock") = Some(id);
            script.moving.store(true, Ordering::Relaxed);
            script.robot_mode.store(2, Ordering::Relaxed);
        }
        let status = if cmd == 1 { 1 } else { 0 }; // MotionStarted / Success
        reply(&mut tcp_w.lock().expect("lock"), cmd, id, &[status]);
    }
    script.done.store(true, Ordering::Relaxed);
    let _ = udp_thread.join();
}

fn start(script: Arc<Script>) -> (String, std::thread::JoinHandle<()>) {
    let base = std::process::id() % 200;
    for k in 0..200 {
        let host = format!("127.1.{}.{}", (base + k) % 200 + 20, 1 + k % 250);
        if let Ok(l) = TcpListener::bind((host.as_str(), 1337)) {
            let h = host.clone();
            return (host, std::thread::spawn(move || serve(h, l, script)));
        }
    }
    panic!("no free loopback address");
}

fn config() -> RobotConfig {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../robots/fr3/robot.toml");
    let spec: asid_core::RobotSpec = asid_core::read_toml(&file).expect("fr3 robot file parses");
    RobotConfig::from_spec(&spec, 0.02).expect("valid config")
}

#[test]
fn version_mismatch_names_both_versions() {
    let script = Arc::new(Script {
        version: 9,
        ..Default::default()
    });
    let (host, server) = start(Arc::clone(&script));
    let err = FrankaArm::connect(&host, config())
        .err()
        .expect("connect must fail");
    let msg = err.to_string();
    println!("{msg}");
    assert!(matches!(
        err,
        FrankaError::IncompatibleVersion {
            server: 9,
            client: 10,
            ..
        }
    ));
    assert!(msg.contains('9') && msg.contains("10"));
    script.done.store(true, Ordering::Relaxed);
    let _ = server.join();
}

#[test]
fn reflex_mid_motion_is_reported_and_states_are_kept() {
    let script = Arc::new(Script {
        version: 10,
        reflex_after: 150,
        ..Default::default()
    });
    let (host, server) = start(Arc::clone(&script));
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut arm = FrankaArm::connect(&host, config()).expect("connect");
        let base: Vec<f64> = HOME.iter().map(|&x| f64::from(x)).collect();
        let mut err = None;
        for k in 1..=100 {
            let mut q = base.clone();
            q[3] += 0.05 * (1.0 - (std::f64::consts::PI * f64::from(k) * 0.02).cos());
            if let Err(e) = arm.step(&ArmCommand::JointPosition { q_rad: q }).await {
                err = Some(e);
                break;
            }
        }
        let err = err.expect("the reflex ends the motion");
        println!("{err}");
        assert!(matches!(&err, ArmError::Reflex(m) if m.contains("joint_reflex") || m.contains("ReflexAborted")));
        assert!(arm.received_states().len() >= 150);
        assert!(arm.loop_stats().bad_datagrams >= 1, "garbled datagram counted");
        assert!(matches!(arm.step(&ArmCommand::Hold).await, Err(ArmError::Reflex(_))));
    });
    // The commands the arm received stay within the FR3 limits (with libfranka's margins).
    let limits = config().limits;
    let cmds = script.commands.lock().expect("lock").clone();
    let mut x: Vec<[f64; 7]> = vec![cmds[0]; 3];
    x.extend(cmds);
    for j in 0..7 {
        let v: Vec<f64> = x.windows(2).map(|w| (w[1][j] - w[0][j]) * 1e3).collect();
        let a: Vec<f64> = v.windows(2).map(|w| (w[1] - w[0]) * 1e3).collect();
        let jk: Vec<f64> = a.windows(2).map(|w| (w[1] - w[0]) * 1e3).collect();
        let max = |d: &[f64]| d.iter().fold(0.0_f64, |m, x| m.max(x.abs()));
        assert!(max(&v) <= limits.velocity_rad_s[j]);
        assert!(max(&a) <= limits.acceleration_rad_s2[j] * 1.0001);
        assert!(max(&jk) <= limits.jerk_rad_s3[j] * 1.0001 + 1e-3);
    }
    script.done.store(true, Ordering::Relaxed);
    let _ = server.join();
}
