//! End-to-end tests against `franky-sim`, a MuJoCo-backed server speaking the Franka research
//! interface (the arm on :1337, the hand on :1338). One test function runs the cases in order,
//! because the peer is slow and shares the machine: connect and read, configure, track a joint
//! trajectory, stop, the conformance suite, the hand, and losing the peer mid-motion.
//!
//! The peer is found through `ASID_FRANKY_SIM`, else `<workspace>/.venv-peer/bin/franky-sim`
//! (made by `scripts/peer-venv.sh` when missing).
//! Timing is printed, never asserted: the peer paces itself to wall clock and slows down under
//! load.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use asid_arm::{Arm, ArmCommand, ArmError, ArmMode, Gripper};
use asid_franka::{FrankaArm, FrankaGripper, GripperConfig, RobotConfig};

/// franky-sim: `ASID_FRANKY_SIM`, else `<workspace>/.venv-peer/bin/franky-sim`, made by
/// `scripts/peer-venv.sh` (the script .ci/run calls; it takes a file lock) when missing.
fn franky_sim() -> PathBuf {
    if let Some(bin) = std::env::var_os("ASID_FRANKY_SIM") {
        return PathBuf::from(bin);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new("bash")
        .arg(root.join("scripts/peer-venv.sh"))
        .output()
        .expect("run scripts/peer-venv.sh");
    assert!(
        out.status.success(),
        "the test peers' venv could not be made by scripts/peer-venv.sh ({}): {}\n(or point \
         ASID_FRANKY_SIM at a franky-sim executable)",
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    );
    root.join(".venv-peer/bin/franky-sim")
}

/// A running franky-sim, killed (and reaped) on drop.
struct Peer {
    child: Child,
    host: String,
}

impl Peer {
    fn start() -> Self {
        let bin = franky_sim();
        let host = free_loopback();
        let mut child = Command::new(&bin)
            .args(["--simulator", "mujoco", "--hostname", &host])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains("Connect to the server") {
                    let _ = tx.send(());
                }
            }
        });
        let peer = Self { child, host };
        // Loading MuJoCo and pinocchio takes a while, more under load.
        rx.recv_timeout(Duration::from_secs(180))
            .expect("franky-sim did not report readiness within 180 s");
        peer
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback address whose ports 1337 and 1338 are free (other test runs may hold some).
fn free_loopback() -> String {
    let base = std::process::id() % 200;
    for k in 0..200 {
        let host = format!("127.0.{}.{}", 20 + (base + k) % 200, 1 + k % 250);
        if TcpListener::bind((host.as_str(), 1337)).is_ok()
            && TcpListener::bind((host.as_str(), 1338)).is_ok()
        {
            return host;
        }
    }
    panic!("no free loopback address for franky-sim");
}

fn config() -> RobotConfig {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../robots/fr3/robot.toml");
    let spec: asid_core::RobotSpec = asid_core::read_toml(&file).expect("fr3 robot file parses");
    let mut c = RobotConfig::from_spec(&spec, 0.02).expect("valid config");
    // The peer can fall far below real time on a loaded machine.
    c.link_timeout_ms = 2_000;
    c.command_timeout_ms = 20_000;
    c.connect_timeout_ms = 20_000;
    c
}

/// A smooth excursion from rest: `amp (1 - cos(2 pi f t))^2 / 2` on the chosen joints.
fn excursion(base: &[f64], joints: &[usize], amp: f64, freq_hz: f64, t: f64) -> Vec<f64> {
    let mut q = base.to_vec();
    let c = (std::f64::consts::TAU * freq_hz * t).cos();
    for &j in joints {
        q[j] += 0.5 * amp * (1.0 - c).powi(2);
    }
    q
}

#[test]
fn franky_sim_end_to_end() {
    let mut peer = Peer::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    rt.block_on(async {
        connect_configure_track_stop(&peer.host).await;
        conformance(&peer.host).await;
        hand(&peer.host).await;
        link_loss(&mut peer).await;
    });
}

