//! Forward kinematics against the published flange poses, IK round trips, gravity torques against
//! finite differences of the potential energy.

use std::path::PathBuf;

use asid_robot::{Arm, IkOptions, arm_from_robot_file};
use nalgebra::{Isometry3, Point3, Translation3, UnitQuaternion, Vector3};

fn robot_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../robots")
        .join(name)
        .join("robot.toml")
}

fn load(name: &str) -> (Arm, asid_core::RobotSpec) {
    let file = robot_file(name);
    let arm = arm_from_robot_file(&file).expect("robot loads");
    let spec: asid_core::RobotSpec = asid_core::read_toml(&file).expect("robot file parses");
    (arm, spec)
}

#[test]
fn flange_matches_published_poses_within_1mm() {
    for robot in ["panda", "fr3"] {
        let (arm, spec) = load(robot);
        assert!(
            spec.published_flange_poses.contains_key("zero"),
            "{robot}: zero pose listed"
        );
        assert!(
            spec.published_flange_poses.contains_key("ready"),
            "{robot}: ready pose listed"
        );
        for (name, pose) in &spec.published_flange_poses {
            let p = arm.world_from_flange(&pose.q_rad).translation.vector;
            let err = (p - Vector3::from(pose.xyz_m)).norm();
            assert!(
                err < 1e-3,
                "{robot} {name}: flange at {p:?}, published {:?}, error {err} m",
                pose.xyz_m
            );
        }
        // At zero the flange points straight down.
        let zero = arm.world_from_flange(&[0.0; 7]);
        let z_axis = zero.rotation * Vector3::z();
        assert!(
            (z_axis - Vector3::new(0.0, 0.0, -1.0)).norm() < 1e-9,
            "{robot}: flange z at zero {z_axis:?}"
        );
    }
}

#[test]
fn jacobian_matches_finite_differences() {
    let (mut arm, spec) = load("panda");
    arm.flange_from_tcp =
        Isometry3::from_parts(Translation3::new(0.0, 0.0, 0.1), UnitQuaternion::identity());
    let q = spec.home_rad.clone();
    let j = arm.tcp_jacobian(&q);
    let h = 1e-6;
    for i in 0..7 {
        let mut qp = q.clone();
        let mut qm = q.clone();
        qp[i] += h;
        qm[i] -= h;
        let dp = (arm.world_from_tcp(&qp).translation.vector
            - arm.world_from_tcp(&qm).translation.vector)
            / (2.0 * h);
        for r in 0..3 {
            assert!(
                (dp[r] - j[(r, i)]).abs() < 1e-6,
                "column {i} row {r}: fd {} analytic {}",
                dp[r],
                j[(r, i)]
            );
        }
    }
}

#[test]
fn ik_round_trip_reaches_targets_inside_limits() {
    for robot in ["panda", "fr3"] {
        let (arm, spec) = load(robot);
        let home = spec.home_rad.clone();
        let start = arm.world_from_tcp(&home);
        for (dx, dy, dz) in [
            (0.1, 0.0, -0.2),
            (0.2, 0.15, -0.3),
            (0.05, -0.2, -0.1),
            (0.25, -0.1, -0.4),
        ] {
            let target = Isometry3::from_parts(
                Translation3::from(start.translation.vector + Vector3::new(dx, dy, dz)),
                start.rotation,
            );
            let q = arm
                .inverse_kinematics(&home, &target, &IkOptions::default())
                .expect("reachable");
            let reached = arm.world_from_tcp(&q);
            assert!((reached.translation.vector - target.translation.vector).norm() < 1e-4);
            for (i, qi) in q.iter().enumerate() {
                assert!(
                    *qi >= arm.q_min_rad[i] && *qi <= arm.q_max_rad[i],
                    "{robot} joint {i} = {qi} outside limits"
                );
            }
        }
    }
}

#[test]
fn ik_reports_unreachable_targets() {
    let (arm, spec) = load("panda");
    let target =
        Isometry3::from_parts(Translation3::new(2.0, 0.0, 0.5), UnitQuaternion::identity());
    let err = arm
        .inverse_kinematics(&spec.home_rad, &target, &IkOptions::default())
        .expect_err("2 m is out of reach");
    assert!(err.to_string().contains("did not reach"), "{err}");
}

#[test]
fn gravity_torques_are_the_gradient_of_potential_energy() {
    let (arm, spec) = load("panda");
    let g = Vector3::new(0.0, 0.0, -9.81);
    let (m, c) = (1.5, Point3::new(0.01, 0.02, 0.05));
    let payload = Some((m, c));
    let potential = |q: &[f64]| -> f64 {
        let frames = arm.frames(q);
        let mut v = 0.0;
        for (j, f) in arm.chain.joints.iter().zip(&frames) {
            v -= j.inertial.mass_kg * g.dot(&(f.0 * j.inertial.com_m).coords);
        }
        v - m * g.dot(&(arm.world_from_flange(q) * c).coords)
    };
    let q = spec.home_rad.clone();
    let tau = arm.gravity_torques(&q, g, payload);
    let h = 1e-6;
    for i in 0..7 {
        let mut qp = q.clone();
        let mut qm = q.clone();
        qp[i] += h;
        qm[i] -= h;
        let fd = (potential(&qp) - potential(&qm)) / (2.0 * h);
        assert!(
            (fd - tau[i]).abs() < 1e-5 * (1.0 + fd.abs()),
            "joint {i}: fd {fd} analytic {}",
            tau[i]
        );
    }
    // Joint 1 is vertical: gravity never loads it; joint 2 carries the arm.
    assert!(tau[0].abs() < 1e-9);
    assert!(tau[1].abs() > 1.0);
}