async fn connect_configure_track_stop(host: &str) {
    let t0 = Instant::now();
    let mut arm = FrankaArm::connect(host, config()).expect("connect to franky-sim");
    println!(
        "connected in {:.2} s, server version {}",
        t0.elapsed().as_secs_f64(),
        arm.server_version()
    );
    assert_eq!(arm.server_version(), 10);
    let s0 = arm.state().await.expect("state");
    assert_eq!(s0.q_rad.len(), 7);
    assert!(s0.q_rad.iter().chain(&s0.q_cmd_rad).all(|x| x.is_finite()));
    println!("initial q = {:?}", s0.q_rad);

    arm.set_collision_behavior(&asid_franka::CollisionBehavior::libfranka_examples())
        .expect("SetCollisionBehavior");
    arm.set_joint_impedance(&[3000.0, 3000.0, 3000.0, 2500.0, 2500.0, 2000.0, 2000.0])
        .expect("SetJointImpedance");
    arm.automatic_error_recovery()
        .expect("AutomaticErrorRecovery");
    let urdf = arm.robot_model().expect("GetRobotModel");
    assert!(urdf.contains("<robot"), "robot model is a URDF");

    // An unreachable first target is refused before the motion starts.
    let mut jump = s0.q_cmd_rad.clone();
    jump[3] += 0.3;
    match arm.step(&ArmCommand::JointPosition { q_rad: jump }).await {
        Err(ArmError::Limit { subject, .. }) => assert_eq!(subject, "fr3_joint4"),
        other => panic!("expected a limit error, got {other:?}"),
    }

    // 2 s of a smooth excursion on joints 1, 4 and 7, then 0.5 s holding the last target.
    let base = s0.q_cmd_rad.clone();
    let joints = [0, 3, 6];
    let period = arm.capabilities().control_period_s;
    let (mut worst, mut sum_sq, mut n) = (0.0_f64, 0.0, 0);
    let wall = Instant::now();
    let mut first_stamp = None;
    let mut last = s0.clone();
    for k in 1..=125 {
        let t = (k.min(100) as f64) * period;
        let target = excursion(&base, &joints, 0.1, 0.5, t);
        let s = arm
            .step(&ArmCommand::JointPosition {
                q_rad: target.clone(),
            })
            .await
            .unwrap_or_else(|e| panic!("step {k}: {e}"));
        assert!(s.stamp_ns > last.stamp_ns, "arm clock advances");
        first_stamp.get_or_insert(s.stamp_ns);
        for j in joints {
            let e = (s.q_rad[j] - target[j]).abs();
            worst = worst.max(e);
            sum_sq += e * e;
            n += 1;
        }
        last = s;
    }
    let arm_s = (last.stamp_ns - first_stamp.unwrap_or(last.stamp_ns)) as f64 * 1e-9;
    let final_target = excursion(&base, &joints, 0.1, 0.5, 100.0 * period);
    let final_err = joints
        .iter()
        .map(|&j| (last.q_rad[j] - final_target[j]).abs())
        .fold(0.0, f64::max);
    println!(
        "tracking: max {worst:.4} rad, rms {:.4} rad over {n} samples; {:.2} s arm time in {:.2} s wall; final error after holding {final_err:.4} rad",
        (sum_sq / n as f64).sqrt(),
        arm_s,
        wall.elapsed().as_secs_f64()
    );
    assert!(worst < 0.2, "tracking error {worst} rad");
    let stats = arm.loop_stats();
    println!("loop: {stats:#?}");
    assert!(stats.commands_sent > 100);

    // What `asid bench control` reports: 1 s of a small sinusoid on the last joint.
    let bench = arm.bench(1.0, 0.02).await.expect("bench");
    println!(
        "bench: {} steps, {:.2} s arm / {:.2} s wall, {:.0} commands/s, period p50 {:.0} us p99 {:.0} us, jitter p99 {:.0} us, {} missed, {} late",
        bench.steps,
        bench.arm_s,
        bench.wall_s,
        bench.stats.command_rate_hz,
        bench.stats.period_p50_us,
        bench.stats.period_p99_us,
        bench.stats.jitter_p99_us,
        bench.stats.missed_cycles,
        bench.stats.late_cycles
    );
    assert!(bench.stats.commands_sent > 0);
    let end = arm.stop().await.expect("stop");
    assert_eq!(end.mode, ArmMode::Stopped);
    match arm.step(&ArmCommand::Hold).await {
        Err(ArmError::Stopped(_)) => {}
        other => panic!("step after stop: {other:?}"),
    }
    let states = arm.received_states();
    assert!(states.windows(2).all(|w| w[1].message_id > w[0].message_id));
    assert!(states.iter().filter(|s| s.q_cmd_rad.is_some()).count() > 1000);
    println!("{} states recorded", states.len());
}

async fn conformance(host: &str) {
    let mut arm = FrankaArm::connect(host, config()).expect("reconnect");
    let report = asid_arm::conformance::run(&mut arm, asid_arm::conformance::Motion::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    println!("conformance: {report:?}");
}

async fn hand(host: &str) {
    let mut g =
        FrankaGripper::connect(host, GripperConfig::default()).expect("connect to the hand");
    assert_eq!(g.server_version(), 3);
    // The hand's state stream starts with the connection.
    let t0 = Instant::now();
    let first = loop {
        match g.read().await {
            Ok(s) => break s,
            Err(_) if t0.elapsed() < Duration::from_secs(20) => {
                tokio::task::yield_now().await;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("no hand state: {e}"),
        }
    };
    println!("hand: {first:?}");
    g.homing().await.expect("homing");
    let homed = g.read().await.expect("read");
    println!("after homing: {homed:?}");
    assert!(homed.max_width_m > 0.05);
    g.move_to(0.02, 0.05).await.expect("move");
    let moved = g.read().await.expect("read");
    println!("after move to 0.02 m: {moved:?}");
    assert!((moved.width_m - 0.02).abs() < 0.005);
    let held = g.grasp(0.0, 0.05, 20.0, 0.005, 0.005).await.expect("grasp");
    let grasped = g.read().await.expect("read");
    println!("grasp on nothing at 0 m: held = {held}, {grasped:?}");
    assert!(held && grasped.width_m < 0.01);
    let missed = g
        .grasp(0.04, 0.05, 20.0, 0.002, 0.002)
        .await
        .expect("grasp");
    println!("grasp expecting 0.04 m with nothing in the hand: held = {missed}");
    g.stop().await.expect("stop");
}

async fn link_loss(peer: &mut Peer) {
    let mut arm = FrankaArm::connect(&peer.host, config()).expect("reconnect");
    let base = arm.state().await.expect("state").q_cmd_rad;
    let period = arm.capabilities().control_period_s;
    for k in 1..=25 {
        let target = excursion(&base, &[3], 0.05, 0.5, k as f64 * period);
        arm.step(&ArmCommand::JointPosition { q_rad: target })
            .await
            .expect("step before the kill");
    }
    let before = arm.received_states().len();
    let _ = peer.child.kill();
    let killed = Instant::now();
    let mut err = None;
    for k in 26..=1000 {
        let target = excursion(&base, &[3], 0.05, 0.5, k as f64 * period);
        if let Err(e) = arm.step(&ArmCommand::JointPosition { q_rad: target }).await {
            err = Some(e);
            break;
        }
    }
    let after = killed.elapsed();
    let err = err.expect("steps fail once the peer is gone");
    println!("peer killed: {err} after {:.3} s", after.as_secs_f64());
    assert!(
        matches!(err, ArmError::LinkLost { .. } | ArmError::Protocol(_)),
        "unexpected {err:?}"
    );
    assert!(after < Duration::from_secs(30));
    let states = arm.received_states();
    assert!(
        states.len() >= before,
        "states received before the kill are kept"
    );
    assert!(states.windows(2).all(|w| w[1].message_id > w[0].message_id));
    assert_eq!(arm.fault(), Some(err.clone()));
    assert!(matches!(arm.state().await, Err(e) if e == err));
    println!("{} states kept after the fault", states.len());
}
